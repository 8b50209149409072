"""Foundation: health, authentication, the get-sales shape, menzzo-admin basics, lighttpd end to end."""
import json
import os
import re
import stat
import subprocess

from harness import Lighttpd, Store, sale


def test_health_ok_and_unavailable():
    with Store() as s:
        r = s.cgi("health")
        assert r.status == 200 and r.json() == {"status": "ok"}, r
        assert r.headers["x-content-type-options"] == "nosniff"
        assert re.fullmatch(r"[0-9a-f]{16}", r.headers["x-request-id"])
        r = s.cgi("health", env={"MENZZO_DATA_DIR": os.path.join(s.dir, "nowhere")})
        assert r.status == 503 and r.json()["success"] is False and "retry-after" in r.headers, r
        assert s.dir not in r.body.decode(), "an error must not show a path"


def test_auth_statuses():
    with Store() as s:
        s.import_lines([sale(15000012345, 789)])
        tok = s.token("asir-group")
        other = s.token("notio")
        r = s.cgi("asir-group/get-sales")
        assert r.status == 401 and r.headers["www-authenticate"] == 'Bearer realm="menzzo"', r
        assert r.json()["code"] == "missing_token"
        for bad in ["Basic abc", "Bearer", "Bearer a b", "Bearer " + "x" * 300, "Bearer mzk_nope"]:
            r = s.cgi("asir-group/get-sales", headers={"Authorization": bad})
            assert r.status == 401, (bad, r)
            assert 'error="invalid_token"' in r.headers["www-authenticate"], r
            assert bad.split()[-1] not in r.body.decode() or bad.split()[-1] == "Bearer"
        r = s.cgi("asir-group/get-sales", token=other)
        assert r.status == 403 and r.json()["code"] == "wrong_supplier", r
        assert other not in r.body.decode() and other not in r.stderr
        r = s.cgi("asir-group/get-sales", token=tok)
        assert r.status == 200, r


def test_revoked_and_expired_tokens():
    import time
    with Store() as s:
        tok = s.token("notio")
        assert s.cgi("notio/get-sales", token=tok).status == 200
        listing = s.admin("token", "list").stdout.decode()
        assert tok not in listing and "active" in listing
        tid = listing.splitlines()[1].split("\t")[0]
        s.admin("token", "revoke", tid)
        assert "revoked" in s.admin("token", "list").stdout.decode()
        assert s.cgi("notio/get-sales", token=tok).status == 401
        # a token valid for another minute: valid now, expired a minute later (the test builds' clock)
        t = int(time.time())
        soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t + 60))
        tok2 = s.token("notio", "--expires", soon)
        assert s.cgi("notio/get-sales", token=tok2).status == 200
        later = {"MENZZO_TEST_CLOCK": str(t + 61)}
        assert s.cgi("notio/get-sales", token=tok2, env=later).status == 401
        assert "expired" in s.admin("token", "list", env=later).stdout.decode()
        p = s.admin("token", "add", "notio", "--expires", "2001-01-01", check=False)
        assert p.returncode != 0 and b"past" in p.stderr


def test_get_sales_shape():
    with Store() as s:
        s.import_lines([sale(15000012345, 789, label="labels/15000012345_789.pdf"),
                        sale(15000012346, 790, supplier="notio", sku="NOTIO-PROD-123", quantity=2,
                             price=180, carrier="GEODIS")])
        r = s.cgi("asir-group/get-sales", token=s.token("asir-group"))
        assert r.status == 200 and r.headers["content-type"] == "application/json"
        assert r.body == (b'[{"menzzo_order_id":"15000012345_789","sku":"SKU-789","quantity":1,'
                          b'"price":250.00,"link_to_label":"https://api.example.test/api/files/labels/'
                          b'15000012345_789.pdf","order_date":"2026-01-15","carrier":"CHRONOPOST",'
                          b'"status":"pending","acknowledged_at":null,"prepared_at":null,"refused_at":null,'
                          b'"estimated_ship_date":null,"delivery_status":null,"delivered_at":null}]'), r.body
        r = s.cgi("notio/get-sales", token=s.token("notio"))
        item = r.json()[0]
        assert item["menzzo_order_id"] == "15000012346_790" and item["link_to_label"] is None
        assert b'"price":180.00' in r.body and r.headers["cache-control"] == "no-store"
        assert "x-cache" not in r.headers


def test_import_reports_bad_lines_and_commits_good_ones():
    with Store() as s:
        lines = [sale(1, 1), "{not json", sale(2, 2, order_date="2026-02-30"), sale(3, 3, price="1.234"),
                 sale(4, 4, supplier="acme"), sale(5, 5, label="../etc/passwd"), sale(6, 6, extra=1),
                 sale(7, 7, quantity=0), sale(8, 8)]
        p = s.import_lines(lines, check=False)
        err = p.stderr.decode()
        assert p.returncode == 1
        for n in (2, 3, 4, 5, 6, 7, 8):
            assert f"line {n}:" in err, err
        assert "line 1:" not in err and "line 9:" not in err
        assert json.loads(s.admin("show", "1_1").stdout)["status"] == "pending"
        assert json.loads(s.admin("show", "8_8").stdout)["price"] == 250.00
        assert s.admin("show", "3_3", check=False).returncode != 0


