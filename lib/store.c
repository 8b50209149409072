#include <sys/stat.h>

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"
#include "supplier.h"

enum db { DB_SALE, DB_LISTING, DB_ORDER, DB_LABEL, DB_LOG, DB_EVENT, DB_TOKEN, DB_META, DB__MAX };

const char *const store_db_names[DB__MAX] = {
	"sale", "listing", "order", "label", "log", "event", "token", "meta",
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB__MAX];
	int readonly;
};

struct store_txn {
	struct store *s;
	MDB_txn *txn;
	int err;
};

struct cache {
	MDB_env *env;
	MDB_dbi entry, expiry;
};

#define LISTING_KEY_LEN 22
#define SALE_RECORD_VERSION 1
#define TOKEN_RECORD_VERSION 1
#define CACHE_MAP_SIZE ((size_t)256 << 20)
#define CACHE_SWEEP 64

const char *
store_strerror(int err)
{
	switch (err) {
	case STORE_OK: return "ok";
	case STORE_NOTFOUND: return "not found";
	case STORE_FULL: return "storage full";
	case STORE_UNAVAILABLE: return "storage unavailable";
	case STORE_CORRUPT: return "storage corrupt";
	case STORE_NOMEM: return "out of memory";
	case STORE_EXISTS: return "already exists";
	case STORE_VERSION: return "the store has another format version";
	}
	return "unknown storage error";
}

/* The one place LMDB and system codes become the project's. */
static int
map_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS: return STORE_OK;
	case MDB_NOTFOUND: return STORE_NOTFOUND;
	case MDB_MAP_FULL: case MDB_TXN_FULL: case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL: case ENOSPC: case EDQUOT:
		return STORE_FULL;
	case MDB_VERSION_MISMATCH:
		return STORE_VERSION;
	case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_INVALID:
	case MDB_BAD_VALSIZE: case MDB_INCOMPATIBLE:
		return STORE_CORRUPT;
	case ENOMEM: return STORE_NOMEM;
	case EEXIST: return STORE_EXISTS;
	default: return STORE_UNAVAILABLE;
	}
}

/* Records the first error of a transaction and returns the sticky one. */
static int
fail(struct store_txn *t, int rc)
{
	if (t->err == STORE_OK)
		t->err = map_err(rc);
	return t->err;
}

/* mkdir -p with mode for each created component. */
static int
make_dirs(const char *dir, mode_t mode)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -1;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(path, mode) != 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static int
env_create(MDB_env **envp, const char *dir, size_t map_size, unsigned maxdbs, unsigned flags, int create)
{
	MDB_env *env;
	int rc;
	struct stat st;

	if (create) {
		if (make_dirs(dir, 0700) != 0)
			return errno ? errno : EACCES;
	} else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return ENOENT;
	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(env, maxdbs)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, map_size)) != 0 ||
	    (rc = mdb_env_set_maxreaders(env, 254)) != 0 ||
	    (rc = mdb_env_open(env, dir, flags, 0600)) != 0) {
		mdb_env_close(env);
		return rc;
	}
	*envp = env;
	return 0;
}

/* Begins an LMDB transaction, adopting a map grown by another process and reclaiming dead readers' slots. */
static int
txn_begin(MDB_env *env, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED) {
		if ((rc = mdb_env_set_mapsize(env, 0)) == 0)
			rc = mdb_txn_begin(env, NULL, flags, txn);
	} else if (rc == MDB_READERS_FULL) {
		int dead;
		mdb_reader_check(env, &dead);
		rc = mdb_txn_begin(env, NULL, flags, txn);
	}
	return rc;
}

int
store_open(struct store **sp, const char *dir, size_t map_size, int flags)
{
	struct store *s;
	MDB_txn *txn;
	MDB_val k = { 6, "schema" }, v;
	int create = flags & STORE_CREATE, rc, dead;
	uint64_t schema = htobe64(STORE_SCHEMA);

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return STORE_NOMEM;
	s->readonly = (flags & STORE_READONLY) != 0;
	rc = env_create(&s->env, dir, map_size, DB__MAX, s->readonly ? MDB_RDONLY : 0, create);
	if (rc != 0) {
		free(s);
		return rc == ENOENT ? STORE_UNAVAILABLE : map_err(rc);
	}
	mdb_reader_check(s->env, &dead);
	if ((rc = txn_begin(s->env, create ? 0 : MDB_RDONLY, &txn)) != 0)
		goto fail;
	for (int i = 0; i < DB__MAX; i++)
		if ((rc = mdb_dbi_open(txn, store_db_names[i], create ? MDB_CREATE : 0, &s->dbi[i])) != 0) {
			mdb_txn_abort(txn);
			goto fail;
		}
	rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND && create) {
		v.mv_size = sizeof(schema);
		v.mv_data = &schema;
		rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
	} else if (rc == 0 && (v.mv_size != sizeof(schema) || memcmp(v.mv_data, &schema, sizeof(schema)) != 0))
		rc = MDB_VERSION_MISMATCH;
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	*sp = s;
	return STORE_OK;
fail:
	mdb_env_close(s->env);
	free(s);
	/* Named databases missing: the store was never initialised. */
	return rc == MDB_NOTFOUND ? STORE_UNAVAILABLE : map_err(rc);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(s->env);
	free(s);
}

