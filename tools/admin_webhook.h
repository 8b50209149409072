#ifndef MENZZO_ADMIN_WEBHOOK_H
#define MENZZO_ADMIN_WEBHOOK_H

/* menzzo-admin's webhook commands (tools/admin_webhook.c) and deliver (tools/admin_deliver.c). */

#include "admin.h"

/* webhook add|list|remove|enable|test. */
int cmd_webhook(struct admin *a, int argc, char **argv);
/* deliver [--follow] [--max-seconds S]: sends what is due to every endpoint. */
int cmd_deliver(struct admin *a, int argc, char **argv);

struct json_object;
/*
 * stats' part: each webhook endpoint's backlog (events not yet delivered),
 * as lines "webhook.<ID>.backlog<TAB>N" (j NULL), or into j's "webhooks"
 * array ({id, target, state, backlog}).  STORE_OK or the store's error.
 */
int admin_webhook_backlogs(struct admin *a, struct json_object *j);

#endif
