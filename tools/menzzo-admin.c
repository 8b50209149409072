/*
 * menzzo-admin: the maintainer's tool, on the same store and the same
 * MENZZO_* environment as the endpoints (SPEC §4).  Errors go to standard
 * error with a non-zero exit status; `menzzo-admin COMMAND --help` on every
 * command.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin.h"
#include "auth.h"
#include "cache.h"
#include "check.h"
#include "clock.h"
#include "config.h"
#include "fault.h"
#include "item.h"
#include "progress.h"
#include "sales.h"
#include "store.h"
#include "supplier.h"
#include "token.h"
#include "validate.h"

struct command {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(struct admin *a, int argc, char **argv);
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const struct admin *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad_argument(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
vsay(const char *fmt, va_list ap)
{
	fputs("menzzo-admin: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Reports a failure of the work; returns the exit status 1. */
static int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return 1;
}

/* Reports a malformed command line, then the command's usage; returns the exit status 2. */
static int
usage_error(const struct admin *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	fprintf(stderr, "usage: menzzo-admin %s\n", a->cmd->usage);
	return 2;
}

/* Reports an argument of the wrong form or value; returns the exit status 2. */
static int
bad_argument(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return 2;
}

/*
 * Options.  Every command reads its own with getopt_long, in any order and
 * among its operands, as --name VALUE or --name=VALUE; --help and -h on
 * every command.
 */
enum {  /* getopt vals above any character; the low byte is a bit of a command's mask */
	OPT_JSON = 0x101,
	OPT_LABEL = 0x102,
	OPT_EXPIRES = 0x104,
	OPT_AFTER = 0x108,
	OPT_LIMIT = 0x110,
	OPT_ALL = 0x120,
};

static const struct option option_table[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "expires", required_argument, NULL, OPT_EXPIRES },
	{ "after", required_argument, NULL, OPT_AFTER },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "help", no_argument, NULL, 'h' },
};
#define OPTION_COUNT (sizeof(option_table) / sizeof(option_table[0]))

struct options {
	int json, all;
	const char *label, *expires, *after, *limit;  /* NULL when not given */
	int argc;                                     /* the operands */
	char **argv;
};

static const char *
option_name(int val)
{
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (option_table[i].val == val)
			return option_table[i].name;
	return "?";
}

/*
 * Reads the options of command what ("token add") from argv[1..argc), its
 * argv[0] being the command's name, accepting those of the mask accept:
 * fills o (operands in o->argv[0..o->argc)) and returns -1 to go on, or the
 * exit status to end with: 0 after printing the usage for --help, 2 after a
 * usage error.
 */
static int
parse_options(const struct admin *a, const char *what, int argc, char **argv, unsigned accept,
    struct options *o)
{
	struct option opts[OPTION_COUNT + 1];
	size_t n = 0;
	int c;

	memset(o, 0, sizeof(*o));
	memset(opts, 0, sizeof(opts));
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (option_table[i].val == 'h' || (accept & (unsigned)option_table[i].val & 0xff))
			opts[n++] = option_table[i];
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("usage: menzzo-admin %s\n\n%s\n", a->cmd->usage, a->cmd->help);
			return 0;
		case OPT_JSON: o->json = 1; break;
		case OPT_ALL: o->all = 1; break;
		case OPT_LABEL: o->label = optarg; break;
		case OPT_EXPIRES: o->expires = optarg; break;
		case OPT_AFTER: o->after = optarg; break;
		case OPT_LIMIT: o->limit = optarg; break;
		case ':':
			return usage_error(a, "%s: option --%s needs a value", what, option_name(optopt));
		default:
			if (optopt >= 0x100 || optopt == 'h')  /* --json=1 */
				return usage_error(a, "%s: option --%s takes no value", what, option_name(optopt));
			if (optopt > 0)
				return usage_error(a, "%s: unknown option -%c", what, optopt);
			return usage_error(a, "%s: unknown option %s", what, argv[optind - 1]);
		}
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	return -1;
}

/* For commands without options of their own: --help, and no operands beyond max. */
static int
no_options(const struct admin *a, int argc, char **argv, int max, struct options *o)
{
	int rc = parse_options(a, a->cmd->name, argc, argv, 0, o);

	if (rc >= 0)
		return rc;
	if (o->argc > max)
		return usage_error(a, "%s: unexpected argument %s", a->cmd->name, o->argv[max]);
	return -1;
}

