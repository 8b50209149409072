/*
 * menzzo-admin: the maintainer's tool, on the same store and the same
 * MENZZO_* environment as the endpoints (SPEC §4).  Errors go to standard
 * error with a non-zero exit status; `menzzo-admin COMMAND --help` on every
 * command.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "admin.h"
#include "auth.h"
#include "check.h"
#include "config.h"
#include "sales.h"
#include "store.h"
#include "supplier.h"

struct command {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(struct admin *a, int argc, char **argv);
};

static int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("menzzo-admin: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int
admin_open(struct admin *a, int flags)
{
	int rc = store_open(&a->store, a->cfg.data_dir, a->cfg.map_size, flags);

	if (rc == STORE_UNAVAILABLE && !(flags & STORE_CREATE))
		return fail("no store at %s (run `menzzo-admin init` first, or set MENZZO_DATA_DIR)",
		    a->cfg.data_dir);
	if (rc != STORE_OK)
		return fail("cannot open the store at %s: %s", a->cfg.data_dir, store_strerror(rc));
	return 0;
}

static int
store_fail(int rc)
{
	return fail("%s; nothing was written", store_strerror(rc));
}

static int
cmd_init(struct admin *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (admin_open(a, STORE_CREATE))
		return 1;
	if (mkdir(a->cfg.files_dir, 0700) != 0 && errno != EEXIST)
		return fail("cannot create the files directory %s: %s", a->cfg.files_dir, strerror(errno));
	printf("store ready at %s\n", a->cfg.data_dir);
	return 0;
}

/* Issues a token for a supplier; prints it as the last line of output. */
int
admin_token_add(struct admin *a, const struct supplier *sup, const char *label, int64_t expires)
{
	struct store_txn *t;
	struct token_record rec = { 0 };
	unsigned char hash[TOKEN_HASH_LEN];
	char token[TOKEN_LEN + 1];
	uint64_t id;
	int rc;

	if ((rc = store_begin(a->store, 1, &t)) != STORE_OK)
		return store_fail(rc);
	auth_new_token(token);
	auth_hash(token, TOKEN_LEN, hash);
	store_counter_next(t, "token_seq", &id);
	rec.id = (uint32_t)id;
	rec.supplier = supplier_id(sup);
	rec.created_at = a->now;
	rec.expires_at = expires;
	snprintf(rec.label, sizeof(rec.label), "%s", label);
	store_token_put(t, hash, &rec);
	if ((rc = store_commit(t)) != STORE_OK)
		return store_fail(rc);
	printf("token %u for %s%s%s\n%s\n", rec.id, sup->slug, label[0] ? ", " : "", label, token);
	return 0;
}

static int
cmd_token_add(struct admin *a, int argc, char **argv)
{
	const struct supplier *sup;
	const char *label = "";
	int64_t expires = 0;

	if (argc < 1 || (sup = supplier_by_slug(argv[0], strlen(argv[0]))) == NULL)
		return fail("token add: SUPPLIER must be one of the supplier slugs");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--label") == 0 && i + 1 < argc) {
			label = argv[++i];
			if (valid_text(label, strlen(label), TOKEN_LABEL_MAX))
				return fail("token add: --label must be 1-%d printable ASCII characters", TOKEN_LABEL_MAX);
		} else if (strcmp(argv[i], "--expires") == 0 && i + 1 < argc) {
			const char *w = argv[++i];
			if (parse_timestamp(w, strlen(w), 1, &expires))
				return fail("token add: --expires must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
			if (expires <= a->now)
				return fail("token add: --expires is in the past");
		} else
			return fail("token add: unexpected argument %s", argv[i]);
	}
	if (admin_open(a, 0))
		return 1;
	return admin_token_add(a, sup, label, expires);
}

struct token_find {
	uint32_t id;
	unsigned char hash[TOKEN_HASH_LEN];
	struct token_record rec;
	int found;
	int64_t now;
};

