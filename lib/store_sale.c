/*
 * Sale records and their index entries: the listing (one entry per view the
 * sale product is in, holding its rendered item), the order index and the
 * label index; the iterators get-sales, files and the integrity check use.
 */
#include <stddef.h>
#include <string.h>

#include <lmdb.h>

#include "store_impl.h"
#include "supplier.h"

/*
 * Version 2 adds the refusal: its reason in the byte version 1 kept
 * reserved (always 0 there), refused_at and the note at the end.  Version 1
 * records (schema 3 stores) still decode: never refused.  Version 3 (schema
 * 6) adds after the note the estimated ship date, the delivery status and
 * delivered_at; a record of 1 or 2 has none of them.
 */
#define SALE_RECORD_VERSION 3
#define LISTING_KEY_LEN 22
#define ORDER_KEY_LEN 16
#define LABEL_KEY_MAX (LABEL_MAX + 9)

size_t
store_sale_encode(const struct sale_product *sp, unsigned char *out)
{
	struct pack pk = { out, 0, SALE_RECORD_MAX, 0 };
	unsigned char head[4] = { SALE_RECORD_VERSION, (unsigned char)sp->supplier, (unsigned char)sp->status,
	    (unsigned char)sp->reason };

	put_bytes(&pk, head, sizeof(head));
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
	put_u64(&pk, (uint64_t)sp->refused_at);
	put_str(&pk, sp->note);
	put_u32(&pk, sp->estimated_ship_date);
	put_u8(&pk, (unsigned)sp->delivery_status);
	put_u64(&pk, (uint64_t)sp->delivered_at);
	return pk.bad ? 0 : pk.len;
}

int
store_sale_decode(const void *p, size_t len, struct sale_product *sp)
{
	struct pack pk = { (unsigned char *)p, 0, len, 0 };
	unsigned version = get_u8(&pk);

	/* The note is the last member: the bytes past its terminator need no clearing (2 KiB a record). */
	memset(sp, 0, offsetof(struct sale_product, note) + 1);
	if (version < 1 || version > SALE_RECORD_VERSION)
		return STORE_CORRUPT;
	sp->supplier = get_u8(&pk);
	sp->status = (enum sale_status)get_u8(&pk);
	sp->reason = (enum refusal_reason)get_u8(&pk);
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
	if (version >= 2) {
		sp->refused_at = (int64_t)get_u64(&pk);
		get_str(&pk, sp->note, NOTE_MAX);
	}
	if (version >= 3) {
		sp->estimated_ship_date = get_u32(&pk);
		sp->delivery_status = (enum delivery_status)get_u8(&pk);
		sp->delivered_at = (int64_t)get_u64(&pk);
	}
	if (pk.bad || pk.len != len || sp->status >= STATUS__MAX || sp->reason >= REASON__MAX ||
	    sp->delivery_status >= DELIVERY__MAX ||
	    supplier_by_id(sp->supplier) == NULL)
		return STORE_CORRUPT;
	return STORE_OK;
}

int
store_sale_same(const struct sale_product *a, const struct sale_product *b)
{
	unsigned char ea[SALE_RECORD_MAX], eb[SALE_RECORD_MAX];
	struct sale_product b2 = *b;
	size_t na, nb;

	b2.created_at = a->created_at;
	b2.updated_at = a->updated_at;
	na = store_sale_encode(a, ea);
	nb = store_sale_encode(&b2, eb);
	return na != 0 && na == nb && memcmp(ea, eb, na) == 0;
}

/* Keys. */

static void
listing_key(unsigned char *k, unsigned supplier, unsigned view, const struct listing_pos *pos)
{
	k[0] = (unsigned char)supplier;
	k[1] = (unsigned char)view;
	be32_put(k + 2, pos->order_date);
	be64_put(k + 6, pos->increment_id);
	be64_put(k + 14, pos->sale_product_id);
}

static struct listing_pos
listing_key_pos(const unsigned char *k)
{
	struct listing_pos pos = { be32_get(k + 2), be64_get(k + 6), be64_get(k + 14) };
	return pos;
}

static struct listing_pos
pos_of(const struct sale_product *sp)
{
	struct listing_pos pos = { sp->order_date, sp->increment_id, sp->sale_product_id };
	return pos;
}

static void
order_key(unsigned char *k, uint64_t increment_id, uint64_t sale_product_id)
{
	be64_put(k, increment_id);
	be64_put(k + 8, sale_product_id);
}

/* The label's bytes, a 0 separator, the id: every sale product of one label is one prefix. */
static size_t
label_key(unsigned char *k, const char *label, uint64_t sale_product_id)
{
	size_t n = strlen(label);

	memcpy(k, label, n);
	k[n] = 0;
	be64_put(k + n + 1, sale_product_id);
	return n + 9;
}

/* Records. */

