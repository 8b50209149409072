"""What lighttpd.conf itself adds to the executables: the access log."""
import json
import os
import re
import signal
import time

from harness import PROBE_AGENT, ROOT, Lighttpd, Store, sale

# The combined log format: host ident user [time] "request" status bytes "Referer" "User-Agent".
COMBINED = re.compile(r'^(?P<host>\S+) - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] '
                      r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-) "(?P<referer>[^"]*)" '
                      r'"(?P<agent>[^"]*)"$')


def wait_for_line(path, needle, timeout=10):
    """lighttpd writes its access log in batches: the lines, once `needle` is in the file (but the one of the
    request by which the harness waited for lighttpd)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            text = open(path).read()
            if needle in text:
                return [line for line in text.splitlines() if PROBE_AGENT not in line]
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} never reached {path}: {open(path).read() if os.path.exists(path) else 'no file'}")


def test_access_log_is_combined_and_without_tokens():
    with Store() as s:
        s.import_lines([sale(15000012345, 789)])
        token = s.token("asir-group")
        with Lighttpd(s) as web:
            ua = {"User-Agent": "menzzo-test/1.0", "Referer": "https://supplier.example/poll"}
            r = web.request("GET", "/api/asir-group/get-sales?page=1", token=token, headers=ua)
            assert r.status == 200
            r = web.request("POST", "/api/asir-group/acknowledge-sale", token=token,
                            body={"menzzo_order_id": "15000012345_789"}, headers={"User-Agent": "curl/7.88.1"})
            assert r.status == 200
            r = web.request("GET", "/api/notio/get-sales", headers={"Authorization": "Bearer mzk_" + "Z" * 43})
            assert r.status == 401
            r = web.request("GET", "/nothing-here")
            assert r.status == 404
            lines = wait_for_line(web.access_log, "/nothing-here")

            # Rotation as docs/deploy.md does it: rename, SIGHUP, and lighttpd writes a new file.
            os.rename(web.access_log, web.access_log + ".1")
            os.kill(web.proc.pid, signal.SIGHUP)
            time.sleep(0.5)
            assert web.request("GET", "/api/health?after-rotation").status == 200
            rotated = wait_for_line(web.access_log, "after-rotation")
        errors = open(web.log).read()

    assert len(lines) == 4, lines
    got = [COMBINED.match(l) for l in lines]
    assert all(got), lines
    assert [(m["request"], m["status"]) for m in got] == [
        ("GET /api/asir-group/get-sales?page=1 HTTP/1.1", "200"),
        ("POST /api/asir-group/acknowledge-sale HTTP/1.1", "200"),
        ("GET /api/notio/get-sales HTTP/1.1", "401"),
        ("GET /nothing-here HTTP/1.1", "404"),
    ], lines
    assert got[0]["host"] == "127.0.0.1" and int(got[0]["bytes"]) > 0
    assert (got[0]["referer"], got[0]["agent"]) == ("https://supplier.example/poll", "menzzo-test/1.0")
    assert (got[1]["referer"], got[1]["agent"]) == ("-", "curl/7.88.1")
    assert len(rotated) == 1 and COMBINED.match(rotated[0]) and "after-rotation" in rotated[0], rotated
    for text in ("\n".join(lines), errors):
        assert token not in text and "mzk_" not in text and "Bearer" not in text, text


def test_lighttpd_own_errors_are_json_for_every_status_it_produces():
    """What lighttpd answers itself, before any executable runs: a JSON error for each status, never HTML
    (an HTTP/2.0 request line gets a 505, a header line without a colon a 400, a huge request line a 431, ...)."""
    import socket
    raw_cases = [
        (b"GET /api/health HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /api/health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400),
        (b"GET /api/" + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431),
        (b"POST /api/asir-group/ship-sale HTTP/1.1\r\nHost: x\r\n\r\n", 411),
        (b"BREW /api/health HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    ]
    with Store() as s:
        with Lighttpd(s) as web:
            for raw, status in raw_cases:
                c = socket.create_connection(("127.0.0.1", web.port), timeout=10)
                c.sendall(raw)
                data = b""
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    if b"\r\n\r\n" in data and len(data.split(b"\r\n\r\n", 1)[1]) >= int(
                            re.search(rb"Content-Length: (\d+)", data).group(1) if b"Content-Length" in data else b"0"):
                        break
                c.close()
                head, _, body = data.partition(b"\r\n\r\n")
                assert head.split(b" ")[1] == str(status).encode(), (raw[:40], head)
                assert b"Content-Type: application/json" in head, (status, head)
                j = json.loads(body)
                assert j["success"] is False and j["code"] and j["error"], (status, body)
    for page in os.listdir(os.path.join(ROOT, "www", "errors")):
        j = json.loads(open(os.path.join(ROOT, "www", "errors", page)).read())
        assert set(j) == {"success", "error", "code"} and j["success"] is False, page
