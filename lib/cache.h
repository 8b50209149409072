#ifndef MENZZO_CACHE_H
#define MENZZO_CACHE_H

/*
 * The get-sales response cache: an LMDB environment of its own,
 * <data dir>/cache.<boot id>, written without fsync, so that a cache write
 * never pays for a business write's durability and a system crash or a
 * reboot only starts a new, empty cache.  Two databases:
 *   entry   key                 -> be64 expires_at, be32 link length, link, body
 *   expiry  be64 expires_at, key -> ""   (the sweep's order)
 * Results are store_results (store.h).
 */

#include <stddef.h>
#include <stdint.h>

struct cache;

/*
 * Opens this boot's cache beside the store in data_dir (create: creating it).
 * STORE_OK with *cp; STORE_NOTFOUND when it does not exist and create is 0.
 */
int cache_open(struct cache **cp, const char *data_dir, int create);
/* c may be NULL. */
void cache_close(struct cache *c);

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
 * Stores an entry, and removes a few expired ones on the way.  A full cache
 * is emptied and the entry stored again.  STORE_OK or an error; on an error
 * nothing was written.
 */
int cache_put(struct cache *c, const void *key, size_t keylen, int64_t expires_at,
    const char *link, const char *body, size_t body_len, int64_t now);
/*
 * Removes the expired entries (every entry with all) of this boot's cache,
 * counting them in *removed, and the caches of earlier boots.
 */
int cache_purge(const char *data_dir, int all, int64_t now, uint64_t *removed);

#endif
