"""The back office's import over HTTP (SPEC §8, issue 21 part 3): POST /api/backoffice/import with back-office
tokens only, a body of JSON Lines read as `menzzo-admin import` reads them (the same store, counts, rejected
lines with their numbers and the command's sentences, valid lines committed all the same, one transaction),
application/x-ndjson or application/jsonl only, no NUL byte, lines of at most 65,536 bytes, the first 1,000
rejected lines listed and all of them counted, bodies up to 16 MiB (the program's 413 past that, through
lighttpd too, while lighttpd cuts every other endpoint's bodies at 1 MiB); scopes, 405 and the rate limit; the
import's events in the suppliers' feeds and the back office's, `check` clean, asir-group's cached get-sales let
go; a full store a 503 with nothing written.  Each CGI run directly, the bounds and main flow also through
lighttpd.  Everything is decided by rule, never by timing."""
import calendar
import concurrent.futures
import json
import re

from harness import Lighttpd, Store, SUPPLIERS, assert_error, sale

A, N = "asir-group", "notio"
NDJ = "application/x-ndjson"
MiB = 1 << 20
LINE_MAX = 65536
# The server's clock (MENZZO_TEST_CLOCK): 2027-06-01T12:00:00Z, then a day later, then two.
NOW = calendar.timegm((2027, 6, 1, 12, 0, 0))
DAY = 86400
CLOCK = {"MENZZO_TEST_CLOCK": str(NOW)}
ANSWER_KEYS = ["success", "created", "updated", "unchanged", "rejected", "rejected_count"]
TOO_LONG = "longer than 65536 bytes"
NOT_JSON_LINES = ("The body must be JSON Lines, one sale product a line, as menzzo-admin import reads them "
                  "(Content-Type: application/x-ndjson or application/jsonl).")
CLI_LINE = re.compile(r"^-: line (\d+): (.*)$")
CLI_SUMMARY = re.compile(r"^-: (\d+) line\(s\) read, (\d+) sale product\(s\) created or changed, (\d+) rejected$")


def clock(t):
    return {"MENZZO_TEST_CLOCK": str(t)}


def text_of(lines):
    """A body: each line (a dict as JSON, a str as it is) ended by a newline."""
    return "".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines)


def http_import(s, token, body, content_type=NDJ, env=None):
    if isinstance(body, list):
        body = text_of(body)
    return s.cgi("backoffice/import", method="POST", body=body, token=token, content_type=content_type, env=env)


def answer(r):
    """The 200 answer of an import, its shape checked: its JSON."""
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/json", r
    j = r.json()
    assert list(j) == ANSWER_KEYS, j
    assert j["success"] is (j["rejected_count"] == 0), j
    assert len(j["rejected"]) == min(j["rejected_count"], 1000), j
    for item in j["rejected"]:
        assert list(item) == ["line", "error"] and isinstance(item["line"], int) and item["error"], item
    assert [item["line"] for item in j["rejected"]] == sorted({item["line"] for item in j["rejected"]}), j
    return j


def counts(r):
    """(created, updated, unchanged, rejected_count) of a 200 answer."""
    j = answer(r)
    return j["created"], j["updated"], j["unchanged"], j["rejected_count"]


def cli_import(s, body, env=None):
    """`menzzo-admin import -` of body: (exit status, its rejected lines as the answer lists them, the count
    its summary gives of sale products created or changed), each error in the command's words."""
    p = s.admin("import", "-", input=body if isinstance(body, (str, bytes)) else text_of(body), env=env,
                check=False)
    rejected, changed = [], None
    for line in p.stderr.decode().splitlines():
        m = CLI_LINE.match(line)
        if m:
            error = m.group(2)
            rejected.append({"line": int(m.group(1)), "error": error})
            continue
        m = CLI_SUMMARY.match(line)
        assert m, p.stderr.decode()
        changed = int(m.group(2))
        assert int(m.group(3)) == len(rejected), p.stderr.decode()
    assert changed is not None, p.stderr.decode()
    assert p.returncode == (1 if rejected else 0), (p.returncode, p.stderr.decode())
    return p.returncode, rejected, changed


def show(s, oid):
    p = s.admin("show", oid, check=False)
    return json.loads(p.stdout) if p.returncode == 0 else None


def sale_log(s, oid):
    p = s.admin("log", oid, check=False)
    return [json.loads(l) for l in p.stdout.splitlines()] if p.returncode == 0 else None


def outbox(s):
    return [json.loads(l) for l in s.admin("events").stdout.splitlines()]


