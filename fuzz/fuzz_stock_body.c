/*
 * update-stock bodies and get-stock query strings (lib/stock.c).  The input
 * is read twice, as update_stock_handle and get_stock_handle read it:
 *
 *  - as a request body, by body_parse against stock_fields (mode; items, an
 *    array of 1 to STOCK_ITEMS_MAX objects read against item_fields), then
 *    as read_items and the duplicate-SKU check take it into records;
 *  - as get-stock's query string (at most QUERY_MAX bytes), by form_parse
 *    against get_params.
 *
 * The tables, their validators, read_items and the Link header's encoding
 * are static in lib/stock.c: they are restated here, row for row, and must
 * be kept equal to it.  Asserted besides "no crash": a result the handler's
 * switch can answer (a field at fault is a row of the table); every value
 * taken is within its bound and is what the JSON text (read by json-c) or
 * the query holds; an OK body's items are 1 to STOCK_ITEMS_MAX, one per
 * element of its items array; a request the handler takes has records
 * within the store's bounds, each SKU once; values written out again (JSON,
 * or the query encoded as get-stock's Link does) parse back the same.
 */
#include <json-c/json.h>

#include "request.h"
#include "stock.h"
#include "validate.h"

#include "fuzz.h"

/* lib/stock.c's validators and tables. */
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
	    "sku must be 1-64 printable ASCII characters, without a space at either end.", .kind = FIELD_TEXT },
	[I_QUANTITY] = { "quantity", field_stock_quantity, "invalid_body",
	    "quantity must be an integer from 0 to 1000000.", .kind = FIELD_INTEGER },
	[I_LEAD] = { "lead_time_days", field_lead_time, "invalid_body",
	    "lead_time_days must be an integer from 0 to 365.", .kind = FIELD_INTEGER },
	[I_NEXT] = { "next_available_date", field_date, "invalid_body",
	    "next_available_date must be a date YYYY-MM-DD.", .kind = FIELD_TEXT },
};

enum { U_MODE, U_ITEMS, U__MAX };
static const struct field_rule stock_fields[U__MAX] = {
	[U_MODE] = { "mode", field_stock_mode, "invalid_body", "Field mode must be differential or full.", .kind = FIELD_TEXT },
	[U_ITEMS] = { "items", NULL, "invalid_body", "Field items must be an array of 1 to 1000 objects "
	    "{\"sku\": ..., \"quantity\": ...}, given once.", .kind = FIELD_ARRAY, .element = item_fields,
	    .element_rules = I__MAX, .min_items = 1, .max_items = STOCK_ITEMS_MAX },
};

enum { G_SKU, G_SINCE, G_AFTER, G__MAX };
static const struct field_rule get_params[G__MAX] = {
	[G_SKU] = { "sku", field_stock_sku, "invalid_parameter",
	    "Parameter sku must be 1-64 printable ASCII characters, without a space at either end.", .kind = FIELD_TEXT },
	[G_SINCE] = { "updated_since", field_date, "invalid_parameter", "Parameter updated_since must be a date YYYY-MM-DD.", .kind = FIELD_TEXT },
	[G_AFTER] = { "after_sku", field_stock_sku, "invalid_parameter",
	    "Parameter after_sku must be a SKU as get-stock gave it (1-64 printable ASCII characters).", .kind = FIELD_TEXT },
};

/* Reference: 1 to max bytes of 0x20-0x7e, no space at either end. */
static int
ref_text(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max || s[0] == ' ' || s[len - 1] == ' ')
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* A set text field: NUL-terminated, NUL-free, within its row's bound. */
static void
check_text(const struct field_rule *rule, const struct field *f)
{
	CHECK(f->val != NULL && f->list == NULL && f->len <= field_max_len(rule));
	CHECK(f->val[f->len] == '\0' && memchr(f->val, '\0', f->len) == NULL);
}

static void
check_sku(const struct field *f)
{
	CHECK(ref_text(f->val, f->len, SKU_MAX));
}

static void
check_uint(const struct field *f, uint64_t max)
{
	CHECK(fuzz_ref_uint(f->val, f->len) && f->parsed.number <= max);
	CHECK(strtoull(f->val, NULL, 10) == f->parsed.number);
}

