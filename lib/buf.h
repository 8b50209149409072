#ifndef MENZZO_BUF_H
#define MENZZO_BUF_H

#include <stddef.h>

/* A growable byte buffer; always NUL-terminated after its len bytes once anything was added. */
struct buf {
	char *p;
	size_t len, cap;
};

/* Each returns 0, or -1 when memory runs out (the buffer is left as it was). */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

#endif
