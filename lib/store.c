/*
 * The store: its errors, its format version (checked at open, upgraded in
 * place from the one before), its transactions and the iteration
 * primitive: what every other store*.c file (and cache.c) builds on.  The
 * LMDB environment under it is store_env.c's.
 */
#include <sys/stat.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "store_impl.h"

const char *const store_db_names[DB__MAX] = {
	"sale", "listing", "order", "label", "log", "event", "token", "meta", "shipment", "stock", "tracking", "feed",
	"webhook",
};

_Static_assert(DB__MAX <= STORE_DBS_MAX, "the store has more databases than struct store holds");

const char *
store_strerror(int err)
{
	switch (err) {
	case STORE_OK: return "ok";
	case STORE_NOTFOUND: return "not found";
	case STORE_FULL: return "storage full";
	case STORE_UNAVAILABLE: return "storage unavailable";
	case STORE_CORRUPT: return "storage corrupt";
	case STORE_NOMEM: return "out of memory";
	case STORE_EXISTS: return "already exists";
	case STORE_VERSION: return "the store has another format version";
	}
	return "unknown storage error";
}

int
store_map_lmdb(int rc)
{
	switch (rc) {
	case MDB_SUCCESS: return STORE_OK;
	case MDB_NOTFOUND: return STORE_NOTFOUND;
	case MDB_MAP_FULL: case MDB_TXN_FULL: case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL: case ENOSPC: case EDQUOT:
		return STORE_FULL;
	case MDB_VERSION_MISMATCH:
		return STORE_VERSION;
	case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_INVALID:
	case MDB_BAD_VALSIZE: case MDB_INCOMPATIBLE: case MDB_KEYEXIST:
		return STORE_CORRUPT;
	case ENOMEM: return STORE_NOMEM;
	case EEXIST: return STORE_EXISTS;
	default: return STORE_UNAVAILABLE;
	}
}

int
store_txn_fail_lmdb(struct store_txn *t, int rc)
{
	/* What leaves an environment unusable, or a file other than the one mapped: reopen before the next use. */
	if (rc == MDB_PANIC || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_BAD_RSLOT ||
	    rc == MDB_BAD_TXN || rc == MDB_INVALID || rc == EIO)
		t->s->broken = 1;
	if (t->err == STORE_OK)
		t->err = store_map_lmdb(rc);
	return t->err;
}

int
store_txn_fail(struct store_txn *t, int err)
{
	if (t->err == STORE_OK)
		t->err = err;
	return t->err;
}

int
store_txn_error(const struct store_txn *t)
{
	return t->err;
}

/*
 * In the open's transaction: checks (create: writes) the format version into
 * *found; 0, an LMDB code, or SCHEMA_OTHER for a version this build cannot
 * read.  A database missing beside the current version is a store never
 * initialised.
 */
#define SCHEMA_OTHER (-1)

static int
check_schema(MDB_txn *txn, struct store *s, int create, void *arg)
{
	uint64_t *found = arg;
	unsigned char want[8];
	MDB_val k = { 6, "schema" }, v = { 0, NULL };
	int rc;

	be64_put(want, STORE_SCHEMA);
	rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND && create) {
		*found = STORE_SCHEMA;
		return mdb_put(txn, s->dbi[DB_META], &k, &(MDB_val){ 8, want }, 0);
	}
	if (rc != 0)
		return rc;
	*found = v.mv_size == 8 ? be64_get(v.mv_data) : 0;
	if (*found < STORE_SCHEMA_OLDEST || *found > STORE_SCHEMA)
		return SCHEMA_OTHER;
	return *found == STORE_SCHEMA && s->absent ? MDB_NOTFOUND : 0;
}

/*
 * The databases a later format added and this store lacks, created empty:
 * 3 to 4 (the shipment database; the records of 3 decode as they are), and
 * 4 to 5 (the stock database), 5 to 6 (the tracking database; records
 * and items of 5 decode as they are), 7 to 8 (the webhook database).
 */
static int
create_absent(MDB_txn *txn, struct store *s)
{
	int rc = 0;

	for (unsigned i = 0; i < DB__MAX && rc == 0; i++)
		if (s->absent & (1u << i)) {
			rc = mdb_dbi_open(txn, store_db_names[i], MDB_CREATE, &s->dbi[i]);
			if (rc == 0)
				s->absent &= ~(1u << i);
		}
	return rc;
}

/* 6 to 7: the feed database, filled with the sale events there are. */
static int
build_feeds(MDB_txn *txn, struct store *s)
{
	int rc = create_absent(txn, s);

	return rc != 0 ? rc : store_feeds_build(txn, s);
}

