#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sale_json.h"
#include "sale_rules.h"
#include "supplier.h"

/* The event each logged action is due. */
static const char *
event_type(enum log_action action)
{
	switch (action) {
	case LOG_IMPORTED: return "sale.created";
	case LOG_UPDATED: return "sale.updated";
	case LOG_ACKNOWLEDGED: return "sale.acknowledged";
	case LOG_SHIPPED: return "sale.shipped";
	case LOG_CANCELLED: return "sale.cancelled";
	case LOG_REFUSED: return "sale.refused";
	case LOG_REOPENED: return "sale.reopened";
	case LOG_SHIP_DATE_CHANGED: return "sale.ship_date_changed";
	case LOG_TRACKING_UPDATED: return "sale.tracking_updated";
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
write_event(struct store_txn *t, const char *type, const struct sale_product *old, const struct sale_product *sp,
    const struct package_list *packages, const struct tracking_list *added, int64_t now, struct buf *json)
{
	uint64_t seq;
	int rc;

	if ((rc = store_counter_next(t, "event_seq", &seq)) != STORE_OK)
		return rc;
	if (event_render(seq, type, old, sp, packages, added, now, json) != 0)
		return store_txn_fail(t, STORE_NOMEM);
	store_event_put(t, seq, json->p, json->len);
	/* The supplier's change feed numbers its events from 1 without a gap: in the same transaction. */
	return store_feed_append(t, sp->supplier, seq, NULL);
}

int
sale_event_write(struct store_txn *t, const char *type, const struct sale_product *sp, int64_t now)
{
	struct package_list *stored = NULL;
	struct buf json = { 0 };
	int rc;

	/* A shipped one's event names its parcels as its shipment's list holds them (none: its record's one). */
	if (sp->prepared_at != 0) {
		if ((stored = malloc(sizeof(*stored))) == NULL)
			return store_txn_fail(t, STORE_NOMEM);
		if ((rc = store_shipment_get(t, sp->sale_product_id, stored)) != STORE_OK) {
			free(stored);
			stored = NULL;
			if (rc != STORE_NOTFOUND)
				return rc;
		}
	}
	write_event(t, type, NULL, sp, stored, NULL, now, &json);
	free(stored);
	buf_free(&json);
	return store_txn_error(t);
}

int
sale_write(struct store_txn *t, const struct sale_product *old, const struct sale_product *next,
    const void *item, size_t item_len, const struct package_list *packages, const struct tracking_list *added,
    enum log_action action, const char *user, const char *request_id, int64_t now)
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
		write_event(t, type, old, next, packages, added, now, &scratch);
	if (action == LOG_TRACKING_UPDATED && next->delivered_at != 0 &&
	    (old == NULL || old->delivered_at != next->delivered_at))
		write_event(t, "sale.delivered", old, next, packages, NULL, now, &scratch);
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

/* Decides the change; returns the result and fills *next when it is RESULT_CHANGED (and *logged when it is not the action's own entry). */
static enum action_result
decide(const struct action *a, const struct sale_product *cur, struct sale_product *next, enum log_action *logged)
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
		if (cur->status != STATUS_PENDING) {
			/* A repeat, unless it promises another date: the back office tells the customer. */
			if (a->ship_date == 0 || a->ship_date == cur->estimated_ship_date)
				return RESULT_UNCHANGED;
			if (cur->status == STATUS_SHIPPED)
				return RESULT_SHIPPED;
			next->estimated_ship_date = a->ship_date;
			*logged = LOG_SHIP_DATE_CHANGED;
			break;
		}
		next->status = STATUS_ACKNOWLEDGED;
		next->acknowledged_at = a->now;
		if (a->ship_date != 0)
			next->estimated_ship_date = a->ship_date;
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
		next->estimated_ship_date = 0; /* promised again with the next acknowledgement */
		clear_refusal(next);
		break;
	case ACTION_CANCEL:
		if (cur->status == STATUS_CANCELLED)
			return RESULT_UNCHANGED;
		next->status = STATUS_CANCELLED;
		clear_refusal(next);
		break;
	case ACTION_TRACK:
		return RESULT_FAILED; /* decided by track_decide, which reads the shipment */
	}
	next->updated_at = a->now;
	return RESULT_CHANGED;
}

