/*
 * The bodies of acknowledge-sale, ship-sale and update-tracking: the
 * whitelist of each, and the rules across fields (a refusal needs a
 * reason, a date is judged against today) that no single field's
 * validator can see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action_body.h"

#define SHIP_DATE_SENTENCE "Field estimated_ship_date must be a date YYYY-MM-DD from today to 365 days ahead (UTC)."
#define ITEMS_SENTENCE "Field items must be an array of 1 to 100 objects, each the fields of one request."
#define ID_RULE { "menzzo_order_id", field_menzzo_order_id, "invalid_order_id", \
	"Field menzzo_order_id must be {increment_id}_{sale_product_id}, both decimal integers." }

const struct field_rule ack_fields[A__MAX] = {
	[A_ID] = ID_RULE,
	[A_ACCEPTED] = { "accepted", field_boolean, "invalid_body",
	    "Field accepted must be true or false (in JSON a boolean, not a string), given once.",
	    .kind = FIELD_BOOLEAN },
	[A_REASON] = { "reason", field_reason, "invalid_body", "Field reason must be one of",
	    .one_of = refusal_reason_names_join },
	[A_NOTE] = { "note", field_note, "invalid_body",
	    "Field note must be 1-500 characters of UTF-8 without control characters.", .max_len = NOTE_MAX },
	[A_SHIP_DATE] = { "estimated_ship_date", field_date, "invalid_body", SHIP_DATE_SENTENCE },
	[A_ITEMS] = { "items", NULL, "invalid_body", ITEMS_SENTENCE, .kind = FIELD_ARRAY,
	    .element = ack_fields, .element_rules = A_ITEMS, .min_items = 1, .max_items = BATCH_MAX },
};

const struct field_rule ship_fields[S__MAX] = {
	[S_ID] = ID_RULE,
	[S_TRACKING] = { "tracking_number", field_tracking_number, "invalid_body",
	    "Field tracking_number must be 1-64 printable ASCII characters." },
	[S_CARRIER] = { "carrier", field_carrier, "invalid_body",
	    "Field carrier must be 1-32 printable ASCII characters." },
	[S_PACKAGES] = { "packages", NULL, "invalid_body", "Field packages must be an array of 1 to 50 objects "
	    "{\"tracking_number\": ..., \"carrier\": ...}, given once.", .kind = FIELD_ARRAY,
	    .element = package_fields, .element_rules = PKG__MAX, .min_items = 1, .max_items = PACKAGES_MAX },
	[S_ITEMS] = { "items", NULL, "invalid_body", ITEMS_SENTENCE, .kind = FIELD_ARRAY,
	    .element = ship_fields, .element_rules = S_ITEMS, .min_items = 1, .max_items = BATCH_MAX },
};

const struct field_rule package_fields[PKG__MAX] = {
	[PKG_TRACKING] = { "tracking_number", field_tracking_number, "invalid_body",
	    "A package's tracking_number must be 1-64 printable ASCII characters." },
	[PKG_CARRIER] = { "carrier", field_carrier, "invalid_body",
	    "A package's carrier must be 1-32 printable ASCII characters." },
};

const struct field_rule track_fields[T__MAX] = {
	[T_ID] = ID_RULE,
	[T_EVENTS] = { "events", NULL, "invalid_body", "Field events must be an array of 1 to 50 carrier events "
	    "{\"status\": ..., \"at\": ..., \"tracking_number\": ..., \"location\": ...}, given once.",
	    .kind = FIELD_ARRAY, .element = event_fields, .element_rules = EV__MAX, .min_items = 1,
	    .max_items = TRACKING_EVENTS_MAX },
	[T_PACKAGES] = { "packages", NULL, "invalid_body", "Field packages must be an array of 1 to 50 objects "
	    "{\"tracking_number\": ..., \"carrier\": ...}, given once.", .kind = FIELD_ARRAY,
	    .element = package_fields, .element_rules = PKG__MAX, .min_items = 1, .max_items = PACKAGES_MAX },
	[T_ITEMS] = { "items", NULL, "invalid_body", ITEMS_SENTENCE, .kind = FIELD_ARRAY,
	    .element = track_fields, .element_rules = T_ITEMS, .min_items = 1, .max_items = BATCH_MAX },
};

const struct field_rule event_fields[EV__MAX] = {
	[EV_STATUS] = { "status", field_delivery_status, "invalid_body", "An event's status must be one of",
	    .one_of = delivery_status_names_join },
	[EV_AT] = { "at", field_timestamp, "invalid_body",
	    "An event's at must be a UTC time YYYY-MM-DDThh:mm:ssZ, from 2000-01-01 to a day ahead of the server's clock." },
	[EV_TRACKING] = { "tracking_number", field_tracking_number, "invalid_body",
	    "An event's tracking_number must be 1-64 printable ASCII characters." },
	[EV_LOCATION] = { "location", field_location, "invalid_body",
	    "An event's location must be 1-100 characters of UTF-8 without control characters.",
	    .max_len = LOCATION_MAX },
};

static void
fail(struct action_item *it, const char *code, const char *message)
{
	it->ok = 0;
	it->code = code;
	it->message = message;
}

/* The 400 of a field that could not be read (res PARSE_BAD_FIELD, PARSE_NEEDS_JSON) or that its validator refused. */
static void
field_fault(struct action_item *it, const struct field_rule *rule, enum parse_result res)
{
	if (res == PARSE_INVALID || (res == PARSE_BAD_FIELD && rule->kind != FIELD_TEXT)) {
		fail(it, res == PARSE_INVALID ? rule->code : "invalid_body", field_message(rule, it->msg, sizeof(it->msg)));
		return;
	}
	if (res == PARSE_NEEDS_JSON)
		snprintf(it->msg, sizeof(it->msg), "Field %s needs a JSON body (Content-Type: application/json): "
		    "form fields cannot carry it.", rule->name);
	else
		snprintf(it->msg, sizeof(it->msg), "Field %s must be a string of at most %zu bytes, given once.",
		    rule->name, field_max_len(rule));
	fail(it, "invalid_body", it->msg);
}

