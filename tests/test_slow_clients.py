"""Slow clients against lighttpd.conf: many connections from one address that trickle their request
header (slowloris) do not stop a client at another address from being answered, and lighttpd closes
the ones that stall.

The clients of the flood bind 127.0.0.2 (any 127.0.0.0/8 address is loopback on Linux); the normal
client is 127.0.0.1, as the server.  What lighttpd 1.4.69 offers and what it does not (no limit per
address, no total deadline on a request header: only an idle one) is in the "Slow and many clients"
section of lighttpd.conf.

test_slow_clients_do_not_starve_others runs in make test (about 10 s, in each mode).
test_slow_clients_full is the measurement of docs/deploy.md: 1,000 connections held for 60 s; it only
runs with MENZZO_SLOW_CLIENTS_FULL=1 (MENZZO_SLOW_CLIENTS_N and MENZZO_SLOW_CLIENTS_SECONDS change the
figures) and prints what it saw.
"""
import errno
import http.client
import os
import re
import resource
import selectors
import socket
import statistics
import threading
import time

from harness import Lighttpd, Store, sale

FLOOD_ADDR = "127.0.0.2"
CLIENT_ADDR = "127.0.0.1"
CONF = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lighttpd.conf")
PARTIAL = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-client\r\n"  # no blank line: never ends


def conf_setting(name):
    """The last value lighttpd.conf gives `name` (`=` or `:=`), as an int."""
    with open(CONF) as f:
        values = re.findall(r"^\s*" + re.escape(name) + r"\s*:?=\s*(\d+)", f.read(), re.M)
    assert values, f"lighttpd.conf sets no {name}"
    return int(values[-1])


def enough_fds(need):
    """Raises this process's RLIMIT_NOFILE to `need` if the hard limit allows; False when it does not."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            return False
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return True


def fd_limit(pid):
    """The open-files limit of process `pid` (lighttpd sets its own from server.max-fds)."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return 0


