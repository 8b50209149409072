"""menzzo-admin as a maintainer and a script see it: --json shapes, human-readable stats, options
parsed by getopt_long, usage errors (exit 2), errors that name their cause, the progress line of
import on a terminal (and nothing of it elsewhere)."""
import fcntl
import json
import os
import re
import struct
import subprocess
import termios

from harness import ADMIN, ROOT, Store, check_sanitizer, sale

STATS_NAMES = ["map_size", "used_bytes", "page_size", "readers", "last_txn",
               "sale", "listing", "order", "label", "log", "event", "token", "meta", "shipment", "stock", "tracking",
               "feed", "webhook", "refused"]


def human(n):
    """What menzzo-admin prints for n bytes: powers of 1024, one decimal."""
    if n < 1024:
        return f"{n} B"
    v, units = n / 1024, ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    u = 0
    while v >= 1024 and u < 5:
        v /= 1024
        u += 1
    if round(v, 1) >= 1024 and u < 5:
        v /= 1024
        u += 1
    return f"{v:.1f} {units[u]}"


def test_stats_human_readable_and_json():
    with Store() as s:
        s.import_lines([sale(1, 1), sale(1, 2), sale(2, 3, supplier="notio")])
        s.token("notio")
        p = s.admin("stats")
        assert p.stderr == b""
        lines = p.stdout.decode().splitlines()
        assert all(l.count("\t") == 1 for l in lines), lines
        text = dict(l.split("\t") for l in lines)
        assert [l.split("\t")[0] for l in lines] == STATS_NAMES, lines
        assert text["map_size"] == "4.0 GiB", text
        for name in ("used_bytes", "page_size"):
            assert re.fullmatch(r"\d+ B|\d+\.\d (KiB|MiB|GiB|TiB)", text[name]), text
        assert re.fullmatch(r"\d+/\d+", text["readers"]) and text["last_txn"].isdigit()
        assert text["sale"] == "3" and text["order"] == "3" and text["token"] == "1", text

        p = s.admin("stats", "--json")
        out = p.stdout.decode()
        assert out.count("\n") == 1 and p.stderr == b""
        st = json.loads(out)
        assert list(st) == ["map_size", "used_bytes", "page_size", "readers_used", "readers_max",
                            "last_txn", "entries", "refused", "webhooks"], st
        assert list(st["entries"]) == STATS_NAMES[5:-1] and st["refused"] == 0 and st["webhooks"] == [], st
        assert all(isinstance(v, int) for k, v in st.items() if k not in ("entries", "webhooks"))
        assert all(isinstance(v, int) for v in st["entries"].values())
        assert st["map_size"] == 4 << 30 and st["used_bytes"] % st["page_size"] == 0
        assert 1 <= st["readers_used"] <= st["readers_max"]
        assert st["entries"]["sale"] == 3 and st["entries"]["token"] == 1
        # The same store, the same figures, in both forms.
        assert human(st["used_bytes"]) == text["used_bytes"] and human(st["page_size"]) == text["page_size"]
        assert f"{st['readers_max']}" == text["readers"].split("/")[1]
        assert {k: str(v) for k, v in st["entries"].items()} == {k: text[k] for k in STATS_NAMES[5:-1]}
        assert str(st["refused"]) == text["refused"]


def test_token_list_json():
    with Store() as s:
        s.token("notio", "--label", "ERP one", "--expires", "2099-12-31")
        s.token("asir-group")
        s.admin("token", "revoke", "2")
        text = s.admin("token", "list").stdout.decode().splitlines()
        assert text[0] == "ID\tSUPPLIER\tLABEL\tCREATED\tEXPIRES\tSTATE", text
        p = s.admin("token", "list", "--json")
        rows = [json.loads(l) for l in p.stdout.decode().splitlines()]
        assert len(rows) == 2 and p.stderr == b""
        for r in rows:
            assert list(r) == ["id", "supplier", "label", "created", "expires", "state", "kind"], r
            assert r["kind"] == "supplier", r
            assert isinstance(r["id"], int)
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["created"]), r
        by_id = {r["id"]: r for r in rows}
        assert by_id[1]["supplier"] == "notio" and by_id[1]["label"] == "ERP one"
        assert by_id[1]["expires"] == "2099-12-31T23:59:59Z" and by_id[1]["state"] == "active"
        assert by_id[2]["supplier"] == "asir-group" and by_id[2]["label"] is None
        assert by_id[2]["expires"] is None and by_id[2]["state"] == "revoked"
        # The text listing says the same, line for line.
        for line in text[1:]:
            tid, sup, label, created, expires, state = line.split("\t")
            r = by_id[int(tid)]
            assert (sup, label, created, expires, state) == (
                r["supplier"], r["label"] or "-", r["created"], r["expires"] or "never", r["state"])


