/* Unit tests of the rate limit's bucket arithmetic (lib/ratelimit.c, ratelimit_take). */
#include <string.h>

#include "ratelimit.h"
#include "unit.h"

#define S 1000000000ULL

/* Takes n requests at t from a bucket; returns how many were allowed. */
static unsigned
take(uint64_t *tat, uint64_t t, unsigned n, unsigned rate, unsigned burst, struct ratelimit_state *last)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		ratelimit_take(tat, t, rate, burst, last);
		ok += last->allowed != 0;
	}
	return ok;
}

int
main(void)
{
	struct ratelimit_state st;
	uint64_t tat = 0, before;
	uint64_t t0 = 5000 * S; /* the monotonic clock of a machine up for a while */

	memset(&st, 0, sizeof(st));
	CHECK(ratelimit_take(&tat, t0, 20, 1000, &st) == 1 && st.allowed, "a fresh bucket allows");
	CHECK(st.remaining == 999 && st.reset == 1 && st.retry_after == 0, "999 left, one more within a second");
	CHECK(take(&tat, t0, 999, 20, 1000, &st) == 999 && st.remaining == 0, "the whole burst at once");
	before = tat;
	CHECK(ratelimit_take(&tat, t0, 20, 1000, &st) == 0 && !st.allowed && tat == before,
	    "over the burst: refused, and the bucket is left as it was");
	CHECK(st.remaining == 0 && st.retry_after == 1 && st.reset == 1, "Retry-After: the next request in a second");
	CHECK(take(&tat, t0 + S / 20, 2, 20, 1000, &st) == 1, "one interval later, one request more");
	CHECK(take(&tat, t0 + S / 20 + 10 * S, 300, 20, 1000, &st) == 200, "ten seconds refill two hundred at 20 a second");
	CHECK(take(&tat, t0 + 1000 * S, 2000, 20, 1000, &st) == 1000, "an idle bucket refills to its burst, no more");

	/* The seed's loop: 603 requests as fast as they can go never empty the default bucket. */
	tat = 0;
	CHECK(take(&tat, t0, 603, 20, 1000, &st) == 603 && st.remaining == 397, "603 requests at once: 397 left");

	/* A slow bucket: 1 a second, 3 at once. */
	tat = 0;
	CHECK(take(&tat, t0, 3, 1, 3, &st) == 3 && st.remaining == 0 && st.reset == 1, "three, then empty");
	ratelimit_take(&tat, t0 + S / 2, 1, 3, &st);
	CHECK(!st.allowed && st.retry_after == 1, "half a second later still empty: retry after 1 s (rounded up)");
	CHECK(take(&tat, t0 + S, 1, 1, 3, &st) == 1, "a second later: one");
	ratelimit_take(&tat, t0 + S, 1, 3, &st);
	CHECK(!st.allowed && st.retry_after == 1, "and only one");

	/* A bucket of one: every request waits for the one before it. */
	tat = 0;
	CHECK(take(&tat, t0, 2, 2, 1, &st) == 1 && st.retry_after == 1, "burst 1: the second at once is refused");
	CHECK(take(&tat, t0 + S / 2, 1, 2, 1, &st) == 1, "half a second later at 2 a second: allowed");

	/* The highest rate: intervals of a microsecond, no overflow over a large burst. */
	tat = 0;
	CHECK(take(&tat, t0, 1000, 1000000, 1000000, &st) == 1000 && st.remaining == 999000, "a million a second");
	return UNIT_DONE();
}
