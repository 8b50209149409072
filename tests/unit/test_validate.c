/* Unit tests of lib/validate.c, lib/request.c (form and JSON fields) and lib/auth.c (bearer parsing). */
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "json_text.h"
#include "request.h"
#include "response.h"
#include "unit.h"
#include "validate.h"

#define S(x) x, sizeof(x) - 1

static void
dates(void)
{
	uint32_t d;
	char out[DATE_LEN + 1];
	int64_t t;
	char ts[TIMESTAMP_LEN + 1];

	CHECK(parse_date(S("1970-01-01"), &d) == 0 && d == 0, "epoch day is 0");
	CHECK(parse_date(S("2024-02-29"), &d) == 0, "2024-02-29 is a date");
	format_date(d, out);
	CHECK(strcmp(out, "2024-02-29") == 0, "2024-02-29 round-trips");
	CHECK(parse_date(S("2023-02-29"), &d) != 0, "2023-02-29 is not");
	CHECK(parse_date(S("2100-02-29"), &d) != 0, "2100-02-29 is not (century)");
	CHECK(parse_date(S("2000-02-29"), &d) == 0, "2000-02-29 is (400 years)");
	CHECK(parse_date(S("2026-02-30"), &d) != 0, "Feb 30 refused");
	CHECK(parse_date(S("2026-04-31"), &d) != 0, "Apr 31 refused");
	CHECK(parse_date(S("2026-13-01"), &d) != 0, "month 13 refused");
	CHECK(parse_date(S("2026-00-10"), &d) != 0, "month 0 refused");
	CHECK(parse_date(S("2026-01-00"), &d) != 0, "day 0 refused");
	CHECK(parse_date(S("2026-1-05"), &d) != 0, "short month refused");
	CHECK(parse_date(S("2026-01-05 "), &d) != 0, "trailing space refused");
	CHECK(parse_date(S("1969-12-31"), &d) != 0, "before 1970 refused");
	CHECK(parse_date("2026-01-0\0", 10, &d) != 0, "NUL refused");
	CHECK(parse_date(S("+026-01-05"), &d) != 0, "sign refused");
	CHECK(parse_date(S("9999-12-31"), &d) == 0, "9999-12-31 accepted");
	format_date(d, out);
	CHECK(strcmp(out, "9999-12-31") == 0, "9999-12-31 round-trips");

	CHECK(parse_timestamp(S("2026-01-15T10:32:07Z"), 0, &t) == 0, "timestamp parses");
	format_timestamp(t, ts);
	CHECK(strcmp(ts, "2026-01-15T10:32:07Z") == 0, "timestamp round-trips");
	CHECK(parse_timestamp(S("2026-01-15T24:00:00Z"), 0, &t) != 0, "hour 24 refused");
	CHECK(parse_timestamp(S("2026-01-15T10:60:00Z"), 0, &t) != 0, "minute 60 refused");
	CHECK(parse_timestamp(S("2026-01-15T10:32:07+01:00"), 0, &t) != 0, "offsets refused: UTC only");
	CHECK(parse_timestamp(S("2026-01-15"), 0, &t) != 0, "bare date refused without allow_date");
	CHECK(parse_timestamp(S("2026-01-15"), 1, &t) == 0, "bare date accepted with allow_date");
	format_timestamp(t, ts);
	CHECK(strcmp(ts, "2026-01-15T23:59:59Z") == 0, "bare date means the end of that day");
}