int
store_begin(struct store *s, int write, struct store_txn **tp)
{
	struct store_txn *t;
	int rc;

	if (write && s->readonly)
		return STORE_UNAVAILABLE;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return STORE_NOMEM;
	if ((rc = txn_begin(s->env, write ? 0 : MDB_RDONLY, &t->txn)) != 0) {
		free(t);
		return map_err(rc);
	}
	t->s = s;
	*tp = t;
	return STORE_OK;
}

int
store_commit(struct store_txn *t)
{
	int err = t->err;

	if (err != STORE_OK)
		mdb_txn_abort(t->txn);
	else
		err = map_err(mdb_txn_commit(t->txn));
	free(t);
	return err;
}

void
store_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

/* Packing: fixed-width big-endian integers and length-prefixed strings. */

struct pack {
	unsigned char *p;
	size_t len, cap;
	int bad;
};

static void
put_bytes(struct pack *pk, const void *p, size_t n)
{
	if (pk->len + n > pk->cap) {
		pk->bad = 1;
		return;
	}
	memcpy(pk->p + pk->len, p, n);
	pk->len += n;
}

static void
put_u8(struct pack *pk, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put_bytes(pk, &c, 1);
}

static void
put_u32(struct pack *pk, uint32_t v)
{
	v = htobe32(v);
	put_bytes(pk, &v, 4);
}

static void
put_u64(struct pack *pk, uint64_t v)
{
	v = htobe64(v);
	put_bytes(pk, &v, 8);
}

static void
put_str(struct pack *pk, const char *s)
{
	size_t n = strlen(s);
	put_u8(pk, (unsigned)(n >> 8));
	put_u8(pk, (unsigned)(n & 0xff));
	put_bytes(pk, s, n);
}

static void
get_bytes(struct pack *pk, void *p, size_t n)
{
	if (pk->bad || pk->len + n > pk->cap) {
		pk->bad = 1;
		memset(p, 0, n);
		return;
	}
	memcpy(p, pk->p + pk->len, n);
	pk->len += n;
}

static unsigned
get_u8(struct pack *pk)
{
	unsigned char c;
	get_bytes(pk, &c, 1);
	return c;
}

static uint32_t
get_u32(struct pack *pk)
{
	uint32_t v;
	get_bytes(pk, &v, 4);
	return be32toh(v);
}

static uint64_t
get_u64(struct pack *pk)
{
	uint64_t v;
	get_bytes(pk, &v, 8);
	return be64toh(v);
}

static void
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

#define SALE_RECORD_MAX (4 + 8 * 7 + 4 * 2 + 2 * 5 + SKU_MAX + 2 * CARRIER_MAX + LABEL_MAX + TRACKING_MAX)

static size_t
sale_encode(const struct sale_product *sp, unsigned char *out)
{
	struct pack pk = { out, 0, SALE_RECORD_MAX, 0 };

	put_u8(&pk, SALE_RECORD_VERSION);
	put_u8(&pk, sp->supplier);
	put_u8(&pk, sp->status);
	put_u8(&pk, 0);
	put_u64(&pk, sp->increment_id);
	put_u64(&pk, sp->sale_product_id);
	put_u32(&pk, sp->quantity);
	put_u64(&pk, (uint64_t)sp->price_cents);
	put_u32(&pk, sp->order_date);
	put_u64(&pk, (uint64_t)sp->acknowledged_at);
	put_u64(&pk, (uint64_t)sp->prepared_at);
	put_u64(&pk, (uint64_t)sp->created_at);
	put_u64(&pk, (uint64_t)sp->updated_at);
	put_str(&pk, sp->sku);
	put_str(&pk, sp->carrier);
	put_str(&pk, sp->label);
	put_str(&pk, sp->tracking_number);
	put_str(&pk, sp->ship_carrier);
	return pk.bad ? 0 : pk.len;
}

static int
sale_decode(const MDB_val *v, struct sale_product *sp)
{
	struct pack pk = { v->mv_data, 0, v->mv_size, 0 };

	memset(sp, 0, sizeof(*sp));
	if (get_u8(&pk) != SALE_RECORD_VERSION)
		return STORE_CORRUPT;
	sp->supplier = get_u8(&pk);
	sp->status = (enum sale_status)get_u8(&pk);
	(void)get_u8(&pk);
	sp->increment_id = get_u64(&pk);
	sp->sale_product_id = get_u64(&pk);
	sp->quantity = get_u32(&pk);
	sp->price_cents = (int64_t)get_u64(&pk);
	sp->order_date = get_u32(&pk);
	sp->acknowledged_at = (int64_t)get_u64(&pk);
	sp->prepared_at = (int64_t)get_u64(&pk);
	sp->created_at = (int64_t)get_u64(&pk);
	sp->updated_at = (int64_t)get_u64(&pk);
	get_str(&pk, sp->sku, SKU_MAX);
	get_str(&pk, sp->carrier, CARRIER_MAX);
	get_str(&pk, sp->label, LABEL_MAX);
	get_str(&pk, sp->tracking_number, TRACKING_MAX);
	get_str(&pk, sp->ship_carrier, CARRIER_MAX);
	if (pk.bad || pk.len != v->mv_size || sp->status >= STATUS__MAX ||
	    supplier_by_id(sp->supplier) == NULL)
		return STORE_CORRUPT;
	return STORE_OK;
}

static void
listing_key(unsigned char *k, unsigned supplier, unsigned view, uint32_t date,
    uint64_t inc, uint64_t sp)
{
	k[0] = (unsigned char)supplier;
	k[1] = (unsigned char)view;
	date = htobe32(date);
	inc = htobe64(inc);
	sp = htobe64(sp);
	memcpy(k + 2, &date, 4);
	memcpy(k + 6, &inc, 8);
	memcpy(k + 14, &sp, 8);
}

