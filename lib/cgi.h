#ifndef MENZZO_CGI_H
#define MENZZO_CGI_H

#include <stdint.h>

#include "config.h"
#include "request.h"
#include "response.h"
#include "sale.h"
#include "store.h"
#include "supplier.h"

/* What one request handler sees: all of the request's state, nothing global. */
struct cgi {
	struct config cfg;
	const struct supplier *supplier; /* the executable's supplier; NULL for files and health */
	struct request req;
	struct response res;
	struct store *store;             /* open before the handler runs; NULL for health when unavailable */
	struct token_record token;       /* the authenticated token, when the endpoint needs one */
	int64_t now;
};

enum endpoint_auth {
	AUTH_NONE,          /* health */
	AUTH_ANY_SUPPLIER,  /* files: any supplier's valid token */
	AUTH_OWN_SUPPLIER,  /* the executable's supplier's token; another's is a 403 */
};

struct endpoint {
	const char *method;     /* the one method served; others get 405 with Allow */
	enum endpoint_auth auth;
	int store_flags;        /* STORE_READONLY for endpoints that only read */
	int reads_body;
	/* Fills c->res.  Runs after the common prologue succeeded. */
	void (*handle)(struct cgi *c);
};

/*
 * The fixed order of every endpoint: read the environment and configuration
 * → check the method (405) → read a bounded body (413, 400) → open the store
 * (503) → authenticate (401, 403) → handle → respond → free.
 * supplier_slug is the executable's supplier, or NULL.  Returns the process
 * exit status (0 once a response was written).
 */
int cgi_main(const struct endpoint *ep, const char *supplier_slug);

/* Sets the response for a store error: 503 with Retry-After when full or unavailable, else 500. */
void cgi_store_error(struct cgi *c, int err);

#endif
