#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "validate.h"

#define CACHE_TTL_MAX (31UL * 86400)

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v != NULL && *v != '\0' ? v : dflt;
}

static int
valid_base_url(const char *s, size_t len)
{
	size_t skip;

	if (strncmp(s, "https://", 8) == 0)
		skip = 8;
	else if (strncmp(s, "http://", 7) == 0)
		skip = 7;
	else
		return -1;
	if (len <= skip || len > 200)
		return -1;
	for (size_t i = skip; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~:/[]@%", c)))
			return -1;
	}
	return 0;
}

static int
parse_size(const char *s, size_t *out)
{
	size_t len = strlen(s), mult = 1;
	uint64_t v;

	if (len > 1 && strchr("KMG", s[len - 1])) {
		mult = s[len - 1] == 'K' ? 1024UL : s[len - 1] == 'M' ? 1024UL * 1024 : 1024UL * 1024 * 1024;
		len--;
	}
	if (parse_uint(s, len, 1, (uint64_t)1 << 44, &v) || v > ((uint64_t)1 << 44) / mult)
		return -1;
	*out = (size_t)(v * mult);
	return 0;
}

#define RATE_LIMIT_MAX 1000000U

/* "RATE,BURST", both 1 .. RATE_LIMIT_MAX, or "0": no limit. */
static int
parse_rate_limit(const char *s, unsigned *rate, unsigned *burst)
{
	const char *comma = strchr(s, ',');
	uint64_t r, b;

	if (strcmp(s, "0") == 0) {
		*rate = *burst = 0;
		return 0;
	}
	if (comma == NULL || parse_uint(s, (size_t)(comma - s), 1, RATE_LIMIT_MAX, &r) ||
	    parse_uint(comma + 1, strlen(comma + 1), 1, RATE_LIMIT_MAX, &b))
		return -1;
	*rate = (unsigned)r;
	*burst = (unsigned)b;
	return 0;
}

int
config_load(struct config *c, char *err, size_t errlen)
{
	const char *v;
	uint64_t n;
	size_t len;

	c->data_dir = env_or("MENZZO_DATA_DIR", "data/db");
	c->files_dir = env_or("MENZZO_FILES_DIR", "data/files");
	c->log_user = env_or("MENZZO_LOG_USER", "cron");
	if (valid_text(c->log_user, strlen(c->log_user), 64)) {
		snprintf(err, errlen, "MENZZO_LOG_USER must be 1-64 printable characters");
		return -1;
	}
	c->base_url = env_or("MENZZO_BASE_URL", "http://127.0.0.1:8080");
	len = strlen(c->base_url);
	while (len > 0 && c->base_url[len - 1] == '/')
		len--;
	if (valid_base_url(c->base_url, len)) {
		snprintf(err, errlen, "MENZZO_BASE_URL must be an http:// or https:// URL");
		return -1;
	}
	c->base_url_len = len;
	v = env_or("MENZZO_PAGE_SIZE", "100");
	if (parse_uint(v, strlen(v), 1, 1000, &n)) {
		snprintf(err, errlen, "MENZZO_PAGE_SIZE must be an integer from 1 to 1000");
		return -1;
	}
	c->page_size = (unsigned)n;
	v = env_or("MENZZO_MAP_SIZE", "4G");
	if (parse_size(v, &c->map_size) || c->map_size < 65536) {
		snprintf(err, errlen, "MENZZO_MAP_SIZE must be a size in bytes (K, M or G suffix allowed), at least 64K");
		return -1;
	}
	c->cache_dir = env_or("MENZZO_CACHE_DIR", c->data_dir);
	v = env_or("MENZZO_CACHE_SIZE", "16M");
	if (parse_size(v, &c->cache_size) || c->cache_size < ((size_t)1 << 20) || c->cache_size > ((size_t)1 << 30)) {
		snprintf(err, errlen, "MENZZO_CACHE_SIZE must be a size in bytes (K, M or G suffix allowed) from 1M to 1G");
		return -1;
	}
	v = getenv("MENZZO_STATE_FILE");
	c->state_file = v != NULL && *v ? v : NULL;
	if (parse_rate_limit(env_or("MENZZO_RATE_LIMIT", "20,1000"), &c->rate_limit_rate, &c->rate_limit_burst)) {
		snprintf(err, errlen, "MENZZO_RATE_LIMIT must be RATE,BURST (requests a second and bucket size, "
		    "1 to %u each) or 0", RATE_LIMIT_MAX);
		return -1;
	}
	for (size_t i = 0; i < supplier_count; i++) {
		char name[64];

		snprintf(name, sizeof(name), "MENZZO_CACHE_TTL_%s", suppliers[i].env_name);
		v = getenv(name);
		if (v == NULL || *v == '\0') {
			c->cache_ttl[i] = suppliers[i].default_cache_ttl;
			continue;
		}
		/* "0" has no leading zero to refuse; parse_uint takes it. */
		if (parse_uint(v, strlen(v), 0, CACHE_TTL_MAX, &n)) {
			snprintf(err, errlen, "%s must be a number of seconds from 0 to %lu", name, CACHE_TTL_MAX);
			return -1;
		}
		c->cache_ttl[i] = (long)n;
	}
	return 0;
}

const char *
config_state_file(const struct config *c, char *buf, size_t len)
{
	int n = c->state_file != NULL ? snprintf(buf, len, "%s", c->state_file) :
	    snprintf(buf, len, "%s/state", c->cache_dir);

	return n >= 0 && (size_t)n < len ? buf : NULL;
}

long
config_cache_ttl(const struct config *c, const struct supplier *s)
{
	return c->cache_ttl[supplier_id(s)];
}
