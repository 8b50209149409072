/*
 * gen: writes a synthetic order history as `menzzo-admin import` JSON Lines
 * (SPEC §4), fast enough that generating a million lines costs well under a
 * second, and deterministic for a given set of parameters.
 *
 * usage: gen -n COUNT -o OUT.jsonl -O OPEN.tsv [-s SEED] [-p SHIPPED_PERMILLE]
 *            [-a ACK_PERMILLE] [-y YEAR] [-i FIRST_INCREMENT_ID] [-j FIRST_SALE_PRODUCT_ID]
 *
 * COUNT sale products in orders of 1-3 sale products, in chronological order
 * over the days of YEAR; each sale product's supplier is drawn on its own
 * (asir-group 55 %, notio 45 %), so an order may mix suppliers.  A sale
 * product is shipped with probability SHIPPED_PERMILLE/1000, drawn
 * independently of its date (the open ones are spread over the whole year);
 * an open one is acknowledged with probability ACK_PERMILLE/1000, else
 * pending.  Shipped lines carry status and prepared_at, acknowledged ones
 * status and acknowledged_at.  Every line has a label path.
 *
 * OPEN.tsv lists the open sale products, one a line, in listing order:
 * supplier slug, order_date (YYYY-MM-DD), increment_id, sale_product_id, status.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
below(unsigned n)
{
	return (unsigned)(rng() % n);
}

/* Civil date from days since 1970-01-01 (H. Hinnant's algorithm). */
static void
civil(long z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long yy = (long)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static long
days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static void
usage(void)
{
	fputs("usage: gen -n COUNT -o OUT.jsonl -O OPEN.tsv [-s SEED] [-p SHIPPED_PERMILLE] "
	    "[-a ACK_PERMILLE] [-y YEAR] [-i FIRST_INCREMENT_ID] [-j FIRST_SALE_PRODUCT_ID]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	unsigned long long count = 0, seed = 1, inc = 15000000001ULL, sp = 1;
	unsigned shipped_pm = 0, ack_pm = 300;
	int year = 2025, opt;
	const char *out_path = NULL, *open_path = NULL;
	static const char *const carriers[] = { "CHRONOPOST", "DPD", "GEODIS", "DB SCHENKER", "COLISSIMO" };
	static const char *const prices[] = { "89.90", "129.00", "250.00", "349.50", "499.99", "1049.00" };

	while ((opt = getopt(argc, argv, "n:o:O:s:p:a:y:i:j:")) != -1) {
		switch (opt) {
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'o': out_path = optarg; break;
		case 'O': open_path = optarg; break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'p': shipped_pm = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'a': ack_pm = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'y': year = atoi(optarg); break;
		case 'i': inc = strtoull(optarg, NULL, 10); break;
		case 'j': sp = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (count == 0 || out_path == NULL || open_path == NULL || shipped_pm > 1000 || ack_pm > 1000)
		usage();

	FILE *out = fopen(out_path, "w"), *open_out = fopen(open_path, "w");
	if (out == NULL || open_out == NULL) {
		perror("gen");
		return 1;
	}
	static char obuf[1 << 20], tbuf[1 << 16];
	setvbuf(out, obuf, _IOFBF, sizeof(obuf));
	setvbuf(open_out, tbuf, _IOFBF, sizeof(tbuf));
	rng_state = seed;

	long first_day = days_from_civil(year, 1, 1), ndays = days_from_civil(year + 1, 1, 1) - first_day;
	unsigned long long done = 0;
	while (done < count) {
		unsigned in_order = 1 + below(3);
		long day = first_day + (long)(done * (unsigned long long)ndays / count);
		int y;
		unsigned m, d;
		char date[16];

		civil(day, &y, &m, &d);
		snprintf(date, sizeof(date), "%04d-%02u-%02u", y, m, d);
		for (unsigned k = 0; k < in_order && done < count; k++, done++, sp++) {
			const char *supplier = below(100) < 55 ? "asir-group" : "notio";
			unsigned qty = below(10) == 0 ? 2 : 1;
			int shipped = below(1000) < shipped_pm;
			int acked = !shipped && below(1000) < ack_pm;

			fprintf(out, "{\"increment_id\":\"%llu\",\"sale_product_id\":%llu,\"supplier\":\"%s\","
			    "\"sku\":\"SKU-%05u\",\"quantity\":%u,\"price\":\"%s\",\"order_date\":\"%s\","
			    "\"carrier\":\"%s\",\"label\":\"labels/%llu_%llu.pdf\"",
			    inc, sp, supplier, below(20000), qty, prices[below(6)], date,
			    carriers[below(5)], inc, sp);
			if (shipped) {
				int py;
				unsigned pm, pd;
				civil(day + 1 + below(3), &py, &pm, &pd);
				fprintf(out, ",\"status\":\"shipped\",\"prepared_at\":\"%04d-%02u-%02uT%02u:%02u:%02uZ\"}\n",
				    py, pm, pd, 8 + below(10), below(60), below(60));
			} else if (acked) {
				fprintf(out, ",\"status\":\"acknowledged\",\"acknowledged_at\":\"%sT%02u:%02u:%02uZ\"}\n",
				    date, 12 + below(10), below(60), below(60));
			} else
				fputs("}\n", out);
			if (!shipped)
				fprintf(open_out, "%s\t%s\t%llu\t%llu\t%s\n", supplier, date, inc, sp,
				    acked ? "acknowledged" : "pending");
		}
		inc++;
	}
	if (fclose(out) != 0 || fclose(open_out) != 0) {
		perror("gen");
		return 1;
	}
	return 0;
}
