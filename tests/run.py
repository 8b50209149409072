#!/usr/bin/env python3
"""Runs every test: the C unit tests (build/asan/tests/*), then each tests/test_*.py.

A Python test is a module-level function named test_*; it passes unless it
raises.  Usage: tests/run.py [substring ...] to run only matching tests.
Ends with one line: N passed, N failed.
"""
import glob
import importlib
import inspect
import os
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


def main(argv):
    os.chdir(ROOT)
    only = argv[1:]
    passed = failed = 0
    failures = []

    def wanted(name):
        return not only or any(o in name for o in only)

    if wanted("test_lint.test_static_analysis_clean"):
        import test_lint
        test_lint.start_static_analysis()

    for exe in sorted(glob.glob(os.path.join(ROOT, "build", "asan", "tests", "*"))):
        name = "unit/" + os.path.basename(exe)
        if not wanted(name):
            continue
        p = subprocess.run([exe], capture_output=True, text=True, timeout=300)
        for line in p.stdout.splitlines():
            if line.startswith("ok "):
                passed += 1
            elif line.startswith("not ok "):
                failed += 1
                failures.append(f"{name}: {line}")
                print(f"FAIL {name}: {line}")
        if p.returncode != 0 or "Sanitizer" in p.stderr or "runtime error:" in p.stderr:
            failed += 1
            failures.append(f"{name}: exit {p.returncode}\n{p.stderr[-3000:]}")
            print(f"FAIL {name}: exit {p.returncode}\n{p.stderr[-3000:]}")
        else:
            print(f"ok   {name}")

    # An assertion in a test's worker thread fails that test: it must not only print a traceback.
    thread_errors = []

    def thread_failed(args):
        thread_errors.append("".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)))
    threading.excepthook = thread_failed

    def run_test(name, fn):
        nonlocal passed, failed
        t0 = time.time()
        del thread_errors[:]
        try:
            fn()
            if thread_errors:
                raise AssertionError(f"{len(thread_errors)} worker thread(s) failed; the first:\n{thread_errors[0]}")
        except MissingTool as e:
            failed += 1
            failures.append(f"{name}: {e}")
            print(f"FAIL {name}: {e}")
        except Exception:
            failed += 1
            tb = traceback.format_exc()
            failures.append(f"{name}\n{tb}")
            print(f"FAIL {name} ({time.time() - t0:.1f}s)\n{tb}")
        else:
            passed += 1
            print(f"ok   {name} ({time.time() - t0:.1f}s)")

    # Every test, lighttpd running the endpoints as FastCGI responders (the default mode) ...
    end_to_end = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        try:
            mod = importlib.import_module(os.path.basename(path)[:-3])
        except ModuleNotFoundError as e:
            if e.name not in MODULE_PACKAGES:
                raise
            failed += 1
            line = (f"tests/{os.path.basename(path)}: the Python module {e.name} is not installed: it comes "
                    f"with the Debian package {MODULE_PACKAGES[e.name]} (tools/install-deps.sh test installs it)")
            failures.append(line)
            print(f"FAIL {line}")
            continue
        for fname in [n for n in vars(mod) if n.startswith("test_")]:
            name = f"{mod.__name__}.{fname}"
            fn = getattr(mod, fname)
            if "Lighttpd(" in inspect.getsource(fn) and not getattr(fn, "one_mode", False):
                end_to_end.append((name, fn))
            if wanted(name):
                run_test(name, fn)
    # ... then the end-to-end ones again with plain CGI behind lighttpd (but those marked one_mode = True: what
    # they measure does not depend on the way lighttpd runs the endpoints).
    harness.MODE = "cgi"
    for name, fn in end_to_end:
        if wanted(name + "[cgi]"):
            run_test(name + "[cgi]", fn)
    if failures:
        print("\nfailures:\n  " + "\n  ".join(f.splitlines()[0] for f in failures))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
