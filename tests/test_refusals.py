"""Refusals: acknowledge-sale with "accepted": false and a reason (SPEC §2.7), the refused status in
get-sales, menzzo-admin reopen, import of refused lines, check and stats; each CGI run directly and
through lighttpd, and 24 concurrent refusals and ships of one sale product."""
import json
import re

from harness import Lighttpd, Store, assert_error, sale
from test_actions import (FORM, SUPPLIERS, TIMESTAMP_RE, assert_success, events, ids_of, log, post, run_parallel,
                          show, ship, store_with_sales, ts_near_now)

REFUSED_KEYS = {"success", "menzzo_order_id", "status", "acknowledged_at", "prepared_at", "changed", "refused_at",
                "reason", "note"}
REASONS = ("out_of_stock", "discontinued", "price_error", "cannot_deliver", "other")


def refuse(s, supplier, oid, token, reason="out_of_stock", note=None, **kw):
    body = {"menzzo_order_id": oid, "accepted": False, "reason": reason}
    if note is not None:
        body["note"] = note
    return post(s, supplier, "acknowledge-sale", body, token, **kw)


def ack(s, supplier, oid, token, **kw):
    return post(s, supplier, "acknowledge-sale", {"menzzo_order_id": oid}, token, **kw)


def assert_refused(r, oid, changed, reason="out_of_stock", note=None, acknowledged_at=None):
    assert r.status == 200, r
    j = r.json()
    assert set(j) == REFUSED_KEYS and list(j)[:6] == ["success", "menzzo_order_id", "status", "acknowledged_at",
                                                      "prepared_at", "changed"], j
    assert j["success"] is True and j["menzzo_order_id"] == oid and j["status"] == "refused", j
    assert j["changed"] is changed and j["reason"] == reason and j["note"] == note, j
    assert j["prepared_at"] is None and j["acknowledged_at"] == acknowledged_at, j
    assert TIMESTAMP_RE.match(j["refused_at"]), j
    return j


def listed(s, supplier, token, query):
    r = s.cgi(f"{supplier}/get-sales", query=query, token=token)
    assert r.status == 200, r
    return {i["menzzo_order_id"]: i for i in r.json()}


def test_refuse_pending_and_acknowledged():
    with store_with_sales() as s:
        for sup in SUPPLIERS:
            tok = s.token(sup)
            a, b = ids_of(sup)[:2]
            r = refuse(s, sup, a, tok, note="Back in March; 3 left at the supplier \u2014 \u00e9t\u00e9 \U0001F4E6")
            j = assert_refused(r, a, True, note="Back in March; 3 left at the supplier \u2014 \u00e9t\u00e9 \U0001F4E6")
            ts_near_now(j["refused_at"])
            acked = assert_success(ack(s, sup, b, tok), b, "acknowledged", True)
            k = assert_refused(refuse(s, sup, b, tok, reason="price_error"), b, True, reason="price_error",
                               acknowledged_at=acked["acknowledged_at"])
            assert k["note"] is None
            sp = show(s, a)
            assert (sp["status"], sp["refused_at"], sp["reason"]) == ("refused", j["refused_at"], "out_of_stock"), sp
            assert sp["note"] == j["note"] and sp["prepared_at"] is None
            entry = log(s, a)[-1]
            assert entry["action"] == "refused" and entry["user"] == "cron", entry
            assert entry["request_id"] == r.headers["x-request-id"]
            assert entry["after"]["status"] == "refused" and entry["after"]["reason"] == "out_of_stock", entry
            assert entry["after"]["note"] == j["note"] and entry["before"]["status"] == "pending"
            ev = [e for e in events(s) if e["menzzo_order_id"] == a]
            assert len(ev) == 1 and ev[0]["type"] == "sale.refused", ev
            assert ev[0]["reason"] == "out_of_stock" and ev[0]["note"] == j["note"] and ev[0]["supplier"] == sup
            assert [e["type"] for e in events(s) if e["menzzo_order_id"] == b] == ["sale.acknowledged",
                                                                                  "sale.refused"]
        out = s.admin("check").stdout.decode()
        assert "0 problem(s)" in out and "(4 refused)" in out, out


