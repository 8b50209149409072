"""Fuzz smoke: every libFuzzer target in fuzz/ runs a few seconds on its seed corpus without a crash.

The seed corpus stays read-only: libFuzzer writes what it finds to the first
corpus directory, a temporary one here.  A crashing input is kept under
build/fuzz/smoke-crashes/ for `build/fuzz/fuzz_<name> <file>` to replay.
"""
import glob
import os
import re
import subprocess
import tempfile

from harness import MissingTool, require

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECONDS = 3


def _make_env():
    # A standalone make, whatever make (and flags) started the test run.
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    return env


def require_libfuzzer():
    clang = require("clang", "clang")
    res = subprocess.run([clang, "-print-resource-dir"], capture_output=True, text=True).stdout.strip()
    if not glob.glob(os.path.join(res, "lib", "*", "libclang_rt.fuzzer*.a")):
        raise MissingTool("clang's libFuzzer runtime is not installed: it comes with the Debian package "
                          "libclang-rt-dev (tools/install-deps.sh test installs it)")


def test_fuzz_smoke():
    require_libfuzzer()
    names = sorted(re.fullmatch(r"fuzz_(.+)\.c", os.path.basename(p)).group(1)
                   for p in glob.glob(os.path.join(ROOT, "fuzz", "fuzz_*.c")))
    assert names, "no fuzz targets in fuzz/"
    p = subprocess.run(["make", "-s", f"-j{os.cpu_count() or 1}", "fuzz-build"], cwd=ROOT, env=_make_env(),
                       capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, f"make fuzz-build failed:\n{p.stdout[-2000:]}{p.stderr[-3000:]}"
    crashes = os.path.join(ROOT, "build", "fuzz", "smoke-crashes")
    os.makedirs(crashes, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        running = {}
        for name in names:  # all at once: the whole run takes about SECONDS
            new = os.path.join(tmp, name)
            os.mkdir(new)
            cmd = [os.path.join(ROOT, "build", "fuzz", "fuzz_" + name), f"-max_total_time={SECONDS}",
                   "-timeout=20", f"-artifact_prefix={crashes}/{name}-"]
            if os.path.exists(os.path.join(ROOT, "fuzz", "dict", name + ".dict")):
                cmd.append(f"-dict=fuzz/dict/{name}.dict")
            cmd += [new, os.path.join("fuzz", "corpus", name)]
            running[name] = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                             text=True, errors="replace")
        failures = []
        for name, proc in running.items():
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
                failures.append(f"fuzz_{name}: still running after 60 s")
                continue
            if proc.returncode != 0:
                why = [l for l in err.splitlines()
                       if re.search(r"ERROR: |SUMMARY: |runtime error:|invariant failed:|Test unit written", l)]
                failures.append(f"fuzz_{name}: exit {proc.returncode}\n    " + "\n    ".join(why[:6] or err.splitlines()[-15:]))
    assert not failures, "fuzz targets crashed:\n" + "\n".join(failures)
