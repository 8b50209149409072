/*
 * The shared-state file (shared_state.h) as another process, a damaged disk
 * or a hostile user may leave it: the input is written over a valid file
 * (its first byte chooses whether over the header too, the rest is placed at
 * an offset the next two bytes give), then the file is opened, its slots
 * looked up for keys the input names and updated as the rate limit does:
 *   - open either maps the file or refuses it, never crashes;
 *   - a valid header is kept, any other is rebuilt (the map then reads empty);
 *   - every slot returned lies inside the map, and the same key finds it again;
 *   - the counters of its region (metrics.h), whatever they hold, are added
 *     to with indexes the input names (out of range: ignored) and written
 *     out as lines of the exposition format, each a comment or a sample.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "shared_state.h"

#include "fuzz.h"

static char path[64];

static void
remove_file(void)
{
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shared_state *s = NULL;
	char why[4300];
	const void *lo;
	size_t len, at;
	int fd;

	if (size < 3)
		return 0;
	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/menzzo-fuzz-state-%ld", (long)getpid());
		atexit(remove_file);
	}
	/* A valid file first. */
	unlink(path);
	CHECK(shared_state_open(path, metrics_size(), metrics_layout(), &s, why, sizeof(why)) == 0);
	shared_state_region(s, &lo, &len);
	shared_state_close(s);
	at = (data[0] & 1) ? 0 : 64 + ((size_t)data[1] << 8 | data[2]) * 7 % (len - 64);
	if ((fd = open(path, O_WRONLY)) >= 0) {
		CHECK(pwrite(fd, data + 3, size - 3, (off_t)at) == (ssize_t)(size - 3));
		close(fd);
	}
	if (shared_state_open(path, metrics_size(), metrics_layout(), &s, why, sizeof(why)) != 0) {
		CHECK(s == NULL && why[0] != '\0');
		return 0;
	}
	shared_state_region(s, &lo, &len);
	CHECK(!shared_state_stale(s, 0));
	for (size_t i = 3; i + 4 <= size; i += 4) {
		uint32_t key = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16 |
		    (uint32_t)data[i + 3] << 24;
		_Atomic uint64_t *slot = shared_state_slot(s, key), *again;
		uint64_t seen;

		if (slot == NULL)
			continue;
		CHECK(key != 0);
		CHECK((const char *)slot >= (const char *)lo && (const char *)(slot + 1) <= (const char *)lo + len);
		seen = atomic_load(slot);
		CHECK(atomic_compare_exchange_strong(slot, &seen, seen + 1));
		again = shared_state_slot(s, key);
		CHECK(again == slot);
		metrics_count(shared_state_extra(s), data[i] % 16, data[i + 1] % 8, 100 + data[i + 2] * 2,
		    (uint64_t)data[i + 3] << 24);
		metrics_rate_limited(shared_state_extra(s), data[i + 1] % 8);
	}
	{
		struct buf out = { 0 };
		char *line, *end;

		CHECK(metrics_render(shared_state_extra(s), 1, NULL, NULL, 1, &out) == 0);
		for (line = out.p; line != NULL && *line; line = end + 1) {
			end = strchr(line, '\n');
			CHECK(end != NULL);
			CHECK(line[0] == '#' || (strncmp(line, "menzzo_", 7) == 0 && memchr(line, ' ', (size_t)(end - line))));
		}
		buf_free(&out);
	}
	shared_state_close(s);
	return 0;
}
