/*
 * Dates, timestamps, prices and integers: parse_date, parse_timestamp (with
 * and without allow_date), parse_price and parse_uint, each on the whole
 * input.  Acceptance must match a reference (the C library's calendar for
 * dates); what is accepted formats back to the same text; a failed parse
 * writes nothing.  The first bytes also feed format_date / format_timestamp,
 * whose output must parse back to the value.  The same input goes to the
 * text validators of carrier events: parse_delivery_status (exactly the
 * names delivery_status_name gives a carrier event's statuses) and
 * valid_utf8_text (exactly what the well-formed sequences of the Unicode
 * standard's Table 3-7 spell, without control characters, within the
 * bound), and to their table forms field_delivery_status, field_location
 * and valid_note.
 */
#include <time.h>

#include "field.h"
#include "validate.h"

#include "fuzz.h"

#define MAX_DAYS 2932896U            /* 9999-12-31 */
#define MAX_TIME 253402300799LL      /* 9999-12-31T23:59:59Z */

static int
digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!fuzz_is_digit(s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

/* Reference: YYYY-MM-DD, a real date from 1970 on, by the C library's calendar; *t its midnight. */
static int
ref_date(const char *s, size_t len, int64_t *t)
{
	struct tm tm, back;
	int y, m, d;
	time_t tt;

	if (len != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
	    !digits(s + 8, 2, &d) || y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	tt = timegm(&tm);
	if (gmtime_r(&tt, &back) == NULL || back.tm_year != y - 1900 || back.tm_mon != m - 1 || back.tm_mday != d)
		return 0;
	*t = (int64_t)tt - 12 * 3600LL;
	return 1;
}

/* Reference: YYYY-MM-DDThh:mm:ssZ. */
static int
ref_timestamp(const char *s, size_t len, int64_t *t)
{
	int hh, mm, ss;

	if (len != 20 || !ref_date(s, 10, t) || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	    !digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mm) || !digits(s + 17, 2, &ss) ||
	    hh > 23 || mm > 59 || ss > 59)
		return 0;
	*t += hh * 3600 + mm * 60 + ss;
	return 1;
}

/* Reference: (0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?  Returns the number of decimals + 1, or 0. */
static int
ref_price(const char *s, size_t len)
{
	const char *dot = memchr(s, '.', len);
	size_t ilen = dot ? (size_t)(dot - s) : len, flen = dot ? len - ilen - 1 : 0;

	if (ilen == 0 || ilen > 9 || (ilen > 1 && s[0] == '0') || (dot && (flen < 1 || flen > 2)))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s + i != dot && !fuzz_is_digit(s[i]))
			return 0;
	return (int)flen + 1;
}

static void
check_date(const char *s, size_t len)
{
	uint32_t days = 0xdeadbeef;
	int64_t ref;
	char out[DATE_LEN + 1];
	int ok = parse_date(s, len, &days) == 0;

	CHECK(ok == ref_date(s, len, &ref));
	if (!ok) {
		CHECK(days == 0xdeadbeef);
		return;
	}
	CHECK((int64_t)days * 86400 == ref && days <= MAX_DAYS);
	format_date(days, out);
	CHECK(fuzz_equals(s, len, out));
}

static void
check_timestamp(const char *s, size_t len, int allow_date)
{
	int64_t t = -42, ref;
	uint32_t days;
	char out[TIMESTAMP_LEN + 1];
	int ok = parse_timestamp(s, len, allow_date, &t) == 0;

	if (allow_date && len == DATE_LEN) {
		CHECK(ok == (parse_date(s, len, &days) == 0));
		if (ok) {
			CHECK(t == (int64_t)days * 86400 + 86399);
			format_timestamp(t, out);
			CHECK(memcmp(out, s, DATE_LEN) == 0 && strcmp(out + DATE_LEN, "T23:59:59Z") == 0);
		}
	} else {
		CHECK(ok == ref_timestamp(s, len, &ref));
		if (ok) {
			CHECK(t == ref);
			format_timestamp(t, out);
			CHECK(fuzz_equals(s, len, out));
		}
	}
	if (!ok)
		CHECK(t == -42);
}

static void
check_price(const char *s, size_t len)
{
	int64_t cents = -42;
	char out[24], want[24];
	int ok = parse_price(s, len, &cents) == 0, ref = ref_price(s, len);

	CHECK(ok == (ref != 0));
	if (!ok) {
		CHECK(cents == -42);
		return;
	}
	CHECK(cents >= 0 && cents <= PRICE_CENTS_MAX);
	format_price(cents, out);
	/* Exactly two decimals round-trip; fewer are padded with zeros. */
	snprintf(want, sizeof(want), "%.*s%s", (int)len, s, ref == 1 ? ".00" : ref == 2 ? "0" : "");
	CHECK(strcmp(out, want) == 0);
}

static void
check_uint(const char *s, size_t len)
{
	uint64_t v = 12345, w = 12345;
	char out[24];
	int ok = parse_uint(s, len, 0, UINT64_MAX, &v) == 0;

	CHECK(ok == fuzz_ref_uint(s, len));
	if (!ok) {
		CHECK(v == 12345);
		CHECK(parse_uint(s, len, 1, 1000000, &w) != 0 && w == 12345);
		return;
	}
	snprintf(out, sizeof(out), "%llu", (unsigned long long)v);
	CHECK(fuzz_equals(s, len, out));
	ok = parse_uint(s, len, 1, 1000000, &w) == 0;
	CHECK(ok == (v >= 1 && v <= 1000000));
	CHECK(ok ? w == v : w == 12345);
}

