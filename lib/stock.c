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
field_stock_quantity(struct field *f)
{
	return parse_uint(f->val, f->len, 0, STOCK_QUANTITY_MAX, &f->parsed.number);
}

static int
field_lead_time(struct field *f)
{
	return parse_uint(f->val, f->len, 0, STOCK_LEAD_MAX, &f->parsed.number);
}

static int
field_stock_mode(struct field *f)
{
	f->parsed.flag = strcmp(f->val, "full") == 0;
	return f->parsed.flag || strcmp(f->val, "differential") == 0 ? 0 : -1;
}

static int
field_stock_sku(struct field *f)
{
	return valid_text(f->val, f->len, SKU_MAX);
}

enum { I_SKU, I_QUANTITY, I_LEAD, I_NEXT, I__MAX };
static const struct field_rule item_fields[I__MAX] = {
	[I_SKU] = { "sku", field_stock_sku, "invalid_body",
	    "sku must be 1-64 printable ASCII characters, without a space at either end." },
	[I_QUANTITY] = { "quantity", field_stock_quantity, "invalid_body",
	    "quantity must be an integer from 0 to 1000000.", .kind = FIELD_INTEGER },
	[I_LEAD] = { "lead_time_days", field_lead_time, "invalid_body",
	    "lead_time_days must be an integer from 0 to 365.", .kind = FIELD_INTEGER },
	[I_NEXT] = { "next_available_date", field_date, "invalid_body",
	    "next_available_date must be a date YYYY-MM-DD." },
};

enum { U_MODE, U_ITEMS, U__MAX };
static const struct field_rule stock_fields[U__MAX] = {
	[U_MODE] = { "mode", field_stock_mode, "invalid_body", "Field mode must be differential or full." },
	[U_ITEMS] = { "items", NULL, "invalid_body", "Field items must be an array of 1 to 1000 objects "
	    "{\"sku\": ..., \"quantity\": ...}, given once.", .kind = FIELD_ARRAY, .element = item_fields,
	    .element_rules = I__MAX, .min_items = 1, .max_items = STOCK_ITEMS_MAX },
};

/*
 * The body's items as records of c's supplier (NULL: out of memory); *bad
 * is the first item that is not valid (l->n when all are), with msg set,
 * and the records before it are filled.
 */
static struct stock_record *
read_items(const struct cgi *c, const struct field_list *l, char *msg, size_t msglen, size_t *bad)
{
	struct stock_record *recs = calloc(l->n, sizeof(*recs));
	size_t first_bad = l->n;

	*bad = l->n;
	if (recs == NULL)
		return NULL;
	for (size_t i = 0; i < l->n && first_bad == l->n; i++) {
		const struct field_element *e = &l->e[i];
		const struct field *f = e->f;
		char sentence[200];

		if (e->res != PARSE_OK)
			snprintf(msg, msglen, "items[%zu]: %s", i,
			    field_message(&item_fields[e->bad], sentence, sizeof(sentence)));
		else if (!f[I_SKU].set || !f[I_QUANTITY].set)
			snprintf(msg, msglen, "items[%zu]: %s is required.", i, f[I_SKU].set ? "quantity" : "sku");
		else {
			recs[i].supplier = supplier_id(c->supplier);
			snprintf(recs[i].sku, sizeof(recs[i].sku), "%s", f[I_SKU].val);
			recs[i].quantity = (uint32_t)f[I_QUANTITY].parsed.number;
			recs[i].lead_time_days = f[I_LEAD].set ? (int)f[I_LEAD].parsed.number : -1;
			recs[i].has_next_available = f[I_NEXT].set;
			recs[i].next_available = f[I_NEXT].set ? f[I_NEXT].parsed.date : 0;
			recs[i].updated_at = c->now;
			continue;
		}
		first_bad = i;
	}
	*bad = first_bad;
	return recs;
}

static int
by_sku(const void *a, const void *b)
{
	const struct stock_record *const *x = a, *const *y = b;
	int d = strcmp((*x)->sku, (*y)->sku);

	return d != 0 ? d : *x < *y ? -1 : *x > *y;
}

/* The records sorted by SKU (pointers into recs); with the index of the first SKU given twice, or n. */
static const struct stock_record **
sorted(const struct stock_record *recs, size_t n, size_t *dup)
{
	const struct stock_record **s = malloc((n ? n : 1) * sizeof(const struct stock_record *));

	*dup = n;
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		s[i] = &recs[i];
	qsort(s, n, sizeof(const struct stock_record *), by_sku);
	for (size_t i = 1; i < n; i++)
		if (strcmp(s[i - 1]->sku, s[i]->sku) == 0 && (size_t)(s[i] - recs) < *dup)
			*dup = (size_t)(s[i] - recs);
	return s;
}

