#ifndef MENZZO_ADMIN_H
#define MENZZO_ADMIN_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "store.h"
#include "supplier.h"

struct command;

/* One run of menzzo-admin. */
struct admin {
	const struct command *cmd;  /* the command running: its usage for --help and usage errors */
	struct config cfg;          /* read by admin_open */
	struct store *store;
	int64_t now;
	const char *user;  /* sale-log user of changes made here: $USER, else "admin" */
};

/*
 * Reads the MENZZO_* environment into a->cfg and opens a->store with
 * store_open flags; 0, or 1 after reporting why not (in system terms when
 * the directory is the cause: "Not a directory").
 */
int admin_open(struct admin *a, int flags);
/* Issues a token and prints it as the last line; 0, or 1 after reporting. */
int admin_token_add(struct admin *a, const struct supplier *sup, const char *label, int64_t expires);
/*
 * Imports JSON Lines from in in one transaction; 0, 1 when a line was
 * rejected or the store failed.  size: bytes left to read in in, 0 when
 * unknown (the progress shown on a terminal is then in lines only).
 */
int admin_import(struct admin *a, FILE *in, const char *name, uint64_t size, unsigned long *imported);
/* `menzzo-admin demo`. */
int admin_demo(struct admin *a, int argc, char **argv);

#endif
