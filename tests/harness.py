"""Test fixtures: a throw-away store, CGI executables run directly, a real lighttpd.

Every program runs from build/asan/ (AddressSanitizer + UBSan); any sanitizer
report on a program's standard error fails the test that ran it.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASAN = os.path.join(ROOT, "build", "asan")
# `make valgrind` sets MENZZO_VALGRIND=1: a plain dynamic build (build/vg) runs under memcheck instead.
VALGRIND = os.environ.get("MENZZO_VALGRIND") == "1"
BUILD = os.path.join(ROOT, "build", "vg") if VALGRIND else ASAN
CGI_DIR = os.path.join(BUILD, "cgi-bin")
ADMIN = os.path.join(BUILD, "bin", "menzzo-admin")
VALGRIND_CMD = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                "--errors-for-leak-kinds=definite,indirect"]
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer")


def _tables():
    """The supplier slugs (lib/suppliers.def) and the routes (tools/routes.awk over both tables: dicts of
    program, route, id, supplier or None, method), as the build reads them."""
    slugs = re.findall(r'^SUPPLIER\("([a-z0-9-]+)"', open(os.path.join(ROOT, "lib", "suppliers.def")).read(), re.M)
    out = subprocess.run(["awk", "-f", os.path.join(ROOT, "tools", "routes.awk"),
                          os.path.join(ROOT, "lib", "suppliers.def"), os.path.join(ROOT, "lib", "endpoints.def")],
                         capture_output=True, text=True, check=True).stdout
    routes = []
    for line in out.splitlines():
        program, route, id_, supplier, method = line.split("\t")
        routes.append({"program": program, "route": route, "id": id_, "method": method,
                       "supplier": None if supplier == "-" else supplier})
    return tuple(slugs), routes


# Every supplier's slug, and every program with its route: the tests read the tables, never a list of their own.
SUPPLIERS, ROUTES = _tables()
# The endpoint rows: id -> (route as lib/endpoints.def writes it, method, per supplier or not).
ENDPOINTS = {m.group(1): (m.group(2), m.group(3), m.group(4) == "SCOPE_SUPPLIER") for m in re.finditer(
    r'^ENDPOINT\((\w+),\s*"([^"]+)",\s*"(\w+)",\s*(\w+)', open(os.path.join(ROOT, "lib", "endpoints.def")).read(), re.M)}


class SanitizerReport(AssertionError):
    pass


class MissingTool(Exception):
    """A program or npm tool a test needs is not installed; run.py prints the message alone."""


def require(program, package):
    """The path of `program` (a name on PATH, or an absolute path); MissingTool naming the
    Debian package that provides it when it is not installed."""
    found = program if os.path.isabs(program) and os.access(program, os.X_OK) else shutil.which(program)
    if not found:
        raise MissingTool(f"{program} is not installed: it comes with the Debian package {package} "
                          f"(tools/install-deps.sh test installs it)")
    return found


NODE_DIR = os.path.join(ROOT, "tools", "node")


def node_tool(relpath):
    """A file of the npm tools installed by tools/install-deps.sh test (npm ci in tools/node)."""
    require("node", "nodejs")
    path = os.path.join(NODE_DIR, "node_modules", relpath)
    if not os.path.exists(path):
        raise MissingTool(f"tools/node/node_modules/{relpath} is not installed: run tools/install-deps.sh test "
                          f"(npm ci of tools/node/package-lock.json)")
    return path


def check_sanitizer(text, what):
    for mark in SANITIZER_MARKS:
        if mark in text:
            raise SanitizerReport(f"{what}: sanitizer report:\n{text[-4000:]}")


def stop_process(proc, timeout=10):
    """Stops a server the test started, by its PID: SIGTERM, then SIGKILL after timeout seconds."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def pids_of(exe):
    """The PIDs of the running processes whose executable is exe (a web server's FastCGI responders, its
    CGIs), but not a process that one of them started itself (LeakSanitizer's tracer, which a program of
    the sanitizer build starts at its exit: killing it would leave that program waiting for it forever)."""
    def exe_of(pid):
        try:
            return os.readlink(f"/proc/{pid}/exe")
        except OSError:
            return None   # gone meanwhile, or not ours to read

    def parent_of(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            return None

    return [int(pid) for pid in os.listdir("/proc")
            if pid.isdigit() and exe_of(pid) == exe and exe_of(parent_of(pid)) != exe]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value (last wins); all in .header_list
        self.header_list = []
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.headers} {self.body[:300]!r}>"


