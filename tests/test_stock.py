"""Stock (SPEC §9): POST /api/{supplier}/update-stock (differential and full, 1-1,000 items, all or
nothing, unchanged SKUs counted and not rewritten, a stock.updated event naming exactly the SKUs a
request changed, the 256 KiB body bound) and GET /api/{supplier}/get-stock (by SKU, 100 a page, sku=,
updated_since=, after_sku=, Link rel="next"); each supplier's token in its own scope; `menzzo-admin
stock` and `check`; a store of format 4 upgraded by its first update-stock; each CGI run directly and
through lighttpd."""
import json
import os
import re
import urllib.parse

from harness import Lighttpd, Store, assert_error
from test_actions import events, run_parallel
from test_upgrade import FIXTURES, SCHEMA, old_store, schema

# MENZZO_TEST_CLOCK values (seconds since the epoch) and the updated_at they give.
DAY1 = 1767225600                  # 2026-01-01T00:00:00Z
DAY2_END = DAY1 + 2 * 86400 - 1    # 2026-01-02T23:59:59Z
DAY3 = DAY1 + 2 * 86400            # 2026-01-03T00:00:00Z
ITEM_KEYS = ["sku", "quantity", "lead_time_days", "next_available_date", "updated_at"]
ITEMS_MESSAGE = 'Field items must be an array of 1 to 1000 objects {"sku": ..., "quantity": ...}, given once.'
LINK_RE = re.compile(r'^<https://api\.example\.test(/api/[a-z-]+/get-stock\?[^>]*)>; rel="next"$')


def clock(t):
    return {"MENZZO_TEST_CLOCK": str(t)}


def update(s, token, body, supplier="asir-group", at=None, **kw):
    env = dict(kw.pop("env", {}), **(clock(at) if at is not None else {}))
    return s.cgi(f"{supplier}/update-stock", method="POST", body=body, token=token, env=env, **kw)


def counts(r):
    """(updated, unchanged, zeroed) of a 200 answer, checking its shape."""
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/json", r
    j = r.json()
    assert list(j) == ["success", "updated", "unchanged", "zeroed"] and j["success"] is True, j
    return j["updated"], j["unchanged"], j["zeroed"]


def get_stock(s, token, query="", supplier="asir-group"):
    r = s.cgi(f"{supplier}/get-stock", query=query, token=token)
    assert r.status == 200, r
    items = r.json()
    for item in items:
        assert list(item) == ITEM_KEYS, item
    return r, items


def all_stock(s, supplier=None):
    """{sku: item} of `menzzo-admin stock [SUPPLIER] --json`, each line's supplier checked."""
    out = {}
    for line in s.admin("stock", *([supplier] if supplier else []), "--json").stdout.decode().splitlines():
        item = json.loads(line)
        assert list(item) == ["supplier"] + ITEM_KEYS, item
        if supplier:
            assert item["supplier"] == supplier, item
        out[(item["supplier"], item["sku"])] = item
    return out


def stock_events(s):
    evs = [e for e in events(s) if e["type"] == "stock.updated"]
    for e in evs:
        assert list(e) == ["seq", "type", "supplier", "at", "skus"], e
    return evs


def assert_check_clean(s, stock_records):
    p = s.admin("check", check=False)
    out = p.stdout.decode()
    assert p.returncode == 0 and f" {stock_records} stock records," in out and out.rstrip().endswith("; 0 problem(s)"), out


def items_of(pairs, **extra):
    return [dict({"sku": sku, "quantity": q}, **extra) for sku, q in pairs]


# Full updates.

