"""Metrics (SPEC §10): GET /api/metrics for back-office tokens and `menzzo-admin metrics`, in the Prometheus text
format 0.0.4 (promtool checks it), whose counters equal the requests the test sent, across plain CGI runs and
two FastCGI responders; back-office tokens and supplier tokens each refused (403 wrong_scope) where they do not
belong; a real Prometheus server scrapes the endpoint and answers a counter back through its HTTP API."""
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import harness
from harness import Lighttpd, Store, assert_error, free_port, require, sale, stop_process

SAMPLE = re.compile(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-z_]+)="([^"\\]*)"')


def parse(text):
    """{(name, frozenset of labels): value} of an exposition; every line a sample, a # HELP or a # TYPE."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        key = (m.group(1), labels)
        assert key not in out, f"a series twice: {line!r}"
        out[key] = float(m.group(3))
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def promtool_check(text):
    promtool = require("promtool", "prometheus")
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stderr.decode().strip() == "", (p.returncode, p.stdout, p.stderr, text[:3000])


def metrics_over_http(web, token):
    r = web.request("GET", "/api/metrics", token=token)
    assert r.status == 200, r
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8", r.headers
    assert r.headers["cache-control"] == "no-store", r.headers
    return r.body.decode()


def concurrently(n, fn):
    results = [None] * n
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, fn(i))) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_counters_equal_the_requests_sent_across_cgis_and_two_responders():
    """Requests of every kind through lighttpd (two responders an endpoint in FastCGI mode) and as plain CGI
    runs: each counted once under its supplier, endpoint and status; the histogram's count is the endpoint's
    requests; promtool finds the text valid; menzzo-admin metrics says the same."""
    with Store() as s:
        s.import_lines([sale(600, i) for i in range(1, 4)] + [sale(601, 4, supplier="notio")])
        asir, notio = s.token("asir-group"), s.token("notio")
        back = s.token("--backoffice", "--label", "prometheus")
        with Lighttpd(s, env={"FASTCGI_PROCS": "2"}) as web:
            for _ in range(7):
                assert web.request("GET", "/api/asir-group/get-sales", token=asir).status == 200
            for _ in range(3):
                assert web.request("GET", "/api/notio/get-sales", token=notio).status == 200
            assert web.request("GET", "/api/notio/get-sales", token=asir).status == 403
            assert web.request("GET", "/api/notio/get-sales").status == 401
            assert web.request("POST", "/api/asir-group/get-sales", token=asir, body="").status == 405
            r = web.request("POST", "/api/asir-group/acknowledge-sale", token=asir, body={"menzzo_order_id": "600_1"})
            assert r.status == 200, r
            r = web.request("POST", "/api/asir-group/ship-sale", token=asir, body={"menzzo_order_id": "999_9"})
            assert r.status == 404, r
            for _ in range(2):
                assert web.request("GET", "/api/health").status == 200
            assert web.request("GET", "/api/metrics", token=asir).status == 403
            # plain CGI runs of the same store add to the same counters
            for _ in range(4):
                assert s.cgi("asir-group/get-sales", token=asir).status == 200
            assert s.cgi("health").status == 200
            text = metrics_over_http(web, back)
        promtool_check(text)
        m = parse(text)
        expect = {
            ("asir-group", "get-sales", "200"): 11, ("notio", "get-sales", "200"): 3,
            ("notio", "get-sales", "403"): 1, ("notio", "get-sales", "401"): 1, ("asir-group", "get-sales", "405"): 1,
            ("asir-group", "acknowledge-sale", "200"): 1, ("asir-group", "ship-sale", "404"): 1,
            ("", "health", "200"): 3, ("asir-group", "metrics", "403"): 1,
        }
        got = {(dict(k[1])["supplier"], dict(k[1])["endpoint"], dict(k[1])["code"]): v
               for k, v in m.items() if k[0] == "menzzo_http_requests_total"}
        assert got == expect, got
        for endpoint, n in (("get-sales", 17), ("health", 3), ("acknowledge-sale", 1), ("ship-sale", 1),
                            ("metrics", 1), ("files", 0)):
            assert value(m, "menzzo_http_request_duration_seconds_count", endpoint=endpoint) == n, endpoint
            assert value(m, "menzzo_http_request_duration_seconds_bucket", endpoint=endpoint, le="+Inf") == n
        assert value(m, "menzzo_sale_products", supplier="asir-group", status="acknowledged") == 1
        assert value(m, "menzzo_sale_products", supplier="asir-group", status="pending") == 2
        assert value(m, "menzzo_sale_products", supplier="notio", status="pending") == 1
        assert value(m, "menzzo_store_used_bytes") > 0 and value(m, "menzzo_store_map_bytes") > 0
        # the metrics request itself is counted once it is answered: the maintainer's tool sees it
        p = s.admin("metrics")
        promtool_check(p.stdout.decode())
        again = parse(p.stdout.decode())
        assert value(again, "menzzo_http_requests_total", supplier="backoffice", endpoint="metrics", code="200") == 1
        for key, v in m.items():
            if key[0].startswith("menzzo_http_request") and dict(key[1]).get("endpoint") != "metrics":
                assert again.get(key) == v, (key, v, again.get(key))


def test_concurrent_processes_lose_no_count():
    """24 plain CGIs at once, then 24 requests at once to two responders: every one counted."""
    with Store() as s:
        s.import_lines([sale(600, 1)])
        tok, back = s.token("asir-group"), s.token("--backoffice")
        results = concurrently(24, lambda i: s.cgi("asir-group/get-sales", token=tok).status)
        assert results == [200] * 24, results
        with Lighttpd(s, env={"FASTCGI_PROCS": "2"}) as web:
            results = concurrently(24, lambda i: web.request("GET", "/api/asir-group/get-sales", token=tok).status)
            assert results == [200] * 24, results
            m = parse(metrics_over_http(web, back))
        assert value(m, "menzzo_http_requests_total", supplier="asir-group", endpoint="get-sales", code="200") == 48
        assert value(m, "menzzo_http_request_duration_seconds_count", endpoint="get-sales") == 48


def test_rate_limited_requests_are_counted():
    """A bucket of 5 with the clock standing still: 8 requests, 5 answered and 3 refused, counted as 429s and in
    menzzo_rate_limited_total under the token's supplier (the back-office token has a bucket of its own)."""
    with Store(MENZZO_RATE_LIMIT="1,5", MENZZO_TEST_CLOCK="1000") as s:
        s.import_lines([sale(600, 1, supplier="notio")])
        tok, back = s.token("notio"), s.token("--backoffice")
        statuses = [s.cgi("notio/get-sales", token=tok).status for _ in range(8)]
        assert statuses == [200] * 5 + [429] * 3, statuses
        r = s.cgi("metrics", token=back)
        assert r.status == 200, r
        promtool_check(r.body.decode())
        m = parse(r.body.decode())
        assert value(m, "menzzo_rate_limited_total", supplier="notio") == 3
        assert value(m, "menzzo_rate_limited_total", supplier="asir-group") == 0
        assert value(m, "menzzo_http_requests_total", supplier="notio", endpoint="get-sales", code="429") == 3
        assert value(m, "menzzo_http_requests_total", supplier="notio", endpoint="get-sales", code="200") == 5


