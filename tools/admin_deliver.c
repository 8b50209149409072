/*
 * menzzo-admin deliver (SPEC §8): each webhook endpoint's due events, one
 * POST at a time and in order, by a run from cron, a timer, or --follow.
 *
 * Two runs at once never send the same event: a run holds an endpoint
 * while it sends to it, by a lock on one byte of deliver.lock in the
 * store's directory (the endpoint's id its offset); the system releases
 * it when the run ends, killed or not.  Where the endpoint stands is
 * written at least every RECORD_MS, after a failure at once, and before
 * the lock is let go: a run killed sends again, next time, what was
 * answered in its last RECORD_MS, with the same webhook-ids (at least
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

#include <sodium.h>

#include "admin.h"
#include "admin_webhook.h"
#include "buf.h"
#include "clock.h"
#include "events.h"
#include "validate.h"
#include "webhook.h"
#include "webhook_http.h"

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
