#ifndef MENZZO_TOKEN_H
#define MENZZO_TOKEN_H

/*
 * API tokens as stored (lib/store_token.c): the token itself is never
 * stored, only its hash, which is the record's key.
 */

#include <stdint.h>

#include "store.h"

#define TOKEN_HASH_LEN 32
#define TOKEN_LABEL_MAX 64

/* An issued API token. */
struct token_record {
	uint32_t id;
	unsigned supplier;  /* a supplier token's supplier; 0 for a back-office token */
	int backoffice;     /* a back-office token (SPEC §8): none of a supplier's endpoints, only the back office's */
	int revoked;
	int64_t created_at;
	int64_t expires_at; /* 0 = never */
	char label[TOKEN_LABEL_MAX + 1];
};

/*
 * The record of a token hash: STORE_OK with *out, STORE_NOTFOUND when no
 * token has that hash, or the transaction's error (a record that does not
 * decode is STORE_CORRUPT, and sticks).
 */
int store_token_get(struct store_txn *t, const unsigned char *hash, struct token_record *out);
/* Writes (or overwrites) the record of a hash; returns STORE_OK or the transaction's sticky error. */
int store_token_put(struct store_txn *t, const unsigned char *hash, const struct token_record *rec);

/* Every token record, by hash (store.h says how iterators go). */
struct token_iter {
	struct store_cursor c;
	const unsigned char *hash;  /* TOKEN_HASH_LEN bytes */
	struct token_record rec;
};
int store_tokens_first(struct store_txn *t, struct token_iter *it);
int store_tokens_next(struct token_iter *it);

#endif
