#!/usr/bin/env python3
"""make bench-profile: where a CGI's time, instructions and memory go.

Runs on the stores `make bench` left in bench/work/ and on link prototypes
built from the same objects (build/opt/libmenzzo.a) in build/bench/proto/:
  staticlibs  json-c, LMDB and libsodium linked statically, libc dynamic
  static      everything static (-static)
The project's own executables are not changed.  Writes bench/PROFILE.md.

1. Wall time by stage (interleaved spawns, like `make bench`): each stage
   stops a request earlier, so differences between neighbouring stages are
   the cost of one step: exec and libraries (405 before the store opens),
   opening the store (401 without a token), checking a token (401 with a
   wrong one), an empty listing, a full page of 100 items.  The same for the
   prototypes, and ship-sale with and without fsync (an LD_PRELOAD shim,
   measurement only).
2. Instruction counts (valgrind --tool=callgrind; repeatable here), by
   library and by step.
3. Dynamic loader statistics (LD_DEBUG=statistics), syscalls (strace -c),
   resident memory by mapping (an LD_PRELOAD shim reading /proc/self/smaps
   just before the store is closed).
4. The import: instructions per line by step.

Settings: BENCH_N (300) runs per variant.
"""
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (same directory)

ROOT, WORK, BUILD = bench.ROOT, bench.WORK, bench.BUILD
PROTO = os.path.join(BUILD, "proto")
PROF = os.path.join(WORK, "profile")
OUT = os.path.join(ROOT, "bench", "PROFILE.md")
N = bench.setting("BENCH_N", 300)
EMPTY_QUERY = "date_from=2030-01-01"
SPARE = 10  # pending sale products kept for the single ship-sale runs (callgrind, strace)
STAGES = []


def log(msg):
    print(f"profile: {msg}", flush=True)


def load_store(name):
    st = bench.Store(name)
    try:
        with open(os.path.join(st.dir, "tokens.json")) as f:
            st.tokens = json.load(f)
    except OSError:
        sys.exit(f"profile: {st.dir} is missing; run `make bench` first")
    return st


def exe(kind, supplier, endpoint):
    if kind == "dynamic":
        return os.path.join(bench.CGI_DIR, supplier, endpoint)
    return os.path.join(PROTO, kind, supplier, endpoint)


# ---------------------------------------------------------------- 1. wall time by stage

def spawn(variants, rounds, tag):
    plan = os.path.join(PROF, f"{tag}.plan")
    bench.write_plan(plan, variants)
    p = subprocess.run([bench.SPAWN, "-w", "5", "-e", os.path.join(PROF, f"{tag}-stderr.log"), plan, str(rounds)],
                       capture_output=True, text=True, check=True)
    res = collections.OrderedDict((v["name"], {"wall": [], "cpu": [], "rss": [], "flt": [], "bad": 0})
                                  for v in variants)
    expect = {v["name"]: v.get("status", 200) for v in variants}
    for line in p.stdout.splitlines():
        if line.startswith("#"):
            continue
        name, _, ns, rss, http, code, found, nbytes, cpu_us, minflt = line.split("\t")
        r = res[name]
        r["wall"].append(int(ns) / 1e6)
        r["cpu"].append(int(cpu_us) / 1e3)
        r["rss"].append(int(rss))
        r["flt"].append(int(minflt))
        if int(http) != expect[name]:
            r["bad"] += 1
    for name, r in res.items():
        for k in ("wall", "cpu", "rss", "flt"):
            r[k + "_med"] = statistics.median(r[k])
        if r["bad"]:
            log(f"WARNING: {name}: {r['bad']} run(s) answered another status than {expect[name]}")
    return res


