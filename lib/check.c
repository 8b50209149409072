#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <json-c/json.h>

#include "check.h"
#include "sale_json.h"
#include "stock.h"
#include "supplier.h"
#include "validate.h"

struct check {
	struct store_txn *t;
	FILE *report;
	long problems;
	struct sale_product last;  /* the after-state of the previous sale-log entry */
	struct buf item;           /* scratch: a record's rendered listing item */
	uint64_t logged;           /* sale products with a sale log */
	uint64_t sales, views, labelled, listing, orders, labels, log_seq, event_seq, logs, events, stock;
	uint64_t statuses[STATUS__MAX];  /* sale products of each status */
	uint64_t shipments;
	uint64_t tracked;          /* sale products with a delivery status */
	uint64_t tracking;         /* carrier events */
	uint64_t tracked_groups;   /* sale products with carrier events */
	uint64_t sale_events[SUPPLIER_COUNT];  /* each supplier's sale events in the outbox */
	uint64_t feed_last[SUPPLIER_COUNT];    /* the number of the last entry of its feed walked */
	uint64_t feed;             /* feed entries */
	struct tracking_group {    /* the carrier events of one sale product, read so far */
		uint64_t sale_product_id;
		enum delivery_status status;
		int64_t delivered_at;
	} group;
	store_progress_fn progress;
	void *progress_ctx;
	uint64_t done, total;      /* entries visited, of how many */
};

/* Counts one visited entry; tells the progress callback every 4096 of them. */
static void
tick(struct check *c)
{
	if (++c->done % 4096 == 0 && c->progress != NULL)
		c->progress(c->progress_ctx, c->done, c->total > c->done ? c->total : c->done);
}

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

static void
check_sale(struct check *c, const struct sale_product *sp)
{
	unsigned views[SALE_VIEWS_MAX];

	tick(c);
	c->sales++;
	c->views += (uint64_t)sale_views(sp->status, views);
	c->labelled += sp->label[0] != '\0';
	if (sp->status == STATUS_SHIPPED && sp->prepared_at == 0)
		problem(c, "sale product %" PRIu64 " is shipped without prepared_at", sp->sale_product_id);
	if (sp->status == STATUS_ACKNOWLEDGED && sp->acknowledged_at == 0)
		problem(c, "sale product %" PRIu64 " is acknowledged without acknowledged_at", sp->sale_product_id);
	if (sp->status == STATUS_REFUSED && (sp->refused_at == 0 || sp->reason == REASON_NONE || sp->prepared_at != 0))
		problem(c, "sale product %" PRIu64 " is refused without refused_at or a reason, or after shipping",
		    sp->sale_product_id);
	if (sp->status != STATUS_REFUSED && (sp->refused_at != 0 || sp->reason != REASON_NONE || sp->note[0]))
		problem(c, "sale product %" PRIu64 " is %s but keeps a refusal", sp->sale_product_id, status_name(sp->status));
	if (sp->estimated_ship_date != 0 && sp->acknowledged_at == 0)
		problem(c, "sale product %" PRIu64 " has an estimated ship date but was never acknowledged",
		    sp->sale_product_id);
	if ((sp->delivery_status != DELIVERY_NONE || sp->delivered_at != 0) && sp->prepared_at == 0)
		problem(c, "sale product %" PRIu64 " has carrier news but was never shipped", sp->sale_product_id);
	c->tracked += sp->delivery_status != DELIVERY_NONE;
	c->statuses[sp->status]++;
}

/*
 * Counts an entry of an index and fetches the sale product it names: 1 with
 * *sp; 0 when there is nothing more to check of the entry (the sale product
 * is missing, which is reported, or the read failed: the transaction's
 * sticky error then ends the walk).
 */
static int
index_entry(struct check *c, uint64_t *count, uint64_t id, struct sale_product *sp, const char *index)
{
	int got = store_sale_get(c->t, id, sp);

	tick(c);
	(*count)++;
	if (got == STORE_NOTFOUND)
		problem(c, "%s index names missing sale product %" PRIu64, index, id);
	return got == STORE_OK;
}

static void
check_listing(struct check *c, const struct listing_iter *it)
{
	struct sale_product sp;

	if (!index_entry(c, &c->listing, it->pos.sale_product_id, &sp, "listing"))
		return;
	/* The stored item must show exactly what the record renders to (an item of an older format may differ in bytes). */
	if (item_render(&sp, &c->item) != 0) {
		store_txn_fail(c->t, STORE_NOMEM);
		return;
	}
	if (sp.supplier != it->supplier || it->view >= FILTER__MAX ||
	    !sale_in_view(sp.status, (enum status_filter)it->view) || sp.order_date != it->pos.order_date ||
	    sp.increment_id != it->pos.increment_id || !item_equivalent(c->item.p, c->item.len, it->item, it->len))
		problem(c, "listing entry (view %u) disagrees with sale product %" PRIu64,
		    it->view, it->pos.sale_product_id);
}

