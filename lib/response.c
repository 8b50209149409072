#include <stdarg.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "response.h"

static const char *
reason(int status)
{
	switch (status) {
#define STATUS(code, phrase) case code: return phrase;
#include "status.def"
#undef STATUS
	}
	return "Unknown";
}

/* 16 lowercase hex digits of CSPRNG output: unguessable, and never the same twice in practice. */
static void
new_request_id(char out[REQUEST_ID_LEN + 1])
{
	unsigned char raw[REQUEST_ID_LEN / 2];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, REQUEST_ID_LEN + 1, raw, sizeof(raw));
}

void
response_init(struct response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->content_type = "application/json";
	new_request_id(r->request_id);
}

void
response_free(struct response *r)
{
	buf_free(&r->headers);
	buf_free(&r->kept);
	buf_free(&r->body);
}

void
response_header(struct response *r, const char *name, const char *fmt, ...)
{
	va_list ap;

	buf_adds(&r->headers, name);
	buf_add(&r->headers, ": ", 2);
	va_start(ap, fmt);
	buf_vaddf(&r->headers, fmt, ap);
	va_end(ap);
	buf_add(&r->headers, "\r\n", 2);
}

void
response_keep_headers(struct response *r)
{
	buf_add(&r->kept, r->headers.p, r->headers.len);
	r->headers.len = 0;
	if (r->headers.p)
		r->headers.p[0] = '\0';
}

void
response_raw(struct response *r, int status, const char *body, size_t len)
{
	r->status = status;
	r->body.len = 0;
	buf_add(&r->body, body, len);
}

void
response_take(struct response *r, int status, struct buf *body)
{
	struct buf old = r->body;

	r->status = status;
	r->body = *body;
	*body = (struct buf){ 0 };
	buf_free(&old);
}

void
response_json(struct response *r, int status, struct json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	response_raw(r, status, s, len);
}

void
response_error(struct response *r, int status, const char *code, const char *message)
{
	response_error_why(r, status, code, message, NULL);
}

/* The error body and headers, without the log line. */
static void
set_error(struct response *r, int status, const char *code, const char *message)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "success", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(message));
	json_object_object_add(o, "code", json_object_new_string(code));
	r->headers.len = 0;
	if (r->headers.p)
		r->headers.p[0] = '\0';
	r->content_type = "application/json";
	r->cache_control[0] = '\0';
	response_json(r, status, o);
	json_object_put(o);
}

void
response_error_why(struct response *r, int status, const char *code, const char *message, const char *why)
{
	set_error(r, status, code, message);
	fprintf(stderr, "menzzo: request %s: %d %s: %s\n", r->request_id, status, code,
	    why != NULL && *why != '\0' ? why : message);
}

/*
 * The body of the fault guard's 503, prepared for every request although it
 * is almost never sent: a constant, the text json-c renders for
 * response_error(503, "storage_unavailable", STORE_UNAVAILABLE_SENTENCE)
 * (tests/unit/test_validate.c checks that it still is).
 */
const char response_fault_body[] = "{\"success\":false,\"error\":\"" STORE_UNAVAILABLE_SENTENCE
    "\",\"code\":\"storage_unavailable\"}";

void
response_prepare_fault(const struct response *r, const char *why, struct buf *out, struct buf *log)
{
	struct response f;

	memset(&f, 0, sizeof(f));
	memcpy(f.request_id, r->request_id, sizeof(f.request_id));
	f.status = 503;
	f.body.p = (char *)response_fault_body;
	f.body.len = sizeof(response_fault_body) - 1;
	f.headers.p = "Retry-After: 30\r\n";
	f.headers.len = strlen(f.headers.p);
	if (out != NULL) {
		out->len = 0;
		response_head(&f, out);
		buf_add(out, response_fault_body, sizeof(response_fault_body) - 1);
	}
	log->len = 0;
	buf_adds(log, "menzzo: request ");
	buf_adds(log, r->request_id);
	buf_adds(log, ": 503 storage_unavailable: ");
	buf_adds(log, why);
	buf_add(log, "\n", 1);
}

void
response_log(const struct response *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "menzzo: request %s: ", r->request_id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Appends the decimal digits of v. */
static int
add_uint(struct buf *b, unsigned long long v)
{
	char d[24];
	int n = 0;

	do
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return buf_add(b, d + sizeof(d) - n, (size_t)n);
}

int
response_head(const struct response *r, struct buf *out)
{
	/* Appended piece by piece: a response is sent for every request, and printf's parsing is most of its cost. */
	int rc = buf_adds(out, "Status: ") || add_uint(out, (unsigned)r->status) || buf_add(out, " ", 1) ||
	    buf_adds(out, reason(r->status)) ||
	    buf_adds(out, "\r\nContent-Type: ") || buf_adds(out, r->content_type ? r->content_type : "application/json") ||
	    buf_adds(out, "\r\nContent-Length: ") || add_uint(out, r->body.len) ||
	    buf_adds(out, "\r\nX-Request-Id: ") || buf_adds(out, r->request_id) ||
	    buf_adds(out, "\r\nX-Content-Type-Options: nosniff\r\nCache-Control: ") ||
	    buf_adds(out, r->cache_control[0] ? r->cache_control : "no-store") || buf_add(out, "\r\n", 2) ||
	    buf_add(out, r->headers.p, r->headers.len) || buf_add(out, r->kept.p, r->kept.len) ||
	    buf_add(out, "\r\n", 2);

	return rc ? -1 : 0;
}

int
response_write(const struct response *r, int (*write)(void *ctx, const void *p, size_t n), void *ctx)
{
	struct buf head = { 0 };
	int rc = response_head(r, &head);

	if (rc == 0)
		rc = write(ctx, head.p, head.len);
	if (rc == 0 && r->body.len && !r->head_only)
		rc = write(ctx, r->body.p, r->body.len);
	buf_free(&head);
	return rc;
}

static int
file_write(void *ctx, const void *p, size_t n)
{
	return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

int
response_send(const struct response *r, FILE *out)
{
	int rc = response_write(r, file_write, out);

	return fflush(out) == 0 && !ferror(out) && rc == 0 ? 0 : -1;
}
