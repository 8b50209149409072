#ifndef MENZZO_STORE_H
#define MENZZO_STORE_H

/*
 * The store: one LMDB environment (MENZZO_DATA_DIR) with named databases,
 *   sale     be64 sale_product_id                          -> packed record
 *   listing  u8 supplier, u8 view, be32 date, be64 inc, be64 sp -> rendered item
 *            (a sale product is listed in every view sale_in_view() names;
 *            the entry holds the item as get-sales shows it, so that a page
 *            is read from the index alone, in a few adjacent pages, and not
 *            rendered again: see item.h)
 *   order    be64 increment_id, be64 sale_product_id        -> ""
 *   label    label path, 0, be64 sale_product_id            -> ""
 *   log      be64 sale_product_id, be64 seq                 -> packed entry
 *   event    be64 seq                                       -> JSON text
 *   token    32-byte hash of the token                      -> packed record
 *   meta     name                                           -> be64 or text
 *   shipment be64 sale_product_id                          -> packed package list
 *            (the parcels a ship-sale named; since schema 4)
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

/*
 * What a visitor returns to end a scan early: negative, so that it is never
 * taken for a store_result.  A scan ended this way returns STORE_OK.
 */
#define STORE_STOP (-1)

#define STORE_CREATE   0x1 /* create the directory and files (menzzo-admin init) */
#define STORE_READONLY 0x2 /* a read-only process (get-sales, files, health) */

/*
 * The format version.  4 added the shipment database, sale records of
 * version 2 (refusals) and listing items with refused_at; a store of
 * version 3 is read as it is (its records and items decode, never
 * refused), and the first process that opens it for writing upgrades it
 * in place: creates the shipment database and writes 4.
 */
#define STORE_SCHEMA 4
#define STORE_SCHEMA_UPGRADABLE 3
#define STORE_DB_COUNT 9

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

/* STORE_OK with *out, STORE_NOTFOUND, or the transaction's (sticky) error. */
int store_sale_get(struct store_txn *t, uint64_t sale_product_id, struct sale_product *out);
/*
 * Writes sp and moves its index entries from those of old (NULL for a new
 * record); its listing entries hold item[0..item_len), the rendered item.
 * Returns STORE_OK or the sticky error (the transaction then only aborts).
 */
int store_sale_put(struct store_txn *t, const struct sale_product *old, const struct sale_product *sp,
    const void *item, size_t item_len);

/* Visitors return 0 to go on, STORE_STOP to end the scan, or a store error, which sticks and ends it. */
typedef int (*sale_visit_fn)(void *ctx, const struct sale_product *sp);
typedef int (*item_visit_fn)(void *ctx, const struct listing_pos *pos, const void *item, size_t len);

/*
 * Visits the entries of a supplier's view in listing order, with order_date
 * in [date_from, date_to], strictly after *after when it is given, skipping
 * the first skip of them: fn gets each one's position and stored item.
 * Returns STORE_OK or the error that ended the scan.
 */
int store_listing_scan(struct store_txn *t, unsigned supplier, enum status_filter view,
    const struct listing_pos *after, uint32_t date_from, uint32_t date_to,
    uint64_t skip, item_visit_fn fn, void *ctx);
/* The number of entries of a supplier's view, counted (O(entries): for small views such as refused). */
int store_listing_count(struct store_txn *t, unsigned supplier, enum status_filter view, uint64_t *n);
/* Visits every sale product of an order (any supplier), by sale_product_id. */
int store_order_scan(struct store_txn *t, uint64_t increment_id, sale_visit_fn fn, void *ctx);
/* Visits every sale product, by sale_product_id. */
int store_sale_scan(struct store_txn *t, sale_visit_fn fn, void *ctx);
/* 1 when a sale product of this supplier carries this label, 0 when none, or -store_result. */
int store_label_owned(struct store_txn *t, const char *label, size_t len, unsigned supplier);

/* The index entries as stored, for the integrity check. */
typedef int (*listing_visit_fn)(void *ctx, unsigned supplier, unsigned view, const struct listing_pos *pos,
    const void *item, size_t len);
int store_listing_raw_scan(struct store_txn *t, listing_visit_fn fn, void *ctx);
typedef int (*pair_visit_fn)(void *ctx, uint64_t increment_id, uint64_t sale_product_id);
int store_order_raw_scan(struct store_txn *t, pair_visit_fn fn, void *ctx);
typedef int (*label_visit_fn)(void *ctx, const char *label, size_t len, uint64_t sale_product_id);
int store_label_raw_scan(struct store_txn *t, label_visit_fn fn, void *ctx);

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
typedef int (*log_visit_fn)(void *ctx, const struct log_entry *e);
/* Visits a sale product's log entries, oldest first. */
int store_log_scan(struct store_txn *t, uint64_t sale_product_id, log_visit_fn fn, void *ctx);
/* Visits every entry of every sale product, by (sale product, seq). */
int store_log_scan_all(struct store_txn *t, log_visit_fn fn, void *ctx);

/* store_shipment.c: the parcels of a shipment, kept beside its record. */

/* Writes the package list of a sale product (replacing any); STORE_OK or the sticky error. */
int store_shipment_put(struct store_txn *t, uint64_t sale_product_id, const struct package_list *l);
/* STORE_OK with *l, STORE_NOTFOUND when none was named, or the sticky error (STORE_CORRUPT when it does not decode). */
int store_shipment_get(struct store_txn *t, uint64_t sale_product_id, struct package_list *l);
typedef int (*shipment_visit_fn)(void *ctx, uint64_t sale_product_id, const struct package_list *l);
/* Visits every package list, by sale_product_id (the integrity check); one that does not decode is STORE_CORRUPT. */
int store_shipment_scan(struct store_txn *t, shipment_visit_fn fn, void *ctx);

/* Writes event seq (JSON text); an existing seq is STORE_CORRUPT. */
int store_event_put(struct store_txn *t, uint64_t seq, const char *json, size_t len);
typedef int (*event_visit_fn)(void *ctx, uint64_t seq, const char *json, size_t len);
/* Visits the events with a seq strictly greater than after, oldest first. */
int store_event_scan(struct store_txn *t, uint64_t after, event_visit_fn fn, void *ctx);

#endif
