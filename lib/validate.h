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
/* A refusal reason by name (out_of_stock, ...); never REASON_NONE. */
int parse_reason(const char *s, size_t len, enum refusal_reason *out);
/* A carrier event's status by name (in_transit, ...); never DELIVERY_NONE. */
int parse_delivery_status(const char *s, size_t len, enum delivery_status *out);

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

/*
 * Free text of people: 1 to max_chars characters of UTF-8 (shortest
 * forms, no surrogates, at most U+10FFFF) of which none is a control
 * character (C0, DEL, C1); at most 4 * max_chars bytes.
 */
int valid_utf8_text(const char *s, size_t len, size_t max_chars);

/*
 * A refusal's note: 1 to NOTE_CHARS_MAX characters of UTF-8 (shortest
 * forms, no surrogates, at most U+10FFFF) of which none is a control
 * character (C0, DEL, C1).
 */
int valid_note(const char *s, size_t len);

/* 1 when s[from..len) holds only spaces, tabs, CR and LF (JSON white space), else 0. */
int only_blanks(const char *s, size_t from, size_t len);

#endif
