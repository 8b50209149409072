"""The executables as persistent FastCGI responders (SPEC §7): many requests through one process, no
state carried from one request to the next, the same bytes out as plain CGI, and a store that changes
under the process.  tests/fcgi.py starts a responder as a web server would and speaks FastCGI to it."""
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time

import harness
from fcgi import Responder
from harness import ADMIN, ASAN, CGI_DIR, ROOT, Lighttpd, Store, check_sanitizer, pids_of, sale

OPT_CGI_DIR = os.path.join(ROOT, "cgi-bin")  # the deployed build: for memory figures, not distorted by ASan


def params(method="GET", query="", token=None, content_type=None, path_info=None):
    p = {"REQUEST_METHOD": method, "QUERY_STRING": query, "GATEWAY_INTERFACE": "CGI/1.1",
         "SERVER_PROTOCOL": "HTTP/1.1"}
    if token is not None:
        p["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if content_type:
        p["CONTENT_TYPE"] = content_type
    if path_info is not None:
        p["PATH_INFO"] = path_info
    return p


def with_length(p, body):
    """The variables of a request with this body: CONTENT_LENGTH its length, unless the case set one."""
    p = dict(p)
    if body or p["REQUEST_METHOD"] == "POST":
        p.setdefault("CONTENT_LENGTH", str(len(body)))
    return p


def ask(r, p, body=b"", **kw):
    return r.request(with_length(p, body), body, **kw)


def normalised(out):
    """A response with its request id, timestamps and rate-limit counts blanked: what differs from one run to the next."""
    out = re.sub(rb"X-Request-Id: [0-9a-f]{16}", b"X-Request-Id: -", out)
    # The bucket refills with time: how many are left (r) and when (t) depend on when each run was made.
    out = re.sub(rb'(RateLimit: "per-token";)r=\d+(;t=\d+)?', rb"\1r=-", out)
    return re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"T", out)


def body_of(out):
    """The JSON body of a responder's output."""
    return json.loads(out.split(b"\r\n\r\n", 1)[1])


def cgi_output(s, exe, p, body=b"", env=None):
    r = s.run([os.path.join(CGI_DIR, exe)], input=body, env=dict(with_length(p, body), **(env or {})))
    assert r.returncode == 0, r.stderr
    return r.stdout


@contextlib.contextmanager
def fixture():
    """A store of 60 sale products of both suppliers, with labels, and a token of each (closed at the end)."""
    with Store(MENZZO_CACHE_TTL_ASIR_GROUP="0") as s:
        s.import_lines([sale(10 + i, 100 + i, supplier=("asir-group", "notio")[i % 2], label=f"labels/{i}.pdf")
                        for i in range(60)])
        os.makedirs(os.path.join(s.env["MENZZO_FILES_DIR"], "labels"), exist_ok=True)
        for i in range(60):
            with open(os.path.join(s.env["MENZZO_FILES_DIR"], "labels", f"{i}.pdf"), "wb") as f:
                f.write(b"%PDF-1.4\n% label " + str(i).encode() + b"\n%%EOF\n")
        yield s, {sup: s.token(sup) for sup in ("asir-group", "notio")}


@contextlib.contextmanager
def serving(exe, env, what="responder"):
    """A responder of exe started as a web server starts one; when the block ends it must exit 0, its
    sanitizer report (if any) clean."""
    r = Responder(exe, env)
    try:
        yield r
    finally:
        code, err = r.stop()
    check_sanitizer(err, what)
    assert code == 0, (what, code, err[-2000:])


