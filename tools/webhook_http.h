#ifndef MENZZO_WEBHOOK_HTTP_H
#define MENZZO_WEBHOOK_HTTP_H

/*
 * Webhooks on the network, with libcurl: which URLs an endpoint may have,
 * and one signed POST (Standard Webhooks 1.0) with its outcome.
 */

#include <stddef.h>
#include <stdint.h>

#include "webhook.h"

/*
 * Whether url may be an endpoint's: https://, or http:// to a loopback
 * address (127.0.0.0/8, [::1], localhost); at most WEBHOOK_URL_MAX
 * printable ASCII characters, no user or password (webhook list shows the
 * URL), no fragment.  0 with the URL as libcurl writes it (the scheme
 * in lower case, a path of at least "/") in out[WEBHOOK_URL_MAX + 1],
 * or -1 with why[0..whylen) the reason.
 */
int webhook_url_check(const char *url, char *out, char *why, size_t whylen);

/* A sender: one libcurl handle, kept between requests (a connection is reused). */
struct webhook_sender;
/* NULL when libcurl cannot start. */
struct webhook_sender *webhook_sender_new(void);
void webhook_sender_free(struct webhook_sender *s);

/*
 * POSTs body[0..len) to w's URL as message id at timestamp ts, signed with
 * w's key; 5 s to connect, 15 s in all, no redirect followed.  Fills *a:
 * the status (0 without an answer), Retry-After, and error (a sentence in
 * s, valid until its next request).
 */
void webhook_post(struct webhook_sender *s, const struct webhook *w, const char *id, int64_t ts, const char *body,
    size_t len, struct webhook_attempt *a);

#endif
