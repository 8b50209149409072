#ifndef MENZZO_RESPONSE_H
#define MENZZO_RESPONSE_H

#include <stdio.h>

#include "buf.h"

struct json_object;

#define REQUEST_ID_LEN 16

/*
 * A response under construction.  Handlers set a status, extra headers and
 * a body through the calls below; response_send alone writes the status line,
 * Content-Type, Content-Length, X-Request-Id, Cache-Control and
 * X-Content-Type-Options.
 */
struct response {
	int status;
	const char *content_type;
	char cache_control[64];  /* "no-store" unless set */
	struct buf headers;      /* extra "Name: value\r\n" lines */
	struct buf kept;         /* extra lines that an error keeps (the request's, not the answer's) */
	struct buf body;
	char request_id[REQUEST_ID_LEN + 1];
	int head_only;           /* a HEAD request: the headers of the GET (its Content-Length too), no body */
};

/* Starts a 200 JSON response with a fresh request id. */
void response_init(struct response *r);
void response_free(struct response *r);

/* Adds a header line; name and value must be free of CR and LF (the callers' are constants or validated). */
void response_header(struct response *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Makes the extra headers added so far the request's rather than its
 * answer's (the rate limit's): every response sent for the request carries
 * them, an error set afterwards included.
 */
void response_keep_headers(struct response *r);

/* Sets status and a JSON body (serialised plainly, '/' not escaped). */
void response_json(struct response *r, int status, struct json_object *obj);
/* Sets status and body bytes as they are. */
void response_raw(struct response *r, int status, const char *body, size_t len);
/* Sets status and takes body over (no copy); body is left empty. */
void response_take(struct response *r, int status, struct buf *body);

/*
 * Sets an error response: {"success": false, "error": message, "code": code}
 * with this status, and writes one line with the request id, status, code and
 * message to standard error (the server's error log).  Any earlier body or
 * extra headers are dropped (not the kept ones).
 */
void response_error(struct response *r, int status, const char *code, const char *message);
/*
 * The same, but the error log line gives why (the cause, for the
 * maintainer: a path, a system error) instead of message; why never
 * reaches the client.  why NULL or "" is response_error.
 */
void response_error_why(struct response *r, int status, const char *code, const char *message, const char *why);

/* Writes an internal detail, never shown to the client, to the error log with the request id. */
void response_log(const struct response *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends the CGI head (status line, headers, blank line) to out; 0, or -1 when memory runs out. */
int response_head(const struct response *r, struct buf *out);
/* Hands the CGI response (head, then body) to write, which returns 0 or -1; returns 0, or -1 on an error. */
int response_write(const struct response *r, int (*write)(void *ctx, const void *p, size_t n), void *ctx);
/* Writes the CGI response to out and flushes it; returns 0, or -1 on a write error. */
int response_send(const struct response *r, FILE *out);

/*
 * Prepares, for the fault guard (fault.h), the 503 storage_unavailable that
 * r would send if the store faulted (whole, head and body, into out; none
 * when out is NULL) and its error-log line naming why (into log).  Writes
 * nothing now.
 */
void response_prepare_fault(const struct response *r, const char *why, struct buf *out, struct buf *log);

/* The sentence of every 503 storage_unavailable, and the fault guard's body. */
#define STORE_UNAVAILABLE_SENTENCE "The order store is unavailable; nothing was changed. Retry later."
extern const char response_fault_body[];

#endif
