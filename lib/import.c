/*
 * `menzzo-admin import`: one JSON Lines record parsed and validated, and
 * its upsert by sale_product_id (SPEC §4).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "json_text.h"
#include "import.h"
#include "item.h"
#include "sales.h"
#include "supplier.h"
#include "validate.h"

static const char *const import_fields[] = {
	"increment_id", "sale_product_id", "supplier", "sku", "quantity", "price",
	"order_date", "carrier", "label", "status", "acknowledged_at", "prepared_at", "refused_at", "reason", "note",
};
enum { F_INC, F_SP, F_SUPPLIER, F_SKU, F_QTY, F_PRICE, F_DATE, F_CARRIER, F_LABEL,
	F_STATUS, F_ACK, F_PREP, F_REFUSED, F_REASON, F_NOTE, F__MAX };

static int
field_index(const char *key)
{
	for (int i = 0; i < F__MAX; i++)
		if (strcmp(import_fields[i], key) == 0)
			return i;
	return -1;
}

/* A string member's text, or an integer member's decimal text (for ids). */
static int
id_text(struct json_object *v, char *buf, size_t buflen, const char **s, size_t *len)
{
	if (json_object_is_type(v, json_type_string)) {
		*s = json_object_get_string(v);
		*len = (size_t)json_object_get_string_len(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		snprintf(buf, buflen, "%s", json_object_get_string(v));
		*s = buf;
		*len = strlen(buf);
		return 0;
	}
	return -1;
}

static int
string_member(struct json_object *v, const char **s, size_t *len)
{
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return 0;
}

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); goto out; } while (0)

