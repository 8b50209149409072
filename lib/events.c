/*
 * The change feeds over HTTP: GET /api/{supplier}/get-events (that
 * supplier's sale events, numbered by its feed) and GET
 * /api/backoffice/get-events (every event, numbered by the outbox), both
 * after=N&limit=M, oldest first, Link rel="next" when the page is full.
 * A stored event starts {"seq":<its outbox number>,...: a supplier's feed
 * gives it the feed's number instead, in the same place.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cgi.h"
#include "events.h"
#include "field.h"
#include "request.h"
#include "validate.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000

static int
field_after(struct field *f)
{
	return parse_uint(f->val, f->len, 0, INT64_MAX, &f->parsed.number);
}

static int
field_limit(struct field *f)
{
	return parse_uint(f->val, f->len, 1, LIMIT_MAX, &f->parsed.number);
}

enum { E_AFTER, E_LIMIT, E__MAX };
static const struct field_rule event_params[E__MAX] = {
	[E_AFTER] = { "after", field_after, "invalid_parameter",
	    "Parameter after must be the seq of an event already read: an integer from 0 (the start)." },
	[E_LIMIT] = { "limit", field_limit, "invalid_parameter", "Parameter limit must be an integer from 1 to 1000." },
};

int
events_query_read(const char *qs, size_t len, uint64_t *after, uint64_t *limit, char *msg, size_t msglen)
{
	struct field f[E__MAX];
	int bad = -1, rc = -1;

	memset(f, 0, sizeof(f));
	*after = 0;
	*limit = LIMIT_DEFAULT;
	if (len > QUERY_MAX) {
		snprintf(msg, msglen, "The query string is longer than %d bytes.", QUERY_MAX);
		return -1;
	}
	switch (form_parse(qs, len, event_params, E__MAX, f, &bad)) {
	case PARSE_OK:
		rc = 0;
		if (f[E_AFTER].set)
			*after = f[E_AFTER].parsed.number;
		if (f[E_LIMIT].set)
			*limit = f[E_LIMIT].parsed.number;
		break;
	case PARSE_NOMEM:
		rc = -2;
		break;
	case PARSE_INVALID:
		snprintf(msg, msglen, "%s", event_params[bad].message);
		break;
	default:
		snprintf(msg, msglen, "Parameter %s is malformed or given twice.", event_params[bad].name);
	}
	fields_free(f, E__MAX);
	return rc;
}

int
event_item(struct buf *out, const char *json, size_t len, uint64_t seq)
{
	static const char head[] = "{\"seq\":";
	size_t i = sizeof(head) - 1;

	if (len < i || memcmp(json, head, i) != 0)
		return -1;
	while (i < len && json[i] >= '0' && json[i] <= '9')
		i++;
	if (i == sizeof(head) - 1 || i == len || (json[i] != ',' && json[i] != '}'))
		return -1;
	return buf_addf(out, "%s%" PRIu64, head, seq) || buf_add(out, json + i, len - i) ? -2 : 0;
}

/*
 * The page of events after `after` of a supplier's feed (supplier >= 0) or
 * of the outbox (supplier -1) into body, a JSON array; *last the number of
 * its last event, *n how many.  STORE_OK or the error.
 */
static int
events_page(struct cgi *c, int supplier, uint64_t after, uint64_t limit, struct buf *body, uint64_t *last,
    uint64_t *n)
{
	struct store_txn *t;
	struct feed_iter fi;
	struct event_iter ei;
	const char *json;
	size_t len;
	int rc, more, bad = 0;

	*n = 0;
	if ((rc = store_begin(c->store, 0, &t)) != STORE_OK)
		return rc;
	if (buf_add(body, "[", 1) != 0)
		bad = -2;
	if (supplier >= 0)
		more = store_feed_first(t, (unsigned)supplier, after, &fi);
	else
		more = store_events_first(t, after, &ei);
	while (more && *n < limit && bad == 0) {
		uint64_t seq = supplier >= 0 ? fi.seq : ei.seq;

		if (supplier >= 0)
			rc = store_event_get(t, fi.event_seq, &json, &len);
		else {
			json = ei.json;
			len = ei.len;
		}
		if (rc != STORE_OK)
			break;
		if ((*n > 0 && buf_add(body, ",", 1) != 0) || (bad = event_item(body, json, len, seq)) != 0)
			break;
		*last = seq;
		(*n)++;
		more = supplier >= 0 ? store_feed_next(&fi) : store_events_next(&ei);
	}
	if (rc == STORE_OK)
		rc = store_txn_error(t);
	if (rc == STORE_OK && bad != 0)
		rc = bad == -2 ? STORE_NOMEM : STORE_CORRUPT; /* a feed naming a missing event is one too */
	if (rc == STORE_NOTFOUND)
		rc = STORE_CORRUPT;
	store_abort(t);
	if (rc == STORE_OK && buf_add(body, "]", 1) != 0)
		rc = STORE_NOMEM;
	return rc;
}

static void
events_handle(struct cgi *c, int supplier, const char *path)
{
	struct buf body = { 0 };
	uint64_t after, limit, last = 0, n;
	char msg[160];
	int rc;

	switch (events_query_read(c->req.query, strlen(c->req.query), &after, &limit, msg, sizeof(msg))) {
	case 0:
		break;
	case -1:
		response_error(&c->res, 400, "invalid_parameter", msg);
		return;
	default:
		cgi_store_error(c, STORE_NOMEM);
		return;
	}
	if ((rc = events_page(c, supplier, after, limit, &body, &last, &n)) != STORE_OK) {
		buf_free(&body);
		cgi_store_error(c, rc);
		return;
	}
	/* A full page: there may be more, from its last event on (an empty next page says there is none yet). */
	if (n == limit)
		response_header(&c->res, "Link", "<%.*s/api/%s?after=%" PRIu64 "&limit=%" PRIu64 ">; rel=\"next\"",
		    (int)c->cfg.base_url_len, c->cfg.base_url, path, last, limit);
	response_take(&c->res, 200, &body);
}

/*
 * GET /api/{supplier}/get-events: the supplier's feed after=N (default 0),
 * limit=M (1 to 1000, default 100): its sale events numbered from 1
 * without a gap, oldest first; 400 invalid_parameter for a bad after or
 * limit; Link rel="next" when the page is full.
 */
void
get_events_handle(struct cgi *c)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/get-events", c->supplier->slug);
	events_handle(c, (int)supplier_id(c->supplier), path);
}

/* GET /api/backoffice/get-events: every event (stock ones too) by its outbox number; as get-events. */
void
backoffice_get_events_handle(struct cgi *c)
{
	events_handle(c, -1, "backoffice/get-events");
}
