#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "auth.h"
#include "cache.h"
#include "cgi.h"
#include "clock.h"
#include "fault.h"
#include "metrics.h"
#include "ratelimit.h"
#include "shared_state.h"

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
	if (c->cache != NULL && cache_stale(c->cache)) {
		cache_close(c->cache);
		c->cache = NULL;
	}
	if (c->cache == NULL && cache_open(&c->cache, c->cfg.cache_dir, c->cfg.cache_size, 1) != STORE_OK)
		c->cache = NULL;
	return c->cache;
}

struct shared_state *
cgi_state(struct cgi *c, sigjmp_buf *env, char *why, size_t whylen)
{
	char path[4096];
	struct stat st;
	const void *lo;
	size_t len;

	why[0] = '\0';
	if (c->state != NULL) {
		shared_state_region(c->state, &lo, &len);
		fault_recover_set(lo, len, env);
		if (!shared_state_stale(c->state, clock_monotonic_ns()))
			return c->state;
		cgi_state_drop(c);
	}
	if (config_state_file(&c->cfg, path, sizeof(path)) == NULL) {
		snprintf(why, whylen, "MENZZO_STATE_FILE (or MENZZO_CACHE_DIR) is too long");
		return NULL;
	}
	/* A process that found no store creates nothing: the place may be a mistake (MENZZO_DATA_DIR). */
	if (c->store == NULL && stat(path, &st) != 0) {
		snprintf(why, whylen, "%s: %s (not created without a store)", path, strerror(errno));
		return NULL;
	}
	if (shared_state_open(path, metrics_size(), metrics_layout(), &c->state, why, whylen) != 0)
		return NULL;
	shared_state_region(c->state, &lo, &len);
	fault_recover_set(lo, len, env);
	return c->state;
}

void
cgi_state_drop(struct cgi *c)
{
	fault_recover_clear();
	shared_state_close(c->state);
	c->state = NULL;
}

/* The supplier label of the request's counters (metrics.h), and of the token's. */
static unsigned
token_who(const struct cgi *c)
{
	if (!c->authenticated)
		return METRIC_NOBODY;
	return c->token.backoffice ? METRIC_BACKOFFICE : METRIC_SUPPLIER0 + c->token.supplier;
}

static unsigned
request_who(const struct cgi *c)
{
	return c->supplier != NULL ? METRIC_SUPPLIER0 + supplier_id(c->supplier) : token_who(c);
}

/*
 * The rate limit's step, once the token is valid: 0 to go on, -1 with the
 * 429 set.  A shared-state file cut short under the map faults when it is
 * touched: that request is let through (the guard jumps back here), and
 * the next one maps it again.
 */
static int
rate_limit(struct cgi *c)
{
	char why[4300], path[4096];
	struct shared_state *s;
	sigjmp_buf env;
	int rc;

	if (sigsetjmp(env, 0) != 0) {
		cgi_state_drop(c);
		snprintf(why, sizeof(why), "%s: cut short under this process's map",
		    config_state_file(&c->cfg, path, sizeof(path)) ? path : "MENZZO_STATE_FILE");
		c->state_told = 1;
		return ratelimit_admit(NULL, why, c->token.id, c->cfg.rate_limit_rate, c->cfg.rate_limit_burst,
		    &c->res);
	}
	s = cgi_state(c, &env, why, sizeof(why));
	c->state_told = s == NULL;
	rc = ratelimit_admit(s, why, c->token.id, c->cfg.rate_limit_rate, c->cfg.rate_limit_burst, &c->res);
	if (rc != 0 && s != NULL)
		metrics_rate_limited(shared_state_extra(s), token_who(c));
	fault_recover_clear();
	return rc;
}

/*
 * The request's counters, once it is answered (never when the
 * configuration is invalid: there is no file to count in).  A file cut
 * short under the map loses this request's count; the next one maps the
 * file again.
 */
