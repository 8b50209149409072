/* The validators of the whitelist tables (field.h): each the table form of a parser of validate.h. */
#include <stdio.h>
#include <string.h>

#include "field.h"
#include "supplier.h"

#define PAGE_MAX 1000000

int
field_page(struct field *f)
{
	return parse_uint(f->val, f->len, 1, PAGE_MAX, &f->parsed.number);
}

int
field_date(struct field *f)
{
	return parse_date(f->val, f->len, &f->parsed.date);
}

int
field_order_ref(struct field *f)
{
	return parse_order_ref(f->val, f->len, &f->parsed.ref);
}

int
field_menzzo_order_id(struct field *f)
{
	return parse_menzzo_order_id(f->val, f->len, &f->parsed.ref.increment_id,
	    &f->parsed.ref.sale_product_id);
}

int
field_status_filter(struct field *f)
{
	return parse_status_filter(f->val, f->len, &f->parsed.status);
}

int
field_tracking_number(struct field *f)
{
	return valid_text(f->val, f->len, TRACKING_MAX);
}

int
field_carrier(struct field *f)
{
	return valid_text(f->val, f->len, CARRIER_MAX);
}

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
field_reason(struct field *f)
{
	return parse_reason(f->val, f->len, &f->parsed.reason);
}

int
field_note(struct field *f)
{
	return valid_note(f->val, f->len);
}

int
field_id(struct field *f)
{
	return parse_uint(f->val, f->len, 1, UINT64_MAX, &f->parsed.number);
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

int
field_sku(struct field *f)
{
	return valid_text(f->val, f->len, SKU_MAX);
}

int
field_quantity(struct field *f)
{
	return parse_uint(f->val, f->len, 1, QUANTITY_MAX, &f->parsed.number);
}

int
field_price(struct field *f)
{
	return parse_price(f->val, f->len, &f->parsed.amount);
}

int
field_label(struct field *f)
{
	return valid_label_path(f->val, f->len);
}

int
field_sale_status(struct field *f)
{
	return parse_status(f->val, f->len, &f->parsed.sale_status);
}

int
field_timestamp(struct field *f)
{
	return parse_timestamp(f->val, f->len, 0, &f->parsed.time);
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
