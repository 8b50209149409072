"""POST /api/{supplier}/acknowledge-sale and /ship-sale (SPEC §2.3, §2.4), the sale log and
events they write (§4), concurrency, and a full store."""
import calendar
import json
import re
import threading
import time

from harness import SUPPLIERS, Lighttpd, Store, assert_error, sale

TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SUCCESS_KEYS = {"success", "menzzo_order_id", "status", "acknowledged_at", "prepared_at", "changed"}
FORM = "application/x-www-form-urlencoded"


def post(s, supplier, action, body, token, **kw):
    return s.cgi(f"{supplier}/{action}", method="POST", body=body, token=token, **kw)


def ack(s, supplier, oid, token, **kw):
    return post(s, supplier, "acknowledge-sale", {"menzzo_order_id": oid}, token, **kw)


def ship(s, supplier, oid, token, **fields):
    kw = {k: fields.pop(k) for k in ("env", "headers") if k in fields}
    return post(s, supplier, "ship-sale", dict({"menzzo_order_id": oid}, **fields), token, **kw)


def ts_near_now(t, slack=120):
    assert isinstance(t, str) and TIMESTAMP_RE.match(t), t
    when = calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(when - time.time()) < slack, (t, time.time())


def assert_success(r, oid, status, changed):
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/json"
    j = r.json()
    assert set(j) == SUCCESS_KEYS, j
    assert j["success"] is True and j["menzzo_order_id"] == oid and j["status"] == status, j
    assert j["changed"] is changed, j
    return j


def show(s, oid):
    return json.loads(s.admin("show", oid).stdout)


def log(s, oid):
    return [json.loads(l) for l in s.admin("log", oid).stdout.splitlines()]


def events(s, *args, imports=False):
    """The outbox (menzzo-admin events): without imports, what the changes made by requests and commands
    wrote, an import's sale.created and sale.updated left out (tests/test_events.py covers those)."""
    every = [json.loads(l) for l in s.admin("events", *args).stdout.splitlines()]
    return every if imports else [e for e in every if e["type"] not in ("sale.created", "sale.updated")]


def store_with_sales(**env):
    s = Store(**env)
    lines = []
    for n, sup in enumerate(SUPPLIERS):
        base = 1000 * (n + 1)
        lines += [sale(15000012345 + n, base + k, supplier=sup) for k in range(1, 10)]
    s.import_lines(lines)
    return s


def ids_of(supplier):
    base = 1000 * (SUPPLIERS.index(supplier) + 1)
    inc = 15000012345 + SUPPLIERS.index(supplier)
    return ["%d_%d" % (inc, base + k) for k in range(1, 10)]


# The happy paths.

def test_acknowledge_then_ship_both_suppliers():
    with store_with_sales() as s:
        for sup in SUPPLIERS:
            tok = s.token(sup)
            oid = ids_of(sup)[0]
            j = assert_success(ack(s, sup, oid, tok), oid, "acknowledged", True)
            ts_near_now(j["acknowledged_at"])
            assert j["prepared_at"] is None
            time.sleep(1.1)
            k = assert_success(ship(s, sup, oid, tok), oid, "shipped", True)
            assert k["acknowledged_at"] == j["acknowledged_at"], "shipping keeps the receipt time"
            ts_near_now(k["prepared_at"])
            assert k["prepared_at"] > k["acknowledged_at"]
            sp = show(s, oid)
            assert sp["status"] == "shipped" and sp["acknowledged_at"] == j["acknowledged_at"]
            assert sp["prepared_at"] == k["prepared_at"] and sp["supplier"] == sup
            # the listing shows it the same way
            r = s.cgi(f"{sup}/get-sales", query="order_number=" + oid, token=tok)
            item = r.json()[0]
            assert (item["status"], item["acknowledged_at"], item["prepared_at"]) == \
                ("shipped", j["acknowledged_at"], k["prepared_at"])


def test_ship_without_acknowledge_sets_both_timestamps():
    with store_with_sales() as s:
        for sup in SUPPLIERS:
            tok = s.token(sup)
            oid = ids_of(sup)[1]
            j = assert_success(ship(s, sup, oid, tok), oid, "shipped", True)
            ts_near_now(j["prepared_at"])
            assert j["acknowledged_at"] == j["prepared_at"], j
            sp = show(s, oid)
            assert sp["acknowledged_at"] == sp["prepared_at"] == j["prepared_at"]


