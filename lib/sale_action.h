#ifndef MENZZO_SALE_ACTION_H
#define MENZZO_SALE_ACTION_H

#include "cgi.h"
#include "sales.h"

/*
 * The body of POST acknowledge-sale and ship-sale: reads menzzo_order_id
 * (and, for ship, tracking_number and carrier) from a JSON or form body and
 * applies the change for the executable's supplier.
 * Raises 400 on a malformed body, id or field, 404 for an id unknown to this
 * supplier, 409 when cancelled, 503 when the store is full or unavailable,
 * 200 with the sale product's state on success or on a repeat.
 */
void sale_action_handle(struct cgi *c, enum sale_action what);

#endif
