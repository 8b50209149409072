#ifndef MENZZO_STORE_H
#define MENZZO_STORE_H

/*
 * The store: every LMDB call of the project lives in store.c.
 *
 * One environment (MENZZO_DATA_DIR) with named databases:
 *   sale     be64 sale_product_id                          -> packed record
 *   listing  u8 supplier, u8 view, be32 date, be64 inc, be64 sp -> rendered item
 *            (each sale product is listed in view "all", in its status's
 *            view, and in "open" while pending or acknowledged; the entry
 *            holds the item as get-sales shows it, so that a page is read
 *            from the index alone, in a few adjacent pages, and not rendered
 *            again: see sale_item_value)
 *   order    be64 increment_id, be64 sale_product_id        -> ""
 *   label    label path, 0, be64 sale_product_id            -> ""
 *   log      be64 sale_product_id, be64 seq                 -> packed entry
 *   event    be64 seq                                       -> JSON text
 *   token    32-byte hash of the token                      -> packed record
 *   meta     name                                           -> be64 or text
 * Big-endian keys make byte order the logical order, so a range scan is a
 * seek (MDB_SET_RANGE) plus a prefix check.
 *
 * The response cache is a second environment, <data dir>/cache.<boot id>,
 * opened without fsync: a cache write never pays for a business write's
 * durability, and a system crash only starts a new, empty cache.
 */

#include <stddef.h>
#include <stdint.h>

#include "sale.h"
#include "validate.h"

enum store_err {
	STORE_OK = 0,
	STORE_NOTFOUND,    /* no such record: a 404 or the end of a loop */
	STORE_FULL,        /* the map or the disk is full: 503, nothing written */
	STORE_UNAVAILABLE, /* cannot open, not initialised, busy: 503 */
	STORE_CORRUPT,     /* a record or key that does not decode: 500 */
	STORE_NOMEM,
	STORE_EXISTS,      /* create or backup target already exists */
	STORE_VERSION,     /* a store of another format version: 503, never misread */
};

#define STORE_CREATE   0x1 /* create the directory and files (menzzo-admin init) */
#define STORE_READONLY 0x2 /* a read-only process (get-sales, files, health) */

#define STORE_SCHEMA 3

struct store;
struct store_txn;

const char *store_strerror(int err);

/* Opens the environment in dir; returns a store_err.  With STORE_CREATE the directory is made (0700) and the schema written. */
int store_open(struct store **sp, const char *dir, size_t map_size, int flags);
void store_close(struct store *s);

/* Transactions carry a sticky error: after the first failure every call returns it and commit aborts. */
int store_begin(struct store *s, int write, struct store_txn **tp);
int store_commit(struct store_txn *t);
void store_abort(struct store_txn *t);

/* Sale products. */
int store_sale_get(struct store_txn *t, uint64_t sale_product_id, struct sale_product *out);
/*
 * Writes sp and moves its index entries from those of old (NULL for a new
 * record); its listing entries hold item[0..item_len), the rendered item.
 */
int store_sale_put(struct store_txn *t, const struct sale_product *old, const struct sale_product *sp,
    const void *item, size_t item_len);
/* Records an error in t (sticky); returns it. */
int store_fail_txn(struct store_txn *t, int err);

typedef int (*sale_visit_fn)(void *ctx, const struct sale_product *sp);

/* A position in the listing order; a scan starts strictly after it. */
struct listing_pos {
	uint32_t order_date;
	uint64_t increment_id, sale_product_id;
};

/*
 * Visits the entries of a supplier's view in listing order, with order_date
 * in [date_from, date_to], strictly after *after when it is given, skipping
 * the first skip of them: fn gets each one's position and rendered item.  fn
 * returns 0 to go on, 1 to stop, or a store_err.  Returns STORE_OK or an error.
 */
typedef int (*item_visit_fn)(void *ctx, const struct listing_pos *pos, const void *item, size_t len);
int store_listing_scan(struct store_txn *t, unsigned supplier, enum status_filter view,
    const struct listing_pos *after, uint32_t date_from, uint32_t date_to,
    uint64_t skip, item_visit_fn fn, void *ctx);
/* Visits every sale product of an order (any supplier), by sale_product_id. */
int store_order_scan(struct store_txn *t, uint64_t increment_id, sale_visit_fn fn, void *ctx);
/* Visits every sale product, by sale_product_id. */
int store_sale_scan(struct store_txn *t, sale_visit_fn fn, void *ctx);
/* 1 when a sale product of this supplier carries this label, 0 when none, or -store_err. */
int store_label_owned(struct store_txn *t, const char *label, size_t len, unsigned supplier);

