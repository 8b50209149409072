/* The route table as C (endpoint.h). */
#include "endpoint.h"
#include "request.h"

const struct endpoint endpoints[ENDPOINT__MAX] = {
#define ENDPOINT(id, route, method, scope, auth, store, body) \
	[ENDPOINT_##id] = { #id, route, method, scope, auth, store, body, id##_handle },
#include "endpoints.def"
#undef ENDPOINT
};