def test_a_full_update_of_1000_zeroes_exactly_the_others():
    """1,500 SKUs set in two requests (60 of them at 0), and a few of notio's with the same names; a full update
    of 1,000 of them through lighttpd: the 480 others with stock are zeroed, nothing else; one event naming the
    SKUs changed; notio's untouched."""
    with Store() as s:
        tok, ntok = s.token("asir-group"), s.token("notio")
        skus = ["FULL-%04d" % i for i in range(1500)]
        first = {sku: (0 if i % 25 == 0 else 10 + i) for i, sku in enumerate(skus)}   # 60 at 0
        assert counts(update(s, tok, {"items": items_of(list(first.items())[:750])}, at=DAY1)) == (750, 0, 0)
        assert counts(update(s, tok, {"mode": "differential", "items": items_of(list(first.items())[750:])},
                             at=DAY1)) == (750, 0, 0)
        assert counts(update(s, ntok, {"items": items_of([(sku, 7) for sku in skus[::50]])},
                             supplier="notio", at=DAY1)) == (30, 0, 0)
        notio_before = all_stock(s, "notio")
        # named: 1,000 of the 1,500 (two in three), 400 of them at the value they have
        named = skus[::3] + skus[1::3]
        assert len(named) == 1000
        sent = {sku: (first[sku] if i % 5 < 2 else first[sku] + 1) for i, sku in enumerate(named)}
        others = [sku for sku in skus if sku not in sent]
        with_stock = [sku for sku in others if first[sku] != 0]
        assert len(others) == 500 and len(with_stock) == 480
        changed = [sku for sku in named if sent[sku] != first[sku]]
        with Lighttpd(s) as web:
            r = web.request("POST", "/api/asir-group/update-stock", token=tok,
                            body={"mode": "full", "items": items_of(list(sent.items()))})
            assert r.status == 200, r
            assert r.json() == {"success": True, "updated": len(changed), "unchanged": 1000 - len(changed),
                                "zeroed": 480}, r.json()
            assert len(changed) == 600
        after = all_stock(s, "asir-group")
        assert len(after) == 1500
        for sku in skus:
            want = sent.get(sku, 0)
            assert after[("asir-group", sku)]["quantity"] == want, (sku, after[("asir-group", sku)], want)
        # the unchanged and the already-zero others kept their time; the changed and zeroed have a new one
        for sku in skus:
            moved = sku in changed or sku in with_stock
            at = after[("asir-group", sku)]["updated_at"]
            assert (at != "2026-01-01T00:00:00Z") == moved, (sku, at)
        assert all_stock(s, "notio") == notio_before
        evs = stock_events(s)
        assert len(evs) == 4 and [e["supplier"] for e in evs] == ["asir-group"] * 2 + ["notio", "asir-group"]
        last = evs[-1]["skus"]
        assert len(last) == len(set(last)) == 1080 and set(last) == set(changed) | set(with_stock), len(last)
        # again: everything is as sent, nothing zeroed, no event
        assert counts(update(s, tok, {"mode": "full", "items": items_of(list(sent.items()))})) == (0, 1000, 0)
        assert len(stock_events(s)) == 4
        assert_check_clean(s, 1530)


def test_full_mode_with_one_item_zeroes_the_rest_of_its_supplier_only():
    with Store() as s:
        tok, ntok = s.token("asir-group"), s.token("notio")
        assert counts(update(s, tok, {"items": items_of([("A", 1), ("B", 2), ("C", 0)])})) == (3, 0, 0)
        assert counts(update(s, ntok, {"items": items_of([("A", 5), ("B", 6)])}, supplier="notio")) == (2, 0, 0)
        assert counts(update(s, tok, {"mode": "full", "items": items_of([("B", 2)])})) == (0, 1, 1)
        assert stock_events(s)[-1]["skus"] == ["A"]
        assert {k[1]: v["quantity"] for k, v in all_stock(s, "asir-group").items()} == {"A": 0, "B": 2, "C": 0}
        assert {k[1]: v["quantity"] for k, v in all_stock(s, "notio").items()} == {"A": 5, "B": 6}
        # a differential update never zeroes
        assert counts(update(s, tok, {"mode": "differential", "items": items_of([("D", 4)])})) == (1, 0, 0)
        assert {k[1]: v["quantity"] for k, v in all_stock(s, "asir-group").items()} == {"A": 0, "B": 2, "C": 0, "D": 4}


# Concurrency.

def test_concurrent_updates_of_overlapping_skus():
    """24 requests at once through lighttpd: 20 each set 12 of 40 SKUs (overlapping) to values of their own, 4 send
    values already stored: each SKU ends at the value of the last request that changed it (by event order), one
    event per request that changed something and none for the others."""
    with Store() as s:
        tok = s.token("asir-group")
        pool = ["CC-%02d" % i for i in range(40)]
        keep = ["KEEP-%d" % i for i in range(8)]
        assert counts(update(s, tok, {"items": items_of([(k, 3) for k in keep])})) == (8, 0, 0)
        bodies = []
        for i in range(20):
            names = [pool[(3 * i + k) % 40] for k in range(12)]
            bodies.append({"items": items_of([(name, 1000 * (i + 1) + k) for k, name in enumerate(names)])})
        for i in range(4):
            bodies.append({"items": items_of([(k, 3) for k in keep[2 * i:2 * i + 2]])})
        sets = [frozenset(it["sku"] for it in b["items"]) for b in bodies]
        assert len(set(sets)) == 24
        with Lighttpd(s, env={"FASTCGI_PROCS": "2"}) as web:
            answers = run_parallel([lambda b=b: web.request("POST", "/api/asir-group/update-stock", token=tok, body=b)
                                    for b in bodies])
        for i, r in enumerate(answers):
            assert r.status == 200, (i, r)
            assert r.json() == {"success": True, "updated": 12 if i < 20 else 0, "unchanged": 0 if i < 20 else 2,
                                "zeroed": 0}, (i, r.json())
        evs = stock_events(s)[1:]
        per_request = {}
        for e in evs:
            per_request.setdefault(frozenset(e["skus"]), []).append(e["seq"])
            assert len(e["skus"]) == 12, e
        assert len(evs) == 20 and set(per_request) == set(sets[:20]), per_request
        assert all(len(seqs) == 1 for seqs in per_request.values()), per_request
        final = {k[1]: v["quantity"] for k, v in all_stock(s).items()}
        for name in pool:
            sent = {i: it["quantity"] for i, b in enumerate(bodies[:20]) for it in b["items"] if it["sku"] == name}
            assert final[name] in sent.values(), (name, final[name], sent)
            last = max(sent, key=lambda i: per_request[sets[i]][0])
            assert final[name] == sent[last], (name, final[name], sent, last)
        assert all(final[k] == 3 for k in keep)
        assert_check_clean(s, 48)


