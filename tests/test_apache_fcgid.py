"""The Apache sample menzzo-fcgid.conf (docs/apache/menzzo-fcgid.conf.in, filled by make) through a real Apache with mod_fcgid: the executables of the CGI samples,
run as persistent FastCGI responders, serve the API; their configuration reaches them through the
process environment (FcgidInitialEnv); a few processes serve many requests; a graceful reload ends
them; and nothing they write to the error log is a sanitizer report."""
import os
import pwd
import re
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from harness import CGI_DIR, ROOT, MissingTool, check_sanitizer, demo_store, free_port, pids_of, require, stop_process
from test_docs import APACHE, APACHE_MODULES, spec, validate, wait_port

SAMPLE = os.path.join(ROOT, "build", "apache", "menzzo-fcgid.conf")    # made by make from docs/apache/*.in
MOD_FCGID = os.path.join(APACHE_MODULES, "mod_fcgid.so")


def directive(sample, name):
    m = re.search(rf"^{name}\s+(\d+)\s*$", sample, re.M)
    assert m, f"the sample sets {name}"
    return int(m.group(1))


def responders(exe):
    """{pid: uid} of the running processes whose executable is exe."""
    found = {}
    for pid in pids_of(exe):
        try:
            with open(f"/proc/{pid}/status") as f:
                found[pid] = int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            continue  # gone meanwhile
    return found