def stage_variants(small, big):
    """Each variant names the one it extends ("ref"): the difference is the cost of one step."""
    base = os.path.join(bench.BASELINE_CGI_DIR, "notio", "get-sales")
    v = [dict(name="baseline", exe=base, arg0=base, env=bench.cgi_env(small)),
         dict(name="baseline static", exe=os.path.join(PROTO, "baseline-static", "get-sales"),
              arg0=os.path.join(PROTO, "baseline-static", "get-sales"), env=bench.cgi_env(small), ref="baseline")]
    for kind in ("dynamic", "staticlibs", "static"):
        gs = exe(kind, "notio", "get-sales")
        tok = small.tokens["notio"]
        k = kind + ": "
        v += [
            dict(name=k + "405 (exec, libraries, config)", exe=gs, env=bench.cgi_env(small, "POST"), status=405,
                 ref="baseline"),
            dict(name=k + "401 no token (+ open store)", exe=gs, env=bench.cgi_env(small), status=401,
                 ref=k + "405 (exec, libraries, config)"),
            dict(name=k + "401 bad token (+ token check)", exe=gs,
                 env=bench.cgi_env(small, token="mzk_" + "A" * 43), status=401, ref=k + "401 no token (+ open store)"),
            dict(name=k + "empty listing 10k", exe=gs, env=bench.cgi_env(small, query=EMPTY_QUERY, token=tok),
                 ref=k + "401 bad token (+ token check)"),
            dict(name=k + "full page 10k", exe=gs, env=bench.cgi_env(small, token=tok), ref=k + "empty listing 10k"),
            dict(name=k + "empty listing 1M", exe=gs,
                 env=bench.cgi_env(big, query=EMPTY_QUERY, token=big.tokens["notio"]),
                 ref=k + "401 bad token (+ token check)"),
            dict(name=k + "full page 1M", exe=gs, env=bench.cgi_env(big, token=big.tokens["notio"]),
                 ref=k + "empty listing 1M"),
            dict(name=k + "cache HIT 1M (asir-group)", exe=exe(kind, "asir-group", "get-sales"),
                 env=bench.cgi_env(big, token=big.tokens["asir-group"]), ref=k + "401 bad token (+ token check)"),
        ]
        if kind == "dynamic":
            v.append(dict(name=k + "full page 1M, MDB_NORDAHEAD (shim)", exe=gs,
                          env=dict(bench.cgi_env(big, token=big.tokens["notio"]),
                                   LD_PRELOAD=os.path.join(PROTO, "shim_nordahead.so")),
                          ref=k + "full page 1M"))
    for lib in ("lmdb", "json-c", "sodium"):
        gs = exe(f"only-{lib}-static", "notio", "get-sales")
        v.append(dict(name=f"only lib{lib} static: 405", exe=gs,
                      env=bench.cgi_env(small, "POST"), status=405, ref="dynamic: 405 (exec, libraries, config)"))
    return v


def ship_variants(ship, per):
    """ship-sale variants, each on its own ids; the repeat variant on ids shipped beforehand."""
    ids = [f"{r[2]}_{r[3]}" for r in ship.open_of("asir-group")]
    chunks = [ids[i * per:(i + 1) * per] for i in range(4)]
    ct = {"CONTENT_TYPE": "application/json"}
    env = bench.cgi_env(ship, "POST", token=ship.tokens["asir-group"], extra=ct)
    ship_exe = exe("dynamic", "asir-group", "ship-sale")
    pre = [dict(name="pre-ship", exe=ship_exe, env=env, bodies=bodies("pre", chunks[3]))]
    bench.write_plan(os.path.join(PROF, "pre.plan"), pre)
    subprocess.run([bench.SPAWN, os.path.join(PROF, "pre.plan"), str(per)], capture_output=True, check=True)
    base = os.path.join(bench.BASELINE_CGI_DIR, "notio", "ship-sale")
    nosync = dict(env, LD_PRELOAD=os.path.join(PROTO, "shim_nosync.so"))
    return [
        dict(name="baseline (POST)", exe=base, arg0=base, env=bench.cgi_env(ship, "POST", extra=ct),
             bodies=bodies("baseline", chunks[0])),
        dict(name="ship-sale dynamic", exe=ship_exe, env=env, bodies=bodies("dynamic", chunks[0])),
        dict(name="ship-sale static", exe=exe("static", "asir-group", "ship-sale"), env=env,
             bodies=bodies("static", chunks[1])),
        dict(name="ship-sale dynamic, fsync off (shim)", exe=ship_exe, env=nosync, bodies=bodies("nosync", chunks[2])),
        dict(name="ship-sale repeat (already shipped: no write)", exe=ship_exe, env=env,
             bodies=bodies("repeat", chunks[3])),
    ]


