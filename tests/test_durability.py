"""Durability (SPEC §11): a change answered 200 is in the store whatever process is killed afterwards, in
both modes; a batch is all or nothing; a healthy store is never reported damaged.

- an opener killed inside LMDB's exclusive set-up of the lock region, while a writer waits to open the
  same store: the writer's answered change survives (deterministic: the helper stops exactly there);
- a kill storm through lighttpd: clients send batches and singles while the endpoints' processes and
  lighttpd itself are SIGKILLed at random; every answered change is found afterwards, no batch is half
  applied, check is clean;
- 60 writers and menzzo-admin opening the store at once: none is told the store is damaged.

MENZZO_KILL_RUNS=N (default 1) repeats the storm N times with other seeds and prints each run's figures.
"""
import json
import os
import random
import signal
import subprocess
import threading
import time

import harness
from harness import ASAN, CGI_DIR, Lighttpd, Store, parse_cgi_output, pids_of, sale

PAUSED_OPEN = os.path.join(ASAN, "helpers", "paused_open")


def _blocked_in_a_lock(pid):
    """Whether the process sleeps in the kernel waiting for a file lock (flock or fcntl)."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read()
    except OSError:
        return False
    return "lock" in wchan or "setlk" in wchan


def _spawn(store, path, body, token):
    data = json.dumps(body).encode()
    env = dict(store.env, REQUEST_METHOD="POST", CONTENT_LENGTH=str(len(data)), GATEWAY_INTERFACE="CGI/1.1",
               CONTENT_TYPE="application/json", HTTP_AUTHORIZATION=f"Bearer {token}", QUERY_STRING="")
    p = subprocess.Popen([os.path.join(CGI_DIR, path)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdin.write(data)
    p.stdin.close()
    p.stdin = None    # all sent: communicate() only reads
    return p


def test_an_opener_killed_inside_lmdbs_exclusive_open_loses_no_write():
    """The first opener of a store resets LMDB's shared lock region and is killed before it sets the region's
    transaction id; a writer waiting to open the store then commits.  Its answered change must be there for
    the next reader, whatever the newest transaction id was (odd or even: both meta pages are exercised)."""
    for later in (1, 2):
        with Store(MENZZO_RATE_LIMIT="0") as s:
            s.import_lines([sale(500, 1)])
            tok = s.token("asir-group")
            for k in range(later):    # commits after the ones the writer needs: the newest id odd, then even
                s.import_lines([sale(600 + k, 10 + k)])
            opener = subprocess.Popen([PAUSED_OPEN], env=s.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                assert opener.stdout.readline().strip() == b"paused", "the helper did not stop inside LMDB's open"
                writer = _spawn(s, "asir-group/ship-sale", {"menzzo_order_id": "500_1"}, tok)
                # The writer must be waiting for the opener before the opener dies: that is the case under test.
                deadline = time.time() + 60
                while not _blocked_in_a_lock(writer.pid):
                    assert writer.poll() is None, "the writer did not wait for the opener inside LMDB's open"
                    assert time.time() < deadline, "the writer never reached the lock"
                    time.sleep(0.01)
            finally:
                opener.kill()
                opener.wait()
                opener.stdout.close()
                opener.stderr.close()
            out, err = writer.communicate(timeout=60)
            harness.check_sanitizer(err.decode(errors="replace"), "ship-sale")
            r = parse_cgi_output(out)
            assert r.status == 200 and r.json()["changed"] is True, r
            shown = json.loads(s.admin("show", "500_1").stdout)
            assert shown["status"] == "shipped" and shown["prepared_at"] == r.json()["prepared_at"], \
                f"the answered shipment is lost: {shown}"
            p = s.admin("check", check=False)
            assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()


# The kill storm.

BATCH = 8
CLIENTS = 3
ACTIONS = ("acknowledge-sale", "ship-sale", "update-tracking")
SHIP_DATE = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400))   # a month ahead: a date the API takes
HANG = 900    # seconds: only a guard against a hung run, never what decides the outcome


class Storm:
    """Clients sending batches and singles to lighttpd while a killer SIGKILLs the writers and lighttpd:
    acknowledgements (some with an estimated ship date), refusals, shipments of three parcels, and on
    sale products imported shipped, tracking updates (a parcel added, two carrier events).

    Paced by the work, not the clock, so that a slow machine runs it longer instead of failing it: the
    killer acts once for each request a client starts (it then kills one running writer, with probability
    kill_share, after a random part of the recent request time), lighttpd is killed each time another
    tenth of the wanted changes was answered, and the storm ends once `changes` changes were answered
    200 and every lighttpd kill was made."""

    def __init__(self, store, web, tok, ids, shipped, seed, changes, lighttpd_kills, kill_share):
        self.s, self.web, self.tok = store, web, tok
        self.rng = random.Random(seed)
        self.changes, self.lighttpd_kills_planned, self.kill_share = changes, lighttpd_kills, kill_share
        self.lock = threading.Lock()
        self.started = threading.Semaphore(0)
        self.latency = 0.05   # seconds, a running mean of the requests' time
        self.done = False
        self.failure = None
        self.answered = {}    # menzzo_order_id -> the result of an item answered 200 with changed: true
        self.sent = []        # every request sent: (kind, [ids]) — each checked for all-or-nothing
        self.kills = self.lighttpd_kills = self.errors = 0
        # each client its own sale products, each used once: an item's state afterwards is the request's alone
        self.pools = [ids[i::CLIENTS] for i in range(CLIENTS)]
        self.shipped_pools = [shipped[i::CLIENTS] for i in range(CLIENTS)]    # for update-tracking

    def body(self, r, action, chosen):
        items = []
        for oid in chosen:
            if action == "acknowledge-sale" and r.random() < 0.3:
                items.append({"menzzo_order_id": oid, "accepted": False, "reason": "out_of_stock"})
            elif action == "acknowledge-sale" and r.random() < 0.5:
                items.append({"menzzo_order_id": oid, "estimated_ship_date": SHIP_DATE})
            elif action == "update-tracking":
                # a parcel added, two carrier events: all of it, or none of it
                tn = f"TR{oid.replace('_', '')}"
                items.append({"menzzo_order_id": oid, "packages": [{"tracking_number": tn}], "events": [
                    {"status": "in_transit", "at": "2026-01-20T08:00:00Z", "tracking_number": tn},
                    {"status": "delivered", "at": "2026-01-21T15:30:00Z", "location": "Nantes"}]})
            elif action == "ship-sale":
                items.append({"menzzo_order_id": oid, "packages": [
                    {"tracking_number": f"TN{oid.replace('_', '')}{k}", "carrier": "DHL"} for k in range(3)]})
            else:
                items.append({"menzzo_order_id": oid})
        return items[0] if len(items) == 1 else {"items": items}

    def client(self, n):
        try:
            self.requests(n)
        except BaseException as e:   # the killer reports it: the storm then ends
            self.failure = f"client {n}: {e!r}"
            raise

    def requests(self, n):
        r = random.Random(self.rng.random())
        while not self.done:
            action = r.choice(ACTIONS)
            pool = self.shipped_pools[n] if action == "update-tracking" else self.pools[n]
            assert pool, "the storm used up its sale products before its work was done"
            size = BATCH if r.random() < 0.6 else 1
            chosen, pool[:size] = pool[:size], []
            with self.lock:
                self.sent.append((action, chosen))
            self.started.release()
            t0 = time.monotonic()
            try:
                resp = self.web.request("POST", f"/api/asir-group/{action}", token=self.tok,
                                        body=self.body(r, action, chosen))
            except ConnectionRefusedError:
                # lighttpd is being restarted: nothing was sent, the sale products can be used again
                with self.lock:
                    self.sent.pop(self.sent.index((action, chosen)))
                pool[:0] = chosen
                time.sleep(0.05)
                continue
            except OSError:
                with self.lock:
                    self.errors += 1    # lighttpd killed under the request, or not yet restarted
                time.sleep(self.latency)
                continue
            if resp.status != 200:
                # a writer killed mid-request: lighttpd's own answer, never a 200
                assert resp.status in (500, 502, 503, 504), resp
                with self.lock:
                    self.errors += 1
                # a responder restarting (lighttpd waits a second before it tries a dead backend again): do not
                # spend the sale products on its 503s
                time.sleep(0.5 if resp.status == 503 else 0.1)
                continue
            with self.lock:
                self.latency = 0.9 * self.latency + 0.1 * (time.monotonic() - t0)
            j = resp.json()
            results = j["results"] if "results" in j else [j]
            assert [x["menzzo_order_id"] for x in results] == chosen, (chosen, j)
            with self.lock:
                for x in results:
                    assert x["success"] is True and x["changed"] is True, (resp.headers, x)
                    self.answered[x["menzzo_order_id"]] = x

    def killer(self, clients):
        exes = [os.path.join(CGI_DIR, "asir-group", e) for e in ACTIONS]
        hang = time.monotonic() + HANG
        while True:
            assert time.monotonic() < hang, "the storm hung:\n" + self.snapshot()
            assert all(t.is_alive() for t in clients), self.failure or "a client ended"
            assert self.web.proc.poll() is None, "lighttpd exited:\n" + self.snapshot()
            with self.lock:
                answered = len(self.answered)
            if answered >= self.changes and self.lighttpd_kills == self.lighttpd_kills_planned:
                return
            if answered >= (self.lighttpd_kills + 1) * self.changes / (self.lighttpd_kills_planned + 1) and \
                    self.lighttpd_kills < self.lighttpd_kills_planned:
                self.web.kill_and_restart()
                self.lighttpd_kills += 1
            if not self.started.acquire(timeout=0.5) or self.rng.random() >= self.kill_share:
                continue
            time.sleep(self.rng.random() * self.latency)
            running = [pid for exe in exes for pid in pids_of(exe)]
            if running:
                try:
                    os.kill(self.rng.choice(running), signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass

    def snapshot(self):
        """What a hung storm leaves to look at: the programs' processes and where each waits, lighttpd's log."""
        lines = [f"{len(self.answered)} changes answered, {self.lighttpd_kills} lighttpd kills, {self.kills} kills"]
        for pid in os.listdir("/proc"):
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
                if exe.startswith(CGI_DIR) or os.path.basename(exe) == "lighttpd":
                    with open(f"/proc/{pid}/stat") as f:
                        st = f.read().rsplit(")", 1)[1].split()
                    with open(f"/proc/{pid}/wchan") as f:
                        lines.append(f"{pid} {exe} state {st[0]} ppid {st[1]} wchan {f.read()}")
            except OSError:
                pass
        with open(self.web.log, errors="replace") as f:
            lines.append(f.read()[-3000:])
        return "\n".join(lines)

    def run(self):
        threads = [threading.Thread(target=self.client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        try:
            self.killer(threads)
        finally:
            self.done = True
            for t in threads:
                t.join()


def listing(s, tok):
    """Every sale product of asir-group, as get-sales lists it with status=all (run directly, page by page)."""
    found, cursor = {}, None
    while True:
        q = "status=all" + (f"&last_menzzo_order_number={cursor}" if cursor else "")
        r = s.cgi("asir-group/get-sales", query=q, token=tok)
        assert r.status == 200, r
        page = r.json()
        for item in page:
            found[item["menzzo_order_id"]] = item
        if "link" not in r.headers:
            return found
        cursor = page[-1]["menzzo_order_id"]


def verify(storm, s, tok):
    """(lost, partial): answered changes missing from the store, and requests applied in part."""
    p = s.admin("check", check=False)
    assert p.returncode == 0 and b"0 problem(s)" in p.stdout, p.stdout.decode() + p.stderr.decode()
    now = listing(s, tok)
    lost = 0
    for oid, x in storm.answered.items():
        item = now[oid]
        same = item["status"] == x["status"] and item["acknowledged_at"] == x["acknowledged_at"] and \
            item["prepared_at"] == x["prepared_at"] and \
            all(item[k] == x[k] for k in ("estimated_ship_date", "delivery_status", "delivered_at") if k in x)
        if not same:
            print(f"    LOST {oid}: answered {x}, stored {item}")
        lost += not same
    partial = 0
    for action, chosen in storm.sent:
        if action == "update-tracking":
            applied = {now[oid]["delivery_status"] is not None for oid in chosen}
        else:
            applied = {now[oid]["status"] != "pending" for oid in chosen}
        if len(applied) > 1:
            print(f"    PARTIAL {action} {chosen}: {[now[o]['status'] for o in chosen]}")
        partial += len(applied) > 1
    return lost, partial


def storm_once(start, seed, changes, lighttpd_kills):
    n = 4800    # a storm spends about 1,500 (600 changes, its failed requests): each client has 1,600
    with Store(MENZZO_RATE_LIMIT="0") as s:    # clients flat out: the rate limit is not what this tests
        s.import_lines([sale(100000 + i // 4, 1 + i, order_date="2026-01-%02d" % (1 + i % 28)) for i in range(n)] +
                       [sale(200000 + i // 4, 100001 + i, status="shipped")
                        for i in range(n // 2)])
        tok = s.token("asir-group")
        ids = ["%d_%d" % (100000 + i // 4, 1 + i) for i in range(n)]
        shipped = ["%d_%d" % (200000 + i // 4, 100001 + i) for i in range(n // 2)]
        random.Random(seed).shuffle(ids)
        random.Random(seed + 1).shuffle(shipped)
        t0 = time.monotonic()
        with start(s) as web:
            storm = Storm(s, web, tok, ids, shipped, seed, changes, lighttpd_kills,
                          kill_share=0.5 if harness.MODE == "cgi" else 0.1)
            storm.run()
        took = time.monotonic() - t0
        lost, partial = verify(storm, s, tok)
        print(f"    kill storm [{harness.MODE}] seed {seed}: {storm.kills} writer kills, {storm.lighttpd_kills} "
              f"lighttpd kills, {len(storm.sent)} requests ({storm.errors} failed), {len(storm.answered)} changes "
              f"answered 200, {lost} lost, {partial} half-applied, check clean ({took:.0f} s)")
        return storm, lost, partial


def test_kill_storm_loses_no_answered_change():
    runs = int(os.environ.get("MENZZO_KILL_RUNS", "1"))
    base = int(os.environ.get("MENZZO_KILL_SEED", "20261205"))
    total_lost = total_partial = 0
    for k in range(runs):
        storm, lost, partial = storm_once(lambda s: Lighttpd(s, env={"FASTCGI_PROCS": "2"}), base + k, 600, 10)
        total_lost += lost
        total_partial += partial
    assert total_lost == 0 and total_partial == 0, (total_lost, total_partial)


# A healthy store under many openers.

def test_many_writers_and_admin_opens_never_see_a_damaged_store():
    """60 acknowledge-sale CGIs and 10 menzzo-admin runs at once, on a fresh store whose file grows under
    them: not one is refused as damaged or truncated, every acknowledgement is answered 200."""
    for round_ in range(3):
        with Store(MENZZO_RATE_LIMIT="0") as s:
            s.import_lines([sale(9000 + i, 1 + i, sku="S" * 60, carrier="C" * 30) for i in range(60)])
            tok = s.token("asir-group")
            procs = [_spawn(s, "asir-group/acknowledge-sale", {"menzzo_order_id": f"{9000 + i}_{1 + i}"}, tok)
                     for i in range(60)]
            # readers (show) and writers (reopen of a pending one: it opens the store to write, then says no)
            admins = [subprocess.Popen([harness.ADMIN, cmd, "9000_1"], env=s.env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE) for cmd in ("show", "reopen") * 5]
            for p in procs:
                out, err = p.communicate(timeout=120)
                text = err.decode(errors="replace")
                harness.check_sanitizer(text, "acknowledge-sale")
                assert "damaged" not in text, text
                assert p.returncode == 0, (p.returncode, text)
                r = parse_cgi_output(out)
                assert r.status == 200 and r.json()["changed"] is True, (r, text)
            for p in admins:
                out, err = p.communicate(timeout=120)
                assert b"damaged" not in out + err, (out, err)
            assert s.admin("check").returncode == 0