static void
count_request(struct cgi *c, const struct endpoint *ep, uint64_t start_ns)
{
	char why[4300];
	struct shared_state *s;
	sigjmp_buf env;

	if (c->cfg_err[0])
		return;
	if (sigsetjmp(env, 0) != 0) {
		cgi_state_drop(c);
		return;
	}
	if ((s = cgi_state(c, &env, why, sizeof(why))) != NULL)
		metrics_count(shared_state_extra(s), (unsigned)(ep - endpoints), request_who(c), c->res.status,
		    clock_monotonic_ns() - start_ns);
	else if (!c->state_told && c->res.status < 500) /* a 5xx logged its cause, most often this one too */
		response_log(&c->res, "metrics: request not counted: %s", why);
	fault_recover_clear();
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
	c->authenticated = 1;
	if (c->cfg.rate_limit_rate != 0 && rate_limit(c) != 0)
		return -1;
	if ((mode == AUTH_BACKOFFICE) != (c->token.backoffice != 0)) {
		response_error(&c->res, 403, "wrong_scope", mode == AUTH_BACKOFFICE ?
		    "This endpoint is the back office's: a supplier's token cannot call it." :
		    "A back-office token cannot call a supplier's endpoint.");
		return -1;
	}
	if (mode == AUTH_OWN_SUPPLIER && c->token.supplier != supplier_id(c->supplier)) {
		response_error(&c->res, 403, "wrong_supplier",
		    "This token belongs to another supplier.");
		return -1;
	}
	return 0;
}

/*
 * From here on, a fault reading a mapped file (store or cache) ends this
 * request: plain CGI answers the request's 503 and exits; a responder only
 * logs and exits (its output is a FastCGI stream: the web server answers the
 * request and starts a new responder).
 */
static void
arm_fault_guard(struct cgi *c, int fastcgi)
{
	struct buf out = { 0 }, log = { 0 };
	char why[320];

	snprintf(why, sizeof(why), "%s: store damaged or truncated (a fault reading the map of the store or its cache)",
	    c->cfg.data_dir);
	response_prepare_fault(&c->res, why, fastcgi ? NULL : &out, &log);
	if (log.p != NULL && (fastcgi || out.p != NULL))
		fault_guard_arm(fastcgi ? -1 : 1, out.p, out.len, log.p, log.len, fastcgi ? 1 : 0);
	buf_free(&out);
	buf_free(&log);
}

/* The store, opened on the first request that needs it and kept; reopened when stale.  STORE_OK or why not. */
static int
open_store(struct cgi *c, const struct endpoint *ep)
{
	if (c->store != NULL && store_stale(c->store)) {
		store_close(c->store);
		c->store = NULL;
	}
	if (c->store != NULL)
		return STORE_OK;
	return store_open(&c->store, c->cfg.data_dir, c->cfg.map_size, ep->store_flags, c->store_why,
	    sizeof(c->store_why));
}

static void
misconfigured(struct cgi *c, const struct endpoint *ep)
{
	/* health answers 200 or 503 only: a misconfigured server is not healthy. */
	response_error(&c->res, ep->auth == AUTH_NONE ? 503 : 500, "misconfigured",
	    "The server is misconfigured; quote the request id to support.");
	if (ep->auth == AUTH_NONE)
		response_header(&c->res, "Retry-After", "60");
}