# Idempotence and atomicity.

def test_the_same_request_twice_changes_nothing_the_second_time():
    with Store() as s:
        tok = s.token("asir-group")
        body = {"items": [{"sku": "I-1", "quantity": 5, "lead_time_days": 3, "next_available_date": "2026-03-01"},
                          {"sku": "I-2", "quantity": 0},
                          {"sku": "I-3", "quantity": 7, "lead_time_days": 0}]}
        assert counts(update(s, tok, body, at=DAY1)) == (3, 0, 0)
        _, first = get_stock(s, tok)
        assert first == [
            {"sku": "I-1", "quantity": 5, "lead_time_days": 3, "next_available_date": "2026-03-01",
             "updated_at": "2026-01-01T00:00:00Z"},
            {"sku": "I-2", "quantity": 0, "lead_time_days": None, "next_available_date": None,
             "updated_at": "2026-01-01T00:00:00Z"},
            {"sku": "I-3", "quantity": 7, "lead_time_days": 0, "next_available_date": None,
             "updated_at": "2026-01-01T00:00:00Z"}], first
        assert [(e["skus"], e["at"]) for e in stock_events(s)] == [(["I-1", "I-2", "I-3"], "2026-01-01T00:00:00Z")]
        # a day later, the same body: all unchanged, no event, updated_at as it was
        assert counts(update(s, tok, body, at=DAY3)) == (0, 3, 0)
        assert counts(update(s, tok, dict(body, mode="full"), at=DAY3)) == (0, 3, 0)
        assert get_stock(s, tok)[1] == first
        assert len(stock_events(s)) == 1
        # one field of one item differs (the lead time dropped): that SKU alone is updated
        body["items"][2] = {"sku": "I-3", "quantity": 7}
        assert counts(update(s, tok, body, at=DAY3)) == (1, 2, 0)
        _, now = get_stock(s, tok)
        assert now[:2] == first[:2] and now[2] == {"sku": "I-3", "quantity": 7, "lead_time_days": None,
                                                   "next_available_date": None, "updated_at": "2026-01-03T00:00:00Z"}
        assert [e["skus"] for e in stock_events(s)] == [["I-1", "I-2", "I-3"], ["I-3"]]
        assert_check_clean(s, 3)


def test_a_bad_item_writes_nothing():
    with Store() as s:
        tok = s.token("asir-group")
        assert counts(update(s, tok, {"items": items_of([("AT-%d" % i, 1) for i in range(10)])})) == (10, 0, 0)
        before, evs = all_stock(s), stock_events(s)
        for mode in ("differential", "full"):
            items = items_of([("AT-%d" % i, 50 + i) for i in range(10)] + [("AT-NEW", 1)])
            items[7]["quantity"] = -1
            j = assert_error(update(s, tok, {"mode": mode, "items": items}), 400, "invalid_body")
            assert j["error"] == "items[7]: quantity must be an integer from 0 to 1000000.", j
        # the bad item first or last: still named, still nothing written
        items = items_of([("AT-%d" % i, 60) for i in range(10)])
        items[0]["lead_time_days"] = 400
        assert assert_error(update(s, tok, {"items": items}), 400, "invalid_body")["error"] == \
            "items[0]: lead_time_days must be an integer from 0 to 365."
        items = items_of([("AT-%d" % i, 60) for i in range(10)])
        items[9] = {"sku": "AT-9"}
        assert assert_error(update(s, tok, {"items": items}), 400, "invalid_body")["error"] == \
            "items[9]: quantity is required."
        items[9] = {"quantity": 3}
        assert assert_error(update(s, tok, {"items": items}), 400, "invalid_body")["error"] == \
            "items[9]: sku is required."
        assert all_stock(s) == before and stock_events(s) == evs
        assert_check_clean(s, 10)


