/*
 * Sale records and their index entries: the listing (one entry per view the
 * sale product is in, holding its rendered item), the order index and the
 * label index; the scans get-sales, files and the integrity check use.
 */
#include <stddef.h>
#include <string.h>

#include <lmdb.h>

#include "store_impl.h"
#include "supplier.h"

/*
 * Version 2 adds the refusal: its reason in the byte version 1 kept
 * reserved (always 0 there), refused_at and the note at the end.  Version 1
 * records (schema 3 stores) still decode: never refused.
 */
#define SALE_RECORD_VERSION 2
#define LISTING_KEY_LEN 22
#define ORDER_KEY_LEN 16
#define LABEL_KEY_MAX (LABEL_MAX + 9)

size_t
sale_encode(const struct sale_product *sp, unsigned char *out)
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
	return pk.bad ? 0 : pk.len;
}

int
sale_decode(const void *p, size_t len, struct sale_product *sp)
{
	struct pack pk = { (unsigned char *)p, 0, len, 0 };
	unsigned version = get_u8(&pk);

	/* The note is the last member: the bytes past its terminator need no clearing (2 KiB a record). */
	memset(sp, 0, offsetof(struct sale_product, note) + 1);
	if (version != 1 && version != SALE_RECORD_VERSION)
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
	if (pk.bad || pk.len != len || sp->status >= STATUS__MAX || sp->reason >= REASON__MAX ||
	    supplier_by_id(sp->supplier) == NULL)
		return STORE_CORRUPT;
	return STORE_OK;
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
	if ((rc = txn_get(t, DB_SALE, key, 8, &v)) != STORE_OK)
		return rc;
	if ((rc = sale_decode(v.mv_data, v.mv_size, out)) != STORE_OK)
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
			txn_del(t, DB_LISTING, key, LISTING_KEY_LEN);
		}
	if (old->increment_id != sp->increment_id) {
		order_key(key, old->increment_id, old->sale_product_id);
		txn_del(t, DB_ORDER, key, ORDER_KEY_LEN);
	}
	if (old->label[0] && strcmp(old->label, sp->label) != 0)
		txn_del(t, DB_LABEL, key, label_key(key, old->label, old->sale_product_id));
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
	if ((n = sale_encode(sp, rec)) == 0)
		return store_txn_fail(t, STORE_CORRUPT);
	be64_put(key, sp->sale_product_id);
	txn_put(t, DB_SALE, key, 8, rec, n, 0);
	if (old != NULL)
		drop_old_entries(t, old, sp, newv, nnew);
	/* Listing entries carry the rendered item: a page is read from the index alone. */
	for (int i = 0; i < nnew; i++) {
		listing_key(key, sp->supplier, newv[i], &pos);
		txn_put(t, DB_LISTING, key, LISTING_KEY_LEN, item, item_len, 0);
	}
	if (old == NULL || old->increment_id != sp->increment_id) {
		order_key(key, sp->increment_id, sp->sale_product_id);
		txn_put(t, DB_ORDER, key, ORDER_KEY_LEN, "", 0, 0);
	}
	if (sp->label[0] && (old == NULL || strcmp(old->label, sp->label) != 0))
		txn_put(t, DB_LABEL, key, label_key(key, sp->label, sp->sale_product_id), "", 0, 0);
	return t->err;
}

/* Scans. */

int
store_listing_scan(struct store_txn *t, unsigned supplier, enum status_filter view,
    const struct listing_pos *after, uint32_t date_from, uint32_t date_to,
    uint64_t skip, item_visit_fn fn, void *ctx)
{
	unsigned char start[LISTING_KEY_LEN];
	struct listing_pos from = { date_from, 0, 0 };
	struct store_iter it;

	if (after != NULL && after->order_date >= date_from)
		from = *after;
	else
		after = NULL;
	listing_key(start, supplier, view, &from);
	/* The prefix is (supplier, view); the scan starts at the first date or just after the cursor. */
	store_foreach_from(t, DB_LISTING, &it, start, LISTING_KEY_LEN, start, 2) {
		struct listing_pos pos;

		if (it.key.mv_size != LISTING_KEY_LEN) {
			store_txn_fail(t, STORE_CORRUPT);
			break;
		}
		if (after != NULL && memcmp(it.key.mv_data, start, LISTING_KEY_LEN) == 0)
			continue; /* strictly after the cursor */
		pos = listing_key_pos(it.key.mv_data);
		if (pos.order_date > date_to)
			break;
		if (skip > 0) {
			skip--;
			continue;
		}
		if (visit_result(t, fn(ctx, &pos, it.val.mv_data, it.val.mv_size)))
			break;
	}
	return t->err;
}

