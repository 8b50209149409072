#ifndef MENZZO_ADMIN_TOKEN_H
#define MENZZO_ADMIN_TOKEN_H

/* menzzo-admin's token commands (tools/admin_token.c). */

#include "admin.h"

/* token add|list|revoke. */
int cmd_token(struct admin *a, int argc, char **argv);
/*
 * Issues a token for sup, or a back-office token when sup is NULL (label may
 * be ""; expires 0: never), and prints it as the last line; 0, or 1 (reported).
 */
int admin_token_add(struct admin *a, const struct supplier *sup, const char *label, int64_t expires);

#endif
