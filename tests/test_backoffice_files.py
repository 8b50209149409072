"""The back office's label uploads (SPEC §8): PUT /api/backoffice/files/{path} with back-office tokens only, a
label path as GET /api/files/{path} reads it (anything else a 400, never a file outside the files directory,
a symlink out of it refused), a body of at most 16 MiB that is a PDF (application/pdf, starting with %PDF-),
written atomically: 201 for a new label, 200 for a replaced one, the file served by GET to the suppliers whose
sale products name it; a sale.label_ready event for each of those sale products, in their suppliers' feeds
and the back office's, none for anyone else, no sale-log entry.  A refused request, a full files disk, a
full store, a failing commit: nothing changed, the old file whole.  A process killed between the rename and
the commit leaves the new file without its events, which sending it again writes; killed at any moment, the
label is the old file or the new one, whole.  Each CGI run directly, the main flow and the bounds also
through lighttpd.  Outcomes are decided by rule, never by timing."""
import calendar
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import time

from harness import ROOT, CGI_DIR, Lighttpd, Store, assert_error, parse_cgi_output, sale
from test_faults import fill, small_disk

A, N = "asir-group", "notio"
PDF = "application/pdf"
MiB = 1 << 20
NOW = calendar.timegm((2027, 6, 1, 12, 0, 0))
CLOCK = {"MENZZO_TEST_CLOCK": str(NOW)}
ANSWER_KEYS = ["success", "path", "bytes", "created", "label_ready"]
# The names the program gives its temporary files and the old file it keeps until the commit: '~' is outside
# the label grammar, so that no request ever names them.
SIDE_PREFIXES = (".menzzo-upload~", ".menzzo-previous~")
DEPLOYED = os.path.join(ROOT, "cgi-bin", "backoffice", "files")   # for strace: sanitizers do not run under ptrace
# The sale products of the tests: labels/100.pdf is named by two of asir-group's and one of notio's, labels/101.pdf
# by one of notio's; 1002_6 has no label.  notio ships 1001_3 in two parcels (setup).
LINES = [sale(1000, 1, label="labels/100.pdf"), sale(1000, 2, label="labels/100.pdf"),
         sale(1001, 3, supplier=N, label="labels/100.pdf"),
         sale(1001, 4, supplier=N, label="labels/101.pdf"), sale(1002, 6)]
OWNERS_100 = [("1000_1", A), ("1000_2", A), ("1001_3", N)]
PARCELS = [{"tracking_number": "TRK-3A", "carrier": "DHL"}, {"tracking_number": "TRK-3B", "carrier": "DHL"}]


def pdf(tag, size=None):
    """A body that is a PDF as far as the API can tell: %PDF-, then tag, then padding to size bytes."""
    b = b"%PDF-1.4\n% " + tag.encode() + b"\n"
    if size is not None:
        assert size >= len(b)
        b += b"%" * (size - len(b))
    return b


def put(s, token, path, body, content_type=PDF, env=None):
    return s.cgi("backoffice/files", method="PUT", body=body, token=token, content_type=content_type,
                 path_info="/" + path, env=env)


def answer(r, status, path, body, label_ready):
    """A 201 or 200 answer, its shape and members checked."""
    assert r.status == status, r
    assert r.headers["content-type"] == "application/json" and r.headers["cache-control"] == "no-store", r
    j = r.json()
    assert list(j) == ANSWER_KEYS, j
    assert j == {"success": True, "path": path, "bytes": len(body), "created": status == 201,
                 "label_ready": label_ready}, j
    return j


def label(s, token, path):
    """The label as GET /api/files/{path} serves it to the token, or None for a 404."""
    r = s.cgi("files", token=token, path_info="/" + path)
    if r.status == 404:
        return None
    assert r.status == 200 and r.headers["content-type"] == "application/pdf", r
    return r.body


def outbox(s):
    return [json.loads(l) for l in s.admin("events").stdout.splitlines()]


def ready(events):
    """(menzzo_order_id, supplier) of each sale.label_ready event, in order."""
    return [(e["menzzo_order_id"], e["supplier"]) for e in events if e["type"] == "sale.label_ready"]


def feed(s, supplier, token):
    r = s.cgi(f"{supplier}/get-events", query="limit=1000", token=token)
    assert r.status == 200 and "link" not in r.headers, r
    return r.json()


