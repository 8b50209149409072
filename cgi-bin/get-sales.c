/* GET /api/{supplier}/get-sales (SPEC §2.2): see get_sales_handle for what it raises. */
#include "get_sales.h"

static const struct endpoint get_sales_endpoint = {
	.method = "GET",
	.auth = AUTH_OWN_SUPPLIER,
	.store_flags = STORE_READONLY,
	.handle = get_sales_handle,
};

int
main(void)
{
	return cgi_main(&get_sales_endpoint, MENZZO_SUPPLIER);
}
