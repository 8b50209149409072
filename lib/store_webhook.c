/*
 * Webhook endpoints (store.h), keyed by their id: the target, the URL, the
 * signing key, and where delivery stands (the last event delivered, the
 * failed attempts at the next one and when the next attempt is due).
 */
#include <string.h>

#include <lmdb.h>

#include "store_impl.h"
#include "supplier.h"

#define WEBHOOK_RECORD_VERSION 1
#define WEBHOOK_RECORD_MAX (3 + 4 + 8 * 6 + WEBHOOK_KEY_LEN + 2 + WEBHOOK_URL_MAX + 2 + WEBHOOK_ERROR_MAX)

static int
webhook_decode(const void *key, size_t klen, const void *val, size_t vlen, struct webhook *w)
{
	struct pack pk = { (unsigned char *)val, 0, vlen, 0 };

	memset(w, 0, sizeof(*w));
	if (klen != 4 || get_u8(&pk) != WEBHOOK_RECORD_VERSION)
		return STORE_CORRUPT;
	w->id = be32_get(key);
	w->target = get_u8(&pk);
	w->disabled = get_u8(&pk) != 0;
	w->attempts = get_u32(&pk);
	w->created_at = (int64_t)get_u64(&pk);
	w->last_seq = get_u64(&pk);
	w->next_at = (int64_t)get_u64(&pk);
	w->failing_since = (int64_t)get_u64(&pk);
	w->delivered_at = (int64_t)get_u64(&pk);
	get_u64(&pk);  /* reserved */
	get_bytes(&pk, w->key, WEBHOOK_KEY_LEN);
	get_str(&pk, w->url, WEBHOOK_URL_MAX);
	get_str(&pk, w->error, WEBHOOK_ERROR_MAX);
	if (pk.bad || pk.len != vlen || w->id == 0 || w->url[0] == '\0' ||
	    (w->target != WEBHOOK_BACKOFFICE && supplier_by_id(w->target) == NULL))
		return STORE_CORRUPT;
	return STORE_OK;
}

int
store_webhook_put(struct store_txn *t, const struct webhook *w)
{
	unsigned char rec[WEBHOOK_RECORD_MAX], key[4];
	struct pack pk = { rec, 0, sizeof(rec), 0 };

	put_u8(&pk, WEBHOOK_RECORD_VERSION);
	put_u8(&pk, w->target);
	put_u8(&pk, w->disabled != 0);
	put_u32(&pk, w->attempts);
	put_u64(&pk, (uint64_t)w->created_at);
	put_u64(&pk, w->last_seq);
	put_u64(&pk, (uint64_t)w->next_at);
	put_u64(&pk, (uint64_t)w->failing_since);
	put_u64(&pk, (uint64_t)w->delivered_at);
	put_u64(&pk, 0);
	put_bytes(&pk, w->key, WEBHOOK_KEY_LEN);
	put_str(&pk, w->url);
	put_str(&pk, w->error);
	if (pk.bad || w->id == 0 || strlen(w->url) > WEBHOOK_URL_MAX || strlen(w->error) > WEBHOOK_ERROR_MAX)
		return store_txn_fail(t, STORE_CORRUPT);
	be32_put(key, w->id);
	return store_txn_put(t, DB_WEBHOOK, key, 4, rec, pk.len, 0);
}

int
store_webhook_get(struct store_txn *t, uint32_t id, struct webhook *w)
{
	unsigned char key[4];
	MDB_val v;
	int rc;

	if (t->s->absent & (1u << DB_WEBHOOK))
		return store_txn_error(t) != STORE_OK ? store_txn_error(t) : STORE_NOTFOUND;
	be32_put(key, id);
	if ((rc = store_txn_get(t, DB_WEBHOOK, key, 4, &v)) != STORE_OK)
		return rc;
	if ((rc = webhook_decode(key, 4, v.mv_data, v.mv_size, w)) != STORE_OK)
		store_txn_fail(t, rc);
	return rc;
}

int
store_webhook_del(struct store_txn *t, uint32_t id)
{
	unsigned char key[4];

	be32_put(key, id);
	return store_txn_del(t, DB_WEBHOOK, key, 4);
}

static int
webhook_step(struct webhook_iter *it, int more)
{
	if (!more)
		return 0;
	if (webhook_decode(it->c.key, it->c.klen, it->c.val, it->c.vlen, &it->w) != STORE_OK)
		return store_iter_corrupt(it->c.t);
	return 1;
}

int
store_webhooks_first(struct store_txn *t, struct webhook_iter *it)
{
	memset(it, 0, sizeof(*it));
	if (t->s->absent & (1u << DB_WEBHOOK))
		return 0;
	return webhook_step(it, store_iter_seek(t, DB_WEBHOOK, &it->c, "", 0, "", 0));
}

STORE_ITERATOR_NEXT(store_webhooks, webhook_iter, webhook_step)

int
store_webhook_end(struct store_txn *t, unsigned target, uint64_t *seq)
{
	if (target == WEBHOOK_BACKOFFICE)
		return store_counter_get(t, "event_seq", seq);
	return store_feed_last(t, target, seq);
}

int
store_webhook_event(struct store_txn *t, unsigned target, uint64_t after, uint64_t *seq, const char **json,
    size_t *len)
{
	struct feed_iter fi;
	struct event_iter ei;
	int rc;

	if (target == WEBHOOK_BACKOFFICE) {
		if (!store_events_first(t, after, &ei))
			return store_txn_error(t) != STORE_OK ? store_txn_error(t) : STORE_NOTFOUND;
		*seq = ei.seq;
		*json = ei.json;
		*len = ei.len;
		return STORE_OK;
	}
	if (!store_feed_first(t, target, after, &fi))
		return store_txn_error(t) != STORE_OK ? store_txn_error(t) : STORE_NOTFOUND;
	*seq = fi.seq;
	if ((rc = store_event_get(t, fi.event_seq, json, len)) == STORE_NOTFOUND)
		rc = store_txn_fail(t, STORE_CORRUPT);
	return rc;
}