def open_sockets(pid):
    """How many sockets process `pid` holds: the connections lighttpd has accepted, its listening
    socket, and any FastCGI socket in use."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


class Conn:
    def __init__(self, kind, interval, line):
        self.kind, self.interval, self.line = kind, interval, line
        self.sock = None
        self.connected = self.closed = self.refused = None  # times (time.monotonic()), or None
        self.last_sent = None
        self.sent = 0
        self.received = b""
        self.lines = 0


class Flood:
    """Connections from FLOOD_ADDR to the server that each send PARTIAL, then one more header line
    every `interval` seconds (never the blank line that ends a header), in a thread of their own;
    records when each was connected, refused and closed by the server, and what it received."""

    def __init__(self, port):
        self.port = port
        self.conns = []
        self.sel = selectors.DefaultSelector()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.lock = threading.Lock()
        self.pending = []

    def add(self, kind, count=1, interval=None, line=lambda c: b"X-Trickle-%d: 1\r\n" % c.lines):
        """`count` connections of `kind`; `interval` None: silent after PARTIAL."""
        new = [Conn(kind, interval, line) for _ in range(count)]
        with self.lock:
            self.conns += new
            self.pending += new
        return new

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join(10)
        for c in self.conns:
            if c.sock is not None:
                c.sock.close()
        self.sel.close()

    def kind(self, kind):
        return [c for c in self.conns if c.kind == kind]

    def _close(self, c, now):
        if c.closed is None:
            c.closed = now
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass

    def _connect(self, c):
        s = c.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((FLOOD_ADDR, 0))
        err = s.connect_ex(("127.0.0.1", self.port))
        if err not in (0, errno.EINPROGRESS):
            c.refused = time.monotonic()
            return
        self.sel.register(s, selectors.EVENT_WRITE, c)

    def _send(self, c, data, now):
        try:
            c.sent += c.sock.send(data)
            c.last_sent = now
        except BlockingIOError:
            pass
        except OSError:
            self._close(c, now)

    def _run(self):
        while not self.stop_event.is_set():
            with self.lock:
                pending, self.pending = self.pending, []
            for c in pending:
                self._connect(c)
            for key, events in self.sel.select(0.05):
                c, now = key.data, time.monotonic()
                if c.connected is None:
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        c.refused = now
                        self.sel.unregister(c.sock)
                        continue
                    c.connected = now
                    self.sel.modify(c.sock, selectors.EVENT_READ, c)
                    self._send(c, PARTIAL, now)
                    continue
                try:
                    data = c.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    c.received += data
                else:
                    self._close(c, now)
            now = time.monotonic()
            for c in self.conns:
                if (c.interval is not None and c.connected is not None and c.closed is None
                        and now - c.last_sent >= c.interval):
                    c.lines += 1
                    self._send(c, c.line(c), now)


def timed_get(port, path, token=None):
    """A request of a normal client at CLIENT_ADDR: (status, body length, seconds)."""
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(CLIENT_ADDR, 0))
    try:
        c.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        r = c.getresponse()
        body = r.read()
        return r.status, len(body), time.monotonic() - t0
    except OSError as e:
        return repr(e), 0, time.monotonic() - t0
    finally:
        c.close()


def normal_client(port, token, seconds, pause=0.25):
    """health and get-sales in turn from CLIENT_ADDR for `seconds`: [(path, status, bytes, seconds)]."""
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for path, tok in (("/api/health", None), ("/api/asir-group/get-sales", token)):
            out.append((path,) + timed_get(port, path, tok))
        time.sleep(pause)
    return out


def wait_until(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def store_with_a_page():
    """A store whose first get-sales page is a full one (100 sales, some 30 KB), and a token."""
    s = Store()
    s.import_lines([sale(15000010000 + i, 1000 + i, label=f"labels/{i}.pdf") for i in range(150)])
    return s, s.token("asir-group")


def test_slow_clients_do_not_starve_others():
    """300 connections from 127.0.0.2 trickling a header line every 2 s (more than the 256 that once
    made the service unavailable) are all accepted and held; meanwhile every request of a client on
    127.0.0.1 is answered within 1 s.  A connection silent after a partial header, and one trickling a
    line every 10 s (the finding's), are closed within server.max-read-idle (+ lighttpd's 1 s timer);
    one whose header grows past server.max-request-field-size gets a 431 and is closed."""
    idle = conf_setting("server.max-read-idle")
    field = conf_setting("server.max-request-field-size")
    assert conf_setting("server.max-connections") >= 1024, "room for 1,000 slow connections and the others"
    assert 2 <= idle < 10, "a header line every 10 s must not keep a connection open"
    flood_n = 300
    if not enough_fds(flood_n + 100):
        print(f"SKIP test_slow_clients_do_not_starve_others: this machine's RLIMIT_NOFILE hard limit "
              f"{resource.getrlimit(resource.RLIMIT_NOFILE)[1]} is below the {flood_n + 100} file descriptors "
              f"the test needs")
        return
    s, token = store_with_a_page()
    with s, Lighttpd(s) as web:
        if fd_limit(web.proc.pid) < flood_n + 100:
            print(f"SKIP test_slow_clients_do_not_starve_others: lighttpd could only get "
                  f"{fd_limit(web.proc.pid)} file descriptors (server.max-fds above the hard limit?)")
            return
        status, size, _ = timed_get(web.port, "/api/asir-group/get-sales", token)
        assert status == 200 and size > 20000, (status, size)
        flood = Flood(web.port).start()
        try:
            t0 = time.monotonic()
            silent = flood.add("silent")[0]
            finding = flood.add("every 10 s", interval=10)[0]
            fat = flood.add("fat", interval=0.2, line=lambda c: b"X-Fat-%d: %s\r\n" % (c.lines, b"f" * 1000))[0]
            flood.add("flood", flood_n, interval=2)
            assert wait_until(lambda: all(c.connected or c.refused for c in flood.conns), 10), "connects hang"
            refused = [c for c in flood.conns if c.refused]
            assert not refused, f"{len(refused)} connections from {FLOOD_ADDR} refused"
            # lighttpd accepted them (they are not waiting in the listen backlog): its sockets.
            assert wait_until(lambda: open_sockets(web.proc.pid) >= flood_n, 5), open_sockets(web.proc.pid)

            results = normal_client(web.port, token, seconds=idle + 3)
            held = open_sockets(web.proc.pid)
            slow = [r for r in results if r[1] != 200 or r[3] >= 1.0]
            assert not slow, f"requests from {CLIENT_ADDR} not answered within 1 s: {slow}"
            assert wait_until(lambda: silent.closed and finding.closed, 5), "stalled connections left open"
            trickling = flood.kind("flood")
            closed = [c for c in trickling if c.closed]
            assert not closed, f"{len(closed)} of the trickling connections were closed within {idle + 3} s"
            assert held >= flood_n, held
        finally:
            flood.stop()
    # Closed after max-read-idle seconds of silence: lighttpd checks once a second, so within (idle, idle+2].
    for c in (silent, finding):
        quiet = c.closed - c.last_sent
        assert idle - 0.5 <= quiet <= idle + 2.5, (c.kind, quiet, idle)
        assert c.lines == 0 and c.received == b"", (c.kind, c.lines, c.received[:200])
    assert re.match(rb"HTTP/1\.[01] 431 ", fat.received), fat.received[:200]
    assert fat.closed is not None and fat.sent > field, (fat.sent, field)
    assert fat.closed - t0 < 10, fat.closed - t0
    print(f"    {flood_n} trickling connections from {FLOOD_ADDR} held ({held} lighttpd sockets); "
          f"{len(results)} requests from {CLIENT_ADDR}, slowest {max(r[3] for r in results) * 1000:.0f} ms; "
          f"silent one closed after {silent.closed - silent.last_sent:.1f} s, the 10 s trickler after "
          f"{finding.closed - finding.last_sent:.1f} s, the {fat.sent}-byte header got a 431")


def test_slow_clients_full():
    """The figure of docs/deploy.md: N (1,000) connections from 127.0.0.2 trickling a header line every
    3 s, held for S (60) seconds, while a client on 127.0.0.1 makes requests; each within 1 s."""
    if os.environ.get("MENZZO_SLOW_CLIENTS_FULL") != "1":
        return
    n = int(os.environ.get("MENZZO_SLOW_CLIENTS_N", "1000"))
    seconds = float(os.environ.get("MENZZO_SLOW_CLIENTS_SECONDS", "60"))
    if not enough_fds(n + 200):
        print(f"SKIP test_slow_clients_full: RLIMIT_NOFILE hard limit "
              f"{resource.getrlimit(resource.RLIMIT_NOFILE)[1]} is below {n + 200}")
        return
    s, token = store_with_a_page()
    with s, Lighttpd(s) as web:
        flood = Flood(web.port).start()
        try:
            t0 = time.monotonic()
            finding = flood.add("every 10 s", interval=10)[0]
            flood.add("flood", n, interval=3)
            wait_until(lambda: all(c.connected or c.refused for c in flood.conns), 30)
            connected_after = time.monotonic() - t0
            time.sleep(1)
            accepted = open_sockets(web.proc.pid) - 1  # less its listening socket
            results = normal_client(web.port, token, seconds=seconds)
            held_end = open_sockets(web.proc.pid) - 1
            with open(f"/proc/{web.proc.pid}/status") as f:
                rss = [line for line in f if line.startswith("VmRSS")][0].split()[1]
            elapsed = time.monotonic() - t0
        finally:
            flood.stop()
    trickling = flood.kind("flood")
    refused = sum(1 for c in trickling if c.refused)
    closed = [c for c in trickling if c.closed]
    lat = sorted(r[3] for r in results)
    bad = [r for r in results if r[1] != 200 or r[3] >= 1.0]
    survived = min((c.closed - c.connected for c in closed), default=None)
    print(f"    {n} connections from {FLOOD_ADDR}: {n - refused} connected ({connected_after:.1f} s), "
          f"{refused} refused, {accepted} open in lighttpd 1 s later, {held_end} after {elapsed:.0f} s; "
          f"{len(closed)} closed by the server{f' (first after {survived:.1f} s)' if closed else ''}; "
          f"lighttpd RSS {int(rss) // 1024} MiB")
    print(f"    {len(results)} requests from {CLIENT_ADDR} over {seconds:.0f} s: median "
          f"{statistics.median(lat) * 1000:.1f} ms, p99 {lat[int(len(lat) * 0.99) - 1] * 1000:.1f} ms, worst "
          f"{lat[-1] * 1000:.1f} ms; {len(bad)} not answered 200 within 1 s")
    print(f"    the 10 s trickler: closed {finding.closed - finding.connected:.1f} s after it connected"
          if finding.closed else "    the 10 s trickler: still open")
    assert not bad, bad[:10]
    assert not refused and not closed, (refused, len(closed))
