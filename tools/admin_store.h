#ifndef MENZZO_ADMIN_STORE_H
#define MENZZO_ADMIN_STORE_H

/* menzzo-admin's commands on the store as a whole (tools/admin_store.c); each returns the exit status. */

#include "admin.h"

int cmd_init(struct admin *a, int argc, char **argv);
int cmd_cache(struct admin *a, int argc, char **argv);
int cmd_stats(struct admin *a, int argc, char **argv);
int cmd_check(struct admin *a, int argc, char **argv);
int cmd_backup(struct admin *a, int argc, char **argv);

#endif
