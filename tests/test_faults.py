"""Faults: a full or small disk, a damaged or truncated store, duplicate JSON keys, a hostile data
directory.  No program may crash, a cache may never stop a business write, nothing is half-written.

The small-disk cases mount a tmpfs of their own; where the machine forbids mounting they say so and
pass without running.
"""
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile

from harness import ADMIN, ASAN, CGI_DIR, ROOT, Store, assert_error, sale

HOLD_READER = os.path.join(ASAN, "helpers", "hold_reader")


@contextlib.contextmanager
def small_disk(size):
    """A tmpfs of this size, or None (with a message) where mounting is not allowed."""
    d = tempfile.mkdtemp(prefix="menzzo-disk-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", d],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(f"    skipped: cannot mount a tmpfs here: {p.stderr.strip() or p.returncode}")
        os.rmdir(d)
        yield None
        return
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", d], capture_output=True)
        os.rmdir(d)


def fill(disk):
    """Writes a filler file until the file system is full."""
    fd = os.open(os.path.join(disk, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def du(path):
    """Bytes allocated under path (what it costs the disk)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def store_on(disk, **env):
    return Store(MENZZO_DATA_DIR=os.path.join(disk, "db"), MENZZO_FILES_DIR=os.path.join(disk, "files"), **env)


def test_cache_never_fills_a_small_data_disk():
    """Distinct cached queries on a 2 MiB data disk: the cache stays out (below its free-space floor),
    every answer is 200, and ship-sale still writes."""
    with small_disk("2m") as disk:
        if disk is None:
            return
        with store_on(disk) as s:
            s.import_lines([sale(10 + i, 100 + i, order_date=f"2026-01-{1 + i % 28:02d}") for i in range(100)])
            tok = s.token("asir-group")
            for i in range(300):
                q = f"date_from=2026-01-{1 + i % 28:02d}&page={1 + i // 28}"
                r = s.cgi("asir-group/get-sales", query=q, token=tok)
                assert r.status == 200 and r.headers["x-cache"] == "MISS", (q, r)
            caches = [n for n in os.listdir(os.path.join(disk, "db")) if n.startswith("cache.")]
            took = sum(du(os.path.join(disk, "db", n)) for n in caches)
            print(f"    300 distinct queries: the cache takes {took} bytes of the 2 MiB data disk")
            assert took == 0, f"the cache took room on the data disk: {caches}"
            r = s.cgi("asir-group/ship-sale", method="POST", body={"menzzo_order_id": "10_100"}, token=tok)
            assert r.status == 200 and r.json()["changed"] is True, r


def test_cache_keeps_its_budget_and_drops_older_generations():
    """On a cache directory of its own (MENZZO_CACHE_DIR) the cache fills up to MENZZO_CACHE_SIZE and no
    further; a change's new generation removes the entries of the older ones."""
    with small_disk("64m") as disk:
        if disk is None:
            return
        with Store(MENZZO_CACHE_DIR=disk, MENZZO_CACHE_SIZE="1M") as s:
            s.import_lines([sale(10 + i, 100 + i, order_date=f"2026-01-{1 + i % 28:02d}") for i in range(200)])
            tok = s.token("asir-group")
            for i in range(400):
                r = s.cgi("asir-group/get-sales", query=f"status=all&page={1 + i % 3}&date_from=2026-01-{1 + i % 28:02d}"
                          f"&date_to=20{27 + i // 28}-01-01", token=tok)
                assert r.status == 200, r
            assert not [n for n in os.listdir(s.env["MENZZO_DATA_DIR"]) if n.startswith("cache.")], \
                "with MENZZO_CACHE_DIR, nothing of the cache is beside the store"
            cache = [os.path.join(disk, n) for n in os.listdir(disk) if n.startswith("cache.")]
            assert len(cache) == 1, os.listdir(disk)
            assert os.path.getsize(os.path.join(cache[0], "data.mdb")) <= 1 << 20, "over MENZZO_CACHE_SIZE"
            for q in ("", "status=all", "status=shipped"):
                s.cgi("asir-group/get-sales", query=q, token=tok)
            assert s.cgi("asir-group/ship-sale", method="POST", body={"menzzo_order_id": "10_100"}, token=tok).status == 200
            r = s.cgi("asir-group/get-sales", token=tok)
            assert r.headers["x-cache"] == "MISS"
            p = s.admin("cache", "purge", "--all")
            assert b"1 cache entry removed" in p.stdout, \
                f"the entries of older generations were not removed: {p.stdout.decode()}"


def test_full_disk_is_a_miss_or_a_503_never_a_fault():
    """The disk full before a cache or a lock file exists: get-sales answers 200 (MISS), health 200,
    a write 503 storage_full; with 80 readers holding slots, 8 concurrent get-sales answer 200."""
    with small_disk("4m") as disk:
        if disk is None:
            return
        with store_on(disk, MENZZO_CACHE_TTL_ASIR_GROUP="60") as s:
            s.import_lines([sale(10 + i, 100 + i) for i in range(50)])
            tok = s.token("asir-group")
            holders = [subprocess.Popen([HOLD_READER], env=s.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                       for _ in range(80)]
            try:
                assert sum(p.stdout.readline().strip() == b"ready" for p in holders) == 80
                fill(disk)
                procs = [subprocess.Popen([os.path.join(CGI_DIR, "asir-group", "get-sales")],
                                          env=dict(s.env, REQUEST_METHOD="GET", HTTP_AUTHORIZATION="Bearer " + tok),
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)]
                for p in procs:
                    out, err = p.communicate(timeout=60)
                    assert p.returncode == 0 and out.startswith(b"Status: 200"), (p.returncode, out[:200], err[-500:])
                r = s.cgi("health")
                assert r.status == 200, r
                r = s.cgi("asir-group/get-sales", token=tok)
                assert r.status == 200 and r.headers.get("x-cache") == "MISS", r
                r = s.cgi("asir-group/ship-sale", method="POST", body={"menzzo_order_id": "10_100"}, token=tok)
                assert r.status in (200, 503), r
                if r.status == 503:
                    assert r.json()["code"] == "storage_full" and "retry-after" in r.headers
                # the whole cache goes on a full disk
                p = s.admin("cache", "purge", "--all", check=False)
                assert p.returncode == 0, p.stderr
            finally:
                for p in holders:
                    p.kill()
                    p.wait()
                    p.stdout.close()


def test_truncated_store_is_503_and_check_says_damaged():
    with Store() as s:
        s.import_lines([sale(10 + i, 100 + i, label=f"labels/{i}.pdf") for i in range(3000)])
        tok = s.token("asir-group")
        data = os.path.join(s.env["MENZZO_DATA_DIR"], "data.mdb")
        os.truncate(data, os.path.getsize(data) // 2)
        for exe, method in (("health", "GET"), ("asir-group/get-sales", "GET"), ("asir-group/ship-sale", "POST"),
                            ("files", "GET")):
            r = s.cgi(exe, method=method, token=tok, path_info="/labels/1.pdf",
                      body={"menzzo_order_id": "10_100"} if method == "POST" else None)
            assert r.status == 503 and r.json()["code"] == "storage_unavailable", (exe, r)
            assert "store damaged or truncated" in r.stderr, r.stderr
        p = s.admin("check", check=False)
        assert p.returncode == 3 and b"store damaged" in p.stdout, (p.returncode, p.stdout, p.stderr)
        p = s.admin("show", "10_100", check=False)
        assert p.returncode != 0 and p.returncode > 0, p


def test_bit_rot_never_crashes_an_endpoint_or_check():
    """64 random bytes in one page of the store, many times: every program answers or reports; none dies
    of a signal.  (The closing note quotes 300 trials; make test runs fewer.)"""
    trials = int(os.environ.get("MENZZO_BITROT_TRIALS", "25"))
    rng = random.Random(20261201)
    with Store() as s:
        s.import_lines([sale(10 + i // 2, 100 + i, supplier=("asir-group", "notio")[i % 2], label=f"labels/{i}.pdf")
                        for i in range(1500)])
        toks = {sup: s.token(sup) for sup in ("asir-group", "notio")}
        pristine = os.path.join(s.dir, "pristine")
        shutil.copytree(s.env["MENZZO_DATA_DIR"], pristine)
        data = os.path.join(s.env["MENZZO_DATA_DIR"], "data.mdb")
        crashes = []
        for trial in range(trials):
            shutil.copyfile(os.path.join(pristine, "data.mdb"), data)
            pages = os.path.getsize(data) // 4096
            with open(data, "r+b") as f:
                f.seek(rng.randrange(2, pages) * 4096 + rng.randrange(0, 4096 - 64))
                f.write(bytes(rng.randrange(256) for _ in range(64)))
            runs = (("health", "GET", None, None), ("notio/get-sales", "GET", None, toks["notio"]),
                    ("asir-group/get-sales", "GET", None, toks["asir-group"]),
                    ("asir-group/ship-sale", "POST", {"menzzo_order_id": "11_102"}, toks["asir-group"]),
                    ("files", "GET", None, toks["asir-group"]))
            for exe, method, body, tok in runs:
                p = s.run([os.path.join(CGI_DIR, exe)], input=json.dumps(body).encode() if body else b"",
                          env={"REQUEST_METHOD": method, "PATH_INFO": "/labels/2.pdf",
                               "HTTP_AUTHORIZATION": f"Bearer {tok}" if tok else "",
                               "CONTENT_TYPE": "application/json" if body else ""})
                if p.returncode != 0 or not p.stdout.startswith(b"Status: "):
                    crashes.append((trial, exe, p.returncode, p.stderr[-300:]))
            p = s.admin("check", check=False)
            if p.returncode < 0 or p.returncode not in (0, 1, 3):
                crashes.append((trial, "check", p.returncode, p.stderr[-300:]))
        print(f"    {trials} trials, {len(crashes)} crashes")
        assert not crashes, crashes[:5]


def test_duplicate_json_keys_are_refused():
    with Store() as s:
        s.import_lines([sale(1, 1), sale(15000010002, 700004)])
        tok = s.token("asir-group")
        for body, named in (('{"menzzo_order_id":"1_1","menzzo_order_id":"15000010002_700004"}', "menzzo_order_id"),
                            ('{"menzzo_order_id":"15000010002_700004","\\u006denzzo_order_id":"1_1"}', "menzzo_order_id"),
                            ('{"menzzo_order_id":"1_1","x":1,"x":2}', None),
                            ('{"menzzo_order_id":"1_1","x":{"y":1,"y":2}}', None)):
            r = s.cgi("asir-group/ship-sale", method="POST", body=body, content_type="application/json", token=tok)
            j = assert_error(r, 400, "invalid_body")
            if named:
                assert named in j["error"], j
        assert json.loads(s.admin("show", "15000010002_700004").stdout)["status"] == "pending"
        assert json.loads(s.admin("show", "1_1").stdout)["status"] == "pending"
        line = json.dumps(sale(2, 2, supplier="notio"))[:-1] + ', "supplier": "asir-group"}'
        p = s.import_lines([line], check=False)
        assert p.returncode == 1 and b'field "supplier" is given twice' in p.stderr, p.stderr
        assert s.admin("show", "2_2", check=False).returncode != 0, "a line with a key given twice was imported"


def test_lone_surrogates_are_refused():
    """RFC 7493 (I-JSON): a \\uD800-\\uDBFF escape not followed by a \\uDC00-\\uDFFF one, or the reverse, is no
    character; json-c would store U+FFFD in its place.  400 invalid_body naming the field; a pair is fine."""
    with Store() as s:
        s.import_lines([sale(1, 1), sale(1, 2), sale(1, 3)])
        tok = s.token("asir-group")
        refuse = '{"menzzo_order_id":"1_1","accepted":false,"reason":"other","note":"%s"}'
        for note in ("\\ud800", "a\\udbffb", "\\udc00", "\\ud800\\u0041", "\\ud83d\\ud83d", "x\\\\\\ud800"):
            r = s.cgi("asir-group/acknowledge-sale", method="POST", body=refuse % note, content_type="application/json",
                      token=tok)
            j = assert_error(r, 400, "invalid_body")
            assert "note" in j["error"], (note, j)
        # in a batch item, in a package of a shipment: the field named
        batch = '{"items":[{"menzzo_order_id":"1_2"},{"menzzo_order_id":"1_1","accepted":false,"reason":"other",' \
                '"note":"\\udfff"}]}'
        j = assert_error(s.cgi("asir-group/acknowledge-sale", method="POST", body=batch,
                               content_type="application/json", token=tok), 400, "invalid_body")
        assert "note" in j["error"], j
        ship = '{"menzzo_order_id":"1_1","packages":[{"tracking_number":"T1","carrier":"DHL\\ud800"}]}'
        j = assert_error(s.cgi("asir-group/ship-sale", method="POST", body=ship, content_type="application/json",
                               token=tok), 400, "invalid_body")
        assert "carrier" in j["error"], j
        # in an unknown member, or in a name: the body is refused
        for body in ('{"menzzo_order_id":"1_1","x":"\\ud800"}', '{"menzzo_order_id":"1_1","\\ud800":1}'):
            assert_error(s.cgi("asir-group/ship-sale", method="POST", body=body, content_type="application/json",
                               token=tok), 400, "invalid_body")
        for oid in ("1_1", "1_2"):
            assert json.loads(s.admin("show", oid).stdout)["status"] == "pending", oid
        # escaped backslashes before a u are no escape; a proper pair (U+1F600) is a character
        ok = '{"menzzo_order_id":"1_3","accepted":false,"reason":"other","note":"\\\\ud800 \\ud83d\\ude00"}'
        r = s.cgi("asir-group/acknowledge-sale", method="POST", body=ok, content_type="application/json", token=tok)
        assert r.status == 200, r
        assert json.loads(s.admin("show", "1_3").stdout)["note"] == "\\ud800 \U0001F600"
        # an import line too
        line = json.dumps(sale(2, 2))[:-1] + ', "label": "labels/\\udc00.pdf"}'
        p = s.import_lines([line], check=False)
        assert p.returncode == 1 and b'line 1: label must be' in p.stderr, p.stderr


def test_cache_purge_never_follows_a_symlink():
    with Store(MENZZO_CACHE_TTL_ASIR_GROUP="60") as s:
        s.import_lines([sale(1, 1)])
        tok = s.token("asir-group")
        assert s.cgi("asir-group/get-sales", token=tok).headers["x-cache"] == "MISS"
        victim = os.path.join(s.dir, "victim")
        os.mkdir(victim)
        for name in ("data.mdb", "lock.mdb"):
            with open(os.path.join(victim, name), "w") as f:
                f.write("precious")
        os.symlink(victim, os.path.join(s.env["MENZZO_DATA_DIR"], "cache.0123456789abcdef0123456789abcdef"))
        for args in (("cache", "purge"), ("cache", "purge", "--all")):
            s.admin(*args)
        assert sorted(os.listdir(victim)) == ["data.mdb", "lock.mdb"], "purge followed a symlink"
        assert s.cgi("asir-group/get-sales", token=tok).headers["x-cache"] == "MISS"


def test_import_read_error_long_lines_and_directories():
    """A read error mid-way aborts the whole import (exit 2, the system error named, nothing written);
    a line over 64 KiB is a rejected line, never held in memory; a directory is an error."""
    with Store() as s:
        path = os.path.join(s.dir, "lines.jsonl")
        with open(path, "w") as f:
            for i in range(3000):
                f.write(json.dumps(sale(10 + i, 100 + i)) + "\n")
        if shutil.which("strace") is None:
            print("    skipped the read-error case: strace is not installed (package strace)")
        else:
            # the third read() of the file fails (the deployed build: LeakSanitizer cannot run under ptrace)
            p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-P", path, "-e", "trace=read",
                                "-e", "inject=read:error=EIO:when=3",
                                os.path.join(ROOT, "bin", "menzzo-admin"), "import", path],
                               env=s.env, capture_output=True, timeout=120)
            assert p.returncode == 2 and b"Input/output error; nothing was written" in p.stderr, (p.returncode, p.stderr)
            stats = dict(l.split("\t") for l in s.admin("stats").stdout.decode().splitlines())
            assert stats["sale"] == "0", "a failed read committed lines"
        p = s.admin("import", s.dir, check=False)
        assert p.returncode == 2 and b"Is a directory" in p.stderr, p
        huge = os.path.join(s.dir, "huge.jsonl")
        with open(huge, "w") as f:
            f.write('{"increment_id": "' + "1" * (100 << 20) + '"}\n')
            f.write(json.dumps(sale(1, 1)) + "\n")
        deployed = os.path.join(ROOT, "bin", "menzzo-admin")
        p = s.admin("import", huge, check=False)
        assert p.returncode == 1 and b"line 1: longer than 65536 bytes" in p.stderr, (p.returncode, p.stderr)
        assert json.loads(s.admin("show", "1_1").stdout)["status"] == "pending", "the good line is imported"
        p = subprocess.run(["/usr/bin/env", "python3", "-c",
                            "import resource, subprocess, sys; subprocess.run(sys.argv[1:]); "
                            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
                            deployed, "import", huge], env=s.env, capture_output=True, timeout=120)
        maxrss_kib = int(p.stdout.split()[-1])
        print(f"    a 100 MiB line: import's peak RSS {maxrss_kib} KiB")
        assert maxrss_kib < 32 << 10, f"a 100 MiB line cost {maxrss_kib} KiB"


def _commit_before_answer(trace, answer_fd_pattern):
    """In an strace -f log: the index of the last durable step of a commit (fdatasync, fsync, msync, or
    the meta page's pwrite64 that follows them) and of the first write of a 200 answer."""
    lines = open(trace).read().splitlines()
    sync = [i for i, l in enumerate(lines) if re.search(r"\b(fdatasync|fsync|msync)\(", l)]
    answer = [i for i, l in enumerate(lines) if re.search(answer_fd_pattern, l) and "200 OK" in l]
    assert sync, "no commit was made durable:\n" + "\n".join(lines[-40:])
    assert answer, "no 200 answer was written:\n" + "\n".join(lines[-40:])
    meta = [i for i in range(sync[0], answer[0]) if "pwrite64(" in lines[i]]
    return sync[0], (meta[-1] if meta else sync[0]), answer[0], lines


def test_every_commit_is_durable_before_its_200_is_written():
    """strace -f: the ship's fdatasync (and the meta page written after it) come before the first byte of
    its 200, as plain CGI and as a FastCGI responder (the deployed build: sanitizers do not run under
    ptrace)."""
    if shutil.which("strace") is None:
        print("    skipped: strace is not installed (package strace)")
        return
    from fcgi import Responder
    with Store() as s:
        s.import_lines([sale(1, 1), sale(2, 2)])
        tok = s.token("asir-group")
        exe = os.path.join(ROOT, "cgi-bin", "asir-group", "ship-sale")
        trace = os.path.join(s.dir, "cgi.trace")
        body = b'{"menzzo_order_id": "1_1"}'
        env = dict(s.env, REQUEST_METHOD="POST", CONTENT_TYPE="application/json", CONTENT_LENGTH=str(len(body)),
                   HTTP_AUTHORIZATION="Bearer " + tok)
        p = subprocess.run(["strace", "-f", "-qq", "-s", "64", "-o", trace, "-e",
                            "trace=fdatasync,fsync,msync,write,pwrite64", exe], input=body, env=env,
                           capture_output=True, timeout=60)
        assert p.stdout.startswith(b"Status: 200"), p.stdout[:200]
        sync, meta, answer, _ = _commit_before_answer(trace, r"\bwrite\(1, ")
        assert sync < meta <= answer and sync < answer, (sync, meta, answer)
        trace = os.path.join(s.dir, "fcgi.trace")
        r = Responder(exe, s.env, wrapper=["strace", "-f", "-qq", "-s", "64", "-o", trace, "-e",
                                           "trace=fdatasync,fsync,msync,write,writev,pwrite64"])
        try:
            out = r.request({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json",
                             "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": "Bearer " + tok},
                            b'{"menzzo_order_id": "2_2"}')[0]
            assert out.startswith(b"Status: 200"), out[:200]
        finally:
            r.stop()
        sync, meta, answer, lines = _commit_before_answer(trace, r"\bwritev?\(\d+, ")
        assert sync < answer and meta < answer, "\n".join(lines[sync - 2:answer + 2])
