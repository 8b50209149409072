/*
 * jsonbench: what rendering one get-sales page (100 items) costs, three ways,
 * for `make bench-profile` (run under callgrind, one function at a time):
 *   render_current   what get-sales does now: each item's stored value
 *                    (sale_item_value, rendered by json-c when the sale
 *                    product changes; rendered here, outside the count, in
 *                    fill) joined by sale_item_compose (lib/sales.c);
 *   render_flags     the same objects built with json_object_object_add_ex and
 *                    JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY
 *                    (no key copy, no duplicate-key lookup);
 *   render_direct    the same text appended straight into a buffer with a
 *                    JSON string escaper (no object tree).
 * Prints the three outputs' lengths and whether they are byte-identical.
 * A measurement tool only: nothing of the project uses it.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "config.h"
#include "sales.h"

#define ITEMS 100

static struct sale_product items[ITEMS];
static struct buf values[ITEMS];
static struct config cfg = { .base_url = "http://127.0.0.1:8080", .base_url_len = 21 };

static void
fill(void)
{
	for (int i = 0; i < ITEMS; i++) {
		struct sale_product *sp = &items[i];
		memset(sp, 0, sizeof(*sp));
		sp->increment_id = 15000000001ULL + (uint64_t)i * 3;
		sp->sale_product_id = 1000 + (uint64_t)i * 7;
		sp->status = i % 3 ? STATUS_PENDING : STATUS_ACKNOWLEDGED;
		sp->quantity = 1 + i % 2;
		sp->price_cents = 25000 + i;
		sp->order_date = 20089 + (uint32_t)i / 10;
		sp->acknowledged_at = sp->status == STATUS_ACKNOWLEDGED ? 1735725600 + i : 0;
		snprintf(sp->sku, sizeof(sp->sku), "SKU-%05d", i * 37);
		snprintf(sp->carrier, sizeof(sp->carrier), "%s", i % 2 ? "CHRONOPOST" : "DB SCHENKER");
		snprintf(sp->label, sizeof(sp->label), "labels/%llu_%llu.pdf",
		    (unsigned long long)sp->increment_id, (unsigned long long)sp->sale_product_id);
		sale_item_value(sp, &values[i]);
	}
}

__attribute__((noinline)) static void
render_current(struct buf *out)
{
	struct buf prefix = { 0 };

	sale_link_prefix(&cfg, &prefix);
	buf_add(out, "[", 1);
	for (int i = 0; i < ITEMS; i++) {
		if (i > 0)
			buf_add(out, ",", 1);
		sale_item_compose(values[i].p, values[i].len, &prefix, out);
	}
	buf_add(out, "]", 1);
	buf_free(&prefix);
}

#define ADD(o, k, v) json_object_object_add_ex((o), (k), (v), \
	JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY)

static struct json_object *
item_flags(const struct sale_product *sp)
{
	struct json_object *o = json_object_new_object();
	char id[MENZZO_ORDER_ID_MAX + 1], date[DATE_LEN + 1], price[24], link[512];

	format_menzzo_order_id(sp->increment_id, sp->sale_product_id, id);
	format_date(sp->order_date, date);
	format_price(sp->price_cents, price);
	ADD(o, "menzzo_order_id", json_object_new_string(id));
	ADD(o, "sku", json_object_new_string(sp->sku));
	ADD(o, "quantity", json_object_new_int64(sp->quantity));
	ADD(o, "price", json_object_new_double_s((double)sp->price_cents / 100.0, price));
	if (sp->label[0]) {
		snprintf(link, sizeof(link), "%.*s/api/files/%s", (int)cfg.base_url_len, cfg.base_url, sp->label);
		ADD(o, "link_to_label", json_object_new_string(link));
	} else
		ADD(o, "link_to_label", NULL);
	ADD(o, "order_date", json_object_new_string(date));
	ADD(o, "carrier", json_object_new_string(sp->carrier));
	ADD(o, "status", json_object_new_string(status_name(sp->status)));
	ADD(o, "acknowledged_at", timestamp_json(sp->acknowledged_at));
	ADD(o, "prepared_at", timestamp_json(sp->prepared_at));
	return o;
}

__attribute__((noinline)) static void
render_flags(struct buf *out)
{
	struct json_object *arr = json_object_new_array_ext(ITEMS);
	size_t len;
	const char *s;

	for (int i = 0; i < ITEMS; i++)
		json_object_array_add(arr, item_flags(&items[i]));
	s = json_object_to_json_string_length(arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	buf_add(out, s, len);
	json_object_put(arr);
}

/* Appends s as a JSON string (RFC 8259 escaping, as json-c does without slash escaping). */
static void
add_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, run, (size_t)(s - run));
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_add(b, u, 6);
		}
		}
		run = s + 1;
	}
	buf_add(b, run, (size_t)(s - run));
	buf_add(b, "\"", 1);
}

static void
add_timestamp(struct buf *b, int64_t t)
{
	char s[TIMESTAMP_LEN + 1];

	if (t == 0) {
		buf_add(b, "null", 4);
		return;
	}
	format_timestamp(t, s);
	add_string(b, s);
}

__attribute__((noinline)) static void
render_direct(struct buf *out)
{
	char id[MENZZO_ORDER_ID_MAX + 1], date[DATE_LEN + 1], price[24], num[24], link[512];

	buf_add(out, "[", 1);
	for (int i = 0; i < ITEMS; i++) {
		const struct sale_product *sp = &items[i];
		format_menzzo_order_id(sp->increment_id, sp->sale_product_id, id);
		format_date(sp->order_date, date);
		format_price(sp->price_cents, price);
		if (i)
			buf_add(out, ",", 1);
		buf_adds(out, "{\"menzzo_order_id\":");
		add_string(out, id);
		buf_adds(out, ",\"sku\":");
		add_string(out, sp->sku);
		snprintf(num, sizeof(num), "%u", sp->quantity);
		buf_adds(out, ",\"quantity\":");
		buf_adds(out, num);
		buf_adds(out, ",\"price\":");
		buf_adds(out, price);
		buf_adds(out, ",\"link_to_label\":");
		if (sp->label[0]) {
			snprintf(link, sizeof(link), "%.*s/api/files/%s", (int)cfg.base_url_len, cfg.base_url,
			    sp->label);
			add_string(out, link);
		} else
			buf_add(out, "null", 4);
		buf_adds(out, ",\"order_date\":");
		add_string(out, date);
		buf_adds(out, ",\"carrier\":");
		add_string(out, sp->carrier);
		buf_adds(out, ",\"status\":");
		add_string(out, status_name(sp->status));
		buf_adds(out, ",\"acknowledged_at\":");
		add_timestamp(out, sp->acknowledged_at);
		buf_adds(out, ",\"prepared_at\":");
		add_timestamp(out, sp->prepared_at);
		buf_add(out, "}", 1);
	}
	buf_add(out, "]", 1);
}

int
main(void)
{
	struct buf a = { 0 }, b = { 0 }, c = { 0 };

	fill();
	render_current(&a);
	render_flags(&b);
	render_direct(&c);
	printf("current %zu bytes, flags %zu bytes (%s), direct %zu bytes (%s)\n", a.len, b.len,
	    a.len == b.len && memcmp(a.p, b.p, a.len) == 0 ? "identical" : "DIFFERENT", c.len,
	    a.len == c.len && memcmp(a.p, c.p, a.len) == 0 ? "identical" : "DIFFERENT");
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
