/*
 * PUT /api/backoffice/files/{path}: the back office uploads a shipping-label
 * PDF (SPEC §8) to the files directory, where GET /api/files/{path} serves
 * it, and the suppliers hear of it: a sale.label_ready event for each sale
 * product whose label is that path.
 *
 * The path is a label path (valid_label_path, as GET reads it), whose
 * directories are created as needed; each one, as it is reached, must
 * resolve inside the files directory (a symlink may lead elsewhere inside
 * it, never out).  The body is written to a temporary file beside the
 * label, whose name the label grammar refuses (so that nothing ever serves
 * it), and made durable; then, in one store write transaction, the events
 * are written, the temporary file renamed over the label and the directory
 * made durable, and the transaction committed.  The old file is kept as a
 * second link until the commit is durable: a failure puts it back, and
 * nothing is changed.  A process killed between the rename and the commit
 * leaves the new file without its events; sending the file again writes
 * them (docs/decisions.md).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "cgi.h"
#include "sale_rules.h"
#include "validate.h"

/* A temporary file, and the old label kept until the commit: '~' is outside the label grammar. */
#define UPLOAD_PREFIX ".menzzo-upload~"
#define PREVIOUS_PREFIX ".menzzo-previous~"
#define SIDE_NAME_MAX 40

/* Whether the Content-Type is application/pdf (parameters after ';' aside). */
static int
pdf_type(const char *ct)
{
	static const char pdf[] = "application/pdf";

	return ct != NULL && strcspn(ct, "; \t") == sizeof(pdf) - 1 && strncasecmp(ct, pdf, sizeof(pdf) - 1) == 0;
}

static void
invalid_path(struct cgi *c, const char *message)
{
	response_error(&c->res, 400, "invalid_parameter", message);
}

/* The 503 of a failed step on the files directory (errno err), the step and the path named in the log. */
static void
disk_error(struct cgi *c, int err, const char *step, const char *path)
{
	char why[PATH_MAX + 128];

	snprintf(why, sizeof(why), "files directory: %s %s: %s", step, path, strerror(err));
	if (err == ENOSPC || err == EDQUOT) {
		response_error_why(&c->res, 503, "storage_full",
		    "The files directory is full; nothing was changed. Retry later.", why);
		response_header(&c->res, "Retry-After", "60");
	} else {
		response_error_why(&c->res, 503, "storage_unavailable",
		    "The files directory is unavailable; nothing was changed. Retry later.", why);
		response_header(&c->res, "Retry-After", "30");
	}
}

/* 1 when real is root or inside it. */
static int
inside(const char *root, const char *real)
{
	size_t n = strlen(root);

	return strncmp(real, root, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

/*
 * Opens the directory the label goes in (its segments but the last, under
 * the files directory), creating those missing with the files directory's
 * own mode, each made durable in its parent.  Returns the directory's
 * descriptor with *base the label's last segment, or -1 with the response
 * set: 400 for a path that leads out of the files directory or through a
 * file, 503 when the files directory cannot be read or written.
 */
static int
open_label_dir(struct cgi *c, const char *label, const char **base)
{
	char root[PATH_MAX], dir[PATH_MAX], next[PATH_MAX];
	const char *seg = label, *slash;
	struct stat st;
	int fd;

	if (realpath(c->cfg.files_dir, root) == NULL || stat(root, &st) != 0) {
		disk_error(c, errno, "open", c->cfg.files_dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		disk_error(c, ENOTDIR, "open", c->cfg.files_dir);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", root);
	for (; (slash = strchr(seg, '/')) != NULL; seg = slash + 1) {
		if ((size_t)snprintf(next, sizeof(next), "%s/%.*s", dir, (int)(slash - seg), seg) >= sizeof(next)) {
			invalid_path(c, "The path is too long for the files directory.");
			return -1;
		}
		if (mkdir(next, st.st_mode & 07777) == 0) {
			if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) != 0) {
				disk_error(c, errno, "sync", dir);
				if (fd >= 0)
					close(fd);
				return -1;
			}
			close(fd);
		} else if (errno == ENOTDIR) {
			invalid_path(c, "A directory of the path is a file of the files directory.");
			return -1;
		} else if (errno != EEXIST) {
			disk_error(c, errno, "mkdir", next);
			return -1;
		}
		/* Symlinks inside the files directory may point anywhere inside it, never out. */
		if (realpath(next, dir) == NULL) {
			if (errno == ENOTDIR || errno == ENOENT || errno == ELOOP)
				invalid_path(c, "A directory of the path is a file or a broken link of the files directory.");
			else
				disk_error(c, errno, "resolve", next);
			return -1;
		}
		if (!inside(root, dir)) {
			invalid_path(c, "The path leads out of the files directory.");
			return -1;
		}
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOTDIR)
			invalid_path(c, "A directory of the path is a file of the files directory.");
		else
			disk_error(c, errno, "open", dir);
		return -1;
	}
	*base = seg;
	return fd;
}

/* name: prefix and 16 random hex digits. */
static void
side_name(const char *prefix, char name[SIDE_NAME_MAX])
{
	unsigned char raw[8];
	char hex[2 * sizeof(raw) + 1];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	snprintf(name, SIDE_NAME_MAX, "%s%s", prefix, hex);
}

/* A new file of dirfd under a side name (UPLOAD_PREFIX), open for writing; -1 with errno. */
static int
create_temp(int dirfd, char name[SIDE_NAME_MAX])
{
	for (int tries = 0; tries < 8; tries++) {
		int fd;

		side_name(UPLOAD_PREFIX, name);
		if ((fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666)) >= 0 ||
		    errno != EEXIST)
			return fd;
	}
	return -1;
}