/*
 * Why dir cannot be opened as a store, or (create) made one, in system
 * terms: an errno, or 0 when the file system shows no reason.  A directory
 * to be created needs its nearest existing ancestor to be a writable
 * directory.
 */
static int
dir_problem(const char *dir, int create)
{
	struct stat st;
	char path[4096];
	size_t len = strlen(dir);

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return ENOTDIR;
		return access(dir, (create ? W_OK : R_OK) | X_OK) == 0 ? 0 : errno;
	}
	if (errno != ENOENT || !create)
		return errno;
	if (len >= sizeof(path))
		return ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (;;) {
		char *slash;

		while (len > 1 && path[len - 1] == '/')
			path[--len] = '\0';
		if ((slash = strrchr(path, '/')) == NULL)
			snprintf(path, sizeof(path), ".");  /* "db": the current directory */
		else if (slash == path)
			path[1] = '\0';                     /* "/db": the root */
		else
			*slash = '\0';
		if (stat(path, &st) == 0)
			return !S_ISDIR(st.st_mode) ? ENOTDIR : access(path, W_OK | X_OK) == 0 ? 0 : errno;
		if (errno != ENOENT || strcmp(path, ".") == 0 || strcmp(path, "/") == 0)
			return errno;
		len = strlen(path);
	}
}

/* A fault reading the mapped store is a message and exit status 3, not a crash. */
static void
arm_fault_guard(const char *dir)
{
	char msg[4400];

	snprintf(msg, sizeof(msg), "menzzo-admin: the store at %s is damaged or truncated (a fault reading it); "
	    "nothing more was written\n", dir);
	fault_guard_arm(1, "", 0, msg, strlen(msg), 3);
}

int
admin_open(struct admin *a, int flags)
{
	char err[160], path[4200], why[320];
	const char *dir, *cause;
	size_t dlen;
	int rc, e;

	if (config_load(&a->cfg, err, sizeof(err)) != 0)
		return fail("%s", err);
	dir = a->cfg.data_dir;
	arm_fault_guard(dir);
	if ((rc = store_open(&a->store, dir, a->cfg.map_size, flags, why, sizeof(why))) == STORE_OK)
		return 0;
	/* store_open's sentence starts with the directory: say it once. */
	dlen = strlen(dir);
	cause = strncmp(why, dir, dlen) == 0 && strncmp(why + dlen, ": ", 2) == 0 ? why + dlen + 2 :
	    why[0] ? why : store_strerror(rc);
	if (rc != STORE_UNAVAILABLE)
		return fail("cannot open the store at %s: %s", dir, cause);
	e = dir_problem(dir, flags & STORE_CREATE);
	if (e == ENOENT)
		return fail("no store at %s: %s (run `menzzo-admin init` first, or set MENZZO_DATA_DIR)", dir,
		    strerror(e));
	if (e != 0)
		return fail("cannot open the store at %s: %s", dir, strerror(e));
	if (flags & STORE_CREATE)
		return fail("cannot open the store at %s: %s", dir, store_strerror(rc));
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (access(path, R_OK) != 0 && errno != ENOENT)
		return fail("cannot open the store at %s: data.mdb: %s", dir, strerror(errno));
	return fail("no store at %s (run `menzzo-admin init` first, or set MENZZO_DATA_DIR)", dir);
}

static int
store_fail(int rc)
{
	return fail("%s; nothing was written", store_strerror(rc));
}

static int
cmd_init(struct admin *a, int argc, char **argv)
{
	struct options o;
	int rc;

	if ((rc = no_options(a, argc, argv, 0, &o)) >= 0)
		return rc;
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

/* The slugs of the supplier table, "asir-group, notio". */
static void
supplier_slugs(char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < supplier_count && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? ", " : "", suppliers[i].slug);
}

