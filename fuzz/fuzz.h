#ifndef MENZZO_FUZZ_H
#define MENZZO_FUZZ_H

/*
 * Shared by the libFuzzer targets in fuzz/.  A target asserts what its parser
 * promises (round trips, bounds, agreement with a reference grammar) with
 * CHECK, so that a logic bug aborts the run as a crash does.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The clock of the parsers that judge dates against today: fixed, so that a finding replays (2026-12-05T12:00:00Z). */
#define FUZZ_NOW ((int64_t)1796472000)

#define CHECK(cond) do {                                                        \
	if (!(cond)) {                                                          \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
		abort();                                                        \
	}                                                                       \
} while (0)

/* A heap copy of data[0..size) and a NUL, as a CGI variable or a getline() line is. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* s[0..len) equals the NUL-terminated string t. */
static inline int
fuzz_equals(const char *s, size_t len, const char *t)
{
	return strlen(t) == len && memcmp(s, t, len) == 0;
}

static inline int
fuzz_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reference grammar: a decimal integer in 0 .. 2^64-1, no sign, no leading zero. */
static inline int
fuzz_ref_uint(const char *s, size_t len)
{
	static const char max[] = "18446744073709551615";

	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!fuzz_is_digit(s[i]))
			return 0;
	return len < 20 || memcmp(s, max, 20) <= 0;
}

#endif
