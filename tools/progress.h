#ifndef MENZZO_PROGRESS_H
#define MENZZO_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Progress of long work, for a maintainer watching a terminal: one line on
 * standard error, redrawn in place at most ten times a second, e.g.
 *
 *   import: 12.3 MiB of 45.6 MiB (27%), 523,411 lines, 98,120 lines/s, ETA 5 s
 *   import: 12.3 MiB, 523,411 lines, 98,120 lines/s      (from a pipe: no total)
 *   check: 523,411 of 1,000,000 records (52%), 98,120 records/s, ETA 5 s
 *   backup: 12.3 MiB of 45.6 MiB (27%), 3.2 MiB/s, ETA 11 s
 *
 * When standard error is not a terminal (cron, a pipe, a file) nothing is
 * ever printed.  An update costs a coarse clock read (no system call) and,
 * ten times a second, one write: it can be called per item of a loop.  One
 * thread draws: the one that also writes any other output to standard error,
 * calling progress_clear first.
 */
struct progress {
	const char *what;  /* the work: "import" */
	const char *noun;  /* what is counted: "lines"; in bytes mode NULL = bytes only */
	int bytes;         /* done and total are bytes (items counted beside) */
	int active;        /* standard error is a terminal */
	int shown;         /* a line is on the screen */
	uint64_t total;    /* 0 = unknown */
	uint64_t done, items;
	int64_t start_ms, next_ms;
	const char *state; /* shown instead of the ETA: "committing" */
	FILE *out, *stream;  /* see progress_stream */
};

/* Starts the progress of what, counting noun ("lines"); total items, 0 when unknown. */
void progress_start(struct progress *p, const char *what, const char *noun, uint64_t total);
/*
 * The same, measured in bytes of total_bytes (0 when unknown), e.g. of an
 * input file: the percentage and ETA are of the bytes; noun items are
 * counted beside and their rate shown (with noun NULL, the rate of bytes).
 */
void progress_start_bytes(struct progress *p, const char *what, const char *noun, uint64_t total_bytes);
/* done so far, in the unit of the total (items, or bytes). */
void progress_update(struct progress *p, uint64_t done);
/* Reading an input: bytes of it read and items done so far (either mode). */
void progress_update_read(struct progress *p, uint64_t bytes, uint64_t items);
/*
 * Draws the line now with state in place of the ETA, for a last step of
 * unknown length ("committing"); not when the work so far was too short to
 * show a line.
 */
void progress_say(struct progress *p, const char *state);
/* Removes the line from the screen, before other output to standard error; the next update draws it again. */
void progress_clear(struct progress *p);
/*
 * A stream for output written while the progress is shown (a report on
 * standard output, which may be the same terminal): each line of it first
 * removes the progress line, then goes to out.  Without a terminal, out
 * itself.  progress_end closes it.
 */
FILE *progress_stream(struct progress *p, FILE *out);
/* The end: removes the line and closes the progress_stream. */
void progress_end(struct progress *p);
/*
 * A store_progress_fn: ctx is a started struct progress; a non-zero total
 * replaces the one given to progress_start.
 */
void progress_cb(void *ctx, uint64_t done, uint64_t total);

/* 1234567 as "1,234,567". */
void format_count(uint64_t n, char *out, size_t len);
/* Bytes as "512 B", "4.0 KiB", "1.2 MiB", "4.0 GiB" (powers of 1024, one decimal). */
void format_bytes(uint64_t n, char *out, size_t len);

#endif
