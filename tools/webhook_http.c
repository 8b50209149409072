/*
 * Webhooks on the network (webhook_http.h): URLs checked with libcurl's
 * URL parser, POSTs sent with its easy interface.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "clock.h"
#include "webhook_http.h"

#define CONNECT_TIMEOUT_S 5
#define TIMEOUT_S 15

struct webhook_sender {
	CURL *h;
	int64_t retry_after;
	char error[CURL_ERROR_SIZE];
	char message[WEBHOOK_ERROR_MAX + 1];
};

static int
loopback_host(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (host[0] == '[') {
		char bare[INET6_ADDRSTRLEN];
		size_t n = strlen(host);

		if (n < 3 || n - 2 >= sizeof(bare) || host[n - 1] != ']')
			return 0;
		memcpy(bare, host + 1, n - 2);
		bare[n - 2] = '\0';
		return inet_pton(AF_INET6, bare, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return 0;
}

/* A host name of letters, digits, dots and hyphens, or an IPv6 address in brackets: nothing libcurl decoded. */
static int
plain_host(const char *host)
{
	const char *ok = host[0] == '[' ? "0123456789abcdefABCDEF:.[]" :
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-";

	return host[0] != '\0' && host[strspn(host, ok)] == '\0';
}

int
webhook_url_check(const char *url, char *out, char *why, size_t whylen)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL, *fragment = NULL, *full = NULL;
	size_t n = strlen(url);
	int rc = -1;

	if (n == 0 || n > WEBHOOK_URL_MAX) {
		snprintf(why, whylen, "a URL is 1 to %d characters", WEBHOOK_URL_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (url[i] <= ' ' || url[i] > '~') {
			snprintf(why, whylen, "a URL is printable ASCII without spaces (percent-encode the rest)");
			return -1;
		}
	if ((u = curl_url()) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		snprintf(why, whylen, "not a URL (https://host/path)");
	else if (!plain_host(host))
		snprintf(why, whylen, "the host must be a name (letters, digits, dots, hyphens) or an IP address");
	else if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
		snprintf(why, whylen, "the URL must be https:// (http:// only to a loopback address)");
	else if (strcmp(scheme, "http") == 0 && !loopback_host(host))
		snprintf(why, whylen, "http:// only to a loopback address (127.0.0.0/8, [::1], localhost): use https://");
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK)
		snprintf(why, whylen, "no user or password in the URL (webhook list shows it): the signature authenticates");
	else if (curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_OK)
		snprintf(why, whylen, "no #fragment in the URL (it is never sent)");
	else if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK || strlen(full) > WEBHOOK_URL_MAX)
		snprintf(why, whylen, "a URL is 1 to %d characters", WEBHOOK_URL_MAX);
	else {
		memcpy(out, full, strlen(full) + 1);
		rc = 0;
	}
	curl_free(full);
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_free(fragment);
	curl_url_cleanup(u);
	return rc;
}

struct webhook_sender *
webhook_sender_new(void)
{
	struct webhook_sender *s;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->h = curl_easy_init()) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
webhook_sender_free(struct webhook_sender *s)
{
	if (s == NULL)
		return;
	curl_easy_cleanup(s->h);
	free(s);
	curl_global_cleanup();
}

/* The answer's body is not read: what matters is its status. */
static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* Each header line of the answer: a Retry-After is kept (seconds, or an HTTP-date read by libcurl). */
static size_t
header_line(char *p, size_t size, size_t n, void *arg)
{
	struct webhook_sender *s = arg;
	const char *value;
	size_t vlen;
	int64_t delay;
	int rc = webhook_retry_after(p, size * n, &delay, &value, &vlen);

	if (rc == 1)
		s->retry_after = delay;
	else if (rc == -1 && vlen > 0 && vlen < 64) {
		char date[64];
		time_t when, now = (time_t)clock_now();  /* the clock the next attempt is set by */

		memcpy(date, value, vlen);
		date[vlen] = '\0';
		if ((when = curl_getdate(date, NULL)) != -1)
			s->retry_after = when <= now ? 0 : when - now > WEBHOOK_RETRY_AFTER_MAX ? WEBHOOK_RETRY_AFTER_MAX :
			    (int64_t)(when - now);
	}
	return size * n;
}

/* Appends a header line to *l: 0, or -1 when memory ran out (*l as it was). */
static int
add_header(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);

	if (n == NULL)
		return -1;
	*l = n;
	return 0;
}

void
webhook_post(struct webhook_sender *s, const struct webhook *w, const char *id, int64_t ts, const char *body,
    size_t len, struct webhook_attempt *a)
{
	char line[WEBHOOK_SIGNATURE_LEN + 64];
	struct curl_slist *headers = NULL;
	CURLcode rc;
	long status = 0;
	int bad;

	s->retry_after = -1;
	s->error[0] = '\0';
	s->message[0] = '\0';
	a->status = 0;
	a->retry_after = -1;
	a->error = s->message;
	/* A body over 1 KiB would wait for a 100 Continue first: a receiver need not send one. */
	bad = add_header(&headers, "content-type: application/json") || add_header(&headers, "Expect:");
	snprintf(line, sizeof(line), "webhook-id: %s", id);
	bad = bad || add_header(&headers, line);
	snprintf(line, sizeof(line), "webhook-timestamp: %lld", (long long)ts);
	bad = bad || add_header(&headers, line);
	snprintf(line, sizeof(line), "webhook-signature: ");
	webhook_sign(w->key, sizeof(w->key), id, ts, body, len, line + 19);
	if (bad || add_header(&headers, line)) {
		curl_slist_free_all(headers);
		snprintf(s->message, sizeof(s->message), "out of memory");
		return;
	}
	curl_easy_reset(s->h);
	curl_easy_setopt(s->h, CURLOPT_URL, w->url);
	curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT, (long)TIMEOUT_S);
	curl_easy_setopt(s->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(s->h, CURLOPT_USERAGENT, "menzzo-deliver/1");
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, header_line);
	curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->error);
	rc = curl_easy_perform(s->h);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		snprintf(s->message, sizeof(s->message), "%.*s", WEBHOOK_ERROR_MAX, s->error[0] ? s->error :
		    curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	a->status = status;
	a->retry_after = s->retry_after;
	if (status < 200 || status > 299)
		snprintf(s->message, sizeof(s->message), "HTTP %ld", status);
}