static void
pair_key(unsigned char *k, uint64_t a, uint64_t b)
{
	a = htobe64(a);
	b = htobe64(b);
	memcpy(k, &a, 8);
	memcpy(k + 8, &b, 8);
}

static uint64_t
read_be64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return be64toh(v);
}

int
store_sale_get(struct store_txn *t, uint64_t sale_product_id, struct sale_product *out)
{
	uint64_t id = htobe64(sale_product_id);
	MDB_val k = { 8, &id }, v;
	int rc;

	if (t->err)
		return t->err;
	rc = mdb_get(t->txn, t->s->dbi[DB_SALE], &k, &v);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return fail(t, rc);
	if ((rc = sale_decode(&v, out)) != STORE_OK)
		t->err = rc;
	return rc;
}

/* The listing views a sale product appears in: all, its status, and open while pending or acknowledged. */
static int
sale_views(const struct sale_product *sp, unsigned *views)
{
	int n = 0;

	views[n++] = FILTER_ALL;
	views[n++] = sp->status;
	if (sp->status == STATUS_PENDING || sp->status == STATUS_ACKNOWLEDGED)
		views[n++] = FILTER_OPEN;
	return n;
}

static int
has_view(const unsigned *views, int n, unsigned v)
{
	for (int i = 0; i < n; i++)
		if (views[i] == v)
			return 1;
	return 0;
}

static int
index_put(struct store_txn *t, enum db db, void *key, size_t len)
{
	MDB_val k = { len, key }, v = { 0, "" };
	int rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, 0);
	return rc ? fail(t, rc) : STORE_OK;
}

static int
index_del(struct store_txn *t, enum db db, void *key, size_t len)
{
	MDB_val k = { len, key };
	int rc = mdb_del(t->txn, t->s->dbi[db], &k, NULL);
	return rc && rc != MDB_NOTFOUND ? fail(t, rc) : STORE_OK;
}

static size_t
label_key(unsigned char *k, const char *label, uint64_t sp)
{
	size_t n = strlen(label);
	memcpy(k, label, n);
	k[n] = 0;
	sp = htobe64(sp);
	memcpy(k + n + 1, &sp, 8);
	return n + 9;
}

static int
listing_put(struct store_txn *t, unsigned char *key, const void *item, size_t len)
{
	MDB_val k = { LISTING_KEY_LEN, key }, v = { len, (void *)item };
	int rc = mdb_put(t->txn, t->s->dbi[DB_LISTING], &k, &v, 0);
	return rc ? fail(t, rc) : STORE_OK;
}

int
store_fail_txn(struct store_txn *t, int err)
{
	if (t->err == STORE_OK)
		t->err = err;
	return t->err;
}

int
store_sale_put(struct store_txn *t, const struct sale_product *old, const struct sale_product *sp,
    const void *item, size_t item_len)
{
	unsigned char rec[SALE_RECORD_MAX], key[LABEL_MAX + 9];
	unsigned oldv[3], newv[3];
	int nold = 0, nnew, moved, rc;
	uint64_t id = htobe64(sp->sale_product_id);
	MDB_val k = { 8, &id }, v;
	size_t n;

	if (t->err)
		return t->err;
	if ((v.mv_size = sale_encode(sp, rec)) == 0)
		return t->err = STORE_CORRUPT;
	v.mv_data = rec;
	if ((rc = mdb_put(t->txn, t->s->dbi[DB_SALE], &k, &v, 0)) != 0)
		return fail(t, rc);

	nnew = sale_views(sp, newv);
	moved = old == NULL || old->supplier != sp->supplier || old->order_date != sp->order_date ||
	    old->increment_id != sp->increment_id;
	if (old != NULL) {
		nold = sale_views(old, oldv);
		for (int i = 0; i < nold; i++)
			if (moved || !has_view(newv, nnew, oldv[i])) {
				listing_key(key, old->supplier, oldv[i], old->order_date,
				    old->increment_id, old->sale_product_id);
				index_del(t, DB_LISTING, key, LISTING_KEY_LEN);
			}
		if (old->increment_id != sp->increment_id) {
			pair_key(key, old->increment_id, old->sale_product_id);
			index_del(t, DB_ORDER, key, 16);
		}
		if (old->label[0] && strcmp(old->label, sp->label) != 0) {
			n = label_key(key, old->label, old->sale_product_id);
			index_del(t, DB_LABEL, key, n);
		}
	}
	/* Listing entries carry the rendered item: a page is read from the index alone. */
	for (int i = 0; i < nnew; i++) {
		listing_key(key, sp->supplier, newv[i], sp->order_date, sp->increment_id, sp->sale_product_id);
		listing_put(t, key, item, item_len);
	}
	if (old == NULL || old->increment_id != sp->increment_id) {
		pair_key(key, sp->increment_id, sp->sale_product_id);
		index_put(t, DB_ORDER, key, 16);
	}
	if (sp->label[0] && (old == NULL || strcmp(old->label, sp->label) != 0)) {
		n = label_key(key, sp->label, sp->sale_product_id);
		index_put(t, DB_LABEL, key, n);
	}
	return t->err;
}

/* Loads the sale product an index entry names; a dangling entry is corruption. */
static int
visit_sale(struct store_txn *t, uint64_t id, sale_visit_fn fn, void *ctx)
{
	struct sale_product sp;
	int rc = store_sale_get(t, id, &sp);

	if (rc == STORE_NOTFOUND)
		return t->err = STORE_CORRUPT;
	if (rc != STORE_OK)
		return rc;
	return fn(ctx, &sp);
}

