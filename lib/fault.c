#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

#define GUARD_TEXT_MAX 4096

static struct {
	volatile sig_atomic_t armed;
	int out_fd, exit_status;
	char out[GUARD_TEXT_MAX], log[GUARD_TEXT_MAX];
	size_t outlen, loglen;
	struct sigaction old_bus, old_segv;
	/* The survivable region of fault_recover_set. */
	const char *volatile recover_lo;
	volatile size_t recover_len;
	sigjmp_buf *volatile recover_env;
} guard;

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
on_fault(int sig, siginfo_t *info, void *uc)
{
	const char *addr = info != NULL ? (const char *)info->si_addr : NULL;
	sigjmp_buf *env = guard.recover_env;

	(void)sig;
	(void)uc;
	if (env != NULL && addr >= guard.recover_lo && addr < guard.recover_lo + guard.recover_len) {
		guard.recover_env = NULL;
		siglongjmp(*env, 1);
	}
	if (guard.out_fd >= 0)
		write_all(guard.out_fd, guard.out, guard.outlen);
	write_all(2, guard.log, guard.loglen);
	_exit(guard.exit_status);
}

void
fault_guard_arm(int out_fd, const char *out, size_t outlen, const char *log, size_t loglen, int exit_status)
{
	/* Armed already (a responder, request after request): only the texts change. */
	if (guard.armed)
		guard.armed = 0;
	else {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_fault;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, &guard.old_bus);
		sigaction(SIGSEGV, &sa, &guard.old_segv);
	}
	guard.out_fd = out_fd;
	guard.exit_status = exit_status;
	guard.outlen = outlen < GUARD_TEXT_MAX ? outlen : GUARD_TEXT_MAX;
	guard.loglen = loglen < GUARD_TEXT_MAX ? loglen : GUARD_TEXT_MAX;
	if (guard.outlen)
		memcpy(guard.out, out, guard.outlen);
	if (guard.loglen)
		memcpy(guard.log, log, guard.loglen);
	guard.armed = 1;
}

void
fault_guard_disarm(void)
{
	if (!guard.armed)
		return;
	guard.armed = 0;
	sigaction(SIGBUS, &guard.old_bus, NULL);
	sigaction(SIGSEGV, &guard.old_segv, NULL);
}

void
fault_recover_set(const void *lo, size_t len, sigjmp_buf *env)
{
	guard.recover_lo = lo;
	guard.recover_len = len;
	guard.recover_env = env;
}

void
fault_recover_clear(void)
{
	guard.recover_env = NULL;
}