def snapshot(s, tokens):
    """What a store's readers say after an import: get-sales (status=all) and get-events of each supplier, the
    outbox."""
    listed, feeds = {}, {}
    for sup, tok in tokens.items():
        r = s.cgi(f"{sup}/get-sales", query="status=all", token=tok)
        assert r.status == 200 and "link" not in r.headers, r
        listed[sup] = r.json()
        r = s.cgi(f"{sup}/get-events", query="limit=1000", token=tok)
        assert r.status == 200 and "link" not in r.headers, r
        feeds[sup] = r.json()
    return {"get-sales": listed, "feeds": feeds, "outbox": outbox(s)}


def records(s, oids, logged):
    """{oid: (show, the sale log without its users and request ids when oid is one of logged)} of each sale
    product (read four at a time)."""
    def one(o):
        entries = sale_log(s, o) if o in logged else None
        return o, (show(s, o), None if entries is None else
                   [{k: v for k, v in e.items() if k not in ("user", "request_id")} for e in entries])
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return dict(pool.map(one, oids))


def stored(s):
    """What a store holds, as far as an import could change it: its outbox and `check`'s counts."""
    return s.admin("events").stdout, s.admin("check", check=False).stdout


def created_oids(events):
    return [e["menzzo_order_id"] for e in events if e["type"] == "sale.created"]


def check_clean(s):
    p = s.admin("check", check=False)
    out = p.stdout.decode().rstrip()
    assert p.returncode == 0 and out.endswith("; 0 problem(s)"), out
    return out


def padded(d, size):
    """d as one JSON line of exactly size bytes (spaces before its closing brace)."""
    t = json.dumps(d)
    assert len(t) <= size
    return t[:-1] + " " * (size - len(t)) + "}"


def oid(line):
    return "%s_%s" % (line["increment_id"], line["sale_product_id"])


# 1. The same lines, the same store as the command's.

ROUND1 = [
    sale(1000, 1),
    "",
    sale(1000, 2, status="acknowledged"),
    sale(1001, 3, supplier=N, status="shipped", acknowledged_at="2027-05-30T10:00:00Z",
         prepared_at="2027-05-31T09:00:00Z"),
    sale(1001, 4, supplier=N, price=12.5, label="labels/1001_4.pdf"),
    sale(1002, 5, status="cancelled"),
    sale(1002, 6, status="refused", reason="out_of_stock", note="no more"),
    "{not json",
    sale(1003, 7, quantity=0),
    {k: v for k, v in sale(1003, 8).items() if k != "sku"},
    sale(1003, 9, color="red"),
    '{"increment_id": "1003", "increment_id": "1003", "sale_product_id": 10, "supplier": "asir-group", '
    '"sku": "S", "quantity": 1, "price": "1.00", "order_date": "2026-01-15", "carrier": "C"}',
    sale(1003, 11, supplier="nobody"),
    sale(1009, 1),                                 # sale_product_id 1 is 1000's
    sale(1003, 12, status="acknowledged", prepared_at="2027-05-31T09:00:00Z"),
    "   \t  ",
    sale(1004, 13, supplier=N, price="99.99"),
]
ROUND1_VALID = [l for i, l in enumerate(ROUND1) if i in (0, 2, 3, 4, 5, 6, 16)]
ROUND3 = [
    sale(1000, 1, quantity=3),                                            # updated
    sale(1000, 2),                                                        # never back: unchanged
    sale(1000, 2, status="shipped"),                                      # forward: updated
    sale(1001, 3, supplier=N),                                            # shipped stays: unchanged
    sale(1002, 5),                                                        # cancelled stays: unchanged
    sale(1002, 5, status="shipped"),                                      # a cancellation is final: unchanged
    sale(1000, 1, quantity=3, status="cancelled"),                        # cancelled: updated
    sale(1001, 4, price=12.5, label="labels/1001_4.pdf"),                 # notio's: rejected
    sale(1005, 4, supplier=N),                                            # 1001's: rejected
    sale(1006, 14),                                                       # created
    sale(1006, 14, sku="CHANGED"),                                        # updated in the same import
    sale(1006, 15, status="bogus"),                                       # rejected
    sale(1006, 16, status="refused"),                                     # rejected: no reason
    sale(1004, 13, supplier=N, price="99.99", label="labels/late.pdf"),   # the label arrives: updated
    sale(1002, 6, status="refused", reason="out_of_stock", note="no more"),   # unchanged
    sale(1001, 4, supplier=N, price=12.5),                                # no label said: kept, unchanged
    sale(1000, 20, status="cancelled"),                                   # created cancelled
    sale(1002, 6, status="acknowledged"),                                 # refused stays: unchanged
]
# What the three imports leave, by supplier (get-sales with status=all lists every sale product).
STORED = {A: ["1000_1", "1000_2", "1000_20", "1002_5", "1002_6", "1006_14"], N: ["1001_3", "1001_4", "1004_13"]}


