/*
 * The parcels of shipments: the package list a ship-sale named, kept
 * beside the sale record (which keeps the first parcel's tracking number
 * and carrier), so that a record and its sale-log entries stay small.
 */
#include <string.h>

#include <lmdb.h>

#include "store_impl.h"

#define SHIPMENT_VERSION 1
#define SHIPMENT_MAX (2 + PACKAGES_MAX * (4 + TRACKING_MAX + CARRIER_MAX))

int
store_shipment_put(struct store_txn *t, uint64_t sale_product_id, const struct package_list *l)
{
	unsigned char key[8], rec[SHIPMENT_MAX];
	struct pack pk = { rec, 0, sizeof(rec), 0 };

	if (t->err)
		return t->err;
	if (l->n == 0 || l->n > PACKAGES_MAX)
		return store_txn_fail(t, STORE_CORRUPT);
	put_u8(&pk, SHIPMENT_VERSION);
	put_u8(&pk, l->n);
	for (unsigned i = 0; i < l->n; i++) {
		put_str(&pk, l->p[i].tracking_number);
		put_str(&pk, l->p[i].carrier);
	}
	if (pk.bad)
		return store_txn_fail(t, STORE_CORRUPT);
	be64_put(key, sale_product_id);
	return store_txn_put(t, DB_SHIPMENT, key, 8, rec, pk.len, 0);
}

static int
shipment_decode(const MDB_val *v, struct package_list *l)
{
	struct pack pk = { v->mv_data, 0, v->mv_size, 0 };

	if (get_u8(&pk) != SHIPMENT_VERSION)
		return STORE_CORRUPT;
	l->n = get_u8(&pk);
	if (l->n == 0 || l->n > PACKAGES_MAX)
		return STORE_CORRUPT;
	for (unsigned i = 0; i < l->n; i++) {
		get_str(&pk, l->p[i].tracking_number, TRACKING_MAX);
		get_str(&pk, l->p[i].carrier, CARRIER_MAX);
	}
	return pk.bad || pk.len != v->mv_size ? STORE_CORRUPT : STORE_OK;
}

int
store_shipment_get(struct store_txn *t, uint64_t sale_product_id, struct package_list *l)
{
	unsigned char key[8];
	MDB_val v;
	int rc;

	l->n = 0;
	/* A schema-3 store read as it is has no shipment database, and so no package list. */
	if (t->s->absent & (1u << DB_SHIPMENT))
		return t->err ? t->err : STORE_NOTFOUND;
	be64_put(key, sale_product_id);
	if ((rc = store_txn_get(t, DB_SHIPMENT, key, 8, &v)) != STORE_OK)
		return rc;
	if ((rc = shipment_decode(&v, l)) != STORE_OK)
		store_txn_fail(t, rc);
	return rc;
}

static int
shipment_step(struct shipment_iter *it, int more)
{
	MDB_val v = { it->c.vlen, (void *)it->c.val };

	if (!more)
		return 0;
	if (it->c.klen != 8 || shipment_decode(&v, &it->l) != STORE_OK)
		return store_iter_corrupt(it->c.t);
	it->sale_product_id = be64_get(it->c.key);
	return 1;
}

int
store_shipments_first(struct store_txn *t, struct shipment_iter *it)
{
	it->c.t = t;
	it->c.lmdb = NULL;
	/* A schema-3 store read as it is has no shipment database: no package list. */
	if (t->s->absent & (1u << DB_SHIPMENT))
		return 0;
	return shipment_step(it, store_iter_seek(t, DB_SHIPMENT, &it->c, "", 0, "", 0));
}

STORE_ITERATOR_NEXT(store_shipments, shipment_iter, shipment_step)
