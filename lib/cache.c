/* The get-sales response cache (cache.h): its own environment, the same transactions and errors as the store. */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "cache.h"
#include "clock.h"
#include "store_impl.h"

enum cache_db { CDB_ENTRY, CDB_EXPIRY, CDB__MAX };
static const char *const cache_db_names[CDB__MAX] = { "entry", "expiry" };

#define CACHE_SWEEP 64
#define CACHE_KEY_MAX 500
#define ENTRY_HEAD 12
/* Free space below which nothing is cached: at least this, and at least 5 % of the file system. */
#define FLOOR_MIN ((uint64_t)16 << 20)

struct cache {
	struct store s;
	unsigned opened;   /* the databases (1 << cache_db) whose handles are the environment's */
	unsigned opening;  /* those the transaction under way opened: the environment's once it ends well */
	char dir[4096];  /* the directory holding cache.<boot id>, for the free-space floor */
};

/* "cache.<boot id>": a cache never outlives the boot whose clock wrote its expiries. */
static int
cache_name(char *out, size_t len)
{
	char boot[CLOCK_BOOT_ID_LEN + 1];

	return clock_boot_id(boot) == 0 && snprintf(out, len, "cache.%s", boot) < (int)len ? 0 : -1;
}

/* 1 when the file system holding dir has less free space than the floor; 0 when it has more, or cannot tell. */
static int
below_floor(const char *dir)
{
	struct statvfs v;
	uint64_t total, avail, floor;

	if (statvfs(dir, &v) != 0)
		return 0;
	total = (uint64_t)v.f_blocks * v.f_frsize;
	avail = (uint64_t)v.f_bavail * v.f_frsize;
	floor = total / 20 > FLOOR_MIN ? total / 20 : FLOOR_MIN;
	return avail < floor;
}