def test_json_accepted_by_show_log_events():
    with Store() as s:
        s.import_lines([sale(1, 1), sale(2, 2)])
        s.admin("cancel", "1_1")
        s.admin("cancel", "2_2")
        for args in (["show", "1_1"], ["log", "1_1"], ["events"], ["events", "--after", "1"]):
            plain = s.admin(*args).stdout
            assert plain and s.admin(*args, "--json").stdout == plain, args
            assert s.admin(args[0], "--json", *args[1:]).stdout == plain, args
            for line in plain.decode().splitlines():
                json.loads(line)
        assert len(s.admin("events", "--json", "--limit", "1").stdout.splitlines()) == 1


def test_options_in_any_order():
    with Store() as s:
        out = s.admin("token", "add", "--label", "first", "notio").stdout.decode()
        assert out.startswith("token 1 for notio, first\n"), out
        out = s.admin("token", "add", "asir-group", "--expires=2099-01-01", "--label=second").stdout.decode()
        assert out.startswith("token 2 for asir-group, second\n"), out
        out = s.admin("token", "add", "--label=third", "--", "notio").stdout.decode()
        assert out.startswith("token 3 for notio, third\n"), out
        rows = {r["id"]: r for r in map(json.loads, s.admin("token", "list", "--json").stdout.splitlines())}
        assert rows[2]["expires"] == "2099-01-01T23:59:59Z" and rows[1]["expires"] is None
        s.import_lines([sale(1, 1), sale(2, 2), sale(3, 3)])
        for i in (1, 2, 3):
            s.admin("cancel", f"{i}_{i}")
        seqs = lambda *a: [json.loads(l)["seq"] for l in s.admin("events", *a).stdout.splitlines()]
        assert seqs("--after=1", "--limit=1") == [2]
        assert seqs("--limit", "1", "--after", "1") == seqs("--after", "1", "--limit=1") == [2]
        assert seqs("--lim", "2") == [1, 2]  # an unambiguous beginning of the name
        assert s.admin("cache", "purge", "--all").stdout.decode().endswith("removed\n")


def test_usage_errors_exit_2():
    with Store() as s:
        cases = [
            (["stats", "--frob"], "stats: unknown option --frob"),
            (["token", "add", "notio", "--bogus=1"], "token add: unknown option --bogus=1"),
            (["show", "-x", "1_1"], "show: unknown option -x"),
            (["events", "--limit"], "events: option --limit needs a value"),
            (["stats", "--json=yes"], "stats: option --json takes no value"),
            (["cache", "purge", "--label", "x"], "cache: unknown option --label"),
            (["token", "list", "extra"], "token list takes no argument"),
            (["import", "a", "b"], "import takes one FILE"),
            (["backup"], "backup: expected one DIR"),
            (["show"], "show: expected one ID"),
            (["token"], "token: expected add, list or revoke"),
            (["cache"], "cache: expected `cache purge [--all]`"),
            (["init", "now"], "init: unexpected argument now"),
        ]
        for args, message in cases:
            p = s.admin(*args, check=False)
            err = p.stderr.decode()
            assert p.returncode == 2 and p.stdout == b"", (args, p)
            assert err.startswith("menzzo-admin: " + message), (args, err)
            assert "\nusage: menzzo-admin " + args[0] in err, (args, err)
        for args, message in [(["events", "--after", "x"], "events: --after must be an event seq"),
                              (["events", "--limit=-1"], "events: --limit must be a count"),
                              (["show", "1-1"], "show: ID must be a menzzo_order_id"),
                              (["token", "revoke", "none"], "token revoke: ID must be a token number"),
                              (["token", "add", "notio", "--expires", "2001-01-01"], "token add: --expires is in the past"),
                              (["token", "add", "notio", "--label", ""], "token add: --label must be")]:
            p = s.admin(*args, check=False)
            assert p.returncode == 2 and p.stderr.decode().startswith("menzzo-admin: " + message), (args, p)
        assert s.admin("frobnicate", check=False).returncode == 2
        # Failures of the work itself stay 1.
        assert s.admin("show", "9_9", check=False).returncode == 1
        assert s.admin("token", "revoke", "7", check=False).returncode == 1


def test_help_anywhere_on_the_line():
    with Store() as s:
        for args in (["token", "add", "--help"], ["token", "add", "notio", "-h"], ["token", "list", "--help"],
                     ["show", "1_1", "--help"], ["stats", "--json", "-h"], ["events", "--limit", "5", "--help"],
                     ["cache", "purge", "--help"], ["import", "-", "-h"]):
            # Help needs neither a valid environment nor the store.
            p = s.admin(*args, env={"MENZZO_PAGE_SIZE": "0", "MENZZO_DATA_DIR": "/nonexistent"})
            assert p.stdout.startswith(b"usage: menzzo-admin " + args[0].encode()), (args, p.stdout)
            assert p.stderr == b""
        out = s.admin("stats", "--help").stdout.decode()
        assert "--json" in out


