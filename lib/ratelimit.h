#ifndef MENZZO_RATELIMIT_H
#define MENZZO_RATELIMIT_H

/*
 * The per-token rate limit (MENZZO_RATE_LIMIT=RATE,BURST): a token bucket
 * of BURST requests refilled at RATE a second, kept as the theoretical
 * arrival time of the next request (GCRA) in the shared-state file
 * (shared_state.h), on this boot's monotonic clock (lost at reboot, which
 * only refills the buckets), and updated there by compare-and-swap: no
 * lock, no transaction.  Every response to a request with a valid token
 * says the policy and the bucket's state in the fields of
 * draft-ietf-httpapi-ratelimit-headers-10:
 *   RateLimit-Policy: "per-token";q=BURST;w=<seconds BURST takes to refill>
 *   RateLimit: "per-token";r=<requests left>;t=<seconds until one more>
 * A bucket that cannot be read or written never fails a request: it is let
 * through as if the bucket were full, and the error log says why.
 */

#include <stddef.h>
#include <stdint.h>

#include "response.h"

struct shared_state;

/* The policy's numbers and one bucket's answer, without HTTP. */
struct ratelimit_state {
	int allowed;
	uint64_t remaining;   /* requests left after this one */
	uint64_t reset;       /* seconds until one more request is available; 0 when the bucket is full */
	uint64_t retry_after; /* when not allowed: whole seconds until this request would be */
};

/*
 * One request at now_ns (nanoseconds of a monotonic clock) against the
 * bucket *tat (the theoretical arrival time of the next request, 0 for a
 * fresh bucket): fills *st and, when the request is allowed, advances
 * *tat.  Returns 1 when *tat changed.  rate and burst are at least 1.
 */
int ratelimit_take(uint64_t *tat, uint64_t now_ns, unsigned rate, unsigned burst, struct ratelimit_state *st);

/*
 * The prologue's hook, once the token is known valid: takes one request
 * from token_id's bucket in state (NULL when the file could not be opened,
 * for the reason why: the request is let through, and the error log says
 * so) under the policy
 * rate/burst (both at least 1), and sets the RateLimit-Policy and RateLimit
 * headers every response to this request carries.  Returns 0 to go on, or
 * -1 with res set to 429 rate_limited with Retry-After.
 */
int ratelimit_admit(struct shared_state *state, const char *why, unsigned token_id, unsigned rate, unsigned burst,
    struct response *res);

#endif
