/*
 * `menzzo-admin import`: one JSON Lines record parsed and validated, and
 * its upsert by sale_product_id (SPEC §4).
 */
#include <stdio.h>
#include <string.h>

#include "import.h"
#include "request.h"
#include "sale_json.h"
#include "sale_rules.h"
#include "supplier.h"
#include "validate.h"

/*
 * The fields of an import line: the same field rows as the HTTP bodies
 * (field.h), read by the same parser, stricter (json_record_parse: an
 * unknown member is refused).  The first eight are required.
 */
enum import_field {
	I_INC, I_SP, I_SUPPLIER, I_SKU, I_QTY, I_PRICE, I_DATE, I_CARRIER,
	I_LABEL, I_STATUS, I_ACK, I_PREP, I_REFUSED, I_REASON, I_NOTE, I__MAX
};

#define TIMESTAMP_RULE(name) { name, field_timestamp, "", name " must be YYYY-MM-DDThh:mm:ssZ" }

static const struct field_rule import_rules[I__MAX] = {
	[I_INC] = { "increment_id", field_id, "", "increment_id must be a positive decimal integer",
	    .kind = FIELD_NUMBER_OR_TEXT },
	[I_SP] = { "sale_product_id", field_id, "", "sale_product_id must be a positive decimal integer",
	    .kind = FIELD_NUMBER_OR_TEXT },
	[I_SUPPLIER] = { "supplier", field_supplier, "", "supplier must be one of", .one_of = supplier_slugs },
	[I_SKU] = { "sku", field_sku, "", "sku must be 1-64 printable ASCII characters" },
	[I_QTY] = { "quantity", field_quantity, "", "quantity must be an integer from 1 to 100000",
	    .kind = FIELD_INTEGER },
	[I_PRICE] = { "price", field_price, "", "price must be a decimal amount with at most two decimals, "
	    "as a string or a number", .kind = FIELD_NUMBER_OR_TEXT },
	[I_DATE] = { "order_date", field_date, "", "order_date must be a real date YYYY-MM-DD" },
	[I_CARRIER] = { "carrier", field_carrier, "", "carrier must be 1-32 printable ASCII characters" },
	[I_LABEL] = { "label", field_label, "", "label must be a relative path of [A-Za-z0-9._-] segments",
	    .max_len = LABEL_MAX },
	[I_STATUS] = { "status", field_sale_status, "", "status must be one of", .one_of = status_names_join },
	[I_ACK] = TIMESTAMP_RULE("acknowledged_at"),
	[I_PREP] = TIMESTAMP_RULE("prepared_at"),
	[I_REFUSED] = TIMESTAMP_RULE("refused_at"),
	[I_REASON] = { "reason", field_reason, "", "reason must be one of", .one_of = refusal_reason_names_join },
	[I_NOTE] = { "note", field_note, "", "note must be 1-500 characters of UTF-8 without control characters",
	    .max_len = NOTE_MAX },
};
_Static_assert(SKU_MAX == 64 && QUANTITY_MAX == 100000 && CARRIER_MAX == 32 && NOTE_CHARS_MAX == 500,
    "the sentences of import_rules say the bounds of sale.h");

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); goto out; } while (0)

/* A name of the line fit to be echoed in a message: printable ASCII, at most 40 bytes. */
static const char *
echo(const char *name)
{
	return valid_text(name, strlen(name), 40) == 0 ? name : NULL;
}

