#ifndef MENZZO_ACTION_BODY_H
#define MENZZO_ACTION_BODY_H

/*
 * The bodies of POST acknowledge-sale, ship-sale and update-tracking: their
 * whitelist tables, and one request's fields read into the change it asks
 * for.  A
 * body is one request, or a batch, {"items": [...]}: 1 to BATCH_MAX
 * objects, each one request's fields, read against the same table (without
 * items), each read on its own.
 */

#include <stddef.h>

#include "request.h"
#include "sale_rules.h"

#define BATCH_MAX 100

/* acknowledge-sale: an acknowledgement, or with "accepted": false a refusal; items last (the items' table is the rest). */
enum ack_field { A_ID, A_ACCEPTED, A_REASON, A_NOTE, A_SHIP_DATE, A_ITEMS, A__MAX };
extern const struct field_rule ack_fields[A__MAX];

/* ship-sale: the shipment as one tracking number and carrier, or as a list of packages (parcels). */
enum ship_field { S_ID, S_TRACKING, S_CARRIER, S_PACKAGES, S_ITEMS, S__MAX };
extern const struct field_rule ship_fields[S__MAX];
/* One element of packages. */
enum package_field { PKG_TRACKING, PKG_CARRIER, PKG__MAX };
extern const struct field_rule package_fields[PKG__MAX];

/* update-tracking: carrier events of a shipped sale product, and parcels to add to it. */
enum track_field { T_ID, T_EVENTS, T_PACKAGES, T_ITEMS, T__MAX };
extern const struct field_rule track_fields[T__MAX];
/* One element of events. */
enum event_field { EV_STATUS, EV_AT, EV_TRACKING, EV_LOCATION, EV__MAX };
extern const struct field_rule event_fields[EV__MAX];

/* How far ahead of the server's clock a carrier event's time may be (a carrier's clock may run fast). */
#define TRACKING_AHEAD_MAX 86400
/* The earliest a carrier event's time may be: 2000-01-01T00:00:00Z (0 would read as "no time"). */
#define TRACKING_AT_MIN 946684800

/* One request's fields, read: what it asks for, or why it is a 400. */
struct action_item {
	int ok;
	const char *code, *message; /* when not ok: the 400's code and sentence (message may point at msg) */
	char msg[224];
	const char *id_sent;        /* menzzo_order_id as sent, when it was a string (points into the fields) */
	struct action act;          /* when ok: what, the ids, and the fields of the change (pointing into the fields) */
	struct package_list *packages; /* act.packages, owned here: carriers "" where the request named none */
	struct tracking_list *tracking; /* act.tracking, owned here */
};

/* A body, read. */
struct action_body {
	int batch;                  /* {"items": [...]} */
	size_t n;                   /* 1, or the batch's items */
	struct action_item *items;  /* [n], in request order */
	struct field fields[(int)A__MAX > (int)S__MAX ? (int)A__MAX : (int)S__MAX];
};

_Static_assert((int)T__MAX <= (int)S__MAX || (int)T__MAX <= (int)A__MAX, "action_body's fields hold every table");

/*
 * Reads the body of an acknowledge (what ACTION_ACKNOWLEDGE: an
 * acknowledgement or a refusal), a ship (ACTION_SHIP) or a tracking update
 * (ACTION_TRACK) into b, its dates judged against now (an estimated ship
 * date today to SHIP_DATE_AHEAD_MAX days ahead, a carrier event from
 * TRACKING_AT_MIN to TRACKING_AHEAD_MAX seconds ahead).  Returns 0
 * with b->items read, each ok or with its 400 (an item's code NULL: memory
 * ran out reading it); or -1 with *code and *message the 400 for the whole
 * body (constants, or msg), *code NULL when memory ran out: a body that is
 * no JSON object nor form, a batch whose items are not 1 to BATCH_MAX
 * objects, or a batch with other fields beside items.  Free b with
 * action_body_free in both cases.
 */
int action_body_parse(const struct request *r, enum sale_action what, int64_t now, struct action_body *b,
    const char **code, const char **message, char *msg, size_t msglen);
void action_body_free(struct action_body *b);

#endif