def test_form_bodies():
    with store_with_sales() as s:
        for sup in SUPPLIERS:
            tok = s.token(sup)
            a, b, c, d = ids_of(sup)[:4]
            # what `curl -d menzzo_order_id=...` sends
            r = post(s, sup, "acknowledge-sale", "menzzo_order_id=" + a, tok, content_type=FORM)
            assert_success(r, a, "acknowledged", True)
            r = post(s, sup, "ship-sale", "menzzo_order_id=" + b, tok, content_type=FORM)
            assert_success(r, b, "shipped", True)
            # what `curl -d '{"menzzo_order_id": ...}'` sends: JSON text labelled as a form
            r = post(s, sup, "acknowledge-sale", json.dumps({"menzzo_order_id": c}), tok, content_type=FORM)
            assert_success(r, c, "acknowledged", True)
            r = post(s, sup, "ship-sale", '{"menzzo_order_id": "%s", "carrier": "DHL"}' % d, tok,
                     content_type=FORM)
            assert_success(r, d, "shipped", True)
            assert show(s, d)["ship_carrier"] == "DHL"
            # form with the optional fields, percent- and plus-encoded
            e = ids_of(sup)[4]
            r = post(s, sup, "ship-sale", f"tracking_number=TR%2F1+2&menzzo_order_id={e}&carrier=DPD+Fr",
                     tok, content_type=FORM)
            assert_success(r, e, "shipped", True)
            sp = show(s, e)
            assert sp["tracking_number"] == "TR/1 2" and sp["ship_carrier"] == "DPD Fr", sp
            # JSON with a charset parameter
            f = ids_of(sup)[5]
            r = post(s, sup, "acknowledge-sale", json.dumps({"menzzo_order_id": f}), tok,
                     content_type="application/json; charset=utf-8")
            assert_success(r, f, "acknowledged", True)


def test_tracking_number_and_carrier_stored_and_shown():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        a, b = ids_of("asir-group")[:2]
        r = ship(s, "asir-group", a, tok, tracking_number="6A12345678901", carrier="COLISSIMO")
        assert_success(r, a, "shipped", True)
        sp = show(s, a)
        assert sp["tracking_number"] == "6A12345678901" and sp["ship_carrier"] == "COLISSIMO", sp
        assert sp["carrier"] == "CHRONOPOST", "the order's own carrier is kept"
        entry = log(s, a)[-1]
        assert entry["action"] == "shipped" and "6A12345678901" in json.dumps(entry)
        ev = [e for e in events(s) if e["menzzo_order_id"] == a]
        assert len(ev) == 1
        assert_success(ship(s, "asir-group", b, tok), b, "shipped", True)
        sp = show(s, b)
        assert sp["tracking_number"] is None and sp["ship_carrier"] is None, sp
        # bounded strings
        c = ids_of("asir-group")[2]
        for fields in ({"tracking_number": "T" * 2000}, {"carrier": "C" * 2000}, {"tracking_number": 123},
                       {"carrier": None}, {"tracking_number": "bad\u0000nul"}, {"carrier": ["DHL"]}):
            r = ship(s, "asir-group", c, tok, **fields)
            assert_error(r, 400)
        assert show(s, c)["status"] == "pending"


# Every status code.

def test_malformed_bodies_are_400():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        oid = ids_of("asir-group")[0]
        bodies = [
            ('{"menzzo_order_id": "%s"' % oid, "application/json"),
            ('{"menzzo_order_id": "%s"}}' % oid, "application/json"),
            ('{"menzzo_order_id": "%s"} x' % oid, "application/json"),
            ('["%s"]' % oid, "application/json"),
            ('"%s"' % oid, "application/json"),
            ("null", "application/json"),
            ("42", "application/json"),
            ("{}", "application/json"),
            ("", "application/json"),
            ('{"menzzo_order_id": 15000012345}', "application/json"),
            ('{"menzzo_order_id": null}', "application/json"),
            ('{"menzzo_order_id": ["%s"]}' % oid, "application/json"),
            ('{"menzzo_order_id": {"id": "%s"}}' % oid, "application/json"),
            ('{"menzzo_order_id": true}', "application/json"),
            ('{"order_id": "%s"}' % oid, "application/json"),
            ("menzzo_order_id=%s&menzzo_order_id=%s" % (oid, oid), FORM),
            ("menzzo_order_id=" + oid + "%00", FORM),
            ("menzzo_order_id=%zz", FORM),
            ("id=" + oid, FORM),
            ('{"menzzo_order_id": "%s\\u0000"}' % oid, "application/json"),
            ('{"menzzo_order_id": "%s"}\x00' % oid, "application/json"),
        ]
        for action in ("acknowledge-sale", "ship-sale"):
            for body, ctype in bodies:
                r = post(s, "asir-group", action, body, tok, content_type=ctype)
                j = assert_error(r, 400)
                assert tok not in r.body.decode() and s.dir not in r.body.decode(), (body, j)
        assert show(s, oid)["status"] == "pending"
        assert events(s) == []