static int
in_request(const struct stock_record **s, size_t n, const char *sku)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(s[mid]->sku, sku);

		if (d == 0)
			return 1;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

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
zero_others(struct store_txn *t, const struct cgi *c, const struct stock_record **s, size_t n,
    struct json_object *skus, struct counts *k)
{
	struct stock_record *others = NULL;
	size_t m = 0, cap = 0;
	struct stock_iter it;
	int rc = STORE_OK;

	/* Collected first, then written: a scan must not write the database it walks. */
	for (int more = store_stock_first(t, supplier_id(c->supplier), "", &it); more; more = store_stock_next(&it)) {
		if (it.rec.quantity == 0 || in_request(s, n, it.rec.sku))
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
apply(struct cgi *c, const struct stock_record *recs, const struct stock_record **s, size_t n, int full,
    struct counts *k)
{
	struct json_object *skus = json_object_new_array();
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(c->store, 1, &t)) != STORE_OK) {
		json_object_put(skus);
		return rc;
	}
	for (size_t i = 0; i < n && store_txn_error(t) == STORE_OK; i++) {
		struct stock_record old;

		rc = store_stock_get(t, recs[i].supplier, recs[i].sku, &old);
		if (rc == STORE_OK && same_stock(&old, &recs[i])) {
			k->unchanged++;
			continue;
		}
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			break;
		store_stock_put(t, &recs[i]);
		json_object_array_add(skus, json_object_new_string(recs[i].sku));
		k->updated++;
	}
	if (full)
		zero_others(t, c, s, n, skus, k);
	if (store_txn_error(t) == STORE_OK && json_object_array_length(skus) > 0)
		write_stock_event(t, c, json_object_get(skus));
	json_object_put(skus);
	if ((rc = store_txn_error(t)) != STORE_OK) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

/* A 400 for a body update-stock cannot take: the sentence of the field at fault. */
static void
body_fault(struct cgi *c, enum parse_result res, int bad)
{
	char msg[240];

	if (res == PARSE_BAD_BODY)
		response_error(&c->res, 400, "invalid_body", "The body must be a JSON object {\"mode\": ..., \"items\": "
		    "[...]}, each member given once (Content-Type application/json).");
	else if (res == PARSE_NEEDS_JSON)
		response_error(&c->res, 400, "invalid_body", "Field items needs a JSON body "
		    "(Content-Type: application/json): form fields cannot carry it.");
	else
		response_error(&c->res, 400, "invalid_body", field_message(&stock_fields[bad], msg, sizeof(msg)));
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
	struct field f[U__MAX];
	const struct stock_record **s = NULL;
	struct stock_record *recs = NULL;
	struct counts k = { 0, 0, 0 };
	struct json_object *o;
	char msg[320];
	size_t n = 0, dup, invalid;
	int bad = -1, rc;
	enum parse_result res;

	memset(f, 0, sizeof(f));
	res = body_parse(&c->req, stock_fields, U__MAX, f, &bad);
	if (res == PARSE_NOMEM) {
		cgi_store_error(c, STORE_NOMEM);
		goto out;
	}
	if (res != PARSE_OK) {
		body_fault(c, res, bad);
		goto out;
	}
	if (!f[U_ITEMS].set) {
		response_error(&c->res, 400, "invalid_body", stock_fields[U_ITEMS].message);
		goto out;
	}
	n = f[U_ITEMS].list->n;
	/* The first bad item: a SKU given again among the valid ones before it, or the first invalid one. */
	if ((recs = read_items(c, f[U_ITEMS].list, msg, sizeof(msg), &invalid)) == NULL ||
	    (s = sorted(recs, invalid, &dup)) == NULL) {
		cgi_store_error(c, STORE_NOMEM);
		goto out;
	}
	if (dup < invalid) {
		snprintf(msg, sizeof(msg), "items[%zu]: sku %s is given twice: each SKU once a request.", dup, recs[dup].sku);
		response_error(&c->res, 400, "invalid_body", msg);
		goto out;
	}
	if (invalid < n) {
		response_error(&c->res, 400, "invalid_body", msg);
		goto out;
	}
	if ((rc = apply(c, recs, s, n, f[U_MODE].set && f[U_MODE].parsed.flag, &k)) != STORE_OK) {
		cgi_store_error(c, rc);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(1));
	json_object_object_add(o, "updated", json_object_new_int64(k.updated));
	json_object_object_add(o, "unchanged", json_object_new_int64(k.unchanged));
	json_object_object_add(o, "zeroed", json_object_new_int64(k.zeroed));
	response_json(&c->res, 200, o);
	json_object_put(o);
out:
	free(s);
	free(recs);
	fields_free(f, U__MAX);
}

/* get-stock's parameters. */
enum { G_SKU, G_SINCE, G_AFTER, G__MAX };
static const struct field_rule get_params[G__MAX] = {
	[G_SKU] = { "sku", field_stock_sku, "invalid_parameter",
	    "Parameter sku must be 1-64 printable ASCII characters, without a space at either end." },
	[G_SINCE] = { "updated_since", field_date, "invalid_parameter", "Parameter updated_since must be a date YYYY-MM-DD." },
	[G_AFTER] = { "after_sku", field_stock_sku, "invalid_parameter",
	    "Parameter after_sku must be a SKU as get-stock gave it (1-64 printable ASCII characters)." },
};

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

/* Percent-encodes s for a query value (everything but the unreserved characters). */
static void
add_query_value(struct buf *b, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~')
			buf_add(b, s, 1);
		else
			buf_addf(b, "%%%c%c", hexd[ch >> 4], hexd[ch & 15]);
	}
}