static int
cmd_token_add(struct admin *a, int argc, char **argv)
{
	const struct supplier *sup;
	struct options o;
	const char *label = "";
	int64_t expires = 0;
	char slugs[256];
	int rc;

	if ((rc = parse_options(a, "token add", argc, argv, OPT_LABEL | OPT_EXPIRES, &o)) >= 0)
		return rc;
	supplier_slugs(slugs, sizeof(slugs));
	if (o.argc < 1)
		return usage_error(a, "token add: SUPPLIER must be one of %s", slugs);
	if ((sup = supplier_by_slug(o.argv[0], strlen(o.argv[0]))) == NULL)
		return bad_argument("token add: SUPPLIER must be one of %s", slugs);
	if (o.argc > 1)
		return usage_error(a, "token add: unexpected argument %s", o.argv[1]);
	if (o.label != NULL) {
		label = o.label;
		if (valid_text(label, strlen(label), TOKEN_LABEL_MAX))
			return bad_argument("token add: --label must be 1-%d printable ASCII characters", TOKEN_LABEL_MAX);
	}
	if (o.expires != NULL) {
		if (parse_timestamp(o.expires, strlen(o.expires), 1, &expires))
			return bad_argument("token add: --expires must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
		if (expires <= a->now)
			return bad_argument("token add: --expires is in the past");
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
	int json;
};

static int
print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

static int
token_print(void *ctx, const unsigned char *hash, const struct token_record *r)
{
	struct token_find *f = ctx;
	char created[TIMESTAMP_LEN + 1], expires[TIMESTAMP_LEN + 1] = "never";
	struct json_object *o;
	(void)hash;

	if (f->json) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(r->id));
		json_object_object_add(o, "supplier", json_object_new_string(supplier_by_id(r->supplier)->slug));
		json_object_object_add(o, "label", r->label[0] ? json_object_new_string(r->label) : NULL);
		json_object_object_add(o, "created", timestamp_json(r->created_at));
		json_object_object_add(o, "expires", timestamp_json(r->expires_at));
		json_object_object_add(o, "state", json_object_new_string(auth_token_state(r, f->now)));
		return print_json(o);
	}
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
	return STORE_STOP;
}

