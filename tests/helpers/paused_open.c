/*
 * Opens the store of MENZZO_DATA_DIR to write and stops inside LMDB's
 * exclusive set-up: linked with LMDB's static library and
 * -Wl,--wrap=open, it prints "paused" and waits to be killed at the moment
 * LMDB opens data.mdb, which (for an environment opened to write) is after
 * the first opener reset the shared lock region and before it set the
 * region's transaction id from the data file.  The durability test
 * kills it there while a writer is waiting to open the same store.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "store.h"

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);

int
__wrap_open(const char *path, int flags, ...)
{
	size_t n = strlen(path);
	mode_t mode = 0;
	va_list ap;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (n >= 9 && strcmp(path + n - 9, "/data.mdb") == 0) {
		puts("paused");
		fflush(stdout);
		for (;;)
			pause();
	}
	return __real_open(path, flags, mode);
}

int
main(void)
{
	struct config cfg;
	struct store *s;
	char err[160];

	if (config_load(&cfg, err, sizeof(err)) != 0 ||
	    store_open(&s, cfg.data_dir, cfg.map_size, 0, NULL, 0) != STORE_OK) {
		puts("failed");
		return 1;
	}
	puts("opened without pausing");
	store_close(s);
	return 1;
}
