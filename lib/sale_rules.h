#ifndef MENZZO_SALE_RULES_H
#define MENZZO_SALE_RULES_H

/*
 * The sale's rules, without HTTP (sale.h says what a sale product is):
 * which change an acknowledge, a ship,
 * a refusal, a reopening or a cancel makes, and how a change is written.  Every change writes the
 * record (with its rendered item), one sale-log entry, one event where one
 * is due, and bumps the supplier's cache generation, in one write
 * transaction: all or nothing.
 */

#include <stdint.h>

#include "sale.h"
#include "store.h"

enum sale_action { ACTION_ACKNOWLEDGE, ACTION_SHIP, ACTION_CANCEL, ACTION_REFUSE, ACTION_REOPEN, ACTION_TRACK };

/* A change asked for, by a supplier through the API or by a maintainer. */
struct action {
	enum sale_action what;
	uint64_t increment_id, sale_product_id;
	int supplier;              /* supplier id the caller speaks for; -1 = any (menzzo-admin) */
	const char *user;          /* sale-log user */
	const char *request_id;    /* written in the log entry; may be NULL */
	const char *tracking_number, *carrier; /* ship only; may be NULL */
	const struct package_list *packages;   /* ship: instead of the two above; track: parcels to add; may be NULL */
	uint32_t ship_date;                    /* acknowledge only: the estimated ship date (days); 0 = none */
	const struct tracking_list *tracking;  /* track only: the carrier events (1 or more) */
	enum refusal_reason reason;            /* refuse only */
	const char *note;                      /* refuse only; may be NULL */
	int64_t now;
};

enum action_result {
	RESULT_CHANGED,
	RESULT_UNCHANGED,  /* a repeat: 200, "changed": false */
	RESULT_NOT_FOUND,  /* unknown, another order's, or another supplier's: 404 */
	RESULT_CANCELLED,  /* 409 cancelled */
	RESULT_REFUSED,    /* acknowledging or shipping a refused one: 409 refused */
	RESULT_SHIPPED,    /* refusing a shipped one, or changing its ship date: 409 already_shipped */
	RESULT_NOT_SHIPPED, /* tracking one that is not shipped: 409 not_shipped */
	RESULT_UNKNOWN_PARCEL, /* a carrier event of a tracking number the shipment has not: 409 unknown_parcel */
	RESULT_TOO_MANY_PARCELS, /* parcels added beyond PACKAGES_MAX: 409 too_many_parcels */
	RESULT_NOT_REFUSED, /* reopening one that is not refused (menzzo-admin) */
	RESULT_FAILED,     /* store error in *err: 503 or 500 */
};

/*
 * Applies a change in its own write transaction (decided first on a
 * snapshot, so that a repeat or a refusal never waits for the writer).
 * *out is the sale product after it, also when unchanged.  On
 * RESULT_FAILED *err is the store error and nothing was written; every
 * transaction begun here has ended when it returns.
 */
enum action_result sale_apply(struct store *s, const struct action *a, struct sale_product *out, int *err);

/* What became of one change of a batch: its result, and the sale product after it (also when unchanged). */
struct action_outcome {
	enum action_result res;
	struct sale_product sp;
};

/*
 * Applies the changes a[0..n) in one write transaction: one durable commit
 * for all of them.  Each is decided on its own, in order, on the state the
 * ones before it left (the same sale product twice: the second is a
 * repeat), into out[i].  Returns RESULT_CHANGED when something was
 * written, RESULT_UNCHANGED when nothing had to be, or RESULT_FAILED with
 * *err the store error: then nothing of any of them was written.
 */
enum action_result sale_apply_all(struct store *s, const struct action *a, size_t n, struct action_outcome *out,
    int *err);

/*
 * Writes a change of a sale product in t: next (with its rendered item, or
 * item[0..item_len) when item is not NULL) replacing old (NULL for a new
 * one), its shipment's packages when not NULL, the sale-log entry of action
 * by user (request_id may be NULL), and the events the action is due, at
 * now (a tracking update's name the carrier events added, and a second,
 * sale.delivered, follows when delivered_at changed).  The caller bumps
 * the cache generation.  Returns STORE_OK or t's sticky error.
 */
int sale_write(struct store_txn *t, const struct sale_product *old, const struct sale_product *next,
    const void *item, size_t item_len, const struct package_list *packages, const struct tracking_list *added,
    enum log_action action, const char *user, const char *request_id, int64_t now);

/*
 * Writes in t an event of this type ("sale.label_ready") about sp as it is
 * stored, at now: no change of the record, so no sale-log entry and no new
 * cache generation; the event goes to the outbox and to the supplier's
 * change feed, as every event does.  Returns STORE_OK or t's sticky error.
 */
int sale_event_write(struct store_txn *t, const char *type, const struct sale_product *sp, int64_t now);

#endif
