#include <stdio.h>
#include <string.h>

#include "validate.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
parse_uint(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d;
		if (!is_digit(s[i]))
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Fixed-width digits, leading zeros allowed: for the fields of dates and times. */
static int
fixed_digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Writes v as exactly n digits (zero-padded) at out; returns out + n.  The
 * formatters below run for every field of every listed item: no printf. */
static char *
put_digits(char *out, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return out + n;
}

/* Writes v in decimal without padding; returns the end. */
static char *
put_u64(char *out, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*out++ = tmp[--n];
	return out;
}

static int
is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a valid civil date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, unsigned *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp, yy;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned)(yy + (*m <= 2));
}

int
parse_date(const char *s, size_t len, uint32_t *days)
{
	unsigned y, m, d;

	if (len != DATE_LEN || s[4] != '-' || s[7] != '-' ||
	    fixed_digits(s, 4, &y) || fixed_digits(s + 5, 2, &m) ||
	    fixed_digits(s + 8, 2, &d))
		return -1;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*days = (uint32_t)days_from_civil(y, m, d);
	return 0;
}

void
format_date(uint32_t days, char *out)
{
	unsigned y, m, d;

	civil_from_days(days, &y, &m, &d);
	out = put_digits(out, y % 10000, 4);
	*out++ = '-';
	out = put_digits(out, m, 2);
	*out++ = '-';
	out = put_digits(out, d, 2);
	*out = '\0';
}

int
parse_timestamp(const char *s, size_t len, int allow_date, int64_t *t)
{
	uint32_t days;
	unsigned hh, mm, ss;

	if (allow_date && len == DATE_LEN) {
		if (parse_date(s, len, &days))
			return -1;
		*t = (int64_t)days * 86400 + 86399;
		return 0;
	}
	if (len != TIMESTAMP_LEN || parse_date(s, DATE_LEN, &days) ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	    fixed_digits(s + 11, 2, &hh) || fixed_digits(s + 14, 2, &mm) ||
	    fixed_digits(s + 17, 2, &ss) || hh > 23 || mm > 59 || ss > 59)
		return -1;
	*t = (int64_t)days * 86400 + (int64_t)hh * 3600 + (int64_t)mm * 60 + ss;
	return 0;
}

void
format_timestamp(int64_t t, char *out)
{
	int64_t days = t / 86400, rem = t % 86400;
	unsigned y, m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	out = put_digits(out, y % 10000, 4);
	*out++ = '-';
	out = put_digits(out, m, 2);
	*out++ = '-';
	out = put_digits(out, d, 2);
	*out++ = 'T';
	out = put_digits(out, (unsigned)(rem / 3600), 2);
	*out++ = ':';
	out = put_digits(out, (unsigned)(rem / 60 % 60), 2);
	*out++ = ':';
	out = put_digits(out, (unsigned)(rem % 60), 2);
	*out++ = 'Z';
	*out = '\0';
}

int
parse_order_ref(const char *s, size_t len, struct order_ref *ref)
{
	const char *us = memchr(s, '_', len);
	uint64_t inc, sp = 0;

	if (us == NULL) {
		if (parse_uint(s, len, 1, UINT64_MAX, &inc))
			return -1;
	} else if (parse_uint(s, (size_t)(us - s), 1, UINT64_MAX, &inc) ||
	    parse_uint(us + 1, len - (size_t)(us - s) - 1, 1, UINT64_MAX, &sp))
		return -1;
	ref->increment_id = inc;
	ref->sale_product_id = sp;
	return 0;
}

int
parse_menzzo_order_id(const char *s, size_t len, uint64_t *increment_id,
    uint64_t *sale_product_id)
{
	struct order_ref ref;

	if (parse_order_ref(s, len, &ref) || ref.sale_product_id == 0)
		return -1;
	*increment_id = ref.increment_id;
	*sale_product_id = ref.sale_product_id;
	return 0;
}

void
format_menzzo_order_id(uint64_t increment_id, uint64_t sale_product_id, char *out)
{
	out = put_u64(out, increment_id);
	*out++ = '_';
	out = put_u64(out, sale_product_id);
	*out = '\0';
}

