/* The validators of the whitelist tables (field.h): each the table form of a parser of validate.h. */
#include <string.h>

#include "field.h"

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
