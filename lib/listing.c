#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "listing.h"
#include "request.h"
#include "sales.h"

const char *const listing_param_names[P__MAX] = {
	"page", "date_from", "date_to", "last_menzzo_order_number", "order_number", "status",
};

#define PAGE_MAX 1000000

int
listing_query_parse(const char *qs, size_t len, struct listing_query *q, enum listing_param *bad,
    char *err, size_t errlen)
{
	struct field f[P__MAX];
	int idx = -1, ret = -1;
	enum parse_result pr;

	memset(f, 0, sizeof(f));
	memset(q, 0, sizeof(*q));
	q->page = 1;
	q->date_to = UINT32_MAX;
	*bad = P__MAX;
	if (len > QUERY_MAX) {
		snprintf(err, errlen, "The query string is longer than %d bytes.", QUERY_MAX);
		return -1;
	}
	pr = form_parse(qs, len, listing_param_names, P__MAX, f, &idx);
	if (pr == PARSE_NOMEM) {
		snprintf(err, errlen, "Out of memory.");
		goto out;
	}
	if (pr != PARSE_OK) {
		*bad = (enum listing_param)idx;
		snprintf(err, errlen, "Parameter %s is malformed or given twice.", listing_param_names[idx]);
		goto out;
	}
#define INVALID(p, msg) do { *bad = (p); snprintf(err, errlen, "%s", msg); goto out; } while (0)
	if (f[P_PAGE].set && parse_uint(f[P_PAGE].val, f[P_PAGE].len, 1, PAGE_MAX, &q->page))
		INVALID(P_PAGE, "Parameter page must be an integer from 1 to 1000000.");
	if (f[P_DATE_FROM].set) {
		if (parse_date(f[P_DATE_FROM].val, f[P_DATE_FROM].len, &q->date_from))
			INVALID(P_DATE_FROM, "Parameter date_from must be a real date YYYY-MM-DD.");
		q->has_date_from = 1;
	}
	if (f[P_DATE_TO].set) {
		if (parse_date(f[P_DATE_TO].val, f[P_DATE_TO].len, &q->date_to))
			INVALID(P_DATE_TO, "Parameter date_to must be a real date YYYY-MM-DD.");
		q->has_date_to = 1;
	}
	if (q->date_from > q->date_to)
		INVALID(P_DATE_FROM, "Parameter date_from must not be after date_to.");
	if (f[P_LAST].set) {
		int has_sp;
		if (parse_order_ref(f[P_LAST].val, f[P_LAST].len, &q->last_inc, &q->last_sp, &has_sp))
			INVALID(P_LAST, "Parameter last_menzzo_order_number must be a menzzo_order_id "
			    "({increment_id}_{sale_product_id}) or an increment_id.");
		q->has_last = 1;
	}
	if (f[P_ORDER].set) {
		int has_sp;
		if (parse_order_ref(f[P_ORDER].val, f[P_ORDER].len, &q->order_inc, &q->order_sp, &has_sp))
			INVALID(P_ORDER, "Parameter order_number must be an increment_id or a menzzo_order_id.");
		q->has_order = 1;
	}
	q->status = q->has_order ? FILTER_ALL : FILTER_OPEN;
	if (f[P_STATUS].set) {
		if (parse_status_filter(f[P_STATUS].val, f[P_STATUS].len, &q->status))
			INVALID(P_STATUS, "Parameter status must be open, pending, acknowledged, shipped, "
			    "cancelled or all.");
		q->has_status = 1;
	}
#undef INVALID
	ret = 0;
out:
	fields_free(f, P__MAX);
	return ret;
}

static void
add_order_ref(struct buf *b, const char *name, uint64_t inc, uint64_t sp)
{
	char id[MENZZO_ORDER_ID_MAX + 1];

	if (sp)
		format_menzzo_order_id(inc, sp, id);
	else
		snprintf(id, sizeof(id), "%llu", (unsigned long long)inc);
	buf_addf(b, "%s%s=%s", b->len ? "&" : "", name, id);
}

static void
add_date(struct buf *b, const char *name, uint32_t days)
{
	char d[DATE_LEN + 1];

	format_date(days, d);
	buf_addf(b, "%s%s=%s", b->len ? "&" : "", name, d);
}

