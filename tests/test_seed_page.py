"""The examples suppliers copy work against the demo (`menzzo-admin demo`, what `make run` serves):
every curl line of the public "Supplier APIs" page (tests/seed-page.txt, a verbatim copy), with
only its host and `{token}` replaced, answers 200; the curl lines of the suppliers' guide's "Supplier
integration" (docs/suppliers.md) and of the README's tour answer 200 and return what they show."""
import json
import os
import re
import shlex
import subprocess
import tempfile

from harness import ROOT, Lighttpd, demo_store, require

SEED_PAGE = os.path.join(ROOT, "tests", "seed-page.txt")
README = os.path.join(ROOT, "README.md")
SUPPLIERS_GUIDE = os.path.join(ROOT, "docs", "suppliers.md")
SEED_HOST = "https://api.menzzo.fr"


def curl_commands(text):
    """Every `curl ...` command of a text, its `\\` continuation lines joined."""
    commands, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("curl "):
            cmd = lines[i].strip()
            while cmd.endswith("\\"):
                i += 1
                cmd = cmd[:-1] + " " + lines[i].strip()
            commands.append(cmd)
        i += 1
    return commands


def run_curl(argv):
    """Runs curl with the command's own arguments, plus what tells its status and body apart."""
    with tempfile.NamedTemporaryFile() as body:
        p = subprocess.run([require("curl", "curl"), "-sS", "-o", body.name, "-w", "%{http_code}", *argv[1:]],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, f"curl failed ({p.returncode}): {p.stderr}"
        return int(p.stdout), open(body.name, "rb").read()


def test_every_seed_page_curl_line_answers_200():
    commands = curl_commands(open(SEED_PAGE).read())
    # get-sales, ship-sale, acknowledge-sale for each supplier, then the three pagination lines.
    assert len(commands) == 9, commands
    s, tokens = demo_store()
    try:
        with Lighttpd(s) as web:
            results = []
            for cmd in commands:
                supplier = re.search(r"/api/(asir-group|notio)/", cmd).group(1)
                argv = [a.replace(SEED_HOST, web.url).replace("{token}", tokens[supplier])
                        for a in shlex.split(cmd)]
                assert argv[0] == "curl" and any(a.startswith(web.url) for a in argv), cmd
                status, body = run_curl(argv)
                assert status == 200, f"{cmd}\n-> {status} {body[:300]!r}"
                results.append(json.loads(body))
    finally:
        s.close()

    # The page's own examples are what the demo lists: its first get-sales response example...
    first = results[0][0]
    assert {k: first[k] for k in ("menzzo_order_id", "sku", "quantity", "price", "order_date", "carrier")} == {
        "menzzo_order_id": "15000012345_789", "sku": "PRODUCT-SKU", "quantity": 1, "price": 250.00,
        "order_date": "2026-01-15", "carrier": "CHRONOPOST"}, first
    assert first["link_to_label"].endswith("/api/files/labels/15000012345_789.pdf")
    notio = results[3][0]
    assert (notio["menzzo_order_id"], notio["sku"], notio["quantity"], notio["price"], notio["carrier"]) == \
        ("15000012345_790", "NOTIO-PROD-123", 2, 180.00, "GEODIS"), notio
    # ...which the page then ships and acknowledges (shipping implies receipt: the acknowledge is a repeat).
    assert results[1]["status"] == "shipped" and results[1]["changed"] is True
    assert results[2]["status"] == "shipped" and results[2]["changed"] is False
    assert results[4]["status"] == "shipped" and results[5]["changed"] is False
    # The pagination lines: open items only, so the shipped one has left page 1; the cursor skips past it.
    assert results[6] and all(i["menzzo_order_id"] != "15000012345_789" for i in results[6])
    assert isinstance(results[7], list) and results[8]


def readme_section(title, path=SUPPLIERS_GUIDE):
    text = open(path).read()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def test_readme_supplier_integration_curl_lines():
    section = readme_section("Supplier integration")
    commands = [c for c in curl_commands(section) if "$API" in c]
    assert len(commands) >= 7, commands
    s, tokens = demo_store()
    try:
        with Lighttpd(s) as web:
            shown = re.search(r"# Link: <http://127\.0\.0\.1:8080(/api/[^>]+)>; rel=\"next\"", section).group(1)
            r = web.request("GET", "/api/asir-group/get-sales", token=tokens["asir-group"])
            assert r.status == 200 and r.headers["link"] == f'<{s.env["MENZZO_BASE_URL"]}{shown}>; rel="next"', \
                f"the suppliers' guide shows Link {shown}, the demo answers {r.headers['link']}"
            for cmd in commands:
                argv = [a.replace("$API", web.url + "/api").replace("$TOKEN", tokens["asir-group"])
                        for a in shlex.split(cmd)]
                status, body = run_curl([a for a in argv if a not in ("-s", "-si")])
                assert status == 200, f"{cmd}\n-> {status} {body[:300]!r}"
                if "get-sales" in cmd:
                    assert json.loads(body), f"{cmd} returns no item from the demo"
    finally:
        s.close()


def test_readme_tour_curl_lines():
    """The README's tour, against the demo: every curl line with $API answers 200 (in the tour's order, its
    sale product the first open one, as the tour takes it)."""
    section = readme_section("A five-minute tour: from nothing to a shipped order", README)
    commands = [c for c in curl_commands(section) if "$API" in c]
    assert len(commands) >= 5, commands
    s, tokens = demo_store()
    try:
        with Lighttpd(s) as web:
            first = web.request("GET", "/api/asir-group/get-sales", token=tokens["asir-group"]).json()[0]
            for cmd in commands:
                if "$(" in cmd:
                    continue   # the line that takes the id: done above
                argv = [a.replace("$API", web.url + "/api").replace("$TOKEN", tokens["asir-group"])
                        .replace("$ID", first["menzzo_order_id"]) for a in shlex.split(cmd, comments=True)]
                # run_curl writes the body where it reads it from: the tour's own -o goes
                if "-o" in argv:
                    del argv[argv.index("-o"):argv.index("-o") + 2]
                status, body = run_curl([a for a in argv if a not in ("-s", "-si")])
                assert status == 200, f"{cmd}\n-> {status} {body[:300]!r}"
    finally:
        s.close()


def test_readme_is_short_and_links_every_guide():
    """README.md stays a few screens (12,000 bytes at most) and reaches every moved section in one click."""
    text = open(README).read()
    assert len(text.encode()) <= 12000, len(text.encode())
    for doc in ("docs/suppliers.md", "docs/deploy.md", "docs/architecture.md", "docs/decisions.md",
                "docs/development.md", "docs/openapi.yaml"):
        assert f"]({doc})" in text and os.path.exists(os.path.join(ROOT, doc)), doc