def bodies(tag, ids):
    return bench._write_lines(os.path.join(PROF, f"bodies-{tag}.txt"),
                              [json.dumps({"menzzo_order_id": i}) for i in ids])


def run_wrk(small, ship, per):
    """get-sales 10k and ship-sale behind lighttpd: the deployed link, the static prototype, the baseline."""
    rounds = 2
    log(f"behind lighttpd: wrk -t{bench.WRK_THREADS} -c{bench.WRK_CONNECTIONS} -d{bench.WRK_DURATION}s, "
        f"{rounds} rounds")
    ids = [f"{r[2]}_{r[3]}" for r in ship.open_of("asir-group")][per * 4:-SPARE]
    ids_file = bench._write_lines(os.path.join(PROF, "wrk-ids.txt"), ids)
    lua = os.path.join(ROOT, "bench", "ship.lua")
    servers = {}
    try:
        servers = {
            "baseline": bench.Lighttpd("profile-baseline", bench.BASELINE_CGI_DIR, ship),
            "dynamic 10k": bench.Lighttpd("profile-dyn-10k", bench.CGI_DIR, small),
            "static 10k": bench.Lighttpd("profile-static-10k", os.path.join(PROTO, "static"), small),
            "dynamic ship": bench.Lighttpd("profile-dyn-ship", bench.CGI_DIR, ship),
            "static ship": bench.Lighttpd("profile-static-ship", os.path.join(PROTO, "static"), ship),
        }
        offset = [0]

        def get(server, tok):
            return ["-H", f"Authorization: Bearer {tok}", servers[server].url("/api/notio/get-sales")]

        def post(server, path, tok):
            return ["-s", lua, servers[server].url(path), "--", tok, ids_file, str(offset[0]),
                    str(bench.WRK_THREADS)]
        runs = [
            ("baseline GET", lambda: get("baseline", "x")),
            ("get-sales 10k dynamic", lambda: get("dynamic 10k", small.tokens["notio"])),
            ("get-sales 10k static", lambda: get("static 10k", small.tokens["notio"])),
            ("baseline POST", lambda: post("baseline", "/api/notio/ship-sale", "x")),
            ("ship-sale dynamic", lambda: post("dynamic ship", "/api/asir-group/ship-sale", ship.tokens["asir-group"])),
            ("ship-sale static", lambda: post("static ship", "/api/asir-group/ship-sale", ship.tokens["asir-group"])),
        ]
        res = collections.OrderedDict((n, []) for n, _ in runs)
        for rnd in range(rounds):
            for name, args in runs[rnd % len(runs):] + runs[:rnd % len(runs)]:
                p = subprocess.run(["wrk", f"-t{bench.WRK_THREADS}", f"-c{bench.WRK_CONNECTIONS}",
                                    f"-d{bench.WRK_DURATION}s", *args()], capture_output=True, text=True)
                r = bench.parse_wrk(p.stdout)
                if r["threads"] and "baseline" not in name:
                    offset[0] += max(t["issued"] for t in r["threads"]) * bench.WRK_THREADS
                res[name].append(r)
                log(f"  {name}: {r['rps']:.0f} req/s, non-2xx {r['non2xx']}")
    finally:
        for s in servers.values():
            s.stop()
    return res


# ---------------------------------------------------------------- 2. callgrind