/* The next value of a named counter (1, 2, ...), written in this transaction. */
int store_counter_next(struct store_txn *t, const char *name, uint64_t *v);
int store_counter_get(struct store_txn *t, const char *name, uint64_t *v);
/* The supplier's cache generation: bumped by every change to its sales. */
int store_generation(struct store_txn *t, unsigned supplier, uint64_t *gen);
int store_generation_bump(struct store_txn *t, unsigned supplier);

/* Sale log: keyed by the entry's sale product and seq. */
int store_log_put(struct store_txn *t, const struct log_entry *e);
typedef int (*log_visit_fn)(void *ctx, const struct log_entry *e);
int store_log_scan(struct store_txn *t, uint64_t sale_product_id, log_visit_fn fn, void *ctx);
/* Every sale log entry of every sale product. */
int store_log_scan_all(struct store_txn *t, log_visit_fn fn, void *ctx);

/* Event outbox: JSON text records keyed by seq. */
typedef int (*record_visit_fn)(void *ctx, uint64_t key, uint64_t seq, const char *json, size_t len);
int store_event_put(struct store_txn *t, uint64_t seq, const char *json, size_t len);
int store_event_scan(struct store_txn *t, uint64_t after, record_visit_fn fn, void *ctx);

/* Tokens, keyed by the hash of the token. */
int store_token_get(struct store_txn *t, const unsigned char *hash, struct token_record *out);
int store_token_put(struct store_txn *t, const unsigned char *hash, const struct token_record *rec);
typedef int (*token_visit_fn)(void *ctx, const unsigned char *hash, const struct token_record *rec);
int store_token_scan(struct store_txn *t, token_visit_fn fn, void *ctx);

/*
 * Listing index entries as stored, for the integrity check: fn gets each
 * entry's supplier, view and position.
 */
typedef int (*listing_visit_fn)(void *ctx, unsigned supplier, unsigned view, const struct listing_pos *pos,
    const void *item, size_t len);
int store_listing_raw_scan(struct store_txn *t, listing_visit_fn fn, void *ctx);
typedef int (*pair_visit_fn)(void *ctx, uint64_t a, uint64_t b);
/* Order index entries (increment_id, sale_product_id). */
int store_order_raw_scan(struct store_txn *t, pair_visit_fn fn, void *ctx);
/* Label index entries (label, sale_product_id). */
typedef int (*label_visit_fn)(void *ctx, const char *label, size_t len, uint64_t sale_product_id);
int store_label_raw_scan(struct store_txn *t, label_visit_fn fn, void *ctx);

struct store_stats {
	size_t map_size, used_bytes, page_size;
	uint64_t entries[8];  /* sale, listing, order, label, log, event, token, meta */
	unsigned readers_max, readers_used;
	uint64_t last_txn;
};
extern const char *const store_db_names[8];
int store_stats(struct store *s, struct store_stats *st);

/* A hot, consistent, compacted copy into dir (created 0700 if missing; refused with STORE_EXISTS when it holds a store). */
int store_backup(struct store *s, const char *dir);

/* The response cache (its own environment; see above). */
struct cache;
/* Opens (create: creates) the cache beside the store in data_dir; returns a store_err. */
int cache_open(struct cache **cp, const char *data_dir, int create);
void cache_close(struct cache *c);
struct cache_entry {
	int64_t expires_at;
	char *link;   /* "" when none; malloc'd */
	char *body;   /* malloc'd, body_len bytes and a NUL */
	size_t body_len;
};
/* STORE_OK with a fresh entry (free with cache_entry_free), STORE_NOTFOUND when absent or expired. */
int cache_get(struct cache *c, const void *key, size_t keylen, int64_t now, struct cache_entry *e);
void cache_entry_free(struct cache_entry *e);
/* Stores an entry, then removes up to a few expired ones. */
int cache_put(struct cache *c, const void *key, size_t keylen, int64_t expires_at,
    const char *link, const char *body, size_t body_len, int64_t now);
/* Removes expired entries (all with all); *removed counts them.  Also deletes caches of earlier boots. */
int cache_purge(const char *data_dir, int all, int64_t now, uint64_t *removed);

#endif
