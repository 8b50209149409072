/*
 * The LMDB environments: directories, lock files allocated before they are
 * mapped, the data file's size checked against its meta page, the open and
 * the close, and whether the file under an open environment was replaced.
 * Both the store (store.c) and the cache (cache.c) open theirs here.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "store_impl.h"

int
store_make_dirs(const char *dir, mode_t mode)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(path, mode) != 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int
store_lmdb_begin(MDB_env *env, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED) {
		if ((rc = mdb_env_set_mapsize(env, 0)) == 0)
			rc = mdb_txn_begin(env, NULL, flags, txn);
	} else if (rc == MDB_READERS_FULL) {
		int dead;
		mdb_reader_check(env, &dead);
		rc = mdb_txn_begin(env, NULL, flags, txn);
	}
	return rc;
}

/*
 * LMDB maps its lock file and writes into it at open: a sparse one faults
 * (SIGBUS) the moment the disk is full.  Before LMDB opens it, the file gets
 * the size of its reader slots allocated for real (every opener of the
 * project's environments does this, so all map the same size), and an existing one
 * found sparse is filled in: a full disk is then ENOSPC here, not a fault
 * later.  A file that cannot be opened for writing is left to LMDB.
 */
#define READERS_MAX 1022
/* A lock file of n reader slots in LMDB 0.9: a 128-byte header, then 64 bytes a slot (1022 slots: 64 KiB). */
#define LOCK_FILE_SIZE(n) ((off_t)128 + (off_t)(n) * 64)

/*
 * The reader slots of an environment: READERS_MAX.  Test builds
 * (MENZZO_TEST_HOOKS) take fewer from MENZZO_TEST_READER_SLOTS (16 to
 * READERS_MAX), so that a test can fill the table with processes it kills.
 */
static unsigned
reader_slots(void)
{
#ifdef MENZZO_TEST_HOOKS
	const char *v = getenv("MENZZO_TEST_READER_SLOTS");
	unsigned long n = v != NULL ? strtoul(v, NULL, 10) : 0;

	if (n >= 16 && n <= READERS_MAX)
		return (unsigned)n;
#endif
	return READERS_MAX;
}

static int
allocate_lock_file(const char *dir)
{
	char path[4096];
	struct stat st;
	off_t size = LOCK_FILE_SIZE(reader_slots());
	int fd, rc = 0;

	if (snprintf(path, sizeof(path), "%s/lock.mdb", dir) >= (int)sizeof(path))
		return ENAMETOOLONG;
	/* The usual case, a file allocated by an earlier opener, costs one lstat (a symbolic link goes on to be refused). */
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= size &&
	    (off_t)st.st_blocks * 512 >= st.st_size)
		return 0;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return errno == EROFS || errno == EACCES ? 0 : errno;
	if (fstat(fd, &st) != 0)
		rc = errno;
	else if (st.st_size < size || (off_t)st.st_blocks * 512 < st.st_size)
		rc = posix_fallocate(fd, 0, st.st_size < size ? size : st.st_size);
	close(fd);
	return rc == EOPNOTSUPP || rc == EINVAL ? 0 : rc; /* a file system without fallocate: nothing to do */
}

/*
 * A data file shorter than its meta page says (truncated) would fault when
 * its end is read: refuse it.  The last page is read before the file's size:
 * a commit only ever grows the file, and writes its pages before the meta
 * page that names them, so a commit between the two readings makes the file
 * longer than the page read, never shorter (read the other way round, a
 * healthy store that another process was growing looked truncated).
 */
static int
check_data_size(MDB_env *env, const char *dir, dev_t *dev, ino_t *ino, char *why, size_t whylen)
{
	MDB_envinfo info;
	MDB_stat ms;
	struct stat st;
	uint64_t need;
	int fd;

	if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &ms) != 0 || mdb_env_get_fd(env, &fd) != 0 ||
	    fstat(fd, &st) != 0)
		return 0;
	*dev = st.st_dev;
	*ino = st.st_ino;
	need = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	if ((uint64_t)st.st_size >= need)
		return 0;
	snprintf(why, whylen, "%s: store damaged or truncated: data.mdb is %lld bytes, its last page ends at %llu",
	    dir, (long long)st.st_size, (unsigned long long)need);
	return MDB_CORRUPTED;
}

