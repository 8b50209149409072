"""The route table (lib/endpoints.def, with lib/suppliers.def) is the one list of what the API serves:
a supplier is one row, nothing under /api/ is ever sent as a file whatever the mapping says, and the
tables, the routes file, lighttpd's mapping and the Apache samples agree."""
import atexit
import os
import re
import shutil
import subprocess
import tempfile

import harness
from harness import CGI_DIR, ROOT, ROUTES, SUPPLIERS, Lighttpd, Store

NEW = "meubles-sud"   # the supplier a scratch copy adds


def test_routes_file_lighttpd_and_apache_follow_the_tables():
    """Every program of the tables is built, routed by lighttpd (var.api and, for FastCGI, a responder)
    and by every Apache sample; nothing else is."""
    with open(os.path.join(CGI_DIR, "routes")) as f:
        assert [l.split("\t")[0] for l in f.read().splitlines()] == [r["program"] for r in ROUTES]
    env = dict(os.environ, CGI_DIR=CGI_DIR, PORT="8099", MENZZO_MODE="fastcgi",
               FASTCGI_SOCKET_DIR=tempfile.mkdtemp(prefix="menzzo-sock-"))
    try:
        conf = subprocess.run(["sh", "tools/lighttpd-env.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                              check=True).stdout
        api = re.search(r'^var\.api = "\^/api/\((.*)\)\$"$', conf, re.M).group(1).split("|")
        assert api == [r["route"] for r in ROUTES], api
        endpoints = subprocess.run(["sh", "tools/lighttpd-env.sh", "endpoints"], cwd=ROOT, env=env,
                                   capture_output=True, text=True, check=True).stdout
        assert re.findall(r'^  "/api/([^"]+)" =>', endpoints, re.M) == [r["program"] for r in ROUTES]
    finally:
        shutil.rmtree(env["FASTCGI_SOCKET_DIR"])
    for sample in ("menzzo-vhost.conf", "menzzo-fcgid.conf", "htaccess"):
        text = open(os.path.join(ROOT, "build", "apache", sample)).read()
        assert "(" + "|".join(r["route"] for r in ROUTES) + ")" in text, sample
        assert "@API_ROUTES@" not in text
    # a routed program that is not built stops lighttpd with a message, never a silent 404
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(CGI_DIR, "routes"), d)
        p = subprocess.run(["sh", "tools/lighttpd-env.sh"], cwd=ROOT, env=dict(env, CGI_DIR=d), capture_output=True,
                           text=True)
        assert p.returncode == 1 and "is routed but not built: run make" in p.stderr, p.stderr


def test_nothing_under_api_is_served_as_a_file():
    """A broken mapping (the responders, or the CGI handler, missing while var.api still routes every
    path): every program's path is a JSON error, never the program's bytes (FastCGI: 404, as no
    alias exists; plain CGI: 403, as no file under /api/ is ever sent)."""
    with Store() as s:
        env = dict(os.environ, CGI_DIR=CGI_DIR, MENZZO_MODE=harness.MODE)
        d = tempfile.mkdtemp(prefix="menzzo-broken-", dir=s.dir)
        broken = open(os.path.join(ROOT, "lighttpd.conf")).read()
        mapping = 'include_shell "sh tools/lighttpd-env.sh endpoints"'
        assert mapping in broken
        # what the mapping keeps: the alias of plain CGI, without cgi.assign; nothing for FastCGI
        kept = [l for l in subprocess.run(["sh", "tools/lighttpd-env.sh", "endpoints"], cwd=ROOT, env=env,
                                          capture_output=True, text=True, check=True).stdout.splitlines()
                if l.startswith("alias.url")]
        # (lighttpd runs include_shell in the configuration file's directory)
        broken = broken.replace(mapping, "\n".join(kept)).replace("sh tools/", f"sh {ROOT}/tools/")
        with open(os.path.join(d, "lighttpd.conf"), "w") as f:
            f.write(broken)
        with Lighttpd(s, conf=os.path.join(d, "lighttpd.conf")) as web:
            for route in ROUTES:
                path = "/api/" + route["route"].replace(".+", "labels/x.pdf")
                r = web.request("GET", path)
                assert r.status == (404 if harness.MODE == "fastcgi" else 403), (path, r)
                assert r.headers["content-type"] == "application/json" and b"ELF" not in r.body, (path, r)


def _scratch_copy():
    """The project's files (as git knows them, with their content of the moment) in a temporary directory."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    dest = tempfile.mkdtemp(prefix="menzzo-scratch-")
    for name in filter(None, (f.decode() for f in files)):
        src = os.path.join(ROOT, name)
        if os.path.isfile(src) and not name.startswith(("tools/node/", "docs/api")):
            os.makedirs(os.path.join(dest, os.path.dirname(name)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, name))
    return dest


_scratch = {}


def _scratch_with_a_new_supplier():
    """A scratch copy with one row added to lib/suppliers.def, built with make (once for both modes)."""
    if "dir" not in _scratch:
        d = _scratch_copy()
        with open(os.path.join(d, "lib", "suppliers.def"), "a") as f:
            f.write(f'SUPPLIER("{NEW}", "MEUBLES_SUD", "Meubles Sud", 0)\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
        # unoptimised: the table and the build rules are under test, not the compiler (half the time)
        p = subprocess.run(["make", "-s", f"-j{os.cpu_count() or 1}", "CFLAGS=-O0", "all"], cwd=d, env=env,
                           capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
        _scratch["dir"] = d
        atexit.register(shutil.rmtree, d, True)   # after the plain-CGI run of the test, at the end of the run
    return _scratch["dir"]


def test_a_supplier_is_one_row():
    """In a scratch copy, one row in lib/suppliers.def and make: the new supplier's endpoints answer through
    lighttpd (in both modes), and appear in the generated configuration, the Apache samples and the
    tables the tests read."""
    d = _scratch_with_a_new_supplier()
    routes = open(os.path.join(d, "cgi-bin", "routes")).read()
    for program in ("get-sales", "acknowledge-sale", "ship-sale"):
        assert f"{NEW}/{program}\t{NEW}/{program}\t" in routes, routes
        assert os.access(os.path.join(d, "cgi-bin", NEW, program), os.X_OK)
    for sample in ("menzzo-vhost.conf", "menzzo-fcgid.conf", "htaccess"):
        assert f"|{NEW}/get-sales|" in open(os.path.join(d, "build", "apache", sample)).read(), sample
    tables = subprocess.run(["python3", "-c", "import harness; print(' '.join(harness.SUPPLIERS)); "
                             "print(' '.join(r['program'] for r in harness.ROUTES))"],
                            cwd=os.path.join(d, "tests"), capture_output=True, text=True, check=True).stdout
    assert NEW in tables.splitlines()[0].split() and f"{NEW}/ship-sale" in tables.splitlines()[1].split(), tables
    with Store() as s:
        admin = os.path.join(d, "bin", "menzzo-admin")
        line = '{"increment_id": "7", "sale_product_id": 70, "supplier": "%s", "sku": "A", "quantity": 1, ' \
               '"price": "9.90", "order_date": "2026-01-15", "carrier": "DHL"}\n' % NEW
        subprocess.run([admin, "import", "-"], env=s.env, input=line, capture_output=True, text=True, check=True)
        tok = subprocess.run([admin, "token", "add", NEW], env=s.env, capture_output=True, text=True,
                             check=True).stdout.splitlines()[-1]
        other = s.token(SUPPLIERS[0])
        with Lighttpd(s, env={"CGI_DIR": os.path.join(d, "cgi-bin")}, root=d) as web:
            r = web.request("GET", f"/api/{NEW}/get-sales", token=tok)
            assert r.status == 200 and [i["menzzo_order_id"] for i in r.json()] == ["7_70"], r
            r = web.request("POST", f"/api/{NEW}/acknowledge-sale", token=tok, body={"menzzo_order_id": "7_70"})
            assert r.status == 200 and r.json()["status"] == "acknowledged", r
            r = web.request("POST", f"/api/{NEW}/ship-sale", token=tok, body={"menzzo_order_id": "7_70"})
            assert r.status == 200 and r.json()["status"] == "shipped", r
            assert web.request("GET", f"/api/{NEW}/get-sales", token=other).status == 403
            assert web.request("GET", f"/api/{SUPPLIERS[0]}/get-sales", token=tok).status == 403

