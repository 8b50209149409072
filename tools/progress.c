/*
 * One updating line of progress on standard error when it is a terminal
 * (see progress.h).  The clock is CLOCK_MONOTONIC_COARSE, read from the
 * vDSO without a system call; the line is drawn when 100 ms have passed
 * since the last one.
 */
#define _GNU_SOURCE  /* fopencookie */

#include <sys/ioctl.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define REDRAW_MS 100

static int64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
format_count(uint64_t n, char *out, size_t len)
{
	char digits[24], grouped[32];
	int nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	size_t g = 0;

	for (int i = 0; i < nd; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			grouped[g++] = ',';
		grouped[g++] = digits[i];
	}
	grouped[g] = '\0';
	snprintf(out, len, "%s", grouped);
}

void
format_bytes(uint64_t n, char *out, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	uint64_t unit = 1024;
	unsigned u = 0;
	double v;

	if (n < 1024) {
		snprintf(out, len, "%llu B", (unsigned long long)n);
		return;
	}
	while (u < 5 && n / unit >= 1024) {
		unit <<= 10;
		u++;
	}
	v = (double)n / (double)unit;
	/* 1023.96 KiB would print as "1024.0 KiB": say 1.0 MiB. */
	if (v >= 1023.95 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, "%.1f %s", v, units[u]);
}

static void
format_duration(double secs, char *out, size_t len)
{
	long s = (long)secs + (secs > (double)(long)secs);  /* rounded up: never "0 s" while work is left */

	if (s < 60)
		snprintf(out, len, "%ld s", s);
	else if (s < 3600)
		snprintf(out, len, "%ld min %02ld s", s / 60, s % 60);
	else
		snprintf(out, len, "%ld h %02ld min", s / 3600, s / 60 % 60);
}

/* Appends to line[0..cap), keeping *n at most cap - 1. */
static void add(char *line, size_t cap, size_t *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
add(char *line, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(line + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (r > 0)
		*n = *n + (size_t)r < cap ? *n + (size_t)r : cap - 1;
}

/*
 * Draws "what: done[ of total] (pct%)[, items noun][, rate][, ETA t|state]".  On a
 * terminal too narrow for it, the item count goes first, then the rate,
 * then the ETA; what is left is cut at the last column but one (the line
 * is ASCII).
 */
static void
draw(struct progress *p, int64_t now)
{
	char line[256], head[96], items[64] = "", rate[64] = "", eta[48] = "", a[32], b[32];
	double secs = (double)(now - p->start_ms) / 1000;
	uint64_t counted = p->bytes && p->noun != NULL ? p->items : p->done;
	struct winsize ws;
	size_t n = 0, width = sizeof(line) - 5;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && ws.ws_col - 1u < width)
		width = ws.ws_col - 1u;  /* never the last column: the cursor would wrap */
	if (p->bytes) {
		format_bytes(p->done, a, sizeof(a));
		format_bytes(p->total, b, sizeof(b));
	} else {
		format_count(p->done, a, sizeof(a));
		format_count(p->total, b, sizeof(b));
	}
	add(head, sizeof(head), &n, "%s: %s", p->what, a);
	if (p->total)
		add(head, sizeof(head), &n, " of %s", b);
	if (!p->bytes)
		add(head, sizeof(head), &n, " %s", p->noun);
	if (p->total)
		add(head, sizeof(head), &n, " (%d%%)",
		    p->done >= p->total ? 100 : (int)((double)p->done * 100 / (double)p->total));
	if (p->bytes && p->noun != NULL) {
		format_count(p->items, a, sizeof(a));
		snprintf(items, sizeof(items), ", %s %s", a, p->noun);
	}
	if (secs > 0) {
		double r = (double)counted / secs;
		if (p->bytes && p->noun == NULL) {
			format_bytes((uint64_t)r, a, sizeof(a));
			snprintf(rate, sizeof(rate), ", %s/s", a);
		} else {
			format_count((uint64_t)r, a, sizeof(a));
			snprintf(rate, sizeof(rate), ", %s %s/s", a, p->noun);
		}
	}
	if (p->state != NULL)
		snprintf(eta, sizeof(eta), ", %s", p->state);
	else if (p->total && p->done > 0 && p->done < p->total && secs > 0) {
		format_duration((double)(p->total - p->done) * secs / (double)p->done, a, sizeof(a));
		snprintf(eta, sizeof(eta), ", ETA %s", a);
	}
	if (strlen(head) + strlen(items) + strlen(rate) + strlen(eta) > width)
		items[0] = '\0';
	if (strlen(head) + strlen(rate) + strlen(eta) > width)
		rate[0] = '\0';
	if (strlen(head) + strlen(eta) > width)
		eta[0] = '\0';
	n = 0;
	add(line, sizeof(line), &n, "\r%s%s%s%s", head, items, rate, eta);
	if (n - 1 > width)
		n = width + 1;
	memcpy(line + n, "\033[K", 4);
	fwrite(line, 1, n + 3, stderr);
	p->shown = 1;
}

static void
start(struct progress *p, const char *what, const char *noun, uint64_t total, int bytes)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->noun = noun;
	p->total = total;
	p->bytes = bytes;
	p->active = isatty(STDERR_FILENO);
	p->start_ms = now_ms();
	p->next_ms = p->start_ms + REDRAW_MS;
}

void
progress_start(struct progress *p, const char *what, const char *noun, uint64_t total)
{
	start(p, what, noun, total, 0);
}

void
progress_start_bytes(struct progress *p, const char *what, const char *noun, uint64_t total_bytes)
{
	start(p, what, noun, total_bytes, 1);
}

static void
tick(struct progress *p)
{
	int64_t now = now_ms();

	if (now < p->next_ms)
		return;
	p->next_ms = now + REDRAW_MS;
	draw(p, now);
}

void
progress_update(struct progress *p, uint64_t done)
{
	if (!p->active)
		return;
	p->done = done;
	tick(p);
}

void
progress_update_read(struct progress *p, uint64_t bytes, uint64_t items)
{
	if (!p->active)
		return;
	p->done = p->bytes ? bytes : items;
	p->items = items;
	tick(p);
}

void
progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;

	if (total)
		p->total = total;
	progress_update(p, done);
}

void
progress_say(struct progress *p, const char *state)
{
	int64_t now = now_ms();

	if (!p->active || (!p->shown && now < p->next_ms))
		return;  /* work this short shows nothing */
	p->state = state;
	draw(p, now);
}

void
progress_clear(struct progress *p)
{
	if (!p->shown)
		return;
	fputs("\r\033[K", stderr);
	p->shown = 0;
}

static ssize_t
stream_write(void *cookie, const char *buf, size_t len)
{
	struct progress *p = cookie;

	progress_clear(p);
	if (fwrite(buf, 1, len, p->out) != len || fflush(p->out) != 0)
		return -1;
	return (ssize_t)len;
}

FILE *
progress_stream(struct progress *p, FILE *out)
{
	static const cookie_io_functions_t io = { .write = stream_write };

	if (!p->active || p->stream != NULL)
		return p->stream != NULL ? p->stream : out;
	p->out = out;
	if ((p->stream = fopencookie(p, "w", io)) == NULL)
		return out;
	setvbuf(p->stream, NULL, _IOLBF, 0);
	return p->stream;
}

void
progress_end(struct progress *p)
{
	if (p->stream != NULL) {
		fclose(p->stream);
		p->stream = NULL;
	}
	progress_clear(p);
	p->active = 0;
}
