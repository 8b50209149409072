"""The change feeds (SPEC §8, issue 21): GET /api/{supplier}/get-events (that supplier's sale events, numbered
1, 2, 3... without a gap in the transaction of their change, oldest first, no stock.updated, never another
supplier's) and GET /api/backoffice/get-events (every event of the outbox by its global seq, the same bytes as
`menzzo-admin events`); after= and limit= (1-1000), Link rel="next" when a page is full; each event's data
(the sale product's fields after the change, old_<field> for what it changed, its parcels once shipped, the
carrier events a tracking update added); concurrent writers and a reader polling meanwhile; scopes and the
rate limit; a store of format 6 read as it is (no feed), then upgraded by its first writer (every old sale
event numbered into its supplier's feed in outbox order); `menzzo-admin check`; each CGI run directly, the
main flows also through lighttpd.  Everything is decided by rule, never by timing."""
import calendar
import collections
import datetime
import json
import os
import re
import threading
import time
import urllib.parse

from harness import Lighttpd, Store, assert_error, sale
from test_actions import post, run_parallel, show
from test_upgrade import FIXTURES, SCHEMA, old_store, schema

# The server's clock in every test (MENZZO_TEST_CLOCK): 2027-06-01T12:00:00Z.
NOW = calendar.timegm((2027, 6, 1, 12, 0, 0))
TODAY = datetime.date(2027, 6, 1)
CLOCK = {"MENZZO_TEST_CLOCK": str(NOW)}
BASE = "https://api.example.test"     # the harness's MENZZO_BASE_URL
A, N = "asir-group", "notio"
AFTER_MSG = "Parameter after must be the seq of an event already read: an integer from 0 (the start)."
LIMIT_MSG = "Parameter limit must be an integer from 1 to 1000."
# What show gives of a sale product that an event's data does not repeat (the event's own members, the
# bookkeeping times), and what data gives otherwise (packages once shipped, the carrier events added).
DROPPED = ("menzzo_order_id", "supplier", "created_at", "updated_at")
EXTRAS = ("packages", "tracking_events")
# What a get-sales item says of a sale product that data says too.
LISTED = ("sku", "quantity", "price", "order_date", "carrier", "status", "acknowledged_at", "prepared_at",
          "refused_at", "estimated_ship_date", "delivery_status", "delivered_at")
SEQ_HEAD = re.compile(rb'^\{"seq":(\d+),')


def day(n):
    return (TODAY + datetime.timedelta(days=n)).isoformat()


