/*
 * POST /api/{supplier}/acknowledge-sale (SPEC §2.3): see sale_action_handle for the
 * statuses it raises.
 */
#include "sale_action.h"

static void
acknowledge_sale(struct cgi *c)
{
	sale_action_handle(c, ACTION_ACKNOWLEDGE);
}

static const struct endpoint acknowledge_sale_endpoint = {
	.method = "POST",
	.auth = AUTH_OWN_SUPPLIER,
	.reads_body = 1,
	.handle = acknowledge_sale,
};

int
main(void)
{
	return cgi_main(&acknowledge_sale_endpoint, MENZZO_SUPPLIER);
}