static void
ids(void)
{
	uint64_t inc, sp, v;
	struct order_ref ref;
	char out[MENZZO_ORDER_ID_MAX + 1];

	CHECK(parse_menzzo_order_id(S("15000012345_789"), &inc, &sp) == 0 && inc == 15000012345ULL && sp == 789,
	    "seed id parses");
	format_menzzo_order_id(inc, sp, out);
	CHECK(strcmp(out, "15000012345_789") == 0, "seed id round-trips");
	CHECK(parse_menzzo_order_id(S("18446744073709551615_18446744073709551615"), &inc, &sp) == 0 &&
	    inc == UINT64_MAX, "64-bit maxima accepted");
	CHECK(parse_menzzo_order_id(S("18446744073709551616_1"), &inc, &sp) != 0, "2^64 refused");
	CHECK(parse_menzzo_order_id(S("15000012345"), &inc, &sp) != 0, "increment_id alone is no menzzo_order_id");
	CHECK(parse_menzzo_order_id(S("1_"), &inc, &sp) != 0, "empty sale_product_id refused");
	CHECK(parse_menzzo_order_id(S("_1"), &inc, &sp) != 0, "empty increment_id refused");
	CHECK(parse_menzzo_order_id(S("01_2"), &inc, &sp) != 0, "leading zero refused");
	CHECK(parse_menzzo_order_id(S("0_2"), &inc, &sp) != 0, "zero refused");
	CHECK(parse_menzzo_order_id(S("1_2_3"), &inc, &sp) != 0, "two underscores refused");
	CHECK(parse_menzzo_order_id(S("1_-2"), &inc, &sp) != 0, "sign refused");
	CHECK(parse_menzzo_order_id(S(" 1_2"), &inc, &sp) != 0, "space refused");
	CHECK(parse_menzzo_order_id("1_2\0", 4, &inc, &sp) != 0, "NUL refused");
	CHECK(parse_order_ref(S("15000012345"), &ref) == 0 && ref.increment_id == 15000012345ULL &&
	    ref.sale_product_id == 0, "bare increment_id is an order ref");
	CHECK(parse_uint(S("0"), 0, 10, &v) == 0 && v == 0, "0 is a number");
	CHECK(parse_uint(S("11"), 0, 10, &v) != 0, "bounds enforced");
	CHECK(parse_uint(S(""), 0, 10, &v) != 0, "empty refused");
}

static void
prices_and_text(void)
{
	int64_t c;
	char out[24];

	CHECK(parse_price(S("250.00"), &c) == 0 && c == 25000, "250.00");
	CHECK(parse_price(S("250"), &c) == 0 && c == 25000, "250");
	CHECK(parse_price(S("0.5"), &c) == 0 && c == 50, "0.5");
	format_price(50, out);
	CHECK(strcmp(out, "0.50") == 0, "0.50 written with two decimals");
	CHECK(parse_price(S("1.234"), &c) != 0, "three decimals refused");
	CHECK(parse_price(S("-1"), &c) != 0, "negative refused");
	CHECK(parse_price(S("1e3"), &c) != 0, "exponent refused");
	CHECK(parse_price(S("01.00"), &c) != 0, "leading zero refused");
	CHECK(parse_price(S("."), &c) != 0, "lone dot refused");
	CHECK(parse_price(S("999999999.99"), &c) == 0 && c == PRICE_CENTS_MAX, "maximum accepted");
	CHECK(parse_price(S("1000000000"), &c) != 0, "over the maximum refused");

	CHECK(valid_label_path(S("labels/15000012345_789.pdf")) == 0, "label path accepted");
	CHECK(valid_label_path(S("../x.pdf")) != 0, ".. refused");
	CHECK(valid_label_path(S("a/../x.pdf")) != 0, "inner .. refused");
	CHECK(valid_label_path(S("./x.pdf")) != 0, ". refused");
	CHECK(valid_label_path(S("/etc/passwd")) != 0, "absolute refused");
	CHECK(valid_label_path(S("a//b")) != 0, "empty segment refused");
	CHECK(valid_label_path(S("a/")) != 0, "trailing slash refused");
	CHECK(valid_label_path(S("%2e%2e/x")) != 0, "percent refused");
	CHECK(valid_label_path(S("a\\b")) != 0, "backslash refused");
	CHECK(valid_label_path(S("..pdf")) == 0, "dots inside a name are fine");
	CHECK(valid_text(S("CHRONOPOST"), 32) == 0, "carrier accepted");
	CHECK(valid_text(S("A\tB"), 32) != 0, "control character refused");
	CHECK(valid_text(S(" A"), 32) != 0, "leading space refused");
	CHECK(valid_text(S("caf\xc3\xa9"), 32) != 0, "non-ASCII refused");
}

