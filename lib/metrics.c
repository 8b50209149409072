/* Request counters in the shared-state file, and the Prometheus exposition (metrics.h). */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "endpoint.h"
#include "metrics.h"
#include "sale.h"
#include "store.h"
#include "supplier.h"

#define NS ((uint64_t)1000000000)
#define COUNT_MAX_AGE_NS (60 * NS) /* sale products are counted again after this, if the store changed */

static const int status_codes[] = {
#define STATUS(code, phrase) code,
#include "status.def"
#undef STATUS
};
#define STATUS_ROWS ((unsigned)(sizeof(status_codes) / sizeof(status_codes[0])))

#define WHO (SUPPLIER_COUNT + METRIC_SUPPLIER0)  /* supplier label values */
#define CODES (STATUS_ROWS + 1)                  /* the table's, then "other" */
#define BUCKETS 13                               /* upper bounds; the count is +Inf's */

/* 0.25 ms to 2.5 s, in nanoseconds, and as Prometheus writes them. */
static const uint64_t bucket_ns[BUCKETS] = {
	250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000, 100000000, 250000000,
	500000000, 1000000000, 2500000000,
};
static const char *const bucket_le[BUCKETS] = {
	"0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
};

/* The region in the shared-state file.  Each counter is only ever added to. */
struct region {
	_Atomic uint64_t requests[ENDPOINT__MAX][WHO][CODES];
	_Atomic uint64_t duration[ENDPOINT__MAX][BUCKETS + 1]; /* per bucket, not cumulative; the last: above 2.5 s */
	_Atomic uint64_t duration_ns[ENDPOINT__MAX];
	_Atomic uint64_t rate_limited[WHO];
	/* The last count of sale products: the store's transaction then, and when (monotonic ns; 0: none). */
	_Atomic uint64_t counted_txn, counted_ns;
	_Atomic uint64_t counts[SUPPLIER_COUNT][STATUS__MAX];
};

size_t
metrics_size(void)
{
	return sizeof(struct region);
}

static uint64_t
fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ '|') * 0x100000001b3ULL;
}

/* The tables the counters are indexed by, hashed (FNV-1a): a program built from other tables has another id. */
uint64_t
metrics_layout(void)
{
	static uint64_t id;
	uint64_t h = 0xcbf29ce484222325ULL;

	if (id != 0)
		return id;
	h = fnv1a(h, "metrics 1");
	for (int i = 0; i < ENDPOINT__MAX; i++)
		h = fnv1a(h, endpoints[i].route);
	for (size_t i = 0; i < supplier_count; i++)
		h = fnv1a(h, suppliers[i].slug);
	for (unsigned i = 0; i < STATUS_ROWS; i++)
		h = (h ^ (uint64_t)status_codes[i]) * 0x100000001b3ULL;
	for (int i = 0; i < BUCKETS; i++)
		h = fnv1a(h, bucket_le[i]);
	for (int i = 0; i < STATUS__MAX; i++)
		h = fnv1a(h, status_name((enum sale_status)i));
	return id = h != 0 ? h : 1;
}

static unsigned
code_index(int status)
{
	unsigned i = 0;

	while (i < STATUS_ROWS && status_codes[i] != status)
		i++;
	return i;
}

