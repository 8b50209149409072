/*
 * The demo data set of `make run`: for each supplier, a few hundred sale
 * products over the last 30 days (most open, some acknowledged, shipped or
 * cancelled), a small valid label PDF for each, and one token, printed.
 * Deterministic but for the dates, which end today.  Beside them, the two
 * sale products of the public "Supplier APIs" page's examples, pending and
 * dated as there, so that each of its curl lines works verbatim.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_import.h"
#include "admin_token.h"
#include "buf.h"
#include "demo.h"
#include "validate.h"

#define DEMO_ORDERS_PER_SUPPLIER 160

/* The public page's example sale products (its get-sales response examples). */
static const struct {
	const char *supplier, *increment_id, *sku, *price, *order_date, *carrier;
	unsigned sale_product_id, quantity;
} seed_page_sales[] = {
	{ "asir-group", "15000012345", "PRODUCT-SKU", "250.00", "2026-01-15", "CHRONOPOST", 789, 1 },
	{ "notio", "15000012345", "NOTIO-PROD-123", "180.00", "2026-01-15", "GEODIS", 790, 2 },
};

static uint32_t
next_rand(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) & 0x7fff;
}

/* A one-page PDF showing text (ASCII without parentheses or backslashes). */
static int
write_label_pdf(const char *path, const char *text)
{
	struct buf b = { 0 };
	size_t off[6];
	char stream[160];
	int n = snprintf(stream, sizeof(stream), "BT /F1 16 Tf 24 380 Td (%s) Tj ET", text);
	FILE *f;
	int rc = 0;

	buf_adds(&b, "%PDF-1.4\n");
	off[1] = b.len;
	buf_adds(&b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	off[2] = b.len;
	buf_adds(&b, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
	off[3] = b.len;
	buf_adds(&b, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R "
	    "/Resources << /Font << /F1 5 0 R >> >> >>\nendobj\n");
	off[4] = b.len;
	buf_addf(&b, "4 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", n, stream);
	off[5] = b.len;
	buf_adds(&b, "5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
	off[0] = b.len;
	buf_adds(&b, "xref\n0 6\n0000000000 65535 f \n");
	for (int i = 1; i < 6; i++)
		buf_addf(&b, "%010zu 00000 n \n", off[i]);
	buf_addf(&b, "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", off[0]);
	if ((f = fopen(path, "w")) == NULL || fwrite(b.p, 1, b.len, f) != b.len)
		rc = -1;
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	buf_free(&b);
	return rc;
}

static int
demo_load(struct admin *a)
{
	static const char *const carriers[] = { "CHRONOPOST", "GEODIS", "DPD", "COLISSIMO" };
	static const char *const skus[] = { "SOFA-OSLO-3P", "TABLE-LINA-160", "CHAIR-MIKA-GREY",
		"BED-NOVA-140", "LAMP-ARC-BLACK", "SHELF-TOKI-5" };
	char dir[4096], path[4200], date[DATE_LEN + 1], ts[TIMESTAMP_LEN + 1], line[600], text[80];
	uint32_t seed = 20260115, today = (uint32_t)(a->now / 86400);
	uint64_t inc = 15000010000, sp = 700000;
	FILE *jl;
	char *jbuf = NULL;
	size_t jlen = 0;
	unsigned long n = 0;
	int rc;

	if (admin_open(a, STORE_CREATE))
		return 1;
	snprintf(dir, sizeof(dir), "%s/labels", a->cfg.files_dir);
	if ((mkdir(a->cfg.files_dir, 0700) != 0 && errno != EEXIST) || (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
		fprintf(stderr, "menzzo-admin: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if ((jl = open_memstream(&jbuf, &jlen)) == NULL)
		return 1;
	for (unsigned s = 0; s < supplier_count; s++)
		for (int o = 0; o < DEMO_ORDERS_PER_SUPPLIER; o++) {
			uint32_t day = today - 30 + (uint32_t)(o * 31 / DEMO_ORDERS_PER_SUPPLIER);
			int lines = 1 + (int)(next_rand(&seed) % 3);
			inc++;
			format_date(day, date);
			for (int l = 0; l < lines; l++) {
				uint32_t r = next_rand(&seed) % 100;
				const char *status = r < 60 ? "pending" : r < 78 ? "acknowledged" : r < 96 ? "shipped" : "cancelled";
				char label[80];
				sp++;
				snprintf(label, sizeof(label), "labels/%llu_%llu.pdf", (unsigned long long)inc,
				    (unsigned long long)sp);
				snprintf(path, sizeof(path), "%s/%s", a->cfg.files_dir, label);
				snprintf(text, sizeof(text), "%s %llu_%llu", suppliers[s].display,
				    (unsigned long long)inc, (unsigned long long)sp);
				if (write_label_pdf(path, text) != 0) {
					fprintf(stderr, "menzzo-admin: cannot write %s\n", path);
					fclose(jl);
					free(jbuf);
					return 1;
				}
				format_timestamp((int64_t)day * 86400 + 3600L * 20, ts);
				snprintf(line, sizeof(line), "{\"increment_id\": \"%llu\", \"sale_product_id\": %llu, "
				    "\"supplier\": \"%s\", \"sku\": \"%s\", \"quantity\": %u, \"price\": \"%u.%02u\", "
				    "\"order_date\": \"%s\", \"carrier\": \"%s\", \"label\": \"%s\", \"status\": \"%s\"%s%s%s}\n",
				    (unsigned long long)inc, (unsigned long long)sp, suppliers[s].slug,
				    skus[next_rand(&seed) % 6], 1 + next_rand(&seed) % 3, 40 + next_rand(&seed) % 900,
				    next_rand(&seed) % 100, date, carriers[next_rand(&seed) % 4], label, status,
				    strcmp(status, "shipped") == 0 ? ", \"prepared_at\": \"" : "",
				    strcmp(status, "shipped") == 0 ? ts : "",
				    strcmp(status, "shipped") == 0 ? "\"" : "");
				fputs(line, jl);
				n++;
			}
		}
	for (size_t i = 0; i < sizeof(seed_page_sales) / sizeof(seed_page_sales[0]); i++) {
		const char *slug = seed_page_sales[i].supplier;
		const struct supplier *sup = supplier_by_slug(slug, strlen(slug));
		char label[80];

		if (sup == NULL)
			continue;
		snprintf(label, sizeof(label), "labels/%s_%u.pdf", seed_page_sales[i].increment_id,
		    seed_page_sales[i].sale_product_id);
		snprintf(path, sizeof(path), "%s/%s", a->cfg.files_dir, label);
		snprintf(text, sizeof(text), "%s %s_%u", sup->display, seed_page_sales[i].increment_id,
		    seed_page_sales[i].sale_product_id);
		if (write_label_pdf(path, text) != 0) {
			fprintf(stderr, "menzzo-admin: cannot write %s\n", path);
			fclose(jl);
			free(jbuf);
			return 1;
		}
		fprintf(jl, "{\"increment_id\": \"%s\", \"sale_product_id\": %u, \"supplier\": \"%s\", "
		    "\"sku\": \"%s\", \"quantity\": %u, \"price\": \"%s\", \"order_date\": \"%s\", "
		    "\"carrier\": \"%s\", \"label\": \"%s\", \"status\": \"pending\"}\n",
		    seed_page_sales[i].increment_id, seed_page_sales[i].sale_product_id, sup->slug,
		    seed_page_sales[i].sku, seed_page_sales[i].quantity, seed_page_sales[i].price,
		    seed_page_sales[i].order_date, seed_page_sales[i].carrier, label);
		n++;
	}
	fclose(jl);
	if ((jl = fmemopen(jbuf, jlen, "r")) == NULL) {
		free(jbuf);
		return 1;
	}
	rc = admin_import(a, jl, "demo", jlen, NULL);
	fclose(jl);
	free(jbuf);
	if (rc != 0)
		return rc;
	printf("demo: %lu sale products for %zu suppliers, labels in %s\n", n, supplier_count, dir);
	for (unsigned s = 0; s < supplier_count && rc == 0; s++)
		rc = admin_token_add(a, &suppliers[s], "demo", 0);
	return rc;
}

int
cmd_demo(struct admin *a, int argc, char **argv)
{
	struct options o;
	int rc;

	if ((rc = admin_no_options(a, argc, argv, 0, &o)) >= 0)
		return rc;
	return demo_load(a);
}
