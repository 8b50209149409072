#include <stdio.h>
#include <string.h>

#include "supplier.h"

const struct supplier suppliers[] = {
#define SUPPLIER(slug, env, display, ttl) { slug, env, display, ttl },
#include "suppliers.def"
#undef SUPPLIER
};

const size_t supplier_count = SUPPLIER_COUNT;

_Static_assert(sizeof(suppliers) / sizeof(suppliers[0]) == SUPPLIER_COUNT, "SUPPLIER_COUNT counts the rows");

const struct supplier *
supplier_by_slug(const char *s, size_t len)
{
	for (size_t i = 0; i < supplier_count; i++)
		if (strlen(suppliers[i].slug) == len &&
		    memcmp(suppliers[i].slug, s, len) == 0)
			return &suppliers[i];
	return NULL;
}

const struct supplier *
supplier_by_id(unsigned id)
{
	return id < supplier_count ? &suppliers[id] : NULL;
}

unsigned
supplier_id(const struct supplier *s)
{
	return (unsigned)(s - suppliers);
}

void
supplier_slugs(char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < supplier_count && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? ", " : "", suppliers[i].slug);
}
