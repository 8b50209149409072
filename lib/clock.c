/* The clocks (clock.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int
clock_boot_id(char *out)
{
	char boot[64] = "";
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, boot, sizeof(boot) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < CLOCK_BOOT_ID_LEN)
		return -1;
	for (int i = 0; i < CLOCK_BOOT_ID_LEN; i++)
		out[i] = boot[i] == '-' ? 'x' : boot[i];
	out[CLOCK_BOOT_ID_LEN] = '\0';
	return strspn(out, "0123456789abcdefx") == CLOCK_BOOT_ID_LEN ? 0 : -1;
}
