#ifndef MENZZO_METRICS_H
#define MENZZO_METRICS_H

/*
 * Metrics (SPEC §10): request counters kept in the shared-state file's
 * region (shared_state.h), so that every process serving the store, plain
 * CGI and FastCGI alike, adds to the same figures with one fetch-add each;
 * and their text in the Prometheus exposition format 0.0.4, with gauges
 * read from the store, for GET /api/metrics and `menzzo-admin metrics`.
 *
 * Every label value comes from a table, never from a request:
 *   supplier  the supplier of the endpoint (/api/{supplier}/...), else the
 *             authenticated token's supplier, "backoffice" for a
 *             back-office token, "" when no token was accepted (health,
 *             a 401 of files or metrics)
 *   endpoint  the route table's path before any {parameter}: get-sales,
 *             files, health, metrics (lib/endpoints.def)
 *   code      the status answered (lib/status.def; "other" for any other)
 *   status    a sale product's status (lib/sale.c)
 * The counters are what may be lost at a reboot (or when the file is
 * rebuilt): Prometheus takes a counter that starts again from zero as a
 * reset.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct store;

/* The supplier label's index: who, for metrics_count and metrics_rate_limited. */
enum { METRIC_NOBODY = 0, METRIC_BACKOFFICE = 1, METRIC_SUPPLIER0 = 2 };

/* The bytes of the region the counters take in the shared-state file, and the id of its layout. */
size_t metrics_size(void);
uint64_t metrics_layout(void);

/*
 * One request answered: endpoint is its row of the route table, who the
 * supplier label's index (METRIC_SUPPLIER0 + a supplier's id), ns the time
 * it took.  region is the shared-state file's (shared_state_extra).
 */
void metrics_count(void *region, unsigned endpoint, unsigned who, int status, uint64_t ns);
/* One request refused by the rate limit. */
void metrics_rate_limited(void *region, unsigned who);

/*
 * Appends the exposition: the counters of region (none when NULL: the
 * shared-state file could not be used), then the gauges of store (none
 * when NULL) and the size of the cache's file in cache_dir (none when
 * NULL).  Sale products are counted once a minute at most while the store
 * changes (a walk of the listing), the count kept in region when it is
 * writable (else counted each time); now_ns is the monotonic clock.  0, -1 when out of memory, or a STORE_* error of
 * the store (the counters are in out already).
 */
int metrics_render(void *region, int writable, struct store *store, const char *cache_dir, uint64_t now_ns,
    struct buf *out);

/* The media type of the exposition. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