def test_refusal_in_a_form_and_every_reason():
    with store_with_sales() as s:
        tok = s.token("notio")
        ids = ids_of("notio")
        for oid, reason in zip(ids, REASONS):
            r = post(s, "notio", "acknowledge-sale", f"menzzo_order_id={oid}&accepted=false&reason={reason}"
                     "&note=Rupture+de+stock+%C3%A9t%C3%A9", tok, content_type=FORM)
            assert_refused(r, oid, True, reason=reason, note="Rupture de stock \u00e9t\u00e9")
        # accepted=true in a form is a plain acknowledgement
        oid = ids[5]
        r = post(s, "notio", "acknowledge-sale", f"accepted=true&menzzo_order_id={oid}", tok, content_type=FORM)
        assert_success(r, oid, "acknowledged", True)
        r = post(s, "notio", "acknowledge-sale", {"menzzo_order_id": ids[6], "accepted": True}, tok)
        assert_success(r, ids[6], "acknowledged", True)
        assert s.admin("stats", "--json").stdout and json.loads(s.admin("stats", "--json").stdout)["refused"] == 5
        stats = dict(l.split("\t") for l in s.admin("stats").stdout.decode().splitlines())
        assert stats["refused"] == "5", stats


def test_repeats_and_409s():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        a, b, c, d = ids_of("asir-group")[:4]
        first = assert_refused(refuse(s, "asir-group", a, tok, note="first"), a, True, note="first")
        n_log, n_ev = len(log(s, a)), len(events(s))
        # a repeat keeps the first reason and note, whatever it says
        again = assert_refused(refuse(s, "asir-group", a, tok, reason="other", note="second"), a, False,
                               note="first")
        assert again["refused_at"] == first["refused_at"]
        r = post(s, "asir-group", "acknowledge-sale", f"menzzo_order_id={a}&accepted=false&reason=discontinued",
                 tok, content_type=FORM)
        assert_refused(r, a, False, note="first")
        # a refused one is neither acknowledged nor shipped
        for r in (ack(s, "asir-group", a, tok), ship(s, "asir-group", a, tok),
                  post(s, "asir-group", "ship-sale", "menzzo_order_id=" + a, tok, content_type=FORM)):
            assert_error(r, 409, "refused")
        assert (len(log(s, a)), len(events(s))) == (n_log, n_ev)
        # a shipped one cannot be refused; a cancelled one neither
        assert_success(ship(s, "asir-group", b, tok), b, "shipped", True)
        assert_error(refuse(s, "asir-group", b, tok), 409, "already_shipped")
        s.admin("cancel", c)
        assert_error(refuse(s, "asir-group", c, tok), 409, "cancelled")
        assert show(s, b)["status"] == "shipped" and show(s, c)["status"] == "cancelled"
        assert [e["action"] for e in log(s, b)] == ["imported", "shipped"]
        # unknown and another supplier's: 404, as for an acknowledgement
        assert_error(refuse(s, "asir-group", "15000012345_999999", tok), 404, "not_found")
        assert_error(refuse(s, "asir-group", ids_of("notio")[0], tok), 404, "not_found")
        assert show(s, ids_of("notio")[0])["status"] == "pending"
        assert show(s, d)["status"] == "pending"


