/*
 * Store faults injected under the library: mdb_get and mdb_put are wrapped
 * (the Makefile links this test with -Wl,--wrap=mdb_get,--wrap=mdb_put), so
 * that the Nth call fails as a failing disk would make it fail.
 *   - once a call of a transaction failed, no further LMDB write is tried
 *     in it (the sticky error is checked before every call);
 *   - sale_apply that meets a failing read ends every transaction it began:
 *     nothing leaks (LeakSanitizer) and the writer lock is free again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "sale_json.h"
#include "sale_rules.h"
#include "store.h"
#include "unit.h"

int __real_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __real_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags);
int __wrap_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __wrap_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags);

/* Calls counted since the last arm(); the call numbered fail_at (1-based) fails with fail_rc. */
static long get_calls, put_calls, get_fail_at, put_fail_at;
static int fail_rc;

static void
arm(long get_at, long put_at, int rc)
{
	get_calls = put_calls = 0;
	get_fail_at = get_at;
	put_fail_at = put_at;
	fail_rc = rc;
}

int
__wrap_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
	if (++get_calls == get_fail_at)
		return fail_rc;
	return __real_mdb_get(txn, dbi, key, data);
}

int
__wrap_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags)
{
	if (++put_calls == put_fail_at)
		return fail_rc;
	return __real_mdb_put(txn, dbi, key, data, flags);
}

static struct sale_product
make_sale(uint64_t inc, uint64_t id)
{
	struct sale_product sp;

	memset(&sp, 0, sizeof(sp));
	sp.increment_id = inc;
	sp.sale_product_id = id;
	sp.order_date = 20000;
	sp.status = STATUS_PENDING;
	sp.quantity = 1;
	sp.price_cents = 25000;
	strcpy(sp.sku, "SKU");
	strcpy(sp.carrier, "DPD");
	strcpy(sp.label, "labels/x.pdf");
	return sp;
}

static int
put(struct store_txn *t, const struct sale_product *sp)
{
	struct buf item = { 0 };
	int rc = item_render(sp, &item) == 0 ? store_sale_put(t, NULL, sp, item.p, item.len) : STORE_NOMEM;

	buf_free(&item);
	return rc;
}

struct writer {
	struct store *s;
	int rc;
};

static void *
begin_write(void *arg)
{
	struct writer *w = arg;
	struct store_txn *t;

	if ((w->rc = store_begin(w->s, 1, &t)) == STORE_OK)
		store_abort(t);
	return NULL;
}

/* 1 when another thread gets the writer lock within two seconds. */
static int
writer_lock_free(struct store *s)
{
	struct writer w = { s, -1 };
	struct timespec deadline;
	pthread_t th;

	if (pthread_create(&th, NULL, begin_write, &w) != 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	if (pthread_timedjoin_np(th, NULL, &deadline) != 0) {
		pthread_detach(th);
		return 0;
	}
	return w.rc == STORE_OK;
}

int
main(void)
{
	char dir[] = "/tmp/menzzo-faults-XXXXXX", path[64];
	struct store *s;
	struct store_txn *t;
	struct sale_product sp, out;
	struct action a = { .what = ACTION_ACKNOWLEDGE, .increment_id = 1, .sale_product_id = 1,
		.supplier = 0, .user = "cron", .now = 1767225600 };
	int rc, err = STORE_OK;
	enum action_result res;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/db", dir);
	CHECK(store_open(&s, path, 1 << 24, STORE_CREATE, NULL, 0) == STORE_OK, "store created");

	/* A put that fails half-way through a record's index entries: nothing more is written. */
	CHECK(store_begin(s, 1, &t) == STORE_OK, "write transaction");
	sp = make_sale(1, 1);
	arm(0, 2, MDB_MAP_FULL); /* the record goes in, its first listing entry fails */
	rc = put(t, &sp);
	CHECK(rc == STORE_FULL, "the failed put is STORE_FULL");
	CHECK(put_calls == 2, "no LMDB write is tried after the first failure of the transaction");
	arm(0, 0, 0);
	CHECK(store_sale_put(t, NULL, &sp, "", 0) == STORE_FULL && put_calls == 0,
	    "a later put on the failed transaction returns its error without calling LMDB");
	CHECK(store_commit(t) == STORE_FULL, "commit reports the sticky error and aborts");
	CHECK(store_begin(s, 0, &t) == STORE_OK && store_sale_get(t, 1, &out) == STORE_NOTFOUND,
	    "nothing of the failed transaction was written");
	store_abort(t);

	CHECK(store_begin(s, 1, &t) == STORE_OK && put(t, &sp) == STORE_OK && store_commit(t) == STORE_OK,
	    "the sale product written for real");

	/* The decision on the snapshot reads fine; the read under the write lock fails. */
	arm(2, 0, EIO); /* read 1: the record on the snapshot; read 2: the record under the write lock */
	res = sale_apply(s, &a, &out, &err);
	CHECK(res == RESULT_FAILED && err == STORE_UNAVAILABLE, "a failing read under the write lock is RESULT_FAILED");
	arm(0, 0, 0);
	CHECK(writer_lock_free(s), "the writer lock is free again after the failure");

	/* The read on the snapshot fails: no read transaction is left behind. */
	arm(1, 0, EIO);
	res = sale_apply(s, &a, &out, &err);
	CHECK(res == RESULT_FAILED && err == STORE_UNAVAILABLE, "a failing snapshot read is RESULT_FAILED");
	arm(0, 0, 0);
	res = sale_apply(s, &a, &out, &err);
	CHECK(res == RESULT_CHANGED && out.status == STATUS_ACKNOWLEDGED, "the next change goes through");

	store_close(s);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return UNIT_DONE();
}
