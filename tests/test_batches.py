"""Batches: {"items": [...]} on acknowledge-sale and ship-sale (SPEC §2.7): one write transaction and
one durable commit for the whole batch (counted with strace), each item decided on its own, one
result per item in request order, a success byte-identical to its single request's body; each CGI
run directly and through lighttpd."""
import json
import os
import re
import shutil
import subprocess
import tempfile

import harness
from harness import CGI_DIR, Lighttpd, Store, assert_error, sale
from test_actions import FORM, SUCCESS_KEYS, assert_success, events, log, post, show

FAILURE_KEYS = ["success", "menzzo_order_id", "code", "error"]


def store_of(n, supplier="asir-group", inc=700, **env):
    s = Store(**env)
    s.import_lines([sale(inc, i, supplier=supplier) for i in range(1, n + 1)])
    return s


def ids(n, inc=700):
    return ["%d_%d" % (inc, i) for i in range(1, n + 1)]


def batch(s, action, items, token, supplier="asir-group", **kw):
    return post(s, supplier, action, {"items": items}, token, **kw)


def results(r):
    assert r.status == 200, r
    j = r.json()
    assert list(j) == ["success", "results"], j
    return j


def syscalls(path):
    """The number of calls of each traced syscall in an strace -c summary."""
    counts = {}
    for line in open(path):
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
        if m and m.group(2) != "total":
            counts[m.group(2)] = int(m.group(1))
    return counts


def traced_post(s, action, body, token, supplier="asir-group"):
    """Runs the CGI under strace -f -c, counting fdatasync, fsync and msync: (response, counts)."""
    if shutil.which("strace") is None:
        raise AssertionError("strace is needed to count the commits of a batch")
    out = tempfile.mktemp(prefix="strace-", dir=s.dir)
    data = json.dumps(body).encode()
    env = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data)),
           "HTTP_AUTHORIZATION": f"Bearer {token}", "GATEWAY_INTERFACE": "CGI/1.1",
           "ASAN_OPTIONS": "detect_leaks=0"}  # LeakSanitizer cannot run under ptrace; the other runs check leaks
    p = s.run(["strace", "-f", "-c", "-o", out, "-e", "trace=fdatasync,fsync,msync",
               os.path.join(CGI_DIR, supplier, action)], input=data, env=env)
    assert p.returncode == 0, p.stderr
    r = harness.parse_cgi_output(p.stdout)
    return r, syscalls(out)


def test_a_batch_of_100_with_two_unknown_is_one_commit():
    with store_of(100) as s:
        tok = s.token("asir-group")
        items = [{"menzzo_order_id": oid} for oid in ids(100)]
        items[2] = {"menzzo_order_id": "700_1002"}     # item 3: unknown
        items[49] = {"menzzo_order_id": "701_50"}      # item 50: another order's
        r, counts = traced_post(s, "acknowledge-sale", {"items": items}, tok)
        j = results(r)
        assert j["success"] is False and len(j["results"]) == 100
        failed = [i for i, res in enumerate(j["results"]) if not res["success"]]
        assert failed == [2, 49], failed
        for i in failed:
            res = j["results"][i]
            assert list(res) == FAILURE_KEYS and res["code"] == "not_found", res
            assert res["menzzo_order_id"] == items[i]["menzzo_order_id"]
            assert res["error"] == "No sale product of this supplier has this menzzo_order_id."
        done = [res for res in j["results"] if res["success"]]
        assert len(done) == 98 and all(res["changed"] is True and res["status"] == "acknowledged" for res in done)
        assert [res["menzzo_order_id"] for res in j["results"]] == [it["menzzo_order_id"] for it in items]
        assert len({res["acknowledged_at"] for res in done}) == 1
        print(f"    batch of 100 (98 changes): {counts} (fdatasync + fsync + msync = {sum(counts.values())})")
        assert sum(counts.values()) == 1, f"one durable commit for the whole batch, not {counts}"
        # the same through 98 single requests costs a commit each
        with store_of(3, inc=800) as t:
            ttok = t.token("asir-group")
            _, one = traced_post(t, "acknowledge-sale", {"menzzo_order_id": "800_1"}, ttok)
            assert sum(one.values()) == 1, one
        assert len(events(s)) == 98
        for oid in (ids(100)[0], ids(100)[99]):
            entry = log(s, oid)[-1]
            assert entry["action"] == "acknowledged" and entry["request_id"] == r.headers["x-request-id"]
        assert show(s, "700_3")["status"] == "pending" and show(s, "700_50")["status"] == "pending"
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout


