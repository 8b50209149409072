/* The acknowledge-sale, ship-sale and update-tracking handlers: a body read, the change (or a batch's) applied, the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "action_body.h"
#include "sale_json.h"
#include "sale_handlers.h"

int
action_refusal(enum action_result res, const char **code, const char **message)
{
	switch (res) {
	case RESULT_NOT_FOUND:
		*code = "not_found";
		*message = "No sale product of this supplier has this menzzo_order_id.";
		return 404;
	case RESULT_CANCELLED:
		*code = "cancelled";
		*message = "This sale product was cancelled; it cannot be acknowledged, refused or shipped.";
		return 409;
	case RESULT_REFUSED:
		*code = "refused";
		*message = "This sale product was refused; it cannot be acknowledged or shipped unless Menzzo reopens it.";
		return 409;
	case RESULT_SHIPPED:
		*code = "already_shipped";
		*message = "This sale product was shipped; it can no longer be refused, nor its ship date changed.";
		return 409;
	case RESULT_NOT_SHIPPED:
		*code = "not_shipped";
		*message = "This sale product is not shipped; carrier events come after ship-sale.";
		return 409;
	case RESULT_UNKNOWN_PARCEL:
		*code = "unknown_parcel";
		*message = "An event names a tracking number that is not a parcel of this shipment; add it with packages.";
		return 409;
	case RESULT_TOO_MANY_PARCELS:
		*code = "too_many_parcels";
		*message = "A shipment has at most 50 parcels.";
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

/* The result of one item of a batch that failed: success false, the id as sent, and the single request's error. */
static struct json_object *
item_failure(const char *id_sent, const char *code, const char *message)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "success", json_object_new_boolean(0));
	json_object_object_add(o, "menzzo_order_id", id_sent ? json_object_new_string(id_sent) : NULL);
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "error", json_object_new_string(message));
	return o;
}

/*
 * A batch: every valid item applied in one transaction, then one result
 * per item in request order, a success the body its single request would
 * have had.  Raises 503 for the whole batch when the store fails (nothing
 * written), else 200.
 */
static void
batch_handle(struct cgi *c, struct action_body *b)
{
	struct action *acts = calloc(b->n, sizeof(*acts));
	struct action_outcome *outs = calloc(b->n, sizeof(*outs));
	struct json_object *o = NULL, *results;
	const char *code = "internal_error", *message = "An internal error occurred; quote the request id to support.";
	size_t k = 0;
	int err = STORE_OK, all = 1;

	if (acts == NULL || outs == NULL) {
		cgi_store_error(c, STORE_NOMEM);
		goto out;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (b->items[i].ok) {
			acts[k] = b->items[i].act;
			from_request(c, &acts[k++]);
		} else if (b->items[i].code == NULL) {
			cgi_store_error(c, STORE_NOMEM);
			goto out;
		}
	}
	if (k > 0 && sale_apply_all(c->store, acts, k, outs, &err) == RESULT_FAILED) {
		cgi_store_error(c, err);
		goto out;
	}
	o = json_object_new_object();
	results = json_object_new_array_ext((int)b->n);
	k = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct action_item *it = &b->items[i];
		struct action_outcome *r = it->ok ? &outs[k++] : NULL;

		if (r != NULL && (r->res == RESULT_CHANGED || r->res == RESULT_UNCHANGED)) {
			json_object_array_add(results, action_json(&r->sp, r->res == RESULT_CHANGED));
			continue;
		}
		all = 0;
		if (r != NULL)
			action_refusal(r->res, &code, &message);
		else {
			code = it->code;
			message = it->message;
		}
		json_object_array_add(results, item_failure(it->id_sent, code, message));
	}
	json_object_object_add(o, "success", json_object_new_boolean(all));
	json_object_object_add(o, "results", results);
	response_json(&c->res, 200, o);
out:
	json_object_put(o);
	free(acts);
	free(outs);
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

	if (action_body_parse(&c->req, what, c->now, &b, &code, &message, msg, sizeof(msg)) != 0) {
		if (code == NULL)
			cgi_store_error(c, STORE_NOMEM);
		else
			response_error(&c->res, 400, code, message);
		goto out;
	}
	if (b.batch) {
		batch_handle(c, &b);
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
	if (res == RESULT_CHANGED || res == RESULT_UNCHANGED) {
		o = action_json(&sp, res == RESULT_CHANGED);
		response_json(&c->res, 200, o);
		json_object_put(o);
	} else if ((status = action_refusal(res, &code, &message)) != 0)
		response_error(&c->res, status, code, message);
	else
		cgi_store_error(c, err);
out:
	action_body_free(&b);
}

/*
 * POST acknowledge-sale and ship-sale: read the body and apply the change
 * for the program's supplier.  Raise 400 on a malformed body, id or field,
 * 404 for an id unknown to this supplier, 409 when cancelled, refused
 * (acknowledging or shipping it) or shipped (refusing it), 503 when the
 * store is full or unavailable, 200 with the sale product's state on
 * success or on a repeat.  acknowledge-sale with "accepted": false
 * refuses.  A batch, {"items": [...]}, is applied in one transaction: 200
 * with one result per item (each success the body its single request would
 * have had, each failure {"success": false, "menzzo_order_id", "code",
 * "error"} with the single request's code and sentence), 400 for a body
 * that is no valid batch, 503 for the whole batch when the store is full or
 * unavailable.
 */
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

/*
 * POST update-tracking: carrier events of a shipped sale product (and
 * parcels to add), each stored once; the same answers as ship-sale's, 409
 * not_shipped for one that is not shipped, unknown_parcel for an event of
 * a tracking number the shipment has not, too_many_parcels past 50.
 */
void
update_tracking_handle(struct cgi *c)
{
	sale_action_handle(c, ACTION_TRACK);
}
