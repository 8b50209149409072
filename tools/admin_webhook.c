/*
 * menzzo-admin webhook add|list|remove|enable|test and deliver (SPEC §8):
 * webhook endpoints, each following a supplier's change feed or the whole
 * outbox, and the delivery of their events, one POST at a time and in
 * order, by a run of `deliver` (cron, a timer, or --follow).
 *
 * Two runs at once never send the same event: a run holds an endpoint
 * while it sends to it, by a lock on one byte of deliver.lock in the
 * store's directory (the endpoint's id its offset); the system releases
 * it when the run ends, killed or not.  What an endpoint has received is
 * written after each answer, in its own transaction: a run killed between
 * the two sends that event again, with the same webhook-id (at least
 * once).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "admin.h"
#include "admin_webhook.h"
#include "buf.h"
#include "clock.h"
#include "events.h"
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

/* One run of deliver. */
struct deliver {
	struct admin *a;
	struct webhook_sender *sender;
	int lock_fd;            /* deliver.lock: one byte an endpoint */
	struct timespec until;  /* --max-seconds: no request starts after it (tv_sec 0: none) */
	int failed;             /* an endpoint failed in this run */
	struct buf body;
};

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static int
past_deadline(const struct deliver *d)
{
	struct timespec now;

	if (stopping)
		return 1;
	if (d->until.tv_sec == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->until.tv_sec || (now.tv_sec == d->until.tv_sec && now.tv_nsec >= d->until.tv_nsec);
}

/* Takes (lock 1) or releases (0) endpoint id's byte of deliver.lock: 0, or -1 when another run holds it. */
static int
endpoint_lock(const struct deliver *d, uint32_t id, int lock)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = lock ? F_WRLCK : F_UNLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)id;
	fl.l_len = 1;
	return fcntl(d->lock_fd, F_SETLK, &fl) == 0 ? 0 : -1;
}

/*
 * Endpoint id's state into *w when it is due (active, and its next attempt
 * time come): 1; 0 when it is not (or is gone); -1 after reporting a store
 * error.
 */
static int
endpoint_due(struct deliver *d, uint32_t id, struct webhook *w)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(d->a->store, 0, &t)) == STORE_OK) {
		rc = store_webhook_get(t, id, w);
		store_abort(t);
	}
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != STORE_OK) {
		admin_fail("deliver: webhook %u: %s", (unsigned)id, store_strerror(rc));
		return -1;
	}
	return !w->disabled && w->next_at <= clock_now();
}

/* The event after w's last delivered one into d->body: 1 with *seq, 0 when there is none yet, -1 (reported). */
static int
next_event(struct deliver *d, const struct webhook *w, uint64_t *seq)
{
	struct store_txn *t;
	const char *json;
	size_t len;
	int rc, item;

	if ((rc = store_begin(d->a->store, 0, &t)) != STORE_OK) {
		admin_fail("deliver: webhook %u: %s", (unsigned)w->id, store_strerror(rc));
		return -1;
	}
	rc = store_webhook_event(t, w->target, w->last_seq, seq, &json, &len);
	if (rc == STORE_OK) {
		d->body.len = 0;
		if ((item = event_item(&d->body, json, len, *seq)) != 0)
			rc = item == -2 ? STORE_NOMEM : STORE_CORRUPT;
	}
	store_abort(t);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != STORE_OK) {
		admin_fail("deliver: webhook %u: %s", (unsigned)w->id, store_strerror(rc));
		return -1;
	}
	return 1;
}

/*
 * Writes where w's delivery stands (what was delivered, the failed
 * attempts, the next one, the error, disabled) over the stored endpoint,
 * which must still say *stored delivered: 0 with *stored moved on; -2 when
 * the endpoint was removed meanwhile (nothing written); -1 (reported).
 */
static int
record_state(struct deliver *d, const struct webhook *w, uint64_t *stored)
{
	struct store_txn *t;
	struct webhook now;
	int rc;

	if ((rc = store_begin(d->a->store, 1, &t)) != STORE_OK)
		goto fail;
	if ((rc = store_webhook_get(t, w->id, &now)) != STORE_OK || now.last_seq != *stored) {
		store_abort(t);
		if (rc == STORE_OK || rc == STORE_NOTFOUND)
			return -2;
		goto fail;
	}
	now.last_seq = w->last_seq;
	now.attempts = w->attempts;
	now.next_at = w->next_at;
	now.failing_since = w->failing_since;
	now.delivered_at = w->delivered_at;
	now.disabled = w->disabled;
	memcpy(now.error, w->error, sizeof(now.error));
	store_webhook_put(t, &now);
	sodium_memzero(now.key, sizeof(now.key));
	if ((rc = store_commit(t)) != STORE_OK)
		goto fail;
	*stored = w->last_seq;
	return 0;
fail:
	admin_fail("deliver: webhook %u: %s; the events after %" PRIu64 " will be sent again", (unsigned)w->id,
	    store_strerror(rc), *stored);
	return -1;
}

static uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Sends endpoint id what is due, in order, until a failure or the end: how
 * many were delivered.  What was delivered is written at least every
 * RECORD_MS (one fsync an event would bound delivery by the disk), after
 * a failure at once, and before the endpoint is let go: a run killed
 * sends again only what was answered in its last RECORD_MS.
 */