static int
token_print(void *ctx, const unsigned char *hash, const struct token_record *r)
{
	struct token_find *f = ctx;
	char created[TIMESTAMP_LEN + 1], expires[TIMESTAMP_LEN + 1] = "never";
	(void)hash;

	format_timestamp(r->created_at, created);
	if (r->expires_at)
		format_timestamp(r->expires_at, expires);
	printf("%u\t%s\t%s\t%s\t%s\t%s\n", r->id, supplier_by_id(r->supplier)->slug,
	    r->label[0] ? r->label : "-", created, expires, auth_token_state(r, f->now));
	return 0;
}

static int
token_match(void *ctx, const unsigned char *hash, const struct token_record *r)
{
	struct token_find *f = ctx;

	if (r->id != f->id)
		return 0;
	memcpy(f->hash, hash, TOKEN_HASH_LEN);
	f->rec = *r;
	f->found = 1;
	return 1;
}

static int
cmd_token_list(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct token_find f = { .now = a->now };
	int rc;
	(void)argv;

	if (argc != 0)
		return fail("token list takes no argument");
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, &t)) != STORE_OK)
		return store_fail(rc);
	printf("ID\tSUPPLIER\tLABEL\tCREATED\tEXPIRES\tSTATE\n");
	rc = store_token_scan(t, token_print, &f);
	store_abort(t);
	return rc == STORE_OK ? 0 : store_fail(rc);
}

static int
cmd_token_revoke(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct token_find f = { 0 };
	uint64_t id;
	int rc;

	if (argc != 1 || parse_uint(argv[0], strlen(argv[0]), 1, UINT32_MAX, &id))
		return fail("token revoke: ID must be a token number as `token list` shows it");
	if (admin_open(a, 0))
		return 1;
	f.id = (uint32_t)id;
	if ((rc = store_begin(a->store, 1, &t)) != STORE_OK)
		return store_fail(rc);
	/* A scan failure leaves the transaction's sticky error: the commit below reports it. */
	if (store_token_scan(t, token_match, &f) == STORE_OK && f.found) {
		f.rec.revoked = 1;
		store_token_put(t, f.hash, &f.rec);
	}
	if (!f.found) {
		store_abort(t);
		return fail("token revoke: no token %u", f.id);
	}
	if ((rc = store_commit(t)) != STORE_OK)
		return store_fail(rc);
	printf("token %u revoked\n", f.id);
	return 0;
}

static int
cmd_token(struct admin *a, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "add") == 0)
		return cmd_token_add(a, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "list") == 0)
		return cmd_token_list(a, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "revoke") == 0)
		return cmd_token_revoke(a, argc - 1, argv + 1);
	return fail("token: expected add, list or revoke");
}

/* Bytes left to read in in when it is a regular file, else 0 (unknown). */
static uint64_t
input_size(FILE *in)
{
	struct stat st;
	off_t pos;

	if (fstat(fileno(in), &st) != 0 || !S_ISREG(st.st_mode) || (pos = ftello(in)) < 0 || pos >= st.st_size)
		return 0;
	return (uint64_t)(st.st_size - pos);
}

static int
cmd_import(struct admin *a, int argc, char **argv)
{
	FILE *in = stdin;
	const char *name = "-";
	int rc;

	if (argc > 1)
		return fail("import takes one FILE, or - for standard input");
	if (argc == 1 && strcmp(argv[0], "-") != 0) {
		name = argv[0];
		if ((in = fopen(name, "r")) == NULL)
			return fail("import: cannot open %s: %s", name, strerror(errno));
	}
	if (admin_open(a, 0)) {
		if (in != stdin)
			fclose(in);
		return 1;
	}
	rc = admin_import(a, in, name, input_size(in), NULL);
	if (in != stdin)
		fclose(in);
	return rc;
}

static int
parse_id_arg(int argc, char **argv, const char *cmd, uint64_t *inc, uint64_t *sp)
{
	if (argc != 1 || parse_menzzo_order_id(argv[0], strlen(argv[0]), inc, sp)) {
		fail("%s: ID must be a menzzo_order_id, {increment_id}_{sale_product_id}", cmd);
		return -1;
	}
	return 0;
}

static int
print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

