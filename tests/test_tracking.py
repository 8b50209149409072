"""Promised ship dates and tracking after shipment (SPEC §9, issue 22): acknowledge-sale's estimated_ship_date
(today to today + 365, UTC, by the server's clock; another date on an acknowledged sale product is a change
logged as ship_date_changed with a sale.ship_date_changed event; 409 on a shipped one; cleared by reopen; in
batches) and POST update-tracking (only for shipped sale products; carrier events stored once per tracking
number, status and time; parcels added; delivery_status the latest event's by time, delivered_at the latest
delivery's; sale.tracking_updated and sale.delivered events; each field's 400, unknown_parcel,
too_many_parcels, batches in one transaction, the 256 KiB bound, the rate limit); get-sales items, `show`,
`log`, `events` and `check`; the asir-group cache; the seed's answers keeping their fields first.  Each CGI
run directly, the main flows also through lighttpd."""
import calendar
import datetime
import json
import os
import re
import shlex
import tempfile

import harness
from harness import CGI_DIR, Lighttpd, Store, assert_error, require, sale
from test_actions import events, log, post, run_parallel, show

# The server's clock in every test (MENZZO_TEST_CLOCK): 2027-06-01T12:00:00Z, a year before a leap day.
NOW = calendar.timegm((2027, 6, 1, 12, 0, 0))
TODAY = datetime.date(2027, 6, 1)
CLOCK = {"MENZZO_TEST_CLOCK": str(NOW)}
FORM = "application/x-www-form-urlencoded"

# The seed's answer (SPEC §2.3) and listing item (the seed page's, then SPEC §2.2's and §2.7's), then what §9 adds.
SEED_KEYS = ["success", "menzzo_order_id", "status", "acknowledged_at", "prepared_at", "changed"]
SEED_ITEM_KEYS = ["menzzo_order_id", "sku", "quantity", "price", "link_to_label", "order_date", "carrier"]
ITEM_KEYS = SEED_ITEM_KEYS + ["status", "acknowledged_at", "prepared_at", "refused_at", "estimated_ship_date",
                              "delivery_status", "delivered_at"]
FAILURE_KEYS = ["success", "menzzo_order_id", "code", "error"]
STATUSES = ["in_transit", "out_for_delivery", "delivered", "delivery_failed", "returned_to_sender"]

SHIP_DATE_MSG = "Field estimated_ship_date must be a date YYYY-MM-DD from today to 365 days ahead (UTC)."
REFUSAL_DATE_MSG = "Field estimated_ship_date goes only with an acknowledgement, not a refusal."
STATUS_MSG = "An event's status must be one of in_transit, out_for_delivery, delivered, delivery_failed, " \
    "returned_to_sender."
AT_MSG = "An event's at must be a UTC time YYYY-MM-DDThh:mm:ssZ, from 2000-01-01 to a day ahead of the server's clock."
TN_MSG = "An event's tracking_number must be 1-64 printable ASCII characters."
LOCATION_MSG = "An event's location must be 1-100 characters of UTF-8 without control characters."
NEEDS_MSG = "An event needs a status and an at."
EVENTS_MSG = 'Field events must be an array of 1 to 50 carrier events {"status": ..., "at": ..., ' \
    '"tracking_number": ..., "location": ...}, given once.'
PACKAGES_MSG = 'Field packages must be an array of 1 to 50 objects {"tracking_number": ..., "carrier": ...}, ' \
    'given once.'
ITEMS_MSG = "Field items must be an array of 1 to 100 objects, each the fields of one request."


def day(n):
    """The date n days after the server's today, as YYYY-MM-DD."""
    return (TODAY + datetime.timedelta(days=n)).isoformat()