/* An acknowledgement, or a refusal with "accepted": false. */
static void
ack_item(const struct field *f, int64_t now, struct action_item *it)
{
	int refuse = f[A_ACCEPTED].set && !f[A_ACCEPTED].parsed.flag;
	uint32_t today = (uint32_t)(now / 86400);

	if (refuse && !f[A_REASON].set) {
		char reasons[160];

		refusal_reason_names_join(reasons, sizeof(reasons));
		snprintf(it->msg, sizeof(it->msg), "A refusal (\"accepted\": false) needs a reason: %s.", reasons);
		fail(it, "invalid_body", it->msg);
		return;
	}
	if (!refuse && (f[A_REASON].set || f[A_NOTE].set)) {
		fail(it, "invalid_body", "Fields reason and note go only with \"accepted\": false.");
		return;
	}
	if (refuse && f[A_SHIP_DATE].set) {
		fail(it, "invalid_body", "Field estimated_ship_date goes only with an acknowledgement, not a refusal.");
		return;
	}
	if (f[A_SHIP_DATE].set) {
		uint32_t d = f[A_SHIP_DATE].parsed.date;

		if (d < today || d > today + SHIP_DATE_AHEAD_MAX) {
			fail(it, "invalid_body", SHIP_DATE_SENTENCE);
			return;
		}
		it->act.ship_date = d;
	}
	it->act.what = refuse ? ACTION_REFUSE : ACTION_ACKNOWLEDGE;
	if (refuse) {
		it->act.reason = f[A_REASON].parsed.reason;
		it->act.note = f[A_NOTE].val;
	}
}

