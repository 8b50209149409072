#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "json_text.h"
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
request_read_body(struct request *r, const struct request_source *src, size_t max)
{
	size_t want, got = 0;
	long n;

	if (max > BODY_MAX_IMPORT)
		max = BODY_MAX_IMPORT;
	if (r->content_length == -2)
		return BODY_BAD;
	if (r->content_length > (long long)max)
		return BODY_TOO_LARGE;
	/* Without CONTENT_LENGTH (a hand run), read to end of file, still bounded. */
	want = r->content_length >= 0 ? (size_t)r->content_length : max + 1;
	if ((r->body = malloc(want + 1)) == NULL)
		return BODY_NOMEM;
	while (got < want && (n = src->read(src->ctx, r->body + got, want - got)) > 0)
		got += (size_t)n;
	r->body[got] = '\0';
	r->body_len = got;
	if (got > max)
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
		size_t plen = amp ? (size_t)(amp - pair) : len - i, klen, vlen, max;
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
		if (rules[idx].kind == FIELD_ARRAY)
			return PARSE_NEEDS_JSON;
		max = field_max_len(&rules[idx]);
		if (out[idx].set || vlen > max * 3)
			return PARSE_BAD_FIELD;
		if ((out[idx].val = malloc(vlen + 1)) == NULL)
			return PARSE_NOMEM;
		out[idx].set = 1;
		if ((dv = url_decode(eq ? eq + 1 : "", vlen, out[idx].val)) < 0 || (size_t)dv > max)
			return PARSE_BAD_FIELD;
		out[idx].len = (size_t)dv;
	}
	return validate(rules, n, out, bad);
}

size_t
field_max_len(const struct field_rule *rule)
{
	return rule->max_len ? rule->max_len : FIELD_VALUE_MAX;
}

static enum parse_result object_fields(struct json_object *obj, const struct field_rule *rules, size_t n,
    struct field *out, int *bad);

/* A copy of s[0..len) as the field's value. */
static enum parse_result
set_text(struct field *f, const char *s, size_t len)
{
	if ((f->val = malloc(len + 1)) == NULL)
		return PARSE_NOMEM;
	memcpy(f->val, s, len);
	f->val[len] = '\0';
	f->len = len;
	f->set = 1;
	return PARSE_OK;
}

/* An array of objects, each read against the element table into f->list. */
static enum parse_result
read_array(struct json_object *v, const struct field_rule *rule, struct field *f)
{
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;

	if (n < rule->min_items || n > rule->max_items)
		return PARSE_BAD_FIELD;
	for (size_t i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_object))
			return PARSE_BAD_FIELD;
	if ((f->list = calloc(1, sizeof(*f->list))) == NULL ||
	    (f->list->e = calloc(n ? n : 1, sizeof(*f->list->e))) == NULL)
		return PARSE_NOMEM;
	f->set = 1;
	f->list->nfields = rule->element_rules;
	for (size_t i = 0; i < n; i++) {
		struct field_element *e = &f->list->e[i];

		f->list->n = i + 1;
		e->bad = -1;
		if ((e->f = calloc(rule->element_rules ? rule->element_rules : 1, sizeof(*e->f))) == NULL)
			return PARSE_NOMEM;
		e->res = object_fields(json_object_array_get_idx(v, i), rule->element, rule->element_rules, e->f, &e->bad);
		if (e->res == PARSE_NOMEM)
			return PARSE_NOMEM;
	}
	return PARSE_OK;
}

