"""The shared-state file (SPEC §10) that holds the rate limit's buckets: one bucket per token across every
process serving the store (plain CGIs, two responders), and a file deleted, cut short, filled with garbage or
replaced by another user's under running processes never fails a request, never crashes one, and is rebuilt.
(The rate limit's rules themselves: tests/test_ratelimit.py.)"""
import os
import stat
import threading

import harness
from harness import Lighttpd, Store, sale

MAGIC = b"MZSTATE\0"


def state_path(s):
    return os.path.join(s.env["MENZZO_DATA_DIR"], "state")    # the default: MENZZO_CACHE_DIR/state


def header_valid(s):
    try:
        with open(state_path(s), "rb") as f:
            return f.read(8) == MAGIC
    except FileNotFoundError:
        return False


def concurrently(n, fn):
    results = [None] * n

    def one(i):
        results[i] = fn()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_one_bucket_across_two_responders():
    """24 requests at once on one token of 1/s, burst 10, the clock standing still (MENZZO_TEST_CLOCK):
    exactly 10 are let through, whichever of the two responders (or CGIs) answers, each seeing its own
    remaining count: no update lost between processes."""
    with Store(MENZZO_RATE_LIMIT="1,10", MENZZO_TEST_CLOCK="1000") as s:
        s.import_lines([sale(600, 1)])
        tok = s.token("asir-group")
        with Lighttpd(s, env={"FASTCGI_PROCS": "2"}) as web:
            results = concurrently(24, lambda: web.request("GET", "/api/asir-group/get-sales", token=tok))
        statuses = sorted(r.status for r in results)
        assert statuses == [200] * 10 + [429] * 14, statuses
        left = sorted(int(r.headers["ratelimit"].split("r=")[1].split(";")[0]) for r in results if r.status == 200)
        assert left == list(range(10)), left


def test_a_damaged_file_under_running_processes_is_rebuilt():
    """Under lighttpd (two responders in FastCGI mode): the file filled with garbage, cut short, deleted,
    replaced by a file of other permissions. Every request is answered 200, none crashes a process (the
    sanitizer build's reports fail the test when lighttpd stops), and the file is valid again afterwards."""
    with Store(MENZZO_RATE_LIMIT="1000,1000") as s:
        s.import_lines([sale(600, 1)])
        tok = s.token("asir-group")
        with Lighttpd(s, env={"FASTCGI_PROCS": "2"}) as web:
            def get(n=6):
                for _ in range(n):
                    r = web.request("GET", "/api/asir-group/get-sales", token=tok)
                    assert r.status == 200 and "ratelimit" in r.headers, r
            get()
            assert header_valid(s)
            size = os.path.getsize(state_path(s))

            # garbage over the whole file: every process sees its header invalid at once and maps a new file
            with open(state_path(s), "r+b") as f:
                f.write(os.urandom(size))
            get()
            assert header_valid(s) and os.path.getsize(state_path(s)) == size, "rebuilt after garbage"

            # cut short in place under the maps: a fault in the file lets that request through, then mapped anew
            os.truncate(state_path(s), 0)
            get()
            assert header_valid(s) and os.path.getsize(state_path(s)) == size, "rebuilt after a truncation"

            # deleted: the processes notice at their next identity check (once a second) or open
            os.unlink(state_path(s))
            get(3)
            guard = 0
            while not header_valid(s):    # what decides is the file's return; the count only guards a hang
                get(1)
                guard += 1
                assert guard < 2000, "the deleted file was never made again"

            # another user's permissions: never used (let through, logged), never written
            os.unlink(state_path(s))
            with open(state_path(s), "wb") as f:
                f.write(b"x" * 100)
            os.chmod(state_path(s), 0o644)
            r = s.cgi("asir-group/get-sales", token=tok)
            assert r.status == 200 and "not used" in r.stderr and "let through" in r.stderr, r.stderr
            with open(state_path(s), "rb") as f:
                assert f.read() == b"x" * 100, "a file others may write was written"
            assert stat.S_IMODE(os.stat(state_path(s)).st_mode) == 0o644
        if harness.MODE == "fastcgi":
            # the responders had the file mapped when it was cut short: their next touch of it faulted
            assert "cut short under this process's map" in open(web.log, errors="replace").read()