/*
 * LMDB's first opener of an environment (the one that gets the exclusive
 * lock on lock.mdb) resets the shared lock region, its transaction id
 * included, and only sets that id from the newest meta page once the data
 * file is open.  An opener killed in between leaves the region reset; an
 * opener that was waiting for it then trusts the region, and its write
 * transaction starts from transaction 0: it commits (200) a meta page older
 * than the newest, and the next opener reads the newest one, without that
 * change (the write lost), or the writer reuses live pages (the store
 * damaged).  So every opener of the project's environments holds an
 * exclusive flock on the environment's directory around mdb_env_open: the
 * opener after a killed one waits for the lock (the kernel drops it with
 * its holder), finds nobody else inside, gets LMDB's exclusive lock itself
 * and initialises the region in full.  LMDB itself never flocks the
 * directory.  Returns the descriptor to close once open, -1 when the
 * directory cannot be opened for reading (the open then goes on without it:
 * LMDB says why it cannot open either).
 */
static int
open_lock(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

/* The named databases, in one transaction (names NULL: the caller opens them in its first). */
static int
open_dbs(struct store *s, const char *const *names, unsigned ndbs, int create, const struct env_check *check)
{
	MDB_txn *txn;
	int rc;

	if ((rc = store_lmdb_begin(s->env, create ? 0 : MDB_RDONLY, &txn)) != 0)
		return rc;
	for (unsigned i = 0; i < ndbs && rc == 0; i++) {
		rc = mdb_dbi_open(txn, names[i], create ? MDB_CREATE : 0, &s->dbi[i]);
		/* A database a later format added: the check decides whether its absence is an old format. */
		if (rc == MDB_NOTFOUND && check != NULL && i >= check->required) {
			s->absent |= 1u << i;
			rc = 0;
		}
	}
	if (rc == 0 && check != NULL && check->fn != NULL)
		rc = check->fn(txn, s, create, check->arg);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

int
store_env_open(struct store *s, const char *dir, size_t map_size, unsigned env_flags, int create,
    const char *const *names, unsigned ndbs, char *why, size_t whylen, const struct env_check *check)
{
	char path[4096];
	struct stat st;
	int rc, dead, lockfd = -1;

	if (create) {
		if (store_make_dirs(dir, 0700) != 0)
			return errno ? errno : EACCES;
	} else {
		/* An endpoint never creates a store: a missing data file is ENOENT (ENOTDIR under a file), not a new store. */
		if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
			return ENAMETOOLONG;
		if (stat(path, &st) != 0)
			return errno;
	}
	lockfd = open_lock(dir);
	if ((rc = allocate_lock_file(dir)) != 0) {
		snprintf(why, whylen, "%s: cannot allocate lock.mdb: %s", dir, strerror(rc));
		goto fail;
	}
	if ((rc = mdb_env_create(&s->env)) != 0)
		goto fail;
	/* 1022 reader slots: what fills the 64 KiB lock file (LMDB gives an opener every slot the file holds). */
	if ((rc = mdb_env_set_maxdbs(s->env, ndbs)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, map_size)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, reader_slots())) != 0 ||
	    (rc = mdb_env_open(s->env, dir, env_flags, 0600)) != 0)
		goto fail;
	if (lockfd >= 0)
		close(lockfd);
	lockfd = -1;
	/* The size against the last page (a truncated file), and the file's identity, for store_stale. */
	if ((rc = check_data_size(s->env, dir, &s->dev, &s->ino, why, whylen)) != 0)
		goto fail;
	mdb_reader_check(s->env, &dead);
	if (names != NULL && (rc = open_dbs(s, names, ndbs, create, check)) != 0)
		goto fail;
	s->ndbs = ndbs;
	if ((s->dir = strdup(dir)) == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	return 0;
fail:
	if (lockfd >= 0)
		close(lockfd);
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	return rc;
}

void
store_env_close(struct store *s)
{
	if (s->spare != NULL) {
		mdb_txn_abort(s->spare->txn);
		free(s->spare);
		s->spare = NULL;
	}
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	free(s->dir);
	s->dir = NULL;
}

int
store_stale(struct store *s)
{
	char path[4200];
	struct stat st;

	if (s->broken)
		return 1;
	if (s->dir == NULL || snprintf(path, sizeof(path), "%s/data.mdb", s->dir) >= (int)sizeof(path))
		return 0;
	return stat(path, &st) != 0 || st.st_dev != s->dev || st.st_ino != s->ino;
}
