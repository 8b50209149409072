#ifndef MENZZO_GET_SALES_H
#define MENZZO_GET_SALES_H

#include "cgi.h"

/*
 * GET /api/{supplier}/get-sales (SPEC §2.2): the supplier's sale products, a
 * page at a time, in listing order, through the supplier's response cache.
 * Raises 400 naming an invalid parameter or an unknown cursor, 503 when the
 * store is unavailable, 200 with a JSON array, a Link to the next page when
 * one exists, and X-Cache / Cache-Control as the supplier's cache TTL says.
 */
void get_sales_handle(struct cgi *c);

#endif