/* The packages of a shipment: each element's fields read, a tracking number each. */
static void
read_packages(const struct field_list *l, struct action_item *it)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct field_element *e = &l->e[i];
		char why[160];

		if (e->res != PARSE_OK) {
			field_fault(it, &package_fields[e->bad], e->res);
			snprintf(why, sizeof(why), "%s", it->message);
		} else if (!e->f[PKG_TRACKING].set)
			snprintf(why, sizeof(why), "A package needs a tracking_number.");
		else {
			snprintf(it->packages->p[i].tracking_number, sizeof(it->packages->p[i].tracking_number), "%s",
			    e->f[PKG_TRACKING].val);
			snprintf(it->packages->p[i].carrier, sizeof(it->packages->p[i].carrier), "%s",
			    e->f[PKG_CARRIER].set ? e->f[PKG_CARRIER].val : "");
			continue;
		}
		snprintf(it->msg, sizeof(it->msg), "packages[%zu]: %s", i, why);
		fail(it, "invalid_body", it->msg);
		return;
	}
	it->packages->n = (unsigned)l->n;
	it->act.packages = it->packages;
}

/* The carrier events of a tracking update: each element's fields read, a status and a time each. */
static void
read_events(const struct field_list *l, int64_t now, struct action_item *it)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct field_element *e = &l->e[i];
		struct tracking_event *ev = &it->tracking->e[i];
		char why[160];

		if (e->res != PARSE_OK) {
			field_fault(it, &event_fields[e->bad], e->res);
			snprintf(why, sizeof(why), "%s", it->message);
		} else if (!e->f[EV_STATUS].set || !e->f[EV_AT].set)
			snprintf(why, sizeof(why), "An event needs a status and an at.");
		else if (e->f[EV_AT].parsed.time < TRACKING_AT_MIN || e->f[EV_AT].parsed.time > now + TRACKING_AHEAD_MAX)
			snprintf(why, sizeof(why), "%s", event_fields[EV_AT].message);
		else {
			ev->status = e->f[EV_STATUS].parsed.delivery;
			ev->at = e->f[EV_AT].parsed.time;
			snprintf(ev->tracking_number, sizeof(ev->tracking_number), "%s",
			    e->f[EV_TRACKING].set ? e->f[EV_TRACKING].val : "");
			snprintf(ev->location, sizeof(ev->location), "%s", e->f[EV_LOCATION].set ? e->f[EV_LOCATION].val : "");
			continue;
		}
		snprintf(it->msg, sizeof(it->msg), "events[%zu]: %s", i, why);
		fail(it, "invalid_body", it->msg);
		return;
	}
	it->tracking->n = (unsigned)l->n;
	it->act.tracking = it->tracking;
}

static void
track_item(const struct field *f, int64_t now, struct action_item *it)
{
	it->act.what = ACTION_TRACK;
	if (!f[T_EVENTS].set) {
		fail(it, "invalid_body", "Field events is required: 1 to 50 carrier events.");
		return;
	}
	if ((it->tracking = calloc(1, sizeof(*it->tracking))) == NULL ||
	    (f[T_PACKAGES].set && (it->packages = calloc(1, sizeof(*it->packages))) == NULL)) {
		fail(it, NULL, NULL);
		return;
	}
	read_events(f[T_EVENTS].list, now, it);
	if (it->ok && f[T_PACKAGES].set)
		read_packages(f[T_PACKAGES].list, it);
}

static void
ship_item(const struct field *f, struct action_item *it)
{
	it->act.what = ACTION_SHIP;
	it->act.tracking_number = f[S_TRACKING].val;
	it->act.carrier = f[S_CARRIER].val;
	if (!f[S_PACKAGES].set)
		return;
	if (f[S_TRACKING].set || f[S_CARRIER].set) {
		fail(it, "invalid_body", "Send either packages or tracking_number and carrier, not both.");
		return;
	}
	if ((it->packages = calloc(1, sizeof(*it->packages))) == NULL) {
		fail(it, NULL, NULL);
		return;
	}
	read_packages(f[S_PACKAGES].list, it);
}

/* One request's fields f, read against rules with the parser's result res (and field at fault bad), into it. */
static void
read_item(enum sale_action what, int64_t now, const struct field_rule *rules, const struct field *f,
    enum parse_result res, int bad, struct action_item *it)
{
	_Static_assert(A_ID == 0 && S_ID == 0 && T_ID == 0, "menzzo_order_id is the first field of every table");

