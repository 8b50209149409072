/*
 * update-stock bodies and get-stock query strings (lib/stock_request.c),
 * through the functions the handlers call: the input is read as a JSON
 * request body by stock_request_read, and as a query string by
 * stock_query_read.  Asserted besides "no crash":
 *  - a body is taken (0) or refused with a sentence (-1), never half;
 *  - a taken body has 1 to STOCK_ITEMS_MAX records, one per element of its
 *    items array as json-c reads the same text, each SKU once (by_sku
 *    strictly ascending, every SKU found by stock_request_names), every
 *    value within its bound and equal to what the text holds;
 *  - a taken query, written again as get-stock's Link writes it
 *    (stock_query_value), reads back the same.
 */
#include <json-c/json.h>

#include "buf.h"
#include "request.h"
#include "stock.h"
#include "validate.h"

#include "fuzz.h"

static void
check_record(const struct stock_record *r, struct json_object *item)
{
	struct json_object *v;
	char date[16];
	uint32_t back;

	CHECK(valid_text(r->sku, strlen(r->sku), SKU_MAX) == 0);
	CHECK(r->quantity <= STOCK_QUANTITY_MAX);
	CHECK(r->lead_time_days >= -1 && r->lead_time_days <= STOCK_LEAD_MAX);
	if (r->has_next_available) {
		format_date(r->next_available, date);
		CHECK(parse_date(date, strlen(date), &back) == 0 && back == r->next_available);
	}
	if (item == NULL)
		return;
	CHECK(json_object_object_get_ex(item, "sku", &v) && strcmp(json_object_get_string(v), r->sku) == 0);
	CHECK(json_object_object_get_ex(item, "quantity", &v) && json_object_get_int64(v) == (int64_t)r->quantity);
	CHECK(json_object_object_get_ex(item, "lead_time_days", &v) == (r->lead_time_days >= 0));
	CHECK(json_object_object_get_ex(item, "next_available_date", &v) == r->has_next_available);
	if (r->has_next_available)
		CHECK(strcmp(json_object_get_string(v), date) == 0);
}

static void
check_body(const uint8_t *data, size_t size, struct json_object *tree)
{
	struct request req;
	struct stock_request r;
	struct json_object *items = NULL;
	char msg[320] = "";
	int rc;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.query = "";
	req.path_info = "";
	req.content_type = "application/json";
	req.content_length = (long long)size;
	if ((req.body = malloc(size + 1)) == NULL)
		return;
	memcpy(req.body, data, size);
	req.body[size] = '\0';
	req.body_len = size;
	rc = stock_request_read(&req, 1, 1767225600, &r, msg, sizeof(msg));
	CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc == -1)
		CHECK(msg[0] != '\0' && r.recs == NULL && r.n == 0);
	if (rc == 0) {
		CHECK(r.n >= 1 && r.n <= STOCK_ITEMS_MAX);
		if (tree != NULL && json_object_object_get_ex(tree, "items", &items))
			CHECK(json_object_is_type(items, json_type_array) && json_object_array_length(items) == r.n);
		for (size_t i = 0; i < r.n; i++) {
			check_record(&r.recs[i], items != NULL ? json_object_array_get_idx(items, i) : NULL);
			CHECK(r.recs[i].supplier == 1 && r.recs[i].updated_at == 1767225600);
			CHECK(stock_request_names(&r, r.recs[i].sku));
			if (i > 0)
				CHECK(strcmp(r.by_sku[i - 1]->sku, r.by_sku[i]->sku) < 0);
		}
		stock_request_free(&r);
	}
	free(req.body);
}

static void
check_query(const uint8_t *data, size_t size)
{
	struct stock_query q, again;
	struct buf b = { 0 };
	char msg[240], date[16];
	int rc = stock_query_read((const char *)data, size, &q, msg, sizeof(msg));

	CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc != 0)
		return;
	if (q.has_sku)
		CHECK(valid_text(q.sku, strlen(q.sku), SKU_MAX) == 0);
	if (q.has_after)
		CHECK(valid_text(q.after, strlen(q.after), SKU_MAX) == 0);
	/* Written again as get-stock's Link writes a query, it reads back the same. */
	if (q.has_sku && (buf_adds(&b, "sku=") != 0 || stock_query_value(&b, q.sku) != 0 || buf_adds(&b, "&") != 0))
		goto out;
	if (q.has_since) {
		format_date(q.since, date);
		if (buf_addf(&b, "updated_since=%s&", date) != 0)
			goto out;
	}
	if (q.has_after && (buf_adds(&b, "after_sku=") != 0 || stock_query_value(&b, q.after) != 0))
		goto out;
	CHECK(stock_query_read(b.p != NULL ? b.p : "", b.len, &again, msg, sizeof(msg)) == 0);
	CHECK(again.has_sku == q.has_sku && again.has_since == q.has_since && again.has_after == q.has_after);
	CHECK(strcmp(again.sku, q.sku) == 0 && strcmp(again.after, q.after) == 0 && again.since == q.since);
out:
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(8);
	struct json_object *tree = NULL;

	if (tok == NULL)
		return 0;
	/* The tree json-c makes of the text as the body parser reads it (strict, 8 deep), for the checks. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	tree = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(tree, json_type_object)) {
		json_object_put(tree);
		tree = NULL;
	}
	json_tokener_free(tok);
	check_body(data, size, tree);
	json_object_put(tree);
	check_query(data, size);
	return 0;
}