def at(seconds_before_now):
    """A UTC time that many seconds before the server's clock (after it when negative)."""
    return datetime.datetime.fromtimestamp(NOW - seconds_before_now, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def clock(t):
    return {"MENZZO_TEST_CLOCK": str(t)}


def store(n=10, supplier="asir-group", inc=500, **env):
    """A store on the test clock with sale products inc_1 .. inc_n of one supplier."""
    s = Store(**dict(CLOCK, **env))
    s.import_lines([sale(inc, i, supplier=supplier) for i in range(1, n + 1)])
    return s


def ids(n, inc=500):
    return ["%d_%d" % (inc, i) for i in range(1, n + 1)]


def ack(s, tok, oid, date=None, supplier="asir-group", **kw):
    body = {"menzzo_order_id": oid}
    if date is not None:
        body["estimated_ship_date"] = date
    return post(s, supplier, "acknowledge-sale", body, tok, **kw)


def refuse(s, tok, oid, supplier="asir-group"):
    return post(s, supplier, "acknowledge-sale", {"menzzo_order_id": oid, "accepted": False, "reason": "other"}, tok)


def ship(s, tok, oid, supplier="asir-group", **fields):
    return post(s, supplier, "ship-sale", dict({"menzzo_order_id": oid}, **fields), tok)


def ev(status, when, tn=None, location=None):
    e = {"status": status, "at": when}
    if tn is not None:
        e["tracking_number"] = tn
    if location is not None:
        e["location"] = location
    return e


def shown_event(e):
    """A carrier event as show and the events write it: every member, null when not given."""
    return {"status": e["status"], "at": e["at"], "tracking_number": e.get("tracking_number"),
            "location": e.get("location")}


def track_body(oid, evs, packages=None):
    body = {"menzzo_order_id": oid, "events": evs}
    if packages is not None:
        body["packages"] = packages
    return body


def track(s, tok, oid, evs, packages=None, supplier="asir-group", **kw):
    return post(s, supplier, "update-tracking", track_body(oid, evs, packages), tok, **kw)


def batch(s, tok, action, items, supplier="asir-group", **kw):
    r = post(s, supplier, action, {"items": items}, tok, **kw)
    assert r.status == 200, r
    j = r.json()
    assert list(j) == ["success", "results"] and len(j["results"]) == len(items), j
    return r, j


def check_answer(j, oid, status, changed, ship_date=None, delivery=None, delivered_at=None):
    """An action's answer (or a batch's successful result): the seed's fields first, in their order, then
    estimated_ship_date (null, or left out, while there is none), then a shipment's carrier news when there is
    some, and nothing else."""
    dated = ship_date is not None or "estimated_ship_date" in j
    keys = SEED_KEYS + (["estimated_ship_date"] if dated else []) + \
        (["delivery_status", "delivered_at"] if delivery else [])
    assert list(j) == keys, (keys, j)
    assert (j["success"], j["menzzo_order_id"], j["status"], j["changed"], j.get("estimated_ship_date")) == \
        (True, oid, status, changed, ship_date), j
    if delivery:
        assert (j["delivery_status"], j["delivered_at"]) == (delivery, delivered_at), j
    return j


def answer(r, oid, status, changed, ship_date=None, delivery=None, delivered_at=None):
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/json", r
    return check_answer(r.json(), oid, status, changed, ship_date, delivery, delivered_at)


def failure(res, oid, code, error=None):
    assert list(res) == FAILURE_KEYS and res["success"] is False, res
    assert (res["menzzo_order_id"], res["code"]) == (oid, code), res
    if error is not None:
        assert res["error"] == error, res
    return res


def listing(s, tok, query="status=all", supplier="asir-group"):
    """get-sales's items by menzzo_order_id (status=all: whatever their status), each of the full shape."""
    r = s.cgi(f"{supplier}/get-sales", query=query, token=tok)
    assert r.status == 200, r
    items = r.json()
    assert all(list(i) == ITEM_KEYS for i in items), items
    return {i["menzzo_order_id"]: i for i in items}


def news(i):
    """What an item (or show) says of a sale product's status, promise and carrier news."""
    return i["status"], i["estimated_ship_date"], i["delivery_status"], i["delivered_at"]


def check_clean(s, carrier_events):
    """`menzzo-admin check`: no problem, and that many carrier events stored."""
    p = s.admin("check", check=False)
    out = p.stdout.decode()
    assert p.returncode == 0 and re.search(r", %d carrier events, \d+ feed entries; 0 problem\(s\)$" % carrier_events, out.rstrip()), out


# Promised ship dates.

def test_a_ship_date_given_then_changed_in_the_answers_get_sales_show_the_log_and_the_events():
    with store(3) as s:
        tok = s.token("asir-group")
        a, b, c = ids(3)
        first = answer(ack(s, tok, a, day(10)), a, "acknowledged", True, day(10))
        assert first["acknowledged_at"] == at(0) and first["prepared_at"] is None, first
        answer(ack(s, tok, b), b, "acknowledged", True, None)
        got = listing(s, tok)
        assert (news(got[a]), news(got[b]), news(got[c])) == (("acknowledged", day(10), None, None),
                                                              ("acknowledged", None, None, None),
                                                              ("pending", None, None, None)), got
        # another date: a change, the same or none: a repeat
        r = ack(s, tok, a, day(20))
        assert answer(r, a, "acknowledged", True, day(20))["acknowledged_at"] == first["acknowledged_at"]
        changed_by = r.headers["x-request-id"]
        answer(ack(s, tok, a, day(20)), a, "acknowledged", False, day(20))
        answer(ack(s, tok, a), a, "acknowledged", False, day(20))
        r = post(s, "asir-group", "acknowledge-sale", f"menzzo_order_id={a}&estimated_ship_date={day(20)}", tok,
                 content_type=FORM)
        answer(r, a, "acknowledged", False, day(20))
        # acknowledged without one, a date given later is a change from none (a form can carry it)
        r = post(s, "asir-group", "acknowledge-sale", f"menzzo_order_id={b}&estimated_ship_date={day(5)}", tok,
                 content_type=FORM)
        answer(r, b, "acknowledged", True, day(5))
        got = listing(s, tok)
        assert (news(got[a]), news(got[b])) == (("acknowledged", day(20), None, None),
                                                ("acknowledged", day(5), None, None)), got
        sp = show(s, a)
        assert list(sp)[-5:] == ["estimated_ship_date", "delivery_status", "delivered_at", "packages",
                                 "tracking_events"], list(sp)
        assert (news(sp), sp["packages"], sp["tracking_events"]) == (("acknowledged", day(20), None, None), [], []), sp
        entries = log(s, a)
        assert [e["action"] for e in entries] == ["imported", "acknowledged", "ship_date_changed"], entries
        assert (entries[1]["before"]["estimated_ship_date"], entries[1]["after"]["estimated_ship_date"]) == \
            (None, day(10)), entries[1]
        assert (entries[2]["before"], entries[2]["after"]) == ({"estimated_ship_date": day(10)},
                                                               {"estimated_ship_date": day(20)}), entries[2]
        assert (entries[2]["user"], entries[2]["request_id"]) == ("cron", changed_by), entries[2]
        entry = log(s, b)[-1]
        assert (entry["action"], entry["before"], entry["after"]) == \
            ("ship_date_changed", {"estimated_ship_date": None}, {"estimated_ship_date": day(5)}), entry
        evs = events(s)
        assert [(e["type"], e["menzzo_order_id"], e.get("estimated_ship_date"), e.get("old_estimated_ship_date"))
                for e in evs] == [("sale.acknowledged", a, day(10), None), ("sale.acknowledged", b, None, None),
                                  ("sale.ship_date_changed", a, day(20), day(10)),
                                  ("sale.ship_date_changed", b, day(5), None)], evs
        assert "old_estimated_ship_date" in evs[2] and "old_estimated_ship_date" in evs[3], evs
        assert evs[2]["supplier"] == "asir-group" and evs[2]["at"] == at(0)
        check_clean(s, 0)


def test_ship_date_bounds_by_the_server_clock():
    """Today and today + 365 (2028-05-31: a leap day between) are taken, yesterday and today + 366 are not; the
    day is the UTC one of the server's clock; anything but a real date YYYY-MM-DD is a 400; so is a date with a
    refusal.  Nothing is written by a 400."""
    with store(8) as s:
        tok = s.token("asir-group")
        a, b, c, d, e, f, g, h = ids(8)
        assert (day(365), day(366), day(-1)) == ("2028-05-31", "2028-06-01", "2027-05-31")
        for oid, date in ((a, day(-1)), (b, day(366)), (e, "2027-06-31")):
            j = assert_error(ack(s, tok, oid, date), 400, "invalid_body")
            assert j["error"] == SHIP_DATE_MSG, (date, j)
        answer(ack(s, tok, a, day(0)), a, "acknowledged", True, "2027-06-01")
        answer(ack(s, tok, b, day(365)), b, "acknowledged", True, "2028-05-31")
        # the UTC day: its last second still takes it, the next one no longer does
        answer(ack(s, tok, c, "2027-06-01", env=clock(calendar.timegm((2027, 6, 1, 23, 59, 59)))),
               c, "acknowledged", True, "2027-06-01")
        midnight = clock(calendar.timegm((2027, 6, 2, 0, 0, 0)))
        assert assert_error(ack(s, tok, d, "2027-06-01", env=midnight), 400, "invalid_body")["error"] == SHIP_DATE_MSG
        answer(ack(s, tok, d, "2028-06-01", env=midnight), d, "acknowledged", True, "2028-06-01")
        # with a refusal
        r = post(s, "asir-group", "acknowledge-sale", {"menzzo_order_id": f, "accepted": False, "reason": "other",
                                                       "estimated_ship_date": day(3)}, tok)
        assert assert_error(r, 400, "invalid_body")["error"] == REFUSAL_DATE_MSG
        r = post(s, "asir-group", "acknowledge-sale", f"menzzo_order_id={f}&accepted=false&reason=other"
                 f"&estimated_ship_date={day(3)}", tok, content_type=FORM)
        assert assert_error(r, 400, "invalid_body")["error"] == REFUSAL_DATE_MSG
        # as batch items: each the single request's error; a change is bound the same way
        strings = ["2027-6-15", "20270615", "2027-06-15T00:00:00Z", "", "tomorrow", "2027-06-15 ", "15/06/2027",
                   "2027-02-29", "+2027-06-15", day(-1), day(366)]
        others = [20270615, None, True, [day(3)], {"date": day(3)}]
        items = [{"menzzo_order_id": e, "estimated_ship_date": x} for x in strings + others] + \
            [{"menzzo_order_id": a, "estimated_ship_date": day(366)},
             {"menzzo_order_id": g, "accepted": False, "reason": "other", "estimated_ship_date": day(3)}]
        _, j = batch(s, tok, "acknowledge-sale", items)
        res = j["results"]
        for x, one in zip(strings, res):
            failure(one, e, "invalid_body", SHIP_DATE_MSG)
        for x, one in zip(others, res[len(strings):]):
            assert "estimated_ship_date" in failure(one, e, "invalid_body")["error"], (x, one)
        failure(res[-2], a, "invalid_body", SHIP_DATE_MSG)
        failure(res[-1], g, "invalid_body", REFUSAL_DATE_MSG)
        got = listing(s, tok)
        assert {oid: news(i)[:2] for oid, i in got.items()} == {
            a: ("acknowledged", "2027-06-01"), b: ("acknowledged", "2028-05-31"), c: ("acknowledged", "2027-06-01"),
            d: ("acknowledged", "2028-06-01"), e: ("pending", None), f: ("pending", None), g: ("pending", None),
            h: ("pending", None)}, got
        assert [x["menzzo_order_id"] for x in events(s)] == [a, b, c, d]


def test_ship_dates_of_shipped_refused_and_cancelled_sale_products_and_reopen():
    with store(5) as s:
        tok = s.token("asir-group")
        a, b, c, d, e = ids(5)
        answer(ack(s, tok, a, day(3)), a, "acknowledged", True, day(3))
        _, j = batch(s, tok, "ship-sale", [{"menzzo_order_id": a}, {"menzzo_order_id": b}])
        check_answer(j["results"][0], a, "shipped", True, day(3))
        check_answer(j["results"][1], b, "shipped", True, None)
        # shipped: another date is a 409, the same one or none a repeat
        assert_error(ack(s, tok, a, day(4)), 409, "already_shipped")
        assert_error(ack(s, tok, b, day(4)), 409, "already_shipped")
        answer(ack(s, tok, a, day(3)), a, "shipped", False, day(3))
        answer(ack(s, tok, b), b, "shipped", False, None)
        # refused and cancelled: their own 409s
        assert refuse(s, tok, c).status == 200
        assert_error(ack(s, tok, c, day(4)), 409, "refused")
        s.admin("cancel", d)
        assert_error(ack(s, tok, d, day(4)), 409, "cancelled")
        # reopen clears the promise: the next acknowledgement makes a new one
        answer(ack(s, tok, e, day(7)), e, "acknowledged", True, day(7))
        assert refuse(s, tok, e).status == 200
        s.admin("reopen", e)
        got = listing(s, tok)
        assert {oid: news(i)[:2] for oid, i in got.items()} == {
            a: ("shipped", day(3)), b: ("shipped", None), c: ("refused", None), d: ("cancelled", None),
            e: ("pending", None)}, got
        entries = log(s, e)
        assert [x["action"] for x in entries] == ["imported", "acknowledged", "refused", "reopened"], entries
        assert (entries[1]["after"]["estimated_ship_date"], entries[3]["before"]["estimated_ship_date"],
                entries[3]["after"]["estimated_ship_date"]) == (day(7), day(7), None), entries
        answer(ack(s, tok, e, day(9)), e, "acknowledged", True, day(9))
        assert [(x["type"], x["menzzo_order_id"]) for x in events(s)] == [
            ("sale.acknowledged", a), ("sale.shipped", a), ("sale.shipped", b), ("sale.refused", c),
            ("sale.cancelled", d), ("sale.acknowledged", e), ("sale.refused", e), ("sale.reopened", e),
            ("sale.acknowledged", e)]
        check_clean(s, 0)


def test_ship_dates_in_a_batch():
    with store(8) as s:
        tok = s.token("asir-group")
        a, b, c, d, e, f, g, h = ids(8)
        _, j = batch(s, tok, "acknowledge-sale", [{"menzzo_order_id": b, "estimated_ship_date": day(5)},
                                                  {"menzzo_order_id": c, "estimated_ship_date": day(5)}])
        assert j["success"] is True
        answer(ship(s, tok, d), d, "shipped", True)
        assert refuse(s, tok, e).status == 200
        before = events(s)
        items = [{"menzzo_order_id": a, "estimated_ship_date": day(10)},   # pending: acknowledged with a date
                 {"menzzo_order_id": b, "estimated_ship_date": day(6)},    # another date: a change
                 {"menzzo_order_id": c, "estimated_ship_date": day(5)},    # the same: a repeat
                 {"menzzo_order_id": d, "estimated_ship_date": day(8)},    # shipped
                 {"menzzo_order_id": e, "estimated_ship_date": day(8)},    # refused
                 {"menzzo_order_id": f, "estimated_ship_date": day(-1)},   # out of bounds
                 {"menzzo_order_id": "500_99", "estimated_ship_date": day(8)},
                 {"menzzo_order_id": a, "estimated_ship_date": day(11)},   # decided after the first item
                 {"menzzo_order_id": g, "accepted": False, "reason": "other", "estimated_ship_date": day(8)},
                 {"menzzo_order_id": h}]
        r, j = batch(s, tok, "acknowledge-sale", items)
        res = j["results"]
        assert j["success"] is False
        check_answer(res[0], a, "acknowledged", True, day(10))
        check_answer(res[1], b, "acknowledged", True, day(6))
        check_answer(res[2], c, "acknowledged", False, day(5))
        failure(res[3], d, "already_shipped")
        failure(res[4], e, "refused")
        failure(res[5], f, "invalid_body", SHIP_DATE_MSG)
        failure(res[6], "500_99", "not_found")
        check_answer(res[7], a, "acknowledged", True, day(11))
        assert res[7]["acknowledged_at"] == res[0]["acknowledged_at"]
        failure(res[8], g, "invalid_body", REFUSAL_DATE_MSG)
        check_answer(res[9], h, "acknowledged", True, None)
        new = events(s)[len(before):]
        assert [(x["type"], x["menzzo_order_id"], x.get("estimated_ship_date"), x.get("old_estimated_ship_date"))
                for x in new] == [("sale.acknowledged", a, day(10), None),
                                  ("sale.ship_date_changed", b, day(6), day(5)),
                                  ("sale.ship_date_changed", a, day(11), day(10)),
                                  ("sale.acknowledged", h, None, None)]
        entries = log(s, a)
        assert [x["action"] for x in entries] == ["imported", "acknowledged", "ship_date_changed"]
        assert {x["request_id"] for x in entries[1:]} == {r.headers["x-request-id"]}
        assert (entries[-1]["before"], entries[-1]["after"]) == ({"estimated_ship_date": day(10)},
                                                                 {"estimated_ship_date": day(11)}), entries[-1]
        got = listing(s, tok)
        assert {oid: news(i)[:2] for oid, i in got.items()} == {
            a: ("acknowledged", day(11)), b: ("acknowledged", day(6)), c: ("acknowledged", day(5)),
            d: ("shipped", None), e: ("refused", None), f: ("pending", None), g: ("pending", None),
            h: ("acknowledged", None)}, got
        check_clean(s, 0)


def test_the_asir_group_cache_is_invalidated_by_a_date_change_and_by_tracking():
    with store(3) as s:
        tok = s.token("asir-group")
        a, b, _ = ids(3)
        answer(ack(s, tok, a, day(10)), a, "acknowledged", True, day(10))
        answer(ship(s, tok, b, tracking_number="TB"), b, "shipped", True)

        def cached(query, cache):
            r = s.cgi("asir-group/get-sales", query=query, token=tok)
            assert r.status == 200 and r.headers["x-cache"] == cache, (query, cache, r)
            return {i["menzzo_order_id"]: i for i in r.json()}

        assert cached("", "MISS")[a]["estimated_ship_date"] == day(10)
        assert cached("status=shipped", "MISS")[b]["delivery_status"] is None
        assert cached("", "HIT")[a]["estimated_ship_date"] == day(10)
        answer(ack(s, tok, a, day(12)), a, "acknowledged", True, day(12))
        # every cached answer of the supplier goes, not only those that list the sale product changed
        assert cached("", "MISS")[a]["estimated_ship_date"] == day(12)
        assert cached("status=shipped", "MISS")[b]["delivery_status"] is None
        assert cached("status=shipped", "HIT")[b]["delivery_status"] is None
        answer(track(s, tok, b, [ev("delivered", at(600), "TB")]), b, "shipped", True, None, "delivered", at(600))
        assert news(cached("status=shipped", "MISS")[b]) == ("shipped", None, "delivered", at(600))
        assert news(cached("status=shipped", "HIT")[b]) == ("shipped", None, "delivered", at(600))
        assert cached("", "MISS")[a]["estimated_ship_date"] == day(12)


# Tracking after shipment.

def test_tracking_is_only_for_shipped_sale_products():
    with store(5) as s:
        s.import_lines([sale(501, 901, supplier="notio")])
        tok = s.token("asir-group")
        a, b, c, d, e = ids(5)
        answer(ack(s, tok, b, day(2)), b, "acknowledged", True, day(2))
        assert refuse(s, tok, c).status == 200
        s.admin("cancel", d)
        before = events(s)
        evs = [ev("in_transit", at(3600))]
        j = assert_error(track(s, tok, a, evs), 409, "not_shipped")
        assert j["error"] == "This sale product is not shipped; carrier events come after ship-sale.", j
        assert_error(track(s, tok, "500_99", evs), 404, "not_found")
        assert_error(track(s, tok, "501_901", evs), 404, "not_found")
        _, j = batch(s, tok, "update-tracking", [track_body(x, evs) for x in (b, c, d, e, "501_901")])
        assert [(x["menzzo_order_id"], x["code"]) for x in j["results"]] == [
            (b, "not_shipped"), (c, "not_shipped"), (d, "not_shipped"), (e, "not_shipped"), ("501_901", "not_found")]
        assert events(s) == before
        assert all(news(i)[2:] == (None, None) for i in listing(s, tok).values())
        check_clean(s, 0)


def test_carrier_events_sent_twice_are_stored_once():
    with store(2) as s:
        tok = s.token("asir-group")
        a, b = ids(2)
        answer(ship(s, tok, a, tracking_number="TA"), a, "shipped", True)
        first = [ev("in_transit", at(7200), "TA", "Lyon"), ev("out_for_delivery", at(3600), "TA")]
        # the same event twice in one request: stored once
        answer(track(s, tok, a, [first[0], first[1], dict(first[0])]), a, "shipped", True, None, "out_for_delivery",
               None)
        # the same request again, the same event with another location: nothing new, nothing written
        answer(track(s, tok, a, first), a, "shipped", False, None, "out_for_delivery", None)
        answer(track(s, tok, a, [ev("in_transit", at(7200), "TA", "Paris")]), a, "shipped", False, None,
               "out_for_delivery", None)
        # without the tracking number, at another second, of another status: other events
        more = [ev("in_transit", at(7200)), ev("in_transit", at(7199), "TA"), ev("delivered", at(7200), "TA")]
        r = track(s, tok, a, first + more)
        answer(r, a, "shipped", True, None, "out_for_delivery", at(7200))
        answer(track(s, tok, a, more + first), a, "shipped", False, None, "out_for_delivery", at(7200))
        sp = show(s, a)
        assert sp["tracking_events"] == [shown_event(x) for x in (more[0], first[0], more[2], more[1], first[1])], \
            sp["tracking_events"]
        evs = events(s)
        assert [x["type"] for x in evs] == ["sale.shipped", "sale.tracking_updated", "sale.tracking_updated",
                                            "sale.delivered"], evs
        assert evs[1]["tracking_events"] == [shown_event(x) for x in first], evs[1]
        assert evs[2]["tracking_events"] == [shown_event(x) for x in more], evs[2]
        entries = log(s, a)
        assert [x["action"] for x in entries] == ["imported", "shipped", "tracking_updated", "tracking_updated"]
        assert entries[-1]["request_id"] == r.headers["x-request-id"]
        assert (entries[-1]["before"], entries[-1]["after"]) == ({"delivered_at": None}, {"delivered_at": at(7200)})
        assert show(s, b)["tracking_events"] == []
        check_clean(s, 5)


def test_delivery_status_is_the_latest_event_by_time_and_delivered_at_the_latest_delivery():
    with store(3) as s:
        tok = s.token("asir-group")
        a, b, c = ids(3)
        answer(ship(s, tok, a, tracking_number="TA"), a, "shipped", True)
        t1, t2, t2b, t3, t4, t5, t6 = at(9000), at(8000), at(7900), at(7000), at(6000), at(5000), at(-86400)
        answer(track(s, tok, a, [ev("delivered", t3)]), a, "shipped", True, None, "delivered", t3)
        # earlier events arrive late: the latest stays the latest
        answer(track(s, tok, a, [ev("out_for_delivery", t2), ev("in_transit", t1)]), a, "shipped", True, None,
               "delivered", t3)
        # an earlier delivery: delivered_at stays the latest one's
        answer(track(s, tok, a, [ev("delivered", t2b, "TA")]), a, "shipped", True, None, "delivered", t3)
        # a failure after it: the status follows, delivered_at stays
        answer(track(s, tok, a, [ev("delivery_failed", t4, "TA")]), a, "shipped", True, None, "delivery_failed", t3)
        # delivered again, later: a new delivered_at
        answer(track(s, tok, a, [ev("delivered", t5, "TA")]), a, "shipped", True, None, "delivered", t5)
        # returned to the sender, a day ahead of the clock (the most an event may be)
        answer(track(s, tok, a, [ev("returned_to_sender", t6, "TA", "Entrep\u00f4t \U0001F4E6")]), a, "shipped",
               True, None, "returned_to_sender", t5)
        # sale.delivered only when delivered_at changed: the first delivery and the later one
        evs = events(s)
        assert [x["type"] for x in evs] == ["sale.shipped"] + ["sale.tracking_updated", "sale.delivered"] + \
            ["sale.tracking_updated"] * 4 + ["sale.delivered", "sale.tracking_updated"], evs
        assert [(x["delivery_status"], x["delivered_at"]) for x in evs if x["type"] == "sale.delivered"] == \
            [("delivered", t3), ("delivered", t5)]
        assert [(x["delivery_status"], x["delivered_at"]) for x in evs if x["type"] == "sale.tracking_updated"] == [
            ("delivered", t3), ("delivered", t3), ("delivered", t3), ("delivery_failed", t3), ("delivered", t5),
            ("returned_to_sender", t5)]
        sp = show(s, a)
        assert news(sp) == ("shipped", None, "returned_to_sender", t5), sp
        assert [(x["status"], x["at"]) for x in sp["tracking_events"]] == [
            ("in_transit", t1), ("out_for_delivery", t2), ("delivered", t2b), ("delivered", t3),
            ("delivery_failed", t4), ("delivered", t5), ("returned_to_sender", t6)], sp["tracking_events"]
        # events at the same time: by status (in the order of the list), then by tracking number
        answer(ship(s, tok, b, packages=[{"tracking_number": "B2"}, {"tracking_number": "B1"}]), b, "shipped", True)
        same, later = at(4000), at(3000)
        answer(track(s, tok, b, [ev("delivery_failed", same, "B1"), ev("delivered", same, "B2")]), b, "shipped",
               True, None, "delivery_failed", same)
        answer(track(s, tok, b, [ev("out_for_delivery", later, "B2"), ev("in_transit", later, "B2"),
                                 ev("in_transit", later, "B1")]), b, "shipped", True, None, "out_for_delivery", same)
        assert [(x["status"], x["tracking_number"]) for x in show(s, b)["tracking_events"]] == [
            ("delivered", "B2"), ("delivery_failed", "B1"), ("in_transit", "B1"), ("in_transit", "B2"),
            ("out_for_delivery", "B2")]
        # the status stays shipped: listed as shipped, not as open; the other answers carry the news too
        got = listing(s, tok, "status=shipped")
        assert (news(got[a]), news(got[b])) == (("shipped", None, "returned_to_sender", t5),
                                                ("shipped", None, "out_for_delivery", same)), got
        assert set(listing(s, tok, "")) == {c}
        answer(ship(s, tok, a), a, "shipped", False, None, "returned_to_sender", t5)
        answer(ack(s, tok, b), b, "shipped", False, None, "out_for_delivery", same)
        check_clean(s, 12)


def test_packages_add_parcels_and_events_must_name_one():
    with store(2) as s:
        tok = s.token("asir-group")
        a, b = ids(2)
        answer(ship(s, tok, a, tracking_number="TA", carrier="DHL"), a, "shipped", True)
        # a shipment sent with a tracking number has that one parcel
        j = assert_error(track(s, tok, a, [ev("in_transit", at(900), "TX")]), 409, "unknown_parcel")
        assert j["error"] == "An event names a tracking number that is not a parcel of this shipment; add it with " \
            "packages.", j
        assert_error(track(s, tok, a, [ev("in_transit", at(900), "TA"), ev("in_transit", at(900), "ta")]),
                     409, "unknown_parcel")
        answer(track(s, tok, a, [ev("in_transit", at(900), "TA")]), a, "shipped", True, None, "in_transit", None)
        # a parcel added, named by an event of the same request
        added = ev("out_for_delivery", at(800), "TX", "Dijon")
        answer(track(s, tok, a, [added], packages=[{"tracking_number": "TX", "carrier": "UPS"}]), a, "shipped", True,
               None, "out_for_delivery", None)
        # parcels already known are not added again: nothing new, nothing written
        answer(track(s, tok, a, [added], packages=[{"tracking_number": "TX"}, {"tracking_number": "TA",
                                                                               "carrier": "GLS"}]),
               a, "shipped", False, None, "out_for_delivery", None)
        # a parcel alone is a change (without a carrier: the order's); given twice it is added once
        answer(track(s, tok, a, [added], packages=[{"tracking_number": "TY"}, {"tracking_number": "TY"}]), a,
               "shipped", True, None, "out_for_delivery", None)
        answer(track(s, tok, a, [ev("delivered", at(700), "TY")]), a, "shipped", True, None, "delivered", at(700))
        parcels = [{"tracking_number": "TA", "carrier": "DHL"}, {"tracking_number": "TX", "carrier": "UPS"},
                   {"tracking_number": "TY", "carrier": "CHRONOPOST"}]
        sp = show(s, a)
        assert sp["packages"] == parcels and (sp["tracking_number"], sp["ship_carrier"]) == ("TA", "DHL"), sp
        # shipped without any tracking number: no parcel, until one is added
        answer(ship(s, tok, b), b, "shipped", True)
        assert_error(track(s, tok, b, [ev("in_transit", at(900), "B1")]), 409, "unknown_parcel")
        answer(track(s, tok, b, [ev("in_transit", at(900))]), b, "shipped", True, None, "in_transit", None)
        answer(track(s, tok, b, [ev("in_transit", at(800), "B1")], packages=[{"tracking_number": "B1"}]),
               b, "shipped", True, None, "in_transit", None)
        sp = show(s, b)
        assert sp["packages"] == [{"tracking_number": "B1", "carrier": "CHRONOPOST"}], sp
        assert sp["tracking_number"] == "B1", "the record keeps the first parcel's tracking number, as ship-sale's"
        evs = [x for x in events(s) if x["menzzo_order_id"] == a]
        assert [x["type"] for x in evs] == ["sale.shipped"] + ["sale.tracking_updated"] * 4 + ["sale.delivered"], evs
        assert [(x["packages"], x["tracking_events"]) for x in evs[2:4]] == [
            (parcels[:2], [shown_event(added)]), (parcels, [])], evs
        assert [x["action"] for x in log(s, a)] == ["imported", "shipped"] + ["tracking_updated"] * 4
        check_clean(s, 5)


def test_tracking_events_name_every_parcel_of_the_shipment():
    """The packages of sale.tracking_updated and sale.delivered are the shipment's parcels (those `show`
    lists), whether or not the request added one."""
    with store(1) as s:
        tok = s.token("asir-group")
        a = ids(1)[0]
        answer(ship(s, tok, a, packages=[{"tracking_number": "P1"}, {"tracking_number": "P2", "carrier": "DHL"},
                                         {"tracking_number": "P3"}]), a, "shipped", True)
        answer(track(s, tok, a, [ev("delivered", at(60), "P2")]), a, "shipped", True, None, "delivered", at(60))
        parcels = show(s, a)["packages"]
        assert [p["tracking_number"] for p in parcels] == ["P1", "P2", "P3"], parcels
        shipped, upd, delivered = events(s)
        assert (shipped["type"], upd["type"], delivered["type"]) == ("sale.shipped", "sale.tracking_updated",
                                                                     "sale.delivered")
        assert shipped["packages"] == parcels, shipped
        assert upd["packages"] == parcels, upd
        assert delivered["packages"] == parcels, delivered


def test_a_shipment_has_at_most_50_parcels():
    with store(2) as s:
        tok = s.token("asir-group")
        a, b = ids(2)
        fifty = [{"tracking_number": "A%02d" % i} for i in range(50)]
        answer(ship(s, tok, a, packages=fifty), a, "shipped", True)
        j = assert_error(track(s, tok, a, [ev("in_transit", at(60), "A51")], packages=[{"tracking_number": "A51"}]),
                         409, "too_many_parcels")
        assert j["error"] == "A shipment has at most 50 parcels.", j
        # known parcels are not counted again
        answer(track(s, tok, a, [ev("in_transit", at(60), "A49")], packages=fifty[:3] + fifty[-1:]), a, "shipped",
               True, None, "in_transit", None)
        # shipped with one tracking number: 49 more make 50, one more is too many
        answer(ship(s, tok, b, tracking_number="B00"), b, "shipped", True)
        more = [{"tracking_number": "B%02d" % i} for i in range(1, 51)]
        assert_error(track(s, tok, b, [ev("in_transit", at(60))], packages=more), 409, "too_many_parcels")
        answer(track(s, tok, b, [ev("in_transit", at(60))], packages=more[:49]), b, "shipped", True, None,
               "in_transit", None)
        assert_error(track(s, tok, b, [ev("in_transit", at(50), "B50")], packages=more[49:]), 409, "too_many_parcels")
        assert [p["tracking_number"] for p in show(s, a)["packages"]] == ["A%02d" % i for i in range(50)]
        assert [p["tracking_number"] for p in show(s, b)["packages"]] == ["B%02d" % i for i in range(50)]
        assert [x["type"] for x in events(s)] == ["sale.shipped", "sale.tracking_updated", "sale.shipped",
                                                  "sale.tracking_updated"]
        check_clean(s, 2)


def body_of_size(oid, size):
    """A valid update-tracking body of exactly size bytes, padded with blanks at its end."""
    text = json.dumps(track_body(oid, [ev("in_transit", at(60))]))
    return (text + " " * (size - len(text))).encode()


def test_each_field_of_update_tracking_is_checked_and_the_body_bound_is_256_kib():
    """Each field's 400 with its sentence (an event's or a package's with its index), in single requests and
    as batch items; the bounds themselves are taken; 413 above 256 KiB; nothing is written by a 400 or 413."""
    with store(3) as s:
        tok = s.token("asir-group")
        a, b, c = ids(3)
        _, j = batch(s, tok, "ship-sale", [{"menzzo_order_id": a, "tracking_number": "TA"},
                                           {"menzzo_order_id": b, "tracking_number": "TB"},
                                           {"menzzo_order_id": c}])
        assert j["success"] is True
        before = events(s)
        good = ev("in_transit", at(60))
        cases = [  # (a body's fields beside menzzo_order_id, the error)
            ({"events": [ev("lost", at(60))]}, "events[0]: " + STATUS_MSG),
            ({"events": [ev("delivered", at(-86401))]}, "events[0]: " + AT_MSG),
            ({"events": [ev("in_transit", at(i)) for i in range(51)]}, EVENTS_MSG),
            ({"events": [ev("delivered", at(60), None, "x" * 101)]}, "events[0]: " + LOCATION_MSG),
            ({"events": [good, ev("Delivered", at(60))]}, "events[1]: " + STATUS_MSG),
            ({"events": [good, good, {"at": at(60)}]}, "events[2]: " + NEEDS_MSG),
            ({"events": [{"status": "delivered"}]}, "events[0]: " + NEEDS_MSG),
            ({"events": [ev(1, at(60))]}, None),
            ({"events": [good, "in_transit"]}, None),
            ({"events": []}, EVENTS_MSG),
            ({"events": good}, EVENTS_MSG),
            ({}, "Field events is required: 1 to 50 carrier events."),
            ({"events": [ev("in_transit", at(60), "")]}, "events[0]: " + TN_MSG),
            ({"events": [ev("in_transit", at(60), " TA")]}, "events[0]: " + TN_MSG),
            ({"events": [ev("in_transit", at(60), "T" * 65)]}, "events[0]: " + TN_MSG),
            ({"events": [ev("in_transit", at(60), "T\u00c9")]}, "events[0]: " + TN_MSG),
            ({"events": [good], "packages": []}, PACKAGES_MSG),
            ({"events": [good], "packages": [{"tracking_number": "P%d" % i} for i in range(51)]}, PACKAGES_MSG),
            ({"events": [good], "packages": [{"tracking_number": "P1"}, {"carrier": "UPS"}]},
             "packages[1]: A package needs a tracking_number."),
            ({"events": [good], "packages": [{"tracking_number": "P\u00c9"}]},
             "packages[0]: A package's tracking_number must be 1-64 printable ASCII characters."),
            ({"events": [good], "packages": [{"tracking_number": "P1", "carrier": "C" * 33}]},
             "packages[0]: A package's carrier must be 1-32 printable ASCII characters."),
        ]
        for when in ("2027-06-01 10:00:00Z", "2027-06-01T10:00:00", "2027-06-01T24:00:00Z", "2027-02-29T10:00:00Z",
                     "2027-06-01T10:00:00+00:00", "2027-06-01", "2027-06-01T10:00:00.5Z", "1969-12-31T23:59:59Z",
                     "2027-06-01t10:00:00z", ""):
            cases.append(({"events": [ev("delivered", when)]}, "events[0]: " + AT_MSG))
        for loc in ("\u00e9" * 101, "", "a\u0001b", "\tLyon", "a\u007fb", "a\u0085b", "Lyon\n"):
            cases.append(({"events": [ev("delivered", at(60), None, loc)]}, "events[0]: " + LOCATION_MSG))
        # single requests: the 400 and its sentence
        for fields, message in cases[:4]:
            r = post(s, "asir-group", "update-tracking", dict({"menzzo_order_id": a}, **fields), tok)
            assert assert_error(r, 400, "invalid_body")["error"] == message, (fields, r)
        # as batch items: the same sentence in each item's result
        r, j = batch(s, tok, "update-tracking", [dict({"menzzo_order_id": a}, **f) for f, _ in cases])
        assert j["success"] is False
        for (fields, message), res in zip(cases, j["results"]):
            failure(res, a, "invalid_body", message)
        # the body and the id
        for body, ctype, message in (
                (f"menzzo_order_id={a}&events=in_transit", FORM, "Field events needs a JSON body"),
                ('{"menzzo_order_id": "%s", "events": [], "events": []}' % a, "application/json", "Field events"),
                (json.dumps({"items": [track_body(a, [good])] * 101}), "application/json", ITEMS_MSG),
                (json.dumps({"items": [track_body(a, [good])], "menzzo_order_id": a}), "application/json",
                 "A batch body has only items")):
            r = post(s, "asir-group", "update-tracking", body, tok, content_type=ctype)
            assert assert_error(r, 400, "invalid_body")["error"].startswith(message), (body[:80], r)
        assert_error(track(s, tok, "500-1", [good]), 400, "invalid_order_id")
        r = post(s, "asir-group", "update-tracking", body_of_size(a, 262145), tok, content_type="application/json")
        assert assert_error(r, 413, "body_too_large")["error"] == "The request body is larger than 256 KiB."
        assert events(s) == before
        # the bounds are taken: 50 events, a day ahead of the clock, 100 characters of location, 64 of number,
        # 50 parcels, 256 KiB
        fifty = [ev(STATUSES[i % 5], at(60 * i), "TA") for i in range(49)] + \
            [ev("in_transit", at(-86400), "TA", "\U0001F4E6" * 100)]
        answer(track(s, tok, a, fifty), a, "shipped", True, None, "in_transit", at(120))
        answer(track(s, tok, b, [ev("delivered", at(60), "B" * 64, "L" * 100)], packages=[
            {"tracking_number": "B" * 64, "carrier": "C" * 32}] + [{"tracking_number": "P%d" % i} for i in range(48)]),
            b, "shipped", True, None, "delivered", at(60))
        r = post(s, "asir-group", "update-tracking", body_of_size(c, 262144), tok, content_type="application/json")
        answer(r, c, "shipped", True, None, "in_transit", None)
        sp = show(s, a)
        assert len(sp["tracking_events"]) == 50 and sp["tracking_events"][-1]["location"] == "\U0001F4E6" * 100
        sp = show(s, b)
        assert len(sp["packages"]) == 50 and sp["packages"][1] == {"tracking_number": "B" * 64, "carrier": "C" * 32}
        check_clean(s, 52)


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
    out = tempfile.mktemp(prefix="strace-", dir=s.dir)
    data = json.dumps(body).encode()
    env = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data)),
           "HTTP_AUTHORIZATION": f"Bearer {token}", "GATEWAY_INTERFACE": "CGI/1.1",
           "ASAN_OPTIONS": "detect_leaks=0"}  # LeakSanitizer cannot run under ptrace
    p = s.run([require("strace", "strace"), "-f", "-c", "-o", out, "-e", "trace=fdatasync,fsync,msync",
               os.path.join(CGI_DIR, supplier, action)], input=data, env=env)
    assert p.returncode == 0, p.stderr
    return harness.parse_cgi_output(p.stdout), syscalls(out)


