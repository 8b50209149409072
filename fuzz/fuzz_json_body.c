/*
 * POST bodies, along the route the endpoints take, for both tables
 * (ack_fields: a boolean, an enum, a note of its own bound; ship_fields):
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

static void
check_fields(const struct table *t, const struct field *f)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!f[i].set) {
			CHECK(f[i].val == NULL && f[i].list == NULL);
			continue;
		}
		CHECK(f[i].val != NULL && f[i].len <= field_max_len(&t->rules[i]));
		CHECK(f[i].val[f[i].len] == '\0' && memchr(f[i].val, '\0', f[i].len) == NULL);
	}
}

static int
same_fields(const struct table *t, const struct field *a, const struct field *b)
{
	for (size_t i = 0; i < t->n; i++)
		if (a[i].set != b[i].set ||
		    (a[i].set && (a[i].len != b[i].len || memcmp(a[i].val, b[i].val, a[i].len) != 0)))
			return 0;
	return 1;
}

/* The fields as a JSON object (booleans as booleans), parsed again: the same values. */
static void
check_json_round_trip(const struct table *t, const struct field *f)
{
	struct json_object *o = json_object_new_object();
	struct field g[NFIELDS_MAX];
	const char *s;
	size_t len;
	int bad = -1;

	memset(g, 0, sizeof(g));
	for (size_t i = 0; i < t->n; i++)
		if (f[i].set)
			json_object_object_add(o, t->rules[i].name, t->rules[i].kind == FIELD_BOOLEAN ?
			    json_object_new_boolean(f[i].parsed.flag) : json_object_new_string_len(f[i].val, (int)f[i].len));
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	CHECK(json_fields_parse(s, len, t->rules, t->n, g, &bad) == PARSE_OK);
	CHECK(same_fields(t, f, g));
	fields_free(g, t->n);
	json_object_put(o);
}

/* What a request whose fields body_parse read as fb (result rb) must be, read by action_body_parse. */
static void
check_action_body(const struct table *t, const struct request *req, enum parse_result rb, const struct field *fb)
{
	struct action_body b;
	const char *code = NULL, *message = NULL;
	char msg[160];
	uint64_t inc, sp;
	int rc = action_body_parse(req, t->what, &b, &code, &message, msg, sizeof(msg)), refuse, ok;

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
	CHECK(b.items[0].ok == ok);
	if (!ok) {
		CHECK(b.items[0].code != NULL && b.items[0].message != NULL && b.items[0].message[0] != '\0');
		action_body_free(&b);
		return;
	}
	CHECK(parse_menzzo_order_id(fb[0].val, fb[0].len, &inc, &sp) == 0);
	CHECK(b.items[0].act.increment_id == inc && b.items[0].act.sale_product_id == sp);
	if (t->what == ACTION_SHIP) {
		CHECK(b.items[0].act.what == ACTION_SHIP);
		CHECK((b.items[0].act.tracking_number != NULL) == fb[S_TRACKING].set);
		CHECK((b.items[0].act.carrier != NULL) == fb[S_CARRIER].set);
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
		check_fields(t, fj);
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
		CHECK(rb != PARSE_OK || same_fields(t, fb, fj));
	} else {
		rf = form_parse(req.body, blen, t->rules, t->n, ff, &badf);
		CHECK(rb == rf);
		CHECK((rb != PARSE_BAD_FIELD && rb != PARSE_INVALID) || badb == badf);
		CHECK(rb != PARSE_OK || same_fields(t, fb, ff));
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