def test_each_sku_once():
    with Store() as s:
        tok = s.token("asir-group")
        items = items_of([("D-1", 1), ("D-2", 2), ("D-3", 3), ("D-2", 2), ("D-1", 9)])
        j = assert_error(update(s, tok, {"items": items}), 400, "invalid_body")
        assert j["error"] == "items[3]: sku D-2 is given twice: each SKU once a request.", j
        # the same name in another case is another SKU
        assert counts(update(s, tok, {"items": items_of([("d-1", 1), ("D-1", 2)])})) == (2, 0, 0)
        assert {k[1] for k in all_stock(s)} == {"d-1", "D-1"}
        j = assert_error(update(s, tok, {"mode": "full", "items": items_of([("X", 1), ("X", 1)])}), 400, "invalid_body")
        assert j["error"].startswith("items[1]: sku X is given twice"), j
        assert {k[1]: v["quantity"] for k, v in all_stock(s).items()} == {"d-1": 1, "D-1": 2}
        assert len(stock_events(s)) == 1
        # the first bad item is named: a SKU given again before an item that is not valid
        j = assert_error(update(s, tok, {"items": [{"sku": "A", "quantity": 5}, {"sku": "A", "quantity": 6},
                                                   {"sku": "C", "quantity": -1}]}), 400, "invalid_body")
        assert j["error"] == "items[1]: sku A is given twice: each SKU once a request.", j
        j = assert_error(update(s, tok, {"items": [{"sku": "A", "quantity": -1}, {"sku": "B", "quantity": 1},
                                                   {"sku": "B", "quantity": 1}]}), 400, "invalid_body")
        assert j["error"] == "items[0]: quantity must be an integer from 0 to 1000000.", j


# Each field's bounds.

QUANTITY_MSG = "quantity must be an integer from 0 to 1000000."
LEAD_MSG = "lead_time_days must be an integer from 0 to 365."
DATE_MSG = "next_available_date must be a date YYYY-MM-DD."
SKU_MSG = "sku must be 1-64 printable ASCII characters, without a space at either end."
BAD_FIELDS = [
    ({"quantity": -1}, QUANTITY_MSG), ({"quantity": 1000001}, QUANTITY_MSG), ({"quantity": "5"}, QUANTITY_MSG),
    ({"quantity": 1.5}, QUANTITY_MSG), ({"quantity": 5.0}, QUANTITY_MSG), ({"quantity": None}, QUANTITY_MSG),
    ({"quantity": 99999999999999999999}, QUANTITY_MSG),
    ({"lead_time_days": 366}, LEAD_MSG), ({"lead_time_days": -1}, LEAD_MSG), ({"lead_time_days": "3"}, LEAD_MSG),
    ({"next_available_date": "2026-02-30"}, DATE_MSG), ({"next_available_date": "2026-2-3"}, DATE_MSG),
    ({"next_available_date": "2026-02-28T00:00:00Z"}, DATE_MSG), ({"next_available_date": "1969-12-31"}, DATE_MSG),
    ({"sku": "END "}, SKU_MSG), ({"sku": " START"}, SKU_MSG), ({"sku": "S" * 65}, SKU_MSG),
    ({"sku": "CTRL\x01"}, SKU_MSG), ({"sku": "DEL\x7f"}, SKU_MSG), ({"sku": "caf\u00e9"}, SKU_MSG),
    ({"sku": ""}, SKU_MSG), ({"sku": 12}, SKU_MSG),
]


def test_each_field_bound():
    with Store() as s:
        tok = s.token("asir-group")
        for change, message in BAD_FIELDS:
            items = items_of([("B-%d" % i, i) for i in range(5)])
            items[3].update(change)
            j = assert_error(update(s, tok, {"items": items}), 400, "invalid_body")
            assert j["error"] == "items[3]: " + message, (change, j)
        assert all_stock(s) == {} and stock_events(s) == []
        # the bounds themselves are accepted
        edge = [{"sku": "Q0", "quantity": 0, "lead_time_days": 0, "next_available_date": "2028-02-29"},
                {"sku": "EPOCH", "quantity": 0, "next_available_date": "1970-01-01"},
                {"sku": "Q-MAX", "quantity": 1000000, "lead_time_days": 365, "next_available_date": "9999-12-31"},
                {"sku": "S" * 64, "quantity": 1},
                {"sku": "in side ~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}", "quantity": 2}]
        assert counts(update(s, tok, {"items": edge})) == (5, 0, 0)
        got = {k[1]: v for k, v in all_stock(s).items()}
        assert got["EPOCH"]["next_available_date"] == "1970-01-01", got["EPOCH"]
        # the first day of the epoch is a date like any other: dropping it is a change
        assert counts(update(s, tok, {"items": [{"sku": "EPOCH", "quantity": 0}]})) == (1, 0, 0)
        assert {k[1]: v for k, v in all_stock(s).items()}["EPOCH"]["next_available_date"] is None
        assert got["Q0"]["quantity"] == 0 and got["Q0"]["lead_time_days"] == 0 and \
            got["Q0"]["next_available_date"] == "2028-02-29", got["Q0"]
        assert got["Q-MAX"]["quantity"] == 1000000 and got["Q-MAX"]["lead_time_days"] == 365 and \
            got["Q-MAX"]["next_available_date"] == "9999-12-31", got["Q-MAX"]
        assert got["S" * 64]["quantity"] == 1 and got[edge[4]["sku"]]["quantity"] == 2


