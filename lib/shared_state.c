/* The shared-state file (shared_state.h). */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "shared_state.h"

#define MAGIC "MZSTATE"    /* with its NUL: 8 bytes */
#define VERSION 2
#define NS 1000000000ULL
#define PROBES 64          /* slots tried for a key before it is said to have none */

struct header {
	char magic[8];
	uint32_t version;
	uint32_t slots;
	uint64_t size;
	uint64_t layout;   /* the caller's id of the layout of its region (the metrics' tables) */
	char pad[64 - 32];
};

struct slot {
	_Atomic uint32_t key;
	uint32_t unused;
	_Atomic uint64_t value;
};

struct layout {
	struct header h;
	struct slot slots[SHARED_SLOTS];
};

_Static_assert(sizeof(struct header) == 64, "the header is one cache line");
_Static_assert(sizeof(struct slot) == 16, "a slot is 16 bytes");

struct shared_state {
	struct layout *map;
	size_t size;          /* of the file: the slots and the caller's region */
	int fd;
	dev_t dev;
	ino_t ino;
	uint64_t checked_ns;  /* when the file's identity was last checked */
	struct header want;   /* the header a valid file has */
	char path[];          /* the file's path, for the identity check */
};

static int
header_valid(const struct header *h, const struct header *want)
{
	return memcmp(h, want, offsetof(struct header, pad)) == 0;
}

/*
 * Writes an empty file beside path and puts it in place: with
 * link() where there was none (damaged_fd -1: of processes creating it at
 * once, one wins and the others use its file), with rename() over a damaged
 * one, under an exclusive flock of the damaged file and only while path is
 * still that file (of processes finding it damaged at once, the first
 * replaces it and the others use the replacement).  A process that has the
 * old file mapped keeps a valid map, never one cut short under it, and sees
 * the change at its next header or identity check.
 */
static int
rebuild(const char *path, const struct header *want, int damaged_fd, const struct stat *damaged)
{
	char tmp[4096 + 16];
	struct stat now;
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	if ((fd = mkstemp(tmp)) < 0)
		return errno;
	rc = posix_fallocate(fd, 0, (off_t)want->size);
	if (rc == EOPNOTSUPP || rc == EINVAL)
		rc = ftruncate(fd, (off_t)want->size) == 0 ? 0 : errno;
	if (rc == 0 && pwrite(fd, want, sizeof(*want), 0) != (ssize_t)sizeof(*want))
		rc = errno != 0 ? errno : EIO;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	if (rc == 0 && damaged_fd < 0 && link(tmp, path) != 0 && errno != EEXIST)
		rc = errno;
	if (rc == 0 && damaged_fd >= 0) {
		if (flock(damaged_fd, LOCK_EX) == 0) {
			if (stat(path, &now) == 0 && now.st_dev == damaged->st_dev && now.st_ino == damaged->st_ino &&
			    rename(tmp, path) != 0)
				rc = errno;
			flock(damaged_fd, LOCK_UN);
		} else
			rc = errno;
	}
	unlink(tmp); /* renamed already, or linked, or lost to another process's file */
	return rc;
}

