/*
 * What update-stock and get-stock read (stock.h): the whitelists of the
 * body and of the query, the rules across items (each SKU once, the first
 * bad item named), and the query value encoding of get-stock's Link.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "field.h"
#include "request.h"
#include "stock.h"
#include "validate.h"

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
 * The items as records of supplier (NULL: out of memory); *bad is the first
 * item that is not valid (l->n when all are), with msg set, and the records
 * before it are filled.
 */
static struct stock_record *
read_items(const struct field_list *l, unsigned supplier, int64_t now, char *msg, size_t msglen, size_t *bad)
{
	struct stock_record *recs = calloc(l->n ? l->n : 1, sizeof(*recs));

	*bad = l->n;
	if (recs == NULL)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		const struct field_element *e = &l->e[i];
		const struct field *f = e->f;
		char sentence[200];

		if (e->res != PARSE_OK)
			snprintf(msg, msglen, "items[%zu]: %s", i,
			    field_message(&item_fields[e->bad], sentence, sizeof(sentence)));
		else if (!f[I_SKU].set || !f[I_QUANTITY].set)
			snprintf(msg, msglen, "items[%zu]: %s is required.", i, f[I_SKU].set ? "quantity" : "sku");
		else {
			recs[i].supplier = supplier;
			snprintf(recs[i].sku, sizeof(recs[i].sku), "%s", f[I_SKU].val);
			recs[i].quantity = (uint32_t)f[I_QUANTITY].parsed.number;
			recs[i].lead_time_days = f[I_LEAD].set ? (int)f[I_LEAD].parsed.number : -1;
			recs[i].has_next_available = f[I_NEXT].set;
			recs[i].next_available = f[I_NEXT].set ? f[I_NEXT].parsed.date : 0;
			recs[i].updated_at = now;
			continue;
		}
		*bad = i;
		break;
	}
	return recs;
}

static int
by_sku(const void *a, const void *b)
{
	const struct stock_record *const *x = a, *const *y = b;
	int d = strcmp((*x)->sku, (*y)->sku);

	return d != 0 ? d : *x < *y ? -1 : *x > *y;
}

/* The records sorted by SKU (pointers into recs); with the index of the first SKU given again, or n. */
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

int
stock_request_read(const struct request *req, unsigned supplier, int64_t now, struct stock_request *out,
    char *msg, size_t msglen)
{
	struct field f[U__MAX];
	enum parse_result res;
	size_t invalid, dup;
	int bad = -1, rc = -1;

	memset(out, 0, sizeof(*out));
	memset(f, 0, sizeof(f));
	res = body_parse(req, stock_fields, U__MAX, f, &bad);
	if (res == PARSE_NOMEM)
		rc = -2;
	else if (res == PARSE_BAD_BODY)
		snprintf(msg, msglen, "The body must be a JSON object {\"mode\": ..., \"items\": [...]}, each member "
		    "given once (Content-Type application/json).");
	else if (res == PARSE_NEEDS_JSON)
		snprintf(msg, msglen, "Field items needs a JSON body (Content-Type: application/json): form fields "
		    "cannot carry it.");
	else if (res != PARSE_OK) {
		const char *m = field_message(&stock_fields[bad], msg, msglen);

		if (m != msg)
			snprintf(msg, msglen, "%s", m);
	} else if (!f[U_ITEMS].set)
		snprintf(msg, msglen, "%s", stock_fields[U_ITEMS].message);
	else {
		out->n = f[U_ITEMS].list->n;
		out->full = f[U_MODE].set && f[U_MODE].parsed.flag;
		/* The first bad item: a SKU given again among the valid ones before it, or the first invalid one. */
		if ((out->recs = read_items(f[U_ITEMS].list, supplier, now, msg, msglen, &invalid)) == NULL ||
		    (out->by_sku = sorted(out->recs, invalid, &dup)) == NULL)
			rc = -2;
		else if (dup < invalid)
			snprintf(msg, msglen, "items[%zu]: sku %s is given twice: each SKU once a request.", dup,
			    out->recs[dup].sku);
		else if (invalid == out->n)
			rc = 0;
	}
	fields_free(f, U__MAX);
	if (rc != 0)
		stock_request_free(out);
	return rc;
}

void
stock_request_free(struct stock_request *r)
{
	free(r->by_sku);
	free(r->recs);
	memset(r, 0, sizeof(*r));
}

int
stock_request_names(const struct stock_request *r, const char *sku)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(r->by_sku[mid]->sku, sku);

		if (d == 0)
			return 1;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
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

int
stock_query_read(const char *qs, size_t len, struct stock_query *q, char *msg, size_t msglen)
{
	struct field f[G__MAX];
	int bad = -1, rc = -1;

	memset(q, 0, sizeof(*q));
	memset(f, 0, sizeof(f));
	if (len > QUERY_MAX) {
		snprintf(msg, msglen, "The query string is longer than %d bytes.", QUERY_MAX);
		return -1;
	}
	switch (form_parse(qs, len, get_params, G__MAX, f, &bad)) {
	case PARSE_OK:
		rc = 0;
		break;
	case PARSE_NOMEM:
		rc = -2;
		break;
	case PARSE_INVALID:
		if (field_message(&get_params[bad], msg, msglen) != msg)
			snprintf(msg, msglen, "%s", get_params[bad].message);
		break;
	default:
		snprintf(msg, msglen, "Parameter %s is malformed or given twice.", get_params[bad].name);
	}
	if (rc == 0) {
		if ((q->has_sku = f[G_SKU].set))
			snprintf(q->sku, sizeof(q->sku), "%s", f[G_SKU].val);
		if ((q->has_since = f[G_SINCE].set))
			q->since = f[G_SINCE].parsed.date;
		if ((q->has_after = f[G_AFTER].set))
			snprintf(q->after, sizeof(q->after), "%s", f[G_AFTER].val);
	}
	fields_free(f, G__MAX);
	return rc;
}

int
stock_query_value(struct buf *b, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	int rc = 0;

	for (; *s && rc == 0; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~')
			rc = buf_add(b, s, 1);
		else
			rc = buf_addf(b, "%%%c%c", hexd[ch >> 4], hexd[ch & 15]);
	}
	return rc;
}