	it->ok = 1;
	it->id_sent = f[0].set ? f[0].val : NULL;
	if (res != PARSE_OK) {
		field_fault(it, &rules[bad], res);
		return;
	}
	if (!f[0].set) {
		fail(it, "invalid_body", "Field menzzo_order_id is required.");
		return;
	}
	it->act.increment_id = f[0].parsed.ref.increment_id;
	it->act.sale_product_id = f[0].parsed.ref.sale_product_id;
	if (what == ACTION_SHIP)
		ship_item(f, it);
	else if (what == ACTION_TRACK)
		track_item(f, now, it);
	else
		ack_item(f, now, it);
}

/* A batch: every item read on its own, in request order. */
static int
read_batch(enum sale_action what, int64_t now, const struct field_rule *rules, const struct field_list *l,
    struct action_body *b)
{
	if ((b->items = calloc(l->n, sizeof(*b->items))) == NULL)
		return -1;
	b->batch = 1;
	b->n = l->n;
	for (size_t i = 0; i < l->n; i++)
		read_item(what, now, rules, l->e[i].f, l->e[i].res, l->e[i].bad, &b->items[i]);
	return 0;
}

/* The field given (or given wrong) beside items, or NULL when items is alone. */
static const char *
beside_items(const struct field_rule *rules, const struct field *f, size_t items, enum parse_result res, int bad)
{
	if (res != PARSE_OK && (size_t)bad != items)
		return rules[bad].name;
	for (size_t i = 0; i < items; i++)
		if (f[i].set)
			return rules[i].name;
	return NULL;
}

int
action_body_parse(const struct request *r, enum sale_action what, int64_t now, struct action_body *b,
    const char **code, const char **message, char *msg, size_t msglen)
{
	const struct field_rule *rules = what == ACTION_SHIP ? ship_fields : what == ACTION_TRACK ? track_fields :
	    ack_fields;
	size_t n = what == ACTION_SHIP ? S__MAX : what == ACTION_TRACK ? T__MAX : A__MAX, items = n - 1;
	enum parse_result res;
	int bad = -1;

	_Static_assert(A_ITEMS == A__MAX - 1 && S_ITEMS == S__MAX - 1 && T_ITEMS == T__MAX - 1,
	    "items is the last field of every table");
	memset(b, 0, sizeof(*b));
	*code = "invalid_body";
	res = body_parse(r, rules, n, b->fields, &bad);
	if (res == PARSE_NOMEM) {
		*code = NULL;
		return -1;
	}
	if (res == PARSE_BAD_BODY) {
		*message = "The body must be a JSON object, each member given once, or form-encoded fields "
		    "(Content-Type application/json or application/x-www-form-urlencoded).";
		return -1;
	}
	/* A batch, or what tried to be one: the whole body is a 400 unless it is a good one. */
	if (res == PARSE_BAD_FIELD && (size_t)bad == items) {
		*message = rules[items].message;
		return -1;
	}
	if (b->fields[items].set) {
		const char *other = beside_items(rules, b->fields, items, res, bad);

		if (other != NULL) {
			snprintf(msg, msglen, "A batch body has only items: each request's fields go in its item "
			    "(%s was given beside them).", other);
			*message = msg;
			return -1;
		}
		if (read_batch(what, now, rules, b->fields[items].list, b) != 0) {
			*code = NULL;
			return -1;
		}
		return 0;
	}
	if ((b->items = calloc(1, sizeof(*b->items))) == NULL) {
		*code = NULL;
		return -1;
	}
	b->n = 1;
	read_item(what, now, rules, b->fields, res, bad, &b->items[0]);
	return 0;
}

void
action_body_free(struct action_body *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->items[i].packages);
		free(b->items[i].tracking);
	}
	free(b->items);
	b->items = NULL;
	b->n = 0;
	fields_free(b->fields, sizeof(b->fields) / sizeof(b->fields[0]));
}