static void
check_order(struct check *c, uint64_t inc, uint64_t id)
{
	struct sale_product sp;

	if (index_entry(c, &c->orders, id, &sp, "order") && sp.increment_id != inc)
		problem(c, "order index puts sale product %" PRIu64 " in order %" PRIu64, id, inc);
}

static void
check_label(struct check *c, const char *label, size_t len, uint64_t id)
{
	struct sale_product sp;

	if (index_entry(c, &c->labels, id, &sp, "label") &&
	    (strlen(sp.label) != len || memcmp(sp.label, label, len) != 0))
		problem(c, "label index disagrees with sale product %" PRIu64, id);
}

static void
check_shipment(struct check *c, uint64_t id, const struct package_list *l)
{
	struct sale_product sp;

	if (index_entry(c, &c->shipments, id, &sp, "shipment") &&
	    (sp.prepared_at == 0 || strcmp(sp.tracking_number, l->p[0].tracking_number) != 0))
		problem(c, "the packages of sale product %" PRIu64 " disagree with its record (never shipped, or "
		    "another first tracking number)", id);
}

/* The carrier events of the group read: its record must say what they say (latest status, last delivery). */
static void
group_ends(struct check *c)
{
	struct sale_product sp;
	const struct tracking_group *g = &c->group;

	if (g->sale_product_id == 0 || store_sale_get(c->t, g->sale_product_id, &sp) != STORE_OK)
		return;
	if (sp.delivery_status != g->status || sp.delivered_at != g->delivered_at)
		problem(c, "sale product %" PRIu64 " disagrees with its carrier events (delivery status %s, delivered at "
		    "%" PRId64 "; the events say %s, %" PRId64 ")", g->sale_product_id,
		    delivery_status_name(sp.delivery_status), sp.delivered_at, delivery_status_name(g->status),
		    g->delivered_at);
}

static void
check_tracking(struct check *c, uint64_t id, const struct tracking_event *e)
{
	struct sale_product sp;

	if (id != c->group.sale_product_id) {
		group_ends(c);
		memset(&c->group, 0, sizeof(c->group));
		if (index_entry(c, &c->tracking, id, &sp, "tracking") && sp.prepared_at == 0)
			problem(c, "sale product %" PRIu64 " has carrier events but was never shipped", id);
		c->group.sale_product_id = id;
		c->tracked_groups++;
	} else {
		tick(c);
		c->tracking++;
	}
	/* By time within a sale product: the last one read is the latest. */
	c->group.status = e->status;
	if (e->status == DELIVERY_DELIVERED)
		c->group.delivered_at = e->at;
}

static struct json_object *parse_record(const char *json, size_t len);

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
	    sp.prepared_at != c->last.prepared_at || sp.refused_at != c->last.refused_at)
		problem(c, "sale product %" PRIu64 " disagrees with its last sale-log entry", sp.sale_product_id);
}

static void
check_log(struct check *c, const struct log_entry *e)
{
	struct sale_product sp;
	int found = index_entry(c, &c->logs, e->after.sale_product_id, &sp, "sale log");

	if (found && e->after.sale_product_id != c->last.sale_product_id)
		c->logged++;
	/* Entries come by (sale product, seq): the last one of each must be its current state. */
	if (c->last.sale_product_id != 0 && c->last.sale_product_id != e->after.sale_product_id)
		last_agrees(c);
	c->last = e->after;
	if (e->seq > c->log_seq)
		problem(c, "sale log entry %" PRIu64 " is beyond the log counter %" PRIu64, e->seq, c->log_seq);
}

