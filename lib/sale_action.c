#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "item.h"
#include "sale_action.h"

const struct field_rule action_fields[B__MAX] = {
	[B_ID] = { "menzzo_order_id", field_menzzo_order_id, "invalid_order_id",
	    "Field menzzo_order_id must be {increment_id}_{sale_product_id}, both decimal integers." },
	[B_TRACKING] = { "tracking_number", field_tracking_number, "invalid_body",
	    "Field tracking_number must be 1-64 printable ASCII characters." },
	[B_CARRIER] = { "carrier", field_carrier, "invalid_body",
	    "Field carrier must be 1-32 printable ASCII characters." },
};

int
action_body_parse(const struct request *r, enum sale_action what, struct action_body *b,
    const char **code, const char **message, char *msg, size_t msglen)
{
	int bad = -1;

	memset(b, 0, sizeof(*b));
	*code = "invalid_body";
	switch (body_parse(r, action_fields, what == ACTION_SHIP ? B__MAX : 1, b->fields, &bad)) {
	case PARSE_OK:
		break;
	case PARSE_INVALID:
		*code = action_fields[bad].code;
		*message = action_fields[bad].message;
		return -1;
	case PARSE_BAD_FIELD:
		snprintf(msg, msglen, "Field %s must be a string of at most %d bytes, given once.",
		    action_fields[bad].name, FIELD_VALUE_MAX);
		*message = msg;
		return -1;
	case PARSE_BAD_BODY:
	case PARSE_NEEDS_JSON:
		*message = "The body must be a JSON object, each member given once, or form-encoded fields "
		    "(Content-Type application/json or application/x-www-form-urlencoded).";
		return -1;
	case PARSE_NOMEM:
		*code = NULL;
		return -1;
	}
	if (!b->fields[B_ID].set) {
		*message = "Field menzzo_order_id is required.";
		return -1;
	}
	b->id = b->fields[B_ID].parsed.ref;
	b->tracking_number = b->fields[B_TRACKING].val;
	b->carrier = b->fields[B_CARRIER].val;
	return 0;
}

static void
sale_action_handle(struct cgi *c, enum sale_action what)
{
	struct action_body b;
	struct action a = { 0 };
	struct sale_product sp;
	struct json_object *o;
	const char *code, *message;
	char msg[160];
	int err = STORE_OK;
	enum action_result res;

	if (action_body_parse(&c->req, what, &b, &code, &message, msg, sizeof(msg)) != 0) {
		if (code == NULL)
			cgi_store_error(c, STORE_NOMEM);
		else
			response_error(&c->res, 400, code, message);
		goto out;
	}
	a.what = what;
	a.increment_id = b.id.increment_id;
	a.sale_product_id = b.id.sale_product_id;
	a.supplier = (int)supplier_id(c->supplier);
	a.user = c->cfg.log_user;
	a.request_id = c->res.request_id;
	a.tracking_number = b.tracking_number;
	a.carrier = b.carrier;
	a.now = c->now;
	switch ((res = sale_apply(c->store, &a, &sp, &err))) {
	case ACTION_CHANGED:
	case ACTION_UNCHANGED:
		o = action_json(&sp, res == ACTION_CHANGED);
		response_json(&c->res, 200, o);
		json_object_put(o);
		break;
	case ACTION_NOT_FOUND:
		response_error(&c->res, 404, "not_found", "No sale product of this supplier has this menzzo_order_id.");
		break;
	case ACTION_CANCELLED:
		response_error(&c->res, 409, "cancelled", "This sale product was cancelled; it cannot be "
		    "acknowledged or shipped.");
		break;
	case ACTION_FAILED:
		cgi_store_error(c, err);
		break;
	}
out:
	fields_free(b.fields, B__MAX);
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