int
store_listing_scan(struct store_txn *t, unsigned supplier, enum status_filter view,
    const struct listing_pos *after, uint32_t date_from, uint32_t date_to,
    uint64_t skip, item_visit_fn fn, void *ctx)
{
	unsigned char start[LISTING_KEY_LEN];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, res = STORE_OK;
	unsigned op = MDB_SET_RANGE;

	if (t->err)
		return t->err;
	if (after != NULL && after->order_date >= date_from)
		listing_key(start, supplier, view, after->order_date,
		    after->increment_id, after->sale_product_id);
	else {
		listing_key(start, supplier, view, date_from, 0, 0);
		after = NULL;
	}
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_LISTING], &cur)) != 0)
		return fail(t, rc);
	k.mv_size = sizeof(start);
	k.mv_data = start;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		const unsigned char *p = k.mv_data;
		uint32_t date;

		op = MDB_NEXT;
		if (k.mv_size != LISTING_KEY_LEN || p[0] != supplier || p[1] != view)
			break;
		if (after != NULL && memcmp(p, start, LISTING_KEY_LEN) == 0)
			continue; /* strictly after the cursor */
		memcpy(&date, p + 2, 4);
		if (be32toh(date) > date_to)
			break;
		if (skip > 0) {
			skip--;
			continue;
		}
		{
			struct listing_pos pos = { be32toh(date), read_be64(p + 6), read_be64(p + 14) };
			if ((res = fn(ctx, &pos, v.mv_data, v.mv_size)) != 0)
				break;
		}
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return fail(t, rc);
	return res == 1 ? STORE_OK : res;
}

/* Visits each key of db starting at prefix[0..plen) that still has the prefix. */
typedef int (*raw_visit_fn)(struct store_txn *t, const MDB_val *k, const MDB_val *v, void *arg);

