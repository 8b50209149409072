#include <stdarg.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "response.h"

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
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
	buf_free(&r->body);
}

void
response_header(struct response *r, const char *name, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	buf_addf(&r->headers, "%s: %s\r\n", name, value);
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

void
response_prepare_fault(const struct response *r, const char *why, struct buf *out, struct buf *log)
{
	struct response f;

	memset(&f, 0, sizeof(f));
	memcpy(f.request_id, r->request_id, sizeof(f.request_id));
	set_error(&f, 503, "storage_unavailable", "The order store is unavailable; nothing was changed. Retry later.");
	response_header(&f, "Retry-After", "30");
	out->len = 0;
	response_head(&f, out);
	buf_add(out, f.body.p, f.body.len);
	log->len = 0;
	buf_addf(log, "menzzo: request %s: 503 storage_unavailable: %s\n", r->request_id, why);
	response_free(&f);
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

int
response_head(const struct response *r, struct buf *out)
{
	return buf_addf(out, "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "X-Request-Id: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Cache-Control: %s\r\n"
	    "%s\r\n",
	    r->status, reason(r->status), r->content_type ? r->content_type : "application/json", r->body.len,
	    r->request_id, r->cache_control[0] ? r->cache_control : "no-store", r->headers.p ? r->headers.p : "");
}

int
response_send(const struct response *r, FILE *out)
{
	struct buf head = { 0 };
	int rc = response_head(r, &head);

	if (rc == 0 && fwrite(head.p, 1, head.len, out) != head.len)
		rc = -1;
	if (rc == 0 && r->body.len && fwrite(r->body.p, 1, r->body.len, out) != r->body.len)
		rc = -1;
	buf_free(&head);
	return fflush(out) == 0 && !ferror(out) && rc == 0 ? 0 : -1;
}
