#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "cache.h"
#include "cgi.h"
#include "fault.h"
#include "ratelimit.h"

void
cgi_store_error(struct cgi *c, int err)
{
	char why[320];

	/* The cause for the maintainer: why the store did not open, else the store's own word. */
	if (c->store == NULL && c->store_why[0])
		snprintf(why, sizeof(why), "%s", c->store_why);
	else
		snprintf(why, sizeof(why), "%s: %s", c->cfg.data_dir ? c->cfg.data_dir : "store", store_strerror(err));
	switch (err) {
	case STORE_FULL:
		response_error_why(&c->res, 503, "storage_full",
		    "The order store is full; nothing was changed. Retry later.", why);
		response_header(&c->res, "Retry-After", "60");
		break;
	case STORE_UNAVAILABLE:
	case STORE_NOMEM:
	case STORE_VERSION:
		response_error_why(&c->res, 503, "storage_unavailable", STORE_UNAVAILABLE_SENTENCE, why);
		response_header(&c->res, "Retry-After", "30");
		break;
	default:
		response_error_why(&c->res, 500, "internal_error",
		    "An internal error occurred; quote the request id to support.", why);
	}
}

struct cache *
cgi_cache(struct cgi *c)
{
	if (c->cache == NULL && cache_open(&c->cache, c->cfg.cache_dir, c->cfg.cache_size, 1) != STORE_OK)
		c->cache = NULL;
	return c->cache;
}

static void
unauthorized(struct cgi *c, int token_sent, const char *message)
{
	response_error(&c->res, 401, token_sent ? "invalid_token" : "missing_token", message);
	if (token_sent)
		response_header(&c->res, "WWW-Authenticate",
		    "Bearer realm=\"menzzo\", error=\"invalid_token\"");
	else
		response_header(&c->res, "WWW-Authenticate", "Bearer realm=\"menzzo\"");
}

/* Returns 0 when the request carries a token the endpoint accepts; else sets the response. */
static int
authenticate(struct cgi *c, enum endpoint_auth mode)
{
	struct store_txn *t;
	const char *token;
	size_t len;
	int rc, err = STORE_OK;
	enum auth_result ar = auth_parse_bearer(c->req.authorization, &token, &len);

	if (ar == AUTH_MISSING) {
		unauthorized(c, 0, "An Authorization: Bearer <token> header is required.");
		return -1;
	}
	if (ar == AUTH_MALFORMED) {
		unauthorized(c, 1, "The Authorization header is not a Bearer token.");
		return -1;
	}
	if ((rc = store_begin(c->store, 0, &t)) != STORE_OK) {
		cgi_store_error(c, rc);
		return -1;
	}
	ar = auth_check(t, token, len, c->now, &c->token, &err);
	store_abort(t);
	if (ar == AUTH_ERROR) {
		cgi_store_error(c, err);
		return -1;
	}
	if (ar != AUTH_OK) {
		unauthorized(c, 1, "The token is unknown, revoked or expired.");
		return -1;
	}
	if (ratelimit_admit(c) != 0)
		return -1;
	if (mode == AUTH_OWN_SUPPLIER && c->token.supplier != supplier_id(c->supplier)) {
		response_error(&c->res, 403, "wrong_supplier",
		    "This token belongs to another supplier.");
		return -1;
	}
	return 0;
}

/* From here on, a fault reading a mapped file (store or cache) answers this request's 503 and exits. */
static void
arm_fault_guard(struct cgi *c)
{
	struct buf out = { 0 }, log = { 0 };
	char why[320];

	snprintf(why, sizeof(why), "%s: store damaged or truncated (a fault reading the map of the store or its cache)",
	    c->cfg.data_dir);
	response_prepare_fault(&c->res, why, &out, &log);
	if (out.p != NULL && log.p != NULL)
		fault_guard_arm(1, out.p, out.len, log.p, log.len, 0);
	buf_free(&out);
	buf_free(&log);
}

static void
run(struct cgi *c, const struct endpoint *ep, const char *supplier_slug)
{
	char err[160];
	int rc;

	if (config_load(&c->cfg, err, sizeof(err)) != 0) {
		response_log(&c->res, "configuration: %s", err);
		/* health answers 200 or 503 only: a misconfigured server is not healthy. */
		response_error(&c->res, ep->auth == AUTH_NONE ? 503 : 500, "misconfigured",
		    "The server is misconfigured; quote the request id to support.");
		if (ep->auth == AUTH_NONE)
			response_header(&c->res, "Retry-After", "60");
		return;
	}
	if (supplier_slug != NULL &&
	    (c->supplier = supplier_by_slug(supplier_slug, strlen(supplier_slug))) == NULL) {
		response_log(&c->res, "supplier %s is not in the supplier table", supplier_slug);
		response_error(&c->res, 500, "misconfigured",
		    "The server is misconfigured; quote the request id to support.");
		return;
	}
	request_from_env(&c->req);
	if (strcmp(c->req.method, ep->method) != 0) {
		response_error(&c->res, 405, "method_not_allowed", ep->reads_body ?
		    "This endpoint only answers POST." : "This endpoint only answers GET.");
		response_header(&c->res, "Allow", "%s", ep->method);
		return;
	}
	if (ep->reads_body) {
		switch (request_read_body(&c->req, stdin)) {
		case BODY_OK:
			break;
		case BODY_TOO_LARGE:
			response_error(&c->res, 413, "body_too_large",
			    "The request body is larger than 64 KiB.");
			return;
		case BODY_BAD:
			response_error(&c->res, 400, "bad_body",
			    "The request body does not match its Content-Length.");
			return;
		case BODY_NOMEM:
			cgi_store_error(c, STORE_NOMEM);
			return;
		}
	}
	arm_fault_guard(c);
	if ((rc = store_open(&c->store, c->cfg.data_dir, c->cfg.map_size, ep->store_flags, c->store_why,
	    sizeof(c->store_why))) != STORE_OK) {
		c->store = NULL;
		if (ep->auth != AUTH_NONE) {
			cgi_store_error(c, rc == STORE_FULL ? rc : STORE_UNAVAILABLE);
			return;
		}
	}
	if (ep->auth != AUTH_NONE && authenticate(c, ep->auth) != 0)
		return;
	ep->handle(c);
}

int
cgi_main(const struct endpoint *ep, const char *supplier_slug)
{
	struct cgi c;
	int status = 0;

	memset(&c, 0, sizeof(c));
	if (auth_init() != 0) {
		fputs("Status: 500 Internal Server Error\r\n\r\n", stdout);
		return 1;
	}
	response_init(&c.res);
	c.now = (int64_t)time(NULL);
	run(&c, ep, supplier_slug);
	fault_guard_disarm();
	if (response_send(&c.res, stdout) != 0)
		status = 1;
	response_free(&c.res);
	request_free(&c.req);
	cache_close(c.cache);
	store_close(c.store);
	return status;
}
