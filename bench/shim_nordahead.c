/*
 * LD_PRELOAD shim for `make bench-profile` only: opens every LMDB environment
 * with MDB_NORDAHEAD (LMDB then advises MADV_RANDOM on its map), to measure
 * whether that changes the pages a listing maps on a large store.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stddef.h>

#include <lmdb.h>

int
mdb_env_open(MDB_env *env, const char *path, unsigned int flags, mdb_mode_t mode)
{
	static int (*real)(MDB_env *, const char *, unsigned int, mdb_mode_t);

	if (real == NULL)
		real = (int (*)(MDB_env *, const char *, unsigned int, mdb_mode_t))dlsym(RTLD_NEXT, "mdb_env_open");
	return real(env, path, flags | MDB_NORDAHEAD, mode);
}