static void
forms(void)
{
	/* Rules without validators: the parsers' syntax alone. */
	static const struct field_rule names[] = { { .name = "menzzo_order_id" }, { .name = "carrier" } };
	struct field f[2];
	int bad = -1;

	memset(f, 0, sizeof(f));
	CHECK(form_parse(S("menzzo_order_id=1_2&x=%zz&carrier=DPD+FR%21"), names, 2, f, &bad) == PARSE_OK &&
	    strcmp(f[0].val, "1_2") == 0 && strcmp(f[1].val, "DPD FR!") == 0, "form decodes, ignores unknown");
	fields_free(f, 2);
	CHECK(form_parse(S("carrier=a&carrier=b"), names, 2, f, &bad) == PARSE_BAD_FIELD && bad == 1,
	    "a known field twice is refused and named");
	fields_free(f, 2);
	CHECK(form_parse(S("carrier=%00"), names, 2, f, &bad) == PARSE_BAD_FIELD, "encoded NUL refused");
	fields_free(f, 2);
	CHECK(form_parse(S("carrier=%4"), names, 2, f, &bad) == PARSE_BAD_FIELD, "truncated escape refused");
	fields_free(f, 2);
	CHECK(form_parse(S("carrier=&menzzo_order_id"), names, 2, f, &bad) == PARSE_OK && f[0].set && f[1].set &&
	    f[0].len == 0 && f[1].len == 0, "empty values are given, and empty");
	fields_free(f, 2);

	CHECK(json_fields_parse(S("{\"menzzo_order_id\": \"1_2\", \"other\": [1]}"), names, 2, f, &bad) == PARSE_OK &&
	    strcmp(f[0].val, "1_2") == 0, "JSON field read");
	fields_free(f, 2);
	CHECK(json_fields_parse(S("{\"menzzo_order_id\": 12}"), names, 2, f, &bad) == PARSE_BAD_FIELD && bad == 0,
	    "a number where a string is due is refused");
	fields_free(f, 2);
	CHECK(json_fields_parse(S("{\"menzzo_order_id\": \"a\\u0000b\"}"), names, 2, f, &bad) == PARSE_BAD_FIELD,
	    "escaped NUL refused");
	fields_free(f, 2);
	CHECK(json_fields_parse(S("[\"menzzo_order_id\"]"), names, 2, f, &bad) == PARSE_BAD_BODY, "array refused");
	CHECK(json_fields_parse(S("{\"a\":1} x"), names, 2, f, &bad) == PARSE_BAD_BODY, "trailing garbage refused");
	CHECK(json_fields_parse(S("{\"a\":[[[[[[[[[[1]]]]]]]]]]}"), names, 2, f, &bad) == PARSE_BAD_BODY,
	    "deep nesting refused");
	CHECK(json_fields_parse(S("{\"menzzo_order_id\": '1_2'}"), names, 2, f, &bad) == PARSE_BAD_BODY,
	    "single-quoted string refused");
}