def check_clean(s):
    p = s.admin("check", check=False)
    out = p.stdout.decode().rstrip()
    assert p.returncode == 0 and out.endswith("; 0 problem(s)"), out
    return out


def tree(top):
    """{path under top: its bytes, its link's target, or "dir"} of everything under top."""
    found = {}
    for d, dirs, files in os.walk(top):
        for name in dirs + files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, top)
            if os.path.islink(p):
                found[rel] = "-> " + os.readlink(p)
            elif os.path.isdir(p):
                found[rel] = "dir"
            else:
                found[rel] = open(p, "rb").read()
    return found


def side_files(top):
    return sorted(p for p in tree(top) if os.path.basename(p).startswith(SIDE_PREFIXES))


def files_dir(s):
    return s.env["MENZZO_FILES_DIR"]


def setup(s):
    """The test's sale products; its tokens: back office, asir-group, notio."""
    s.import_lines(LINES)
    tokens = s.token("--backoffice"), s.token(A), s.token(N)
    r = s.cgi(f"{N}/ship-sale", method="POST", token=tokens[2], body={"menzzo_order_id": "1001_3", "packages": PARCELS})
    assert r.status == 200, r
    return tokens


# 1. The main flow.

def test_created_then_replaced_served_and_announced():
    """201 for a new label, 200 when it is replaced, each time read back by GET for each supplier whose sale
    product names it (and a 404 for the other); a sale.label_ready event per sale product of the label, in its
    supplier's feed and the back office's, nothing for another label's; the event's data the record's, with
    the parcels of a shipped one; no sale-log entry; a label of no sale product written with no event;
    directories created as needed with the files directory's mode; check clean, no temporary file left."""
    with Store(**CLOCK) as s:
        bo, tok, ntok = setup(s)
        before = outbox(s)
        logs = {oid: s.admin("log", oid).stdout for oid, _ in OWNERS_100}
        v1, v2 = pdf("first"), pdf("second, longer than the first")
        answer(put(s, bo, "labels/100.pdf", v1), 201, "labels/100.pdf", v1, 3)
        assert label(s, tok, "labels/100.pdf") == v1 and label(s, ntok, "labels/100.pdf") == v1
        answer(put(s, bo, "labels/100.pdf", v2), 200, "labels/100.pdf", v2, 3)
        assert label(s, tok, "labels/100.pdf") == v2 and label(s, ntok, "labels/100.pdf") == v2
        events = outbox(s)
        assert events[:len(before)] == before
        new = events[len(before):]
        assert ready(new) == OWNERS_100 * 2 and len(new) == 6, new
        assert [e["seq"] for e in new] == list(range(len(before) + 1, len(before) + 7))
        for e in new:
            shown = json.loads(s.admin("show", e["menzzo_order_id"]).stdout)
            assert e["at"] == "2027-06-01T12:00:00Z" and e["data"]["label"] == "labels/100.pdf", e
            assert not [k for k in e["data"] if k.startswith("old_")], e
            for k, v in e["data"].items():
                if k in shown and k != "packages":
                    assert shown[k] == v, (k, shown[k], v)
        shipped = [e for e in new if e["menzzo_order_id"] == "1001_3"]
        assert shipped[0]["data"]["packages"] == PARCELS and shipped[0]["packages"] == PARCELS, shipped
        # the feeds: each supplier its own sale products' events, the back office every one
        for sup, t, mine in ((A, tok, ["1000_1", "1000_2"]), (N, ntok, ["1001_3"])):
            got = [e for e in feed(s, sup, t) if e["type"] == "sale.label_ready"]
            assert [e["menzzo_order_id"] for e in got] == mine * 2, (sup, got)
            assert [dict(e, seq=None) for e in got] == [dict(e, seq=None) for e in new if e["supplier"] == sup]
        r = s.cgi("backoffice/get-events", query="limit=1000", token=bo)
        assert r.status == 200 and r.json() == events, r
        # no sale-log entry: the records did not change
        assert {oid: s.admin("log", oid).stdout for oid, _ in OWNERS_100} == logs
        # a label of no sale product: written, served to nobody, no event
        v3 = pdf("nobody's")
        answer(put(s, bo, "labels/nobody.pdf", v3), 201, "labels/nobody.pdf", v3, 0)
        assert open(os.path.join(files_dir(s), "labels", "nobody.pdf"), "rb").read() == v3
        assert label(s, tok, "labels/nobody.pdf") is None
        # notio's other label: one event, notio's
        answer(put(s, bo, "labels/101.pdf", v3), 201, "labels/101.pdf", v3, 1)
        assert ready(outbox(s)[len(events):]) == [("1001_4", N)]
        assert label(s, ntok, "labels/101.pdf") == v3 and label(s, tok, "labels/101.pdf") is None
        # directories made as needed, with the files directory's own mode
        deep = "2027/06/01/label.pdf"
        answer(put(s, bo, deep, v1), 201, deep, v1, 0)
        mode = stat.S_IMODE(os.stat(files_dir(s)).st_mode)
        for d in ("2027", "2027/06", "2027/06/01"):
            assert stat.S_IMODE(os.stat(os.path.join(files_dir(s), d)).st_mode) == mode, d
        assert open(os.path.join(files_dir(s), deep), "rb").read() == v1
        # the same bytes again: a replacement all the same, with its events again
        answer(put(s, bo, "labels/100.pdf", v2), 200, "labels/100.pdf", v2, 3)
        assert len(ready(outbox(s))) == 10
        # a segment that starts with a dot is a label like any other (the grammar GET reads allows it)
        answer(put(s, bo, "labels/.dot.pdf", v1), 201, "labels/.dot.pdf", v1, 0)
        assert side_files(files_dir(s)) == []
        # the feeds: the import's five sale.created, notio's sale.shipped, then ten sale.label_ready
        assert check_clean(s).endswith(", 16 feed entries; 0 problem(s)"), check_clean(s)


