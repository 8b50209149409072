#!/usr/bin/env python3
"""Runs every test: the C unit tests (build/asan/tests/*), then each tests/test_*.py.

A Python test is a module-level function named test_*; it passes unless it
raises.  Usage: tests/run.py [substring ...] to run only matching tests.
Ends with one line: N passed, N failed.

MENZZO_TEST_JOBS (2 by default) Python tests run at once, each in a worker
process of this script (tests/run.py --worker), the longest first by the
times of the previous run (build/test-durations.json, when there is one).
The tests that must have the checkout to themselves (SERIAL below, and every
test that looks for processes by their executable) run first, one at a time,
in this process.  MENZZO_TEST_JOBS=1 runs everything here, one test after
another, in the order of the files.
"""
import glob
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import harness  # noqa: E402
from harness import MissingTool  # noqa: E402

# The Python modules of the tests, and the Debian packages that provide them.
MODULE_PACKAGES = {"yaml": "python3-yaml", "jsonschema": "python3-jsonschema", "requests": "python3-requests"}

# The times of the last run of each test, by name: the longest tests are handed out first.
DURATIONS = os.path.join(ROOT, "build", "test-durations.json")

# Tests that never run beside another test of this run, and why.  Besides these, every test that finds
# processes by their executable (harness.pids_of, or a walk of /proc), in its own source or in a function
# or class of the test modules it uses: the executables are the same for every test of a checkout, so it
# would count, wait for or SIGKILL the processes of the test running beside it.
SERIAL = {
    "test_run.test_make_run_fails_with_make_s_status_on_a_busy_port_or_a_bad_one":
        "make run runs make all in the checkout: on a stale build it rewrites the programs other tests run",
    "test_docs.test_make_install_lays_out_the_tree":
        "make install runs make all in the checkout: on a stale build it rewrites the programs other tests run",
}
# Run by this process after all the others: it waits for the `make lint` this process started first.
LAST = {"test_lint.test_static_analysis_clean"}
FINDS_PROCESSES = re.compile(r"\bpids_of\(|os\.listdir\(\s*f?[\"']/proc[\"']\s*\)")


class Results:
    """The passed and failed tests of this process, printed as they end."""

    def __init__(self):
        self.passed = self.failed = 0
        self.failures = []
        self.durations = {}
        # An assertion in a test's worker thread fails that test: it must not only print a traceback.
        self.thread_errors = []

        def thread_failed(args):
            self.thread_errors.append("".join(traceback.format_exception(args.exc_type, args.exc_value,
                                                                         args.exc_traceback)))
        threading.excepthook = thread_failed

    def fail(self, line, text=None):
        self.failed += 1
        self.failures.append(text or line)
        print(f"FAIL {line}", flush=True)

    def run_test(self, name, fn):
        """Runs one test; returns None when it passed, else what the failures list shows of it."""
        t0 = time.time()
        del self.thread_errors[:]
        failure = None
        try:
            fn()
            if self.thread_errors:
                raise AssertionError(f"{len(self.thread_errors)} worker thread(s) failed; the first:\n"
                                     f"{self.thread_errors[0]}")
        except MissingTool as e:
            failure = f"{name}: {e}"
            self.failed += 1
            print(f"FAIL {name}: {e}", flush=True)
        except Exception:
            tb = traceback.format_exc()
            failure = f"{name}\n{tb}"
            self.failed += 1
            print(f"FAIL {name} ({time.time() - t0:.1f}s)\n{tb}", flush=True)
        else:
            self.passed += 1
            print(f"ok   {name} ({time.time() - t0:.1f}s)", flush=True)
        if failure:
            self.failures.append(failure)
        self.durations[name] = round(time.time() - t0, 1)
        return failure


def import_test_module(path, results):
    """The test module at path; None (and a failure) when a Python module it needs is not installed."""
    try:
        return importlib.import_module(os.path.basename(path)[:-3])
    except ModuleNotFoundError as e:
        if e.name not in MODULE_PACKAGES:
            raise
        results.fail(f"tests/{os.path.basename(path)}: the Python module {e.name} is not installed: it comes "
                     f"with the Debian package {MODULE_PACKAGES[e.name]} (tools/install-deps.sh test installs it)")
        return None


def is_end_to_end(fn):
    return "Lighttpd(" in inspect.getsource(fn) and not getattr(fn, "one_mode", False)


def test_functions(mod):
    return [(f"{mod.__name__}.{n}", getattr(mod, n)) for n in vars(mod) if n.startswith("test_")]


def source_used(mod, fn):
    """The source of fn and of every function and class of the test modules that it uses, by name, and
    that these use in turn."""
    local = {n: o for n, o in vars(mod).items()
             if (inspect.isfunction(o) or inspect.isclass(o)) and getattr(o, "__module__", "").startswith("test_")}
    sources, todo, seen = [], [fn], set()
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        try:
            src = inspect.getsource(obj)
        except (OSError, TypeError):
            continue
        sources.append(src)
        todo += [o for n, o in local.items() if id(o) not in seen and re.search(r"\b" + re.escape(n) + r"\b", src)]
    return "".join(sources)