static int
cmd_token_list(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct token_find f = { .now = a->now };
	struct options o;
	int rc;

	if ((rc = parse_options(a, "token list", argc, argv, OPT_JSON, &o)) >= 0)
		return rc;
	if (o.argc != 0)
		return usage_error(a, "token list takes no argument");
	f.json = o.json;
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, &t)) != STORE_OK)
		return store_fail(rc);
	if (!f.json)
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
	struct options o;
	uint64_t id;
	int rc;

	if ((rc = parse_options(a, "token revoke", argc, argv, 0, &o)) >= 0)
		return rc;
	if (o.argc != 1)
		return usage_error(a, "token revoke: expected one ID");
	if (parse_uint(o.argv[0], strlen(o.argv[0]), 1, UINT32_MAX, &id))
		return bad_argument("token revoke: ID must be a token number as `token list` shows it");
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
	struct options o;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return cmd_token_add(a, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_token_list(a, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return cmd_token_revoke(a, argc - 1, argv + 1);
	if ((rc = parse_options(a, "token", argc, argv, 0, &o)) >= 0)
		return rc;
	return usage_error(a, "token: expected add, list or revoke");
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
	struct options o;
	FILE *in = stdin;
	const char *name = "-";
	int rc;

	if ((rc = parse_options(a, "import", argc, argv, 0, &o)) >= 0)
		return rc;
	if (o.argc > 1)
		return usage_error(a, "import takes one FILE, or - for standard input");
	if (o.argc == 1 && strcmp(o.argv[0], "-") != 0) {
		name = o.argv[0];
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

/* The options of show, log and cancel, and their one ID; -1 to go on, else the exit status. */
static int
id_command(struct admin *a, int argc, char **argv, unsigned accept, uint64_t *inc, uint64_t *sp)
{
	struct options o;
	int rc;

	if ((rc = parse_options(a, a->cmd->name, argc, argv, accept, &o)) >= 0)
		return rc;
	if (o.argc != 1)
		return usage_error(a, "%s: expected one ID", a->cmd->name);
	if (parse_menzzo_order_id(o.argv[0], strlen(o.argv[0]), inc, sp))
		return bad_argument("%s: ID must be a menzzo_order_id, {increment_id}_{sale_product_id}", a->cmd->name);
	return -1;
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

/* show ID [--json]: the output is JSON with or without it; the shipment's packages last. */
static int
cmd_show(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct sale_product sp;
	uint64_t inc = 0, id = 0;
	int rc;
	struct package_list packages;
	struct json_object *o;

	if ((rc = id_command(a, argc, argv, OPT_JSON, &inc, &id)) >= 0)
		return rc;
	if (load_sale(a, inc, id, &t, &sp))
		return 1;
	rc = store_shipment_get(t, id, &packages);
	store_abort(t);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return store_fail(rc);
	o = sale_full_json(&sp);
	json_object_object_add(o, "packages", packages_json(&sp, rc == STORE_OK ? &packages : NULL));
	return print_json(o);
}

static int
print_event(void *ctx, uint64_t seq, const char *json, size_t len)
{
	long *left = ctx;
	(void)seq;
	if (*left == 0)
		return STORE_STOP;
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

/* log ID [--json]: JSON Lines with or without it. */
static int
cmd_log(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct sale_product sp;
	uint64_t inc = 0, id = 0;
	int rc;

	if ((rc = id_command(a, argc, argv, OPT_JSON, &inc, &id)) >= 0)
		return rc;
	if (load_sale(a, inc, id, &t, &sp))
		return 1;
	rc = store_log_scan(t, id, print_log, NULL);
	store_abort(t);
	return rc == STORE_OK ? 0 : store_fail(rc);
}

/* cancel ID and reopen ID: a change made by the maintainer, whatever the supplier. */
static int
admin_change(struct admin *a, int argc, char **argv, enum sale_action what, const char *done, const char *repeat)
{
	struct action act = { .what = what, .supplier = -1, .user = a->user };
	struct sale_product sp;
	int err = STORE_OK, rc;

	if ((rc = id_command(a, argc, argv, 0, &act.increment_id, &act.sale_product_id)) >= 0)
		return rc;
	if (admin_open(a, 0))
		return 1;
	act.now = a->now;
	switch (sale_apply(a->store, &act, &sp, &err)) {
	case ACTION_CHANGED:
		printf("%" PRIu64 "_%" PRIu64 " %s\n", act.increment_id, act.sale_product_id, done);
		return 0;
	case ACTION_UNCHANGED:
		printf("%" PRIu64 "_%" PRIu64 " %s\n", act.increment_id, act.sale_product_id, repeat);
		return 0;
	case ACTION_NOT_FOUND:
		return fail("no sale product %" PRIu64 "_%" PRIu64, act.increment_id, act.sale_product_id);
	case ACTION_NOT_REFUSED:
		return fail("%" PRIu64 "_%" PRIu64 " is %s, not refused: nothing to reopen", act.increment_id,
		    act.sale_product_id, status_name(sp.status));
	default:
		return store_fail(err);
	}
}

static int
cmd_cancel(struct admin *a, int argc, char **argv)
{
	return admin_change(a, argc, argv, ACTION_CANCEL, "cancelled", "was already cancelled");
}

static int
cmd_reopen(struct admin *a, int argc, char **argv)
{
	return admin_change(a, argc, argv, ACTION_REOPEN, "reopened: pending again", "was not refused");
}

/* events [--after SEQ] [--limit N] [--json]: JSON Lines with or without --json. */
static int
cmd_events(struct admin *a, int argc, char **argv)
{
	struct store_txn *t;
	struct options o;
	uint64_t after = 0, n;
	long limit = -1;
	int rc;

	if ((rc = parse_options(a, "events", argc, argv, OPT_AFTER | OPT_LIMIT | OPT_JSON, &o)) >= 0)
		return rc;
	if (o.argc != 0)
		return usage_error(a, "events: unexpected argument %s", o.argv[0]);
	if (o.after != NULL && strcmp(o.after, "0") != 0 &&
	    parse_uint(o.after, strlen(o.after), 1, UINT64_MAX, &after))
		return bad_argument("events: --after must be an event seq");
	if (o.limit != NULL) {
		if (strcmp(o.limit, "0") == 0)
			limit = 0;
		else if (parse_uint(o.limit, strlen(o.limit), 1, 1000000000, &n))
			return bad_argument("events: --limit must be a count");
		else
			limit = (long)n;
	}
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, &t)) != STORE_OK)
		return store_fail(rc);
	rc = store_event_scan(t, after, print_event, &limit);
	store_abort(t);
	return rc == STORE_OK ? 0 : store_fail(rc);
}

static int
cmd_cache(struct admin *a, int argc, char **argv)
{
	struct options o;
	uint64_t removed;
	char err[160];
	int rc;

	if ((rc = parse_options(a, "cache", argc, argv, OPT_ALL, &o)) >= 0)
		return rc;
	if (o.argc != 1 || strcmp(o.argv[0], "purge") != 0)
		return usage_error(a, "cache: expected `cache purge [--all]`");
	if (config_load(&a->cfg, err, sizeof(err)) != 0)
		return fail("%s", err);
	if ((rc = cache_purge(a->cfg.cache_dir, o.all, a->now, &removed)) != STORE_OK)
		return fail("cache purge: %s", store_strerror(rc));
	printf("%" PRIu64 " cache entr%s removed\n", removed, removed == 1 ? "y" : "ies");
	return 0;
}

/* One size line of `stats`, human-readable ("used_bytes\t1.2 MiB"). */
static void
stats_size(const char *name, size_t bytes)
{
	char h[32];

	format_bytes(bytes, h, sizeof(h));
	printf("%s\t%s\n", name, h);
}

static int
cmd_stats(struct admin *a, int argc, char **argv)
{
	struct store_stats st;
	struct options o;
	int rc;

	if ((rc = parse_options(a, "stats", argc, argv, OPT_JSON, &o)) >= 0)
		return rc;
	if (o.argc != 0)
		return usage_error(a, "stats takes no argument");
	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_stats(a->store, &st)) != STORE_OK)
		return store_fail(rc);
	if (o.json) {
		struct json_object *j = json_object_new_object(), *e = json_object_new_object();

		json_object_object_add(j, "map_size", json_object_new_uint64(st.map_size));
		json_object_object_add(j, "used_bytes", json_object_new_uint64(st.used_bytes));
		json_object_object_add(j, "page_size", json_object_new_uint64(st.page_size));
		json_object_object_add(j, "readers_used", json_object_new_uint64(st.readers_used));
		json_object_object_add(j, "readers_max", json_object_new_uint64(st.readers_max));
		json_object_object_add(j, "last_txn", json_object_new_uint64(st.last_txn));
		for (int i = 0; i < STORE_DB_COUNT; i++)
			json_object_object_add(e, store_db_names[i], json_object_new_uint64(st.entries[i]));
		json_object_object_add(j, "entries", e);
		json_object_object_add(j, "refused", json_object_new_uint64(st.refused));
		return print_json(j);
	}
	stats_size("map_size", st.map_size);
	stats_size("used_bytes", st.used_bytes);
	stats_size("page_size", st.page_size);
	printf("readers\t%u/%u\nlast_txn\t%" PRIu64 "\n", st.readers_used, st.readers_max, st.last_txn);
	for (int i = 0; i < STORE_DB_COUNT; i++)
		printf("%s\t%" PRIu64 "\n", store_db_names[i], st.entries[i]);
	printf("refused\t%" PRIu64 "\n", st.refused);
	return 0;
}