def test_content_types_and_bodies():
    """application/pdf, whatever its case and parameters, and a body that starts with %PDF-: anything else is
    a 400 invalid_body with nothing written; an empty body too."""
    with Store(**CLOCK) as s:
        bo, tok, _ = setup(s)
        old = pdf("old")
        answer(put(s, bo, "labels/100.pdf", old), 201, "labels/100.pdf", old, 3)
        before, events = tree(files_dir(s)), outbox(s)
        for ctype in (None, "application/octet-stream", "application/pdfx", "text/plain", "application/x-pdf"):
            r = put(s, bo, "labels/100.pdf", pdf("new"), content_type=ctype)
            j = assert_error(r, 400, "invalid_body")
            assert j["error"] == "The body must be a PDF (Content-Type: application/pdf).", j
        for body in (b"", b"%PDF", b"%pdf-1.4\n", b" %PDF-1.4\n", b"PDF-1.4", b"\xef\xbb\xbf%PDF-1.4\n"):
            r = put(s, bo, "labels/100.pdf", body)
            j = assert_error(r, 400, "invalid_body")
            assert j["error"] == "The body is not a PDF: it does not start with %PDF-.", j
        assert tree(files_dir(s)) == before and outbox(s) == events
        for n, ctype in enumerate(("Application/PDF", "application/pdf; charset=binary", "application/pdf;x=y")):
            body = pdf(f"new {n}")
            answer(put(s, bo, "labels/100.pdf", body, content_type=ctype), 200, "labels/100.pdf", body, 3)
            assert label(s, tok, "labels/100.pdf") == body
        check_clean(s)


# 2. Paths: the label grammar, and never outside the files directory.

BAD_PATHS = ["", "/", "../x.pdf", "labels/../x.pdf", "labels/../../x.pdf", "/etc/x.pdf", "//etc/x.pdf", "labels//x.pdf",
             "labels/x.pdf/", "./x.pdf", "labels/./x.pdf", "labels/..", "..", "a b.pdf", "labels/%2e%2e/x.pdf",
             "labels/x~.pdf", "labels\\x.pdf", "labels/é.pdf", "x" * 256, "labels/" + "x" * 249,
             ".menzzo-upload~0123456789abcdef"]