int
parse_price(const char *s, size_t len, int64_t *cents)
{
	const char *dot = memchr(s, '.', len);
	size_t ilen = dot ? (size_t)(dot - s) : len;
	size_t flen = dot ? len - ilen - 1 : 0;
	uint64_t units;
	unsigned frac = 0;

	if (ilen == 0 || ilen > 9 || (dot && (flen < 1 || flen > 2)))
		return -1;
	/* "007.50" is not a price; "0.50" is. */
	if (parse_uint(s, ilen, 0, 999999999, &units))
		return -1;
	if (dot) {
		if (fixed_digits(dot + 1, flen, &frac))
			return -1;
		if (flen == 1)
			frac *= 10;
	}
	*cents = (int64_t)units * 100 + frac;
	return 0;
}

void
format_price(int64_t cents, char *out)
{
	if (cents < 0) {
		*out++ = '-';
		cents = -cents;
	}
	out = put_u64(out, (uint64_t)cents / 100);
	*out++ = '.';
	out = put_digits(out, (unsigned)(cents % 100), 2);
	*out = '\0';
}

/* The index of s[0..len) among the names of a value, by asking name() for each one below n. */
static int
lookup(const char *s, size_t len, const char *(*name)(int), int n)
{
	for (int i = 0; i < n; i++) {
		const char *v = name(i);
		if (strlen(v) == len && memcmp(v, s, len) == 0)
			return i;
	}
	return -1;
}

static const char *
status_at(int i)
{
	return status_name((enum sale_status)i);
}

static const char *
filter_at(int i)
{
	return status_filter_name((enum status_filter)i);
}

int
parse_status(const char *s, size_t len, enum sale_status *out)
{
	int i = lookup(s, len, status_at, STATUS__MAX);

	if (i >= 0)
		*out = (enum sale_status)i;
	return i >= 0 ? 0 : -1;
}

int
parse_status_filter(const char *s, size_t len, enum status_filter *out)
{
	int i = lookup(s, len, filter_at, FILTER__MAX);

	if (i >= 0)
		*out = (enum status_filter)i;
	return i >= 0 ? 0 : -1;
}

static const char *
reason_at(int i)
{
	return refusal_reason_name((enum refusal_reason)i);
}

int
parse_reason(const char *s, size_t len, enum refusal_reason *out)
{
	int i = len > 0 ? lookup(s, len, reason_at, REASON__MAX) : -1;

	if (i > 0)
		*out = (enum refusal_reason)i;
	return i > 0 ? 0 : -1;
}

static const char *
delivery_at(int i)
{
	return delivery_status_name((enum delivery_status)i);
}

int
parse_delivery_status(const char *s, size_t len, enum delivery_status *out)
{
	int i = len > 0 ? lookup(s, len, delivery_at, DELIVERY__MAX) : -1;

	if (i > 0)
		*out = (enum delivery_status)i;
	return i > 0 ? 0 : -1;
}

static int
is_path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    is_digit(c) || c == '.' || c == '_' || c == '-';
}

int
valid_label_path(const char *s, size_t len)
{
	size_t seg = 0; /* start of the current segment */

	if (len == 0 || len > LABEL_MAX)
		return -1;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '/') {
			size_t n = i - seg;
			if (n == 0 || (n == 1 && s[seg] == '.') ||
			    (n == 2 && s[seg] == '.' && s[seg + 1] == '.'))
				return -1;
			seg = i + 1;
		} else if (!is_path_char(s[i]))
			return -1;
	}
	return 0;
}

/* The length of the UTF-8 sequence at s[0..left) and its code point, or 0 when it is not a valid one. */
static size_t
utf8_next(const unsigned char *s, size_t left, uint32_t *cp)
{
	static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
	size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	uint32_t v;

	if (n == 0 || n > left)
		return 0;
	v = n == 1 ? s[0] : (uint32_t)(s[0] & (0x7f >> n));
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	/* Shortest form only, no surrogate, nothing past U+10FFFF. */
	if (v < min[n - 1] || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;
	*cp = v;
	return n;
}

int
valid_utf8_text(const char *s, size_t len, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;

	if (len == 0 || len > 4 * max_chars)
		return -1;
	for (size_t i = 0, n; i < len; i += n, chars++) {
		uint32_t cp = 0;

		if ((n = utf8_next(p + i, len - i, &cp)) == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return -1;
	}
	return chars <= max_chars ? 0 : -1;
}

int
valid_note(const char *s, size_t len)
{
	return valid_utf8_text(s, len, NOTE_CHARS_MAX);
}

int
only_blanks(const char *s, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

int
valid_text(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max || s[0] == ' ' || s[len - 1] == ' ')
		return -1;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return -1;
	return 0;
}
