"""GET /api/{supplier}/get-sales (SPEC §2.2, §2.4), its response cache, and GET /api/files (§2.5).

Golden files in tests/golden/ hold the exact response bodies for GOLDEN_DATA below,
as SPEC §2.2 defines them (see tests/golden/README.md).
"""
import os
import random
import re
import time
import urllib.parse

import harness
from harness import Lighttpd, Store, sale

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
BASE = "https://api.example.test"  # the harness's MENZZO_BASE_URL
LINK_RE = re.compile(r'^<([^<>]+)>; ?rel="next"$')
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

# The fixed import data behind the golden files.  Listing order of asir-group's
# open items: 15000012399_1 (2026-01-14), then on 2026-01-15 the increment_ids
# 9 < 10 < 15000012345 compared as numbers (as strings "10" < "15..." < "9").
GOLDEN_DATA = [
    sale(15000012345, 789, sku="PRODUCT-SKU", price="250.00", label="labels/15000012345_789.pdf"),
    sale(15000012345, 790, sku="PRODUCT-B", quantity=2, price="0.5", status="acknowledged",
         acknowledged_at="2026-01-15T09:00:00Z"),
    sale(9, 5, sku="SMALL-9", quantity=3, price=12, carrier="GEODIS"),
    sale(10, 6, sku="SMALL-10", price=19.99, carrier="GEODIS"),
    sale(15000012399, 1, sku="EARLY", price="1234567.89", order_date="2026-01-14", carrier="DPD"),
    sale(15000012400, 2, sku="SHIPPED-ONE", price="100", order_date="2026-01-16", status="shipped",
         acknowledged_at="2026-01-16T08:00:00Z", prepared_at="2026-01-16T10:32:07Z",
         label="labels/15000012400_2.pdf"),
    sale(15000012401, 3, sku="CANCELLED-ONE", price="5.05", order_date="2026-01-17", status="cancelled"),
    sale(15000012345, 800, supplier="notio", sku="NOTIO-PROD-123", quantity=12, price="180",
         carrier="GEODIS"),
    sale(15000012500, 801, supplier="notio", sku="NOTIO-SOFA", price="0.01", order_date="2024-02-29",
         carrier="GEODIS"),
]
OPEN_IDS = ["15000012399_1", "9_5", "10_6", "15000012345_789", "15000012345_790"]
ALL_IDS = OPEN_IDS + ["15000012400_2", "15000012401_3"]


def golden(name):
    with open(os.path.join(GOLDEN, name), "rb") as f:
        return f.read()


def get(s, tok, query="", supplier="asir-group", **kw):
    return s.cgi(f"{supplier}/get-sales", query=query, token=tok, **kw)


def ids(r):
    assert r.status == 200, r
    return [item["menzzo_order_id"] for item in r.json()]


def assert_error(r, status, *params):
    """An error in the SPEC §2.4 shape; the text names one of params (when given)."""
    return harness.assert_error(r, status, mentions=params)


def next_query(r, supplier="asir-group", base=BASE):
    """The query string of the rel="next" Link, or None; the Link must be built on base."""
    link = r.headers.get("link")
    if link is None:
        return None
    m = LINK_RE.match(link)
    assert m, f"malformed Link header: {link!r}"
    prefix = f"{base}/api/{supplier}/get-sales?"
    assert m.group(1).startswith(prefix), f"Link {link!r} is not built on {prefix}"
    return m.group(1)[len(prefix):]


def link_params(q):
    return dict(urllib.parse.parse_qsl(q, keep_blank_values=True, strict_parsing=True))


def golden_store(**env):
    s = Store(**env)
    s.import_lines(GOLDEN_DATA)
    return s


# Golden output.

def test_golden_bodies():
    with golden_store() as s:
        tok, ntok = s.token("asir-group"), s.token("notio")
        cases = [
            ("", "get-sales.asir-group.open.json"),
            ("status=open", "get-sales.asir-group.open.json"),
            ("status=all", "get-sales.asir-group.all.json"),
            ("status=shipped", "get-sales.asir-group.shipped.json"),
            ("status=cancelled", "get-sales.asir-group.cancelled.json"),
            ("order_number=15000012345", "get-sales.asir-group.order-15000012345.json"),
            ("date_from=2026-01-15&date_to=2026-01-15", "get-sales.asir-group.2026-01-15.json"),
            ("date_from=2027-01-01", "get-sales.empty.json"),
            ("page=2", "get-sales.empty.json"),
            ("last_menzzo_order_number=15000012345_790", "get-sales.empty.json"),
        ]
        for query, name in cases:
            r = get(s, tok, query)
            assert r.status == 200, (query, r)
            assert r.headers["content-type"] == "application/json", r
            assert r.body == golden(name), (query, name, r.body)
            assert "link" not in r.headers, (query, r.headers)
        r = get(s, ntok, supplier="notio")
        assert r.status == 200 and r.body == golden("get-sales.notio.open.json"), r.body
        r = get(s, ntok, "order_number=15000012345", supplier="notio")
        assert ids(r) == ["15000012345_800"]


