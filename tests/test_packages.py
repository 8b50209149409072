"""Parcels: ship-sale with packages (SPEC §2.7), stored beside the record, shown by menzzo-admin show,
sent with the sale.shipped event; each CGI run directly and through lighttpd."""
import json

from harness import Lighttpd, assert_error
from test_actions import FORM, SUCCESS_KEYS, assert_success, events, ids_of, log, post, show, store_with_sales


def ship_packages(s, supplier, oid, token, packages, **fields):
    return post(s, supplier, "ship-sale", dict({"menzzo_order_id": oid, "packages": packages}, **fields), token)


def test_packages_are_stored_shown_and_sent():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        a = ids_of("asir-group")[0]
        packages = [{"tracking_number": "6A0001", "carrier": "COLISSIMO"},
                    {"tracking_number": "6A0002"},
                    {"tracking_number": "DPD-0003", "carrier": "DPD", "weight": 31}]
        r = ship_packages(s, "asir-group", a, tok, packages)
        j = assert_success(r, a, "shipped", True)
        assert set(j) == SUCCESS_KEYS
        sp = show(s, a)
        want = [{"tracking_number": "6A0001", "carrier": "COLISSIMO"},
                {"tracking_number": "6A0002", "carrier": "CHRONOPOST"},
                {"tracking_number": "DPD-0003", "carrier": "DPD"}]
        assert sp["packages"] == want, sp
        assert (sp["tracking_number"], sp["ship_carrier"]) == ("6A0001", "COLISSIMO"), sp
        assert list(sp)[-2:] == ["packages", "tracking_events"] and sp["tracking_events"] == [], list(sp)
        ev = [e for e in events(s) if e["menzzo_order_id"] == a]
        assert len(ev) == 1 and ev[0]["type"] == "sale.shipped" and ev[0]["packages"] == want, ev
        assert (ev[0]["tracking_number"], ev[0]["carrier"]) == ("6A0001", "COLISSIMO")
        assert log(s, a)[-1]["after"]["tracking_number"] == "6A0001"
        # a repeat keeps the first shipment's packages
        r = ship_packages(s, "asir-group", a, tok, [{"tracking_number": "OTHER"}])
        assert_success(r, a, "shipped", False)
        assert show(s, a)["packages"] == want and len(events(s)) == 1
        stats = dict(l.split("\t") for l in s.admin("stats").stdout.decode().splitlines())
        assert stats["shipment"] == "1", stats
        out = s.admin("check").stdout.decode()
        assert "0 problem(s)" in out, out


def test_scalar_shipments_show_one_parcel_or_none():
    with store_with_sales() as s:
        tok = s.token("notio")
        a, b, c, d = ids_of("notio")[:4]
        assert_success(post(s, "notio", "ship-sale", {"menzzo_order_id": a, "tracking_number": "T-1", "carrier": "DHL"},
                            tok), a, "shipped", True)
        assert_success(post(s, "notio", "ship-sale", {"menzzo_order_id": b, "tracking_number": "T-2"}, tok), b,
                       "shipped", True)
        assert_success(post(s, "notio", "ship-sale", {"menzzo_order_id": c}, tok), c, "shipped", True)
        assert show(s, a)["packages"] == [{"tracking_number": "T-1", "carrier": "DHL"}]
        assert show(s, b)["packages"] == [{"tracking_number": "T-2", "carrier": "CHRONOPOST"}]
        assert show(s, c)["packages"] == [] and show(s, d)["packages"] == []
        ev = {e["menzzo_order_id"]: e for e in events(s)}
        assert ev[a]["packages"] == [{"tracking_number": "T-1", "carrier": "DHL"}] and ev[c]["packages"] == []
        assert ev[b]["carrier"] is None, "the scalar form keeps its old event fields"
        stats = dict(l.split("\t") for l in s.admin("stats").stdout.decode().splitlines())
        assert stats["shipment"] == "0"


