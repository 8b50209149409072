#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Room for n more bytes and a NUL: exactly that (exact), or the capacity doubled until it fits. */
static int
grow(struct buf *b, size_t n, int exact)
{
	size_t cap;
	char *p;

	if (n >= (size_t)-1 - b->len)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = exact ? b->len + n + 1 : b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	if (b->p == NULL)
		p[0] = '\0';
	b->p = p;
	b->cap = cap;
	return 0;
}

static int
reserve(struct buf *b, size_t n)
{
	return grow(b, n, 0);
}

int
buf_reserve(struct buf *b, size_t n)
{
	return grow(b, n, 1);
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0 && b->p != NULL)
		return 0;
	if (reserve(b, n))
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list again;
	size_t avail = b->cap > b->len ? b->cap - b->len : 0;
	int n;

	/* One pass when it fits in what is free; a second, after making room, when it does not. */
	va_copy(again, ap);
	n = vsnprintf(avail ? b->p + b->len : NULL, avail, fmt, ap);
	if (n >= 0 && (size_t)n >= avail) {
		if (reserve(b, (size_t)n) != 0)
			n = -1;
		else
			vsnprintf(b->p + b->len, (size_t)n + 1, fmt, again);
	}
	va_end(again);
	if (n < 0) {
		if (b->p != NULL)
			b->p[b->len] = '\0';
		return -1;
	}
	b->len += (size_t)n;
	return 0;
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *
buf_extend(struct buf *b, size_t n)
{
	char *p;

	if (reserve(b, n) != 0)
		return NULL;
	p = b->p + b->len;
	b->len += n;
	b->p[b->len] = '\0';
	return p;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