int
cache_file_size(const char *dir, uint64_t *bytes)
{
	char name[64], path[4200];
	struct stat st;

	if (cache_name(name, sizeof(name)) != 0 ||
	    snprintf(path, sizeof(path), "%s/%s/data.mdb", dir, name) >= (int)sizeof(path) || stat(path, &st) != 0)
		return -1;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

int
cache_open(struct cache **cp, const char *dir, size_t size, int create)
{
	char name[64], path[4200], why[8];
	struct stat st;
	struct cache *c;
	int rc;

	if (cache_name(name, sizeof(name)) != 0 || snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return STORE_UNAVAILABLE;
	if (lstat(path, &st) == 0 ? !S_ISDIR(st.st_mode) : errno != ENOENT)
		return STORE_UNAVAILABLE;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return STORE_NOMEM;
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	/*
	 * This boot's cache is opened as it is, and created only when missing.
	 * Its databases are opened by the first transaction (cache_begin): a
	 * transaction of their own would cost a request nearly as much as the
	 * rate limit's.
	 */
	rc = store_env_open(&c->s, path, size, MDB_NOSYNC | MDB_NOMETASYNC, 0, NULL, CDB__MAX, why, sizeof(why), NULL);
	if (create && rc == ENOENT) {
		memset(&c->s, 0, sizeof(c->s));
		rc = below_floor(dir) ? ENOSPC : store_env_open(&c->s, path, size, MDB_NOSYNC | MDB_NOMETASYNC, 1, NULL, CDB__MAX,
		    why, sizeof(why), NULL);
	}
	if (rc != 0) {
		free(c);
		return rc == ENOENT || rc == MDB_NOTFOUND ? STORE_NOTFOUND : store_map_lmdb(rc);
	}
	*cp = c;
	return STORE_OK;
}

#define ENTRIES ((1u << CDB_ENTRY) | (1u << CDB_EXPIRY))

/*
 * Begins a transaction of the cache with the databases of need (a mask of
 * 1 << cache_db) open: a transaction opens those no earlier one opened (a
 * write one creating those missing), and only those.  STORE_NOTFOUND for a
 * read of a database not created yet.
 */
static int
cache_begin(struct cache *c, int write, unsigned need, struct store_txn **tp)
{
	int rc = store_begin(&c->s, write, tp), lr = 0;

	c->opening = 0;
	if (rc != STORE_OK)
		return rc;
	for (unsigned i = 0; i < CDB__MAX && lr == 0; i++)
		if ((need & ~c->opened & (1u << i)) != 0 &&
		    (lr = mdb_dbi_open((*tp)->txn, cache_db_names[i], write ? MDB_CREATE : 0, &c->s.dbi[i])) == 0)
			c->opening |= 1u << i;
	(*tp)->opened_dbs = c->opening != 0;
	if (lr != 0) {
		store_abort(*tp);
		*tp = NULL;
		c->opening = 0; /* an aborted transaction's handles are closed with it */
		rc = store_map_lmdb(lr);
		return rc != STORE_OK ? rc : STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

/* Ends t (committing a write when nothing failed, ending a read); the handles its beginning opened become the cache's. */
static int
cache_end(struct cache *c, struct store_txn *t)
{
	int rc = store_commit(t);

	if (rc == STORE_OK)
		c->opened |= c->opening;
	c->opening = 0;
	return rc;
}

void
cache_close(struct cache *c)
{
	if (c != NULL)
		store_env_close(&c->s);
	free(c);
}

int
cache_stale(struct cache *c)
{
	return store_stale(&c->s);
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

	if ((rc = cache_begin(c, 0, ENTRIES, &t)) != STORE_OK)
		return rc;
	if ((rc = store_txn_get(t, CDB_ENTRY, key, keylen, &v)) == STORE_OK)
		rc = entry_decode(&v, now, e);
	/* A read ends with a commit, which keeps the handles it may have opened. */
	cache_end(c, t);
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

/* Deletes the entry it is on, and its expiry index entry. */
static void
entry_del(struct store_txn *t, struct store_cursor *c)
{
	unsigned char xkey[8 + CACHE_KEY_MAX];

	if (c->klen <= CACHE_KEY_MAX && c->vlen >= 8)
		store_txn_del(t, CDB_EXPIRY, xkey, expiry_key(xkey, be64_get(c->val), c->key, c->klen));
	store_iter_del(c);
}

/* Removes the entries of k's group whose generation is older than k's. */
static void
drop_older_generations(struct store_txn *t, const struct cache_key *k)
{
	struct store_cursor c;

	store_foreach_from(t, CDB_ENTRY, &c, k->p, k->group, k->p, k->group) {
		if (c.klen >= k->gen_end && memcmp(c.key, k->p, k->gen_end) >= 0)
			break;
		entry_del(t, &c);
	}
}

/* Removes up to max entries, soonest to expire first, that expire at or before until (max 0: no limit). */
static uint64_t
sweep(struct store_txn *t, int64_t until, uint64_t max)
{
	struct store_cursor c;
	uint64_t n = 0;

	store_foreach(t, CDB_EXPIRY, &c, "", 0) {
		if ((max != 0 && n >= max) || c.klen < 8 || (int64_t)be64_get(c.key) > until)
			break;
		store_txn_del(t, CDB_ENTRY, (const char *)c.key + 8, c.klen - 8);
		if (store_iter_del(&c) != STORE_OK)
			break;
		n++;
	}
	return n;
}

static void
entry_put(struct store_txn *t, const struct cache_key *k, int64_t expires_at,
    const char *link, const char *body, size_t body_len)
{
	unsigned char xkey[8 + CACHE_KEY_MAX];
	MDB_val key = { k->len, (void *)k->p }, v;
	uint32_t llen = (uint32_t)strlen(link);
	unsigned char *p;
	int rc;

	/* A racing writer may have stored this key already: drop its expiry entry first. */
	if (store_txn_get(t, CDB_ENTRY, k->p, k->len, &v) == STORE_OK && v.mv_size >= 8)
		store_txn_del(t, CDB_EXPIRY, xkey, expiry_key(xkey, be64_get(v.mv_data), k->p, k->len));
	if (t->err)
		return;
	v.mv_size = ENTRY_HEAD + llen + body_len;
	if ((rc = mdb_put(t->txn, t->s->dbi[CDB_ENTRY], &key, &v, MDB_RESERVE)) != 0) {
		store_txn_fail_lmdb(t, rc);
		return;
	}
	p = v.mv_data;
	be64_put(p, (uint64_t)expires_at);
	be32_put(p + 8, llen);
	memcpy(p + ENTRY_HEAD, link, llen); /* NOLINT(bugprone-not-null-terminated-result): length-prefixed */
	memcpy(p + ENTRY_HEAD + llen, body, body_len);
	store_txn_put(t, CDB_EXPIRY, xkey, expiry_key(xkey, (uint64_t)expires_at, k->p, k->len), "", 0, 0);
}

/* Makes room: removes the quarter of the entries closest to expiry, or every entry with all. */
static void
evict(struct cache *c, int all)
{
	struct store_txn *t;
	MDB_stat ms;

	if (cache_begin(c, 1, ENTRIES, &t) != STORE_OK)
		return;
	if (all || mdb_stat(t->txn, c->s.dbi[CDB_EXPIRY], &ms) != 0) {
		int rc;
		if ((rc = mdb_drop(t->txn, c->s.dbi[CDB_ENTRY], 0)) != 0 ||
		    (rc = mdb_drop(t->txn, c->s.dbi[CDB_EXPIRY], 0)) != 0)
			store_txn_fail_lmdb(t, rc);
	} else
		sweep(t, INT64_MAX, ms.ms_entries / 4 + 1);
	cache_end(c, t);
}

int
cache_put(struct cache *c, const struct cache_key *k, int64_t expires_at,
    const char *link, const char *body, size_t body_len, int64_t now)
{
	struct store_txn *t;
	int rc = STORE_OK;

	if (k->len > CACHE_KEY_MAX || k->group > k->gen_end || k->gen_end > k->len)
		return STORE_CORRUPT;
	if (below_floor(c->dir))
		return STORE_FULL;
	/* Freed pages are reusable only once their transaction committed: each attempt is a transaction of its own. */
	for (int attempt = 0; attempt < 3; attempt++) {
		if (attempt > 0)
			evict(c, attempt == 2);
		if ((rc = cache_begin(c, 1, ENTRIES, &t)) != STORE_OK)
			return rc;
		drop_older_generations(t, k);
		sweep(t, now, CACHE_SWEEP);
		entry_put(t, k, expires_at, link, body, body_len);
		if ((rc = cache_end(c, t)) != STORE_FULL)
			break;
	}
	return rc;
}

/* Removes a cache environment dir/name: its two files, then the directory; nothing is followed. */
static int
remove_env_dir(int dirfd, const char *name)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (unlinkat(fd, files[i], 0) != 0 && errno != ENOENT)
			rc = -1;
	close(fd);
	return rc || unlinkat(dirfd, name, AT_REMOVEDIR) != 0 ? -1 : 0;
}

/* The number of entries of the cache in path, read without writing anything (0 when it cannot be read). */
static uint64_t
count_entries(const char *path)
{
	struct store s = { 0 };
	MDB_txn *txn;
	MDB_stat ms = { 0 };
	char why[8];

	if (store_env_open(&s, path, (size_t)1 << 20, MDB_RDONLY, 0, cache_db_names, CDB_EXPIRY + 1, why, sizeof(why), NULL) != 0)
		return 0;
	if (store_lmdb_begin(s.env, MDB_RDONLY, &txn) == 0) {
		if (mdb_stat(txn, s.dbi[CDB_ENTRY], &ms) != 0)
			ms.ms_entries = 0;
		mdb_txn_abort(txn);
	}
	store_env_close(&s);
	return ms.ms_entries;
}

/* This boot's cache: its expired entries removed in a transaction. */
static int
purge_expired(const char *dir, int64_t now, uint64_t *removed)
{
	struct cache *c = NULL;
	struct store_txn *t;
	int rc = cache_open(&c, dir, (size_t)1 << 20, 0);

	if (rc != STORE_OK || c == NULL)
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	if ((rc = cache_begin(c, 1, ENTRIES, &t)) == STORE_OK) {
		uint64_t n = sweep(t, now, 0);
		if ((rc = cache_end(c, t)) == STORE_OK)
			*removed = n;
	}
	if (rc == STORE_OK)
		rc = store_map_lmdb(mdb_env_sync(c->s.env, 1));
	cache_close(c);
	return rc;
}

int
cache_purge(const char *dir, int all, int64_t now, uint64_t *removed)
{
	char mine[64], path[4200];
	struct stat st;
	struct dirent *de;
	DIR *d;
	int dirfd, fd, rc = STORE_OK;

	*removed = 0;
	if (cache_name(mine, sizeof(mine)) != 0)
		return STORE_UNAVAILABLE;
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? STORE_OK : STORE_UNAVAILABLE;
	if ((fd = dup(dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		close(dirfd);
		return STORE_UNAVAILABLE;
	}
	while ((de = readdir(d)) != NULL) {
		int is_mine = strcmp(de->d_name, mine) == 0;

		if (strncmp(de->d_name, "cache.", 6) != 0 || fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			/* Not one of ours: a symlink goes, its target stays. */
			if (S_ISLNK(st.st_mode))
				unlinkat(dirfd, de->d_name, 0);
			continue;
		}
		/* Caches of earlier boots can never be read again; with all, this boot's goes too. */
		if (is_mine && !all)
			continue;
		if (is_mine && snprintf(path, sizeof(path), "%s/%s", dir, mine) < (int)sizeof(path))
			*removed = count_entries(path);
		if (remove_env_dir(dirfd, de->d_name) != 0 && is_mine)
			rc = STORE_UNAVAILABLE;
	}
	closedir(d);
	close(dirfd);
	if (!all && rc == STORE_OK)
		rc = purge_expired(dir, now, removed);
	return rc;
}
