/*
 * menzzo-admin stock: the suppliers' stock (SPEC §9) as a table, or as
 * JSON Lines for the back office (--json: get-stock's items, each with its
 * supplier).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "admin.h"
#include "admin_stock.h"
#include "sale_json.h"
#include "stock.h"
#include "validate.h"

static void
print_row(const struct stock_record *r, int json)
{
	char lead[16] = "-", date[16] = "-", at[TIMESTAMP_LEN + 1];

	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "supplier", json_object_new_string(supplier_by_id(r->supplier)->slug));
		admin_print_json(stock_item_add(o, r));
		return;
	}
	if (r->lead_time_days >= 0)
		snprintf(lead, sizeof(lead), "%d", r->lead_time_days);
	if (r->has_next_available)
		format_date(r->next_available, date);
	format_timestamp(r->updated_at, at);
	printf("%s\t%s\t%u\t%s\t%s\t%s\n", supplier_by_id(r->supplier)->slug, r->sku, (unsigned)r->quantity, lead, date,
	    at);
}

int
cmd_stock(struct admin *a, int argc, char **argv)
{
	const struct supplier *only = NULL;
	struct store_txn *t;
	struct stock_iter it;
	struct options o;
	char slugs[256];
	int rc;

	if ((rc = admin_options(a, "stock", argc, argv, OPT_JSON, &o)) >= 0)
		return rc;
	supplier_slugs(slugs, sizeof(slugs));
	if (o.argc > 1)
		return admin_usage_error(a, "stock: unexpected argument %s", o.argv[1]);
	if (o.argc == 1 && (only = supplier_by_slug(o.argv[0], strlen(o.argv[0]))) == NULL)
		return admin_usage_error(a, "stock: SUPPLIER must be one of %s", slugs);
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, &t)) != STORE_OK)
		return admin_fail("stock: %s", store_strerror(rc));
	if (!o.json)
		printf("SUPPLIER\tSKU\tQUANTITY\tLEAD_TIME_DAYS\tNEXT_AVAILABLE_DATE\tUPDATED_AT\n");
	for (unsigned s = 0; s < supplier_count; s++) {
		if (only != NULL && s != supplier_id(only))
			continue;
		for (int more = store_stock_first(t, s, "", &it); more; more = store_stock_next(&it))
			print_row(&it.rec, o.json);
	}
	rc = store_txn_error(t);
	store_abort(t);
	if (rc != STORE_OK)
		return admin_fail("stock: %s", store_strerror(rc));
	return fflush(stdout) == 0 ? 0 : admin_fail("stock: cannot write: standard output");
}
