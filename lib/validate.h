#ifndef MENZZO_VALIDATE_H
#define MENZZO_VALIDATE_H

/*
 * Validators: small pure functions that parse while they check.  Each reads
 * exactly s[0..len) (a NUL inside is invalid), returns 0 and fills the typed
 * value when the text is valid, -1 otherwise, and never writes on failure.
 */

#include <stddef.h>
#include <stdint.h>

#include "sale.h"

#define DATE_LEN 10      /* YYYY-MM-DD */
#define TIMESTAMP_LEN 20 /* YYYY-MM-DDThh:mm:ssZ */

/* A decimal integer in [min, max]: digits only, no sign, no leading zero. */
int parse_uint(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

/* YYYY-MM-DD, a real calendar date in 1970-01-01 .. 9999-12-31, as days since 1970-01-01. */
int parse_date(const char *s, size_t len, uint32_t *days);
/* Writes YYYY-MM-DD and a NUL into out[DATE_LEN + 1]. */
void format_date(uint32_t days, char *out);

/*
 * YYYY-MM-DDThh:mm:ssZ (UTC, seconds 00-59) as seconds since the epoch.  With
 * allow_date, a bare YYYY-MM-DD also parses and means the end of that day
 * (23:59:59Z), as `token add --expires` wants.
 */
int parse_timestamp(const char *s, size_t len, int allow_date, int64_t *t);
/* Writes YYYY-MM-DDThh:mm:ssZ and a NUL into out[TIMESTAMP_LEN + 1]. */
void format_timestamp(int64_t t, char *out);

/* {increment_id}_{sale_product_id}, both decimal 1 .. 2^64-1. */
int parse_menzzo_order_id(const char *s, size_t len, uint64_t *increment_id,
    uint64_t *sale_product_id);
/* An order, or one sale product of it. */
struct order_ref {
	uint64_t increment_id;
	uint64_t sale_product_id; /* 0: the whole order */
};
/* An order reference as get-sales takes it: a menzzo_order_id or a bare increment_id. */
int parse_order_ref(const char *s, size_t len, struct order_ref *ref);
/* Writes {increment_id}_{sale_product_id} and a NUL into out[MENZZO_ORDER_ID_MAX + 1]. */
void format_menzzo_order_id(uint64_t increment_id, uint64_t sale_product_id, char *out);

/* A price: digits with an optional '.' and one or two decimals, at most PRICE_CENTS_MAX cents. */
int parse_price(const char *s, size_t len, int64_t *cents);
/* Writes the price with two decimals and a NUL into out[24]. */
void format_price(int64_t cents, char *out);

int parse_status(const char *s, size_t len, enum sale_status *out);
int parse_status_filter(const char *s, size_t len, enum status_filter *out);

/*
 * A label path relative to the files directory: segments of [A-Za-z0-9._-]
 * separated by single '/', none of them "." or "..", no leading or trailing
 * '/', at most LABEL_MAX bytes.
 */
int valid_label_path(const char *s, size_t len);

/*
 * Free text for a SKU, a carrier, a tracking number or a token label: 1 to max
 * bytes of printable ASCII (0x20-0x7e), not starting or ending with a space.
 */
int valid_text(const char *s, size_t len, size_t max);

/* 1 when s[from..len) holds only spaces, tabs, CR and LF (JSON white space), else 0. */
int only_blanks(const char *s, size_t from, size_t len);

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

#endif
