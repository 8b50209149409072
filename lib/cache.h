#ifndef MENZZO_CACHE_H
#define MENZZO_CACHE_H

/*
 * The get-sales response cache: an LMDB environment of its own,
 * <cache dir>/cache.<boot id>, written without fsync, so that a cache write
 * never pays for a business write's durability and a system crash or a
 * reboot only starts a new, empty cache.  Two databases:
 *   entry   key                 -> be64 expires_at, be32 link length, link, body
 *   expiry  be64 expires_at, key -> ""   (the sweep's and the eviction's order)
 * (A cache of an earlier release may hold a third, "bucket", no longer read:
 * the rate limit's buckets are in the shared-state file, shared_state.h.)
 *
 * The cache can never starve the store: it lives within its own budget
 * (MENZZO_CACHE_SIZE, the map size of its environment), a write of a newer
 * generation removes the entries of older ones at once, and nothing is
 * written (nor created) while the file system holding it has less free
 * space than a floor that keeps business writes possible.  Every failure
 * here costs a MISS, never a request.  Results are store_results (store.h).
 */

#include <stddef.h>
#include <stdint.h>

struct cache;

/*
 * Opens this boot's cache in dir (create: creating it, unless the file
 * system is below the floor: STORE_FULL) with a budget of size bytes.
 * STORE_OK with *cp; STORE_NOTFOUND when it does not exist and create is 0;
 * STORE_UNAVAILABLE when cache.<boot id> is not a directory of its own (a
 * symlink is never followed).
 */
int cache_open(struct cache **cp, const char *dir, size_t size, int create);
/* c may be NULL. */
void cache_close(struct cache *c);
/* The size of this boot's cache file in dir: 0, or -1 when there is none. */
int cache_file_size(const char *dir, uint64_t *bytes);
/* 1 when a long-lived process should close and reopen the cache (its files were removed or replaced). */
int cache_stale(struct cache *c);

struct cache_entry {
	int64_t expires_at;
	char *link;   /* "" when none; malloc'd */
	char *body;   /* malloc'd, body_len bytes and a NUL */
	size_t body_len;
};

/* STORE_OK with a fresh entry (free it with cache_entry_free), STORE_NOTFOUND when absent or expired, or an error. */
int cache_get(struct cache *c, const void *key, size_t keylen, int64_t now, struct cache_entry *e);
void cache_entry_free(struct cache_entry *e);

/*
 * A key: key[0..group) names a group of entries that one generation counter
 * invalidates (a supplier's), key[group..gen_end) is the generation
 * (big-endian), the rest tells the entries of a generation apart.
 */
struct cache_key {
	const void *p;
	size_t len, group, gen_end;
};

/*
 * Stores an entry after removing the entries of its group with an older
 * generation and a few expired ones.  When the budget is reached, the
 * entries closest to expiry make room, and if that is not enough the cache
 * starts afresh.  Below the free-space floor nothing is written:
 * STORE_FULL.  On any error nothing was written.
 */
int cache_put(struct cache *c, const struct cache_key *k, int64_t expires_at,
    const char *link, const char *body, size_t body_len, int64_t now);

/*
 * In dir: removes the caches of earlier boots, and the expired entries of
 * this boot's cache (all: the whole cache, by removing its files, which
 * works on a full disk), counting the entries removed from this boot's in
 * *removed.  Nothing outside dir is touched: a cache.* symlink is removed
 * itself, never followed.
 */
int cache_purge(const char *dir, int all, int64_t now, uint64_t *removed);

#endif
