/*
 * menzzo-admin token add|list|revoke: API tokens, issued (printed once),
 * listed and revoked; only their hashes are stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin.h"
#include "admin_token.h"
#include "auth.h"
#include "sale_json.h"
#include "token.h"
#include "validate.h"

int
admin_token_add(struct admin *a, const struct supplier *sup, const char *label, int64_t expires)
{
	struct store_txn *t;
	struct token_record rec = { 0 };
	unsigned char hash[TOKEN_HASH_LEN];
	char token[TOKEN_LEN + 1];
	uint64_t id;
	int rc;

	if ((rc = store_begin(a->store, 1, &t)) != STORE_OK)
		return admin_store_fail(rc);
	auth_new_token(token);
	auth_hash(token, TOKEN_LEN, hash);
	store_counter_next(t, "token_seq", &id);
	rec.id = (uint32_t)id;
	rec.supplier = sup != NULL ? supplier_id(sup) : 0;
	rec.backoffice = sup == NULL;
	rec.created_at = a->now;
	rec.expires_at = expires;
	snprintf(rec.label, sizeof(rec.label), "%s", label);
	store_token_put(t, hash, &rec);
	if ((rc = store_commit(t)) != STORE_OK)
		return admin_store_fail(rc);
	printf("token %u for %s%s%s\n%s\n", rec.id, sup != NULL ? sup->slug : "the back office", label[0] ? ", " : "",
	    label, token);
	return 0;
}

static int
cmd_token_add(struct admin *a, int argc, char **argv)
{
	const struct supplier *sup = NULL;
	struct options o;
	const char *label = "";
	int64_t expires = 0;
	char slugs[256];
	int rc;

	if ((rc = admin_options(a, "token add", argc, argv, OPT_LABEL | OPT_EXPIRES | OPT_BACKOFFICE, &o)) >= 0)
		return rc;
	supplier_slugs(slugs, sizeof(slugs));
	if (o.backoffice && o.argc > 0)
		return admin_usage_error(a, "token add: a back-office token (--backoffice) belongs to no SUPPLIER");
	if (!o.backoffice && o.argc < 1)
		return admin_usage_error(a, "token add: SUPPLIER must be one of %s (or --backoffice)", slugs);
	if (!o.backoffice && (sup = supplier_by_slug(o.argv[0], strlen(o.argv[0]))) == NULL)
		return admin_usage_error(a, "token add: SUPPLIER must be one of %s (or --backoffice)", slugs);
	if (o.argc > 1)
		return admin_usage_error(a, "token add: unexpected argument %s", o.argv[1]);
	if (o.label != NULL) {
		label = o.label;
		if (valid_text(label, strlen(label), TOKEN_LABEL_MAX))
			return admin_usage_error(a, "token add: --label must be 1-%d printable ASCII characters", TOKEN_LABEL_MAX);
	}
	if (o.expires != NULL) {
		if (parse_timestamp(o.expires, strlen(o.expires), 1, &expires))
			return admin_usage_error(a, "token add: --expires must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
		if (expires <= a->now)
			return admin_usage_error(a, "token add: --expires is in the past");
	}
	if (admin_open(a, 0))
		return 1;
	return admin_token_add(a, sup, label, expires);
}

/* One line of `token list` (a JSON object with --json). */
static void
token_print(const struct token_record *r, int64_t now, int json)
{
	char created[TIMESTAMP_LEN + 1], expires[TIMESTAMP_LEN + 1] = "never";
	struct json_object *o;

	if (json) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(r->id));
		json_object_object_add(o, "supplier",
		    r->backoffice ? NULL : json_object_new_string(supplier_by_id(r->supplier)->slug));
		json_object_object_add(o, "label", r->label[0] ? json_object_new_string(r->label) : NULL);
		json_object_object_add(o, "created", timestamp_json(r->created_at));
		json_object_object_add(o, "expires", timestamp_json(r->expires_at));
		json_object_object_add(o, "state", json_object_new_string(auth_token_state(r, now)));
		json_object_object_add(o, "kind", json_object_new_string(r->backoffice ? "backoffice" : "supplier"));
		admin_print_json(o);
		return;
	}
	format_timestamp(r->created_at, created);
	if (r->expires_at)
		format_timestamp(r->expires_at, expires);
	printf("%u\t%s\t%s\t%s\t%s\t%s\n", r->id, r->backoffice ? "backoffice" : supplier_by_id(r->supplier)->slug,
	    r->label[0] ? r->label : "-", created, expires, auth_token_state(r, now));
}