/* Reads one member of a known field as its rule's kind says. */
static enum parse_result
read_member(struct json_object *v, const struct field_rule *rule, struct field *f)
{
	const char *str;
	size_t vlen;

	switch (rule->kind) {
	case FIELD_BOOLEAN:
		if (!json_object_is_type(v, json_type_boolean))
			return PARSE_BAD_FIELD;
		return json_object_get_boolean(v) ? set_text(f, "true", 4) : set_text(f, "false", 5);
	case FIELD_ARRAY:
		return read_array(v, rule, f);
	case FIELD_INTEGER:
		if (!json_object_is_type(v, json_type_int))
			return PARSE_BAD_FIELD;
		str = json_object_get_string(v);
		return set_text(f, str, strlen(str));
	case FIELD_NUMBER_OR_TEXT:
		/* A number keeps its source text in json-c: "250.00" stays exact. */
		if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
			str = json_object_get_string(v);
			return set_text(f, str, strlen(str));
		}
		break;
	case FIELD_TEXT:
		break;
	}
	if (!json_object_is_type(v, json_type_string))
		return PARSE_BAD_FIELD;
	str = json_object_get_string(v);
	vlen = (size_t)json_object_get_string_len(v);
	if (vlen > field_max_len(rule) || memchr(str, '\0', vlen) != NULL)
		return PARSE_BAD_FIELD;
	return set_text(f, str, vlen);
}

/* The known members of a parsed object, then their validators. */
static enum parse_result
object_fields(struct json_object *obj, const struct field_rule *rules, size_t n, struct field *out, int *bad)
{
	int first_bad = -1;

	for (size_t i = 0; i < n; i++) {
		struct json_object *v;
		enum parse_result r;

		if (!json_object_object_get_ex(obj, rules[i].name, &v))
			continue;
		if ((r = read_member(v, &rules[i], &out[i])) == PARSE_NOMEM)
			return r;
		if (r != PARSE_OK && first_bad < 0)
			first_bad = (int)i;
	}
	if (first_bad >= 0) {
		*bad = first_bad;
		return PARSE_BAD_FIELD;
	}
	return validate(rules, n, out, bad);
}

/* The index of the rule named name, or -1. */
static int
rule_named(const struct field_rule *rules, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rules[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* json_fields_parse, and with strict json_record_parse (key[0..keylen) names what strict reports). */
static enum parse_result
json_parse(const char *s, size_t len, const struct field_rule *rules, size_t n, struct field *out, int *bad,
    int strict, char *key, size_t keylen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum parse_result res = PARSE_OK;
	char name[64];

	if (len > BODY_MAX_LARGE || memchr(s, '\0', len) != NULL)
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
	switch (json_text_duplicate_key(s, len, obj, name, sizeof(name))) {
	case 0:
		break;
	case 1:
		if (strict) {
			snprintf(key, keylen, "%s", name);
			res = PARSE_DUPLICATE;
		} else
			res = (*bad = rule_named(rules, n, name)) >= 0 ? PARSE_BAD_FIELD : PARSE_BAD_BODY;
		break;
	default:
		res = PARSE_NOMEM;
	}
	if (res == PARSE_OK && strict) {
		json_object_object_foreach(obj, k, v) {
			(void)v;
			if (rule_named(rules, n, k) < 0) {
				snprintf(key, keylen, "%s", k);
				res = PARSE_UNKNOWN;
				break;
			}
		}
	}
	/* A lone surrogate (I-JSON): the known field it is in is invalid; anywhere else, the body is. */
	if (res == PARSE_OK)
		switch (json_text_lone_surrogate(s, len, name, sizeof(name))) {
		case 0:
			break;
		case 1:
			res = (*bad = rule_named(rules, n, name)) >= 0 ? PARSE_INVALID : PARSE_BAD_BODY;
			break;
		default:
			res = PARSE_NOMEM;
		}
	if (res == PARSE_OK)
		res = object_fields(obj, rules, n, out, bad);
	json_object_put(obj);
	return res;
}

enum parse_result
json_fields_parse(const char *s, size_t len, const struct field_rule *rules, size_t n,
    struct field *out, int *bad)
{
	return json_parse(s, len, rules, n, out, bad, 0, NULL, 0);
}

enum parse_result
json_record_parse(const char *s, size_t len, const struct field_rule *rules, size_t n,
    struct field *out, int *bad, char *key, size_t keylen)
{
	return json_parse(s, len, rules, n, out, bad, 1, key, keylen);
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
		struct field_list *l = f[i].list;

		if (l != NULL) {
			for (size_t j = 0; j < l->n; j++) {
				fields_free(l->e[j].f, l->nfields);
				free(l->e[j].f);
			}
			free(l->e);
			free(l);
		}
		free(f[i].val);
		memset(&f[i], 0, sizeof(f[i]));
	}
}
