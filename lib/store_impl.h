#ifndef MENZZO_STORE_IMPL_H
#define MENZZO_STORE_IMPL_H

/*
 * What the store*.c files and cache.c share, and nothing else sees: the
 * environment and transaction structures, the error mapping, the one
 * iteration primitive, packing, and the record formats.  Include LMDB's
 * header first: only these files may.
 */

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "store.h"

#define STORE_DBS_MAX STORE_DB_COUNT

/* The store's named databases, in the order of store_db_names (shipment: since schema 4; stock: 5; tracking: 6; feed: 7; webhook: 8). */
enum db {
	DB_SALE, DB_LISTING, DB_ORDER, DB_LABEL, DB_LOG, DB_EVENT, DB_TOKEN, DB_META, DB_SHIPMENT, DB_STOCK, DB_TRACKING,
	DB_FEED, DB_WEBHOOK, DB__MAX
};
_Static_assert(DB__MAX == STORE_DB_COUNT, "store.h counts the store's databases");

/* An environment and its open databases: the store, or the response cache. */
struct store {
	MDB_env *env;
	MDB_dbi dbi[STORE_DBS_MAX];
	unsigned ndbs;
	unsigned absent;   /* bit i: database i is missing (a schema-3 store opened read-only) */
	int readonly;
	char *dir;                /* where it was opened (malloc'd) */
	dev_t dev;                /* its data file's, at open: a store replaced on disk is another inode */
	ino_t ino;
	int broken;               /* an error left the environment unusable: reopen it */
	struct store_txn *spare;  /* an ended read transaction, reset, for the next one to renew */
};

/* A transaction with its sticky error and one cursor per database, opened on first use. */
struct store_txn {
	struct store *s;
	MDB_txn *txn;
	MDB_cursor *cur[STORE_DBS_MAX];
	int err;
	int write;
	int opened_dbs;  /* it opened database handles: a read then commits (a reset would close them) */
};

/* The one place LMDB and system codes become store_results. */
int store_map_lmdb(int rc);
/* Records the first error of t (an LMDB or system code) and returns the sticky one. */
int store_txn_fail_lmdb(struct store_txn *t, int rc);

/*
 * Creates and opens an environment in dir with ndbs named databases (names;
 * MDB_CREATE for each with create).  The directory is made 0700 with create;
 * without it a missing directory or data file is ENOENT and nothing is
 * created.  With names NULL, room is made for ndbs databases but none is
 * opened: the caller opens them in a transaction of its own (check is then
 * not run).  The lock file is allocated for real first; a data file shorter
 * than its meta page says is refused (MDB_CORRUPTED).  Returns 0 or an
 * LMDB/system code, with why[0..whylen) naming the cause where these checks
 * found it (else left as it was).  check, when not NULL, runs in the same
 * transaction as the databases' open.
 */
struct env_check {
	/* Runs in the open's transaction, after the databases are open: 0, or a code store_env_open returns; may be NULL. */
	int (*fn)(MDB_txn *txn, struct store *s, int create, void *arg);
	void *arg;
	/* names[required..) may be missing without create: each is then a bit of s->absent for fn to judge. */
	unsigned required;
};
int store_env_open(struct store *s, const char *dir, size_t map_size, unsigned env_flags, int create,
    const char *const *names, unsigned ndbs, char *why, size_t whylen, const struct env_check *check);
/* Closes what store_env_open opened (a spare read transaction included); the struct itself stays. */
void store_env_close(struct store *s);
/* Begins an LMDB transaction, adopting a map grown by another process and reclaiming dead readers' slots. */
int store_lmdb_begin(MDB_env *env, unsigned flags, MDB_txn **txn);
/* mkdir -p, each created component with mode; 0 or -1 with errno. */
int store_make_dirs(const char *dir, mode_t mode);

/*
 * The iteration primitive under the typed iterators of store.h (Knot's
 * knot_lmdb_foreach): within the store family a scan is one loop,
 *
 *	struct store_cursor c;
 *	store_foreach(t, DB_LOG, &c, prefix, 8) {
 *		... c.key[0..c.klen), c.val[0..c.vlen) ...
 *	}
 *	return t->err;
 *
 * over the entries of a database whose key starts with prefix (all of them
 * for an empty prefix, which is copied into the cursor), from the first one
 * at or after from.  It ends at the end, at the first key without the
 * prefix, or on an error, which is then t's sticky error.  A `break` is
 * fine.  The cursor is the transaction's cursor of that database: the body
 * must not scan the same database again (point lookups are fine).
 */

/* 1 when it is positioned on an entry, 0 at the end or on an error (kept in t). */
int store_iter_seek(struct store_txn *t, unsigned db, struct store_cursor *c, const void *from, size_t flen,
    const void *prefix, size_t plen);

/* Where a cursor's step left it: 1 on an entry with the prefix, 0 at the end, else the error sticks in t. */
static inline int
store_iter_check(struct store_cursor *c, const MDB_val *k, const MDB_val *v, int rc)
{
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0) {
		store_txn_fail_lmdb(c->t, rc);
		return 0;
	}
	c->key = k->mv_data;
	c->klen = k->mv_size;
	c->val = v->mv_data;
	c->vlen = v->mv_size;
	return c->klen >= c->plen && memcmp(c->key, c->prefix, c->plen) == 0;
}