/* Opens the store and a read transaction holding the sale product ID; 0 or 1 (reported). */
static int
load_sale(struct admin *a, uint64_t inc, uint64_t id, struct store_txn **t, struct sale_product *sp)
{
	int rc;

	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, t)) != STORE_OK)
		return store_fail(rc);
	rc = store_sale_get(*t, id, sp);
	if (rc == STORE_OK && sp->increment_id == inc)
		return 0;
	store_abort(*t);
	if (rc == STORE_OK || rc == STORE_NOTFOUND)
		return fail("no sale product %" PRIu64 "_%" PRIu64, inc, id);
	return store_fail(rc);
}

static int
cmd_show(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct sale_product sp;
	uint64_t inc, id;

	if (parse_id_arg(argc, argv, "show", &inc, &id) || load_sale(a, inc, id, &t, &sp))
		return 1;
	store_abort(t);
	return print_json(sale_full_json(&sp));
}

static int
print_record(void *ctx, uint64_t key, uint64_t seq, const char *json, size_t len)
{
	long *left = ctx;
	(void)key;
	(void)seq;
	if (*left == 0)
		return 1;
	if (*left > 0)
		(*left)--;
	fwrite(json, 1, len, stdout);
	putchar('\n');
	return 0;
}

static int
print_log(void *ctx, const struct log_entry *e)
{
	(void)ctx;
	return print_json(log_entry_json(e));
}

static int
cmd_log(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct sale_product sp;
	uint64_t inc, id;
	int rc;

	if (parse_id_arg(argc, argv, "log", &inc, &id) || load_sale(a, inc, id, &t, &sp))
		return 1;
	rc = store_log_scan(t, id, print_log, NULL);
	store_abort(t);
	return rc == STORE_OK ? 0 : store_fail(rc);
}

static int
cmd_cancel(struct admin *a, int argc, char **argv)
{
	struct action act = { .what = ACTION_CANCEL, .supplier = -1, .user = a->user };
	struct sale_product sp;
	int err = STORE_OK;

	if (parse_id_arg(argc, argv, "cancel", &act.increment_id, &act.sale_product_id) || admin_open(a, 0))
		return 1;
	act.now = a->now;
	switch (sale_apply(a->store, &act, &sp, &err)) {
	case ACTION_CHANGED:
		printf("%s cancelled\n", argv[0]);
		return 0;
	case ACTION_UNCHANGED:
		printf("%s was already cancelled\n", argv[0]);
		return 0;
	case ACTION_NOT_FOUND:
		return fail("no sale product %s", argv[0]);
	default:
		return store_fail(err);
	}
}

static int
cmd_events(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	uint64_t after = 0, n;
	long limit = -1;
	int rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--after") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "0") != 0 && parse_uint(argv[i], strlen(argv[i]), 1, UINT64_MAX, &after))
				return fail("events: --after must be an event seq");
		} else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "0") == 0)
				limit = 0;
			else if (parse_uint(argv[i], strlen(argv[i]), 1, 1000000000, &n))
				return fail("events: --limit must be a count");
			else
				limit = (long)n;
		} else
			return fail("events: unexpected argument %s", argv[i]);
	}
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, &t)) != STORE_OK)
		return store_fail(rc);
	rc = store_event_scan(t, after, print_record, &limit);
	store_abort(t);
	return rc == STORE_OK ? 0 : store_fail(rc);
}

static int
cmd_cache(struct admin *a, int argc, char **argv)
{
	uint64_t removed;
	int rc, all = argc == 2 && strcmp(argv[1], "--all") == 0;

	if (argc < 1 || strcmp(argv[0], "purge") != 0 || (argc == 2 && !all) || argc > 2)
		return fail("cache: expected `cache purge [--all]`");
	if ((rc = cache_purge(a->cfg.data_dir, all, a->now, &removed)) != STORE_OK)
		return fail("cache purge: %s", store_strerror(rc));
	printf("%" PRIu64 " cache entr%s removed\n", removed, removed == 1 ? "y" : "ies");
	return 0;
}