def test_bad_menzzo_order_ids_are_400():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        bad = ["abc", "1_", "_1", "01_2", "1_02", "1_2_3", "1__2", "1-2", "1", "15000012345",
               " 1_2", "1_2 ", "+1_2", "-1_2", "1_-2", "1.0_2", "0x1_2", "1_2\u0000", "\u00001_2",
               "18446744073709551616_1", "1_18446744073709551616", "1_2\n", "١_٢", ""]
        for action in ("acknowledge-sale", "ship-sale"):
            for oid in bad:
                r = post(s, "asir-group", action, json.dumps({"menzzo_order_id": oid}), tok,
                         content_type="application/json")
                assert_error(r, 400)
        # the largest ids that fit in 64 bits are well formed: unknown, so 404
        r = ack(s, "asir-group", "18446744073709551615_18446744073709551615", tok)
        assert_error(r, 404)


def test_unknown_mismatched_and_foreign_ids_are_404():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        mine = ids_of("asir-group")[0]
        theirs = ids_of("notio")[0]
        inc, sp = mine.split("_")
        for action in ("acknowledge-sale", "ship-sale"):
            unknown = post(s, "asir-group", action, {"menzzo_order_id": "15000012345_999999"}, tok)
            ju = assert_error(unknown, 404)
            # the increment_id does not match the sale product
            for oid in ("%d_%s" % (int(inc) + 1, sp), "1_%s" % sp, "%s_%d" % (inc, int(sp) + 500)):
                assert_error(post(s, "asir-group", action, {"menzzo_order_id": oid}, tok), 404)
            # another supplier's sale product: exactly as if it did not exist
            r = post(s, "asir-group", action, {"menzzo_order_id": theirs}, tok)
            jt = assert_error(r, 404)
            assert jt == ju, (jt, ju)
            assert "notio" not in r.body.decode() and theirs not in r.body.decode()
        assert show(s, theirs)["status"] == "pending" and len(log(s, theirs)) == 1
        assert show(s, mine)["status"] == "pending"
        assert events(s) == []


def test_cancelled_is_409():
    with store_with_sales() as s:
        for sup in SUPPLIERS:
            tok = s.token(sup)
            a, b = ids_of(sup)[:2]
            s.admin("cancel", a)
            assert_success(ack(s, sup, b, tok), b, "acknowledged", True)
            s.admin("cancel", b)
            before = (len(log(s, a)), len(log(s, b)), len(events(s)))
            for oid in (a, b):
                assert_error(ack(s, sup, oid, tok), 409)
                assert_error(ship(s, sup, oid, tok), 409)
                assert_error(post(s, sup, "ship-sale", "menzzo_order_id=" + oid, tok, content_type=FORM), 409)
                assert show(s, oid)["status"] == "cancelled"
            assert (len(log(s, a)), len(log(s, b)), len(events(s))) == before


def test_wrong_method_is_405():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        oid = ids_of("asir-group")[0]
        for action in ("acknowledge-sale", "ship-sale"):
            for method in ("GET", "PUT", "DELETE", "PATCH", "HEAD"):
                r = s.cgi(f"asir-group/{action}", method=method, token=tok,
                          query="menzzo_order_id=" + oid)
                assert r.status == 405, (method, r)
                assert r.headers["allow"] == "POST", r.headers
                if method != "HEAD":
                    assert_error(r, 405)
            # without a token the method is still the first complaint or a 401, never a change
            r = s.cgi(f"asir-group/{action}", method="GET")
            assert r.status in (401, 405), r
        assert show(s, oid)["status"] == "pending"


