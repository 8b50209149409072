#ifndef MENZZO_SALE_JSON_H
#define MENZZO_SALE_JSON_H

/*
 * The JSON forms of a sale product, all rendered by json-c (with
 * response.c, the only renderers): the get-sales item and its stored form,
 * the full record of `menzzo-admin show`, a sale-log entry, an outbox
 * event, and the body of an acknowledge or ship.
 *
 * The stored item: the listing index keeps each sale product's get-sales
 * item rendered when the sale product changes, as a format byte (1) and
 * three 16-bit-length-prefixed parts: the label, the JSON members before
 * link_to_label (with the opening brace), and those after it (with the
 * closing brace).  The link's prefix depends on MENZZO_BASE_URL, known only
 * when a request is answered; item_compose joins the parts with it.  Items
 * of older formats are still read, composed with the members they lack
 * null, which they can only have been: format 1 (schema-3 stores: no
 * format byte, no refused_at), format 2 (byte 1, schemas 4 and 5: no
 * estimated_ship_date, delivery_status, delivered_at); format 3 is byte 2.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "sale.h"

struct json_object;

/* An ISO 8601 UTC timestamp string, or NULL (JSON null) for 0. */
struct json_object *timestamp_json(int64_t t);

/* Renders sp's stored item into out (replacing its content); 0, or -1 when memory runs out. */
int item_render(const struct sale_product *sp, struct buf *out);
/* The JSON-encoded start of every label link (MENZZO_BASE_URL/api/files/, opening quote included). */
void item_link_prefix(const struct config *cfg, struct buf *out);
/* Appends the item of a stored value with its link; -1 when the value does not decode. */
int item_compose(const void *value, size_t len, const struct buf *link_prefix, struct buf *out);
/* 1 when two stored values compose to the same item (whatever their formats), else 0. */
int item_equivalent(const void *a, size_t alen, const void *b, size_t blen);

/* Every stored field, for `menzzo-admin show` and the sale log. */
struct json_object *sale_full_json(const struct sale_product *sp);
/* A sale-log entry: seq, at, user, action, request_id (API changes), and what changed ("before"/"after"). */
struct json_object *log_entry_json(const struct log_entry *e);
/*
 * The parcels of sp's shipment as a JSON array of {tracking_number,
 * carrier}: the stored list when one was named (stored not NULL), else the
 * one parcel the record's tracking number and carrier name (the order's
 * carrier when the shipment named none), else none.
 */
struct json_object *packages_json(const struct sale_product *sp, const struct package_list *stored);
/* The row of the supplier a sale event (one with a menzzo_order_id) names, or -1 (a stock event, or none). */
int event_sale_supplier(struct json_object *event);
/* A carrier event: {status, at, tracking_number, location} (null where it has none). */
struct json_object *tracking_event_json(const struct tracking_event *e);
/*
 * Renders outbox event seq of this type ("sale.shipped") for sp at now into
 * out (replacing its content): a shipment's carries its packages (stored:
 * the list named, or NULL), a refusal's its reason and note; the estimated
 * ship date when there is one, and old_estimated_ship_date when it differs
 * from old's (old may be NULL); the delivery once a carrier event came;
 * the carrier events added (added, when not NULL).  0, or -1 when memory
 * runs out.
 */
int event_render(uint64_t seq, const char *type, const struct sale_product *old, const struct sale_product *sp,
    const struct package_list *packages, const struct tracking_list *added, int64_t now, struct buf *out);
/*
 * The body of a successful acknowledge, refusal, ship or tracking update:
 * success, menzzo_order_id, status, timestamps, changed; then
 * estimated_ship_date when it has one; refused_at, reason and note when
 * it is refused; delivery_status and delivered_at when it is shipped and a
 * carrier event came (the seed's answer is exactly the seed's until then).
 */
struct json_object *action_json(const struct sale_product *sp, int changed);

#endif
