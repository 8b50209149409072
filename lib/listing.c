#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sale_json.h"
#include "listing.h"
#include "request.h"

/* Every get-sales parameter raises the same code; the sentence names the parameter. */
#define PARAM(name, valid, message) { name, valid, "invalid_parameter", message }

const struct field_rule listing_params[Q__MAX] = {
	[Q_PAGE] = PARAM("page", field_page, "Parameter page must be an integer from 1 to 1000000."),
	[Q_DATE_FROM] = PARAM("date_from", field_date, "Parameter date_from must be a real date YYYY-MM-DD."),
	[Q_DATE_TO] = PARAM("date_to", field_date, "Parameter date_to must be a real date YYYY-MM-DD."),
	[Q_LAST] = PARAM("last_menzzo_order_number", field_order_ref, "Parameter last_menzzo_order_number must "
	    "be a menzzo_order_id ({increment_id}_{sale_product_id}) or an increment_id."),
	[Q_ORDER] = PARAM("order_number", field_order_ref,
	    "Parameter order_number must be an increment_id or a menzzo_order_id."),
	[Q_STATUS] = { "status", field_status_filter, "invalid_parameter", "Parameter status must be one of",
	    .one_of = status_filter_names_join },
};

int
listing_query_parse(const char *qs, size_t len, struct listing_query *q, enum listing_param *bad,
    char *err, size_t errlen)
{
	struct field f[Q__MAX];
	int idx = Q__MAX, ret = -1;

	memset(f, 0, sizeof(f));
	memset(q, 0, sizeof(*q));
	*bad = Q__MAX;
	if (len > QUERY_MAX) {
		snprintf(err, errlen, "The query string is longer than %d bytes.", QUERY_MAX);
		return -1;
	}
	switch (form_parse(qs, len, listing_params, Q__MAX, f, &idx)) {
	case PARSE_OK:
		break;
	case PARSE_INVALID: {
		const char *m = field_message(&listing_params[idx], err, errlen);

		*bad = (enum listing_param)idx;
		if (m != err)
			snprintf(err, errlen, "%s", m);
		goto out;
	}
	case PARSE_NOMEM:
		snprintf(err, errlen, "Out of memory.");
		goto out;
	default:
		*bad = (enum listing_param)idx;
		snprintf(err, errlen, "Parameter %s is malformed or given twice.", listing_params[idx].name);
		goto out;
	}
	q->page = f[Q_PAGE].set ? f[Q_PAGE].parsed.number : 1;
	q->has_date_from = f[Q_DATE_FROM].set;
	q->date_from = q->has_date_from ? f[Q_DATE_FROM].parsed.date : 0;
	q->has_date_to = f[Q_DATE_TO].set;
	q->date_to = q->has_date_to ? f[Q_DATE_TO].parsed.date : UINT32_MAX;
	if ((q->has_last = f[Q_LAST].set))
		q->last = f[Q_LAST].parsed.ref;
	if ((q->has_order = f[Q_ORDER].set))
		q->order = f[Q_ORDER].parsed.ref;
	q->has_status = f[Q_STATUS].set;
	q->status = q->has_status ? f[Q_STATUS].parsed.status : q->has_order ? FILTER_ALL : FILTER_OPEN;
	if (q->date_from > q->date_to) {
		*bad = Q_DATE_FROM;
		snprintf(err, errlen, "Parameter date_from must not be after date_to.");
		goto out;
	}
	ret = 0;
out:
	fields_free(f, Q__MAX);
	return ret;
}

static void
add_ref(struct buf *b, enum listing_param p, const struct order_ref *ref)
{
	char id[MENZZO_ORDER_ID_MAX + 1];

	if (ref->sale_product_id)
		format_menzzo_order_id(ref->increment_id, ref->sale_product_id, id);
	else
		snprintf(id, sizeof(id), "%llu", (unsigned long long)ref->increment_id);
	buf_addf(b, "%s%s=%s", b->len ? "&" : "", listing_params[p].name, id);
}

static void
add_date(struct buf *b, enum listing_param p, uint32_t days)
{
	char d[DATE_LEN + 1];

	format_date(days, d);
	buf_addf(b, "%s%s=%s", b->len ? "&" : "", listing_params[p].name, d);
}