def test_body_larger_than_64_kib_is_413():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        a, b, c = ids_of("asir-group")[:3]
        for action, oid in (("acknowledge-sale", a), ("ship-sale", b)):
            text = json.dumps({"menzzo_order_id": oid})
            big = text + " " * (65537 - len(text))
            assert len(big) == 65537
            r = post(s, "asir-group", action, big, tok, content_type="application/json")
            assert_error(r, 413)
            assert show(s, oid)["status"] == "pending"
            r = post(s, "asir-group", action, "menzzo_order_id=" + oid + "&pad=" + "x" * 70000, tok,
                     content_type=FORM)
            assert_error(r, 413)
            # exactly 64 KiB is accepted
            exact = text + " " * (65536 - len(text))
            r = post(s, "asir-group", action, exact, tok, content_type="application/json")
            assert r.status == 200, r
        form = "menzzo_order_id=%s&pad=" % c
        form += "x" * (65536 - len(form))
        r = post(s, "asir-group", "acknowledge-sale", form, tok, content_type=FORM)
        assert r.status != 413, r
        # a Content-Length over the limit is refused before reading
        r = post(s, "asir-group", "ship-sale", "", tok, content_type="application/json",
                 env={"CONTENT_LENGTH": "1000000000"})
        assert_error(r, 413)


def test_authentication_401_and_403():
    with store_with_sales() as s:
        atok, ntok = s.token("asir-group"), s.token("notio")
        oid = ids_of("asir-group")[0]
        for action in ("acknowledge-sale", "ship-sale"):
            r = post(s, "asir-group", action, {"menzzo_order_id": oid}, None)
            assert_error(r, 401)
            assert r.headers["www-authenticate"] == 'Bearer realm="menzzo"'
            for tok in ("mzk_unknown", "x" * 500):
                r = post(s, "asir-group", action, {"menzzo_order_id": oid}, tok)
                assert_error(r, 401)
                assert 'error="invalid_token"' in r.headers["www-authenticate"]
                assert tok not in r.body.decode()
            r = post(s, "asir-group", action, {"menzzo_order_id": oid}, ntok)
            assert_error(r, 403)
            assert ntok not in r.body.decode()
        # a revoked token
        tid = [l for l in s.admin("token", "list").stdout.decode().splitlines() if "notio" in l][0]
        s.admin("token", "revoke", tid.split("\t")[0])
        assert_error(post(s, "notio", "ship-sale", {"menzzo_order_id": ids_of("notio")[0]}, ntok), 401)
        assert show(s, oid)["status"] == "pending" and show(s, ids_of("notio")[0])["status"] == "pending"
        assert events(s) == []


# Idempotency, the sale log and the events.

def test_repeats_are_idempotent():
    with store_with_sales() as s:
        for sup in SUPPLIERS:
            tok = s.token(sup)
            a, b = ids_of(sup)[:2]
            first = assert_success(ack(s, sup, a, tok), a, "acknowledged", True)
            n_log, n_ev = len(log(s, a)), len(events(s))
            time.sleep(1.1)
            again = assert_success(ack(s, sup, a, tok), a, "acknowledged", False)
            assert again["acknowledged_at"] == first["acknowledged_at"] and again["prepared_at"] is None
            r = post(s, sup, "acknowledge-sale", "menzzo_order_id=" + a, tok, content_type=FORM)
            assert_success(r, a, "acknowledged", False)
            assert (len(log(s, a)), len(events(s))) == (n_log, n_ev)
            # ship twice; the repeat keeps the first shipment's details
            first = assert_success(ship(s, sup, b, tok, tracking_number="FIRST"), b, "shipped", True)
            n_log, n_ev = len(log(s, b)), len(events(s))
            updated = show(s, b)["updated_at"]
            time.sleep(1.1)
            again = assert_success(ship(s, sup, b, tok, tracking_number="SECOND"), b, "shipped", False)
            assert (again["acknowledged_at"], again["prepared_at"]) == \
                (first["acknowledged_at"], first["prepared_at"])
            assert (len(log(s, b)), len(events(s))) == (n_log, n_ev)
            sp = show(s, b)
            assert sp["tracking_number"] == "FIRST" and sp["updated_at"] == updated, sp
            # acknowledging a shipped sale product is a repeat
            late = assert_success(ack(s, sup, b, tok), b, "shipped", False)
            assert (late["acknowledged_at"], late["prepared_at"]) == \
                (first["acknowledged_at"], first["prepared_at"])
            assert (len(log(s, b)), len(events(s))) == (n_log, n_ev)
            assert show(s, b)["status"] == "shipped"


