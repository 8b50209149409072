#ifndef MENZZO_FAULT_H
#define MENZZO_FAULT_H

/*
 * A fault in the mapped store must end a request with a 503, not a crash:
 * SIGBUS when a page of the map has no file behind it (a truncated file, a
 * disk that cannot deliver it), SIGSEGV when a damaged page sends LMDB
 * astray.  While the guard is armed, either signal writes a text prepared
 * in advance to out_fd (a canned response, or nothing) and a log line to
 * standard error, with write(2) alone, then ends the process with _exit.
 * Outside the guard, the signals keep the handlers they had (a sanitizer's,
 * or the default).
 */

#include <setjmp.h>
#include <stddef.h>

/*
 * Arms the guard with copies of out[0..outlen) (for out_fd; -1: nothing is
 * written but the log) and log[0..loglen), each cut at 4 KiB; exit_status for
 * _exit.  Arming it again only replaces the texts.
 */
void fault_guard_arm(int out_fd, const char *out, size_t outlen, const char *log, size_t loglen, int exit_status);
/* Disarms it: the previous handlers are back.  Harmless when not armed. */
void fault_guard_disarm(void);

/*
 * A region whose faults are survivable (the shared-state file, which
 * another process may cut short under this one's map): while the guard is
 * armed and env set, a fault at an address in [lo, lo + len) jumps to env
 * (sigsetjmp(*env, 0) returns 1) instead of ending the process.  No system
 * call: the guard's handler runs with SA_NODEFER, so nothing is left
 * blocked after the jump.  fault_recover_clear() ends the region.
 */
void fault_recover_set(const void *lo, size_t len, sigjmp_buf *env);
void fault_recover_clear(void);

#endif