def test_invalid_refusals_are_400():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        oid = ids_of("asir-group")[0]
        base = {"menzzo_order_id": oid}
        bodies = [
            dict(base, accepted="false", reason="out_of_stock"),
            dict(base, accepted=0, reason="out_of_stock"),
            dict(base, accepted=None, reason="out_of_stock"),
            dict(base, accepted=False),
            dict(base, accepted=False, reason="sold_out"),
            dict(base, accepted=False, reason="OUT_OF_STOCK"),
            dict(base, accepted=False, reason=""),
            dict(base, accepted=False, reason=["out_of_stock"]),
            dict(base, accepted=True, reason="out_of_stock"),
            dict(base, reason="out_of_stock"),
            dict(base, note="no stock"),
            dict(base, accepted=False, reason="other", note=""),
            dict(base, accepted=False, reason="other", note="x" * 501),
            dict(base, accepted=False, reason="other", note="\U0001F4E6" * 501),
            dict(base, accepted=False, reason="other", note="bell\u0007"),
            dict(base, accepted=False, reason="other", note="line\nbreak"),
            dict(base, accepted=False, reason="other", note="c1\u0085"),
            dict(base, accepted=False, reason="other", note="del\u007f"),
            dict(base, accepted=False, reason="other", note=5),
            {"accepted": False, "reason": "other"},
        ]
        for body in bodies:
            r = post(s, "asir-group", "acknowledge-sale", body, tok)
            j = assert_error(r, 400, "invalid_body")
            assert tok not in j["error"]
        forms = ["menzzo_order_id=%s&accepted=no&reason=other" % oid,
                 "menzzo_order_id=%s&accepted=False&reason=other" % oid,
                 "menzzo_order_id=%s&accepted=false" % oid,
                 "menzzo_order_id=%s&accepted=false&accepted=false&reason=other" % oid,
                 "menzzo_order_id=%s&accepted=false&reason=other&note=%%FF" % oid,
                 "menzzo_order_id=%s&accepted=false&reason=other&note=%%C0%%80" % oid,
                 "menzzo_order_id=%s&accepted=false&reason=other&note=%%ED%%A0%%80" % oid]
        for body in forms:
            assert_error(post(s, "asir-group", "acknowledge-sale", body, tok, content_type=FORM), 400, "invalid_body")
        # invalid UTF-8 in JSON is refused by the parser itself
        r = post(s, "asir-group", "acknowledge-sale",
                 b'{"menzzo_order_id": "%s", "accepted": false, "reason": "other", "note": "\xff"}' % oid.encode(), tok,
                 content_type="application/json")
        assert_error(r, 400, "invalid_body")
        assert show(s, oid)["status"] == "pending" and events(s) == []
        # the bounds: 500 characters of 4 bytes each (2000 bytes), and a single one
        r = refuse(s, "asir-group", oid, tok, reason="other", note="\U0001F4E6" * 500)
        assert_refused(r, oid, True, reason="other", note="\U0001F4E6" * 500)
        other = ids_of("asir-group")[1]
        assert_refused(refuse(s, "asir-group", other, tok, note="x"), other, True, note="x")


def test_get_sales_views_and_cache():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        a, b, c = ids_of("asir-group")[:3]
        assert_success(ack(s, "asir-group", b, tok), b, "acknowledged", True)
        r = s.cgi("asir-group/get-sales", token=tok)
        assert r.headers["x-cache"] == "MISS" and a in [i["menzzo_order_id"] for i in r.json()]
        assert s.cgi("asir-group/get-sales", token=tok).headers["x-cache"] == "HIT"
        j = assert_refused(refuse(s, "asir-group", a, tok, note="n"), a, True, note="n")
        assert_refused(refuse(s, "asir-group", b, tok, reason="cannot_deliver"), b, True, reason="cannot_deliver",
                       acknowledged_at=show(s, b)["acknowledged_at"])
        # the change invalidated the cached list
        r = s.cgi("asir-group/get-sales", token=tok)
        assert r.headers["x-cache"] == "MISS" and a not in [i["menzzo_order_id"] for i in r.json()]
        assert set(listed(s, "asir-group", tok, "status=refused")) == {a, b}
        assert a not in listed(s, "asir-group", tok, "status=open")
        assert b not in listed(s, "asir-group", tok, "status=acknowledged")
        assert a not in listed(s, "asir-group", tok, "status=pending")
        for q in ("status=all", "order_number=" + a.split("_")[0], "order_number=" + a):
            items = listed(s, "asir-group", tok, q)
            assert items[a]["status"] == "refused" and items[a]["refused_at"] == j["refused_at"], (q, items)
            assert list(items[a]) == ["menzzo_order_id", "sku", "quantity", "price", "link_to_label", "order_date",
                                      "carrier", "status", "acknowledged_at", "prepared_at", "refused_at",
                                      "estimated_ship_date", "delivery_status", "delivered_at"]
            assert q.endswith(a) or items[c]["refused_at"] is None
        assert listed(s, "asir-group", tok, "status=refused&order_number=" + a.split("_")[0]).keys() == {a, b}
        r = s.cgi("asir-group/get-sales", query="status=refuse", token=tok)
        assert_error(r, 400, "invalid_parameter", mentions=("refused",))
        assert listed(s, "notio", s.token("notio"), "status=refused") == {}


