#ifndef MENZZO_SALES_H
#define MENZZO_SALES_H

/*
 * The business rules of a sale product: its JSON forms, the state changes
 * acknowledge / ship / cancel, and the import upsert.  Each change writes the
 * record, one sale-log entry, one event where one is due, and bumps the
 * supplier's cache generation, in one write transaction.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "sale.h"
#include "store.h"

struct json_object;

/* An ISO 8601 UTC timestamp string, or NULL (JSON null) for 0. */
struct json_object *timestamp_json(int64_t t);
/*
 * The get-sales item (the seed's fields plus status and timestamps) in its
 * stored form, kept in the listing index: the label
 * and the item's JSON, rendered by json-c when the sale product changes, in
 * two parts around link_to_label (which depends on MENZZO_BASE_URL).
 * Returns 0, or -1 when memory runs out.
 */
int sale_item_value(const struct sale_product *sp, struct buf *out);
/* The JSON-encoded start of every label link (MENZZO_BASE_URL/api/files/, opening quote included). */
void sale_link_prefix(const struct config *cfg, struct buf *out);
/* Appends the item JSON of a stored value, with its link; -1 when the value does not decode. */
int sale_item_compose(const void *value, size_t len, const struct buf *link_prefix, struct buf *out);
/* Every stored field, for `menzzo-admin show` and the sale log. */
struct json_object *sale_full_json(const struct sale_product *sp);
/* A sale-log entry: seq, at, user, action, request_id (API changes), and what changed ("before"/"after"). */
struct json_object *log_entry_json(const struct log_entry *e);

enum sale_action { ACTION_ACKNOWLEDGE, ACTION_SHIP, ACTION_CANCEL };

struct action {
	enum sale_action what;
	uint64_t increment_id, sale_product_id;
	int supplier;              /* supplier id the caller speaks for; -1 = any (menzzo-admin) */
	const char *user;          /* sale-log user */
	const char *request_id;    /* written in the log entry; may be NULL */
	const char *tracking_number, *carrier; /* ship only; may be NULL */
	int64_t now;
};

enum action_result {
	ACTION_CHANGED,
	ACTION_UNCHANGED,  /* a repeat: 200, "changed": false */
	ACTION_NOT_FOUND,  /* unknown, another order's, or another supplier's: 404 */
	ACTION_CANCELLED,  /* 409 */
	ACTION_FAILED,     /* store error in *err: 503 or 500 */
};

/* Applies a state change; *out is the sale product after it (also when unchanged). */
enum action_result sale_apply(struct store *s, const struct action *a, struct sale_product *out, int *err);

/* One line of `menzzo-admin import`, parsed and validated. */
struct import_line {
	struct sale_product sp;   /* status, timestamps filled as the line says */
	int has_label, has_status;
	struct buf item;          /* optional: sp's listing item (sale_item_value), rendered ahead */
};

/*
 * Parses one JSON Lines record.  Returns 0, or -1 with a reason in err
 * (no line number, no input echoed beyond a field name).
 */
int import_parse_line(const char *line, size_t len, int64_t now, struct import_line *out,
    char *err, size_t errlen);

/*
 * Upserts a parsed line by sale_product_id (using l->item when it is set and
 * still what the merged record shows), writing its sale-log entry (and
 * an event for a cancellation).  The caller bumps the cache generation of
 * each supplier it changed, once per transaction.  Returns 1 when something
 * changed, 0 when not, -1 with a reason in err when the line contradicts the
 * stored record (another order or supplier), or -2 on a store error (*store_err).
 */
int import_apply(struct store_txn *t, const struct import_line *l, int64_t now, const char *user,
    char *err, size_t errlen, int *store_err);

#endif
