/* The get-sales response cache (cache.h): its own environment, the same transactions and errors as the store. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "cache.h"
#include "store_impl.h"

enum cache_db { CDB_ENTRY, CDB_EXPIRY, CDB__MAX };
static const char *const cache_db_names[CDB__MAX] = { "entry", "expiry" };

#define CACHE_MAP_SIZE ((size_t)256 << 20)
#define CACHE_SWEEP 64
#define CACHE_KEY_MAX 500
#define ENTRY_HEAD 12

struct cache {
	struct store s;
};

/* <data_dir>/cache.<boot id>: a cache never outlives the boot whose clock wrote its expiries. */
static int
cache_dir(char *out, size_t len, const char *data_dir)
{
	char boot[64] = "";
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, boot, sizeof(boot) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 32)
		return -1;
	boot[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (boot[i] == '\n' || boot[i] == '-')
			boot[i] = boot[i] == '-' ? 'x' : '\0';
	if (snprintf(out, len, "%s/cache.%s", data_dir, boot) >= (int)len)
		return -1;
	return 0;
}

int
cache_open(struct cache **cp, const char *data_dir, int create)
{
	char dir[4096];
	struct cache *c;
	int rc;

	if (cache_dir(dir, sizeof(dir), data_dir) != 0)
		return STORE_UNAVAILABLE;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return STORE_NOMEM;
	rc = env_open(&c->s, dir, CACHE_MAP_SIZE, MDB_NOSYNC | MDB_NOMETASYNC, create, cache_db_names, CDB__MAX);
	if (rc != 0) {
		free(c);
		return rc == ENOENT || rc == MDB_NOTFOUND ? STORE_NOTFOUND : map_err(rc);
	}
	*cp = c;
	return STORE_OK;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	mdb_env_close(c->s.env);
	free(c);
}

void
cache_entry_free(struct cache_entry *e)
{
	free(e->link);
	free(e->body);
	e->link = e->body = NULL;
}

/* Copies a stored entry out; STORE_NOTFOUND when it has expired or does not decode. */
static int
entry_decode(const MDB_val *v, int64_t now, struct cache_entry *e)
{
	const unsigned char *p = v->mv_data;
	uint32_t llen;

	if (v->mv_size < ENTRY_HEAD)
		return STORE_NOTFOUND;
	e->expires_at = (int64_t)be64_get(p);
	llen = be32_get(p + 8);
	if (e->expires_at <= now || llen > v->mv_size - ENTRY_HEAD)
		return STORE_NOTFOUND;
	e->body_len = v->mv_size - ENTRY_HEAD - llen;
	e->link = malloc(llen + 1);
	e->body = malloc(e->body_len + 1);
	if (e->link == NULL || e->body == NULL) {
		cache_entry_free(e);
		return STORE_NOMEM;
	}
	memcpy(e->link, p + ENTRY_HEAD, llen);
	e->link[llen] = '\0';
	memcpy(e->body, p + ENTRY_HEAD + llen, e->body_len);
	e->body[e->body_len] = '\0';
	return STORE_OK;
}

int
cache_get(struct cache *c, const void *key, size_t keylen, int64_t now, struct cache_entry *e)
{
	struct store_txn *t;
	MDB_val v;
	int rc;

	if ((rc = store_begin(&c->s, 0, &t)) != STORE_OK)
		return rc;
	if ((rc = txn_get(t, CDB_ENTRY, key, keylen, &v)) == STORE_OK)
		rc = entry_decode(&v, now, e);
	store_abort(t);
	return rc;
}

/* The expiry index key of an entry: be64 expires_at, then the entry's key. */
static size_t
expiry_key(unsigned char *xkey, uint64_t expires_at, const void *key, size_t keylen)
{
	be64_put(xkey, expires_at);
	memcpy(xkey + 8, key, keylen);
	return 8 + keylen;
}

/* Removes up to max entries whose expiry is at or before now (max 0: no limit), counting them in *removed. */
static void
sweep(struct store_txn *t, int64_t now, uint64_t max, uint64_t *removed)
{
	struct store_iter it;
	uint64_t n = 0;

	store_foreach(t, CDB_EXPIRY, &it, "", 0) {
		if ((max != 0 && n >= max) || it.key.mv_size < 8 || (int64_t)be64_get(it.key.mv_data) > now)
			break;
		txn_del(t, CDB_ENTRY, (const char *)it.key.mv_data + 8, it.key.mv_size - 8);
		if (iter_del(t, &it) != STORE_OK)
			break;
		n++;
	}
	if (removed != NULL)
		*removed += n;
}

