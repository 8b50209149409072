#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "sale_json.h"
#include "sale_rules.h"
#include "supplier.h"

/* The event each logged action is due, or NULL (an import or an update notifies nobody). */
static const char *
event_type(enum log_action action)
{
	switch (action) {
	case LOG_ACKNOWLEDGED: return "sale.acknowledged";
	case LOG_SHIPPED: return "sale.shipped";
	case LOG_CANCELLED: return "sale.cancelled";
	case LOG_REFUSED: return "sale.refused";
	case LOG_REOPENED: return "sale.reopened";
	default: return NULL;
	}
}

static int
write_log(struct store_txn *t, enum log_action action, const struct sale_product *old,
    const struct sale_product *sp, const char *user, const char *request_id, int64_t now)
{
	struct log_entry e;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = store_counter_next(t, "log_seq", &e.seq)) != STORE_OK)
		return rc;
	e.at = now;
	e.action = action;
	snprintf(e.user, sizeof(e.user), "%s", user);
	snprintf(e.request_id, sizeof(e.request_id), "%s", request_id ? request_id : "");
	if (old != NULL) {
		e.has_before = 1;
		e.before = *old;
	}
	e.after = *sp;
	return store_log_put(t, &e);
}

static int
write_event(struct store_txn *t, const char *type, const struct sale_product *sp,
    const struct package_list *packages, int64_t now, struct buf *json)
{
	uint64_t seq;
	int rc;

	if ((rc = store_counter_next(t, "event_seq", &seq)) != STORE_OK)
		return rc;
	if (event_render(seq, type, sp, packages, now, json) != 0)
		return store_txn_fail(t, STORE_NOMEM);
	return store_event_put(t, seq, json->p, json->len);
}

int
sale_write(struct store_txn *t, const struct sale_product *old, const struct sale_product *next,
    const void *item, size_t item_len, const struct package_list *packages, enum log_action action,
    const char *user, const char *request_id, int64_t now)
{
	struct buf scratch = { 0 };
	const char *type = event_type(action);

	if (item == NULL) {
		if (item_render(next, &scratch) != 0) {
			buf_free(&scratch);
			return store_txn_fail(t, STORE_NOMEM);
		}
		item = scratch.p;
		item_len = scratch.len;
	}
	store_sale_put(t, old, next, item, item_len);
	if (packages != NULL)
		store_shipment_put(t, next->sale_product_id, packages);
	write_log(t, action, old, next, user, request_id, now);
	if (type != NULL)
		write_event(t, type, next, packages, now, &scratch);
	buf_free(&scratch);
	return store_txn_error(t);
}

/* A refusal's fields are kept while the sale product is refused, and only then. */
static void
clear_refusal(struct sale_product *sp)
{
	sp->refused_at = 0;
	sp->reason = REASON_NONE;
	sp->note[0] = '\0';
}

/* What acknowledging or shipping a sale product of this status is, when it is no change of status. */
static enum action_result
fulfil_refused(enum sale_status status)
{
	return status == STATUS_CANCELLED ? RESULT_CANCELLED : status == STATUS_REFUSED ? RESULT_REFUSED :
	    RESULT_CHANGED;
}

/* Decides the change; returns the result and fills *next when it is RESULT_CHANGED. */
static enum action_result
decide(const struct action *a, const struct sale_product *cur, struct sale_product *next)
{
	enum action_result r;

	if (cur->increment_id != a->increment_id ||
	    (a->supplier >= 0 && cur->supplier != (unsigned)a->supplier))
		return RESULT_NOT_FOUND;
	*next = *cur;
	switch (a->what) {
	case ACTION_ACKNOWLEDGE:
		if ((r = fulfil_refused(cur->status)) != RESULT_CHANGED)
			return r;
		if (cur->status != STATUS_PENDING)
			return RESULT_UNCHANGED;
		next->status = STATUS_ACKNOWLEDGED;
		next->acknowledged_at = a->now;
		break;
	case ACTION_SHIP:
		if ((r = fulfil_refused(cur->status)) != RESULT_CHANGED)
			return r;
		if (cur->status == STATUS_SHIPPED)
			return RESULT_UNCHANGED;
		next->status = STATUS_SHIPPED;
		next->prepared_at = a->now;
		if (next->acknowledged_at == 0)
			next->acknowledged_at = a->now;
		if (a->packages != NULL && a->packages->n > 0) {
			/* The record keeps the first parcel's; the shipment database all of them. */
			snprintf(next->tracking_number, sizeof(next->tracking_number), "%s", a->packages->p[0].tracking_number);
			snprintf(next->ship_carrier, sizeof(next->ship_carrier), "%s",
			    a->packages->p[0].carrier[0] ? a->packages->p[0].carrier : cur->carrier);
		}
		if (a->tracking_number)
			snprintf(next->tracking_number, sizeof(next->tracking_number), "%s", a->tracking_number);
		if (a->carrier)
			snprintf(next->ship_carrier, sizeof(next->ship_carrier), "%s", a->carrier);
		break;
	case ACTION_REFUSE:
		if (cur->status == STATUS_CANCELLED)
			return RESULT_CANCELLED;
		if (cur->status == STATUS_SHIPPED)
			return RESULT_SHIPPED;
		if (cur->status == STATUS_REFUSED)
			return RESULT_UNCHANGED; /* the first reason and note are kept */
		next->status = STATUS_REFUSED;
		next->refused_at = a->now;
		next->reason = a->reason;
		snprintf(next->note, sizeof(next->note), "%s", a->note ? a->note : "");
		break;
	case ACTION_REOPEN:
		if (cur->status != STATUS_REFUSED)
			return RESULT_NOT_REFUSED;
		/* Back to the start: the supplier acknowledges it again (the sale log keeps what was). */
		next->status = STATUS_PENDING;
		next->acknowledged_at = 0;
		clear_refusal(next);
		break;
	case ACTION_CANCEL:
		if (cur->status == STATUS_CANCELLED)
			return RESULT_UNCHANGED;
		next->status = STATUS_CANCELLED;
		clear_refusal(next);
		break;
	}
	next->updated_at = a->now;
	return RESULT_CHANGED;
}

