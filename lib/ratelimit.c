/*
 * The per-token rate limit (ratelimit.h): the bucket arithmetic, its
 * header fields, and the hook the prologue calls once the token is known.
 */

#include "cache.h"
#include "clock.h"
#include "ratelimit.h"

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
ratelimit_admit(struct cgi *c)
{
	struct take k = { 0, c->cfg.rate_limit_rate, c->cfg.rate_limit_burst, { 0 } };
	struct cache *cache;
	int rc;

	if (k.rate == 0)
		return 0;
	k.now_ns = clock_monotonic_ns();
	if ((cache = cgi_cache(c)) == NULL)
		rc = STORE_UNAVAILABLE;
	else
		rc = cache_bucket(cache, c->token.id, take_one, &k);
	if (rc != STORE_OK) {
		/* Never a failed request for a bucket: this one goes through as if its bucket were full. */
		uint64_t fresh = 0;

		response_log(&c->res, "rate limit: token %u let through, its bucket could not be %s: %s", c->token.id,
		    cache == NULL ? "opened" : "read or written", rc == STORE_FULL ?
		    "the cache's budget or the disk's free space is exhausted" : store_strerror(rc));
		ratelimit_take(&fresh, k.now_ns, k.rate, k.burst, &k.st);
	}
	response_header(&c->res, "RateLimit-Policy", POLICY ";q=%u;w=%llu", k.burst,
	    (unsigned long long)((k.burst + k.rate - 1) / k.rate));
	if (k.st.reset > 0)
		response_header(&c->res, "RateLimit", POLICY ";r=%llu;t=%llu", (unsigned long long)k.st.remaining,
		    (unsigned long long)k.st.reset);
	else
		response_header(&c->res, "RateLimit", POLICY ";r=%llu", (unsigned long long)k.st.remaining);
	response_keep_headers(&c->res);
	if (k.st.allowed)
		return 0;
	response_error(&c->res, 429, "rate_limited", "Too many requests with this token; retry after the seconds "
	    "Retry-After says (the RateLimit header tells how many are left).");
	response_header(&c->res, "Retry-After", "%llu", (unsigned long long)k.st.retry_after);
	return -1;
}
