"""The documentation holds: docs/openapi.yaml lints and describes real responses, the man page
renders and covers every command, the public page's Python client works unchanged, make install
lays out the tree, and the Apache samples serve the API."""
import glob
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import datetime, timedelta

import jsonschema
import requests
import yaml

from harness import (ADMIN, CGI_DIR, ENDPOINTS, ROOT, ROUTES, SUPPLIERS, Lighttpd, Store, check_sanitizer,
                     demo_store, free_port, node_tool, require, stop_process)

OPENAPI = os.path.join(ROOT, "docs", "openapi.yaml")
MAN_PAGE = os.path.join(ROOT, "docs", "menzzo-admin.1")
APACHE_SAMPLES = os.path.join(ROOT, "build", "apache")    # the samples, as make fills them from docs/apache/*.in


# --- the seed's client, verbatim -------------------------------------------------------------

class MenzzoSupplierAPI:
    def __init__(self, base_url, token, supplier):
        self.base_url = base_url
        self.token = token
        self.supplier = supplier  # 'asir-group' or 'notio'

    def _headers(self):
        return {
            'Authorization': f'Bearer {self.token}',
            'Content-Type': 'application/json'
        }

    def get_sales(self, page=1, date_from=None, date_to=None):
        """Retrieve sales for the supplier"""
        params = {'page': page}
        if date_from:
            params['date_from'] = date_from
        if date_to:
            params['date_to'] = date_to

        url = f'{self.base_url}/api/{self.supplier}/get-sales'
        response = requests.get(url, headers=self._headers(), params=params)
        response.raise_for_status()
        return response.json()

    def acknowledge_sale(self, menzzo_order_id):
        """Acknowledge receipt of an order"""
        url = f'{self.base_url}/api/{self.supplier}/acknowledge-sale'
        data = {'menzzo_order_id': menzzo_order_id}
        response = requests.post(url, headers=self._headers(), json=data)
        response.raise_for_status()
        return response.json()

    def ship_sale(self, menzzo_order_id):
        """Mark an order as shipped"""
        url = f'{self.base_url}/api/{self.supplier}/ship-sale'
        data = {'menzzo_order_id': menzzo_order_id}
        response = requests.post(url, headers=self._headers(), json=data)
        response.raise_for_status()
        return response.json()


# --- helpers ---------------------------------------------------------------------------------

_spec = None


