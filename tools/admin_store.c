/*
 * menzzo-admin's commands on the store as a whole: init, cache purge,
 * stats, check (a walk in a child process) and backup.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin.h"
#include "admin_store.h"
#include "admin_webhook.h"
#include "cache.h"
#include "check.h"
#include "fault.h"
#include "progress.h"
#include "shared_state.h"
#include "validate.h"

int
cmd_init(struct admin *a, int argc, char **argv)
{
	struct options o;
	int rc;

	if ((rc = admin_no_options(a, argc, argv, 0, &o)) >= 0)
		return rc;
	if (admin_open(a, STORE_CREATE))
		return 1;
	if (mkdir(a->cfg.files_dir, 0700) != 0 && errno != EEXIST)
		return admin_fail("cannot create the files directory %s: %s", a->cfg.files_dir, strerror(errno));
	printf("store ready at %s\n", a->cfg.data_dir);
	return 0;
}

int
cmd_cache(struct admin *a, int argc, char **argv)
{
	struct options o;
	uint64_t removed;
	char err[160], path[4096];
	const char *state;
	int rc;

	if ((rc = admin_options(a, "cache", argc, argv, OPT_ALL, &o)) >= 0)
		return rc;
	if (o.argc != 1 || strcmp(o.argv[0], "purge") != 0)
		return admin_usage_error(a, "cache: expected `cache purge [--all]`");
	if (config_load(&a->cfg, err, sizeof(err)) != 0)
		return admin_fail("%s", err);
	if ((rc = cache_purge(a->cfg.cache_dir, o.all, a->now, &removed)) != STORE_OK)
		return admin_fail("cache purge: %s", store_strerror(rc));
	/* --all: the rate limit's buckets too, which start full again. */
	if (o.all && (state = config_state_file(&a->cfg, path, sizeof(path))) == NULL)
		return admin_fail("cache purge: MENZZO_STATE_FILE (or MENZZO_CACHE_DIR) is too long");
	if (o.all && (rc = shared_state_remove(state)) != 0 && rc != ENOENT)
		return admin_fail("cache purge: %s: %s", state, strerror(rc));
	printf("%" PRIu64 " cache entr%s removed\n", removed, removed == 1 ? "y" : "ies");
	return 0;
}

/* One size line of `stats`, human-readable ("used_bytes\t1.2 MiB"). */
static void
stats_size(const char *name, size_t bytes)
{
	char h[32];

	format_bytes(bytes, h, sizeof(h));
	printf("%s\t%s\n", name, h);
}

int
cmd_stats(struct admin *a, int argc, char **argv)
{
	struct store_stats st;
	struct options o;
	int rc;

	if ((rc = admin_options(a, "stats", argc, argv, OPT_JSON, &o)) >= 0)
		return rc;
	if (o.argc != 0)
		return admin_usage_error(a, "stats takes no argument");
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_stats(a->store, &st)) != STORE_OK)
		return admin_store_fail(rc);
	if (o.json) {
		struct json_object *j = json_object_new_object(), *e = json_object_new_object();

		json_object_object_add(j, "map_size", json_object_new_uint64(st.map_size));
		json_object_object_add(j, "used_bytes", json_object_new_uint64(st.used_bytes));
		json_object_object_add(j, "page_size", json_object_new_uint64(st.page_size));
		json_object_object_add(j, "readers_used", json_object_new_uint64(st.readers_used));
		json_object_object_add(j, "readers_max", json_object_new_uint64(st.readers_max));
		json_object_object_add(j, "last_txn", json_object_new_uint64(st.last_txn));
		for (int i = 0; i < STORE_DB_COUNT; i++)
			json_object_object_add(e, store_db_names[i], json_object_new_uint64(st.entries[i]));
		json_object_object_add(j, "entries", e);
		json_object_object_add(j, "refused", json_object_new_uint64(st.refused));
		if ((rc = admin_webhook_backlogs(a, j)) != STORE_OK) {
			json_object_put(j);
			return admin_store_fail(rc);
		}
		return admin_print_json(j);
	}
	stats_size("map_size", st.map_size);
	stats_size("used_bytes", st.used_bytes);
	stats_size("page_size", st.page_size);
	printf("readers\t%u/%u\nlast_txn\t%" PRIu64 "\n", st.readers_used, st.readers_max, st.last_txn);
	for (int i = 0; i < STORE_DB_COUNT; i++)
		printf("%s\t%" PRIu64 "\n", store_db_names[i], st.entries[i]);
	printf("refused\t%" PRIu64 "\n", st.refused);
	return (rc = admin_webhook_backlogs(a, NULL)) == STORE_OK ? 0 : admin_store_fail(rc);
}