def test_log_entries_name_user_and_request_id():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        a, b, c = ids_of("asir-group")[:3]
        r1 = ack(s, "asir-group", a, tok)
        r2 = ship(s, "asir-group", a, tok)
        entries = log(s, a)
        assert [e["action"] for e in entries] == ["imported", "acknowledged", "shipped"], entries
        for e, r in zip(entries[1:], (r1, r2)):
            assert e["user"] == "cron", e
            assert e["request_id"] == r.headers["x-request-id"], (e, r.headers)
            assert e["at"] == r.json()["acknowledged_at" if e["action"] == "acknowledged" else "prepared_at"]
            assert TIMESTAMP_RE.match(e["at"])
        assert "acknowledged_at" in json.dumps(entries[1]) and "prepared_at" in json.dumps(entries[2])
        r3 = ship(s, "asir-group", b, tok, env={"MENZZO_LOG_USER": "nightly-robot"})
        e = log(s, b)[-1]
        assert e["user"] == "nightly-robot" and e["request_id"] == r3.headers["x-request-id"], e
        r4 = post(s, "asir-group", "acknowledge-sale", "menzzo_order_id=" + c, tok, content_type=FORM,
                  env={"MENZZO_LOG_USER": "sync"})
        e = log(s, c)[-1]
        assert e["action"] == "acknowledged" and e["user"] == "sync"
        assert e["request_id"] == r4.headers["x-request-id"]
        assert len({r.headers["x-request-id"] for r in (r1, r2, r3, r4)}) == 4


def test_events_outbox():
    with store_with_sales() as s:
        atok, ntok = s.token("asir-group"), s.token("notio")
        a, b = ids_of("asir-group")[:2]
        n = ids_of("notio")[0]
        ack(s, "asir-group", a, atok)
        ship(s, "asir-group", a, atok)
        ship(s, "notio", n, ntok)
        ack(s, "asir-group", b, atok)
        s.admin("cancel", b)
        ev = events(s)
        assert len(ev) == 5, ev
        seqs = [e["seq"] for e in ev]
        assert seqs == sorted(seqs) and len(set(seqs)) == 5 and all(isinstance(q, int) for q in seqs)
        for e in ev:
            assert {"seq", "type", "menzzo_order_id", "supplier", "at"} <= set(e), e
            assert TIMESTAMP_RE.match(e["at"]) and isinstance(e["type"], str) and e["type"]
        assert [(e["menzzo_order_id"], e["supplier"]) for e in ev] == \
            [(a, "asir-group"), (a, "asir-group"), (n, "notio"), (b, "asir-group"), (b, "asir-group")]
        types = [e["type"] for e in ev]
        assert "ack" in types[0] and "ship" in types[1] and "ship" in types[2] and "cancel" in types[4], types
        assert types[1] == types[2] and types[0] == types[3]
        assert events(s, "--after", str(seqs[1])) == ev[2:]
        assert events(s, "--after", str(seqs[0]), "--limit", "2") == ev[1:3]
        assert events(s, "--after", str(seqs[0] - 1), "--limit", "1") == ev[:1]
        assert events(s, "--limit", "1", imports=True) == events(s, imports=True)[:1]
        assert events(s, "--after", str(seqs[4])) == []
        assert events(s, "--after", "0") == ev


# Concurrency.

def run_parallel(fns):
    barrier = threading.Barrier(len(fns))
    results = [None] * len(fns)
    errors = []

    def worker(i, fn):
        try:
            barrier.wait(30)
            results[i] = fn()
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return results


