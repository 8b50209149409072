#ifndef MENZZO_BUF_H
#define MENZZO_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A growable byte buffer; always NUL-terminated after its len bytes once anything was added. */
struct buf {
	char *p;
	size_t len, cap;
};

/* Each returns 0, or -1 when memory runs out (the buffer is left as it was). */
int buf_add(struct buf *b, const void *p, size_t n);
/* Makes room for n more bytes at once (one allocation instead of a doubling series). */
int buf_reserve(struct buf *b, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* n more bytes at the end for the caller to fill (len grows by n); NULL when memory runs out. */
char *buf_extend(struct buf *b, size_t n);
void buf_free(struct buf *b);

#endif