/* Reference: the statuses a carrier event may give are delivery_status_name's for 1 .. DELIVERY__MAX - 1. */
static void
check_delivery_status(const char *s, size_t len)
{
	const enum delivery_status unset = (enum delivery_status)(DELIVERY__MAX + 7);
	enum delivery_status d = unset;
	struct field f;
	int want = 0, ok = parse_delivery_status(s, len, &d) == 0;
	char *text;

	for (int i = DELIVERY_NONE + 1; i < DELIVERY__MAX; i++)
		if (fuzz_equals(s, len, delivery_status_name((enum delivery_status)i)))
			want = i;
	CHECK(ok == (want != 0));
	CHECK(ok ? (int)d == want : d == unset);
	/* The table form reads the same (a NUL-terminated copy, as the request parsers make). */
	text = fuzz_cstr((const uint8_t *)s, len);
	memset(&f, 0, sizeof(f));
	f.set = 1;
	f.val = text;
	f.len = len;
	CHECK((field_delivery_status(&f) == 0) == ok && (!ok || f.parsed.delivery == d));
	free(text);
}

/* Once: every status a carrier event may give has a name of its own, which parses to it and is in the list of names. */
static void
check_delivery_names(void)
{
	static int done;
	char joined[256], want[256] = "";
	size_t at = 0;

	if (done)
		return;
	done = 1;
	CHECK(delivery_status_name(DELIVERY_NONE)[0] == '\0');
	for (int i = DELIVERY_NONE + 1; i < DELIVERY__MAX; i++) {
		const char *name = delivery_status_name((enum delivery_status)i);
		enum delivery_status d = DELIVERY_NONE;

		CHECK(name[0] != '\0' && strcmp(name, "unknown") != 0);
		CHECK(parse_delivery_status(name, strlen(name), &d) == 0 && (int)d == i);
		for (int j = DELIVERY_NONE + 1; j < i; j++)
			CHECK(strcmp(name, delivery_status_name((enum delivery_status)j)) != 0);
		at += (size_t)snprintf(want + at, sizeof(want) - at, "%s%s", at ? ", " : "", name);
		CHECK(at < sizeof(want));
	}
	delivery_status_names_join(joined, sizeof(joined));
	CHECK(strcmp(joined, want) == 0);
}

/*
 * Reference: the length of the well-formed UTF-8 sequence at s[0..left)
 * (Unicode Table 3-7, by the ranges of each byte), 0 when there is none;
 * *control set when it is a control character (C0, DEL, C1).
 */
static size_t
ref_utf8_char(const unsigned char *s, size_t left, int *control)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	*control = 0;
	if (s[0] <= 0x7f) {
		*control = s[0] < 0x20 || s[0] == 0x7f;
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n > left || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	*control = s[0] == 0xc2 && s[1] <= 0x9f;
	return n;
}

/* Reference of valid_utf8_text: 1 .. max_chars characters, every one well-formed and not a control character. */
static int
ref_utf8_text(const char *s, size_t len, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0, n;
	int control;

	for (size_t i = 0; i < len; i += n, chars++)
		if ((n = ref_utf8_char(p + i, len - i, &control)) == 0 || control)
			return 0;
	return chars >= 1 && chars <= max_chars;
}

static void
check_utf8_text(const char *s, size_t len)
{
	static const size_t bounds[] = { 1, 2, 3, 8, LOCATION_CHARS_MAX, NOTE_CHARS_MAX };
	struct field f;
	char *text;
	int ok;

	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
		CHECK((valid_utf8_text(s, len, bounds[i]) == 0) == ref_utf8_text(s, len, bounds[i]));
	CHECK((valid_note(s, len) == 0) == ref_utf8_text(s, len, NOTE_CHARS_MAX));
	/* field_location: the same, within LOCATION_CHARS_MAX characters. */
	ok = ref_utf8_text(s, len, LOCATION_CHARS_MAX);
	text = fuzz_cstr((const uint8_t *)s, len);
	memset(&f, 0, sizeof(f));
	f.set = 1;
	f.val = text;
	f.len = len;
	CHECK((field_location(&f) == 0) == ok);
	CHECK(!ok || len <= LOCATION_MAX);
	free(text);
}

/* Any day / second in range formats to text that parses back to it. */
static void
check_formats(const uint8_t *data, size_t size)
{
	uint64_t raw = 0;
	uint32_t days;
	int64_t t;
	char out[TIMESTAMP_LEN + 1];

	if (size < 8)
		return;
	memcpy(&raw, data, 8);
	days = (uint32_t)(raw % (MAX_DAYS + 1));
	format_date(days, out);
	{
		uint32_t back = 0;
		CHECK(strlen(out) == DATE_LEN && parse_date(out, DATE_LEN, &back) == 0 && back == days);
	}
	t = (int64_t)(raw % (uint64_t)(MAX_TIME + 1));
	format_timestamp(t, out);
	{
		int64_t back = 0;
		CHECK(strlen(out) == TIMESTAMP_LEN && parse_timestamp(out, TIMESTAMP_LEN, 0, &back) == 0 && back == t);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data; /* length-delimited: a read past size is caught */

	check_date(s, size);
	check_timestamp(s, size, 0);
	check_timestamp(s, size, 1);
	check_price(s, size);
	check_uint(s, size);
	check_formats(data, size);
	check_delivery_names();
	check_delivery_status(s, size);
	check_utf8_text(s, size);
	return 0;
}
