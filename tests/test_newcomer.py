"""What tripped a new maintainer: HEAD on the GET endpoints (uptime probes and load balancers send it), the
admin tool's usage after every wrong argument, the supplier slugs listed where one is asked for, tokens
listed by ID, and a 404 that points at the API's reference."""
import os

from harness import CGI_DIR, SUPPLIERS, Lighttpd, Store, sale


def test_head_is_a_get_without_its_body():
    with Store() as s:
        s.import_lines([sale(1, 1)])
        tok = s.token("asir-group")
        for path, kw in (("health", {}), ("asir-group/get-sales", {"token": tok})):
            get = s.cgi(path, **kw)
            e = {"REQUEST_METHOD": "HEAD", "QUERY_STRING": "", "GATEWAY_INTERFACE": "CGI/1.1"}
            if "token" in kw:
                e["HTTP_AUTHORIZATION"] = f"Bearer {tok}"
            p = s.run([os.path.join(CGI_DIR, path)], input=b"", env=e)
            headers, _, body = p.stdout.partition(b"\r\n\r\n")
            assert p.returncode == 0 and body == b"", (path, p.stdout)
            assert headers.startswith(b"Status: 200") and f"Content-Length: {len(get.body)}".encode() in headers, headers
        # a POST-only endpoint does not take HEAD; a GET-only one says it takes both
        e = {"REQUEST_METHOD": "HEAD", "GATEWAY_INTERFACE": "CGI/1.1", "HTTP_AUTHORIZATION": f"Bearer {tok}"}
        p = s.run([os.path.join(CGI_DIR, "asir-group/ship-sale")], input=b"", env=e)
        assert b"Status: 405" in p.stdout and b"Allow: POST" in p.stdout, p.stdout
        assert s.cgi("health", method="DELETE").headers["allow"] == "GET, HEAD"


def test_head_through_lighttpd():
    with Store() as s:
        with Lighttpd(s) as web:
            r = web.request("HEAD", "/api/health")
            assert r.status == 200 and r.body == b"" and r.headers["content-type"] == "application/json", r
            assert int(r.headers["content-length"]) == len(b'{"status":"ok"}'), r.headers


def test_usage_follows_every_wrong_argument():
    with Store() as s:
        for args, said in ((("token", "add", "ikea"), "SUPPLIER must be one of " + ", ".join(SUPPLIERS)),
                           (("show", "15000_0"), "ID must be a menzzo_order_id"),
                           (("token", "revoke", "abc"), "ID must be a token number")):
            p = s.admin(*args, check=False)
            err = p.stderr.decode()
            assert p.returncode == 2 and said in err and "\nusage: menzzo-admin " in err, (args, err)


def test_import_lists_the_supplier_slugs():
    with Store() as s:
        p = s.import_lines([sale(1, 1, supplier="ikea")], check=False)
        assert p.returncode == 1 and f"supplier must be one of {', '.join(SUPPLIERS)}" in p.stderr.decode(), p.stderr


def test_tokens_are_listed_by_id():
    with Store() as s:
        for _ in range(12):
            s.token(SUPPLIERS[0])
        lines = s.admin("token", "list").stdout.decode().splitlines()[1:]
        assert [int(l.split("\t")[0]) for l in lines] == list(range(1, 13)), lines


def test_a_404_points_at_the_reference():
    with Store() as s:
        with Lighttpd(s) as web:
            for path in ("/api/health.c", "/api/nowhere", "/"):
                r = web.request("GET", path)
                assert r.status == 404 and "/api/docs" in r.json()["error"], (path, r)
