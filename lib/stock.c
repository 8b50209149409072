/*
 * POST /api/{supplier}/update-stock and GET /api/{supplier}/get-stock
 * (SPEC §9): a supplier's stock by SKU, written all or nothing in one
 * transaction, unchanged SKUs counted and not rewritten, a stock.updated
 * event naming the SKUs a request changed; read back by SKU order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cgi.h"
#include "sale_json.h"
#include "stock.h"
#include "validate.h"

#define PAGE 100
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static int
same_stock(const struct stock_record *a, const struct stock_record *b)
{
	return a->quantity == b->quantity && a->lead_time_days == b->lead_time_days &&
	    a->has_next_available == b->has_next_available && a->next_available == b->next_available;
}

/* The event of a request that changed SKUs (skus: a JSON array, taken). */
static int
write_stock_event(struct store_txn *t, const struct cgi *c, struct json_object *skus)
{
	struct json_object *e = json_object_new_object();
	const char *s;
	uint64_t seq;
	size_t len;
	int rc;

	if ((rc = store_counter_next(t, "event_seq", &seq)) != STORE_OK) {
		json_object_put(e);
		json_object_put(skus);
		return rc;
	}
	json_object_object_add(e, "seq", json_object_new_uint64(seq));
	json_object_object_add(e, "type", json_object_new_string("stock.updated"));
	json_object_object_add(e, "supplier", json_object_new_string(c->supplier->slug));
	json_object_object_add(e, "at", timestamp_json(c->now));
	json_object_object_add(e, "skus", skus);
	s = json_object_to_json_string_length(e, JSON_FLAGS, &len);
	rc = s != NULL ? store_event_put(t, seq, s, len) : store_txn_fail(t, STORE_NOMEM);
	json_object_put(e);
	return rc;
}

struct counts {
	unsigned updated, unchanged, zeroed;
};

/* The SKUs of this supplier that a full update sets to 0: those with stock that the request does not name. */
static int
zero_others(struct store_txn *t, const struct cgi *c, const struct stock_request *r, struct json_object *skus,
    struct counts *k)
{
	struct stock_record *others = NULL;
	size_t m = 0, cap = 0;
	struct stock_iter it;
	int rc = STORE_OK;

	/* Collected first, then written: a scan must not write the database it walks. */
	for (int more = store_stock_first(t, supplier_id(c->supplier), "", &it); more; more = store_stock_next(&it)) {
		if (it.rec.quantity == 0 || stock_request_names(r, it.rec.sku))
			continue;
		if (m == cap) {
			struct stock_record *grown = realloc(others, (cap = cap ? cap * 2 : 64) * sizeof(*others));

			if (grown == NULL) {
				rc = store_txn_fail(t, STORE_NOMEM);
				break;
			}
			others = grown;
		}
		others[m++] = it.rec;
	}
	for (size_t i = 0; i < m && rc == STORE_OK && store_txn_error(t) == STORE_OK; i++) {
		others[i].quantity = 0;
		others[i].updated_at = c->now;
		store_stock_put(t, &others[i]);
		json_object_array_add(skus, json_object_new_string(others[i].sku));
		k->zeroed++;
	}
	free(others);
	return store_txn_error(t);
}

/* The request's records written in one transaction (one of them unchanged: counted, not rewritten). */
static int
apply(struct cgi *c, const struct stock_request *r, struct counts *k)
{
	struct json_object *skus = json_object_new_array();
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(c->store, 1, &t)) != STORE_OK) {
		json_object_put(skus);
		return rc;
	}
	for (size_t i = 0; i < r->n && store_txn_error(t) == STORE_OK; i++) {
		struct stock_record old;

		rc = store_stock_get(t, r->recs[i].supplier, r->recs[i].sku, &old);
		if (rc == STORE_OK && same_stock(&old, &r->recs[i])) {
			k->unchanged++;
			continue;
		}
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			break;
		store_stock_put(t, &r->recs[i]);
		json_object_array_add(skus, json_object_new_string(r->recs[i].sku));
		k->updated++;
	}
	if (r->full)
		zero_others(t, c, r, skus, k);
	if (store_txn_error(t) == STORE_OK && json_object_array_length(skus) > 0)
		write_stock_event(t, c, json_object_get(skus));
	json_object_put(skus);
	if ((rc = store_txn_error(t)) != STORE_OK) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

/*
 * POST /api/{supplier}/update-stock: {"mode": "differential" | "full",
 * "items": [{"sku", "quantity", "lead_time_days"?, "next_available_date"?}]}.
 * Raises 400 invalid_body naming the first bad item (nothing written), 503
 * when the store cannot be written, 200 {"success": true, "updated",
 * "unchanged", "zeroed"}.
 */
