/* Unit tests of the store (lib/store*.c) and the stored item (lib/sale_json.c) on a store in a temporary directory. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sale_json.h"
#include "store.h"
#include "token.h"
#include "unit.h"

static struct sale_product
make_sale(uint64_t inc, uint64_t id, unsigned supplier, uint32_t date, enum sale_status st)
{
	struct sale_product sp;

	memset(&sp, 0, sizeof(sp));
	sp.increment_id = inc;
	sp.sale_product_id = id;
	sp.supplier = supplier;
	sp.order_date = date;
	sp.status = st;
	sp.quantity = 1;
	sp.price_cents = 25000;
	strcpy(sp.sku, "SKU");
	strcpy(sp.carrier, "DPD");
	return sp;
}

static uint64_t seen[64];
static size_t nseen;

/* store_sale_put with the item rendered as the library renders it. */
static int
put(struct store_txn *t, const struct sale_product *old, const struct sale_product *sp)
{
	struct buf item = { 0 };
	int rc = item_render(sp, &item) == 0 ? store_sale_put(t, old, sp, item.p, item.len) : STORE_NOMEM;

	buf_free(&item);
	return rc;
}

static size_t
scan(struct store_txn *t, unsigned supplier, enum status_filter view, const struct listing_pos *after,
    uint32_t from, uint32_t to, uint64_t skip)
{
	struct listing_iter it;

	nseen = 0;
	for (int more = store_listing_first(t, supplier, view, after, from, to, skip, &it); more;
	    more = store_listing_next(&it))
		if (nseen < 64)
			seen[nseen++] = it.pos.sale_product_id;
	return store_txn_error(t) != STORE_OK ? (size_t)-1 : nseen;
}

