"""Static analysis stays clean: cppcheck and clang-tidy (`make lint`); the boundaries hold."""
import glob
import os
import re
import shutil
import subprocess

from harness import ROOT, require


_lint = []


def start_static_analysis():
    """Starts `make lint` in the background (tests/run.py does, first thing): the longest test then runs
    while the others wait on their servers and subprocesses."""
    if shutil.which("cppcheck") and shutil.which("clang-tidy"):
        _lint.append(subprocess.Popen(["make", "-s", "--no-print-directory", "lint"], cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))


def test_static_analysis_clean():
    require("cppcheck", "cppcheck")
    require("clang-tidy", "clang-tidy")
    if not _lint:
        start_static_analysis()
    out, _ = _lint[0].communicate()
    assert _lint[0].returncode == 0, out[-8000:]


def _module(header):
    """The module a header is the face of: store_impl.h is the store family's private one."""
    name = os.path.basename(header)[:-2]
    return name[:-5] if name.endswith("_impl") else name


def test_no_include_cycle_and_one_concern_a_file():
    """lib/ and tools/: no two modules include each other, even through others (the rate limit takes
    what it needs as arguments; the admin tool's shared helpers are a file of their own); no file over
    500 lines; no enum constant or macro defined in two headers."""
    for d in ("lib", "tools"):
        graph = {}
        for path in glob.glob(os.path.join(ROOT, d, "*.[ch]")):
            mine = _module(path)
            for inc in re.findall(r'^#include "([a-z_]+\.h)"', open(path).read(), re.M):
                if os.path.exists(os.path.join(ROOT, d, inc)) and _module(inc) != mine:
                    graph.setdefault(mine, set()).add(_module(inc))

        def reaches(a, b, seen):
            return any(n == b or (n not in seen and not seen.add(n) and reaches(n, b, seen))
                       for n in graph.get(a, ()))
        cycles = sorted((a, b) for a in graph for b in graph[a] if a < b and reaches(b, a, set()))
        assert not cycles, f"{d}/: modules that include each other: {cycles}"
        for path in glob.glob(os.path.join(ROOT, d, "*.[ch]")):
            n = sum(1 for _ in open(path))
            assert n <= 500, f"{os.path.relpath(path, ROOT)} has {n} lines"
    defined = {}
    for path in glob.glob(os.path.join(ROOT, "lib", "*.h")):
        text = open(path).read()
        names = re.findall(r"^#define ([A-Z_][A-Z0-9_]*)\b", text, re.M)
        for body in re.findall(r"\benum\s+\w*\s*\{([^}]*)\}", text):
            names += re.findall(r"^\s*([A-Z][A-Z0-9_]*)\b", body, re.M) + re.findall(r",\s*([A-Z][A-Z0-9_]*)\b", body)
        for name in set(names):
            if not name.startswith("MENZZO_") or not name.endswith("_H"):
                defined.setdefault(name, set()).add(os.path.basename(path))
    twice = {k: v for k, v in defined.items() if len(v) > 1}
    assert not twice, f"defined in two headers: {twice}"
