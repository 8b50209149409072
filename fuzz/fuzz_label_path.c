/*
 * Shipping-label paths: valid_label_path on the input.  Whatever it accepts
 * must be safe to join to the files directory: no ".." or "." segment, no
 * leading or trailing '/', no "//", only [A-Za-z0-9._/-], at most LABEL_MAX
 * bytes; and it must accept every such path (the reference grammar).
 */
#include "validate.h"

#include "fuzz.h"

static int
path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || fuzz_is_digit(c) ||
	    c == '.' || c == '_' || c == '-';
}

/* The reference: segments split on '/', each non-empty, of path characters, not "." nor "..". */
static int
ref_valid(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > LABEL_MAX)
		return 0;
	while (i <= len) {
		size_t j = i;
		while (j < len && s[j] != '/') {
			if (!path_char(s[j]))
				return 0;
			j++;
		}
		if (j == i || (j - i == 1 && s[i] == '.') || (j - i == 2 && s[i] == '.' && s[i + 1] == '.'))
			return 0;
		i = j + 1;
	}
	return 1;
}

/* The safety properties on their own, stated without segments where possible. */
static void
check_safe(const char *s, size_t len)
{
	CHECK(len >= 1 && len <= LABEL_MAX);
	CHECK(s[0] != '/' && s[len - 1] != '/');
	for (size_t i = 0; i < len; i++) {
		CHECK(path_char(s[i]) || s[i] == '/');
		CHECK(!(s[i] == '/' && i + 1 < len && s[i + 1] == '/'));
		/* ".." or "." as a whole segment: bounded by the ends or by '/'. */
		if (s[i] == '.' && (i == 0 || s[i - 1] == '/')) {
			size_t n = i + 1 < len && s[i + 1] == '.' ? 2 : 1;
			CHECK(!(i + n == len || s[i + n] == '/'));
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data; /* length-delimited: a read past size is caught */
	int ok = valid_label_path(s, size) == 0;

	CHECK(ok == ref_valid(s, size));
	if (ok)
		check_safe(s, size);
	return 0;
}
