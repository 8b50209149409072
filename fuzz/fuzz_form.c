/*
 * application/x-www-form-urlencoded: form_parse against the whitelists of
 * acknowledge-sale (a boolean, an enum, a note of its own bound, a date),
 * ship-sale and update-tracking (ack_fields, ship_fields, track_fields,
 * validators included; packages, events and items are arrays, which a form
 * cannot carry).  Decoded values
 * obey the contract and their validators, and encoding them again gives a
 * form that parses to the same values.
 */
#include "action_body.h"
#include "request.h"

#include "fuzz.h"

#define NFIELDS_MAX 8

static void
check_fields(const struct field_rule *rules, size_t n, const struct field *f)
{
	for (size_t i = 0; i < n; i++) {
		if (!f[i].set) {
			CHECK(f[i].val == NULL);
			continue;
		}
		CHECK(f[i].val != NULL && f[i].len <= field_max_len(&rules[i])); /* empty: set, "" */
		CHECK(f[i].val[f[i].len] == '\0' && memchr(f[i].val, '\0', f[i].len) == NULL);
		CHECK(rules[i].valid == NULL || rules[i].valid((struct field *)&f[i]) == 0);
		if (rules[i].kind == FIELD_BOOLEAN)
			CHECK(fuzz_equals(f[i].val, f[i].len, f[i].parsed.flag ? "true" : "false"));
	}
}

/* Percent-encodes every field set, in reverse order (order must not matter). */
static char *
encode(const struct field_rule *rules, size_t n, const struct field *f, size_t *len)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t cap = 1;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		cap += 32 + 3 * field_max_len(&rules[i]) + 1;
	if ((out = malloc(cap)) == NULL)
		abort();
	o = out;
	for (size_t i = n; i-- > 0;) {
		if (!f[i].set)
			continue;
		o += sprintf(o, "%s%s=", o == out ? "" : "&", rules[i].name);
		for (size_t j = 0; j < f[i].len; j++) {
			unsigned char c = (unsigned char)f[i].val[j];
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || fuzz_is_digit((char)c) ||
			    c == '_' || c == '-' || c == '.')
				*o++ = (char)c;
			else if (c == ' ')
				*o++ = '+';
			else {
				*o++ = '%';
				*o++ = hexd[c >> 4];
				*o++ = hexd[c & 15];
			}
		}
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

static void
one_table(const uint8_t *data, size_t size, const struct field_rule *rules, size_t n)
{
	struct field f[NFIELDS_MAX], g[NFIELDS_MAX];
	enum parse_result r;
	int bad = -1;
	char *enc;
	size_t elen;

	memset(f, 0, sizeof(f));
	memset(g, 0, sizeof(g));
	/* Length-delimited: data itself, so a read past size is caught. */
	r = form_parse((const char *)data, size, rules, n, f, &bad);
	CHECK(r == PARSE_OK || r == PARSE_BAD_FIELD || r == PARSE_INVALID || r == PARSE_NOMEM || r == PARSE_NEEDS_JSON);
	if (r == PARSE_BAD_FIELD || r == PARSE_INVALID || r == PARSE_NEEDS_JSON)
		CHECK(bad >= 0 && (size_t)bad < n);
	/* A form cannot carry an array: naming one is PARSE_NEEDS_JSON, and nothing else is. */
	if (bad >= 0 && (size_t)bad < n)
		CHECK((r == PARSE_NEEDS_JSON) == (rules[bad].kind == FIELD_ARRAY));
	else
		CHECK(r != PARSE_NEEDS_JSON);
	if (r == PARSE_OK) {
		check_fields(rules, n, f);
		enc = encode(rules, n, f, &elen);
		bad = -1;
		CHECK(form_parse(enc, elen, rules, n, g, &bad) == PARSE_OK);
		for (size_t i = 0; i < n; i++) {
			CHECK(g[i].set == f[i].set);
			CHECK(!f[i].set || (g[i].len == f[i].len && memcmp(g[i].val, f[i].val, f[i].len) == 0));
		}
		free(enc);
	}
	fields_free(f, n);
	fields_free(g, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_Static_assert(A__MAX <= NFIELDS_MAX && S__MAX <= NFIELDS_MAX && T__MAX <= NFIELDS_MAX, "room for every table");
	one_table(data, size, ack_fields, A__MAX);
	one_table(data, size, ship_fields, S__MAX);
	one_table(data, size, track_fields, T__MAX);
	return 0;
}