def process_env(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(v.decode("utf-8", "replace").partition("=")[::2] for v in f.read().split(b"\0") if v)


def wait_for(cond, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_apache_fcgid_sample_serves_persistent_responders():
    require(APACHE, "apache2-bin")
    if not os.path.exists(MOD_FCGID):
        raise MissingTool(f"{MOD_FCGID} is not installed: it comes with the Debian package libapache2-mod-fcgid "
                          "(tools/install-deps.sh test installs it)")
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("www-data")
        except KeyError:
            print("note: no www-data user; the mod_fcgid sample was not exercised")
            return
    else:
        pw = pwd.getpwuid(os.geteuid())
    s, tokens = demo_store()
    backoffice = s.token("--backoffice")
    proc = None
    top = s.dir
    log = os.path.join(top, "apache-error.log")
    vhost_log = os.path.join(top, "vhost-error.log")
    text = ""
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # The executables and the store, where Apache's user can reach them.
        cgi = os.path.join(top, "cgi-bin")
        shutil.copytree(CGI_DIR, cgi)
        empty = os.path.join(top, "empty")
        os.makedirs(empty)
        db, files = s.env["MENZZO_DATA_DIR"], s.env["MENZZO_FILES_DIR"]

        sample = open(SAMPLE).read()
        max_per_class = directive(sample, "FcgidMaxProcessesPerClass")
        assert directive(sample, "FcgidMaxRequestsPerProcess") > 100, "responders are recycled, not one-shot"
        assert directive(sample, "FcgidMaxRequestLen") == 16 * 1024 * 1024 + 65536   # the import's 16 MiB
        assert not re.search(r"^\s*SetEnv\s+MENZZO_", sample, re.M), "SetEnv does not reach the processes"
        for a, b in (("/usr/local/lib/menzzo/cgi-bin", cgi), ("/var/lib/menzzo/db", db),
                     ("/var/lib/menzzo/files", files), ("https://api.menzzo.fr", base)):
            assert a in sample, a
            sample = sample.replace(a, b)
        open(os.path.join(top, "menzzo-fcgid.conf"), "w").write(sample)

        if os.geteuid() == 0:
            for d, dirs, fs in os.walk(top):
                for name in [d] + [os.path.join(d, f) for f in dirs + fs]:
                    os.lchown(name, pw.pw_uid, pw.pw_gid)
            user = "User www-data\nGroup www-data\n"
        else:
            user = ""
        conf = os.path.join(top, "httpd.conf")
        mods = "".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so\n"
                       for m in ("mpm_event", "authz_core", "alias", "fcgid"))
        open(conf, "w").write(f"""ServerRoot {top}
ServerName 127.0.0.1
PidFile {top}/apache.pid
DefaultRuntimeDir {top}
ErrorLog {log}
LogLevel warn fcgid:info
{user}{mods}Listen 127.0.0.1:{port}
FcgidIPCDir {top}/fcgidsock
FcgidProcessTableFile {top}/fcgid_shm
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<VirtualHost 127.0.0.1:{port}>
    ServerName api.test
    ErrorLog {vhost_log}
    DocumentRoot {empty}
    <Directory {empty}>
        Require all granted
    </Directory>
    FcgidInitialEnv ASAN_OPTIONS {s.env["ASAN_OPTIONS"]}
    FcgidInitialEnv UBSAN_OPTIONS {s.env["UBSAN_OPTIONS"]}
    Include {top}/menzzo-fcgid.conf
</VirtualHost>
""")
        # Its own session: on stop, Apache signals its whole process group.
        proc = subprocess.Popen([APACHE, "-f", conf, "-DFOREGROUND"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(port, proc, log)

        auth = {"Authorization": f"Bearer {tokens['asir-group']}"}
        get_sales = os.path.join(cgi, "asir-group", "get-sales")

        def page():
            return requests.get(f"{base}/api/asir-group/get-sales", params={"page": 1}, headers=auth, timeout=30)

        # The endpoints, as the CGI samples serve them.
        r = page()
        assert r.status_code == 200, (r.status_code, r.text[:300])
        items = r.json()
        assert len(items) == 100 and r.headers["X-Cache"] in ("MISS", "HIT")
        assert r.headers["Link"].startswith(f"<{base}/api/asir-group/get-sales?last_menzzo_order_number=")
        assert items[0]["link_to_label"].startswith(f"{base}/api/files/")
        validate(items, spec()["components"]["schemas"]["SaleList"], "get-sales through mod_fcgid")
        r = requests.get(f"{base}/api/asir-group/get-sales", timeout=30)
        assert r.status_code == 401 and r.json()["code"] == "missing_token", (r.status_code, r.text[:300])
        rid = r.headers["X-Request-Id"]
        # What the programs write to standard error lands in the main server's error log (so would a
        # sanitizer report), not in the virtual host's.
        wait_for(lambda: rid in open(log, errors="replace").read(), "the 401's error line in Apache's error log")
        assert rid not in open(vhost_log, errors="replace").read()
        r = requests.get(f"{base}/api/health", timeout=30)
        assert r.status_code == 200 and r.json() == {"status": "ok"}, (r.status_code, r.text[:300])
        r = requests.get(items[0]["link_to_label"], headers=auth, timeout=30)
        assert r.status_code == 200 and r.content.startswith(b"%PDF-"), (r.status_code, r.content[:300])
        oid = [i["menzzo_order_id"] for i in items if i["status"] == "pending"][0]
        r = requests.post(f"{base}/api/asir-group/acknowledge-sale", json={"menzzo_order_id": oid},
                          headers=auth, timeout=30)
        assert r.status_code == 200 and r.json()["success"] is True, (r.status_code, r.text[:300])
        # A body over the endpoint's 64 KiB reaches the program, which refuses it; one far larger than any
        # but the import's (over 320 KiB) is refused before it is read (declared length), or by mod_fcgid
        # past FcgidMaxRequestLen (chunked, over 16 MiB and 64 KiB).
        ack = f"{base}/api/asir-group/acknowledge-sale"
        r = requests.post(ack, headers=auth, data=b'{"menzzo_order_id": "' + b"1" * 70000 + b'"}', timeout=30)
        assert r.status_code == 413 and r.json()["code"] == "body_too_large", (r.status_code, r.text[:300])
        r = requests.post(ack, headers=auth, data=b"menzzo_order_id=" + b"1" * 400000, timeout=30)
        assert r.status_code == 413 and "menzzo" not in r.text, (r.status_code, r.text[:300])
        r = requests.post(ack, headers=auth, data=iter([b"menzzo_order_id=", b"1" * (17 * 1024 * 1024)]), timeout=60)
        assert r.status_code == 500 and "menzzo" not in r.text, (r.status_code, r.text[:300])
        # A label upload (under /api/backoffice/files/) may carry more than 320 KiB, as the import may.
        label = items[0]["link_to_label"][len(f"{base}/api/files/"):]
        pdf = b"%PDF-1.4\n" + b"%" * (2 * 1024 * 1024)
        r = requests.put(f"{base}/api/backoffice/files/{label}", data=pdf, timeout=60,
                         headers={"Authorization": f"Bearer {backoffice}", "Content-Type": "application/pdf"})
        assert r.status_code == 200 and r.json()["label_ready"] == 1, (r.status_code, r.text[:300])
        assert requests.get(items[0]["link_to_label"], headers=auth, timeout=30).content == pdf
        for path in ("/", "/api/", "/api/asir-group/", "/api/health/x", "/api/files", "/api/get-sales.c",
                     "/api/asir-group/get-sales.c", "/api/db/data.mdb", "/api/asir-group/ship-sale/x",
                     "/cgi-bin/health", "/api/../cgi-bin/health"):
            assert requests.get(base + path, timeout=30).status_code in (403, 404), path

        # The configuration is in the responder's PROCESS environment, as FcgidInitialEnv put it there.
        (pid0, uid), = responders(get_sales).items()
        assert uid == pw.pw_uid, uid
        penv = process_env(pid0)
        for k, v in (("MENZZO_DATA_DIR", db), ("MENZZO_FILES_DIR", files), ("MENZZO_BASE_URL", base)):
            assert penv.get(k) == v, (k, penv)
        # PATH and the FcgidInitialEnv variables, nothing else (no request's variable in particular).
        initial = set(re.findall(r"^\s*FcgidInitialEnv\s+(\S+)", open(conf).read() + sample, re.M))
        assert set(penv) - {"PATH", "LD_LIBRARY_PATH"} == initial, (initial, penv)

        # Persistent: 30 requests one after another, one process, the one already running.
        for i in range(30):
            r = page()
            assert r.status_code == 200 and len(r.json()) == 100, (i, r.status_code, r.text[:300])
            assert set(responders(get_sales)) == {pid0}, (i, pid0, responders(get_sales))

        # 30 requests at once: more responders, never more than FcgidMaxProcessesPerClass.
        seen, stop = set(), threading.Event()

        def watch():
            while not stop.is_set():
                seen.update(responders(get_sales))
                time.sleep(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with ThreadPoolExecutor(max_per_class + 4) as pool:
                statuses = list(pool.map(lambda _: page().status_code, range(30)))
        finally:
            stop.set()
            watcher.join()
        seen.update(responders(get_sales))
        assert statuses == [200] * 30, statuses
        assert pid0 in seen and len(seen) <= max_per_class, (pid0, seen, max_per_class)

        # A graceful reload (what the sample says to do after a change) ends the responders; the next
        # request starts a new one, which answers.
        before = set(responders(get_sales))
        os.kill(proc.pid, signal.SIGUSR1)
        wait_for(lambda: not (before & set(responders(get_sales))), "the old responders to exit", timeout=15)

        def answers():
            try:
                return page().status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(answers, "a request after the reload", timeout=15)
        after = set(responders(get_sales))
        assert after and not (before & after), (before, after)
    finally:
        stop_process(proc, 15)
        left = [pid for d, _, fs in os.walk(os.path.join(top, "cgi-bin")) for f in fs
                for pid in responders(os.path.join(d, f))]
        text = "".join(open(f, errors="replace").read() for f in (log, vhost_log) if os.path.exists(f))
        s.close()
    assert not left, f"responders outlived Apache: {left}"
    check_sanitizer(text, "a FastCGI responder under Apache's mod_fcgid")
    # Before the reload, however many requests at once, no more get-sales responders were ever started
    # than FcgidMaxProcessesPerClass: the ones seen above.
    first = text[:text.index("SIGUSR1 received")]
    spawned = {int(p) for p in re.findall(r"mod_fcgid: server \S+:" + re.escape(get_sales) + r"\((\d+)\) started",
                                          first)}
    assert seen <= spawned and len(spawned) <= max_per_class, (seen, spawned, max_per_class)
    # mod_fcgid ended every responder it started with SIGTERM (at the reload, at the stop); each finished
    # the request under way, if any, and exited with status 0.
    started = set(re.findall(r"mod_fcgid: server \S+:(\S+\(\d+\)) started", text))
    exits = dict(re.findall(r"mod_fcgid: process (\S+\(\d+\)) exit\([^)]*\), ([^\n]*)", text))
    assert started and set(exits) == started, (started, exits)
    for proc_, how in exits.items():
        assert how == "terminated by calling exit(), return code: 0", (proc_, how)