def test_store_errors_name_the_cause():
    with Store() as s:
        afile = os.path.join(s.dir, "afile")
        open(afile, "w").close()
        for data_dir in (afile, os.path.join(afile, "db")):
            for args in (["stats"], ["init"], ["token", "list"], ["import", "-"], ["show", "1_1"]):
                p = s.admin(*args, env={"MENZZO_DATA_DIR": data_dir}, check=False)
                assert p.returncode == 1, (args, p)
                assert p.stderr.decode() == f"menzzo-admin: cannot open the store at {data_dir}: Not a directory\n", \
                    (args, p.stderr)
        missing = os.path.join(s.dir, "missing", "db")
        p = s.admin("stats", env={"MENZZO_DATA_DIR": missing}, check=False)
        assert p.returncode == 1 and p.stderr.decode() == (
            f"menzzo-admin: no store at {missing}: No such file or directory "
            "(run `menzzo-admin init` first, or set MENZZO_DATA_DIR)\n"), p.stderr
        # A directory without a store keeps the hint alone.
        empty = os.path.join(s.dir, "empty")
        os.mkdir(empty)
        p = s.admin("stats", env={"MENZZO_DATA_DIR": empty}, check=False)
        assert p.returncode == 1 and p.stderr.decode() == (
            f"menzzo-admin: no store at {empty} (run `menzzo-admin init` first, or set MENZZO_DATA_DIR)\n"), p.stderr
        for target in (afile, os.path.join(afile, "backup")):
            p = s.admin("backup", target, check=False)
            assert p.returncode == 1
            assert p.stderr.decode() == f"menzzo-admin: backup: cannot write to {target}: Not a directory\n", p.stderr
        nofile = os.path.join(s.dir, "orders.jsonl")
        p = s.admin("import", nofile, check=False)
        assert p.returncode == 1
        assert p.stderr.decode() == f"menzzo-admin: import: cannot open {nofile}: No such file or directory\n"
        p = s.admin("import", s.dir, check=False)
        assert p.returncode == 2, "a read error is exit status 2"
        assert p.stderr.decode() == f"menzzo-admin: import: cannot read {s.dir}: Is a directory; nothing was written\n"
        # None of it reaches an HTTP response.
        r = s.cgi("health", env={"MENZZO_DATA_DIR": afile})
        assert r.status == 503 and b"Not a directory" not in r.body and afile.encode() not in r.body, r


def test_unknown_supplier_lists_the_slugs():
    slugs = re.findall(r'^SUPPLIER\("([^"]+)"', open(os.path.join(ROOT, "lib", "suppliers.def")).read(), re.M)
    assert slugs[:2] == ["asir-group", "notio"], slugs
    message = "menzzo-admin: token add: SUPPLIER must be one of " + ", ".join(slugs) + " (or --backoffice)\n"
    with Store() as s:
        p = s.admin("token", "add", "acme", "--label", "x", check=False)
        assert p.returncode == 2 and p.stderr.decode().startswith(message + "usage: menzzo-admin token add"), \
            p.stderr
        p = s.admin("token", "add", check=False)
        assert p.returncode == 2 and p.stderr.decode().startswith(message + "usage: menzzo-admin token add"), p.stderr
        assert "token" not in s.admin("token", "list", "--json").stdout.decode()


# --- progress on a terminal ------------------------------------------------------------------

PROGRESS_LINES = 12000  # most of a second with the sanitizers: several redraws