static enum log_action
logged_as(enum sale_action what)
{
	static const enum log_action logged[] = {
		[ACTION_ACKNOWLEDGE] = LOG_ACKNOWLEDGED, [ACTION_SHIP] = LOG_SHIPPED, [ACTION_CANCEL] = LOG_CANCELLED,
		[ACTION_REFUSE] = LOG_REFUSED, [ACTION_REOPEN] = LOG_REOPENED, [ACTION_TRACK] = LOG_TRACKING_UPDATED,
	};

	return logged[what];
}

/* The parcels a change writes, and the carrier events it adds; what the log entry calls it. */
struct change {
	enum log_action logged;
	const struct package_list *packages;   /* NULL: none to write */
	struct package_list parcels;
	struct tracking_list added;
};

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

static int
has_parcel(const struct package_list *l, const char *tracking_number)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->p[i].tracking_number, tracking_number) == 0)
			return 1;
	return 0;
}

/* The same carrier event: one stored already, or sent twice in one request. */
static int
same_event(const struct tracking_event *x, const struct tracking_event *y)
{
	return x->at == y->at && x->status == y->status && strcmp(x->tracking_number, y->tracking_number) == 0;
}

/*
 * The shipment's parcels with those the request adds (a parcel without a
 * carrier goes with the order's) into *parcels; *stored 1 when the
 * shipment has a stored list, *grew 1 when the request adds a parcel.  A
 * shipment without a stored list has the one its record names, if any.
 */
static enum action_result
track_parcels(struct store_txn *t, const struct action *a, const struct sale_product *cur,
    struct package_list *parcels, int *stored, int *grew, int *err)
{
	int rc = store_shipment_get(t, cur->sale_product_id, parcels);

	*grew = 0;
	*stored = rc == STORE_OK;
	if (rc == STORE_NOTFOUND) {
		parcels->n = 0;
		if (cur->tracking_number[0]) {
			snprintf(parcels->p[0].tracking_number, sizeof(parcels->p[0].tracking_number), "%s", cur->tracking_number);
			snprintf(parcels->p[0].carrier, sizeof(parcels->p[0].carrier), "%s",
			    cur->ship_carrier[0] ? cur->ship_carrier : cur->carrier);
			parcels->n = 1;
		}
	} else if (rc != STORE_OK) {
		*err = rc;
		return RESULT_FAILED;
	}
	for (unsigned i = 0; a->packages != NULL && i < a->packages->n; i++) {
		const struct package *p = &a->packages->p[i];

		if (has_parcel(parcels, p->tracking_number))
			continue;
		if (parcels->n == PACKAGES_MAX)
			return RESULT_TOO_MANY_PARCELS;
		parcels->p[parcels->n] = *p;
		if (p->carrier[0] == '\0')
			snprintf(parcels->p[parcels->n].carrier, sizeof(parcels->p[0].carrier), "%s", cur->carrier);
		parcels->n++;
		*grew = 1;
	}
	return RESULT_CHANGED;
}

/* The delivery status and delivered_at of next, from every carrier event stored for it in t. */
static int
track_summary(struct store_txn *t, struct sale_product *next)
{
	struct tracking_iter it;

	next->delivery_status = DELIVERY_NONE;
	next->delivered_at = 0;
	/* By time: the last one read is the latest (at one time, by status and tracking number). */
	for (int more = store_tracking_first(t, next->sale_product_id, &it); more; more = store_tracking_next(&it)) {
		next->delivery_status = it.e.status;
		if (it.e.status == DELIVERY_DELIVERED)
			next->delivered_at = it.e.at;
	}
	return store_txn_error(t);
}

/*
 * Decides (and with write, stores) the carrier events and parcels of a
 * tracking update of cur: RESULT_CHANGED with next and ch filled when one
 * of them is new, RESULT_UNCHANGED when all were stored already.
 */
static enum action_result
track_decide(struct store_txn *t, int write, const struct action *a, const struct sale_product *cur,
    struct sale_product *next, struct change *ch, int *err)
{
	struct tracking_iter it;
	enum action_result r;
	int stored, grew, added;

