/*
 * menzzo-admin webhook add|list|remove|enable|test (SPEC §8): webhook
 * endpoints, each following a supplier's change feed or the whole outbox;
 * admin_deliver.c sends them their events.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "admin.h"
#include "admin_webhook.h"
#include "sale_json.h"
#include "validate.h"
#include "webhook.h"
#include "webhook_http.h"

/* The target named on the command line: a supplier's slug or "backoffice"; -1 for neither. */
static int
parse_target(const char *s)
{
	const struct supplier *sup;

	if (strcmp(s, "backoffice") == 0)
		return WEBHOOK_BACKOFFICE;
	sup = supplier_by_slug(s, strlen(s));
	return sup != NULL ? (int)supplier_id(sup) : -1;
}

static int
parse_webhook_id(const struct admin *a, const char *what, const char *s, uint32_t *id)
{
	uint64_t v;

	if (parse_uint(s, strlen(s), 1, UINT32_MAX, &v))
		return admin_usage_error(a, "%s: ID must be an endpoint number as `webhook list` shows it", what);
	*id = (uint32_t)v;
	return 0;
}

static int
cmd_webhook_add(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct webhook w;
	struct options o;
	char why[160], slugs[256], secret[WEBHOOK_SECRET_TEXT_LEN + 1], url[WEBHOOK_URL_MAX + 1];
	uint64_t from = 0, end, id;
	int rc, target;

	if ((rc = admin_options(a, "webhook add", argc, argv, OPT_FROM, &o)) >= 0)
		return rc;
	supplier_slugs(slugs, sizeof(slugs));
	if (o.argc != 2)
		return admin_usage_error(a, "webhook add: expected a target (%s or backoffice) and a URL", slugs);
	if ((target = parse_target(o.argv[0])) < 0)
		return admin_usage_error(a, "webhook add: the target must be one of %s, or backoffice", slugs);
	if (webhook_url_check(o.argv[1], url, why, sizeof(why)) != 0)
		return admin_usage_error(a, "webhook add: %s", why);
	if (o.from != NULL && parse_uint(o.from, strlen(o.from), 0, INT64_MAX, &from))
		return admin_usage_error(a, "webhook add: --from must be an event number (0: from the start)");
	if (admin_open(a, 0))
		return 1;
	if ((rc = store_begin(a->store, 1, &t)) != STORE_OK)
		return admin_store_fail(rc);
	if ((rc = store_webhook_end(t, (unsigned)target, &end)) != STORE_OK) {
		store_abort(t);
		return admin_store_fail(rc);
	}
	if (o.from != NULL && from > end) {
		store_abort(t);
		return admin_fail("webhook add: --from %" PRIu64 " is beyond the last event of %s (%" PRIu64 ")", from,
		    webhook_target_name((unsigned)target), end);
	}
	memset(&w, 0, sizeof(w));
	store_counter_next(t, "webhook_seq", &id);
	w.id = (uint32_t)id;
	w.target = (unsigned)target;
	w.created_at = a->now;
	w.last_seq = o.from != NULL ? from : end;
	randombytes_buf(w.key, sizeof(w.key));
	memcpy(w.url, url, sizeof(w.url));
	store_webhook_put(t, &w);
	if ((rc = store_commit(t)) != STORE_OK) {
		sodium_memzero(w.key, sizeof(w.key));
		return admin_store_fail(rc);
	}
	webhook_secret_text(w.key, secret);
	sodium_memzero(w.key, sizeof(w.key));
	printf("webhook %u for %s: %s, the events after %" PRIu64 "\n%s\n", w.id, webhook_target_name(w.target), w.url,
	    w.last_seq, secret);
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

static const char *
webhook_state(const struct webhook *w)
{
	return w->disabled ? "disabled" : "active";
}

/* One line of `webhook list` (a JSON object with --json); end is the last event of its sequence. */
static void
webhook_print(const struct webhook *w, uint64_t end, int json)
{
	char delivered[TIMESTAMP_LEN + 1] = "-", next[TIMESTAMP_LEN + 1] = "-";
	uint64_t backlog = end > w->last_seq ? end - w->last_seq : 0;
	struct json_object *o;

	if (json) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(w->id));
		json_object_object_add(o, "target", json_object_new_string(webhook_target_name(w->target)));
		json_object_object_add(o, "url", json_object_new_string(w->url));
		json_object_object_add(o, "state", json_object_new_string(webhook_state(w)));
		json_object_object_add(o, "last_delivered_seq", json_object_new_uint64(w->last_seq));
		json_object_object_add(o, "backlog", json_object_new_uint64(backlog));
		json_object_object_add(o, "failed_attempts", json_object_new_uint64(w->attempts));
		json_object_object_add(o, "next_attempt_at", w->next_at ? timestamp_json(w->next_at) : NULL);
		json_object_object_add(o, "last_delivered_at", timestamp_json(w->delivered_at));
		json_object_object_add(o, "last_error", w->error[0] ? json_object_new_string(w->error) : NULL);
		json_object_object_add(o, "created", timestamp_json(w->created_at));
		admin_print_json(o);
		return;
	}
	if (w->delivered_at)
		format_timestamp(w->delivered_at, delivered);
	if (w->next_at)
		format_timestamp(w->next_at, next);
	printf("%u\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\t%s\t%s\t%s\n", w->id, webhook_target_name(w->target),
	    webhook_state(w), w->last_seq, backlog, delivered, next, w->error[0] ? w->error : "-", w->url);
}

