/*
 * The program of every endpoint: the row MENZZO_ENDPOINT (ENDPOINT_<id>) of
 * lib/endpoints.def, for the supplier whose slug is MENZZO_SUPPLIER (NULL
 * for a global row).  The Makefile builds it once for each program the two
 * tables name; what each endpoint does is its handler's, in lib/.
 */
#include "cgi.h"

int
main(void)
{
	return cgi_main(&endpoints[MENZZO_ENDPOINT], MENZZO_SUPPLIER);
}
