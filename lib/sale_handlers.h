#ifndef MENZZO_SALE_HANDLERS_H
#define MENZZO_SALE_HANDLERS_H

/*
 * The sale's handlers: POST acknowledge-sale and ship-sale over HTTP (their
 * entries are in the route table; their bodies: action_body.h; the rules
 * they apply: sale_rules.h).
 */

#include "cgi.h"
#include "sale_rules.h"

/*
 * The answer to a change that was not made for a reason of the sale
 * product's own: 404 not_found, 409 cancelled, refused or already_shipped,
 * with *code and *message; 0 for any other result.
 */
int action_refusal(enum action_result res, const char **code, const char **message);

#endif
