#ifndef MENZZO_STORE_H
#define MENZZO_STORE_H

/*
 * The store: one LMDB environment (MENZZO_DATA_DIR) with named databases,
 *   sale     be64 sale_product_id                          -> packed record
 *   listing  u8 supplier, u8 view, be32 date, be64 inc, be64 sp -> rendered item
 *            (a sale product is listed in every view sale_in_view() names;
 *            the entry holds the item as get-sales shows it, so that a page
 *            is read from the index alone, in a few adjacent pages, and not
 *            rendered again: see sale_json.h)
 *   order    be64 increment_id, be64 sale_product_id        -> ""
 *   label    label path, 0, be64 sale_product_id            -> ""
 *   log      be64 sale_product_id, be64 seq                 -> packed entry
 *   event    be64 seq                                       -> JSON text
 *   token    32-byte hash of the token                      -> packed record
 *   meta     name                                           -> be64 or text
 *   shipment be64 sale_product_id                          -> packed package list
 *            (the parcels a ship-sale named; since schema 4)
 *   stock    u8 supplier, SKU                              -> packed stock record
 *            (since schema 5)
 *   tracking be64 sale_product_id, be64 at, u8 status, tracking number -> location
 *            (carrier events; since schema 6)
 *   feed     u8 supplier, be64 supplier seq                -> be64 event seq
 *            (each supplier's change feed: its sale events, numbered 1, 2, ...
 *            without a gap; since schema 7)
 *   webhook  be32 endpoint id                               -> packed endpoint
 *            (webhook endpoints and where their delivery stands; since 8)
 * Big-endian keys make byte order the logical order, so a range scan is a
 * seek plus a prefix check.  Only the store*.c files and cache.c include
 * LMDB's header; they share lib/store_impl.h.
 *
 *   store.c        environment, transactions, errors, the iteration primitive
 *   store_backup.c stats and the hot backup
 *   store_sale.c   sale records, their index entries, listing/order/label scans
 *   store_log.c    counters, cache generations, the sale log, the event outbox
 *   store_token.c  token records (token.h)
 *   store_shipment.c the parcels of shipments
 *   store_stock.c  stock records (stock.h)
 *   store_tracking.c the carrier events of shipments
 *   store_webhook.c  webhook endpoints
 *
 * Every call on a transaction starts by checking its sticky error: once one
 * call failed, nothing more is attempted, every later call returns that
 * error, and store_commit aborts.  The caller checks once, at the end.
 */

#include <stddef.h>
#include <stdint.h>

#include "sale.h"

/* The results of every store call. */
enum store_result {
	STORE_OK = 0,
	STORE_NOTFOUND,    /* no such record: a 404 (never sticks) */
	STORE_FULL,        /* the map or the disk is full: 503, nothing written */
	STORE_UNAVAILABLE, /* cannot open, not initialised, busy: 503 */
	STORE_CORRUPT,     /* a record or key that does not decode: 500 */
	STORE_NOMEM,
	STORE_EXISTS,      /* create or backup target already exists */
	STORE_VERSION,     /* a store of another format version: 503, never misread */
};

#define STORE_CREATE   0x1 /* create the directory and files (menzzo-admin init) */
#define STORE_READONLY 0x2 /* a read-only process (get-sales, files, health) */

/*
 * The format version.  A store of any version from STORE_SCHEMA_OLDEST is
 * read as it is, and the first process that opens it for writing upgrades
 * it in place, one step a version (store.c: upgrade_steps), all the steps
 * in one write transaction.  Each step has a fixture of the version it
 * starts from (tests/fixtures/schema<N>), and the current version one too,
 * for the next step.
 *   4  added the shipment database, sale records of version 2 (refusals)
 *      and listing items with refused_at (a version-3 store's records and
 *      items decode: never refused).
 *   5  added the stock database (a version-4 store has no stock).
 *   6  added the tracking database, sale records of version 3 (estimated
 *      ship date, delivery status, delivered_at) and listing items with
 *      those three (records and items of 5 decode: none of them).
 *   7  added the feed database, filled by the upgrade from the events
 *      there are (in their order), and the events' data member (events
 *      of 6 have none).
 *   8  added the webhook database (a version-7 store has no endpoint).
 */