/* What the child of check shares with its parent: how far it got. */
struct check_progress {
	struct progress pr;
	volatile uint64_t done, total;
};

static void
note_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct check_progress *p = ctx;

	p->done = done;
	p->total = total;
	progress_cb(&p->pr, done, total);
}

/* In the child: opens the store and walks it; the exit status is check's. */
static void
check_walk(struct admin *a, struct check_progress *p)
{
	char err[160], why[320];
	long problems;
	int rc;

	/* A fault kills the walk; the parent reports it (no handler here, not even a sanitizer's). */
	fault_guard_disarm();
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	if (config_load(&a->cfg, err, sizeof(err)) != 0) {
		fail("%s", err);
		_exit(2);
	}
	rc = store_open(&a->store, a->cfg.data_dir, a->cfg.map_size, STORE_READONLY, why, sizeof(why));
	if (rc == STORE_CORRUPT) {
		printf("check: store damaged: %s\n", why);
		fflush(stdout);
		_exit(3);
	}
	if (rc != STORE_OK && admin_open(a, STORE_READONLY))
		_exit(2);
	progress_start(&p->pr, "check", "records", 0);
	problems = store_check(a->store, progress_stream(&p->pr, stdout), note_progress, p);
	progress_end(&p->pr);
	fflush(stdout);
	_exit(problems == 0 ? 0 : problems > 0 ? 1 : problems == -STORE_CORRUPT ? 3 : 2);
}

/*
 * The walk runs in a child process that opens the store itself: a damaged
 * page that sends LMDB astray kills the child, not the report.  Exit status
 * 0 clean, 1 inconsistent, 3 damaged (the walk faulted, or LMDB found a
 * page it could not read), 2 when the store could not be checked at all.
 */
