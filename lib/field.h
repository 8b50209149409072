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
		int64_t amount;              /* cents */
		int64_t time;                /* seconds since the epoch */
		struct order_ref ref;
		enum status_filter status;
		enum sale_status sale_status;
		unsigned supplier;           /* a row of the supplier table */
		int flag;                    /* a boolean */
		enum refusal_reason reason;
		enum delivery_status delivery;
	} parsed;
	struct field_list *list;         /* an array field's elements */
};

typedef int (*field_validator)(struct field *f);

/* What a field holds (the parsers in request.h read each kind its own way). */
enum field_kind {
	FIELD_TEXT,     /* a JSON string; a form value */
	FIELD_BOOLEAN,  /* a JSON true or false, read as the text "true" or "false"; in a form, that text */
	FIELD_ARRAY,    /* JSON only: an array of objects, each read against the element table */
	FIELD_NUMBER_OR_TEXT, /* a JSON string, or a JSON number read as its text ("250.00" stays exact) */
	FIELD_INTEGER,  /* a JSON integer, read as its decimal text */
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
	const char *message; /* the sentence for the supplier; with one_of, its start ("Field reason must be one of") */
	enum field_kind kind;
	size_t max_len;                   /* text: bytes after decoding; 0: FIELD_VALUE_MAX */
	const struct field_rule *element; /* array: the whitelist of each element object */
	size_t element_rules;             /* its rows */
	size_t min_items, max_items;      /* array: its length */
	/* A field whose values are the names of a table: writes them ("a, b, c") to end the sentence. */
	void (*one_of)(char *out, size_t len);
};

/* The sentence of a field's 400: rule->message, or with one_of that start and the names, in buf. */
const char *field_message(const struct field_rule *rule, char *buf, size_t len);

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
int field_location(struct field *f);         /* valid_utf8_text, 1 .. LOCATION_CHARS_MAX characters */
int field_delivery_status(struct field *f);  /* parse_delivery_status, in parsed.delivery */
/* The fields of an import line. */
int field_id(struct field *f);               /* a decimal 1 .. 2^64-1, in parsed.number */
int field_supplier(struct field *f);         /* a supplier's slug, its row in parsed.supplier */
int field_sku(struct field *f);              /* valid_text, 1 .. SKU_MAX */
int field_quantity(struct field *f);         /* 1 .. QUANTITY_MAX, in parsed.number */
int field_price(struct field *f);            /* parse_price, in parsed.amount */
int field_label(struct field *f);            /* valid_label_path */
int field_sale_status(struct field *f);      /* parse_status, in parsed.sale_status */
int field_timestamp(struct field *f);        /* parse_timestamp (no date alone), in parsed.time */

#endif