def write_lines(path, n, bad_every=0):
    with open(path, "w") as f:
        for i in range(1, n + 1):
            if bad_every and i % bad_every == 0:
                f.write('{"increment_id": "bad"}\n')
            else:
                f.write(json.dumps(sale(100000 + i // 2, i, supplier=("asir-group", "notio")[i % 2])) + "\n")


def on_terminal(s, argv, stdin=subprocess.DEVNULL, cols=120):
    """Runs argv with standard error on a pseudo-terminal cols wide: (status, stdout, what the terminal got)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=slave, env=s.env)
    os.close(slave)
    got = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the program closed its end
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    out = p.stdout.read()
    p.wait(60)
    p.stdout.close()
    text = got.decode()
    check_sanitizer(text, " ".join(argv))
    return p.returncode, out, text


def drawn(terminal):
    """The progress lines drawn, in order (each "\\r...\\033[K"; a bare clear is not one)."""
    return [m for m in re.findall(r"\r([^\r\n]*)\x1b\[K", terminal) if m]


def without_progress(terminal):
    """What is left on the terminal once every progress line is removed, newlines as \\n."""
    return re.sub(r"\r[^\r\n]*\x1b\[K", "", terminal).replace("\r\n", "\n")


def test_import_progress_on_a_terminal():
    with Store() as s:
        path = os.path.join(s.dir, "orders.jsonl")
        write_lines(path, PROGRESS_LINES)
        summary = f"{path}: {PROGRESS_LINES} line(s) read, {PROGRESS_LINES} sale product(s) created or changed, 0 rejected\n"
        status, out, term = on_terminal(s, [ADMIN, "import", path])
        assert status == 0 and out == b"", (status, out, term)
        lines = drawn(term)
        assert len(lines) >= 2, repr(term)
        size = r"\d+(\.\d)? (B|KiB|MiB)"
        for line in lines:
            assert re.fullmatch(rf"import: {size} of {size} \(\d+%\), [\d,]+ lines, [\d,]+ lines/s"
                                r"(, ETA [0-9a-z ]+|, committing)?", line), line
        assert "(100%)" in lines[-1] and lines[-1].endswith(", committing"), lines[-1]
        # One line, updated in place, then removed: the rest of standard error is as without a terminal.
        assert "\n" not in term[:term.index(path + ":")]
        assert term.endswith("\r\x1b[K" + summary.replace("\n", "\r\n")), repr(term[-300:])
        assert without_progress(term) == summary
        assert json.loads(s.admin("stats", "--json").stdout)["entries"]["sale"] == PROGRESS_LINES

    with Store() as s:  # from a pipe: no total, bytes and lines read
        path = os.path.join(s.dir, "orders.jsonl")
        write_lines(path, PROGRESS_LINES)
        status, out, term = on_terminal(s, ["sh", "-c", f"cat '{path}' | '{ADMIN}' import -"])
        assert status == 0, term
        lines = drawn(term)
        assert lines, repr(term)
        for line in lines:
            assert re.fullmatch(r"import: \d+(\.\d)? (B|KiB|MiB), [\d,]+ lines, [\d,]+ lines/s(, committing)?",
                                line), line
        assert without_progress(term) == summary_of("-", PROGRESS_LINES)


def summary_of(name, n, changed=None, rejected=0):
    changed = n - rejected if changed is None else changed
    return f"{name}: {n} line(s) read, {changed} sale product(s) created or changed, {rejected} rejected\n"


def test_import_progress_keeps_rejected_lines_readable():
    with Store() as s, Store() as quiet:
        path = os.path.join(s.dir, "orders.jsonl")
        write_lines(path, PROGRESS_LINES, bad_every=1000)
        status, _, term = on_terminal(s, [ADMIN, "import", path])
        assert status == 1 and drawn(term), repr(term[:500])
        p = quiet.admin("import", path, check=False)
        assert p.returncode == 1
        # Each rejected line starts on a clean line: removing the progress leaves exactly what cron gets.
        assert without_progress(term) == p.stderr.decode()
        assert p.stderr.decode().count(": line ") == PROGRESS_LINES // 1000
        for line in term.split("\r\n"):
            if ": line " in line:
                before = line[:line.index(path)]
                assert before == "" or before.endswith("\r\x1b[K"), repr(line)


def test_import_progress_fits_a_narrow_terminal():
    with Store() as s:
        path = os.path.join(s.dir, "orders.jsonl")
        write_lines(path, PROGRESS_LINES)
        for cols in (72, 40):
            status, _, term = on_terminal(s, [ADMIN, "import", path], cols=cols)
            assert status == 0
            lines = drawn(term)
            assert lines and all(len(l) <= cols - 1 for l in lines), (cols, lines)
            assert all(l.startswith("import: ") for l in lines)


def test_import_prints_nothing_extra_without_a_terminal():
    with Store() as s:
        path = os.path.join(s.dir, "orders.jsonl")
        write_lines(path, PROGRESS_LINES)
        p = s.admin("import", path)
        assert p.stderr.decode() == summary_of(path, PROGRESS_LINES) and p.stdout == b""
        # stdout on a terminal does not matter: standard error decides.
        master, slave = os.openpty()
        p = subprocess.run([ADMIN, "import", path], stdout=slave, stderr=subprocess.PIPE, env=s.env, timeout=60)
        os.close(slave)
        os.close(master)
        assert p.stderr.decode() == summary_of(path, PROGRESS_LINES, changed=0)
        with open(path, "rb") as f:
            p = s.admin("import", "-", input=f.read())
        assert p.stderr.decode() == summary_of("-", PROGRESS_LINES, changed=0)
    with Store() as s:  # a store of its own: the demo's sale_product_ids are its own
        demo = s.admin("demo")
        assert re.fullmatch(r"demo: \d+ line\(s\) read, \d+ sale product\(s\) created or changed, 0 rejected\n",
                            demo.stderr.decode()), demo.stderr
