/*
 * menzzo-admin metrics: what GET /api/metrics answers, on the host: the
 * counters of the shared-state file, read only (never created or
 * rebuilt, whoever owns it), and the store's gauges.
 */
#include <setjmp.h>
#include <stdio.h>

#include "admin.h"
#include "admin_metrics.h"
#include "clock.h"
#include "fault.h"
#include "metrics.h"
#include "shared_state.h"

int
cmd_metrics(struct admin *a, int argc, char **argv)
{
	struct shared_state *volatile s = NULL;
	struct shared_state *peeked = NULL;
	volatile int missing = 1;
	static struct buf out; /* static: what a fault left of it is still known after the jump */
	char path[4096], why[4300];
	const void *lo;
	size_t len;
	sigjmp_buf env;
	struct options o;
	int rc;

	if ((rc = admin_no_options(a, argc, argv, 0, &o)) >= 0)
		return rc;
	if (admin_open(a, STORE_READONLY))
		return 1;
	if (config_state_file(&a->cfg, path, sizeof(path)) == NULL)
		return admin_fail("MENZZO_STATE_FILE (or MENZZO_CACHE_DIR) is too long");
	if (sigsetjmp(env, 0) != 0) {
		shared_state_close(s);
		s = NULL;
		buf_free(&out);
		missing = 1;
		admin_fail("metrics: %s was cut short while it was read: no counters", path);
	} else if (shared_state_peek(path, metrics_size(), metrics_layout(), &peeked, why, sizeof(why)) != 0)
		admin_fail("metrics: no counters: %s", why);
	else {
		s = peeked;
		missing = 0;
		shared_state_region(peeked, &lo, &len);
		fault_recover_set(lo, len, &env);
	}
	rc = metrics_render(s != NULL ? shared_state_extra(s) : NULL, 0, a->store, a->cfg.cache_dir,
	    clock_monotonic_ns(), &out);
	fault_recover_clear();
	shared_state_close(s);
	if (out.len > 0)
		fwrite(out.p, 1, out.len, stdout);
	buf_free(&out);
	if (rc == -1)
		return admin_fail("metrics: out of memory");
	if (rc != 0)
		return admin_fail("metrics: the store: %s", store_strerror(rc));
	if (fflush(stdout) != 0)
		return admin_fail("metrics: cannot write: standard output");
	return missing;
}