#define STORE_SCHEMA 8
#define STORE_SCHEMA_OLDEST 3
#define STORE_DB_COUNT 13

struct store;
struct store_txn;

/* A short phrase for a store_result ("storage full"). */
const char *store_strerror(int err);

/*
 * Opens the environment in dir; with STORE_CREATE the directory is made
 * (0700) and the schema written.  Returns STORE_OK with *sp, or an error
 * with why[0..whylen) set to a line for the maintainer's log naming the
 * cause ("/srv/menzzo/db: No such file or directory", "format version 2,
 * this build reads 3"); why may be NULL.  Nothing is created without
 * STORE_CREATE.
 */
int store_open(struct store **sp, const char *dir, size_t map_size, int flags, char *why, size_t whylen);
/* Closes the environment; s may be NULL.  Every transaction must have ended. */
void store_close(struct store *s);
/*
 * 1 when a long-lived process should close the store and open it again
 * before its next request: an error left the environment unusable, or the
 * data file was replaced (another inode: a store restored from a backup)
 * or removed; else 0.
 */
int store_stale(struct store *s);

/*
 * Begins a transaction (write: the one writer; waits for it).  Returns
 * STORE_OK with *tp, or an error and no transaction.  A read transaction
 * reuses the one the last read ended (reset, then renewed: the same reader
 * slot, no allocation), so a long-lived process reads at no extra cost.
 */
int store_begin(struct store *s, int write, struct store_txn **tp);
/*
 * Ends t: commits it when no call on it failed, else aborts it.  Frees t in
 * every case.  Returns STORE_OK when the changes are durable, else the
 * sticky error or the commit's, and nothing of t was written.
 */
int store_commit(struct store_txn *t);
/* Ends t without writing anything and frees it; t may be NULL. */
void store_abort(struct store_txn *t);
/* Records err as t's sticky error unless one is recorded already; returns the sticky error. */
int store_txn_fail(struct store_txn *t, int err);
/* t's sticky error: STORE_OK while every call on t succeeded. */
int store_txn_error(const struct store_txn *t);

/*
 * Iteration is a loop in the caller (Knot's knot_lmdb_foreach): each kind
 * of entry has an iterator, a _first call that seeks and a _next call that
 * steps, each returning 1 on an entry (its fields filled) and 0 at the end
 * or on an error, which is then t's sticky error (an entry that does not
 * decode is STORE_CORRUPT):
 *
 *	struct event_iter it;
 *	for (int more = store_events_first(t, after, &it); more; more = store_events_next(&it))
 *		... it.seq, it.json[0..it.len) ...
 *	rc = store_txn_error(t);
 *
 * A loop may break.  An iteration uses the transaction's one cursor of its
 * database: its body must not iterate over the same database (point reads
 * are fine).  What an iterator points into lives until t ends.
 */
struct store_cursor {
	struct store_txn *t;
	void *lmdb;                   /* the transaction's LMDB cursor of the database */
	const void *key, *val;        /* the entry it is on */
	size_t klen, vlen;
	unsigned char prefix[LABEL_MAX + 1]; /* entries outside it end the iteration */
	size_t plen;
};

/* Progress of long work (check, backup): done of total units, total 0 when unknown. */
typedef void (*store_progress_fn)(void *ctx, uint64_t done, uint64_t total);

