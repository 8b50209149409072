/* Unit tests of the shared-state file (lib/shared_state.c): creation, sharing, damage, removal, slots. */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "shared_state.h"
#include "unit.h"

#define NS 1000000000ULL

static char dir[] = "/tmp/menzzo-unit-state-XXXXXX", path[256];

static off_t
file_size(void)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
overwrite(const char *bytes, size_t len, off_t at)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || pwrite(fd, bytes, len, at) != (ssize_t)len)
		perror("overwrite");
	if (fd >= 0)
		close(fd);
}

int
main(void)
{
	struct shared_state *a = NULL, *b = NULL;
	char why[4300] = "", junk[64];
	_Atomic uint64_t *slot, *other;
	uint64_t now = clock_monotonic_ns();
	int n;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/state", dir);

	CHECK(shared_state_open(path, 0, 0, &a, why, sizeof(why)) == 0 && a != NULL, "a missing file is created");
	CHECK(file_size() > (off_t)(SHARED_SLOTS * 16), "of its fixed size");
	CHECK(shared_state_open(path, 0, 0, &b, why, sizeof(why)) == 0 && b != NULL, "and opened again as it is");
	slot = shared_state_slot(a, 7);
	CHECK(slot != NULL && *slot == 0, "a new key's slot starts at 0");
	if (slot == NULL)
		return 1;
	*slot = 42;
	other = shared_state_slot(b, 7);
	CHECK(other != NULL && *other == 42, "another map of the file sees the same slot");
	CHECK(shared_state_slot(a, 7 + SHARED_SLOTS) != slot, "a key of the same index gets a slot of its own");
	CHECK(shared_state_slot(a, 0) == NULL, "key 0 has no slot");
	CHECK(!shared_state_stale(a, now), "a valid file is not stale");

	/* Keys of one index fill the slots they probe: then no slot is left for the next one. */
	for (n = 0; n < 200; n++)
		if (shared_state_slot(a, 1000 + (uint32_t)n * SHARED_SLOTS) == NULL)
			break;
	CHECK(n > 10 && n < 200, "a key whose probes are all taken has no slot (it is let through)");

	/* Garbage in the header: every map sees it at its next call, and the next open rebuilds the file. */
	memset(junk, 'x', sizeof(junk));
	overwrite(junk, sizeof(junk), 0);
	CHECK(shared_state_stale(a, now) && shared_state_stale(b, now), "a damaged header is stale at once");
	shared_state_close(b);
	CHECK(shared_state_open(path, 0, 0, &b, why, sizeof(why)) == 0, "a damaged file is rebuilt");
	slot = shared_state_slot(b, 7);
	CHECK(slot != NULL && *slot == 0, "empty");
	shared_state_close(b);

	/* Deleted: noticed at the next identity check (once a second), then a new file. */
	shared_state_close(a);
	CHECK(shared_state_open(path, 0, 0, &a, why, sizeof(why)) == 0, "opened");
	unlink(path);
	CHECK(!shared_state_stale(a, now), "not checked again within the second");
	CHECK(shared_state_stale(a, now + 2 * NS), "deleted: stale at the next check");
	shared_state_close(a);

	/* Removed by cache purge --all: the header made invalid first, for the maps of running processes. */
	CHECK(shared_state_open(path, 0, 0, &a, why, sizeof(why)) == 0, "created again");
	CHECK(shared_state_remove(path) == 0 && file_size() == -1, "removed");
	CHECK(shared_state_stale(a, now), "a removed file is stale at once for its maps");
	shared_state_close(a);
	CHECK(shared_state_remove(path) != 0, "removing none says so");

	/* Cut short, and of another size: rebuilt. */
	CHECK(shared_state_open(path, 0, 0, &a, why, sizeof(why)) == 0, "created");
	shared_state_close(a);
	CHECK(truncate(path, 100) == 0 && shared_state_open(path, 0, 0, &a, why, sizeof(why)) == 0 &&
	    file_size() > (off_t)(SHARED_SLOTS * 16), "a file cut short is rebuilt");
	shared_state_close(a);

	/* The caller's region: zeroed, shared, and a program of another layout takes the file as foreign. */
	CHECK(shared_state_open(path, 100, 7, &a, why, sizeof(why)) == 0, "a file with a region of its caller's");
	CHECK(shared_state_open(path, 100, 7, &b, why, sizeof(why)) == 0, "opened again as it is");
	{
		_Atomic uint64_t *ra = shared_state_extra(a), *rb = shared_state_extra(b);

		CHECK(ra[0] == 0 && ra[12] == 0, "the region starts zeroed");
		atomic_fetch_add(&ra[12], 5);
		CHECK(rb[12] == 5, "another map of the file sees the region's counters");
	}
	shared_state_close(b);
	CHECK(shared_state_open(path, 100, 8, &b, why, sizeof(why)) == 0, "a program of another layout rebuilds the file");
	CHECK(((_Atomic uint64_t *)shared_state_extra(b))[12] == 0, "and starts from zero");
	CHECK(shared_state_stale(a, now + 10 * NS), "the other layout's map sees the file replaced");
	shared_state_close(b);
	CHECK(shared_state_open(path, 200, 7, &b, why, sizeof(why)) == 0, "a region of another size: rebuilt too");
	shared_state_close(b);
	shared_state_close(a);

	/* Never used: a file others may write, a symbolic link, a directory. */
	CHECK(chmod(path, 0644) == 0 && shared_state_open(path, 0, 0, &a, why, sizeof(why)) != 0 && a == NULL &&
	    strstr(why, "not used") != NULL, "a file with group or other permissions is not used");
	CHECK(chmod(path, 0600) == 0 && rename(path, "/tmp/menzzo-unit-state-target") == 0 &&
	    symlink("/tmp/menzzo-unit-state-target", path) == 0 && shared_state_open(path, 0, 0, &a, why, sizeof(why)) != 0,
	    "a symbolic link is not followed");
	CHECK(shared_state_remove(path) == 0 && access("/tmp/menzzo-unit-state-target", F_OK) == 0,
	    "removing a link removes the link, never its target");
	unlink("/tmp/menzzo-unit-state-target");
	CHECK(mkdir(path, 0700) == 0 && shared_state_open(path, 0, 0, &a, why, sizeof(why)) != 0, "a directory is not used");
	rmdir(path);
	rmdir(dir);
	return UNIT_DONE();
}