static void
check_event(struct check *c, uint64_t seq, const char *json, size_t len)
{
	struct json_object *o = parse_record(json, len), *id;
	uint64_t inc, sp;

	tick(c);
	c->events++;

	if (seq > c->event_seq)
		problem(c, "event %" PRIu64 " is beyond the event counter %" PRIu64, seq, c->event_seq);
	/* A stock event names SKUs of a supplier, no sale product. */
	if (o != NULL && json_object_object_get_ex(o, "type", &id) &&
	    strcmp(json_object_get_string(id), "stock.updated") == 0) {
		struct json_object *skus;

		if (!json_object_object_get_ex(o, "skus", &skus) || !json_object_is_type(skus, json_type_array) ||
		    json_object_array_length(skus) == 0)
			problem(c, "event %" PRIu64 " (stock.updated) names no SKU", seq);
		json_object_put(o);
		return;
	}
	if (o == NULL || !json_object_object_get_ex(o, "menzzo_order_id", &id) ||
	    parse_menzzo_order_id(json_object_get_string(id), strlen(json_object_get_string(id)), &inc, &sp))
		problem(c, "event %" PRIu64 " is not a JSON object with a menzzo_order_id", seq);
	else {
		struct sale_product rec;
		int rc = store_sale_get(c->t, sp, &rec), sup = event_sale_supplier(o);

		if (rc == STORE_NOTFOUND || (rc == STORE_OK && rec.increment_id != inc))
			problem(c, "event %" PRIu64 " names unknown sale product %" PRIu64, seq, sp);
		else if (rc == STORE_OK && (sup < 0 || (unsigned)sup != rec.supplier))
			problem(c, "event %" PRIu64 " names another supplier than its sale product's", seq);
		if (sup >= 0)
			c->sale_events[sup]++;
	}
	json_object_put(o);
}

/*
 * An entry of a supplier's change feed: numbered one after the last (from
 * 1: no gap, no repeat), naming an event of the outbox about a sale
 * product of that supplier.
 */
static void
check_feed(struct check *c, const struct feed_iter *it)
{
	struct json_object *o;
	const char *json;
	size_t len;
	int rc;

	tick(c);
	c->feed++;
	if (it->supplier >= SUPPLIER_COUNT) {
		problem(c, "a change feed of no supplier (%u)", it->supplier);
		return;
	}
	if (it->seq != c->feed_last[it->supplier] + 1)
		problem(c, "the change feed of %s goes from %" PRIu64 " to %" PRIu64, supplier_by_id(it->supplier)->slug,
		    c->feed_last[it->supplier], it->seq);
	c->feed_last[it->supplier] = it->seq;
	if ((rc = store_event_get(c->t, it->event_seq, &json, &len)) == STORE_NOTFOUND) {
		problem(c, "entry %" PRIu64 " of the change feed of %s names missing event %" PRIu64, it->seq,
		    supplier_by_id(it->supplier)->slug, it->event_seq);
		return;
	}
	if (rc != STORE_OK)
		return;
	o = parse_record(json, len);
	if (o == NULL || event_sale_supplier(o) != (int)it->supplier)
		problem(c, "entry %" PRIu64 " of the change feed of %s names event %" PRIu64 ", not one of its own",
		    it->seq, supplier_by_id(it->supplier)->slug, it->event_seq);
	json_object_put(o);
}

/* After the walk: each feed as long as its counter says, and holding every sale event of its supplier. */
static void
feeds_complete(struct check *c)
{
	for (unsigned sup = 0; sup < SUPPLIER_COUNT; sup++) {
		uint64_t last = 0;

		if (store_feed_last(c->t, sup, &last) != STORE_OK)
			return;
		if (last != c->feed_last[sup] || c->feed_last[sup] != c->sale_events[sup])
			problem(c, "the change feed of %s has %" PRIu64 " entries (its counter says %" PRIu64 ") for %"
			    PRIu64 " events", supplier_by_id(sup)->slug, c->feed_last[sup], last, c->sale_events[sup]);
	}
}

