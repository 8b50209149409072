"""Static analysis stays clean: cppcheck and clang-tidy (`make lint`)."""
import subprocess

from harness import ROOT, require


def test_static_analysis_clean():
    require("cppcheck", "cppcheck")
    require("clang-tidy", "clang-tidy")
    p = subprocess.run(["make", "-s", "--no-print-directory", "lint"], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