def test_item_count_body_and_mode():
    with Store() as s:
        tok = s.token("asir-group")
        for body in ({"items": []}, {"items": items_of([("N-%04d" % i, 1) for i in range(1001)])},
                     {"mode": "full"}, {"items": [{"sku": "A", "quantity": 1}, "B"]}):
            j = assert_error(update(s, tok, body), 400, "invalid_body")
            assert j["error"] == ITEMS_MESSAGE, (str(body)[:80], j)
        for mode in ("Full", "partial", 1):
            j = assert_error(update(s, tok, {"mode": mode, "items": items_of([("M", 1)])}), 400, "invalid_body")
            assert j["error"] == "Field mode must be differential or full.", (mode, j)
        for raw in ("not json", '{"items": [{"sku": "A", "quantity": 1}], "items": [{"sku": "B", "quantity": 1}]}'):
            j = assert_error(update(s, tok, raw, content_type="application/json"), 400, "invalid_body")
        assert all_stock(s) == {} and stock_events(s) == []
        # 1,000 items: the most there may be
        assert counts(update(s, tok, {"items": items_of([("N-%04d" % i, 1) for i in range(1000)])})) == (1000, 0, 0)


def body_of_size(size, n=1000):
    """A valid update-stock body of exactly size bytes: n items of 64-byte SKUs, padded with blanks at its end."""
    text = json.dumps({"items": items_of([("%064d" % i, i) for i in range(n)])})
    assert len(text) <= size, len(text)
    return (text + " " * (size - len(text))).encode()


def test_body_bound_is_256_kib():
    with Store() as s:
        tok = s.token("asir-group")
        for size, n, status in ((262145, 1000, 413), (300000, 1000, 413), (262144, 1000, 200), (70000, 500, 200)):
            r = update(s, tok, body_of_size(size, n), content_type="application/json")
            if status == 413:
                j = assert_error(r, 413, "body_too_large")
                assert j["error"] == "The request body is larger than 256 KiB.", j
            else:
                assert counts(r) == ((1000, 0, 0) if size == 262144 else (0, 500, 0)), size
        # the other endpoints keep their 64 KiB
        r = s.cgi("asir-group/acknowledge-sale", method="POST", body=body_of_size(65537, n=10), token=tok,
                  content_type="application/json")
        assert assert_error(r, 413, "body_too_large")["error"] == "The request body is larger than 64 KiB."
        assert len(stock_events(s)) == 1 and len(all_stock(s)) == 1000
        assert_check_clean(s, 1000)


# get-stock.

def link_path(r):
    m = LINK_RE.match(r.headers.get("link", ""))
    assert m, r.headers
    return m.group(1)


