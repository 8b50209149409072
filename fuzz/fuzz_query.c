/*
 * get-sales query strings: listing_query_parse on the input as QUERY_STRING,
 * and on success the canonical form (the cache key's tail), which must parse
 * back to the same query and the same canonical text.
 */
#include "listing.h"
#include "request.h"

#include "fuzz.h"

static void
check_query(const struct listing_query *q)
{
	CHECK(q->page >= 1 && q->page <= 1000000);
	CHECK(q->date_from <= q->date_to);
	CHECK(q->has_date_from || q->date_from == 0);
	CHECK(q->has_date_to || q->date_to == UINT32_MAX);
	CHECK(!q->has_last || q->last.increment_id >= 1);
	CHECK(!q->has_order || q->order.increment_id >= 1);
	CHECK((unsigned)q->status < FILTER__MAX);
	CHECK(q->has_status || q->status == (q->has_order ? FILTER_ALL : FILTER_OPEN));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct listing_query q, q2;
	enum listing_param bad, bad2;
	char err[200] = "", err2[200] = "";
	struct buf c1 = { 0 }, c2 = { 0 };

	/* Length-delimited: data itself, so a read past size is caught. */
	if (listing_query_parse((const char *)data, size, &q, &bad, err, sizeof(err)) != 0) {
		CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(bad < Q__MAX || (bad == Q__MAX && size > QUERY_MAX));
		return 0;
	}
	CHECK(size <= QUERY_MAX);
	check_query(&q);
	listing_query_canonical(&q, &c1);
	CHECK(c1.p != NULL && strlen(c1.p) == c1.len);
	CHECK(listing_query_parse(c1.p, c1.len, &q2, &bad2, err2, sizeof(err2)) == 0);
	check_query(&q2);
	CHECK(q2.page == q.page && q2.status == q.status && q2.has_status);
	CHECK(q2.has_date_from == q.has_date_from && q2.date_from == q.date_from);
	CHECK(q2.has_date_to == q.has_date_to && q2.date_to == q.date_to);
	CHECK(q2.has_last == q.has_last && q2.last.increment_id == q.last.increment_id &&
	    q2.last.sale_product_id == q.last.sale_product_id);
	CHECK(q2.has_order == q.has_order && q2.order.increment_id == q.order.increment_id &&
	    q2.order.sale_product_id == q.order.sale_product_id);
	listing_query_canonical(&q2, &c2);
	CHECK(c2.len == c1.len && memcmp(c1.p, c2.p, c1.len) == 0);
	buf_free(&c1);
	buf_free(&c2);
	return 0;
}
