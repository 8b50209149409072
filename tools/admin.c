/*
 * What every command of menzzo-admin shares (admin.h): its messages and exit
 * statuses, its options, and the opening of the store.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin.h"
#include "fault.h"
#include "validate.h"

static void
vsay(const char *fmt, va_list ap)
{
	fputs("menzzo-admin: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int
admin_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return 1;
}

int
admin_usage_error(const struct admin *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	fprintf(stderr, "usage: menzzo-admin %s\n", a->cmd->usage);
	return 2;
}

static const struct option option_table[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "expires", required_argument, NULL, OPT_EXPIRES },
	{ "after", required_argument, NULL, OPT_AFTER },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "backoffice", no_argument, NULL, OPT_BACKOFFICE },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "max-seconds", required_argument, NULL, OPT_MAX_SECONDS },
	{ "help", no_argument, NULL, 'h' },
};
#define OPTION_COUNT (sizeof(option_table) / sizeof(option_table[0]))

static const char *
option_name(int val)
{
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (option_table[i].val == val)
			return option_table[i].name;
	return "?";
}

int
admin_options(const struct admin *a, const char *what, int argc, char **argv, unsigned accept,
    struct options *o)
{
	struct option opts[OPTION_COUNT + 1];
	size_t n = 0;
	int c;

	memset(o, 0, sizeof(*o));
	memset(opts, 0, sizeof(opts));
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (option_table[i].val == 'h' || (accept & (unsigned)option_table[i].val & 0xffff))
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
		case OPT_BACKOFFICE: o->backoffice = 1; break;
		case OPT_FOLLOW: o->follow = 1; break;
		case OPT_FROM: o->from = optarg; break;
		case OPT_MAX_SECONDS: o->max_seconds = optarg; break;
		case OPT_LABEL: o->label = optarg; break;
		case OPT_EXPIRES: o->expires = optarg; break;
		case OPT_AFTER: o->after = optarg; break;
		case OPT_LIMIT: o->limit = optarg; break;
		case ':':
			return admin_usage_error(a, "%s: option --%s needs a value", what, option_name(optopt));
		default:
			if (optopt >= 0x100 || optopt == 'h')  /* --json=1 */
				return admin_usage_error(a, "%s: option --%s takes no value", what, option_name(optopt));
			if (optopt > 0)
				return admin_usage_error(a, "%s: unknown option -%c", what, optopt);
			return admin_usage_error(a, "%s: unknown option %s", what, argv[optind - 1]);
		}
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	return -1;
}

int
admin_no_options(const struct admin *a, int argc, char **argv, int max, struct options *o)
{
	int rc = admin_options(a, a->cmd->name, argc, argv, 0, o);

	if (rc >= 0)
		return rc;
	if (o->argc > max)
		return admin_usage_error(a, "%s: unexpected argument %s", a->cmd->name, o->argv[max]);
	return -1;
}

int
admin_dir_problem(const char *dir, int create)
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
		return admin_fail("%s", err);
	dir = a->cfg.data_dir;
	arm_fault_guard(dir);
	if ((rc = store_open(&a->store, dir, a->cfg.map_size, flags, why, sizeof(why))) == STORE_OK)
		return 0;
	/* store_open's sentence starts with the directory: say it once. */
	dlen = strlen(dir);
	cause = strncmp(why, dir, dlen) == 0 && strncmp(why + dlen, ": ", 2) == 0 ? why + dlen + 2 :
	    why[0] ? why : store_strerror(rc);
	if (rc != STORE_UNAVAILABLE)
		return admin_fail("cannot open the store at %s: %s", dir, cause);
	e = admin_dir_problem(dir, flags & STORE_CREATE);
	if (e == ENOENT)
		return admin_fail("no store at %s: %s (run `menzzo-admin init` first, or set MENZZO_DATA_DIR)", dir,
		    strerror(e));
	if (e != 0)
		return admin_fail("cannot open the store at %s: %s", dir, strerror(e));
	if (flags & STORE_CREATE)
		return admin_fail("cannot open the store at %s: %s", dir, store_strerror(rc));
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (access(path, R_OK) != 0 && errno != ENOENT)
		return admin_fail("cannot open the store at %s: data.mdb: %s", dir, strerror(errno));
	return admin_fail("no store at %s (run `menzzo-admin init` first, or set MENZZO_DATA_DIR)", dir);
}

int
admin_store_fail(int rc)
{
	return admin_fail("%s; nothing was written", store_strerror(rc));
}

int
admin_print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

int
admin_id_command(struct admin *a, int argc, char **argv, unsigned accept, uint64_t *inc, uint64_t *sp)
{
	struct options o;
	int rc;

	if ((rc = admin_options(a, a->cmd->name, argc, argv, accept, &o)) >= 0)
		return rc;
	if (o.argc != 1)
		return admin_usage_error(a, "%s: expected one ID", a->cmd->name);
	if (parse_menzzo_order_id(o.argv[0], strlen(o.argv[0]), inc, sp))
		return admin_usage_error(a, "%s: ID must be a menzzo_order_id, {increment_id}_{sale_product_id}", a->cmd->name);
	return -1;
}

int
admin_load_sale(struct admin *a, uint64_t inc, uint64_t id, struct store_txn **t, struct sale_product *sp)
{
	int rc;

	if (admin_open(a, STORE_READONLY))
		return 1;
	if ((rc = store_begin(a->store, 0, t)) != STORE_OK)
		return admin_store_fail(rc);
	rc = store_sale_get(*t, id, sp);
	if (rc == STORE_OK && sp->increment_id == inc)
		return 0;
	store_abort(*t);
	if (rc == STORE_OK || rc == STORE_NOTFOUND)
		return admin_fail("no sale product %" PRIu64 "_%" PRIu64, inc, id);
	return admin_store_fail(rc);
}