int
import_parse_line(const char *line, size_t len, int64_t now, struct import_line *out,
    char *err, size_t errlen)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL, *f[F__MAX] = { 0 };
	struct sale_product *sp = &out->sp;
	struct buf item;
	char num[32];
	const char *s;
	size_t n;
	uint64_t u;
	int ret = -1;

	item = out->item;
	memset(out, 0, sizeof(*out));
	out->item = item;
	out->item.len = 0;
	if (memchr(line, '\0', len) != NULL) {
		snprintf(err, errlen, "NUL byte in line");
		return -1;
	}
	if ((tok = json_tokener_new_ex(4)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success)
		BAD("not valid JSON");
	if (!only_blanks(line, json_tokener_get_parse_end(tok), len))
		BAD("text after the JSON object");
	if (!json_object_is_type(obj, json_type_object))
		BAD("not a JSON object");
	switch (json_text_duplicate_key(line, len, obj, num, sizeof(num))) {
	case 0:
		break;
	case 1:
		if (valid_text(num, strlen(num), 40) == 0)
			BAD("field \"%s\" is given twice", num);
		BAD("a field is given twice");
	default:
		BAD("out of memory");
	}
	switch (json_text_lone_surrogate(line, len, num, sizeof(num))) {
	case 0:
		break;
	case 1:
		if (num[0] != '\0' && valid_text(num, strlen(num), 40) == 0)
			BAD("field \"%s\" holds a lone UTF-16 surrogate escape (no Unicode character)", num);
		BAD("a lone UTF-16 surrogate escape (no Unicode character)");
	default:
		BAD("out of memory");
	}
	json_object_object_foreach(obj, key, val) {
		int i = field_index(key);
		if (i < 0 && valid_text(key, strlen(key), 40) == 0)
			BAD("unknown field \"%s\"", key);
		if (i < 0)
			BAD("unknown field");
		f[i] = val;
	}
	for (int i = 0; i <= F_CARRIER; i++)
		if (f[i] == NULL)
			BAD("%s is required", import_fields[i]);

	if (id_text(f[F_INC], num, sizeof(num), &s, &n) || parse_uint(s, n, 1, UINT64_MAX, &sp->increment_id))
		BAD("increment_id must be a positive decimal integer");
	if (id_text(f[F_SP], num, sizeof(num), &s, &n) || parse_uint(s, n, 1, UINT64_MAX, &sp->sale_product_id))
		BAD("sale_product_id must be a positive decimal integer");
	{
		const struct supplier *sup;
		if (string_member(f[F_SUPPLIER], &s, &n) || (sup = supplier_by_slug(s, n)) == NULL)
			BAD("supplier must be one of the supplier slugs");
		sp->supplier = supplier_id(sup);
	}
	if (string_member(f[F_SKU], &s, &n) || valid_text(s, n, SKU_MAX))
		BAD("sku must be 1-%d printable ASCII characters", SKU_MAX);
	memcpy(sp->sku, s, n);
	if (!json_object_is_type(f[F_QTY], json_type_int) ||
	    parse_uint(json_object_get_string(f[F_QTY]), strlen(json_object_get_string(f[F_QTY])), 1, QUANTITY_MAX, &u))
		BAD("quantity must be an integer from 1 to %d", QUANTITY_MAX);
	sp->quantity = (uint32_t)u;
	if (json_object_is_type(f[F_PRICE], json_type_string) || json_object_is_type(f[F_PRICE], json_type_int) ||
	    json_object_is_type(f[F_PRICE], json_type_double)) {
		/* A number keeps its source text in json-c: "250.00" stays exact. */
		s = json_object_get_string(f[F_PRICE]);
		if (parse_price(s, strlen(s), &sp->price_cents))
			BAD("price must be a decimal amount with at most two decimals");
	} else
		BAD("price must be a string or a number");
	if (string_member(f[F_DATE], &s, &n) || parse_date(s, n, &sp->order_date))
		BAD("order_date must be a real date YYYY-MM-DD");
	if (string_member(f[F_CARRIER], &s, &n) || valid_text(s, n, CARRIER_MAX))
		BAD("carrier must be 1-%d printable ASCII characters", CARRIER_MAX);
	memcpy(sp->carrier, s, n);
	if (f[F_LABEL] != NULL) {
		if (string_member(f[F_LABEL], &s, &n) || valid_label_path(s, n))
			BAD("label must be a relative path of [A-Za-z0-9._-] segments");
		memcpy(sp->label, s, n);
		out->has_label = 1;
	}
	sp->status = STATUS_PENDING;
	if (f[F_STATUS] != NULL) {
		if (string_member(f[F_STATUS], &s, &n) || parse_status(s, n, &sp->status))
			BAD("status must be pending, acknowledged, shipped, cancelled or refused");
		out->has_status = 1;
	}
	if (f[F_ACK] != NULL && (string_member(f[F_ACK], &s, &n) ||
	    parse_timestamp(s, n, 0, &sp->acknowledged_at)))
		BAD("acknowledged_at must be YYYY-MM-DDThh:mm:ssZ");
	if (f[F_PREP] != NULL && (string_member(f[F_PREP], &s, &n) ||
	    parse_timestamp(s, n, 0, &sp->prepared_at)))
		BAD("prepared_at must be YYYY-MM-DDThh:mm:ssZ");
	if (sp->status != STATUS_REFUSED && (f[F_REFUSED] || f[F_REASON] || f[F_NOTE]))
		BAD("refused_at, reason and note go only with status refused");
	if (f[F_REFUSED] != NULL && (string_member(f[F_REFUSED], &s, &n) ||
	    parse_timestamp(s, n, 0, &sp->refused_at)))
		BAD("refused_at must be YYYY-MM-DDThh:mm:ssZ");
	if (f[F_REASON] != NULL && (string_member(f[F_REASON], &s, &n) || parse_reason(s, n, &sp->reason)))
		BAD("reason must be out_of_stock, discontinued, price_error, cannot_deliver or other");
	if (f[F_NOTE] != NULL) {
		if (string_member(f[F_NOTE], &s, &n) || valid_note(s, n))
			BAD("note must be 1-%d characters of UTF-8 without control characters", NOTE_CHARS_MAX);
		memcpy(sp->note, s, n);
	}
	switch (sp->status) {
	case STATUS_PENDING:
		if (sp->acknowledged_at || sp->prepared_at)
			BAD("a pending sale product has no acknowledged_at or prepared_at");
		break;
	case STATUS_ACKNOWLEDGED:
		if (sp->prepared_at)
			BAD("an acknowledged sale product has no prepared_at");
		if (!sp->acknowledged_at)
			sp->acknowledged_at = now;
		break;
	case STATUS_SHIPPED:
		if (!sp->prepared_at)
			sp->prepared_at = now;
		if (!sp->acknowledged_at)
			sp->acknowledged_at = sp->prepared_at;
		if (sp->acknowledged_at > sp->prepared_at)
			BAD("acknowledged_at is after prepared_at");
		break;
	case STATUS_REFUSED:
		if (sp->reason == REASON_NONE)
			BAD("a refused sale product needs a reason");
		if (sp->prepared_at)
			BAD("a refused sale product has no prepared_at");
		if (!sp->refused_at)
			sp->refused_at = now;
		if (sp->acknowledged_at > sp->refused_at)
			BAD("acknowledged_at is after refused_at");
		break;
	default:
		break;
	}
	ret = 0;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return ret;
}