/* Opens path as it is: 0 with the file's descriptor, size and header read, or an errno value. */
static int
open_file(const char *path, int *fd, struct stat *st, struct header *h)
{
	int rc = 0;

	memset(st, 0, sizeof(*st));
	memset(h, 0, sizeof(*h));
	*fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, st) != 0)
		rc = errno != 0 ? errno : EIO;
	else if (!S_ISREG(st->st_mode) || st->st_uid != geteuid() || (st->st_mode & 077) != 0)
		rc = EPERM; /* not a file this user alone could have written: never used */
	else if (pread(*fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
		memset(h, 0, sizeof(*h));
	if (rc != 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

/* A handle for the file at path with the header a valid one has; NULL with why (no memory, path too long). */
static struct shared_state *
state_new(const char *path, size_t extra, uint64_t layout, char *why, size_t whylen)
{
	size_t len = strlen(path);
	struct shared_state *s = len < 4096 ? malloc(sizeof(*s) + len + 1) : NULL;

	if (s == NULL) {
		snprintf(why, whylen, "%.200s: %s", path, strerror(len < 4096 ? ENOMEM : ENAMETOOLONG));
		return NULL;
	}
	s->map = NULL;
	s->fd = -1;
	memset(&s->want, 0, sizeof(s->want));
	memcpy(s->want.magic, MAGIC, sizeof(s->want.magic));
	s->want.version = VERSION;
	s->want.slots = SHARED_SLOTS;
	s->want.size = sizeof(struct layout) + (extra + 63) / 64 * 64;
	s->want.layout = layout;
	s->size = (size_t)s->want.size;
	memcpy(s->path, path, len + 1);
	return s;
}

/* The end of an open: 0 with *out set, or (rc not 0) -1 with why (cause, or rc's sentence) and s freed. */
static int
state_finish(struct shared_state *s, int rc, const struct stat *st, const char *cause, struct shared_state **out,
    char *why, size_t whylen)
{
	if (rc != 0) {
		snprintf(why, whylen, "%s: %s", s->path, cause != NULL ? cause : strerror(rc));
		shared_state_close(s);
		return -1;
	}
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->checked_ns = clock_monotonic_ns();
	*out = s;
	return 0;
}

int
shared_state_open(const char *path, size_t extra, uint64_t layout, struct shared_state **out, char *why,
    size_t whylen)
{
	struct shared_state *s = state_new(path, extra, layout, why, whylen);
	struct header h;
	struct stat st;
	void *map;
	int rc;

	*out = NULL;
	if (s == NULL)
		return -1;
	/* Missing, or not a valid file: rebuilt once, then taken as it is. */
	if ((rc = open_file(path, &s->fd, &st, &h)) == ENOENT || (rc == 0 &&
	    (st.st_size != (off_t)s->size || !header_valid(&h, &s->want)))) {
		rc = rebuild(path, &s->want, s->fd, &st);
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		if (rc == 0)
			rc = open_file(path, &s->fd, &st, &h);
		if (rc == 0 && (st.st_size != (off_t)s->size || !header_valid(&h, &s->want)))
			rc = EAGAIN; /* damaged again meanwhile: the next request tries again */
	}
	if (rc == 0) {
		map = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
		if (map == MAP_FAILED)
			rc = errno;
		else
			s->map = map;
	}
	return state_finish(s, rc, &st, rc == EPERM ? "not a regular file of this user with mode 0600: not used" : NULL,
	    out, why, whylen);
}

int
shared_state_peek(const char *path, size_t extra, uint64_t layout, struct shared_state **out, char *why,
    size_t whylen)
{
	struct shared_state *s = state_new(path, extra, layout, why, whylen);
	struct header h;
	struct stat st;
	void *map;
	int rc = 0;

	*out = NULL;
	if (s == NULL)
		return -1;
	memset(&st, 0, sizeof(st));
	if ((s->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(s->fd, &st) != 0)
		rc = errno != 0 ? errno : EIO;
	else if (!S_ISREG(st.st_mode))
		rc = EPERM;
	else if (st.st_size != (off_t)s->size || pread(s->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    !header_valid(&h, &s->want))
		rc = EPROTO;
	else if ((map = mmap(NULL, s->size, PROT_READ, MAP_SHARED, s->fd, 0)) == MAP_FAILED)
		rc = errno;
	else
		s->map = map;
	return state_finish(s, rc, &st, rc == EPERM ? "not a regular file" : rc == EPROTO ?
	    "not a shared-state file of this program (another version, or damaged)" : NULL, out, why, whylen);
}

void
shared_state_close(struct shared_state *s)
{
	if (s == NULL)
		return;
	if (s->map != NULL)
		munmap(s->map, s->size);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

int
shared_state_stale(struct shared_state *s, uint64_t now_ns)
{
	struct stat st;

	if (!header_valid(&s->map->h, &s->want))
		return 1;
	if (now_ns < s->checked_ns + NS)
		return 0;
	s->checked_ns = now_ns;
	/* Deleted (no link left), cut short, or another file at the path now. */
	return fstat(s->fd, &st) != 0 || st.st_nlink == 0 || st.st_size != (off_t)s->size ||
	    stat(s->path, &st) != 0 || st.st_dev != s->dev || st.st_ino != s->ino;
}

int
shared_state_remove(const char *path)
{
	struct header h;
	struct stat st;
	int fd, rc = open_file(path, &fd, &st, &h);

	if (rc == 0) {
		memset(&h, 0, sizeof(h));
		if (pwrite(fd, &h, sizeof(h.magic), 0) != (ssize_t)sizeof(h.magic))
			rc = errno != 0 ? errno : EIO;
		close(fd);
	}
	if (unlink(path) != 0 && (rc == 0 || rc == EPERM || rc == ELOOP))
		rc = errno;
	return rc == EPERM || rc == ELOOP ? 0 : rc;
}

void
shared_state_region(const struct shared_state *s, const void **lo, size_t *len)
{
	*lo = s->map;
	*len = s->size;
}

void *
shared_state_extra(const struct shared_state *s)
{
	return s->map + 1;
}

_Atomic uint64_t *
shared_state_slot(struct shared_state *s, uint32_t key)
{
	for (uint32_t i = 0; i < PROBES && key != 0; i++) {
		struct slot *sl = &s->map->slots[(key + i) % SHARED_SLOTS];
		uint32_t k = atomic_load_explicit(&sl->key, memory_order_acquire);

		if (k == 0 && atomic_compare_exchange_strong(&sl->key, &k, key))
			return &sl->value;
		if (k == key)
			return &sl->value;
	}
	return NULL;
}
