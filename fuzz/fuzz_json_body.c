/*
 * POST bodies, along the route the endpoints take: json_fields_parse on the
 * input after its first byte, body_parse on the same bytes as a request
 * body (its Content-Type picked by the first byte), both against the
 * ship-sale table (action_fields, validators included), and
 * action_body_parse on the request.  body_parse must agree with the parser
 * it dispatches to, action_body_parse with body_parse; JSON values written
 * out again must parse back the same.
 */
#include <strings.h>

#include <json-c/json.h>

#include "request.h"
#include "sale_action.h"

#include "fuzz.h"

#define NFIELDS B__MAX

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
check_fields(const struct field *f)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (!f[i].set) {
			CHECK(f[i].val == NULL);
			continue;
		}
		CHECK(f[i].val != NULL && f[i].len <= FIELD_VALUE_MAX);
		CHECK(f[i].val[f[i].len] == '\0' && memchr(f[i].val, '\0', f[i].len) == NULL);
	}
}

static int
same_fields(const struct field *a, const struct field *b)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (a[i].set != b[i].set ||
		    (a[i].set && (a[i].len != b[i].len || memcmp(a[i].val, b[i].val, a[i].len) != 0)))
			return 0;
	return 1;
}

/* The fields as a JSON object, parsed again: the same values. */
static void
check_json_round_trip(const struct field *f)
{
	struct json_object *o = json_object_new_object();
	struct field g[NFIELDS];
	const char *s;
	size_t len;
	int bad = -1;

	memset(g, 0, sizeof(g));
	for (size_t i = 0; i < NFIELDS; i++)
		if (f[i].set)
			json_object_object_add(o, action_fields[i].name, json_object_new_string_len(f[i].val, (int)f[i].len));
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	CHECK(json_fields_parse(s, len, action_fields, NFIELDS, g, &bad) == PARSE_OK);
	CHECK(same_fields(f, g));
	fields_free(g, NFIELDS);
	json_object_put(o);
}

/* action_body_parse: a body is taken exactly when body_parse took it and named an id. */
static void
check_action_body(const struct request *req, enum parse_result rb, const struct field *fb)
{
	struct action_body b;
	const char *code = NULL, *message = NULL;
	char msg[160];
	uint64_t inc, sp;
	int rc = action_body_parse(req, ACTION_SHIP, &b, &code, &message, msg, sizeof(msg));

	if (rb == PARSE_NOMEM) {
		fields_free(b.fields, NFIELDS);
		return;
	}
	CHECK((rc == 0) == (rb == PARSE_OK && fb[B_ID].set));
	if (rc == 0) {
		CHECK(parse_menzzo_order_id(fb[B_ID].val, fb[B_ID].len, &inc, &sp) == 0);
		CHECK(b.id.increment_id == inc && b.id.sale_product_id == sp);
		CHECK((b.tracking_number != NULL) == fb[B_TRACKING].set && (b.carrier != NULL) == fb[B_CARRIER].set);
	} else
		CHECK(code != NULL && message != NULL && message[0] != '\0');
	fields_free(b.fields, NFIELDS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct field fj[NFIELDS], fb[NFIELDS], ff[NFIELDS];
	struct request req;
	enum parse_result rj, rb, rf;
	const uint8_t *body;
	size_t blen, skip;
	int badj = -1, badb = -1, badf = -1;

	if (size == 0)
		return 0;
	body = data + 1;
	blen = size - 1;
	memset(fj, 0, sizeof(fj));
	memset(fb, 0, sizeof(fb));
	memset(ff, 0, sizeof(ff));

	/* Length-delimited: the bytes themselves, so a read past blen is caught. */
	rj = json_fields_parse((const char *)body, blen, action_fields, NFIELDS, fj, &badj);
	CHECK(rj == PARSE_OK || rj == PARSE_BAD_BODY || rj == PARSE_BAD_FIELD || rj == PARSE_INVALID ||
	    rj == PARSE_NOMEM);
	if (rj == PARSE_BAD_FIELD || rj == PARSE_INVALID)
		CHECK(badj >= 0 && badj < NFIELDS);
	if (rj == PARSE_OK) {
		check_fields(fj);
		for (skip = 0; skip < blen && body[skip] && strchr(" \t\r\n", body[skip]); skip++)
			;
		CHECK(skip < blen && body[skip] == '{');
		check_json_round_trip(fj);
	}

	/* struct request promises a NUL after the body. */
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.query = "";
	req.path_info = "";
	req.content_type = content_types[data[0] % NTYPES];
	req.content_length = (long long)blen;
	req.body = fuzz_cstr(body, blen);
	req.body_len = blen;
	rb = body_parse(&req, action_fields, NFIELDS, fb, &badb);
	if (!type_allowed(req.content_type))
		CHECK(rb == PARSE_BAD_BODY);
	else if (blen == 0)
		CHECK(rb == PARSE_OK && !fb[0].set && !fb[1].set && !fb[2].set);
	else {
		for (skip = 0; skip < blen && body[skip] && strchr(" \t\r\n", body[skip]); skip++)
			;
		if (skip < blen && body[skip] == '{') {
			CHECK(rb == rj);
			CHECK((rb != PARSE_BAD_FIELD && rb != PARSE_INVALID) || badb == badj);
			CHECK(rb != PARSE_OK || same_fields(fb, fj));
		} else {
			rf = form_parse(req.body, blen, action_fields, NFIELDS, ff, &badf);
			CHECK(rb == rf);
			CHECK((rb != PARSE_BAD_FIELD && rb != PARSE_INVALID) || badb == badf);
			CHECK(rb != PARSE_OK || same_fields(fb, ff));
		}
	}
	check_action_body(&req, rb, fb);
	free(req.body);
	fields_free(fj, NFIELDS);
	fields_free(fb, NFIELDS);
	fields_free(ff, NFIELDS);
	return 0;
}