KEY_FUNCS = [
    ("_dl_start", "dynamic loader before main (map, relocate)"),
    ("_dl_fixup", "lazy symbol binding"),
    ("sodium_init", "sodium_init"),
    ("config_load", "config_load"),
    ("store_open", "store_open (env create/open, reader check, 8 dbi opens)"),
    ("mdb_env_open", "  mdb_env_open"),
    ("mdb_reader_check", "  mdb_reader_check"),
    ("mdb_dbi_open", "  mdb_dbi_open ×8"),
    ("auth_check", "auth_check (BLAKE2b, token lookup)"),
    ("listing_run", "listing_run (whole page)"),
    ("store_listing_scan", "  index scan + 100 record reads/decodes"),
    ("store_sale_get", "  of which record reads (mdb_get + decode)"),
    ("sale_item_json", "  building 100 json-c objects"),
    ("json_object_to_json_string_length", "  serialising them (json-c)"),
    ("json_object_put", "  freeing them (json-c)"),
    ("cache_open", "cache_open"),
    ("cache_get", "cache_get"),
    ("response_send", "response_send"),
    ("sale_apply", "sale_apply (ship: read, write txn, commit)"),
    ("write_log", "  sale-log JSON"),
    ("write_event", "  event JSON"),
    ("mdb_txn_commit", "  mdb_txn_commit"),
]


def callgrind(name, argv, env, stdin=b""):
    out = os.path.join(PROF, f"callgrind.{name}")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv], env=env, input=stdin,
                   capture_output=True, check=False)
    incl = subprocess.run(["callgrind_annotate", "--auto=no", "--inclusive=yes", "--threshold=100", out],
                          capture_output=True, text=True).stdout
    self_ = subprocess.run(["callgrind_annotate", "--auto=no", "--inclusive=no", "--threshold=100", out],
                           capture_output=True, text=True).stdout
    total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", incl).group(1).replace(",", ""))
    funcs = {}
    for m in re.finditer(r"^\s*([\d,]+) \([\d. ]+%\)\s+(\S+?):(\S+)(?: \[(.*)\])?$", incl, re.M):
        fn = re.sub(r"\.(isra|constprop|part|cold)\..*$", "", m.group(3).split("'")[0])
        funcs.setdefault(fn, int(m.group(1).replace(",", "")))
    objs = collections.Counter()
    for m in re.finditer(r"^\s*([\d,]+) \([\d. ]+%\)\s+(\S+?):(\S+)(?: \[(.*)\])?$", self_, re.M):
        n = int(m.group(1).replace(",", ""))
        objs[classify(m.group(2), m.group(3), m.group(4) or "")] += n
    return {"total": total, "funcs": funcs, "objs": objs}


def classify(file, fn, obj):
    """The library a function belongs to; in a static executable, by its name."""
    o = os.path.basename(obj)
    if "/proto/static/" in obj and file == "???":
        if re.match(r"(json_|lh_|printbuf_|array_list_)", fn):
            return "json-c"
        if fn.startswith("mdb_"):
            return "LMDB"
        if re.match(r"(sodium_|crypto_|randombytes|blake2b|_sodium)", fn):
            return "libsodium"
        if fn.startswith("0x"):
            return "other / unattributed"
        return "libc (malloc, stdio, string)"
    if "ld-linux" in o or (not obj and file.startswith("./elf/")):
        return "dynamic loader (ld.so)"
    if o.startswith("libjson-c") or re.match(r"(json_|lh_|printbuf_|array_list_)", fn):
        return "json-c"
    if o.startswith("liblmdb") or fn.startswith("mdb_"):
        return "LMDB"
    if o.startswith("libsodium") or re.match(r"(sodium_|crypto_|randombytes|blake2b)", fn):
        return "libsodium"
    if o.startswith("libc") or file.startswith("./") or (not obj and fn.startswith("_")):
        return "libc (malloc, stdio, string)"
    rel = file[len(ROOT) + 1:] if file.startswith(ROOT + "/") else file
    if rel.startswith(("lib/", "cgi-bin/", "tools/", "bench/")):
        return "project code (lib/, cgi-bin/)"
    return "other / unattributed"