def test_the_same_lines_give_the_same_store_as_the_command():
    """Three imports into two stores, one over HTTP, one by `menzzo-admin import` (same clock): the counts of
    each answer, the same rejected lines (numbers and sentences) as the command's standard error, the valid
    lines committed; after each the same get-sales, feeds and outbox (one event per change), at the end the
    same shows and sale logs (but their user: cron over HTTP); `check` clean in both."""
    with Store(**CLOCK) as web_store, Store(**CLOCK) as cli_store:
        bo = web_store.token("--backoffice")
        tokens = {store: {sup: store.token(sup) for sup in SUPPLIERS} for store in (web_store, cli_store)}
        rounds = [
            # (lines, clock, (created, updated, unchanged, rejected), rejected line numbers)
            (ROUND1, NOW, (7, 0, 0, 8), list(range(8, 16))),
            (ROUND1_VALID, NOW + DAY, (0, 0, 7, 0), []),
            (ROUND3, NOW + 2 * DAY, (2, 5, 7, 4), [8, 9, 12, 13]),
        ]
        for n, (lines, t, expected, bad_lines) in enumerate(rounds):
            body = text_of(lines)
            before = len(outbox(web_store))
            j = answer(http_import(web_store, bo, body, env=clock(t)))
            assert (j["created"], j["updated"], j["unchanged"], j["rejected_count"]) == expected, (n, j)
            assert [item["line"] for item in j["rejected"]] == bad_lines, (n, j)
            _, cli_rejected, changed = cli_import(cli_store, body, env=clock(t))
            assert j["rejected"] == cli_rejected, (n, j["rejected"], cli_rejected)
            assert changed == j["created"] + j["updated"], (n, changed, j)
            web, cli = snapshot(web_store, tokens[web_store]), snapshot(cli_store, tokens[cli_store])
            for part in web:
                assert web[part] == cli[part], (n, part, web[part], cli[part])
            # one event per change, of the import's types
            new = web["outbox"][before:]
            assert len(new) == j["created"] + j["updated"], (n, new)
            assert {e["type"] for e in new} <= {"sale.created", "sale.updated", "sale.cancelled"}, new
        # nothing but the valid lines' sale products
        for sup, oids in STORED.items():
            assert sorted(i["menzzo_order_id"] for i in web["get-sales"][sup]) == sorted(oids), web["get-sales"][sup]
        oids = STORED[A] + STORED[N]
        logged = ("1000_1", "1000_2", "1002_5", "1004_13", "1006_14")
        web, cli = records(web_store, oids, logged), records(cli_store, oids, logged)
        for o in oids:
            assert web[o] == cli[o], (o, web[o], cli[o])
        # the end state, as the rules say
        shown = {o: web[o][0] for o in oids}
        assert shown["1000_1"]["status"] == "cancelled" and shown["1000_1"]["quantity"] == 3
        assert shown["1000_2"]["status"] == "shipped"
        assert shown["1001_3"]["status"] == "shipped" and shown["1001_3"]["prepared_at"] == "2027-05-31T09:00:00Z"
        assert shown["1001_4"]["label"] == "labels/1001_4.pdf" and shown["1001_4"]["supplier"] == N
        assert shown["1002_5"]["status"] == "cancelled" and shown["1002_6"]["status"] == "refused"
        assert shown["1004_13"]["label"] == "labels/late.pdf"
        assert shown["1006_14"]["sku"] == "CHANGED" and shown["1000_20"]["status"] == "cancelled"
        assert (shown["1000_1"]["created_at"], shown["1000_1"]["updated_at"]) == ("2027-06-01T12:00:00Z",
                                                                                 "2027-06-03T12:00:00Z")
        # every entry the HTTP imports wrote names MENZZO_LOG_USER's default and its request's id (the
        # command's, no request id)
        log = sale_log(web_store, "1000_1")
        assert [(e["action"], e["user"]) for e in log] == [("imported", "cron"), ("updated", "cron"), ("cancelled", "cron")]
        assert all(re.fullmatch(r"[0-9a-f]{16}", e["request_id"]) for e in log), log
        assert log[1]["request_id"] == log[2]["request_id"] != log[0]["request_id"], log
        assert all("request_id" not in e for e in sale_log(cli_store, "1000_1"))
        assert check_clean(web_store) == check_clean(cli_store), (check_clean(web_store), check_clean(cli_store))
        # ROUND1 again (after the comparison: it changes 1000_1's quantity back, and nothing else): the same
        # rejected lines, with the sentences the command writes
        j = answer(http_import(web_store, bo, ROUND1))
        assert (j["created"], j["updated"], j["unchanged"], j["rejected_count"]) == (0, 1, 6, 8), j
        assert j["rejected"] == [
            {"line": 8, "error": "not one JSON object with only what follows it on its line being blanks"},
            {"line": 9, "error": "quantity must be an integer from 1 to 100000"},
            {"line": 10, "error": "sku is required"},
            {"line": 11, "error": 'unknown field "color"'},
            {"line": 12, "error": 'field "increment_id" is given twice'},
            {"line": 13, "error": j["rejected"][5]["error"]},
            {"line": 14, "error": "sale_product_id 1 belongs to increment_id 1000"},
            {"line": 15, "error": "an acknowledged sale product has no prepared_at"},
        ], j["rejected"]
        assert j["rejected"][5]["error"].startswith("supplier must be one of"), j


