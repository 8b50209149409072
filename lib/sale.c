#include "sale.h"

static const char *const status_names[STATUS__MAX] = {
	"pending", "acknowledged", "shipped", "cancelled",
};

static const char *const filter_names[FILTER__MAX] = {
	"pending", "acknowledged", "shipped", "cancelled", "open", "all",
};

static const char *const log_action_names[LOG__MAX] = {
	"imported", "updated", "acknowledged", "shipped", "cancelled",
};

int
sale_in_view(enum sale_status status, enum status_filter view)
{
	switch (view) {
	case FILTER_ALL:
		return 1;
	case FILTER_OPEN:
		return status == STATUS_PENDING || status == STATUS_ACKNOWLEDGED;
	default:
		return (int)view == (int)status;
	}
}

int
sale_views(enum sale_status status, unsigned views[SALE_VIEWS_MAX])
{
	/* The order the index entries are written in (it shapes how the index's pages fill). */
	static const enum status_filter order[FILTER__MAX] = {
		FILTER_ALL, FILTER_PENDING, FILTER_ACKNOWLEDGED, FILTER_SHIPPED, FILTER_CANCELLED, FILTER_OPEN,
	};
	int n = 0;

	for (int i = 0; i < FILTER__MAX; i++)
		if (sale_in_view(status, order[i]) && n < SALE_VIEWS_MAX)
			views[n++] = order[i];
	return n;
}

const char *
status_name(enum sale_status s)
{
	return (unsigned)s < STATUS__MAX ? status_names[s] : "unknown";
}

const char *
status_filter_name(enum status_filter f)
{
	return (unsigned)f < FILTER__MAX ? filter_names[f] : "unknown";
}

const char *
log_action_name(enum log_action a)
{
	return (unsigned)a < LOG__MAX ? log_action_names[a] : "unknown";
}
