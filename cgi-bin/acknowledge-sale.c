/* POST /api/{supplier}/acknowledge-sale (SPEC §2.3): see acknowledge_sale_handle for what it raises. */
#include "sale_action.h"

static const struct endpoint acknowledge_sale_endpoint = {
	.method = "POST",
	.auth = AUTH_OWN_SUPPLIER,
	.reads_body = 1,
	.handle = acknowledge_sale_handle,
};

int
main(void)
{
	return cgi_main(&acknowledge_sale_endpoint, MENZZO_SUPPLIER);
}
