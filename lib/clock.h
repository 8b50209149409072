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
/* Nanoseconds of a clock that never goes back (within one boot: see clock_boot_id). */
uint64_t clock_monotonic_ns(void);

/*
 * This boot's id (the kernel's random boot_id, its dashes made 'x') in
 * out[CLOCK_BOOT_ID_LEN + 1]: what the monotonic clock's values belong to.
 * Returns 0, or -1 when it cannot be read.
 */
#define CLOCK_BOOT_ID_LEN 36
int clock_boot_id(char *out);

#endif
