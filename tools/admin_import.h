#ifndef MENZZO_ADMIN_IMPORT_H
#define MENZZO_ADMIN_IMPORT_H

/* menzzo-admin import's work (tools/admin_import.c): JSON Lines in, one write transaction out. */

#include <stdint.h>
#include <stdio.h>

#include "admin.h"

/*
 * Imports JSON Lines from in in one transaction; 0, 1 when a line was
 * rejected or the store failed.  size: bytes left to read in in, 0 when
 * unknown (the progress shown on a terminal is then in lines only).
 * *imported, when not NULL, gets the number of sale products created or
 * changed.
 */
int admin_import(struct admin *a, FILE *in, const char *name, uint64_t size, unsigned long *imported);

#endif