#define RECORD_MS 100
static unsigned long
deliver_endpoint(struct deliver *d, uint32_t id)
{
	struct webhook_attempt att;
	struct webhook w;
	unsigned long n = 0;
	uint64_t seq = 0, first = 0, stored, recorded_at;
	char msgid[64], when[TIMESTAMP_LEN + 1];
	int rc = 0, outcome = WEBHOOK_DELIVERED, unwritable = 0;

	if (endpoint_lock(d, id, 1) != 0)
		return 0;  /* another run is sending to it */
	if (endpoint_due(d, id, &w) != 1) {
		endpoint_lock(d, id, 0);
		return 0;
	}
	stored = w.last_seq;
	recorded_at = monotonic_ms();
	while (!past_deadline(d) && (rc = next_event(d, &w, &seq)) == 1) {
		snprintf(msgid, sizeof(msgid), "%s-%" PRIu64, webhook_target_name(w.target), seq);
		webhook_post(d->sender, &w, msgid, clock_now(), d->body.p, d->body.len, &att);
		outcome = (int)webhook_attempted(&w, seq, &att, clock_now(), randombytes_random());
		if (outcome == WEBHOOK_DELIVERED && n++ == 0)
			first = seq;
		if (outcome == WEBHOOK_DELIVERED && monotonic_ms() - recorded_at < RECORD_MS)
			continue;
		if ((rc = record_state(d, &w, &stored)) != 0) {
			unwritable = 1;
			break;
		}
		recorded_at = monotonic_ms();
		if (outcome == WEBHOOK_DELIVERED)
			continue;
		d->failed = 1;
		if (outcome == WEBHOOK_RETRY) {
			format_timestamp(w.next_at, when);
			admin_fail("deliver: webhook %u (%s): %s failed: %s; next attempt at %s", (unsigned)id,
			    webhook_target_name(w.target), msgid, att.error, when);
		} else
			admin_fail("deliver: webhook %u (%s): %s failed: %s; the endpoint is disabled (`menzzo-admin "
			    "webhook enable %u` resumes it)", (unsigned)id, webhook_target_name(w.target), msgid, w.error,
			    (unsigned)id);
		break;
	}
	/* What was delivered since the last record (not when the endpoint is gone, or the write failed). */
	if (!unwritable && w.last_seq != stored && record_state(d, &w, &stored) != 0)
		rc = -1;
	if (rc == -1)
		d->failed = 1;
	sodium_memzero(w.key, sizeof(w.key));
	endpoint_lock(d, id, 0);
	if (n > 0)
		printf("webhook %u (%s): delivered %lu event%s, %s-%" PRIu64 " to %s-%" PRIu64 "\n", (unsigned)id,
		    webhook_target_name(w.target), n, n == 1 ? "" : "s", webhook_target_name(w.target), first,
		    webhook_target_name(w.target), w.last_seq);
	fflush(stdout);
	return n;
}

/* One pass over every endpoint: how many events were delivered, or -1 after a store error (reported). */
static long
deliver_pass(struct deliver *d)
{
	struct store_txn *t;
	struct webhook_iter it;
	uint32_t *ids = NULL;
	size_t n = 0, cap = 0;
	long delivered = 0;
	int rc;

	if ((rc = store_begin(d->a->store, 0, &t)) != STORE_OK)
		return admin_fail("deliver: %s", store_strerror(rc)), -1;
	for (int more = store_webhooks_first(t, &it); more; more = store_webhooks_next(&it)) {
		if (n == cap) {
			uint32_t *grown = realloc(ids, (cap = cap ? cap * 2 : 16) * sizeof(*ids));

			if (grown == NULL) {
				store_txn_fail(t, STORE_NOMEM);
				break;
			}
			ids = grown;
		}
		ids[n++] = it.w.id;
	}
	sodium_memzero(&it.w.key, sizeof(it.w.key));
	rc = store_txn_error(t);
	store_abort(t);
	if (rc != STORE_OK) {
		free(ids);
		return admin_fail("deliver: %s", store_strerror(rc)), -1;
	}
	for (size_t i = 0; i < n && !past_deadline(d); i++)
		delivered += (long)deliver_endpoint(d, ids[i]);
	free(ids);
	return delivered;
}

int
cmd_deliver(struct admin *a, int argc, char **argv)
{
	struct deliver d;
	struct options o;
	struct sigaction sa;
	char path[4200];
	uint64_t max = 0;
	long got;
	int rc;

	if ((rc = admin_options(a, "deliver", argc, argv, OPT_FOLLOW | OPT_MAX_SECONDS, &o)) >= 0)
		return rc;
	if (o.argc != 0)
		return admin_usage_error(a, "deliver takes no argument");
	if (o.max_seconds != NULL && parse_uint(o.max_seconds, strlen(o.max_seconds), 1, 31536000, &max))
		return admin_usage_error(a, "deliver: --max-seconds must be a number of seconds from 1");
	if (admin_open(a, 0))
		return 1;
	memset(&d, 0, sizeof(d));
	d.a = a;
	if (max) {
		clock_gettime(CLOCK_MONOTONIC, &d.until);
		d.until.tv_sec += (time_t)max;
	}
	snprintf(path, sizeof(path), "%s/deliver.lock", a->cfg.data_dir);
	if ((d.lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return admin_fail("deliver: %s: %s", path, strerror(errno));
	if ((d.sender = webhook_sender_new()) == NULL) {
		close(d.lock_fd);
		return admin_fail("deliver: libcurl cannot start");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;  /* the request under way ends, then the run */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while ((got = deliver_pass(&d)) >= 0 && o.follow && !past_deadline(&d)) {
		if (got == 0) {
			/* Nothing was due: look again in a second (new events, a retry's time). */
			struct timespec pause = { 1, 0 };

			nanosleep(&pause, NULL);
		}
		/* A store restored from a backup is another file: the next pass reads that one, as a responder does. */
		if (store_stale(a->store)) {
			store_close(a->store);
			a->store = NULL;
			if (admin_open(a, 0)) {
				got = -1;
				break;
			}
		}
	}
	webhook_sender_free(d.sender);
	buf_free(&d.body);
	close(d.lock_fd);
	return got < 0 || d.failed ? 1 : 0;
}