/* Field kinds: booleans, arrays of objects read against their own table, per-field bounds. */
static void
field_kinds(void)
{
	static const struct field_rule pkg[] = {
		{ .name = "tracking_number" },
		{ .name = "carrier", .valid = field_carrier, .code = "invalid_body", .message = "carrier" },
	};
	static const struct field_rule rules[] = {
		{ "flag", field_boolean, "invalid_body", "flag", .kind = FIELD_BOOLEAN },
		{ "list", NULL, "invalid_body", "list", .kind = FIELD_ARRAY, .element = pkg, .element_rules = 2,
		    .min_items = 1, .max_items = 3 },
		{ .name = "note", .max_len = 2000 },
	};
	struct field f[3];
	char note[2048], body[2200];
	int bad = -1;

	memset(f, 0, sizeof(f));
	CHECK(json_fields_parse(S("{\"flag\": false, \"list\": [{\"tracking_number\": \"T1\"}, "
	    "{\"carrier\": \" bad\"}, {\"x\": 1}]}"), rules, 3, f, &bad) == PARSE_OK, "boolean and array read");
	CHECK(f[0].set && strcmp(f[0].val, "false") == 0 && f[0].parsed.flag == 0, "a JSON false is the text false");
	CHECK(f[1].set && f[1].val == NULL && f[1].list != NULL, "an array's elements are listed");
	if (f[1].list != NULL) {
		const struct field_element *e = f[1].list->e;

		CHECK(f[1].list->n == 3, "three elements");
		CHECK(e[0].res == PARSE_OK && strcmp(e[0].f[0].val, "T1") == 0, "an element's field");
		CHECK(e[1].res == PARSE_INVALID && e[1].bad == 1, "an invalid element is kept, with its own result");
		CHECK(e[2].res == PARSE_OK && !e[2].f[0].set, "unknown members of an element are ignored");
	}
	fields_free(f, 3);
	CHECK(f[1].list == NULL && !f[1].set, "fields_free frees and zeroes the elements");
	CHECK(json_fields_parse(S("{\"flag\": \"false\"}"), rules, 3, f, &bad) == PARSE_BAD_FIELD && bad == 0,
	    "a string is no boolean");
	fields_free(f, 3);
	CHECK(json_fields_parse(S("{\"flag\": 0}"), rules, 3, f, &bad) == PARSE_BAD_FIELD && bad == 0,
	    "a number is no boolean");
	fields_free(f, 3);
	CHECK(json_fields_parse(S("{\"list\": []}"), rules, 3, f, &bad) == PARSE_BAD_FIELD && bad == 1,
	    "fewer elements than min_items");
	fields_free(f, 3);
	CHECK(json_fields_parse(S("{\"list\": [{}, {}, {}, {}]}"), rules, 3, f, &bad) == PARSE_BAD_FIELD && bad == 1,
	    "more elements than max_items");
	fields_free(f, 3);
	CHECK(json_fields_parse(S("{\"list\": [{}, 1]}"), rules, 3, f, &bad) == PARSE_BAD_FIELD && bad == 1,
	    "an element that is no object");
	fields_free(f, 3);
	CHECK(json_fields_parse(S("{\"list\": {\"a\": 1}}"), rules, 3, f, &bad) == PARSE_BAD_FIELD && bad == 1,
	    "an object is no array");
	fields_free(f, 3);
	CHECK(json_fields_parse(S("{\"list\": [{\"carrier\": 1}], \"flag\": \"x\"}"), rules, 3, f, &bad) ==
	    PARSE_BAD_FIELD && bad == 0 && f[1].list != NULL && f[1].list->e[0].res == PARSE_BAD_FIELD,
	    "the first field that cannot be read is named; the others are still read");
	fields_free(f, 3);
	CHECK(json_fields_parse(S("{\"list\": [{\"carrier\": \"A\", \"carrier\": \"B\"}]}"), rules, 3, f, &bad) ==
	    PARSE_BAD_BODY, "a key given twice inside an element");
	fields_free(f, 3);
	CHECK(form_parse(S("flag=true"), rules, 3, f, &bad) == PARSE_OK && f[0].parsed.flag == 1, "form true");
	fields_free(f, 3);
	CHECK(form_parse(S("flag=yes"), rules, 3, f, &bad) == PARSE_INVALID && bad == 0, "form yes is no boolean");
	fields_free(f, 3);
	CHECK(form_parse(S("flag=true&list=1"), rules, 3, f, &bad) == PARSE_NEEDS_JSON && bad == 1,
	    "a form cannot carry an array");
	fields_free(f, 3);
	memset(note, 'n', 1500);
	note[1500] = '\0';
	snprintf(body, sizeof(body), "{\"note\": \"%s\"}", note);
	CHECK(json_fields_parse(body, strlen(body), rules, 3, f, &bad) == PARSE_OK && f[2].len == 1500,
	    "a row's own bound above FIELD_VALUE_MAX");
	fields_free(f, 3);
	snprintf(body, sizeof(body), "note=%s", note);
	CHECK(form_parse(body, strlen(body), rules, 3, f, &bad) == PARSE_OK && f[2].len == 1500, "in a form too");
	fields_free(f, 3);
	memset(note, 'n', 2001);
	note[2001] = '\0';
	snprintf(body, sizeof(body), "{\"note\": \"%s\"}", note);
	CHECK(json_fields_parse(body, strlen(body), rules, 3, f, &bad) == PARSE_BAD_FIELD && bad == 2, "and enforced");
	fields_free(f, 3);
}

