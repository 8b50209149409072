/*
 * Batch bodies, {"items": [...]}, of acknowledge-sale, ship-sale and
 * update-tracking: action_body_parse on the input as a JSON request body,
 * for the three endpoints, with FUZZ_NOW as its clock.  A body taken as a
 * batch has 1 to BATCH_MAX items, one per element of its items array, and
 * nothing beside items; every item reads exactly as the same object sent
 * alone would (the same success and change: ids, refusal, ship date,
 * tracking number and carrier, packages, carrier events; or the same code
 * and sentence): a batch is its requests, parsed by the same table.
 */
#include <json-c/json.h>

#include "action_body.h"
#include "request.h"

#include "fuzz.h"

static void
request_of(struct request *req, const char *body, size_t len)
{
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->query = "";
	req->path_info = "";
	req->content_type = "application/json";
	req->content_length = (long long)len;
	req->body = fuzz_cstr((const uint8_t *)body, len);
	req->body_len = len;
}

static int
same_text(const char *a, const char *b)
{
	return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

static int
same_packages(const struct package_list *a, const struct package_list *b)
{
	if ((a == NULL) != (b == NULL))
		return 0;
	if (a == NULL)
		return 1;
	if (a->n != b->n)
		return 0;
	for (unsigned i = 0; i < a->n; i++)
		if (strcmp(a->p[i].tracking_number, b->p[i].tracking_number) != 0 ||
		    strcmp(a->p[i].carrier, b->p[i].carrier) != 0)
			return 0;
	return 1;
}

static int
same_events(const struct tracking_list *a, const struct tracking_list *b)
{
	if ((a == NULL) != (b == NULL))
		return 0;
	if (a == NULL)
		return 1;
	if (a->n != b->n)
		return 0;
	for (unsigned i = 0; i < a->n; i++)
		if (a->e[i].status != b->e[i].status || a->e[i].at != b->e[i].at ||
		    strcmp(a->e[i].tracking_number, b->e[i].tracking_number) != 0 ||
		    strcmp(a->e[i].location, b->e[i].location) != 0)
			return 0;
	return 1;
}

/* Item it of a batch against the same object (without items) sent alone. */
static void
check_item(enum sale_action what, struct json_object *element, const struct action_item *it)
{
	struct json_object *copy = NULL;
	struct action_body single;
	struct request req;
	const char *code, *message, *text;
	char msg[200];
	size_t len;
	int rc;

	CHECK(json_object_deep_copy(element, &copy, NULL) == 0);
	json_object_object_del(copy, "items");
	text = json_object_to_json_string_length(copy, JSON_C_TO_STRING_PLAIN, &len);
	request_of(&req, text, len);
	rc = action_body_parse(&req, what, FUZZ_NOW, &single, &code, &message, msg, sizeof(msg));
	if (rc != 0 && code == NULL)
		goto out; /* out of memory */
	CHECK(rc == 0 && !single.batch && single.n == 1);
	/* Memory ran out reading one of them (code NULL on a failed item): nothing to compare. */
	if ((!single.items[0].ok && single.items[0].code == NULL) || (!it->ok && it->code == NULL))
		goto out;
	CHECK(single.items[0].ok == it->ok);
	CHECK(same_text(single.items[0].id_sent, it->id_sent));
	if (!it->ok) {
		CHECK(strcmp(single.items[0].code, it->code) == 0 && strcmp(single.items[0].message, it->message) == 0);
		goto out;
	}
	CHECK(single.items[0].act.what == it->act.what);
	CHECK(single.items[0].act.increment_id == it->act.increment_id);
	CHECK(single.items[0].act.sale_product_id == it->act.sale_product_id);
	CHECK(single.items[0].act.reason == it->act.reason && same_text(single.items[0].act.note, it->act.note));
	CHECK(same_text(single.items[0].act.tracking_number, it->act.tracking_number));
	CHECK(same_text(single.items[0].act.carrier, it->act.carrier));
	CHECK(same_packages(single.items[0].act.packages, it->act.packages));
	CHECK(single.items[0].act.ship_date == it->act.ship_date);
	CHECK(same_events(single.items[0].act.tracking, it->act.tracking));
out:
	action_body_free(&single);
	free(req.body);
	json_object_put(copy);
}

static void
one_endpoint(enum sale_action what, const char *body, size_t len, struct json_object *tree)
{
	struct action_body b;
	struct request req;
	struct json_object *items = NULL;
	const char *code = NULL, *message = NULL;
	char msg[200];
	int rc;

	request_of(&req, body, len);
	rc = action_body_parse(&req, what, FUZZ_NOW, &b, &code, &message, msg, sizeof(msg));
	if (rc != 0) {
		CHECK(code == NULL || (message != NULL && message[0] != '\0'));
		goto out;
	}
	CHECK(b.n >= 1 && b.n <= BATCH_MAX && (b.batch || b.n == 1));
	if (!b.batch)
		goto out;
	/* A batch: an object whose items is an array of as many objects, and nothing of a request beside it. */
	CHECK(tree != NULL && json_object_object_get_ex(tree, "items", &items));
	CHECK(json_object_is_type(items, json_type_array) && json_object_array_length(items) == b.n);
	CHECK(!json_object_object_get_ex(tree, "menzzo_order_id", NULL));
	for (size_t i = 0; i < b.n; i++) {
		struct json_object *e = json_object_array_get_idx(items, i);

		CHECK(json_object_is_type(e, json_type_object));
		check_item(what, e, &b.items[i]);
	}
out:
	action_body_free(&b);
	free(req.body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(8);
	struct json_object *tree;

	if (tok == NULL)
		return 0;
	/* The tree json-c makes of the same text, for the checks; the parser under test reads the bytes. */
	tree = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(tree);
		tree = NULL;
	}
	json_tokener_free(tok);
	one_endpoint(ACTION_ACKNOWLEDGE, (const char *)data, size, tree);
	one_endpoint(ACTION_SHIP, (const char *)data, size, tree);
	one_endpoint(ACTION_TRACK, (const char *)data, size, tree);
	json_object_put(tree);
	return 0;
}
