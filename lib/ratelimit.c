/*
 * The per-token rate limit (ratelimit.h): the bucket arithmetic, its
 * header fields, and the hook the prologue calls once the token is known.
 */

#include "cache.h"
#include "clock.h"
#include "ratelimit.h"
#include "store.h"

#define NS 1000000000ULL
#define POLICY "\"per-token\""

static uint64_t
ceil_seconds(uint64_t ns)
{
	return (ns + NS - 1) / NS;
}

int
ratelimit_take(uint64_t *tat, uint64_t now_ns, unsigned rate, unsigned burst, struct ratelimit_state *st)
{
	uint64_t interval = NS / rate, tolerance = (uint64_t)(burst - 1) * interval;
	uint64_t next = *tat > now_ns ? *tat : now_ns, backlog;

	/* GCRA: a request is allowed while the backlog it leaves fits in the bucket. */
	st->allowed = next - now_ns <= tolerance;
	if (!st->allowed) {
		st->remaining = 0;
		st->retry_after = ceil_seconds(next - now_ns - tolerance);
		st->reset = st->retry_after;
		return 0;
	}
	*tat = next + interval;
	backlog = *tat - now_ns;
	st->retry_after = 0;
	st->remaining = ((uint64_t)burst * interval - backlog) / interval;
	/* One more request is available once the backlog sheds what keeps remaining from growing by one. */
	st->reset = st->remaining >= burst ? 0 :
	    ceil_seconds(backlog - ((uint64_t)burst - st->remaining - 1) * interval);
	return 1;
}

struct take {
	uint64_t now_ns;
	unsigned rate, burst;
	struct ratelimit_state st;
};

static int
take_one(void *ctx, uint64_t *state)
{
	struct take *k = ctx;

	return ratelimit_take(state, k->now_ns, k->rate, k->burst, &k->st);
}

int
ratelimit_admit(struct cache *cache, unsigned token_id, unsigned rate, unsigned burst, struct response *res)
{
	struct take k = { clock_monotonic_ns(), rate, burst, { 0 } };
	int rc = cache == NULL ? STORE_UNAVAILABLE : cache_bucket(cache, token_id, take_one, &k);

	if (rc != STORE_OK) {
		/* Never a failed request for a bucket: this one goes through as if its bucket were full. */
		uint64_t fresh = 0;

		response_log(res, "rate limit: token %u let through, its bucket could not be %s: %s", token_id,
		    cache == NULL ? "opened" : "read or written", rc == STORE_FULL ?
		    "the cache's budget or the disk's free space is exhausted" : store_strerror(rc));
		ratelimit_take(&fresh, k.now_ns, k.rate, k.burst, &k.st);
	}
	response_header(res, "RateLimit-Policy", POLICY ";q=%u;w=%llu", k.burst,
	    (unsigned long long)((k.burst + k.rate - 1) / k.rate));
	if (k.st.reset > 0)
		response_header(res, "RateLimit", POLICY ";r=%llu;t=%llu", (unsigned long long)k.st.remaining,
		    (unsigned long long)k.st.reset);
	else
		response_header(res, "RateLimit", POLICY ";r=%llu", (unsigned long long)k.st.remaining);
	response_keep_headers(res);
	if (k.st.allowed)
		return 0;
	response_error(res, 429, "rate_limited", "Too many requests with this token; retry after the seconds "
	    "Retry-After says (the RateLimit header tells how many are left).");
	response_header(res, "Retry-After", "%llu", (unsigned long long)k.st.retry_after);
	return -1;
}
