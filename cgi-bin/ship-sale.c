/* POST /api/{supplier}/ship-sale (SPEC §2.3): see ship_sale_handle for what it raises. */
#include "sale_action.h"

static const struct endpoint ship_sale_endpoint = {
	.method = "POST",
	.auth = AUTH_OWN_SUPPLIER,
	.reads_body = 1,
	.handle = ship_sale_handle,
};

int
main(void)
{
	return cgi_main(&ship_sale_endpoint, MENZZO_SUPPLIER);
}