def test_bad_paths_are_400_and_nothing_is_written():
    """Every path outside the label grammar (traversal, absolute, empty segments, other characters, over 255
    bytes, the program's own temporary names) is a 400 invalid_parameter, and nothing is written anywhere: not
    in the files directory, not beside it."""
    with Store(**CLOCK) as s:
        bo, _, _ = setup(s)
        answer(put(s, bo, "labels/100.pdf", pdf("old")), 201, "labels/100.pdf", pdf("old"), 3)
        os.makedirs(os.path.join(s.dir, "outside"))
        before, events = tree(s.dir), outbox(s)
        before = {k: v for k, v in before.items() if not k.startswith("db")}
        for path in BAD_PATHS:
            r = s.cgi("backoffice/files", method="PUT", body=pdf("bad"), token=bo, content_type=PDF,
                      path_info="/" + path)
            j = assert_error(r, 400, "invalid_parameter")
            assert j["error"].startswith("The path must be a label path"), (path, j)
        r = s.cgi("backoffice/files", method="PUT", body=pdf("bad"), token=bo, content_type=PDF)  # no PATH_INFO
        assert_error(r, 400, "invalid_parameter")
        assert len("labels/" + "x" * 248) == 255
        answer(put(s, bo, "labels/" + "x" * 248, pdf("longest")), 201, "labels/" + "x" * 248, pdf("longest"), 0)
        os.unlink(os.path.join(files_dir(s), "labels", "x" * 248))
        after = {k: v for k, v in tree(s.dir).items() if not k.startswith("db")}
        assert after == before and outbox(s) == events
        check_clean(s)


def test_symlinks_never_lead_out_of_the_files_directory():
    """A directory of the path that is a symlink out of the files directory: 400, nothing created there (nor a
    directory under it); a symlink inside it: followed, as GET follows it; a symlink in the label's place is
    replaced by the file (never written through); a directory in the label's place, or a file where the path
    wants a directory: 400.  Nothing outside the files directory ever changes."""
    with Store(**CLOCK) as s:
        bo, tok, _ = setup(s)
        top = files_dir(s)
        outside = os.path.join(s.dir, "outside")
        os.makedirs(outside)
        with open(os.path.join(outside, "target.pdf"), "wb") as f:
            f.write(pdf("outside"))
        os.makedirs(os.path.join(top, "labels"))
        os.symlink(outside, os.path.join(top, "out"))
        os.symlink(os.path.join(top, "labels"), os.path.join(top, "alias"))
        os.symlink("../out", os.path.join(top, "labels", "up"))
        os.symlink(os.path.join(outside, "target.pdf"), os.path.join(top, "labels", "100.pdf"))
        outside_before = tree(outside)
        events = outbox(s)
        for path in ("out/x.pdf", "out/sub/x.pdf", "labels/up/x.pdf", "alias/up/sub/x.pdf"):
            j = assert_error(put(s, bo, path, pdf("escape")), 400, "invalid_parameter")
            assert j["error"] == "The path leads out of the files directory.", (path, j)
        # a link inside: the file lands where it points, and GET (which follows it too) serves it
        answer(put(s, bo, "alias/101.pdf", pdf("via alias")), 201, "alias/101.pdf", pdf("via alias"), 0)
        assert open(os.path.join(top, "labels", "101.pdf"), "rb").read() == pdf("via alias")
        # GET refuses the label in the link out's place; PUT replaces the link itself with the file
        assert label(s, tok, "labels/100.pdf") is None
        answer(put(s, bo, "labels/100.pdf", pdf("in place")), 200, "labels/100.pdf", pdf("in place"), 3)
        assert not os.path.islink(os.path.join(top, "labels", "100.pdf"))
        assert label(s, tok, "labels/100.pdf") == pdf("in place")
        # a directory where the file goes, a file where a directory goes
        j = assert_error(put(s, bo, "labels", pdf("dir")), 400, "invalid_parameter")
        assert j["error"] == "The path names a directory of the files directory.", j
        for path in ("labels/100.pdf/x.pdf", "labels/101.pdf/sub/x.pdf"):
            j = assert_error(put(s, bo, path, pdf("file")), 400, "invalid_parameter")
            assert "is a file" in j["error"], (path, j)
        assert tree(outside) == outside_before
        assert ready(outbox(s)[len(events):]) == OWNERS_100
        assert side_files(top) == []
        check_clean(s)


# 3. Scopes, methods, bounds.