	if (cur->status != STATUS_SHIPPED)
		return RESULT_NOT_SHIPPED;
	if ((r = track_parcels(t, a, cur, &ch->parcels, &stored, &grew, err)) != RESULT_CHANGED)
		return r;
	ch->added.n = 0;
	for (unsigned i = 0; i < a->tracking->n; i++) {
		const struct tracking_event *e = &a->tracking->e[i];
		int known = 0;

		if (e->tracking_number[0] && !has_parcel(&ch->parcels, e->tracking_number))
			return RESULT_UNKNOWN_PARCEL;
		for (unsigned j = 0; j < ch->added.n && !known; j++)
			known = same_event(&ch->added.e[j], e);
		for (int more = known ? 0 : store_tracking_first(t, cur->sale_product_id, &it); more && !known;
		    more = store_tracking_next(&it))
			known = same_event(&it.e, e);
		if (store_txn_error(t) != STORE_OK) {
			*err = store_txn_error(t);
			return RESULT_FAILED;
		}
		if (!known)
			ch->added.e[ch->added.n++] = *e;
	}
	if (ch->added.n == 0 && !grew)
		return RESULT_UNCHANGED;
	*next = *cur;
	next->updated_at = a->now;
	if (grew && next->tracking_number[0] == '\0') {
		/* The record keeps the first parcel's, as ship-sale's does. */
		snprintf(next->tracking_number, sizeof(next->tracking_number), "%s", ch->parcels.p[0].tracking_number);
		snprintf(next->ship_carrier, sizeof(next->ship_carrier), "%s", ch->parcels.p[0].carrier);
	}
	/* The events name every parcel: a stored list is written again as it is (one without is the record's one). */
	ch->packages = grew || stored ? &ch->parcels : NULL;
	if (!write)
		return RESULT_CHANGED;
	for (unsigned i = 0; i < ch->added.n; i++)
		store_tracking_put(t, cur->sale_product_id, &ch->added.e[i], &added);
	if (track_summary(t, next) != STORE_OK) {
		*err = store_txn_error(t);
		return RESULT_FAILED;
	}
	return RESULT_CHANGED;
}

/* Reads the sale product in t and decides the change (RESULT_FAILED: the store error in *err). */
static enum action_result
read_and_decide(struct store_txn *t, int write, const struct action *a, struct sale_product *cur,
    struct sale_product *next, struct change *ch, int *err)
{
	int rc = store_sale_get(t, a->sale_product_id, cur);

	if (rc == STORE_NOTFOUND)
		return RESULT_NOT_FOUND;
	if (rc != STORE_OK) {
		*err = rc;
		return RESULT_FAILED;
	}
	ch->logged = logged_as(a->what);
	ch->packages = shipped_packages(a, cur, &ch->parcels);
	if (cur->increment_id != a->increment_id || (a->supplier >= 0 && cur->supplier != (unsigned)a->supplier))
		return RESULT_NOT_FOUND;
	if (a->what == ACTION_TRACK)
		return track_decide(t, write, a, cur, next, ch, err);
	return decide(a, cur, next, &ch->logged);
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
	struct change *ch = malloc(sizeof(*ch));
	struct sale_product cur, next;
	enum action_result any = RESULT_UNCHANGED;

	if (ch == NULL) {
		*err = STORE_NOMEM;
		return RESULT_FAILED;
	}
	for (size_t i = 0; i < n; i++) {
		memset(&cur, 0, offsetof(struct sale_product, note) + 1);
		out[i].res = read_and_decide(t, write, &a[i], &cur, &next, ch, err);
		if (out[i].res == RESULT_FAILED) {
			any = RESULT_FAILED;
			break;
		}
		out[i].sp = out[i].res == RESULT_CHANGED ? next : cur;
		if (out[i].res != RESULT_CHANGED)
			continue;
		any = RESULT_CHANGED;
		if (!write)
			continue;
		if (sale_write(t, &cur, &next, NULL, 0, ch->packages, a[i].what == ACTION_TRACK ? &ch->added : NULL,
		    ch->logged, a[i].user, a[i].request_id, a[i].now) != STORE_OK) {
			*err = store_txn_error(t);
			any = RESULT_FAILED;
			break;
		}
		touched[next.supplier] = 1;
	}
	free(ch);
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