def test_results_are_the_single_requests_bodies():
    with store_of(6) as s:
        tok = s.token("asir-group")
        a, b, c, d, e, f = ids(6)
        assert_success(post(s, "asir-group", "acknowledge-sale", {"menzzo_order_id": a}, tok), a, "acknowledged", True)
        assert_success(post(s, "asir-group", "ship-sale", {"menzzo_order_id": b}, tok), b, "shipped", True)
        r = post(s, "asir-group", "acknowledge-sale", {"menzzo_order_id": c, "accepted": False, "reason": "other",
                                                        "note": "n\u00e9"}, tok)
        assert r.status == 200
        s.admin("cancel", d)
        # every item a repeat or a refusal: the batch body is made of the single bodies, byte for byte
        items = [{"menzzo_order_id": a}, {"menzzo_order_id": b}, {"menzzo_order_id": c, "accepted": False,
                                                                    "reason": "price_error"},
                 {"menzzo_order_id": d}, {"menzzo_order_id": "700_99"}, {"menzzo_order_id": "abc"},
                 {"menzzo_order_id": c}]
        singles = [post(s, "asir-group", "acknowledge-sale", it, tok) for it in items]
        r = batch(s, "acknowledge-sale", items, tok)
        j = results(r)
        assert j["success"] is False
        for single, it, res in zip(singles, items, j["results"]):
            if single.status == 200:
                assert json.dumps(res, separators=(",", ":"), ensure_ascii=False).encode() == single.body, (res, single)
            else:
                sj = single.json()
                assert list(res) == FAILURE_KEYS and res["success"] is False, res
                assert (res["code"], res["error"]) == (sj["code"], sj["error"]), (res, sj)
                assert res["menzzo_order_id"] == it["menzzo_order_id"]
        assert [res.get("code") for res in j["results"]] == \
            [None, None, None, "cancelled", "not_found", "invalid_order_id", "refused"]
        # the raw text itself: the single bodies joined
        ok_bodies = [one.body for one in singles if one.status == 200]
        for body in ok_bodies:
            assert body in r.body
        # a batch of repeats only writes nothing and needs no commit
        before = (len(events(s)), [len(log(s, x)) for x in (a, b, c)])
        r, counts = traced_post(s, "acknowledge-sale", {"items": items[:3]}, tok)
        assert results(r)["success"] is True and sum(counts.values()) == 0, counts
        assert r.body == b'{"success":true,"results":[' + b",".join(ok_bodies[:3]) + b"]}"
        assert (len(events(s)), [len(log(s, x)) for x in (a, b, c)]) == before
        assert show(s, e)["status"] == "pending" and show(s, f)["status"] == "pending"