def test_concurrent_ships_of_one_sale_product():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        oid = ids_of("asir-group")[0]
        results = run_parallel([lambda: ship(s, "asir-group", oid, tok)] * 24)
        assert [r.status for r in results] == [200] * 24, results
        bodies = [assert_success(r, oid, "shipped", r.json()["changed"]) for r in results]
        assert sum(1 for j in bodies if j["changed"] is True) == 1, bodies
        assert len({j["prepared_at"] for j in bodies}) == 1, bodies
        assert len({j["acknowledged_at"] for j in bodies}) == 1
        assert [e["action"] for e in log(s, oid)] == ["imported", "shipped"]
        assert len(events(s)) == 1
        assert show(s, oid)["prepared_at"] == bodies[0]["prepared_at"]
        out = s.admin("check").stdout.decode()
        assert "0 problem(s)" in out, out


def test_concurrent_acknowledge_and_ship_of_one_sale_product():
    with store_with_sales() as s:
        tok = s.token("notio")
        oid = ids_of("notio")[0]
        jobs = [lambda: ("ack", ack(s, "notio", oid, tok))] * 12 + \
            [lambda: ("ship", ship(s, "notio", oid, tok))] * 12
        results = run_parallel(jobs)
        assert all(r.status == 200 for _, r in results), results
        changed = [(what, r.json()) for what, r in results if r.json()["changed"]]
        assert [w for w, _ in changed].count("ship") == 1 and [w for w, _ in changed].count("ack") <= 1
        sp = show(s, oid)
        assert sp["status"] == "shipped" and sp["acknowledged_at"] <= sp["prepared_at"]
        shipped = [j for w, r in results for j in [r.json()] if j["status"] == "shipped"]
        assert len({(j["acknowledged_at"], j["prepared_at"]) for j in shipped}) == 1, shipped
        assert [e["action"] for e in log(s, oid)] == ["imported"] + \
            (["acknowledged"] if len(changed) == 2 else []) + ["shipped"]
        assert len(events(s)) == len(changed)


