/*
 * POST bodies, along the route the endpoints take, for the three tables
 * (ack_fields: a boolean, an enum, a note of its own bound, a date judged
 * against today; ship_fields: packages, an array of objects read against
 * package_fields; track_fields: events, an array of objects read against
 * event_fields, and packages): json_fields_parse on the input after its
 * first byte, body_parse on the same bytes as a request body (its
 * Content-Type picked by the first byte), and action_body_parse on the
 * request, with FUZZ_NOW as its clock.  body_parse must agree with the
 * parser it dispatches to, action_body_parse with body_parse and the rules
 * across fields; values written out as JSON must parse back the same.
 */
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "action_body.h"
#include "request.h"

#include "fuzz.h"

#define NFIELDS_MAX 8

struct table {
	const struct field_rule *rules;
	size_t n;
	enum sale_action what;
};

static const char *const content_types[] = {
	NULL,
	"application/json",
	"application/x-www-form-urlencoded",
	"application/json; charset=utf-8",
	"Application/X-WWW-Form-Urlencoded;charset=UTF-8",
	"text/plain",
	"application/jsonp",
};
#define NTYPES (sizeof(content_types) / sizeof(content_types[0]))

static int
type_allowed(const char *ct)
{
	return ct == NULL || (strncasecmp(ct, "application/json", 16) == 0 && (ct[16] == '\0' || ct[16] == ';')) ||
	    (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 && (ct[33] == '\0' || ct[33] == ';'));
}

/* Fields read against rules (an array's elements against their own table, recursively) keep the contract. */
static void
check_fields(const struct field_rule *rules, size_t n, const struct field *f)
{
	for (size_t i = 0; i < n; i++) {
		if (!f[i].set) {
			CHECK(f[i].val == NULL && f[i].list == NULL);
			continue;
		}
		if (rules[i].kind == FIELD_ARRAY) {
			CHECK(f[i].val == NULL && f[i].list != NULL && f[i].list->nfields == rules[i].element_rules);
			CHECK(f[i].list->n >= rules[i].min_items && f[i].list->n <= rules[i].max_items);
			for (size_t j = 0; j < f[i].list->n; j++) {
				const struct field_element *e = &f[i].list->e[j];

				CHECK(e->res == PARSE_OK || e->res == PARSE_BAD_FIELD || e->res == PARSE_INVALID);
				CHECK(e->res == PARSE_OK || (e->bad >= 0 && (size_t)e->bad < rules[i].element_rules));
				if (e->res == PARSE_OK)
					check_fields(rules[i].element, rules[i].element_rules, e->f);
			}
			continue;
		}
		CHECK(f[i].val != NULL && f[i].list == NULL && f[i].len <= field_max_len(&rules[i]));
		CHECK(f[i].val[f[i].len] == '\0' && memchr(f[i].val, '\0', f[i].len) == NULL);
		/* Its validator passed it, and passes it again to the same value (the copy's bytes, but the one written). */
		if (rules[i].valid != NULL) {
			struct field copy = f[i];

			CHECK(rules[i].valid(&copy) == 0);
			CHECK(memcmp((const unsigned char *)&copy.parsed, (const unsigned char *)&f[i].parsed,
			    sizeof(copy.parsed)) == 0);
		}
	}
}

static int same_fields(const struct field_rule *rules, size_t n, const struct field *a, const struct field *b);

static int
same_lists(const struct field_rule *rule, const struct field_list *a, const struct field_list *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t j = 0; j < a->n; j++)
		if (a->e[j].res != b->e[j].res || (a->e[j].res == PARSE_OK &&
		    !same_fields(rule->element, rule->element_rules, a->e[j].f, b->e[j].f)))
			return 0;
	return 1;
}

static int
same_fields(const struct field_rule *rules, size_t n, const struct field *a, const struct field *b)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].set != b[i].set)
			return 0;
		if (!a[i].set)
			continue;
		if (rules[i].kind == FIELD_ARRAY ? !same_lists(&rules[i], a[i].list, b[i].list) :
		    a[i].len != b[i].len || memcmp(a[i].val, b[i].val, a[i].len) != 0)
			return 0;
	}
	return 1;
}

/* The fields as a JSON object: booleans as booleans, arrays of valid elements as arrays of objects. */
static struct json_object *
fields_json(const struct field_rule *rules, size_t n, const struct field *f)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i < n; i++) {
		struct json_object *v;

		if (!f[i].set)
			continue;
		if (rules[i].kind == FIELD_ARRAY) {
			v = json_object_new_array();
			for (size_t j = 0; j < f[i].list->n; j++)
				json_object_array_add(v, fields_json(rules[i].element, rules[i].element_rules,
				    f[i].list->e[j].f));
		} else if (rules[i].kind == FIELD_BOOLEAN)
			v = json_object_new_boolean(f[i].parsed.flag);
		else
			v = json_object_new_string_len(f[i].val, (int)f[i].len);
		json_object_object_add(o, rules[i].name, v);
	}
	return o;
}

