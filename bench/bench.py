#!/usr/bin/env python3
"""make bench: the endpoints' performance as ratios to a trivial CGI, all
measured side by side in one run (the machine is shared and noisy, so no
absolute figure is asserted anywhere; targets are ratios of the same run).

1. Stores: a 10 000 sale-product store and a 1 000 000 one (99 % shipped),
   filled through `menzzo-admin import` from generated JSON Lines, each import
   timed.  The 1M store is reused while its generator parameters are unchanged
   (bench/work/store-1m/stamp.json); `make bench-clean` removes it.  A third
   store of pending sale products is rebuilt every run for ship-sale (which
   changes what it touches).
2. Direct runs: build/bench/spawn runs every variant BENCH_N times, one run of
   each per round, in a new random order each round (a fixed seed; a rotation
   A B C, B C A kept each variant's neighbour, and a run right after one of
   the same executable is faster), with the CGI environment; wall time per
   spawn (posix_spawn to waitpid, output read) and peak RSS (wait4).
3. Batches: acknowledge-sale of 100 pending sale products as 100 single
   requests against one batch of 100, interleaved in the same run (wall time
   of the 100 spawns against the one), and the durable commits each costs
   (fdatasync, fsync and msync counted under strace -f -c).
4. Stock: update-stock of STOCK_SKUS SKUs as as many single-SKU requests against one
   request, interleaved in the same run (each run of either gives every SKU a
   quantity it did not have, so each request writes); and get-stock's default
   page (100 SKUs of the 1,000 that one update-stock request gave notio in
   the 10k store before the direct runs) among the direct runs, beside
   get-sales notio's default page (100 sale products).
5. The rate limit in a FastCGI responder: notio's get-sales responders,
   limit on and off, started as a web server starts them (tests/fcgi.py)
   and sent the same requests in interleaved rounds; the responder's own
   CPU time per request (/proc/PID/stat), which the client's cost does not
   blur.
6. Through lighttpd: the project's lighttpd.conf serves each store; the same
   configuration with CGI_DIR pointing at copies of the baseline serves the
   baseline; wrk runs alternate between them.
7. Writes bench/RESULTS.md and prints it.

The rate limit is on in every run (MENZZO_RATE_LIMIT=1000000,1000000: the
same work per request as the default, a bucket the bench never empties),
except in the variants named "rate limit off", which measure what it costs.

Settings (environment): BENCH_N (300), BENCH_WRK_DURATION (10), BENCH_WRK_ROUNDS (3),
BENCH_WRK_THREADS (2), BENCH_WRK_CONNECTIONS (8), BENCH_BIG (1000000), BENCH_SMALL (10000),
BENCH_SHIP_POOL (60000), BENCH_SKIP_WRK (0), BENCH_BATCH_ROUNDS (20), BENCH_FCGI_ROUNDS (10),
BENCH_FCGI_REQUESTS (2000), BENCH_STOCK_ROUNDS (5), BENCH_HTTP_IMPORT (100000: lines of the back
office's import over HTTP), BENCH_DELIVER (5000: events deliver sends to a loopback receiver).
"""
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")
BUILD = os.path.join(ROOT, "build", "bench")
ADMIN = os.path.join(ROOT, "bin", "menzzo-admin")
CGI_DIR = os.path.join(ROOT, "cgi-bin")
BASELINE_CGI_DIR = os.path.join(BUILD, "baseline-cgi")
SPAWN = os.path.join(BUILD, "spawn")
GEN = os.path.join(BUILD, "gen")
RESULTS = os.path.join(ROOT, "bench", "RESULTS.md")
SUPPLIERS = ("asir-group", "notio")


