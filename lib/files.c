/*
 * GET /api/files/{path}: a shipping-label PDF (SPEC §2.5), served only to a
 * token whose supplier owns a sale product with that label.
 * Raises 401 without a valid token; 404 for a path outside the label grammar
 * (traversal in any form), a label of no sale product of the token's supplier,
 * a missing file, one that is not a PDF or resolves outside the files directory; 503 when
 * the store is unavailable; 200 with the PDF on success.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgi.h"

#define LABEL_FILE_MAX (16L * 1024 * 1024)

static void
not_found(struct cgi *c)
{
	response_error(&c->res, 404, "not_found", "No such label.");
}

/* Reads the label into the body; -1 when it is missing, not a regular file, or outside the files directory. */
static int
read_label(struct cgi *c, const char *label)
{
	char root[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
	size_t rlen;
	struct stat st;
	ssize_t n;
	int fd;

	if (realpath(c->cfg.files_dir, root) == NULL)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, label) >= sizeof(path))
		return -1;
	/* Symlinks inside the files directory may point anywhere inside it, never out. */
	if (realpath(path, real) == NULL)
		return -1;
	rlen = strlen(root);
	if (strncmp(real, root, rlen) != 0 || real[rlen] != '/')
		return -1;
	if ((fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > LABEL_FILE_MAX) {
		close(fd);
		return -1;
	}
	c->res.body.len = 0;
	if (buf_add(&c->res.body, "", 0) != 0) {
		close(fd);
		return -1;
	}
	for (;;) {
		char chunk[65536];
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || buf_add(&c->res.body, chunk, (size_t)n) != 0)
			break;
	}
	close(fd);
	/* The files directory holds labels: anything that is not a PDF is not served. */
	if (n != 0 || c->res.body.len < 5 || memcmp(c->res.body.p, "%PDF-", 5) != 0)
		return -1;
	return 0;
}

void
files_handle(struct cgi *c)
{
	const char *label = c->req.path_info;
	struct store_txn *t;
	const char *base;
	int rc, owned;

	if (*label == '/')
		label++;
	if (valid_label_path(label, strlen(label)) != 0) {
		not_found(c);
		return;
	}
	if ((rc = store_begin(c->store, 0, &t)) != STORE_OK) {
		cgi_store_error(c, rc);
		return;
	}
	rc = store_label_owned(t, label, strlen(label), c->token.supplier, &owned);
	store_abort(t);
	if (rc != STORE_OK) {
		cgi_store_error(c, rc);
		return;
	}
	if (owned == 0 || read_label(c, label) != 0) {
		not_found(c);
		return;
	}
	c->res.status = 200;
	c->res.content_type = "application/pdf";
	snprintf(c->res.cache_control, sizeof(c->res.cache_control), "private, max-age=3600");
	base = strrchr(label, '/');
	response_header(&c->res, "Content-Disposition", "inline; filename=\"%s\"", base ? base + 1 : label);
}