def at(seconds_before_now):
    return datetime.datetime.fromtimestamp(NOW - seconds_before_now, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


NOW_TS = at(0)


def feed_path(who, after=None, limit=None):
    """/api/{who}/get-events with the query given (who: a supplier's slug, or backoffice)."""
    q = [f"{k}={v}" for k, v in (("after", after), ("limit", limit)) if v is not None]
    return f"/api/{who}/get-events" + ("?" + "&".join(q) if q else "")


def via_cgi(s, token):
    """A GET of a path under /api/ as the CGI run directly answers it."""
    def get(path):
        parts = urllib.parse.urlsplit(path)
        return s.cgi(parts.path[len("/api/"):], query=parts.query, token=token)
    return get


def via_web(web, token):
    return lambda path: web.request("GET", path, token=token)


def expected_link(who, after, limit):
    return f'<{BASE}/api/{who}/get-events?after={after}&limit={limit}>; rel="next"'


def get_page(get, who, after, limit, path=None):
    """One page after `after` (asked for by path, by default with after and limit given): its events, checked
    against the rules every page keeps (200, JSON, seqs after+1, after+2 ... without a gap, Link exactly when
    it is full), and the response."""
    r = get(path or feed_path(who, after, limit))
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/json", r
    page = r.json()
    assert isinstance(page, list), page
    assert [e["seq"] for e in page] == list(range(after + 1, after + 1 + len(page))), (after, [e["seq"] for e in page])
    if len(page) == limit:
        assert r.headers.get("link") == expected_link(who, after + len(page), limit), r.headers
    else:
        assert "link" not in r.headers, r.headers
    return page, r


def read_feed(get, who, after=0, limit=100):
    """Reads a feed as a poller does, from after on: page by page, following Link when there is one, from the
    last seq read when there is none, until a page is empty.  (events, the pages' bodies)."""
    got, bodies = [], []
    path = feed_path(who, after, limit)
    while True:
        page, r = get_page(get, who, after, limit, path)
        if not page:
            return got, bodies
        got += page
        bodies.append(r.body)
        after = page[-1]["seq"]
        if "link" in r.headers:
            m = re.fullmatch(r'<(.*)>; rel="next"', r.headers["link"])
            assert m and m.group(1).startswith(BASE + "/api/"), r.headers
            path = m.group(1)[len(BASE):]
        else:
            path = feed_path(who, after, limit)


class Poller:
    """A supplier (or the back office) keeping the last seq it read, polling for what came since."""

    def __init__(self, get, who, limit=100):
        self.get, self.who, self.limit = get, who, limit
        self.last, self.seen, self.polls = 0, [], 0

    def poll(self):
        """Reads everything after the last seq read; returns what was new."""
        new, _ = read_feed(self.get, self.who, self.last, self.limit)
        self.polls += 1
        if new:
            assert new[0]["seq"] == self.last + 1, (self.last, new[0])
            self.last = new[-1]["seq"]
        self.seen += new
        return new


def check_clean(s, feed_entries):
    """`menzzo-admin check`: no problem, and that many feed entries."""
    p = s.admin("check", check=False)
    out = p.stdout.decode().rstrip()
    assert p.returncode == 0 and out.endswith(f", {feed_entries} feed entries; 0 problem(s)"), out


def outbox_lines(s):
    """`menzzo-admin events` as it prints them: one JSON text (bytes) a line."""
    return s.admin("events").stdout.splitlines()


def outbox_seq(line):
    return int(SEQ_HEAD.match(line).group(1))


def renumbered(line, seq):
    """A stored event's text with another seq in the place of its own."""
    m = SEQ_HEAD.match(line)
    assert m, line
    return b'{"seq":%d,' % seq + line[m.end():]


def supplier_lines(lines, supplier):
    """The outbox's sale events of a supplier, in outbox order: what its feed must hold, in that order."""
    out = []
    for line in lines:
        e = json.loads(line)
        if e["type"] != "stock.updated" and e["supplier"] == supplier:
            assert e["type"].startswith("sale.") and "menzzo_order_id" in e, e
            out.append(line)
    return out


def assert_feed_is_the_outbox(lines, supplier, feed_bodies, limit):
    """The supplier's feed, read in pages of limit, is byte for byte its sale events of the outbox (lines, as
    `menzzo-admin events` prints them) in outbox order, each numbered by its place in the feed."""
    want = [renumbered(line, i + 1) for i, line in enumerate(supplier_lines(lines, supplier))]
    pages = [b"[" + b",".join(want[i:i + limit]) + b"]" for i in range(0, len(want), limit)]
    assert feed_bodies == pages, (supplier, feed_bodies[:2], pages[:2])


def fields_of(shown):
    """What an event's data says of a sale product that show says too."""
    return {k: v for k, v in shown.items() if k not in DROPPED + EXTRAS}


def check_data(feed, base_keys):
    """Each event's data, by rule: the sale product's fields after the change (the members of show but
    DROPPED, in show's order), then old_<field> for each field whose value differs from the one the sale
    product's previous event left (in the same order), then packages once it is shipped, then tracking_events
    on a tracking update; a sale.delivered carries the data of the sale.tracking_updated of its transaction
    (just before it, in every feed) without its carrier events.  Events of a store older than data are
    skipped.  Returns ({menzzo_order_id: the fields its last event left}, {menzzo_order_id: that data})."""
    state, last = {}, {}
    for i, e in enumerate(feed):
        assert "type" in e and e["type"] != "stock.updated", e
        if "data" not in e:
            continue
        assert list(e)[:5] == ["seq", "type", "menzzo_order_id", "supplier", "at"] and list(e)[-1] == "data", e
        oid, d = e["menzzo_order_id"], e["data"]
        fields = {k: d[k] for k in base_keys}
        if e["type"] == "sale.delivered":
            prev = feed[i - 1]
            assert prev["type"] == "sale.tracking_updated" and prev["menzzo_order_id"] == oid, (prev, e)
            assert d == {k: v for k, v in prev["data"].items() if k != "tracking_events"}, (prev, e)
            assert d["delivery_status"] == "delivered" and d["delivered_at"], e
            continue
        before = state.get(oid)
        if before is None:
            assert e["type"] in ("sale.created", "sale.cancelled"), ("a sale product's first event", e)
            olds = {}
        else:
            assert e["type"] != "sale.created", e
            olds = {"old_" + k: before[k] for k in base_keys if before[k] != fields[k]}
            if e["type"] != "sale.tracking_updated":   # which may add a parcel or an event and no field
                assert olds, ("an event for no change", e)
        keys = base_keys + list(olds) + (["packages"] if fields["prepared_at"] else []) + \
            (["tracking_events"] if e["type"] == "sale.tracking_updated" else [])
        assert list(d) == keys, (keys, e)
        assert {k: d[k] for k in olds} == olds, (olds, e)
        if e["type"] == "sale.tracking_updated":
            assert d["tracking_events"] or d.get("packages") != last.get(oid, {}).get("packages"), e
        state[oid], last[oid] = fields, d
    return state, last


def base_keys_of(s, oid):
    return [k for k in show(s, oid) if k not in DROPPED + EXTRAS]


def check_against_show(s, state, last):
    """What the last event of each sale product says is what show says of it now."""
    for oid, fields in state.items():
        shown = show(s, oid)
        assert fields == fields_of(shown), (oid, fields, shown)
        if shown["prepared_at"]:
            assert last[oid]["packages"] == shown["packages"], (oid, last[oid], shown)


def olds(e):
    return {k: v for k, v in e["data"].items() if k.startswith("old_")}


def answer(r, changed):
    assert r.status == 200, r
    j = r.json()
    assert j["success"] is True and j["changed"] is changed, j
    return j


def results(r):
    assert r.status == 200, r
    j = r.json()
    assert list(j) == ["success", "results"], j
    return j["results"]


def outcome(res):
    """A batch item's result: True/False (changed) for a success, else its code."""
    return res["changed"] if res["success"] else res["code"]


def ack(s, tok, oid, date=None, supplier=A):
    body = {"menzzo_order_id": oid}
    if date:
        body["estimated_ship_date"] = date
    return post(s, supplier, "acknowledge-sale", body, tok)


def refusal(oid, reason="out_of_stock", note=None):
    body = {"menzzo_order_id": oid, "accepted": False, "reason": reason}
    if note:
        body["note"] = note
    return body


def ids(inc, n, first=1):
    return ["%d_%d" % (inc, i) for i in range(first, first + n)]


def import_of(supplier_ids):
    """The import lines of these sale products, the suppliers' in turn."""
    lines = [[sale(*map(int, oid.split("_")), supplier=sup) for oid in oids] for sup, oids in supplier_ids.items()]
    return [line for group in zip(*lines) for line in group]


# 1. A supplier polling its feed never misses and never re-reads.

def test_a_poller_reads_every_change_of_its_sale_products_once_in_order_and_nothing_else():
    """Imports (new, changed, unchanged, cancelled), acknowledgements with a date then another, refusals, batches,
    shipments with parcels, carrier events, stock, cancel and reopen by the back office: each supplier's feed,
    polled after each step from the last seq read, and read again from 0 in pages of 8 and of 100, holds
    exactly its changes in order, numbered 1..n, each with its data; notio's never appear in asir-group's; no
    stock.updated but in the back office's."""
    with Store(**CLOCK) as s:
        tok, ntok = s.token(A), s.token(N)
        want = {A: [], N: []}

        def expect(supplier, typ, *oids):
            want[supplier] += [(typ, oid) for oid in oids]

        pollers = {A: Poller(via_cgi(s, tok), A, limit=5), N: Poller(via_cgi(s, ntok), N, limit=5)}

        def poll_all():
            for sup, p in pollers.items():
                p.poll()
                assert [(e["type"], e["menzzo_order_id"]) for e in p.seen] == want[sup], (sup, p.seen, want[sup])

        # an empty feed: an empty page, no Link
        poll_all()
        assert pollers[A].seen == [] and pollers[A].last == 0
        s.import_lines([sale(500, 1), sale(600, 101, supplier=N), sale(500, 2), sale(600, 102, supplier=N),
                        sale(500, 3), sale(600, 103, supplier=N)] + [sale(500, i) for i in range(4, 8)])
        expect(A, "sale.created", "500_1")
        expect(N, "sale.created", "600_101")
        expect(A, "sale.created", "500_2")
        expect(N, "sale.created", "600_102")
        expect(A, "sale.created", "500_3")
        expect(N, "sale.created", "600_103")
        expect(A, "sale.created", "500_4", "500_5", "500_6", "500_7")
        poll_all()
        # an import again: a change, a label given, one line as it is, a new one cancelled, a new one, a line
        # rejected (the others are committed, as always)
        p = s.import_lines([sale(500, 1, quantity=3), sale(500, 2, label="labels/500_2.pdf"), sale(500, 3),
                            sale(500, 8, status="cancelled"), sale(500, 10, quantity=0), sale(500, 9),
                            sale(600, 101, supplier=N, price="199.90")], check=False)
        assert p.returncode == 1 and b"line 5: quantity" in p.stderr, p.stderr
        expect(A, "sale.updated", "500_1", "500_2")
        expect(A, "sale.cancelled", "500_8")
        expect(A, "sale.created", "500_9")
        expect(N, "sale.updated", "600_101")
        s.import_lines([sale(500, 1, quantity=3)])    # the same again: no event
        poll_all()
        # the supplier's answers
        answer(ack(s, tok, "500_1", day(10)), True)
        expect(A, "sale.acknowledged", "500_1")
        answer(ack(s, tok, "500_1", day(10)), False)
        answer(ack(s, tok, "500_1"), False)
        answer(ack(s, tok, "500_1", day(20)), True)
        expect(A, "sale.ship_date_changed", "500_1")
        r = post(s, A, "acknowledge-sale", refusal("500_3", note="Rupture"), tok)
        assert r.status == 200 and r.json()["status"] == "refused", r
        expect(A, "sale.refused", "500_3")
        got = results(post(s, A, "acknowledge-sale", {"items": [
            {"menzzo_order_id": "500_2"}, refusal("500_4", "price_error"), {"menzzo_order_id": "500_1"},
            {"menzzo_order_id": "500_8"}, {"menzzo_order_id": "600_103"}]}, tok))
        assert [outcome(x) for x in got] == [True, True, False, "cancelled", "not_found"], got
        expect(A, "sale.acknowledged", "500_2")
        expect(A, "sale.refused", "500_4")
        answer(ack(s, ntok, "600_101", supplier=N), True)
        expect(N, "sale.acknowledged", "600_101")
        answer(post(s, N, "ship-sale", {"menzzo_order_id": "600_102"}, ntok), True)
        expect(N, "sale.shipped", "600_102")
        assert_error(ack(s, tok, "600_103"), 404)       # another supplier's: no event anywhere
        assert_error(ack(s, ntok, "600_103", supplier=A), 403)
        poll_all()
        answer(post(s, A, "ship-sale", {"menzzo_order_id": "500_1", "packages": [
            {"tracking_number": "T1", "carrier": "DPD"}, {"tracking_number": "T2"}]}, tok), True)
        expect(A, "sale.shipped", "500_1")
        got = results(post(s, A, "ship-sale", {"items": [
            {"menzzo_order_id": "500_2", "tracking_number": "TR-2", "carrier": "UPS"}, {"menzzo_order_id": "500_6"},
            {"menzzo_order_id": "500_3"}]}, tok))
        assert [outcome(x) for x in got] == [True, True, "refused"], got
        expect(A, "sale.shipped", "500_2", "500_6")
        answer(post(s, A, "ship-sale", {"menzzo_order_id": "500_6"}, tok), False)
        transit = {"status": "in_transit", "at": at(3600), "tracking_number": "T1", "location": "Lyon"}
        answer(post(s, A, "update-tracking", {"menzzo_order_id": "500_1", "events": [transit]}, tok), True)
        expect(A, "sale.tracking_updated", "500_1")
        answer(post(s, A, "update-tracking", {"menzzo_order_id": "500_1", "events": [transit]}, tok), False)
        delivered = {"status": "delivered", "at": at(60), "tracking_number": "T2"}
        answer(post(s, A, "update-tracking", {"menzzo_order_id": "500_1", "events": [delivered]}, tok), True)
        expect(A, "sale.tracking_updated", "500_1")
        expect(A, "sale.delivered", "500_1")
        for sup, t in ((A, tok), (N, ntok)):
            r = post(s, sup, "update-stock", {"items": [{"sku": "SKU-1", "quantity": 4}]}, t)
            assert r.status == 200 and r.json()["updated"] == 1, r
        poll_all()
        # the back office
        s.admin("cancel", "500_7")
        expect(A, "sale.cancelled", "500_7")
        s.admin("reopen", "500_3")
        expect(A, "sale.reopened", "500_3")
        s.admin("cancel", "500_4")
        expect(A, "sale.cancelled", "500_4")
        s.admin("cancel", "600_103")
        expect(N, "sale.cancelled", "600_103")
        answer(ack(s, tok, "500_3", day(5)), True)
        expect(A, "sale.acknowledged", "500_3")
        poll_all()
        poll_all()      # nothing new: an empty page
        assert pollers[A].polls == pollers[N].polls == 7

        lines = outbox_lines(s)
        for sup, t in ((A, tok), (N, ntok)):
            p = pollers[sup]
            assert [e["seq"] for e in p.seen] == list(range(1, len(want[sup]) + 1))
            # read again from the start, in pages of 8 and of 100 (the default): the same events
            for limit in (8, 100):
                again, bodies = read_feed(via_cgi(s, t), sup, 0, limit)
                assert again == p.seen
                assert_feed_is_the_outbox(lines, sup, bodies, limit)
            default, r = get_page(via_cgi(s, t), sup, 0, 100, feed_path(sup))
            assert default == p.seen, "after=0 and limit=100 by default"
            own = {oid for _, oid in want[sup]}
            assert all(e["supplier"] == sup and e["menzzo_order_id"] in own for e in p.seen), p.seen
            assert all(e["at"] == NOW_TS for e in p.seen)
            # each event as the back office's, but for its seq
            bo = [json.loads(line) for line in supplier_lines(lines, sup)]
            assert [dict(e, seq=0) for e in p.seen] == [dict(e, seq=0) for e in bo]
        assert not {oid for _, oid in want[A]} & {oid for _, oid in want[N]}
        assert [json.loads(line)["type"] for line in lines].count("stock.updated") == 2
        assert len(lines) == len(want[A]) + len(want[N]) + 2

        # the data of each event, by rule, and what the last one of each sale product says is show's
        base = base_keys_of(s, "500_1")
        for sup in (A, N):
            state, last = check_data(pollers[sup].seen, base)
            check_against_show(s, state, last)
        by = collections.defaultdict(list)
        for e in pollers[A].seen + pollers[N].seen:
            by[(e["type"], e["menzzo_order_id"])].append(e)
        created = by[("sale.created", "500_1")][0]["data"]
        assert created["status"] == "pending" and created["quantity"] == 1 and created["label"] is None, created
        assert not olds(by[("sale.created", "500_1")][0]) and "packages" not in created
        assert olds(by[("sale.updated", "500_1")][0]) == {"old_quantity": 1}
        assert by[("sale.updated", "500_1")][0]["data"]["quantity"] == 3
        assert olds(by[("sale.updated", "500_2")][0]) == {"old_label": None}
        assert by[("sale.updated", "500_2")][0]["data"]["label"] == "labels/500_2.pdf"
        assert olds(by[("sale.updated", "600_101")][0]) == {"old_price": 250.0}
        assert by[("sale.cancelled", "500_8")][0]["data"]["status"] == "cancelled"
        e = by[("sale.acknowledged", "500_1")][0]
        assert olds(e) == {"old_status": "pending", "old_acknowledged_at": None, "old_estimated_ship_date": None}, e
        assert (e["data"]["status"], e["data"]["acknowledged_at"], e["data"]["estimated_ship_date"]) == \
            ("acknowledged", NOW_TS, day(10)), e
        e = by[("sale.ship_date_changed", "500_1")][0]
        assert olds(e) == {"old_estimated_ship_date": day(10)} and e["data"]["estimated_ship_date"] == day(20), e
        e = by[("sale.refused", "500_3")][0]
        assert (e["data"]["status"], e["data"]["reason"], e["data"]["note"]) == ("refused", "out_of_stock", "Rupture")
        assert olds(e) == {"old_status": "pending", "old_refused_at": None, "old_reason": None, "old_note": None}, e
        e = by[("sale.shipped", "500_1")][0]
        assert e["data"]["packages"] == [{"tracking_number": "T1", "carrier": "DPD"},
                                         {"tracking_number": "T2", "carrier": "CHRONOPOST"}], e
        assert olds(e) == {"old_status": "acknowledged", "old_prepared_at": None, "old_tracking_number": None,
                           "old_ship_carrier": None}, e
        e = by[("sale.shipped", "500_2")][0]
        assert e["data"]["packages"] == [{"tracking_number": "TR-2", "carrier": "UPS"}], e
        first, second = by[("sale.tracking_updated", "500_1")]
        assert first["data"]["tracking_events"] == [transit] and olds(first) == {"old_delivery_status": None}, first
        assert second["data"]["tracking_events"] == [dict(delivered, location=None)], second
        assert olds(second) == {"old_delivery_status": "in_transit", "old_delivered_at": None}, second
        assert second["data"]["delivered_at"] == at(60)
        assert by[("sale.delivered", "500_1")][0]["seq"] == second["seq"] + 1
        e = by[("sale.reopened", "500_3")][0]
        assert e["data"]["status"] == "pending" and olds(e)["old_status"] == "refused", e
        assert e["data"]["reason"] is None and olds(e)["old_reason"] == "out_of_stock", e
        e = by[("sale.cancelled", "500_4")][0]
        assert olds(e)["old_status"] == "refused" and e["data"]["status"] == "cancelled", e
        check_clean(s, len(want[A]) + len(want[N]))


# 2. Concurrent writers.

def feed_reader(get, who, done, limit, out, errors):
    """Polls a feed from the last seq it read, again and again while writers write, and once more to the end
    after they are done (done set): out["seen"] every event it read, in the order read."""
    try:
        p = Poller(get, who, limit)
        while not done.is_set():
            p.poll()
            time.sleep(0.01)    # pacing only: what is read is judged by rule, whenever it was read
        p.poll()
        out["seen"] = p.seen
    except BaseException as e:      # reported by the test's thread
        errors.append(e)


def with_readers(getters, limit, write):
    """Runs write() while one reader per feed of getters ({who: get}) polls it; (write's result, {who: what
    its reader read})."""
    done, errors = threading.Event(), []
    reads = {who: {} for who in getters}
    readers = [threading.Thread(target=feed_reader, args=(get, who, done, limit, reads[who], errors))
               for who, get in getters.items()]
    for t in readers:
        t.start()
    try:
        result = write()
    finally:
        done.set()
        for t in readers:
            t.join(120)
    if errors:
        raise errors[0]
    return result, {who: r["seen"] for who, r in reads.items()}


def writer_jobs(post_fn, supplier_ids):
    """For each supplier of n sale products, n/2 acknowledge-sale batches of 4 and n/2 ship-sale batches of 3,
    overlapping (each sale product acknowledged by two, shipped by one or two), each job returning (supplier,
    action, items, response)."""
    jobs = []
    for sup, oids in supplier_ids.items():
        n = len(oids)
        for j in range(0, n, 2):
            items = [{"menzzo_order_id": oids[(j + k) % n]} for k in range(4)]
            jobs.append((sup, "acknowledge-sale", items))
        for j in range(1, n, 2):
            items = [{"menzzo_order_id": oids[(j + k) % n]} for k in range(3)]
            jobs.append((sup, "ship-sale", items))
    return [lambda sup=sup, action=action, items=items: (sup, action, items, post_fn(sup, action, items))
            for sup, action, items in jobs]


def check_concurrent_outcome(s, tokens, supplier_ids, answers, created, reads):
    """Each feed gap-free, holding exactly one event per change answered changed:true and nothing for the
    others, a sale product's acknowledgement before its shipment; every reader saw exactly the final feed
    from its start, once; check clean."""
    changed = {sup: collections.Counter() for sup in supplier_ids}
    for sup, action, items, r in answers:
        res = results(r)
        assert len(res) == len(items), res
        for item, x in zip(items, res):
            assert x["success"] is True and x["menzzo_order_id"] == item["menzzo_order_id"], x
            typ = "sale.acknowledged" if action == "acknowledge-sale" else "sale.shipped"
            if x["changed"]:
                changed[sup][(typ, item["menzzo_order_id"])] += 1
    total, finals, base = 0, {}, base_keys_of(s, supplier_ids[A][0])
    for sup, oids in supplier_ids.items():
        final, finals[sup] = read_feed(via_cgi(s, tokens[sup]), sup, 0, 1000)
        assert [e["seq"] for e in final] == list(range(1, len(final) + 1))
        assert [(e["type"], e["menzzo_order_id"]) for e in final[:created[sup]]] == \
            [("sale.created", oid) for oid in oids]
        new = collections.Counter((e["type"], e["menzzo_order_id"]) for e in final[created[sup]:])
        assert new == changed[sup], (sup, new, changed[sup])
        for oid in oids:
            assert changed[sup][("sale.shipped", oid)] == 1, (oid, "every one shipped once")
            assert changed[sup][("sale.acknowledged", oid)] <= 1, oid
            kinds = [e["type"] for e in final if e["menzzo_order_id"] == oid]
            assert kinds in (["sale.created", "sale.shipped"], ["sale.created", "sale.acknowledged", "sale.shipped"]), \
                (oid, kinds)
        state, _ = check_data(final, base)
        # what the last event of each says is what get-sales says of it
        r = s.cgi(f"{sup}/get-sales", query="status=all", token=tokens[sup])
        assert r.status == 200, r
        listed = {i["menzzo_order_id"]: i for i in r.json()}
        assert sorted(listed) == sorted(oids) and sorted(state) == sorted(oids), (listed, state)
        for oid, item in listed.items():
            assert item["status"] == "shipped" and all(state[oid][k] == item[k] for k in LISTED), (item, state[oid])
        assert reads[sup] == final, (sup, "what a reader read while the writers wrote is not the feed")
        total += len(final)
    lines = outbox_lines(s)
    stock = sum(1 for line in lines if json.loads(line)["type"] == "stock.updated")
    assert [outbox_seq(line) for line in lines] == list(range(1, len(lines) + 1)) and len(lines) == total + stock
    for sup in supplier_ids:
        assert_feed_is_the_outbox(lines, sup, finals[sup], 1000)
    check_clean(s, total)


def test_concurrent_writers_leave_each_feed_without_gap_or_repeat_and_a_reader_meanwhile_misses_nothing():
    """24 acknowledge-sale and ship-sale batches of both suppliers at once (CGIs run in parallel), and one reader
    per supplier polling its feed (pages of 5) from its last seq all the while, then to the end."""
    with Store(MENZZO_RATE_LIMIT="0", **CLOCK) as s:
        supplier_ids = {A: ids(500, 12), N: ids(600, 12, 101)}
        s.import_lines(import_of(supplier_ids))
        tokens = {A: s.token(A), N: s.token(N)}
        jobs = writer_jobs(lambda sup, action, items: post(s, sup, action, {"items": items}, tokens[sup]),
                           supplier_ids)
        assert len(jobs) == 24
        answers, reads = with_readers({sup: via_cgi(s, tokens[sup]) for sup in (A, N)}, 5,
                                      lambda: run_parallel(jobs))
        check_concurrent_outcome(s, tokens, supplier_ids, answers, {A: 12, N: 12}, reads)


# 3. The back office's feed.

def test_the_back_office_feed_is_the_outbox_byte_for_byte():
    """Every event (stock.updated too) numbered by the outbox, without a gap: the same bytes as
    `menzzo-admin events` page after page (limits 4 and 1000), and `events --after --limit` the same slices;
    each supplier's feed event the back office's but for seq."""
    with Store(**CLOCK) as s:
        tok, ntok, bo = s.token(A), s.token(N), s.token("--backoffice")
        s.import_lines([sale(500, i) for i in range(1, 5)] + [sale(600, 100 + i, supplier=N) for i in range(1, 4)])
        answer(ack(s, tok, "500_1", day(3)), True)
        r = post(s, N, "update-stock", {"items": [{"sku": "S", "quantity": 1}]}, ntok)
        assert r.status == 200, r
        answer(post(s, N, "ship-sale", {"menzzo_order_id": "600_102", "tracking_number": "N-2"}, ntok), True)
        assert results(post(s, A, "acknowledge-sale", {"items": [refusal("500_2"), {"menzzo_order_id": "500_3"}]},
                            tok))[1]["changed"] is True
        s.admin("cancel", "500_4")
        r = post(s, A, "update-stock", {"items": [{"sku": "S", "quantity": 2}]}, tok)
        assert r.status == 200, r
        s.import_lines([sale(600, 103, supplier=N, quantity=2)])
        lines = outbox_lines(s)
        assert len(lines) == 15 and [outbox_seq(line) for line in lines] == list(range(1, 16))
        types = [json.loads(line)["type"] for line in lines]
        assert types.count("stock.updated") == 2 and types[-1] == "sale.updated", types
        get = via_cgi(s, bo)
        for limit in (4, 1000):
            everything, bodies = read_feed(get, "backoffice", 0, limit)
            assert bodies == [b"[" + b",".join(lines[i:i + limit]) + b"]" for i in range(0, len(lines), limit)], limit
            assert everything == [json.loads(line) for line in lines]
        # from the middle on, as the CLI gives it
        page, r = get_page(get, "backoffice", 6, 4)
        assert r.body == b"[" + b",".join(lines[6:10]) + b"]"
        assert r.body == b"[" + b",".join(s.admin("events", "--after", "6", "--limit", "4").stdout.splitlines()) + b"]"
        page, r = get_page(get, "backoffice", 15, 10)
        assert page == [] and r.body == b"[]"
        # each supplier's feed: its sale events of these, in the same order, bytes but the seq the same
        for sup, t in ((A, tok), (N, ntok)):
            got, bodies = read_feed(via_cgi(s, t), sup, 0, 3)
            assert_feed_is_the_outbox(lines, sup, bodies, 3)
            mine = supplier_lines(lines, sup)
            assert [dict(e, seq=None) for e in got] == [dict(json.loads(line), seq=None) for line in mine]
        state, last = check_data([json.loads(line) for line in lines if b'"stock.updated"' not in line],
                                 base_keys_of(s, "500_1"))
        check_against_show(s, state, last)
        check_clean(s, 13)


# 4. Pages and parameters.

def test_pages_limits_and_invalid_parameters():
    """1,005 events of asir-group's (one import) among notio's: limit 1, 1000 and the default 100, a full last
    page (Link, then an empty page), after beyond the end; 400 for each bad after or limit, in both feeds."""
    with Store(**CLOCK) as s:
        tok, bo = s.token(A), s.token("--backoffice")
        lines = []
        for i in range(1, 1006):
            lines.append(sale(500 + i // 100, i))
            if i % 250 == 0:
                lines.append(sale(900, 5000 + i, supplier=N))
        s.import_lines(lines)
        oids = ["%d_%d" % (500 + i // 100, i) for i in range(1, 1006)]
        get = via_cgi(s, tok)
        # limit 1: one event, and a Link to the next
        page, r = get_page(get, A, 0, 1)
        assert [e["menzzo_order_id"] for e in page] == oids[:1]
        page, r = get_page(get, A, 1, 1)
        assert [e["menzzo_order_id"] for e in page] == oids[1:2]
        # the default: after=0, limit=100, and the Link says so
        page, r = get_page(get, A, 0, 100, feed_path(A))
        assert [e["seq"] for e in page] == list(range(1, 101))
        assert r.headers["link"] == f'<{BASE}/api/{A}/get-events?after=100&limit=100>; rel="next"'
        r = s.cgi(f"{A}/get-events", query="limit=7", token=tok)
        assert r.headers["link"] == f'<{BASE}/api/{A}/get-events?after=7&limit=7>; rel="next"', r.headers
        r = s.cgi(f"{A}/get-events", query="after=998", token=tok)
        assert [e["seq"] for e in r.json()] == list(range(999, 1006)) and "link" not in r.headers, r.headers
        # limit 1000: a full page, then the 5 left, then nothing
        everything, bodies = read_feed(get, A, 0, 1000)
        assert [len(json.loads(b)) for b in bodies] == [1000, 5]
        assert [e["menzzo_order_id"] for e in everything] == oids
        assert all(e["type"] == "sale.created" for e in everything)
        # exactly a page left: it is full, so it links to the next, which is empty
        page, r = get_page(get, A, 1000, 5)
        assert [e["seq"] for e in page] == [1001, 1002, 1003, 1004, 1005] and "link" in r.headers
        page, r = get_page(get, A, 1005, 5)
        assert page == [] and r.body == b"[]"
        # after beyond the end, up to the largest allowed
        for after in (1006, 5000, 2 ** 63 - 1):
            page, r = get_page(get, A, after, 100)
            assert page == [], after
        # the base URL of the Link is MENZZO_BASE_URL's (with a final slash or without, as get-sales's)
        for base in ("https://suppliers.menzzo.example/v", "https://suppliers.menzzo.example/v/"):
            r = s.cgi(f"{A}/get-events", query="after=3&limit=2", token=tok, env={"MENZZO_BASE_URL": base})
            assert r.headers["link"] == \
                '<https://suppliers.menzzo.example/v/api/asir-group/get-events?after=5&limit=2>; rel="next"', r.headers
        # the back office's: the same pages over its 1,009 events
        page, r = get_page(via_cgi(s, bo), "backoffice", 999, 1000)
        assert [e["seq"] for e in page] == list(range(1000, 1010)) and "link" not in r.headers
        page, r = get_page(via_cgi(s, bo), "backoffice", 0, 1000)
        assert len(page) == 1000 and r.headers["link"] == \
            f'<{BASE}/api/backoffice/get-events?after=1000&limit=1000>; rel="next"'
        # 400 for each bad after or limit, and nothing else said
        cases = [("after=-1", AFTER_MSG), ("after=abc", AFTER_MSG), ("after=", AFTER_MSG), ("after=1.0", AFTER_MSG),
                 ("after=9223372036854775808", AFTER_MSG), ("after=18446744073709551616", AFTER_MSG),
                 ("after=1&after=1", "Parameter after is malformed or given twice."),
                 ("after=1&after=2", "Parameter after is malformed or given twice."),
                 ("limit=0", LIMIT_MSG), ("limit=1001", LIMIT_MSG), ("limit=-5", LIMIT_MSG), ("limit=ten", LIMIT_MSG),
                 ("limit=", LIMIT_MSG), ("limit=100&limit=100", "Parameter limit is malformed or given twice."),
                 ("after=%ZZ", "Parameter after is malformed or given twice."),
                 ("after=0&limit=0", LIMIT_MSG), ("after=x&limit=5", AFTER_MSG)]
        for program, token, some in ((f"{A}/get-events", tok, cases), ("backoffice/get-events", bo, cases[::4])):
            for query, message in some:
                r = s.cgi(program, query=query, token=token)
                j = assert_error(r, 400, "invalid_parameter")
                assert j["error"] == message, (program, query, j)
                assert "link" not in r.headers, r.headers
        # a parameter of another endpoint is none of this one's; an encoded digit is a digit
        page, r = get_page(get, A, 0, 100, feed_path(A))
        assert s.cgi(f"{A}/get-events", query="status=all&page=3", token=tok).body == r.body
        assert s.cgi(f"{A}/get-events", query="after=%31%30&limit=%32", token=tok).body == \
            s.cgi(f"{A}/get-events", query="after=10&limit=2", token=tok).body
        check_clean(s, 1009)


# 5. Scopes and the rate limit.

def test_scopes_methods_and_the_rate_limit():
    with Store(MENZZO_RATE_LIMIT="1,5", **CLOCK) as s:
        tok, ntok, bo = s.token(A), s.token(N), s.token("--backoffice")
        s.import_lines([sale(500, 1), sale(600, 101, supplier=N)])
        assert_error(s.cgi(f"{A}/get-events", token=bo), 403, "wrong_scope")
        assert_error(s.cgi(f"{A}/get-events", token=ntok), 403, "wrong_supplier")
        assert_error(s.cgi("backoffice/get-events", token=tok), 403, "wrong_scope")
        assert_error(s.cgi("backoffice/get-events", token=ntok), 403, "wrong_scope")
        for program in (f"{A}/get-events", "backoffice/get-events"):
            r = s.cgi(program)
            assert_error(r, 401)
            assert r.headers["www-authenticate"] == 'Bearer realm="menzzo"', r.headers
            r = s.cgi(program, token="mzk_" + "A" * 43)
            assert_error(r, 401)
            assert 'error="invalid_token"' in r.headers["www-authenticate"], r.headers
        assert_error(s.cgi(f"{A}/get-events", method="POST", body={}, token=tok), 405)
        assert_error(s.cgi("backoffice/get-events", method="POST", body={}, token=bo), 405)

        def remaining(r):
            m = re.fullmatch(r'"per-token";r=(\d+)(?:;t=\d+)?', r.headers["ratelimit"])
            assert m, r.headers
            return int(m.group(1))

        # each token's count (fresh tokens): a page, a 400 and a get-sales count alike; the policy is get-sales's
        ntok, bo, tok = s.token(N), s.token("--backoffice"), s.token(A)
        sales = s.cgi(f"{N}/get-sales", token=ntok)
        assert sales.status == 200 and remaining(sales) == 4, sales
        r = s.cgi(f"{N}/get-events", token=ntok)
        assert r.status == 200 and remaining(r) == 3 and r.headers["ratelimit-policy"] == \
            sales.headers["ratelimit-policy"], r.headers
        assert [e["menzzo_order_id"] for e in r.json()] == ["600_101"]
        r = s.cgi(f"{N}/get-events", query="limit=0", token=ntok)
        assert r.status == 400 and remaining(r) == 2, r
        r = s.cgi("backoffice/get-events", token=bo)
        assert r.status == 200 and remaining(r) == 4 and "ratelimit-policy" in r.headers, r.headers
        assert len(r.json()) == 2
        for left in (1, 0):
            r = s.cgi(f"{N}/get-events", query="after=1", token=ntok)
            assert r.status == 200 and r.json() == [] and remaining(r) == left, r
        r = s.cgi(f"{N}/get-events", token=ntok)
        assert_error(r, 429, "rate_limited")
        assert "retry-after" in r.headers, r.headers
        # another token's count is its own
        r = s.cgi(f"{A}/get-events", token=tok)
        assert r.status == 200 and remaining(r) == 4, r


# 6. A store of an earlier format.

def test_a_format_6_store_has_no_feed_until_its_first_writer_numbers_its_old_events():
    """Read as it is, a copy of the format-6 fixture gives empty feeds and stays at format 6; its first writer
    (menzzo-admin init, or a POST) upgrades it and numbers each old sale event into its supplier's feed in outbox
    order, 1..k, the events as they were but for seq; the next change is k + 1; check is clean."""
    for first_writer in ("init", "post"):
        with old_store(os.path.join(FIXTURES, "schema6")) as s:
            s.env.update(CLOCK)
            assert schema(s) == 6
            old = outbox_lines(s)
            by_supplier = {sup: supplier_lines(old, sup) for sup in (A, N)}
            assert [len(by_supplier[A]), len(by_supplier[N])] == [9, 2], by_supplier
            for sup in (A, N):
                page, r = get_page(via_cgi(s, s.tokens[sup]), sup, 0, 100, feed_path(sup))
                assert page == [] and r.body == b"[]", r
            check_clean(s, 0)
            assert schema(s) == 6, "a program that only reads upgraded the store"
            tok = s.tokens[A]
            if first_writer == "init":
                s.admin("init")
                assert schema(s) == SCHEMA and outbox_lines(s) == old
                for sup in (A, N):
                    _, bodies = read_feed(via_cgi(s, s.tokens[sup]), sup, 0, 4)
                    assert_feed_is_the_outbox(old, sup, bodies, 4)
                check_clean(s, 11)
            answer(ack(s, tok, "15000050001_401", day(7)), True)
            assert schema(s) == SCHEMA
            lines = outbox_lines(s)
            assert lines[:-1] == old and len(lines) == len(old) + 1
            asir, bodies = read_feed(via_cgi(s, tok), A, 0, 4)
            assert_feed_is_the_outbox(lines, A, bodies, 4)
            assert [e["seq"] for e in asir] == list(range(1, 11))
            assert [e["type"] for e in asir] == [
                "sale.acknowledged", "sale.refused", "sale.refused", "sale.shipped", "sale.reopened",
                "sale.cancelled", "sale.tracking_updated", "sale.tracking_updated", "sale.delivered",
                "sale.acknowledged"], asir
            assert [dict(e, seq=0) for e in asir[:9]] == [dict(json.loads(line), seq=0) for line in by_supplier[A]]
            new = asir[-1]
            assert new["menzzo_order_id"] == "15000050001_401" and new["at"] == NOW_TS, new
            assert new["data"]["status"] == "acknowledged" and new["data"]["estimated_ship_date"] == day(7), new
            assert olds(new) == {"old_status": "pending", "old_acknowledged_at": None,
                                 "old_estimated_ship_date": None}, new
            assert new["data"]["label"] == "labels/15000050001_401.pdf", new
            notio, bodies = read_feed(via_cgi(s, s.tokens[N]), N, 0, 100)
            assert [(e["seq"], e["type"]) for e in notio] == [(1, "sale.acknowledged"), (2, "sale.ship_date_changed")]
            assert_feed_is_the_outbox(lines, N, bodies, 100)
            bo = s.token("--backoffice")
            everything, _ = read_feed(via_cgi(s, bo), "backoffice", 0, 100)
            assert everything == [json.loads(line) for line in lines]
            check_clean(s, 12)


def test_a_format_7_store_serves_its_feeds_as_they_are():
    """The format-7 fixture's feeds hold its sale events, imports' too, numbered in outbox order; a new change
    follows on."""
    with old_store(os.path.join(FIXTURES, "schema7")) as s:
        assert schema(s) == 7
        lines = outbox_lines(s)
        for sup in (A, N):
            got, bodies = read_feed(via_cgi(s, s.tokens[sup]), sup, 0, 5)
            assert got and got[0]["type"] == "sale.created", got
            assert_feed_is_the_outbox(lines, sup, bodies, 5)
        total = len(supplier_lines(lines, A)) + len(supplier_lines(lines, N))
        check_clean(s, total)
        n = len(supplier_lines(lines, N))
        s.admin("cancel", "15000050004_405")
        got, bodies = read_feed(via_cgi(s, s.tokens[N]), N, n, 100)
        assert [(e["seq"], e["type"], e["menzzo_order_id"]) for e in got] == \
            [(n + 1, "sale.cancelled", "15000050004_405")], got
        check_clean(s, total + 1)


# 7. Through lighttpd.

def test_through_lighttpd_feeds_links_errors_and_writers_meanwhile():
    """Both feeds read through lighttpd following Link (pages of 2 and 3), the same as the CGIs answer directly;
    errors; then 8 batches of both suppliers sent through it at once while a reader per supplier polls
    through it: each feed gap-free, one event per change, the readers' union the feed."""
    with Store(**CLOCK) as s:
        tokens = {A: s.token(A), N: s.token(N)}
        bo = s.token("--backoffice")
        supplier_ids = {A: ids(500, 6), N: ids(600, 6, 101)}
        s.import_lines(import_of(supplier_ids))
        r = post(s, A, "update-stock", {"items": [{"sku": "W", "quantity": 1}]}, tokens[A])
        assert r.status == 200, r
        with Lighttpd(s, env={"FASTCGI_PROCS": "2"}) as web:
            lines = outbox_lines(s)
            for sup in (A, N):
                got, bodies = read_feed(via_web(web, tokens[sup]), sup, 0, 2)
                assert [(e["seq"], e["menzzo_order_id"]) for e in got] == list(enumerate(supplier_ids[sup], 1))
                assert_feed_is_the_outbox(lines, sup, bodies, 2)
            got, bodies = read_feed(via_web(web, bo), "backoffice", 0, 3)
            assert bodies == [b"[" + b",".join(lines[i:i + 3]) + b"]" for i in range(0, len(lines), 3)]
            assert got[-1]["type"] == "stock.updated" and len(got) == 13
            r = web.request("GET", f"/api/{A}/get-events?limit=1001", token=tokens[A])
            assert r.status == 400 and r.json()["code"] == "invalid_parameter" and r.json()["error"] == LIMIT_MSG, r
            r = web.request("GET", "/api/backoffice/get-events?after=-1", token=bo)
            assert r.status == 400 and r.json()["error"] == AFTER_MSG, r
            for path, token, code in ((f"/api/{A}/get-events", bo, "wrong_scope"),
                                      (f"/api/{A}/get-events", tokens[N], "wrong_supplier"),
                                      ("/api/backoffice/get-events", tokens[A], "wrong_scope")):
                r = web.request("GET", path, token=token)
                assert r.status == 403 and r.json()["code"] == code, (path, r)
            r = web.request("GET", "/api/backoffice/get-events")
            assert r.status == 401, r
            r = web.request("GET", f"/api/{A}/get-events?after=6", token=tokens[A])
            assert r.status == 200 and r.body == b"[]" and "link" not in r.headers and "ratelimit" in r.headers, r

            # writers and readers at once, all through lighttpd
            jobs = writer_jobs(lambda sup, action, items: web.request(
                "POST", f"/api/{sup}/{action}", token=tokens[sup], body={"items": items}), supplier_ids)
            assert len(jobs) == 12
            answers, reads = with_readers({sup: via_web(web, tokens[sup]) for sup in (A, N)}, 2,
                                          lambda: run_parallel(jobs))
        check_concurrent_outcome(s, tokens, supplier_ids, answers, {A: 6, N: 6}, reads)
