/* The acknowledge-sale and ship-sale handlers: a body read, the change applied, the answer. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "action_body.h"
#include "item.h"
#include "sale_action.h"

int
action_refusal(enum action_result res, const char **code, const char **message)
{
	switch (res) {
	case ACTION_NOT_FOUND:
		*code = "not_found";
		*message = "No sale product of this supplier has this menzzo_order_id.";
		return 404;
	case ACTION_CANCELLED:
		*code = "cancelled";
		*message = "This sale product was cancelled; it cannot be acknowledged, refused or shipped.";
		return 409;
	case ACTION_REFUSED:
		*code = "refused";
		*message = "This sale product was refused; it cannot be acknowledged or shipped unless Menzzo reopens it.";
		return 409;
	case ACTION_SHIPPED:
		*code = "already_shipped";
		*message = "This sale product was shipped; it can no longer be refused.";
		return 409;
	default:
		return 0;
	}
}

/* The fields of the change that come from the request, not from its body. */
static void
from_request(const struct cgi *c, struct action *a)
{
	a->supplier = (int)supplier_id(c->supplier);
	a->user = c->cfg.log_user;
	a->request_id = c->res.request_id;
	a->now = c->now;
}

static void
sale_action_handle(struct cgi *c, enum sale_action what)
{
	struct action_body b;
	struct action_item *it;
	struct sale_product sp;
	struct json_object *o;
	const char *code, *message;
	char msg[160];
	int err = STORE_OK, status;
	enum action_result res;

	if (action_body_parse(&c->req, what, &b, &code, &message, msg, sizeof(msg)) != 0) {
		if (code == NULL)
			cgi_store_error(c, STORE_NOMEM);
		else
			response_error(&c->res, 400, code, message);
		goto out;
	}
	it = &b.items[0];
	if (!it->ok) {
		if (it->code == NULL)
			cgi_store_error(c, STORE_NOMEM);
		else
			response_error(&c->res, 400, it->code, it->message);
		goto out;
	}
	from_request(c, &it->act);
	res = sale_apply(c->store, &it->act, &sp, &err);
	if (res == ACTION_CHANGED || res == ACTION_UNCHANGED) {
		o = action_json(&sp, res == ACTION_CHANGED);
		response_json(&c->res, 200, o);
		json_object_put(o);
	} else if ((status = action_refusal(res, &code, &message)) != 0)
		response_error(&c->res, status, code, message);
	else
		cgi_store_error(c, err);
out:
	action_body_free(&b);
}

void
acknowledge_sale_handle(struct cgi *c)
{
	sale_action_handle(c, ACTION_ACKNOWLEDGE);
}

void
ship_sale_handle(struct cgi *c)
{
	sale_action_handle(c, ACTION_SHIP);
}