def serial_reason(name, mod, fn):
    if name in SERIAL:
        return SERIAL[name]
    if FINDS_PROCESSES.search(source_used(mod, fn)):
        return "finds processes by their executable"
    return None


def run_unit_tests(results, wanted):
    for exe in sorted(glob.glob(os.path.join(ROOT, "build", "asan", "tests", "*"))):
        name = "unit/" + os.path.basename(exe)
        if not wanted(name):
            continue
        p = subprocess.run([exe], capture_output=True, text=True, timeout=300)
        for line in p.stdout.splitlines():
            if line.startswith("ok "):
                results.passed += 1
            elif line.startswith("not ok "):
                results.fail(f"{name}: {line}")
        if p.returncode != 0 or "Sanitizer" in p.stderr or "runtime error:" in p.stderr:
            results.fail(f"{name}: exit {p.returncode}\n{p.stderr[-3000:]}")
        else:
            print(f"ok   {name}", flush=True)


def run_serially(results, wanted):
    """Every test in this process, one after another: the order of the files, then the end-to-end ones again
    as plain CGI."""
    # Every test, lighttpd running the endpoints as FastCGI responders (the default mode) ...
    end_to_end = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        mod = import_test_module(path, results)
        if mod is None:
            continue
        for name, fn in test_functions(mod):
            if is_end_to_end(fn):
                end_to_end.append((name, fn))
            if wanted(name):
                results.run_test(name, fn)
    # ... then the end-to-end ones again with plain CGI behind lighttpd (but those marked one_mode = True: what
    # they measure does not depend on the way lighttpd runs the endpoints).
    harness.MODE = "cgi"
    for name, fn in end_to_end:
        if wanted(name + "[cgi]"):
            results.run_test(name + "[cgi]", fn)


def load_durations():
    try:
        with open(DURATIONS) as f:
            return {k: float(v) for k, v in json.load(f).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def save_durations(new):
    if not new:
        return
    known = load_durations()
    known.update(new)
    try:
        os.makedirs(os.path.dirname(DURATIONS), exist_ok=True)
        tmp = f"{DURATIONS}.{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(known, f, indent=0, sort_keys=True)
        os.replace(tmp, DURATIONS)
    except OSError as e:
        print(f"note: could not write {DURATIONS}: {e}", file=sys.stderr)


class Forward(threading.Thread):
    """Copies what a worker writes to one of its outputs to ours, whole lines at a time."""

    def __init__(self, pipe, out, lock):
        super().__init__(daemon=True)
        self.pipe, self.out, self.lock = pipe, out, lock

    def run(self):
        rest = b""
        while True:
            data = os.read(self.pipe.fileno(), 65536)
            if not data:
                break
            rest += data
            cut = rest.rfind(b"\n") + 1
            if cut:
                self.write(rest[:cut])
                rest = rest[cut:]
        if rest:
            self.write(rest + b"\n")

    def write(self, data):
        with self.lock:
            self.out.flush()
            self.out.buffer.write(data)
            self.out.buffer.flush()


class Worker:
    """A tests/run.py --worker process: it reads units (lists of [name, function, mode]) on one pipe, runs
    them and writes a record for each test on another; what it prints comes out here, whole lines."""

    def __init__(self, out_lock):
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", str(cmd_r), str(res_w)],
                                     pass_fds=(cmd_r, res_w), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=ROOT)
        os.close(cmd_r)
        os.close(res_w)
        self.commands = os.fdopen(self.cmd_w, "w", buffering=1)
        self.records = os.fdopen(self.res_r, "r")
        self.forwards = [Forward(self.proc.stdout, sys.stdout, out_lock), Forward(self.proc.stderr, sys.stderr, out_lock)]
        for f in self.forwards:
            f.start()

    def run(self, unit):
        """The records of the unit's tests, as far as the worker got: fewer than its tests if it died."""
        records = []
        try:
            self.commands.write(json.dumps(unit) + "\n")
            self.commands.flush()
            while len(records) < len(unit):
                line = self.records.readline()
                if not line:
                    break
                records.append(json.loads(line))
        except (BrokenPipeError, ValueError):
            pass
        return records

    def close(self):
        """Ends the worker (its commands at an end, it exits); its exit status."""
        try:
            self.commands.close()
        except BrokenPipeError:
            pass
        status = self.proc.wait()
        self.records.close()
        # A process a test left behind may hold the worker's output open: what comes within a few seconds.
        for f in self.forwards:
            f.join(5)
        return status


