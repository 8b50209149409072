#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "dupkey.h"
#include "request.h"

static const char *
cgi_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static long
cgi_read(void *ctx, char *buf, size_t n)
{
	size_t got = fread(buf, 1, n, stdin);

	(void)ctx;
	return got > 0 || !ferror(stdin) ? (long)got : -1;
}

const struct request_source request_cgi_source = { cgi_param, cgi_read, NULL };

static const char *
param_or(const struct request_source *src, const char *name, const char *dflt)
{
	const char *v = src->param(src->ctx, name);
	return v ? v : dflt;
}

void
request_from(struct request *r, const struct request_source *src)
{
	const char *cl = src->param(src->ctx, "CONTENT_LENGTH");
	uint64_t n;

	memset(r, 0, sizeof(*r));
	r->method = param_or(src, "REQUEST_METHOD", "");
	r->query = param_or(src, "QUERY_STRING", "");
	r->authorization = src->param(src->ctx, "HTTP_AUTHORIZATION");
	r->content_type = src->param(src->ctx, "CONTENT_TYPE");
	if (r->content_type != NULL && *r->content_type == '\0')
		r->content_type = NULL;
	r->path_info = param_or(src, "PATH_INFO", "");
	if (cl == NULL || *cl == '\0')
		r->content_length = -1;
	else if (strcmp(cl, "0") == 0)
		r->content_length = 0;
	else if (parse_uint(cl, strlen(cl), 1, (uint64_t)1 << 62, &n) == 0)
		r->content_length = (long long)n;
	else
		r->content_length = -2;
}

enum body_result
request_read_body(struct request *r, const struct request_source *src)
{
	size_t want, got = 0;
	long n;

	if (r->content_length == -2)
		return BODY_BAD;
	if (r->content_length > BODY_MAX)
		return BODY_TOO_LARGE;
	/* Without CONTENT_LENGTH (a hand run), read to end of file, still bounded. */
	want = r->content_length >= 0 ? (size_t)r->content_length : BODY_MAX + 1;
	if ((r->body = malloc(want + 1)) == NULL)
		return BODY_NOMEM;
	while (got < want && (n = src->read(src->ctx, r->body + got, want - got)) > 0)
		got += (size_t)n;
	r->body[got] = '\0';
	r->body_len = got;
	if (got > BODY_MAX)
		return BODY_TOO_LARGE;
	if (r->content_length >= 0 && got != want)
		return BODY_BAD;
	return BODY_OK;
}

void
request_free(struct request *r)
{
	free(r->body);
	r->body = NULL;
}

static int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..len) into out (room for len + 1); returns the length, or -1 on a bad escape or a NUL. */
static long
url_decode(const char *s, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = hex(s[i + 1])) < 0 || (lo = hex(s[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (long)o;
}

static int
find_name(const struct field_rule *rules, size_t n, const char *key, size_t klen)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(rules[i].name) == klen && memcmp(rules[i].name, key, klen) == 0)
			return (int)i;
	return -1;
}

/* Runs each set field's validator, in table order. */
static enum parse_result
validate(const struct field_rule *rules, size_t n, struct field *out, int *bad)
{
	for (size_t i = 0; i < n; i++)
		if (out[i].set && rules[i].valid != NULL && rules[i].valid(&out[i]) != 0) {
			*bad = (int)i;
			return PARSE_INVALID;
		}
	return PARSE_OK;
}

enum parse_result
form_parse(const char *s, size_t len, const struct field_rule *rules, size_t n,
    struct field *out, int *bad)
{
	char key[64];
	size_t i = 0;

