/*
 * menzzo-admin import: JSON Lines in, one write transaction out.  A reader
 * thread parses and validates lines (json-c, most of the work) while this
 * one writes the previous batch into the store; errors are still reported
 * in line order, and nothing is written unless the whole transaction commits.
 * The writer also draws the progress (bytes of a regular file, lines), once
 * a batch, so that it and the error lines share standard error in order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_import.h"
#include "import.h"
#include "sale_json.h"
#include "progress.h"
#include "validate.h"

#define BATCH_LINES 256
#define BATCHES 4

struct parsed {
	unsigned long lineno;
	int ok;
	struct import_line l;
	char err[160];
};

struct batch {
	struct parsed p[BATCH_LINES];
	size_t n;
	uint64_t bytes;           /* of input read up to the end of this batch */
};

struct import_pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *ring;       /* BATCHES of them */
	size_t head, tail;        /* batches taken by the writer, filled by the reader */
	int done, stop;
	FILE *in;
	int64_t now;
	unsigned long lines;      /* read so far, blank ones included */
	uint64_t bytes;           /* read so far */
	int read_errno;           /* why reading stopped before the end, or 0 */
};

/*
 * Lines, at most IMPORT_LINE_MAX bytes each held in memory: a longer one is
 * read to its end and dropped, and reported as too long.
 */

struct line_reader {
	FILE *in;
	char buf[2 * IMPORT_LINE_MAX];
	size_t start, end;        /* buf[start..end) not yet handed out */
	int eof;
	int err;                  /* errno of a failed read, or 0 */
};

/*
 * The next line, without its newline, in *line[0..*len) (valid until the
 * next call); *too_long when it was over IMPORT_LINE_MAX (then *len is 0).
 * *raw counts the bytes it took of the input.  Returns 1, or 0 at the end
 * or on a read error (lr->err is then its errno).
 */
static int
next_line(struct line_reader *lr, const char **line, size_t *len, int *too_long, uint64_t *raw)
{
	int dropping = 0;

	*too_long = 0;
	*raw = 0;
	for (;;) {
		char *nl = memchr(lr->buf + lr->start, '\n', lr->end - lr->start);
		size_t n;

		if (nl != NULL || (lr->eof && (lr->end > lr->start || dropping))) {
			size_t take = nl ? (size_t)(nl - (lr->buf + lr->start)) : lr->end - lr->start;

			*line = lr->buf + lr->start;
			*len = dropping ? 0 : take;
			*too_long = dropping || take > IMPORT_LINE_MAX;
			if (*too_long)
				*len = 0;
			*raw += take + (nl != NULL);
			lr->start += take + (nl != NULL);
			return 1;
		}
		if (lr->eof)
			return 0;
		if (lr->end - lr->start > IMPORT_LINE_MAX) {
			/* No newline in more than the longest line: drop what is here, find the line's end. */
			*raw += lr->end - lr->start;
			lr->start = lr->end = 0;
			dropping = 1;
		}
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
		n = fread(lr->buf + lr->end, 1, sizeof(lr->buf) - lr->end, lr->in);
		lr->end += n;
		if (n == 0 && ferror(lr->in)) {
			lr->err = errno ? errno : EIO;
			return 0;
		}
		if (n == 0)
			lr->eof = 1;
	}
}

/* Fills one batch with the next non-blank lines; returns 0 at end of input. */
static int
fill(struct import_pipe *ip, struct batch *b, struct line_reader *lr)
{
	const char *line;
	size_t len;
	uint64_t raw;
	int too_long;

	b->n = 0;
	while (b->n < BATCH_LINES && next_line(lr, &line, &len, &too_long, &raw)) {
		struct parsed *p = &b->p[b->n];

		ip->lines++;
		ip->bytes += raw;
		while (len > 0 && line[len - 1] == '\r')
			len--;
		if (!too_long && only_blanks(line, 0, len))
			continue;
		p->lineno = ip->lines;
		if (too_long) {
			p->ok = 0;
			snprintf(p->err, sizeof(p->err), "longer than %d bytes", IMPORT_LINE_MAX);
			b->n++;
			continue;
		}
		p->ok = import_parse_line(line, len, ip->now, &p->l, p->err, sizeof(p->err)) == 0;
		/*
		 * Rendering the listing item costs about half as much as parsing:
		 * the reader renders every other batch, the writer the rest, so
		 * that both threads carry the same load.
		 */
		if (p->ok && ip->tail % 2 == 0 && item_render(&p->l.sp, &p->l.item) != 0)
			p->l.item.len = 0;
		b->n++;
	}
	if (lr->err != 0)
		ip->read_errno = lr->err;
	b->bytes = ip->bytes;
	return b->n > 0 && ip->read_errno == 0;
}

