/* A minimal unit-test harness: each CHECK prints "ok N - what" or "not ok N - what" (TAP-like). */
#ifndef MENZZO_UNIT_H
#define MENZZO_UNIT_H

#include <stdio.h>

static int unit_n, unit_failed;

#define CHECK(cond, what) do { \
	unit_n++; \
	if (cond) \
		printf("ok %d - %s\n", unit_n, what); \
	else { \
		unit_failed++; \
		printf("not ok %d - %s (%s:%d: %s)\n", unit_n, what, __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define UNIT_DONE() (unit_failed ? 1 : 0)

#endif
