#ifndef MENZZO_SALE_ACTION_H
#define MENZZO_SALE_ACTION_H

/* POST acknowledge-sale and ship-sale: their handlers (their bodies: action_body.h). */

#include "cgi.h"
#include "sales.h"

/*
 * The answer to a change that was not made for a reason of the sale
 * product's own: 404 not_found, 409 cancelled, refused or already_shipped,
 * with *code and *message; 0 for any other result.
 */
int action_refusal(enum action_result res, const char **code, const char **message);

/*
 * The handlers: read the body and apply the change for the executable's
 * supplier.  Raise 400 on a malformed body, id or field, 404 for an id
 * unknown to this supplier, 409 when cancelled, refused (acknowledging or
 * shipping it) or shipped (refusing it), 503 when the store is full or
 * unavailable, 200 with the sale product's state on success or on a
 * repeat.  acknowledge-sale with "accepted": false refuses.  A batch,
 * {"items": [...]}, is applied in one transaction: 200 with one result per
 * item (each success the body its single request would have had, each
 * failure {"success": false, "menzzo_order_id", "code", "error"} with the
 * single request's code and sentence), 400 for a body that is no valid
 * batch, 503 for the whole batch when the store is full or unavailable.
 */
void acknowledge_sale_handle(struct cgi *c);
void ship_sale_handle(struct cgi *c);

#endif
