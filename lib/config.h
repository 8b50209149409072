#ifndef MENZZO_CONFIG_H
#define MENZZO_CONFIG_H

#include <stddef.h>

#include "supplier.h"

/* The MENZZO_* environment, read once per process. */
struct config {
	const char *data_dir;  /* MENZZO_DATA_DIR, default "data/db" */
	const char *files_dir; /* MENZZO_FILES_DIR, default "data/files" */
	const char *base_url;  /* MENZZO_BASE_URL without a trailing '/', default "http://127.0.0.1:8080" */
	size_t base_url_len;
	unsigned page_size;    /* MENZZO_PAGE_SIZE, 1-1000, default 100 */
	const char *log_user;  /* MENZZO_LOG_USER, default "cron" */
	size_t map_size;       /* MENZZO_MAP_SIZE in bytes (suffix K, M, G allowed), default 4G */
	const char *cache_dir; /* MENZZO_CACHE_DIR, default data_dir: where cache.<boot id> lives */
	size_t cache_size;     /* MENZZO_CACHE_SIZE in bytes, 1M-1G, default 16M: the cache's own budget */
	long cache_ttl[SUPPLIER_COUNT]; /* MENZZO_CACHE_TTL_<ENV_NAME> in seconds, else the table's */
	unsigned rate_limit_rate;  /* MENZZO_RATE_LIMIT=RATE,BURST: requests a second, per token; 0: no limit */
	unsigned rate_limit_burst; /* the bucket's size (default 20,1000) */
	const char *state_file;    /* MENZZO_STATE_FILE; NULL: <cache_dir>/state (config_state_file) */
};

/*
 * Reads and checks the whole environment, every supplier's cache TTL
 * included.  Returns 0, or -1 with a sentence naming the offending variable
 * in err (the value itself is not repeated).  The strings point into the
 * environment: they live as long as it does.
 */
int config_load(struct config *c, char *err, size_t errlen);

/* The shared-state file's path in buf[len]: buf, or NULL when it does not fit. */
const char *config_state_file(const struct config *c, char *buf, size_t len);

/* The cache TTL of a supplier in seconds (0: no cache). */
long config_cache_ttl(const struct config *c, const struct supplier *s);

#endif
