/*
 * Webhooks' two readers of outside text: a response header line
 * (webhook_retry_after, against a reference reading of Retry-After) and
 * an endpoint's URL (webhook_url_check, libcurl's parser under our rules:
 * what it accepts is https://, or http:// to loopback, without user,
 * password or fragment, and within bounds).  The first byte chooses.
 */
#include <strings.h>

#include "webhook.h"
#include "webhook_http.h"

#include "fuzz.h"

static int
is_trim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
fuzz_retry_after(const char *s, size_t len)
{
	static const char name[] = "retry-after:";
	size_t n = sizeof(name) - 1, i, end, vlen = 7;
	const char *value = NULL;
	int64_t delay = -7;
	int rc = webhook_retry_after(s, len, &delay, &value, &vlen), digits = 1;
	uint64_t want = 0;

	if (len < n || strncasecmp(s, name, n) != 0) {
		CHECK(rc == 0 && delay == -7);
		return;
	}
	for (i = n; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	for (end = len; end > i && is_trim(s[end - 1]); end--)
		;
	CHECK(value == s + i && vlen == end - i);
	for (size_t k = i; k < end; k++) {
		if (!fuzz_is_digit(s[k]))
			digits = 0;
		else if (want <= WEBHOOK_RETRY_AFTER_MAX)
			want = want * 10 + (uint64_t)(s[k] - '0');
	}
	if (!digits || end == i) {
		CHECK(rc == -1 && delay == -7);
		return;
	}
	CHECK(rc == 1 && delay == (int64_t)(want > WEBHOOK_RETRY_AFTER_MAX ? WEBHOOK_RETRY_AFTER_MAX : want));
}

static void
fuzz_url(const char *s)
{
	char out[WEBHOOK_URL_MAX + 1], why[160];
	size_t n = strlen(s);
	const char *auth, *end;
	int http;

	memset(out, 0x5a, sizeof(out));
	why[0] = '\0';
	if (webhook_url_check(s, out, why, sizeof(why)) != 0) {
		CHECK(why[0] != '\0' && memchr(out, '\0', sizeof(out)) == NULL);
		return;
	}
	CHECK(n >= 1 && n <= WEBHOOK_URL_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK(s[i] > ' ' && s[i] <= '~');
	n = strnlen(out, sizeof(out));
	CHECK(n <= WEBHOOK_URL_MAX);
	http = strncmp(out, "http://", 7) == 0;
	CHECK(http || strncmp(out, "https://", 8) == 0);
	CHECK(strchr(out, '#') == NULL);
	auth = out + (http ? 7 : 8);
	end = auth + strcspn(auth, "/?");
	CHECK(end > auth && memchr(auth, '@', (size_t)(end - auth)) == NULL);
	if (http)
		CHECK(strncmp(auth, "localhost", 9) == 0 || strncmp(auth, "127.", 4) == 0 || strncmp(auth, "[::1]", 5) == 0);
	/* What was accepted is accepted again, as it is. */
	{
		char again[WEBHOOK_URL_MAX + 1];

		CHECK(webhook_url_check(out, again, why, sizeof(why)) == 0 && strcmp(again, out) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		fuzz_retry_after((const char *)data + 1, size - 1);  /* length-delimited, as libcurl hands a header */
		return 0;
	}
	s = fuzz_cstr(data + 1, size - 1);
	fuzz_url(s);
	free(s);
	return 0;
}