void
update_stock_handle(struct cgi *c)
{
	struct stock_request r;
	struct counts k = { 0, 0, 0 };
	struct json_object *o;
	char msg[320];
	int rc;

	switch (stock_request_read(&c->req, supplier_id(c->supplier), c->now, &r, msg, sizeof(msg))) {
	case 0:
		break;
	case -1:
		response_error(&c->res, 400, "invalid_body", msg);
		return;
	default:
		cgi_store_error(c, STORE_NOMEM);
		return;
	}
	if ((rc = apply(c, &r, &k)) != STORE_OK)
		cgi_store_error(c, rc);
	else {
		o = json_object_new_object();
		json_object_object_add(o, "success", json_object_new_boolean(1));
		json_object_object_add(o, "updated", json_object_new_int64(k.updated));
		json_object_object_add(o, "unchanged", json_object_new_int64(k.unchanged));
		json_object_object_add(o, "zeroed", json_object_new_int64(k.zeroed));
		response_json(&c->res, 200, o);
		json_object_put(o);
	}
	stock_request_free(&r);
}

/* One item of get-stock (and of `menzzo-admin stock --json`, which adds the supplier first). */
struct json_object *
stock_item_json(const struct stock_record *r)
{
	return stock_item_add(json_object_new_object(), r);
}

struct json_object *
stock_item_add(struct json_object *o, const struct stock_record *r)
{
	char date[16];

	json_object_object_add(o, "sku", json_object_new_string(r->sku));
	json_object_object_add(o, "quantity", json_object_new_int64(r->quantity));
	json_object_object_add(o, "lead_time_days", r->lead_time_days < 0 ? NULL :
	    json_object_new_int64(r->lead_time_days));
	if (r->has_next_available)
		format_date(r->next_available, date);
	json_object_object_add(o, "next_available_date", r->has_next_available ? json_object_new_string(date) : NULL);
	json_object_object_add(o, "updated_at", timestamp_json(r->updated_at));
	return o;
}

/* The page's items; more set when a page follows (the last item's SKU is then in last). */
static int
stock_page(struct cgi *c, const struct stock_query *q, struct json_object *arr, int *more, char *last)
{
	int64_t since = q->has_since ? (int64_t)q->since * 86400 : INT64_MIN;
	struct store_txn *t;
	struct stock_iter it;
	struct stock_record one;
	size_t n = 0;
	int rc;

	*more = 0;
	if ((rc = store_begin(c->store, 0, &t)) != STORE_OK)
		return rc;
	if (q->has_sku) {
		rc = store_stock_get(t, supplier_id(c->supplier), q->sku, &one);
		if (rc == STORE_OK && one.updated_at >= since)
			json_object_array_add(arr, stock_item_json(&one));
		store_abort(t);
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	}
	for (int go = store_stock_first(t, supplier_id(c->supplier), q->has_after ? q->after : "", &it); go;
	    go = store_stock_next(&it)) {
		if (it.rec.updated_at < since)
			continue;
		if (n == PAGE) {
			*more = 1;
			break;
		}
		json_object_array_add(arr, stock_item_json(&it.rec));
		snprintf(last, SKU_MAX + 1, "%s", it.rec.sku);
		n++;
	}
	rc = store_txn_error(t);
	store_abort(t);
	return rc;
}

/*
 * GET /api/{supplier}/get-stock?sku=S&updated_since=YYYY-MM-DD&after_sku=S:
 * the supplier's stock by SKU, 100 a page, Link rel="next" when more
 * follow.  Raises 400 invalid_parameter, 503, 200 with a JSON array.
 */
void
get_stock_handle(struct cgi *c)
{
	struct json_object *arr;
	struct stock_query q;
	char last[SKU_MAX + 1] = "", msg[240], date[16];
	struct buf link = { 0 };
	int more, rc;

	switch (stock_query_read(c->req.query, strlen(c->req.query), &q, msg, sizeof(msg))) {
	case 0:
		break;
	case -1:
		response_error(&c->res, 400, "invalid_parameter", msg);
		return;
	default:
		cgi_store_error(c, STORE_NOMEM);
		return;
	}
	arr = json_object_new_array();
	if ((rc = stock_page(c, &q, arr, &more, last)) != STORE_OK) {
		json_object_put(arr);
		cgi_store_error(c, rc);
		return;
	}
	response_json(&c->res, 200, arr);
	json_object_put(arr);
	if (!more)
		return;
	rc = buf_addf(&link, "<%.*s/api/%s/get-stock?", (int)c->cfg.base_url_len, c->cfg.base_url, c->supplier->slug);
	if (q.has_since) {
		format_date(q.since, date);
		rc |= buf_addf(&link, "updated_since=%s&", date);
	}
	rc |= buf_adds(&link, "after_sku");
	rc |= buf_adds(&link, "=");
	rc |= stock_query_value(&link, last);
	rc |= buf_adds(&link, ">; rel=\"next\"");
	if (rc == 0)
		response_header(&c->res, "Link", "%s", link.p);
	else
		response_log(&c->res, "get-stock: out of memory: the page went without its Link");
	buf_free(&link);
}
