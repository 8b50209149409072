#ifndef MENZZO_STOCK_H
#define MENZZO_STOCK_H

/*
 * A supplier's stock of a SKU (SPEC §9), as stored (lib/store_stock.c):
 * keyed by the supplier and the SKU, so that a supplier's SKUs are one
 * range in SKU order.
 */

#include <stdint.h>

#include "sale.h"
#include "store.h"

#define STOCK_QUANTITY_MAX 1000000
#define STOCK_LEAD_MAX 365
#define STOCK_ITEMS_MAX 1000

struct stock_record {
	unsigned supplier;
	char sku[SKU_MAX + 1];
	uint32_t quantity;
	int lead_time_days;       /* -1: not given */
	uint32_t next_available;  /* days since the epoch (validate.h), when has_next_available */
	int has_next_available;
	int64_t updated_at;       /* when quantity, lead time or date last changed */
};

/* The record of supplier's sku: STORE_OK, STORE_NOTFOUND, or the transaction's (sticky) error. */
int store_stock_get(struct store_txn *t, unsigned supplier, const char *sku, struct stock_record *out);
/* Writes it; STORE_OK or the sticky error. */
int store_stock_put(struct store_txn *t, const struct stock_record *r);

/* A supplier's SKUs in SKU order (bytes), from the first after after_sku ("" for the first). */
struct stock_iter {
	struct store_cursor c;
	struct stock_record rec;
};
int store_stock_first(struct store_txn *t, unsigned supplier, const char *after_sku, struct stock_iter *it);
int store_stock_next(struct stock_iter *it);

/* An update-stock request as read (stock_request_read). */
struct stock_request {
	struct stock_record *recs;            /* n, in request order */
	const struct stock_record **by_sku;   /* the same, by SKU */
	size_t n;
	int full;                             /* mode full: the supplier's other SKUs go to 0 */
};

struct request;
/*
 * Reads an update-stock body as records of supplier at now: 0 with out
 * filled (free with stock_request_free); -1 with msg, the sentence of the
 * 400 (the first bad item named: "items[3]: ..."); -2 when out of memory.
 */
int stock_request_read(const struct request *req, unsigned supplier, int64_t now, struct stock_request *out,
    char *msg, size_t msglen);
void stock_request_free(struct stock_request *r);
/* Whether the request names sku. */
int stock_request_names(const struct stock_request *r, const char *sku);

/* get-stock's parameters as read (stock_query_read). */
struct stock_query {
	int has_sku, has_since, has_after;
	char sku[SKU_MAX + 1], after[SKU_MAX + 1];
	uint32_t since;   /* days since the epoch */
};
/* Reads get-stock's query string: 0; -1 with msg, the 400's sentence; -2 when out of memory. */
int stock_query_read(const char *qs, size_t len, struct stock_query *q, char *msg, size_t msglen);

struct buf;
/* Appends s percent-encoded as a query value (all but the unreserved characters); 0 or -1 (memory). */
int stock_query_value(struct buf *b, const char *s);

struct json_object;
/* One item as get-stock answers it: {"sku", "quantity", "lead_time_days", "next_available_date", "updated_at"}. */
struct json_object *stock_item_json(const struct stock_record *r);
/* The same members added to o, which it returns. */
struct json_object *stock_item_add(struct json_object *o, const struct stock_record *r);

#endif
