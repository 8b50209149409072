/*
 * Query strings, each input read by both query parsers:
 *  - get-sales: listing_query_parse on the input as QUERY_STRING, and on
 *    success the canonical form (the cache key's tail), which must parse
 *    back to the same query and the same canonical text;
 *  - get-events: events_query_read, against a reference reading of the
 *    query (split on '&', keys and values percent-decoded as form_parse
 *    does, unknown parameters ignored): taken exactly when the query is
 *    within QUERY_MAX and after and limit each appear at most once with a
 *    valid value, with the values given or the defaults; a refusal's
 *    sentence names a parameter at fault; a taken query, written again as
 *    get-events' Link writes it, reads back the same.
 */
#include <inttypes.h>

#include "events.h"
#include "listing.h"
#include "request.h"

#include "fuzz.h"

static void
check_query(const struct listing_query *q)
{
	CHECK(q->page >= 1 && q->page <= 1000000);
	CHECK(q->date_from <= q->date_to);
	CHECK(q->has_date_from || q->date_from == 0);
	CHECK(q->has_date_to || q->date_to == UINT32_MAX);
	CHECK(!q->has_last || q->last.increment_id >= 1);
	CHECK(!q->has_order || q->order.increment_id >= 1);
	CHECK((unsigned)q->status < FILTER__MAX);
	CHECK(q->has_status || q->status == (q->has_order ? FILTER_ALL : FILTER_OPEN));
}

static void
check_listing(const uint8_t *data, size_t size)
{
	struct listing_query q, q2;
	enum listing_param bad, bad2;
	char err[200] = "", err2[200] = "";
	struct buf c1 = { 0 }, c2 = { 0 };

	/* Length-delimited: data itself, so a read past size is caught. */
	if (listing_query_parse((const char *)data, size, &q, &bad, err, sizeof(err)) != 0) {
		CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(bad < Q__MAX || (bad == Q__MAX && size > QUERY_MAX));
		return;
	}
	CHECK(size <= QUERY_MAX);
	check_query(&q);
	listing_query_canonical(&q, &c1);
	CHECK(c1.p != NULL && strlen(c1.p) == c1.len);
	CHECK(listing_query_parse(c1.p, c1.len, &q2, &bad2, err2, sizeof(err2)) == 0);
	check_query(&q2);
	CHECK(q2.page == q.page && q2.status == q.status && q2.has_status);
	CHECK(q2.has_date_from == q.has_date_from && q2.date_from == q.date_from);
	CHECK(q2.has_date_to == q.has_date_to && q2.date_to == q.date_to);
	CHECK(q2.has_last == q.has_last && q2.last.increment_id == q.last.increment_id &&
	    q2.last.sale_product_id == q.last.sale_product_id);
	CHECK(q2.has_order == q.has_order && q2.order.increment_id == q.order.increment_id &&
	    q2.order.sale_product_id == q.order.sale_product_id);
	listing_query_canonical(&q2, &c2);
	CHECK(c2.len == c1.len && memcmp(c1.p, c2.p, c1.len) == 0);
	buf_free(&c1);
	buf_free(&c2);
}

/* get-events' parameters, in its table's order (a bad after is named before a bad limit). */
enum { EV_AFTER, EV_LIMIT, EV__MAX };
static const char *const ev_name[EV__MAX] = { "after", "limit" };
/* Each one's largest value, as decimal text, and its smallest. */
static const char *const ev_max[EV__MAX] = { "9223372036854775807", "1000" };
static const uint64_t ev_min[EV__MAX] = { 0, 1 };
static const uint64_t ev_default[EV__MAX] = { 0, 100 };

/* What the reference reading found of one parameter. */
struct ev_ref {
	int seen;       /* given at least once */
	int unreadable; /* given twice, or a value with a bad escape, an encoded NUL or over FIELD_VALUE_MAX bytes */
	int valid;      /* its (first) value a decimal integer within its bounds, no sign, no leading zero */
	uint64_t value;
};

static int
ref_hex(char c)
{
	if (fuzz_is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * application/x-www-form-urlencoded decoding of s[0..len) into out (room
 * for len bytes): '+' is a space, %XX a byte (two hex digits, either
 * case); -1 for a '%' without two hex digits after it or a NUL decoded.
 */
static long
ref_decode(const char *s, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			if (len - i < 3 || ref_hex(s[i + 1]) < 0 || ref_hex(s[i + 2]) < 0)
				return -1;
			c = (char)(ref_hex(s[i + 1]) * 16 + ref_hex(s[i + 2]));
			i += 2;
		} else if (c == '+')
			c = ' ';
		if (c == '\0')
			return -1;
		out[o++] = c;
	}
	return (long)o;
}

/* v[0..len) within parameter p's grammar and bounds; its value in *out. */
static int
ref_value(int p, const char *v, size_t len, uint64_t *out)
{
	size_t maxlen = strlen(ev_max[p]);
	uint64_t n = 0;

	if (len == 0 || len > maxlen || (v[0] == '0' && len > 1))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!fuzz_is_digit(v[i]))
			return 0;
	if (len == maxlen && memcmp(v, ev_max[p], len) > 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		n = n * 10 + (uint64_t)(v[i] - '0');
	if (n < ev_min[p])
		return 0;
	*out = n;
	return 1;
}

