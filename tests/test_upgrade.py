"""Stores of earlier formats keep working.  Every format version from the oldest this build reads to the
current one has a fixture (tests/fixtures/schema<N>, each with the script that wrote it): each is read as
it is by the read-only programs, and upgraded in place, one step a version, by the first one that
writes, every record, index entry, sale-log entry, event and token reading the same afterwards.  The
schema-3 fixture (written by the release before refusals, parcels and batches) is also checked item by
item."""
import glob
import json
import os
import re
import shutil
import subprocess
import time

from harness import ADMIN, ASAN, ROOT, Lighttpd, Store

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
FIXTURE = os.path.join(FIXTURES, "schema3")
STORE_POKE = os.path.join(ASAN, "helpers", "store_poke")
_STORE_H = open(os.path.join(ROOT, "lib", "store.h")).read()
SCHEMA = int(re.search(r"#define STORE_SCHEMA (\d+)", _STORE_H).group(1))
OLDEST = int(re.search(r"#define STORE_SCHEMA_OLDEST (\d+)", _STORE_H).group(1))


def old_store(fixture=FIXTURE):
    """A harness store whose data directory holds a copy of a fixture."""
    s = Store()
    db = s.env["MENZZO_DATA_DIR"]
    shutil.rmtree(db)
    os.makedirs(db, mode=0o700)
    shutil.copy(os.path.join(fixture, "data.mdb"), os.path.join(db, "data.mdb"))
    os.chmod(os.path.join(db, "data.mdb"), 0o600)
    with open(os.path.join(fixture, "tokens")) as f:
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
            # refused_at, then the three members of format 6, all null: what a record without them renders to
            assert list(i)[-4:] == ["refused_at", "estimated_ship_date", "delivery_status", "delivered_at"], i
            assert all(i[k] is None for k in list(i)[-4:]), i
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
        assert schema(s) == SCHEMA
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
        assert schema(s) == SCHEMA and listing(s).json() == after


def test_init_upgrades_and_the_upgraded_store_serves_through_lighttpd():
    with old_store() as s:
        s.admin("init")
        assert schema(s) == SCHEMA
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


def everything(s):
    """What a store shows of itself: every sale product of every supplier, with its log, the events, and
    the stock (get-stock of each supplier, and menzzo-admin stock)."""
    shown = {}
    for supplier in s.tokens:
        for item in listing(s, "status=all", supplier).json():
            oid = item["menzzo_order_id"]
            shown[oid] = (item, json.loads(s.admin("show", oid).stdout),
                          [json.loads(l) for l in s.admin("log", oid).stdout.splitlines()])
        r = s.cgi(f"{supplier}/get-stock", token=s.tokens[supplier])
        assert r.status == 200, r
        shown[f"stock of {supplier}"] = r.json()
    return shown, s.admin("events").stdout, s.admin("stock", "--json").stdout


def test_a_format_4_store_has_no_stock_until_upgraded_then_takes_it():
    """Read as it is, a format-4 store answers get-stock with no SKU (it has no stock database); the first
    update-stock upgrades it (a writer) and is then read back."""
    with old_store(os.path.join(FIXTURES, "schema4")) as s:
        r = s.cgi("notio/get-stock", token=s.tokens["notio"])
        assert r.status == 200 and r.json() == [], r
        assert schema(s) == 4
        body = {"items": [{"sku": "AFTER-4", "quantity": 9}]}
        r = s.cgi("notio/update-stock", method="POST", body=body, token=s.tokens["notio"])
        assert r.status == 200 and r.json() == {"success": True, "updated": 1, "unchanged": 0, "zeroed": 0}, r
        assert schema(s) == SCHEMA
        items = s.cgi("notio/get-stock", token=s.tokens["notio"]).json()
        assert [(i["sku"], i["quantity"]) for i in items] == [("AFTER-4", 9)], items
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout and b"1 stock records" in p.stdout, p.stdout


def test_every_format_has_a_fixture_that_opens_and_upgrades():
    """A fixture for every version from the oldest readable to the current one (the next format's step
    starts from the current one's): read as it is, then upgraded by a writer, showing the same after."""
    found = sorted(int(re.search(r"schema(\d+)$", d).group(1)) for d in glob.glob(os.path.join(FIXTURES, "schema*"))
                   if os.path.isdir(d))
    assert found == list(range(OLDEST, SCHEMA + 1)), f"fixtures {found}, formats {OLDEST}..{SCHEMA}"
    for version in found:
        assert os.path.exists(os.path.join(FIXTURES, f"make-schema{version}.sh")), version
        with old_store(os.path.join(FIXTURES, f"schema{version}")) as s:
            assert schema(s) == version
            before = everything(s)
            assert before[0], f"the schema{version} fixture shows no sale product"
            p = s.admin("check", check=False)
            assert p.returncode == 0 and b"0 problem(s)" in p.stdout, (version, p.stdout)
            assert schema(s) == version, "a program that only reads upgraded the store"
            s.admin("init")    # a writer: upgrades, every step at once
            assert schema(s) == SCHEMA
            assert everything(s) == before, f"the schema{version} fixture reads otherwise after the upgrade"
            p = s.admin("check", check=False)
            assert p.returncode == 0 and b"0 problem(s)" in p.stdout, (version, p.stdout)