static void
entry_put(struct store_txn *t, const void *key, size_t keylen, int64_t expires_at,
    const char *link, const char *body, size_t body_len)
{
	unsigned char xkey[8 + CACHE_KEY_MAX];
	MDB_val k = { keylen, (void *)key }, v;
	uint32_t llen = (uint32_t)strlen(link);
	unsigned char *p;
	int rc;

	/* A racing writer may have stored this key already: drop its expiry entry first. */
	if (txn_get(t, CDB_ENTRY, key, keylen, &v) == STORE_OK && v.mv_size >= 8)
		txn_del(t, CDB_EXPIRY, xkey, expiry_key(xkey, be64_get(v.mv_data), key, keylen));
	if (t->err)
		return;
	v.mv_size = ENTRY_HEAD + llen + body_len;
	if ((rc = mdb_put(t->txn, t->s->dbi[CDB_ENTRY], &k, &v, MDB_RESERVE)) != 0) {
		txn_fail(t, rc);
		return;
	}
	p = v.mv_data;
	be64_put(p, (uint64_t)expires_at);
	be32_put(p + 8, llen);
	memcpy(p + ENTRY_HEAD, link, llen); /* NOLINT(bugprone-not-null-terminated-result): length-prefixed */
	memcpy(p + ENTRY_HEAD + llen, body, body_len);
	txn_put(t, CDB_EXPIRY, xkey, expiry_key(xkey, (uint64_t)expires_at, key, keylen), "", 0, 0);
}

int
cache_put(struct cache *c, const void *key, size_t keylen, int64_t expires_at,
    const char *link, const char *body, size_t body_len, int64_t now)
{
	struct store_txn *t;
	int rc = STORE_OK;

	if (keylen > CACHE_KEY_MAX)
		return STORE_CORRUPT;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = store_begin(&c->s, 1, &t)) != STORE_OK)
			return rc;
		/* Full even after sweeping: a lost cache is harmless, start afresh. */
		if (attempt > 0 && ((rc = mdb_drop(t->txn, c->s.dbi[CDB_ENTRY], 0)) != 0 ||
		    (rc = mdb_drop(t->txn, c->s.dbi[CDB_EXPIRY], 0)) != 0))
			txn_fail(t, rc);
		sweep(t, now, CACHE_SWEEP, NULL);
		entry_put(t, key, keylen, expires_at, link, body, body_len);
		if ((rc = store_commit(t)) != STORE_FULL)
			break;
	}
	return rc;
}

/* Removes the files of a cache environment and its directory. */
static int
remove_env_files(const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char path[4096];
	int rc = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >= (int)sizeof(path))
			return -1;
		if (unlink(path) != 0 && errno != ENOENT)
			rc = -1;
	}
	return rc || rmdir(dir) != 0 ? -1 : 0;
}

int
cache_purge(const char *data_dir, int all, int64_t now, uint64_t *removed)
{
	char mine[4096], path[4096];
	const char *base;
	struct cache *c = NULL;
	struct store_txn *t;
	DIR *d;
	struct dirent *de;
	int rc;

	*removed = 0;
	if (cache_dir(mine, sizeof(mine), data_dir) != 0)
		return STORE_UNAVAILABLE;
	base = strrchr(mine, '/') + 1;
	/* Caches of earlier boots can never be read again. */
	if ((d = opendir(data_dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, "cache.", 6) == 0 && strcmp(de->d_name, base) != 0 &&
			    snprintf(path, sizeof(path), "%s/%s", data_dir, de->d_name) < (int)sizeof(path))
				remove_env_files(path);
		closedir(d);
	}
	if ((rc = cache_open(&c, data_dir, 0)) != STORE_OK || c == NULL)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	if ((rc = store_begin(&c->s, 1, &t)) == STORE_OK) {
		sweep(t, all ? INT64_MAX : now, 0, removed);
		rc = store_commit(t);
	}
	if (rc == STORE_OK)
		rc = map_err(mdb_env_sync(c->s.env, 1));
	if (rc != STORE_OK)
		*removed = 0;
	cache_close(c);
	return rc;
}