static int
by_id(const void *a, const void *b)
{
	const struct token_record *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* token list [--json]: one line a token, by ID (the store keeps them by hash). */
static int
cmd_token_list(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct token_iter it;
	struct token_record *recs = NULL;
	size_t n = 0, cap = 0;
	struct options o;
	int rc;

	if ((rc = admin_options(a, "token list", argc, argv, OPT_JSON, &o)) >= 0)
		return rc;
	if (o.argc != 0)
		return admin_usage_error(a, "token list takes no argument");
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, &t)) != STORE_OK)
		return admin_store_fail(rc);
	for (int more = store_tokens_first(t, &it); more; more = store_tokens_next(&it)) {
		if (n == cap) {
			struct token_record *grown = realloc(recs, (cap = cap ? cap * 2 : 16) * sizeof(*recs));

			if (grown == NULL) {
				store_txn_fail(t, STORE_NOMEM);
				break;
			}
			recs = grown;
		}
		recs[n++] = it.rec;
	}
	rc = store_txn_error(t);
	store_abort(t);
	if (rc == STORE_OK) {
		if (n > 1)
			qsort(recs, n, sizeof(*recs), by_id);
		if (!o.json)
			printf("ID\tSUPPLIER\tLABEL\tCREATED\tEXPIRES\tSTATE\n");
		for (size_t i = 0; i < n; i++)
			token_print(&recs[i], a->now, o.json);
	}
	free(recs);
	return rc == STORE_OK ? 0 : admin_store_fail(rc);
}

static int
cmd_token_revoke(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct token_iter it;
	struct token_record rec;
	unsigned char hash[TOKEN_HASH_LEN];
	struct options o;
	uint64_t id;
	int rc, found = 0;

	if ((rc = admin_options(a, "token revoke", argc, argv, 0, &o)) >= 0)
		return rc;
	if (o.argc != 1)
		return admin_usage_error(a, "token revoke: expected one ID");
	if (parse_uint(o.argv[0], strlen(o.argv[0]), 1, UINT32_MAX, &id))
		return admin_usage_error(a, "token revoke: ID must be a token number as `token list` shows it");
	if (admin_open(a, 0))
		return 1;
	if ((rc = store_begin(a->store, 1, &t)) != STORE_OK)
		return admin_store_fail(rc);
	/* A read failure leaves the transaction's sticky error: the commit below reports it. */
	for (int more = store_tokens_first(t, &it); more; more = store_tokens_next(&it))
		if (it.rec.id == id) {
			memcpy(hash, it.hash, TOKEN_HASH_LEN);
			rec = it.rec;
			found = 1;
			break;
		}
	if (found) {
		rec.revoked = 1;
		store_token_put(t, hash, &rec);
	} else if (store_txn_error(t) == STORE_OK) {
		store_abort(t);
		return admin_fail("token revoke: no token %u", (unsigned)id);
	}
	if ((rc = store_commit(t)) != STORE_OK)
		return admin_store_fail(rc);
	printf("token %u revoked\n", (unsigned)id);
	return 0;
}

int
cmd_token(struct admin *a, int argc, char **argv)
{
	struct options o;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return cmd_token_add(a, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_token_list(a, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return cmd_token_revoke(a, argc - 1, argv + 1);
	if ((rc = admin_options(a, "token", argc, argv, 0, &o)) >= 0)
		return rc;
	return admin_usage_error(a, "token: expected add, list or revoke");
}