static int
cmd_webhook_list(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct webhook_iter it;
	struct options o;
	uint64_t end;
	int rc;

	if ((rc = admin_options(a, "webhook list", argc, argv, OPT_JSON, &o)) >= 0)
		return rc;
	if (o.argc != 0)
		return admin_usage_error(a, "webhook list takes no argument");
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, &t)) != STORE_OK)
		return admin_store_fail(rc);
	if (!o.json)
		printf("ID\tTARGET\tSTATE\tDELIVERED\tBACKLOG\tLAST DELIVERY\tNEXT ATTEMPT\tLAST ERROR\tURL\n");
	for (int more = store_webhooks_first(t, &it); more; more = store_webhooks_next(&it))
		if (store_webhook_end(t, it.w.target, &end) == STORE_OK)
			webhook_print(&it.w, end, o.json);
	rc = store_txn_error(t);
	store_abort(t);
	return rc == STORE_OK ? 0 : admin_store_fail(rc);
}

int
admin_webhook_backlogs(struct admin *a, struct json_object *j)
{
	struct json_object *list = j != NULL ? json_object_new_array() : NULL;
	struct store_txn *t;
	struct webhook_iter it;
	uint64_t end;
	int rc;

	if ((rc = store_begin(a->store, 0, &t)) != STORE_OK) {
		json_object_put(list);
		return rc;
	}
	for (int more = store_webhooks_first(t, &it); more; more = store_webhooks_next(&it)) {
		uint64_t backlog;

		if (store_webhook_end(t, it.w.target, &end) != STORE_OK)
			break;
		backlog = end > it.w.last_seq ? end - it.w.last_seq : 0;
		if (list != NULL) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "id", json_object_new_int64(it.w.id));
			json_object_object_add(o, "target", json_object_new_string(webhook_target_name(it.w.target)));
			json_object_object_add(o, "state", json_object_new_string(webhook_state(&it.w)));
			json_object_object_add(o, "backlog", json_object_new_uint64(backlog));
			json_object_array_add(list, o);
		} else
			printf("webhook.%u.backlog\t%" PRIu64 "\n", it.w.id, backlog);
	}
	sodium_memzero(it.w.key, sizeof(it.w.key));
	rc = store_txn_error(t);
	store_abort(t);
	if (list != NULL)
		json_object_object_add(j, "webhooks", list);
	return rc;
}

