/* Token records, keyed by the hash of the token (token.h). */
#include <string.h>

#include <lmdb.h>

#include "store_impl.h"
#include "supplier.h"
#include "token.h"

/*
 * Version 1: a supplier's token.  Version 2: its fourth byte says the kind
 * (TOKEN_KIND_BACKOFFICE, supplier 0): a version of its own, so that an
 * older program never takes a back-office token for a supplier's.
 */
#define TOKEN_RECORD_VERSION 1
#define TOKEN_RECORD_KIND 2
#define TOKEN_KIND_BACKOFFICE 1
#define TOKEN_RECORD_MAX (4 + 4 + 8 + 8 + 2 + TOKEN_LABEL_MAX)

static int
token_decode(const MDB_val *v, struct token_record *r)
{
	struct pack pk = { v->mv_data, 0, v->mv_size, 0 };

	unsigned version, kind;

	memset(r, 0, sizeof(*r));
	version = get_u8(&pk);
	r->supplier = get_u8(&pk);
	r->revoked = get_u8(&pk) != 0;
	kind = get_u8(&pk);
	if (version == TOKEN_RECORD_KIND && kind == TOKEN_KIND_BACKOFFICE && r->supplier == 0)
		r->backoffice = 1;
	else if (version != TOKEN_RECORD_VERSION)
		return STORE_CORRUPT;
	r->id = get_u32(&pk);
	r->created_at = (int64_t)get_u64(&pk);
	r->expires_at = (int64_t)get_u64(&pk);
	get_str(&pk, r->label, TOKEN_LABEL_MAX);
	if (pk.bad || pk.len != v->mv_size || supplier_by_id(r->supplier) == NULL)
		return STORE_CORRUPT;
	return STORE_OK;
}

int
store_token_get(struct store_txn *t, const unsigned char *hash, struct token_record *out)
{
	MDB_val v;
	int rc;

	if ((rc = store_txn_get(t, DB_TOKEN, hash, TOKEN_HASH_LEN, &v)) != STORE_OK)
		return rc;
	if ((rc = token_decode(&v, out)) != STORE_OK)
		store_txn_fail(t, rc);
	return rc;
}

int
store_token_put(struct store_txn *t, const unsigned char *hash, const struct token_record *r)
{
	unsigned char rec[TOKEN_RECORD_MAX];
	struct pack pk = { rec, 0, sizeof(rec), 0 };

	put_u8(&pk, r->backoffice ? TOKEN_RECORD_KIND : TOKEN_RECORD_VERSION);
	put_u8(&pk, r->backoffice ? 0 : r->supplier);
	put_u8(&pk, r->revoked != 0);
	put_u8(&pk, r->backoffice ? TOKEN_KIND_BACKOFFICE : 0);
	put_u32(&pk, r->id);
	put_u64(&pk, (uint64_t)r->created_at);
	put_u64(&pk, (uint64_t)r->expires_at);
	put_str(&pk, r->label);
	if (pk.bad)
		return store_txn_fail(t, STORE_CORRUPT);
	return store_txn_put(t, DB_TOKEN, hash, TOKEN_HASH_LEN, rec, pk.len, 0);
}

static int
token_step(struct token_iter *it, int more)
{
	MDB_val v = { it->c.vlen, (void *)it->c.val };

	if (!more)
		return 0;
	if (it->c.klen != TOKEN_HASH_LEN || token_decode(&v, &it->rec) != STORE_OK)
		return store_iter_corrupt(it->c.t);
	it->hash = it->c.key;
	return 1;
}

STORE_ITERATOR(store_tokens, token_iter, DB_TOKEN, token_step)