/* Reads the sale product in t and decides the change (RESULT_FAILED: the store error in *err). */
static enum action_result
read_and_decide(struct store_txn *t, const struct action *a, struct sale_product *cur, struct sale_product *next,
    int *err)
{
	int rc = store_sale_get(t, a->sale_product_id, cur);

	if (rc == STORE_NOTFOUND)
		return RESULT_NOT_FOUND;
	if (rc != STORE_OK) {
		*err = rc;
		return RESULT_FAILED;
	}
	return decide(a, cur, next);
}

static enum log_action
logged_as(enum sale_action what)
{
	static const enum log_action logged[] = {
		[ACTION_ACKNOWLEDGE] = LOG_ACKNOWLEDGED, [ACTION_SHIP] = LOG_SHIPPED, [ACTION_CANCEL] = LOG_CANCELLED,
		[ACTION_REFUSE] = LOG_REFUSED, [ACTION_REOPEN] = LOG_REOPENED,
	};

	return logged[what];
}

/* A ship's packages as they are kept: a parcel without a carrier goes with the order's; NULL when none were named. */
static const struct package_list *
shipped_packages(const struct action *a, const struct sale_product *cur, struct package_list *out)
{
	if (a->what != ACTION_SHIP || a->packages == NULL || a->packages->n == 0)
		return NULL;
	*out = *a->packages;
	for (unsigned i = 0; i < out->n; i++)
		if (out->p[i].carrier[0] == '\0')
			snprintf(out->p[i].carrier, sizeof(out->p[i].carrier), "%s", cur->carrier);
	return out;
}

/*
 * Decides every change of a[0..n) in t, in order, each on the state the
 * ones before it left; with write, writes each change as it is decided.
 * Returns RESULT_CHANGED when one of them changes something, RESULT_UNCHANGED
 * when none does, or RESULT_FAILED (*err) on a store error.
 */
static enum action_result
decide_all(struct store_txn *t, int write, const struct action *a, size_t n, struct action_outcome *out,
    unsigned char *touched, int *err)
{
	struct package_list packages;
	struct sale_product cur, next;
	enum action_result any = RESULT_UNCHANGED;

	for (size_t i = 0; i < n; i++) {
		memset(&cur, 0, offsetof(struct sale_product, note) + 1);
		out[i].res = read_and_decide(t, &a[i], &cur, &next, err);
		if (out[i].res == RESULT_FAILED)
			return RESULT_FAILED;
		out[i].sp = out[i].res == RESULT_CHANGED ? next : cur;
		if (out[i].res != RESULT_CHANGED)
			continue;
		any = RESULT_CHANGED;
		if (!write)
			continue;
		if (sale_write(t, &cur, &next, NULL, 0, shipped_packages(&a[i], &cur, &packages), logged_as(a[i].what),
		    a[i].user, a[i].request_id, a[i].now) != STORE_OK) {
			*err = store_txn_error(t);
			return RESULT_FAILED;
		}
		touched[next.supplier] = 1;
	}
	return any;
}

enum action_result
sale_apply_all(struct store *s, const struct action *a, size_t n, struct action_outcome *out, int *err)
{
	unsigned char touched[SUPPLIER_COUNT] = { 0 };
	struct store_txn *t;
	enum action_result res = RESULT_UNCHANGED;
	int rc;

	/* Repeats and refusals need no write lock: decide on a snapshot first. */
	for (int write = 0; write <= 1; write++) {
		if ((rc = store_begin(s, write, &t)) != STORE_OK) {
			*err = rc;
			return RESULT_FAILED;
		}
		res = decide_all(t, write, a, n, out, touched, err);
		if (res != RESULT_CHANGED) {
			store_abort(t);
			return res;
		}
		/* Something changes on the snapshot: decide again under the write lock, a concurrent request may have won. */
		if (!write)
			store_abort(t);
	}
	for (unsigned sup = 0; sup < SUPPLIER_COUNT; sup++)
		if (touched[sup])
			store_generation_bump(t, sup);
	if ((rc = store_commit(t)) != STORE_OK) {
		*err = rc;
		return RESULT_FAILED;
	}
	return RESULT_CHANGED;
}

enum action_result
sale_apply(struct store *s, const struct action *a, struct sale_product *out, int *err)
{
	struct action_outcome o;
	enum action_result res = sale_apply_all(s, a, 1, &o, err);

	if (res == RESULT_FAILED)
		return res;
	*out = o.sp;
	return o.res;
}
