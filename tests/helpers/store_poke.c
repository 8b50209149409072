/*
 * Writes what the library never would, straight through LMDB, so that tests
 * can face the endpoints with it:
 *   store_poke DIR schema N       the store's format version becomes N
 *   store_poke DIR schema         prints the store's format version
 *   store_poke DIR sale ID BYTES  the record of sale product ID becomes BYTES (text)
 *   store_poke DIR hold-writer    takes the store's write lock, prints "ready", and
 *                                 lets go of it (writing nothing) when a line or the
 *                                 end comes on standard input
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <endian.h>
#include <lmdb.h>

static int
put(const char *dir, const char *db, const void *key, size_t klen, const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (rc = mdb_env_open(env, dir, 0, 0600)) != 0)
		return rc;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
		if ((rc = mdb_dbi_open(txn, db, 0, &dbi)) == 0 &&
		    (rc = mdb_put(txn, dbi, &(MDB_val){ klen, (void *)key }, &(MDB_val){ vlen, (void *)val }, 0)) == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

/* Prints the schema of the store in dir; 0 or an LMDB code. */
static int
print_schema(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val v;
	uint64_t n;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (rc = mdb_env_open(env, dir, MDB_RDONLY, 0600)) != 0)
		return rc;
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0) {
		if ((rc = mdb_dbi_open(txn, "meta", 0, &dbi)) == 0 &&
		    (rc = mdb_get(txn, dbi, &(MDB_val){ 6, "schema" }, &v)) == 0 && v.mv_size == 8) {
			memcpy(&n, v.mv_data, 8);
			printf("%llu\n", (unsigned long long)be64toh(n));
		}
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

/* Holds the write lock of the store in dir until standard input says so; 0 or an LMDB code. */
static int
hold_writer(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	char line[16];
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (rc = mdb_env_open(env, dir, 0, 0600)) != 0)
		return rc;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
		printf("ready\n");
		fflush(stdout);
		if (fgets(line, sizeof(line), stdin) == NULL)
			line[0] = '\0';
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

int
main(int argc, char **argv)
{
	uint64_t v;
	int rc;

	if (argc == 3 && strcmp(argv[2], "schema") == 0) {
		rc = print_schema(argv[1]);
	} else if (argc == 3 && strcmp(argv[2], "hold-writer") == 0) {
		rc = hold_writer(argv[1]);
	} else if (argc == 4 && strcmp(argv[2], "schema") == 0) {
		v = htobe64(strtoull(argv[3], NULL, 10));
		rc = put(argv[1], "meta", "schema", 6, &v, 8);
	} else if (argc == 5 && strcmp(argv[2], "sale") == 0) {
		v = htobe64(strtoull(argv[3], NULL, 10));
		rc = put(argv[1], "sale", &v, 8, argv[4], strlen(argv[4]));
	} else {
		fprintf(stderr, "usage: store_poke DIR schema [N] | DIR sale ID BYTES | DIR hold-writer\n");
		return 2;
	}
	if (rc != 0)
		fprintf(stderr, "store_poke: %s\n", mdb_strerror(rc));
	return rc != 0;
}
