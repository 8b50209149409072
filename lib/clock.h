#ifndef MENZZO_CLOCK_H
#define MENZZO_CLOCK_H

/*
 * The two clocks: the time of day (a request's or a command's "now": the
 * timestamps it writes, token and cache expiry) and a monotonic one (the
 * rate limit).  Test builds (MENZZO_TEST_HOOKS: the sanitizer and valgrind
 * builds of make test) read both from MENZZO_TEST_CLOCK when it is set
 * (Unix seconds, with up to nine decimals), so that a test decides by the
 * rule whatever the machine's speed; the deployed build has no such
 * variable.
 */

#include <stdint.h>

/* Seconds since the epoch. */
int64_t clock_now(void);
/* Nanoseconds of a clock that never goes back. */
uint64_t clock_monotonic_ns(void);

#endif
