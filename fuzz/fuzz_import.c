/*
 * `menzzo-admin import` lines: import_parse_line on the input as one line.
 * A parsed sale product must satisfy every rule the import documents, and
 * written out again as a JSON line it must parse back to the same record.
 */
#include <json-c/json.h>

#include "import.h"
#include "validate.h"
#include "supplier.h"

#include "fuzz.h"

#define NOW 1767225600 /* 2026-01-01T00:00:00Z */

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
check_line(const struct import_line *l)
{
	const struct sale_product *sp = &l->sp;

	CHECK(sp->increment_id >= 1 && sp->sale_product_id >= 1);
	CHECK(supplier_by_id(sp->supplier) != NULL);
	CHECK(sp->quantity >= 1 && sp->quantity <= QUANTITY_MAX);
	CHECK(sp->price_cents >= 0 && sp->price_cents <= PRICE_CENTS_MAX);
	CHECK(terminated(sp->sku, sizeof(sp->sku)) && valid_text(sp->sku, strlen(sp->sku), SKU_MAX) == 0);
	CHECK(terminated(sp->carrier, sizeof(sp->carrier)) &&
	    valid_text(sp->carrier, strlen(sp->carrier), CARRIER_MAX) == 0);
	CHECK(terminated(sp->label, sizeof(sp->label)));
	CHECK(l->has_label ? valid_label_path(sp->label, strlen(sp->label)) == 0 : sp->label[0] == '\0');
	CHECK(sp->tracking_number[0] == '\0' && sp->ship_carrier[0] == '\0');
	CHECK(sp->created_at == 0 && sp->updated_at == 0);
	CHECK(sp->order_date <= 2932896); /* 9999-12-31 */
	CHECK(l->has_status || sp->status == STATUS_PENDING);
	switch (sp->status) {
	case STATUS_PENDING:
		CHECK(sp->acknowledged_at == 0 && sp->prepared_at == 0);
		break;
	case STATUS_ACKNOWLEDGED:
		CHECK(sp->acknowledged_at != 0 && sp->prepared_at == 0);
		break;
	case STATUS_SHIPPED:
		CHECK(sp->acknowledged_at != 0 && sp->prepared_at != 0 && sp->acknowledged_at <= sp->prepared_at);
		break;
	case STATUS_CANCELLED:
		break;
	case STATUS_REFUSED:
		CHECK(sp->refused_at != 0 && sp->prepared_at == 0 && sp->acknowledged_at <= sp->refused_at);
		CHECK(sp->reason > REASON_NONE && sp->reason < REASON__MAX);
		break;
	default:
		CHECK(!"status out of range");
	}
	CHECK(terminated(sp->note, sizeof(sp->note)));
	if (sp->status != STATUS_REFUSED)
		CHECK(sp->refused_at == 0 && sp->reason == REASON_NONE && sp->note[0] == '\0');
	else if (sp->note[0])
		CHECK(valid_note(sp->note, strlen(sp->note)) == 0);
}

static void
add_string(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static void
add_time(struct json_object *o, const char *key, int64_t t)
{
	char s[TIMESTAMP_LEN + 1];

	if (t == 0)
		return;
	format_timestamp(t, s);
	add_string(o, key, s);
}

/* The record as an import line, parsed again. */
static void
check_round_trip(const struct import_line *l)
{
	const struct sale_product *sp = &l->sp;
	struct json_object *o = json_object_new_object();
	struct import_line back = { 0 };
	char s[32], err[200] = "";
	const char *text;
	size_t len;

	snprintf(s, sizeof(s), "%llu", (unsigned long long)sp->increment_id);
	add_string(o, "increment_id", s);
	json_object_object_add(o, "sale_product_id", json_object_new_uint64(sp->sale_product_id));
	add_string(o, "supplier", supplier_by_id(sp->supplier)->slug);
	add_string(o, "sku", sp->sku);
	json_object_object_add(o, "quantity", json_object_new_int64(sp->quantity));
	format_price(sp->price_cents, s);
	add_string(o, "price", s);
	format_date(sp->order_date, s);
	add_string(o, "order_date", s);
	add_string(o, "carrier", sp->carrier);
	if (l->has_label)
		add_string(o, "label", sp->label);
	if (l->has_status)
		add_string(o, "status", status_name(sp->status));
	add_time(o, "acknowledged_at", sp->acknowledged_at);
	add_time(o, "prepared_at", sp->prepared_at);
	add_time(o, "refused_at", sp->refused_at);
	if (sp->reason != REASON_NONE)
		add_string(o, "reason", refusal_reason_name(sp->reason));
	if (sp->note[0])
		add_string(o, "note", sp->note);
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (import_parse_line(text, len, NOW, &back, err, sizeof(err)) != 0) {
		fprintf(stderr, "round trip refused: %s\n%s\n", err, text);
		CHECK(!"the record written out again parses");
	}
	CHECK(back.has_label == l->has_label && back.has_status == l->has_status);
	CHECK(back.sp.increment_id == sp->increment_id && back.sp.sale_product_id == sp->sale_product_id);
	CHECK(back.sp.supplier == sp->supplier && back.sp.status == sp->status);
	CHECK(back.sp.quantity == sp->quantity && back.sp.price_cents == sp->price_cents);
	CHECK(back.sp.order_date == sp->order_date);
	CHECK(back.sp.acknowledged_at == sp->acknowledged_at && back.sp.prepared_at == sp->prepared_at);
	CHECK(strcmp(back.sp.sku, sp->sku) == 0 && strcmp(back.sp.carrier, sp->carrier) == 0);
	CHECK(strcmp(back.sp.label, sp->label) == 0);
	CHECK(back.sp.refused_at == sp->refused_at && back.sp.reason == sp->reason);
	CHECK(strcmp(back.sp.note, sp->note) == 0);
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_line l = { 0 };
	char err[200];
	int r;

	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	/* Length-delimited: data itself, so a read past size is caught. */
	r = import_parse_line((const char *)data, size, NOW, &l, err, sizeof(err));
	if (r != 0) {
		CHECK(r == -1 && err[0] != '\0' && strlen(err) < sizeof(err) - 1);
		return 0;
	}
	check_line(&l);
	check_round_trip(&l);
	return 0;
}
