/* The clocks (clock.h). */
#include <stdlib.h>
#include <time.h>

#include "clock.h"

#define NS 1000000000ULL

#ifdef MENZZO_TEST_HOOKS
/* MENZZO_TEST_CLOCK in nanoseconds into *ns: 1 when it is set. */
static int
test_clock(uint64_t *ns)
{
	const char *v = getenv("MENZZO_TEST_CLOCK");
	uint64_t sec = 0, frac = 0, scale = NS;

	if (v == NULL || *v == '\0')
		return 0;
	for (; *v >= '0' && *v <= '9'; v++)
		sec = sec * 10 + (uint64_t)(*v - '0');
	if (*v == '.')
		for (v++; *v >= '0' && *v <= '9' && scale > 1; v++)
			frac += (uint64_t)(*v - '0') * (scale /= 10);
	*ns = sec * NS + frac;
	return 1;
}
#endif

int64_t
clock_now(void)
{
#ifdef MENZZO_TEST_HOOKS
	uint64_t ns;

	if (test_clock(&ns))
		return (int64_t)(ns / NS);
#endif
	return (int64_t)time(NULL);
}

uint64_t
clock_monotonic_ns(void)
{
	struct timespec ts;

#ifdef MENZZO_TEST_HOOKS
	uint64_t ns;

	if (test_clock(&ns))
		return ns;
#endif
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}