def test_items_are_decided_on_their_own():
    with store_of(8) as s:
        tok = s.token("asir-group")
        a, b, c, d, e, f, g, h = ids(8)
        s.admin("cancel", d)
        items = [{"menzzo_order_id": a},
                 {"menzzo_order_id": a},                                     # the same id twice: a repeat
                 {"menzzo_order_id": b, "accepted": False, "reason": "out_of_stock"},
                 {"menzzo_order_id": b},                                     # refused just before: 409
                 {"menzzo_order_id": d},                                     # cancelled
                 {"menzzo_order_id": 12},                                    # not a string: no id to echo
                 {"accepted": False, "reason": "other"},                     # no id
                 {"menzzo_order_id": e, "accepted": "false", "reason": "other"},
                 {"menzzo_order_id": f, "reason": "other"},
                 {"menzzo_order_id": "015_7"},
                 {"menzzo_order_id": c, "tracking_number": "ignored"},       # another endpoint's field: unknown
                 {"menzzo_order_id": "701_1"},
                 {"menzzo_order_id": g, "accepted": False, "reason": "other", "note": "x" * 501}]
        r = batch(s, "acknowledge-sale", items, tok)
        j = results(r)
        got = [(res["success"], res.get("code"), res.get("changed"), res["menzzo_order_id"]) for res in j["results"]]
        assert got == [(True, None, True, a), (True, None, False, a), (True, None, True, b), (False, "refused", None, b),
                       (False, "cancelled", None, d), (False, "invalid_body", None, None),
                       (False, "invalid_body", None, None), (False, "invalid_body", None, e),
                       (False, "invalid_body", None, f), (False, "invalid_order_id", None, "015_7"),
                       (True, None, True, c), (False, "not_found", None, "701_1"),
                       (False, "invalid_body", None, g)], got
        assert j["results"][1]["acknowledged_at"] == j["results"][0]["acknowledged_at"]
        assert j["results"][2]["status"] == "refused" and j["results"][2]["reason"] == "out_of_stock"
        assert "required" in j["results"][6]["error"] and "boolean" in j["results"][7]["error"]
        assert [e_["action"] for e_ in log(s, a)] == ["imported", "acknowledged"]
        assert [e_["type"] for e_ in events(s)] == ["sale.cancelled", "sale.acknowledged", "sale.refused",
                                                      "sale.acknowledged"]
        assert show(s, h)["status"] == "pending" and show(s, e)["status"] == "pending"
        # every item invalid: 200 all the same, nothing written
        r = batch(s, "acknowledge-sale", [{"menzzo_order_id": "x"}, {}], tok)
        j = results(r)
        assert j["success"] is False and [res["code"] for res in j["results"]] == ["invalid_order_id", "invalid_body"]
        # all good
        r = batch(s, "acknowledge-sale", [{"menzzo_order_id": h}], tok)
        assert results(r)["success"] is True


def test_ship_batches_with_packages():
    with store_of(4) as s:
        tok = s.token("asir-group")
        a, b, c, d = ids(4)
        items = [{"menzzo_order_id": a, "packages": [{"tracking_number": "P1"}, {"tracking_number": "P2",
                                                                                 "carrier": "DPD"}]},
                 {"menzzo_order_id": b, "tracking_number": "T-B", "carrier": "GLS"},
                 {"menzzo_order_id": c, "packages": [{"carrier": "DPD"}]},
                 {"menzzo_order_id": d, "packages": [{"tracking_number": "X"}], "tracking_number": "Y"},
                 {"menzzo_order_id": a}]
        j = results(batch(s, "ship-sale", items, tok))
        assert [(res["success"], res.get("changed"), res.get("code")) for res in j["results"]] == \
            [(True, True, None), (True, True, None), (False, None, "invalid_body"), (False, None, "invalid_body"),
             (True, False, None)]
        assert set(j["results"][0]) == SUCCESS_KEYS
        assert show(s, a)["packages"] == [{"tracking_number": "P1", "carrier": "CHRONOPOST"},
                                          {"tracking_number": "P2", "carrier": "DPD"}]
        assert show(s, b)["packages"] == [{"tracking_number": "T-B", "carrier": "GLS"}]
        assert show(s, c)["status"] == "pending" and show(s, d)["status"] == "pending"
        # ship-sale ignores acknowledge-sale's fields, and the reverse
        j = results(batch(s, "ship-sale", [{"menzzo_order_id": c, "accepted": False}], tok))
        assert j["success"] is True and j["results"][0]["status"] == "shipped"


