#ifndef MENZZO_WEBHOOK_H
#define MENZZO_WEBHOOK_H

/*
 * Webhooks as Standard Webhooks 1.0 says (SPEC §8), the parts that need no
 * network: the secret's text, the signature, the retry schedule, the
 * reading of a Retry-After, and what an attempt's outcome does to an
 * endpoint (store.h: struct webhook).  tools/webhook_http.c sends.
 */

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* "whsec_" and the key in base64: out[WEBHOOK_SECRET_TEXT_LEN + 1]. */
#define WEBHOOK_SECRET_TEXT_LEN (6 + 44)
void webhook_secret_text(const unsigned char key[WEBHOOK_KEY_LEN], char *out);

/*
 * The webhook-signature header's value for message id, timestamp ts and
 * body: "v1," and the base64 of HMAC-SHA256(key, id "." ts "." body), in
 * out[WEBHOOK_SIGNATURE_LEN + 1].  An endpoint's key is WEBHOOK_KEY_LEN
 * bytes; the specification's own example has 24.
 */
#define WEBHOOK_SIGNATURE_LEN (3 + 44)
void webhook_sign(const unsigned char *key, size_t keylen, const char *id, int64_t ts, const char *body, size_t len,
    char *out);

/* The retries: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
#define WEBHOOK_RETRIES 9
/* Longest a Retry-After is honoured (a longer one waits this long). */
#define WEBHOOK_RETRY_AFTER_MAX 86400
/* An endpoint without a delivery this long after its first failure is disabled. */
#define WEBHOOK_FAILING_MAX 86400

/*
 * The wait before the next attempt after `failed` failed attempts (1 to
 * WEBHOOK_RETRIES): the schedule's, moved by up to 10 % either way by rnd
 * (any 32-bit value, uniform).  -1 after the last retry.
 */
int64_t webhook_retry_delay(uint32_t failed, uint32_t rnd);

/*
 * A response header line (name: value, CRLF or not) of Retry-After:
 * *delay its delta-seconds (0 to WEBHOOK_RETRY_AFTER_MAX, a larger one
 * capped), 1.  0 for another header, -1 for a Retry-After that is not
 * delta-seconds (an HTTP-date: the caller reads it with its HTTP library).
 * value[0..*vlen) is the trimmed value either way.
 */
int webhook_retry_after(const char *line, size_t len, int64_t *delay, const char **value, size_t *vlen);

/* What an attempt at delivering an event came to. */
struct webhook_attempt {
	long status;          /* the HTTP status, 0 when none came (connect, TLS, time out) */
	int64_t retry_after;  /* the answer's Retry-After in seconds, -1 without one */
	const char *error;    /* why it failed, "" for a 2xx */
};

enum webhook_outcome { WEBHOOK_DELIVERED, WEBHOOK_RETRY, WEBHOOK_DISABLED };

/*
 * Applies attempt a at event seq (the one after w->last_seq) at time now
 * to w: a 2xx delivers it; 410 disables w, and so does a failure a day or
 * more after the first since the last delivery, or after the last retry;
 * any other failure schedules the next attempt (Retry-After on 429 and 503
 * where given, else the schedule with jitter rnd).  Returns what it did.
 */
enum webhook_outcome webhook_attempted(struct webhook *w, uint64_t seq, const struct webhook_attempt *a, int64_t now,
    uint32_t rnd);

/* Makes a disabled (or failing) endpoint due again: it resumes after its last delivered event. */
void webhook_enable(struct webhook *w);

/* An endpoint's target as a word: a supplier's slug, or "backoffice"; the prefix of its message ids. */
const char *webhook_target_name(unsigned target);

#endif