def test_import_upsert_never_moves_back():
    with Store() as s:
        s.import_lines([sale(1, 1, status="shipped", prepared_at="2026-01-16T10:00:00Z")])
        s.import_lines([sale(1, 1, status="pending", sku="NEW")])
        sp = json.loads(s.admin("show", "1_1").stdout)
        assert sp["status"] == "shipped" and sp["sku"] == "NEW"
        assert sp["prepared_at"] == "2026-01-16T10:00:00Z" and sp["acknowledged_at"] == "2026-01-16T10:00:00Z"
        s.import_lines([sale(1, 1, status="cancelled")])
        s.import_lines([sale(1, 1, status="acknowledged")])
        assert json.loads(s.admin("show", "1_1").stdout)["status"] == "cancelled"
        log = [json.loads(l) for l in s.admin("log", "1_1").stdout.splitlines()]
        assert [e["action"] for e in log] == ["imported", "updated", "cancelled"], log
        events = [json.loads(l) for l in s.admin("events").stdout.splitlines()]
        assert [e["type"] for e in events] == ["sale.created", "sale.updated", "sale.cancelled"]
        p = s.import_lines([sale(99, 1)], check=False)
        assert p.returncode == 1 and b"belongs to increment_id 1" in p.stderr


def test_store_permissions_and_check():
    with Store() as s:
        s.import_lines([sale(1, 1)])
        db = s.env["MENZZO_DATA_DIR"]
        assert stat.S_IMODE(os.stat(db).st_mode) == 0o700
        for f in ("data.mdb", "lock.mdb"):
            assert stat.S_IMODE(os.stat(os.path.join(db, f)).st_mode) == 0o600
        out = s.admin("check").stdout.decode()
        assert "0 problem(s)" in out, out


def test_admin_help_everywhere():
    with Store() as s:
        for cmd in ("init", "token", "import", "show", "log", "cancel", "events", "cache", "stats",
                    "check", "backup", "demo"):
            p = s.admin(cmd, "--help")
            assert p.stdout.startswith(b"usage: menzzo-admin " + cmd.encode()), p.stdout
        assert s.admin("frobnicate", check=False).returncode == 2


def test_demo_then_lighttpd_end_to_end():
    with Store() as s:
        out = s.admin("demo").stdout.decode().splitlines()
        tokens = [l for l in out if l.startswith("mzk_")]
        assert len(tokens) == 2
        assert s.admin("check").returncode == 0
        with Lighttpd(s) as web:
            r = web.request("GET", "/api/health")
            assert r.status == 200 and r.json() == {"status": "ok"}
            r = web.request("GET", "/api/asir-group/get-sales?page=1", token=tokens[0])
            assert r.status == 200 and len(r.json()) == 100, r
            assert r.headers["x-cache"] == "MISS" and "rel=\"next\"" in r.headers["link"]
            r2 = web.request("GET", "/api/asir-group/get-sales?page=1", token=tokens[0])
            assert r2.headers["x-cache"] == "HIT" and r2.body == r.body
            r = web.request("GET", "/api/notio/get-sales", token=tokens[0])
            assert r.status == 403
            r = web.request("GET", "/api/notio/get-sales")
            assert r.status == 401 and r.json()["success"] is False
            for path in ("/", "/lighttpd.conf", "/cgi-bin/health", "/api/get-sales.c", "/data/db/data.mdb",
                         "/api/asir-group/get-sales.c", "/Makefile", "/api/", "/api/files"):
                assert web.request("GET", path).status == 404, path


STORE_POKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "asan", "helpers", "store_poke")


def test_error_log_names_the_cause_and_the_response_does_not():
    """A 503 storage_unavailable: the error log line names the path and the system error (or the
    format version); the response names nothing; an endpoint never creates a store."""
    with Store() as s:
        s.import_lines([sale(1, 1)])
        tok = s.token("asir-group")
        empty = os.path.join(s.dir, "empty")
        os.mkdir(empty)
        afile = os.path.join(s.dir, "afile")
        open(afile, "w").close()
        cases = ((os.path.join(s.dir, "nowhere"), "No such file or directory"),
                 (afile, "Not a directory"),
                 (empty, "no store here"))
        for path, cause in cases:
            for exe, method in (("health", "GET"), ("asir-group/get-sales", "GET"), ("asir-group/ship-sale", "POST")):
                r = s.cgi(exe, method=method, token=tok, body={"menzzo_order_id": "1_1"} if method == "POST" else None,
                          env={"MENZZO_DATA_DIR": path})
                assert r.status == 503 and r.json()["code"] == "storage_unavailable", (exe, path, r)
                line = [l for l in r.stderr.splitlines() if r.headers["x-request-id"] in l]
                assert len(line) == 1 and f"503 storage_unavailable: {path}: {cause}" in line[0], (exe, r.stderr)
                assert path not in r.body.decode() and cause not in r.body.decode(), r.body
        assert os.listdir(empty) == [], "an endpoint created files in an empty data directory"
        # a store of another format version: named in the log, refused with 503, never misread
        p = subprocess.run([STORE_POKE, s.env["MENZZO_DATA_DIR"], "schema", "2"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        for exe in ("health", "asir-group/get-sales"):
            r = s.cgi(exe, token=tok)
            assert r.status == 503 and r.json()["code"] == "storage_unavailable", r
            assert "format version 2, this build reads" in r.stderr, r.stderr
        p = s.admin("stats", check=False)
        assert p.returncode != 0 and b"format version 2" in p.stderr, p.stderr