/* Every element valid, at every depth: then the fields written out as JSON read back the same. */
static int
all_valid(const struct field_rule *rules, size_t n, const struct field *f)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].set && rules[i].kind == FIELD_ARRAY)
			for (size_t j = 0; j < f[i].list->n; j++)
				if (f[i].list->e[j].res != PARSE_OK ||
				    !all_valid(rules[i].element, rules[i].element_rules, f[i].list->e[j].f))
					return 0;
	return 1;
}

static void
check_json_round_trip(const struct table *t, const struct field *f)
{
	struct json_object *o;
	struct field g[NFIELDS_MAX];
	const char *s;
	size_t len;
	int bad = -1;

	if (!all_valid(t->rules, t->n, f))
		return;
	memset(g, 0, sizeof(g));
	o = fields_json(t->rules, t->n, f);
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	CHECK(json_fields_parse(s, len, t->rules, t->n, g, &bad) == PARSE_OK);
	CHECK(same_fields(t->rules, t->n, f, g));
	fields_free(g, t->n);
	json_object_put(o);
}

/* Every package read, each with a tracking number. */
static int
packages_valid(const struct field_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].res != PARSE_OK || !l->e[i].f[PKG_TRACKING].set)
			return 0;
	return 1;
}

/* t as text in strftime's format fmt (UTC): a reference for the bounds of dates and times, apart from validate.c. */
static void
utc_text(int64_t t, const char *fmt, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	CHECK(gmtime_r(&tt, &tm) != NULL && strftime(out, len, fmt, &tm) > 0);
}

/*
 * Every event read, each with a status and an at no later than a day after
 * FUZZ_NOW, and no earlier than TRACKING_AT_MIN (an at's text compared
 * with those times': the format sorts as time does).
 */
static int
events_valid(const struct field_list *l)
{
	char earliest[TIMESTAMP_LEN + 1], latest[TIMESTAMP_LEN + 1];

	utc_text(TRACKING_AT_MIN, "%Y-%m-%dT%H:%M:%SZ", earliest, sizeof(earliest));
	utc_text(FUZZ_NOW + TRACKING_AHEAD_MAX, "%Y-%m-%dT%H:%M:%SZ", latest, sizeof(latest));
	for (size_t i = 0; i < l->n; i++) {
		const struct field *f = l->e[i].f;

		if (l->e[i].res != PARSE_OK || !f[EV_STATUS].set || !f[EV_AT].set)
			return 0;
		CHECK(f[EV_AT].len == TIMESTAMP_LEN);
		if (strcmp(f[EV_AT].val, earliest) < 0 || strcmp(f[EV_AT].val, latest) > 0)
			return 0;
	}
	return 1;
}

/* An estimated ship date's text within today .. today + SHIP_DATE_AHEAD_MAX days of FUZZ_NOW (the format sorts as dates do). */
static int
ship_date_in_range(const struct field *d)
{
	char first[DATE_LEN + 1], last[DATE_LEN + 1];

	utc_text(FUZZ_NOW, "%Y-%m-%d", first, sizeof(first));
	utc_text(FUZZ_NOW + SHIP_DATE_AHEAD_MAX * 86400LL, "%Y-%m-%d", last, sizeof(last));
	CHECK(d->len == DATE_LEN);
	return strcmp(d->val, first) >= 0 && strcmp(d->val, last) <= 0;
}

/* The packages of a taken request: as many as the field's elements, each the element's values. */
static void
check_packages(const struct package_list *p, const struct field_list *l)
{
	CHECK(p->n == l->n && p->n >= 1 && p->n <= PACKAGES_MAX);
	for (unsigned i = 0; i < p->n; i++) {
		const struct field *e = l->e[i].f;

		CHECK(valid_text(p->p[i].tracking_number, strlen(p->p[i].tracking_number), TRACKING_MAX) == 0);
		CHECK(p->p[i].carrier[0] == '\0' ||
		    valid_text(p->p[i].carrier, strlen(p->p[i].carrier), CARRIER_MAX) == 0);
		CHECK(strcmp(p->p[i].tracking_number, e[PKG_TRACKING].val) == 0);
		CHECK(strcmp(p->p[i].carrier, e[PKG_CARRIER].set ? e[PKG_CARRIER].val : "") == 0);
	}
}

