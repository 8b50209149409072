/*
 * Webhooks, without the network (webhook.h): Standard Webhooks' secret,
 * signature and retry schedule, and an endpoint's state after an attempt.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "supplier.h"
#include "webhook.h"

void
webhook_secret_text(const unsigned char key[WEBHOOK_KEY_LEN], char *out)
{
	snprintf(out, 7, "whsec_");
	sodium_bin2base64(out + 6, WEBHOOK_SECRET_TEXT_LEN + 1 - 6, key, WEBHOOK_KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
}

void
webhook_sign(const unsigned char *key, size_t keylen, const char *id, int64_t ts, const char *body, size_t len,
    char *out)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char stamp[24];
	int n = snprintf(stamp, sizeof(stamp), ".%" PRId64 ".", ts);

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)stamp, (unsigned long long)n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	snprintf(out, 4, "v1,");
	sodium_bin2base64(out + 3, WEBHOOK_SIGNATURE_LEN + 1 - 3, mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(&st, sizeof(st));
}

int64_t
webhook_retry_delay(uint32_t failed, uint32_t rnd)
{
	static const int64_t schedule[WEBHOOK_RETRIES] = {
		5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,  /* 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h */
	};
	int64_t base, spread;

	if (failed < 1 || failed > WEBHOOK_RETRIES)
		return -1;
	base = schedule[failed - 1];
	/* base ± 10 %: rnd scaled to [0, 2 × spread], then centred. */
	spread = base / 10;
	return base - spread + (int64_t)(((uint64_t)rnd * (uint64_t)(2 * spread + 1)) >> 32);
}

int
webhook_retry_after(const char *line, size_t len, int64_t *delay, const char **value, size_t *vlen)
{
	static const char name[] = "retry-after:";
	size_t n = sizeof(name) - 1, i, end;
	uint64_t secs;

	*value = NULL;
	*vlen = 0;
	if (len < n || strncasecmp(line, name, n) != 0)
		return 0;
	for (i = n; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (end = len; end > i && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' ' ||
	    line[end - 1] == '\t'); end--)
		;
	*value = line + i;
	*vlen = end - i;
	/* delta-seconds: 1*DIGIT (leading zeros too); a huge one is as good as the longest wait. */
	if (*vlen == 0)
		return -1;
	secs = 0;
	for (size_t k = 0; k < *vlen; k++) {
		if ((*value)[k] < '0' || (*value)[k] > '9')
			return -1;
		if (secs <= WEBHOOK_RETRY_AFTER_MAX)
			secs = secs * 10 + (uint64_t)((*value)[k] - '0');
	}
	if (secs > WEBHOOK_RETRY_AFTER_MAX)
		secs = WEBHOOK_RETRY_AFTER_MAX;
	*delay = (int64_t)secs;
	return 1;
}

enum webhook_outcome
webhook_attempted(struct webhook *w, uint64_t seq, const struct webhook_attempt *a, int64_t now, uint32_t rnd)
{
	int64_t delay;

	if (a->status >= 200 && a->status <= 299) {
		w->last_seq = seq;
		w->attempts = 0;
		w->next_at = 0;
		w->failing_since = 0;
		w->delivered_at = now;
		w->error[0] = '\0';
		return WEBHOOK_DELIVERED;
	}
	if (w->attempts < UINT32_MAX)
		w->attempts++;
	if (w->failing_since == 0)
		w->failing_since = now;
	snprintf(w->error, sizeof(w->error), "%s", a->error[0] ? a->error : "failed");
	if (a->status == 410 || now - w->failing_since >= WEBHOOK_FAILING_MAX) {
		w->disabled = 1;
		w->next_at = 0;
		return WEBHOOK_DISABLED;
	}
	if ((a->status == 429 || a->status == 503) && a->retry_after >= 0)
		delay = a->retry_after;
	else if ((delay = webhook_retry_delay(w->attempts, rnd)) < 0) {
		w->disabled = 1;
		w->next_at = 0;
		return WEBHOOK_DISABLED;
	}
	w->next_at = now + delay;
	return WEBHOOK_RETRY;
}

void
webhook_enable(struct webhook *w)
{
	w->disabled = 0;
	w->attempts = 0;
	w->next_at = 0;
	w->failing_since = 0;
}

const char *
webhook_target_name(unsigned target)
{
	const struct supplier *s = target == WEBHOOK_BACKOFFICE ? NULL : supplier_by_id(target);

	return s != NULL ? s->slug : "backoffice";
}