/*
 * The one writer of a get-sales query, appended to out (which must be
 * empty): status, the dates, order_number, then cursor as
 * last_menzzo_order_number when it is given.  canonical spells out the
 * effective status and the page (the cache key); otherwise status is kept
 * only when it was given and page is left out (a Link built on the cursor).
 */
static void
query_write(struct buf *out, const struct listing_query *q, int canonical, const struct order_ref *cursor)
{
	if (canonical || q->has_status)
		buf_addf(out, "%s=%s", listing_params[Q_STATUS].name, status_filter_name(q->status));
	if (q->has_date_from)
		add_date(out, Q_DATE_FROM, q->date_from);
	if (q->has_date_to)
		add_date(out, Q_DATE_TO, q->date_to);
	if (q->has_order)
		add_ref(out, Q_ORDER, &q->order);
	if (cursor != NULL)
		add_ref(out, Q_LAST, cursor);
	if (canonical)
		buf_addf(out, "&%s=%llu", listing_params[Q_PAGE].name, (unsigned long long)q->page);
}

void
listing_query_canonical(const struct listing_query *q, struct buf *out)
{
	struct buf tail = { 0 };

	query_write(&tail, q, 1, q->has_last ? &q->last : NULL);
	buf_add(out, tail.p, tail.len);
	buf_free(&tail);
}

static int
pos_cmp(const struct listing_pos *a, const struct listing_pos *b)
{
	if (a->order_date != b->order_date)
		return a->order_date < b->order_date ? -1 : 1;
	if (a->increment_id != b->increment_id)
		return a->increment_id < b->increment_id ? -1 : 1;
	if (a->sale_product_id != b->sale_product_id)
		return a->sale_product_id < b->sale_product_id ? -1 : 1;
	return 0;
}

static struct listing_pos
pos_of(const struct sale_product *sp)
{
	struct listing_pos p = { sp->order_date, sp->increment_id, sp->sale_product_id };
	return p;
}

static int
sale_cmp(const void *a, const void *b)
{
	struct listing_pos pa = pos_of(a), pb = pos_of(b);
	return pos_cmp(&pa, &pb);
}

/* A page being filled. */
struct page {
	const struct listing_query *q;
	unsigned supplier;
	const struct listing_pos *after;
	struct buf link_prefix;
	struct buf *body;
	size_t size, shown;
	int more;                /* one more item exists after the page */
	struct listing_pos last; /* the page's last item */
};

/* Appends a stored item to the page, or notes (pg->more) that one more exists: STORE_OK or STORE_CORRUPT. */
static int
page_add(struct page *pg, const struct listing_pos *pos, const void *item, size_t len)
{
	if (pg->shown == pg->size) {
		pg->more = 1;
		return STORE_OK;
	}
	if (pg->shown > 0)
		buf_add(pg->body, ",", 1);
	if (item_compose(item, len, &pg->link_prefix, pg->body) != 0)
		return STORE_CORRUPT;
	pg->shown++;
	pg->last = *pos;
	return STORE_OK;
}

/* Whether a sale product of the order passes every filter of the query. */
static int
order_item_kept(const struct page *pg, const struct sale_product *sp)
{
	struct listing_pos p = pos_of(sp);

	return sp->supplier == pg->supplier && sale_in_view(sp->status, pg->q->status) &&
	    sp->order_date >= pg->q->date_from && sp->order_date <= pg->q->date_to &&
	    (pg->after == NULL || pos_cmp(&p, pg->after) > 0);
}

/* Appends sp to items[0..*n), growing it: 0, or STORE_NOMEM. */
static int
keep(struct sale_product **items, size_t *n, size_t *cap, const struct sale_product *sp)
{
	if (*n == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 16;
		struct sale_product *grown = realloc(*items, grown_cap * sizeof(*grown));

		if (grown == NULL)
			return STORE_NOMEM;
		*items = grown;
		*cap = grown_cap;
	}
	(*items)[(*n)++] = *sp;
	return 0;
}