static int
sale_equal(const struct sale_product *a, const struct sale_product *b)
{
	return a->increment_id == b->increment_id && a->sale_product_id == b->sale_product_id &&
	    a->supplier == b->supplier && a->status == b->status && a->quantity == b->quantity &&
	    a->price_cents == b->price_cents && a->order_date == b->order_date &&
	    a->acknowledged_at == b->acknowledged_at && a->prepared_at == b->prepared_at &&
	    strcmp(a->sku, b->sku) == 0 && strcmp(a->carrier, b->carrier) == 0 &&
	    strcmp(a->label, b->label) == 0 && strcmp(a->tracking_number, b->tracking_number) == 0 &&
	    strcmp(a->ship_carrier, b->ship_carrier) == 0 && a->refused_at == b->refused_at &&
	    a->reason == b->reason && strcmp(a->note, b->note) == 0;
}

/*
 * How far along a status is: an import never moves a sale product back.
 * Shipped and refused are both the end of a supplier's part: neither
 * replaces the other.
 */
static int
status_rank(enum sale_status s)
{
	return s == STATUS_PENDING ? 0 : s == STATUS_ACKNOWLEDGED ? 1 : 2;
}

int
import_apply(struct store_txn *t, const struct import_line *l, int64_t now, const char *user,
    char *err, size_t errlen, int *store_err)
{
	struct sale_product cur, next = l->sp;
	enum log_action action;
	const void *item;
	int rc = store_sale_get(t, l->sp.sale_product_id, &cur), exists = rc == STORE_OK;

	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		*store_err = rc;
		return -2;
	}
	if (!exists) {
		next.created_at = next.updated_at = now;
		action = next.status == STATUS_CANCELLED ? LOG_CANCELLED : LOG_IMPORTED;
	} else {
		if (cur.increment_id != next.increment_id) {
			snprintf(err, errlen, "sale_product_id %llu belongs to increment_id %llu",
			    (unsigned long long)cur.sale_product_id, (unsigned long long)cur.increment_id);
			return -1;
		}
		if (cur.supplier != next.supplier) {
			snprintf(err, errlen, "sale_product_id %llu belongs to supplier %s",
			    (unsigned long long)cur.sale_product_id, supplier_by_id(cur.supplier)->slug);
			return -1;
		}
		if (!l->has_label)
			memcpy(next.label, cur.label, sizeof(next.label));
		memcpy(next.tracking_number, cur.tracking_number, sizeof(next.tracking_number));
		memcpy(next.ship_carrier, cur.ship_carrier, sizeof(next.ship_carrier));
		next.created_at = cur.created_at;
		next.updated_at = cur.updated_at;
		/* Never back: a cancellation is final and always applied; otherwise the further status wins. */
		if (cur.status == STATUS_CANCELLED ||
		    (next.status != STATUS_CANCELLED && status_rank(cur.status) >= status_rank(next.status))) {
			next.status = cur.status;
			next.acknowledged_at = cur.acknowledged_at;
			next.prepared_at = cur.prepared_at;
			next.refused_at = cur.refused_at;
			next.reason = cur.reason;
			memcpy(next.note, cur.note, sizeof(next.note));
		} else {
			if (cur.acknowledged_at)
				next.acknowledged_at = cur.acknowledged_at;
			if (cur.prepared_at)
				next.prepared_at = cur.prepared_at;
		}
		if (sale_equal(&cur, &next))
			return 0;
		next.updated_at = now;
		action = next.status == STATUS_CANCELLED && cur.status != STATUS_CANCELLED ?
		    LOG_CANCELLED : LOG_UPDATED;
	}
	/* The line's item, rendered ahead by the caller, serves when the merge kept what it shows. */
	item = l->item.len > 0 && item_same(&next, &l->sp) ? l->item.p : NULL;
	if ((rc = sale_write(t, exists ? &cur : NULL, &next, item, l->item.len, NULL, action, user, NULL, now)) != STORE_OK) {
		*store_err = rc;
		return -2;
	}
	return 1;
}