/* What the child of check shares with its parent: how far it got. */
struct check_progress {
	struct progress pr;
	volatile uint64_t done, total;
};

static void
note_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct check_progress *p = ctx;

	p->done = done;
	p->total = total;
	progress_cb(&p->pr, done, total);
}

/* In the child: opens the store and walks it; the exit status is check's. */
static void
check_walk(struct admin *a, struct check_progress *p)
{
	char err[160], why[320];
	long problems;
	int rc;

	/* A fault kills the walk; the parent reports it (no handler here, not even a sanitizer's). */
	fault_guard_disarm();
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	if (config_load(&a->cfg, err, sizeof(err)) != 0) {
		admin_fail("%s", err);
		_exit(2);
	}
	rc = store_open(&a->store, a->cfg.data_dir, a->cfg.map_size, STORE_READONLY, why, sizeof(why));
	if (rc == STORE_CORRUPT) {
		printf("check: store damaged: %s\n", why);
		fflush(stdout);
		_exit(3);
	}
	if (rc != STORE_OK && admin_open(a, STORE_READONLY))
		_exit(2);
	progress_start(&p->pr, "check", "records", 0);
	rc = store_check(a->store, progress_stream(&p->pr, stdout), note_progress, p, &problems);
	progress_end(&p->pr);
	fflush(stdout);
	_exit(rc == STORE_CORRUPT ? 3 : rc != STORE_OK ? 2 : problems == 0 ? 0 : 1);
}

/*
 * The walk runs in a child process that opens the store itself: a damaged
 * page that sends LMDB astray kills the child, not the report.  Exit status
 * 0 clean, 1 inconsistent, 3 damaged (the walk faulted, or LMDB found a
 * page it could not read), 2 when the store could not be checked at all.
 */
int
cmd_check(struct admin *a, int argc, char **argv)
{
	struct check_progress *p;
	struct options o;
	pid_t pid;
	int rc, status;

	if ((rc = admin_options(a, "check", argc, argv, 0, &o)) >= 0)
		return rc;
	if (o.argc != 0)
		return admin_usage_error(a, "check takes no argument");
	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return admin_fail("check: %s", strerror(errno));
	fflush(stdout);
	if ((pid = fork()) < 0)
		return admin_fail("check: cannot start the walk: %s", strerror(errno));
	if (pid == 0)
		check_walk(a, p);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return admin_fail("check: %s", strerror(errno));
	if (WIFSIGNALED(status)) {
		if (isatty(2))
			fputs("\r\033[K", stderr); /* the walk's progress line, left unfinished */
		printf("check: store damaged: the walk died of %s after %" PRIu64 " of about %" PRIu64
		    " entries checked\n", strsignal(WTERMSIG(status)), p->done, p->total);
		munmap(p, sizeof(*p));
		return 3;
	}
	munmap(p, sizeof(*p));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

int
cmd_backup(struct admin *a, int argc, char **argv)
{
	struct progress pr;
	struct options o;
	const char *dir;
	int rc, e;

	if ((rc = admin_options(a, "backup", argc, argv, 0, &o)) >= 0)
		return rc;
	if (o.argc != 1)
		return admin_usage_error(a, "backup: expected one DIR");
	dir = o.argv[0];
	if (admin_open(a, STORE_READONLY))
		return 1;
	progress_start_bytes(&pr, "backup", NULL, 0);
	rc = store_backup(a->store, dir, progress_cb, &pr);
	progress_end(&pr);
	if (rc == STORE_EXISTS)
		return admin_fail("backup: %s already holds a backup; choose a new directory", dir);
	if (rc == STORE_UNAVAILABLE && (e = admin_dir_problem(dir, 1)) != 0)
		return admin_fail("backup: cannot write to %s: %s", dir, strerror(e));
	if (rc != STORE_OK)
		return admin_fail("backup: %s", store_strerror(rc));
	printf("backup written to %s\n", dir);
	return 0;
}