static int
cmd_check(struct admin *a, int argc, char **argv)
{
	struct check_progress *p;
	struct options o;
	pid_t pid;
	int rc, status;

	if ((rc = parse_options(a, "check", argc, argv, 0, &o)) >= 0)
		return rc;
	if (o.argc != 0)
		return usage_error(a, "check takes no argument");
	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("check: %s", strerror(errno));
	fflush(stdout);
	if ((pid = fork()) < 0)
		return fail("check: cannot start the walk: %s", strerror(errno));
	if (pid == 0)
		check_walk(a, p);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail("check: %s", strerror(errno));
	if (WIFSIGNALED(status)) {
		if (isatty(2))
			fputs("\r\033[K", stderr); /* the walk's progress line, left unfinished */
		printf("check: store damaged: the walk died of %s after %" PRIu64 " of about %" PRIu64
		    " entries checked\n", strsignal(WTERMSIG(status)), p->done, p->total);
		munmap(p, sizeof(*p));
		return 3;
	}
	munmap(p, sizeof(*p));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

static int
cmd_backup(struct admin *a, int argc, char **argv)
{
	struct progress pr;
	struct options o;
	const char *dir;
	int rc, e;

	if ((rc = parse_options(a, "backup", argc, argv, 0, &o)) >= 0)
		return rc;
	if (o.argc != 1)
		return usage_error(a, "backup: expected one DIR");
	dir = o.argv[0];
	if (admin_open(a, STORE_READONLY))
		return 1;
	progress_start_bytes(&pr, "backup", NULL, 0);
	rc = store_backup(a->store, dir, progress_cb, &pr);
	progress_end(&pr);
	if (rc == STORE_EXISTS)
		return fail("backup: %s already holds a backup; choose a new directory", dir);
	if (rc == STORE_UNAVAILABLE && (e = dir_problem(dir, 1)) != 0)
		return fail("backup: cannot write to %s: %s", dir, strerror(e));
	if (rc != STORE_OK)
		return fail("backup: %s", store_strerror(rc));
	printf("backup written to %s\n", dir);
	return 0;
}

/* demo: its options here, its work in demo.c. */
static int
cmd_demo(struct admin *a, int argc, char **argv)
{
	struct options o;
	int rc;

	if ((rc = no_options(a, argc, argv, 0, &o)) >= 0)
		return rc;
	return admin_demo(a, o.argc, o.argv);
}

static const struct command commands[] = {
	{ "init", "init", "Create the store (directory 0700, files 0600) and the files directory.", cmd_init },
	{ "token", "token add SUPPLIER [--label TEXT] [--expires YYYY-MM-DD|YYYY-MM-DDThh:mm:ssZ]\n"
	    "       token list [--json]\n       token revoke ID",
	    "Issue (printed once, last line), list or revoke API tokens. Tokens are stored only as hashes.\n"
	    "--json: one JSON object a line (id, supplier, label, created, expires, state).", cmd_token },
	{ "import", "import [FILE|-]", "Upsert sale products from JSON Lines; report bad lines as `line N: reason`;\n"
	    "exit 1 if any line was rejected. Valid lines commit in one transaction. A line may carry\n"
	    "status refused with reason, refused_at and note (migrations).\n"
	    "On a terminal, standard error shows the progress.", cmd_import },
	{ "show", "show ID [--json]", "Print a sale product (ID = menzzo_order_id) as JSON.", cmd_show },
	{ "log", "log ID [--json]", "Print the sale log of a sale product, oldest first, one JSON object a line.", cmd_log },
	{ "cancel", "cancel ID", "Cancel a sale product (final; refused ones too); writes a sale-log entry and an event.",
	    cmd_cancel },
	{ "reopen", "reopen ID", "Put a refused sale product back to pending (refused_at and acknowledged_at null\n"
	    "again); writes a sale-log entry (reopened) and an event (sale.reopened). The sale log keeps\n"
	    "the refusal.", cmd_reopen },
	{ "events", "events [--after SEQ] [--limit N] [--json]", "Print the event outbox as JSON Lines, oldest first.",
	    cmd_events },
	{ "cache", "cache purge [--all]", "Remove expired cached responses (all of them with --all).", cmd_cache },
	{ "stats", "stats [--json]", "Print the store's size (human-readable), entry counts and the number of\n"
	    "refused sale products, one tab-separated pair a line; --json: one JSON object with exact\n"
	    "byte counts.", cmd_stats },
	{ "check", "check", "Check records (refused ones included) against indexes, sale log, events and\n"
	    "shipments; exit 1 on any disagreement.", cmd_check },
	{ "backup", "backup DIR", "Write a hot, consistent, compacted copy of the store into DIR (never overwrites).", cmd_backup },
	{ "demo", "demo", "Load the demo data set (sale products, label PDFs, one token per supplier).", cmd_demo },
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
		if (auth_init() != 0)
			return fail("cannot initialise libsodium");
		a.cmd = c;
		a.now = clock_now();
		user = getenv("USER");
		a.user = user != NULL && valid_text(user, strlen(user), 32) == 0 ? user : "admin";
		rc = c->run(&a, argc - 1, argv + 1);
		store_close(a.store);
		return rc;
	}
	fprintf(stderr, "menzzo-admin: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
