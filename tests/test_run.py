"""make run (tools/run.sh): a busy port is an error before anything else happens,
"Serving on ..." is printed only once lighttpd listens, and two of them from one checkout each run
responders of their own."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import requests

from harness import CGI_DIR, ROOT, free_port, require


def run_sh(tmp, port, **env):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("MENZZO_", "MAKE", "MFLAGS"))}
    e.update({"PORT": str(port), "HOST": "127.0.0.1", "MENZZO_DATA_DIR": os.path.join(tmp, "db"),
              "MENZZO_FILES_DIR": os.path.join(tmp, "files"), "ACCESS_LOG": os.path.join(tmp, "access.log")})
    e.update(env)
    # SIGINT as a terminal's shell leaves it (a suite started in the background inherits it ignored, and a
    # shell cannot trap a signal ignored at its start: Ctrl-C would then do nothing)
    return subprocess.Popen(["sh", "tools/run.sh"], cwd=ROOT, env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_run_refuses_a_busy_port():
    tmp = tempfile.mkdtemp(prefix="menzzo-run-")
    try:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            p = run_sh(tmp, busy.getsockname()[1])
            out, _ = p.communicate(timeout=60)
        assert p.returncode == 1, out
        assert "already in use" in out and "Serving on" not in out, out
        assert not os.path.exists(os.path.join(tmp, "db")), "a store was created for a server that cannot start"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_run_reports_a_lighttpd_that_does_not_start():
    tmp = tempfile.mkdtemp(prefix="menzzo-run-")
    try:
        # 192.0.2.1 (TEST-NET-1) is no address of this machine: lighttpd cannot bind it.
        p = run_sh(tmp, free_port(), HOST="192.0.2.1")
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 1, out
        assert "lighttpd did not start" in out and "Serving on" not in out, out
        assert "mzk_" in out, "the new demo tokens must still be shown: " + out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_run_serves_then_stops_on_a_signal():
    require("lighttpd", "lighttpd")
    tmp = tempfile.mkdtemp(prefix="menzzo-run-")
    port = free_port()
    p = run_sh(tmp, port)
    try:
        lines = _serving(p)
        assert lines[-1] == f"Serving on http://127.0.0.1:{port}/api/ (Ctrl-C stops).\n", "".join(lines)
        # Printed once it listens: the very next request is answered.
        r = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=30)
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        assert any(l.startswith("  asir-group  mzk_") for l in lines), "".join(lines)
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGINT)  # what Ctrl-C sends run.sh (lighttpd gets it too)
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        rest = p.stdout.read()
        p.stdout.close()
        shutil.rmtree(tmp, ignore_errors=True)
    assert p.returncode == 0, f"exit {p.returncode}: {rest}"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "lighttpd still listens after run.sh ended"


def _serving(p):
    """The lines run.sh printed up to "Serving on ..."."""
    lines = []
    deadline = time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        assert line, "run.sh ended early: " + "".join(lines)
        lines.append(line)
        if line.startswith("Serving on"):
            return lines
    raise AssertionError("run.sh did not serve: " + "".join(lines))


def _stop(p):
    if p.poll() is None:
        os.kill(p.pid, signal.SIGINT)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    p.stdout.close()


def test_two_servers_from_one_checkout_have_responders_of_their_own():
    """Two make run on two ports of one checkout and one store, with different rate limits: each answers
    with its own policy (lighttpd would use a responder already listening on a shared socket, and with it
    the other server's settings), and stopping one leaves the other serving."""
    require("lighttpd", "lighttpd")
    tmp = tempfile.mkdtemp(prefix="menzzo-run-")
    ports = [free_port(), free_port()]
    servers = []
    try:
        first = run_sh(tmp, ports[0], MENZZO_RATE_LIMIT="5,50", CGI_DIR=CGI_DIR)
        servers.append(first)
        lines = _serving(first)
        token = [l.split()[1] for l in lines if l.startswith("  asir-group  mzk_")][0]
        servers.append(run_sh(tmp, ports[1], MENZZO_RATE_LIMIT="7,70", CGI_DIR=CGI_DIR))
        _serving(servers[1])
        auth = {"Authorization": f"Bearer {token}"}

        def policy(port):
            r = requests.get(f"http://127.0.0.1:{port}/api/asir-group/get-sales", headers=auth, timeout=30)
            assert r.status_code == 200, (port, r.status_code, r.text)
            return r.headers["RateLimit-Policy"]

        for _ in range(4):   # every responder of each (two of each executable)
            assert policy(ports[0]) == '"per-token";q=50;w=10'
            assert policy(ports[1]) == '"per-token";q=70;w=10'
        _stop(first)
        for _ in range(4):
            assert policy(ports[1]) == '"per-token";q=70;w=10'
        r = requests.get(f"http://127.0.0.1:{ports[1]}/api/health", timeout=30)
        assert r.status_code == 200, r.text
    finally:
        for p in servers:
            _stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


def test_make_run_fails_with_make_s_status_on_a_busy_port_or_a_bad_one():
    """make run on a port in use, or with PORT=abc: the message, and make's exit status for a failed
    recipe (2; tools/run.sh's own is 1), as the README says."""
    tmp = tempfile.mkdtemp(prefix="menzzo-run-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENZZO_", "MAKE", "MFLAGS"))}
    env.update({"HOST": "127.0.0.1", "MENZZO_DATA_DIR": os.path.join(tmp, "db")})
    try:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            for port, said in ((str(busy.getsockname()[1]), "already in use"), ("abc", "PORT must be a number")):
                p = subprocess.run(["make", "--no-print-directory", "run"], cwd=ROOT, env=dict(env, PORT=port),
                                   capture_output=True, text=True, timeout=600)
                assert p.returncode == 2 and said in p.stderr, (port, p.returncode, p.stdout[-500:], p.stderr[-500:])
                assert "Serving on" not in p.stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