/* order_number: the order's sale products that pass every filter, sorted and paged as the index would be. */
static int
page_order(struct store_txn *t, struct page *pg, uint64_t skip)
{
	const struct order_ref *o = &pg->q->order;
	struct sale_product *items = NULL;
	struct sale_iter it;
	struct buf item = { 0 };
	size_t n = 0, cap = 0;
	int rc = STORE_OK;

	if (o->sale_product_id) {
		rc = store_sale_get(t, o->sale_product_id, &it.sp);
		if (rc == STORE_OK && it.sp.increment_id == o->increment_id && order_item_kept(pg, &it.sp))
			rc = keep(&items, &n, &cap, &it.sp);
		else if (rc == STORE_NOTFOUND)
			rc = STORE_OK;
	} else {
		for (int more = store_order_sales_first(t, o->increment_id, &it); more && rc == STORE_OK;
		    more = store_sales_next(&it))
			if (order_item_kept(pg, &it.sp))
				rc = keep(&items, &n, &cap, &it.sp);
		if (rc == STORE_OK)
			rc = store_txn_error(t);
	}
	if (rc == STORE_OK && n > 1)
		qsort(items, n, sizeof(*items), sale_cmp);
	for (size_t i = (size_t)(skip < n ? skip : n); rc == STORE_OK && i < n && !pg->more; i++) {
		struct listing_pos pos = pos_of(&items[i]);

		rc = item_render(&items[i], &item) != 0 ? STORE_NOMEM : page_add(pg, &pos, item.p, item.len);
	}
	buf_free(&item);
	free(items);
	return rc;
}

/* The page from the listing index: its entries hold the rendered items. */
static int
page_listing(struct store_txn *t, struct page *pg, uint64_t skip)
{
	const struct listing_query *q = pg->q;
	struct listing_iter it;
	int rc = STORE_OK;

	for (int more = store_listing_first(t, pg->supplier, q->status, pg->after, q->date_from, q->date_to, skip, &it);
	    more && rc == STORE_OK && !pg->more; more = store_listing_next(&it))
		rc = page_add(pg, &it.pos, it.item, it.len);
	return rc != STORE_OK ? rc : store_txn_error(t);
}

/* The listing position of the cursor: STORE_OK with *found (0 when this supplier never had it), or a store error. */
static int
resolve_cursor(struct store_txn *t, unsigned supplier, const struct order_ref *last, struct listing_pos *pos,
    int *found)
{
	struct sale_iter it;
	int rc;

	*found = 0;
	if (last->sale_product_id) {
		rc = store_sale_get(t, last->sale_product_id, &it.sp);
		if (rc == STORE_NOTFOUND)
			return STORE_OK;
		if (rc != STORE_OK)
			return rc;
		if ((*found = it.sp.supplier == supplier && it.sp.increment_id == last->increment_id))
			*pos = pos_of(&it.sp);
		return STORE_OK;
	}
	/* An increment_id: the furthest of the order's sale products of this supplier. */
	for (int more = store_order_sales_first(t, last->increment_id, &it); more; more = store_sales_next(&it)) {
		struct listing_pos p = pos_of(&it.sp);

		if (it.sp.supplier == supplier && (!*found || pos_cmp(&p, pos) > 0)) {
			*pos = p;
			*found = 1;
		}
	}
	return store_txn_error(t);
}

enum listing_result
listing_run(struct store_txn *t, const struct config *cfg, unsigned supplier,
    const struct listing_query *q, struct buf *body, struct buf *next, int *err)
{
	struct listing_pos after;
	struct page pg = { .q = q, .supplier = supplier, .body = body, .size = cfg->page_size };
	uint64_t skip = (q->page - 1) * cfg->page_size;
	int rc;

	if (q->has_last) {
		int found;

		if ((rc = resolve_cursor(t, supplier, &q->last, &after, &found)) != STORE_OK) {
			*err = rc;
			return LISTING_FAILED;
		}
		if (!found)
			return LISTING_BAD_CURSOR;
		pg.after = &after;
	}
	item_link_prefix(cfg, &pg.link_prefix);
	/* A page's items are about 280 bytes each: one allocation for the whole page, not a doubling series. */
	buf_reserve(body, (size_t)cfg->page_size * 320 + 2);
	buf_add(body, "[", 1);
	rc = q->has_order ? page_order(t, &pg, skip) : page_listing(t, &pg, skip);
	buf_free(&pg.link_prefix);
	if (rc != STORE_OK) {
		*err = rc;
		return LISTING_FAILED;
	}
	buf_add(body, "]", 1);
	if (pg.more) {
		struct order_ref cursor = { pg.last.increment_id, pg.last.sale_product_id };
		query_write(next, q, 0, &cursor);
	}
	return LISTING_OK;
}