/* The page's items; more set when a page follows (the last item's SKU is then in last). */
static int
stock_page(struct cgi *c, const struct field *f, struct json_object *arr, int *more, char *last)
{
	int64_t since = f[G_SINCE].set ? (int64_t)f[G_SINCE].parsed.date * 86400 : INT64_MIN;
	struct store_txn *t;
	struct stock_iter it;
	struct stock_record one;
	size_t n = 0;
	int rc;

	*more = 0;
	if ((rc = store_begin(c->store, 0, &t)) != STORE_OK)
		return rc;
	if (f[G_SKU].set) {
		rc = store_stock_get(t, supplier_id(c->supplier), f[G_SKU].val, &one);
		if (rc == STORE_OK && one.updated_at >= since)
			json_object_array_add(arr, stock_item_json(&one));
		store_abort(t);
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	}
	for (int go = store_stock_first(t, supplier_id(c->supplier), f[G_AFTER].set ? f[G_AFTER].val : "", &it); go;
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
	struct field f[G__MAX];
	char last[SKU_MAX + 1] = "", msg[240];
	struct buf link = { 0 };
	int bad = -1, more, rc;
	size_t qlen = strlen(c->req.query);

	memset(f, 0, sizeof(f));
	if (qlen > QUERY_MAX) {
		snprintf(msg, sizeof(msg), "The query string is longer than %d bytes.", QUERY_MAX);
		response_error(&c->res, 400, "invalid_parameter", msg);
		return;
	}
	switch (form_parse(c->req.query, qlen, get_params, G__MAX, f, &bad)) {
	case PARSE_OK:
		break;
	case PARSE_NOMEM:
		cgi_store_error(c, STORE_NOMEM);
		goto out;
	case PARSE_INVALID:
		response_error(&c->res, 400, "invalid_parameter", field_message(&get_params[bad], msg, sizeof(msg)));
		goto out;
	default:
		snprintf(msg, sizeof(msg), "Parameter %s is malformed or given twice.", get_params[bad].name);
		response_error(&c->res, 400, "invalid_parameter", msg);
		goto out;
	}
	arr = json_object_new_array();
	if ((rc = stock_page(c, f, arr, &more, last)) != STORE_OK) {
		json_object_put(arr);
		cgi_store_error(c, rc);
		goto out;
	}
	response_json(&c->res, 200, arr);
	json_object_put(arr);
	if (more) {
		buf_addf(&link, "<%.*s/api/%s/get-stock?", (int)c->cfg.base_url_len, c->cfg.base_url, c->supplier->slug);
		if (f[G_SINCE].set)
			buf_addf(&link, "updated_since=%s&", f[G_SINCE].val);
		buf_adds(&link, "after_sku=");
		add_query_value(&link, last);
		buf_adds(&link, ">; rel=\"next\"");
		if (link.p != NULL)
			response_header(&c->res, "Link", "%s", link.p);
	}
out:
	buf_free(&link);
	fields_free(f, G__MAX);
}
