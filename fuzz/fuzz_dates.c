/*
 * Dates, timestamps, prices and integers: parse_date, parse_timestamp (with
 * and without allow_date), parse_price and parse_uint, each on the whole
 * input.  Acceptance must match a reference (the C library's calendar for
 * dates); what is accepted formats back to the same text; a failed parse
 * writes nothing.  The first bytes also feed format_date / format_timestamp,
 * whose output must parse back to the value.
 */
#include <time.h>

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
	return 0;
}