def test_reopen_and_cancel():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        a, b, c = ids_of("asir-group")[:3]
        assert_success(ack(s, "asir-group", a, tok), a, "acknowledged", True)
        first = assert_refused(refuse(s, "asir-group", a, tok, note="none left"), a, True, note="none left",
                               acknowledged_at=show(s, a)["acknowledged_at"])
        p = s.admin("reopen", a, env={"USER": "maria"})
        assert p.stdout.decode().strip() == f"{a} reopened: pending again", p.stdout
        sp = show(s, a)
        assert (sp["status"], sp["refused_at"], sp["acknowledged_at"], sp["reason"], sp["note"]) == \
            ("pending", None, None, None, None), sp
        entries = log(s, a)
        assert [e["action"] for e in entries] == ["imported", "acknowledged", "refused", "reopened"], entries
        assert entries[-1]["user"] == "maria" and "request_id" not in entries[-1]
        assert entries[-1]["before"]["reason"] == "out_of_stock" and entries[-1]["before"]["note"] == "none left"
        assert entries[2]["after"]["refused_at"] == first["refused_at"], "the log keeps the refusal"
        assert [e["type"] for e in events(s) if e["menzzo_order_id"] == a][-1] == "sale.reopened"
        assert a in listed(s, "asir-group", tok, "")
        # pending again: it can be acknowledged (or refused) again
        assert_success(ack(s, "asir-group", a, tok), a, "acknowledged", True)
        p = s.admin("reopen", a, check=False)
        assert p.returncode == 1 and b"acknowledged, not refused" in p.stderr, p.stderr
        p = s.admin("reopen", "1_1", check=False)
        assert p.returncode == 1 and b"no sale product 1_1" in p.stderr
        p = s.admin("reopen", "x", check=False)
        assert p.returncode == 2
        assert b"usage: menzzo-admin reopen ID" in s.admin("reopen", "--help").stdout
        # cancel works on a refused one; the refusal stays in the log only
        assert_refused(refuse(s, "asir-group", b, tok, reason="discontinued"), b, True, reason="discontinued")
        s.admin("cancel", b)
        sp = show(s, b)
        assert (sp["status"], sp["refused_at"], sp["reason"]) == ("cancelled", None, None), sp
        assert [e["action"] for e in log(s, b)] == ["imported", "refused", "cancelled"]
        assert_error(refuse(s, "asir-group", b, tok), 409, "cancelled")
        p = s.admin("reopen", b, check=False)
        assert p.returncode == 1 and b"cancelled, not refused" in p.stderr
        out = s.admin("check").stdout.decode()
        assert "0 problem(s)" in out and "(0 refused)" in out, out
        assert show(s, c)["status"] == "pending"


def test_import_of_refused_lines():
    with Store() as s:
        lines = [sale(1, 1, status="refused", reason="discontinued", refused_at="2026-01-16T08:00:00Z",
                      note="Modèle arrêté"),
                 sale(1, 2, status="refused", reason="other"),
                 sale(1, 3, status="shipped"),
                 sale(1, 4, status="acknowledged", acknowledged_at="2026-01-15T09:00:00Z")]
        s.import_lines(lines)
        tok = s.token("asir-group")
        sp = show(s, "1_1")
        assert (sp["status"], sp["reason"], sp["refused_at"], sp["note"]) == \
            ("refused", "discontinued", "2026-01-16T08:00:00Z", "Modèle arrêté"), sp
        ts_near_now(show(s, "1_2")["refused_at"])
        assert set(listed(s, "asir-group", tok, "status=refused")) == {"1_1", "1_2"}
        assert [json.loads(e)["type"] for e in s.admin("events").stdout.splitlines()] == ["sale.created"] * 4, \
            "a migration writes what every import does: each new sale product's sale.created, no refusal event"
        # never back: a refused one stays refused; refused never replaces shipped; a refusal moves on from ack
        p = s.import_lines([sale(1, 1), sale(1, 2, status="acknowledged"),
                            sale(1, 3, status="refused", reason="other"),
                            sale(1, 4, status="refused", reason="price_error", refused_at="2026-01-15T10:00:00Z")])
        assert p.returncode == 0, p.stderr
        assert [show(s, f"1_{i}")["status"] for i in (1, 2, 3, 4)] == ["refused", "refused", "shipped", "refused"]
        assert show(s, "1_1")["reason"] == "discontinued" and show(s, "1_4")["acknowledged_at"] == "2026-01-15T09:00:00Z"
        # a cancellation is always applied, and takes the refusal away
        s.import_lines([sale(1, 1, status="cancelled")])
        sp = show(s, "1_1")
        assert (sp["status"], sp["reason"], sp["refused_at"], sp["note"]) == ("cancelled", None, None, None), sp
        bad = [sale(2, 5, status="refused"),
               sale(2, 6, status="refused", reason="sold_out"),
               sale(2, 7, reason="other"),
               sale(2, 8, status="shipped", refused_at="2026-01-16T08:00:00Z"),
               sale(2, 9, status="refused", reason="other", prepared_at="2026-01-16T08:00:00Z"),
               sale(2, 10, status="refused", reason="other", note=""),
               sale(2, 11, status="refused", reason="other", note="x" * 501),
               sale(2, 12, status="refused", reason="other", refused_at="2026-01-16"),
               sale(2, 13, status="refused", reason="other", acknowledged_at="2026-01-17T00:00:00Z",
                    refused_at="2026-01-16T00:00:00Z")]
        p = s.import_lines(bad, check=False)
        assert p.returncode == 1, p.stderr
        errs = p.stderr.decode().splitlines()
        assert len([l for l in errs if re.match(r"-: line \d+: ", l)]) == len(bad), errs
        assert "needs a reason" in errs[0] and "go only with status refused" in errs[2], errs
        out = s.admin("check").stdout.decode()
        assert "0 problem(s)" in out and "(2 refused)" in out, out


