/*
 * POST bodies, along the route the endpoints take, for both tables
 * (ack_fields: a boolean, an enum, a note of its own bound; ship_fields:
 * packages, an array of objects read against package_fields):
 * json_fields_parse on the input after its first byte, body_parse on the
 * same bytes as a request body (its Content-Type picked by the first
 * byte), and action_body_parse on the request.  body_parse must agree with
 * the parser it dispatches to, action_body_parse with body_parse and the
 * rules across fields; values written out as JSON must parse back the same.
 */
#include <strings.h>

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

/* What a request whose fields body_parse read as fb (result rb) must be, read by action_body_parse. */
static void
check_action_body(const struct table *t, const struct request *req, enum parse_result rb, const struct field *fb)
{
	struct action_body b;
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
	CHECK(b.n == 1);
	refuse = t->what == ACTION_ACKNOWLEDGE && fb[A_ACCEPTED].set && !fb[A_ACCEPTED].parsed.flag;
	ok = rb == PARSE_OK && fb[0].set;
	if (t->what == ACTION_ACKNOWLEDGE)
		ok = ok && (refuse ? fb[A_REASON].set : !fb[A_REASON].set && !fb[A_NOTE].set);
	else if (ok && fb[S_PACKAGES].set)
		ok = !fb[S_TRACKING].set && !fb[S_CARRIER].set && packages_valid(fb[S_PACKAGES].list);
	CHECK(b.items[0].ok == ok);
	if (!ok) {
		CHECK(b.items[0].code != NULL && b.items[0].message != NULL && b.items[0].message[0] != '\0');
		action_body_free(&b);
		return;
	}
	CHECK(parse_menzzo_order_id(fb[0].val, fb[0].len, &inc, &sp) == 0);
	CHECK(b.items[0].act.increment_id == inc && b.items[0].act.sale_product_id == sp);
	if (t->what == ACTION_SHIP) {
		const struct package_list *p = b.items[0].act.packages;

		CHECK(b.items[0].act.what == ACTION_SHIP);
		CHECK((b.items[0].act.tracking_number != NULL) == fb[S_TRACKING].set);
		CHECK((b.items[0].act.carrier != NULL) == fb[S_CARRIER].set);
		CHECK((p != NULL) == fb[S_PACKAGES].set);
		for (unsigned i = 0; p != NULL && i < p->n; i++) {
			CHECK(p->n == fb[S_PACKAGES].list->n && p->n >= 1 && p->n <= PACKAGES_MAX);
			CHECK(valid_text(p->p[i].tracking_number, strlen(p->p[i].tracking_number), TRACKING_MAX) == 0);
			CHECK(p->p[i].carrier[0] == '\0' ||
			    valid_text(p->p[i].carrier, strlen(p->p[i].carrier), CARRIER_MAX) == 0);
		}
	} else {
		CHECK(b.items[0].act.what == (refuse ? ACTION_REFUSE : ACTION_ACKNOWLEDGE));
		CHECK(!refuse || (b.items[0].act.reason > REASON_NONE && b.items[0].act.reason < REASON__MAX));
		CHECK(!refuse || (b.items[0].act.note != NULL) == fb[A_NOTE].set);
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
	};

	_Static_assert(A__MAX <= NFIELDS_MAX && S__MAX <= NFIELDS_MAX, "room for every table");
	if (size == 0)
		return 0;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		one_table(&tables[i], content_types[data[0] % NTYPES], data + 1, size - 1);
	return 0;
}