static void
run(struct cgi *c, const struct endpoint *ep, const struct request_source *src, int fastcgi)
{
	int rc;

	if (c->cfg_err[0]) {
		response_log(&c->res, "configuration: %s", c->cfg_err);
		misconfigured(c, ep);
		return;
	}
	arm_fault_guard(c, fastcgi);
	request_from(&c->req, src);
	/* HEAD is a GET whose answer keeps its headers and loses its body (RFC 9110 §9.3.2). */
	c->res.head_only = strcmp(c->req.method, "HEAD") == 0 && strcmp(ep->method, "GET") == 0;
	if (strcmp(c->req.method, ep->method) != 0 && !c->res.head_only) {
		char message[64];
		int get = strcmp(ep->method, "GET") == 0;

		snprintf(message, sizeof(message), "This endpoint only answers %s%s.", ep->method, get ? " (and HEAD)" : "");
		response_error(&c->res, 405, "method_not_allowed", message);
		response_header(&c->res, "Allow", "%s", get ? "GET, HEAD" : ep->method);
		return;
	}
	if (ep->reads_body) {
		switch (request_read_body(&c->req, src, ep->reads_body)) {
		case BODY_OK:
			break;
		case BODY_TOO_LARGE:
			response_error(&c->res, 413, "body_too_large", ep->reads_body > BODY_MAX_LARGE ?
			    "The request body is larger than 16 MiB." : ep->reads_body > BODY_MAX ?
			    "The request body is larger than 256 KiB." : "The request body is larger than 64 KiB.");
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
	if ((rc = open_store(c, ep)) != STORE_OK) {
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

/* The process's part: configuration, read and checked once; the supplier of the program. */
static void
process_init(struct cgi *c, const struct endpoint *ep, const char *supplier_slug)
{
	if (config_load(&c->cfg, c->cfg_err, sizeof(c->cfg_err)) != 0)
		return;
	if ((ep->scope == SCOPE_SUPPLIER) != (supplier_slug != NULL))
		snprintf(c->cfg_err, sizeof(c->cfg_err), "endpoint %s is built %s a supplier", ep->id,
		    supplier_slug != NULL ? "for" : "without");
	else if (supplier_slug != NULL &&
	    (c->supplier = supplier_by_slug(supplier_slug, strlen(supplier_slug))) == NULL)
		snprintf(c->cfg_err, sizeof(c->cfg_err), "supplier %s is not in the supplier table", supplier_slug);
}

/*
 * One request, start to end: nothing of it is left in c afterwards but the
 * process's part (configuration, store, cache).  write gets the response.
 */
static int
serve(struct cgi *c, const struct endpoint *ep, const struct request_source *src, int fastcgi,
    int (*write)(void *ctx, const void *p, size_t n), void *ctx)
{
	uint64_t start_ns = clock_monotonic_ns();
	int rc;

	response_init(&c->res);
	memset(&c->token, 0, sizeof(c->token));
	c->authenticated = 0;
	c->state_told = 0;
	c->store_why[0] = '\0';
	c->now = clock_now();
	run(c, ep, src, fastcgi);
	count_request(c, ep, start_ns);
	if (!fastcgi)
		fault_guard_disarm();
	rc = response_write(&c->res, write, ctx);
	response_free(&c->res);
	request_free(&c->req);
	return rc;
}

static int
stdout_write(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

/* FastCGI: the request's parameters and streams (libfcgi's fcgiapp.h). */
static const char *
fcgi_param(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static long
fcgi_read(void *ctx, char *buf, size_t n)
{
	FCGX_Request *fr = ctx;
	int got = FCGX_GetStr(buf, n > INT_MAX ? INT_MAX : (int)n, fr->in);

	return got > 0 || FCGX_GetError(fr->in) == 0 ? got : -1;
}

static int
fcgi_write(void *ctx, const void *p, size_t n)
{
	FCGX_Request *fr = ctx;

	return n > INT_MAX || FCGX_PutStr(p, (int)n, fr->out) != (int)n ? -1 : 0;
}

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * A responder: requests one after another until the web server stops it
 * (SIGTERM or SIGUSR1: the request under way is finished first, then the
 * process exits cleanly).  It belongs to the process that started it (the
 * web server: lighttpd, Apache's mod_fcgid): when that one dies, even by
 * SIGKILL, the kernel sends this one SIGTERM (PR_SET_PDEATHSIG), and it
 * exits the same way, saying so in the error log.  parent is the process
 * that started it, read first thing in cgi_main.  (A web server that dies
 * within the instant between its fork and that line leaves the responder
 * running: nothing tells it apart from one started by process 1, as
 * lighttpd is in a container.)
 */
static int
respond(struct cgi *c, const struct endpoint *ep, pid_t parent)
{
	FCGX_Request fr;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: accept() returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a client gone is a write error, not a death */
	/* PR_SET_PDEATHSIG was set in cgi_main, before this check: a parent that died in between is seen here. */
	if (getppid() != parent)
		stopping = 1;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		return 1;
	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		struct request_source src = { fcgi_param, fcgi_read, &fr };

		serve(c, ep, &src, 1, fcgi_write, &fr);
		FCGX_Finish_r(&fr);
	}
	if (getppid() != parent)
		fprintf(stderr, "menzzo: responder %ld: its web server (process %ld) is gone: exiting\n",
		    (long)getpid(), (long)parent);
	FCGX_Free(&fr, 1);
	fault_guard_disarm();
	return 0;
}

int
cgi_main(const struct endpoint *ep, const char *supplier_slug)
{
	pid_t parent = getppid();
	int cgi = FCGX_IsCGI(), status;
	struct cgi c;

	/* A responder ends with its web server: asked first thing, so that the window before is short. */
	if (!cgi && prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		fprintf(stderr, "menzzo: responder %ld: cannot ask to end with the web server: %s\n", (long)getpid(),
		    strerror(errno));
	memset(&c, 0, sizeof(c));
	if (auth_init() != 0) {
		fputs("Status: 500 Internal Server Error\r\n\r\n", stdout);
		return 1;
	}
	process_init(&c, ep, supplier_slug);
	if (cgi) {
		/* Plain CGI, or a run by hand: one request from the environment and standard input. */
		status = serve(&c, ep, &request_cgi_source, 0, stdout_write, NULL) == 0 && fflush(stdout) == 0 ? 0 : 1;
	} else
		status = respond(&c, ep, parent);
	cache_close(c.cache);
	shared_state_close(c.state);
	store_close(c.store);
	return status;
}
