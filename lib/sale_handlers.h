#ifndef MENZZO_SALE_HANDLERS_H
#define MENZZO_SALE_HANDLERS_H

/*
 * The sale's handlers: POST acknowledge-sale, ship-sale and update-tracking over HTTP (their
 * entries are in the route table; their bodies: action_body.h; the rules
 * they apply: sale_rules.h).
 */

#include "cgi.h"
#include "sale_rules.h"

/*
 * The answer to a change that was not made for a reason of the sale
 * product's own: 404 not_found, 409 cancelled, refused, already_shipped,
 * not_shipped, unknown_parcel or too_many_parcels,
 * with *code and *message; 0 for any other result.
 */
int action_refusal(enum action_result res, const char **code, const char **message);

#endif
