/*
 * The carrier events of shipments (update-tracking): key be64
 * sale_product_id, be64 time, status byte, tracking number bytes; value a
 * version byte and the location.  The key is the event: one sent again is
 * the same entry, and a sale product's events read in time order.
 */
#include <string.h>

#include <lmdb.h>

#include "store_impl.h"

#define TRACKING_VERSION 1
#define TRACKING_KEY_MIN 17
#define TRACKING_KEY_MAX (TRACKING_KEY_MIN + TRACKING_MAX)
#define TRACKING_VALUE_MAX (1 + 2 + LOCATION_MAX)

static size_t
tracking_key(unsigned char *k, uint64_t sale_product_id, const struct tracking_event *e)
{
	size_t n = strnlen(e->tracking_number, TRACKING_MAX);

	be64_put(k, sale_product_id);
	be64_put(k + 8, (uint64_t)e->at);
	k[16] = (unsigned char)e->status;
	memcpy(k + TRACKING_KEY_MIN, e->tracking_number, n);
	return TRACKING_KEY_MIN + n;
}

static int
tracking_decode(const void *key, size_t klen, const void *val, size_t vlen, uint64_t *sale_product_id,
    struct tracking_event *e)
{
	const unsigned char *k = key;
	struct pack pk = { (unsigned char *)(uintptr_t)val, 0, vlen, 0 };
	size_t n = klen - TRACKING_KEY_MIN;

	if (klen < TRACKING_KEY_MIN || klen > TRACKING_KEY_MAX || get_u8(&pk) != TRACKING_VERSION)
		return STORE_CORRUPT;
	*sale_product_id = be64_get(k);
	e->at = (int64_t)be64_get(k + 8);
	e->status = (enum delivery_status)k[16];
	memcpy(e->tracking_number, k + TRACKING_KEY_MIN, n);
	e->tracking_number[n] = '\0';
	get_str(&pk, e->location, LOCATION_MAX);
	if (pk.bad || pk.len != vlen || e->at < 0 || e->status == DELIVERY_NONE || e->status >= DELIVERY__MAX ||
	    strlen(e->tracking_number) != n)
		return STORE_CORRUPT;
	return STORE_OK;
}

int
store_tracking_put(struct store_txn *t, uint64_t sale_product_id, const struct tracking_event *e, int *added)
{
	unsigned char key[TRACKING_KEY_MAX], rec[TRACKING_VALUE_MAX];
	struct pack pk = { rec, 0, sizeof(rec), 0 };
	size_t klen = tracking_key(key, sale_product_id, e);
	MDB_val v;
	int rc;

	*added = 0;
	if (t->s->absent & (1u << DB_TRACKING))
		return store_txn_fail(t, STORE_VERSION); /* a store read as it is is never written */
	if ((rc = store_txn_get(t, DB_TRACKING, key, klen, &v)) != STORE_NOTFOUND)
		return rc == STORE_OK ? STORE_OK : rc; /* stored already: the first one's location is kept */
	put_u8(&pk, TRACKING_VERSION);
	put_str(&pk, e->location);
	if (pk.bad || e->at < 0 || e->status == DELIVERY_NONE || e->status >= DELIVERY__MAX)
		return store_txn_fail(t, STORE_CORRUPT);
	if ((rc = store_txn_put(t, DB_TRACKING, key, klen, rec, pk.len, 0)) == STORE_OK)
		*added = 1;
	return rc;
}

static int
tracking_step(struct tracking_iter *it, int more)
{
	if (!more)
		return 0;
	if (tracking_decode(it->c.key, it->c.klen, it->c.val, it->c.vlen, &it->sale_product_id, &it->e) != STORE_OK)
		return store_iter_corrupt(it->c.t);
	return 1;
}

int
store_tracking_first(struct store_txn *t, uint64_t sale_product_id, struct tracking_iter *it)
{
	unsigned char prefix[8];

	it->c.t = t;
	it->c.lmdb = NULL;
	/* A store of format 5 read as it is has no tracking database: no carrier events. */
	if (t->s->absent & (1u << DB_TRACKING))
		return 0;
	be64_put(prefix, sale_product_id);
	return tracking_step(it, store_iter_seek(t, DB_TRACKING, &it->c, prefix, 8, prefix, 8));
}

int
store_tracking_all_first(struct store_txn *t, struct tracking_iter *it)
{
	it->c.t = t;
	it->c.lmdb = NULL;
	if (t->s->absent & (1u << DB_TRACKING))
		return 0;
	return tracking_step(it, store_iter_seek(t, DB_TRACKING, &it->c, "", 0, "", 0));
}

STORE_ITERATOR_NEXT(store_tracking, tracking_iter, tracking_step)
