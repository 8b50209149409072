#ifndef MENZZO_CHECK_H
#define MENZZO_CHECK_H

#include <stdio.h>

#include "store.h"

/*
 * The integrity check of `menzzo-admin check`: every record decodes; every
 * listing, order and label index entry names a sale product that has it, and
 * every sale product has all of its entries; every sale-log entry and event
 * parses, names an existing sale product and is below its counter.  Writes
 * one line per disagreement to report.  progress, when not NULL, is told
 * the entries checked of how many now and then.  Returns STORE_OK with the
 * number of disagreements in *problems, or the store error that kept it
 * from reading the store.
 */
int store_check(struct store *s, FILE *report, store_progress_fn progress, void *progress_ctx, long *problems);

#endif
