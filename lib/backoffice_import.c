/*
 * POST /api/backoffice/import: `menzzo-admin import` over HTTP for the back
 * office.  The body is JSON Lines (at most 16 MiB, each line at most
 * IMPORT_LINE_MAX bytes), read with the import's own parser and rules,
 * every valid line upserted in one write transaction (the rejected ones
 * listed, as the command reports them), the suppliers' cached get-sales
 * let go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "cgi.h"
#include "import.h"
#include "validate.h"

#define REJECTED_LISTED 1000  /* the answer lists the first rejected lines, and counts them all */

struct import_counts {
	unsigned long created, updated, unchanged, rejected;
};

/* Whether the Content-Type is one of JSON Lines' (parameters after ';' aside). */
static int
json_lines_type(const char *ct)
{
	static const char *const types[] = { "application/x-ndjson", "application/jsonl" };
	size_t n;

	if (ct == NULL)
		return 0;
	n = strcspn(ct, "; \t");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (n == strlen(types[i]) && strncasecmp(ct, types[i], n) == 0)
			return 1;
	return 0;
}

static void
reject(struct json_object *list, struct import_counts *k, unsigned long lineno, const char *why)
{
	struct json_object *o;

	if (k->rejected++ >= REJECTED_LISTED)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "line", json_object_new_uint64(lineno));
	json_object_object_add(o, "error", json_object_new_string(why));
	json_object_array_add(list, o);
}

/*
 * Every line of body[0..len) parsed and applied in t (blank lines skipped),
 * into k and rejected; the suppliers changed in touched.  STORE_OK, or the
 * store's error: then the transaction only aborts.
 */
static int
import_lines(struct store_txn *t, const char *body, size_t len, const struct cgi *c, struct import_counts *k,
    struct json_object *rejected, unsigned char *touched)
{
	struct import_line l;
	unsigned long lineno = 0;
	char err[160];
	int rc = STORE_OK;

	memset(&l, 0, sizeof(l));
	for (size_t at = 0; at < len && rc == STORE_OK;) {
		const char *line = body + at, *nl = memchr(line, '\n', len - at);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - at;
		enum import_outcome out = IMPORT_REFUSED;

		at += n + (nl != NULL);
		lineno++;
		/* As the command reads a line: too long as it came, else its CRs dropped, skipped when blank. */
		if (n > IMPORT_LINE_MAX) {
			snprintf(err, sizeof(err), "longer than %d bytes", IMPORT_LINE_MAX);
			reject(rejected, k, lineno, err);
			continue;
		}
		while (n > 0 && line[n - 1] == '\r')
			n--;
		if (only_blanks(line, 0, n))
			continue;
		if (import_parse_line(line, n, c->now, &l, err, sizeof(err)) != 0) {
			reject(rejected, k, lineno, err);
			continue;
		}
		if ((rc = import_apply(t, &l, c->now, c->cfg.log_user, c->res.request_id, &out, err, sizeof(err))) != STORE_OK)
			break;
		switch (out) {
		case IMPORT_CREATED: k->created++; touched[l.sp.supplier] = 1; break;
		case IMPORT_CHANGED: k->updated++; touched[l.sp.supplier] = 1; break;
		case IMPORT_UNCHANGED: k->unchanged++; break;
		case IMPORT_REFUSED: reject(rejected, k, lineno, err); break;
		}
	}
	buf_free(&l.item);
	return rc;
}

/*
 * POST /api/backoffice/import (back-office tokens): 200 {"success", "created",
 * "updated", "unchanged", "rejected": [{"line", "error"}] (the first 1,000),
 * "rejected_count"}, success false when a line was rejected (the valid
 * ones are committed all the same, as the command does); 400 for another
 * Content-Type or a body that is not text; 413 over 16 MiB; 503 when the
 * store is full or unavailable (nothing written).
 */
void
backoffice_import_handle(struct cgi *c)
{
	unsigned char touched[SUPPLIER_COUNT] = { 0 };
	struct import_counts k = { 0, 0, 0, 0 };
	struct json_object *rejected, *o;
	struct store_txn *t;
	int rc;

	if (!json_lines_type(c->req.content_type)) {
		response_error(&c->res, 400, "invalid_body", "The body must be JSON Lines, one sale product a line, as "
		    "menzzo-admin import reads them (Content-Type: application/x-ndjson or application/jsonl).");
		return;
	}
	if (memchr(c->req.body, '\0', c->req.body_len) != NULL) {
		response_error(&c->res, 400, "invalid_body", "The body is not text: it holds a NUL byte.");
		return;
	}
	if ((rc = store_begin(c->store, 1, &t)) != STORE_OK) {
		cgi_store_error(c, rc);
		return;
	}
	rejected = json_object_new_array();
	rc = import_lines(t, c->req.body, c->req.body_len, c, &k, rejected, touched);
	for (unsigned sup = 0; sup < SUPPLIER_COUNT && rc == STORE_OK; sup++)
		if (touched[sup])
			rc = store_generation_bump(t, sup);
	if (rc != STORE_OK) {
		store_abort(t);
		json_object_put(rejected);
		cgi_store_error(c, rc);
		return;
	}
	if ((rc = store_commit(t)) != STORE_OK) {
		json_object_put(rejected);
		cgi_store_error(c, rc);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(k.rejected == 0));
	json_object_object_add(o, "created", json_object_new_uint64(k.created));
	json_object_object_add(o, "updated", json_object_new_uint64(k.updated));
	json_object_object_add(o, "unchanged", json_object_new_uint64(k.unchanged));
	json_object_object_add(o, "rejected", rejected);
	json_object_object_add(o, "rejected_count", json_object_new_uint64(k.rejected));
	response_json(&c->res, 200, o);
	json_object_put(o);
}