/* The steps of the upgrade: upgrade_steps[v - STORE_SCHEMA_OLDEST] takes version v to v + 1. */
static int (*const upgrade_steps[STORE_SCHEMA - STORE_SCHEMA_OLDEST])(MDB_txn *txn, struct store *s) = {
	create_absent, /* 3 to 4 */
	create_absent, /* 4 to 5 */
	create_absent, /* 5 to 6 */
	build_feeds,   /* 6 to 7 */
	create_absent, /* 7 to 8 */
};

/* From version found to STORE_SCHEMA, in place: every step, then the version, in one write transaction. */
static int
upgrade_schema(struct store *s, uint64_t found)
{
	unsigned char want[8];
	unsigned absent = s->absent;
	MDB_val cur = { 0, NULL };
	MDB_txn *txn;
	int rc;

	if ((rc = store_lmdb_begin(s->env, 0, &txn)) != 0)
		return rc;
	/*
	 * Read again under the write lock: another writer may have upgraded the
	 * store since the open's read (a step such as numbering the feeds must
	 * never run twice).  Then only the databases it created are opened.
	 */
	rc = mdb_get(txn, s->dbi[DB_META], &(MDB_val){ 6, "schema" }, &cur);
	if (rc == 0 && cur.mv_size == 8)
		found = be64_get(cur.mv_data);
	if (rc == 0 && found == STORE_SCHEMA)
		rc = create_absent(txn, s);  /* they exist: opened, not created */
	for (uint64_t v = found; v < STORE_SCHEMA && rc == 0; v++)
		rc = upgrade_steps[v - STORE_SCHEMA_OLDEST](txn, s);
	be64_put(want, STORE_SCHEMA);
	if (rc == 0)
		rc = mdb_put(txn, s->dbi[DB_META], &(MDB_val){ 6, "schema" }, &(MDB_val){ 8, want }, 0);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc != 0)
		s->absent = absent;  /* nothing of the upgrade was written */
	return rc;
}

int
store_open(struct store **sp, const char *dir, size_t map_size, int flags, char *why, size_t whylen)
{
	struct store *s;
	struct stat st;
	int create = flags & STORE_CREATE, rc, err;
	uint64_t found = 0;
	char scratch[8];

	if (why == NULL) {
		why = scratch;
		whylen = sizeof(scratch);
	}
	*why = '\0';
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return STORE_NOMEM;
	s->readonly = (flags & STORE_READONLY) != 0;
	rc = store_env_open(s, dir, map_size, s->readonly ? MDB_RDONLY : 0, create, store_db_names, DB__MAX, why, whylen,
	    &(struct env_check){ check_schema, &found, DB_SHIPMENT });
	/* A writer upgrades an older store before anything is written; a reader reads it as it is. */
	if (rc == 0 && found != STORE_SCHEMA && !s->readonly && (rc = upgrade_schema(s, found)) != 0)
		snprintf(why, whylen, "%s: cannot upgrade the store from format version %llu: %s", dir,
		    (unsigned long long)found, mdb_strerror(rc));
	if (rc == 0) {
		*sp = s;
		return STORE_OK;
	}
	if (*why) {
		/* store_env_open or the upgrade named the cause: an unallocatable lock file, a truncated data file. */
		err = store_map_lmdb(rc) == STORE_CORRUPT || store_map_lmdb(rc) == STORE_FULL ? store_map_lmdb(rc) : STORE_UNAVAILABLE;
	} else if (rc == SCHEMA_OTHER) {
		snprintf(why, whylen, "%s: format version %llu, this build reads %d to %d (and upgrades to %d)", dir,
		    (unsigned long long)found, STORE_SCHEMA_OLDEST, STORE_SCHEMA, STORE_SCHEMA);
		err = STORE_VERSION;
	} else if (rc == MDB_NOTFOUND) {
		/* The named databases are missing: never initialised. */
		snprintf(why, whylen, "%s: not initialised (menzzo-admin init creates it)", dir);
		err = STORE_UNAVAILABLE;
	} else if (rc == ENOENT && stat(dir, &st) == 0) {
		snprintf(why, whylen, "%s: no store here (no data.mdb; menzzo-admin init creates one)", dir);
		err = STORE_UNAVAILABLE;
	} else {
		snprintf(why, whylen, "%s: %s", dir, mdb_strerror(rc));
		err = rc == ENOENT || rc == ENOTDIR || rc == EACCES ? STORE_UNAVAILABLE : store_map_lmdb(rc);
	}
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
	return err;
}

void
store_close(struct store *s)
{
	if (s != NULL)
		store_env_close(s);
	free(s);
}

