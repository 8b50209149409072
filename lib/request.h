#ifndef MENZZO_REQUEST_H
#define MENZZO_REQUEST_H

#include <stddef.h>
#include <stdio.h>

#include "field.h"

#define BODY_MAX 65536           /* a request body, most endpoints (lib/endpoints.def says which) */
#define BODY_MAX_LARGE 262144    /* update-stock's: 1,000 items of up to 64-byte SKUs */
#define BODY_MAX_IMPORT 16777216 /* the back office's import (JSON Lines, read line by line) and label PDFs */
#define QUERY_MAX 4096
#define FIELD_VALUE_MAX 1024

/*
 * One request, read from CGI variables (RFC 3875) and a body: the process
 * environment and standard input for plain CGI, a FastCGI request's
 * parameters and input stream for a responder.  The strings point into
 * where they came from: they live as long as the request does, no longer.
 */
struct request {
	const char *method;        /* REQUEST_METHOD */
	const char *query;         /* QUERY_STRING, "" when absent */
	const char *authorization; /* HTTP_AUTHORIZATION, or NULL */
	const char *content_type;  /* CONTENT_TYPE, or NULL */
	const char *path_info;     /* PATH_INFO, "" when absent */
	long long content_length;  /* CONTENT_LENGTH, -1 when absent, -2 when not a number */
	char *body;                /* read by request_read_body; NUL-terminated */
	size_t body_len;
};

/* Where a request comes from. */
struct request_source {
	/* The CGI variable name, or NULL when absent. */
	const char *(*param)(void *ctx, const char *name);
	/* Reads up to n body bytes into buf: how many, 0 at the end, -1 on an error. */
	long (*read)(void *ctx, char *buf, size_t n);
	void *ctx;
};
/* The process environment and standard input (plain CGI, a run by hand). */
extern const struct request_source request_cgi_source;

/* Fills r from src's variables; reads nothing yet. */
void request_from(struct request *r, const struct request_source *src);

enum body_result {
	BODY_OK,
	BODY_TOO_LARGE, /* over the endpoint's bound: 413 */
	BODY_BAD,       /* CONTENT_LENGTH invalid, or the body shorter than it says: 400 */
	BODY_NOMEM,
};
/* Reads the body (at most max bytes, at most BODY_MAX_IMPORT) from src.  request_free frees it. */
enum body_result request_read_body(struct request *r, const struct request_source *src, size_t max);
void request_free(struct request *r);

enum parse_result {
	PARSE_OK,
	PARSE_BAD_FIELD, /* *bad is the known field at fault: given twice, badly escaped, too long, of another kind */
	PARSE_INVALID,   /* *bad is the known field its validator refused: rules[*bad].message says why */
	PARSE_BAD_BODY,  /* the whole text is malformed */
	PARSE_NOMEM,
	PARSE_NEEDS_JSON, /* *bad is an array field given in a form, which cannot carry one */
	PARSE_DUPLICATE, /* json_record_parse: a key given twice in one object, named */
	PARSE_UNKNOWN,   /* json_record_parse: a member no rule names, named */
};

/*
 * The elements of an array field, in order, each read against the rule's
 * element table as an object of its own: an element's fields may be
 * invalid (its res says how) without making the whole text invalid.
 */
struct field_element {
	enum parse_result res; /* PARSE_OK, PARSE_BAD_FIELD or PARSE_INVALID */
	int bad;               /* then the element's field at fault */
	struct field *f;       /* [nfields], as the parsers fill out[] */
};
struct field_list {
	size_t n, nfields;
	struct field_element *e;
};

/*
 * The parsers below read fields against a whitelist, rules[0..n) (a rule
 * without a validator takes any value of its kind).  out[0..n) must be
 * zeroed; free with fields_free.  Unknown fields are ignored; a known field
 * with an empty value is set with an empty value, which every validator
 * refuses.  Each set field is then checked by its rule's validator, in
 * table order, once every field was read: a field that cannot be read
 * (PARSE_BAD_FIELD, the first in table order) wins over one that is
 * invalid, and the other fields are read all the same.
 */

/*
 * application/x-www-form-urlencoded text (a query string or a body).
 * Percent-escapes and '+' are decoded; a known field given twice, with a
 * bad escape, an encoded NUL or a value longer than its rule allows is
 * PARSE_BAD_FIELD; an array field is PARSE_NEEDS_JSON.
 */
enum parse_result form_parse(const char *s, size_t len, const struct field_rule *rules, size_t n,
    struct field *out, int *bad);

/*
 * A JSON object: every known member must be of its rule's kind, given once
 * (else PARSE_BAD_FIELD): a text a string free of NUL and within its
 * bound, a boolean true or false, an array a JSON array of min_items to
 * max_items objects, each read against the element table into
 * out[i].list.  A lone UTF-16 surrogate escape in a known field's value
 * (its own, or its elements', at any depth) is PARSE_INVALID for that
 * field.  Anything but one JSON object (nested at most 8 deep), any other
 * key given twice in any object of it, or a lone surrogate anywhere else,
 * is PARSE_BAD_BODY.
 */
enum parse_result json_fields_parse(const char *s, size_t len, const struct field_rule *rules, size_t n,
    struct field *out, int *bad);

/*
 * A record (an import line): json_fields_parse's reading, stricter.  A key
 * given twice in any object is PARSE_DUPLICATE and a member of the object
 * that no rule names PARSE_UNKNOWN, both with the key, decoded, in
 * key[0..keylen) (cut to fit); a lone surrogate outside a known field is
 * PARSE_BAD_BODY.
 */
enum parse_result json_record_parse(const char *s, size_t len, const struct field_rule *rules, size_t n,
    struct field *out, int *bad, char *key, size_t keylen);

/*
 * A POST body: JSON when it starts (after white space) with '{', else
 * form-encoded, as plain `curl -d` sends it.  The Content-Type must be
 * absent, application/json or application/x-www-form-urlencoded
 * (PARSE_BAD_BODY otherwise).
 */
enum parse_result body_parse(const struct request *r, const struct field_rule *rules, size_t n,
    struct field *out, int *bad);

/* The byte bound of a text field of this rule. */
size_t field_max_len(const struct field_rule *rule);

/* Frees what the parsers put in f[0..n), array elements included, and zeroes it. */
void fields_free(struct field *f, size_t n);

#endif