def test_a_tracking_batch_is_one_transaction_with_a_result_per_item():
    with store(6) as s:
        tok = s.token("asir-group")
        a, b, c, d, e, f = ids(6)
        _, j = batch(s, tok, "ship-sale", [{"menzzo_order_id": a}, {"menzzo_order_id": b, "tracking_number": "B1"},
                                           {"menzzo_order_id": c, "tracking_number": "C1"}])
        assert j["success"] is True
        answer(ack(s, tok, d, day(3)), d, "acknowledged", True, day(3))
        before = events(s)
        items = [track_body(a, [ev("in_transit", at(900))]),
                 track_body(b, [ev("delivered", at(800), "B1"), ev("in_transit", at(900), "B2")],
                            [{"tracking_number": "B2", "carrier": "UPS"}]),
                 track_body(d, [ev("in_transit", at(900))]),                  # not shipped
                 track_body(c, [ev("in_transit", at(900), "NOPE")]),          # no such parcel
                 track_body("500_99", [ev("in_transit", at(900))]),
                 track_body(a, [ev("in_transit", at(900))]),                  # stored by the first item
                 track_body(c, [ev("lost", at(900))]),
                 track_body(c, [ev("out_for_delivery", at(700), "C1")]),
                 track_body(a, [ev("in_transit", at(900))], [{"tracking_number": "A2"}]),  # a parcel alone
                 track_body(a, [ev("out_for_delivery", at(600), "A2")])]     # named after the item that added it
        r, counts = traced_post(s, "update-tracking", {"items": items}, tok)
        assert r.status == 200, r
        j = r.json()
        assert list(j) == ["success", "results"] and j["success"] is False and len(j["results"]) == 10, j
        res = j["results"]
        check_answer(res[0], a, "shipped", True, None, "in_transit", None)
        check_answer(res[1], b, "shipped", True, None, "delivered", at(800))
        failure(res[2], d, "not_shipped")
        failure(res[3], c, "unknown_parcel")
        failure(res[4], "500_99", "not_found")
        check_answer(res[5], a, "shipped", False, None, "in_transit", None)
        failure(res[6], c, "invalid_body", "events[0]: " + STATUS_MSG)
        check_answer(res[7], c, "shipped", True, None, "out_for_delivery", None)
        check_answer(res[8], a, "shipped", True, None, "in_transit", None)
        check_answer(res[9], a, "shipped", True, None, "out_for_delivery", None)
        print(f"    update-tracking batch of 10 (5 changes): {counts}")
        assert sum(counts.values()) == 1, f"one durable commit for the whole batch, not {counts}"
        new = events(s)[len(before):]
        assert [(x["type"], x["menzzo_order_id"]) for x in new] == [
            ("sale.tracking_updated", a), ("sale.tracking_updated", b), ("sale.delivered", b),
            ("sale.tracking_updated", c), ("sale.tracking_updated", a), ("sale.tracking_updated", a)], new
        assert [x["tracking_number"] for x in new[1]["packages"]] == ["B1", "B2"]
        assert [x["tracking_number"] for x in new[4]["packages"]] == ["A2"] and new[4]["tracking_events"] == []
        for oid, n in ((a, 3), (c, 1)):
            entries = log(s, oid)
            assert [x["action"] for x in entries] == ["imported", "shipped"] + ["tracking_updated"] * n, entries
            assert {x["request_id"] for x in entries[2:]} == {r.headers["x-request-id"]}, entries
        # a batch of repeats: every result unchanged, no commit, nothing written
        r, counts = traced_post(s, "update-tracking", {"items": [items[0], items[1], items[7]]}, tok)
        j = r.json()
        assert j["success"] is True and [x["changed"] for x in j["results"]] == [False] * 3, j
        assert sum(counts.values()) == 0, counts
        got = listing(s, tok)
        assert (news(got[b]), news(got[d])) == (("shipped", None, "delivered", at(800)),
                                                ("acknowledged", day(3), None, None)), got
        assert len(events(s)) == len(before) + 6
        check_clean(s, 5)