def test_scopes_methods_and_16_mib():
    """A supplier's token is a 403 wrong_scope, none a 401; another method a 405 (Allow: PUT); exactly 16 MiB
    is written, a byte more a 413 with nothing written (also when only the Content-Length says so)."""
    with Store(**CLOCK) as s:
        bo, tok, ntok = setup(s)
        old = pdf("old")
        answer(put(s, bo, "labels/100.pdf", old), 201, "labels/100.pdf", old, 3)
        before, events = tree(files_dir(s)), outbox(s)
        for t in (tok, ntok):
            j = assert_error(put(s, t, "labels/100.pdf", pdf("supplier")), 403, "wrong_scope")
            assert j["error"] == "This endpoint is the back office's: a supplier's token cannot call it.", j
        r = put(s, None, "labels/100.pdf", pdf("anonymous"))
        assert_error(r, 401, "missing_token")
        assert r.headers["www-authenticate"] == 'Bearer realm="menzzo"', r.headers
        assert_error(put(s, "mzk_" + "A" * 43, "labels/100.pdf", pdf("unknown")), 401, "invalid_token")
        for method in ("GET", "HEAD", "POST", "DELETE", "PATCH"):
            r = s.cgi("backoffice/files", method=method, body=pdf("method"), token=bo, content_type=PDF,
                      path_info="/labels/100.pdf")
            j = assert_error(r, 405, "method_not_allowed")
            assert j["error"] == "This endpoint only answers PUT." and r.headers["allow"] == "PUT", r
        over = pdf("over", 16 * MiB + 1)
        j = assert_error(put(s, bo, "labels/100.pdf", over), 413, "body_too_large")
        assert j["error"] == "The request body is larger than 16 MiB.", j
        r = s.cgi("backoffice/files", method="PUT", token=bo, content_type=PDF, path_info="/labels/100.pdf",
                  env={"CONTENT_LENGTH": str(16 * MiB + 1)})
        assert_error(r, 413, "body_too_large")
        assert tree(files_dir(s)) == before and outbox(s) == events
        exact = pdf("exact", 16 * MiB)
        answer(put(s, bo, "labels/100.pdf", exact), 200, "labels/100.pdf", exact, 3)
        assert label(s, tok, "labels/100.pdf") == exact
        assert side_files(files_dir(s)) == []
        check_clean(s)


def test_through_lighttpd():
    """Over HTTP (FastCGI responders, then plain CGI): 201 then 200, the label read back by GET, the events in
    the feeds; a 2 MiB label taken (past lighttpd's 1 MiB for other URLs) and one of 16 MiB and a byte the
    program's 413 (JSON, with its request id), nothing written; traversal in the URL never reaches the
    program; scopes and the method."""
    with Store(**CLOCK) as s:
        bo, tok, ntok = setup(s)
        with Lighttpd(s) as web:
            path = "/api/backoffice/files/labels/100.pdf"
            v1, v2 = pdf("one", 2 * MiB), pdf("two", 3 * MiB)
            r = web.request("PUT", path, token=bo, body=v1, headers={"Content-Type": PDF})
            answer(r, 201, "labels/100.pdf", v1, 3)
            assert "ratelimit" in r.headers and len(r.headers["x-request-id"]) == 16, r.headers
            r = web.request("GET", "/api/files/labels/100.pdf", token=ntok)
            assert r.status == 200 and r.body == v1, r
            r = web.request("PUT", path, token=bo, body=v2, headers={"Content-Type": PDF})
            answer(r, 200, "labels/100.pdf", v2, 3)
            r = web.request("GET", "/api/files/labels/100.pdf", token=tok)
            assert r.status == 200 and r.body == v2, r
            r = web.request("GET", "/api/asir-group/get-events?limit=1000", token=tok)
            assert [e["menzzo_order_id"] for e in r.json() if e["type"] == "sale.label_ready"] == ["1000_1", "1000_2"] * 2
            r = web.request("GET", "/api/backoffice/get-events?limit=1000", token=bo)
            assert ready(r.json()) == OWNERS_100 * 2 and r.json() == outbox(s), r
            before, events = tree(files_dir(s)), outbox(s)
            r = web.request("PUT", path, token=bo, body=pdf("over", 16 * MiB + 1), headers={"Content-Type": PDF})
            j = assert_error(r, 413, "body_too_large")
            assert j["error"] == "The request body is larger than 16 MiB.", j
            for url in ("/api/backoffice/files/../../x.pdf", "/api/backoffice/files/labels/%2e%2e/%2e%2e/x.pdf",
                        "/api/backoffice/files/%2e%2e/x.pdf", "/api/backoffice/files/labels%2f..%2f..%2fx.pdf",
                        "/api/backoffice/files/labels/%00.pdf"):
                r = web.request("PUT", url, token=bo, body=pdf("escape"), headers={"Content-Type": PDF})
                assert r.status in (400, 404) and r.headers["content-type"] == "application/json", (url, r)
            assert_error(web.request("PUT", path, token=tok, body=pdf("x"), headers={"Content-Type": PDF}), 403,
                         "wrong_scope")
            assert_error(web.request("PUT", path, body=pdf("x"), headers={"Content-Type": PDF}), 401)
            r = web.request("POST", path, token=bo, body=pdf("x"), headers={"Content-Type": PDF})
            assert_error(r, 405, "method_not_allowed")
            assert r.headers["allow"] == "PUT", r.headers
            assert_error(web.request("PUT", path, token=bo, body=b"not a pdf", headers={"Content-Type": PDF}), 400,
                         "invalid_body")
            assert tree(files_dir(s)) == before and outbox(s) == events
            assert not os.path.exists(os.path.join(s.dir, "x.pdf"))
        check_clean(s)