def test_fifty_packages_and_the_bounds():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        ids = ids_of("asir-group")
        fifty = [{"tracking_number": "P%02d" % i} for i in range(50)]
        assert_success(ship_packages(s, "asir-group", ids[0], tok, fifty), ids[0], "shipped", True)
        assert [p["tracking_number"] for p in show(s, ids[0])["packages"]] == [p["tracking_number"] for p in fifty]
        oid = ids[1]
        bad = [
            ({"packages": []}, "packages"),
            ({"packages": fifty + [{"tracking_number": "P50"}]}, "packages"),
            ({"packages": {"tracking_number": "X"}}, "packages"),
            ({"packages": "X"}, "packages"),
            ({"packages": [{"tracking_number": "X"}, "Y"]}, "packages"),
            ({"packages": [{"tracking_number": "X"}, None]}, "packages"),
            ({"packages": [{"carrier": "DPD"}]}, "tracking_number"),
            ({"packages": [{"tracking_number": "X"}, {"tracking_number": "T" * 65}]}, "packages[1]"),
            ({"packages": [{"tracking_number": 12}]}, "tracking_number"),
            ({"packages": [{"tracking_number": "X", "carrier": ""}]}, "carrier"),
            ({"packages": [{"tracking_number": " X"}]}, "tracking_number"),
            ({"packages": [{"tracking_number": "X"}], "tracking_number": "Y"}, "either"),
            ({"packages": [{"tracking_number": "X"}], "carrier": "DPD"}, "either"),
        ]
        for fields, mention in bad:
            r = post(s, "asir-group", "ship-sale", dict({"menzzo_order_id": oid}, **fields), tok)
            assert_error(r, 400, "invalid_body", mentions=(mention,))
        r = post(s, "asir-group", "ship-sale", '{"menzzo_order_id": "%s", "packages": [{"tracking_number": "A", '
                 '"tracking_number": "B"}]}' % oid, tok, content_type="application/json")
        assert_error(r, 400, "invalid_body")
        # a form cannot carry packages: it is told to send JSON
        r = post(s, "asir-group", "ship-sale", f"menzzo_order_id={oid}&packages=X", tok, content_type=FORM)
        assert_error(r, 400, "invalid_body", mentions=("JSON",))
        assert show(s, oid)["status"] == "pending" and len(events(s)) == 1


def test_packages_of_a_refused_or_unknown_sale_product():
    with store_with_sales() as s:
        tok = s.token("asir-group")
        a = ids_of("asir-group")[0]
        r = post(s, "asir-group", "acknowledge-sale", {"menzzo_order_id": a, "accepted": False, "reason": "other"}, tok)
        assert r.status == 200
        assert_error(ship_packages(s, "asir-group", a, tok, [{"tracking_number": "X"}]), 409, "refused")
        assert_error(ship_packages(s, "asir-group", ids_of("notio")[0], tok, [{"tracking_number": "X"}]), 404)
        stats = dict(l.split("\t") for l in s.admin("stats").stdout.decode().splitlines())
        assert stats["shipment"] == "0"


def test_packages_through_lighttpd():
    with store_with_sales() as s:
        tok = s.token("notio")
        a, b = ids_of("notio")[:2]
        with Lighttpd(s) as web:
            r = web.request("POST", "/api/notio/ship-sale", token=tok,
                            body={"menzzo_order_id": a, "packages": [{"tracking_number": "GEO-1", "carrier": "GEODIS"},
                                                                     {"tracking_number": "GEO-2"}]})
            assert_success(r, a, "shipped", True)
            r = web.request("POST", "/api/notio/ship-sale", token=tok, body=f"menzzo_order_id={b}&packages=GEO-3",
                            headers={"Content-Type": FORM})
            assert r.status == 400 and "JSON" in r.json()["error"], r
        assert show(s, a)["packages"] == [{"tracking_number": "GEO-1", "carrier": "GEODIS"},
                                          {"tracking_number": "GEO-2", "carrier": "CHRONOPOST"}]
        assert json.loads(s.admin("events").stdout.splitlines()[-1])["packages"][1]["carrier"] == "CHRONOPOST"