/* 1 when json_text_duplicate_key finds want (NULL: finds none) in text. */
static int
dup_is(const char *text, const char *want)
{
	struct json_object *o = json_tokener_parse(text);
	char key[64] = "";
	int rc = o ? json_text_duplicate_key(text, strlen(text), o, key, sizeof(key)) : -2;

	json_object_put(o);
	return want == NULL ? rc == 0 : rc == 1 && strcmp(key, want) == 0;
}

static void
duplicate_keys(void)
{
	CHECK(dup_is("{\"a\":1,\"b\":2}", NULL), "distinct keys");
	CHECK(dup_is("{\"a\":1,\"a\":2}", "a"), "a key given twice");
	CHECK(dup_is("{\"a\":1,\"\\u0061\":2}", "a"), "the same key escaped is the same key");
	CHECK(dup_is("{\"x\":{\"b\":1,\"b\":[]}}", "b"), "in a nested object");
	CHECK(dup_is("[{\"a\":1},{\"a\":1}]", NULL), "one key in two objects is fine");
	CHECK(dup_is("{\"a\":{\"c\":{}},\"a\":{\"d\":1,\"d\":2}}", "a"), "the outer one is found first");
	CHECK(dup_is("{\"k\\\"\":\"{\\\"k\\\"\",\"v\":\"[\"}", NULL), "quotes and brackets inside strings");
	CHECK(dup_is("{\"\":1,\"\":2}", ""), "the empty key twice");
}

/* The fault guard's constant body is what json-c renders for the same error. */
static void
fault_body(void)
{
	struct response r;

	response_init(&r);
	response_error(&r, 503, "storage_unavailable", STORE_UNAVAILABLE_SENTENCE);
	CHECK(r.body.len == strlen(response_fault_body) && memcmp(r.body.p, response_fault_body, r.body.len) == 0,
	    "the canned 503 body is json-c's rendering of that error");
	response_free(&r);
}

static void
bearer(void)
{
	const char *t;
	size_t n;
	char tok[TOKEN_LEN + 1], tok2[TOKEN_LEN + 1];

	CHECK(auth_parse_bearer(NULL, &t, &n) == AUTH_MISSING, "no header is missing");
	CHECK(auth_parse_bearer("", &t, &n) == AUTH_MISSING, "empty header is missing");
	CHECK(auth_parse_bearer("Bearer abc", &t, &n) == AUTH_OK && n == 3 && memcmp(t, "abc", 3) == 0, "bearer parsed");
	CHECK(auth_parse_bearer("bearer   abc  ", &t, &n) == AUTH_OK && n == 3, "scheme case-insensitive, spaces tolerated");
	CHECK(auth_parse_bearer("Basic abc", &t, &n) == AUTH_MALFORMED, "other scheme refused");
	CHECK(auth_parse_bearer("Bearer a b", &t, &n) == AUTH_MALFORMED, "two tokens refused");
	CHECK(auth_parse_bearer("Bearer a\"b", &t, &n) == AUTH_MALFORMED, "quote refused");
	CHECK(auth_init() == 0, "libsodium initialises");
	auth_new_token(tok);
	auth_new_token(tok2);
	CHECK(strlen(tok) == TOKEN_LEN && strncmp(tok, TOKEN_PREFIX, 4) == 0 && strcmp(tok, tok2) != 0,
	    "tokens have the documented form and differ");
	CHECK(auth_parse_bearer("Bearer mzk_ll6AhkhvkpBseSUPJUdOhKsdBA7YV--kabB5FmI8tcY", &t, &n) == AUTH_OK &&
	    n == TOKEN_LEN, "an issued token parses");
}

int
main(void)
{
	dates();
	ids();
	prices_and_text();
	forms();
	field_kinds();
	duplicate_keys();
	bearer();
	fault_body();
	return UNIT_DONE();
}
