#ifndef MENZZO_LISTING_H
#define MENZZO_LISTING_H

/* get-sales without HTTP: its query parameters, and the page of the listing they select. */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "store.h"
#include "field.h"

enum listing_param {
	Q_PAGE, Q_DATE_FROM, Q_DATE_TO, Q_LAST, Q_ORDER, Q_STATUS, Q__MAX
};
/* The whitelist of get-sales parameters: name, validator, the 400's sentence. */
extern const struct field_rule listing_params[Q__MAX];

struct listing_query {
	uint64_t page;                      /* 1 when absent */
	int has_date_from, has_date_to;
	uint32_t date_from, date_to;        /* days; 0 and UINT32_MAX when absent */
	int has_last;                       /* last_menzzo_order_number */
	struct order_ref last;              /* sale_product_id 0: an increment_id */
	int has_order;                      /* order_number */
	struct order_ref order;             /* sale_product_id 0: a whole order */
	int has_status;
	enum status_filter status;          /* effective: given, else all with order_number, else open */
};

/*
 * Parses a QUERY_STRING against listing_params, then checks across fields
 * (date_from ≤ date_to).  Returns 0, or -1 with *bad set to the parameter
 * at fault (Q__MAX for the query as a whole) and a sentence for the
 * supplier in err.  Unknown parameters are ignored.
 */
int listing_query_parse(const char *qs, size_t len, struct listing_query *q, enum listing_param *bad,
    char *err, size_t errlen);

/* Appends the canonical text of a query (every known parameter, defaults spelt out): the cache key's tail. */
void listing_query_canonical(const struct listing_query *q, struct buf *out);

enum listing_result {
	LISTING_OK,
	LISTING_BAD_CURSOR, /* last_menzzo_order_number this supplier never had: 400 */
	LISTING_FAILED,     /* store error in *err */
};

/*
 * Appends the JSON array of the page the query selects for this supplier to
 * body, and to next the query string of the following page (the given
 * filters and the cursor of the page's last item) when one exists.
 */
enum listing_result listing_run(struct store_txn *t, const struct config *cfg, unsigned supplier,
    const struct listing_query *q, struct buf *body, struct buf *next, int *err);

#endif