int
store_listing_count(struct store_txn *t, unsigned supplier, enum status_filter view, uint64_t *n)
{
	unsigned char prefix[2] = { (unsigned char)supplier, (unsigned char)view };
	struct store_iter it;

	*n = 0;
	store_foreach(t, DB_LISTING, &it, prefix, 2)
		(*n)++;
	return t->err;
}

/* Visits the sale product an index entry names; a dangling entry is corruption.  1 to end the scan. */
static int
visit_named(struct store_txn *t, uint64_t id, sale_visit_fn fn, void *ctx)
{
	struct sale_product sp;
	int rc = store_sale_get(t, id, &sp);

	if (rc == STORE_NOTFOUND)
		return iter_corrupt(t);
	return rc != STORE_OK || visit_result(t, fn(ctx, &sp));
}

int
store_order_scan(struct store_txn *t, uint64_t increment_id, sale_visit_fn fn, void *ctx)
{
	unsigned char prefix[8];
	struct store_iter it;

	be64_put(prefix, increment_id);
	store_foreach(t, DB_ORDER, &it, prefix, 8)
		if ((it.key.mv_size != ORDER_KEY_LEN && iter_corrupt(t)) ||
		    visit_named(t, be64_get((const char *)it.key.mv_data + 8), fn, ctx))
			break;
	return t->err;
}

/* The record an entry of the sale database holds: STORE_OK, or STORE_CORRUPT when key and record disagree. */
static int
sale_at(const struct store_iter *it, struct sale_product *sp)
{
	if (it->key.mv_size != 8 || sale_decode(it->val.mv_data, it->val.mv_size, sp) != STORE_OK ||
	    sp->sale_product_id != be64_get(it->key.mv_data))
		return STORE_CORRUPT;
	return STORE_OK;
}

int
store_sale_scan(struct store_txn *t, sale_visit_fn fn, void *ctx)
{
	struct store_iter it;
	struct sale_product sp;

	store_foreach(t, DB_SALE, &it, "", 0)
		if ((sale_at(&it, &sp) != STORE_OK && iter_corrupt(t)) || visit_result(t, fn(ctx, &sp)))
			break;
	return t->err;
}

int
store_label_owned(struct store_txn *t, const char *label, size_t len, unsigned supplier)
{
	char prefix[LABEL_MAX + 1];
	struct store_iter it;
	struct sale_product sp;
	int owned = 0;

	if (len > LABEL_MAX || memchr(label, '\0', len) != NULL)
		return 0;
	memcpy(prefix, label, len);
	prefix[len] = '\0';
	/* Exactly this label: its bytes, the 0 separator, then 8 id bytes. */
	store_foreach(t, DB_LABEL, &it, prefix, len + 1) {
		int rc = it.key.mv_size != len + 9 ? STORE_NOTFOUND :
		    store_sale_get(t, be64_get((const char *)it.key.mv_data + len + 1), &sp);

		if (rc == STORE_NOTFOUND)
			store_txn_fail(t, STORE_CORRUPT);
		if (rc != STORE_OK)
			break;
		if (sp.supplier == supplier) {
			owned = 1;
			break;
		}
	}
	return t->err ? -t->err : owned;
}

/* The raw scans of the integrity check: each entry's key decoded, handed to the visitor. */

static int
listing_entry(struct store_txn *t, const struct store_iter *it, listing_visit_fn fn, void *ctx)
{
	const unsigned char *k = it->key.mv_data;
	struct listing_pos pos;

	if (it->key.mv_size != LISTING_KEY_LEN)
		return iter_corrupt(t);
	pos = listing_key_pos(k);
	return visit_result(t, fn(ctx, k[0], k[1], &pos, it->val.mv_data, it->val.mv_size));
}

int
store_listing_raw_scan(struct store_txn *t, listing_visit_fn fn, void *ctx)
{
	struct store_iter it;

	store_foreach(t, DB_LISTING, &it, "", 0)
		if (listing_entry(t, &it, fn, ctx))
			break;
	return t->err;
}

int
store_order_raw_scan(struct store_txn *t, pair_visit_fn fn, void *ctx)
{
	struct store_iter it;

	store_foreach(t, DB_ORDER, &it, "", 0)
		if ((it.key.mv_size != ORDER_KEY_LEN && iter_corrupt(t)) ||
		    visit_result(t, fn(ctx, be64_get(it.key.mv_data), be64_get((const char *)it.key.mv_data + 8))))
			break;
	return t->err;
}

int
store_label_raw_scan(struct store_txn *t, label_visit_fn fn, void *ctx)
{
	struct store_iter it;

	store_foreach(t, DB_LABEL, &it, "", 0) {
		const char *k = it.key.mv_data;
		size_t n = it.key.mv_size;

		/* label bytes, 0, be64 id */
		if (n < 10 || k[n - 9] != '\0' ? iter_corrupt(t) : visit_result(t, fn(ctx, k, n - 9, be64_get(k + n - 8))))
			break;
	}
	return t->err;
}
