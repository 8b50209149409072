/*
 * What the store keeps beside the records: named counters and the
 * suppliers' cache generations (the meta database), the sale log (each
 * entry the two records it stands between), the event outbox and the
 * suppliers' change feeds over it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <lmdb.h>

#include "sale_json.h"
#include "store_impl.h"

#define LOG_RECORD_VERSION 1
#define LOG_RECORD_MAX (8 + 8 + 2 + LOG_USER_MAX + 2 + REQUEST_ID_MAX + 2 * (2 + SALE_RECORD_MAX))

int
store_counter_get(struct store_txn *t, const char *name, uint64_t *v)
{
	MDB_val d;
	int rc = store_txn_get(t, DB_META, name, strlen(name), &d);

	*v = 0;
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	if (d.mv_size != 8)
		return store_txn_fail(t, STORE_CORRUPT);
	*v = be64_get(d.mv_data);
	return STORE_OK;
}

int
store_counter_next(struct store_txn *t, const char *name, uint64_t *v)
{
	unsigned char be[8];
	uint64_t cur;
	int rc;

	if ((rc = store_counter_get(t, name, &cur)) != STORE_OK)
		return rc;
	be64_put(be, cur + 1);
	if ((rc = store_txn_put(t, DB_META, name, strlen(name), be, 8, 0)) != STORE_OK)
		return rc;
	*v = cur + 1;
	return STORE_OK;
}

static void
generation_name(char *name, size_t len, unsigned supplier)
{
	snprintf(name, len, "gen:%u", supplier);
}

int
store_generation(struct store_txn *t, unsigned supplier, uint64_t *gen)
{
	char name[16];

	generation_name(name, sizeof(name), supplier);
	return store_counter_get(t, name, gen);
}

int
store_generation_bump(struct store_txn *t, unsigned supplier)
{
	char name[16];
	uint64_t v;

	generation_name(name, sizeof(name), supplier);
	return store_counter_next(t, name, &v);
}

/* The sale log. */

static void
put_record(struct pack *pk, const struct sale_product *sp)
{
	unsigned char rec[SALE_RECORD_MAX];
	size_t n = store_sale_encode(sp, rec);

	if (n == 0)
		pk->bad = 1;
	put_u8(pk, (unsigned)(n >> 8));
	put_u8(pk, (unsigned)(n & 0xff));
	put_bytes(pk, rec, n);
}

static int
get_record(struct pack *pk, struct sale_product *sp)
{
	size_t n = get_u8(pk) << 8;
	const unsigned char *p;

	n |= get_u8(pk);
	if (pk->bad || pk->len + n > pk->cap)
		return STORE_CORRUPT;
	p = pk->p + pk->len;
	pk->len += n;
	return store_sale_decode(p, n, sp);
}

int
store_log_put(struct store_txn *t, const struct log_entry *e)
{
	unsigned char key[16], rec[LOG_RECORD_MAX];
	struct pack pk = { rec, 0, sizeof(rec), 0 };

	if (t->err)
		return t->err;
	be64_put(key, e->after.sale_product_id);
	be64_put(key + 8, e->seq);
	put_u8(&pk, LOG_RECORD_VERSION);
	put_u8(&pk, e->action);
	put_u8(&pk, e->has_before != 0);
	put_u8(&pk, 0);
	put_u64(&pk, (uint64_t)e->at);
	put_str(&pk, e->user);
	put_str(&pk, e->request_id);
	if (e->has_before)
		put_record(&pk, &e->before);
	put_record(&pk, &e->after);
	if (pk.bad)
		return store_txn_fail(t, STORE_CORRUPT);
	return store_txn_put(t, DB_LOG, key, 16, rec, pk.len, MDB_NOOVERWRITE);
}

static int
log_decode(const MDB_val *k, const MDB_val *v, struct log_entry *e)
{
	struct pack pk = { v->mv_data, 0, v->mv_size, 0 };

	if (k->mv_size != 16 || get_u8(&pk) != LOG_RECORD_VERSION)
		return STORE_CORRUPT;
	e->seq = be64_get((const char *)k->mv_data + 8);
	e->action = (enum log_action)get_u8(&pk);
	e->has_before = get_u8(&pk) != 0;
	(void)get_u8(&pk);
	e->at = (int64_t)get_u64(&pk);
	get_str(&pk, e->user, LOG_USER_MAX);
	get_str(&pk, e->request_id, REQUEST_ID_MAX);
	if (e->has_before && get_record(&pk, &e->before) != STORE_OK)
		return STORE_CORRUPT;
	if (get_record(&pk, &e->after) != STORE_OK || pk.bad || pk.len != v->mv_size ||
	    e->action >= LOG__MAX || e->after.sale_product_id != be64_get(k->mv_data))
		return STORE_CORRUPT;
	return STORE_OK;
}

static int
log_step(struct log_iter *it, int more)
{
	MDB_val k = { it->c.klen, (void *)it->c.key }, v = { it->c.vlen, (void *)it->c.val };

	if (!more)
		return 0;
	return log_decode(&k, &v, &it->e) == STORE_OK ? 1 : store_iter_corrupt(it->c.t);
}

int
store_log_first(struct store_txn *t, uint64_t sale_product_id, struct log_iter *it)
{
	unsigned char prefix[8];

	be64_put(prefix, sale_product_id);
	return log_step(it, store_iter_seek(t, DB_LOG, &it->c, prefix, 8, prefix, 8));
}

int
store_log_all_first(struct store_txn *t, struct log_iter *it)
{
	return log_step(it, store_iter_seek(t, DB_LOG, &it->c, "", 0, "", 0));
}