def setting(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


N = setting("BENCH_N", 300)
WRK_DURATION = setting("BENCH_WRK_DURATION", 10)
WRK_ROUNDS = setting("BENCH_WRK_ROUNDS", 3)
WRK_THREADS = setting("BENCH_WRK_THREADS", 2)
WRK_CONNECTIONS = setting("BENCH_WRK_CONNECTIONS", 8)
BIG = setting("BENCH_BIG", 1000000)
SMALL = setting("BENCH_SMALL", 10000)
SHIP_POOL = setting("BENCH_SHIP_POOL", 60000)
SKIP_WRK = setting("BENCH_SKIP_WRK", 0)
FASTCGI_PROCS = setting("BENCH_FASTCGI_PROCS", 2)
BATCH_ROUNDS = setting("BENCH_BATCH_ROUNDS", 20)
FCGI_ROUNDS = setting("BENCH_FCGI_ROUNDS", 10)
FCGI_REQUESTS = setting("BENCH_FCGI_REQUESTS", 2000)
STOCK_ROUNDS = setting("BENCH_STOCK_ROUNDS", 5)
HTTP_IMPORT = setting("BENCH_HTTP_IMPORT", 100000)
DELIVER = setting("BENCH_DELIVER", 5000)
BATCH = 100
STOCK_SKUS = 1000  # STOCK_ITEMS_MAX: the most SKUs one update-stock request takes
PIPE_BODY_MAX = 65536  # build/bench/spawn writes a body into the child's stdin pipe before it runs: it must fit
RATE_LIMIT_ON = "1000000,1000000"
WARMUP = 5
DATE_QUERY = "date_from=2025-06-01&date_to=2025-06-30"


def log(msg):
    print(f"bench: {msg}", flush=True)


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def store_schema():
    with open(os.path.join(ROOT, "lib", "store.h")) as f:
        m = re.search(r"#define STORE_SCHEMA (\d+)", f.read())
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- stores

class Store:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(WORK, name)
        self.db = os.path.join(self.dir, "db")
        self.files = os.path.join(self.dir, "files")
        self.tokens = {}
        self.open_items = []     # (supplier, date, inc, sp, status), listing order
        self.import_stats = None  # dict(lines, seconds, lines_per_s, reused, when)

    @property
    def env(self):
        return {"PATH": "/usr/bin:/bin", "MENZZO_DATA_DIR": self.db, "MENZZO_FILES_DIR": self.files}

    def admin(self, *args, check=True):
        p = subprocess.run([ADMIN, *args], env=self.env, capture_output=True, text=True)
        if check and p.returncode != 0:
            sys.exit(f"bench: menzzo-admin {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
        return p

    def tokens_on_disk(self):
        try:
            with open(os.path.join(self.dir, "tokens.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def sale_count(self):
        p = self.admin("stats", check=False)
        if p.returncode != 0:
            return -1
        m = re.search(r"^sale\t(\d+)$", p.stdout, re.M)
        return int(m.group(1)) if m else -1

    def build(self, count, shipped_permille, ack_permille, seed):
        """Generates the JSON Lines and imports them into a fresh store; times the import."""
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        jsonl = os.path.join(self.dir, "import.jsonl")
        open_tsv = os.path.join(self.dir, "open.tsv")
        t = time.perf_counter()
        subprocess.run([GEN, "-n", str(count), "-p", str(shipped_permille), "-a", str(ack_permille),
                        "-s", str(seed), "-o", jsonl, "-O", open_tsv], check=True)
        gen_s = time.perf_counter() - t
        self.admin("init")
        t = time.perf_counter()
        p = self.admin("import", jsonl)
        secs = time.perf_counter() - t
        log(f"{self.name}: generated {count} lines in {gen_s:.2f} s, imported in {secs:.2f} s "
            f"({count / secs:,.0f} lines/s): {p.stderr.strip()}")
        os.unlink(jsonl)  # the store is what is kept; the lines can be generated again
        self.import_stats = {"lines": count, "seconds": secs, "lines_per_s": count / secs,
                             "reused": False,
                             "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
        for s in SUPPLIERS:
            self.tokens[s] = self.admin("token", "add", s, "--label", "bench").stdout.strip().splitlines()[-1]
        with open(os.path.join(self.dir, "tokens.json"), "w") as f:
            json.dump(self.tokens, f)

    def load_open(self):
        with open(os.path.join(self.dir, "open.tsv")) as f:
            self.open_items = [tuple(line.rstrip("\n").split("\t")) for line in f]
        self.open_items.sort(key=lambda r: (r[1], int(r[2]), int(r[3])))

    def open_of(self, supplier):
        return [r for r in self.open_items if r[0] == supplier]


def answers(st):
    """Whether get-sales still reads the store (the record format may have changed since it was built)."""
    env = dict(cgi_env(st, token=st.tokens_on_disk().get("notio")), PATH="/usr/bin:/bin")
    p = subprocess.run([os.path.join(CGI_DIR, "notio", "get-sales")], env=env, capture_output=True)
    return p.stdout.startswith(b"Status: 200") and b'"status":"' in p.stdout


def big_store():
    st = Store("store-1m")
    params = {"count": BIG, "shipped_permille": 990, "ack_permille": 300, "seed": 2,
              "gen_sha256": sha256_file(os.path.join(ROOT, "bench", "gen.c")),
              "store_schema": store_schema()}
    stamp = os.path.join(st.dir, "stamp.json")
    try:
        with open(stamp) as f:
            old = json.load(f)
        with open(os.path.join(st.dir, "tokens.json")) as f:
            tokens = json.load(f)
    except (OSError, ValueError):
        old, tokens = None, None
    if old and old.get("params") == params and st.sale_count() == BIG and answers(st):
        st.tokens = tokens
        st.import_stats = dict(old["import"], reused=True)
        log(f"{st.name}: reusing the store built {old['import']['when']} (same generator parameters)")
    else:
        log(f"{st.name}: building ({BIG} sale products, 99 % shipped); this takes a while once")
        st.build(BIG, 990, 300, 2)
        with open(stamp, "w") as f:
            json.dump({"params": params, "import": st.import_stats}, f)
    st.load_open()
    return st


# ---------------------------------------------------------------- direct runs

def cgi_env(store, method="GET", query="", token=None, extra=None):
    e = {"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": method,
         "QUERY_STRING": query, "REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "127.0.0.1",
         "MENZZO_DATA_DIR": store.db, "MENZZO_FILES_DIR": store.files,
         "MENZZO_BASE_URL": "http://127.0.0.1:8080", "MENZZO_RATE_LIMIT": RATE_LIMIT_ON}
    if token:
        e["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    e.update(extra or {})
    return e


def write_plan(path, variants):
    with open(path, "w") as f:
        for v in variants:
            f.write(f"variant {v['name']}\nexe {v['exe']}\n")
            if v.get("arg0"):
                f.write(f"arg0 {v['arg0']}\n")
            for k, val in v["env"].items():
                f.write(f"env {k}={val}\n")
            if v.get("bodies"):
                f.write(f"bodies {v['bodies']}\n")
            if v.get("expect"):
                f.write(f"expect {v['expect']}\n")
            if v.get("repeat"):
                f.write(f"repeat {v['repeat']}\n")
            f.write("end\n")


def pct(values, p):
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def run_direct(small, big, ship):
    gs = lambda s: os.path.join(CGI_DIR, s, "get-sales")
    base_gs = os.path.join(BASELINE_CGI_DIR, "notio", "get-sales")
    base_ship = os.path.join(BASELINE_CGI_DIR, "notio", "ship-sale")
    variants = []

    def add(name, exe, env, kind, **kw):
        variants.append(dict(name=name, exe=exe, env=env, kind=kind, **kw))

    add("baseline (page)", base_gs, cgi_env(small), "baseline", arg0=base_gs)
    for st, tag in ((small, "10k"), (big, "1M")):
        n_open = st.open_of("notio")
        cursor = n_open[-101]  # 100 open sale products follow it: a full last page
        cursor_id = f"{cursor[2]}_{cursor[3]}"
        add(f"get-sales notio {tag}", gs("notio"), cgi_env(st, token=st.tokens["notio"]), "gs-default",
            store=tag, expect='"status":"')
        add(f"get-sales asir-group uncached {tag}", gs("asir-group"),
            cgi_env(st, token=st.tokens["asir-group"], extra={"MENZZO_CACHE_TTL_ASIR_GROUP": "0"}),
            "gs-default", store=tag, expect='"status":"')
        add(f"get-sales asir-group cache HIT {tag}", gs("asir-group"),
            cgi_env(st, token=st.tokens["asir-group"]), "gs-hit", store=tag, expect="X-Cache: HIT")
        add(f"get-sales notio date filter {tag}", gs("notio"),
            cgi_env(st, query=DATE_QUERY, token=st.tokens["notio"]), "gs-date", store=tag, expect='"status":"')
        add(f"get-sales notio deep cursor {tag}", gs("notio"),
            cgi_env(st, query=f"last_menzzo_order_number={cursor_id}", token=st.tokens["notio"]),
            "gs-cursor", store=tag, expect='"status":"')
        # The same listing and the same cache HIT without the rate limit: what the limit costs.
        off = {"MENZZO_RATE_LIMIT": "0"}
        add(f"get-sales notio {tag}, rate limit off", gs("notio"), cgi_env(st, token=st.tokens["notio"], extra=off),
            "gs-default-off", store=tag, expect='"status":"', twin=f"get-sales notio {tag}")
        add(f"get-sales asir-group cache HIT {tag}, rate limit off", gs("asir-group"),
            cgi_env(st, token=st.tokens["asir-group"], extra=off), "gs-hit-off", store=tag, expect="X-Cache: HIT",
            twin=f"get-sales asir-group cache HIT {tag}")

    # get-events: a page of 100 of notio's change feed (after its 1,000th event), beside get-sales' page.
    for st, tag in ((small, "10k"), (big, "1M")):
        add(f"get-events notio {tag} (page of 100)", os.path.join(CGI_DIR, "notio", "get-events"),
            cgi_env(st, query="after=1000&limit=100", token=st.tokens["notio"]), "events-page", store=tag,
            expect='"seq":1100,')

    # get-stock's default page: the first 100 of the SKUs seed_stock gave notio in the 10k store.
    add("get-stock notio 10k (page of 100)", os.path.join(CGI_DIR, "notio", "get-stock"),
        cgi_env(small, token=small.tokens["notio"]), "stock-page", store="10k", expect='"sku":"')

    # ship-sale / acknowledge-sale: a different pending sale product each run (fsync on).
    asir = [f"{r[2]}_{r[3]}" for r in ship.open_of("asir-group")]
    notio = [f"{r[2]}_{r[3]}" for r in ship.open_of("notio")]
    runs = N + WARMUP
    ship_ids, ship.wrk_ids = asir[:runs], asir[runs:]
    ack_ids = notio[:runs]
    ship.batch_ids = notio[runs:]
    body_file = lambda name, ids: _write_lines(os.path.join(WORK, name),
                                               [json.dumps({"menzzo_order_id": i}) for i in ids])
    ct = {"CONTENT_TYPE": "application/json"}
    add("baseline (ship-sale body)", base_ship, cgi_env(ship, "POST", extra=ct), "baseline-post",
        arg0=base_ship, bodies=body_file("bodies-baseline.txt", ship_ids))
    add("ship-sale asir-group", os.path.join(CGI_DIR, "asir-group", "ship-sale"),
        cgi_env(ship, "POST", token=ship.tokens["asir-group"], extra=ct), "ship",
        bodies=body_file("bodies-ship.txt", ship_ids), expect='"changed":true')
    add("acknowledge-sale notio", os.path.join(CGI_DIR, "notio", "acknowledge-sale"),
        cgi_env(ship, "POST", token=ship.tokens["notio"], extra=ct), "ack",
        bodies=body_file("bodies-ack.txt", ack_ids), expect='"changed":true')
    label = f"labels/{asir[-1]}.pdf"
    label_path = os.path.join(ship.files, label)
    os.makedirs(os.path.dirname(label_path), exist_ok=True)
    with open(label_path, "wb") as f:
        f.write(b"%PDF-1.4\n% bench label\n" + b"0" * 20000 + b"\n%%EOF\n")
    add("files (20 KB label)", os.path.join(CGI_DIR, "files"),
        cgi_env(ship, token=ship.tokens["asir-group"], extra={"PATH_INFO": "/" + label}), "files",
        expect="application/pdf")
    add("health", os.path.join(CGI_DIR, "health"), cgi_env(big), "health", expect='"ok"')

    plan = os.path.join(WORK, "direct.plan")
    write_plan(plan, variants)
    errlog = os.path.join(WORK, "direct-stderr.log")
    if os.path.exists(errlog):
        os.unlink(errlog)
    log(f"direct runs: {len(variants)} variants x {N} rounds (+{WARMUP} warm-up), interleaved")
    t = time.perf_counter()
    p = subprocess.run([SPAWN, "-w", str(WARMUP), "-e", errlog, plan, str(N)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench: spawn failed: {p.stderr}")
    log(f"direct runs took {time.perf_counter() - t:.1f} s")
    by = {v["name"]: dict(v, wall=[], rss=[], cpu=[], flt=[], bad=0, missing=0, out=0) for v in variants}
    floor = None
    for line in p.stdout.splitlines():
        if line.startswith("# self_hwm_kb"):
            floor = int(line.split()[-1])
            continue
        name, rnd, ns, rss, http, code, found, nbytes, cpu_us, minflt = line.split("\t")
        r = by[name]
        r["wall"].append(int(ns))
        r["rss"].append(int(rss))
        r["cpu"].append(int(cpu_us))
        r["flt"].append(int(minflt))
        r["out"] = int(nbytes)
        if http != "200" or code != "0":
            r["bad"] += 1
        if r.get("expect") and found != "1":
            r["missing"] += 1
    for r in by.values():
        r["median"] = statistics.median(r["wall"])
        r["p99"] = pct(r["wall"], 99)
        r["rss_max"] = max(r["rss"])
        r["rss_median"] = statistics.median(r["rss"])
        r["cpu_median"] = statistics.median(r["cpu"])
        r["flt_median"] = statistics.median(r["flt"])
        if r["bad"] or r["missing"]:
            log(f"WARNING: {r['name']}: {r['bad']} run(s) not 200/exit 0, "
                f"{r['missing']} without {r.get('expect')!r} (see {errlog})")
    return list(by.values()), floor


def commits_of(store, token, body):
    """fdatasync + fsync + msync of one acknowledge-sale with this body, counted under strace -f -c (None without strace)."""
    if shutil.which("strace") is None:
        return None
    out = os.path.join(WORK, "strace-commits.txt")
    env = dict(cgi_env(store, "POST", token=token, extra={"CONTENT_TYPE": "application/json",
                                                            "CONTENT_LENGTH": str(len(body))}), PATH="/usr/bin:/bin")
    p = subprocess.run(["strace", "-f", "-c", "-o", out, "-e", "trace=fdatasync,fsync,msync",
                        os.path.join(CGI_DIR, "notio", "acknowledge-sale")], input=body.encode(), env=env,
                       capture_output=True)
    if not p.stdout.startswith(b"Status: 200"):
        log(f"WARNING: the traced acknowledge-sale answered {p.stdout[:80]!r}")
    calls = 0
    for line in open(out):
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
        if m and m.group(2) != "total":
            calls += int(m.group(1))
    return calls


def responder_cpu_ns(pid):
    """The CPU time a (single-threaded) process has run, in nanoseconds: /proc/PID/schedstat's first field
    (the scheduler's own account, finer than the clock ticks of /proc/PID/stat)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def run_responder_limit(small, big):
    """get-sales notio as FastCGI responders, rate limit on and off, for both stores: the same requests
    in interleaved rounds (the order alternating); the responders' CPU time per request and the client's
    wall time per request."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import fcgi  # the tests' FastCGI client and responder starter
    exe = os.path.join(CGI_DIR, "notio", "get-sales")
    variants = []
    for tag, st in (("10k", small), ("1M", big)):
        for limit, value in (("on", RATE_LIMIT_ON), ("off", "0")):
            env = dict(cgi_env(st, token=st.tokens["notio"], extra={"MENZZO_RATE_LIMIT": value}),
                       PATH="/usr/bin:/bin")
            variants.append({"store": tag, "limit": limit, "env": env, "cpu_ns": 0, "requests": 0, "wall": [],
                             "cpu_round": []})
    # Every round starts a responder of each variant afresh (what differs from one process to another, its
    # placement and its memory's layout, falls on all variants alike), warms each, then sends the requests
    # to them in turn, one at a time (on, off, on, off, ...): whatever the shared machine does meanwhile
    # falls on both sides of each on / off ratio.
    for rnd in range(FCGI_ROUNDS):
        order = variants if rnd % 2 == 0 else variants[::-1]
        running = [(v, fcgi.Responder(exe, v["env"])) for v in order]
        try:
            for v, r in running:
                for _ in range(200):  # to warm: store and cache opened, pages mapped
                    r.request(v["env"])
            start = {id(v): responder_cpu_ns(r.proc.pid) for v, r in running}
            spent = {id(v): 0 for v, _ in running}
            for _ in range(FCGI_REQUESTS):
                for v, r in running:
                    t0 = time.perf_counter_ns()
                    out, _, _ = r.request(v["env"])
                    spent[id(v)] += time.perf_counter_ns() - t0
                    if not out.startswith(b"Status: 200"):
                        sys.exit(f"bench: a FastCGI get-sales answered {out[:200]!r}")
            for v, r in running:
                cpu = responder_cpu_ns(r.proc.pid) - start[id(v)]
                v["cpu_ns"] += cpu
                v["cpu_round"].append(cpu / FCGI_REQUESTS)
                v["requests"] += FCGI_REQUESTS
                v["wall"].append(spent[id(v)] / FCGI_REQUESTS)
        finally:
            for _, r in running:
                r.stop()
        log(f"FastCGI rate-limit round {rnd + 1}/{FCGI_ROUNDS}: " + ", ".join(
            f"{v['store']} {v['limit']} {v['cpu_round'][-1] / 1e3:.1f} us CPU" for v in variants))
    out = {}
    for v in variants:
        out[(v["store"], v["limit"])] = {"cpu_us": v["cpu_ns"] / 1e3 / v["requests"],
                                         "wall_us": statistics.median(v["wall"]) / 1e3, "requests": v["requests"],
                                         "cpu_round": v["cpu_round"]}
    # on / off within each round (the two responders took their requests in turn), then the median of the
    # rounds
    for tag in ("10k", "1M"):
        on, off = out[(tag, "on")], out[(tag, "off")]
        on["paired"] = statistics.median(a / b for a, b in zip(on["cpu_round"], off["cpu_round"]))
    return out


def run_rounds(tag, variants, rounds):
    """Runs the variants through spawn, interleaved, rounds times after one warm-up run: {name: the variant
    with its wall and CPU times per run, and the runs that were not 200 (bad) or lacked their marker}."""
    plan = os.path.join(WORK, f"{tag}.plan")
    write_plan(plan, variants)
    p = subprocess.run([SPAWN, "-w", "1", "-e", os.path.join(WORK, f"{tag}-stderr.log"), plan, str(rounds)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench: spawn failed: {p.stderr}")
    by = {v["name"]: dict(v, wall=[], cpu=[], bad=0, missing=0) for v in variants}
    for line in p.stdout.splitlines():
        if line.startswith("#"):
            continue
        name, rnd, ns, rss, http, code, found, nbytes, cpu_us, minflt = line.split("\t")
        r = by[name]
        r["wall"].append(int(ns))
        r["cpu"].append(int(cpu_us))
        r["bad"] += http != "200" or code != "0"
        r["missing"] += found != "1"
    return by


def run_batches(ship):
    """acknowledge-sale of BATCH pending sale products: BATCH single requests against one batch, interleaved;
    each run of either changes BATCH different sale products (fsync on)."""
    ids = ship.batch_ids
    need = (BATCH_ROUNDS + 1) * BATCH * 2 + 2 * BATCH
    if len(ids) < need:
        sys.exit(f"bench: the ship pool has {len(ids)} spare notio sale products, the batches need {need}")
    per = (BATCH_ROUNDS + 1) * BATCH
    singles, batched, traced = ids[:per], ids[per:2 * per], ids[2 * per:2 * per + 2 * BATCH]
    ct = {"CONTENT_TYPE": "application/json"}
    exe = os.path.join(CGI_DIR, "notio", "acknowledge-sale")
    tok = ship.tokens["notio"]
    single_bodies = _write_lines(os.path.join(WORK, "bodies-ack-single.txt"),
                                 [json.dumps({"menzzo_order_id": i}) for i in singles])
    batch_bodies = _write_lines(os.path.join(WORK, "bodies-ack-batch.txt"),
                                [json.dumps({"items": [{"menzzo_order_id": i} for i in batched[k:k + BATCH]]})
                                 for k in range(0, per, BATCH)])
    variants = [
        dict(name=f"acknowledge {BATCH} sale products: {BATCH} single requests", exe=exe,
             env=cgi_env(ship, "POST", token=tok, extra=ct), bodies=single_bodies, repeat=BATCH,
             expect='"changed":true'),
        dict(name=f"acknowledge {BATCH} sale products: one batch", exe=exe,
             env=cgi_env(ship, "POST", token=tok, extra=ct), bodies=batch_bodies, expect='"success":true'),
    ]
    log(f"batches: {BATCH} single acknowledges against one batch of {BATCH}, {BATCH_ROUNDS} rounds (+1 warm-up)")
    by = run_rounds("batch", variants, BATCH_ROUNDS)
    single = json.dumps({"menzzo_order_id": traced[0]})
    batch = json.dumps({"items": [{"menzzo_order_id": i} for i in traced[1:1 + BATCH]]})
    commits = {variants[0]["name"]: None if (c := commits_of(ship, tok, single)) is None else c * BATCH,
               variants[1]["name"]: commits_of(ship, tok, batch)}
    out = []
    for v in variants:
        r = by[v["name"]]
        r["median"] = statistics.median(r["wall"])
        r["cpu_median"] = statistics.median(r["cpu"])
        r["commits"] = commits[v["name"]]
        if r["bad"] or r["missing"]:
            log(f"WARNING: {r['name']}: {r['bad']} run(s) not 200/exit 0, {r['missing']} without {v['expect']!r}")
        out.append(r)
    return out


def stock_item(i, sku, quantity):
    """One item of update-stock, every field given (a lead time and a date as most suppliers send)."""
    return {"sku": sku, "quantity": quantity, "lead_time_days": 1 + i % 30,
            "next_available_date": f"2027-{1 + i % 12:02d}-{1 + i % 28:02d}"}


def stock_skus():
    return [f"BENCH-{i:04d}" for i in range(STOCK_SKUS)]


def seed_stock(store, supplier="notio"):
    """STOCK_SKUS SKUs of stock for supplier, written by one update-stock request (quantities 0-999)."""
    body = json.dumps({"mode": "differential",
                       "items": [stock_item(i, sku, i % 1000) for i, sku in enumerate(stock_skus())]})
    env = dict(cgi_env(store, "POST", token=store.tokens[supplier],
                       extra={"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))}),
               PATH="/usr/bin:/bin")
    p = subprocess.run([os.path.join(CGI_DIR, supplier, "update-stock")], input=body.encode(), env=env,
                       capture_output=True)
    if not p.stdout.startswith(b"Status: 200") or f'"updated":{STOCK_SKUS},'.encode() not in p.stdout:
        sys.exit(f"bench: update-stock of {STOCK_SKUS} SKUs answered {p.stdout[:300]!r} {p.stderr[-300:]!r}")
    log(f"{store.name}: {STOCK_SKUS} SKUs of stock for {supplier} (one update-stock request)")


def run_stock_writes(store, supplier="notio"):
    """update-stock of the STOCK_SKUS SKUs seed_stock wrote (their quantities): STOCK_SKUS single-SKU
    requests against one request, interleaved.  Every run of either variant gives the SKUs a quantity of its own (the singles'
    even, the one request's odd, both above what seed_stock wrote), so that each request changes what it
    names and writes it (fsync on), whatever order the rounds put the runs in."""
    skus = stock_skus()
    runs = STOCK_ROUNDS + 1  # the warm-up run's body too
    # The SKU and its quantity only (what a stock sync sends most): all four fields of 1,000 items are
    # about 90 KB, more than the pipe spawn hands a body through holds.
    body = lambda items: json.dumps({"mode": "differential", "items": items}, separators=(",", ":"))
    item = lambda sku, quantity: {"sku": sku, "quantity": quantity}
    ct = {"CONTENT_TYPE": "application/json"}
    exe = os.path.join(CGI_DIR, supplier, "update-stock")
    tok = store.tokens[supplier]
    single_bodies = _write_lines(os.path.join(WORK, "bodies-stock-single.txt"),
                                 [body([item(sku, 100000 + 2 * r)]) for r in range(runs) for sku in skus])
    batch_bodies = _write_lines(os.path.join(WORK, "bodies-stock-batch.txt"),
                                [body([item(sku, 100001 + 2 * r) for sku in skus]) for r in range(runs)])
    longest = max(len(line) for line in open(batch_bodies))
    if longest >= PIPE_BODY_MAX:
        sys.exit(f"bench: an update-stock body of {longest} bytes does not fit spawn's pipe ({PIPE_BODY_MAX})")
    variants = [
        dict(name=f"update-stock of {STOCK_SKUS:,} SKUs: {STOCK_SKUS:,} single-SKU requests", exe=exe,
             env=cgi_env(store, "POST", token=tok, extra=ct), bodies=single_bodies, repeat=STOCK_SKUS,
             expect='"updated":1,'),
        dict(name=f"update-stock of {STOCK_SKUS:,} SKUs: one request", exe=exe,
             env=cgi_env(store, "POST", token=tok, extra=ct), bodies=batch_bodies,
             expect=f'"updated":{STOCK_SKUS},'),
    ]
    log(f"stock: {STOCK_SKUS} single-SKU update-stock requests against one of {STOCK_SKUS} SKUs, "
        f"{STOCK_ROUNDS} rounds (+1 warm-up)")
    by = run_rounds("stock", variants, STOCK_ROUNDS)
    out = []
    for v in variants:
        r = by[v["name"]]
        r["median"] = statistics.median(r["wall"])
        r["cpu_median"] = statistics.median(r["cpu"])
        if r["bad"] or r["missing"]:
            log(f"WARNING: {r['name']}: {r['bad']} run(s) not 200/exit 0, {r['missing']} without {v['expect']!r}")
        out.append(r)
    # singles / one request within each round (they ran in the same round), then the median of the rounds
    out[0]["paired"] = statistics.median(a / b for a, b in zip(out[0]["wall"], out[1]["wall"]))
    return out


def _write_lines(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------- lighttpd + wrk

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lighttpd:
    """The project's lighttpd.conf (cwd = project root) on a free loopback port, the endpoints as plain CGI
    (mode "cgi") or FastCGI responders (mode "fastcgi"); or (static_dir) the same server settings
    serving a directory of static files."""

    def __init__(self, name, cgi_dir, store, mode="cgi", static_dir=None):
        self.name = name
        self.port = free_port()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": str(self.port), "HOST": "127.0.0.1",
               "CGI_DIR": cgi_dir, "MENZZO_DATA_DIR": store.db, "MENZZO_FILES_DIR": store.files,
               "MENZZO_BASE_URL": "http://127.0.0.1:8080", "MENZZO_MODE": mode,
               "FASTCGI_PROCS": str(FASTCGI_PROCS), "FASTCGI_SOCKET_DIR": os.path.join(WORK, f"run-{name}"),
               "MENZZO_RATE_LIMIT": RATE_LIMIT_ON}
        self.logpath = os.path.join(WORK, f"lighttpd-{name}.log")
        self.logf = open(self.logpath, "wb")
        conf = os.path.join(ROOT, "lighttpd.conf")
        if static_dir is not None:
            conf = os.path.join(WORK, "static.conf")
            with open(conf, "w") as f:
                f.write(f'server.document-root = "{static_dir}"\nserver.port = {self.port}\n'
                        'server.bind = "127.0.0.1"\nserver.max-connections = 256\n'
                        'mimetype.assign = ( ".json" => "application/json" )\n')
        self.proc = subprocess.Popen(["lighttpd", "-D", "-f", conf], cwd=ROOT, env=env,
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"bench: lighttpd ({name}) exited: {open(self.logpath).read()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        sys.exit(f"bench: lighttpd ({name}) did not start")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.logf.close()


def parse_wrk(text):
    r = {"rps": 0.0, "requests": 0, "non2xx": 0, "socket_errors": 0, "p50_ms": None, "p99_ms": None}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in", text)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r["socket_errors"] = sum(int(x) for x in m.groups())

    def ms(v, unit):
        return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
    for p in ("50", "99"):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
        if m:
            r[f"p{p}_ms"] = ms(*m.groups())
    r["threads"] = [dict(zip(("tid", "issued", "changed", "unchanged", "other"), map(int, m)))
                    for m in re.findall(r"thread (\d+) issued (\d+) changed (\d+) unchanged (\d+) other (\d+)",
                                        text)]
    return r


def responder_memory(exe):
    """Peak and current RSS (KiB) of the FastCGI responders running exe: [(pid, VmHWM, VmRSS)]."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{pid}/exe") != exe:
                continue
            with open(f"/proc/{pid}/status") as f:
                st = dict(l.split(":", 1) for l in f if ":" in l)
            out.append((int(pid), int(st["VmHWM"].split()[0]), int(st["VmRSS"].split()[0])))
        except (OSError, KeyError, ValueError):
            pass
    return out


def run_wrk(small, big, ship):
    static_dir = os.path.join(WORK, "static")
    os.makedirs(static_dir, exist_ok=True)
    p = subprocess.run([os.path.join(CGI_DIR, "notio", "get-sales")], capture_output=True,
                       env=dict(cgi_env(small, token=small.tokens["notio"]), PATH="/usr/bin:/bin"))
    with open(os.path.join(static_dir, "page.json"), "wb") as f:
        f.write(p.stdout.split(b"\r\n\r\n", 1)[-1])  # get-sales notio's page, served as a file
    servers = {
        "baseline": Lighttpd("baseline", BASELINE_CGI_DIR, small),
        "static": Lighttpd("static", CGI_DIR, small, static_dir=static_dir),
        "10k": Lighttpd("10k", CGI_DIR, small),
        "10k-fcgi": Lighttpd("10k-fcgi", CGI_DIR, small, mode="fastcgi"),
        "1M": Lighttpd("1M", CGI_DIR, big),
        "1M-fcgi": Lighttpd("1M-fcgi", CGI_DIR, big, mode="fastcgi"),
        "ship": Lighttpd("ship", CGI_DIR, ship),
        "ship-fcgi": Lighttpd("ship-fcgi", CGI_DIR, ship, mode="fastcgi"),
    }
    half = len(ship.wrk_ids) // 2
    ids_files = {"ship": _write_lines(os.path.join(WORK, "wrk-ship-ids.txt"), ship.wrk_ids[:half]),
                 "ship-fcgi": _write_lines(os.path.join(WORK, "wrk-ship-fcgi-ids.txt"), ship.wrk_ids[half:])}
    ids_files["baseline-post"] = ids_files["ship"]
    offsets = {"ship": 0, "ship-fcgi": 0, "baseline-post": 0}
    lua = os.path.join(ROOT, "bench", "ship.lua")

    def get(server, path, token):
        return [f"-H", f"Authorization: Bearer {token}", servers[server].url(path)]

    def post(server, path, token, key):
        return ["-s", lua, servers[server].url(path), "--", token, ids_files[key], str(offsets[key]),
                str(WRK_THREADS)]

    runs = [
        ("baseline GET", "baseline", lambda: get("baseline", "/api/notio/get-sales", "x")),
        ("static file (a page's size)", "static", lambda: [servers["static"].url("/page.json")]),
        ("get-sales notio 10k", "gs-10k", lambda: get("10k", "/api/notio/get-sales", small.tokens["notio"])),
        ("get-sales notio 10k FastCGI", "gs-10k-fcgi",
         lambda: get("10k-fcgi", "/api/notio/get-sales", small.tokens["notio"])),
        ("get-sales notio 1M", "gs-1M", lambda: get("1M", "/api/notio/get-sales", big.tokens["notio"])),
        ("get-sales notio 1M FastCGI", "gs-1M-fcgi",
         lambda: get("1M-fcgi", "/api/notio/get-sales", big.tokens["notio"])),
        ("get-sales asir-group cache HIT 1M", "gs-hit",
         lambda: get("1M", "/api/asir-group/get-sales", big.tokens["asir-group"])),
        ("get-sales asir-group cache HIT 1M FastCGI", "gs-hit-fcgi",
         lambda: get("1M-fcgi", "/api/asir-group/get-sales", big.tokens["asir-group"])),
        ("baseline POST", "baseline-post",
         lambda: post("baseline", "/api/notio/ship-sale", "x", "baseline-post")),
        ("ship-sale asir-group", "ship",
         lambda: post("ship", "/api/asir-group/ship-sale", ship.tokens["asir-group"], "ship")),
        ("ship-sale asir-group FastCGI", "ship-fcgi",
         lambda: post("ship-fcgi", "/api/asir-group/ship-sale", ship.tokens["asir-group"], "ship-fcgi")),
    ]
    results = {key: [] for _, key, _ in runs}
    names = {key: name for name, key, _ in runs}
    try:
        # Warm each server and the asir-group cache once.
        for name, key, args in runs:
            if key.startswith(("gs-", "baseline", "static")) and key != "baseline-post":
                subprocess.run(["wrk", "-t1", "-c1", "-d1s", *args()], capture_output=True)
        for rnd in range(WRK_ROUNDS):
            order = runs[rnd % len(runs):] + runs[:rnd % len(runs)]
            for name, key, args in order:
                cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{WRK_DURATION}s", "--latency", *args()]
                p = subprocess.run(cmd, capture_output=True, text=True)
                r = parse_wrk(p.stdout)
                if p.returncode != 0 or r["rps"] == 0:
                    log(f"WARNING: wrk {name} failed: {p.stdout}{p.stderr}")
                if key in offsets and r["threads"]:
                    offsets[key] += max(t["issued"] for t in r["threads"]) * WRK_THREADS
                results[key].append(r)
                extra = ""
                if r["threads"] and key.startswith("ship"):
                    extra = (f", changed {sum(t['changed'] for t in r['threads'])}, repeats "
                             f"{sum(t['unchanged'] for t in r['threads'])}")
                log(f"wrk round {rnd + 1}/{WRK_ROUNDS}: {name}: {r['rps']:.0f} req/s, "
                    f"non-2xx {r['non2xx']}, socket errors {r['socket_errors']}{extra}")
        memory = responder_memory(os.path.join(CGI_DIR, "notio", "get-sales"))
    finally:
        for s in servers.values():
            s.stop()
    summary = {}
    for key, rs in results.items():
        summary[key] = {
            "name": names[key],
            "rps": [r["rps"] for r in rs],
            "rps_median": statistics.median([r["rps"] for r in rs]) if rs else 0.0,
            "p50_ms": statistics.median([r["p50_ms"] for r in rs if r["p50_ms"] is not None] or [0]),
            "p99_ms": statistics.median([r["p99_ms"] for r in rs if r["p99_ms"] is not None] or [0]),
            "non2xx": sum(r["non2xx"] for r in rs),
            "socket_errors": sum(r["socket_errors"] for r in rs),
            "changed": sum(t["changed"] for r in rs for t in r["threads"]),
            "unchanged": sum(t["unchanged"] for r in rs for t in r["threads"]),
            "requests": sum(r["requests"] for r in rs),
        }
    # get-sales notio's responders of both FastCGI servers, after every round (warm-up included)
    summary["responders"] = {"processes": memory, "requests": summary["gs-10k-fcgi"]["requests"] +
                             summary["gs-1M-fcgi"]["requests"]}
    return summary


# ---------------------------------------------------------------- report

def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            model = m.group(1).strip() if m else "?"
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")}


def command_line():
    settings = " ".join(f"{k}={os.environ[k]}" for k in sorted(os.environ)
                        if k.startswith("BENCH_") and os.environ[k].strip())
    return (settings + " " if settings else "") + "make bench"


def verdict(ok):
    return "**met**" if ok else "**missed**"


def import_lines(n):
    """n JSON Lines of the import's required members only (no label): 100,000 of them fit in the 16 MiB
    the back office's import takes in one request."""
    return "".join(json.dumps({"increment_id": str(16000000000 + i // 2), "sale_product_id": i + 1,
                               "supplier": SUPPLIERS[i % 2], "sku": f"SKU-{i % 9973}", "quantity": 1 + i % 3,
                               "price": f"{10 + i % 500}.{i % 100:02d}", "order_date": "2025-06-01",
                               "carrier": "DPD"},
                              separators=(",", ":")) + "\n" for i in range(n)).encode()


class Receiver:
    """A webhook receiver on a loopback port: answers 204 to every POST (HTTP/1.1, connections kept), counts
    them and checks that the webhook-ids arrive in order."""

    def __init__(self):
        import http.server
        import threading
        rec = self
        self.count, self.ids, self.bytes = 0, [], 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                rec.count += 1
                rec.bytes += len(body)
                rec.ids.append(self.headers["webhook-id"])
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def run_events():
    """The back office's import of HTTP_IMPORT lines in one request through lighttpd (CGI), beside
    `menzzo-admin import` of the same lines; then deliver sending DELIVER of notio's events to a
    loopback receiver."""
    body = import_lines(HTTP_IMPORT)
    path = os.path.join(WORK, "http-import.jsonl")
    with open(path, "wb") as f:
        f.write(body)
    out = {"lines": HTTP_IMPORT, "bytes": len(body)}
    cli = Store("store-cli-import")
    shutil.rmtree(cli.dir, ignore_errors=True)
    os.makedirs(cli.dir)
    cli.admin("init")
    t = time.perf_counter()
    cli.admin("import", path)
    out["cli_s"] = time.perf_counter() - t
    st = Store("store-http-import")
    shutil.rmtree(st.dir, ignore_errors=True)
    os.makedirs(st.dir)
    st.admin("init")
    token = st.admin("token", "add", "--backoffice").stdout.strip().splitlines()[-1]
    server = Lighttpd("http-import", CGI_DIR, st)
    try:
        import urllib.request
        req = urllib.request.Request(server.url("/api/backoffice/import"), data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/x-ndjson"})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as r:
            answer = json.loads(r.read())
        out["http_s"] = time.perf_counter() - t
    finally:
        server.stop()
    out["created"] = answer.get("created")
    if answer.get("created") != HTTP_IMPORT:
        log(f"WARNING: the HTTP import answered {answer}")
    log(f"import of {HTTP_IMPORT:,} lines ({len(body) / 2**20:.1f} MiB): over HTTP {out['http_s']:.2f} s, "
        f"menzzo-admin import {out['cli_s']:.2f} s")
    os.unlink(path)

    rec = Receiver()
    try:
        # An endpoint added without --from starts at the feed's end: where the measured one starts from.
        st.admin("webhook", "add", "notio", f"http://127.0.0.1:{rec.port}/probe")
        probe = json.loads(st.admin("webhook", "list", "--json").stdout.splitlines()[0])
        st.admin("webhook", "remove", str(probe["id"]))
        frm = max(0, probe["last_delivered_seq"] - DELIVER)
        st.admin("webhook", "add", "notio", f"http://127.0.0.1:{rec.port}/hook", "--from", str(frm))
        t = time.perf_counter()
        p = st.admin("deliver", check=False)
        out["deliver_s"] = time.perf_counter() - t
    finally:
        rec.stop()
    out["delivered"] = rec.count
    out["deliver_bytes"] = rec.bytes
    out["in_order"] = rec.ids == [f"notio-{i}" for i in range(frm + 1, frm + 1 + rec.count)]
    if p.returncode != 0 or not out["in_order"]:
        log(f"WARNING: deliver exited {p.returncode}, in order: {out['in_order']}: {p.stderr.strip()}")
    log(f"deliver: {rec.count:,} events in {out['deliver_s']:.2f} s ({rec.count / out['deliver_s']:,.0f}/s)")
    return out


def report(mach, imports, direct, floor, wrk, elapsed, batches, fcgi_limit, stock, events=None):
    d = {r["name"]: r for r in direct}
    base = d["baseline (page)"]["median"]
    base_post = d["baseline (ship-sale body)"]["median"]
    lines = []
    w = lines.append
    w("# Menzzo Supplier API — benchmark results")
    w("")
    w(f"- command: `{command_line()}` (from the project root)")
    w(f"- date: {mach['date']}; wall time of the run: {elapsed / 60:.1f} min")
    w(f"- machine: {mach['nproc']} CPU(s), {mach['cpu']}, Linux {mach['kernel']}")
    w(f"- direct runs: {N} per variant, interleaved (one of each per round, in a new random order each round), "
      f"{WARMUP} warm-up runs each; wall time = posix_spawn → output read → wait4")
    if wrk:
        w(f"- lighttpd: `wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{WRK_DURATION}s`, {WRK_ROUNDS} rounds, "
          "the variants alternating within each round; figures are the median of the rounds")
    w("- every figure below is compared only with figures of this same run; "
      "the machine is shared, so absolute times vary from run to run")
    w("- where the time went when it was profiled, and what changed because of it: bench/PROFILE.md")
    w("")

    gs_default = [r for r in direct if r["kind"] == "gs-default"]
    worst_gs = max(r["median"] for r in gs_default) / base
    ratio_1m = {}
    for kind in ("gs-default", "gs-hit", "gs-date", "gs-cursor"):
        for r in direct:
            if r["kind"] == kind and r.get("store") == "1M":
                twin = d[r["name"].replace(" 1M", " 10k")]
                ratio_1m[r["name"]] = r["median"] / twin["median"]
    worst_1m = max(v for k, v in ratio_1m.items() if d[k]["kind"] == "gs-default")
    cgi_rss = [r for r in direct if not r["kind"].startswith("baseline")]
    worst_rss = max(r["rss_max"] for r in cgi_rss)
    imp_min = min(s["lines_per_s"] for s in imports.values())
    limit_cost = {r["twin"]: d[r["twin"]]["median"] / r["median"] for r in direct if r.get("twin")}
    worst_limit = max(limit_cost.values())
    best_limit = min(limit_cost.values())

    w("## Targets")
    w("")
    w("| target | figure (this run) | verdict |")
    w("|---|---|---|")
    w(f"| get-sales direct median ≤ 1.2× baseline | {worst_gs:.2f}× (worst uncached default listing) | "
      f"{verdict(worst_gs <= 1.2)} |")
    if wrk:
        gs_rps = min(wrk["gs-10k"]["rps_median"], wrk["gs-1M"]["rps_median"]) / wrk["baseline"]["rps_median"]
        ship_rps = wrk["ship"]["rps_median"] / wrk["baseline-post"]["rps_median"]
        w(f"| get-sales behind lighttpd ≥ 0.9× baseline req/s | {gs_rps:.2f}× (worse of 10k and 1M) | "
          f"{verdict(gs_rps >= 0.9)} |")
    w(f"| 1M-store get-sales within 1.1× of 10k store | {worst_1m:.2f}× (worst uncached default listing, "
      f"direct median) | {verdict(worst_1m <= 1.1)} |")
    if wrk:
        w(f"| ship-sale behind lighttpd ≥ 0.7× baseline req/s (fsync on) | {ship_rps:.2f}× | "
          f"{verdict(ship_rps >= 0.7)} |")
        fc = min(wrk["gs-10k-fcgi"]["rps_median"] / wrk["gs-10k"]["rps_median"],
                 wrk["gs-1M-fcgi"]["rps_median"] / wrk["gs-1M"]["rps_median"])
        p99 = max(wrk["gs-10k-fcgi"]["p99_ms"] / wrk["gs-10k"]["p99_ms"],
                  wrk["gs-1M-fcgi"]["p99_ms"] / wrk["gs-1M"]["p99_ms"])
        w(f"| get-sales FastCGI ≥ 10× get-sales CGI req/s (moonshot 20×) | {fc:.1f}× (worse of 10k and 1M) | "
          f"{verdict(fc >= 10)} |")
        w(f"| get-sales FastCGI p99 latency not worse than CGI | {p99:.2f}× of CGI's (worse of 10k and 1M) | "
          f"{verdict(p99 <= 1.0)} |")
    w(f"| import ≥ 100 000 lines/s | {imp_min:,.0f} lines/s (slowest import) | {verdict(imp_min >= 100000)} |")
    w(f"| peak RSS of every CGI ≤ 4 MB | {worst_rss / 1024:.1f} MiB (largest) | {verdict(worst_rss <= 4096)} |")
    w(f"| get-sales direct median, rate limit on vs off ≤ 5% apart | {(worst_limit - 1) * 100:+.1f}% "
      f"({max(limit_cost, key=limit_cost.get)}; best {(best_limit - 1) * 100:+.1f}%, "
      f"{min(limit_cost, key=limit_cost.get)}) | {verdict(worst_limit <= 1.05)} |")
    fl = {tag: fcgi_limit[(tag, "on")]["paired"] for tag in ("10k", "1M")}
    fworst = max(fl, key=fl.get)
    w(f"| get-sales FastCGI responder CPU per request, rate limit on vs off ≤ 5% apart | "
      f"{(fl[fworst] - 1) * 100:+.1f}% (notio {fworst}; {(min(fl.values()) - 1) * 100:+.1f}% on the other) | "
      f"{verdict(fl[fworst] <= 1.05)} |")
    if batches:
        b1, b2 = batches
        w(f"| acknowledge {BATCH}: one batch faster than {BATCH} single requests | {b1['median'] / b2['median']:.1f}× "
          f"({b1['median'] / 1e6:.1f} ms against {b2['median'] / 1e6:.1f} ms) | {verdict(b2['median'] < b1['median'])} |")
    w("")

    w("## Direct runs (CGI spawned with its environment)")
    w("")
    w("| variant | median ms | p99 ms | median / baseline | 1M / 10k | CPU ms | page faults | peak RSS KiB (max) "
      "| output bytes | checks |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for r in direct:
        b = base_post if r["kind"] in ("ship", "ack", "baseline-post") else base
        check = "ok" if not (r["bad"] or r["missing"]) else f"{r['bad']} bad, {r['missing']} unexpected"
        w(f"| {r['name']} | {r['median'] / 1e6:.3f} | {r['p99'] / 1e6:.3f} | {r['median'] / b:.2f}× | "
          f"{ratio_1m.get(r['name'], 0):.2f}× | {r['cpu_median'] / 1e3:.3f} | {r['flt_median']:.0f} | "
          f"{r['rss_max']} | {r['out']} | {check} |"
          .replace("| 0.00× |", "| |"))
    w("")
    w("Ratios of ship-sale and acknowledge-sale are to the baseline reading the same body and writing a "
      "ship-sale-sized answer; get-sales, files and health are compared with the baseline writing a full "
      "page (100 items, about 27 KB). `checks`: every run answered 200, exited 0 and carried the expected "
      "marker (a listing item, `X-Cache: HIT`, `\"changed\":true` — each ship/acknowledge run changed a "
      "different pending sale product). CPU ms and page faults: medians of the child's user + system time "
      "and minor faults (wait4).")
    w(f"Peak RSS is wait4's ru_maxrss. It starts from the RSS of the spawner the child was spawned from "
      f"(its VmHWM: {floor} KiB, a static binary), so that is the floor of every figure; the baseline sits "
      "near it.")
    w("")

    w("## The rate limit's cost (direct runs, same run)")
    w("")
    w("| variant | limit on: median ms | limit off: median ms | on / off |")
    w("|---|---|---|---|")
    for name, ratio in limit_cost.items():
        off = [r for r in direct if r.get("twin") == name][0]
        w(f"| {name} | {d[name]['median'] / 1e6:.3f} | {off['median'] / 1e6:.3f} | {ratio:.3f}× "
          f"({(ratio - 1) * 100:+.1f}%) |")
    w("")
    w(f"On: `MENZZO_RATE_LIMIT={RATE_LIMIT_ON}`, the work of the default (one compare-and-swap of the token's "
      "bucket in the shared-state file) with a bucket the bench never empties; off: `MENZZO_RATE_LIMIT=0`. "
      "Both map the shared-state file, where every request is counted for /api/metrics: what that costs is "
      "in the ratios to the baseline above (compare them with an earlier run's).")
    w("")
    w("## The rate limit's cost in a FastCGI responder (same run)")
    w("")
    w("| variant | limit on: responder CPU µs / request | limit off | on / off, all rounds | on / off, median of the rounds | client wall µs / request, on | off |")
    w("|---|---|---|---|---|---|---|")
    for tag in ("10k", "1M"):
        on, off = fcgi_limit[(tag, "on")], fcgi_limit[(tag, "off")]
        w(f"| get-sales notio {tag} | {on['cpu_us']:.1f} | {off['cpu_us']:.1f} | {on['cpu_us'] / off['cpu_us']:.3f}× "
          f"({(on['cpu_us'] / off['cpu_us'] - 1) * 100:+.1f}%) | {on['paired']:.3f}× ({(on['paired'] - 1) * 100:+.1f}%) "
          f"| {on['wall_us']:.0f} | {off['wall_us']:.0f} |")
    w("")
    w(f"Responders of notio's get-sales (10k and 1M stores, limit on and off), started as a web server "
      f"starts one (a listening socket as standard input): {FCGI_ROUNDS} rounds, in each a fresh responder "
      f"of every variant warmed with 200 requests, then sent {FCGI_REQUESTS:,} each, the four taking their "
      "requests in turn (one at a time); CPU: the time the responder ran "
      "(/proc/PID/schedstat) over all rounds, divided by the requests; wall: the median over the rounds of the "
      "client's time per request (a Python client, one connection per request, so most of it is the client's). "
      "The target is judged on the median of the rounds' on / off ratios (the responders of a round took "
      "their requests in turn, so what the shared machine does meanwhile falls on both sides of a ratio). "
      "A responder maps the shared-state file once (for the counters of /api/metrics, limit on or off): what "
      "the limit costs each request is one compare-and-swap and its two header fields.")
    w("")
    if batches:
        w(f"## Batches: acknowledge-sale of {BATCH} sale products (direct runs, same run)")
        w("")
        w("| variant | median ms (all of it) | CPU ms | durable commits (fdatasync + fsync + msync) | checks |")
        w("|---|---|---|---|---|")
        for r in batches:
            check = "ok" if not (r["bad"] or r["missing"]) else f"{r['bad']} bad, {r['missing']} unexpected"
            commits = "–" if r["commits"] is None else str(r["commits"])
            w(f"| {r['name']} | {r['median'] / 1e6:.1f} | {r['cpu_median'] / 1e3:.1f} | {commits} | {check} |")
        w("")
        w(f"Each run changes {BATCH} different pending sale products (fsync on): the single requests as "
          f"{BATCH} spawns one after the other (their wall times summed), the batch as one spawn with "
          f"`{{\"items\": [...]}}`; {BATCH_ROUNDS} rounds, interleaved. Commits were counted on one more run "
          "of each with `strace -f -c -e trace=fdatasync,fsync,msync` (the singles: one request's count times "
          f"{BATCH}).")
        w("")
    if stock:
        singles, one = stock
        page, sales = d["get-stock notio 10k (page of 100)"], d["get-sales notio 10k"]
        w("## Stock (direct runs, same run)")
        w("")
        w("| variant | median ms (all of it) | CPU ms | µs per SKU | checks |")
        w("|---|---|---|---|---|")
        for r in stock:
            check = "ok" if not (r["bad"] or r["missing"]) else f"{r['bad']} bad, {r['missing']} unexpected"
            w(f"| {r['name']} | {r['median'] / 1e6:.1f} | {r['cpu_median'] / 1e3:.1f} | "
              f"{r['median'] / 1e3 / STOCK_SKUS:.1f} | {check} |")
        w("")
        w(f"One request of {STOCK_SKUS:,} SKUs against {STOCK_SKUS:,} single-SKU requests: "
          f"{singles['median'] / one['median']:.1f}× faster (ratio of the medians; "
          f"{singles['paired']:.1f}×, the median of the rounds' ratios).")
        w("")
        w("| variant | median ms | p99 ms | CPU ms | peak RSS KiB (max) | output bytes | median / baseline |")
        w("|---|---|---|---|---|---|---|")
        for r in (page, sales):
            w(f"| {r['name']} | {r['median'] / 1e6:.3f} | {r['p99'] / 1e6:.3f} | {r['cpu_median'] / 1e3:.3f} | "
              f"{r['rss_max']} | {r['out']} | {r['median'] / base:.2f}× |")
        w("")
        w(f"get-stock's page of 100 against get-sales notio's page of 100, same store (10k): "
          f"{page['median'] / sales['median']:.2f}× the time (direct medians, the two among the interleaved "
          "direct runs above).")
        w("")
        w(f"Writes: notio's update-stock in the 10k store, fsync on, on the same {STOCK_SKUS:,} SKUs (each item "
          "its `sku` and `quantity`: the one request's body is about 40 KB); the singles as "
          f"{STOCK_SKUS:,} spawns one after the other (their wall times summed), the one request as one spawn; "
          f"{STOCK_ROUNDS} rounds, interleaved (+1 warm-up). Every run gives each SKU a quantity it did not have "
          "(`checks`: every request of one SKU answered `\"updated\":1`, every request of all of them "
          f"`\"updated\":{STOCK_SKUS}`), so every request writes its SKUs and a `stock.updated` event. "
          f"Reads: before the direct runs, one update-stock request gave notio {STOCK_SKUS:,} SKUs in the 10k "
          "store; get-stock without a parameter answers the first 100 by SKU (and a Link to the next page), "
          "get-sales without a parameter notio's first 100 open sale products.")
        w("")
    if wrk:
        w("## Behind lighttpd (wrk)")
        w("")
        w("| variant | req/s (median) | req/s per round | / baseline | latency p50 ms | p99 ms | non-2xx | socket errors |")
        w("|---|---|---|---|---|---|---|---|")
        for key in ("baseline", "static", "gs-10k", "gs-10k-fcgi", "gs-1M", "gs-1M-fcgi", "gs-hit", "gs-hit-fcgi",
                    "baseline-post", "ship", "ship-fcgi"):
            r = wrk[key]
            b = wrk["baseline-post" if key.startswith(("ship", "baseline-post")) else "baseline"]["rps_median"]
            w(f"| {r['name']} | {r['rps_median']:.0f} | {' / '.join(f'{x:.0f}' for x in r['rps'])} | "
              f"{r['rps_median'] / b:.2f}× | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['non2xx']} | "
              f"{r['socket_errors']} |")
        w("")
        s, sf = wrk["ship"], wrk["ship-fcgi"]
        w(f"ship-sale requests each named a different pending sale product while the pool lasted: "
          f"{s['changed']} real shipments as CGI and {sf['changed']} as FastCGI (fsync on), "
          f"{s['unchanged'] + sf['unchanged']} repeats of already-shipped ones "
          f"(200, `\"changed\": false`, no write). The baseline servers run the project's own "
          "lighttpd.conf with CGI_DIR pointing at copies of the baseline CGI, so routing, setenv and "
          "limits are identical and only the executable differs. FastCGI rows: the same lighttpd.conf with "
          f"MENZZO_MODE=fastcgi, {FASTCGI_PROCS} responder(s) per executable; the static file is "
          "get-sales notio's page written to a file and served by lighttpd (document root, same server "
          "settings).")
        w("")
        mem = wrk["responders"]
        if mem["processes"]:
            w(f"get-sales notio's FastCGI responders after {mem['requests']:,} requests (all rounds, "
              f"{len(mem['processes'])} processes of the 10k and 1M servers): peak RSS (VmHWM) "
              f"{', '.join(str(p[1]) for p in mem['processes'])} KiB; RSS at the end "
              f"{', '.join(str(p[2]) for p in mem['processes'])} KiB.")
            w("")

    w("## Change feeds and webhooks (same run)")
    w("")
    w("| variant | median ms | / get-sales' page (same store) |")
    w("|---|---|---|")
    for tag in ("10k", "1M"):
        ev, gs = d[f"get-events notio {tag} (page of 100)"], d[f"get-sales notio {tag}"]
        w(f"| get-events notio {tag}, page of 100 (`after=1000&limit=100`) | {ev['median'] / 1e6:.2f} | "
          f"{ev['median'] / gs['median']:.2f}× ({gs['median'] / 1e6:.2f} ms) |")
    w("")
    if events:
        e = events
        w(f"- The back office's import over HTTP, one request through lighttpd (CGI): {e['lines']:,} lines "
          f"({e['bytes'] / 2**20:.1f} MiB, the import's required members only) in {e['http_s']:.2f} s; "
          f"`menzzo-admin import` of the same lines into another new store: {e['cli_s']:.2f} s "
          f"({e['http_s'] / e['cli_s']:.2f}×). Created: {e['created']:,}.")
        w(f"- `menzzo-admin deliver` to a receiver on loopback (Python's http.server answering 204, one "
          f"connection kept): {e['delivered']:,} of notio's events in {e['deliver_s']:.2f} s, "
          f"**{e['delivered'] / e['deliver_s']:,.0f} events/s** (one signed POST an event, where the endpoint stands "
          f"written at least every 100 ms), {e['deliver_bytes'] / max(e['delivered'], 1):,.0f} bytes a body, "
          f"{'in order' if e['in_order'] else 'NOT in order'}.")
        w("")
    w("## Import (`bin/menzzo-admin import FILE`, one transaction)")
    w("")
    w("| store | lines | seconds | lines/s | note |")
    w("|---|---|---|---|---|")
    for name, s in imports.items():
        note = f"measured when the store was built ({s['when']}); reused since" if s.get("reused") else "this run"
        w(f"| {name} | {s['lines']:,} | {s['seconds']:.2f} | {s['lines_per_s']:,.0f} | {note} |")
    w("")
    w("Stores: 10k = 10 % shipped, the rest open; 1M = 99 % shipped; ship pool = all pending. Orders of "
      "1–3 sale products over the days of 2025, suppliers mixed (asir-group 55 %, notio 45 %), open ones "
      "spread over the whole year (bench/gen.c).")
    w(f"Queries: default = no parameter (open, page 1); date filter = `{DATE_QUERY}`; deep cursor = "
      "`last_menzzo_order_number` of the 101st-last open sale product (a full last page).")
    w("")
    return "\n".join(lines)


def main():
    t0 = time.perf_counter()
    os.makedirs(WORK, exist_ok=True)
    for exe in (ADMIN, SPAWN, GEN, os.path.join(BUILD, "baseline")):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench: {exe} is missing; run `make bench`")
    # The baseline, installed under every program's name, with the routes file (copies: lighttpd follows no
    # symlink, and tools/lighttpd-env.sh maps what the routes name).
    routes = os.path.join(CGI_DIR, "routes")
    for line in open(routes):
        program = os.path.join(BASELINE_CGI_DIR, line.split("\t")[0])
        os.makedirs(os.path.dirname(program), exist_ok=True)
        shutil.copy2(os.path.join(BUILD, "baseline"), program)
    shutil.copy2(routes, os.path.join(BASELINE_CGI_DIR, "routes"))

    mach = machine()
    small = Store("store-10k")
    small.build(SMALL, 100, 300, 1)
    small.load_open()
    seed_stock(small)
    big = big_store()
    ship = Store("store-ship")
    ship.build(SHIP_POOL, 0, 0, 3)
    ship.load_open()
    imports = {f"10k ({SMALL:,} lines)": small.import_stats, f"1M ({BIG:,} lines)": big.import_stats,
               f"ship pool ({SHIP_POOL:,} pending lines)": ship.import_stats}

    direct, floor = run_direct(small, big, ship)
    batches = run_batches(ship)
    stock = run_stock_writes(small)
    fcgi_limit = run_responder_limit(small, big)
    events = run_events()
    wrk = None if SKIP_WRK else run_wrk(small, big, ship)
    text = report(mach, imports, direct, floor, wrk, time.perf_counter() - t0, batches, fcgi_limit, stock, events)
    with open(RESULTS, "w") as f:
        f.write(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
