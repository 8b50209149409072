/*
 * The per-token rate limit (ratelimit.h): the bucket arithmetic, its
 * header fields, and the hook the prologue calls once the token is known.
 */

#include <stdatomic.h>

#include "clock.h"
#include "ratelimit.h"
#include "shared_state.h"

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

int
ratelimit_admit(struct shared_state *state, const char *why, unsigned token_id, unsigned rate, unsigned burst,
    struct response *res)
{
	struct ratelimit_state st = { 0 };
	uint64_t now = clock_monotonic_ns(), full = (uint64_t)burst * (NS / rate);
	_Atomic uint64_t *bucket = state != NULL ? shared_state_slot(state, token_id) : NULL;

	if (bucket == NULL) {
		/* Never a failed request for a bucket: this one goes through as if its bucket were full. */
		uint64_t fresh = 0;

		response_log(res, "rate limit: token %u let through, %s%s", token_id, state == NULL ?
		    "the shared-state file could not be opened: " : "the shared-state file has no slot left for it",
		    state == NULL ? why : "");
		ratelimit_take(&fresh, now, rate, burst, &st);
	} else {
		uint64_t seen = atomic_load(bucket), tat;

		do {
			/* A state no process could have left (past a full bucket's backlog: damage) is an empty bucket. */
			tat = seen > now + full ? 0 : seen;
			if (!ratelimit_take(&tat, now, rate, burst, &st))
				break;
		} while (!atomic_compare_exchange_weak(bucket, &seen, tat));
	}
	response_header(res, "RateLimit-Policy", POLICY ";q=%u;w=%llu", burst,
	    (unsigned long long)((burst + rate - 1) / rate));
	if (st.reset > 0)
		response_header(res, "RateLimit", POLICY ";r=%llu;t=%llu", (unsigned long long)st.remaining,
		    (unsigned long long)st.reset);
	else
		response_header(res, "RateLimit", POLICY ";r=%llu", (unsigned long long)st.remaining);
	response_keep_headers(res);
	if (st.allowed)
		return 0;
	response_error(res, 429, "rate_limited", "Too many requests with this token; retry after the seconds "
	    "Retry-After says (the RateLimit header tells how many are left).");
	response_header(res, "Retry-After", "%llu", (unsigned long long)st.retry_after);
	return -1;
}