/* remove and enable: one endpoint, changed (enable) or removed in a write transaction. */
static int
webhook_change(struct admin *a, int argc, char **argv, const char *what, int remove)
{
	struct store_txn *t;
	struct webhook w;
	struct options o;
	uint32_t id = 0;
	int rc;

	if ((rc = admin_options(a, what, argc, argv, 0, &o)) >= 0)
		return rc;
	if (o.argc != 1)
		return admin_usage_error(a, "%s: expected one ID", what);
	if (parse_webhook_id(a, what, o.argv[0], &id))
		return 2;
	if (admin_open(a, 0))
		return 1;
	if ((rc = store_begin(a->store, 1, &t)) != STORE_OK)
		return admin_store_fail(rc);
	/* Another error sticks in t: the commit below reports it. */
	if (store_webhook_get(t, id, &w) == STORE_NOTFOUND) {
		store_abort(t);
		return admin_fail("%s: no webhook endpoint %u", what, (unsigned)id);
	}
	if (remove)
		store_webhook_del(t, id);
	else {
		webhook_enable(&w);
		store_webhook_put(t, &w);
	}
	if ((rc = store_commit(t)) != STORE_OK)
		return admin_store_fail(rc);
	if (remove)
		printf("webhook %u removed\n", (unsigned)id);
	else
		printf("webhook %u active: the events after %" PRIu64 " are due\n", (unsigned)id, w.last_seq);
	return 0;
}

/* webhook test ID: a signed webhook.test message, now; the endpoint's state is not changed. */
static int
cmd_webhook_test(struct admin *a, int argc, char **argv)
{
	struct webhook_sender *sender;
	struct webhook_attempt att;
	struct store_txn *t;
	struct webhook w;
	struct json_object *o;
	struct options o_;
	char msgid[64];
	const char *body;
	uint32_t id = 0;
	int rc;

	if ((rc = admin_options(a, "webhook test", argc, argv, 0, &o_)) >= 0)
		return rc;
	if (o_.argc != 1)
		return admin_usage_error(a, "webhook test: expected one ID");
	if (parse_webhook_id(a, "webhook test", o_.argv[0], &id))
		return 2;
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, &t)) != STORE_OK)
		return admin_store_fail(rc);
	rc = store_webhook_get(t, id, &w);
	store_abort(t);
	if (rc == STORE_NOTFOUND)
		return admin_fail("webhook test: no webhook endpoint %u", (unsigned)id);
	if (rc != STORE_OK)
		return admin_store_fail(rc);
	if ((sender = webhook_sender_new()) == NULL)
		return admin_fail("webhook test: libcurl cannot start");
	o = json_object_new_object();
	json_object_object_add(o, "seq", json_object_new_int(0));
	json_object_object_add(o, "type", json_object_new_string("webhook.test"));
	json_object_object_add(o, "at", timestamp_json(a->now));
	json_object_object_add(o, "supplier",
	    w.target == WEBHOOK_BACKOFFICE ? NULL : json_object_new_string(webhook_target_name(w.target)));
	json_object_object_add(o, "data", json_object_new_object());
	body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(msgid, sizeof(msgid), "%s-test-%" PRId64, webhook_target_name(w.target), a->now);
	webhook_post(sender, &w, msgid, a->now, body, strlen(body), &att);
	json_object_put(o);
	sodium_memzero(w.key, sizeof(w.key));
	if (att.status >= 200 && att.status <= 299) {
		printf("webhook %u: %s answered HTTP %ld\n", (unsigned)id, msgid, att.status);
		rc = 0;
	} else
		rc = admin_fail("webhook %u: %s failed: %s", (unsigned)id, msgid, att.error);
	webhook_sender_free(sender);
	return rc;
}

int
cmd_webhook(struct admin *a, int argc, char **argv)
{
	struct options o;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return cmd_webhook_add(a, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_webhook_list(a, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return webhook_change(a, argc - 1, argv + 1, "webhook remove", 1);
	if (argc >= 2 && strcmp(argv[1], "enable") == 0)
		return webhook_change(a, argc - 1, argv + 1, "webhook enable", 0);
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return cmd_webhook_test(a, argc - 1, argv + 1);
	if ((rc = admin_options(a, "webhook", argc, argv, 0, &o)) >= 0)
		return rc;
	return admin_usage_error(a, "webhook: expected add, list, remove, enable or test");
}
