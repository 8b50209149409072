/*
 * GET /api/health, without authentication (SPEC §2.6).
 * Raises 200 {"status": "ok"} when the store opens and reads, 503 otherwise.
 */
#include "cgi.h"

void
health_handle(struct cgi *c)
{
	struct store_txn *t;
	uint64_t seq;
	int rc = c->store ? store_begin(c->store, 0, &t) : STORE_UNAVAILABLE;

	if (rc == STORE_OK) {
		rc = store_counter_get(t, "event_seq", &seq);
		store_abort(t);
	}
	if (rc != STORE_OK) {
		cgi_store_error(c, rc == STORE_CORRUPT ? STORE_UNAVAILABLE : rc);
		return;
	}
	response_raw(&c->res, 200, "{\"status\":\"ok\"}", 15);
}
