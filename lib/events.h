#ifndef MENZZO_EVENTS_H
#define MENZZO_EVENTS_H

/*
 * The change feeds over HTTP (get-events of a supplier and of the back
 * office; their handlers are in the route table): the query they read.
 */

#include <stddef.h>
#include <stdint.h>

struct buf;

/*
 * Reads after=N (0 to 2^63-1, default 0) and limit=M (1 to 1000, default
 * 100) from the query string qs[0..len): 0; -1 with msg the 400's
 * sentence; -2 when memory ran out.
 */
int events_query_read(const char *qs, size_t len, uint64_t *after, uint64_t *limit, char *msg, size_t msglen);

/*
 * Appends a stored event (json[0..len), as the outbox holds it: it starts
 * {"seq":<its outbox number>,) with its number seq in the sequence it is
 * read from: what a feed's page and a webhook's body carry.  0, -1 for a
 * stored event without its number, -2 when memory ran out.
 */
int event_item(struct buf *out, const char *json, size_t len, uint64_t seq);

#endif