def test_line_numbers_count_blank_and_crlf_lines():
    """CRLF lines, blank lines (empty, spaces and tabs, a lone CR) and a last line without a newline: skipped
    or read as the command reads them, the rejected ones numbered by their place in the body."""
    with Store(**CLOCK) as s, Store(**CLOCK) as cli_store:
        bo = s.token("--backoffice")
        lines = [json.dumps(sale(2000, 1)) + "\r", "\r", "", " \t \r", json.dumps(sale(2000, 2, quantity=-1)) + "\r",
                 "\t", json.dumps(sale(2000, 3, supplier=N)) + " \t\r", "  ", "[1, 2]\r",
                 json.dumps(sale(2000, 4))]
        body = "\n".join(lines)    # the last line has no newline
        j = answer(http_import(s, bo, body))
        assert (j["created"], j["updated"], j["unchanged"]) == (3, 0, 0), j
        assert [item["line"] for item in j["rejected"]] == [5, 9], j
        assert j["rejected"] == cli_import(cli_store, body)[1]
        for o in ("2000_1", "2000_3", "2000_4"):
            assert show(s, o) == show(cli_store, o) and show(s, o) is not None, o
        assert show(s, "2000_2") is None
        # a body of blank lines only, and an empty body: nothing to do, success
        for body in ("", "\n", "\r\n \t\r\n\n"):
            assert answer(http_import(s, bo, body)) == {"success": True, "created": 0, "updated": 0, "unchanged": 0,
                                                        "rejected": [], "rejected_count": 0}, repr(body)
        check_clean(s)


def test_unusual_blank_and_long_lines_are_read_as_the_command_reads_them():
    """Lines at the edges of the command's reading: more than one CR at the end of a blank line (the command
    skips it), a line of 70,000 spaces (the command rejects it as too long), a line of exactly 65,536 bytes
    before its CR (the command counts the CR: too long).  The answer lists what the command reports."""
    with Store(**CLOCK) as s, Store(**CLOCK) as cli_store:
        bo = s.token("--backoffice")
        body = text_of([sale(2100, 1), "\r\r", " \r\r", sale(2100, 2), " " * 70000,
                        padded(sale(2100, 3), LINE_MAX) + "\r", sale(2100, 4)])
        j = answer(http_import(s, bo, body))
        _, cli_rejected, changed = cli_import(cli_store, body)
        assert j["rejected"] == cli_rejected, ("the answer", j["rejected"], "the command", cli_rejected)
        assert j["created"] == changed, (j, changed)
        for o in ("2100_1", "2100_2", "2100_3", "2100_4"):
            assert show(s, o) == show(cli_store, o), o


# 2. What a body may be.

def test_content_types_and_bodies_that_are_not_text():
    with Store(**CLOCK) as s:
        bo = s.token("--backoffice")
        accepted = ["application/x-ndjson", "application/jsonl", "application/x-ndjson; charset=utf-8",
                    "application/jsonl;charset=UTF-8", "APPLICATION/JSONL", "Application/X-NDJSON ; charset=utf-8"]
        for i, ct in enumerate(accepted):
            assert counts(http_import(s, bo, [sale(3000, 1 + i)], content_type=ct)) == (1, 0, 0, 0), ct
        assert created_oids(outbox(s)) == ["3000_%d" % (1 + i) for i in range(len(accepted))]
        before = stored(s)
        refused = [None, "application/json", "text/plain", "application/x-www-form-urlencoded", "application/ndjson",
                   "application/x-ndjsonx", "application/jsonlines", "application/jsonl-seq", "x-ndjson",
                   "text/x-ndjson", "application/x-ndjson,application/json"]
        for ct in refused:
            r = http_import(s, bo, [sale(3001, 101)], content_type=ct)
            assert assert_error(r, 400, "invalid_body")["error"] == NOT_JSON_LINES, ct
        # a NUL byte anywhere: not text, nothing written (not even the lines before it)
        for body in (text_of([sale(3002, 201)]) + "\0\n", text_of([sale(3002, 202)]) + '{"sku": "a\0b"}\n',
                     text_of([sale(3002, 201), sale(3002, 202)]) + "\0", "\0"):
            r = http_import(s, bo, body.encode())
            assert assert_error(r, 400, "invalid_body")["error"] == "The body is not text: it holds a NUL byte.", r
        assert stored(s) == before
        # bytes that are not UTF-8 are the line's problem, not the body's
        body = text_of([sale(3003, 301)]).encode() + b'{"sku": "\xff"}\n' + text_of([sale(3003, 302)]).encode()
        r = http_import(s, bo, body)
        j = answer(r)
        assert (j["created"], j["rejected_count"]) == (2, 1) and j["rejected"][0]["line"] == 2, j
        check_clean(s)