def test_concurrent_acknowledgements_of_many_sale_products():
    with Store() as s:
        s.import_lines([sale(20000 + i // 3, 7000 + i, supplier=SUPPLIERS[i % 2]) for i in range(60)])
        toks = {sup: s.token(sup) for sup in SUPPLIERS}
        jobs = []
        for i in range(60):
            sup, oid = SUPPLIERS[i % 2], "%d_%d" % (20000 + i // 3, 7000 + i)
            jobs.append(lambda sup=sup, oid=oid: (oid, ack(s, sup, oid, toks[sup])))
        for oid, r in run_parallel(jobs):
            assert_success(r, oid, "acknowledged", True)
        ev = events(s)
        assert len(ev) == 60 and len({e["seq"] for e in ev}) == 60
        assert sorted(e["menzzo_order_id"] for e in ev) == \
            sorted("%d_%d" % (20000 + i // 3, 7000 + i) for i in range(60))
        for i in (0, 31, 59):
            oid = "%d_%d" % (20000 + i // 3, 7000 + i)
            assert [e["action"] for e in log(s, oid)] == ["imported", "acknowledged"]
        p = s.admin("check", check=False)
        assert p.returncode == 0 and "0 problem(s)" in p.stdout.decode(), p.stdout
        r = s.cgi("asir-group/get-sales", query="status=acknowledged", token=toks["asir-group"])
        assert len(r.json()) == 30


# A full store.

def test_storage_full_is_503_and_nothing_is_lost():
    with Store(MENZZO_MAP_SIZE="256K") as s:
        toks = {sup: s.token(sup) for sup in SUPPLIERS}
        imported, sp = [], 1
        for batch in (20, 5, 1):
            while sp < 1000:
                lines = [sale(40000 + i, i, supplier=SUPPLIERS[i % 2], sku="S" * 60,
                              label="labels/" + "x" * 180 + "%d.pdf" % i) for i in range(sp, sp + batch)]
                if s.import_lines(lines, check=False).returncode != 0:
                    break
                imported += ["%d_%d" % (40000 + i, i) for i in range(sp, sp + batch)]
                sp += batch
        assert 20 <= len(imported) < 900, len(imported)
        done, full = {}, {}
        for action in ("acknowledge-sale", "ship-sale"):
            for oid in imported:
                if oid in done or oid in full:
                    continue
                sup = SUPPLIERS[int(oid.split("_")[1]) % 2]
                r = post(s, sup, action, {"menzzo_order_id": oid}, toks[sup])
                if r.status == 200:
                    done[oid] = r.json()
                    continue
                assert_error(r, 503)
                assert int(r.headers["retry-after"]) > 0, r.headers
                assert s.dir not in r.body.decode()
                full[oid] = action
                if len([a for a in full.values() if a == action]) >= 3:
                    break
        assert set(full.values()) == {"acknowledge-sale", "ship-sale"}, (len(done), full)
        # nothing half-written: refused ones untouched, earlier ones intact
        for oid in full:
            sp_ = show(s, oid)
            assert sp_["status"] == "pending" and sp_["acknowledged_at"] is None, sp_
            assert [e["action"] for e in log(s, oid)] == ["imported"]
        for oid, j in done.items():
            sp_ = show(s, oid)
            assert (sp_["status"], sp_["acknowledged_at"], sp_["prepared_at"]) == \
                (j["status"], j["acknowledged_at"], j["prepared_at"]), (sp_, j)
            assert [e["action"] for e in log(s, oid)] == ["imported", j["status"]]
        for oid in imported:
            assert show(s, oid)["sku"] == "S" * 60
        assert len(events(s)) == len(done)
        p = s.admin("check", check=False)
        assert p.returncode == 0 and "0 problem(s)" in p.stdout.decode(), p.stdout
        # a repeat needs no space: still answered
        if done:
            oid, j = next(iter(done.items()))
            sup = SUPPLIERS[int(oid.split("_")[1]) % 2]
            action = "ship-sale" if j["status"] == "shipped" else "acknowledge-sale"
            r = post(s, sup, action, {"menzzo_order_id": oid}, toks[sup])
            assert_success(r, oid, j["status"], False)
        # reading still works
        r = s.cgi("asir-group/get-sales", query="status=all", token=toks["asir-group"])
        assert r.status == 200 and len(r.json()) == len([o for o in imported if int(o.split("_")[1]) % 2 == 0])


# End to end.

def test_lighttpd_end_to_end():
    with store_with_sales() as s:
        atok, ntok = s.token("asir-group"), s.token("notio")
        a, b, c = ids_of("asir-group")[:3]
        n = ids_of("notio")[0]
        s.admin("cancel", c)
        with Lighttpd(s) as web:
            r = web.request("POST", "/api/asir-group/acknowledge-sale", body={"menzzo_order_id": a}, token=atok)
            assert_success(r, a, "acknowledged", True)
            r = web.request("POST", "/api/asir-group/ship-sale", body="menzzo_order_id=" + b, token=atok,
                            headers={"Content-Type": FORM})
            assert_success(r, b, "shipped", True)
            r = web.request("POST", "/api/asir-group/ship-sale", body='{"menzzo_order_id": "%s"}' % b,
                            token=atok, headers={"Content-Type": FORM})
            assert_success(r, b, "shipped", False)
            assert log(s, b)[-1]["request_id"] != r.headers["x-request-id"]
            assert_error(web.request("POST", "/api/asir-group/ship-sale", body={"menzzo_order_id": "1_"},
                                     token=atok), 400)
            assert_error(web.request("POST", "/api/asir-group/ship-sale", body={"menzzo_order_id": n},
                                     token=atok), 404)
            assert_error(web.request("POST", "/api/asir-group/ship-sale", body={"menzzo_order_id": c},
                                     token=atok), 409)
            r = web.request("GET", "/api/asir-group/ship-sale", token=atok)
            assert_error(r, 405)
            assert r.headers["allow"] == "POST"
            big = json.dumps({"menzzo_order_id": a}) + " " * 65537
            r = web.request("POST", "/api/asir-group/acknowledge-sale", body=big, token=atok,
                            headers={"Content-Type": "application/json"})
            assert_error(r, 413)
            assert_error(web.request("POST", "/api/notio/ship-sale", body={"menzzo_order_id": n}), 401)
            assert_error(web.request("POST", "/api/notio/ship-sale", body={"menzzo_order_id": n},
                                     token=atok), 403)
            r = web.request("POST", "/api/notio/ship-sale", body={"menzzo_order_id": n, "tracking_number": "T1"},
                            token=ntok)
            assert_success(r, n, "shipped", True)
            assert log(s, n)[-1]["request_id"] == r.headers["x-request-id"]
        assert show(s, n)["tracking_number"] == "T1"
        assert len(events(s)) == 4  # a's ack, b's ship, n's ship, plus c's cancellation