struct store_stats {
	size_t map_size, used_bytes, page_size;
	uint64_t entries[STORE_DB_COUNT];  /* per database, in the order of store_db_names */
	unsigned readers_max, readers_used;
	uint64_t last_txn;
	uint64_t refused;     /* refused sale products, every supplier's (counted in the refused views) */
};
extern const char *const store_db_names[STORE_DB_COUNT];
int store_stats(struct store *s, struct store_stats *st);
/* Only what costs no walk and no transaction: map_size, used_bytes, page_size, readers_max, last_txn. */
int store_sizes(struct store *s, struct store_stats *st);

/*
 * A hot, consistent, compacted copy into dir (created 0700 if missing);
 * STORE_EXISTS when dir holds a store already, which is never overwritten.
 * progress, when not NULL, is told the bytes written of about how many.
 */
int store_backup(struct store *s, const char *dir, store_progress_fn progress, void *ctx);

/* store_sale.c: sale records and their indexes. */

/* A position in the listing order; a scan starts strictly after it. */
struct listing_pos {
	uint32_t order_date;
	uint64_t increment_id, sale_product_id;
};

/*
 * 1 when a and b are the same sale product but for their bookkeeping times
 * (created_at, updated_at): when their records encode the same (so that no
 * field can be forgotten), else 0.
 */
int store_sale_same(const struct sale_product *a, const struct sale_product *b);
/* STORE_OK with *out, STORE_NOTFOUND, or the transaction's (sticky) error. */
int store_sale_get(struct store_txn *t, uint64_t sale_product_id, struct sale_product *out);
/*
 * Writes sp and moves its index entries from those of old (NULL for a new
 * record); its listing entries hold item[0..item_len), the rendered item.
 * Returns STORE_OK or the sticky error (the transaction then only aborts).
 */
int store_sale_put(struct store_txn *t, const struct sale_product *old, const struct sale_product *sp,
    const void *item, size_t item_len);

/*
 * Sale products: every one by sale_product_id, every one of an order (any
 * supplier's), or every one whose label is label[0..len) (any supplier's,
 * by sale_product_id).
 */
struct sale_iter {
	struct store_cursor c;
	int by_index;              /* through an index (order, label) whose key is a prefix, then the id */
	struct sale_product sp;
};
int store_sales_first(struct store_txn *t, struct sale_iter *it);
int store_order_sales_first(struct store_txn *t, uint64_t increment_id, struct sale_iter *it);
int store_label_sales_first(struct store_txn *t, const char *label, size_t len, struct sale_iter *it);
int store_sales_next(struct sale_iter *it);

/*
 * The entries of the listing index: with store_listing_first, a supplier's
 * view in listing order, with order_date in [date_from, date_to], strictly
 * after *after when it is given, the first skip of them passed over; with
 * store_listing_all_first, every entry as stored (the integrity check).
 * Each gives its supplier, view, position and stored item.
 */
struct listing_iter {
	struct store_cursor c;
	unsigned char start[24];
	int all, after;
	uint32_t date_to;
	uint64_t skip;
	unsigned supplier, view;
	struct listing_pos pos;
	const void *item;
	size_t len;
};
int store_listing_first(struct store_txn *t, unsigned supplier, enum status_filter view,
    const struct listing_pos *after, uint32_t date_from, uint32_t date_to, uint64_t skip, struct listing_iter *it);
int store_listing_all_first(struct store_txn *t, struct listing_iter *it);
int store_listing_next(struct listing_iter *it);
/* The number of entries of a supplier's view, counted (O(entries): for small views such as refused). */
int store_listing_count(struct store_txn *t, unsigned supplier, enum status_filter view, uint64_t *n);

/* The order index as stored (the integrity check): each entry's increment_id and sale_product_id. */
struct order_entry_iter {
	struct store_cursor c;
	uint64_t increment_id, sale_product_id;
};
int store_order_entries_first(struct store_txn *t, struct order_entry_iter *it);
int store_order_entries_next(struct order_entry_iter *it);