def test_a_line_over_65536_bytes_is_rejected_the_others_committed():
    with Store(**CLOCK) as s, Store(**CLOCK) as cli_store:
        bo = s.token("--backoffice")
        lines = [sale(4000, 1), padded(sale(4000, 2), LINE_MAX), padded(sale(4000, 3), LINE_MAX + 1),
                 sale(4000, 4), "x" * (MiB + 3), padded(sale(4000, 5, supplier=N), 3 * LINE_MAX), sale(4000, 6)]
        assert len(lines[1]) == LINE_MAX
        j = answer(http_import(s, bo, lines))
        assert j == {"success": False, "created": 4, "updated": 0, "unchanged": 0,
                     "rejected": [{"line": 3, "error": TOO_LONG}, {"line": 5, "error": TOO_LONG},
                                  {"line": 6, "error": TOO_LONG}], "rejected_count": 3}, j
        assert cli_import(cli_store, lines)[1] == j["rejected"]
        for o in ("4000_1", "4000_2", "4000_4", "4000_6"):
            assert show(s, o)["status"] == "pending" and show(s, o) == show(cli_store, o), o
        assert show(s, "4000_3") is None and show(s, "4000_5") is None
        check_clean(s)


def test_the_first_1000_rejected_lines_are_listed_and_all_counted():
    with Store(**CLOCK) as s:
        bo = s.token("--backoffice")
        lines, bad, good = [], [], []
        for i in range(1, 1301):
            if i % 10 == 0:
                lines.append(sale(5000, i))
                good.append("5000_%d" % i)
            else:
                lines.append(sale(5000, i, quantity=0) if i % 2 else "{")
                bad.append(len(lines))
            if i % 100 == 0:
                lines.append("")
        j = answer(http_import(s, bo, lines))
        assert len(bad) == 1170
        assert (j["success"], j["rejected_count"], j["created"]) == (False, 1170, 130), \
            (j["rejected_count"], j["created"])
        assert [item["line"] for item in j["rejected"]] == bad[:1000]
        assert {item["error"] for item in j["rejected"]} == {
            "quantity must be an integer from 1 to 100000",
            "not one JSON object with only what follows it on its line being blanks"}
        assert created_oids(outbox(s)) == good
        # exactly 1,000: all of them listed
        j = answer(http_import(s, bo, ["{"] * 1000 + [sale(5001, 1)]))
        assert j["rejected_count"] == 1000 and len(j["rejected"]) == 1000 and j["rejected"][-1]["line"] == 1000
        assert j["created"] == 1
        check_clean(s)


# 3. Body bounds.

