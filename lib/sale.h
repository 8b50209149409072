#ifndef MENZZO_SALE_H
#define MENZZO_SALE_H

#include <stdint.h>

#include "validate.h"

/* A sale product: one line of a customer order that one supplier fulfils. */
struct sale_product {
	uint64_t increment_id;    /* the order's number, "15000012345" */
	uint64_t sale_product_id; /* the line's id, unique across orders */
	unsigned supplier;        /* supplier id (row of lib/suppliers.def) */
	enum sale_status status;
	uint32_t quantity;
	int64_t price_cents;      /* wholesale price */
	uint32_t order_date;      /* days since 1970-01-01 */
	int64_t acknowledged_at;  /* seconds since the epoch; 0 = never */
	int64_t prepared_at;      /* 0 = not shipped */
	int64_t created_at, updated_at;
	char sku[SKU_MAX + 1];
	char carrier[CARRIER_MAX + 1];          /* the carrier the order names */
	char label[LABEL_MAX + 1];              /* relative to the files directory; "" = none */
	char tracking_number[TRACKING_MAX + 1]; /* given with ship-sale */
	char ship_carrier[CARRIER_MAX + 1];     /* given with ship-sale */
};

/* An issued API token, as stored (the token itself is never stored, only its hash). */
struct token_record {
	uint32_t id;
	unsigned supplier;
	int revoked;
	int64_t created_at;
	int64_t expires_at; /* 0 = never */
	char label[TOKEN_LABEL_MAX + 1];
};

#define TOKEN_HASH_LEN 32

enum log_action { LOG_IMPORTED, LOG_UPDATED, LOG_ACKNOWLEDGED, LOG_SHIPPED, LOG_CANCELLED, LOG__MAX };

/*
 * One sale-log entry, stored as the two records it stands between; the JSON
 * form (with only what changed) is rendered when it is read.
 */
struct log_entry {
	uint64_t seq;
	int64_t at;
	enum log_action action;
	char user[65];
	char request_id[33];     /* "" when not written through the API */
	int has_before;          /* 0 for a sale product's first entry */
	struct sale_product before, after;
};

#endif