/* The label index as stored (the integrity check): each entry's label (label[0..len)) and sale product. */
struct label_entry_iter {
	struct store_cursor c;
	const char *label;
	size_t len;
	uint64_t sale_product_id;
};
int store_label_entries_first(struct store_txn *t, struct label_entry_iter *it);
int store_label_entries_next(struct label_entry_iter *it);

/* Whether a sale product of this supplier carries the label label[0..len): STORE_OK with *owned 1 or 0. */
int store_label_owned(struct store_txn *t, const char *label, size_t len, unsigned supplier, int *owned);

/* store_log.c: counters, generations, the sale log, the event outbox. */

/* The next value of a named counter (1, 2, ...), written in this transaction. */
int store_counter_next(struct store_txn *t, const char *name, uint64_t *v);
/* The counter's current value, 0 when it was never used. */
int store_counter_get(struct store_txn *t, const char *name, uint64_t *v);
/* The supplier's cache generation: bumped by every change to its sales. */
int store_generation(struct store_txn *t, unsigned supplier, uint64_t *gen);
int store_generation_bump(struct store_txn *t, unsigned supplier);

/* Writes a sale-log entry, keyed by its sale product (e->after) and seq; an existing key is STORE_CORRUPT. */
int store_log_put(struct store_txn *t, const struct log_entry *e);
/* Sale-log entries: a sale product's, oldest first; or every one, by (sale product, seq). */
struct log_iter {
	struct store_cursor c;
	struct log_entry e;
};
int store_log_first(struct store_txn *t, uint64_t sale_product_id, struct log_iter *it);
int store_log_all_first(struct store_txn *t, struct log_iter *it);
int store_log_next(struct log_iter *it);

/* store_shipment.c: the parcels of a shipment, kept beside its record. */

/* Writes the package list of a sale product (replacing any); STORE_OK or the sticky error. */
int store_shipment_put(struct store_txn *t, uint64_t sale_product_id, const struct package_list *l);
/* STORE_OK with *l, STORE_NOTFOUND when none was named, or the sticky error (STORE_CORRUPT when it does not decode). */
int store_shipment_get(struct store_txn *t, uint64_t sale_product_id, struct package_list *l);
/* Every package list, by sale_product_id (the integrity check). */
struct shipment_iter {
	struct store_cursor c;
	uint64_t sale_product_id;
	struct package_list l;
};
int store_shipments_first(struct store_txn *t, struct shipment_iter *it);
int store_shipments_next(struct shipment_iter *it);

/* store_tracking.c: the carrier events of shipments. */

/*
 * Stores carrier event e of a sale product unless the same one (tracking
 * number, status, time) is stored: *added 1 when it was written, 0 when it
 * was there.  STORE_OK or the sticky error.
 */
int store_tracking_put(struct store_txn *t, uint64_t sale_product_id, const struct tracking_event *e, int *added);
/* A sale product's carrier events, by time (then status, tracking number); or every one, by sale product. */
struct tracking_iter {
	struct store_cursor c;
	uint64_t sale_product_id;
	struct tracking_event e;
};
int store_tracking_first(struct store_txn *t, uint64_t sale_product_id, struct tracking_iter *it);
int store_tracking_all_first(struct store_txn *t, struct tracking_iter *it);
int store_tracking_next(struct tracking_iter *it);