static void
check_date(const struct field *f)
{
	char date[DATE_LEN + 1];

	CHECK(f->len == DATE_LEN);
	format_date(f->parsed.date, date);
	CHECK(fuzz_equals(f->val, f->len, date));
}

/* The fields of one item read without fault, against the element as json-c read it. */
static void
check_item(const struct field *f, struct json_object *element)
{
	struct json_object *v;

	for (size_t i = 0; i < I__MAX; i++) {
		if (!f[i].set) {
			CHECK(f[i].val == NULL && !json_object_object_get_ex(element, item_fields[i].name, NULL));
			continue;
		}
		check_text(&item_fields[i], &f[i]);
		CHECK(json_object_object_get_ex(element, item_fields[i].name, &v));
		if (item_fields[i].kind == FIELD_INTEGER)
			CHECK(json_object_is_type(v, json_type_int) &&
			    (uint64_t)json_object_get_int64(v) == f[i].parsed.number);
		else
			CHECK(json_object_is_type(v, json_type_string) &&
			    fuzz_equals(f[i].val, f[i].len, json_object_get_string(v)));
	}
	if (f[I_SKU].set)
		check_sku(&f[I_SKU]);
	if (f[I_QUANTITY].set)
		check_uint(&f[I_QUANTITY], STOCK_QUANTITY_MAX);
	if (f[I_LEAD].set)
		check_uint(&f[I_LEAD], STOCK_LEAD_MAX);
	if (f[I_NEXT].set)
		check_date(&f[I_NEXT]);
}

static int
by_sku(const void *a, const void *b)
{
	return strcmp(((const struct stock_record *)a)->sku, ((const struct stock_record *)b)->sku);
}

/*
 * What update_stock_handle takes of a body read OK (read_items, then the
 * duplicate check): every item read, each with a sku and a quantity, no SKU
 * twice.  The records it would write are within the store's bounds.
 */
static void
check_request(const struct field *f)
{
	const struct field_list *l = f[U_ITEMS].list;
	struct stock_record *recs;
	size_t n;

	if (!f[U_ITEMS].set)
		return; /* 400: items is required */
	n = l->n;
	for (size_t i = 0; i < n; i++)
		if (l->e[i].res != PARSE_OK || !l->e[i].f[I_SKU].set || !l->e[i].f[I_QUANTITY].set)
			return; /* 400 naming items[i] */
	if ((recs = calloc(n, sizeof(*recs))) == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct field *g = l->e[i].f;

		snprintf(recs[i].sku, sizeof(recs[i].sku), "%s", g[I_SKU].val);
		recs[i].quantity = (uint32_t)g[I_QUANTITY].parsed.number;
		recs[i].lead_time_days = g[I_LEAD].set ? (int)g[I_LEAD].parsed.number : -1;
		recs[i].has_next_available = g[I_NEXT].set;
		recs[i].next_available = g[I_NEXT].set ? g[I_NEXT].parsed.date : 0;
	}
	qsort(recs, n, sizeof(*recs), by_sku);
	for (size_t i = 1; i < n; i++)
		if (strcmp(recs[i - 1].sku, recs[i].sku) == 0)
			goto out; /* 400: a SKU given twice */
	/* Taken: written as these records. */
	CHECK(n >= 1 && n <= STOCK_ITEMS_MAX);
	for (size_t i = 0; i < n; i++) {
		CHECK(ref_text(recs[i].sku, strlen(recs[i].sku), SKU_MAX));
		CHECK(recs[i].quantity <= STOCK_QUANTITY_MAX);
		CHECK(recs[i].lead_time_days >= -1 && recs[i].lead_time_days <= STOCK_LEAD_MAX);
		/* A date given is kept as a date, 1970-01-01 (day 0) included; get-stock writes it back as given. */
		if (recs[i].has_next_available) {
			char date[DATE_LEN + 1];
			uint32_t days;

			format_date(recs[i].next_available, date);
			CHECK(parse_date(date, DATE_LEN, &days) == 0 && days == recs[i].next_available);
		} else
			CHECK(recs[i].next_available == 0);
	}
out:
	free(recs);
}