def run_in_parallel(results, units, jobs, expected):
    """Runs the units (each a list of [name, function, mode], run in that order by one worker) in `jobs`
    workers, handing the longest left to the first worker free."""
    queue = sorted(units, key=lambda u: -sum(expected(name) for name, _, _ in u))
    lock, out_lock = threading.Lock(), threading.Lock()

    def record(r):
        with lock:
            results.durations[r["name"]] = r["seconds"]
            if r["failure"] is None:
                results.passed += 1
            else:
                results.failed += 1
                results.failures.append(r["failure"])

    def drive():
        worker = None
        while True:
            with lock:
                if not queue:
                    break
                unit = queue.pop(0)
            if worker is None:
                worker = Worker(out_lock)
            records = worker.run(unit)
            for r in records:
                record(r)
            if len(records) < len(unit):
                status = worker.close()
                worker = None
                for name, _, _ in unit[len(records):]:
                    line = f"{name}: its worker process ended (exit status {status}) before the test did"
                    with out_lock:
                        print(f"FAIL {line}", flush=True)
                    record({"name": name, "seconds": 0, "failure": line})
        if worker is not None:
            status = worker.close()
            if status != 0:
                with out_lock:
                    print(f"FAIL a test worker process exited with status {status}", flush=True)
                with lock:
                    results.failed += 1
                    results.failures.append(f"a test worker process exited with status {status}")

    def guarded():
        try:
            drive()
        except Exception:
            tb = traceback.format_exc()
            with out_lock:
                print(f"FAIL tests/run.py: a worker's driver failed\n{tb}", flush=True)
            with lock:
                results.failed += 1
                results.failures.append(f"tests/run.py: a worker's driver failed\n{tb}")

    threads = [threading.Thread(target=guarded) for _ in range(min(jobs, len(queue)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_worker(cmd_fd, res_fd):
    """tests/run.py --worker CMD_FD RES_FD: runs the units read from CMD_FD, a record of each test on RES_FD."""
    os.chdir(ROOT)
    for fd in (cmd_fd, res_fd):
        os.set_inheritable(fd, False)
    sys.stdout.reconfigure(line_buffering=True)
    results = Results()
    with os.fdopen(cmd_fd, "r") as commands, os.fdopen(res_fd, "w", buffering=1) as records:
        for line in commands:
            for name, function, mode in json.loads(line):
                module, fname = function.split(".")
                harness.MODE = mode
                failure = results.run_test(name, getattr(importlib.import_module(module), fname))
                records.write(json.dumps({"name": name, "seconds": results.durations[name],
                                          "failure": failure}) + "\n")
    return 0


def jobs_wanted():
    v = os.environ.get("MENZZO_TEST_JOBS", "2")
    if not v.isdigit() or int(v) < 1:
        sys.exit(f"tests/run.py: MENZZO_TEST_JOBS must be a number of tests at once, from 1, not {v!r}")
    return int(v)


def main(argv):
    if argv[1:2] == ["--worker"]:
        return run_worker(int(argv[2]), int(argv[3]))
    os.chdir(ROOT)
    only = argv[1:]
    jobs = jobs_wanted()
    results = Results()

    def wanted(name):
        return not only or any(o in name for o in only)

    if wanted("test_lint.test_static_analysis_clean"):
        import test_lint
        test_lint.start_static_analysis()

    run_unit_tests(results, wanted)

    if jobs == 1:
        run_serially(results, wanted)
    else:
        # The tests, each with its modes: the default one (FastCGI responders) then, for those that start a
        # lighttpd (but those marked one_mode = True), plain CGI.
        first_mode = harness.MODE
        serial, serial_cgi, last, units, sizes = [], [], [], [], {}
        for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
            mod = import_test_module(path, results)
            if mod is None:
                continue
            for name, fn in test_functions(mod):
                modes = [(name, first_mode)] + ([(name + "[cgi]", "cgi")] if is_end_to_end(fn) else [])
                modes = [(n, m) for n, m in modes if wanted(n)]
                if not modes:
                    continue
                if name in LAST:
                    last += [(n, fn) for n, _ in modes]
                elif serial_reason(name, mod, fn):
                    serial += [(n, fn) for n, m in modes if m == first_mode]
                    serial_cgi += [(n, fn) for n, m in modes if m != first_mode]
                else:
                    units.append([[n, name, m] for n, m in modes])
                    sizes[name] = len(source_used(mod, fn))
        for name, fn in serial:
            harness.MODE = first_mode
            results.run_test(name, fn)
        for name, fn in serial_cgi:
            harness.MODE = "cgi"
            results.run_test(name, fn)
        harness.MODE = first_mode
        durations = load_durations()

        def expected(name):
            # unknown: a guess from the size of its source (about a second for 1,000 characters)
            return durations.get(name, sizes.get(name.removesuffix("[cgi]"), 0) / 1000)
        run_in_parallel(results, units, jobs, expected)
        for name, fn in last:
            results.run_test(name, fn)

    save_durations(results.durations)
    if results.failures:
        print("\nfailures:\n  " + "\n  ".join(f.splitlines()[0] for f in results.failures))
    print(f"{results.passed} passed, {results.failed} failed")
    return 1 if results.failed or results.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
