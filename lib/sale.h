#ifndef MENZZO_SALE_H
#define MENZZO_SALE_H

/*
 * What a sale product is: its record, its statuses, the listing views it
 * appears in, the names of each, and the sale-log entries that record its
 * changes.  What may happen to it is sale_rules.h; its JSON forms are
 * sale_json.h; the endpoints that change it, sale_handlers.h.
 */

#include <stdint.h>

#define MENZZO_ORDER_ID_MAX 41 /* 20 digits, '_', 20 digits */
#define LABEL_MAX 255
#define SKU_MAX 64
#define CARRIER_MAX 32
#define TRACKING_MAX 64
#define PRICE_CENTS_MAX 99999999999LL /* 999 999 999.99 */
#define QUANTITY_MAX 100000
#define NOTE_CHARS_MAX 500 /* a refusal's note: characters (Unicode scalar values) */
#define NOTE_MAX 2000 /* ... and bytes of UTF-8: 4 a character at most */
#define PACKAGES_MAX 50
#define LOCATION_CHARS_MAX 100 /* a tracking event's location: characters of UTF-8 ... */
#define LOCATION_MAX 400       /* ... and bytes */
#define TRACKING_EVENTS_MAX 50 /* the carrier events of one update-tracking request (or batch item) */
#define SHIP_DATE_AHEAD_MAX 365 /* an estimated ship date: today to this many days ahead */

/* Stored in records: values are never renumbered. */
enum sale_status {
	STATUS_PENDING,
	STATUS_ACKNOWLEDGED,
	STATUS_SHIPPED,
	STATUS_CANCELLED,
	STATUS_REFUSED,     /* the supplier cannot fulfil it (acknowledge-sale with accepted false) */
	STATUS__MAX
};

/*
 * A listing view, and the get-sales status filter: the statuses, plus open
 * (pending or acknowledged) and all.  The value is stored in listing keys:
 * refused came after open and all, and is not its status's value.
 */
enum status_filter {
	FILTER_PENDING = STATUS_PENDING,
	FILTER_ACKNOWLEDGED = STATUS_ACKNOWLEDGED,
	FILTER_SHIPPED = STATUS_SHIPPED,
	FILTER_CANCELLED = STATUS_CANCELLED,
	FILTER_OPEN,
	FILTER_ALL,
	FILTER_REFUSED,
	FILTER__MAX
};

/* Why a supplier refused a sale product; REASON_NONE while it is not refused.  Stored: never renumber. */
enum refusal_reason {
	REASON_NONE,
	REASON_OUT_OF_STOCK,
	REASON_DISCONTINUED,
	REASON_PRICE_ERROR,
	REASON_CANNOT_DELIVER,
	REASON_OTHER,
	REASON__MAX
};

/*
 * What the carrier last said of a shipment (update-tracking); DELIVERY_NONE
 * before it said anything.  Stored in records and tracking keys: never
 * renumber.
 */
enum delivery_status {
	DELIVERY_NONE,
	DELIVERY_IN_TRANSIT,
	DELIVERY_OUT_FOR_DELIVERY,
	DELIVERY_DELIVERED,
	DELIVERY_FAILED,
	DELIVERY_RETURNED,
	DELIVERY__MAX
};

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
	int64_t refused_at;                     /* 0 = not refused */
	enum refusal_reason reason;             /* REASON_NONE unless refused */
	uint32_t estimated_ship_date;           /* days since 1970-01-01, promised by the supplier; 0 = none */
	enum delivery_status delivery_status;   /* the latest carrier event's (by its time); DELIVERY_NONE = none */
	int64_t delivered_at;                   /* the latest "delivered" carrier event's time; 0 = none */
	char note[NOTE_MAX + 1];                /* the refusal's note, UTF-8; "" = none (the last member) */
};

/* One parcel of a shipment, as ship-sale's packages name it. */
struct package {
	char tracking_number[TRACKING_MAX + 1];
	char carrier[CARRIER_MAX + 1];          /* the order's carrier when the supplier named none */
};

/*
 * One carrier event of a shipment (update-tracking): stored once per
 * (tracking number, status, time), in the tracking database.
 */
struct tracking_event {
	int64_t at;                             /* when the carrier saw it */
	enum delivery_status status;            /* never DELIVERY_NONE */
	char tracking_number[TRACKING_MAX + 1]; /* "" = the whole shipment */
	char location[LOCATION_MAX + 1];        /* UTF-8; "" = none */
};

/* The carrier events of one request. */
struct tracking_list {
	unsigned n;                             /* 1 .. TRACKING_EVENTS_MAX */
	struct tracking_event e[TRACKING_EVENTS_MAX];
};

/* The parcels of a shipment (the shipment database keeps them beside the record). */
struct package_list {
	unsigned n;                             /* 0 .. PACKAGES_MAX */
	struct package p[PACKAGES_MAX];
};

/*
 * The one rule of the listing: a sale product of this status is listed in
 * this view (all; its own status; open while pending or acknowledged, so
 * never when refused).  Index upkeep, get-sales and the integrity check
 * all ask here.
 */
int sale_in_view(enum sale_status status, enum status_filter view);

#define SALE_VIEWS_MAX 3
/* Fills views with every view a sale product of this status is listed in; returns how many. */
int sale_views(enum sale_status status, unsigned views[SALE_VIEWS_MAX]);

/* "out_of_stock", ...; "" for REASON_NONE, "unknown" for a value out of range. */
const char *refusal_reason_name(enum refusal_reason r);

/* "in_transit", ...; "" for DELIVERY_NONE, "unknown" for a value out of range. */
const char *delivery_status_name(enum delivery_status d);

/* "pending", ..., or "unknown" for a value out of range. */
const char *status_name(enum sale_status s);
/* "pending", ..., "open", "all", or "unknown". */
const char *status_filter_name(enum status_filter f);

/* Every name of a table, comma-separated ("pending, acknowledged, ..."), cut to fit out[0..len): what a "must be one of" sentence lists. */
void status_names_join(char *out, size_t len);
void status_filter_names_join(char *out, size_t len);
void refusal_reason_names_join(char *out, size_t len);  /* the reasons a refusal may give: not REASON_NONE's "" */
void delivery_status_names_join(char *out, size_t len); /* the statuses a carrier event may give */

/* Stored in sale-log entries: values are never renumbered. */
enum log_action {
	LOG_IMPORTED, LOG_UPDATED, LOG_ACKNOWLEDGED, LOG_SHIPPED, LOG_CANCELLED, LOG_REFUSED, LOG_REOPENED,
	LOG_SHIP_DATE_CHANGED, LOG_TRACKING_UPDATED, LOG__MAX
};

/* "imported", "updated", ...; "unknown" for a value out of range. */
const char *log_action_name(enum log_action a);

#define LOG_USER_MAX 64
#define REQUEST_ID_MAX 32

/*
 * One sale-log entry, stored as the two records it stands between; the JSON
 * form (with only what changed) is rendered when it is read.
 */
struct log_entry {
	uint64_t seq;
	int64_t at;
	enum log_action action;
	char user[LOG_USER_MAX + 1];
	char request_id[REQUEST_ID_MAX + 1]; /* "" when not written through the API */
	int has_before;                      /* 0 for a sale product's first entry */
	struct sale_product before, after;
};

#endif
