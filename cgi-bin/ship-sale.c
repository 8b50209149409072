/*
 * POST /api/{supplier}/ship-sale (SPEC §2.3): see sale_action_handle for the
 * statuses it raises.
 */
#include "sale_action.h"

static void
ship_sale(struct cgi *c)
{
	sale_action_handle(c, ACTION_SHIP);
}

static const struct endpoint ship_sale_endpoint = {
	.method = "POST",
	.auth = AUTH_OWN_SUPPLIER,
	.reads_body = 1,
	.handle = ship_sale,
};

int
main(void)
{
	return cgi_main(&ship_sale_endpoint, MENZZO_SUPPLIER);
}
