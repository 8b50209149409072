#ifndef MENZZO_ADMIN_STOCK_H
#define MENZZO_ADMIN_STOCK_H

/* menzzo-admin's stock command (tools/admin_stock.c). */

#include "admin.h"

/* stock [SUPPLIER] [--json]: every SKU's stock, by supplier and SKU. */
int cmd_stock(struct admin *a, int argc, char **argv);

#endif
