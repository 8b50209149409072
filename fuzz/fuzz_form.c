/*
 * application/x-www-form-urlencoded: form_parse against the ship-sale
 * whitelist (action_fields, validators included).  Decoded values obey the
 * contract and their validators, and encoding them again gives a form that
 * parses to the same values.
 */
#include "request.h"
#include "sale_action.h"

#include "fuzz.h"

#define NFIELDS B__MAX

static void
check_fields(const struct field *f)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (!f[i].set) {
			CHECK(f[i].val == NULL);
			continue;
		}
		CHECK(f[i].val != NULL && f[i].len <= FIELD_VALUE_MAX); /* empty: set, "" */
		CHECK(f[i].val[f[i].len] == '\0' && memchr(f[i].val, '\0', f[i].len) == NULL);
	}
}

/* Percent-encodes every field set, in reverse order (order must not matter). */
static char *
encode(const struct field *f, size_t *len)
{
	static const char hexd[] = "0123456789ABCDEF";
	char *out = malloc(NFIELDS * (32 + 3 * FIELD_VALUE_MAX + 1) + 1), *o = out;

	if (out == NULL)
		abort();
	for (size_t i = NFIELDS; i-- > 0;) {
		if (!f[i].set)
			continue;
		o += sprintf(o, "%s%s=", o == out ? "" : "&", action_fields[i].name);
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct field f[NFIELDS], g[NFIELDS];
	enum parse_result r;
	int bad = -1;
	char *enc;
	size_t elen;

	memset(f, 0, sizeof(f));
	memset(g, 0, sizeof(g));
	/* Length-delimited: data itself, so a read past size is caught. */
	r = form_parse((const char *)data, size, action_fields, NFIELDS, f, &bad);
	CHECK(r == PARSE_OK || r == PARSE_BAD_FIELD || r == PARSE_INVALID || r == PARSE_NOMEM);
	if (r == PARSE_BAD_FIELD || r == PARSE_INVALID)
		CHECK(bad >= 0 && bad < NFIELDS);
	if (r == PARSE_OK) {
		check_fields(f);
		enc = encode(f, &elen);
		bad = -1;
		CHECK(form_parse(enc, elen, action_fields, NFIELDS, g, &bad) == PARSE_OK);
		for (size_t i = 0; i < NFIELDS; i++) {
			CHECK(g[i].set == f[i].set);
			CHECK(!f[i].set || (g[i].len == f[i].len && memcmp(g[i].val, f[i].val, f[i].len) == 0));
		}
		free(enc);
	}
	fields_free(f, NFIELDS);
	fields_free(g, NFIELDS);
	return 0;
}
