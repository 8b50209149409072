#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <json-c/json.h>

#include "check.h"
#include "sales.h"
#include "supplier.h"

struct check {
	struct store_txn *t;
	FILE *report;
	long problems;
	struct sale_product last;  /* the after-state of the previous sale-log entry */
	struct buf item;           /* scratch: a record's rendered listing item */
	uint64_t logged;           /* sale products with a sale log */
	uint64_t sales, views, labelled, listing, orders, labels, log_seq, event_seq, logs, events;
};

static void problem(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
problem(struct check *c, const char *fmt, ...)
{
	va_list ap;

	fputs("check: ", c->report);
	va_start(ap, fmt);
	vfprintf(c->report, fmt, ap);
	va_end(ap);
	fputc('\n', c->report);
	c->problems++;
}

static int
on_sale(void *ctx, const struct sale_product *sp)
{
	struct check *c = ctx;

	c->sales++;
	c->views += sp->status == STATUS_PENDING || sp->status == STATUS_ACKNOWLEDGED ? 3 : 2;
	c->labelled += sp->label[0] != '\0';
	if (sp->status == STATUS_SHIPPED && sp->prepared_at == 0)
		problem(c, "sale product %" PRIu64 " is shipped without prepared_at", sp->sale_product_id);
	if (sp->status == STATUS_ACKNOWLEDGED && sp->acknowledged_at == 0)
		problem(c, "sale product %" PRIu64 " is acknowledged without acknowledged_at", sp->sale_product_id);
	return 0;
}

/* Fetches the sale product an index entry names; reports and returns -1 when it is missing. */
static int
named(struct check *c, uint64_t id, struct sale_product *sp, const char *index)
{
	int rc = store_sale_get(c->t, id, sp);

	if (rc == STORE_NOTFOUND) {
		fprintf(c->report, "check: %s index names missing sale product %" PRIu64 "\n", index,
		    id);
		c->problems++;
		return -1;
	}
	return rc == STORE_OK ? 0 : -rc;
}

static int
on_listing(void *ctx, unsigned supplier, unsigned view, const struct listing_pos *pos,
    const void *item, size_t len)
{
	struct check *c = ctx;
	struct sale_product sp;
	int rc = named(c, pos->sale_product_id, &sp, "listing");
	int in_view;

	c->listing++;
	if (rc == -1)
		return 0;
	if (rc < 0)
		return -rc;
	in_view = view == FILTER_ALL || view == sp.status ||
	    (view == FILTER_OPEN && (sp.status == STATUS_PENDING || sp.status == STATUS_ACKNOWLEDGED));
	/* The stored item must be exactly what the record renders to. */
	c->item.len = 0;
	if (sale_item_value(&sp, &c->item) != 0)
		return STORE_NOMEM;
	if (sp.supplier != supplier || !in_view || sp.order_date != pos->order_date ||
	    sp.increment_id != pos->increment_id || c->item.len != len || memcmp(c->item.p, item, len) != 0)
		problem(c, "listing entry (view %u) disagrees with sale product %" PRIu64,
		    view, pos->sale_product_id);
	return 0;
}

static int
on_order(void *ctx, uint64_t inc, uint64_t id)
{
	struct check *c = ctx;
	struct sale_product sp;
	int rc = named(c, id, &sp, "order");

	c->orders++;
	if (rc == -1)
		return 0;
	if (rc < 0)
		return -rc;
	if (sp.increment_id != inc)
		problem(c, "order index puts sale product %" PRIu64 " in order %" PRIu64, id, inc);
	return 0;
}

static int
on_label(void *ctx, const char *label, size_t len, uint64_t id)
{
	struct check *c = ctx;
	struct sale_product sp;
	int rc = named(c, id, &sp, "label");

	c->labels++;
	if (rc == -1)
		return 0;
	if (rc < 0)
		return -rc;
	if (strlen(sp.label) != len || memcmp(sp.label, label, len) != 0)
		problem(c, "label index disagrees with sale product %" PRIu64, id);
	return 0;
}

static struct json_object *
parse_record(const char *json, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL;

	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* The newest sale-log state of a sale product against its record. */
static void
last_agrees(struct check *c)
{
	struct sale_product sp;

	if (store_sale_get(c->t, c->last.sale_product_id, &sp) != STORE_OK)
		return;
	if (sp.status != c->last.status || sp.acknowledged_at != c->last.acknowledged_at ||
	    sp.prepared_at != c->last.prepared_at)
		problem(c, "sale product %" PRIu64 " disagrees with its last sale-log entry", sp.sale_product_id);
}

static int
on_log(void *ctx, const struct log_entry *e)
{
	struct check *c = ctx;
	struct sale_product sp;
	int rc = named(c, e->after.sale_product_id, &sp, "sale log");

	if (rc == 0 && e->after.sale_product_id != c->last.sale_product_id)
		c->logged++;
	/* Entries come by (sale product, seq): the last one of each must be its current state. */
	if (c->last.sale_product_id != 0 && c->last.sale_product_id != e->after.sale_product_id)
		last_agrees(c);
	c->last = e->after;
	if (e->seq > c->log_seq)
		problem(c, "sale log entry %" PRIu64 " is beyond the log counter %" PRIu64, e->seq, c->log_seq);
	c->logs++;
	return rc < -1 ? -rc : 0;
}

static int
on_event(void *ctx, uint64_t seq, uint64_t seq2, const char *json, size_t len)
{
	struct check *c = ctx;
	struct json_object *o = parse_record(json, len), *id;
	uint64_t inc, sp;
	(void)seq2;
	c->events++;

	if (seq > c->event_seq)
		problem(c, "event %" PRIu64 " is beyond the event counter %" PRIu64, seq, c->event_seq);
	if (o == NULL || !json_object_object_get_ex(o, "menzzo_order_id", &id) ||
	    parse_menzzo_order_id(json_object_get_string(id), strlen(json_object_get_string(id)), &inc, &sp))
		problem(c, "event %" PRIu64 " is not a JSON object with a menzzo_order_id", seq);
	else {
		struct sale_product rec;
		int rc = store_sale_get(c->t, sp, &rec);
		if (rc == STORE_NOTFOUND || (rc == STORE_OK && rec.increment_id != inc))
			problem(c, "event %" PRIu64 " names unknown sale product %" PRIu64, seq, sp);
	}
	json_object_put(o);
	return 0;
}

long
store_check(struct store *s, FILE *report)
{
	struct check c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.report = report;
	if ((rc = store_begin(s, 0, &c.t)) != STORE_OK)
		return -rc;
	if ((rc = store_counter_get(c.t, "log_seq", &c.log_seq)) == STORE_OK &&
	    (rc = store_counter_get(c.t, "event_seq", &c.event_seq)) == STORE_OK &&
	    (rc = store_sale_scan(c.t, on_sale, &c)) == STORE_OK &&
	    (rc = store_listing_raw_scan(c.t, on_listing, &c)) == STORE_OK &&
	    (rc = store_order_raw_scan(c.t, on_order, &c)) == STORE_OK &&
	    (rc = store_label_raw_scan(c.t, on_label, &c)) == STORE_OK &&
	    (rc = store_log_scan_all(c.t, on_log, &c)) == STORE_OK)
		rc = store_event_scan(c.t, 0, on_event, &c);
	if (rc == STORE_OK && c.last.sale_product_id != 0)
		last_agrees(&c);
	store_abort(c.t);
	buf_free(&c.item);
	if (rc != STORE_OK) {
		fprintf(report, "check: the store could not be read: %s\n", store_strerror(rc));
		return -rc;
	}
	/* Each entry checked above names a sale product that has it; equal counts mean none is missing. */
	if (c.listing != c.views)
		problem(&c, "listing index has %" PRIu64 " entries, the sale products need %" PRIu64, c.listing, c.views);
	if (c.orders != c.sales)
		problem(&c, "order index has %" PRIu64 " entries for %" PRIu64 " sale products", c.orders, c.sales);
	if (c.logged != c.sales)
		problem(&c, "%" PRIu64 " of %" PRIu64 " sale products have a sale log", c.logged, c.sales);
	if (c.labels != c.labelled)
		problem(&c, "label index has %" PRIu64 " entries for %" PRIu64 " labelled sale products", c.labels, c.labelled);
	fprintf(report, "check: %" PRIu64 " sale products, %" PRIu64 " listing entries, %" PRIu64 " sale-log entries, "
	    "%" PRIu64 " events; %ld problem(s)\n", c.sales, c.listing,
	    c.logs, c.events, c.problems);
	return c.problems;
}