static void *
reader(void *arg)
{
	struct import_pipe *ip = arg;
	struct line_reader *lr = calloc(1, sizeof(*lr));

	if (lr == NULL) {
		pthread_mutex_lock(&ip->mu);
		ip->read_errno = ENOMEM;
		ip->done = 1;
		pthread_cond_broadcast(&ip->cv);
		pthread_mutex_unlock(&ip->mu);
		return NULL;
	}
	lr->in = ip->in;
	for (;;) {
		int more;

		pthread_mutex_lock(&ip->mu);
		while (ip->tail - ip->head == BATCHES && !ip->stop)
			pthread_cond_wait(&ip->cv, &ip->mu);
		if (ip->stop) {
			pthread_mutex_unlock(&ip->mu);
			break;
		}
		pthread_mutex_unlock(&ip->mu);
		/* The slot at tail is the reader's until it publishes it. */
		more = fill(ip, &ip->ring[ip->tail % BATCHES], lr);
		pthread_mutex_lock(&ip->mu);
		if (more)
			ip->tail++;
		else
			ip->done = 1;
		pthread_cond_broadcast(&ip->cv);
		pthread_mutex_unlock(&ip->mu);
		if (!more)
			break;
	}
	free(lr);
	return NULL;
}

int
admin_import(struct admin *a, FILE *in, const char *name, uint64_t size, unsigned long *imported)
{
	struct progress pr;
	struct import_pipe ip = { .in = in, .now = a->now };
	struct store_txn *t;
	pthread_t th;
	char err[160];
	unsigned long bad = 0, changed = 0, lineno = 0;
	int rc, store_err = STORE_OK;
	unsigned char touched[256] = { 0 };

	if ((rc = store_begin(a->store, 1, &t)) != STORE_OK) {
		fprintf(stderr, "menzzo-admin: %s; nothing was written\n", store_strerror(rc));
		return 1;
	}
	if ((ip.ring = calloc(BATCHES, sizeof(*ip.ring))) == NULL) {
		store_abort(t);
		fprintf(stderr, "menzzo-admin: out of memory\n");
		return 1;
	}
	pthread_mutex_init(&ip.mu, NULL);
	pthread_cond_init(&ip.cv, NULL);
	if (pthread_create(&th, NULL, reader, &ip) != 0) {
		store_abort(t);
		free(ip.ring);
		fprintf(stderr, "menzzo-admin: cannot start the reader thread\n");
		return 1;
	}
	progress_start_bytes(&pr, "import", "lines", size);
	while (store_err == STORE_OK) {
		struct batch *b;

		pthread_mutex_lock(&ip.mu);
		while (ip.head == ip.tail && !ip.done)
			pthread_cond_wait(&ip.cv, &ip.mu);
		if (ip.head == ip.tail) {
			pthread_mutex_unlock(&ip.mu);
			break;
		}
		b = &ip.ring[ip.head % BATCHES];
		pthread_mutex_unlock(&ip.mu);
		for (size_t i = 0; i < b->n; i++) {
			struct parsed *p = &b->p[i];
			enum import_outcome r = IMPORT_REFUSED;

			lineno = p->lineno;
			if (p->ok && (store_err = import_apply(t, &p->l, a->now, a->user, NULL, &r, p->err, sizeof(p->err))) != STORE_OK)
				break;
			if (r == IMPORT_REFUSED) {
				progress_clear(&pr);
				fprintf(stderr, "%s: line %lu: %s\n", name, p->lineno, p->err);
				bad++;
			} else if (r == IMPORT_CHANGED || r == IMPORT_CREATED) {
				changed++;
				touched[p->l.sp.supplier] = 1;
			}
		}
		progress_update_read(&pr, b->bytes, lineno);
		pthread_mutex_lock(&ip.mu);
		ip.head++;
		if (store_err != STORE_OK)
			ip.stop = 1;
		pthread_cond_broadcast(&ip.cv);
		pthread_mutex_unlock(&ip.mu);
	}
	pthread_join(th, NULL);
	for (size_t i = 0; i < BATCHES; i++)
		for (size_t j = 0; j < BATCH_LINES; j++)
			buf_free(&ip.ring[i].p[j].l.item);
	pthread_cond_destroy(&ip.cv);
	pthread_mutex_destroy(&ip.mu);
	free(ip.ring);
	if (store_err != STORE_OK) {
		store_abort(t);
		progress_end(&pr);
		fprintf(stderr, "menzzo-admin: import stopped at line %lu: %s; nothing was written\n",
		    lineno, store_strerror(store_err));
		return 1;
	}
	if (ip.read_errno != 0) {
		store_abort(t);
		progress_end(&pr);
		fprintf(stderr, "menzzo-admin: import: cannot read %s: %s; nothing was written\n",
		    name, strerror(ip.read_errno));
		return 2;
	}
	for (unsigned s = 0; s < supplier_count; s++)
		if (touched[s])
			store_generation_bump(t, s);
	progress_say(&pr, "committing");
	rc = store_commit(t);
	progress_end(&pr);
	if (rc != STORE_OK) {
		snprintf(err, sizeof(err), "%s", store_strerror(rc));
		fprintf(stderr, "menzzo-admin: import: %s; nothing was written\n", err);
		return 1;
	}
	if (imported)
		*imported = changed;
	fprintf(stderr, "%s: %lu line(s) read, %lu sale product(s) created or changed, %lu rejected\n",
	    name, ip.lines, changed, bad);
	return bad ? 1 : 0;
}