def test_tokens_are_refused_outside_their_scope():
    """A back-office token: 403 wrong_scope on every supplier endpoint (files too); a supplier's: 403
    wrong_scope on the metrics; none: 401; a revoked back-office token: 401."""
    with Store() as s:
        s.import_lines([sale(600, 1, label="labels/600_1.pdf")])
        os.makedirs(os.path.join(s.env["MENZZO_FILES_DIR"], "labels"))
        with open(os.path.join(s.env["MENZZO_FILES_DIR"], "labels", "600_1.pdf"), "wb") as f:
            f.write(b"%PDF-1.4\n")
        tok, back = s.token("asir-group"), s.token("--backoffice")
        for exe, method, body, path_info in (("asir-group/get-sales", "GET", None, None),
                                             ("notio/get-sales", "GET", None, None),
                                             ("asir-group/acknowledge-sale", "POST", {"menzzo_order_id": "600_1"}, None),
                                             ("asir-group/ship-sale", "POST", {"menzzo_order_id": "600_1"}, None),
                                             ("files", "GET", None, "/labels/600_1.pdf")):
            r = s.cgi(exe, method=method, body=body, token=back, path_info=path_info)
            assert_error(r, 403, "wrong_scope")
        assert s.cgi("files", token=tok, path_info="/labels/600_1.pdf").status == 200
        assert_error(s.cgi("metrics", token=tok), 403, "wrong_scope")
        assert_error(s.cgi("metrics"), 401, "missing_token")
        assert s.cgi("metrics", token=back).status == 200
        assert_error(s.cgi("metrics", method="POST", body="", token=back), 405, "method_not_allowed")
        listed = [json.loads(l) for l in s.admin("token", "list", "--json").stdout.decode().splitlines()]
        assert [(t["kind"], t["supplier"]) for t in listed] == [("supplier", "asir-group"), ("backoffice", None)]
        assert "\tbackoffice\t" in s.admin("token", "list").stdout.decode()
        s.admin("token", "revoke", str(listed[1]["id"]))
        assert_error(s.cgi("metrics", token=back), 401, "invalid_token")
        p = s.admin("token", "add", "asir-group", "--backoffice", check=False)
        assert p.returncode == 2 and b"belongs to no SUPPLIER" in p.stderr, p.stderr


