#ifndef MENZZO_ENDPOINT_H
#define MENZZO_ENDPOINT_H

/*
 * The route table (lib/endpoints.def) as C: endpoints[ENDPOINT_<id>] is a
 * row, and <id>_handle its handler, declared here from the table so that
 * the table is the only list of them.
 */

#include "store.h"

struct cgi;

enum endpoint_scope {
	SCOPE_GLOBAL,    /* one program: /api/<route> */
	SCOPE_SUPPLIER,  /* one program per supplier: /api/<slug>/<route> */
};

enum endpoint_auth {
	AUTH_NONE,          /* health */
	AUTH_ANY_SUPPLIER,  /* files: any supplier's valid token */
	AUTH_OWN_SUPPLIER,  /* the program's supplier's token; another's is a 403 */
	AUTH_BACKOFFICE,    /* a back-office token; a supplier's is a 403 (and a back-office one is for the others) */
};

/* A row of the table. */
struct endpoint {
	const char *id;         /* "get_sales" */
	const char *route;      /* "get-sales", "files/{path}" (under /api/, or /api/{supplier}/) */
	const char *method;     /* the one method served; others get 405 with Allow */
	enum endpoint_scope scope;
	enum endpoint_auth auth;
	int store_flags;        /* STORE_READONLY for endpoints that only read */
	size_t reads_body;      /* the most bytes of body it reads (BODY_MAX, BODY_MAX_LARGE); 0: none */
	/* Fills c->res.  Runs after the common prologue (cgi.h) succeeded. */
	void (*handle)(struct cgi *c);
};

enum endpoint_id {
#define ENDPOINT(id, route, method, scope, auth, store, body) ENDPOINT_##id,
#include "endpoints.def"
#undef ENDPOINT
	ENDPOINT__MAX
};

#define ENDPOINT(id, route, method, scope, auth, store, body) void id##_handle(struct cgi *c);
#include "endpoints.def"
#undef ENDPOINT

extern const struct endpoint endpoints[ENDPOINT__MAX];

#endif