def test_the_rate_limit_counts_a_batch_as_one_request():
    with store(20, MENZZO_RATE_LIMIT="1,5") as s:   # the test clock stands still: the bucket never refills
        tok = s.token("asir-group")
        oids = ids(20)

        def left(r):
            m = re.fullmatch(r'"per-token";r=(\d+)(?:;t=\d+)?', r.headers["ratelimit"])
            assert m, r.headers
            return int(m.group(1))

        r, _ = batch(s, tok, "acknowledge-sale", [{"menzzo_order_id": x, "estimated_ship_date": day(9)} for x in oids])
        assert left(r) == 4
        r, _ = batch(s, tok, "ship-sale", [{"menzzo_order_id": x} for x in oids])
        assert left(r) == 3
        r, j = batch(s, tok, "update-tracking", [track_body(x, [ev("in_transit", at(60))]) for x in oids])
        assert j["success"] is True and left(r) == 2
        r = track(s, tok, oids[0], [ev("lost", at(60))])
        assert r.status == 400 and left(r) == 1
        r = track(s, tok, oids[0], [ev("delivered", at(30))])
        assert r.status == 200 and left(r) == 0
        assert_error(track(s, tok, oids[1], [ev("delivered", at(30))]), 429, "rate_limited")
        assert show(s, oids[1])["delivery_status"] == "in_transit"
        assert len(events(s)) == 20 + 20 + 20 + 2


