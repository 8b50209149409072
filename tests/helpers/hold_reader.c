/*
 * Opens the store of MENZZO_DATA_DIR, begins a read transaction, prints
 * "ready" and waits to be killed: a reader that dies holding its slot.
 */
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "store.h"

int
main(void)
{
	struct config cfg;
	struct store *s;
	struct store_txn *t;
	char err[160];

	if (config_load(&cfg, err, sizeof(err)) != 0 ||
	    store_open(&s, cfg.data_dir, cfg.map_size, STORE_READONLY, NULL, 0) != STORE_OK ||
	    store_begin(s, 0, &t) != STORE_OK) {
		puts("failed");
		return 1;
	}
	puts("ready");
	fflush(stdout);
	for (;;)
		pause();
}