def test_through_lighttpd_get_stock_pages_body_bound_and_scopes():
    """250 SKUs, two of them with characters a query must escape: three pages by the Link, in SKU order, none
    repeated or missed, the Link's after_sku percent-encoded; then the 256 KiB bound and the tokens' scopes."""
    with Store() as s:
        tok, ntok, back = s.token("asir-group"), s.token("notio"), s.token("--backoffice")
        names = ["0-%03d" % i for i in range(99)] + ["A&B 1/2"] + ["B-%03d" % i for i in range(99)] + ["B-=+%#?"] + \
            ["C-%03d" % i for i in range(50)]
        assert sorted(names, key=lambda n: n.encode()) == names and len(set(names)) == 250
        shuffled = names[1::2] + names[::2]
        assert counts(update(s, tok, {"items": items_of([(n, i) for i, n in enumerate(shuffled[:125])])})) == \
            (125, 0, 0)
        assert counts(update(s, tok, {"items": items_of([(n, 125 + i) for i, n in enumerate(shuffled[125:])])})) == \
            (125, 0, 0)
        assert counts(update(s, ntok, {"items": items_of([("0-000", 5), ("ZZ", 1)])}, supplier="notio")) == (2, 0, 0)
        want_qty = {n: i for i, n in enumerate(shuffled)}
        with Lighttpd(s) as web:
            pages, path = [], "/api/asir-group/get-stock"
            while path is not None:
                r = web.request("GET", path, token=tok)
                assert r.status == 200 and r.headers["content-type"] == "application/json", r
                pages.append(r.json())
                path = link_path(r) if "link" in r.headers else None
                if len(pages) == 1:
                    assert path == "/api/asir-group/get-stock?after_sku=A%26B%201%2F2", path
                if len(pages) == 2:
                    assert path == "/api/asir-group/get-stock?after_sku=B-%3D%2B%25%23%3F", path
                assert len(pages) <= 3
            assert [len(p) for p in pages] == [100, 100, 50]
            got = [item["sku"] for p in pages for item in p]
            assert got == names
            assert all(item["quantity"] == want_qty[item["sku"]] for p in pages for item in p)
            # after_sku by hand: any SKU, stored or not, is a place to start from
            r = web.request("GET", "/api/asir-group/get-stock?after_sku=" + urllib.parse.quote("B-098", safe=""),
                            token=tok)
            assert [i["sku"] for i in r.json()] == names[199:] and "link" not in r.headers, r
            r = web.request("GET", "/api/asir-group/get-stock?after_sku=B", token=tok)
            assert [i["sku"] for i in r.json()] == names[100:200], r
            assert link_path(r).endswith("after_sku=B-%3D%2B%25%23%3F"), r.headers
            r = web.request("GET", "/api/asir-group/get-stock?after_sku=C-049", token=tok)
            assert r.status == 200 and r.json() == [] and "link" not in r.headers, r
            # notio sees its own two only
            r = web.request("GET", "/api/notio/get-stock", token=ntok)
            assert [(i["sku"], i["quantity"]) for i in r.json()] == [("0-000", 5), ("ZZ", 1)], r
            # scopes
            body = {"items": items_of([("ZZ", 2)])}
            r = web.request("POST", "/api/notio/update-stock", token=tok, body=body)
            assert r.status == 403 and r.json()["code"] == "wrong_supplier", r
            r = web.request("POST", "/api/notio/update-stock", token=back, body=body)
            assert r.status == 403 and r.json()["code"] == "wrong_scope", r
            r = web.request("GET", "/api/notio/get-stock", token=tok)
            assert r.status == 403 and r.json()["code"] == "wrong_supplier", r
            r = web.request("GET", "/api/asir-group/get-stock", token=back)
            assert r.status == 403 and r.json()["code"] == "wrong_scope", r
            # 256 KiB: one byte more is a 413, exactly that much is taken
            r = web.request("POST", "/api/asir-group/update-stock", token=tok, body=body_of_size(262145),
                            headers={"Content-Type": "application/json"})
            assert r.status == 413 and r.json()["code"] == "body_too_large", r
            assert len(stock_events(s)) == 3
            r = web.request("POST", "/api/asir-group/update-stock", token=tok, body=body_of_size(262144),
                            headers={"Content-Type": "application/json"})
            assert r.status == 200 and r.json() == {"success": True, "updated": 1000, "unchanged": 0, "zeroed": 0}, r
        assert all_stock(s, "notio")[("notio", "ZZ")]["quantity"] == 1
        assert all_stock(s)[("asir-group", "%064d" % 999)]["quantity"] == 999
        assert len(stock_events(s)) == 4
        assert_check_clean(s, 1252)


def test_get_stock_by_sku_and_updated_since():
    with Store() as s:
        tok, ntok = s.token("asir-group"), s.token("notio")
        assert counts(update(s, tok, {"items": items_of([("U-1", 1), ("U-2", 2)])}, at=DAY1)) == (2, 0, 0)
        assert counts(update(s, tok, {"items": items_of([("U-3", 3)])}, at=DAY2_END)) == (1, 0, 0)
        assert counts(update(s, tok, {"items": items_of([("U-4", 4), ("A&B 1/2", 5)])}, at=DAY3)) == (2, 0, 0)
        assert counts(update(s, ntok, {"items": items_of([("N-1", 9)])}, supplier="notio", at=DAY3)) == (1, 0, 0)

        def skus(query, supplier="asir-group", token=tok):
            r, items = get_stock(s, token, query, supplier)
            assert "link" not in r.headers, r
            return [i["sku"] for i in items]

        assert skus("") == ["A&B 1/2", "U-1", "U-2", "U-3", "U-4"]
        assert skus("updated_since=2026-01-01") == ["A&B 1/2", "U-1", "U-2", "U-3", "U-4"]
        assert skus("updated_since=2026-01-02") == ["A&B 1/2", "U-3", "U-4"]
        assert skus("updated_since=2026-01-03") == ["A&B 1/2", "U-4"]
        assert skus("updated_since=2026-01-04") == []
        assert skus("updated_since=2025-12-31") == ["A&B 1/2", "U-1", "U-2", "U-3", "U-4"]
        _, items = get_stock(s, tok, "sku=U-3")
        assert items == [{"sku": "U-3", "quantity": 3, "lead_time_days": None, "next_available_date": None,
                          "updated_at": "2026-01-02T23:59:59Z"}], items
        assert skus("sku=" + urllib.parse.quote("A&B 1/2", safe="")) == ["A&B 1/2"]
        assert skus("sku=A%26B+1%2F2") == ["A&B 1/2"], "a + in a query value is a space"
        assert skus("sku=U-3&updated_since=2026-01-03") == []
        assert skus("sku=U-3&updated_since=2026-01-02") == ["U-3"]
        assert skus("sku=U-9") == []
        assert skus("sku=N-1") == [], "another supplier's SKU"
        assert skus("sku=N-1", "notio", ntok) == ["N-1"]
        assert skus("sku=u-1") == []
        # updated_since carries over to the next page
        old = items_of([("P-%03d" % i, i) for i in range(0, 300, 2)])
        new = items_of([("P-%03d" % i, i) for i in range(1, 300, 2)])
        assert counts(update(s, tok, {"items": old}, at=DAY1)) == (150, 0, 0)
        assert counts(update(s, tok, {"items": new}, at=DAY3 + 86400)) == (150, 0, 0)
        r, items = get_stock(s, tok, "updated_since=2026-01-04")
        assert [i["sku"] for i in items] == ["P-%03d" % i for i in range(1, 200, 2)]
        path = link_path(r)
        assert path == "/api/asir-group/get-stock?updated_since=2026-01-04&after_sku=P-199", path
        r, items = get_stock(s, tok, urllib.parse.urlsplit(path).query)
        assert [i["sku"] for i in items] == ["P-%03d" % i for i in range(201, 300, 2)] and "link" not in r.headers
        # exactly 100 left: no Link
        r, items = get_stock(s, tok, "after_sku=P-099")
        assert len(items) == 100 and items[-1]["sku"] == "P-199" and link_path(r).endswith("after_sku=P-199")
        r, items = get_stock(s, tok, "after_sku=P-203")
        assert len(items) == 100 and items[-1]["sku"] == "U-4" and "link" not in r.headers, r