int
import_parse_line(const char *line, size_t len, int64_t now, struct import_line *out,
    char *err, size_t errlen)
{
	struct field f[I__MAX];
	struct sale_product *sp = &out->sp;
	struct buf item;
	char key[64], msg[320];
	int bad = -1, ret = -1;

	item = out->item;
	memset(out, 0, sizeof(*out));
	out->item = item;
	out->item.len = 0;
	memset(f, 0, sizeof(f));
	switch (json_record_parse(line, len, import_rules, I__MAX, f, &bad, key, sizeof(key))) {
	case PARSE_OK:
		break;
	case PARSE_BAD_FIELD:
	case PARSE_INVALID:
		BAD("%s", field_message(&import_rules[bad], msg, sizeof(msg)));
	case PARSE_DUPLICATE:
		if (echo(key))
			BAD("field \"%s\" is given twice", key);
		BAD("a field is given twice");
	case PARSE_UNKNOWN:
		if (echo(key))
			BAD("unknown field \"%s\"", key);
		BAD("unknown field");
	case PARSE_NOMEM:
		BAD("out of memory");
	default:
		BAD("not one JSON object with only what follows it on its line being blanks");
	}
	for (int i = 0; i <= I_CARRIER; i++)
		if (!f[i].set)
			BAD("%s is required", import_rules[i].name);
	sp->increment_id = f[I_INC].parsed.number;
	sp->sale_product_id = f[I_SP].parsed.number;
	sp->supplier = f[I_SUPPLIER].parsed.supplier;
	memcpy(sp->sku, f[I_SKU].val, f[I_SKU].len);
	sp->quantity = (uint32_t)f[I_QTY].parsed.number;
	sp->price_cents = f[I_PRICE].parsed.amount;
	sp->order_date = f[I_DATE].parsed.date;
	memcpy(sp->carrier, f[I_CARRIER].val, f[I_CARRIER].len);
	if ((out->has_label = f[I_LABEL].set))
		memcpy(sp->label, f[I_LABEL].val, f[I_LABEL].len);
	sp->status = (out->has_status = f[I_STATUS].set) ? f[I_STATUS].parsed.sale_status : STATUS_PENDING;
	sp->acknowledged_at = f[I_ACK].set ? f[I_ACK].parsed.time : 0;
	sp->prepared_at = f[I_PREP].set ? f[I_PREP].parsed.time : 0;
	if (sp->status != STATUS_REFUSED && (f[I_REFUSED].set || f[I_REASON].set || f[I_NOTE].set))
		BAD("refused_at, reason and note go only with status refused");
	sp->refused_at = f[I_REFUSED].set ? f[I_REFUSED].parsed.time : 0;
	sp->reason = f[I_REASON].set ? f[I_REASON].parsed.reason : REASON_NONE;
	if (f[I_NOTE].set)
		memcpy(sp->note, f[I_NOTE].val, f[I_NOTE].len);
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
	fields_free(f, I__MAX);
	return ret;
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
    const char *request_id, enum import_outcome *out, char *err, size_t errlen)
{
	struct sale_product cur, next = l->sp;
	enum log_action action;
	const void *item;
	int rc = store_sale_get(t, l->sp.sale_product_id, &cur), exists = rc == STORE_OK;

	*out = IMPORT_REFUSED;
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	if (!exists) {
		next.created_at = next.updated_at = now;
		action = next.status == STATUS_CANCELLED ? LOG_CANCELLED : LOG_IMPORTED;
	} else {
		if (cur.increment_id != next.increment_id) {
			snprintf(err, errlen, "sale_product_id %llu belongs to increment_id %llu",
			    (unsigned long long)cur.sale_product_id, (unsigned long long)cur.increment_id);
			return STORE_OK;
		}
		if (cur.supplier != next.supplier) {
			snprintf(err, errlen, "sale_product_id %llu belongs to supplier %s",
			    (unsigned long long)cur.sale_product_id, supplier_by_id(cur.supplier)->slug);
			return STORE_OK;
		}
		if (!l->has_label)
			memcpy(next.label, cur.label, sizeof(next.label));
		memcpy(next.tracking_number, cur.tracking_number, sizeof(next.tracking_number));
		memcpy(next.ship_carrier, cur.ship_carrier, sizeof(next.ship_carrier));
		/* What only the supplier says: its promised date, its carrier's news. */
		next.estimated_ship_date = cur.estimated_ship_date;
		next.delivery_status = cur.delivery_status;
		next.delivered_at = cur.delivered_at;
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
		if (store_sale_same(&cur, &next)) {
			*out = IMPORT_UNCHANGED;
			return STORE_OK;
		}
		next.updated_at = now;
		action = next.status == STATUS_CANCELLED && cur.status != STATUS_CANCELLED ?
		    LOG_CANCELLED : LOG_UPDATED;
	}
	/* The line's item, rendered ahead by the caller, serves when the merge kept the line as it was. */
	item = l->item.len > 0 && store_sale_same(&next, &l->sp) ? l->item.p : NULL;
	if ((rc = sale_write(t, exists ? &cur : NULL, &next, item, l->item.len, NULL, NULL, action, user, request_id, now)) != STORE_OK)
		return rc;
	*out = exists ? IMPORT_CHANGED : IMPORT_CREATED;
	return STORE_OK;
}