	while (i < len) {
		const char *pair = s + i, *amp = memchr(pair, '&', len - i), *eq;
		size_t plen = amp ? (size_t)(amp - pair) : len - i, klen, vlen;
		long dk, dv;
		int idx;

		i += plen + 1;
		if (plen == 0)
			continue;
		eq = memchr(pair, '=', plen);
		klen = eq ? (size_t)(eq - pair) : plen;
		vlen = eq ? plen - klen - 1 : 0;
		/* A key too long or badly escaped is no key of ours: ignore it. */
		if (klen >= sizeof(key) || (dk = url_decode(pair, klen, key)) < 0)
			continue;
		if ((idx = find_name(rules, n, key, (size_t)dk)) < 0)
			continue;
		*bad = idx;
		if (out[idx].set || vlen > (size_t)FIELD_VALUE_MAX * 3)
			return PARSE_BAD_FIELD;
		if ((out[idx].val = malloc(vlen + 1)) == NULL)
			return PARSE_NOMEM;
		out[idx].set = 1;
		if ((dv = url_decode(eq ? eq + 1 : "", vlen, out[idx].val)) < 0 || dv > FIELD_VALUE_MAX)
			return PARSE_BAD_FIELD;
		out[idx].len = (size_t)dv;
	}
	return validate(rules, n, out, bad);
}

enum parse_result
json_fields_parse(const char *s, size_t len, const struct field_rule *rules, size_t n,
    struct field *out, int *bad)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum parse_result res = PARSE_OK;
	char dup[64];

	if (len > BODY_MAX || memchr(s, '\0', len) != NULL)
		return PARSE_BAD_BODY;
	if ((tok = json_tokener_new_ex(8)) == NULL)
		return PARSE_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, s, (int)len);
	/* One value, then only white space. */
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !only_blanks(s, json_tokener_get_parse_end(tok), len) ||
	    !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		json_tokener_free(tok);
		return PARSE_BAD_BODY;
	}
	json_tokener_free(tok);
	/* A key given twice, anywhere in the body: a known field is named; any other is the body's fault. */
	switch (json_text_duplicate_key(s, len, obj, dup, sizeof(dup))) {
	case 0:
		break;
	case 1:
		*bad = -1;
		for (size_t i = 0; i < n; i++)
			if (strcmp(rules[i].name, dup) == 0)
				*bad = (int)i;
		json_object_put(obj);
		return *bad >= 0 ? PARSE_BAD_FIELD : PARSE_BAD_BODY;
	default:
		json_object_put(obj);
		return PARSE_NOMEM;
	}
	for (size_t i = 0; i < n && res == PARSE_OK; i++) {
		struct json_object *v;
		const char *str;
		size_t vlen;

		if (!json_object_object_get_ex(obj, rules[i].name, &v))
			continue;
		*bad = (int)i;
		if (!json_object_is_type(v, json_type_string)) {
			res = PARSE_BAD_FIELD;
			break;
		}
		str = json_object_get_string(v);
		vlen = (size_t)json_object_get_string_len(v);
		if (vlen > FIELD_VALUE_MAX || memchr(str, '\0', vlen) != NULL) {
			res = PARSE_BAD_FIELD;
			break;
		}
		if ((out[i].val = malloc(vlen + 1)) == NULL) {
			res = PARSE_NOMEM;
			break;
		}
		memcpy(out[i].val, str, vlen);
		out[i].val[vlen] = '\0';
		out[i].len = vlen;
		out[i].set = 1;
	}
	json_object_put(obj);
	return res == PARSE_OK ? validate(rules, n, out, bad) : res;
}

/* The media type of a Content-Type value, without parameters, compared case-insensitively. */
static int
media_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);
	return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

enum parse_result
body_parse(const struct request *r, const struct field_rule *rules, size_t n,
    struct field *out, int *bad)
{
	size_t skip = 0;

	if (r->content_type != NULL && !media_type_is(r->content_type, "application/json") &&
	    !media_type_is(r->content_type, "application/x-www-form-urlencoded"))
		return PARSE_BAD_BODY;
	if (r->body == NULL || r->body_len == 0)
		return PARSE_OK;
	while (skip < r->body_len && only_blanks(r->body, skip, skip + 1))
		skip++;
	if (skip < r->body_len && r->body[skip] == '{')
		return json_fields_parse(r->body, r->body_len, rules, n, out, bad);
	return form_parse(r->body, r->body_len, rules, n, out, bad);
}

void
fields_free(struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].val);
		f[i].val = NULL;
		f[i].set = 0;
	}
}