void
metrics_count(void *region, unsigned endpoint, unsigned who, int status, uint64_t ns)
{
	struct region *r = region;
	unsigned b = 0;

	if (endpoint >= ENDPOINT__MAX || who >= WHO)
		return;
	while (b < BUCKETS && ns > bucket_ns[b])
		b++;
	atomic_fetch_add_explicit(&r->requests[endpoint][who][code_index(status)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->duration[endpoint][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->duration_ns[endpoint], ns, memory_order_relaxed);
}

void
metrics_rate_limited(void *region, unsigned who)
{
	struct region *r = region;

	if (who < WHO)
		atomic_fetch_add_explicit(&r->rate_limited[who], 1, memory_order_relaxed);
}

static uint64_t
get(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static const char *
who_name(unsigned who)
{
	return who == METRIC_NOBODY ? "" : who == METRIC_BACKOFFICE ? "backoffice" : suppliers[who - METRIC_SUPPLIER0].slug;
}

/* The endpoint label: the route before any {parameter} ("files/{path}": files). */
static int
endpoint_name(unsigned e, char *out, size_t len)
{
	const char *r = endpoints[e].route, *brace = strstr(r, "/{");
	int n = brace != NULL ? (int)(brace - r) : (int)strlen(r);

	return snprintf(out, len, "%.*s", n, r) < (int)len ? 0 : -1;
}

static int
help(struct buf *out, const char *name, const char *type, const char *text)
{
	return buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static int
render_requests(struct region *r, struct buf *out)
{
	char ep[64], code[16];
	int rc = help(out, "menzzo_http_requests_total", "counter",
	    "Requests answered, by supplier, endpoint and status code, over every process of the host.");

	for (unsigned e = 0; e < ENDPOINT__MAX && rc == 0; e++) {
		rc = endpoint_name(e, ep, sizeof(ep));
		for (unsigned w = 0; w < WHO && rc == 0; w++)
			for (unsigned k = 0; k < CODES && rc == 0; k++) {
				uint64_t v = get(&r->requests[e][w][k]);

				if (v == 0)
					continue; /* a series appears with its first request */
				if (k < STATUS_ROWS)
					snprintf(code, sizeof(code), "%d", status_codes[k]);
				else
					snprintf(code, sizeof(code), "other");
				rc = buf_addf(out, "menzzo_http_requests_total{supplier=\"%s\",endpoint=\"%s\",code=\"%s\"} %" PRIu64 "\n",
				    who_name(w), ep, code, v);
			}
	}
	return rc;
}

static int
render_durations(struct region *r, struct buf *out)
{
	char ep[64];
	int rc = help(out, "menzzo_http_request_duration_seconds", "histogram",
	    "Time from a request's start in its program to its answer, by endpoint.");

	for (unsigned e = 0; e < ENDPOINT__MAX && rc == 0; e++) {
		uint64_t n = 0, sum = get(&r->duration_ns[e]);

		rc = endpoint_name(e, ep, sizeof(ep));
		for (unsigned b = 0; b < BUCKETS && rc == 0; b++) {
			n += get(&r->duration[e][b]);
			rc = buf_addf(out, "menzzo_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%s\"} %" PRIu64 "\n",
			    ep, bucket_le[b], n);
		}
		n += get(&r->duration[e][BUCKETS]);
		if (rc == 0)
			rc = buf_addf(out, "menzzo_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
			    "menzzo_http_request_duration_seconds_sum{endpoint=\"%s\"} %" PRIu64 ".%09" PRIu64 "\n"
			    "menzzo_http_request_duration_seconds_count{endpoint=\"%s\"} %" PRIu64 "\n",
			    ep, n, ep, sum / NS, sum % NS, ep, n);
	}
	return rc;
}

static int
render_rate_limited(struct region *r, struct buf *out)
{
	int rc = help(out, "menzzo_rate_limited_total", "counter",
	    "Requests refused by the rate limit (429), by the token's supplier.");

	for (unsigned w = METRIC_BACKOFFICE; w < WHO && rc == 0; w++)
		rc = buf_addf(out, "menzzo_rate_limited_total{supplier=\"%s\"} %" PRIu64 "\n", who_name(w),
		    get(&r->rate_limited[w]));
	return rc;
}

/*
 * The sale products by supplier and status: the region's last count when
 * the store has not changed since, or when it is less than a minute old;
 * else counted again (a walk of each status's listing, which on a store of
 * a million sale products takes a good part of a second) and kept there.
 * No store transaction is open while the region is touched: a fault on its
 * map (the file cut short) jumps out of this function with nothing to undo.
 */
static int
count_sales(struct region *r, int writable, struct store *store, uint64_t txn, uint64_t now_ns,
    uint64_t counts[SUPPLIER_COUNT][STATUS__MAX])
{
	struct store_txn *t;
	int rc;

	if (r != NULL) {
		uint64_t when = atomic_load_explicit(&r->counted_ns, memory_order_acquire);

		if (when != 0 && (get(&r->counted_txn) == txn || now_ns - when < COUNT_MAX_AGE_NS)) {
			for (unsigned s = 0; s < SUPPLIER_COUNT; s++)
				for (unsigned k = 0; k < STATUS__MAX; k++)
					counts[s][k] = get(&r->counts[s][k]);
			return STORE_OK;
		}
	}
	if ((rc = store_begin(store, 0, &t)) != STORE_OK)
		return rc;
	for (unsigned s = 0; s < SUPPLIER_COUNT; s++)
		for (unsigned k = 0; k < STATUS__MAX; k++) {
			unsigned views[SALE_VIEWS_MAX];
			int n = sale_views((enum sale_status)k, views);

			/* A status's own view: the one of its views that no other status is in. */
			counts[s][k] = 0;
			for (int i = 0; i < n; i++)
				if (views[i] != FILTER_ALL && views[i] != FILTER_OPEN)
					store_listing_count(t, s, (enum status_filter)views[i], &counts[s][k]);
		}
	rc = store_txn_error(t);
	store_abort(t);
	if (rc != STORE_OK || r == NULL || !writable)
		return rc;
	for (unsigned s = 0; s < SUPPLIER_COUNT; s++)
		for (unsigned k = 0; k < STATUS__MAX; k++)
			atomic_store_explicit(&r->counts[s][k], counts[s][k], memory_order_relaxed);
	atomic_store_explicit(&r->counted_txn, txn, memory_order_relaxed);
	atomic_store_explicit(&r->counted_ns, now_ns != 0 ? now_ns : 1, memory_order_release);
	return STORE_OK;
}

static int
render_store(struct region *r, int writable, struct store *store, uint64_t now_ns, struct buf *out)
{
	uint64_t counts[SUPPLIER_COUNT][STATUS__MAX];
	struct store_stats st;
	int rc;

	if ((rc = store_sizes(store, &st)) != STORE_OK ||
	    (rc = count_sales(r, writable, store, st.last_txn, now_ns, counts)) != STORE_OK)
		return rc;
	rc = help(out, "menzzo_sale_products", "gauge", "Sale products in the store, by supplier and status.");
	for (unsigned s = 0; s < SUPPLIER_COUNT && rc == 0; s++)
		for (unsigned k = 0; k < STATUS__MAX && rc == 0; k++)
			rc = buf_addf(out, "menzzo_sale_products{supplier=\"%s\",status=\"%s\"} %" PRIu64 "\n",
			    suppliers[s].slug, status_name((enum sale_status)k), counts[s][k]);
	if (rc == 0)
		rc = help(out, "menzzo_store_used_bytes", "gauge", "Bytes of the store's file in use (its last page's end).");
	if (rc == 0)
		rc = buf_addf(out, "menzzo_store_used_bytes %zu\n", st.used_bytes);
	if (rc == 0)
		rc = help(out, "menzzo_store_map_bytes", "gauge", "The most the store may grow to (MENZZO_MAP_SIZE).");
	if (rc == 0)
		rc = buf_addf(out, "menzzo_store_map_bytes %zu\n", st.map_size);
	return rc != 0 ? -1 : STORE_OK;
}

int
metrics_render(void *region, int writable, struct store *store, const char *cache_dir, uint64_t now_ns,
    struct buf *out)
{
	struct region *r = region;
	uint64_t cache_bytes;
	int rc = 0;

	if (r != NULL && (render_requests(r, out) != 0 || render_durations(r, out) != 0 ||
	    render_rate_limited(r, out) != 0))
		return -1;
	if (cache_dir != NULL && cache_file_size(cache_dir, &cache_bytes) == 0 &&
	    (help(out, "menzzo_cache_file_bytes", "gauge", "Bytes of this boot's response cache file.") != 0 ||
	    buf_addf(out, "menzzo_cache_file_bytes %" PRIu64 "\n", cache_bytes) != 0))
		return -1;
	if (store != NULL)
		rc = render_store(r, writable, store, now_ns, out);
	return rc;
}