# 4. Faults: nothing changed, the old file whole.

def test_a_full_files_disk_is_503_and_the_old_label_stays():
    """The files directory on a small disk, filled up: 503 storage_full with Retry-After, the old label
    served whole, no event, no temporary file left; once there is room again, the same request is taken."""
    with small_disk("4m") as disk:
        if disk is None:
            return
        with Store(MENZZO_FILES_DIR=os.path.join(disk, "files"), **CLOCK) as s:
            bo, tok, _ = setup(s)
            old = pdf("old", 64 << 10)
            answer(put(s, bo, "labels/100.pdf", old), 201, "labels/100.pdf", old, 3)
            fill(disk)
            events = outbox(s)
            new = pdf("new", 1 * MiB)
            r = put(s, bo, "labels/100.pdf", new)
            j = assert_error(r, 503, "storage_full")
            assert j["error"] == "The files directory is full; nothing was changed. Retry later.", j
            assert int(r.headers["retry-after"]) > 0 and "No space left on device" in r.stderr, r
            # in a new directory: the same
            assert_error(put(s, bo, "full/x.pdf", new), 503, "storage_full")
            assert label(s, tok, "labels/100.pdf") == old and outbox(s) == events
            assert side_files(files_dir(s)) == []
            os.unlink(os.path.join(disk, "filler"))
            answer(put(s, bo, "labels/100.pdf", new), 200, "labels/100.pdf", new, 3)
            assert label(s, tok, "labels/100.pdf") == new
            check_clean(s)


def test_a_full_store_is_503_and_the_old_label_stays():
    """A store too full for the events: 503 storage_full, the old label whole, not one event written."""
    with Store(MENZZO_MAP_SIZE="1M", **CLOCK) as s:
        bo, tok, _ = setup(s)
        old = pdf("old")
        answer(put(s, bo, "labels/100.pdf", old), 201, "labels/100.pdf", old, 3)

        def batch(start, count):
            return [sale(50000 + i, 100 + i, sku="S" * 60, label="labels/100.pdf") for i in range(start, start + count)]

        # filled with sale products of the label until ten more do not fit: the events of all of them do not
        n = 1
        while s.import_lines(batch(n, 10), check=False).returncode == 0:
            n += 10
        assert n > 100, n
        before, events = tree(files_dir(s)), outbox(s)
        r = put(s, bo, "labels/100.pdf", pdf("new"))
        assert_error(r, 503, "storage_full")
        assert int(r.headers["retry-after"]) > 0, r.headers
        assert tree(files_dir(s)) == before and outbox(s) == events
        assert label(s, tok, "labels/100.pdf") == old
        check_clean(s)


