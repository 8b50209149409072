/*
 * menzzo-admin's sale commands: import, show, log, cancel, reopen, and the
 * event outbox (events).
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "admin.h"
#include "admin_import.h"
#include "admin_sale.h"
#include "sale_json.h"
#include "sale_rules.h"
#include "validate.h"

/* Bytes left to read in in when it is a regular file, else 0 (unknown). */
static uint64_t
input_size(FILE *in)
{
	struct stat st;
	off_t pos;

	if (fstat(fileno(in), &st) != 0 || !S_ISREG(st.st_mode) || (pos = ftello(in)) < 0 || pos >= st.st_size)
		return 0;
	return (uint64_t)(st.st_size - pos);
}

int
cmd_import(struct admin *a, int argc, char **argv)
{
	struct options o;
	FILE *in = stdin;
	const char *name = "-";
	int rc;

	if ((rc = admin_options(a, "import", argc, argv, 0, &o)) >= 0)
		return rc;
	if (o.argc > 1)
		return admin_usage_error(a, "import takes one FILE, or - for standard input");
	if (o.argc == 1 && strcmp(o.argv[0], "-") != 0) {
		name = o.argv[0];
		if ((in = fopen(name, "r")) == NULL)
			return admin_fail("import: cannot open %s: %s", name, strerror(errno));
	}
	if (admin_open(a, 0)) {
		if (in != stdin)
			fclose(in);
		return 1;
	}
	rc = admin_import(a, in, name, input_size(in), NULL);
	if (in != stdin)
		fclose(in);
	return rc;
}

/* show ID [--json]: the output is JSON with or without it; the shipment's packages, then its carrier events, last. */
int
cmd_show(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct sale_product sp;
	struct tracking_iter it;
	uint64_t inc = 0, id = 0;
	int rc;
	struct package_list packages;
	struct json_object *o, *events;

	if ((rc = admin_id_command(a, argc, argv, OPT_JSON, &inc, &id)) >= 0)
		return rc;
	if (admin_load_sale(a, inc, id, &t, &sp))
		return 1;
	rc = store_shipment_get(t, id, &packages);
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		store_abort(t);
		return admin_store_fail(rc);
	}
	o = sale_full_json(&sp);
	json_object_object_add(o, "packages", packages_json(&sp, rc == STORE_OK ? &packages : NULL));
	events = json_object_new_array();
	for (int more = store_tracking_first(t, id, &it); more; more = store_tracking_next(&it))
		json_object_array_add(events, tracking_event_json(&it.e));
	json_object_object_add(o, "tracking_events", events);
	rc = store_txn_error(t);
	store_abort(t);
	if (rc != STORE_OK) {
		json_object_put(o);
		return admin_store_fail(rc);
	}
	return admin_print_json(o);
}

/* log ID [--json]: JSON Lines with or without it. */
int
cmd_log(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct sale_product sp;
	struct log_iter it;
	uint64_t inc = 0, id = 0;
	int rc;

	if ((rc = admin_id_command(a, argc, argv, OPT_JSON, &inc, &id)) >= 0)
		return rc;
	if (admin_load_sale(a, inc, id, &t, &sp))
		return 1;
	for (int more = store_log_first(t, id, &it); more; more = store_log_next(&it))
		admin_print_json(log_entry_json(&it.e));
	rc = store_txn_error(t);
	store_abort(t);
	return rc == STORE_OK ? 0 : admin_store_fail(rc);
}

/* cancel ID and reopen ID: a change made by the maintainer, whatever the supplier. */
static int
admin_change(struct admin *a, int argc, char **argv, enum sale_action what, const char *done, const char *repeat)
{
	struct action act = { .what = what, .supplier = -1, .user = a->user };
	struct sale_product sp;
	int err = STORE_OK, rc;

	if ((rc = admin_id_command(a, argc, argv, 0, &act.increment_id, &act.sale_product_id)) >= 0)
		return rc;
	if (admin_open(a, 0))
		return 1;
	act.now = a->now;
	switch (sale_apply(a->store, &act, &sp, &err)) {
	case RESULT_CHANGED:
		printf("%" PRIu64 "_%" PRIu64 " %s\n", act.increment_id, act.sale_product_id, done);
		return 0;
	case RESULT_UNCHANGED:
		printf("%" PRIu64 "_%" PRIu64 " %s\n", act.increment_id, act.sale_product_id, repeat);
		return 0;
	case RESULT_NOT_FOUND:
		return admin_fail("no sale product %" PRIu64 "_%" PRIu64, act.increment_id, act.sale_product_id);
	case RESULT_NOT_REFUSED:
		return admin_fail("%" PRIu64 "_%" PRIu64 " is %s, not refused: nothing to reopen", act.increment_id,
		    act.sale_product_id, status_name(sp.status));
	default:
		return admin_store_fail(err);
	}
}

int
cmd_cancel(struct admin *a, int argc, char **argv)
{
	return admin_change(a, argc, argv, ACTION_CANCEL, "cancelled", "was already cancelled");
}

int
cmd_reopen(struct admin *a, int argc, char **argv)
{
	return admin_change(a, argc, argv, ACTION_REOPEN, "reopened: pending again", "was not refused");
}

/* events [--after SEQ] [--limit N] [--json]: JSON Lines with or without --json. */
int
cmd_events(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct event_iter it;
	struct options o;
	uint64_t after = 0, n;
	long limit = -1;
	int rc;

	if ((rc = admin_options(a, "events", argc, argv, OPT_AFTER | OPT_LIMIT | OPT_JSON, &o)) >= 0)
		return rc;
	if (o.argc != 0)
		return admin_usage_error(a, "events: unexpected argument %s", o.argv[0]);
	if (o.after != NULL && strcmp(o.after, "0") != 0 &&
	    parse_uint(o.after, strlen(o.after), 1, UINT64_MAX, &after))
		return admin_usage_error(a, "events: --after must be an event seq");
	if (o.limit != NULL) {
		if (strcmp(o.limit, "0") == 0)
			limit = 0;
		else if (parse_uint(o.limit, strlen(o.limit), 1, 1000000000, &n))
			return admin_usage_error(a, "events: --limit must be a count");
		else
			limit = (long)n;
	}
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, &t)) != STORE_OK)
		return admin_store_fail(rc);
	for (int more = limit != 0 && store_events_first(t, after, &it); more; more = store_events_next(&it)) {
		fwrite(it.json, 1, it.len, stdout);
		putchar('\n');
		if (limit > 0 && --limit == 0)
			break;
	}
	rc = store_txn_error(t);
	store_abort(t);
	return rc == STORE_OK ? 0 : admin_store_fail(rc);
}