/* The next entry: 1, or 0 at the end or on an error (kept in t); inline, as every scan steps through it. */
static inline int
store_iter_next(struct store_cursor *c)
{
	MDB_val k, v;

	if (c->t->err != STORE_OK || c->lmdb == NULL)
		return 0;
	return store_iter_check(c, &k, &v, mdb_cursor_get(c->lmdb, &k, &v, MDB_NEXT));
}
/* Deletes the entry c is on; the loop then goes on with the entry after it.  0 or the sticky error. */
int store_iter_del(struct store_cursor *c);

#define store_foreach_from(t, db, c, from, flen, prefix, plen) \
	for (int more_ = store_iter_seek((t), (db), (c), (from), (flen), (prefix), (plen)); more_; \
	    more_ = store_iter_next(c))
#define store_foreach(t, db, c, prefix, plen) store_foreach_from(t, db, c, prefix, plen, prefix, plen)

/*
 * The _next of a typed iterator (store.h) whose entries step(it, more)
 * decodes (1 on an entry, 0 at the end or on an error), and with
 * STORE_ITERATOR its _first too, over every entry of db.
 */
#define STORE_ITERATOR_NEXT(name, type, step) \
	int name##_next(struct type *it) { return step(it, store_iter_next(&it->c)); }
#define STORE_ITERATOR(name, type, db, step) \
	int name##_first(struct store_txn *t, struct type *it) \
	{ return step(it, store_iter_seek(t, (db), &it->c, "", 0, "", 0)); } \
	STORE_ITERATOR_NEXT(name, type, step)

/* An entry that does not decode: records STORE_CORRUPT in t and returns 0 (the iteration ends). */
static inline int
store_iter_corrupt(struct store_txn *t)
{
	store_txn_fail(t, STORE_CORRUPT);
	return 0;
}

/* Point operations on the transaction, each checking the sticky error first. */
int store_txn_get(struct store_txn *t, unsigned db, const void *key, size_t klen, MDB_val *val);
int store_txn_put(struct store_txn *t, unsigned db, const void *key, size_t klen, const void *val, size_t vlen,
    unsigned flags);
int store_txn_del(struct store_txn *t, unsigned db, const void *key, size_t klen);

/* Packing: fixed-width big-endian integers and 16-bit-length-prefixed strings; bad is set on overflow. */
struct pack {
	unsigned char *p;
	size_t len, cap;
	int bad;
};

static inline void
be32_put(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static inline void
be64_put(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static inline uint32_t
be32_get(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return be32toh(v);
}

static inline uint64_t
be64_get(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return be64toh(v);
}

static inline void
put_bytes(struct pack *pk, const void *p, size_t n)
{
	if (pk->bad || pk->len + n > pk->cap) {
		pk->bad = 1;
		return;
	}
	if (n)
		memcpy(pk->p + pk->len, p, n);
	pk->len += n;
}

static inline void
put_u8(struct pack *pk, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put_bytes(pk, &c, 1);
}

static inline void
put_u32(struct pack *pk, uint32_t v)
{
	unsigned char b[4];
	be32_put(b, v);
	put_bytes(pk, b, 4);
}

static inline void
put_u64(struct pack *pk, uint64_t v)
{
	unsigned char b[8];
	be64_put(b, v);
	put_bytes(pk, b, 8);
}

static inline void
put_str(struct pack *pk, const char *s)
{
	size_t n = strlen(s);

	if (n > 0xffff) {
		pk->bad = 1;
		return;
	}
	put_u8(pk, (unsigned)(n >> 8));
	put_u8(pk, (unsigned)(n & 0xff));
	put_bytes(pk, s, n);
}

static inline void
get_bytes(struct pack *pk, void *p, size_t n)
{
	if (pk->bad || pk->len + n > pk->cap) {
		pk->bad = 1;
		memset(p, 0, n);
		return;
	}
	if (n)
		memcpy(p, pk->p + pk->len, n);
	pk->len += n;
}

static inline unsigned
get_u8(struct pack *pk)
{
	unsigned char c;
	get_bytes(pk, &c, 1);
	return c;
}

static inline uint32_t
get_u32(struct pack *pk)
{
	unsigned char b[4];
	get_bytes(pk, b, 4);
	return be32_get(b);
}

static inline uint64_t
get_u64(struct pack *pk)
{
	unsigned char b[8];
	get_bytes(pk, b, 8);
	return be64_get(b);
}

static inline void
get_str(struct pack *pk, char *out, size_t max)
{
	size_t n = get_u8(pk) << 8;

	n |= get_u8(pk);
	if (n > max) {
		pk->bad = 1;
		n = 0;
	}
	get_bytes(pk, out, n);
	out[n] = '\0';
}

/*
 * The upgrade step to format 7 (store_log.c): every sale event there is
 * appended to its supplier's feed, in event order.  0 or an LMDB code.
 */
int store_feeds_build(MDB_txn *txn, struct store *s);

/* Sale records (store_sale.c), also kept whole in sale-log entries. */
#define SALE_RECORD_MAX (4 + 8 * 9 + 4 * 3 + 1 + 2 * 6 + SKU_MAX + 2 * CARRIER_MAX + LABEL_MAX + TRACKING_MAX + NOTE_MAX)
/* Encodes sp into out[SALE_RECORD_MAX]; returns the length, 0 when it does not fit. */
size_t store_sale_encode(const struct sale_product *sp, unsigned char *out);
/* STORE_OK, or STORE_CORRUPT for anything but a record store_sale_encode wrote. */
int store_sale_decode(const void *p, size_t len, struct sale_product *sp);

#endif