def test_the_seed_answers_keep_their_fields_first():
    """A request as the seed page sends it (nothing but menzzo_order_id, as JSON or a form) answers the seed's
    fields, in the seed's order, then estimated_ship_date, and a shipment's carrier news last; get-sales items
    start with the seed page's fields."""
    with store(3) as s:
        tok = s.token("asir-group")
        a, b, c = ids(3)
        for r, oid, status in ((ack(s, tok, a), a, "acknowledged"), (ship(s, tok, a), a, "shipped"),
                               (post(s, "asir-group", "ship-sale", "menzzo_order_id=" + b, tok, content_type=FORM),
                                b, "shipped")):
            answer(r, oid, status, True)
        answer(track(s, tok, a, [ev("delivered", at(60))]), a, "shipped", True, None, "delivered", at(60))
        for r in (ack(s, tok, a), post(s, "asir-group", "ship-sale", "menzzo_order_id=" + a, tok, content_type=FORM)):
            j = answer(r, a, "shipped", False, None, "delivered", at(60))
            assert list(j)[:6] == SEED_KEYS
        got = listing(s, tok)
        assert all(list(i)[:7] == SEED_ITEM_KEYS for i in got.values()), got
        assert [news(got[x]) for x in (a, b, c)] == [("shipped", None, "delivered", at(60)),
                                                     ("shipped", None, None, None), ("pending", None, None, None)]


