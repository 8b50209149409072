#ifndef MENZZO_FIELD_H
#define MENZZO_FIELD_H

/*
 * The whitelist tables the request parsers (request.h) read fields
 * against, and the validators of their rows: each the table form of a
 * parser of validate.h.
 */

#include <stddef.h>
#include <stdint.h>

#include "validate.h"

/*
 * Fields: a query parameter or a body field as the request gave it, checked
 * against a whitelist table (kcgi's struct kvalid).  A validator reads
 * f->val[0..f->len), returns 0 and fills f->parsed when the value is valid,
 * -1 otherwise.
 */
struct field_list; /* request.h: the elements of an array field */

struct field {
	int set;        /* 0 for a field that was absent; val is then NULL */
	char *val;      /* decoded, NUL-terminated, no NUL inside; NULL for an array field */
	size_t len;
	union {
		uint64_t number;
		uint32_t date;
		struct order_ref ref;
		enum status_filter status;
		int flag;                    /* a boolean */
		enum refusal_reason reason;
	} parsed;
	struct field_list *list;         /* an array field's elements */
};

typedef int (*field_validator)(struct field *f);

/* What a field holds (the parsers in request.h read each kind its own way). */
enum field_kind {
	FIELD_TEXT,     /* a JSON string; a form value */
	FIELD_BOOLEAN,  /* a JSON true or false, read as the text "true" or "false"; in a form, that text */
	FIELD_ARRAY,    /* JSON only: an array of objects, each read against the element table */
};

/*
 * One row of a whitelist: the field's name, its validator, the 400 it
 * raises when invalid, and what kind of value it takes (a text of at most
 * FIELD_VALUE_MAX bytes unless the row says otherwise).
 */
struct field_rule {
	const char *name;
	field_validator valid;
	const char *code;    /* machine code of the 400 */
	const char *message; /* the sentence for the supplier */
	enum field_kind kind;
	size_t max_len;                   /* text: bytes after decoding; 0: FIELD_VALUE_MAX */
	const struct field_rule *element; /* array: the whitelist of each element object */
	size_t element_rules;             /* its rows */
	size_t min_items, max_items;      /* array: its length */
};

int field_page(struct field *f);             /* 1 .. 1000000, in parsed.number */
int field_date(struct field *f);             /* parse_date, in parsed.date */
int field_order_ref(struct field *f);        /* parse_order_ref, in parsed.ref */
int field_menzzo_order_id(struct field *f);  /* a full menzzo_order_id, in parsed.ref */
int field_status_filter(struct field *f);    /* parse_status_filter, in parsed.status */
int field_tracking_number(struct field *f);  /* valid_text, 1 .. TRACKING_MAX */
int field_carrier(struct field *f);          /* valid_text, 1 .. CARRIER_MAX */
int field_boolean(struct field *f);          /* "true" or "false", in parsed.flag */
int field_reason(struct field *f);           /* parse_reason, in parsed.reason */
int field_note(struct field *f);             /* valid_note */

#endif