def test_a_format_5_store_shows_no_ship_date_nor_tracking_until_upgraded_then_takes_them():
    """Read as it is, a format-5 store's items (stored before ship dates and tracking) show the three new
    members null, exactly as a record of format 6 renders them, and show has no carrier events; the first
    update-tracking upgrades it (a writer), stores its events and re-renders that item."""
    with old_store(os.path.join(FIXTURES, "schema5")) as s:
        token = s.tokens["asir-group"]
        items = listing(s).json()
        assert items and all(list(i)[-4:] == ["refused_at", "estimated_ship_date", "delivery_status", "delivered_at"]
                             and i["estimated_ship_date"] is None and i["delivery_status"] is None
                             and i["delivered_at"] is None for i in items), items
        shown = json.loads(s.admin("show", "15000050002_403").stdout)
        assert shown["tracking_events"] == [] and shown["delivery_status"] is None, shown
        assert schema(s) == 5
        body = {"menzzo_order_id": "15000050002_403",
                "events": [{"status": "delivered", "at": "2026-02-04T15:10:00Z", "tracking_number": "V5-TRACK-2"}]}
        r = s.cgi("asir-group/update-tracking", method="POST", body=body, token=token)
        assert r.status == 200 and r.json()["changed"] is True and r.json()["delivery_status"] == "delivered", r
        assert schema(s) == SCHEMA
        item = next(i for i in listing(s).json() if i["menzzo_order_id"] == "15000050002_403")
        assert item["delivery_status"] == "delivered" and item["delivered_at"] == "2026-02-04T15:10:00Z", item
        assert item["status"] == "shipped", item
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout and b"1 carrier events" in p.stdout, p.stdout


def test_a_format_7_store_has_no_webhook_endpoint_until_upgraded_and_format_8_keeps_them():
    """Read as it is, a format-7 store lists no webhook endpoint (stats: none, check clean); the first
    `webhook add` upgrades it and the endpoint follows the feed as it was.  The format-8 fixture's two
    endpoints (notio's from its start, after one failed attempt; the back office's from its end) read back
    as written, and their backlogs count what each has not received."""
    with old_store(os.path.join(FIXTURES, "schema7")) as s:
        assert s.admin("webhook", "list", "--json").stdout == b""
        assert b"webhook." not in s.admin("stats").stdout
        assert schema(s) == 7
        p = s.admin("webhook", "add", "asir-group", "https://hooks.example.test/a", "--from", "0")
        assert p.stdout.splitlines()[-1].startswith(b"whsec_"), p.stdout
        assert schema(s) == SCHEMA
        hooks = [json.loads(l) for l in s.admin("webhook", "list", "--json").stdout.splitlines()]
        feed = s.cgi("asir-group/get-events", query="limit=1000", token=s.tokens["asir-group"]).json()
        assert [h["target"] for h in hooks] == ["asir-group"] and hooks[0]["backlog"] == len(feed) > 0, hooks
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout
    with old_store(os.path.join(FIXTURES, "schema8")) as s:
        hooks = [json.loads(l) for l in s.admin("webhook", "list", "--json").stdout.splitlines()]
        assert [(h["id"], h["target"], h["state"], h["last_delivered_seq"]) for h in hooks] == \
            [(1, "notio", "active", 0), (2, "backoffice", "active", 21)], hooks
        assert hooks[0]["failed_attempts"] == 1 and "127.0.0.1" in hooks[0]["last_error"], hooks
        notio = s.cgi("notio/get-events", query="limit=1000", token=s.tokens["notio"]).json()
        assert hooks[0]["backlog"] == len(notio) and hooks[1]["backlog"] == 0, hooks
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout


def test_writers_that_find_an_old_store_at_once_upgrade_it_once():
    """Three writers open a format-6 store while a fourth process holds the write lock: each read format 6
    at its open and waits to upgrade.  The first to get the lock upgrades (numbering every old event into
    its supplier's feed); the others must find format 7 under the lock and not number the events again."""
    with old_store(os.path.join(FIXTURES, "schema6")) as s:
        db = s.env["MENZZO_DATA_DIR"]
        holder = subprocess.Popen([STORE_POKE, db, "hold-writer"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            assert holder.stdout.readline() == b"ready\n"
            writers = [subprocess.Popen([ADMIN, "cancel", oid], env=s.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
                       for oid in ("15000050001_401", "15000050001_402", "15000050006_407")]
            # every writer waits on the lock (LMDB's mutex: a futex), having read format 6 at its open
            while not all(_waits_on_a_futex(w.pid) for w in writers):
                assert all(w.poll() is None for w in writers), [w.communicate() for w in writers]
                time.sleep(0.01)
            assert schema(s) == 6
        finally:
            holder.stdin.close()
            holder.wait()
        for w in writers:
            out, err = w.communicate()
            assert w.returncode == 0, err
        assert schema(s) == SCHEMA
        p = s.admin("check", check=False)
        assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout


def _waits_on_a_futex(pid):
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return "futex" in f.read()
    except OSError:
        return False
