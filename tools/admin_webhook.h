#ifndef MENZZO_ADMIN_WEBHOOK_H
#define MENZZO_ADMIN_WEBHOOK_H

/* menzzo-admin's webhook commands (tools/admin_webhook.c). */

#include "admin.h"

/* webhook add|list|remove|enable|test. */
int cmd_webhook(struct admin *a, int argc, char **argv);
/* deliver [--follow] [--max-seconds S]: sends what is due to every endpoint. */
int cmd_deliver(struct admin *a, int argc, char **argv);

#endif