def body_of_size(lines, size, pad_line=1000):
    """The lines, then blank lines of pad_line spaces (and a shorter one), to exactly size bytes."""
    text = text_of(lines)
    rest = size - len(text)
    assert rest >= 0
    pad = (" " * (pad_line - 1) + "\n") * (rest // pad_line)
    pad += " " * (rest - len(pad))
    body = (text + pad).encode()
    assert len(body) == size
    return body


def test_16_mib_is_taken_and_one_byte_more_is_413():
    with Store(**CLOCK) as s:
        bo = s.token("--backoffice")
        lines = [sale(6000 + i // 50, i, supplier=SUPPLIERS[i % len(SUPPLIERS)]) for i in range(1, 201)]
        over = body_of_size(lines[100:], 16 * MiB + 1)
        before = stored(s)
        r = http_import(s, bo, over)
        assert assert_error(r, 413, "body_too_large")["error"] == "The request body is larger than 16 MiB."
        assert stored(s) == before
        # a Content-Length over the bound is refused before the body is read
        r = http_import(s, bo, "", env={"CONTENT_LENGTH": str(16 * MiB + 1)})
        assert assert_error(r, 413, "body_too_large")["error"] == "The request body is larger than 16 MiB."
        # exactly 16 MiB: every line read
        exact = body_of_size(lines, 16 * MiB)
        assert counts(http_import(s, bo, exact)) == (200, 0, 0, 0)
        assert created_oids(outbox(s)) == [oid(l) for l in lines]
        assert show(s, oid(lines[-1]))["status"] == "pending"
        check_clean(s)


def test_body_bounds_through_lighttpd():
    """lighttpd lets this one URL carry more than 1 MiB: a 2 MiB import is read whole, and one of 16 MiB and a
    byte is the program's 413 (JSON, with its request id), nothing written; a supplier endpoint's 2 MiB body
    is cut by lighttpd itself (its own 413).  Scopes over HTTP too."""
    with Store(**CLOCK) as s:
        bo, tok = s.token("--backoffice"), s.token(A)
        lines = [sale(7000 + i // 20, i, supplier=SUPPLIERS[i % len(SUPPLIERS)]) for i in range(1, 501)]
        two = body_of_size(lines[:400], 2 * MiB)
        over = body_of_size(lines[400:], 16 * MiB + 1, pad_line=LINE_MAX)
        with Lighttpd(s) as web:
            path = "/api/backoffice/import"
            r = web.request("POST", path, token=bo, body=two, headers={"Content-Type": NDJ})
            assert counts(r) == (400, 0, 0, 0), r
            assert created_oids(outbox(s)) == [oid(l) for l in lines[:400]]
            before = stored(s)
            r = web.request("POST", path, token=bo, body=over, headers={"Content-Type": NDJ})
            assert assert_error(r, 413, "body_too_large")["error"] == "The request body is larger than 16 MiB.", r
            assert stored(s) == before
            # a supplier's endpoint: lighttpd's own 413 past 1 MiB (no request id: the program never ran)
            r = web.request("POST", f"/api/{A}/update-stock", token=tok, body=b" " * (2 * MiB),
                            headers={"Content-Type": "application/json"})
            assert r.status == 413 and r.json() == {"success": False, "error": "The request is too large.",
                                                    "code": "body_too_large"}, r
            assert "x-request-id" not in r.headers, r.headers
            # scopes, the method, the type, over HTTP
            small = text_of([sale(7999, 9999)])
            r = web.request("POST", path, token=tok, body=small, headers={"Content-Type": NDJ})
            assert_error(r, 403, "wrong_scope")
            r = web.request("POST", path, body=small, headers={"Content-Type": NDJ})
            assert_error(r, 401)
            r = web.request("GET", path, token=bo)
            assert_error(r, 405, "method_not_allowed")
            assert r.headers["allow"] == "POST", r.headers
            r = web.request("POST", path, token=bo, body=small, headers={"Content-Type": "application/json"})
            assert_error(r, 400, "invalid_body")
            assert show(s, "7999_9999") is None
            r = web.request("POST", path, token=bo, body=small,
                            headers={"Content-Type": "application/jsonl; charset=utf-8"})
            assert counts(r) == (1, 0, 0, 0)
        check_clean(s)


# 4. Scopes, methods, the rate limit.

def test_scopes_methods_and_the_rate_limit():
    with Store(MENZZO_RATE_LIMIT="1,5", **CLOCK) as s:
        tokens = {sup: s.token(sup) for sup in SUPPLIERS}
        bo = s.token("--backoffice")
        body = [sale(8000, 1)]
        for sup, tok in tokens.items():
            assert_error(http_import(s, tok, body), 403, "wrong_scope")
        r = http_import(s, None, body)
        assert_error(r, 401)
        assert r.headers["www-authenticate"] == 'Bearer realm="menzzo"', r.headers
        r = http_import(s, "mzk_" + "A" * 43, body)
        assert_error(r, 401)
        assert 'error="invalid_token"' in r.headers["www-authenticate"], r.headers
        # a revoked back-office token
        old = s.token("--backoffice")
        ids = [line.split()[0] for line in s.admin("token", "list").stdout.decode().splitlines()
               if line.split() and line.split()[0].isdigit()]
        s.admin("token", "revoke", ids[-1])
        assert_error(http_import(s, old, body), 401)
        for method in ("GET", "PUT", "DELETE"):
            r = s.cgi("backoffice/import", method=method, token=bo)
            assert_error(r, 405, "method_not_allowed")
            assert r.headers["allow"] == "POST", r.headers
        assert show(s, "8000_1") is None and outbox(s) == []

        def remaining(r):
            m = re.fullmatch(r'"per-token";r=(\d+)(?:;t=\d+)?', r.headers["ratelimit"])
            assert m and re.fullmatch(r'"per-token";q=\d+;w=\d+', r.headers["ratelimit-policy"]), r.headers
            return int(m.group(1))

        # every answer to a valid token counts, as get-sales's do: 200, 400, then 429 with nothing written
        sales = s.cgi(f"{A}/get-sales", token=tokens[A])
        r = http_import(s, bo, body)
        assert counts(r) == (1, 0, 0, 0) and remaining(r) == 4, r.headers
        assert r.headers["ratelimit-policy"] == sales.headers["ratelimit-policy"], (r.headers, sales.headers)
        r = http_import(s, bo, body, content_type="application/json")
        assert r.status == 400 and remaining(r) == 3, r
        r = http_import(s, bo, [sale(8000, 2), "{"])
        assert counts(r) == (1, 0, 0, 1) and remaining(r) == 2, r
        for left in (1, 0):
            r = http_import(s, bo, body)
            assert counts(r) == (0, 0, 1, 0) and remaining(r) == left, r
        r = http_import(s, bo, [sale(8000, 3)])
        assert_error(r, 429, "rate_limited")
        assert int(r.headers["retry-after"]) > 0, r.headers
        assert show(s, "8000_3") is None
        # another back-office token has its own count
        r = http_import(s, s.token("--backoffice"), [sale(8000, 3)])
        assert counts(r) == (1, 0, 0, 0) and remaining(r) == 4, r


# 5. Events, feeds, the cache.

def test_events_reach_the_feeds_and_the_cache_is_let_go():
    """An import over HTTP (MENZZO_LOG_USER set): its sale.created, sale.updated and sale.cancelled events in the
    outbox, in each supplier's feed (its own only) and the back office's; the log names the user; `check`
    clean; asir-group's cached get-sales (30 minutes) is a MISS with the change after an import that changed
    it, and what a HIT serves is always what the store holds."""
    env = {"MENZZO_LOG_USER": "bo-sync"}
    with Store(**CLOCK, **env) as s:
        bo, tok, ntok = s.token("--backoffice"), s.token(A), s.token(N)

        def sales(supplier=A, token=tok):
            r = s.cgi(f"{supplier}/get-sales", query="status=all", token=token)
            assert r.status == 200, r
            return r

        assert sales().headers["x-cache"] == "MISS" and sales().headers["x-cache"] == "HIT"
        first = [sale(9000, 1), sale(9000, 2), sale(9001, 3, supplier=N), sale(9001, 4, supplier=N, status="cancelled")]
        assert counts(http_import(s, bo, first)) == (4, 0, 0, 0)
        r = sales()
        assert r.headers["x-cache"] == "MISS" and [i["menzzo_order_id"] for i in r.json()] == ["9000_1", "9000_2"], r
        assert sales().headers["x-cache"] == "HIT"
        # an import that changes only notio's: what asir-group's cache serves is still the store's
        cached = sales().body
        assert counts(http_import(s, bo, [sale(9001, 3, supplier=N, quantity=2)])) == (0, 1, 0, 0)
        assert sales().body == cached and sales(N, ntok).json()[0]["quantity"] == 2
        # an import that changes nothing, one whose lines are all rejected
        assert counts(http_import(s, bo, first[:2])) == (0, 0, 2, 0)
        assert counts(http_import(s, bo, [sale(9000, 1, supplier=N), "{"])) == (0, 0, 0, 2)
        assert sales().body == cached
        # one that changes asir-group's: a MISS that shows it
        second = [sale(9000, 1, quantity=5), sale(9000, 2, status="cancelled"), sale(9002, 5)]
        assert counts(http_import(s, bo, second)) == (1, 2, 0, 0)
        r = sales()
        assert r.headers["x-cache"] == "MISS", r.headers
        items = {i["menzzo_order_id"]: i for i in r.json()}
        assert items["9000_1"]["quantity"] == 5 and items["9000_2"]["status"] == "cancelled" and "9002_5" in items
        # the outbox: one event per change, in line order
        evs = outbox(s)
        assert [(e["type"], e["menzzo_order_id"]) for e in evs] == [
            ("sale.created", "9000_1"), ("sale.created", "9000_2"), ("sale.created", "9001_3"),
            ("sale.cancelled", "9001_4"), ("sale.updated", "9001_3"), ("sale.updated", "9000_1"),
            ("sale.cancelled", "9000_2"), ("sale.created", "9002_5")], evs
        assert evs[5]["data"]["quantity"] == 5 and evs[5]["data"]["old_quantity"] == 1, evs[5]
        # each supplier's feed: its own events, numbered 1, 2, 3 ...; the back office's: the outbox
        for sup, t in ((A, tok), (N, ntok)):
            r = s.cgi(f"{sup}/get-events", token=t)
            assert r.status == 200, r
            feed = r.json()
            mine = [e for e in evs if e["supplier"] == sup]
            assert [e["seq"] for e in feed] == list(range(1, len(mine) + 1)), feed
            assert [dict(e, seq=None) for e in feed] == [dict(e, seq=None) for e in mine], sup
        r = s.cgi("backoffice/get-events", token=bo)
        assert r.status == 200 and r.json() == evs, r
        # the sale log names MENZZO_LOG_USER
        for o, actions in (("9000_1", ["imported", "updated"]), ("9000_2", ["imported", "cancelled"])):
            assert [(e["action"], e["user"]) for e in sale_log(s, o)] == [(a, "bo-sync") for a in actions], o
        assert check_clean(s).endswith(", 8 feed entries; 0 problem(s)")


def test_the_main_flow_through_lighttpd():
    """An import over lighttpd: its answer, the events in the feeds over HTTP, asir-group's cache let go."""
    with Store(**CLOCK) as s:
        bo, tok, ntok = s.token("--backoffice"), s.token(A), s.token(N)
        with Lighttpd(s) as web:
            assert web.request("GET", "/api/asir-group/get-sales", token=tok).headers["x-cache"] == "MISS"
            assert web.request("GET", "/api/asir-group/get-sales", token=tok).headers["x-cache"] == "HIT"
            body = text_of([sale(9100, 1), sale(9100, 2, supplier=N), "{", sale(9100, 3, status="cancelled")])
            r = web.request("POST", "/api/backoffice/import", token=bo, body=body,
                            headers={"Content-Type": "application/x-ndjson; charset=utf-8"})
            j = answer(r)
            assert j == {"success": False, "created": 3, "updated": 0, "unchanged": 0, "rejected": [
                {"line": 3, "error": "not one JSON object with only what follows it on its line being blanks"}],
                "rejected_count": 1}, j
            assert "ratelimit" in r.headers, r.headers
            assert re.fullmatch(r"[0-9A-Za-z-]{8,64}", r.headers["x-request-id"]), r.headers
            r = web.request("GET", "/api/asir-group/get-sales", token=tok)
            assert r.headers["x-cache"] == "MISS" and [i["menzzo_order_id"] for i in r.json()] == ["9100_1"], r
            r = web.request("GET", "/api/asir-group/get-events", token=tok)
            assert [(e["seq"], e["type"], e["menzzo_order_id"]) for e in r.json()] == [
                (1, "sale.created", "9100_1"), (2, "sale.cancelled", "9100_3")], r
            r = web.request("GET", "/api/notio/get-events", token=ntok)
            assert [(e["seq"], e["type"], e["menzzo_order_id"]) for e in r.json()] == [(1, "sale.created", "9100_2")], r
            r = web.request("GET", "/api/backoffice/get-events", token=bo)
            assert [e["seq"] for e in r.json()] == [1, 2, 3] and r.json() == outbox(s), r
        assert check_clean(s).endswith(", 3 feed entries; 0 problem(s)")


# 6. All or nothing.

def test_a_full_store_is_503_and_nothing_of_the_import_is_written():
    with Store(MENZZO_MAP_SIZE="256K", **CLOCK) as s:
        bo = s.token("--backoffice")

        def batch(start, count):
            return [sale(50000 + i, i, sku="S" * 60, label="labels/" + "x" * 180 + "%d.pdf" % i)
                    for i in range(start, start + count)]

        # fill the store with the command until an import of ten no longer fits
        n = 1
        while s.import_lines(batch(n, 10), check=False).returncode == 0:
            n += 10
        assert n > 20, n
        shown = {o: show(s, o) for o in ("50001_1", "50002_2")}
        before = stored(s)
        # an import that changes stored ones (first), then adds more than fits: a 503, none of it written
        lines = [sale(50000 + 1, 1, sku="S" * 60, quantity=7), sale(50000 + 2, 2, status="cancelled")]
        lines += ["{"] + batch(n, 40)
        r = http_import(s, bo, lines)
        assert_error(r, 503, "storage_full")
        assert int(r.headers["retry-after"]) > 0, r.headers
        assert {o: show(s, o) for o in shown} == shown and stored(s) == before
        check_clean(s)
        # an import that writes nothing still answers (a rejected line, an unchanged one)
        assert counts(http_import(s, bo, ["{", batch(1, 1)[0]])) == (0, 0, 1, 1)