/* Walks every database of the store but the tokens and the counters, in one read transaction. */
static void
walk(struct check *c)
{
	struct sale_iter sale;
	struct listing_iter listing;
	struct order_entry_iter order;
	struct label_entry_iter label;
	struct log_iter log;
	struct shipment_iter ship;
	struct event_iter ev;
	struct webhook_iter hook;
	struct stock_iter stock;
	struct tracking_iter track;
	struct feed_iter feed;
	struct store_txn *t = c->t;

	for (int more = store_sales_first(t, &sale); more; more = store_sales_next(&sale))
		check_sale(c, &sale.sp);
	for (int more = store_listing_all_first(t, &listing); more; more = store_listing_next(&listing))
		check_listing(c, &listing);
	for (int more = store_order_entries_first(t, &order); more; more = store_order_entries_next(&order))
		check_order(c, order.increment_id, order.sale_product_id);
	for (int more = store_label_entries_first(t, &label); more; more = store_label_entries_next(&label))
		check_label(c, label.label, label.len, label.sale_product_id);
	for (int more = store_log_all_first(t, &log); more; more = store_log_next(&log))
		check_log(c, &log.e);
	for (int more = store_shipments_first(t, &ship); more; more = store_shipments_next(&ship))
		check_shipment(c, ship.sale_product_id, &ship.l);
	for (int more = store_events_first(t, 0, &ev); more; more = store_events_next(&ev))
		check_event(c, ev.seq, ev.json, ev.len);
	for (int more = store_tracking_all_first(t, &track); more; more = store_tracking_next(&track))
		check_tracking(c, track.sale_product_id, &track.e);
	if (store_txn_error(t) == STORE_OK)
		group_ends(c);
	/* A store read as it is before format 7 has no feeds: nothing to hold its events. */
	if (store_feed_present(t)) {
		for (int more = store_feed_all_first(t, &feed); more; more = store_feed_next(&feed))
			check_feed(c, &feed);
		if (store_txn_error(t) == STORE_OK)
			feeds_complete(c);
	}
	/* Stock records: each must decode (a record that does not is the walk's STORE_CORRUPT). */
	for (unsigned sup = 0; sup < supplier_count; sup++)
		for (int more = store_stock_first(t, sup, "", &stock); more; more = store_stock_next(&stock)) {
			tick(c);
			c->stock++;
		}
	/* Webhook endpoints: each decodes and has delivered no event its sequence does not have yet. */
	for (int more = store_webhooks_first(t, &hook); more; more = store_webhooks_next(&hook)) {
		uint64_t end;

		tick(c);
		if (store_webhook_end(t, hook.w.target, &end) == STORE_OK && hook.w.last_seq > end)
			problem(c, "webhook endpoint %u has delivered up to event %" PRIu64 " of %s, whose last is %" PRIu64,
			    hook.w.id, hook.w.last_seq, hook.w.target == WEBHOOK_BACKOFFICE ? "the outbox" :
			    supplier_by_id(hook.w.target)->slug, end);
	}
}

int
store_check(struct store *s, FILE *report, store_progress_fn progress, void *progress_ctx, long *problems)
{
	struct store_stats st;
	struct check c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.report = report;
	c.progress = progress;
	c.progress_ctx = progress_ctx;
	/* What is walked: every database but the tokens and the counters. */
	if (store_stats(s, &st) == STORE_OK)
		for (int i = 0; i < STORE_DB_COUNT; i++)
			if (strcmp(store_db_names[i], "token") != 0 && strcmp(store_db_names[i], "meta") != 0)
				c.total += st.entries[i];
	*problems = 0;
	if ((rc = store_begin(s, 0, &c.t)) != STORE_OK)
		return rc;
	if ((rc = store_counter_get(c.t, "log_seq", &c.log_seq)) == STORE_OK &&
	    (rc = store_counter_get(c.t, "event_seq", &c.event_seq)) == STORE_OK) {
		walk(&c);
		rc = store_txn_error(c.t);
	}
	if (rc == STORE_OK && c.last.sale_product_id != 0)
		last_agrees(&c);
	store_abort(c.t);
	buf_free(&c.item);
	if (progress != NULL)
		progress(progress_ctx, c.done, c.done);
	if (rc != STORE_OK) {
		fprintf(report, "check: the store could not be read: %s\n", store_strerror(rc));
		return rc;
	}
	/* Each entry checked above names a sale product that has it; equal counts mean none is missing. */
	if (c.listing != c.views)
		problem(&c, "listing index has %" PRIu64 " entries, the sale products need %" PRIu64, c.listing, c.views);
	if (c.orders != c.sales)
		problem(&c, "order index has %" PRIu64 " entries for %" PRIu64 " sale products", c.orders, c.sales);
	if (c.logged != c.sales)
		problem(&c, "%" PRIu64 " of %" PRIu64 " sale products have a sale log", c.logged, c.sales);
	if (c.tracked_groups != c.tracked)
		problem(&c, "%" PRIu64 " sale products have carrier events, %" PRIu64 " a delivery status", c.tracked_groups,
		    c.tracked);
	if (c.labels != c.labelled)
		problem(&c, "label index has %" PRIu64 " entries for %" PRIu64 " labelled sale products", c.labels, c.labelled);
	fprintf(report, "check: %" PRIu64 " sale products (%" PRIu64 " refused), %" PRIu64 " listing entries, "
	    "%" PRIu64 " sale-log entries, %" PRIu64 " events, %" PRIu64 " stock records, %" PRIu64 " carrier events, "
	    "%" PRIu64 " feed entries; %ld problem(s)\n", c.sales, c.statuses[STATUS_REFUSED], c.listing, c.logs,
	    c.events, c.stock, c.tracking, c.feed, c.problems);
	*problems = c.problems;
	return STORE_OK;
}
