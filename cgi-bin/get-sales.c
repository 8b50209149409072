/*
 * GET /api/{supplier}/get-sales: the supplier's sale products, a page at a
 * time, in listing order (SPEC §2.2), with the per-supplier response cache.
 * Raises 400 naming an invalid parameter or an unknown cursor, 401/403 on
 * authentication, 503 when the store is unavailable, 200 with a JSON array
 * (and a Link to the next page) on success.
 */
#include <stdio.h>
#include <string.h>

#include "cgi.h"
#include "listing.h"

/* Changes whenever the response format changes, so that an upgrade never serves old entries. */
#define CACHE_KEY_VERSION "v1"

static void
respond_cached(struct cgi *c, const char *link, const char *body, size_t len, long max_age, const char *state)
{
	response_raw(&c->res, 200, body, len);
	snprintf(c->res.cache_control, sizeof(c->res.cache_control), "private, max-age=%ld", max_age);
	response_header(&c->res, "X-Cache", "%s", state);
	if (link[0])
		response_header(&c->res, "Link", "<%.*s/api/%s/get-sales?%s>; rel=\"next\"",
		    (int)c->cfg.base_url_len, c->cfg.base_url, c->supplier->slug, link);
}

static void
get_sales(struct cgi *c)
{
	struct listing_query q;
	enum listing_param bad;
	struct buf key = { 0 }, body = { 0 }, next = { 0 };
	struct store_txn *t = NULL;
	struct cache *cache = NULL;
	struct cache_entry hit;
	char err[200];
	long ttl = config_cache_ttl(c->supplier);
	uint64_t gen;
	int rc, store_err = STORE_OK;
	unsigned char sid = (unsigned char)supplier_id(c->supplier);

	if (listing_query_parse(c->req.query, strlen(c->req.query), &q, &bad, err, sizeof(err)) != 0) {
		response_error(&c->res, 400, "invalid_parameter", err);
		return;
	}
	if (ttl < 0) {
		response_log(&c->res, "configuration: MENZZO_CACHE_TTL_%s is not a number of seconds",
		    c->supplier->env_name);
		response_error(&c->res, 500, "misconfigured",
		    "The server is misconfigured; quote the request id to support.");
		return;
	}
	if ((rc = store_begin(c->store, 0, &t)) != STORE_OK ||
	    (rc = store_generation(t, sid, &gen)) != STORE_OK) {
		store_abort(t);
		cgi_store_error(c, rc);
		return;
	}
	if (ttl > 0) {
		/* format version, supplier, generation (bumped by every change to its sales), canonical query */
		uint64_t g = gen;
		buf_add(&key, CACHE_KEY_VERSION, 2);
		buf_add(&key, &sid, 1);
		for (int i = 7; i >= 0; i--) {
			unsigned char byte = (unsigned char)(g >> (i * 8));
			buf_add(&key, &byte, 1);
		}
		/* The response also depends on the page size and the base URL of its links. */
		buf_addf(&key, "size=%u&base=%.*s&", c->cfg.page_size, (int)c->cfg.base_url_len, c->cfg.base_url);
		listing_query_canonical(&q, &key);
		if (cache_open(&cache, c->cfg.data_dir, 0) == STORE_OK &&
		    cache_get(cache, key.p, key.len, c->now, &hit) == STORE_OK) {
			store_abort(t);
			respond_cached(c, hit.link, hit.body, hit.body_len, (long)(hit.expires_at - c->now), "HIT");
			cache_entry_free(&hit);
			goto out;
		}
	}
	switch (listing_run(t, &c->cfg, sid, &q, &body, &next, &store_err)) {
	case LISTING_OK:
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
	store_abort(t);
	if (ttl > 0) {
		const char *link = next.p ? next.p : "";
		respond_cached(c, link, body.p, body.len, ttl, "MISS");
		if (cache == NULL)
			cache_open(&cache, c->cfg.data_dir, 1);
		/* A lost cache write costs a later MISS, nothing else. */
		if (cache == NULL || cache_put(cache, key.p, key.len, c->now + ttl, link, body.p, body.len, c->now) != STORE_OK)
			response_log(&c->res, "cache: could not store the response");
	} else {
		response_take(&c->res, 200, &body);
		if (next.len)
			response_header(&c->res, "Link", "<%.*s/api/%s/get-sales?%s>; rel=\"next\"",
			    (int)c->cfg.base_url_len, c->cfg.base_url, c->supplier->slug, next.p);
	}
out:
	cache_close(cache);
	buf_free(&key);
	buf_free(&body);
	buf_free(&next);
}

static const struct endpoint get_sales_endpoint = {
	.method = "GET",
	.auth = AUTH_OWN_SUPPLIER,
	.store_flags = STORE_READONLY,
	.handle = get_sales,
};

int
main(void)
{
	return cgi_main(&get_sales_endpoint, MENZZO_SUPPLIER);
}
