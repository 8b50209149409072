#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"

int
auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static int
is_b64token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~' || c == '+' || c == '/';
}

enum auth_result
auth_parse_bearer(const char *header, const char **token, size_t *len)
{
	const char *p;
	size_t n = 0;

	if (header == NULL || *header == '\0')
		return AUTH_MISSING;
	if (strncasecmp(header, "Bearer ", 7) != 0)
		return AUTH_MALFORMED;
	for (p = header + 7; *p == ' '; p++)
		;
	while (is_b64token_char(p[n]))
		n++;
	if (n == 0)
		return AUTH_MALFORMED; /* padding alone is no token */
	while (p[n] == '=')
		n++;
	if (n > BEARER_MAX)
		return AUTH_MALFORMED;
	/* Trailing spaces are tolerated, nothing else. */
	for (size_t i = n; p[i] != '\0'; i++)
		if (p[i] != ' ')
			return AUTH_MALFORMED;
	*token = p;
	*len = n;
	return AUTH_OK;
}

void
auth_hash(const char *token, size_t len, unsigned char hash[TOKEN_HASH_LEN])
{
	crypto_generichash(hash, TOKEN_HASH_LEN, (const unsigned char *)token, len, NULL, 0);
}

void
auth_new_token(char *out)
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	memcpy(out, TOKEN_PREFIX, 4); /* NOLINT(bugprone-not-null-terminated-result): bin2base64 ends it */
	sodium_bin2base64(out + 4, TOKEN_LEN + 1 - 4, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

enum auth_result
auth_check(struct store_txn *t, const char *token, size_t len, int64_t now,
    struct token_record *rec, int *err)
{
	unsigned char hash[TOKEN_HASH_LEN];
	int rc;

	/* Only the exact form we issue can be one of ours. */
	if (len != TOKEN_LEN || memcmp(token, TOKEN_PREFIX, 4) != 0)
		return AUTH_UNKNOWN;
	/*
	 * The B-tree lookup compares BLAKE2b digests of 256-bit random tokens:
	 * its timing can reveal at most a prefix of a digest, which a caller
	 * cannot steer towards a token; no secret is compared byte by byte.
	 */
	auth_hash(token, len, hash);
	rc = store_token_get(t, hash, rec);
	if (rc == STORE_NOTFOUND)
		return AUTH_UNKNOWN;
	if (rc != STORE_OK) {
		*err = rc;
		return AUTH_ERROR;
	}
	if (strcmp(auth_token_state(rec, now), "active") != 0)
		return AUTH_UNKNOWN;
	return AUTH_OK;
}

const char *
auth_token_state(const struct token_record *rec, int64_t now)
{
	if (rec->revoked)
		return "revoked";
	if (rec->expires_at != 0 && rec->expires_at < now)
		return "expired";
	return "active";
}