def strace_put(s, token, path, body, inject):
    """The deployed program run once under strace, which injects a fault into its system calls (strace -e
    inject=...); its response, or None when it was killed."""
    env = dict(s.env, REQUEST_METHOD="PUT", CONTENT_TYPE=PDF, CONTENT_LENGTH=str(len(body)), PATH_INFO="/" + path,
               HTTP_AUTHORIZATION="Bearer " + token)
    argv = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + inject.split("=", 1)[1].split(":")[0],
            "-e", inject]
    p = subprocess.run(argv + [DEPLOYED], input=body, env=env, capture_output=True, timeout=120)
    if b"+++ killed by SIGKILL +++" in p.stderr or p.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL):
        return None
    assert p.returncode == 0, (p.returncode, p.stderr[-2000:])
    r = parse_cgi_output(p.stdout)
    r.stderr = p.stderr.decode()
    return r


def test_failures_after_the_rename_put_the_old_label_back():
    """Faults injected into the program's system calls (strace): a failing write of the temporary file, a
    failing sync of the directory after the rename, a failing commit of the store: each a 503, the old label
    back whole (a new one gone), no event, no file of the program's left; a file system refusing the second
    name of the old file: the label taken all the same."""
    if shutil.which("strace") is None:
        print("    skipped: strace is not installed (package strace)")
        return
    with Store(**CLOCK) as s:
        bo, tok, _ = setup(s)
        old = pdf("old")
        answer(put(s, bo, "labels/100.pdf", old), 201, "labels/100.pdf", old, 3)
        before, events = tree(files_dir(s)), outbox(s)
        for inject, code in (("inject=write:error=ENOSPC:when=1", "storage_full"),
                             ("inject=write:error=EIO:when=1", "storage_unavailable"),
                             ("inject=fsync:error=EIO:when=1", "storage_unavailable"),
                             ("inject=fsync:error=EIO:when=2", "storage_unavailable"),
                             ("inject=linkat:error=EIO", "storage_unavailable"),
                             ("inject=renameat,renameat2:error=EIO:when=1", "storage_unavailable"),
                             ("inject=fdatasync:error=EIO", "storage_unavailable")):
            # the first write and the first fsync are the temporary file's, the second fsync the directory's
            # after the rename, the first rename the temporary file's, fdatasync the store's commit
            r = strace_put(s, bo, "labels/100.pdf", pdf("new " + inject), inject)
            assert r is not None and r.status == 503 and r.json()["code"] == code, (inject, r)
            assert tree(files_dir(s)) == before and outbox(s) == events, inject
            assert label(s, tok, "labels/100.pdf") == old
        # a new label whose commit fails: gone again
        r = strace_put(s, bo, "labels/101.pdf", pdf("new"), "inject=fdatasync:error=EIO")
        assert r.status == 503 and tree(files_dir(s)) == before, r
        # hard links refused: the label is replaced all the same
        new = pdf("without a second name")
        r = strace_put(s, bo, "labels/100.pdf", new, "inject=linkat:error=EPERM")
        answer(r, 200, "labels/100.pdf", new, 3)
        assert "the old file cannot be kept until the commit" in r.stderr, r.stderr
        assert label(s, tok, "labels/100.pdf") == new and len(ready(outbox(s))) == len(ready(events)) + 3
        assert side_files(files_dir(s)) == []
        check_clean(s)


# 5. Killed.

def test_killed_between_the_rename_and_the_commit():
    """SIGKILLed as it syncs the directory after the rename (strace): the new label is in place, whole, and its
    events are not written; the old file's second name is left, never served; sending the label again (a
    200) writes the events, and takes the leftover name away from nothing (it stays hidden)."""
    if shutil.which("strace") is None:
        print("    skipped: strace is not installed (package strace)")
        return
    with Store(**CLOCK) as s:
        bo, tok, ntok = setup(s)
        old, new = pdf("old"), pdf("new")
        answer(put(s, bo, "labels/100.pdf", old), 201, "labels/100.pdf", old, 3)
        events = outbox(s)
        labels = os.path.join(files_dir(s), "labels")
        # the second fsync is the directory's, after the rename (the first, the temporary file's)
        assert strace_put(s, bo, "labels/100.pdf", new, "inject=fsync:signal=SIGKILL:when=2") is None
        assert label(s, tok, "labels/100.pdf") == new and label(s, ntok, "labels/100.pdf") == new
        assert outbox(s) == events
        left = side_files(files_dir(s))
        assert [os.path.basename(p)[:len(SIDE_PREFIXES[1])] for p in left] == [SIDE_PREFIXES[1]], left
        assert open(os.path.join(files_dir(s), left[0]), "rb").read() == old
        assert label(s, tok, left[0]) is None
        check_clean(s)
        answer(put(s, bo, "labels/100.pdf", new), 200, "labels/100.pdf", new, 3)
        assert ready(outbox(s)[len(events):]) == OWNERS_100
        assert sorted(os.listdir(labels)) == sorted(["100.pdf", os.path.basename(left[0])])
        check_clean(s)


