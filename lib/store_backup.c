/*
 * What menzzo-admin reads of the environment as a whole: its stats (entry
 * counts, and the refused sale products), and a hot, consistent, compacted
 * backup (with progress).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "store_impl.h"
#include "supplier.h"

static int
count_refused(struct store *s, uint64_t *refused)
{
	struct store_txn *t;
	uint64_t n;
	int rc;

	*refused = 0;
	if ((rc = store_begin(s, 0, &t)) != STORE_OK)
		return rc;
	for (unsigned sup = 0; sup < supplier_count && rc == STORE_OK; sup++)
		if ((rc = store_listing_count(t, sup, FILTER_REFUSED, &n)) == STORE_OK)
			*refused += n;
	store_abort(t);
	return rc;
}

/* mdb_reader_list's callback: counts the lines of the slots in use (a pid first; the header has none). */
static int
count_reader(const char *line, void *ctx)
{
	while (*line == ' ')
		line++;
	if (*line >= '0' && *line <= '9')
		++*(unsigned *)ctx;
	return 0;
}

int
store_sizes(struct store *s, struct store_stats *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = mdb_env_info(s->env, &info)) != 0 || (rc = mdb_env_stat(s->env, &ms)) != 0)
		return store_map_lmdb(rc);
	st->map_size = info.me_mapsize;
	st->page_size = ms.ms_psize;
	st->used_bytes = (info.me_last_pgno + 1) * ms.ms_psize;
	st->readers_max = info.me_maxreaders;
	st->last_txn = info.me_last_txnid;
	return STORE_OK;
}

int
store_stats(struct store *s, struct store_stats *st)
{
	MDB_stat ms;
	MDB_txn *txn;
	int rc;

	if ((rc = store_sizes(s, st)) != STORE_OK)
		return rc;
	/* The slots of live processes (the open reclaimed the dead ones'), not LMDB's count of slots ever used. */
	mdb_reader_list(s->env, count_reader, &st->readers_used);
	if ((rc = store_lmdb_begin(s->env, MDB_RDONLY, &txn)) != 0)
		return store_map_lmdb(rc);
	for (int i = 0; i < DB__MAX; i++) {
		if (s->absent & (1u << i))
			continue; /* a database of a later format, in a store not yet upgraded: no entries */
		if ((rc = mdb_stat(txn, s->dbi[i], &ms)) != 0)
			break;
		st->entries[i] = ms.ms_entries;
	}
	mdb_txn_abort(txn);
	return rc != 0 ? store_map_lmdb(rc) : count_refused(s, &st->refused);
}

/* A compacting copy into a pipe, run in a thread while the caller counts what comes out. */
struct copy_job {
	MDB_env *env;
	int fd;
	int rc;
};

static void *
copy_to_pipe(void *arg)
{
	struct copy_job *j = arg;

	j->rc = mdb_env_copyfd2(j->env, j->fd, MDB_CP_COMPACT);
	close(j->fd);
	return NULL;
}

/* Copies the environment into fd, telling progress the bytes written; 0 or an LMDB/system code. */
static int
copy_with_progress(struct store *s, int fd, store_progress_fn progress, void *ctx)
{
	struct store_stats st;
	struct copy_job job = { s->env, -1, 0 };
	pthread_t th;
	char buf[65536];
	uint64_t done = 0;
	int p[2], err = 0;
	ssize_t n;

	if (store_stats(s, &st) != STORE_OK)
		st.used_bytes = 0;
	if (pipe(p) != 0)
		return errno;
	job.fd = p[1];
	if (pthread_create(&th, NULL, copy_to_pipe, &job) != 0) {
		close(p[0]);
		close(p[1]);
		return EAGAIN;
	}
	/* Read to the end even after a write error, so that the copy never meets a closed pipe. */
	while ((n = read(p[0], buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (err == 0) {
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(fd, buf + off, (size_t)(n - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0) {
					err = errno;
					break;
				}
				off += w;
			}
			done += (uint64_t)n;
			progress(ctx, done, st.used_bytes > done ? st.used_bytes : done);
		}
	}
	close(p[0]);
	pthread_join(th, NULL);
	return job.rc ? job.rc : err;
}

int
store_backup(struct store *s, const char *dir, store_progress_fn progress, void *ctx)
{
	char path[4096];
	int fd, rc;

	if (store_make_dirs(dir, 0700) != 0)
		return STORE_UNAVAILABLE;
	if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
		return STORE_UNAVAILABLE;
	/* O_EXCL: an existing backup, or a concurrent one, is never overwritten. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return errno == EEXIST ? STORE_EXISTS : store_map_lmdb(errno);
	rc = progress ? copy_with_progress(s, fd, progress, ctx) : mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	if (rc != 0)
		unlink(path);
	return store_map_lmdb(rc);
}
