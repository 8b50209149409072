/*
 * menzzo_order_id and order references: parse_menzzo_order_id,
 * parse_order_ref, and format_menzzo_order_id.  Acceptance must match the
 * reference grammar {1..2^64-1}_{1..2^64-1}; as the grammar has no leading
 * zeros, formatting what was parsed gives back the very text.
 */
#include "validate.h"

#include "fuzz.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

/* Reference: a positive decimal integer that fits in 64 bits. */
static int
ref_positive(const char *s, size_t len)
{
	return fuzz_ref_uint(s, len) && !(len == 1 && s[0] == '0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data; /* length-delimited: a read past size is caught */
	const char *us = memchr(s, '_', size);
	uint64_t inc = SENTINEL, sp = SENTINEL;
	struct order_ref ref = { SENTINEL, SENTINEL };
	int ok_id, ok_ref, want_id, want_ref;
	char out[MENZZO_ORDER_ID_MAX + 1];

	if (us == NULL) {
		want_ref = ref_positive(s, size);
		want_id = 0;
	} else
		want_ref = want_id = ref_positive(s, (size_t)(us - s)) &&
		    ref_positive(us + 1, size - (size_t)(us - s) - 1);

	ok_id = parse_menzzo_order_id(s, size, &inc, &sp) == 0;
	CHECK(ok_id == want_id);
	if (ok_id) {
		CHECK(inc >= 1 && sp >= 1);
		format_menzzo_order_id(inc, sp, out);
		CHECK(fuzz_equals(s, size, out));
	} else
		CHECK(inc == SENTINEL && sp == SENTINEL);

	ok_ref = parse_order_ref(s, size, &ref) == 0;
	CHECK(ok_ref == want_ref);
	if (ok_ref) {
		CHECK((ref.sale_product_id != 0) == (us != NULL) && ref.increment_id >= 1);
		if (ref.sale_product_id != 0) {
			CHECK(ok_id && ref.increment_id == inc && ref.sale_product_id == sp);
		} else {
			CHECK(!ok_id);
			snprintf(out, sizeof(out), "%llu", (unsigned long long)ref.increment_id);
			CHECK(fuzz_equals(s, size, out));
		}
	} else
		CHECK(ref.increment_id == SENTINEL && ref.sale_product_id == SENTINEL);
	return 0;
}