def test_concurrent_refusals_and_ships_of_one_sale_product():
    for through_lighttpd in (False, True):
        with store_with_sales() as s:
            tok = s.token("asir-group")
            oid = ids_of("asir-group")[0]
            web = Lighttpd(s) if through_lighttpd else None
            try:
                def do(what):
                    body = {"menzzo_order_id": oid}
                    if what == "refuse":
                        body.update(accepted=False, reason="out_of_stock")
                    path = "acknowledge-sale" if what == "refuse" else "ship-sale"
                    if web is not None:
                        return what, web.request("POST", f"/api/asir-group/{path}", body=body, token=tok)
                    return what, post(s, "asir-group", path, body, tok)
                results = run_parallel([lambda: do("refuse")] * 12 + [lambda: do("ship")] * 12)
            finally:
                if web is not None:
                    web.stop()
            ok = [(w, r.json()) for w, r in results if r.status == 200]
            changed = [(w, j) for w, j in ok if j["changed"]]
            assert len(changed) == 1, [(w, r.status, r.body) for w, r in results]
            winner = changed[0][0]
            loser, code = ("ship", "refused") if winner == "refuse" else ("refuse", "already_shipped")
            assert all(w == winner for w, _ in ok), ok
            assert sorted(r.json()["code"] for w, r in results if w == loser) == [code] * 12
            final = show(s, oid)
            assert final["status"] == ("refused" if winner == "refuse" else "shipped"), final
            assert [e["action"] for e in log(s, oid)] == ["imported", "refused" if winner == "refuse" else "shipped"]
            assert len(events(s)) == 1
            p = s.admin("check", check=False)
            assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout


def test_refusals_through_lighttpd():
    with store_with_sales() as s:
        tok = s.token("notio")
        a, b = ids_of("notio")[:2]
        with Lighttpd(s) as web:
            r = web.request("POST", "/api/notio/acknowledge-sale", token=tok,
                            body={"menzzo_order_id": a, "accepted": False, "reason": "cannot_deliver",
                                  "note": "Zone non desservie"})
            assert_refused(r, a, True, reason="cannot_deliver", note="Zone non desservie")
            r = web.request("POST", "/api/notio/acknowledge-sale", token=tok,
                            body=f"menzzo_order_id={b}&accepted=false&reason=other",
                            headers={"Content-Type": FORM})
            assert_refused(r, b, True, reason="other")
            r = web.request("POST", "/api/notio/ship-sale", token=tok, body={"menzzo_order_id": a})
            assert r.status == 409 and r.json()["code"] == "refused"
            r = web.request("POST", "/api/notio/acknowledge-sale", token=tok,
                            body={"menzzo_order_id": a, "accepted": "false", "reason": "other"})
            assert r.status == 400 and r.json()["code"] == "invalid_body"
            r = web.request("GET", "/api/notio/get-sales?status=refused", token=tok)
            assert r.status == 200 and [i["menzzo_order_id"] for i in r.json()] == [a, b]
            assert all(TIMESTAMP_RE.match(i["refused_at"]) for i in r.json())
        assert log(s, a)[-1]["request_id"] != log(s, b)[-1]["request_id"]
