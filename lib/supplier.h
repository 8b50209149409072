#ifndef MENZZO_SUPPLIER_H
#define MENZZO_SUPPLIER_H

#include <stddef.h>

/*
 * One row of lib/suppliers.def.  A supplier's id, stored in keys, is its
 * row index: rows may be added at the end, never reordered or removed.
 */
struct supplier {
	const char *slug;       /* "asir-group": URL path segment, import field */
	const char *env_name;   /* "ASIR_GROUP": MENZZO_CACHE_TTL_<env_name> */
	const char *display;    /* "AsirGroup" */
	long default_cache_ttl; /* seconds; 0 = no cache */
};

/* The number of rows, known at compile time. */
enum { SUPPLIER_COUNT = 0
#define SUPPLIER(slug, env, display, ttl) + 1
#include "suppliers.def"
#undef SUPPLIER
};

/* Keys and records store a supplier's id in one byte. */
_Static_assert(SUPPLIER_COUNT >= 1 && SUPPLIER_COUNT <= 256, "lib/suppliers.def must have 1 to 256 rows");

extern const struct supplier suppliers[];
extern const size_t supplier_count;

/* The row whose slug is exactly s[0..len), or NULL. */
const struct supplier *supplier_by_slug(const char *s, size_t len);
/* The row with this id, or NULL. */
const struct supplier *supplier_by_id(unsigned id);
/* The id of a row of suppliers[]. */
unsigned supplier_id(const struct supplier *s);
/* Every slug of the table, comma-separated ("asir-group, notio"), cut to fit out[0..len). */
void supplier_slugs(char *out, size_t len);

#endif