STORE_ITERATOR_NEXT(store_log, log_iter, log_step)

/* The event outbox. */

int
store_event_put(struct store_txn *t, uint64_t seq, const char *json, size_t len)
{
	unsigned char key[8];

	be64_put(key, seq);
	return store_txn_put(t, DB_EVENT, key, 8, json, len, MDB_NOOVERWRITE);
}

static int
event_step(struct event_iter *it, int more)
{
	if (!more)
		return 0;
	if (it->c.klen != 8)
		return store_iter_corrupt(it->c.t);
	it->seq = be64_get(it->c.key);
	it->json = it->c.val;
	it->len = it->c.vlen;
	return 1;
}

int
store_events_first(struct store_txn *t, uint64_t after, struct event_iter *it)
{
	unsigned char from[8];

	it->c.t = t;
	it->c.lmdb = NULL;
	if (after == UINT64_MAX)
		return 0;
	be64_put(from, after + 1);
	return event_step(it, store_iter_seek(t, DB_EVENT, &it->c, from, 8, "", 0));
}

STORE_ITERATOR_NEXT(store_events, event_iter, event_step)

/* The change feeds. */

static void
feed_counter_name(char *name, size_t len, unsigned supplier)
{
	snprintf(name, len, "feed:%u", supplier);
}

int
store_feed_last(struct store_txn *t, unsigned supplier, uint64_t *seq)
{
	char name[16];

	feed_counter_name(name, sizeof(name), supplier);
	return store_counter_get(t, name, seq);
}

int
store_feed_append(struct store_txn *t, unsigned supplier, uint64_t event_seq, uint64_t *seq)
{
	unsigned char key[9], val[8];
	char name[16];
	uint64_t n;
	int rc;

	if (t->s->absent & (1u << DB_FEED))
		return store_txn_fail(t, STORE_VERSION); /* a store read as it is is never written */
	feed_counter_name(name, sizeof(name), supplier);
	if (supplier > 255 || (rc = store_counter_next(t, name, &n)) != STORE_OK)
		return supplier > 255 ? store_txn_fail(t, STORE_CORRUPT) : rc;
	key[0] = (unsigned char)supplier;
	be64_put(key + 1, n);
	be64_put(val, event_seq);
	if (seq != NULL)
		*seq = n;
	return store_txn_put(t, DB_FEED, key, 9, val, 8, MDB_NOOVERWRITE);
}

static int
feed_step(struct feed_iter *it, int more)
{
	if (!more)
		return 0;
	if (it->c.klen != 9 || it->c.vlen != 8)
		return store_iter_corrupt(it->c.t);
	it->supplier = ((const unsigned char *)it->c.key)[0];
	it->seq = be64_get((const unsigned char *)it->c.key + 1);
	it->event_seq = be64_get(it->c.val);
	return 1;
}

int
store_feed_first(struct store_txn *t, unsigned supplier, uint64_t after, struct feed_iter *it)
{
	unsigned char from[9], prefix[1] = { (unsigned char)supplier };

	it->c.t = t;
	it->c.lmdb = NULL;
	if ((t->s->absent & (1u << DB_FEED)) || after == UINT64_MAX || supplier > 255)
		return 0;
	from[0] = (unsigned char)supplier;
	be64_put(from + 1, after + 1);
	return feed_step(it, store_iter_seek(t, DB_FEED, &it->c, from, 9, prefix, 1));
}

int
store_feed_all_first(struct store_txn *t, struct feed_iter *it)
{
	it->c.t = t;
	it->c.lmdb = NULL;
	if (t->s->absent & (1u << DB_FEED))
		return 0;
	return feed_step(it, store_iter_seek(t, DB_FEED, &it->c, "", 0, "", 0));
}

STORE_ITERATOR_NEXT(store_feed, feed_iter, feed_step)

int
store_feed_present(const struct store_txn *t)
{
	return !(t->s->absent & (1u << DB_FEED));
}

int
store_event_get(struct store_txn *t, uint64_t seq, const char **json, size_t *len)
{
	unsigned char key[8];
	MDB_val v;
	int rc;

	be64_put(key, seq);
	if ((rc = store_txn_get(t, DB_EVENT, key, 8, &v)) != STORE_OK)
		return rc;
	*json = v.mv_data;
	*len = v.mv_size;
	return STORE_OK;
}

/* The supplier a stored sale event names (a stock event names none): its row, or -1. */
static int
event_supplier(const char *json, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL;
	int sup = o != NULL ? event_sale_supplier(o) : -1;

	json_object_put(o);
	json_tokener_free(tok);
	return sup;
}

int
store_feeds_build(MDB_txn *txn, struct store *s)
{
	struct store_txn t;
	struct event_iter it;
	int sup;

	memset(&t, 0, sizeof(t));
	t.s = s;
	t.txn = txn;
	t.write = 1;
	/* The events there are, in their order: each sale event the next of its supplier's feed. */
	for (int more = store_events_first(&t, 0, &it); more; more = store_events_next(&it))
		if ((sup = event_supplier(it.json, it.len)) >= 0)
			store_feed_append(&t, (unsigned)sup, it.seq, NULL);
	for (unsigned i = 0; i < DB__MAX; i++)
		if (t.cur[i] != NULL)
			mdb_cursor_close(t.cur[i]);
	switch (t.err) {
	case STORE_OK: return 0;
	case STORE_FULL: return MDB_MAP_FULL;
	case STORE_NOMEM: return ENOMEM;
	default: return MDB_CORRUPTED;
	}
}
