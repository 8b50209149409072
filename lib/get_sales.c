/*
 * The get-sales handler and its cache policy: the key (format version,
 * supplier, generation, page size, base URL, canonical query), one cache
 * open per process, HIT or MISS, and the headers of each.
 */
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "cgi.h"
#include "listing.h"

/* Changes whenever the response format changes, so that an upgrade never serves old entries. */
#define CACHE_KEY_VERSION "v2"

/*
 * The response cache key of a query: the group (format version, supplier),
 * the generation (bumped by every change to the supplier's sales), then
 * what the response depends on.
 */
#define KEY_GROUP 3
#define KEY_GEN_END (KEY_GROUP + 8)

static void
cache_key(const struct cgi *c, const struct listing_query *q, uint64_t gen, struct buf *key)
{
	unsigned char head[9];

	head[0] = (unsigned char)supplier_id(c->supplier);
	for (int i = 0; i < 8; i++)
		head[1 + i] = (unsigned char)(gen >> (56 - 8 * i));
	buf_adds(key, CACHE_KEY_VERSION);
	buf_add(key, head, sizeof(head));
	/* The response also depends on the page size and the base URL of its links. */
	buf_addf(key, "size=%u&base=%.*s&", c->cfg.page_size, (int)c->cfg.base_url_len, c->cfg.base_url);
	listing_query_canonical(q, key);
}

/*
 * Sets the headers of a page: Link to the next one (the query string next,
 * "" when none), and the cache's: max_age < 0 means no cache (no-store, no
 * X-Cache), else private, max-age and X-Cache: state.
 */
static void
page_headers(struct cgi *c, const char *next, long max_age, const char *state)
{
	if (max_age >= 0) {
		snprintf(c->res.cache_control, sizeof(c->res.cache_control), "private, max-age=%ld", max_age);
		response_header(&c->res, "X-Cache", "%s", state);
	}
	if (next[0])
		response_header(&c->res, "Link", "<%.*s/api/%s/get-sales?%s>; rel=\"next\"",
		    (int)c->cfg.base_url_len, c->cfg.base_url, c->supplier->slug, next);
}

/*
 * GET /api/{supplier}/get-sales (SPEC §2.2): the supplier's sale products, a
 * page at a time, in listing order, through the supplier's response cache.
 * Raises 400 naming an invalid parameter or an unknown cursor, 503 when the
 * store is unavailable, 200 with a JSON array, a Link to the next page when
 * one exists, and X-Cache / Cache-Control as the supplier's cache TTL says.
 */
void
get_sales_handle(struct cgi *c)
{
	struct listing_query q;
	enum listing_param bad;
	struct buf key = { 0 }, body = { 0 }, next = { 0 };
	struct store_txn *t = NULL;
	struct cache *cache = NULL;
	struct cache_entry hit;
	char err[200];
	long ttl = config_cache_ttl(&c->cfg, c->supplier);
	uint64_t gen;
	int rc, store_err = STORE_OK;

	if (listing_query_parse(c->req.query, strlen(c->req.query), &q, &bad, err, sizeof(err)) != 0) {
		response_error(&c->res, 400, "invalid_parameter", err);
		return;
	}
	if ((rc = store_begin(c->store, 0, &t)) != STORE_OK ||
	    (rc = store_generation(t, supplier_id(c->supplier), &gen)) != STORE_OK) {
		store_abort(t);
		cgi_store_error(c, rc);
		return;
	}
	if (ttl > 0) {
		cache_key(c, &q, gen, &key);
		if ((cache = cgi_cache(c)) != NULL && cache_get(cache, key.p, key.len, c->now, &hit) == STORE_OK) {
			store_abort(t);
			response_raw(&c->res, 200, hit.body, hit.body_len);
			page_headers(c, hit.link, (long)(hit.expires_at - c->now), "HIT");
			cache_entry_free(&hit);
			goto out;
		}
	}
	switch (listing_run(t, &c->cfg, supplier_id(c->supplier), &q, &body, &next, &store_err)) {
	case LISTING_OK:
		store_abort(t);
		break;
	case LISTING_BAD_CURSOR:
		store_abort(t);
		response_error(&c->res, 400, "invalid_parameter", "Parameter last_menzzo_order_number "
		    "names no sale product this supplier has received.");
		goto out;
	case LISTING_FAILED:
		store_abort(t);
		cgi_store_error(c, store_err);
		goto out;
	}
	response_take(&c->res, 200, &body);
	page_headers(c, next.p ? next.p : "", ttl > 0 ? ttl : -1, "MISS");
	/* A lost cache write costs a later MISS, nothing else. */
	if (ttl > 0) {
		struct cache_key k = { key.p, key.len, KEY_GROUP, KEY_GEN_END };

		if ((rc = cache == NULL ? STORE_UNAVAILABLE : cache_put(cache, &k, c->now + ttl, next.p ? next.p : "",
		    c->res.body.p, c->res.body.len, c->now)) != STORE_OK)
			response_log(&c->res, "cache: response not stored: %s", rc == STORE_FULL ?
			    "its budget or the disk's free space is exhausted" : store_strerror(rc));
	}
out:
	buf_free(&key);
	buf_free(&body);
	buf_free(&next);
}