def parse_cgi_output(out):
    head, sep, body = out.partition(b"\r\n\r\n")
    assert sep, f"no header/body separator in CGI output: {out[:300]!r}"
    headers, lst = {}, []
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
        lst.append((name.strip().lower(), value.strip()))
    status = int(headers.pop("status").split()[0])
    r = Response(status, headers, body)
    r.header_list = lst
    assert int(headers["content-length"]) == len(body), "Content-Length disagrees with the body"
    return r


class Store:
    """A store of its own in a temporary directory, with the environment that points at it."""

    def __init__(self, **env):
        self.dir = tempfile.mkdtemp(prefix="menzzo-test-")
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MENZZO_DATA_DIR": os.path.join(self.dir, "db"),
            "MENZZO_FILES_DIR": os.path.join(self.dir, "files"),
            "MENZZO_BASE_URL": "https://api.example.test",
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1",
        }
        self.env.update(env)
        self.admin("init")

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def run(self, argv, input=None, env=None, timeout=60):
        e = dict(self.env)
        e.update(env or {})
        if VALGRIND:
            require("valgrind", "valgrind")
            argv = VALGRIND_CMD + list(argv)
            timeout *= 10
        p = subprocess.run(argv, input=input, env=e, capture_output=True, timeout=timeout)
        check_sanitizer(p.stderr.decode("utf-8", "replace"), " ".join(argv))
        if VALGRIND and (p.returncode == 99 or "==" in p.stderr.decode("utf-8", "replace")):
            raise SanitizerReport(f"valgrind report for {' '.join(argv)}:\n{p.stderr.decode()[-4000:]}")
        return p

    def admin(self, *args, input=None, env=None, check=True):
        if isinstance(input, str):
            input = input.encode()
        p = self.run([ADMIN, *args], input=input, env=env)
        if check and p.returncode != 0:
            raise AssertionError(f"menzzo-admin {' '.join(args)} failed ({p.returncode}): "
                                 f"{p.stderr.decode()}")
        return p

    def token(self, supplier, *extra):
        p = self.admin("token", "add", supplier, *extra)
        return p.stdout.decode().strip().splitlines()[-1]

    def import_lines(self, items, check=True):
        text = "".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in items)
        return self.admin("import", "-", input=text, check=check)

    def cgi(self, path, method="GET", query="", body=None, token=None, headers=None,
            content_type=None, env=None, path_info=None):
        """Runs cgi-bin/<path> as a maintainer would, with CGI variables and stdin."""
        e = {"REQUEST_METHOD": method, "QUERY_STRING": query, "GATEWAY_INTERFACE": "CGI/1.1",
             "SERVER_PROTOCOL": "HTTP/1.1"}
        if token is not None:
            e["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            content_type = content_type or "application/json"
        if isinstance(body, str):
            body = body.encode()
        if body is not None:
            e["CONTENT_LENGTH"] = str(len(body))
        if content_type:
            e["CONTENT_TYPE"] = content_type
        if path_info is not None:
            e["PATH_INFO"] = path_info
        for k, v in (headers or {}).items():
            e["HTTP_" + k.upper().replace("-", "_")] = v
        e.update(env or {})
        p = self.run([os.path.join(CGI_DIR, path)], input=body or b"", env=e)
        assert p.returncode == 0, f"{path} exited {p.returncode}: {p.stderr.decode()}"
        r = parse_cgi_output(p.stdout)
        r.stderr = p.stderr.decode()
        return r


def assert_error(r, status, code=None, mentions=()):
    """An error in the SPEC §2.4 shape, with its request id; code when given; a sentence that names one of
    mentions when given; run directly, the error log line carries the request id."""
    assert r.status == status, r
    assert r.headers["content-type"] == "application/json", r
    rid = r.headers.get("x-request-id", "")
    assert re.fullmatch(r"[0-9A-Za-z-]{8,64}", rid), r
    j = r.json()
    assert set(j) == {"success", "error", "code"} and j["success"] is False, j
    assert isinstance(j["error"], str) and j["error"] and isinstance(j["code"], str) and j["code"], j
    if code:
        assert j["code"] == code, j
    if mentions:
        assert any(p in j["error"] for p in mentions), (mentions, j)
    if hasattr(r, "stderr"):
        assert rid in r.stderr, "an error is written to the error log with its request id"
    return j


def sale(inc, sp, supplier="asir-group", **kw):
    """An import line with sensible defaults."""
    d = {"increment_id": str(inc), "sale_product_id": sp, "supplier": supplier,
         "sku": "SKU-%d" % sp, "quantity": 1, "price": "250.00", "order_date": "2026-01-15",
         "carrier": "CHRONOPOST"}
    d.update(kw)
    return d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The mode lighttpd runs the endpoints in: FastCGI responders (the default) or plain CGI.  tests/run.py
# runs every test that starts a Lighttpd once more with MENZZO_TEST_MODE=cgi.
MODE = os.environ.get("MENZZO_TEST_MODE", "fastcgi")


def demo_store():
    """A store filled by `menzzo-admin demo`, and its tokens by supplier slug."""
    s = Store()
    out = s.admin("demo").stdout.decode().splitlines()
    tokens = {}
    for i, line in enumerate(out):
        m = re.match(r"token \d+ for ([a-z-]+)", line)
        if m:
            tokens[m.group(1)] = out[i + 1]
    assert set(tokens) == set(SUPPLIERS), out
    return s, tokens


# The User-Agent of the request by which Lighttpd waits for the server to answer (in the access log).
PROBE_AGENT = "menzzo-tests (is lighttpd up?)"


class Lighttpd:
    """The project's lighttpd.conf on a free loopback port, serving the sanitizer build in MODE."""

    def __init__(self, store, env=None, conf="lighttpd.conf", root=ROOT):
        """conf: the configuration file, started in root (a scratch copy of the project, for instance)."""
        require("lighttpd", "lighttpd")
        self.store = store
        self.conf, self.root = conf, root
        self.port = free_port()
        self.log = os.path.join(store.dir, "lighttpd.log")
        self.access_log = os.path.join(store.dir, "access.log")
        e = dict(store.env)
        e.update({"PORT": str(self.port), "HOST": "127.0.0.1", "CGI_DIR": CGI_DIR, "ACCESS_LOG": self.access_log,
                  "MENZZO_MODE": MODE, "FASTCGI_PROCS": "1"})
        e.update(env or {})
        self.env = e
        self.logf = open(self.log, "ab")
        self._start()

    def _start(self):
        """Starts lighttpd and returns once it answers HTTP: it listens on its port before it has started its
        FastCGI responders, and gives up if one of them dies in that time (SIGKILLed by a test, say)."""
        self.proc = subprocess.Popen(["lighttpd", "-D", "-f", self.conf], cwd=self.root, env=self.env,
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 60    # a guard against a server that never answers, not a measure
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("lighttpd exited: " + open(self.log).read()[-3000:])
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("HEAD", "/", headers={"User-Agent": PROBE_AGENT})
                c.getresponse().read()
                c.close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("lighttpd did not start")

    def kill_and_restart(self):
        """SIGKILLs lighttpd, then 50 ms later the processes it had started and left behind (CGIs still
        running, responders, one just forked), and starts it again on the same port.  lighttpd is stopped
        first, so that the list of its children is complete when it dies."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        children = []
        for task in os.listdir(f"/proc/{self.proc.pid}/task"):
            with open(f"/proc/{self.proc.pid}/task/{task}/children") as f:
                children += [int(pid) for pid in f.read().split()]
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        time.sleep(0.05)
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._start()

    def request(self, method, path, headers=None, body=None, token=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request(method, path, body=body, headers=h)
        resp = c.getresponse()
        r = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        r.header_list = [(k.lower(), v) for k, v in resp.getheaders()]
        c.close()
        return r

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        stop_process(self.proc)
        self.logf.close()
        check_sanitizer(open(self.log, errors="replace").read(), "a CGI under lighttpd")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
