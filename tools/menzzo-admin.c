/*
 * menzzo-admin: the maintainer's tool, on the same store and the same
 * MENZZO_* environment as the endpoints (SPEC §4).  Errors go to standard
 * error with a non-zero exit status; `menzzo-admin COMMAND --help` on every
 * command.  This file is the table of commands and main(); the commands
 * live in admin_*.c and demo.c, what they share in admin.c.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_metrics.h"
#include "admin_sale.h"
#include "admin_stock.h"
#include "admin_store.h"
#include "admin_token.h"
#include "admin_webhook.h"
#include "auth.h"
#include "clock.h"
#include "demo.h"
#include "validate.h"

static const struct command commands[] = {
	{ "init", "init", "Create the store (directory 0700, files 0600) and the files directory.", cmd_init },
	{ "token", "token add (SUPPLIER|--backoffice) [--label TEXT] [--expires YYYY-MM-DD|YYYY-MM-DDThh:mm:ssZ]\n"
	    "       token list [--json]\n       token revoke ID",
	    "Issue (printed once, last line), list or revoke API tokens. Tokens are stored only as hashes.\n"
	    "A supplier's token calls that supplier's endpoints; a back-office token (--backoffice) only\n"
	    "the back office's (GET /api/metrics), never a supplier's.\n"
	    "--json: one JSON object a line (id, supplier, label, created, expires, state, kind;\n"
	    "supplier null for a back-office token).", cmd_token },
	{ "import", "import [FILE|-]", "Upsert sale products from JSON Lines; report bad lines as `line N: reason`;\n"
	    "exit 1 if any line was rejected. Valid lines commit in one transaction. A line may carry\n"
	    "status refused with reason, refused_at and note (migrations).\n"
	    "On a terminal, standard error shows the progress.", cmd_import },
	{ "show", "show ID [--json]", "Print a sale product (ID = menzzo_order_id) as JSON.", cmd_show },
	{ "log", "log ID [--json]", "Print the sale log of a sale product, oldest first, one JSON object a line.", cmd_log },
	{ "cancel", "cancel ID", "Cancel a sale product (final; refused ones too); writes a sale-log entry and an event.",
	    cmd_cancel },
	{ "reopen", "reopen ID", "Put a refused sale product back to pending (refused_at and acknowledged_at null\n"
	    "again); writes a sale-log entry (reopened) and an event (sale.reopened). The sale log keeps\n"
	    "the refusal.", cmd_reopen },
	{ "events", "events [--after SEQ] [--limit N] [--json]", "Print the event outbox as JSON Lines, oldest first.",
	    cmd_events },
	{ "stock", "stock [SUPPLIER] [--json]", "Print the suppliers' stock (update-stock), by supplier and SKU, one\n"
	    "tab-separated line a SKU (- where a value was not given); --json: JSON Lines, get-stock's items\n"
	    "with their supplier, for the back office.", cmd_stock },
	{ "webhook", "webhook add (SUPPLIER|backoffice) URL [--from SEQ]\n       webhook list [--json]\n"
	    "       webhook remove ID\n       webhook enable ID\n       webhook test ID",
	    "Webhook endpoints (Standard Webhooks 1.0): each receives a supplier's change feed (get-events)\n"
	    "or, for backoffice, every event, one signed POST an event, in order (see deliver).\n"
	    "add prints the endpoint's ID and, once, its secret (whsec_..., last line); it delivers the\n"
	    "events after SEQ (--from 0: all of them; default: those to come). URL: https://, or http://\n"
	    "to a loopback address. list: ID, target, state (active|disabled), last delivered seq, backlog,\n"
	    "last delivery, next attempt, last error, URL (--json: one JSON object a line).\n"
	    "remove forgets an endpoint; enable resumes a disabled one after its last delivered event;\n"
	    "test sends it a signed webhook.test message now (exit 1 unless it answers 2xx).", cmd_webhook },
	{ "deliver", "deliver [--follow] [--max-seconds S]",
	    "Send every webhook endpoint the events due to it, in order, one request at a time; a 2xx\n"
	    "delivers, anything else is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h\n"
	    "(+-10 %), or after the answer's Retry-After (429, 503); 410, or a day without a delivery,\n"
	    "disables the endpoint. Run by cron or a timer; --follow keeps going (new events within a\n"
	    "second); --max-seconds S starts no request after S seconds. Runs at once never send an\n"
	    "event twice. Prints a line an endpoint that received events; exit 1 when one failed.", cmd_deliver },
	{ "cache", "cache purge [--all]", "Remove expired cached responses (all of them with --all).", cmd_cache },
	{ "stats", "stats [--json]", "Print the store's size (human-readable), entry counts and the number of\n"
	    "refused sale products, one tab-separated pair a line; --json: one JSON object with exact\n"
	    "byte counts.", cmd_stats },
	{ "metrics", "metrics", "Print what GET /api/metrics answers (Prometheus text format 0.0.4): the request\n"
	    "counters of every process of this host (read from the shared-state file, never written) and\n"
	    "the store's gauges. Without the file (no request yet, or another version's), the gauges only\n"
	    "and exit status 1.", cmd_metrics },
	{ "check", "check", "Check records (refused ones included) against indexes, sale log, events and\n"
	    "shipments; exit 1 on any disagreement.", cmd_check },
	{ "backup", "backup DIR", "Write a hot, consistent, compacted copy of the store into DIR (never overwrites).", cmd_backup },
	{ "demo", "demo", "Load the demo data set (sale products, label PDFs, one token per supplier).", cmd_demo },
};

static void
usage(FILE *out)
{
	fputs("usage: menzzo-admin COMMAND [ARGS]   (menzzo-admin COMMAND --help)\n\ncommands:\n", out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fputs("\nThe store is MENZZO_DATA_DIR (default data/db); see README.md for every variable.\n", out);
}

int
main(int argc, char **argv)
{
	struct admin a = { 0 };
	const char *user;
	int rc;

	umask(077);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		if (strcmp(argv[1], c->name) != 0)
			continue;
		if (auth_init() != 0)
			return admin_fail("cannot initialise libsodium");
		a.cmd = c;
		a.now = clock_now();
		user = getenv("USER");
		a.user = user != NULL && valid_text(user, strlen(user), 32) == 0 ? user : "admin";
		rc = c->run(&a, argc - 1, argv + 1);
		store_close(a.store);
		return rc;
	}
	fprintf(stderr, "menzzo-admin: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