def test_interleaved_requests_answer_as_cgi_byte_for_byte():
    """Both suppliers' tokens, bad tokens and every error path, interleaved on one responder per
    executable: each answer is what the same request gets from plain CGI on a copy of the store (but for
    the request id and the time of day)."""
    with fixture() as (s, tok):
        twin = os.path.join(s.dir, "twin")
        shutil.copytree(s.env["MENZZO_DATA_DIR"], twin)
        big = b'{"menzzo_order_id": "' + b"1" * 70000 + b'"}'
        cases = {
            "asir-group/get-sales": [
                params(token=tok["asir-group"]), params(token=tok["notio"]), params(token="mzk_" + "x" * 43),
                params(), params(query="page=0", token=tok["asir-group"]), params(query="status=all&page=2",
                                                                                  token=tok["asir-group"]),
                params(method="POST", token=tok["asir-group"]), params(query="order_number=10",
                                                                       token=tok["asir-group"]),
                params(query="last_menzzo_order_number=11_101", token=tok["asir-group"]),
                params(query="last_menzzo_order_number=10_100", token=tok["asir-group"]),
            ],
            "notio/acknowledge-sale": [
                (params(method="POST", token=tok["notio"], content_type="application/json"),
                 b'{"menzzo_order_id": "11_101"}'),
                (params(method="POST", token=tok["notio"], content_type="application/json"),
                 b'{"menzzo_order_id": "10_100"}'),
                (params(method="POST", token=tok["asir-group"]), b"menzzo_order_id=11_101"),
                (params(method="POST", token=tok["notio"]), b"menzzo_order_id=1_1x"),
                (params(method="POST", token=tok["notio"], content_type="text/plain"), b"x"),
                (params(method="POST", token=tok["notio"]), big),
                (params(method="POST", token=tok["notio"], content_type="application/json"),
                 b'{"menzzo_order_id": "11_101", "menzzo_order_id": "13_103"}'),
                (params(method="GET", token=tok["notio"]), b""),
                (params(method="POST"), b"menzzo_order_id=11_101"),
            ],
            "files": [
                params(token=tok["asir-group"], path_info="/labels/0.pdf"),
                params(token=tok["notio"], path_info="/labels/0.pdf"),
                params(token=tok["notio"], path_info="/labels/1.pdf"),
                params(token=tok["notio"], path_info="/../etc/passwd"), params(path_info="/labels/1.pdf"),
            ],
            "health": [params(), params(method="POST")],
        }
        for exe, reqs in cases.items():
            with serving(os.path.join(CGI_DIR, exe), s.env, f"responder {exe}") as r:
                for rnd in range(3):  # the same requests again: nothing of one carries into the next
                    for req in reqs:
                        p, body = req if isinstance(req, tuple) else (req, b"")
                        out, _, _ = ask(r, p, body)
                        # plain CGI, the same request, on the twin store that saw the same requests
                        want = cgi_output(s, exe, p, body, env={"MENZZO_DATA_DIR": twin})
                        assert normalised(out) == normalised(want), (exe, rnd, p, out[:300], want[:300])


def test_many_requests_one_responder_memory_stays_flat():
    """100 000 requests to one responder (the deployed build): its resident set grows less than 1 MiB
    between the 1 000th request and the last; then a sanitizer build, a shorter run, exits clean."""
    with fixture() as (s, tok):
        env = dict(s.env, MENZZO_PAGE_SIZE="5")
        with serving(os.path.join(OPT_CGI_DIR, "asir-group", "get-sales"), env) as r:
            queries = ("", "page=2", "status=all", "page=0", "order_number=10")
            toks = (tok["asir-group"], tok["notio"], "bogus")
            n = int(os.environ.get("MENZZO_FASTCGI_REQUESTS", "100000"))
            base = None
            for i in range(n):
                out, _, _ = r.request(params(query=queries[i % 5], token=toks[i % 3 if i % 7 else 0]))
                assert out.startswith(b"Status: "), out[:100]
                if i == 999:
                    base = r.rss_kib()
            grown = r.rss_kib() - base
            print(f"    {n} requests: RSS {base} KiB after 1000, grew {grown} KiB by the end")
            assert grown < 1024, f"RSS grew {grown} KiB"
        with serving(os.path.join(CGI_DIR, "asir-group", "get-sales"), env, "sanitizer-built responder at exit") as r:
            for i in range(3000):
                r.request(params(query=("", "page=0", "status=all")[i % 3], token=(tok["asir-group"], "x")[i % 2]))