/* The carrier events of a taken tracking update: as many as the field's elements, each the element's values. */
static void
check_events(const struct tracking_list *t, const struct field_list *l)
{
	CHECK(t->n == l->n && t->n >= 1 && t->n <= TRACKING_EVENTS_MAX);
	for (unsigned i = 0; i < t->n; i++) {
		const struct tracking_event *ev = &t->e[i];
		const struct field *e = l->e[i].f;

		CHECK(ev->status > DELIVERY_NONE && ev->status < DELIVERY__MAX);
		CHECK(fuzz_equals(e[EV_STATUS].val, e[EV_STATUS].len, delivery_status_name(ev->status)));
		CHECK(ev->at == e[EV_AT].parsed.time && ev->at <= FUZZ_NOW + TRACKING_AHEAD_MAX);
		CHECK(ev->at >= TRACKING_AT_MIN);
		CHECK(strcmp(ev->tracking_number, e[EV_TRACKING].set ? e[EV_TRACKING].val : "") == 0);
		CHECK(ev->tracking_number[0] == '\0' ||
		    valid_text(ev->tracking_number, strlen(ev->tracking_number), TRACKING_MAX) == 0);
		CHECK(strcmp(ev->location, e[EV_LOCATION].set ? e[EV_LOCATION].val : "") == 0);
		CHECK(ev->location[0] == '\0' ||
		    valid_utf8_text(ev->location, strlen(ev->location), LOCATION_CHARS_MAX) == 0);
	}
}

/* Whether the rules across fields take a request of table t whose fields fb were read. */
static int
rules_hold(const struct table *t, const struct field *fb)
{
	switch (t->what) {
	case ACTION_ACKNOWLEDGE:
		/* A refusal has a reason and no ship date; an acknowledgement neither reason nor note, a ship date in range. */
		if (fb[A_ACCEPTED].set && !fb[A_ACCEPTED].parsed.flag)
			return fb[A_REASON].set && !fb[A_SHIP_DATE].set;
		return !fb[A_REASON].set && !fb[A_NOTE].set && (!fb[A_SHIP_DATE].set || ship_date_in_range(&fb[A_SHIP_DATE]));
	case ACTION_SHIP:
		return !fb[S_PACKAGES].set ||
		    (!fb[S_TRACKING].set && !fb[S_CARRIER].set && packages_valid(fb[S_PACKAGES].list));
	case ACTION_TRACK:
		return fb[T_EVENTS].set && events_valid(fb[T_EVENTS].list) &&
		    (!fb[T_PACKAGES].set || packages_valid(fb[T_PACKAGES].list));
	default:
		CHECK(0);
	}
	return 0;
}

/* What a request whose fields body_parse read as fb (result rb) must be, read by action_body_parse. */
static void
check_action_body(const struct table *t, const struct request *req, enum parse_result rb, const struct field *fb)
{
	struct action_body b;
	const struct action *a;
	const char *code = NULL, *message = NULL;
	char msg[160];
	uint64_t inc, sp;
	int rc = action_body_parse(req, t->what, FUZZ_NOW, &b, &code, &message, msg, sizeof(msg)), refuse, ok;

	if (rb == PARSE_NOMEM || (rc != 0 && code == NULL)) {
		action_body_free(&b);
		return;
	}
	CHECK((rc != 0) == (rb == PARSE_BAD_BODY));
	if (rc != 0) {
		CHECK(code != NULL && message != NULL && message[0] != '\0');
		action_body_free(&b);
		return;
	}
	CHECK(b.n == 1 && !b.batch);
	if (!b.items[0].ok && b.items[0].code == NULL) {
		action_body_free(&b); /* out of memory */
		return;
	}
	refuse = t->what == ACTION_ACKNOWLEDGE && fb[A_ACCEPTED].set && !fb[A_ACCEPTED].parsed.flag;
	ok = rb == PARSE_OK && fb[0].set && rules_hold(t, fb);
	CHECK(b.items[0].ok == ok);
	if (!ok) {
		CHECK(b.items[0].code != NULL && b.items[0].message != NULL && b.items[0].message[0] != '\0');
		action_body_free(&b);
		return;
	}
	a = &b.items[0].act;
	CHECK(parse_menzzo_order_id(fb[0].val, fb[0].len, &inc, &sp) == 0);
	CHECK(a->increment_id == inc && a->sale_product_id == sp);
	CHECK(a->what == (t->what == ACTION_ACKNOWLEDGE && refuse ? ACTION_REFUSE : t->what));
	CHECK((a->tracking != NULL) == (t->what == ACTION_TRACK));
	if (t->what == ACTION_SHIP) {
		CHECK((a->tracking_number != NULL) == fb[S_TRACKING].set);
		CHECK((a->carrier != NULL) == fb[S_CARRIER].set);
		CHECK((a->packages != NULL) == fb[S_PACKAGES].set);
		CHECK(a->ship_date == 0 && a->reason == REASON_NONE && a->note == NULL);
		if (a->packages != NULL)
			check_packages(a->packages, fb[S_PACKAGES].list);
	} else if (t->what == ACTION_TRACK) {
		CHECK(a->tracking_number == NULL && a->carrier == NULL);
		CHECK(a->ship_date == 0 && a->reason == REASON_NONE && a->note == NULL);
		check_events(a->tracking, fb[T_EVENTS].list);
		CHECK((a->packages != NULL) == fb[T_PACKAGES].set);
		if (a->packages != NULL)
			check_packages(a->packages, fb[T_PACKAGES].list);
	} else {
		CHECK(a->tracking_number == NULL && a->carrier == NULL && a->packages == NULL);
		CHECK(!refuse || (a->reason > REASON_NONE && a->reason < REASON__MAX));
		CHECK(!refuse || (a->note != NULL) == fb[A_NOTE].set);
		CHECK(refuse || (a->reason == REASON_NONE && a->note == NULL));
		CHECK(a->ship_date == (fb[A_SHIP_DATE].set ? fb[A_SHIP_DATE].parsed.date : 0));
	}
	action_body_free(&b);
}