def spec():
    global _spec
    if _spec is None:
        with open(OPENAPI) as f:
            _spec = yaml.safe_load(f)
    return _spec


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = spec()
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def validate(instance, schema, what):
    """Validates against a schema of the description, its #/components references resolved."""
    wrapper = dict(schema)
    wrapper["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    wrapper["components"] = spec()["components"]
    try:
        jsonschema.Draft202012Validator(wrapper, format_checker=jsonschema.FormatChecker()).validate(instance)
    except jsonschema.ValidationError as e:
        raise AssertionError(f"{what}: {e.message} at {list(e.absolute_path)}: {instance!r:.400}") from None


# Headers the API itself sets: whenever one is present, the description must list it.
API_HEADERS = ("x-request-id", "x-content-type-options", "cache-control", "x-cache", "link",
               "retry-after", "www-authenticate", "allow", "content-disposition", "ratelimit-policy", "ratelimit")


def template_of(path):
    """The path of the description that a real path is an instance of (/api/notio/get-sales ->
    /api/{supplier}/get-sales); the path itself when none is."""
    for template in spec()["paths"]:
        regex = re.escape(template).replace(r"\{supplier\}", "(?:" + "|".join(SUPPLIERS) + ")")
        regex = re.sub(r"\\\{[a-z_]+\\\}", ".+", regex)
        if re.fullmatch(regex, path):
            return template
    return path


def check_against_spec(method, path, r):
    """Checks status, headers and body of a real response against the operation's description (path is
    the real one, or a template of the description)."""
    path = template_of(path)
    item = spec()["paths"][path]
    what = f"{method} {path} -> {r.status}"
    op = item.get(method.lower())
    if op is None:
        # Another method: the path's one operation describes the 405 it gets.
        assert r.status == 405 and len(item) == 1, f"{what}: not described"
        op = next(iter(item.values()))
    assert str(r.status) in op["responses"], f"{what}: status not described"
    resp = resolve(op["responses"][str(r.status)])
    described = {}
    for name, h in resp.get("headers", {}).items():
        h = resolve(h)
        described[name.lower()] = h
        value = r.headers.get(name.lower())
        if value is None:
            assert not h.get("required"), f"{what}: header {name} missing"
            continue
        schema = h["schema"]
        validate(int(value) if schema.get("type") == "integer" else value, schema, f"{what} header {name}")
    for name in API_HEADERS:
        if name in r.headers:
            assert name in described, f"{what}: header {name} not described"
    ctype = r.headers.get("content-type", "").split(";")[0].strip()
    assert ctype in resp.get("content", {}), f"{what}: content type {ctype} not described"
    schema = resp["content"][ctype]["schema"]
    if ctype == "application/json":
        body = json.loads(r.body)
        validate(body, schema, what)
        return body
    return r.body


def codes_in_sources():
    """The error codes lib/ and cgi-bin/ can send: the code argument of every response_error call,
    the code of every whitelist row (struct field_rule), and every code a parser hands back."""
    codes = set()
    for path in glob.glob(os.path.join(ROOT, "lib", "*.c")) + glob.glob(os.path.join(ROOT, "cgi-bin", "*.c")):
        text = open(path).read()
        for m in re.finditer(r"response_error(?:_why)?\(", text):
            args = text[m.end():text.index(";", m.end())].split(",")
            codes.update(re.findall(r'"([a-z_]+)"', args[2]))
        codes.update(re.findall(r'\{\s*"[a-z_]+",\s*\w+,\s*"([a-z_]+)",', text))
        codes.update(re.findall(r'\*code = "([a-z_]+)"', text))
    return codes


# The codes the description lists that the web server alone sends, never the API's programs: its 411 for
# a POST without Content-Length, and its 503 when no process of the API can take a request.
WEB_SERVER_ONLY = {"length_required": 411, "unavailable": 503}


def codes_of_web_server():
    """{code: statuses} of the JSON errors the web server answers itself (www/errors/status-NNN.html)."""
    codes = {}
    for path in glob.glob(os.path.join(ROOT, "www", "errors", "status-*.html")):
        status = int(re.search(r"status-([0-9]{3})\.html$", path).group(1))
        codes.setdefault(json.load(open(path))["code"], set()).add(status)
    return codes


# --- (a) the description lints ---------------------------------------------------------------

def redocly(*args, timeout=300):
    """Runs the pinned @redocly/cli of tools/node (installed by tools/install-deps.sh test)."""
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
               NO_UPDATE_NOTIFIER="1", CI="true")
    return subprocess.run([node_tool(".bin/redocly"), *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_openapi_lints_clean():
    p = redocly("lint", "--format=json", OPENAPI)
    report = json.loads(p.stdout[p.stdout.index("{"):])
    errors = [pr for pr in report.get("problems", []) if pr.get("severity") == "error"]
    assert p.returncode == 0 and not errors and report["totals"]["errors"] == 0, \
        json.dumps(errors or report, indent=1)[:4000] + p.stderr[-2000:]


def test_openapi_covers_every_endpoint_and_code():
    """Every row of the route table is a path of the description with its one method, and every path of
    the description is a row: a missing section or a missing row fails here."""
    paths = spec()["paths"]
    expected = {("/api/{supplier}/" if per_supplier else "/api/") + route: method.lower()
                for route, method, per_supplier in ENDPOINTS.values()}
    assert set(paths) == set(expected), {"only in lib/endpoints.def": set(expected) - set(paths),
                                         "only in docs/openapi.yaml": set(paths) - set(expected)}
    for path, method in expected.items():
        assert list(paths[path]) == [method], (path, list(paths[path]), method)
    for path, item in paths.items():
        for method, op in item.items():
            for status, resp in op["responses"].items():
                resp = resolve(resp)
                assert "X-Request-Id" in resp.get("headers", {}), (path, method, status)
                if status.startswith(("4", "5")):
                    assert "application/json" in resp["content"], (path, method, status)
    documented = set(spec()["components"]["schemas"]["Error"]["properties"]["code"]["enum"])
    sent = codes_in_sources()
    api = documented - set(WEB_SERVER_ONLY)
    assert sent == api, f"in the sources only: {sent - api}; described only: {api - sent}"
    web_server = codes_of_web_server()
    for code, status in WEB_SERVER_ONLY.items():
        assert code in documented, f"the web server's {status} {code} is not described"
        assert code not in sent, f"{code} is sent by the sources too: it belongs with the API's codes"
        assert status in web_server.get(code, ()), f"www/errors/ has no {status} {code}"
    guide = open(os.path.join(ROOT, "docs", "suppliers.md")).read()
    for code in sent:
        assert f"`{code}`" in guide, f"docs/suppliers.md does not explain {code}"


def test_openapi_request_bodies():
    """The described request bodies take what the endpoints take and refuse what they refuse."""
    def body_schema(path, ctype="application/json"):
        return resolve(spec()["paths"][path]["post"]["requestBody"])["content"][ctype]["schema"]

    def ok(schema, body):
        try:
            validate(body, schema, "request body")
            return True
        except AssertionError:
            return False

    ack, ship = body_schema("/api/{supplier}/acknowledge-sale"), body_schema("/api/{supplier}/ship-sale")
    oid = "15000012345_789"
    for body in ({"menzzo_order_id": oid}, {"menzzo_order_id": oid, "accepted": True},
                 {"menzzo_order_id": oid, "accepted": False, "reason": "out_of_stock", "note": "Épuisé 📦"},
                 {"items": [{"menzzo_order_id": oid}, {"menzzo_order_id": oid, "accepted": False, "reason": "other"}]},
                 {"items": [{"menzzo_order_id": oid}] * 100}):
        assert ok(ack, body), body
    for body in ({"menzzo_order_id": oid, "accepted": "false", "reason": "other"},
                 {"menzzo_order_id": oid, "accepted": False}, {"menzzo_order_id": oid, "reason": "other"},
                 {"menzzo_order_id": oid, "accepted": False, "reason": "sold_out"},
                 {"menzzo_order_id": oid, "accepted": False, "reason": "other", "note": "x" * 501},
                 {"menzzo_order_id": oid, "accepted": False, "reason": "other", "note": "bell\u0007"},
                 {"items": []}, {"items": [{"menzzo_order_id": oid}] * 101},
                 {"items": [{"menzzo_order_id": oid}], "menzzo_order_id": oid}, {"items": ["x"]}):
        assert not ok(ack, body), body
    for body in ({"menzzo_order_id": oid, "tracking_number": "T", "carrier": "DPD"},
                 {"menzzo_order_id": oid, "packages": [{"tracking_number": "T"}, {"tracking_number": "U", "carrier": "D"}]},
                 {"items": [{"menzzo_order_id": oid, "packages": [{"tracking_number": "T"}]}]}):
        assert ok(ship, body), body
    for body in ({"menzzo_order_id": oid, "packages": []}, {"menzzo_order_id": oid, "packages": [{"carrier": "D"}]},
                 {"menzzo_order_id": oid, "packages": [{"tracking_number": "T"}], "tracking_number": "T"},
                 {"menzzo_order_id": oid, "packages": [{"tracking_number": "T"}] * 51},
                 {"items": [{"menzzo_order_id": oid}], "packages": [{"tracking_number": "T"}]}):
        assert not ok(ship, body), body
    form = body_schema("/api/{supplier}/acknowledge-sale", "application/x-www-form-urlencoded")
    assert ok(form, {"menzzo_order_id": oid, "accepted": "false", "reason": "other"})
    assert not ok(form, {"menzzo_order_id": oid, "accepted": "no", "reason": "other"})
    assert "packages" not in resolve(body_schema("/api/{supplier}/ship-sale", "application/x-www-form-urlencoded"))["properties"]


# --- (b) real responses match the description ------------------------------------------------

def test_openapi_describes_real_responses():
    s, tokens = demo_store()
    try:
        asir, notio = tokens["asir-group"], tokens["notio"]
        with Lighttpd(s) as web:
            def call(method, path, spec_path=None, **kw):
                r = web.request(method, path, **kw)
                return r, check_against_spec(method, spec_path or path.split("?")[0], r)

            # health and listings
            r, body = call("GET", "/api/health")
            assert r.status == 200 and body == {"status": "ok"}
            r, items = call("GET", "/api/asir-group/get-sales?page=1", token=asir)
            assert r.status == 200 and len(items) == 100 and r.headers["x-cache"] == "MISS" and "link" in r.headers
            r, _ = call("GET", "/api/asir-group/get-sales?page=1", token=asir)
            assert r.headers["x-cache"] == "HIT"
            for supplier, tok in tokens.items():
                for status in ("all", "shipped", "cancelled", "acknowledged"):
                    r, got = call("GET", f"/api/{supplier}/get-sales?status={status}", token=tok)
                    assert r.status == 200 and got, (supplier, status)
                    # prices carry two decimals in the text itself
                    assert re.search(rb'"price":[0-9]+\.[0-9]{2}[,}]', r.body)
                    assert not re.search(rb'"price":[0-9]+(\.[0-9]?)?[,}]', r.body)
            r, _ = call("GET", "/api/notio/get-sales", token=notio)
            assert r.headers["cache-control"] == "no-store" and "x-cache" not in r.headers
            r, got = call("GET", "/api/asir-group/get-sales?order_number=" + items[0]["menzzo_order_id"].split("_")[0],
                          token=asir)
            assert got and all(i["menzzo_order_id"].startswith(items[0]["menzzo_order_id"].split("_")[0]) for i in got)

            # the cursor of the Link header
            r, first = call("GET", "/api/notio/get-sales", token=notio)
            link = re.match(r'<([^>]+)>; rel="next"', r.headers["link"]).group(1)
            assert link.startswith(s.env["MENZZO_BASE_URL"])
            r, second = call("GET", link[len(s.env["MENZZO_BASE_URL"]):], token=notio)
            assert second and second[0]["menzzo_order_id"] not in {i["menzzo_order_id"] for i in first}

            # acknowledge, repeat, ship, repeat, acknowledge a shipped one
            pending = [i["menzzo_order_id"] for i in items if i["status"] == "pending"]
            a, b = pending[0], pending[1]
            r, res = call("POST", "/api/asir-group/acknowledge-sale", token=asir, body={"menzzo_order_id": a})
            assert r.status == 200 and res["changed"] is True and res["status"] == "acknowledged"
            r, res = call("POST", "/api/asir-group/acknowledge-sale", token=asir, body={"menzzo_order_id": a})
            assert r.status == 200 and res["changed"] is False
            r, res = call("POST", "/api/asir-group/ship-sale", token=asir,
                          body={"menzzo_order_id": a, "tracking_number": "XY123456789FR", "carrier": "DPD"})
            assert r.status == 200 and res["changed"] is True and res["prepared_at"]
            r, res = call("POST", "/api/asir-group/ship-sale", token=asir, body=f"menzzo_order_id={a}",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status == 200 and res["changed"] is False
            r, res = call("POST", "/api/asir-group/acknowledge-sale", token=asir, body={"menzzo_order_id": a})
            assert r.status == 200 and res["status"] == "shipped" and res["changed"] is False
            r, res = call("POST", "/api/asir-group/ship-sale", token=asir, body={"menzzo_order_id": b})
            assert r.status == 200 and res["acknowledged_at"] == res["prepared_at"]
            r, res = call("POST", "/api/asir-group/ship-sale", token=asir,
                          body={"menzzo_order_id": pending[4], "packages": [{"tracking_number": "XY1"},
                                                                            {"tracking_number": "XY2", "carrier": "DPD"}]})
            assert r.status == 200 and res["changed"] is True
            r, err = call("POST", "/api/asir-group/ship-sale", token=asir, body=f"menzzo_order_id={pending[5]}&packages=X",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status == 400 and err["code"] == "invalid_body"

            # label files
            label = items[2]["link_to_label"][len(s.env["MENZZO_BASE_URL"]):]
            r, pdf = call("GET", label, "/api/files/{path}", token=asir)
            assert r.status == 200 and pdf.startswith(b"%PDF-")
            r, err = call("GET", label, "/api/files/{path}", token=notio)
            assert r.status == 404 and err["code"] == "not_found"
            r, err = call("GET", "/api/files/labels/nope.pdf", "/api/files/{path}", token=asir)
            assert r.status == 404

            # 400
            for q in ("page=0", "page=1&page=2", "date_from=2026-02-30", "status=bogus",
                      "last_menzzo_order_number=1_1", "order_number=015"):
                r, err = call("GET", "/api/asir-group/get-sales?" + q, token=asir)
                assert r.status == 400 and err["code"] == "invalid_parameter", (q, r)
            for body, code in (({"menzzo_order_id": "015_7"}, "invalid_order_id"), ({}, "invalid_body"),
                               ("{not json", "invalid_body"), ({"menzzo_order_id": 1}, "invalid_body")):
                r, err = call("POST", "/api/notio/ship-sale", token=notio, body=body,
                              headers={"Content-Type": "application/json"})
                assert r.status == 400 and err["code"] == code, (body, r)
            # 401, 403
            r, err = call("GET", "/api/notio/get-sales")
            assert r.status == 401 and err["code"] == "missing_token"
            r, err = call("GET", "/api/notio/get-sales", token="mzk_" + "A" * 43)
            assert r.status == 401 and err["code"] == "invalid_token"
            r, err = call("POST", "/api/notio/acknowledge-sale", headers={"Authorization": "Basic eDp5"},
                          body={"menzzo_order_id": a})
            assert r.status == 401 and err["code"] == "invalid_token"
            r, err = call("GET", "/api/files/labels/x.pdf", "/api/files/{path}")
            assert r.status == 401
            r, err = call("GET", "/api/asir-group/get-sales", token=notio)
            assert r.status == 403 and err["code"] == "wrong_supplier"
            r, err = call("POST", "/api/notio/ship-sale", token=asir, body={"menzzo_order_id": a})
            assert r.status == 403
            # 404: unknown, another order's, another supplier's
            for oid in ("15000012345_1", "1_" + a.split("_")[1]):
                r, err = call("POST", "/api/asir-group/acknowledge-sale", token=asir, body={"menzzo_order_id": oid})
                assert r.status == 404 and err["code"] == "not_found", oid
            r, err = call("POST", "/api/notio/ship-sale", token=notio, body={"menzzo_order_id": b})
            assert r.status == 404
            # 405
            r, err = call("GET", "/api/asir-group/ship-sale", token=asir)
            assert r.status == 405 and r.headers["allow"] == "POST"
            r, err = call("POST", "/api/notio/get-sales", token=notio, body={"page": "1"})
            assert r.status == 405 and r.headers["allow"] == "GET, HEAD"
            r, err = call("DELETE", "/api/health")
            assert r.status == 405 and r.headers["allow"] == "GET, HEAD"
            # 409
            c = pending[2]
            s.admin("cancel", c)
            r, err = call("POST", "/api/asir-group/acknowledge-sale", token=asir, body={"menzzo_order_id": c})
            assert r.status == 409 and err["code"] == "cancelled"
            r, err = call("POST", "/api/asir-group/ship-sale", token=asir, body={"menzzo_order_id": c})
            assert r.status == 409
            # a refusal, its repeat, and the 409s around it
            d = pending[3]
            refusal = {"menzzo_order_id": d, "accepted": False, "reason": "out_of_stock", "note": "Épuisé"}
            r, res = call("POST", "/api/asir-group/acknowledge-sale", token=asir, body=refusal)
            assert r.status == 200 and res["status"] == "refused" and res["changed"] is True, res
            r, res = call("POST", "/api/asir-group/acknowledge-sale", token=asir,
                          body=f"menzzo_order_id={d}&accepted=false&reason=other",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status == 200 and res["changed"] is False and res["note"] == "Épuisé"
            r, err = call("POST", "/api/asir-group/ship-sale", token=asir, body={"menzzo_order_id": d})
            assert r.status == 409 and err["code"] == "refused"
            r, err = call("POST", "/api/asir-group/acknowledge-sale", token=asir, body={"menzzo_order_id": d})
            assert r.status == 409 and err["code"] == "refused"
            r, err = call("POST", "/api/asir-group/acknowledge-sale", token=asir, body=dict(refusal, menzzo_order_id=a))
            assert r.status == 409 and err["code"] == "already_shipped"
            r, err = call("POST", "/api/asir-group/acknowledge-sale", token=asir, body=dict(refusal, accepted="false"))
            assert r.status == 400 and err["code"] == "invalid_body"
            r, got = call("GET", "/api/asir-group/get-sales?status=refused", token=asir)
            assert [i["menzzo_order_id"] for i in got] == [d] and got[0]["refused_at"] == res["refused_at"]
            # batches, every kind of result in them
            e, f = pending[6], pending[7]
            r, res = call("POST", "/api/asir-group/acknowledge-sale", token=asir,
                          body={"items": [{"menzzo_order_id": e}, {"menzzo_order_id": e}, dict(refusal, menzzo_order_id=f),
                                          {"menzzo_order_id": d}, {"menzzo_order_id": "015_7"}, {"menzzo_order_id": 5},
                                          {"menzzo_order_id": "15000012345_1"}, dict(refusal, menzzo_order_id=a)]})
            assert r.status == 200 and [x["success"] for x in res["results"]] == [True, True, True] + [False] * 5, res
            r, res = call("POST", "/api/asir-group/ship-sale", token=asir,
                          body={"items": [{"menzzo_order_id": e, "packages": [{"tracking_number": "B1"}]},
                                          {"menzzo_order_id": f}, {"menzzo_order_id": c}]})
            assert r.status == 200 and [x.get("code") for x in res["results"]] == [None, "refused", "cancelled"], res
            r, err = call("POST", "/api/asir-group/ship-sale", token=asir, body={"items": []})
            assert r.status == 400 and err["code"] == "invalid_body"
            # 413
            r, err = call("POST", "/api/asir-group/ship-sale", token=asir, body="x" * 70000,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status == 413 and err["code"] == "body_too_large"

        # what lighttpd cannot easily provoke, through the same executables run directly
        r = s.cgi("asir-group/acknowledge-sale", method="POST", token=asir, body="menzzo_order_id=1_1",
                  env={"CONTENT_LENGTH": "40"})
        assert r.status == 400 and check_against_spec("POST", "/api/asir-group/acknowledge-sale", r)["code"] == "bad_body"
        # the second within the second is throttled (the test builds' clock: MENZZO_TEST_CLOCK)
        tight, limited = {"MENZZO_RATE_LIMIT": "1,1", "MENZZO_TEST_CLOCK": "1000"}, s.token("notio")
        r = s.cgi("notio/get-sales", token=limited, env=tight)
        assert r.status == 200
        check_against_spec("GET", "/api/notio/get-sales", r)
        r = s.cgi("notio/get-sales", token=limited, env=tight)
        assert r.status == 429 and check_against_spec("GET", "/api/notio/get-sales", r)["code"] == "rate_limited"
        r = s.cgi("notio/ship-sale", method="POST", token=limited, body={"menzzo_order_id": "1_1"}, env=tight)
        assert r.status == 429 and check_against_spec("POST", "/api/notio/ship-sale", r)
        nowhere = {"MENZZO_DATA_DIR": os.path.join(s.dir, "nowhere")}
        for path, spec_path in (("health", "/api/health"), ("notio/get-sales", "/api/notio/get-sales")):
            r = s.cgi(path, token=notio, env=nowhere)
            assert r.status == 503 and check_against_spec("GET", spec_path, r)["code"] == "storage_unavailable"
        r = s.cgi("asir-group/ship-sale", method="POST", token=asir, body={"menzzo_order_id": a}, env=nowhere)
        assert r.status == 503 and check_against_spec("POST", "/api/asir-group/ship-sale", r)
        for env, path, status in (({"MENZZO_PAGE_SIZE": "0"}, "health", 503),
                                  ({"MENZZO_CACHE_TTL_ASIR_GROUP": "soon"}, "asir-group/get-sales", 500)):
            r = s.cgi(path, token=asir, env=env)
            assert r.status == status and check_against_spec("GET", "/api/" + path, r)["code"] == "misconfigured"
    finally:
        s.close()


# --- (c) the man page ------------------------------------------------------------------------

def test_man_page_renders_and_covers_every_command():
    require("man", "man-db")
    require("groff", "groff-base")
    env = dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="200", LC_ALL="C.UTF-8")
    p = subprocess.run(["man", "-l", MAN_PAGE], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    text = p.stdout
    p = subprocess.run(["man", "--warnings", "-l", MAN_PAGE], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0 and p.stderr.strip() == "", p.stderr
    p = subprocess.run(["groff", "-ww", "-mandoc", "-z", MAN_PAGE], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stderr.strip() == "", p.stderr
    # groff may print hyphens and minus signs as Unicode; the help text has ASCII.
    flat = " ".join(text.replace("\u2010", "-").replace("\u2212", "-").split())
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES"):
        assert re.search(rf"^{section}$", text, re.M), section

    help_text = subprocess.run([ADMIN, "--help"], capture_output=True, text=True, timeout=30).stdout
    usages = [l.strip() for l in help_text.split("commands:")[1].split("\n\n")[0].splitlines() if l.strip()]
    assert len(usages) >= 12, help_text
    for usage in usages:
        words = []
        for w in usage.split():
            if not re.fullmatch(r"[a-z]+", w):
                break
            words.append(w)
        assert " ".join(["menzzo-admin"] + words) in flat, f"man page lacks the command {' '.join(words)}"
    commands = {u.split()[0] for u in usages}
    options = set(re.findall(r"--[a-z]+", help_text))
    for cmd in commands:
        sub = subprocess.run([ADMIN, cmd, "--help"], capture_output=True, text=True, timeout=30)
        assert sub.returncode == 0, cmd
        options |= set(re.findall(r"--[a-z]+", sub.stdout))
    options.discard("--help")
    assert {"--label", "--expires", "--after", "--limit", "--all"} <= options, options
    for opt in options | {"--help"}:
        assert opt in flat, f"man page lacks {opt}"
    for var in ("MENZZO_DATA_DIR", "MENZZO_FILES_DIR", "MENZZO_MAP_SIZE"):
        assert var in flat


# --- (d) the seed's client -------------------------------------------------------------------

def test_seed_python_client_unchanged():
    s, tokens = demo_store()
    try:
        with Lighttpd(s) as web:
            for supplier in SUPPLIERS:
                api = MenzzoSupplierAPI(base_url=web.url, token=tokens[supplier], supplier=supplier)
                # as in the page's usage example; the demo's last orders are dated today (UTC)
                today = datetime.now().strftime('%Y-%m-%d')
                sales = api.get_sales(date_from=today)
                if not sales:
                    sales = api.get_sales(date_from=(datetime.utcnow() - timedelta(days=1)).strftime('%Y-%m-%d'))
                assert sales, supplier
                assert set(sales[0]) >= {"menzzo_order_id", "sku", "quantity", "price", "link_to_label",
                                         "order_date", "carrier"}
                done = []
                for sale in sales:
                    order_id = sale['menzzo_order_id']
                    ack_result = api.acknowledge_sale(order_id)
                    assert ack_result['success'] is True and ack_result['menzzo_order_id'] == order_id
                    ship_result = api.ship_sale(order_id)
                    assert ship_result['success'] is True and ship_result['status'] == 'shipped'
                    done.append(order_id)
                # a retry after a lost response is harmless
                again = api.ship_sale(done[0])
                assert again['success'] is True and again['changed'] is False
                left = {i["menzzo_order_id"] for i in api.get_sales(date_from=today)}
                assert not left & set(done), "shipped sale products are still listed as open"
                assert len(api.get_sales(page=2)) > 0
                shown = json.loads(s.admin("show", done[0]).stdout)
                assert shown["status"] == "shipped"
                log = [json.loads(l) for l in s.admin("log", done[0]).stdout.splitlines()]
                assert [e["user"] for e in log if e["action"] in ("acknowledged", "shipped")] == ["cron", "cron"]
            # errors surface through raise_for_status
            bad = MenzzoSupplierAPI(base_url=web.url, token="mzk_" + "B" * 43, supplier="notio")
            try:
                bad.get_sales()
            except requests.HTTPError as e:
                assert e.response.status_code == 401 and e.response.json()["code"] == "invalid_token"
            else:
                raise AssertionError("an unknown token was accepted")
            wrong = MenzzoSupplierAPI(base_url=web.url, token=tokens["asir-group"], supplier="notio")
            try:
                wrong.acknowledge_sale("15000012345_789")
            except requests.HTTPError as e:
                assert e.response.status_code == 403
            else:
                raise AssertionError("another supplier's token was accepted")
    finally:
        s.close()


# --- make install ----------------------------------------------------------------------------

def test_make_install_lays_out_the_tree():
    dest = tempfile.mkdtemp(prefix="menzzo-install-")
    try:
        prefix = "/usr/local"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
        p = subprocess.run(["make", "--no-print-directory", "install", f"DESTDIR={dest}", f"PREFIX={prefix}"],
                           cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
        root = dest + prefix
        expected = {
            "bin/menzzo-admin": 0o755,
            "lib/menzzo/cgi-bin/routes": 0o644,
            "share/man/man1/menzzo-admin.1": 0o644,
            "share/menzzo/lighttpd.conf": 0o644,
            "share/menzzo/tools/lighttpd-env.sh": 0o755,
            "share/menzzo/apache/menzzo-vhost.conf": 0o644,
            "share/menzzo/apache/htaccess": 0o644,
            "share/menzzo/apache/menzzo-fcgid.conf": 0o644,
            "share/menzzo/docs/api.html": 0o644,
        }
        for page in os.listdir(os.path.join(ROOT, "www", "errors")):
            expected[f"share/menzzo/www/errors/{page}"] = 0o644
        for route in ROUTES:
            expected[f"lib/menzzo/cgi-bin/{route['program']}"] = 0o755
        found = {}
        for dirpath, _, files in os.walk(dest):
            for f in files:
                full = os.path.join(dirpath, f)
                found[os.path.relpath(full, root)] = os.stat(full).st_mode & 0o7777
        assert found == expected, {"missing": set(expected) - set(found), "extra": set(found) - set(expected),
                                   "modes": {k: oct(v) for k, v in found.items() if expected.get(k) != v}}
        # the executables are stripped: no symbol table
        require("readelf", "binutils")
        for path, mode in expected.items():
            if mode == 0o755 and not path.endswith(".sh"):
                p = subprocess.run(["readelf", "-S", "--wide", os.path.join(root, path)], capture_output=True, text=True)
                assert p.returncode == 0 and ".symtab" not in p.stdout, f"{path} is not stripped"
        # the installed programs work
        p = subprocess.run([os.path.join(root, "bin/menzzo-admin"), "--help"], capture_output=True, text=True)
        assert p.returncode == 0 and "cache purge" in p.stdout
        with Store() as st:
            p = subprocess.run([os.path.join(root, "lib/menzzo/cgi-bin/health")], capture_output=True,
                               env=dict(st.env, REQUEST_METHOD="GET"))
            assert p.returncode == 0 and p.stdout.endswith(b'{"status":"ok"}'), p.stdout
            # the installed lighttpd.conf finds its script from share/menzzo and the installed executables, and starts
            # without ACCESS_LOG (the installed tree has no data/: then no access log)
            web_env = dict(st.env, PORT=str(free_port()), CGI_DIR=os.path.join(root, "lib/menzzo/cgi-bin"))
            p = subprocess.run(["lighttpd", "-tt", "-f", "lighttpd.conf"], cwd=os.path.join(root, "share/menzzo"),
                               capture_output=True, text=True, timeout=60, env=web_env)
            assert p.returncode == 0, p.stdout + p.stderr
            # and, started there, answers JSON errors from the installed www/errors and the installed API reference
            errlog = open(os.path.join(st.dir, "lighttpd.err"), "wb")
            web = subprocess.Popen(["lighttpd", "-D", "-f", "lighttpd.conf"], cwd=os.path.join(root, "share/menzzo"),
                                   env=web_env, stdout=subprocess.DEVNULL, stderr=errlog)
            try:
                base = f"http://127.0.0.1:{web_env['PORT']}"
                deadline = time.time() + 10
                while True:
                    try:
                        r = requests.get(base + "/api/health", timeout=5)
                        break
                    except requests.ConnectionError:
                        assert web.poll() is None and time.time() < deadline, "the installed lighttpd did not start"
                        time.sleep(0.05)
                assert r.status_code == 200 and r.json() == {"status": "ok"}
                r = requests.get(base + "/api/nowhere", timeout=5)
                assert r.status_code == 404 and r.headers["Content-Type"] == "application/json", r.headers
                assert r.json()["code"] == "not_found"
                r = requests.get(base + "/api/docs", timeout=5)
                assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
                assert r.content == open(os.path.join(ROOT, "docs", "api.html"), "rb").read()
            finally:
                web.terminate()
                web.wait(10)
                errlog.close()
            err = open(os.path.join(st.dir, "lighttpd.err")).read()
            assert "opening log" not in err, err
        p = subprocess.run(["man", "-l", os.path.join(root, "share/man/man1/menzzo-admin.1")], capture_output=True,
                           env=dict(os.environ, MANPAGER="cat", PAGER="cat"), timeout=60)
        assert p.returncode == 0
        p = subprocess.run(["make", "--no-print-directory", "uninstall", f"DESTDIR={dest}", f"PREFIX={prefix}"],
                           cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
        left = [os.path.join(d, f) for d, _, files in os.walk(dest) for f in files]
        assert not left, left
    finally:
        shutil.rmtree(dest, ignore_errors=True)


# --- Apache with the samples -----------------------------------------------------------------

APACHE = "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"


def wait_port(port, proc, log):
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("apache2 exited: " + open(log).read()[-3000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("apache2 did not start: " + open(log).read()[-3000:])


def test_apache_samples_serve_get_sales():
    require(APACHE, "apache2-bin")
    s, tokens = demo_store()
    backoffice = s.token("--backoffice")
    proc = None
    try:
        top = s.dir
        vhost_port, htaccess_port = free_port(), free_port()
        # The executables and the store, where Apache's user can reach them.
        cgi = os.path.join(top, "cgi-bin")
        shutil.copytree(CGI_DIR, cgi)
        htdocs = os.path.join(top, "htdocs")
        shutil.copytree(CGI_DIR, os.path.join(htdocs, "api"))
        empty = os.path.join(top, "empty")
        os.makedirs(empty)
        db, files = s.env["MENZZO_DATA_DIR"], s.env["MENZZO_FILES_DIR"]

        sample = open(os.path.join(APACHE_SAMPLES, "menzzo-vhost.conf")).read()
        for a, b in (("/usr/local/lib/menzzo/cgi-bin", cgi), ("/var/lib/menzzo/db", db),
                     ("/var/lib/menzzo/files", files), ("https://api.menzzo.fr", f"http://127.0.0.1:{vhost_port}")):
            assert a in sample, a
            sample = sample.replace(a, b)
        open(os.path.join(top, "menzzo-vhost.conf"), "w").write(sample)
        sample = open(os.path.join(APACHE_SAMPLES, "htaccess")).read()
        for a, b in (("/home/USER/menzzo/db", db), ("/home/USER/menzzo/files", files),
                     ("https://api.menzzo.fr", f"http://127.0.0.1:{htaccess_port}")):
            assert a in sample, a
            sample = sample.replace(a, b)
        open(os.path.join(htdocs, "api", ".htaccess"), "w").write(sample)

        user = ""
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("www-data")
            except KeyError:
                print("note: no www-data user; the Apache samples were not exercised")
                return
            for d, dirs, fs in os.walk(top):
                for name in [d] + [os.path.join(d, f) for f in dirs + fs]:
                    os.lchown(name, pw.pw_uid, pw.pw_gid)
            user = "User www-data\nGroup www-data\n"
        log = os.path.join(top, "apache-error.log")
        conf = os.path.join(top, "httpd.conf")
        mods = "".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so\n"
                       for m in ("mpm_prefork", "authz_core", "alias", "cgi", "env", "rewrite", "setenvif"))
        open(conf, "w").write(f"""ServerRoot {top}
ServerName 127.0.0.1
PidFile {top}/apache.pid
DefaultRuntimeDir {top}
ErrorLog {log}
LogLevel warn
{user}{mods}Listen 127.0.0.1:{vhost_port}
Listen 127.0.0.1:{htaccess_port}
SetEnv ASAN_OPTIONS {s.env["ASAN_OPTIONS"]}
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Files ".ht*">
    Require all denied
</Files>
<VirtualHost 127.0.0.1:{vhost_port}>
    DocumentRoot {empty}
    <Directory {empty}>
        Require all granted
    </Directory>
    Include {top}/menzzo-vhost.conf
</VirtualHost>
<VirtualHost 127.0.0.1:{htaccess_port}>
    DocumentRoot {htdocs}
    <Directory {htdocs}>
        AllowOverride All
        Require all granted
    </Directory>
</VirtualHost>
""")
        # Its own session: on stop, Apache signals its whole process group.
        proc = subprocess.Popen([APACHE, "-f", conf, "-DFOREGROUND"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(vhost_port, proc, log)
        wait_port(htaccess_port, proc, log)

        for port in (vhost_port, htaccess_port):
            base = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {tokens['asir-group']}"}
            r = requests.get(f"{base}/api/asir-group/get-sales", params={"page": 1}, headers=auth, timeout=30)
            assert r.status_code == 200, (port, r.status_code, r.text[:300])
            items = r.json()
            assert len(items) == 100 and r.headers["X-Cache"] in ("MISS", "HIT")
            assert r.headers["Link"].startswith(f"<{base}/api/asir-group/get-sales?last_menzzo_order_number=")
            assert items[0]["link_to_label"].startswith(f"{base}/api/files/")
            validate(items, spec()["components"]["schemas"]["SaleList"], "get-sales through Apache")
            r = requests.get(f"{base}/api/asir-group/get-sales", timeout=30)
            assert r.status_code == 401 and r.json()["code"] == "missing_token"
            r = requests.get(f"{base}/api/health", timeout=30)
            assert r.status_code == 200 and r.json() == {"status": "ok"}
            r = requests.get(items[0]["link_to_label"], headers=auth, timeout=30)
            assert r.status_code == 200 and r.content.startswith(b"%PDF-")
            oid = [i["menzzo_order_id"] for i in items if i["status"] == "pending"][0]
            r = requests.post(f"{base}/api/asir-group/acknowledge-sale", json={"menzzo_order_id": oid},
                              headers=auth, timeout=30)
            assert r.status_code == 200 and r.json()["success"] is True
            # a label upload of 2 MiB (over the 320 KiB of other URLs) replaces the label GET serves
            label = items[0]["link_to_label"][len(f"{base}/api/files/"):]
            pdf = b"%PDF-1.4\n" + str(port).encode() * (1 << 20)
            r = requests.put(f"{base}/api/backoffice/files/{label}", data=pdf, timeout=60,
                             headers={"Authorization": f"Bearer {backoffice}", "Content-Type": "application/pdf"})
            assert r.status_code == 200 and r.json()["label_ready"] == 1, (port, r.status_code, r.text[:300])
            assert requests.get(items[0]["link_to_label"], headers=auth, timeout=30).content == pdf
            for path in ("/", "/api/", "/api/asir-group/", "/api/health/x", "/api/files", "/api/get-sales.c",
                         "/api/asir-group/get-sales.c", "/api/db/data.mdb"):
                assert requests.get(base + path, timeout=30).status_code in (403, 404), (port, path)
    finally:
        stop_process(proc, 15)
        log = os.path.join(s.dir, "apache-error.log")
        text = open(log, errors="replace").read() if os.path.exists(log) else ""
        s.close()
    check_sanitizer(text, "a CGI under Apache")