static int
cmd_stats(struct admin *a, int argc, char **argv)
{
	struct store_stats st;
	int rc;
	(void)argv;

	if (argc != 0)
		return fail("stats takes no argument");
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_stats(a->store, &st)) != STORE_OK)
		return store_fail(rc);
	printf("map_size\t%zu\nused_bytes\t%zu\npage_size\t%zu\nreaders\t%u/%u\nlast_txn\t%" PRIu64 "\n",
	    st.map_size, st.used_bytes, st.page_size, st.readers_used, st.readers_max, st.last_txn);
	for (int i = 0; i < 8; i++)
		printf("%s\t%" PRIu64 "\n", store_db_names[i], st.entries[i]);
	return 0;
}

static int
cmd_check(struct admin *a, int argc, char **argv)
{
	long problems;
	(void)argv;

	if (argc != 0)
		return fail("check takes no argument");
	if (admin_open(a, STORE_READONLY))
		return 1;
	problems = store_check(a->store, stdout);
	return problems == 0 ? 0 : 1;
}

static int
cmd_backup(struct admin *a, int argc, char **argv)
{
	int rc;

	if (argc != 1)
		return fail("backup: expected one DIR");
	if (admin_open(a, STORE_READONLY))
		return 1;
	rc = store_backup(a->store, argv[0]);
	if (rc == STORE_EXISTS)
		return fail("backup: %s already holds a backup; choose a new directory", argv[0]);
	if (rc != STORE_OK)
		return fail("backup: %s", store_strerror(rc));
	printf("backup written to %s\n", argv[0]);
	return 0;
}

static const struct command commands[] = {
	{ "init", "init", "Create the store (directory 0700, files 0600) and the files directory.", cmd_init },
	{ "token", "token add SUPPLIER [--label TEXT] [--expires YYYY-MM-DD|YYYY-MM-DDThh:mm:ssZ]\n"
	    "       token list\n       token revoke ID",
	    "Issue (printed once, last line), list or revoke API tokens. Tokens are stored only as hashes.", cmd_token },
	{ "import", "import [FILE|-]", "Upsert sale products from JSON Lines; report bad lines as `line N: reason`;\n"
	    "exit 1 if any line was rejected. Valid lines commit in one transaction.", cmd_import },
	{ "show", "show ID", "Print a sale product (ID = menzzo_order_id) as JSON.", cmd_show },
	{ "log", "log ID", "Print the sale log of a sale product, oldest first, one JSON object a line.", cmd_log },
	{ "cancel", "cancel ID", "Cancel a sale product (final); writes a sale-log entry and an event.", cmd_cancel },
	{ "events", "events [--after SEQ] [--limit N]", "Print the event outbox as JSON Lines, oldest first.", cmd_events },
	{ "cache", "cache purge [--all]", "Remove expired cached responses (all of them with --all).", cmd_cache },
	{ "stats", "stats", "Print the store's size and entry counts.", cmd_stats },
	{ "check", "check", "Check records against indexes, sale log and events; exit 1 on any disagreement.", cmd_check },
	{ "backup", "backup DIR", "Write a hot, consistent, compacted copy of the store into DIR (never overwrites).", cmd_backup },
	{ "demo", "demo", "Load the demo data set (sale products, label PDFs, one token per supplier).", admin_demo },
};

static void
usage(FILE *out)
{
	fputs("usage: menzzo-admin COMMAND [ARGS]   (menzzo-admin COMMAND --help)\n\ncommands:\n", out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fputs("\nThe store is MENZZO_DATA_DIR (default data/db); see README.md for every variable.\n", out);
}

int
main(int argc, char **argv)
{
	struct admin a = { 0 };
	char err[160];
	const char *user;
	int rc;

	umask(077);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		if (strcmp(argv[1], c->name) != 0)
			continue;
		for (int j = 2; j < argc; j++)
			if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0) {
				printf("usage: menzzo-admin %s\n\n%s\n", c->usage, c->help);
				return 0;
			}
		if (config_load(&a.cfg, err, sizeof(err)) != 0)
			return fail("%s", err);
		if (auth_init() != 0)
			return fail("cannot initialise libsodium");
		a.now = (int64_t)time(NULL);
		user = getenv("USER");
		a.user = user != NULL && valid_text(user, strlen(user), 32) == 0 ? user : "admin";
		rc = c->run(&a, argc - 2, argv + 2);
		store_close(a.store);
		return rc;
	}
	fprintf(stderr, "menzzo-admin: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