/* A second name (PREVIOUS_PREFIX) for the file base of dirfd, in name: 0, or -1 with errno. */
static int
link_previous(int dirfd, const char *base, char name[SIDE_NAME_MAX])
{
	for (int tries = 0; tries < 8; tries++) {
		side_name(PREVIOUS_PREFIX, name);
		if (linkat(dirfd, base, dirfd, name, 0) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	name[0] = '\0';
	return -1;
}

/*
 * The body into a new temporary file of dirfd, written whole and made
 * durable: 0 with its name in tmp, or -1 with errno (nothing left behind).
 */
static int
write_temp(int dirfd, const char *body, size_t len, char tmp[SIDE_NAME_MAX])
{
	int fd, err;

	if ((fd = create_temp(dirfd, tmp)) < 0)
		return -1;
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, body + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			goto fail;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0) {
		err = errno;
		goto fail;
	}
	if (close(fd) != 0) {
		err = errno;
		unlinkat(dirfd, tmp, 0);
		errno = err;
		return -1;
	}
	return 0;
fail:
	close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = err;
	return -1;
}

/* In t, a sale.label_ready event for each sale product of this label (*n of them).  STORE_OK or the error. */
static int
label_ready_events(struct store_txn *t, const char *label, int64_t now, unsigned long *n)
{
	struct sale_iter it;

	*n = 0;
	for (int more = store_label_sales_first(t, label, strlen(label), &it); more; more = store_sales_next(&it)) {
		if (sale_event_write(t, "sale.label_ready", &it.sp, now) != STORE_OK)
			break;
		(*n)++;
	}
	return store_txn_error(t);
}

/*
 * After the rename, the label's place as it was: the old file back from
 * its second name prev, or no file when there was none (created).  Without
 * a second name (the file system refused one) the new file stays.
 */
static void
put_back(struct cgi *c, int dirfd, const char *base, const char *prev, int created)
{
	if ((prev[0] && renameat(dirfd, prev, dirfd, base) != 0) || (created && unlinkat(dirfd, base, 0) != 0) ||
	    fsync(dirfd) != 0)
		response_log(&c->res, "files directory: %s: the old state could not be put back: %s", base,
		    strerror(errno));
	else if (!prev[0] && !created)
		response_log(&c->res, "files directory: %s: the new file stays, without its events", base);
}

/*
 * The label's place in dirfd becomes the file tmp, and t (the events) is
 * committed, or neither: the old file (if any) keeps a second name until
 * the commit is durable, and is put back when something fails.  *created
 * 1 when there was no file.  Returns 0, or -1 with the response set (400
 * for a directory in the label's place, else 503) and t ended.
 */
static int
replace_and_commit(struct cgi *c, struct store_txn *t, int dirfd, const char *base, const char *tmp, int *created)
{
	char prev[SIDE_NAME_MAX] = "";
	struct stat st;
	int rc;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode)) {
			invalid_path(c, "The path names a directory of the files directory.");
			goto fail;
		}
		*created = 0;
		/* A file system that refuses the second name (hard links) still takes the new file. */
		if (link_previous(dirfd, base, prev) != 0) {
			if (errno != EPERM && errno != EMLINK && errno != EOPNOTSUPP) {
				disk_error(c, errno, "link", base);
				goto fail;
			}
			response_log(&c->res, "files directory: %s: the old file cannot be kept until the commit: %s",
			    base, strerror(errno));
		}
	} else if (errno == ENOENT)
		*created = 1;
	else {
		disk_error(c, errno, "stat", base);
		goto fail;
	}
	if (renameat(dirfd, tmp, dirfd, base) != 0) {
		disk_error(c, errno, "rename", base);
		goto fail;
	}
	if (fsync(dirfd) != 0) {
		disk_error(c, errno, "sync", base);
		store_abort(t);
		put_back(c, dirfd, base, prev, *created);
		return -1;
	}
	if ((rc = store_commit(t)) != STORE_OK) {
		cgi_store_error(c, rc);
		put_back(c, dirfd, base, prev, *created);
		return -1;
	}
	if (prev[0])
		unlinkat(dirfd, prev, 0);
	return 0;