def test_metrics_through_one_responder_memory_stays_flat():
    """20 000 requests to one metrics responder (the deployed build), back-office, supplier and bogus tokens
    interleaved: its resident set grows less than 512 KiB after the 1 000th, and each answer counts the
    requests answered before it (its own counter, read by the next); then a sanitizer build exits clean."""
    with fixture() as (s, tok):
        back = s.token("--backoffice")
        n = int(os.environ.get("MENZZO_FASTCGI_REQUESTS", "100000")) // 5
        env = dict(s.env, MENZZO_RATE_LIMIT="1000000,1000000")    # the limit's work, never a 429
        with serving(os.path.join(OPT_CGI_DIR, "metrics"), env) as r:
            base, ok = None, 0
            for i in range(n):
                out, _, _ = r.request(params(token=(back, tok["notio"], "bogus", back)[i % 4]))
                if i % 4 in (0, 3):
                    assert out.startswith(b"Status: 200"), out[:200]
                    m = re.search(rb'menzzo_http_requests_total\{supplier="backoffice",endpoint="metrics",code="200"\} (\d+)',
                                  out)
                    assert (int(m.group(1)) if m else 0) == ok, (i, ok, out[:400])
                    ok += 1
                if i == 999:
                    base = r.rss_kib()
            grown = r.rss_kib() - base
            print(f"    {n} metrics requests: RSS {base} KiB after 1000, grew {grown} KiB by the end")
            assert grown < 512, f"RSS grew {grown} KiB"
        with serving(os.path.join(CGI_DIR, "metrics"), env, "sanitizer-built responder at exit") as r:
            for i in range(1000):
                r.request(params(token=(back, "x")[i % 2]))


