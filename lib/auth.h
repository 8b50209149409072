#ifndef MENZZO_AUTH_H
#define MENZZO_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "token.h"

/* "mzk_" and 43 characters of unpadded base64url (256 random bits). */
#define TOKEN_PREFIX "mzk_"
#define TOKEN_LEN 47
#define BEARER_MAX 256

enum auth_result {
	AUTH_OK,
	AUTH_MISSING,   /* no Authorization header: 401 */
	AUTH_MALFORMED, /* not "Bearer <b64token>": 401 invalid_token */
	AUTH_UNKNOWN,   /* not a token we issued, or revoked, or expired: 401 invalid_token */
	AUTH_ERROR,     /* the store failed: 503 */
};

/* Must run once before the other calls (libsodium's initialisation). Returns 0 or -1. */
int auth_init(void);

/*
 * Extracts the token of an "Authorization: Bearer <token>" header value
 * (RFC 6750 b64token, at most BEARER_MAX bytes).  header may be NULL.
 * Returns AUTH_OK with *token and *len pointing into header, else AUTH_MISSING or AUTH_MALFORMED.
 */
enum auth_result auth_parse_bearer(const char *header, const char **token, size_t *len);

/* The stored form of a token. */
void auth_hash(const char *token, size_t len, unsigned char hash[TOKEN_HASH_LEN]);

/* A new token from the CSPRNG, NUL-terminated, into out[TOKEN_LEN + 1]. */
void auth_new_token(char *out);

/*
 * Looks the token up: AUTH_OK with its record when it exists, is not revoked
 * and has not expired at now; AUTH_UNKNOWN otherwise; AUTH_ERROR when the
 * store fails (the store_err in *err).
 */
enum auth_result auth_check(struct store_txn *t, const char *token, size_t len, int64_t now,
    struct token_record *rec, int *err);

/* "active", "revoked" or "expired" at now. */
const char *auth_token_state(const struct token_record *rec, int64_t now);

#endif
