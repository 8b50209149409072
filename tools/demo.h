#ifndef MENZZO_DEMO_H
#define MENZZO_DEMO_H

/* menzzo-admin demo (tools/demo.c): the demo data set of `make run`. */

#include "admin.h"

/* demo: its exit status. */
int cmd_demo(struct admin *a, int argc, char **argv);

#endif