/* An OK body's fields as JSON (items whose elements all read without fault). */
static struct json_object *
body_json(const struct field *f)
{
	struct json_object *o = json_object_new_object(), *items;

	if (f[U_MODE].set)
		json_object_object_add(o, "mode", json_object_new_string(f[U_MODE].val));
	if (!f[U_ITEMS].set)
		return o;
	items = json_object_new_array();
	for (size_t j = 0; j < f[U_ITEMS].list->n; j++) {
		const struct field *g = f[U_ITEMS].list->e[j].f;
		struct json_object *e = json_object_new_object();

		for (size_t i = 0; i < I__MAX; i++)
			if (g[i].set)
				json_object_object_add(e, item_fields[i].name, item_fields[i].kind == FIELD_INTEGER ?
				    json_object_new_int64((int64_t)g[i].parsed.number) :
				    json_object_new_string_len(g[i].val, (int)g[i].len));
		json_object_array_add(items, e);
	}
	json_object_object_add(o, "items", items);
	return o;
}

static int
same_text(const struct field *a, const struct field *b)
{
	return a->set == b->set && (!a->set || (a->len == b->len && memcmp(a->val, b->val, a->len) == 0));
}

static void
check_body_round_trip(const struct field *f)
{
	struct json_object *o;
	struct field g[U__MAX];
	const char *s;
	size_t len;
	int bad = -1;

	if (f[U_ITEMS].set)
		for (size_t j = 0; j < f[U_ITEMS].list->n; j++)
			if (f[U_ITEMS].list->e[j].res != PARSE_OK)
				return;
	memset(g, 0, sizeof(g));
	o = body_json(f);
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	CHECK(json_fields_parse(s, len, stock_fields, U__MAX, g, &bad) == PARSE_OK);
	CHECK(same_text(&g[U_MODE], &f[U_MODE]) && g[U_ITEMS].set == f[U_ITEMS].set);
	if (f[U_ITEMS].set) {
		CHECK(g[U_ITEMS].list->n == f[U_ITEMS].list->n);
		for (size_t j = 0; j < f[U_ITEMS].list->n; j++) {
			CHECK(g[U_ITEMS].list->e[j].res == PARSE_OK);
			for (size_t i = 0; i < I__MAX; i++)
				CHECK(same_text(&g[U_ITEMS].list->e[j].f[i], &f[U_ITEMS].list->e[j].f[i]));
		}
	}
	fields_free(g, U__MAX);
	json_object_put(o);
}

static void
check_body(const uint8_t *data, size_t size, struct json_object *tree)
{
	struct request req;
	struct field f[U__MAX];
	struct json_object *items;
	int bad = -1;
	enum parse_result r;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.query = "";
	req.path_info = "";
	req.content_type = "application/json";
	req.content_length = (long long)size;
	req.body = fuzz_cstr(data, size); /* request_read_body's: NUL-terminated */
	req.body_len = size;
	memset(f, 0, sizeof(f));
	r = body_parse(&req, stock_fields, U__MAX, f, &bad);
	switch (r) {
	case PARSE_OK:
	case PARSE_BAD_BODY:
	case PARSE_NOMEM:
		break;
	case PARSE_NEEDS_JSON:
		CHECK(bad == U_ITEMS);
		break;
	case PARSE_BAD_FIELD:
	case PARSE_INVALID:
		/* body_fault names stock_fields[bad]. */
		CHECK(bad >= 0 && bad < U__MAX);
		break;
	default:
		CHECK(!"a result update_stock_handle cannot answer");
	}
	if (r != PARSE_OK)
		goto out;
	if (f[U_MODE].set) {
		check_text(&stock_fields[U_MODE], &f[U_MODE]);
		CHECK(fuzz_equals(f[U_MODE].val, f[U_MODE].len, f[U_MODE].parsed.flag ? "full" : "differential"));
	}
	if (f[U_ITEMS].set) {
		const struct field_list *l = f[U_ITEMS].list;

		/* Only JSON carries items: the text is one object whose items is an array of as many objects. */
		CHECK(f[U_ITEMS].val == NULL && l != NULL && l->nfields == I__MAX);
		CHECK(l->n >= 1 && l->n <= STOCK_ITEMS_MAX);
		CHECK(tree != NULL && json_object_object_get_ex(tree, "items", &items));
		CHECK(json_object_is_type(items, json_type_array) && json_object_array_length(items) == l->n);
		for (size_t i = 0; i < l->n; i++) {
			const struct field_element *e = &l->e[i];
			struct json_object *element = json_object_array_get_idx(items, i);

			CHECK(json_object_is_type(element, json_type_object));
			CHECK(e->res == PARSE_OK || e->res == PARSE_BAD_FIELD || e->res == PARSE_INVALID);
			if (e->res != PARSE_OK) {
				/* read_items names item_fields[bad]. */
				CHECK(e->bad >= 0 && e->bad < I__MAX);
				continue;
			}
			check_item(e->f, element);
		}
	} else
		CHECK(f[U_ITEMS].list == NULL);
	check_request(f);
	check_body_round_trip(f);
out:
	fields_free(f, U__MAX);
	free(req.body);
}

