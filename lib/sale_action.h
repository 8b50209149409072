#ifndef MENZZO_SALE_ACTION_H
#define MENZZO_SALE_ACTION_H

/* POST acknowledge-sale and ship-sale: their body table and their handlers. */

#include "cgi.h"
#include "sales.h"

enum action_field { B_ID, B_TRACKING, B_CARRIER, B__MAX };
/* The whitelist of POST body fields: menzzo_order_id (both), tracking_number and carrier (ship only). */
extern const struct field_rule action_fields[B__MAX];

/* A POST body, validated. */
struct action_body {
	struct order_ref id;
	const char *tracking_number, *carrier; /* NULL when absent; point into fields */
	struct field fields[B__MAX];           /* free with fields_free */
};

/*
 * Parses the body of an acknowledge (fields: menzzo_order_id) or a ship
 * (and tracking_number, carrier) against action_fields.  Returns 0, or -1
 * with *code and *message set to the 400 to send (constant strings, or msg).
 * Free b->fields with fields_free in both cases.
 */
int action_body_parse(const struct request *r, enum sale_action what, struct action_body *b,
    const char **code, const char **message, char *msg, size_t msglen);

/*
 * The handlers: read the body and apply the change for the executable's
 * supplier.  Raise 400 on a malformed body, id or field, 404 for an id
 * unknown to this supplier, 409 when cancelled, 503 when the store is full
 * or unavailable, 200 with the sale product's state on success or on a
 * repeat.
 */
void acknowledge_sale_handle(struct cgi *c);
void ship_sale_handle(struct cgi *c);

#endif
