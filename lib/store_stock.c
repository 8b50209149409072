/*
 * Stock records (stock.h): key supplier byte + SKU bytes; value version,
 * quantity, lead time (0xffff: none), date (0xffffffff: none), time.
 */
#include <string.h>

#include <lmdb.h>

#include "stock.h"
#include "store_impl.h"

#define STOCK_RECORD_VERSION 1
#define STOCK_RECORD_LEN (1 + 4 + 2 + 4 + 8)
#define NO_LEAD 0xffff
#define NO_DATE 0xffffffffu

static int
stock_key(unsigned char *k, unsigned supplier, const char *sku, size_t *klen)
{
	size_t n = strnlen(sku, SKU_MAX + 1);

	if (n == 0 || n > SKU_MAX || supplier > 255)
		return -1;
	k[0] = (unsigned char)supplier;
	memcpy(k + 1, sku, n);
	*klen = 1 + n;
	return 0;
}

static int
stock_decode(const void *key, size_t klen, const void *val, size_t vlen, struct stock_record *r)
{
	struct pack pk = { (unsigned char *)(uintptr_t)val, 0, vlen, 0 };
	unsigned lead;

	memset(r, 0, sizeof(*r));
	if (klen < 2 || klen > 1 + SKU_MAX || vlen != STOCK_RECORD_LEN || get_u8(&pk) != STOCK_RECORD_VERSION)
		return STORE_CORRUPT;
	r->supplier = ((const unsigned char *)key)[0];
	memcpy(r->sku, (const char *)key + 1, klen - 1);
	r->sku[klen - 1] = '\0';
	r->quantity = get_u32(&pk);
	lead = get_u8(&pk) << 8;
	lead |= get_u8(&pk);
	r->lead_time_days = lead == NO_LEAD ? -1 : (int)lead;
	r->next_available = get_u32(&pk);
	r->has_next_available = r->next_available != NO_DATE;
	if (!r->has_next_available)
		r->next_available = 0;
	r->updated_at = (int64_t)get_u64(&pk);
	if (pk.bad || strlen(r->sku) != klen - 1 || r->quantity > STOCK_QUANTITY_MAX ||
	    (lead != NO_LEAD && lead > STOCK_LEAD_MAX))
		return STORE_CORRUPT;
	return STORE_OK;
}

int
store_stock_get(struct store_txn *t, unsigned supplier, const char *sku, struct stock_record *out)
{
	unsigned char key[1 + SKU_MAX];
	size_t klen;
	MDB_val v;
	int rc;

	/* A store of format 4 read as it is has no stock database: no stock. */
	if (t->s->absent & (1u << DB_STOCK))
		return t->err ? t->err : STORE_NOTFOUND;
	if (stock_key(key, supplier, sku, &klen) != 0)
		return STORE_NOTFOUND;
	if ((rc = store_txn_get(t, DB_STOCK, key, klen, &v)) != STORE_OK)
		return rc;
	if ((rc = stock_decode(key, klen, v.mv_data, v.mv_size, out)) != STORE_OK)
		store_txn_fail(t, rc);
	return rc;
}

int
store_stock_put(struct store_txn *t, const struct stock_record *r)
{
	unsigned char key[1 + SKU_MAX], rec[STOCK_RECORD_LEN];
	struct pack pk = { rec, 0, sizeof(rec), 0 };
	unsigned lead = r->lead_time_days < 0 ? NO_LEAD : (unsigned)r->lead_time_days;
	size_t klen;

	if (stock_key(key, r->supplier, r->sku, &klen) != 0)
		return store_txn_fail(t, STORE_CORRUPT);
	put_u8(&pk, STOCK_RECORD_VERSION);
	put_u32(&pk, r->quantity);
	put_u8(&pk, lead >> 8);
	put_u8(&pk, lead & 0xff);
	put_u32(&pk, r->has_next_available ? r->next_available : NO_DATE);
	put_u64(&pk, (uint64_t)r->updated_at);
	if (pk.bad)
		return store_txn_fail(t, STORE_CORRUPT);
	return store_txn_put(t, DB_STOCK, key, klen, rec, pk.len, 0);
}

static int
stock_step(struct stock_iter *it, int more)
{
	if (!more)
		return 0;
	if (stock_decode(it->c.key, it->c.klen, it->c.val, it->c.vlen, &it->rec) != STORE_OK)
		return store_iter_corrupt(it->c.t);
	return 1;
}

int
store_stock_first(struct store_txn *t, unsigned supplier, const char *after_sku, struct stock_iter *it)
{
	unsigned char from[1 + SKU_MAX + 1], prefix[1] = { (unsigned char)supplier };
	size_t n = strlen(after_sku), flen = 1;

	it->c.t = t;
	it->c.lmdb = NULL;
	if (t->s->absent & (1u << DB_STOCK))
		return 0;
	from[0] = (unsigned char)supplier;
	if (n > 0 && n <= SKU_MAX) {
		/* The first key after after_sku: after_sku followed by a NUL byte, which no SKU holds. */
		memcpy(from + 1, after_sku, n);
		from[1 + n] = '\0';
		flen = 2 + n;
	}
	return stock_step(it, store_iter_seek(t, DB_STOCK, &it->c, from, flen, prefix, 1));
}

STORE_ITERATOR_NEXT(store_stock, stock_iter, stock_step)