int
store_sale_get(struct store_txn *t, uint64_t sale_product_id, struct sale_product *out)
{
	unsigned char key[8];
	MDB_val v;
	int rc;

	be64_put(key, sale_product_id);
	if ((rc = store_txn_get(t, DB_SALE, key, 8, &v)) != STORE_OK)
		return rc;
	if ((rc = store_sale_decode(v.mv_data, v.mv_size, out)) != STORE_OK)
		store_txn_fail(t, rc);
	return rc;
}

static int
has_view(const unsigned *views, int n, unsigned v)
{
	for (int i = 0; i < n; i++)
		if (views[i] == v)
			return 1;
	return 0;
}

/* Removes the index entries of old that sp no longer has. */
static void
drop_old_entries(struct store_txn *t, const struct sale_product *old, const struct sale_product *sp,
    const unsigned *newv, int nnew)
{
	unsigned char key[LABEL_KEY_MAX];
	unsigned oldv[SALE_VIEWS_MAX];
	struct listing_pos pos = pos_of(old);
	int nold = sale_views(old->status, oldv);
	int moved = old->supplier != sp->supplier || old->order_date != sp->order_date ||
	    old->increment_id != sp->increment_id;

	for (int i = 0; i < nold; i++)
		if (moved || !has_view(newv, nnew, oldv[i])) {
			listing_key(key, old->supplier, oldv[i], &pos);
			store_txn_del(t, DB_LISTING, key, LISTING_KEY_LEN);
		}
	if (old->increment_id != sp->increment_id) {
		order_key(key, old->increment_id, old->sale_product_id);
		store_txn_del(t, DB_ORDER, key, ORDER_KEY_LEN);
	}
	if (old->label[0] && strcmp(old->label, sp->label) != 0)
		store_txn_del(t, DB_LABEL, key, label_key(key, old->label, old->sale_product_id));
}

int
store_sale_put(struct store_txn *t, const struct sale_product *old, const struct sale_product *sp,
    const void *item, size_t item_len)
{
	unsigned char rec[SALE_RECORD_MAX], key[LABEL_KEY_MAX];
	unsigned newv[SALE_VIEWS_MAX];
	struct listing_pos pos = pos_of(sp);
	int nnew = sale_views(sp->status, newv);
	size_t n;

	if (t->err)
		return t->err;
	if ((n = store_sale_encode(sp, rec)) == 0)
		return store_txn_fail(t, STORE_CORRUPT);
	be64_put(key, sp->sale_product_id);
	store_txn_put(t, DB_SALE, key, 8, rec, n, 0);
	if (old != NULL)
		drop_old_entries(t, old, sp, newv, nnew);
	/* Listing entries carry the rendered item: a page is read from the index alone. */
	for (int i = 0; i < nnew; i++) {
		listing_key(key, sp->supplier, newv[i], &pos);
		store_txn_put(t, DB_LISTING, key, LISTING_KEY_LEN, item, item_len, 0);
	}
	if (old == NULL || old->increment_id != sp->increment_id) {
		order_key(key, sp->increment_id, sp->sale_product_id);
		store_txn_put(t, DB_ORDER, key, ORDER_KEY_LEN, "", 0, 0);
	}
	if (sp->label[0] && (old == NULL || strcmp(old->label, sp->label) != 0))
		store_txn_put(t, DB_LABEL, key, label_key(key, sp->label, sp->sale_product_id), "", 0, 0);
	return t->err;
}

/* Iterators (store.h). */

static int
listing_step(struct listing_iter *it, int more)
{
	for (; more; more = store_iter_next(&it->c)) {
		const unsigned char *k = it->c.key;

		if (it->c.klen != LISTING_KEY_LEN)
			return store_iter_corrupt(it->c.t);
		if (!it->all) {
			/* The seek lands on the cursor's own entry, if anything: strictly after it. */
			if (it->after) {
				it->after = 0;
				if (memcmp(k, it->start, LISTING_KEY_LEN) == 0)
					continue;
			}
			if (be32_get(k + 2) > it->date_to)
				return 0;
			if (it->skip > 0) {
				it->skip--;
				continue;
			}
		}
		it->pos = listing_key_pos(k);
		it->supplier = k[0];
		it->view = k[1];
		it->item = it->c.val;
		it->len = it->c.vlen;
		return 1;
	}
	return 0;
}

int
store_listing_first(struct store_txn *t, unsigned supplier, enum status_filter view,
    const struct listing_pos *after, uint32_t date_from, uint32_t date_to, uint64_t skip, struct listing_iter *it)
{
	struct listing_pos from = { date_from, 0, 0 };

	it->all = 0;
	it->after = after != NULL && after->order_date >= date_from;
	if (it->after)
		from = *after;
	it->date_to = date_to;
	it->skip = skip;
	listing_key(it->start, supplier, view, &from);
	/* The prefix is (supplier, view); the scan starts at the first date or just after the cursor. */
	return listing_step(it, store_iter_seek(t, DB_LISTING, &it->c, it->start, LISTING_KEY_LEN, it->start, 2));
}

