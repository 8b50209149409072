/*
 * Webhooks without the network (lib/webhook.c): the signature against
 * Standard Webhooks' own example, the secret's text, the retry schedule
 * and its jitter, Retry-After, and an endpoint's state after each outcome.
 */
#include <string.h>

#include <sodium.h>

#include "unit.h"
#include "webhook.h"

static void
test_signature(void)
{
	/* The specification's example: secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw. */
	unsigned char key[64];
	size_t keylen = 0;
	char sig[WEBHOOK_SIGNATURE_LEN + 1];
	const char *body = "{\"test\": 2432232314}";

	sodium_base642bin(key, sizeof(key), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 32, NULL, &keylen, NULL,
	    sodium_base64_VARIANT_ORIGINAL);
	webhook_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig);
	CHECK(keylen == 24 && strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") == 0,
	    "the signature of Standard Webhooks' example");
	webhook_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body), sig);
	CHECK(strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") != 0, "another timestamp signs otherwise");
}

static void
test_secret_text(void)
{
	unsigned char key[WEBHOOK_KEY_LEN], back[WEBHOOK_KEY_LEN];
	char text[WEBHOOK_SECRET_TEXT_LEN + 1];
	size_t n = 0;

	for (int i = 0; i < WEBHOOK_KEY_LEN; i++)
		key[i] = (unsigned char)(i * 37 + 11);
	webhook_secret_text(key, text);
	CHECK(strlen(text) == WEBHOOK_SECRET_TEXT_LEN && strncmp(text, "whsec_", 6) == 0, "whsec_ and 44 characters");
	CHECK(sodium_base642bin(back, sizeof(back), text + 6, strlen(text + 6), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 && n == WEBHOOK_KEY_LEN && memcmp(back, key, n) == 0,
	    "the secret's base64 is the key");
}

static void
test_schedule(void)
{
	static const int64_t base[WEBHOOK_RETRIES] = { 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400 };
	int ok = 1;

	for (uint32_t f = 1; f <= WEBHOOK_RETRIES; f++) {
		int64_t lo = webhook_retry_delay(f, 0), hi = webhook_retry_delay(f, UINT32_MAX),
		    mid = webhook_retry_delay(f, UINT32_MAX / 2);
		int64_t b = base[f - 1];

		if (lo != b - b / 10 || hi != b + b / 10 || mid < lo || mid > hi || lo < 1)
			ok = 0;
	}
	CHECK(ok, "each retry's wait within 10 % of the schedule, both ends reached");
	CHECK(webhook_retry_delay(0, 0) == -1 && webhook_retry_delay(WEBHOOK_RETRIES + 1, 0) == -1,
	    "no retry before the first failure nor after the last");
}

static void
test_retry_after(void)
{
	const char *v;
	size_t vlen;
	int64_t d = -1;

	CHECK(webhook_retry_after("Retry-After: 120\r\n", 18, &d, &v, &vlen) == 1 && d == 120, "delta-seconds");
	CHECK(webhook_retry_after("retry-after:7", 13, &d, &v, &vlen) == 1 && d == 7, "any case, no space");
	CHECK(webhook_retry_after("Retry-After: 99999999999999999999\r\n", 35, &d, &v, &vlen) == 1 &&
	    d == WEBHOOK_RETRY_AFTER_MAX, "a huge wait is the longest one");
	CHECK(webhook_retry_after("Retry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n", 44, &d, &v, &vlen) == -1 &&
	    vlen == 29 && strncmp(v, "Wed, 21 Oct 2026 07:28:00 GMT", vlen) == 0, "an HTTP-date is left to the caller");
	CHECK(webhook_retry_after("Retry-After: 12a\r\n", 18, &d, &v, &vlen) == -1, "not digits");
	CHECK(webhook_retry_after("Retry-After: \r\n", 15, &d, &v, &vlen) == -1, "empty");
	CHECK(webhook_retry_after("Retry-Afterx: 5\r\n", 17, &d, &v, &vlen) == 0 &&
	    webhook_retry_after("Content-Length: 5\r\n", 19, &d, &v, &vlen) == 0, "other headers");
	/* Not NUL-terminated: the parser must stop at the length. */
	CHECK(webhook_retry_after("Retry-After: 15999", 15, &d, &v, &vlen) == 1 && d == 15, "reads only len bytes");
}

static void
test_outcomes(void)
{
	struct webhook w;
	struct webhook_attempt ok = { 200, -1, "" }, e500 = { 500, -1, "HTTP 500" }, gone = { 410, -1, "HTTP 410" },
	    slow = { 429, 120, "HTTP 429" }, none = { 0, -1, "Couldn't connect to server" },
	    plain503 = { 503, -1, "HTTP 503" };
	int64_t t0 = 1800000000;

	memset(&w, 0, sizeof(w));
	w.last_seq = 4;
	CHECK(webhook_attempted(&w, 5, &ok, t0, 0) == WEBHOOK_DELIVERED && w.last_seq == 5 && w.delivered_at == t0 &&
	    w.attempts == 0 && w.next_at == 0, "a 2xx delivers");
	CHECK(webhook_attempted(&w, 6, &e500, t0 + 10, 0) == WEBHOOK_RETRY && w.last_seq == 5 && w.attempts == 1 &&
	    w.next_at == t0 + 10 + 5 - 0 && w.failing_since == t0 + 10 && strcmp(w.error, "HTTP 500") == 0,
	    "a 500 waits the first retry (5 s, jitter 0 at rnd 0 is -10 %: 4.5 rounds to 5 - 0)");
	CHECK(webhook_attempted(&w, 6, &none, t0 + 20, 0) == WEBHOOK_RETRY && w.attempts == 2 &&
	    w.next_at == t0 + 20 + 270 && w.failing_since == t0 + 10, "no answer: the second retry (5 min - 10 %)");
	CHECK(webhook_attempted(&w, 6, &slow, t0 + 30, 0) == WEBHOOK_RETRY && w.next_at == t0 + 30 + 120,
	    "429's Retry-After is waited instead");
	CHECK(webhook_attempted(&w, 6, &plain503, t0 + 40, 0) == WEBHOOK_RETRY && w.attempts == 4 &&
	    w.next_at == t0 + 40 + 6480, "a 503 without Retry-After follows the schedule");
	CHECK(webhook_attempted(&w, 6, &e500, t0 + 10 + 86400, 0) == WEBHOOK_DISABLED && w.disabled &&
	    w.last_seq == 5, "a day after the first failure: disabled");
	webhook_enable(&w);
	CHECK(!w.disabled && w.attempts == 0 && w.next_at == 0 && w.failing_since == 0 && w.last_seq == 5,
	    "enable resumes after the last delivery");
	CHECK(webhook_attempted(&w, 6, &gone, t0 + 100000, 0) == WEBHOOK_DISABLED && w.disabled &&
	    strcmp(w.error, "HTTP 410") == 0, "410 disables at once");
	webhook_enable(&w);
	for (uint32_t i = 1; i <= WEBHOOK_RETRIES; i++)
		webhook_attempted(&w, 6, &e500, t0 + 200000, 0);  /* every failure at once: the day never passes */
	CHECK(!w.disabled && w.attempts == WEBHOOK_RETRIES, "nine failed retries scheduled");
	CHECK(webhook_attempted(&w, 6, &e500, t0 + 200000, 0) == WEBHOOK_DISABLED, "the last retry failing disables");
	webhook_enable(&w);
	CHECK(webhook_attempted(&w, 6, &ok, t0 + 300000, 0) == WEBHOOK_DELIVERED && w.error[0] == '\0' && w.last_seq == 6,
	    "a delivery clears the error");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_signature();
	test_secret_text();
	test_schedule();
	test_retry_after();
	test_outcomes();
	return UNIT_DONE();
}