/* store_webhook.c: webhook endpoints (SPEC §8), and where each one's delivery stands. */
#define WEBHOOK_URL_MAX 1000
#define WEBHOOK_ERROR_MAX 200
#define WEBHOOK_KEY_LEN 32
#define WEBHOOK_BACKOFFICE 255 /* the target of a back-office endpoint: every event (a supplier's row otherwise) */
struct webhook {
	uint32_t id;
	unsigned target;         /* a supplier's row (its feed), or WEBHOOK_BACKOFFICE (the outbox) */
	int disabled;            /* by a 410, a day without a delivery, or the last retry failing */
	int64_t created_at;
	uint64_t last_seq;       /* the number of the last event delivered, in the target's sequence */
	uint32_t attempts;       /* failed attempts at the next event since the last delivery */
	int64_t next_at;         /* no attempt before (0: due) */
	int64_t failing_since;   /* the first failure since the last delivery (0: none) */
	int64_t delivered_at;    /* the last delivery (0: none yet) */
	unsigned char key[WEBHOOK_KEY_LEN];  /* the signing key: the secret's bytes */
	char url[WEBHOOK_URL_MAX + 1];
	char error[WEBHOOK_ERROR_MAX + 1];   /* the last failure, "" after a delivery */
};
/* Writes endpoint w (replacing the one of its id); STORE_OK or the sticky error. */
int store_webhook_put(struct store_txn *t, const struct webhook *w);
/* STORE_OK with *w, STORE_NOTFOUND, or the sticky error (STORE_CORRUPT when it does not decode). */
int store_webhook_get(struct store_txn *t, uint32_t id, struct webhook *w);
/* Removes endpoint id (none is fine): STORE_OK or the sticky error. */
int store_webhook_del(struct store_txn *t, uint32_t id);
/* Every endpoint, by id (none in a store read as it is before format 8). */
struct webhook_iter {
	struct store_cursor c;
	struct webhook w;
};
int store_webhooks_first(struct store_txn *t, struct webhook_iter *it);
int store_webhooks_next(struct webhook_iter *it);
/* The number of the last event of the sequence an endpoint of target reads (0: none yet). */
int store_webhook_end(struct store_txn *t, unsigned target, uint64_t *seq);
/*
 * The first event after number after of target's sequence (a supplier's
 * feed, or the outbox): STORE_OK with its number and stored JSON text,
 * valid until the transaction ends; STORE_NOTFOUND when there is none yet;
 * or the sticky error (a feed naming a missing event is STORE_CORRUPT).
 */
int store_webhook_event(struct store_txn *t, unsigned target, uint64_t after, uint64_t *seq, const char **json,
    size_t *len);

/* Writes event seq (JSON text); an existing seq is STORE_CORRUPT. */
int store_event_put(struct store_txn *t, uint64_t seq, const char *json, size_t len);
/* Event seq's JSON text, valid until t ends: STORE_OK, STORE_NOTFOUND, or the sticky error. */
int store_event_get(struct store_txn *t, uint64_t seq, const char **json, size_t *len);

/*
 * The change feeds: each supplier's sale events, numbered from 1 without a
 * gap.  store_feed_append gives event event_seq the supplier's next number
 * (in *seq when seq is not NULL).  A store read as it is before format 7
 * has no feeds: an empty one each.
 */
int store_feed_append(struct store_txn *t, unsigned supplier, uint64_t event_seq, uint64_t *seq);
/* A supplier's feed from its number after + 1 on: each entry's number and event seq. */
struct feed_iter {
	struct store_cursor c;
	unsigned supplier;
	uint64_t seq, event_seq;
};
int store_feed_first(struct store_txn *t, unsigned supplier, uint64_t after, struct feed_iter *it);
/* Every entry of every feed, by supplier then number (the integrity check). */
int store_feed_all_first(struct store_txn *t, struct feed_iter *it);
int store_feed_next(struct feed_iter *it);
/* The number of a supplier's last feed entry (0: none): what its next one follows. */
int store_feed_last(struct store_txn *t, unsigned supplier, uint64_t *seq);
/* 1 when the store has change feeds (format 7 on), else 0. */
int store_feed_present(const struct store_txn *t);
/* The events with a seq strictly greater than after, oldest first: each one's seq and JSON text. */
struct event_iter {
	struct store_cursor c;
	uint64_t seq;
	const char *json;
	size_t len;
};
int store_events_first(struct store_txn *t, uint64_t after, struct event_iter *it);
int store_events_next(struct event_iter *it);

#endif