def test_admin_metrics_reads_the_file_and_never_makes_one():
    """Without a shared-state file: the store's gauges, exit status 1 and a sentence why, no file created;
    with a file damaged: the same, the file left as it was; the endpoint then rebuilds it."""
    with Store() as s:
        s.import_lines([sale(600, 1)])
        state = os.path.join(s.env["MENZZO_DATA_DIR"], "state")
        p = s.admin("metrics", check=False)
        assert p.returncode == 1 and b"no counters" in p.stderr, p
        assert not os.path.exists(state), "menzzo-admin metrics created the shared-state file"
        promtool_check(p.stdout.decode())
        assert value(parse(p.stdout.decode()), "menzzo_sale_products", supplier="asir-group", status="pending") == 1
        back = s.token("--backoffice")
        assert s.cgi("metrics", token=back).status == 200 and os.path.exists(state)
        with open(state, "r+b") as f:
            f.write(b"garbage!")
        p = s.admin("metrics", check=False)
        assert p.returncode == 1 and b"no counters" in p.stderr, p
        with open(state, "rb") as f:
            assert f.read(8) == b"garbage!", "menzzo-admin metrics wrote to the file"
        r = s.cgi("metrics", token=back)
        assert r.status == 200, r
        promtool_check(r.body.decode())
        assert s.admin("metrics").returncode == 0


def test_metrics_answer_when_the_file_is_damaged_under_responders():
    """The shared-state file cut short and then filled with garbage under running responders: the metrics are
    answered 200 each time (without counters while the map faults), valid for promtool, and the counting
    starts again in a rebuilt file."""
    with Store() as s:
        s.import_lines([sale(600, 1)])
        tok, back = s.token("asir-group"), s.token("--backoffice")
        state = os.path.join(s.env["MENZZO_DATA_DIR"], "state")
        with Lighttpd(s, env={"FASTCGI_PROCS": "2"}) as web:
            for _ in range(3):
                assert web.request("GET", "/api/asir-group/get-sales", token=tok).status == 200
            promtool_check(metrics_over_http(web, back))
            size = os.path.getsize(state)
            os.truncate(state, 0)
            for _ in range(4):
                promtool_check(metrics_over_http(web, back))
            with open(state, "r+b") as f:
                f.write(os.urandom(size))
            for _ in range(4):
                promtool_check(metrics_over_http(web, back))
            assert web.request("GET", "/api/asir-group/get-sales", token=tok).status == 200
            m = parse(metrics_over_http(web, back))
        assert os.path.getsize(state) == size
        assert value(m, "menzzo_http_requests_total", supplier="asir-group", endpoint="get-sales", code="200") >= 1


def test_a_prometheus_server_scrapes_the_metrics():
    """Prometheus (the Debian package's server) on a loopback port scrapes /api/metrics every second with a
    back-office token; its query API then answers the counter of the requests the test sent."""
    prometheus = require("prometheus", "prometheus")
    with Store() as s:
        s.import_lines([sale(600, 1, supplier="notio")])
        tok, back = s.token("notio"), s.token("--backoffice", "--label", "prometheus")
        with Lighttpd(s, env={"FASTCGI_PROCS": "2"}) as web:
            for _ in range(9):
                assert web.request("GET", "/api/notio/get-sales", token=tok).status == 200
            work = tempfile.mkdtemp(prefix="prometheus-", dir=s.dir)
            token_file = os.path.join(work, "token")
            with open(token_file, "w") as f:
                f.write(back)
            config = os.path.join(work, "prometheus.yml")
            with open(config, "w") as f:
                f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: menzzo
    metrics_path: /api/metrics
    authorization:
      type: Bearer
      credentials_file: {token_file}
    static_configs:
      - targets: ['127.0.0.1:{web.port}']
""")
            port = free_port()
            log = open(os.path.join(work, "prometheus.log"), "wb")
            proc = subprocess.Popen([prometheus, f"--config.file={config}", f"--storage.tsdb.path={work}/data",
                                     f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                    stdout=log, stderr=subprocess.STDOUT, cwd=work)
            try:
                query = 'menzzo_http_requests_total{supplier="notio",endpoint="get-sales",code="200"}'
                url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
                answer, deadline = None, time.time() + 120    # a guard against a server that never scrapes
                while time.time() < deadline:
                    assert proc.poll() is None, open(log.name, errors="replace").read()[-3000:]
                    try:
                        with urllib.request.urlopen(url, timeout=5) as resp:
                            answer = json.load(resp)
                        if answer["status"] == "success" and answer["data"]["result"]:
                            break
                    except OSError:
                        pass
                    time.sleep(0.2)
                assert answer and answer["data"]["result"], (answer, open(log.name, errors="replace").read()[-3000:])
                result = answer["data"]["result"][0]
                assert result["metric"]["job"] == "menzzo" and result["value"][1] == "9", result
                # and the scrapes themselves, under the back office's label
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets", timeout=5) as resp:
                    targets = json.load(resp)["data"]["activeTargets"]
                assert [t["health"] for t in targets] == ["up"], targets
            finally:
                stop_process(proc)
                log.close()