def test_get_stock_invalid_parameters():
    with Store() as s:
        tok = s.token("asir-group")
        assert counts(update(s, tok, {"items": items_of([("V-1", 1)])})) == (1, 0, 0)
        cases = [("updated_since=2026-02-30", "updated_since"), ("updated_since=20260101", "updated_since"),
                 ("updated_since=", "updated_since"), ("sku=", "sku"), ("sku=V-1%20", "sku"),
                 ("sku=" + "S" * 65, "sku"), ("sku=V%01", "sku"), ("after_sku=" + "A" * 65, "after_sku"),
                 ("updated_since=2026-01-01&updated_since=2026-01-02", "updated_since"), ("sku=%ZZ", "sku")]
        for query, name in cases:
            j = assert_error(s.cgi("asir-group/get-stock", query=query, token=tok), 400, "invalid_parameter")
            assert j["error"].startswith(f"Parameter {name} "), (query, j)
        # a parameter of another endpoint is no parameter of this one
        assert [i["sku"] for i in get_stock(s, tok, "status=all&page=0")[1]] == ["V-1"]


# Scopes and the rate limit.

def test_scopes():
    with Store() as s:
        tok, ntok, back = s.token("asir-group"), s.token("notio"), s.token("--backoffice")
        assert counts(update(s, tok, {"items": items_of([("SC", 1)])})) == (1, 0, 0)
        body = {"items": items_of([("SC", 2)])}
        assert_error(update(s, ntok, body), 403, "wrong_supplier")
        assert_error(update(s, back, body), 403, "wrong_scope")
        assert_error(update(s, None, body), 401)
        assert_error(update(s, "mzk_" + "A" * 43, body), 401)
        assert_error(s.cgi("asir-group/get-stock", token=ntok), 403, "wrong_supplier")
        assert_error(s.cgi("asir-group/get-stock", token=back), 403, "wrong_scope")
        assert_error(s.cgi("asir-group/get-stock"), 401)
        assert_error(s.cgi("asir-group/update-stock", method="GET", token=tok), 405)
        assert_error(s.cgi("asir-group/get-stock", method="POST", token=tok), 405)
        assert {k: v["quantity"] for k, v in all_stock(s).items()} == {("asir-group", "SC"): 1}
        assert len(stock_events(s)) == 1
        assert counts(update(s, ntok, body, supplier="notio")) == (1, 0, 0)
        assert {k: v["quantity"] for k, v in all_stock(s).items()} == {("asir-group", "SC"): 1, ("notio", "SC"): 2}


def remaining(r):
    m = re.fullmatch(r'"per-token";r=(\d+)(?:;t=\d+)?', r.headers["ratelimit"])
    assert m, r.headers
    return int(m.group(1))


def test_rate_limit_counts_an_update_as_one_request():
    with Store(MENZZO_RATE_LIMIT="1,5", MENZZO_TEST_CLOCK="1000") as s:
        tok = s.token("asir-group")
        r = update(s, tok, {"mode": "full", "items": items_of([("RL-%04d" % i, 1) for i in range(1000)])})
        assert counts(r) == (1000, 0, 0) and remaining(r) == 4, r.headers
        r = update(s, tok, {"items": items_of([("RL", -1)])})
        assert r.status == 400 and remaining(r) == 3, r
        r, _ = get_stock(s, tok)
        assert remaining(r) == 2
        r = s.cgi("asir-group/get-stock", query="sku=%20", token=tok)
        assert r.status == 400 and remaining(r) == 1
        assert counts(update(s, tok, {"items": items_of([("RL-0000", 2)])})) == (1, 0, 0)
        r = update(s, tok, {"items": items_of([("RL-0000", 3)])})
        assert_error(r, 429, "rate_limited")
        assert all_stock(s)[("asir-group", "RL-0000")]["quantity"] == 2 and len(stock_events(s)) == 2