def test_golden_money_and_nulls():
    """Money keeps two decimals in the raw text (250.00, 0.50), null fields are JSON null."""
    with golden_store() as s:
        r = get(s, s.token("asir-group"), "status=all")
        body = r.body.decode()
        for text in ('"price":250.00', '"price":0.50', '"price":12.00', '"price":19.99',
                     '"price":1234567.89', '"price":100.00', '"price":5.05'):
            assert text in body, text
        items = {i["menzzo_order_id"]: i for i in r.json()}
        assert list(items["9_5"]) == ["menzzo_order_id", "sku", "quantity", "price", "link_to_label",
                                      "order_date", "carrier", "status", "acknowledged_at", "prepared_at",
                                      "refused_at", "estimated_ship_date", "delivery_status", "delivered_at"]
        assert all(item[k] is None for item in items.values()
                   for k in ("refused_at", "estimated_ship_date", "delivery_status", "delivered_at"))
        assert items["9_5"]["link_to_label"] is None and items["9_5"]["acknowledged_at"] is None
        for item in items.values():
            for k in ("acknowledged_at", "prepared_at"):
                assert item[k] is None or TIMESTAMP_RE.match(item[k]), item
        r = get(s, s.token("notio"), supplier="notio")
        assert '"price":0.01' in r.body.decode() and '"price":180.00' in r.body.decode()


def test_price_extremes():
    with Store() as s:
        s.import_lines([sale(1, 1, price="999999999.99"), sale(1, 2, price="0.01"), sale(1, 3, price="10"),
                        sale(1, 4, price="10.1"), sale(1, 5, price=7), sale(1, 6, price=7.5),
                        sale(1, 7, price="100.00")])
        r = get(s, s.token("asir-group"))
        prices = re.findall(r'"price":([^,]*),', r.body.decode())
        assert prices == ["999999999.99", "0.01", "10.00", "10.10", "7.00", "7.50", "100.00"], prices


def test_link_to_label_uses_base_url_only():
    with golden_store() as s:
        tok = s.token("asir-group")
        r = get(s, tok, "order_number=15000012345_789", headers={"Host": "evil.example"},
                env={"MENZZO_BASE_URL": "https://orders.menzzo.example"})
        assert r.json()[0]["link_to_label"] == \
            "https://orders.menzzo.example/api/files/labels/15000012345_789.pdf", r.body
        assert b"evil.example" not in r.body


# Pagination and the cursor.

def pagination_fixture(seed=11):
    """~50 open asir-group items over several dates and orders, with increment_ids and
    sale_product_ids of different digit lengths, plus shipped/cancelled ones and notio's."""
    rng = random.Random(seed)
    pool = list(range(1, 10)) + list(range(10, 100, 3)) + list(range(100, 1000, 41)) + \
        list(range(1000, 100000, 3331)) + [1000003, 2500000001, 99999999999, 12345678901234]
    rng.shuffle(pool)
    orders = [("2025-12-31", 9), ("2025-12-31", 10), ("2025-12-31", 1000000000),
              ("2026-01-09", 99), ("2026-01-09", 100), ("2026-01-09", 8),
              ("2026-01-10", 5), ("2026-01-10", 15000012345), ("2026-01-10", 50),
              ("2026-02-01", 7)]
    lines, open_items, closed = [], [], []
    for date, inc in orders:
        for k in range(6):
            sp = pool.pop()
            if k == 5:
                status = "shipped" if inc % 2 else "cancelled"
                lines.append(sale(inc, sp, order_date=date, status=status))
                closed.append((date, inc, sp))
            else:
                lines.append(sale(inc, sp, order_date=date))
                open_items.append((date, inc, sp))
    # notio has items on the same dates; they never appear in asir-group's listing
    for date, inc in orders[:5]:
        lines.append(sale(inc + 7000, pool.pop(), supplier="notio", order_date=date))
    numeric = sorted(open_items)
    textual = sorted(open_items, key=lambda t: (t[0], str(t[1]), str(t[2])))
    assert numeric != textual, "the fixture must tell numeric from string order"
    expected = ["%d_%d" % (inc, sp) for _, inc, sp in numeric]
    everything = ["%d_%d" % (inc, sp) for _, inc, sp in sorted(open_items + closed)]
    return lines, expected, everything


