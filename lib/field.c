/* The validators of the whitelist tables (field.h): each the table form of a parser of validate.h. */
#include <stdio.h>
#include <string.h>

#include "field.h"
#include "supplier.h"

#define PAGE_MAX 1000000

/* A validator that is one parser of validate.h on the field's text. */
#define FIELD_VALIDATOR(name, parse) \
	int name(struct field *f) { return parse; }
FIELD_VALIDATOR(field_page, parse_uint(f->val, f->len, 1, PAGE_MAX, &f->parsed.number))
FIELD_VALIDATOR(field_date, parse_date(f->val, f->len, &f->parsed.date))
FIELD_VALIDATOR(field_order_ref, parse_order_ref(f->val, f->len, &f->parsed.ref))
FIELD_VALIDATOR(field_menzzo_order_id, parse_menzzo_order_id(f->val, f->len, &f->parsed.ref.increment_id,
	    &f->parsed.ref.sale_product_id))
FIELD_VALIDATOR(field_status_filter, parse_status_filter(f->val, f->len, &f->parsed.status))
FIELD_VALIDATOR(field_tracking_number, valid_text(f->val, f->len, TRACKING_MAX))
FIELD_VALIDATOR(field_carrier, valid_text(f->val, f->len, CARRIER_MAX))
FIELD_VALIDATOR(field_reason, parse_reason(f->val, f->len, &f->parsed.reason))
FIELD_VALIDATOR(field_note, valid_note(f->val, f->len))
FIELD_VALIDATOR(field_location, valid_utf8_text(f->val, f->len, LOCATION_CHARS_MAX))
FIELD_VALIDATOR(field_delivery_status, parse_delivery_status(f->val, f->len, &f->parsed.delivery))
FIELD_VALIDATOR(field_id, parse_uint(f->val, f->len, 1, UINT64_MAX, &f->parsed.number))
FIELD_VALIDATOR(field_sku, valid_text(f->val, f->len, SKU_MAX))
FIELD_VALIDATOR(field_quantity, parse_uint(f->val, f->len, 1, QUANTITY_MAX, &f->parsed.number))
FIELD_VALIDATOR(field_price, parse_price(f->val, f->len, &f->parsed.amount))
FIELD_VALIDATOR(field_label, valid_label_path(f->val, f->len))
FIELD_VALIDATOR(field_sale_status, parse_status(f->val, f->len, &f->parsed.sale_status))
FIELD_VALIDATOR(field_timestamp, parse_timestamp(f->val, f->len, 0, &f->parsed.time))

int
field_boolean(struct field *f)
{
	if (f->len == 4 && memcmp(f->val, "true", 4) == 0)
		f->parsed.flag = 1;
	else if (f->len == 5 && memcmp(f->val, "false", 5) == 0)
		f->parsed.flag = 0;
	else
		return -1;
	return 0;
}

int
field_supplier(struct field *f)
{
	const struct supplier *sup = supplier_by_slug(f->val, f->len);

	if (sup == NULL)
		return -1;
	f->parsed.supplier = supplier_id(sup);
	return 0;
}

const char *
field_message(const struct field_rule *rule, char *buf, size_t len)
{
	char names[256];

	if (rule->one_of == NULL)
		return rule->message;
	rule->one_of(names, sizeof(names));
	snprintf(buf, len, "%s %s.", rule->message, names);
	return buf;
}