# menzzo-admin.

def test_admin_stock_text_and_json():
    with Store() as s:
        tok, ntok = s.token("asir-group"), s.token("notio")
        update(s, tok, {"items": [{"sku": "T-2", "quantity": 4, "lead_time_days": 12,
                                   "next_available_date": "2026-04-30"}, {"sku": "T-1", "quantity": 0}]}, at=DAY1)
        update(s, ntok, {"items": [{"sku": "T-1", "quantity": 8, "lead_time_days": 0}]}, supplier="notio", at=DAY3)
        header = "SUPPLIER\tSKU\tQUANTITY\tLEAD_TIME_DAYS\tNEXT_AVAILABLE_DATE\tUPDATED_AT"
        rows = ["asir-group\tT-1\t0\t-\t-\t2026-01-01T00:00:00Z",
                "asir-group\tT-2\t4\t12\t2026-04-30\t2026-01-01T00:00:00Z",
                "notio\tT-1\t8\t0\t-\t2026-01-03T00:00:00Z"]
        assert s.admin("stock").stdout.decode().splitlines() == [header] + rows
        assert s.admin("stock", "notio").stdout.decode().splitlines() == [header, rows[2]]
        lines = [json.loads(l) for l in s.admin("stock", "--json").stdout.decode().splitlines()]
        assert lines == [
            {"supplier": "asir-group", "sku": "T-1", "quantity": 0, "lead_time_days": None,
             "next_available_date": None, "updated_at": "2026-01-01T00:00:00Z"},
            {"supplier": "asir-group", "sku": "T-2", "quantity": 4, "lead_time_days": 12,
             "next_available_date": "2026-04-30", "updated_at": "2026-01-01T00:00:00Z"},
            {"supplier": "notio", "sku": "T-1", "quantity": 8, "lead_time_days": 0,
             "next_available_date": None, "updated_at": "2026-01-03T00:00:00Z"}], lines
        # get-stock's items are the same, without the supplier
        assert get_stock(s, tok)[1] == [{k: v for k, v in l.items() if k != "supplier"} for l in lines[:2]]
        assert [json.loads(l) for l in s.admin("stock", "asir-group", "--json").stdout.decode().splitlines()] == \
            lines[:2]
        p = s.admin("stock", "nobody", check=False)
        assert p.returncode == 2 and b"SUPPLIER must be one of" in p.stderr and p.stdout == b"", p
        p = s.admin("stock", "notio", "asir-group", check=False)
        assert p.returncode == 2 and b"unexpected argument asir-group" in p.stderr, p
        # an empty store: the header alone, no JSON lines
        with Store() as empty:
            assert empty.admin("stock").stdout.decode().splitlines() == [header]
            assert empty.admin("stock", "--json").stdout == b""
            assert_check_clean(empty, 0)
        evs = stock_events(s)
        assert [(e["supplier"], e["skus"], e["at"]) for e in evs] == [
            ("asir-group", ["T-2", "T-1"], "2026-01-01T00:00:00Z"), ("notio", ["T-1"], "2026-01-03T00:00:00Z")]
        assert_check_clean(s, 3)


# A store of an earlier format.

def test_a_format_4_store_takes_stock_after_its_upgrade():
    with old_store(os.path.join(FIXTURES, "schema4")) as s:
        assert schema(s) == 4
        old_events = events(s)
        tok = s.tokens["asir-group"]
        # read as it is: no stock, and the store stays at format 4
        assert get_stock(s, tok)[1] == []
        assert s.admin("stock").stdout.decode().splitlines() == [
            "SUPPLIER\tSKU\tQUANTITY\tLEAD_TIME_DAYS\tNEXT_AVAILABLE_DATE\tUPDATED_AT"]
        assert schema(s) == 4
        assert counts(update(s, tok, {"items": items_of([("OLD-1", 3), ("OLD-2", 0)])}, at=DAY1)) == (2, 0, 0)
        assert schema(s) == SCHEMA
        assert [i["sku"] for i in get_stock(s, tok)[1]] == ["OLD-1", "OLD-2"]
        assert counts(update(s, s.tokens["notio"], {"mode": "full", "items": items_of([("OLD-N", 1)])},
                             supplier="notio")) == (1, 0, 0)
        now = events(s)
        assert now[:len(old_events)] == old_events
        assert [(e["type"], e["skus"]) for e in now[len(old_events):]] == [("stock.updated", ["OLD-1", "OLD-2"]),
                                                                           ("stock.updated", ["OLD-N"])]
        assert now[len(old_events)]["seq"] > max([e["seq"] for e in old_events] or [0])
        assert_check_clean(s, 3)
