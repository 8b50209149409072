/*
 * baseline: the least a CGI can do — read the request body, if any, and
 * print a fixed JSON response with Status, Content-Type and Content-Length.
 *
 * What it prints depends on the name it is installed under, so that it
 * writes as many bytes as the endpoint it stands in for: as `get-sales`, a
 * full page of 100 sale products in the seed's shape (about 27 KiB); under
 * any other name, a ship-sale success object.  Linked like the endpoints'
 * toolchain default (dynamic libc), built with the same -O2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ITEM "{\"menzzo_order_id\":\"15000012345_789\",\"sku\":\"SKU-12345\",\"quantity\":1," \
	"\"price\":250.00,\"link_to_label\":\"http://127.0.0.1:8080/api/files/labels/15000012345_789.pdf\"," \
	"\"order_date\":\"2025-06-15\",\"carrier\":\"CHRONOPOST\",\"status\":\"pending\"," \
	"\"acknowledged_at\":null,\"prepared_at\":null}"
#define ITEMS10 ITEM "," ITEM "," ITEM "," ITEM "," ITEM "," ITEM "," ITEM "," ITEM "," ITEM "," ITEM
static const char page[] = "[" ITEMS10 "," ITEMS10 "," ITEMS10 "," ITEMS10 "," ITEMS10 ","
    ITEMS10 "," ITEMS10 "," ITEMS10 "," ITEMS10 "," ITEMS10 "]";
static const char shipped[] = "{\"success\":true,\"menzzo_order_id\":\"15000012345_789\","
    "\"status\":\"shipped\",\"acknowledged_at\":\"2026-01-15T10:32:07Z\","
    "\"prepared_at\":\"2026-01-15T10:32:07Z\",\"changed\":true}";

int
main(int argc, char **argv)
{
	const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
	const char *cl = getenv("CONTENT_LENGTH");
	const char *body = shipped;
	size_t len = sizeof(shipped) - 1;
	char in[4096];

	name = name ? name + 1 : argc > 0 ? argv[0] : "";
	if (strcmp(name, "get-sales") == 0) {
		body = page;
		len = sizeof(page) - 1;
	}
	if (cl != NULL && *cl != '\0') {
		long want = atol(cl);
		ssize_t n;
		while (want > 0 && (n = read(0, in, sizeof(in))) > 0)
			want -= n;
	}
	printf("Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	    "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n", len);
	fwrite(body, 1, len, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