/* The reference reading of qs[0..len) (len <= QUERY_MAX) into r[EV__MAX]. */
static void
ref_events_query(const char *qs, size_t len, struct ev_ref *r)
{
	static char key[QUERY_MAX], val[QUERY_MAX];
	size_t start = 0;

	memset(r, 0, EV__MAX * sizeof(*r));
	while (start < len) {
		size_t end = start, eq;
		long klen, vlen;
		int p = -1;

		while (end < len && qs[end] != '&')
			end++;
		for (eq = start; eq < end && qs[eq] != '='; eq++)
			;
		klen = ref_decode(qs + start, eq - start, key);
		for (int i = 0; i < EV__MAX && klen >= 0; i++)
			if (fuzz_equals(key, (size_t)klen, ev_name[i]))
				p = i;
		if (p >= 0) {
			/* "after" alone is after with an empty value. */
			vlen = eq < end ? ref_decode(qs + eq + 1, end - eq - 1, val) : 0;
			if (r[p].seen || vlen < 0 || vlen > FIELD_VALUE_MAX)
				r[p].unreadable = 1;
			else
				r[p].valid = ref_value(p, val, (size_t)vlen, &r[p].value);
			r[p].seen = 1;
		}
		start = end + 1;
	}
}

/* msg[0..size) holds a NUL-terminated sentence, not empty, starting with a capital and ending with a period. */
static void
check_sentence(const char *msg, size_t size)
{
	const char *nul = memchr(msg, '\0', size);

	CHECK(nul != NULL && nul > msg);
	CHECK(msg[0] >= 'A' && msg[0] <= 'Z' && nul[-1] == '.');
}

static void
check_events(const uint8_t *data, size_t size)
{
	struct ev_ref r[EV__MAX];
	uint64_t after = 7, limit = 7, after2 = 7, limit2 = 7;
	char msg[160], small[48], link[80], text[16];
	size_t smallen = 1 + size % sizeof(small);
	int rc, ok, at_fault = -1, unreadable;

	memset(msg, 'x', sizeof(msg));
	/* Length-delimited: data itself, so a read past size is caught. */
	rc = events_query_read((const char *)data, size, &after, &limit, msg, sizeof(msg));
	/* Out of memory (-2) cannot happen: ASan's allocator aborts rather than return NULL. */
	CHECK(rc == 0 || rc == -1);

	/* A sentence cut to a smaller buffer: the same answer, the sentence's start, still terminated. */
	memset(small, 'x', sizeof(small));
	CHECK(events_query_read((const char *)data, size, &after2, &limit2, small, smallen) == rc);
	if (rc == 0)
		CHECK(after2 == after && limit2 == limit);
	else {
		size_t n = strlen(msg) < smallen - 1 ? strlen(msg) : smallen - 1;

		CHECK(memchr(small, '\0', smallen) == small + n && memcmp(small, msg, n) == 0);
	}

	if (size > QUERY_MAX) {
		/* Refused whatever it holds, with a sentence giving the bound. */
		CHECK(rc == -1);
		check_sentence(msg, sizeof(msg));
		snprintf(text, sizeof(text), "%d", QUERY_MAX);
		CHECK(strstr(msg, text) != NULL);
		return;
	}
	ref_events_query((const char *)data, size, r);
	ok = 1;
	unreadable = 0;
	for (int i = 0; i < EV__MAX; i++) {
		if (r[i].unreadable || (r[i].seen && !r[i].valid))
			ok = 0;
		unreadable |= r[i].unreadable;
	}
	CHECK(rc == (ok ? 0 : -1));
	if (rc == 0) {
		CHECK(after == (r[EV_AFTER].seen ? r[EV_AFTER].value : ev_default[EV_AFTER]));
		CHECK(limit == (r[EV_LIMIT].seen ? r[EV_LIMIT].value : ev_default[EV_LIMIT]));
		/* Written again as get-events' Link writes the next page's query, it reads back the same. */
		snprintf(link, sizeof(link), "after=%" PRIu64 "&limit=%" PRIu64, after, limit);
		CHECK(events_query_read(link, strlen(link), &after2, &limit2, small, sizeof(small)) == 0);
		CHECK(after2 == after && limit2 == limit);
		return;
	}
	/* The sentence names a parameter at fault: "Parameter <name> ...". */
	check_sentence(msg, sizeof(msg));
	for (int i = 0; i < EV__MAX; i++) {
		size_t n = strlen(ev_name[i]);

		if (strncmp(msg, "Parameter ", 10) == 0 && strncmp(msg + 10, ev_name[i], n) == 0 && msg[10 + n] == ' ')
			at_fault = i;
	}
	CHECK(at_fault >= 0);
	if (unreadable)
		/* One that could not be read wins over one with an invalid value. */
		CHECK(r[at_fault].unreadable);
	else
		/* Values checked in table order: the first invalid one. */
		CHECK(at_fault == (r[EV_AFTER].seen && !r[EV_AFTER].valid ? EV_AFTER : EV_LIMIT));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_listing(data, size);
	check_events(data, size);
	return 0;
}
