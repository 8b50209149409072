#include <stdio.h>

#include <json-c/json.h>

#include "sale_action.h"

enum { B_ID, B_TRACKING, B_CARRIER, B__MAX };
static const char *const body_names[B__MAX] = { "menzzo_order_id", "tracking_number", "carrier" };

void
sale_action_handle(struct cgi *c, enum sale_action what)
{
	struct field f[B__MAX] = { { 0, NULL, 0 } };
	struct action a = { 0 };
	struct sale_product sp;
	struct json_object *o;
	char msg[160], id[MENZZO_ORDER_ID_MAX + 1];
	int bad = -1, err = STORE_OK;
	enum action_result res;
	size_t nfields = what == ACTION_SHIP ? B__MAX : 1;

	switch (body_parse(&c->req, body_names, nfields, f, &bad)) {
	case PARSE_OK:
		break;
	case PARSE_BAD_FIELD:
		snprintf(msg, sizeof(msg), "Field %s must be a string of at most %d bytes, given once.",
		    body_names[bad], FIELD_VALUE_MAX);
		response_error(&c->res, 400, "invalid_body", msg);
		goto out;
	case PARSE_BAD_BODY:
		response_error(&c->res, 400, "invalid_body", "The body must be a JSON object or "
		    "form-encoded fields (Content-Type application/json or application/x-www-form-urlencoded).");
		goto out;
	case PARSE_NOMEM:
		cgi_store_error(c, STORE_NOMEM);
		goto out;
	}
	if (!f[B_ID].set) {
		response_error(&c->res, 400, "invalid_body", "Field menzzo_order_id is required.");
		goto out;
	}
	if (parse_menzzo_order_id(f[B_ID].val, f[B_ID].len, &a.increment_id, &a.sale_product_id)) {
		response_error(&c->res, 400, "invalid_order_id",
		    "Field menzzo_order_id must be {increment_id}_{sale_product_id}, both decimal integers.");
		goto out;
	}
	if (f[B_TRACKING].set && valid_text(f[B_TRACKING].val, f[B_TRACKING].len, TRACKING_MAX)) {
		response_error(&c->res, 400, "invalid_body",
		    "Field tracking_number must be 1-64 printable ASCII characters.");
		goto out;
	}
	if (f[B_CARRIER].set && valid_text(f[B_CARRIER].val, f[B_CARRIER].len, CARRIER_MAX)) {
		response_error(&c->res, 400, "invalid_body",
		    "Field carrier must be 1-32 printable ASCII characters.");
		goto out;
	}
	a.what = what;
	a.supplier = (int)supplier_id(c->supplier);
	a.user = c->cfg.log_user;
	a.request_id = c->res.request_id;
	a.tracking_number = f[B_TRACKING].val;
	a.carrier = f[B_CARRIER].val;
	a.now = c->now;
	switch ((res = sale_apply(c->store, &a, &sp, &err))) {
	case ACTION_CHANGED:
	case ACTION_UNCHANGED:
		break;
	case ACTION_NOT_FOUND:
		response_error(&c->res, 404, "not_found", "No sale product of this supplier has this menzzo_order_id.");
		goto out;
	case ACTION_CANCELLED:
		response_error(&c->res, 409, "cancelled", "This sale product was cancelled; it cannot be "
		    "acknowledged or shipped.");
		goto out;
	case ACTION_FAILED:
		cgi_store_error(c, err);
		goto out;
	}
	format_menzzo_order_id(sp.increment_id, sp.sale_product_id, id);
	o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(1));
	json_object_object_add(o, "menzzo_order_id", json_object_new_string(id));
	json_object_object_add(o, "status", json_object_new_string(status_name(sp.status)));
	json_object_object_add(o, "acknowledged_at", timestamp_json(sp.acknowledged_at));
	json_object_object_add(o, "prepared_at", timestamp_json(sp.prepared_at));
	json_object_object_add(o, "changed", json_object_new_boolean(res == ACTION_CHANGED));
	response_json(&c->res, 200, o);
	json_object_put(o);
out:
	fields_free(f, B__MAX);
}
