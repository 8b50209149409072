#ifndef MENZZO_ADMIN_H
#define MENZZO_ADMIN_H

/*
 * What every command of menzzo-admin shares (tools/admin.c): one run's
 * state, the messages and their exit statuses (1 the work failed, 2 the
 * command line is wrong), the options, and the opening of the store.
 * The commands themselves: admin_token.c, admin_sale.c, admin_store.c,
 * admin_import.c, demo.c; menzzo-admin.c holds their table and main().
 */

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "store.h"
#include "supplier.h"

struct admin;

/* A command: its name, its usage line(s), its help, and what runs it (its exit status). */
struct command {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(struct admin *a, int argc, char **argv);
};

/* One run of menzzo-admin. */
struct admin {
	const struct command *cmd;  /* the command running: its usage for --help and usage errors */
	struct config cfg;          /* read by admin_open */
	struct store *store;
	int64_t now;
	const char *user;  /* sale-log user of changes made here: $USER, else "admin" */
};

/* Reports a failure of the work on standard error; returns the exit status 1. */
int admin_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports a malformed command line or an argument of the wrong form or value, then the command's usage; returns the exit status 2. */
int admin_usage_error(const struct admin *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A store error of a command that wrote nothing: "<error>; nothing was written", exit status 1. */
int admin_store_fail(int rc);

/*
 * Options.  Every command reads its own with getopt_long, in any order and
 * among its operands, as --name VALUE or --name=VALUE; --help and -h on
 * every command.
 */
enum {  /* getopt vals above any character; the low 16 bits are a bit of a command's mask */
	OPT_JSON = 0x10001,
	OPT_LABEL = 0x10002,
	OPT_EXPIRES = 0x10004,
	OPT_AFTER = 0x10008,
	OPT_LIMIT = 0x10010,
	OPT_ALL = 0x10020,
	OPT_BACKOFFICE = 0x10040,
	OPT_FROM = 0x10080,
	OPT_FOLLOW = 0x10100,
	OPT_MAX_SECONDS = 0x10200,
};

struct options {
	int json, all, backoffice, follow;
	const char *label, *expires, *after, *limit, *from, *max_seconds;  /* NULL when not given */
	int argc;                                     /* the operands */
	char **argv;
};

/*
 * Reads the options of command what ("token add") from argv[1..argc), its
 * argv[0] being the command's name, accepting those of the mask accept:
 * fills o (operands in o->argv[0..o->argc)) and returns -1 to go on, or the
 * exit status to end with: 0 after printing the usage for --help, 2 after a
 * usage error.
 */
int admin_options(const struct admin *a, const char *what, int argc, char **argv, unsigned accept,
    struct options *o);
/* For commands without options of their own: --help, and no operands beyond max; as admin_options. */
int admin_no_options(const struct admin *a, int argc, char **argv, int max, struct options *o);
/* The options of show, log, cancel and reopen, and their one ID (*inc, *sp); as admin_options. */
int admin_id_command(struct admin *a, int argc, char **argv, unsigned accept, uint64_t *inc, uint64_t *sp);

/*
 * Why dir cannot be opened as a store, or (create) made one, in system
 * terms: an errno, or 0 when the file system shows no reason.
 */
int admin_dir_problem(const char *dir, int create);
/*
 * Reads the MENZZO_* environment into a->cfg and opens a->store with
 * store_open flags; 0, or 1 after reporting why not (in system terms when
 * the directory is the cause: "Not a directory").  From here on, a fault
 * reading the mapped store is a message and exit status 3, not a crash.
 */
int admin_open(struct admin *a, int flags);
/* Opens the store and a read transaction holding the sale product inc_sp; 0, or 1 (reported). */
int admin_load_sale(struct admin *a, uint64_t inc, uint64_t id, struct store_txn **t, struct sale_product *sp);

struct json_object;
/* Prints o on one line and releases it; returns 0. */
int admin_print_json(struct json_object *o);

#endif
