/*
 * GET /api/metrics, for back-office tokens (SPEC §10): the counters of
 * every process serving this store and the store's gauges, in the
 * Prometheus text format (metrics.h).  Never cached.
 */
#include <setjmp.h>

#include "cgi.h"
#include "clock.h"
#include "fault.h"
#include "metrics.h"
#include "shared_state.h"

void
metrics_handle(struct cgi *c)
{
	struct shared_state *volatile s = NULL;
	sigjmp_buf env;
	char why[4300];
	int rc;

	/* The body is c's (memory, not a register): what a fault left of it is freed, then the text without counters. */
	if (sigsetjmp(env, 0) != 0) {
		s = NULL;
		cgi_state_drop(c);
		buf_free(&c->res.body);
		response_log(&c->res, "metrics: the shared-state file was cut short under this process's map");
	} else if ((s = cgi_state(c, &env, why, sizeof(why))) == NULL && !c->state_told)
		response_log(&c->res, "metrics: no counters: %s", why);
	rc = metrics_render(s != NULL ? shared_state_extra(s) : NULL, 1, c->store, c->cfg.cache_dir,
	    clock_monotonic_ns(), &c->res.body);
	fault_recover_clear();
	if (rc == -1) {
		cgi_store_error(c, STORE_NOMEM);
		return;
	}
	if (rc != STORE_OK) {
		cgi_store_error(c, rc);
		return;
	}
	c->res.status = 200;
	c->res.content_type = METRICS_CONTENT_TYPE;
}