/* The Link header's encoding of a value (add_query_value): everything but the unreserved characters escaped. */
static char *
add_query_value(char *o, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~')
			*o++ = (char)ch;
		else {
			*o++ = '%';
			*o++ = hexd[ch >> 4];
			*o++ = hexd[ch & 15];
		}
	}
	return o;
}

static void
check_query(const uint8_t *data, size_t size)
{
	struct field f[G__MAX], g[G__MAX];
	char *q, *o;
	int bad = -1;
	enum parse_result r;

	if (size > QUERY_MAX)
		return; /* get_stock_handle refuses it before parsing */
	memset(f, 0, sizeof(f));
	/* Length-delimited: data itself, so a read past size is caught. */
	r = form_parse((const char *)data, size, get_params, G__MAX, f, &bad);
	if (r == PARSE_NOMEM)
		goto out;
	if (r != PARSE_OK) {
		/* The handler's other cases all name get_params[bad]. */
		CHECK(r == PARSE_BAD_FIELD || r == PARSE_INVALID);
		CHECK(bad >= 0 && bad < G__MAX);
		goto out;
	}
	for (size_t i = 0; i < G__MAX; i++)
		if (f[i].set)
			check_text(&get_params[i], &f[i]);
		else
			CHECK(f[i].val == NULL);
	if (f[G_SKU].set)
		check_sku(&f[G_SKU]);
	if (f[G_AFTER].set)
		check_sku(&f[G_AFTER]);
	if (f[G_SINCE].set)
		check_date(&f[G_SINCE]);
	/* Written again as the Link header writes its query (after_sku last), it reads back the same. */
	if ((q = malloc(64 + 3 * 2 * (SKU_MAX + 1) + DATE_LEN)) == NULL)
		abort();
	o = q;
	if (f[G_SKU].set)
		o = add_query_value(o + sprintf(o, "sku="), f[G_SKU].val), *o++ = '&';
	if (f[G_SINCE].set)
		o += sprintf(o, "updated_since=%s&", f[G_SINCE].val);
	if (f[G_AFTER].set)
		o = add_query_value(o + sprintf(o, "after_sku="), f[G_AFTER].val);
	memset(g, 0, sizeof(g));
	CHECK(form_parse(q, (size_t)(o - q), get_params, G__MAX, g, &bad) == PARSE_OK);
	for (size_t i = 0; i < G__MAX; i++)
		CHECK(same_text(&g[i], &f[i]));
	fields_free(g, G__MAX);
	free(q);
out:
	fields_free(f, G__MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(8);
	struct json_object *tree;

	if (tok == NULL)
		return 0;
	/* The tree json-c makes of the text as json_fields_parse reads it (strict, 8 deep), for the checks. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	tree = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(tree);
		tree = NULL;
	}
	json_tokener_free(tok);
	check_body(data, size, tree);
	json_object_put(tree);
	check_query(data, size);
	return 0;
}