# ---------------------------------------------------------------- 3. loader, syscalls, smaps

def ld_statistics(path, env):
    p = subprocess.run([path], env=dict(env, LD_DEBUG="statistics"), capture_output=True, text=True)
    stats = {}
    for key, pat in (("startup_cycles", r"total startup time in dynamic loader: (\d+) cycles"),
                     ("relocation_cycles", r"time needed for relocation: (\d+) cycles"),
                     ("relocations", r"final number of relocations: (\d+)"),
                     ("relative", r"number of relative relocations: (\d+)"),
                     ("load_cycles", r"time needed to load objects: (\d+) cycles")):
        m = re.search(pat, p.stderr)
        stats[key] = int(m.group(1)) if m else None
    return stats


def strace_counts(path, env, stdin=b""):
    out = os.path.join(PROF, "strace.txt")
    subprocess.run(["strace", "-f", "-c", "-o", out, path], env=env, input=stdin, capture_output=True)
    counts = collections.Counter()
    with open(out) as f:
        for line in f:
            m = re.match(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
            if m and m.group(2) != "total":
                counts[m.group(2)] = int(m.group(1))
    return counts


def smaps(path, env):
    out = os.path.join(PROF, "smaps.txt")
    if os.path.exists(out):
        os.unlink(out)
    subprocess.run([path], env=dict(env, LD_PRELOAD=os.path.join(PROTO, "shim_smaps.so"), SHIM_SMAPS_OUT=out),
                   capture_output=True)
    groups = collections.Counter()
    with open(out) as f:
        for line in f:
            if line.startswith("--"):
                break
            kb, name = line.rstrip("\n").split("\t", 1)
            if name.endswith("data.mdb"):
                g = "store map (data.mdb)"
            elif name.endswith("lock.mdb"):
                g = "lock.mdb"
            elif "shim_smaps" in name:
                continue
            elif name.startswith("/usr/lib") or name.startswith("/lib"):
                g = os.path.basename(name).split(".so")[0] + " (shared library)"
            elif name in ("[heap]", "[anon]", "[stack]"):
                g = "private: heap, stack, anonymous"
            else:
                g = "the executable" if name.startswith(ROOT) else name
            groups[g] += int(kb)
    return groups


# ---------------------------------------------------------------- report

def fmt_ms(x):
    return f"{x:.3f}"


def main():
    t0 = time.perf_counter()
    os.makedirs(PROF, exist_ok=True)
    small, big = load_store("store-10k"), load_store("store-1m")
    # A ship-sale store of its own, so that every run ships a pending sale product.
    ship = bench.Store("profile/store-ship")
    per = N + 5
    ship.build(max(60000, per * 4 * 2 + 100), 0, 0, 5)
    ship.load_open()

    log(f"wall time by stage: {N} interleaved runs per variant")
    STAGES[:] = stage_variants(small, big)
    stages = spawn(STAGES, N, "stages")
    log("ship-sale with and without fsync")
    ships = spawn(ship_variants(ship, per), N, "ship")

    wrk = None if bench.SKIP_WRK else run_wrk(small, ship, per)

    log("callgrind")
    env10k = bench.cgi_env(small, token=small.tokens["notio"])
    env1m = bench.cgi_env(big, token=big.tokens["notio"])
    base = os.path.join(bench.BASELINE_CGI_DIR, "notio", "get-sales")
    cg = collections.OrderedDict()
    cg["baseline"] = callgrind("baseline", [base], bench.cgi_env(small))
    cg["get-sales 405 (dynamic)"] = callgrind("gs405", [exe("dynamic", "notio", "get-sales")],
                                              bench.cgi_env(small, "POST"))
    cg["get-sales 10k (dynamic)"] = callgrind("gs10k", [exe("dynamic", "notio", "get-sales")], env10k)
    cg["get-sales 1M (dynamic)"] = callgrind("gs1m", [exe("dynamic", "notio", "get-sales")], env1m)
    cg["get-sales 1M (static)"] = callgrind("gs1m-static", [exe("static", "notio", "get-sales")], env1m)
    hit_env = bench.cgi_env(big, token=big.tokens["asir-group"])
    subprocess.run([exe("dynamic", "asir-group", "get-sales")], env=hit_env, capture_output=True)  # fill the cache
    cg["get-sales 1M cache HIT (dynamic)"] = callgrind("gshit", [exe("dynamic", "asir-group", "get-sales")], hit_env)
    spare = [f"{r[2]}_{r[3]}" for r in ship.open_of("asir-group")][-SPARE:]
    body = json.dumps({"menzzo_order_id": spare[0]}).encode()
    ship_env = bench.cgi_env(ship, "POST", token=ship.tokens["asir-group"],
                             extra={"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))})
    cg["ship-sale (dynamic)"] = callgrind("ship", [exe("dynamic", "asir-group", "ship-sale")], ship_env, body)

    log("page rendering three ways (jsonbench)")
    render = collections.OrderedDict()
    jb = os.path.join(PROTO, "jsonbench")
    check = subprocess.run([jb], capture_output=True, text=True).stdout.strip()
    for fn in ("render_current", "render_flags", "render_direct"):
        out = os.path.join(PROF, f"callgrind.{fn}")
        subprocess.run(["valgrind", "--tool=callgrind", f"--toggle-collect={fn}", f"--callgrind-out-file={out}", jb],
                       capture_output=True)
        a = subprocess.run(["callgrind_annotate", "--auto=no", out], capture_output=True, text=True).stdout
        render[fn] = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", a).group(1).replace(",", ""))
    render["check"] = check

    log("import under callgrind (2 000 lines)")
    imp = bench.Store("profile/store-import")
    shutil.rmtree(imp.dir, ignore_errors=True)
    os.makedirs(imp.dir)
    jsonl = os.path.join(imp.dir, "import.jsonl")
    subprocess.run([bench.GEN, "-n", "2000", "-p", "990", "-s", "7", "-o", jsonl, "-O",
                    os.path.join(imp.dir, "open.tsv")], check=True)
    imp.admin("init")
    cg_import = callgrind("import", [bench.ADMIN, "import", jsonl], imp.env)

    log("loader statistics, syscalls, resident memory")
    ld = {"baseline": ld_statistics(base, bench.cgi_env(small)),
          "get-sales": ld_statistics(exe("dynamic", "notio", "get-sales"), env10k)}
    sc = syscalls(base, small, env10k, ship_env, spare)
    mem = collections.OrderedDict()
    mem["get-sales 10k"] = smaps(exe("dynamic", "notio", "get-sales"), env10k)
    mem["get-sales 1M"] = smaps(exe("dynamic", "notio", "get-sales"), env1m)

    text = report(stages, ships, wrk, cg, cg_import, render, ld, sc, mem, time.perf_counter() - t0)
    with open(OUT, "w") as f:
        f.write(text)
    print()
    print(text)


def syscalls(base, small, env10k, ship_env, spare):
    sc = collections.OrderedDict()
    if shutil.which("strace") is None:
        log("strace is not installed: no system-call counts")
        return sc
    sc["baseline"] = strace_counts(base, bench.cgi_env(small))
    sc["get-sales dynamic"] = strace_counts(exe("dynamic", "notio", "get-sales"), env10k)
    sc["get-sales static"] = strace_counts(exe("static", "notio", "get-sales"), env10k)
    body2 = json.dumps({"menzzo_order_id": spare[1]}).encode()
    ship_env2 = dict(ship_env, CONTENT_LENGTH=str(len(body2)))
    sc["ship-sale dynamic"] = strace_counts(exe("dynamic", "asir-group", "ship-sale"), ship_env2, body2)
    return sc


def report(stages, ships, wrk, cg, cg_import, render, ld, sc, mem, elapsed):
    mach = bench.machine()
    lines = []
    w = lines.append
    w("# Menzzo Supplier API — where the time goes (`make bench-profile`)")
    w("")
    w(f"- date: {mach['date']}; {mach['nproc']} CPU(s), {mach['cpu']}, Linux {mach['kernel']}; "
      f"took {elapsed / 60:.1f} min")
    w(f"- stores: bench/work/ (from `make bench`); prototypes: build/bench/proto/ (same objects, other link)")
    w(f"- wall/CPU: median of {N} interleaved spawns per variant; instructions: callgrind, one run")
    w("")
    w("## 1. Wall time by stage (get-sales, notio)")
    w("")
    w("Each stage stops the request one step later; Δ is the cost of that step (wall median). "
      "CPU = the child's user + system time.")
    w("")
    w("| variant | wall ms | Δ ms | step | CPU ms | page faults | peak RSS KiB |")
    w("|---|---|---|---|---|---|---|")
    refs = {v["name"]: v.get("ref") for v in STAGES}
    for name, r in stages.items():
        ref = refs.get(name)
        delta = f"{r['wall_med'] - stages[ref]['wall_med']:+.3f}" if ref else ""
        w(f"| {name} | {fmt_ms(r['wall_med'])} | {delta} | {('vs ' + ref) if ref else ''} | "
          f"{fmt_ms(r['cpu_med'])} | {r['flt_med']:.0f} | {max(r['rss'])} |")
    w("")
    w("## 2. ship-sale (asir-group, a different pending sale product each run)")
    w("")
    w("| variant | wall ms | CPU ms | page faults | / baseline |")
    w("|---|---|---|---|---|")
    sb = ships["baseline (POST)"]["wall_med"]
    for name, r in ships.items():
        w(f"| {name} | {fmt_ms(r['wall_med'])} | {fmt_ms(r['cpu_med'])} | {r['flt_med']:.0f} | "
          f"{r['wall_med'] / sb:.2f}× |")
    w("")
    w("The fsync-off row only measures what the two flushes of an LMDB commit (fdatasync of the data file, "
      "then the meta page written through O_DSYNC) cost on this disk; it is not a proposal.")
    w("")
    if wrk:
        w("## 2b. Behind lighttpd: the deployed link and the static prototype")
        w("")
        w(f"`wrk -t{bench.WRK_THREADS} -c{bench.WRK_CONNECTIONS} -d{bench.WRK_DURATION}s`, 2 rounds alternating; "
          "the static servers run the project's lighttpd.conf with CGI_DIR=build/bench/proto/static. "
          "ship-sale: a different pending sale product per request.")
        w("")
        w("| variant | req/s (median) | per round | / baseline | non-2xx | real changes |")
        w("|---|---|---|---|---|---|")
        med = {n: statistics.median([r["rps"] for r in rs]) for n, rs in wrk.items()}
        for n, rs in wrk.items():
            b = med["baseline POST" if ("ship" in n or "POST" in n) else "baseline GET"]
            changed = sum(t["changed"] for r in rs for t in r["threads"])
            per_round = " / ".join(f"{r['rps']:.0f}" for r in rs)
            w(f"| {n} | {med[n]:.0f} | {per_round} | "
              f"{med[n] / b:.2f}× | {sum(r['non2xx'] for r in rs)} | {changed if 'ship-sale' in n else ''} |")
        w("")

    w("## 3. Instructions (callgrind)")
    w("")
    names = list(cg)
    w("| | " + " | ".join(names) + " |")
    w("|---|" + "---|" * len(names))
    w("| **total** | " + " | ".join(f"**{cg[n]['total']:,}**" for n in names) + " |")
    cats = sorted({c for n in names for c in cg[n]["objs"]}, key=lambda c: -cg[names[3]]["objs"].get(c, 0))
    for c in cats:
        w(f"| {c} (self) | " + " | ".join(f"{cg[n]['objs'].get(c, 0):,}" for n in names) + " |")
    for fn, label in KEY_FUNCS:
        vals = [cg[n]["funcs"].get(fn) for n in names]
        if any(vals):
            w(f"| {label} (incl.) | " + " | ".join(f"{v:,}" if v else "" for v in vals) + " |")
    w("")
    w("## 4. Rendering one page of 100 items (bench/jsonbench.c, callgrind)")
    w("")
    w("| way | instructions | vs current |")
    w("|---|---|---|")
    cur = render["render_current"]
    for fn, label in (("render_current", "current: sale_item_json objects, serialised, freed (json-c)"),
                      ("render_flags", "json-c, keys added with KEY_IS_NEW and CONSTANT_KEY flags"),
                      ("render_direct", "direct append with a JSON string escaper (no object tree)")):
        w(f"| {label} | {render[fn]:,} | {render[fn] / cur:.2f}× |")
    w("")
    w(f"Output check: {render['check']}.")
    w("")
    w("## 5. Import (`menzzo-admin import`, 2 000 lines of the 1M store's kind)")
    w("")
    total = cg_import["total"]
    w(f"Total {total:,} instructions, **{total / 2000:,.0f} per line**.")
    w("")
    w("| step (inclusive) | instructions per line | share |")
    w("|---|---|---|")
    for fn, label in (("import_parse_line", "import_parse_line (all)"),
                      ("json_tokener_parse_ex", "  json-c tokenizer"),
                      ("id_text", "  ids via json_object_get_string + snprintf"),
                      ("import_apply", "import_apply (all)"),
                      ("store_sale_put", "  store_sale_put (record + index entries)"),
                      ("mdb_put", "  every mdb_put"),
                      ("write_log", "  write_log (json-c diff of two full records)"),
                      ("store_counter_next", "  store_counter_next (log_seq, read + write per line)"),
                      ("store_sale_get", "  store_sale_get (upsert lookup)"),
                      ("mdb_txn_commit", "commit")):
        v = cg_import["funcs"].get(fn) or next((x for k, x in cg_import["funcs"].items() if k.startswith(fn)), 0)
        w(f"| {label} | {v / 2000:,.0f} | {100.0 * v / total:.1f} % |")
    w("")
    w("| library (self) | instructions per line |")
    w("|---|---|")
    for c, v in cg_import["objs"].most_common():
        w(f"| {c} | {v / 2000:,.0f} |")
    w("")
    w("## 6. Dynamic loader (LD_DEBUG=statistics)")
    w("")
    w("| | startup cycles | relocation cycles | load cycles | relocations | relative |")
    w("|---|---|---|---|---|---|")
    for n, s in ld.items():
        w(f"| {n} | {s['startup_cycles']} | {s['relocation_cycles']} | {s['load_cycles']} | {s['relocations']} | "
          f"{s['relative']} |")
    w("")
    w("## 7. System calls (strace -c, one run)")
    w("")
    names = list(sc)
    allsc = sorted({k for c in sc.values() for k in c}, key=lambda k: -sc["get-sales dynamic"].get(k, 0))
    w("| syscall | " + " | ".join(names) + " |")
    w("|---|" + "---|" * len(names))
    w("| **total** | " + " | ".join(f"**{sum(sc[n].values())}**" for n in names) + " |")
    for k in allsc:
        w(f"| {k} | " + " | ".join(str(sc[n].get(k, "")) for n in names) + " |")
    w("")
    w("## 8. Resident memory by mapping (KiB, just before the store is closed)")
    w("")
    names = list(mem)
    groups = sorted({g for m in mem.values() for g in m}, key=lambda g: -mem[names[-1]].get(g, 0))
    w("| mapping | " + " | ".join(names) + " |")
    w("|---|" + "---|" * len(names))
    w("| **total** | " + " | ".join(f"**{sum(mem[n].values())}**" for n in names) + " |")
    for g in groups:
        w(f"| {g} | " + " | ".join(str(mem[n].get(g, "")) for n in names) + " |")
    w("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