fail:
	store_abort(t);
	unlinkat(dirfd, tmp, 0);
	if (prev[0])
		unlinkat(dirfd, prev, 0);
	return -1;
}

/*
 * PUT /api/backoffice/files/{path} (back-office tokens): 201 {"success",
 * "path", "bytes", "created": true, "label_ready"} when the label is new,
 * 200 with "created": false when it replaced one; label_ready counts the
 * sale.label_ready events written (one per sale product of the label, any
 * supplier's, whatever its status).  400 invalid_parameter for a path
 * outside the label grammar, leading out of the files directory, through
 * a file, or naming a directory; 400 invalid_body for another Content-Type
 * than application/pdf or a body that does not start with "%PDF-"; 413
 * over 16 MiB; 503 when the files directory or the store is full or
 * unavailable.  Nothing is changed by any answer but a 200 or a 201.
 */
void
backoffice_files_handle(struct cgi *c)
{
	const char *label = c->req.path_info, *base;
	char tmp[SIDE_NAME_MAX];
	struct json_object *o;
	struct store_txn *t;
	unsigned long events;
	int dirfd, rc, created = 0;

	if (*label == '/')
		label++;
	if (valid_label_path(label, strlen(label)) != 0) {
		invalid_path(c, "The path must be a label path: segments of A-Z, a-z, 0-9, '.', '_' and '-' "
		    "joined by '/', at most 255 bytes, no segment '.' or '..'.");
		return;
	}
	if (!pdf_type(c->req.content_type)) {
		response_error(&c->res, 400, "invalid_body", "The body must be a PDF (Content-Type: application/pdf).");
		return;
	}
	if (c->req.body_len < 5 || memcmp(c->req.body, "%PDF-", 5) != 0) {
		response_error(&c->res, 400, "invalid_body", "The body is not a PDF: it does not start with %PDF-.");
		return;
	}
	if ((dirfd = open_label_dir(c, label, &base)) < 0)
		return;
	if (write_temp(dirfd, c->req.body, c->req.body_len, tmp) != 0) {
		disk_error(c, errno, "write", label);
		close(dirfd);
		return;
	}
	/* The events first: a store too full for them stops everything before the label is touched. */
	if ((rc = store_begin(c->store, 1, &t)) != STORE_OK || (rc = label_ready_events(t, label, c->now, &events)) != STORE_OK) {
		store_abort(t);
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
		cgi_store_error(c, rc);
		return;
	}
	rc = replace_and_commit(c, t, dirfd, base, tmp, &created);
	close(dirfd);
	if (rc != 0)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(1));
	json_object_object_add(o, "path", json_object_new_string(label));
	json_object_object_add(o, "bytes", json_object_new_uint64(c->req.body_len));
	json_object_object_add(o, "created", json_object_new_boolean(created));
	json_object_object_add(o, "label_ready", json_object_new_uint64(events));
	response_json(&c->res, created ? 201 : 200, o);
	json_object_put(o);
}