def test_bodies_that_are_no_batch_are_400():
    with store_of(3) as s:
        tok = s.token("asir-group")
        a = ids(3)[0]
        bad = [{"items": []},
               {"items": [{"menzzo_order_id": a}] * 101},
               {"items": {"menzzo_order_id": a}},
               {"items": "x"},
               {"items": None},
               {"items": [{"menzzo_order_id": a}, "x"]},
               {"items": [{"menzzo_order_id": a}, [{"menzzo_order_id": a}]]},
               {"items": [{"menzzo_order_id": a}, None]},
               {"items": [{"menzzo_order_id": a}], "menzzo_order_id": a},
               {"items": [{"menzzo_order_id": a}], "menzzo_order_id": 5}]
        for body in bad:
            for action in ("acknowledge-sale", "ship-sale"):
                j = assert_error(post(s, "asir-group", action, body, tok), 400, "invalid_body")
                assert "items" in j["error"], (body, j)
        for action, field in (("acknowledge-sale", {"accepted": True}), ("ship-sale", {"tracking_number": "T"})):
            j = assert_error(post(s, "asir-group", action, dict({"items": [{"menzzo_order_id": a}]}, **field), tok),
                             400, "invalid_body")
            assert "beside" in j["error"] and list(field)[0] in j["error"], j
        assert show(s, a)["status"] == "pending"
        r = post(s, "asir-group", "acknowledge-sale", '{"items": [{"menzzo_order_id": "%s", "menzzo_order_id": "%s"}]}'
                 % (a, a), tok, content_type="application/json")
        assert_error(r, 400, "invalid_body")
        r = post(s, "asir-group", "acknowledge-sale", "items=" + a, tok, content_type=FORM)
        assert_error(r, 400, "invalid_body", mentions=("JSON",))
        # nested batches are no batches: items inside an item is an unknown member, ignored
        r = batch(s, "acknowledge-sale", [{"menzzo_order_id": a, "items": [{"menzzo_order_id": ids(3)[1]}]}], tok)
        assert results(r)["success"] is True and show(s, ids(3)[1])["status"] == "pending"
        # exactly 100 is a batch
        r = batch(s, "acknowledge-sale", [{"menzzo_order_id": ids(3)[2]}] * 100, tok)
        j = results(r)
        assert len(j["results"]) == 100 and [res["changed"] for res in j["results"]].count(True) == 1
        assert [e["action"] for e in log(s, ids(3)[2])] == ["imported", "acknowledged"]


def test_storage_full_is_503_for_the_whole_batch():
    with Store(MENZZO_MAP_SIZE="256K") as s:
        tok = s.token("asir-group")
        n = 1
        # fill the store with sale products until an import no longer fits
        while True:
            lines = [sale(50000 + i, i, sku="S" * 60, label="labels/" + "x" * 180 + "%d.pdf" % i)
                     for i in range(n, n + 10)]
            if s.import_lines(lines, check=False).returncode != 0:
                break
            n += 10
        assert n > 20, n
        oids = ["%d_%d" % (50000 + i, i) for i in range(1, n)]
        # batches of 20 until one does not fit: it is a 503, with nothing of it written
        full = None
        for start in range(0, len(oids), 20):
            chunk = oids[start:start + 20]
            r = batch(s, "ship-sale", [{"menzzo_order_id": oid, "tracking_number": "T" * 64} for oid in chunk], tok)
            if r.status == 503:
                full = chunk
                break
            assert results(r)["success"] is True
        assert full is not None, "the store never filled up"
        assert_error(r, 503, "storage_full")
        assert int(r.headers["retry-after"]) > 0
        for oid in full:
            assert show(s, oid)["status"] == "pending" and [e["action"] for e in log(s, oid)] == ["imported"]
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout


def test_batches_through_lighttpd():
    with store_of(5, supplier="notio") as s:
        tok = s.token("notio")
        a, b, c, d, e = ids(5)
        with Lighttpd(s) as web:
            r = web.request("POST", "/api/notio/acknowledge-sale", token=tok,
                            body={"items": [{"menzzo_order_id": a}, {"menzzo_order_id": b, "accepted": False,
                                                                     "reason": "discontinued"},
                                            {"menzzo_order_id": "1_1"}]})
            j = results(r)
            assert [res["success"] for res in j["results"]] == [True, True, False]
            r = web.request("POST", "/api/notio/ship-sale", token=tok,
                            body={"items": [{"menzzo_order_id": a, "packages": [{"tracking_number": "G1"}]},
                                            {"menzzo_order_id": b}, {"menzzo_order_id": c}]})
            j = results(r)
            assert [(res["success"], res.get("code")) for res in j["results"]] == \
                [(True, None), (False, "refused"), (True, None)]
            r = web.request("POST", "/api/notio/ship-sale", token=tok, body={"items": []})
            assert r.status == 400 and r.json()["code"] == "invalid_body"
        assert show(s, a)["packages"] == [{"tracking_number": "G1", "carrier": "CHRONOPOST"}]
        assert show(s, d)["status"] == "pending" and show(s, e)["status"] == "pending"
