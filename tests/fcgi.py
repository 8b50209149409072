"""A FastCGI client for the tests (the protocol's responder role, one request per connection), and a
responder started the way a web server starts one: the executable with a listening socket as its
standard input (FastCGI specification §2.2)."""
import os
import signal
import socket
import struct
import subprocess
import tempfile

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 1, 3, 4, 5, 6, 7
FCGI_RESPONDER = 1


def _record(rtype, content, request_id=1):
    out = b""
    while True:
        chunk, content = content[:65535], content[65535:]
        out += struct.pack(">BBHHBx", 1, rtype, request_id, len(chunk), 0) + chunk
        if not content:
            return out


def _pair(name, value):
    def length(n):
        return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    name, value = name.encode(), value.encode()
    return length(len(name)) + length(len(value)) + name + value


def _recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("responder closed the connection")
        data += chunk
    return data


class Responder:
    """An executable serving FastCGI on a Unix socket of its own, as lighttpd's bin-path starts one."""

    def __init__(self, exe, env, wrapper=()):
        self.dir = tempfile.mkdtemp(prefix="menzzo-fcgi-")
        self.path = os.path.join(self.dir, "socket")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        listener.listen(16)
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.stderr = open(self.stderr_path, "wb")
        # A session of its own: stop() signals the responder and any wrapper (strace) together.
        self.proc = subprocess.Popen(list(wrapper) + [exe], stdin=listener.fileno(), stdout=subprocess.DEVNULL,
                                     stderr=self.stderr, env=env, close_fds=True, start_new_session=True)
        listener.close()

    def request(self, params, body=b"", close_early=False):
        """Sends one request; returns (stdout bytes, stderr bytes, app status).  close_early hangs up after
        sending the request, as a client gone would."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path)
        try:
            msg = _record(FCGI_BEGIN_REQUEST, struct.pack(">HB5x", FCGI_RESPONDER, 0))
            p = b"".join(_pair(k, v) for k, v in params.items())
            msg += (_record(FCGI_PARAMS, p) if p else b"") + _record(FCGI_PARAMS, b"")
            msg += (_record(FCGI_STDIN, body) if body else b"") + _record(FCGI_STDIN, b"")
            s.sendall(msg)
            if close_early:
                return None
            out, err = b"", b""
            while True:
                version, rtype, rid, clen, plen = struct.unpack(">BBHHBx", _recv_exact(s, 8))
                content = _recv_exact(s, clen)
                _recv_exact(s, plen)
                if rtype == FCGI_STDOUT:
                    out += content
                elif rtype == FCGI_STDERR:
                    err += content
                elif rtype == FCGI_END_REQUEST:
                    return out, err, struct.unpack(">I", content[:4])[0]
        finally:
            s.close()

    def rss_kib(self, field="VmRSS"):
        """The responder's resident set (or another field of /proc/PID/status: RssAnon, its heap and
        stacks without the mapped store's pages), in KiB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return None

    def stop(self, timeout=30):
        """SIGTERM, as the web server stops it; returns the exit status and what it wrote on standard error."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.stderr.close()
        with open(self.stderr_path, "rb") as f:
            err = f.read()
        try:
            os.unlink(self.path)
        except OSError:
            pass
        os.unlink(self.stderr_path)
        os.rmdir(self.dir)
        return self.proc.returncode, err.decode("utf-8", "replace")