static size_t
skip_blanks(const uint8_t *body, size_t blen)
{
	size_t skip = 0;

	while (skip < blen && body[skip] && strchr(" \t\r\n", body[skip]))
		skip++;
	return skip;
}

static void
one_table(const struct table *t, const char *content_type, const uint8_t *body, size_t blen)
{
	struct field fj[NFIELDS_MAX], fb[NFIELDS_MAX], ff[NFIELDS_MAX];
	struct request req;
	enum parse_result rj, rb, rf;
	size_t skip = skip_blanks(body, blen);
	int badj = -1, badb = -1, badf = -1;

	memset(fj, 0, sizeof(fj));
	memset(fb, 0, sizeof(fb));
	memset(ff, 0, sizeof(ff));
	/* Length-delimited: the bytes themselves, so a read past blen is caught. */
	rj = json_fields_parse((const char *)body, blen, t->rules, t->n, fj, &badj);
	CHECK(rj == PARSE_OK || rj == PARSE_BAD_BODY || rj == PARSE_BAD_FIELD || rj == PARSE_INVALID ||
	    rj == PARSE_NOMEM);
	if (rj == PARSE_BAD_FIELD || rj == PARSE_INVALID)
		CHECK(badj >= 0 && (size_t)badj < t->n);
	if (rj == PARSE_OK) {
		check_fields(t->rules, t->n, fj);
		CHECK(skip < blen && body[skip] == '{');
		check_json_round_trip(t, fj);
	}

	/* struct request promises a NUL after the body. */
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.query = "";
	req.path_info = "";
	req.content_type = content_type;
	req.content_length = (long long)blen;
	req.body = fuzz_cstr(body, blen);
	req.body_len = blen;
	rb = body_parse(&req, t->rules, t->n, fb, &badb);
	if (!type_allowed(req.content_type))
		CHECK(rb == PARSE_BAD_BODY);
	else if (blen == 0) {
		CHECK(rb == PARSE_OK);
		for (size_t i = 0; i < t->n; i++)
			CHECK(!fb[i].set);
	} else if (skip < blen && body[skip] == '{') {
		CHECK(rb == rj);
		CHECK((rb != PARSE_BAD_FIELD && rb != PARSE_INVALID) || badb == badj);
		CHECK(rb != PARSE_OK || same_fields(t->rules, t->n, fb, fj));
	} else {
		rf = form_parse(req.body, blen, t->rules, t->n, ff, &badf);
		CHECK(rb == rf);
		CHECK((rb != PARSE_BAD_FIELD && rb != PARSE_INVALID) || badb == badf);
		CHECK(rb != PARSE_OK || same_fields(t->rules, t->n, fb, ff));
	}
	check_action_body(t, &req, rb, fb);
	free(req.body);
	fields_free(fj, t->n);
	fields_free(fb, t->n);
	fields_free(ff, t->n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct table tables[] = {
		{ ack_fields, A__MAX, ACTION_ACKNOWLEDGE },
		{ ship_fields, S__MAX, ACTION_SHIP },
		{ track_fields, T__MAX, ACTION_TRACK },
	};

	_Static_assert(A__MAX <= NFIELDS_MAX && S__MAX <= NFIELDS_MAX && T__MAX <= NFIELDS_MAX &&
	    PKG__MAX <= NFIELDS_MAX && EV__MAX <= NFIELDS_MAX, "room for every table");
	if (size == 0)
		return 0;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		one_table(&tables[i], content_types[data[0] % NTYPES], data + 1, size - 1);
	return 0;
}