def test_pagination_complete_by_page_number_and_by_link():
    lines, expected, everything = pagination_fixture()
    assert len(expected) == 50 and len(everything) == 60
    with Store(MENZZO_PAGE_SIZE="7") as s:
        s.import_lines(lines)
        tok = s.token("asir-group")
        pages = []
        for page in range(1, 10):
            r = get(s, tok, f"page={page}")
            pages.append(ids(r))
            nq = next_query(r)
            if page < 8:
                assert nq is not None, (page, r.headers)
                assert link_params(nq) == {"last_menzzo_order_number": pages[-1][-1]}, nq
                # the Link of page k leads to page k+1
                assert ids(get(s, tok, nq)) == expected[page * 7:page * 7 + 7], page
            else:
                assert nq is None, (page, r.headers)
        assert [len(p) for p in pages] == [7] * 7 + [1, 0]
        assert sum(pages, []) == expected
        # following Links from the first page: every one of these queries was asked above,
        # so the answers (and their Links) come from the cache
        got, q, calls = [], "", 0
        while q is not None:
            r = get(s, tok, q)
            assert r.headers["x-cache"] == "HIT", (q, r.headers)
            got += ids(r)
            q = next_query(r)
            calls += 1
            assert calls <= 20
        assert got == expected and calls == 8
        # with status=all and a date range, the Link keeps the filters
        got, q = [], "status=all&date_from=2025-12-31&date_to=2026-02-01"
        while q is not None:
            r = get(s, tok, q)
            got += ids(r)
            q = next_query(r)
            if q is not None:
                p = link_params(q)
                assert p["status"] == "all" and p["date_from"] == "2025-12-31" and \
                    p["date_to"] == "2026-02-01", p
        assert got == everything, (got, everything)


