#ifndef MENZZO_ADMIN_METRICS_H
#define MENZZO_ADMIN_METRICS_H

/* menzzo-admin's metrics command (tools/admin_metrics.c). */

#include "admin.h"

/* metrics: the Prometheus text of GET /api/metrics, on standard output. */
int cmd_metrics(struct admin *a, int argc, char **argv);

#endif
