"""The rendered API reference (docs/api.html, served at /api/docs): up to date with
docs/openapi.yaml, served without a token as a page, and rendered in headless Chromium: it opens
on Getting started (the Authorization header on the first screen), then the operations, each with
its examples, named body branches and curl and Python samples, the error table last with codes on
one line; a deep link opens its operation; no console error."""
import hashlib
import json
import os
import re
import subprocess
import tempfile

import yaml

from harness import ENDPOINTS, ROOT, Lighttpd, Store, node_tool, require

OPENAPI = os.path.join(ROOT, "docs", "openapi.yaml")
API_HTML = os.path.join(ROOT, "docs", "api.html")
NODE_TOOLS = os.path.join(ROOT, "tools", "node")
SCREENSHOT = os.path.join(ROOT, "build", "api-docs.png")
SCREENSHOT_OPERATION = os.path.join(ROOT, "build", "api-docs-operation.png")


def node(script, *args, timeout=120):
    node_tool(".package-lock.json")
    p = subprocess.run([require("node", "nodejs"), os.path.join(NODE_TOOLS, script), *args], cwd=ROOT,
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{script} failed ({p.returncode}):\n{p.stderr[-3000:]}"
    return p.stdout


def test_api_html_is_what_make_docs_makes():
    html = open(API_HTML, encoding="utf-8").read()
    sha = hashlib.sha256(open(OPENAPI, "rb").read()).hexdigest()
    stamp = re.search(r"from docs/openapi\.yaml \(sha256 ([0-9a-f]{64})\)", html)
    assert stamp, "docs/api.html has no make docs stamp: run make docs"
    assert stamp.group(1) == sha, "docs/api.html was made from another docs/openapi.yaml: run make docs and commit it"
    with tempfile.TemporaryDirectory() as tmp:
        again = os.path.join(tmp, "api.html")
        node("build-docs.js", "docs/openapi.yaml", again)
        assert open(again, encoding="utf-8").read() == html, \
            "docs/api.html is not what make docs makes now (edited by hand, or another renderer): run make docs"
    # One self-contained page: nothing is loaded from elsewhere.
    assert not re.search(r'<(script|link|img)[^>]*(src|href)="https?:', html)


def test_openapi_keeps_server_internals_out():
    text = open(OPENAPI).read()
    for internal in ("MENZZO_", "lighttpd", "menzzo-admin", "make run", "127.0.0.1", "README", "BLAKE2b",
                     "max-request-size", "setenv"):
        assert internal not in text, f"docs/openapi.yaml, which suppliers read, mentions {internal}"


def test_api_docs_served_and_rendered_in_chromium():
    require("/usr/bin/chromium", "chromium")
    spec = yaml.safe_load(open(OPENAPI))
    with Store() as s, Lighttpd(s) as web:
        r = web.request("GET", "/api/docs")
        assert r.status == 200 and r.headers["content-type"] == "text/html; charset=utf-8", r
        assert r.body == open(API_HTML, "rb").read()
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in r.headers["content-security-policy"]
        # The errors around it stay JSON.
        for path in ("/api/docs/", "/api/docs.html", "/docs/api.html", "/api/nope"):
            r = web.request("GET", path)
            assert r.status == 404 and r.headers["content-type"] == "application/json", (path, r)
            assert r.json()["code"] == "not_found"
        os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
        report = json.loads(node("api-docs-browser.js", f"{web.url}/api/docs", SCREENSHOT, SCREENSHOT_OPERATION,
                                 timeout=300))

    assert report["status"] == 200 and report["title"] == "Menzzo Supplier API reference", report
    problems = [m for m in report["console"] if m["type"] in ("error", "warning")]
    assert not problems and not report["pageErrors"], (problems, report["pageErrors"])
    assert not report["failedRequests"] and not report["foreignRequests"], report
    assert report["redocLoaded"] and report["hashAfterClick"] == "#tag/Health", report
    assert "Confirm shipment of a sale product" in report["searchResults"], report["searchResults"]

    # Every operation: its section, its method and path, its summary, and its examples.
    rendered = {o["id"].rsplit("/", 1)[1]: o for o in report["operations"]}
    samples = dict(zip([o["id"].rsplit("/", 1)[1] for o in report["operations"]], report["samples"]))
    expected = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            expected[op["operationId"]] = (method, path, op)
    assert set(rendered) == set(expected) and len(expected) == len(ENDPOINTS), set(rendered) ^ set(expected)
    for op_id, (method, path, op) in expected.items():
        text = rendered[op_id]["text"]
        assert f"{method.upper()}\n{path}" in text or f"{method.upper()} {path}" in text, (op_id, text[-600:])
        assert op["summary"] in rendered[op_id]["heading"], (op_id, rendered[op_id]["heading"])
    for op_id in ("getSales",):
        assert '"menzzo_order_id": "15000012345_789"' in samples[op_id] and '"PRODUCT-SKU"' in samples[op_id], op_id
    for op_id in ("shipSale",):
        assert '"tracking_number": "XY123456789FR"' in samples[op_id], samples[op_id][:800]
        assert '"prepared_at": "2026-01-15T10:32:07Z"' in samples[op_id], samples[op_id][:800]
    for op_id in ("acknowledgeSale",):
        assert '"status": "acknowledged"' in samples[op_id], samples[op_id][:800]
    assert '"status": "ok"' in samples["getHealth"]

    # The error table: every code the API sends, and those the web server answers itself; no code
    # broken over two lines.
    codes = spec["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    table = {(row[0], row[1]) for row in report["errorTable"]}
    assert {c for _, c in table} == set(codes), {c for _, c in table} ^ set(codes)
    assert ("401", "missing_token") in table and ("409", "cancelled") in table and ("503", "storage_full") in table
    assert ("411", "length_required") in table and ("503", "unavailable") in table
    assert not report["wrappedCodes"], report["wrappedCodes"]

    # The first screen: Getting started, with the Authorization header; the operations come next and
    # the error table last.
    first = report["firstScreen"]
    height = first["viewport"]["height"]
    assert first["scrollY"] == 0 and first["viewport"] == {"width": 1440, "height": 900}, first
    assert "Getting started" in first["text"], first["text"][:1000]
    assert re.search(r"Authorization\s*:\s*Bearer\s+mzk_[A-Za-z0-9_-]{43}", first["text"]), first["text"][:1000]
    assert first["gettingStartedTop"] < first["authorizationTop"] < height, first
    tops = [o["top"] for o in report["operations"]]
    assert first["gettingStartedTop"] < min(tops) and max(tops) < first["errorTableTop"], (first, tops)
    assert "invalid_parameter" not in first["text"]

    # Every operation: a curl and a Python sample (the seed client's way: requests, a Bearer header,
    # raise_for_status) among its request samples, after the payload when it has a body.
    for op_id, (method, path, op) in expected.items():
        tabs = report["codeSamples"][rendered[op_id]["id"]]
        assert {"curl", "Python"} <= set(tabs["tabs"]), (op_id, tabs["tabs"])
        assert tabs["tabs"][0] == ("Payload" if "requestBody" in op else "curl"), (op_id, tabs["tabs"])
        curl, python = tabs["code"]["curl"], tabs["code"]["Python"]
        assert "curl " in curl and "https://api.menzzo.fr" + path.split("{")[0] in curl, (op_id, curl)
        assert "import requests" in python and "raise_for_status()" in python, (op_id, python)
        if op.get("security", spec["security"]):
            assert 'Authorization: Bearer $TOKEN' in curl, (op_id, curl)
            assert "'Authorization': f'Bearer {TOKEN}'" in python, (op_id, python)
        assert "case 1" not in rendered[op_id]["text"], op_id

    # The request bodies' branches, named and in order: the acknowledgement before the refusal, whose
    # accepted is required and false (no default).
    branches = {op_id: [(b["title"], b["text"]) for b in report["bodyBranches"][rendered[op_id]["id"]]]
                for op_id in ("acknowledgeSale", "shipSale")}
    assert [t for t, _ in branches["acknowledgeSale"]] == ["Acknowledge", "Refuse", "Batch"], branches
    assert [t for t, _ in branches["shipSale"]] == ["Ship", "Ship in packages", "Batch"], branches
    acknowledge, refuse = branches["acknowledgeSale"][0][1], branches["acknowledgeSale"][1][1]
    accepted = re.compile(r"\baccepted\s+(required\s+)?boolean\s+(Default: (\w+)\s+)?.*?Value: (\w+)", re.S)
    m = accepted.search(acknowledge)
    assert m and not m.group(1) and m.group(3) == "true" and m.group(4) == "true", acknowledge[:1500]
    m = accepted.search(refuse)
    assert m and m.group(1) and not m.group(2) and m.group(4) == "false", refuse[:1500]
    assert "reason\nrequired" in refuse, refuse[:1500]

    # A deep link to each operation opens it: at the top of the screen, marked in the menu.
    for op_id, (method, path, op) in expected.items():
        link = report["deepLinks"][rendered[op_id]["id"]]
        assert link["settled"] and link["hash"] == "#" + rendered[op_id]["id"], (op_id, link)
        assert abs(link["top"]) < 5 and op["summary"] in link["heading"], (op_id, link)
        assert link["menuItemShown"] and link["menuItemMarked"], (op_id, link)
        assert op["summary"] in link["text"], (op_id, link["text"][:500])
    assert os.path.getsize(SCREENSHOT) > 10000 and os.path.getsize(SCREENSHOT_OPERATION) > 10000


# The page is lighttpd's static file and the browser's rendering: the same whichever way the endpoints run.
test_api_docs_served_and_rendered_in_chromium.one_mode = True