void
listing_query_canonical(const struct listing_query *q, struct buf *out)
{
	buf_addf(out, "status=%s", status_filter_name(q->status));
	if (q->has_date_from)
		add_date(out, "date_from", q->date_from);
	if (q->has_date_to)
		add_date(out, "date_to", q->date_to);
	if (q->has_order)
		add_order_ref(out, "order_number", q->order_inc, q->order_sp);
	if (q->has_last)
		add_order_ref(out, "last_menzzo_order_number", q->last_inc, q->last_sp);
	buf_addf(out, "&page=%llu", (unsigned long long)q->page);
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

/* What a scan collects. */
struct collect {
	const struct listing_query *q;
	struct buf link_prefix;
	unsigned supplier;
	const struct listing_pos *after;
	/* order path: the order's matching sale products, paged afterwards */
	struct sale_product *items;
	size_t n, cap;
	/* index path: the page's items, rendered into body as they come */
	struct buf *body;
	size_t page, shown;
	int more;               /* one more item exists after the page */
	struct listing_pos last;/* the page's last item */
	/* cursor resolution: the furthest item seen */
	struct listing_pos max;
	int found;
};

static int
status_matches(enum status_filter f, enum sale_status s)
{
	if (f == FILTER_ALL)
		return 1;
	if (f == FILTER_OPEN)
		return s == STATUS_PENDING || s == STATUS_ACKNOWLEDGED;
	return (int)f == (int)s;
}

/* Order path: keeps the order's sale products that pass every filter. */
static int
collect_sale(void *ctx, const struct sale_product *sp)
{
	struct collect *c = ctx;
	struct listing_pos p = pos_of(sp);

	if (sp->supplier != c->supplier || !status_matches(c->q->status, sp->status) ||
	    sp->order_date < c->q->date_from || sp->order_date > c->q->date_to ||
	    (c->after != NULL && pos_cmp(&p, c->after) <= 0))
		return 0;
	if (c->n == c->cap) {
		struct sale_product *grown;
		c->cap = c->cap ? c->cap * 2 : 16;
		if ((grown = realloc(c->items, c->cap * sizeof(*grown))) == NULL)
			return STORE_NOMEM;
		c->items = grown;
	}
	c->items[c->n++] = *sp;
	return 0;
}

/* Index path: appends the stored item to the page, or notes that one more exists. */
static int
collect_item(void *ctx, const struct listing_pos *pos, const void *item, size_t len)
{
	struct collect *c = ctx;

	if (c->shown == c->page) {
		c->more = 1;
		return 1;
	}
	if (c->shown > 0)
		buf_add(c->body, ",", 1);
	if (sale_item_compose(item, len, &c->link_prefix, c->body) != 0)
		return STORE_CORRUPT;
	c->shown++;
	c->last = *pos;
	return 0;
}

static int
cursor_item(void *ctx, const struct sale_product *sp)
{
	struct collect *c = ctx;
	struct listing_pos p = pos_of(sp);

	if (sp->supplier != c->supplier)
		return 0;
	if (!c->found || pos_cmp(&p, &c->max) > 0)
		c->max = p;
	c->found = 1;
	return 0;
}

/* The listing position of the cursor; -1 when this supplier never had it. */
static int
resolve_cursor(struct store_txn *t, unsigned supplier, const struct listing_query *q,
    struct listing_pos *pos, int *err)
{
	struct collect c = { .supplier = supplier };
	struct sale_product sp;
	int rc;

	if (q->last_sp) {
		rc = store_sale_get(t, q->last_sp, &sp);
		if (rc == STORE_NOTFOUND)
			return -1;
		if (rc != STORE_OK) {
			*err = rc;
			return -2;
		}
		if (sp.supplier != supplier || sp.increment_id != q->last_inc)
			return -1;
		*pos = pos_of(&sp);
		return 0;
	}
	if ((rc = store_order_scan(t, q->last_inc, cursor_item, &c)) != STORE_OK) {
		*err = rc;
		return -2;
	}
	if (!c.found)
		return -1;
	*pos = c.max;
	return 0;
}

enum listing_result
listing_run(struct store_txn *t, const struct config *cfg, unsigned supplier,
    const struct listing_query *q, struct buf *body, struct buf *next, int *err)
{
	struct listing_pos after;
	struct collect c = { .q = q, .supplier = supplier, .body = body, .page = cfg->page_size };
	uint64_t skip = (q->page - 1) * cfg->page_size;
	int rc;

	if (q->has_last) {
		rc = resolve_cursor(t, supplier, q, &after, err);
		if (rc == -1)
			return LISTING_BAD_CURSOR;
		if (rc != 0)
			return LISTING_FAILED;
		c.after = &after;
	}
	sale_link_prefix(cfg, &c.link_prefix);
	buf_add(body, "[", 1);
	if (q->has_order) {
		struct sale_product sp;
		struct buf item = { 0 };

		if (q->order_sp) {
			rc = store_sale_get(t, q->order_sp, &sp);
			if (rc == STORE_OK && sp.increment_id == q->order_inc)
				rc = collect_sale(&c, &sp);
			else if (rc == STORE_NOTFOUND)
				rc = STORE_OK;
		} else
			rc = store_order_scan(t, q->order_inc, collect_sale, &c);
		if (rc == STORE_OK && c.n > 1)
			qsort(c.items, c.n, sizeof(*c.items), sale_cmp);
		/* Page the order's items as the index would, rendered the same way. */
		for (size_t i = (size_t)(skip < c.n ? skip : c.n); rc == STORE_OK && i < c.n; i++) {
			if (c.shown == c.page) {
				c.more = 1;
				break;
			}
			item.len = 0;
			if (sale_item_value(&c.items[i], &item) != 0)
				rc = STORE_NOMEM;
			else
				rc = collect_item(&c, &(struct listing_pos){ c.items[i].order_date,
				    c.items[i].increment_id, c.items[i].sale_product_id }, item.p, item.len);
		}
		buf_free(&item);
		free(c.items);
	} else
		rc = store_listing_scan(t, supplier, q->status, c.after, q->date_from,
		    q->date_to, skip, collect_item, &c);
	buf_free(&c.link_prefix);
	if (rc != STORE_OK) {
		*err = rc;
		return LISTING_FAILED;
	}
	buf_add(body, "]", 1);
	if (c.more) {
		if (q->has_status)
			buf_addf(next, "status=%s", status_filter_name(q->status));
		if (q->has_date_from)
			add_date(next, "date_from", q->date_from);
		if (q->has_date_to)
			add_date(next, "date_to", q->date_to);
		if (q->has_order)
			add_order_ref(next, "order_number", q->order_inc, q->order_sp);
		add_order_ref(next, "last_menzzo_order_number", c.last.increment_id, c.last.sale_product_id);
	}
	return LISTING_OK;
}