int
store_listing_all_first(struct store_txn *t, struct listing_iter *it)
{
	it->all = 1;
	return listing_step(it, store_iter_seek(t, DB_LISTING, &it->c, "", 0, "", 0));
}

STORE_ITERATOR_NEXT(store_listing, listing_iter, listing_step)

int
store_listing_count(struct store_txn *t, unsigned supplier, enum status_filter view, uint64_t *n)
{
	unsigned char prefix[2] = { (unsigned char)supplier, (unsigned char)view };
	struct store_cursor c;

	*n = 0;
	store_foreach(t, DB_LISTING, &c, prefix, 2)
		(*n)++;
	return t->err;
}

/* The record an entry of the sale database holds: STORE_OK, or STORE_CORRUPT when key and record disagree. */
static int
sale_at(const struct store_cursor *c, struct sale_product *sp)
{
	if (c->klen != 8 || store_sale_decode(c->val, c->vlen, sp) != STORE_OK || sp->sale_product_id != be64_get(c->key))
		return STORE_CORRUPT;
	return STORE_OK;
}

static int
sale_step(struct sale_iter *it, int more)
{
	struct store_txn *t = it->c.t;
	int rc;

	if (!more)
		return 0;
	if (!it->by_index)
		return sale_at(&it->c, &it->sp) == STORE_OK ? 1 : store_iter_corrupt(t);
	/* An index entry (the prefix, then be64 sale_product_id) names its sale product, which must exist. */
	if (it->c.klen != it->c.plen + 8)
		return store_iter_corrupt(t);
	rc = store_sale_get(t, be64_get((const unsigned char *)it->c.key + it->c.plen), &it->sp);
	if (rc == STORE_NOTFOUND)
		return store_iter_corrupt(t);
	return rc == STORE_OK;
}

int
store_sales_first(struct store_txn *t, struct sale_iter *it)
{
	it->by_index = 0;
	return sale_step(it, store_iter_seek(t, DB_SALE, &it->c, "", 0, "", 0));
}

int
store_order_sales_first(struct store_txn *t, uint64_t increment_id, struct sale_iter *it)
{
	unsigned char prefix[8];

	be64_put(prefix, increment_id);
	it->by_index = 1;
	return sale_step(it, store_iter_seek(t, DB_ORDER, &it->c, prefix, 8, prefix, 8));
}

int
store_label_sales_first(struct store_txn *t, const char *label, size_t len, struct sale_iter *it)
{
	char prefix[LABEL_MAX + 1];

	it->by_index = 1;
	it->c.t = t;
	it->c.lmdb = NULL;
	/* No label is longer or holds a 0 byte: such a one has no sale product. */
	if (len > LABEL_MAX || memchr(label, '\0', len) != NULL)
		return 0;
	memcpy(prefix, label, len);
	prefix[len] = '\0';
	/* Exactly this label: its bytes, the 0 separator, then 8 id bytes. */
	return sale_step(it, store_iter_seek(t, DB_LABEL, &it->c, prefix, len + 1, prefix, len + 1));
}

STORE_ITERATOR_NEXT(store_sales, sale_iter, sale_step)

int
store_label_owned(struct store_txn *t, const char *label, size_t len, unsigned supplier, int *owned)
{
	struct sale_iter it;

	*owned = 0;
	for (int more = store_label_sales_first(t, label, len, &it); more; more = store_sales_next(&it))
		if (it.sp.supplier == supplier) {
			*owned = 1;
			break;
		}
	return t->err;
}

static int
order_entry_step(struct order_entry_iter *it, int more)
{
	if (!more)
		return 0;
	if (it->c.klen != ORDER_KEY_LEN)
		return store_iter_corrupt(it->c.t);
	it->increment_id = be64_get(it->c.key);
	it->sale_product_id = be64_get((const unsigned char *)it->c.key + 8);
	return 1;
}

STORE_ITERATOR(store_order_entries, order_entry_iter, DB_ORDER, order_entry_step)

static int
label_entry_step(struct label_entry_iter *it, int more)
{
	const char *k;
	size_t n;

	if (!more)
		return 0;
	k = it->c.key;
	n = it->c.klen;
	/* label bytes, 0, be64 id */
	if (n < 10 || k[n - 9] != '\0')
		return store_iter_corrupt(it->c.t);
	it->label = k;
	it->len = n - 9;
	it->sale_product_id = be64_get(k + n - 8);
	return 1;
}

STORE_ITERATOR(store_label_entries, label_entry_iter, DB_LABEL, label_entry_step)