def test_stock_through_one_responder_memory_stays_flat():
    """2,000 update-stock requests to one responder (the deployed build: 100 SKUs each, writes, repeats that
    change nothing, bad items, bogus tokens interleaved), then 5,000 get-stock pages to another: the
    writer's heap (RssAnon: its resident set also holds the pages of the store it wrote, which grows) and
    the reader's resident set grow less than 512 KiB after the first 500, every answer is the one its
    request asks for (nothing carried from one request to the next), and check is clean afterwards."""
    with fixture() as (s, tok):
        env = dict(s.env, MENZZO_RATE_LIMIT="1000000,1000000")
        post = params(method="POST", token=tok["notio"], content_type="application/json")
        with serving(os.path.join(OPT_CGI_DIR, "notio", "update-stock"), env) as r:
            base = None
            for i in range(2000):
                kind = i % 4
                items = [{"sku": f"S{j:03d}", "quantity": (i // 4) % 7 if kind != 1 else 3} for j in range(100)]
                if kind == 2:
                    items[50]["quantity"] = -1
                body = json.dumps({"items": items}).encode()
                p = post if kind != 3 else dict(post, HTTP_AUTHORIZATION="Bearer bogus")
                out, _, _ = ask(r, p, body)
                if kind == 2:
                    assert out.startswith(b"Status: 400") and b"items[50]" in out, out[:300]
                elif kind == 3:
                    assert out.startswith(b"Status: 401"), out[:300]
                else:
                    assert out.startswith(b"Status: 200"), out[:300]
                if i == 499:
                    base, file_base = r.rss_kib("RssAnon"), r.rss_kib("RssFile")
            grown = r.rss_kib("RssAnon") - base
            print(f"    2000 update-stock requests: heap {base} KiB after 500, grew {grown} KiB by the end "
                  f"(mapped files {file_base} -> {r.rss_kib('RssFile')} KiB)")
            assert grown < 512, f"the heap grew {grown} KiB"
        with serving(os.path.join(OPT_CGI_DIR, "notio", "get-stock"), env) as r:
            queries = ("", "after_sku=S049", "sku=S007", "updated_since=2020-01-01", "sku=", "after_sku=S099")
            for i in range(5000):
                out, _, _ = r.request(params(query=queries[i % 6], token=tok["notio"]))
                if i % 6 == 4:
                    assert out.startswith(b"Status: 400"), out[:300]
                    continue
                assert out.startswith(b"Status: 200"), out[:300]
                skus = [item["sku"] for item in body_of(out)]
                assert len(skus) == (100, 50, 1, 100, None, 0)[i % 6], (i, len(skus))
                if i == 499:
                    base = r.rss_kib()
            grown = r.rss_kib() - base
            print(f"    5000 get-stock requests: RSS {base} KiB after 500, grew {grown} KiB by the end")
            assert grown < 512, f"RSS grew {grown} KiB"
        for exe in ("update-stock", "get-stock"):    # sanitizer builds: nothing leaked at exit
            with serving(os.path.join(CGI_DIR, "notio", exe), env, f"sanitizer-built {exe} at exit") as r:
                for i in range(200):
                    body = json.dumps({"items": [{"sku": f"S{i % 3}", "quantity": i % (2 + i % 3)}]}).encode()
                    out, _, _ = ask(r, post, body) if exe == "update-stock" else \
                        r.request(params(query=("", "after_sku=S001", "sku=x y")[i % 3], token=tok["notio"]))
                    assert out.startswith(b"Status: 200"), out[:300]
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout


def test_tracking_and_ship_dates_through_one_responder_memory_stays_flat():
    """1,500 update-tracking requests to one responder (the deployed build: new carrier events, the same ones
    again, a parcel added, a bad event, an unknown parcel, a bogus token, interleaved over 30 shipped sale
    products), then 1,500 acknowledgements with a changing estimated ship date to another: each heap
    (RssAnon) grows less than 512 KiB after the first 500, every answer is the one its request asks for
    (nothing carried from one request to the next), and check is clean afterwards."""
    with fixture() as (s, tok):
        env = dict(s.env, MENZZO_RATE_LIMIT="1000000,1000000", MENZZO_TEST_CLOCK="1796472000")  # 2026-12-05 12:00
        post = {sup: params(method="POST", token=tok[sup], content_type="application/json") for sup in tok}
        ids = [f"{10 + i}_{100 + i}" for i in range(0, 60, 2)]          # asir-group's 30
        shipped = s.cgi("asir-group/ship-sale", method="POST", token=tok["asir-group"], env=env,
                        body={"items": [{"menzzo_order_id": m, "tracking_number": f"T{m}"} for m in ids]})
        assert shipped.status == 200 and shipped.json()["success"] is True, shipped

        def at(n):
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1796000000 + n * 60))

        with serving(os.path.join(OPT_CGI_DIR, "asir-group", "update-tracking"), env) as r:
            base = None
            for i in range(1500):
                m, kind = ids[i % 30], (i // 30) % 6
                ev = [{"status": ("in_transit", "out_for_delivery", "delivered")[i % 3], "at": at(i),
                       "tracking_number": f"T{m}", "location": f"Hub {i % 7}"}]
                body, p, want = {"menzzo_order_id": m, "events": ev}, post["asir-group"], b"Status: 200"
                if kind == 1:
                    body["events"] = [dict(ev[0], at=at(i - 30))]                 # sent before: stored once
                elif kind == 2:
                    body["packages"] = [{"tracking_number": f"P{m}-{i % 4}"}]
                    body["events"].append({"status": "in_transit", "at": at(i), "tracking_number": f"P{m}-{i % 4}"})
                elif kind == 3:
                    body["events"][0]["status"], want = "lost_at_sea", b"Status: 400"
                elif kind == 4:
                    body["events"][0]["tracking_number"], want = "NOPE", b"Status: 409"
                elif kind == 5:
                    p, want = dict(p, HTTP_AUTHORIZATION="Bearer bogus"), b"Status: 401"
                out, _, _ = ask(r, p, json.dumps(body).encode())
                assert out.startswith(want), (i, kind, out[:300])
                if want == b"Status: 200":
                    answer = body_of(out)
                    assert answer["menzzo_order_id"] == m and answer["status"] == "shipped", (i, answer)
                    assert answer["changed"] is (kind != 1 or i < 30), (i, kind, answer)
                if i == 499:
                    base = r.rss_kib("RssAnon")
            grown = r.rss_kib("RssAnon") - base
            print(f"    1500 update-tracking requests: heap {base} KiB after 500, grew {grown} KiB by the end")
            assert grown < 512, f"the heap grew {grown} KiB"
        notio = [f"{10 + i}_{100 + i}" for i in range(1, 60, 2)]
        with serving(os.path.join(OPT_CGI_DIR, "notio", "acknowledge-sale"), env) as r:
            for i in range(1500):
                m, day = notio[i % 30], 10 + (i // 30) % 2                      # each date, then the other
                out, _, _ = ask(r, post["notio"], json.dumps({"menzzo_order_id": m,
                                                               "estimated_ship_date": f"2026-12-{day}"}).encode())
                assert out.startswith(b"Status: 200"), (i, out[:300])
                answer = body_of(out)
                assert answer["menzzo_order_id"] == m and answer["estimated_ship_date"] == f"2026-12-{day}", answer
                assert answer["changed"] is True, (i, answer)
                if i == 499:
                    base = r.rss_kib("RssAnon")
            grown = r.rss_kib("RssAnon") - base
            print(f"    1500 ship-date changes: heap {base} KiB after 500, grew {grown} KiB by the end")
            assert grown < 512, f"the heap grew {grown} KiB"
        with serving(os.path.join(CGI_DIR, "asir-group", "update-tracking"), env, "sanitizer-built update-tracking") as r:
            for i in range(200):
                body = {"menzzo_order_id": ids[i % 30], "events": [{"status": "delivered", "at": at(3000 + i % 50)}]}
                out, _, _ = ask(r, post["asir-group"], json.dumps(body).encode())
                assert out.startswith(b"Status: 200"), out[:300]
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout


def test_imports_and_feeds_through_one_responder_memory_stays_flat():
    """600 back-office imports (100 JSON Lines each: new sale products, changed ones, unchanged ones, a
    rejected line, a wrong Content-Type, a supplier's token, interleaved) through one responder, then 3,000
    feed pages through one get-events responder of a supplier and one of the back office: each heap (RssAnon)
    grows less than 512 KiB after the first 200 (or 1,000) requests, every answer counts or lists exactly what
    its request holds, and check is clean afterwards."""
    with fixture() as (s, tok):
        env = dict(s.env, MENZZO_RATE_LIMIT="0")
        bo = s.admin("token", "add", "--backoffice").stdout.decode().split()[-1]
        ndjson = params(method="POST", token=bo, content_type="application/x-ndjson")

        def line(sp, sku):
            return json.dumps({"increment_id": str(900000 + sp // 3), "sale_product_id": 500000 + sp,
                               "supplier": ("asir-group", "notio")[sp % 2], "sku": sku, "quantity": 1,
                               "price": "12.50", "order_date": "2026-03-01", "carrier": "DPD"})

        with serving(os.path.join(OPT_CGI_DIR, "backoffice", "import"), env) as r:
            base = None
            for i in range(600):
                kind = i % 6
                first = (i // 6) * 50                # each round of six: 50 new ones, then the same again
                lines = [line(first + j, "SKU-1" if kind == 1 else "SKU-0") for j in range(50)]
                lines += [line(first + 50 + j, "SKU-0") for j in range(49)] + ['{"sku": "no id"}']
                body = "\n".join(lines).encode()
                p = ndjson if kind < 4 else dict(ndjson, CONTENT_TYPE="application/json") if kind == 4 else \
                    dict(ndjson, HTTP_AUTHORIZATION=f"Bearer {tok['notio']}")
                out, _, _ = ask(r, p, body)
                if kind >= 4:
                    assert out.startswith(b"Status: 400" if kind == 4 else b"Status: 403"), (i, out[:300])
                else:
                    a = body_of(out)
                    assert a["created"] + a["updated"] + a["unchanged"] == 99 and a["rejected_count"] == 1, (i, a)
                    assert a["rejected"][0]["line"] == 100 and a["success"] is False, (i, a)
                    # new ones (99 the first time, then 50: the last 49 of the round before come again),
                    # 50 changed to SKU-1, back to SKU-0, then all of them as they are
                    want = [(99 if i == 0 else 50, 0), (0, 50), (0, 50), (0, 0)][kind]
                    assert (a["created"], a["updated"]) == want, (i, a)
                if i == 199:
                    base = r.rss_kib("RssAnon")
            grown = r.rss_kib("RssAnon") - base
            print(f"    600 imports of 100 lines: heap {base} KiB after 200, grew {grown} KiB by the end")
            assert grown < 512, f"the heap grew {grown} KiB"
        for exe, token in ((os.path.join("notio", "get-events"), tok["notio"]),
                           (os.path.join("backoffice", "get-events"), bo)):
            with serving(os.path.join(OPT_CGI_DIR, exe), env) as r:
                for i in range(3000):
                    after, limit = (i * 7) % 500, 1 + i % 100
                    out, _, _ = r.request(params(query=f"after={after}&limit={limit}", token=token))
                    assert out.startswith(b"Status: 200"), (i, out[:300])
                    seqs = [e["seq"] for e in body_of(out)]
                    assert seqs == list(range(after + 1, after + 1 + len(seqs))) and len(seqs) == limit, (i, seqs[:5])
                    if i == 999:
                        base = r.rss_kib("RssAnon")
                grown = r.rss_kib("RssAnon") - base
                print(f"    3000 {exe} pages: heap {base} KiB after 1000, grew {grown} KiB by the end")
                assert grown < 512, f"the heap grew {grown} KiB"
        # sanitizer builds: nothing leaked at exit
        with serving(os.path.join(CGI_DIR, "backoffice", "import"), env, "sanitizer-built import at exit") as r:
            for i in range(50):
                out, _, _ = ask(r, ndjson, "\n".join([line(i, "SKU-2"), "{}", ""]).encode())
                assert out.startswith(b"Status: 200"), out[:300]
        with serving(os.path.join(CGI_DIR, "notio", "get-events"), env, "sanitizer-built get-events at exit") as r:
            for i in range(50):
                out, _, _ = r.request(params(query=("after=3", "limit=1000", "after=x")[i % 3], token=tok["notio"]))
                assert out.startswith(b"Status: 400" if i % 3 == 2 else b"Status: 200"), out[:300]
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout


def test_a_request_that_fails_half_way_leaves_the_next_one_correct():
    with fixture() as (s, tok):
        good = (params(method="POST", token=tok["asir-group"], content_type="application/json"),
                b'{"menzzo_order_id": "10_100"}')
        with serving(os.path.join(CGI_DIR, "asir-group", "ship-sale"), s.env) as r:
            # a client gone after sending its request
            ask(r, *good, close_early=True)
            # 413, a body shorter than its Content-Length, a malformed body
            assert ask(r, params(method="POST", token=tok["asir-group"]), b"x" * 70000)[0].startswith(b"Status: 413")
            p = params(method="POST", token=tok["asir-group"])
            p["CONTENT_LENGTH"] = "100"
            assert ask(r, p, b"menzzo_order_id=10_100")[0].startswith(b"Status: 400")
            assert ask(r, params(method="POST", token=tok["asir-group"], content_type="application/json"),
                       b'{"menz')[0].startswith(b"Status: 400")
            # a store error: the store removed under the responder, then put back
            db = s.env["MENZZO_DATA_DIR"]
            shutil.move(db, db + ".away")
            out = ask(r, *good)[0]
            assert out.startswith(b"Status: 503"), out[:200]
            shutil.move(db + ".away", db)
            out = ask(r, *good)[0]
            body = body_of(out)
            assert body["success"] is True and body["menzzo_order_id"] == "10_100", body
            out = ask(r, *good)[0]
            assert body_of(out)["changed"] is False
        assert [json.loads(l)["action"] for l in s.admin("log", "10_100").stdout.splitlines()] == \
            ["imported", "shipped"], "the client that hung up may or may not have shipped; once only"


def test_a_store_replaced_on_disk_is_reopened():
    """A store restored from a backup (a new inode) is read on the next request, not the old file."""
    with fixture() as (s, tok):
        backup = os.path.join(s.dir, "backup")
        s.admin("backup", backup)
        with serving(os.path.join(CGI_DIR, "notio", "get-sales"), s.env) as r:
            def ids():
                out = r.request(params(query="status=all", token=tok["notio"]))[0]
                return [i["menzzo_order_id"] for i in body_of(out)]
            before = ids()
            s.import_lines([sale(900, 9000, supplier="notio")])
            assert "900_9000" in ids(), "a change by another process is seen"
            db = s.env["MENZZO_DATA_DIR"]
            shutil.rmtree(db)
            shutil.copytree(backup, db)
            assert ids() == before, "the restored store is served"


def test_a_purged_cache_is_reopened_and_buckets_start_full():
    """cache purge --all deletes the cache's files under a responder that has them open: its next request
    neither serves a page from the deleted file nor counts against the deleted buckets; it opens the new
    cache, which its next requests fill."""
    with fixture() as (s, tok):
        # the fixture caches nothing; the test builds' clock stands still (MENZZO_TEST_CLOCK): no refill
        env = dict(s.env, MENZZO_RATE_LIMIT="1,10", MENZZO_CACHE_TTL_ASIR_GROUP="600", MENZZO_TEST_CLOCK="1000")
        with serving(os.path.join(CGI_DIR, "asir-group", "get-sales"), env) as r:
            def get():
                out = r.request(params(token=tok["asir-group"]))[0]
                head = out.split(b"\r\n\r\n", 1)[0].decode()
                assert head.startswith("Status: 200"), out[:300]
                return (re.search(r"X-Cache: (\w+)", head).group(1),
                        int(re.search(r'RateLimit: "per-token";r=(\d+)', head).group(1)))
            assert get() == ("MISS", 9) and get() == ("HIT", 8) and get() == ("HIT", 7)
            s.admin("cache", "purge", "--all")
            assert not [n for n in os.listdir(s.env["MENZZO_DATA_DIR"]) if n.startswith("cache.")]
            got = get()
            assert got == ("MISS", 9), ("the deleted cache was still used", got)
            assert get() == ("HIT", 8)
            assert [n for n in os.listdir(s.env["MENZZO_DATA_DIR"]) if n.startswith("cache.")], \
                "the new cache is on disk"


def test_an_import_that_grows_the_map_while_responders_serve():
    """The responder opened the store with a small map; an import from a process with a larger one
    grows the file past it: the responder adopts the new size (MDB_MAP_RESIZED) and reads everything."""
    with fixture() as (s, tok):
        small = dict(s.env, MENZZO_MAP_SIZE="1M")
        with serving(os.path.join(CGI_DIR, "notio", "get-sales"), small) as r:
            assert r.request(params(token=tok["notio"]))[0].startswith(b"Status: 200")
            lines = [sale(5000 + i, 50000 + i, supplier="notio", sku="X" * 60) for i in range(6000)]
            p = s.admin("import", "-", input="".join(json.dumps(l) + "\n" for l in lines),
                        env={"MENZZO_MAP_SIZE": "256M"})
            assert p.returncode == 0
            assert os.path.getsize(os.path.join(s.env["MENZZO_DATA_DIR"], "data.mdb")) > 1 << 20
            out = r.request(params(query="order_number=10999", token=tok["notio"]))[0]
            assert out.startswith(b"Status: 200"), out[:300]
            items = body_of(out)
            assert [i["menzzo_order_id"] for i in items] == ["10999_55999"], items


def test_responders_exit_when_lighttpd_is_killed():
    """SIGKILL of lighttpd: its responders (which would otherwise hold the store open and answer a
    later server's requests) exit within 2 s, each saying so in the error log."""
    if harness.MODE != "fastcgi":
        return
    with Store() as s:
        web = Lighttpd(s)
        try:
            exes = [os.path.join(CGI_DIR, path) for path in ("health", "files", "asir-group/get-sales",
                                                             "notio/ship-sale")]
            # each responder past its start (a web server killed within its first instant is not this case)
            assert web.request("GET", "/api/health").status == 200
            for path in ("/api/files/x.pdf", "/api/asir-group/get-sales"):
                assert web.request("GET", path).status == 401
            assert web.request("POST", "/api/notio/ship-sale").status == 401
            pids = [pid for exe in exes for pid in pids_of(exe)]
            assert len(pids) >= len(exes), "lighttpd starts a responder of each executable"
            os.kill(web.proc.pid, signal.SIGKILL)
            web.proc.wait()
            gone_by = time.time() + 2
            while any(os.path.exists(f"/proc/{pid}") and _alive(pid) for pid in pids) and time.time() < gone_by:
                time.sleep(0.02)
            left = [pid for pid in pids if os.path.exists(f"/proc/{pid}") and _alive(pid)]
            assert not left, f"responders still alive 2 s after lighttpd was killed: {left}"
            log = open(web.log, errors="replace").read()
            for pid in pids:
                assert f"responder {pid}: its web server (process {web.proc.pid}) is gone: exiting" in log, log
        finally:
            for exe in exes:
                for pid in pids_of(exe):
                    os.kill(pid, signal.SIGKILL)
            web.stop()


def _alive(pid):
    """Whether the process is alive (not a zombie waiting for its reaper)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