int
main(void)
{
	char dir[] = "/tmp/menzzo-unit-XXXXXX", path[64];
	struct store *s;
	struct store_txn *t;
	struct sale_product sp, got;
	struct listing_pos after = { 20, 9, 3 };
	struct token_record tr = { 0 }, tg;
	unsigned char hash[TOKEN_HASH_LEN] = { 1, 2, 3 };
	struct sale_iter labelled;
	uint64_t v;
	size_t nlabel;
	int rc, owned;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/db", dir);
	CHECK(store_open(&s, path, 1 << 24, 0, NULL, 0) == STORE_UNAVAILABLE, "a missing store is unavailable, not created");
	CHECK(store_open(&s, path, 1 << 24, STORE_CREATE, NULL, 0) == STORE_OK, "store created");

	CHECK(store_begin(s, 1, &t) == STORE_OK, "write transaction");
	/* Increment ids 9 and 10 sort as numbers: 9 first. */
	sp = make_sale(10, 1, 0, 20, STATUS_PENDING);
	put(t, NULL, &sp);
	sp = make_sale(9, 2, 0, 20, STATUS_ACKNOWLEDGED);
	put(t, NULL, &sp);
	sp = make_sale(9, 3, 0, 20, STATUS_SHIPPED);
	put(t, NULL, &sp);
	sp = make_sale(11, 4, 0, 19, STATUS_PENDING);
	strcpy(sp.label, "labels/a.pdf");
	put(t, NULL, &sp);
	sp = make_sale(12, 5, 1, 19, STATUS_PENDING);
	strcpy(sp.label, "labels/a.pdf");
	put(t, NULL, &sp);
	CHECK(store_counter_next(t, "x", &v) == STORE_OK && v == 1, "counter starts at 1");
	CHECK(store_counter_next(t, "x", &v) == STORE_OK && v == 2, "counter counts");
	CHECK(store_commit(t) == STORE_OK, "commit");

	CHECK(store_begin(s, 0, &t) == STORE_OK, "read transaction");
	CHECK(store_sale_get(t, 2, &got) == STORE_OK && got.increment_id == 9 && got.status == STATUS_ACKNOWLEDGED &&
	    strcmp(got.sku, "SKU") == 0, "record round-trips");
	CHECK(store_sale_get(t, 99, &got) == STORE_NOTFOUND, "unknown id is not found");
	CHECK(scan(t, 0, FILTER_OPEN, NULL, 0, UINT32_MAX, 0) == 3 && seen[0] == 4 && seen[1] == 2 && seen[2] == 1,
	    "open view in (date, increment_id, id) order, shipped left out");
	CHECK(scan(t, 0, FILTER_ALL, NULL, 0, UINT32_MAX, 0) == 4, "all view has every sale product of the supplier");
	CHECK(scan(t, 0, FILTER_SHIPPED, NULL, 0, UINT32_MAX, 0) == 1 && seen[0] == 3, "status view");
	CHECK(scan(t, 0, FILTER_OPEN, NULL, 20, 20, 0) == 2, "date range is inclusive and seeks");
	CHECK(scan(t, 0, FILTER_ALL, &after, 0, UINT32_MAX, 0) == 1 && seen[0] == 1, "strictly after the cursor");
	CHECK(scan(t, 0, FILTER_OPEN, NULL, 0, UINT32_MAX, 2) == 1 && seen[0] == 1, "skip pages");
	CHECK(scan(t, 1, FILTER_OPEN, NULL, 0, UINT32_MAX, 0) == 1 && seen[0] == 5, "suppliers are apart");
	CHECK(store_label_owned(t, "labels/a.pdf", 12, 0, &owned) == STORE_OK && owned == 1 &&
	    store_label_owned(t, "labels/a.pdf", 12, 1, &owned) == STORE_OK && owned == 1,
	    "a label shared by two suppliers' sale products belongs to both");
	CHECK(store_label_owned(t, "labels/a.pd", 11, 0, &owned) == STORE_OK && owned == 0, "a label prefix owns nothing");
	nlabel = 0;
	for (int more = store_label_sales_first(t, "labels/a.pdf", 12, &labelled); more && nlabel < 8;
	    more = store_sales_next(&labelled))
		seen[nlabel++] = labelled.sp.sale_product_id;
	CHECK(store_txn_error(t) == STORE_OK && nlabel == 2 && seen[0] == 4 && seen[1] == 5,
	    "a label's sale products, every supplier's, by sale_product_id");
	CHECK(store_label_sales_first(t, "labels/a.pd", 11, &labelled) == 0 &&
	    store_label_sales_first(t, "labels/a.pdf\0", 13, &labelled) == 0 && store_txn_error(t) == STORE_OK,
	    "a label prefix, or a label with a 0 byte, has none");
	CHECK(store_counter_get(t, "x", &v) == STORE_OK && v == 2, "counter read");
	store_abort(t);

	/* Moving a sale product between views and dates keeps the indexes exact. */
	CHECK(store_begin(s, 1, &t) == STORE_OK, "write transaction 2");
	store_sale_get(t, 1, &got);
	sp = got;
	sp.status = STATUS_SHIPPED;
	sp.order_date = 25;
	sp.label[0] = '\0';
	put(t, &got, &sp);
	CHECK(store_commit(t) == STORE_OK, "commit 2");
	store_begin(s, 0, &t);
	CHECK(scan(t, 0, FILTER_OPEN, NULL, 0, UINT32_MAX, 0) == 2, "shipped one left the open view");
	CHECK(scan(t, 0, FILTER_SHIPPED, NULL, 25, 25, 0) == 1 && seen[0] == 1, "and is listed at its new date");
	store_abort(t);

	CHECK(store_begin(s, 1, &t) == STORE_OK, "token write");
	tr.id = 7;
	tr.supplier = 1;
	strcpy(tr.label, "script");
	store_token_put(t, hash, &tr);
	CHECK(store_commit(t) == STORE_OK, "token commit");
	store_begin(s, 0, &t);
	CHECK(store_token_get(t, hash, &tg) == STORE_OK && tg.id == 7 && tg.supplier == 1 &&
	    strcmp(tg.label, "script") == 0, "token record round-trips");
	hash[0] = 9;
	CHECK(store_token_get(t, hash, &tg) == STORE_NOTFOUND, "other hash not found");
	store_abort(t);

	/* Ship dates and carrier news round-trip; a carrier event is stored once, read by time. */
	store_begin(s, 1, &t);
	sp = make_sale(13, 6, 0, 21, STATUS_SHIPPED);
	sp.estimated_ship_date = 20500;
	sp.delivery_status = DELIVERY_DELIVERED;
	sp.delivered_at = 1770000000;
	put(t, NULL, &sp);
	{
		struct tracking_event e1 = { 1770000000, DELIVERY_DELIVERED, "TN1", "Lyon" };
		struct tracking_event e0 = { 1769990000, DELIVERY_IN_TRANSIT, "TN1", "" };
		struct tracking_event e1again = { 1770000000, DELIVERY_DELIVERED, "TN1", "elsewhere" };
		struct tracking_iter it;
		int added1, added0, again, n = 0, ordered = 1;
		int64_t last = 0;

		store_tracking_put(t, 6, &e1, &added1);
		store_tracking_put(t, 6, &e0, &added0);
		store_tracking_put(t, 6, &e1again, &again);
		CHECK(added1 == 1 && added0 == 1 && again == 0, "a carrier event sent again is not stored again");
		for (int more = store_tracking_first(t, 6, &it); more; more = store_tracking_next(&it)) {
			ordered &= it.e.at >= last && it.sale_product_id == 6;
			last = it.e.at;
			if (n++ == 1)
				CHECK(strcmp(it.e.location, "Lyon") == 0, "the first one's location is kept");
		}
		CHECK(store_txn_error(t) == STORE_OK && n == 2 && ordered, "a sale product's carrier events, by time");
		CHECK(store_tracking_first(t, 5, &it) == 0, "another sale product has none");
	}
	CHECK(store_commit(t) == STORE_OK, "tracking commit");
	store_begin(s, 0, &t);
	CHECK(store_sale_get(t, 6, &got) == STORE_OK && got.estimated_ship_date == 20500 &&
	    got.delivery_status == DELIVERY_DELIVERED && got.delivered_at == 1770000000,
	    "estimated ship date, delivery status and delivered_at round-trip");
	store_abort(t);
	{
		/* An item stored before format 6 (byte 1, without the three members) composes as a record without them renders. */
		static const char extra[] = ",\"estimated_ship_date\":null,\"delivery_status\":null,\"delivered_at\":null";
		struct buf item = { 0 }, old = { 0 }, a = { 0 }, b = { 0 }, none = { 0 };
		size_t at = 1, tail_at = 0, tn = 0;
		char *hit;

		sp = make_sale(14, 7, 0, 22, STATUS_PENDING);
		item_render(&sp, &item);
		/* Parts: label, head, tail; each a 16-bit length then its bytes.  The tail ends with the members. */
		for (int part = 0; part < 3; part++) {
			size_t n = (size_t)((unsigned char)item.p[at] << 8 | (unsigned char)item.p[at + 1]);

			tail_at = at;
			tn = n;
			at += 2 + n;
		}
		hit = memmem(item.p + tail_at + 2, tn, extra, sizeof(extra) - 1);
		CHECK(item.p[0] == 2 && hit != NULL, "a record renders an item of format 3 with the three members");
		if (hit != NULL) {
			size_t cut = sizeof(extra) - 1, n = tn - cut;

			buf_add(&old, "\x01", 1);
			buf_add(&old, item.p + 1, tail_at - 1);
			buf_add(&old, (char[]){ (char)(n >> 8), (char)(n & 0xff) }, 2);
			buf_add(&old, item.p + tail_at + 2, (size_t)(hit - (item.p + tail_at + 2)));
			buf_add(&old, hit + cut, (size_t)(item.p + item.len - hit - cut));
			CHECK(item_compose(old.p, old.len, &none, &a) == 0 && item_compose(item.p, item.len, &none, &b) == 0 &&
			    a.len == b.len && memcmp(a.p, b.p, a.len) == 0 && item_equivalent(old.p, old.len, item.p, item.len),
			    "an item of format 2 composes with the three members null");
			old.p[0] = 3;
			CHECK(item_compose(old.p, old.len, &none, &a) == -1, "an item of an unknown format does not compose");
		}
		buf_free(&item);
		buf_free(&old);
		buf_free(&a);
		buf_free(&b);
	}

	/* A failed write inside a transaction poisons it: commit refuses. */
	store_begin(s, 1, &t);
	sp = make_sale(1, 77, 0, 1, STATUS_PENDING);
	sp.quantity = 1;
	put(t, NULL, &sp);
	rc = store_sale_get(t, 77, &got);
	CHECK(rc == STORE_OK, "visible inside its transaction");
	store_abort(t);
	store_begin(s, 0, &t);
	CHECK(store_sale_get(t, 77, &got) == STORE_NOTFOUND, "aborted write left nothing");
	store_abort(t);
	store_close(s);

	/* A tiny map fills: STORE_FULL, and what was committed before stays readable. */
	snprintf(path, sizeof(path), "%s/tiny", dir);
	CHECK(store_open(&s, path, 64 * 1024, STORE_CREATE, NULL, 0) == STORE_OK, "tiny store");
	rc = STORE_OK;
	for (uint64_t i = 1; i < 100000 && rc == STORE_OK; i++) {
		store_begin(s, 1, &t);
		sp = make_sale(i, i, 0, 1, STATUS_PENDING);
		put(t, NULL, &sp);
		rc = store_commit(t);
	}
	CHECK(rc == STORE_FULL, "a full map is STORE_FULL");
	store_begin(s, 0, &t);
	CHECK(store_sale_get(t, 1, &got) == STORE_OK, "earlier records intact after the map filled");
	store_abort(t);
	store_close(s);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return UNIT_DONE();
}
