#ifndef MENZZO_ADMIN_SALE_H
#define MENZZO_ADMIN_SALE_H

/* menzzo-admin's sale commands (tools/admin_sale.c); each returns the exit status. */

#include "admin.h"

int cmd_import(struct admin *a, int argc, char **argv);
int cmd_show(struct admin *a, int argc, char **argv);
int cmd_log(struct admin *a, int argc, char **argv);
int cmd_cancel(struct admin *a, int argc, char **argv);
int cmd_reopen(struct admin *a, int argc, char **argv);
int cmd_events(struct admin *a, int argc, char **argv);

#endif
