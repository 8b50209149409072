#include <stdio.h>

#include "sale.h"

static const char *const status_names[STATUS__MAX] = {
	"pending", "acknowledged", "shipped", "cancelled", "refused",
};

static const char *const filter_names[FILTER__MAX] = {
	"pending", "acknowledged", "shipped", "cancelled", "open", "all", "refused",
};

static const char *const reason_names[REASON__MAX] = {
	"", "out_of_stock", "discontinued", "price_error", "cannot_deliver", "other",
};

static const char *const delivery_names[DELIVERY__MAX] = {
	"", "in_transit", "out_for_delivery", "delivered", "delivery_failed", "returned_to_sender",
};

static const char *const log_action_names[LOG__MAX] = {
	"imported", "updated", "acknowledged", "shipped", "cancelled", "refused", "reopened", "ship_date_changed",
	"tracking_updated",
};

int
sale_in_view(enum sale_status status, enum status_filter view)
{
	switch (view) {
	case FILTER_ALL:
		return 1;
	case FILTER_OPEN:
		return status == STATUS_PENDING || status == STATUS_ACKNOWLEDGED;
	case FILTER_REFUSED:
		return status == STATUS_REFUSED;
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
		FILTER_REFUSED,
	};
	int n = 0;

	for (int i = 0; i < FILTER__MAX; i++)
		if (sale_in_view(status, order[i]) && n < SALE_VIEWS_MAX)
			views[n++] = order[i];
	return n;
}

/* names[i] for i below n, "unknown" for any other value. */
static const char *
name_of(const char *const *names, unsigned n, unsigned i)
{
	return i < n ? names[i] : "unknown";
}

/* The name functions of sale.h, each a lookup in its table. */
#define NAME_FN(fn, type, names, n) \
	const char *fn(type v) { return name_of(names, n, (unsigned)v); }
NAME_FN(status_name, enum sale_status, status_names, STATUS__MAX)
NAME_FN(status_filter_name, enum status_filter, filter_names, FILTER__MAX)
NAME_FN(refusal_reason_name, enum refusal_reason, reason_names, REASON__MAX)
NAME_FN(delivery_status_name, enum delivery_status, delivery_names, DELIVERY__MAX)
NAME_FN(log_action_name, enum log_action, log_action_names, LOG__MAX)

/* names[from..n), comma-separated, into out[0..len) (cut to fit). */
static void
join(const char *const *names, unsigned from, unsigned n, char *out, size_t len)
{
	size_t at = 0;

	out[0] = '\0';
	for (unsigned i = from; i < n && at < len; i++)
		at += (size_t)snprintf(out + at, len - at, "%s%s", i > from ? ", " : "", names[i]);
}

void
status_names_join(char *out, size_t len)
{
	join(status_names, 0, STATUS__MAX, out, len);
}

void
status_filter_names_join(char *out, size_t len)
{
	join(filter_names, 0, FILTER__MAX, out, len);
}

void
refusal_reason_names_join(char *out, size_t len)
{
	join(reason_names, REASON_NONE + 1, REASON__MAX, out, len);
}

void
delivery_status_names_join(char *out, size_t len)
{
	join(delivery_names, DELIVERY_NONE + 1, DELIVERY__MAX, out, len);
}
