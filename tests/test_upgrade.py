"""A store of the previous format (schema 3, tests/fixtures/schema3, written by the release before
refusals, parcels and batches: see tests/fixtures/make-schema3.sh) keeps working: read as it is by
the read-only programs, upgraded in place to schema 4 by the first one that writes, and every old
record, index entry, sale-log entry, event and token still reads the same afterwards."""
import json
import os
import shutil
import subprocess

from harness import ASAN, Lighttpd, Store

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "schema3")
STORE_POKE = os.path.join(ASAN, "helpers", "store_poke")


def old_store():
    """A harness store whose data directory holds a copy of the schema-3 fixture."""
    s = Store()
    db = s.env["MENZZO_DATA_DIR"]
    shutil.rmtree(db)
    os.makedirs(db, mode=0o700)
    shutil.copy(os.path.join(FIXTURE, "data.mdb"), os.path.join(db, "data.mdb"))
    os.chmod(os.path.join(db, "data.mdb"), 0o600)
    with open(os.path.join(FIXTURE, "tokens")) as f:
        s.tokens = dict(line.split() for line in f)
    return s


def schema(s):
    p = subprocess.run([STORE_POKE, s.env["MENZZO_DATA_DIR"], "schema"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return int(p.stdout)


def listing(s, query="status=all", supplier="asir-group"):
    r = s.cgi(f"{supplier}/get-sales", query=query, token=s.tokens[supplier])
    assert r.status == 200, r
    return r


def test_schema3_store_is_read_as_it_is():
    with old_store() as s:
        assert schema(s) == 3
        r = listing(s)
        items = r.json()
        assert [i["menzzo_order_id"] for i in items] == ["15000030001_301", "15000030001_302", "15000030002_303",
                                                         "15000030003_304", "15000030005_306"], items
        for i in items:
            assert list(i)[-1] == "refused_at" and i["refused_at"] is None, i
            assert list(i)[:7] == ["menzzo_order_id", "sku", "quantity", "price", "link_to_label", "order_date",
                                   "carrier"], i
        assert [i["status"] for i in items] == ["pending", "acknowledged", "shipped", "cancelled", "pending"]
        assert items[0]["link_to_label"] == "https://api.example.test/api/files/labels/15000030001_301.pdf"
        assert b'"price":250.00' in r.body and b'"price":10.50' in r.body
        assert items[2]["prepared_at"] and items[2]["acknowledged_at"] == items[2]["prepared_at"]
        # the other views, and the other supplier
        assert [i["menzzo_order_id"] for i in listing(s, "").json()] == \
            ["15000030001_301", "15000030001_302", "15000030005_306"]
        assert [i["menzzo_order_id"] for i in listing(s, "", "notio").json()] == ["15000030004_305"]
        # maintainers' reading commands
        shown = json.loads(s.admin("show", "15000030002_303").stdout)
        assert shown["tracking_number"] == "OLD-TRACK-1" and shown["ship_carrier"] == "DPD", shown
        assert shown["refused_at"] is None and shown["reason"] is None and shown["note"] is None
        log = [json.loads(l) for l in s.admin("log", "15000030002_303").stdout.splitlines()]
        assert [e["action"] for e in log] == ["imported", "shipped"] and log[1]["user"] == "cron"
        events = [json.loads(l) for l in s.admin("events").stdout.splitlines()]
        assert [e["type"] for e in events] == ["sale.acknowledged", "sale.shipped", "sale.cancelled"], events
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout
        stats = dict(l.split("\t") for l in s.admin("stats").stdout.decode().splitlines())
        assert stats["sale"] == "6" and stats["shipment"] == "0", stats
        assert s.cgi("health").status == 200
        assert schema(s) == 3, "a program that only reads upgraded the store"


def test_first_writer_upgrades_in_place():
    with old_store() as s:
        before = listing(s).body
        r = s.cgi("asir-group/acknowledge-sale", method="POST", body={"menzzo_order_id": "15000030001_301"},
                  token=s.tokens["asir-group"])
        assert r.status == 200 and r.json()["changed"] is True, r
        assert schema(s) == 4
        after = listing(s).json()
        old = json.loads(before)
        assert [i for i in after if i["menzzo_order_id"] != "15000030001_301"] == \
            [i for i in old if i["menzzo_order_id"] != "15000030001_301"], "untouched items changed"
        assert [i["status"] for i in after if i["menzzo_order_id"] == "15000030001_301"] == ["acknowledged"]
        # old records change like new ones; repeats stay repeats
        r = s.cgi("asir-group/ship-sale", method="POST", body={"menzzo_order_id": "15000030002_303"},
                  token=s.tokens["asir-group"])
        assert r.status == 200 and r.json()["changed"] is False
        r = s.cgi("asir-group/ship-sale", method="POST", body={"menzzo_order_id": "15000030003_304"},
                  token=s.tokens["asir-group"])
        assert r.status == 409 and r.json()["code"] == "cancelled"
        log = [json.loads(l) for l in s.admin("log", "15000030001_301").stdout.splitlines()]
        assert [e["action"] for e in log] == ["imported", "acknowledged"]
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout
        # menzzo-admin init on an upgraded store changes nothing
        s.admin("init")
        assert schema(s) == 4 and listing(s).json() == after


def test_init_upgrades_and_the_upgraded_store_serves_through_lighttpd():
    with old_store() as s:
        s.admin("init")
        assert schema(s) == 4
        stats = dict(l.split("\t") for l in s.admin("stats").stdout.decode().splitlines())
        assert stats["shipment"] == "0" and stats["sale"] == "6", stats
        with Lighttpd(s) as web:
            r = web.request("GET", "/api/notio/get-sales", token=s.tokens["notio"])
            assert r.status == 200 and [i["menzzo_order_id"] for i in r.json()] == ["15000030004_305"]
            r = web.request("POST", "/api/notio/ship-sale", body={"menzzo_order_id": "15000030004_305"},
                            token=s.tokens["notio"])
            assert r.status == 200 and r.json()["status"] == "shipped", r
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout
