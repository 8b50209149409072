#ifndef MENZZO_IMPORT_H
#define MENZZO_IMPORT_H

/*
 * `menzzo-admin import` (SPEC §4): a JSON Lines record parsed and
 * validated, then upserted by sale_product_id.  A re-import never moves a
 * sale product back (pending → acknowledged → shipped or refused), but a
 * cancellation is always applied, and is final.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sale.h"
#include "store.h"

/* One line, parsed and validated. */
struct import_line {
	struct sale_product sp;   /* status, timestamps filled as the line says */
	int has_label, has_status;
	struct buf item;          /* optional: sp's stored item (item_render), rendered ahead */
};

/*
 * Parses one JSON Lines record.  Returns 0, or -1 with a reason in err (no
 * line number, no input echoed beyond a field name).  out->item keeps its
 * buffer, emptied, for the caller to reuse and free: zero *out before the
 * first call.
 */
int import_parse_line(const char *line, size_t len, int64_t now, struct import_line *out,
    char *err, size_t errlen);

/* What became of an imported line. */
enum import_outcome {
	IMPORT_CREATED,    /* a new sale product */
	IMPORT_CHANGED,    /* a sale product changed */
	IMPORT_UNCHANGED,  /* the store holds it already */
	IMPORT_REFUSED,    /* it contradicts the stored record (another order or supplier): nothing written */
};

/*
 * Upserts a parsed line in t (using l->item when it is set and still what
 * the merged record shows), writing its sale-log entry, naming user and
 * request_id (NULL: none), and its event (sale.created, sale.updated or
 * sale.cancelled).  The caller bumps the cache generation of each supplier
 * it changed, once per transaction.  Returns STORE_OK with *out (and, for
 * IMPORT_REFUSED, the reason in err), or a store error: the transaction
 * can then only abort.
 */
int import_apply(struct store_txn *t, const struct import_line *l, int64_t now, const char *user,
    const char *request_id, enum import_outcome *out, char *err, size_t errlen);

/* The longest line an import reads (a longer one is rejected as too long). */
#define IMPORT_LINE_MAX 65536

#endif
