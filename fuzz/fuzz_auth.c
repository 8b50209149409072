/*
 * Authorization header values: auth_parse_bearer on a NUL-terminated copy of
 * the input (a CGI variable cannot hold a NUL), checked against a reference
 * reading of "Bearer" 1*SP b64token *SP (RFC 6750 §2.1).
 */
#include <strings.h>

#include "auth.h"

#include "fuzz.h"

static int
b64token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || fuzz_is_digit(c) ||
	    (c != '\0' && strchr("-._~+/", c) != NULL);
}

/* The reference: the result, and the token's offset and length when AUTH_OK. */
static enum auth_result
ref_parse(const char *h, size_t *off, size_t *len)
{
	size_t p = 7, n = 0, chars;

	if (*h == '\0')
		return AUTH_MISSING;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return AUTH_MALFORMED;
	while (h[p] == ' ')
		p++;
	while (b64token_char(h[p + n]))
		n++;
	chars = n;
	while (h[p + n] == '=')
		n++;
	/* b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
	if (chars == 0 || n > BEARER_MAX)
		return AUTH_MALFORMED;
	for (size_t i = p + n; h[i] != '\0'; i++)
		if (h[i] != ' ')
			return AUTH_MALFORMED;
	*off = p;
	*len = n;
	return AUTH_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = fuzz_cstr(data, size);
	const char *tok = NULL;
	size_t len = 0, roff = 0, rlen = 0;
	enum auth_result r, ref;
	static int once;

	if (!once) {
		once = 1;
		CHECK(auth_parse_bearer(NULL, &tok, &len) == AUTH_MISSING);
	}
	r = auth_parse_bearer(h, &tok, &len);
	ref = ref_parse(h, &roff, &rlen);
	CHECK(r == ref);
	if (r == AUTH_OK) {
		CHECK(tok == h + roff && len == rlen);
		CHECK(len >= 1 && len <= BEARER_MAX && tok + len <= h + strlen(h));
	}
	free(h);
	return 0;
}