class KillingPutter:
    """Sends one PUT to the program run directly, the whole body first (so that a kill falls on the work, not
    on the wait for it), and kills it half of the time after a random part of the time a PUT takes on this
    machine once it has its body (the median of those answered, as measured): before its file is whole,
    during its rename, its commit, or after (test_crash's KillingSender, for a PDF)."""

    def __init__(self, store, token, seed):
        self.s, self.tok, self.r = store, token, random.Random(seed)
        self.took = [0.2]

    def put(self, path, body):
        """None when the process was killed, else its response."""
        # no leak check at exit: the time a PUT takes is then the work's, where the kills are to fall
        env = dict(self.s.env, REQUEST_METHOD="PUT", CONTENT_TYPE=PDF, CONTENT_LENGTH=str(len(body)),
                   PATH_INFO="/" + path, HTTP_AUTHORIZATION="Bearer " + self.tok,
                   ASAN_OPTIONS="detect_leaks=0:abort_on_error=0")
        p = subprocess.Popen([os.path.join(CGI_DIR, "backoffice", "files")], env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdin.write(body)
        p.stdin.close()
        # from the body handed over (the program has read all but the pipe's last 64 KiB): the work
        started = time.monotonic()
        killed = False
        if self.r.random() < 0.5:
            time.sleep(self.r.random() * 1.2 * sorted(self.took)[len(self.took) // 2])
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                killed = True
        out, err = p.stdout.read(), p.stderr.read()
        p.wait()
        p.stdout.close()
        p.stderr.close()
        if killed and p.returncode == -signal.SIGKILL:
            return None
        assert p.returncode == 0 and "Sanitizer" not in err.decode(), err.decode()
        self.took.append(time.monotonic() - started)
        return parse_cgi_output(out)


def test_killed_at_random_moments_the_label_is_old_or_new_whole():
    """PUTs of distinct 2 MiB labels, one after the other, half of them SIGKILLed at a random moment: after
    each, the label is the one before or the one sent, whole, never a mix or a part; an answered one is the
    one sent, with its three events; a killed one left the old label and no event, or the new label with its
    three events or none (killed between the rename and the commit); GET serves what the file holds; check
    clean; nothing but the program's own hidden files is left beside the label."""
    with Store(MENZZO_RATE_LIMIT="0", **CLOCK) as s:
        bo, tok, _ = setup(s)
        putter = KillingPutter(s, bo, 20270601)
        current = pdf("initial", 2 * MiB)
        answer(put(s, bo, "labels/100.pdf", current), 201, "labels/100.pdf", current, 3)
        target = os.path.join(files_dir(s), "labels", "100.pdf")
        kills = kept = swapped = 0
        for k in range(40):
            body = pdf(f"version {k}", 2 * MiB)
            count = len(ready(outbox(s)))
            r = putter.put("labels/100.pdf", body)
            held = open(target, "rb").read()
            assert held in (current, body), f"request {k}: the label is neither the old one nor the new one, whole"
            added = len(ready(outbox(s))) - count
            if r is not None:
                answer(r, 200, "labels/100.pdf", body, 3)
                assert held == body and added == 3, (k, added)
            else:
                kills += 1
                assert added in ((0, 3) if held == body else (0,)), (k, added, held == body)
                kept += held == current
                swapped += held == body
            current = held
            assert label(s, tok, "labels/100.pdf") == held
        names = [n for n in os.listdir(os.path.dirname(target)) if n != "100.pdf"]
        assert all(n.startswith(SIDE_PREFIXES) for n in names), names
        print(f"    {kills} kills: {kept} left the old label, {swapped} the new one; {len(names)} hidden files left")
        assert kills >= 5, "the test must actually kill uploads"
        check_clean(s)