static int
prefix_scan(struct store_txn *t, enum db db, const void *prefix, size_t plen, raw_visit_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k = { plen, (void *)prefix }, v;
	int rc, res = 0;
	unsigned op = plen ? MDB_SET_RANGE : MDB_FIRST;

	if (t->err)
		return t->err;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[db], &cur)) != 0)
		return fail(t, rc);
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if ((res = fn(t, &k, &v, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return fail(t, rc);
	return res == 1 ? STORE_OK : res;
}

struct visit_args {
	sale_visit_fn fn;
	record_visit_fn rfn;
	void *ctx;
};

static int
order_entry(struct store_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	struct visit_args *a = arg;
	(void)v;
	if (k->mv_size != 16)
		return t->err = STORE_CORRUPT;
	return visit_sale(t, read_be64((const char *)k->mv_data + 8), a->fn, a->ctx);
}

int
store_order_scan(struct store_txn *t, uint64_t increment_id, sale_visit_fn fn, void *ctx)
{
	struct visit_args a = { fn, NULL, ctx };
	uint64_t prefix = htobe64(increment_id);
	return prefix_scan(t, DB_ORDER, &prefix, 8, order_entry, &a);
}

static int
sale_entry(struct store_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	struct visit_args *a = arg;
	struct sale_product sp;

	if (k->mv_size != 8 || sale_decode(v, &sp) != STORE_OK ||
	    sp.sale_product_id != read_be64(k->mv_data))
		return t->err = STORE_CORRUPT;
	return a->fn(a->ctx, &sp);
}

int
store_sale_scan(struct store_txn *t, sale_visit_fn fn, void *ctx)
{
	struct visit_args a = { fn, NULL, ctx };
	return prefix_scan(t, DB_SALE, "", 0, sale_entry, &a);
}

struct label_args {
	unsigned supplier;
	int owned;
};

static int
label_entry(struct store_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	struct label_args *a = arg;
	struct sale_product sp = { 0 };
	int rc;
	(void)v;

	rc = store_sale_get(t, read_be64((const char *)k->mv_data + k->mv_size - 8), &sp);
	if (rc == STORE_NOTFOUND)
		return t->err = STORE_CORRUPT;
	if (rc != STORE_OK)
		return rc;
	if (sp.supplier == a->supplier) {
		a->owned = 1;
		return 1;
	}
	return 0;
}

int
store_label_owned(struct store_txn *t, const char *label, size_t len, unsigned supplier)
{
	char prefix[LABEL_MAX + 1];
	struct label_args a = { supplier, 0 };
	int rc;

	if (len > LABEL_MAX || memchr(label, '\0', len) != NULL)
		return 0;
	memcpy(prefix, label, len);
	prefix[len] = '\0';
	/* Exactly this label: its bytes, the 0 separator, then 8 id bytes. */
	rc = prefix_scan(t, DB_LABEL, prefix, len + 1, label_entry, &a);
	return rc != STORE_OK ? -rc : a.owned;
}

static int
meta_get_u64(struct store_txn *t, const char *name, uint64_t *v)
{
	MDB_val k = { strlen(name), (void *)name }, d;
	int rc;

	if (t->err)
		return t->err;
	rc = mdb_get(t->txn, t->s->dbi[DB_META], &k, &d);
	if (rc == MDB_NOTFOUND) {
		*v = 0;
		return STORE_OK;
	}
	if (rc != 0)
		return fail(t, rc);
	if (d.mv_size != 8)
		return t->err = STORE_CORRUPT;
	*v = read_be64(d.mv_data);
	return STORE_OK;
}

static int
meta_put_u64(struct store_txn *t, const char *name, uint64_t v)
{
	MDB_val k = { strlen(name), (void *)name }, d = { 8, &v };
	int rc;

	v = htobe64(v);
	if (t->err)
		return t->err;
	rc = mdb_put(t->txn, t->s->dbi[DB_META], &k, &d, 0);
	return rc ? fail(t, rc) : STORE_OK;
}

int
store_counter_get(struct store_txn *t, const char *name, uint64_t *v)
{
	return meta_get_u64(t, name, v);
}

int
store_counter_next(struct store_txn *t, const char *name, uint64_t *v)
{
	uint64_t cur = 0;
	int rc;

	if ((rc = meta_get_u64(t, name, &cur)) != STORE_OK)
		return rc;
	if ((rc = meta_put_u64(t, name, cur + 1)) != STORE_OK)
		return rc;
	*v = cur + 1;
	return STORE_OK;
}

int
store_generation(struct store_txn *t, unsigned supplier, uint64_t *gen)
{
	char name[16];
	snprintf(name, sizeof(name), "gen:%u", supplier);
	return meta_get_u64(t, name, gen);
}

int
store_generation_bump(struct store_txn *t, unsigned supplier)
{
	char name[16];
	uint64_t v;
	snprintf(name, sizeof(name), "gen:%u", supplier);
	return store_counter_next(t, name, &v);
}

static int
text_put(struct store_txn *t, enum db db, const void *key, size_t klen, const char *json, size_t len)
{
	MDB_val k = { klen, (void *)key }, v = { len, (void *)json };
	int rc;

	if (t->err)
		return t->err;
	rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, MDB_NOOVERWRITE);
	return rc ? fail(t, rc) : STORE_OK;
}

#define LOG_RECORD_MAX (8 + 8 + 2 + 64 + 2 + 32 + 2 * (2 + SALE_RECORD_MAX))

static void
put_record(struct pack *pk, const struct sale_product *sp)
{
	unsigned char rec[SALE_RECORD_MAX];
	size_t n = sale_encode(sp, rec);

	if (n == 0)
		pk->bad = 1;
	put_u8(pk, (unsigned)(n >> 8));
	put_u8(pk, (unsigned)(n & 0xff));
	put_bytes(pk, rec, n);
}

static int
get_record(struct pack *pk, struct sale_product *sp)
{
	MDB_val v;
	size_t n = get_u8(pk) << 8;

	n |= get_u8(pk);
	if (pk->bad || pk->len + n > pk->cap)
		return STORE_CORRUPT;
	v.mv_size = n;
	v.mv_data = pk->p + pk->len;
	pk->len += n;
	return sale_decode(&v, sp);
}

int
store_log_put(struct store_txn *t, const struct log_entry *e)
{
	unsigned char key[16], rec[LOG_RECORD_MAX];
	struct pack pk = { rec, 0, sizeof(rec), 0 };
	MDB_val k = { 16, key }, v;
	int rc;

	if (t->err)
		return t->err;
	pair_key(key, e->after.sale_product_id, e->seq);
	put_u8(&pk, 1);
	put_u8(&pk, e->action);
	put_u8(&pk, e->has_before != 0);
	put_u8(&pk, 0);
	put_u64(&pk, (uint64_t)e->at);
	put_str(&pk, e->user);
	put_str(&pk, e->request_id);
	if (e->has_before)
		put_record(&pk, &e->before);
	put_record(&pk, &e->after);
	if (pk.bad)
		return t->err = STORE_CORRUPT;
	v.mv_size = pk.len;
	v.mv_data = rec;
	rc = mdb_put(t->txn, t->s->dbi[DB_LOG], &k, &v, MDB_NOOVERWRITE);
	return rc ? fail(t, rc) : STORE_OK;
}

static int
log_decode(const MDB_val *k, const MDB_val *v, struct log_entry *e)
{
	struct pack pk = { v->mv_data, 0, v->mv_size, 0 };

	if (k->mv_size != 16 || get_u8(&pk) != 1)
		return STORE_CORRUPT;
	e->seq = read_be64((const char *)k->mv_data + 8);
	e->action = (enum log_action)get_u8(&pk);
	e->has_before = get_u8(&pk) != 0;
	(void)get_u8(&pk);
	e->at = (int64_t)get_u64(&pk);
	get_str(&pk, e->user, sizeof(e->user) - 1);
	get_str(&pk, e->request_id, sizeof(e->request_id) - 1);
	if (e->has_before && get_record(&pk, &e->before) != STORE_OK)
		return STORE_CORRUPT;
	if (get_record(&pk, &e->after) != STORE_OK || pk.bad || pk.len != v->mv_size ||
	    e->action >= LOG__MAX || e->after.sale_product_id != read_be64(k->mv_data))
		return STORE_CORRUPT;
	return STORE_OK;
}

struct log_args {
	log_visit_fn fn;
	void *ctx;
};

static int
log_entry_visit(struct store_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	struct log_args *a = arg;
	struct log_entry e;

	if (log_decode(k, v, &e) != STORE_OK)
		return t->err = STORE_CORRUPT;
	return a->fn(a->ctx, &e);
}

int
store_log_scan(struct store_txn *t, uint64_t sale_product_id, log_visit_fn fn, void *ctx)
{
	struct log_args a = { fn, ctx };
	uint64_t prefix = htobe64(sale_product_id);
	return prefix_scan(t, DB_LOG, &prefix, 8, log_entry_visit, &a);
}

int
store_log_scan_all(struct store_txn *t, log_visit_fn fn, void *ctx)
{
	struct log_args a = { fn, ctx };
	return prefix_scan(t, DB_LOG, "", 0, log_entry_visit, &a);
}

int
store_event_put(struct store_txn *t, uint64_t seq, const char *json, size_t len)
{
	uint64_t key = htobe64(seq);
	return text_put(t, DB_EVENT, &key, 8, json, len);
}

int
store_event_scan(struct store_txn *t, uint64_t after, record_visit_fn fn, void *ctx)
{
	struct visit_args a = { NULL, fn, ctx };
	MDB_cursor *cur;
	uint64_t start = htobe64(after + 1);
	MDB_val k = { 8, &start }, v;
	int rc, res = 0;
	unsigned op = MDB_SET_RANGE;

	if (t->err)
		return t->err;
	if (after == UINT64_MAX)
		return STORE_OK;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_EVENT], &cur)) != 0)
		return fail(t, rc);
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size != 8) {
			res = t->err = STORE_CORRUPT;
			break;
		}
		if ((res = a.rfn(a.ctx, read_be64(k.mv_data), read_be64(k.mv_data), v.mv_data, v.mv_size)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return fail(t, rc);
	return res == 1 ? STORE_OK : res;
}

#define TOKEN_RECORD_MAX (4 + 4 + 8 + 8 + 2 + TOKEN_LABEL_MAX)

static int
token_decode(const MDB_val *v, struct token_record *r)
{
	struct pack pk = { v->mv_data, 0, v->mv_size, 0 };

	memset(r, 0, sizeof(*r));
	if (get_u8(&pk) != TOKEN_RECORD_VERSION)
		return STORE_CORRUPT;
	r->supplier = get_u8(&pk);
	r->revoked = get_u8(&pk) != 0;
	(void)get_u8(&pk);
	r->id = get_u32(&pk);
	r->created_at = (int64_t)get_u64(&pk);
	r->expires_at = (int64_t)get_u64(&pk);
	get_str(&pk, r->label, TOKEN_LABEL_MAX);
	if (pk.bad || pk.len != v->mv_size || supplier_by_id(r->supplier) == NULL)
		return STORE_CORRUPT;
	return STORE_OK;
}

int
store_token_get(struct store_txn *t, const unsigned char *hash, struct token_record *out)
{
	MDB_val k = { TOKEN_HASH_LEN, (void *)hash }, v;
	int rc;

	if (t->err)
		return t->err;
	rc = mdb_get(t->txn, t->s->dbi[DB_TOKEN], &k, &v);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return fail(t, rc);
	if ((rc = token_decode(&v, out)) != STORE_OK)
		t->err = rc;
	return rc;
}

int
store_token_put(struct store_txn *t, const unsigned char *hash, const struct token_record *r)
{
	unsigned char rec[TOKEN_RECORD_MAX];
	struct pack pk = { rec, 0, sizeof(rec), 0 };
	MDB_val k = { TOKEN_HASH_LEN, (void *)hash }, v;
	int rc;

	if (t->err)
		return t->err;
	put_u8(&pk, TOKEN_RECORD_VERSION);
	put_u8(&pk, r->supplier);
	put_u8(&pk, r->revoked != 0);
	put_u8(&pk, 0);
	put_u32(&pk, r->id);
	put_u64(&pk, (uint64_t)r->created_at);
	put_u64(&pk, (uint64_t)r->expires_at);
	put_str(&pk, r->label);
	if (pk.bad)
		return t->err = STORE_CORRUPT;
	v.mv_size = pk.len;
	v.mv_data = rec;
	rc = mdb_put(t->txn, t->s->dbi[DB_TOKEN], &k, &v, 0);
	return rc ? fail(t, rc) : STORE_OK;
}

struct token_args {
	token_visit_fn fn;
	void *ctx;
};

static int
token_entry(struct store_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	struct token_args *a = arg;
	struct token_record r;

	if (k->mv_size != TOKEN_HASH_LEN || token_decode(v, &r) != STORE_OK)
		return t->err = STORE_CORRUPT;
	return a->fn(a->ctx, k->mv_data, &r);
}

int
store_token_scan(struct store_txn *t, token_visit_fn fn, void *ctx)
{
	struct token_args a = { fn, ctx };
	return prefix_scan(t, DB_TOKEN, "", 0, token_entry, &a);
}

struct raw_args {
	listing_visit_fn lfn;
	pair_visit_fn pfn;
	label_visit_fn bfn;
	void *ctx;
};

static int
listing_raw_entry(struct store_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	struct raw_args *a = arg;
	const unsigned char *p = k->mv_data;
	struct listing_pos pos;
	uint32_t date;

	if (k->mv_size != LISTING_KEY_LEN)
		return t->err = STORE_CORRUPT;
	memcpy(&date, p + 2, 4);
	pos.order_date = be32toh(date);
	pos.increment_id = read_be64(p + 6);
	pos.sale_product_id = read_be64(p + 14);
	return a->lfn(a->ctx, p[0], p[1], &pos, v->mv_data, v->mv_size);
}

int
store_listing_raw_scan(struct store_txn *t, listing_visit_fn fn, void *ctx)
{
	struct raw_args a = { fn, NULL, NULL, ctx };
	return prefix_scan(t, DB_LISTING, "", 0, listing_raw_entry, &a);
}

static int
order_raw_entry(struct store_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	struct raw_args *a = arg;
	(void)v;
	if (k->mv_size != 16)
		return t->err = STORE_CORRUPT;
	return a->pfn(a->ctx, read_be64(k->mv_data), read_be64((const char *)k->mv_data + 8));
}

int
store_order_raw_scan(struct store_txn *t, pair_visit_fn fn, void *ctx)
{
	struct raw_args a = { NULL, fn, NULL, ctx };
	return prefix_scan(t, DB_ORDER, "", 0, order_raw_entry, &a);
}

static int
label_raw_entry(struct store_txn *t, const MDB_val *k, const MDB_val *v, void *arg)
{
	struct raw_args *a = arg;
	const char *p = k->mv_data;
	(void)v;
	if (k->mv_size < 10 || p[k->mv_size - 9] != '\0')
		return t->err = STORE_CORRUPT;
	return a->bfn(a->ctx, p, k->mv_size - 9, read_be64(p + k->mv_size - 8));
}

int
store_label_raw_scan(struct store_txn *t, label_visit_fn fn, void *ctx)
{
	struct raw_args a = { NULL, NULL, fn, ctx };
	return prefix_scan(t, DB_LABEL, "", 0, label_raw_entry, &a);
}

int
store_stats(struct store *s, struct store_stats *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *txn;
	int rc;
	size_t pages;

	memset(st, 0, sizeof(*st));
	if ((rc = mdb_env_info(s->env, &info)) != 0 || (rc = mdb_env_stat(s->env, &ms)) != 0)
		return map_err(rc);
	st->map_size = info.me_mapsize;
	st->page_size = ms.ms_psize;
	pages = info.me_last_pgno + 1;
	st->used_bytes = pages * ms.ms_psize;
	st->readers_max = info.me_maxreaders;
	st->readers_used = info.me_numreaders;
	st->last_txn = info.me_last_txnid;
	if ((rc = txn_begin(s->env, MDB_RDONLY, &txn)) != 0)
		return map_err(rc);
	for (int i = 0; i < DB__MAX; i++) {
		if ((rc = mdb_stat(txn, s->dbi[i], &ms)) != 0)
			break;
		st->entries[i] = ms.ms_entries;
	}
	mdb_txn_abort(txn);
	return map_err(rc);
}

int
store_backup(struct store *s, const char *dir)
{
	char path[4096];
	struct stat st;
	int rc;

	if (make_dirs(dir, 0700) != 0)
		return STORE_UNAVAILABLE;
	if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
		return STORE_UNAVAILABLE;
	if (stat(path, &st) == 0)
		return STORE_EXISTS;
	/* mdb_env_copy2 creates data.mdb with O_EXCL: a concurrent backup cannot overwrite ours either. */
	rc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
	if (rc == 0)
		chmod(path, 0600);
	return map_err(rc);
}

/* The response cache. */

static int
cache_dir(char *out, size_t len, const char *data_dir)
{
	char boot[64] = "";
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, boot, sizeof(boot) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 32)
		return -1;
	boot[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (boot[i] == '\n' || boot[i] == '-')
			boot[i] = boot[i] == '-' ? 'x' : '\0';
	if (snprintf(out, len, "%s/cache.%s", data_dir, boot) >= (int)len)
		return -1;
	return 0;
}

int
cache_open(struct cache **cp, const char *data_dir, int create)
{
	char dir[4096];
	struct cache *c;
	MDB_txn *txn;
	int rc;
	unsigned f = create ? MDB_CREATE : 0;

	if (cache_dir(dir, sizeof(dir), data_dir) != 0)
		return STORE_UNAVAILABLE;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return STORE_NOMEM;
	rc = env_create(&c->env, dir, CACHE_MAP_SIZE, 2, MDB_NOSYNC | MDB_NOMETASYNC, create);
	if (rc != 0) {
		free(c);
		return rc == ENOENT ? STORE_NOTFOUND : map_err(rc);
	}
	if ((rc = txn_begin(c->env, create ? 0 : MDB_RDONLY, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "entry", f, &c->entry)) != 0 ||
	    (rc = mdb_dbi_open(txn, "expiry", f, &c->expiry)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	*cp = c;
	return STORE_OK;
fail:
	mdb_env_close(c->env);
	free(c);
	return rc == MDB_NOTFOUND ? STORE_NOTFOUND : map_err(rc);
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	mdb_env_close(c->env);
	free(c);
}

void
cache_entry_free(struct cache_entry *e)
{
	free(e->link);
	free(e->body);
	e->link = e->body = NULL;
}

/* Cache values: be64 expires_at, be32 link length, link, body. */
int
cache_get(struct cache *c, const void *key, size_t keylen, int64_t now, struct cache_entry *e)
{
	MDB_txn *txn;
	MDB_val k = { keylen, (void *)key }, v;
	const unsigned char *p;
	uint32_t llen;
	int rc;

	if ((rc = txn_begin(c->env, MDB_RDONLY, &txn)) != 0)
		return map_err(rc);
	if ((rc = mdb_get(txn, c->entry, &k, &v)) != 0)
		goto out;
	p = v.mv_data;
	if (v.mv_size < 12) {
		rc = MDB_NOTFOUND;
		goto out;
	}
	e->expires_at = (int64_t)read_be64(p);
	memcpy(&llen, p + 8, 4);
	llen = be32toh(llen);
	if (e->expires_at <= now || llen > v.mv_size - 12) {
		rc = MDB_NOTFOUND;
		goto out;
	}
	e->body_len = v.mv_size - 12 - llen;
	e->link = malloc(llen + 1);
	e->body = malloc(e->body_len + 1);
	if (e->link == NULL || e->body == NULL) {
		cache_entry_free(e);
		rc = ENOMEM;
		goto out;
	}
	memcpy(e->link, p + 12, llen);
	e->link[llen] = '\0';
	memcpy(e->body, p + 12 + llen, e->body_len);
	e->body[e->body_len] = '\0';
out:
	mdb_txn_abort(txn);
	return map_err(rc);
}

/* Removes up to max entries whose expiry is at or before now (max 0: all entries). */
static int
cache_sweep(struct cache *c, MDB_txn *txn, int64_t now, uint64_t max, uint64_t *removed)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;
	uint64_t n = 0;

	if ((rc = mdb_cursor_open(txn, c->expiry, &cur)) != 0)
		return rc;
	while ((max == 0 || n < max) && (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
		MDB_val ek;
		if (k.mv_size < 8 || (int64_t)read_be64(k.mv_data) > now)
			break;
		ek.mv_size = k.mv_size - 8;
		ek.mv_data = (char *)k.mv_data + 8;
		if ((rc = mdb_del(txn, c->entry, &ek, NULL)) != 0 && rc != MDB_NOTFOUND)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (removed)
		*removed += n;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
cache_put_txn(struct cache *c, MDB_txn *txn, const void *key, size_t keylen, int64_t expires_at,
    const char *link, const char *body, size_t body_len)
{
	MDB_val k = { keylen, (void *)key }, v, ek;
	unsigned char xkey[8 + 512];
	uint64_t be;
	uint32_t llen = (uint32_t)strlen(link), lbe = htobe32(llen);
	int rc;

	if (keylen > 500)
		return MDB_BAD_VALSIZE;
	/* A racing writer may have stored this key already: drop its expiry entry. */
	if (mdb_get(txn, c->entry, &k, &v) == 0 && v.mv_size >= 8) {
		memcpy(xkey, v.mv_data, 8);
		memcpy(xkey + 8, key, keylen);
		ek.mv_size = 8 + keylen;
		ek.mv_data = xkey;
		mdb_del(txn, c->expiry, &ek, NULL);
	}
	v.mv_size = 12 + llen + body_len;
	if ((rc = mdb_put(txn, c->entry, &k, &v, MDB_RESERVE)) != 0)
		return rc;
	be = htobe64((uint64_t)expires_at);
	memcpy(v.mv_data, &be, 8);
	memcpy((char *)v.mv_data + 8, &lbe, 4);
	memcpy((char *)v.mv_data + 12, link, llen);
	memcpy((char *)v.mv_data + 12 + llen, body, body_len);
	memcpy(xkey, &be, 8);
	memcpy(xkey + 8, key, keylen);
	ek.mv_size = 8 + keylen;
	ek.mv_data = xkey;
	v.mv_size = 0;
	v.mv_data = "";
	return mdb_put(txn, c->expiry, &ek, &v, 0);
}

int
cache_put(struct cache *c, const void *key, size_t keylen, int64_t expires_at,
    const char *link, const char *body, size_t body_len, int64_t now)
{
	MDB_txn *txn;
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = txn_begin(c->env, 0, &txn)) != 0)
			return map_err(rc);
		if (attempt > 0) {
			/* Full even after sweeping: a lost cache is harmless, start afresh. */
			if ((rc = mdb_drop(txn, c->entry, 0)) != 0 || (rc = mdb_drop(txn, c->expiry, 0)) != 0) {
				mdb_txn_abort(txn);
				return map_err(rc);
			}
		}
		if ((rc = cache_sweep(c, txn, now, CACHE_SWEEP, NULL)) == 0 &&
		    (rc = cache_put_txn(c, txn, key, keylen, expires_at, link, body, body_len)) == 0)
			return map_err(mdb_txn_commit(txn));
		mdb_txn_abort(txn);
		if (rc != MDB_MAP_FULL)
			break;
	}
	return map_err(rc);
}

static int
remove_tree_files(const char *dir)
{
	char path[4096];
	int rc = 0;

	for (int i = 0; i < 2; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, i ? "lock.mdb" : "data.mdb") >= (int)sizeof(path))
			return -1;
		if (unlink(path) != 0 && errno != ENOENT)
			rc = -1;
	}
	return rc || rmdir(dir) != 0 ? -1 : 0;
}

int
cache_purge(const char *data_dir, int all, int64_t now, uint64_t *removed)
{
	char mine[4096], path[4096];
	const char *base;
	struct cache *c = NULL;
	MDB_txn *txn;
	DIR *d;
	struct dirent *de;
	int rc;

	*removed = 0;
	if (cache_dir(mine, sizeof(mine), data_dir) != 0)
		return STORE_UNAVAILABLE;
	base = strrchr(mine, '/') + 1;
	/* Caches of earlier boots can never be read again. */
	if ((d = opendir(data_dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, "cache.", 6) == 0 && strcmp(de->d_name, base) != 0) {
				snprintf(path, sizeof(path), "%s/%s", data_dir, de->d_name);
				remove_tree_files(path);
			}
		closedir(d);
	}
	rc = cache_open(&c, data_dir, 0);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK || c == NULL)
		return rc;
	if ((rc = txn_begin(c->env, 0, &txn)) == 0) {
		if ((rc = cache_sweep(c, txn, all ? INT64_MAX : now, 0, removed)) == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	if (rc == 0)
		rc = mdb_env_sync(c->env, 1);
	cache_close(c);
	return map_err(rc);
}