def test_pagination_exact_multiple_and_notio():
    """A last page that is exactly full has no Link; notio (no cache) pages the same way."""
    with Store(MENZZO_PAGE_SIZE="5") as s:
        s.import_lines([sale(100 + i // 3, 500 + i, supplier="notio",
                             order_date="2026-01-%02d" % (20 - i // 3)) for i in range(15)])
        tok = s.token("notio")
        expected = sorted(((20 - i // 3, 100 + i // 3, 500 + i) for i in range(15)))
        expected = ["%d_%d" % (inc, sp) for _, inc, sp in expected]
        got, q, calls = [], "", 0
        while q is not None:
            r = get(s, tok, q, supplier="notio")
            assert "x-cache" not in r.headers and r.headers["cache-control"] == "no-store"
            got += ids(r)
            q = next_query(r, "notio")
            calls += 1
        assert got == expected and calls == 3
        assert ids(get(s, tok, "page=4", supplier="notio")) == []
        r = get(s, tok, "page=3", supplier="notio")
        assert ids(r) == expected[10:] and "link" not in r.headers


def follow_while_shipping(supplier):
    """Follows Links while items are shipped, acknowledged, cancelled and added between calls."""
    rng = random.Random(5)
    items = [(1 + inc % 4, inc, inc * 10 + k)
             for inc in (7, 8, 9, 10, 11, 99, 100, 101, 1000, 15000012345) for k in range(4)]
    start = ["%d_%d" % (inc, sp) for _, inc, sp in sorted(items)]
    with Store(MENZZO_PAGE_SIZE="5") as s:
        s.import_lines([sale(inc, sp, supplier=supplier, order_date="2026-01-%02d" % day)
                        for day, inc, sp in items])
        tok = s.token(supplier)
        removed, seen, got = set(), [], []
        q, calls = "", 0
        while q is not None:
            r = get(s, tok, q, supplier=supplier, headers={"Host": "evil.example"})
            page = ids(r)
            got += page
            seen += page
            q = next_query(r, supplier)
            calls += 1
            assert calls < 30
            if q is None:
                break
            ahead = [i for i in start if i not in seen and i not in removed]
            # ship the cursor item itself, one already seen and one not yet reached
            victims = [page[-1], rng.choice(seen)]
            if len(ahead) > 2:
                victims.append(ahead[1])
                removed.add(ahead[1])
            for v in victims:
                rr = s.cgi(f"{supplier}/ship-sale", method="POST", body={"menzzo_order_id": v}, token=tok)
                assert rr.status == 200, rr
            if len(ahead) > 4:
                s.admin("cancel", ahead[3])
                removed.add(ahead[3])
                rr = s.cgi(f"{supplier}/acknowledge-sale", method="POST",
                           body={"menzzo_order_id": ahead[4]}, token=tok)
                assert rr.status == 200 and rr.json()["status"] == "acknowledged", rr
        want = [i for i in start if i not in removed]
        assert len(removed) >= 8 and calls >= 5, (removed, calls)
        assert got == want, (got, want)
        assert len(got) == len(set(got))


def test_link_following_while_shipping_asir_group():
    follow_while_shipping("asir-group")


def test_link_following_while_shipping_notio():
    follow_while_shipping("notio")


def test_link_never_from_host_header():
    with Store(MENZZO_PAGE_SIZE="2") as s:
        s.import_lines(GOLDEN_DATA)
        tok = s.token("asir-group")
        r = get(s, tok, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
                env={"SERVER_NAME": "evil.example", "HTTP_HOST": "evil.example"})
        link = r.headers["link"]
        assert "evil" not in link and link.startswith("<" + BASE + "/api/asir-group/get-sales?"), link
        assert next_query(r) == "last_menzzo_order_number=9_5"
        r2 = get(s, tok, headers={"Host": "evil.example"})
        assert r2.headers["x-cache"] == "HIT" and r2.headers["link"] == link, r2.headers
        r = get(s, tok, "date_from=2026-01-15", headers={"Host": "evil.example"},
                env={"MENZZO_BASE_URL": "http://127.0.0.1:9000"})
        assert next_query(r, base="http://127.0.0.1:9000") is not None, r.headers


def test_cursor_full_id_and_bare_increment_id():
    with golden_store() as s:
        tok = s.token("asir-group")
        r = get(s, tok, "last_menzzo_order_number=9_5")
        assert ids(r) == ["10_6", "15000012345_789", "15000012345_790"]
        r = get(s, tok, "last_menzzo_order_number=15000012345_789")
        assert ids(r) == ["15000012345_790"]
        # a bare increment_id means its last sale product: after 15000012345_790
        r = get(s, tok, "last_menzzo_order_number=15000012345&status=all")
        assert ids(r) == ["15000012400_2", "15000012401_3"]
        r = get(s, tok, "last_menzzo_order_number=9")
        assert ids(r) == ["10_6", "15000012345_789", "15000012345_790"]
        # a cursor that is no longer open still places the listing
        r = get(s, tok, "last_menzzo_order_number=15000012400_2&status=all")
        assert ids(r) == ["15000012401_3"]
        r = get(s, tok, "last_menzzo_order_number=15000012399_1&page=2", env={"MENZZO_PAGE_SIZE": "2"})
        assert ids(r) == ["15000012345_789", "15000012345_790"]
        # never had / another supplier's / increment_id that does not match / malformed
        for cursor in ("424242_1", "424242", "15000012345_800", "15000012500", "15000012500_801",
                       "9_6", "15000012399_5", "abc", "9_", "_5", "09_5", "9_5_1", "-9"):
            r = get(s, tok, "last_menzzo_order_number=" + urllib.parse.quote(cursor))
            j = assert_error(r, 400, "last_menzzo_order_number")
            assert "15000012500_801" not in j["error"]
        # the cursor combines with the other filters, even when it lies outside them
        assert ids(get(s, tok, "date_from=2026-01-15&last_menzzo_order_number=15000012399_1")) == \
            ["9_5", "10_6", "15000012345_789", "15000012345_790"]
        assert ids(get(s, tok, "date_to=2026-01-14&last_menzzo_order_number=15000012345_790")) == []
        assert ids(get(s, tok, "status=shipped&last_menzzo_order_number=9_5")) == ["15000012400_2"]
        assert ids(get(s, tok, "status=pending&last_menzzo_order_number=10")) == ["15000012345_789"]
        assert ids(get(s, tok, "status=all&last_menzzo_order_number=15000012401_3")) == []
        r = get(s, s.token("notio"), "last_menzzo_order_number=15000012345", supplier="notio")
        assert ids(r) == [], "notio's cursor on its own part of a shared order"


def test_order_number():
    with golden_store() as s:
        s.import_lines([sale(15000012345, 791, status="shipped", prepared_at="2026-01-15T12:00:00Z"),
                        sale(15000012345, 792, status="cancelled")])
        tok = s.token("asir-group")
        r = get(s, tok, "order_number=15000012345")
        assert ids(r) == ["15000012345_789", "15000012345_790", "15000012345_791", "15000012345_792"]
        assert [i["status"] for i in r.json()] == ["pending", "acknowledged", "shipped", "cancelled"]
        assert ids(get(s, tok, "order_number=15000012345_791")) == ["15000012345_791"]
        assert ids(get(s, tok, "order_number=15000012400_2")) == ["15000012400_2"]
        assert ids(get(s, tok, "order_number=15000012345&status=shipped")) == ["15000012345_791"]
        assert ids(get(s, tok, "order_number=15000012345&status=open")) == \
            ["15000012345_789", "15000012345_790"]
        assert ids(get(s, tok, "order_number=15000012345&status=cancelled")) == ["15000012345_792"]
        assert ids(get(s, tok, "order_number=15000012345_791&status=pending")) == []
        # another supplier's part of the order, an order never seen, a mismatched pair
        assert ids(get(s, tok, "order_number=15000012345_800")) == []
        assert ids(get(s, tok, "order_number=15000012500")) == []
        assert ids(get(s, tok, "order_number=777")) == []
        assert ids(get(s, tok, "order_number=9_6")) == []
        for bad in ("abc", "9_", "_5", "09", "9_5_1", "1.5", "18446744073709551616"):
            assert_error(get(s, tok, "order_number=" + bad), 400, "order_number")
        # an order with more items than a page: the Link keeps order_number
        s.import_lines([sale(4444, 44000 + k, order_date="2026-01-20") for k in range(9)])
        r = get(s, tok, "order_number=4444", env={"MENZZO_PAGE_SIZE": "5"})
        first = ids(r)
        q = next_query(r)
        assert len(first) == 5 and q is not None
        assert link_params(q) == {"order_number": "4444", "last_menzzo_order_number": first[-1]}, q
        rest = ids(get(s, tok, q, env={"MENZZO_PAGE_SIZE": "5"}))
        assert first + rest == ["4444_%d" % (44000 + k) for k in range(9)]


def test_dates():
    with Store() as s:
        s.import_lines([sale(1, 1, order_date="2024-02-28"), sale(2, 2, order_date="2024-02-29"),
                        sale(3, 3, order_date="2024-03-01"), sale(4, 4, order_date="2026-01-31"),
                        sale(5, 5, order_date="2026-02-01")])
        tok = s.token("asir-group")
        assert ids(get(s, tok, "date_from=2024-02-29")) == ["2_2", "3_3", "4_4", "5_5"]
        assert ids(get(s, tok, "date_to=2024-02-29")) == ["1_1", "2_2"]
        assert ids(get(s, tok, "date_from=2024-02-29&date_to=2024-02-29")) == ["2_2"]
        assert ids(get(s, tok, "date_from=2024-02-29&date_to=2026-01-31")) == ["2_2", "3_3", "4_4"]
        assert ids(get(s, tok, "date_from=2026-01-31&date_to=2026-02-01")) == ["4_4", "5_5"]
        assert ids(get(s, tok, "date_from=2025-01-01&date_to=2025-12-31")) == []
        assert ids(get(s, tok, "date_from=2000-02-29")) == ["1_1", "2_2", "3_3", "4_4", "5_5"]
        bad = ["2023-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00",
               "2026-1-05", "2026-01-5", "26-01-05", "2026/01/05", "20260105", "2026-01-05T00:00:00Z",
               "2026-01-05 ", "+2026-01-05", "1900-02-29", "2100-02-29", "abcd-ef-gh", "2026-01-0%00"]
        for name in ("date_from", "date_to"):
            for d in bad:
                r = get(s, tok, f"{name}={urllib.parse.quote(d, safe='%')}")
                assert_error(r, 400, name)
        r = get(s, tok, "date_from=2026-02-01&date_to=2026-01-31")
        assert_error(r, 400, "date_from", "date_to")
        assert ids(get(s, tok, "date_from=2026-01-31&date_to=2026-01-31")) == ["4_4"]


def test_status_filter():
    with golden_store() as s:
        tok = s.token("asir-group")
        assert ids(get(s, tok)) == OPEN_IDS
        assert ids(get(s, tok, "status=open")) == OPEN_IDS
        assert ids(get(s, tok, "status=pending")) == ["15000012399_1", "9_5", "10_6", "15000012345_789"]
        assert ids(get(s, tok, "status=acknowledged")) == ["15000012345_790"]
        assert ids(get(s, tok, "status=shipped")) == ["15000012400_2"]
        assert ids(get(s, tok, "status=cancelled")) == ["15000012401_3"]
        assert ids(get(s, tok, "status=all")) == ALL_IDS
        for bad in ("OPEN", "Pending", "closed", "open,shipped", "all%20", "%00", "shipped%00", "open+"):
            assert_error(get(s, tok, "status=" + bad), 400, "status")


# A known parameter given twice: (query, the parameter the 400 names).
REPEATED_PARAMETERS = (
    ("page=1&page=2", "page"),
    ("page=1&page=1", "page"),
    ("status=open&status=all", "status"),
    ("status=open&status=open", "status"),
    ("date_from=2026-01-01&date_from=2026-01-01", "date_from"),
    ("date_to=2026-01-01&date_to=2026-01-02", "date_to"),
    ("order_number=9&order_number=9", "order_number"),
    ("last_menzzo_order_number=9_5&last_menzzo_order_number=10_6", "last_menzzo_order_number"),
)


def test_page_parameter_and_unknown_and_repeated_parameters():
    with golden_store() as s:
        tok = s.token("asir-group")
        for bad in ("0", "-1", "abc", "1000001", "01", "1.0", "1e3", " 1", "2%00",
                    "99999999999999999999999"):
            assert_error(get(s, tok, "page=" + urllib.parse.quote(bad, safe="%")), 400, "page")
        assert ids(get(s, tok, "page=1000000")) == []
        assert_error(get(s, tok, "pa%67e=0"), 400, "page")  # an escaped name is the same name
        assert ids(get(s, tok, "page=1")) == OPEN_IDS
        base = get(s, tok, env={"MENZZO_CACHE_TTL_ASIR_GROUP": "0"}).body
        for q in ("foo=bar", "utm_source=x&page=1", "pagex=0", "Page=0", "STATUS=bogus", "status_=x",
                  "&&=&page=1&", "x=%zz"):
            r = get(s, tok, q, env={"MENZZO_CACHE_TTL_ASIR_GROUP": "0"})
            assert r.status == 200 and r.body == base, (q, r)
        for q, name in REPEATED_PARAMETERS:
            assert_error(get(s, tok, q), 400, name)
        # several invalid: still a 400 naming one of them
        assert_error(get(s, tok, "page=0&status=x"), 400, "page", "status")


def test_empty_value_of_known_parameter_is_invalid():
    """`page=` is no integer 1-1000000, `status=` no status: invalid values of known parameters."""
    with golden_store() as s:
        tok = s.token("asir-group")
        for name in ("page", "status", "date_from", "date_to", "order_number", "last_menzzo_order_number"):
            assert_error(get(s, tok, name + "="), 400, name)


def test_errors_are_json_without_secrets():
    with golden_store() as s:
        tok = s.token("asir-group")
        r = get(s, tok, "date_from=" + "9" * 300)
        j = assert_error(r, 400, "date_from")
        assert tok not in r.body.decode() and s.dir not in r.body.decode()
        assert r.headers["x-request-id"] in r.stderr, "the request id goes to the error log"
        assert_error(get(s, None), 401)
        assert_error(get(s, s.token("notio")), 403)
        assert j["code"] == get(s, tok, "page=0").json()["code"]


# The response cache.

def cache_state(r):
    return r.headers.get("x-cache")


def max_age(r):
    m = re.fullmatch(r"private, max-age=(\d+)", r.headers["cache-control"])
    assert m, r.headers["cache-control"]
    return int(m.group(1))


def test_cache_hit_and_invalidation():
    with golden_store() as s:
        tok = s.token("asir-group")
        r1 = get(s, tok)
        assert r1.status == 200 and cache_state(r1) == "MISS" and max_age(r1) == 1800, r1.headers
        assert r1.body == golden("get-sales.asir-group.open.json")
        r2 = get(s, tok)
        assert cache_state(r2) == "HIT" and r2.body == r1.body, r2.headers
        assert 0 < max_age(r2) <= 1800
        # equivalent queries share the entry; unknown parameters play no part
        for q in ("page=1&status=open", "status=open&page=1", "status=open", "page=1", "utm=1&page=1"):
            r = get(s, tok, q)
            assert cache_state(r) == "HIT" and r.body == r1.body, (q, r.headers)
        # another query is another entry
        ra = get(s, tok, "status=all")
        assert cache_state(ra) == "MISS" and ra.body == golden("get-sales.asir-group.all.json"), ra.body
        assert cache_state(get(s, tok, "status=all")) == "HIT"
        assert cache_state(get(s, tok, "status=all&page=2")) == "MISS"
        assert cache_state(get(s, tok, "date_from=2026-01-15")) == "MISS"
        assert get(s, tok, "date_from=2026-01-15").body != get(s, tok).body

        def changed(expect_ids, query=""):
            r = get(s, tok, query)
            assert cache_state(r) == "MISS", (query, r.headers)
            assert ids(r) == expect_ids, ids(r)
            r2 = get(s, tok, query)
            assert cache_state(r2) == "HIT" and r2.body == r.body
            return r

        # import
        s.import_lines([sale(9, 4, sku="NEW")])
        open_ids = ["15000012399_1", "9_4", "9_5", "10_6", "15000012345_789", "15000012345_790"]
        changed(open_ids)
        # acknowledge
        rr = s.cgi("asir-group/acknowledge-sale", method="POST", body={"menzzo_order_id": "9_4"}, token=tok)
        assert rr.status == 200
        r = changed(open_ids)
        assert r.json()[1]["status"] == "acknowledged"
        # ship
        rr = s.cgi("asir-group/ship-sale", method="POST", body={"menzzo_order_id": "9_4"}, token=tok)
        assert rr.status == 200
        open_ids.remove("9_4")
        changed(open_ids)
        # cancel; every query of the supplier is invalidated, not only the one asked before
        assert cache_state(get(s, tok, "status=all")) == "MISS"
        assert cache_state(get(s, tok, "status=all")) == "HIT"
        s.admin("cancel", "10_6")
        open_ids.remove("10_6")
        changed(open_ids)
        r = get(s, tok, "status=all")
        assert cache_state(r) == "MISS" and "9_4" in ids(r)
        assert [i["status"] for i in r.json() if i["menzzo_order_id"] == "10_6"] == ["cancelled"]


def test_cache_expiry():
    """A response is served from the cache for its TTL and never after; the clock is the test builds'
    (MENZZO_TEST_CLOCK), so that the machine's speed plays no part."""
    t = int(time.time())

    def at(sec):
        return {"env": {"MENZZO_TEST_CLOCK": str(sec)}}
    with golden_store(MENZZO_CACHE_TTL_ASIR_GROUP="3") as s:
        tok = s.token("asir-group")
        r = get(s, tok, **at(t))
        assert cache_state(r) == "MISS" and max_age(r) == 3
        r = get(s, tok, **at(t + 1))
        assert cache_state(r) == "HIT" and max_age(r) == 2, r.headers
        r = get(s, tok, **at(t + 3))
        assert cache_state(r) == "MISS" and max_age(r) == 3, r.headers
        r = get(s, tok, **at(t + 5))
        assert cache_state(r) == "HIT" and max_age(r) == 1, r.headers
    with golden_store(MENZZO_CACHE_TTL_ASIR_GROUP="1") as s:
        tok = s.token("asir-group")
        assert cache_state(get(s, tok, **at(t))) == "MISS"
        r = get(s, tok, **at(t + 2))
        assert cache_state(r) == "MISS" and r.body == golden("get-sales.asir-group.open.json")


def purge_count(s, *args):
    out = s.admin("cache", "purge", *args).stdout.decode()
    m = re.search(r"(\d+) cache entr(y|ies) removed", out)
    assert m, out
    return int(m.group(1))


def test_cache_purge_counts():
    with golden_store() as s:
        tok = s.token("asir-group")
        for q in ("", "status=all", "status=shipped"):
            assert cache_state(get(s, tok, q)) == "MISS"
        assert purge_count(s) == 0, "nothing has expired"
        assert cache_state(get(s, tok)) == "HIT"
        assert purge_count(s, "--all") == 3
        assert purge_count(s, "--all") == 0
        assert cache_state(get(s, tok)) == "MISS"  # purged entries are gone
        # two entries written 3 s before the purges below: expired (the test builds' clock, MENZZO_TEST_CLOCK)
        short = {"MENZZO_CACHE_TTL_ASIR_GROUP": "2", "MENZZO_TEST_CLOCK": str(int(time.time()) - 3)}
        assert cache_state(get(s, tok, "date_from=2026-01-01", env=short)) == "MISS"
        assert cache_state(get(s, tok, "date_from=2026-01-02", env=short)) == "MISS"
        assert purge_count(s) == 2
        assert purge_count(s) == 0
        assert purge_count(s, "--all") == 1
        assert cache_state(get(s, tok, "date_from=2026-01-01", env=short)) == "MISS"


def test_cache_per_supplier_configuration():
    with golden_store() as s:
        atok, ntok = s.token("asir-group"), s.token("notio")
        assert cache_state(get(s, atok)) == "MISS"
        for _ in range(2):
            r = get(s, ntok, supplier="notio")
            assert r.headers["cache-control"] == "no-store" and "x-cache" not in r.headers, r.headers
        r = get(s, ntok, supplier="notio", env={"MENZZO_CACHE_TTL_NOTIO": "60"})
        assert cache_state(r) == "MISS" and max_age(r) == 60
        r = get(s, ntok, supplier="notio", env={"MENZZO_CACHE_TTL_NOTIO": "60"})
        assert cache_state(r) == "HIT" and r.body == golden("get-sales.notio.open.json")
        # the same query of the other supplier is its own entry
        r = get(s, atok)
        assert cache_state(r) == "HIT" and r.body == golden("get-sales.asir-group.open.json")
        # a change to notio's sales invalidates notio's entries
        rr = s.cgi("notio/acknowledge-sale", method="POST", body={"menzzo_order_id": "15000012345_800"},
                   token=ntok)
        assert rr.status == 200
        r = get(s, ntok, supplier="notio", env={"MENZZO_CACHE_TTL_NOTIO": "60"})
        assert cache_state(r) == "MISS" and r.json()[1]["status"] == "acknowledged", r.body
        for _ in range(2):
            r = get(s, atok, env={"MENZZO_CACHE_TTL_ASIR_GROUP": "0"})
            assert r.headers["cache-control"] == "no-store" and "x-cache" not in r.headers, r.headers
        # an error is never cached
        for _ in range(2):
            r = get(s, atok, "page=0")
            assert r.status == 400 and "x-cache" not in r.headers
            assert r.headers["cache-control"] == "no-store"


# GET /api/files/{path}

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def files_store():
    s = Store()
    files = s.env["MENZZO_FILES_DIR"]
    os.makedirs(os.path.join(files, "labels"), exist_ok=True)
    with open(os.path.join(files, "labels", "x.pdf"), "wb") as f:
        f.write(PDF)
    with open(os.path.join(files, "labels", "n.pdf"), "wb") as f:
        f.write(b"%PDF-1.4 notio\n")
    secret = os.path.join(s.dir, "secret.pdf")
    with open(secret, "wb") as f:
        f.write(b"%PDF-1.4 secret outside the files directory")
    os.symlink(secret, os.path.join(files, "labels", "link.pdf"))
    os.symlink(s.dir, os.path.join(files, "out"))
    s.import_lines([sale(101, 101, order_date="2025-06-01", label="labels/x.pdf"),
                    sale(102, 102, order_date="2025-06-01", supplier="notio", label="labels/n.pdf"),
                    sale(103, 103, order_date="2025-06-01", label="labels/link.pdf"),
                    sale(104, 104, order_date="2025-06-01", label="out/secret.pdf"),
                    sale(105, 105, order_date="2025-06-01", label="labels/missing.pdf")])
    return s


def test_files_owner_gets_the_pdf():
    with files_store() as s:
        atok, ntok = s.token("asir-group"), s.token("notio")
        r = s.cgi("files", token=atok, path_info="/labels/x.pdf")
        assert r.status == 200 and r.headers["content-type"] == "application/pdf", r
        assert r.body == PDF and int(r.headers["content-length"]) == len(PDF)
        r = s.cgi("files", token=ntok, path_info="/labels/n.pdf")
        assert r.status == 200 and r.body == b"%PDF-1.4 notio\n"
        # the link_to_label of get-sales names this very path
        item = get(s, atok, "order_number=101_101").json()[0]
        assert item["link_to_label"] == BASE + "/api/files/labels/x.pdf"
        # still served once shipped
        assert s.cgi("asir-group/ship-sale", method="POST", body={"menzzo_order_id": "101_101"},
                     token=atok).status == 200
        assert s.cgi("files", token=atok, path_info="/labels/x.pdf").body == PDF


def test_files_refusals():
    with files_store() as s:
        atok, ntok = s.token("asir-group"), s.token("notio")
        r = s.cgi("files", token=ntok, path_info="/labels/x.pdf")
        assert_error(r, 404)
        not_there = s.cgi("files", token=atok, path_info="/labels/nothing.pdf")
        assert_error(not_there, 404)
        assert r.json() == not_there.json(), "another supplier's label looks like no label"
        assert_error(s.cgi("files", token=atok, path_info="/labels/n.pdf"), 404)
        r = s.cgi("files", path_info="/labels/x.pdf")
        assert_error(r, 401)
        assert r.headers["www-authenticate"].startswith('Bearer realm="menzzo"')
        assert_error(s.cgi("files", token="mzk_bogus", path_info="/labels/x.pdf"), 401)
        files = s.env["MENZZO_FILES_DIR"]
        for p in ("/../x", "/labels/../../etc/passwd", "/%2e%2e/x", "/%2E%2E/labels/x.pdf",
                  "/labels/%2e%2e/labels/x.pdf", "//etc/passwd", "/labels/../labels/x.pdf",
                  "/" + files + "/labels/x.pdf",
                  "/labels/x.pdf%00", "/labels/x.pdf/", "/labels\\..\\x.pdf", "", "/", "/labels",
                  "/labels/", "/labels/link.pdf", "/out/secret.pdf", "/labels/missing.pdf",
                  "/../secret.pdf"):
            r = s.cgi("files", token=atok, path_info=p)
            assert_error(r, 404)
            assert b"secret" not in r.body and b"root:" not in r.body, (p, r)
            assert files not in r.body.decode()


# End to end.

def test_lighttpd_end_to_end():
    s = files_store()
    try:
        s.import_lines(GOLDEN_DATA)
        atok, ntok = s.token("asir-group"), s.token("notio")
        with Lighttpd(s, env={"MENZZO_PAGE_SIZE": "3"}) as web:
            r = web.request("GET", "/api/asir-group/get-sales?status=all&date_from=2026-01-01",
                            token=atok, headers={"Host": "evil.example"})
            assert r.status == 200 and r.headers["content-type"] == "application/json", r
            assert r.headers["x-cache"] == "MISS"
            got = ids(r)
            while True:
                q = next_query(r)
                if q is None:
                    break
                r = web.request("GET", "/api/asir-group/get-sales?" + q, token=atok,
                                headers={"Host": "evil.example"})
                got += ids(r)
            assert got == ALL_IDS, got
            r1 = web.request("GET", "/api/asir-group/get-sales?status=all&date_from=2026-01-01&page=3",
                             token=atok)
            r2 = web.request("GET", "/api/asir-group/get-sales?page=3&date_from=2026-01-01&status=all&x=1",
                             token=atok)
            assert r1.headers["x-cache"] == "MISS" and r2.headers["x-cache"] == "HIT"
            assert r1.body == r2.body and ids(r1) == ALL_IDS[6:]
            r = web.request("GET", "/api/notio/get-sales", token=ntok)
            assert r.status == 200 and "x-cache" not in r.headers
            assert ids(r) == ["15000012500_801", "102_102", "15000012345_800"]
            r = web.request("GET", "/api/asir-group/get-sales?date_from=2023-02-29", token=atok)
            assert_error(r, 400, "date_from")
            r = web.request("GET", "/api/asir-group/get-sales?page=1&page=2", token=atok)
            assert_error(r, 400, "page")
            r = web.request("GET", "/api/asir-group/get-sales?last_menzzo_order_number=15000012345_800",
                            token=atok)
            assert_error(r, 400, "last_menzzo_order_number")
            r = web.request("GET", "/api/files/labels/x.pdf", token=atok)
            assert r.status == 200 and r.body == PDF and r.headers["content-type"] == "application/pdf"
            assert int(r.headers["content-length"]) == len(PDF)
            assert web.request("GET", "/api/files/labels/x.pdf", token=ntok).status == 404
            assert web.request("GET", "/api/files/labels/x.pdf").status == 401
            for p in ("/api/files/labels/../../etc/passwd", "/api/files/%2e%2e/%2e%2e/etc/passwd",
                      "/api/files/labels/link.pdf", "/api/files/out/secret.pdf",
                      "/api/files/labels/missing.pdf", "/api/files//etc/passwd"):
                r = web.request("GET", p, token=atok)
                assert r.status == 404 and b"secret" not in r.body and b"root:" not in r.body, (p, r)
    finally:
        s.close()