int
store_begin(struct store *s, int write, struct store_txn **tp)
{
	struct store_txn *t = NULL;
	int rc;

	if (write && s->readonly)
		return STORE_UNAVAILABLE;
	/* A read transaction renews the spare one (mdb_txn_renew: no allocation, the reader slot kept). */
	if (!write && s->spare != NULL) {
		t = s->spare;
		s->spare = NULL;
		if (mdb_txn_renew(t->txn) == 0) {
			t->err = STORE_OK;
			*tp = t;
			return STORE_OK;
		}
		/* The map grew under us, or the slot is gone: end it, begin afresh (store_lmdb_begin adopts the size). */
		mdb_txn_abort(t->txn);
		t->txn = NULL;
	}
	if (t == NULL && (t = calloc(1, sizeof(*t))) == NULL)
		return STORE_NOMEM;
	if ((rc = store_lmdb_begin(s->env, write ? 0 : MDB_RDONLY, &t->txn)) != 0) {
		free(t);
		return store_map_lmdb(rc);
	}
	t->s = s;
	t->write = write;
	t->opened_dbs = 0;
	t->err = STORE_OK;
	*tp = t;
	return STORE_OK;
}

static void
close_cursors(struct store_txn *t)
{
	for (unsigned i = 0; i < STORE_DBS_MAX; i++)
		if (t->cur[i] != NULL) {
			mdb_cursor_close(t->cur[i]);
			t->cur[i] = NULL;
		}
}

/* Ends t, committing it when commit is set and no call on it failed; frees it.  Returns what store_commit does. */
static int
txn_end(struct store_txn *t, int commit)
{
	int err = t->err;

	close_cursors(t);
	if (!t->write && !t->opened_dbs && t->s->spare == NULL && !t->s->broken) {
		/* A read transaction commits nothing: keep it, reset, for the next one. */
		mdb_txn_reset(t->txn);
		t->s->spare = t;
		return err;
	}
	if (commit && err == STORE_OK)
		err = store_map_lmdb(mdb_txn_commit(t->txn));
	else
		mdb_txn_abort(t->txn);
	free(t);
	return err;
}

int
store_commit(struct store_txn *t)
{
	return txn_end(t, 1);
}

void
store_abort(struct store_txn *t)
{
	if (t != NULL)
		txn_end(t, 0);
}

/* Iteration. */

int
store_iter_seek(struct store_txn *t, unsigned db, struct store_cursor *c, const void *from, size_t flen,
    const void *prefix, size_t plen)
{
	MDB_val k = { flen, (void *)from }, v;
	int rc;

	c->t = t;
	c->lmdb = NULL;
	c->plen = plen;
	if (plen > sizeof(c->prefix)) {
		store_txn_fail(t, STORE_CORRUPT);  /* no key prefix of the store is that long */
		return 0;
	}
	if (plen)
		memcpy(c->prefix, prefix, plen);
	if (t->err)
		return 0;
	if (t->cur[db] == NULL && (rc = mdb_cursor_open(t->txn, t->s->dbi[db], &t->cur[db])) != 0) {
		store_txn_fail_lmdb(t, rc);
		return 0;
	}
	c->lmdb = t->cur[db];
	return store_iter_check(c, &k, &v, mdb_cursor_get(c->lmdb, &k, &v, flen ? MDB_SET_RANGE : MDB_FIRST));
}

int
store_iter_del(struct store_cursor *c)
{
	int rc;

	if (c->t->err)
		return c->t->err;
	return (rc = mdb_cursor_del(c->lmdb, 0)) != 0 ? store_txn_fail_lmdb(c->t, rc) : STORE_OK;
}

int
store_txn_get(struct store_txn *t, unsigned db, const void *key, size_t klen, MDB_val *val)
{
	int rc;

	if (t->err)
		return t->err;
	rc = mdb_get(t->txn, t->s->dbi[db], &(MDB_val){ klen, (void *)key }, val);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	return rc ? store_txn_fail_lmdb(t, rc) : STORE_OK;
}

int
store_txn_put(struct store_txn *t, unsigned db, const void *key, size_t klen, const void *val, size_t vlen,
    unsigned flags)
{
	int rc;

	if (t->err)
		return t->err;
	rc = mdb_put(t->txn, t->s->dbi[db], &(MDB_val){ klen, (void *)key }, &(MDB_val){ vlen, (void *)val },
	    flags);
	return rc ? store_txn_fail_lmdb(t, rc) : STORE_OK;
}

int
store_txn_del(struct store_txn *t, unsigned db, const void *key, size_t klen)
{
	int rc;

	if (t->err)
		return t->err;
	rc = mdb_del(t->txn, t->s->dbi[db], &(MDB_val){ klen, (void *)key }, NULL);
	return rc && rc != MDB_NOTFOUND ? store_txn_fail_lmdb(t, rc) : STORE_OK;
}