def test_an_event_at_the_epoch_is_refused_or_reported_as_sent():
    """1970-01-01T00:00:00Z has the form the rule asks for: taken, it must be answered, shown and sent as it
    was given (or refused with a 400, a lower bound the rule does not state); never reported as no time."""
    with store(1) as s:
        tok = s.token("asir-group")
        a = ids(1)[0]
        answer(ship(s, tok, a), a, "shipped", True)
        epoch = "1970-01-01T00:00:00Z"
        r = track(s, tok, a, [ev("delivered", epoch)])
        if r.status == 400:
            assert_error(r, 400, "invalid_body")
            assert show(s, a)["tracking_events"] == []
            return
        answer(r, a, "shipped", True, None, "delivered", epoch)
        sp = show(s, a)
        assert sp["tracking_events"] == [shown_event(ev("delivered", epoch))], sp["tracking_events"]
        assert sp["delivered_at"] == epoch, sp
        assert [x["type"] for x in events(s)] == ["sale.shipped", "sale.tracking_updated", "sale.delivered"]


# Through lighttpd (both modes).

def test_ship_dates_tracking_and_the_seed_page_curl_lines_through_lighttpd():
    """The main flows through lighttpd: a date given, changed (the asir-group cache let go), refused out of
    bounds and on a shipped sale product; carrier events, a repeat, eight identical requests at once (one stores
    the event), a batch, the 256 KiB bound; and the seed page's acknowledge and ship curl lines, run as they
    are, answering the seed's fields first, before and after carrier news."""
    from test_seed_page import SEED_HOST, SEED_PAGE, curl_commands, run_curl
    commands = [x for x in curl_commands(open(SEED_PAGE).read()) if "/api/asir-group/" in x]
    ship_line = [x for x in commands if x.endswith("/ship-sale")]
    ack_line = [x for x in commands if x.endswith("/acknowledge-sale")]
    list_line = sorted({x for x in commands if "get-sales?page=1&date_from=" in x})
    assert len(ship_line) == len(ack_line) == len(list_line) == 1, commands
    seed = "15000012345_789"
    with store(4) as s:
        s.import_lines([sale(15000012345, 789, sku="PRODUCT-SKU")])
        tok = s.token("asir-group")
        a, b, c, _ = ids(4)
        with Lighttpd(s, env={"FASTCGI_PROCS": "2"}) as web:
            def call(action, body, **kw):
                return web.request("POST", f"/api/asir-group/{action}", token=tok, body=body, **kw)

            def cached(query, cache):
                r = web.request("GET", "/api/asir-group/get-sales?" + query, token=tok)
                assert r.status == 200 and r.headers["x-cache"] == cache, (query, cache, r)
                assert all(list(i) == ITEM_KEYS for i in r.json()), r.json()
                return {i["menzzo_order_id"]: i for i in r.json()}

            def curl(cmd):
                argv = [x.replace(SEED_HOST, web.url).replace("{token}", tok) for x in shlex.split(cmd)]
                status, body = run_curl(argv)
                assert status == 200, (cmd, status, body[:300])
                return json.loads(body)

            # the seed page's lines
            assert all(list(i) == ITEM_KEYS for i in curl(list_line[0])), "the seed's items, then the new fields"
            check_answer(curl(ship_line[0]), seed, "shipped", True)
            check_answer(curl(ack_line[0]), seed, "shipped", False)
            # ship dates
            answer(call("acknowledge-sale", {"menzzo_order_id": a, "estimated_ship_date": day(10)}), a,
                   "acknowledged", True, day(10))
            assert cached("", "MISS")[a]["estimated_ship_date"] == day(10)
            assert cached("", "HIT")[a]["estimated_ship_date"] == day(10)
            r = call("acknowledge-sale", {"menzzo_order_id": a, "estimated_ship_date": day(12)})
            answer(r, a, "acknowledged", True, day(12))
            changed_by = r.headers["x-request-id"]
            assert cached("", "MISS")[a]["estimated_ship_date"] == day(12)
            r = call("acknowledge-sale", f"menzzo_order_id={a}&estimated_ship_date={day(12)}",
                     headers={"Content-Type": FORM})
            answer(r, a, "acknowledged", False, day(12))
            r = call("acknowledge-sale", {"items": [{"menzzo_order_id": b, "estimated_ship_date": day(0)},
                                                    {"menzzo_order_id": a, "estimated_ship_date": day(366)}]})
            assert r.status == 200, r
            check_answer(r.json()["results"][0], b, "acknowledged", True, day(0))
            failure(r.json()["results"][1], a, "invalid_body", SHIP_DATE_MSG)
            answer(call("ship-sale", {"menzzo_order_id": a, "tracking_number": "TA"}), a, "shipped", True, day(12))
            r = call("acknowledge-sale", {"menzzo_order_id": a, "estimated_ship_date": day(13)})
            assert r.status == 409 and r.json()["code"] == "already_shipped", r
            # tracking
            r = call("update-tracking", track_body(b, [ev("in_transit", at(60))]))
            assert r.status == 409 and r.json()["code"] == "not_shipped", r
            r = call("update-tracking", track_body(a, [ev("in_transit", at(60), "TX")]))
            assert r.status == 409 and r.json()["code"] == "unknown_parcel", r
            first = [ev("in_transit", at(7200), "TA", "Lyon"), ev("delivered", at(3600), "TA")]
            answer(call("update-tracking", track_body(a, first)), a, "shipped", True, day(12), "delivered", at(3600))
            assert news(cached("status=shipped", "MISS")[a]) == ("shipped", day(12), "delivered", at(3600))
            answer(call("update-tracking", track_body(a, first)), a, "shipped", False, day(12), "delivered", at(3600))
            # eight requests at once with the same new event: one stores it, the others find it stored
            late = track_body(a, [ev("out_for_delivery", at(5400), "TA")], [{"tracking_number": "TZ"}])
            answers = run_parallel([lambda: call("update-tracking", late)] * 8)
            bodies = [answer(r, a, "shipped", r.json()["changed"], day(12), "delivered", at(3600)) for r in answers]
            assert sum(1 for j in bodies if j["changed"]) == 1, bodies
            # a batch, and the bound of the body
            r = call("update-tracking", {"items": [track_body(a, [ev("returned_to_sender", at(60), "TZ")]),
                                                   track_body(c, [ev("in_transit", at(60))])]})
            assert r.status == 200 and r.json()["success"] is False, r
            check_answer(r.json()["results"][0], a, "shipped", True, day(12), "returned_to_sender", at(3600))
            failure(r.json()["results"][1], c, "not_shipped")
            r = call("update-tracking", body_of_size(a, 262145), headers={"Content-Type": "application/json"})
            assert r.status == 413 and r.json()["code"] == "body_too_large", r
            r = call("update-tracking", body_of_size(a, 262144), headers={"Content-Type": "application/json"})
            answer(r, a, "shipped", True, day(12), "returned_to_sender", at(3600))
            assert news(cached("status=shipped", "MISS")[a]) == ("shipped", day(12), "returned_to_sender", at(3600))
            # carrier news for the seed's sale product: its lines still answer the seed's fields first
            answer(call("update-tracking", track_body(seed, [ev("delivered", at(60))])), seed, "shipped", True, None,
                   "delivered", at(60))
            check_answer(curl(ship_line[0]), seed, "shipped", False, None, "delivered", at(60))
            check_answer(curl(ack_line[0]), seed, "shipped", False, None, "delivered", at(60))
        sp = show(s, a)
        assert [(x["status"], x["tracking_number"]) for x in sp["tracking_events"]] == [
            ("in_transit", "TA"), ("out_for_delivery", "TA"), ("delivered", "TA"), ("in_transit", None),
            ("returned_to_sender", "TZ")], sp["tracking_events"]
        assert [p["tracking_number"] for p in sp["packages"]] == ["TA", "TZ"]
        assert [x["type"] for x in events(s) if x["menzzo_order_id"] == a] == [
            "sale.acknowledged", "sale.ship_date_changed", "sale.shipped", "sale.tracking_updated", "sale.delivered",
            "sale.tracking_updated", "sale.tracking_updated", "sale.tracking_updated"]
        entries = log(s, a)
        assert [x["action"] for x in entries] == ["imported", "acknowledged", "ship_date_changed", "shipped"] + \
            ["tracking_updated"] * 4, entries
        assert entries[2]["request_id"] == changed_by
        check_clean(s, 6)
