#ifndef MENZZO_CGI_H
#define MENZZO_CGI_H

/*
 * The prologue every endpoint shares (kcgi-framework's main.c order) and
 * the state one request handler sees.
 */

#include <setjmp.h>
#include <stdint.h>

#include "config.h"
#include "endpoint.h"
#include "request.h"
#include "response.h"
#include "store.h"
#include "supplier.h"
#include "token.h"

struct cache;
struct shared_state;

/* What one request handler sees: all of the request's state, nothing global. */
struct cgi {
	/* The process's: configuration and the environments, opened once. */
	struct config cfg;
	char cfg_err[160];               /* why the configuration is invalid; "" when it is valid */
	const struct supplier *supplier; /* the executable's supplier; NULL for files and health */
	struct store *store;             /* open before the handler runs; NULL for health when unavailable */
	char store_why[256];             /* why the store did not open, for the error log */
	struct cache *cache;             /* the response cache, once cgi_cache opened it */
	struct shared_state *state;      /* the shared-state file, once a request mapped it (cgi_state) */
	/* The request's. */
	struct request req;
	struct response res;
	struct token_record token;       /* the authenticated token, when the endpoint needs one */
	int authenticated;               /* token holds a valid token (its scope may still be refused) */
	int state_told;                  /* the error log said already why the shared state is not used */
	int64_t now;
};

/*
 * The fixed order of every endpoint: read the configuration (once per
 * process) → read the request → check the method (405) → read a bounded
 * body (413, 400) → open the store (503; once per process, reopened when
 * stale) → authenticate (401, 403) → handle → respond → free.
 * The same executable answers one request as plain CGI when standard input
 * is not a FastCGI listening socket (FCGX_IsCGI: a run by hand, a CGI
 * host), and loops over requests as a FastCGI responder when it is.
 * supplier_slug is the executable's supplier, or NULL.  Returns the process
 * exit status (0 once a response was written).
 */
int cgi_main(const struct endpoint *ep, const char *supplier_slug);

/*
 * Sets the response for a store error: 503 storage_full or
 * storage_unavailable with Retry-After, else 500; the error log names the
 * cause (the store's path and the system error) where it is known.
 */
void cgi_store_error(struct cgi *c, int err);

/*
 * The shared-state file (rate limit, counters), mapped on the first call of
 * the process and again when it went stale: from here until
 * fault_recover_clear(), a fault on its map (the file cut short by another
 * process) jumps to env, which the caller set with sigsetjmp(env, 0) and
 * after which it calls cgi_state_drop.  NULL, with why, when it cannot be
 * used; a process without a store (c->store NULL) never creates the file.
 */
struct shared_state *cgi_state(struct cgi *c, sigjmp_buf *env, char *why, size_t whylen);
void cgi_state_drop(struct cgi *c);

/* The response cache, opened (and created) on the first call of the process; NULL when it cannot be. */
struct cache *cgi_cache(struct cgi *c);

#endif
