"""The examples of docs/openapi.yaml work: each is sent to lighttpd serving a demo store (what a reader
tries them on), and each answer is the one the description gives for it.

The file drives the test.  Examples of the same name make one request: the parameters' examples of that
name (a path parameter without one gives its `example`) and the request body's example of that name.  The
answer expected is the response whose content has an example of that name (its status, and its body: see
`differences`), or, for a body the description cannot show (a PDF), the status in the request example's
`x-expect-status`.  An operation without named examples is sent with its path parameters' examples and
answers its first 2xx.  The requests go in the order of the file, on one demo store, as a reader would
try them: acknowledge before ship.  An operation secured by the supplier scheme (bearerAuth) is sent with
the demo's token of the supplier, one secured by the back-office scheme (backofficeAuth) with a
back-office token made in the demo store.  With them, the errors a request can be made for without a
special server (401 with the description's example token, or none, as the example's code says; 403
wrong_scope with a token of the other kind, 403 wrong_supplier with the other supplier's token; 405 with
another method; 413 with a body over 64 KiB) are sent and compared with their examples; the other error
examples are provoked by running the programs directly (PROVOKED).  A JSON answer is compared with its
example member by member; a text/plain one (the metrics' Prometheus text) family by family (see
`exposition_differences`).  Then every x-codeSamples sample, and every sh and python block of the
introduction, runs against a demo store, with the demo's token (the back-office token for a back-office
operation) and the server's address in place of the examples'."""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

import yaml

from harness import ROOT, Lighttpd, demo_store, require

EXAMPLES_DAY = 1796472000    # 2026-12-05T12:00:00Z: the day the examples with dates were written for
from test_docs import check_against_spec

OPENAPI = os.path.join(ROOT, "docs", "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The security schemes: a supplier's token, a back-office token.
SUPPLIER_SCHEME, BACKOFFICE_SCHEME = "bearerAuth", "backofficeAuth"


def load():
    with open(OPENAPI) as f:
        return yaml.safe_load(f)


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def public_url(spec):
    return spec["servers"][0]["url"]


def example_token(spec):
    """The token the description shows (a made-up one: no store knows it)."""
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    m = re.search(r"\bmzk_[A-Za-z0-9_-]{43}\b", scheme["description"])
    assert m, "the bearer scheme's description shows no example token"
    return m.group(0)


def scheme_of(spec, op):
    """The security scheme the operation takes (SUPPLIER_SCHEME or BACKOFFICE_SCHEME), None for none."""
    security = op.get("security", spec.get("security"))
    if not security:
        return None
    names = {name for requirement in security for name in requirement}
    assert len(names) == 1 and names <= {SUPPLIER_SCHEME, BACKOFFICE_SCHEME}, \
        f"{op['operationId']}: security {security}: one of {SUPPLIER_SCHEME}, {BACKOFFICE_SCHEME} expected"
    return names.pop()


def own_token(scheme):
    """The Case token of a request the scheme accepts."""
    return {SUPPLIER_SCHEME: "demo", BACKOFFICE_SCHEME: "backoffice", None: None}[scheme]


def foreign_token(scheme):
    """The Case token of the other kind, which the scheme refuses with a 403 wrong_scope."""
    return {SUPPLIER_SCHEME: "backoffice", BACKOFFICE_SCHEME: "demo"}[scheme]


def demo():
    """A demo store, its tokens by supplier slug, and a back-office token made in it."""
    s, tokens = demo_store()
    return s, tokens, s.token("--backoffice", "--label", "openapi examples")


def default_supplier(spec):
    """The supplier of the examples: the supplier path parameter's example."""
    return spec["components"]["parameters"]["supplier"]["example"]


def operations(spec):
    """(operation id, method, path template, operation, its parameters resolved), in the order of the file."""
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                params = [resolve(spec, p) for p in item.get("parameters", []) + op.get("parameters", [])]
                yield op["operationId"], method, path, op, params


def request_examples(spec, op, params):
    """The names of the operation's request examples, in the order of the file, each with where it is."""
    names = {}
    for p in params:
        for name, ex in p.get("examples", {}).items():
            names.setdefault(name, []).append((f"parameter {p['name']}", resolve(spec, ex)))
    body = resolve(spec, op.get("requestBody", {}))
    for ctype, media in body.get("content", {}).items():
        for name, ex in media.get("examples", {}).items():
            names.setdefault(name, []).append((f"{ctype} body", resolve(spec, ex)))
    return names


def response_examples(spec, op):
    """{name: (status, media type, example)} of the operation's named response examples."""
    found = {}
    for status, resp in op["responses"].items():
        for ctype, media in resolve(spec, resp).get("content", {}).items():
            for name, ex in media.get("examples", {}).items():
                assert name not in found, f"{op['operationId']}: two responses have an example named {name}"
                found[name] = (int(status), ctype, resolve(spec, ex).get("value"))
    return found


class Case:
    """One request of the description, and the answer it expects.  token: "demo" (the demo's token of the
    supplier), "other" (another supplier's), "backoffice" (a back-office token), None (no Authorization
    header), or a token as written.  code: the error code the answer must have, for a case without an
    example."""

    def __init__(self, op_id, method, path, headers=None, body=None, status=None, ctype=None, example=None,
                 supplier=None, token="demo", what="", code=None):
        self.op_id, self.method, self.path, self.headers, self.body = op_id, method, path, headers or {}, body
        self.status, self.ctype, self.example, self.supplier, self.token = status, ctype, example, supplier, token
        self.what, self.code = what, code

    def __repr__(self):
        return f"{self.op_id} {self.what}: {self.method.upper()} {self.path}"


def build(spec, op_id, template, op, params, name):
    """The request of the examples called name: its path and query, headers, body and supplier."""
    values = {"path": {}, "query": {}}
    for p in params:
        if p["in"] not in values:
            continue
        ex = p.get("examples", {}).get(name)
        if ex is not None:
            values[p["in"]][p["name"]] = resolve(spec, ex)["value"]
        elif p["in"] == "path":
            assert "example" in p, f"{op_id}: path parameter {p['name']} has no example (for {name})"
            values["path"][p["name"]] = p["example"]
    path = template
    for k, v in values["path"].items():
        path = path.replace("{" + k + "}", urllib.parse.quote(str(v), safe="/"))
    assert "{" not in path, f"{op_id} {name}: {path} has a parameter without an example"
    if values["query"]:
        path += "?" + urllib.parse.urlencode(values["query"])
    body, headers = None, {}
    body_examples = resolve(spec, op.get("requestBody", {})).get("content", {})
    for ctype, media in body_examples.items():
        ex = media.get("examples", {}).get(name)
        if ex is None:
            continue
        value = resolve(spec, ex)["value"]
        headers["Content-Type"] = ctype
        # JSON, a form, or a text body as it is (the back office's JSON Lines)
        body = json.dumps(value) if ctype == "application/json" else value if isinstance(value, str) else \
            urllib.parse.urlencode(value)
    supplier = values["path"].get("supplier", default_supplier(spec))
    return path, headers, body, supplier


def cases(spec):
    """Every request of the description's examples, in the order of the file; then those made for its
    error examples."""
    named_responses = {}
    out, errors = [], []
    for op_id, method, template, op, params in operations(spec):
        scheme = scheme_of(spec, op)
        secured = scheme is not None
        # a token of the other kind is a 403 wrong_scope: every secured operation must say so
        assert not secured or "403" in op["responses"], f"{op_id}: secured by {scheme}, but no 403 is described"
        requests = request_examples(spec, op, params)
        responses = response_examples(spec, op)
        named_responses.update({(op_id, n): v for n, v in responses.items()})
        if not requests:
            requests = {"default": []}
        first = None
        for name, parts in requests.items():
            statuses = {responses[name][0]} if name in responses else set()
            statuses |= {ex["x-expect-status"] for _, ex in parts if "x-expect-status" in ex}
            if name == "default":
                statuses.add(min(int(s) for s in op["responses"] if s.startswith("2")))
            assert len(statuses) == 1, (f"{op_id}: the examples named {name} ({', '.join(w for w, _ in parts)}) "
                                        f"expect {sorted(statuses) or 'nothing'}: name a response example {name}, "
                                        f"or give the request example an x-expect-status")
            status = statuses.pop()
            assert str(status) in op["responses"], f"{op_id} {name}: {status} is not a response of the operation"
            path, headers, body, supplier = build(spec, op_id, template, op, params, name)
            if name in responses:
                ctype, example = responses[name][1:]
            else:
                media = resolve(spec, op["responses"][str(status)]).get("content", {})
                ctype = next(iter(media), None)
                example = media.get(ctype, {}).get("example") if name == "default" else None
            case = Case(op_id, method, path, headers, body, status, ctype, example, supplier,
                        own_token(scheme), f"example {name}")
            out.append(case)
            first = first or case
        # the error examples a request can be made for
        for status, resp in op["responses"].items():
            resp = resolve(spec, resp)
            example = resp.get("content", {}).get("application/json", {}).get("example")
            if example is None:
                continue
            kw = dict(supplier=first.supplier, status=int(status), ctype="application/json", example=example)
            if status == "401" and secured:
                token = example_token(spec) if example["code"] == "invalid_token" else None
                errors.append(Case(op_id, method, first.path, first.headers, first.body, token=token,
                                   what=f"401 {example['code']}", **kw))
            elif status == "403" and secured and example["code"] == "wrong_scope":
                errors.append(Case(op_id, method, first.path, first.headers, first.body, token=foreign_token(scheme),
                                   what="403 with a token of the other kind", **kw))
            elif status == "403" and "/{supplier}/" in template:
                errors.append(Case(op_id, method, first.path, first.headers, first.body, token="other",
                                   what="403 with the other supplier's token", **kw))
                # the example is another 403's: a token of the other kind is checked against the schema and
                # its code
                errors.append(Case(op_id, method, first.path, first.headers, first.body, token=foreign_token(scheme),
                                   what="403 with a token of the other kind", code="wrong_scope",
                                   **dict(kw, example=None)))
            elif status == "405":
                other = "get" if method != "get" else "post"
                errors.append(Case(op_id, other, first.path, token=own_token(scheme),
                                   what=f"405 for {other.upper()}", **kw))
            elif status == "413" and method == "post":
                errors.append(Case(op_id, method, first.path, {"Content-Type": "application/x-www-form-urlencoded"},
                                   "menzzo_order_id=" + "1" * 70000, what="413", **kw))
    # every named response example is the answer to a request
    asked = {(c.op_id, c.what[len("example "):]) for c in out}
    orphans = sorted(set(named_responses) - asked)
    assert not orphans, f"response examples that no request example of the same name asks for: {orphans}"
    return out + errors


def differences(example, actual, base_url, public, where="body"):
    """How a real answer differs from its example.  Objects: the same members, each as its example.
    Lists: the answer begins with the example's items (a page of a listing has more).  Timestamps and
    dates: of the same form (the demo's are those of the day it was made).  The server's own URLs: the
    example's, with the public address in place of the server's."""
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {actual!r:.200} where the example has an object"]
        out = []
        if set(example) != set(actual):
            out.append(f"{where}: members {sorted(actual)} where the example has {sorted(example)}")
        for k in example:
            if k in actual:
                out += differences(example[k], actual[k], base_url, public, f"{where}.{k}")
        return out
    if isinstance(example, list):
        if not isinstance(actual, list) or len(actual) < len(example):
            return [f"{where}: {actual!r:.300} where the example has {len(example)} items"]
        out = []
        for i, item in enumerate(example):
            out += differences(item, actual[i], base_url, public, f"{where}[{i}]")
        return out
    if isinstance(example, str) and isinstance(actual, str):
        for form in (TIMESTAMP, DATE):
            if form.fullmatch(example) and form.fullmatch(actual):
                return []
        if example.startswith(public + "/") and actual == base_url + example[len(public):]:
            return []
    if isinstance(example, bool) or isinstance(actual, bool):
        same = example is actual
    elif isinstance(example, (int, float)) and isinstance(actual, (int, float)):
        same = example == actual    # 250.00 is written 250.0 or 250
    else:
        same = type(example) is type(actual) and example == actual
    return [] if same else [f"{where}: {actual!r:.200} where the example has {example!r:.200}"]


# A sample line of the text format: its name, its labels (possibly none) and its value.
SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def exposition(text, where):
    """{family: type} of the # TYPE lines, and [(line, name, label names)] of the samples, of a text in the
    Prometheus text format; [problems] when a line is of none of its forms."""
    types, samples, problems = {}, [], []
    for line in text.splitlines():
        if not line.strip() or (line.startswith("#") and not line.startswith("# TYPE ")):
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) != 4:
                problems.append(f"{where}: {line!r} is no # TYPE line")
            else:
                types[parts[2]] = parts[3]
            continue
        m = SAMPLE.fullmatch(line)
        labels = LABEL.findall(m.group(2) or "") if m else []
        if not m or "".join(f'{k}="{v}",' for k, v in labels).rstrip(",") != (m.group(2) or "").rstrip(","):
            problems.append(f"{where}: {line!r} is no sample line")
            continue
        try:
            float(m.group(3))
        except ValueError:
            problems.append(f"{where}: {line!r}: {m.group(3)!r} is no number")
        samples.append((line, m.group(1), tuple(k for k, _ in labels)))
    return types, samples, problems


def family_of(name, types):
    """The family a sample's name belongs to (a histogram's _bucket, _sum and _count are its own)."""
    for suffix in ("", "_bucket", "_sum", "_count"):
        if suffix and name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
            return name[:-len(suffix)]
        if not suffix and name in types:
            return name
    return None


def exposition_differences(example, actual):
    """How a real answer in the Prometheus text format differs from its example, an excerpt: every # TYPE
    line of the example is one of the answer (the same family, of the same type) and the answer has no
    family the example leaves out; every sample of the example belongs to one of its families, and the
    answer has a sample of that name with the same label names (the values are the moment's)."""
    want_types, want_samples, out = exposition(example, "example")
    have_types, have_samples, problems = exposition(actual, "answer")
    out += problems
    for family, kind in want_types.items():
        if family not in have_types:
            out.append(f"# TYPE {family} {kind}: the answer has no family {family}")
        elif have_types[family] != kind:
            out.append(f"# TYPE {family} {kind}: the answer's is a {have_types[family]}")
    for family in have_types:
        if family not in want_types:
            out.append(f"the example leaves out the family {family} ({have_types[family]})")
    have = {(name, labels) for _, name, labels in have_samples}
    for line, name, labels in want_samples:
        if family_of(name, want_types) is None:
            out.append(f"{line!r}: no # TYPE line of the example names its family")
        elif (name, labels) not in have:
            out.append(f"{line!r}: the answer has no {name} sample with the labels {list(labels)}")
    return out


def send(web, case, tokens, backoffice):
    if case.token == "demo":
        token = tokens[case.supplier]
    elif case.token == "other":
        token = next(t for supplier, t in tokens.items() if supplier != case.supplier)
    elif case.token == "backoffice":
        token = backoffice
    else:
        token = case.token
    return web.request(case.method.upper(), case.path, headers=case.headers,
                       body=case.body.encode() if isinstance(case.body, str) else case.body, token=token)


def problems_of(web, todo, tokens, backoffice, store, spec):
    """What differs between the answers to the cases and the description."""
    problems = []
    for case in todo:
        r = send(web, case, tokens, backoffice)
        if r.status != case.status:
            problems.append(f"{case}: {r.status} {r.body[:300]!r}, the description says {case.status}")
            continue
        ctype = r.headers.get("content-type", "").split(";")[0]
        if case.ctype and ctype != case.ctype:
            problems.append(f"{case}: {ctype}, the description says {case.ctype}")
            continue
        # status, headers and body as the operation describes them
        check_against_spec(case.method.upper(), case.path.split("?")[0], r)
        if case.code is not None and json.loads(r.body).get("code") != case.code:
            problems.append(f"{case}: {r.body[:300]!r}, the description says the code {case.code}")
        if case.example is not None and ctype == "text/plain":
            problems += [f"{case}: {d}" for d in exposition_differences(case.example, r.body.decode())]
        elif case.example is not None:
            problems += [f"{case}: {d}" for d in differences(case.example, json.loads(r.body),
                                                              store.env["MENZZO_BASE_URL"], public_url(spec))]
        elif ctype == "application/pdf" and not r.body.startswith(b"%PDF-"):
            problems.append(f"{case}: not a PDF: {r.body[:40]!r}")
    return problems


def test_every_example_is_the_demo_answer():
    spec = load()
    todo = cases(spec)
    assert {c.op_id for c in todo} == {op_id for op_id, *_ in operations(spec)}
    assert {c.token for c in todo} >= {"demo", "other", "backoffice", None}
    s, tokens, backoffice = demo()
    try:
        # The server's day is the one the examples were written on: their estimated ship dates (today to a
        # year ahead) and carrier event times (at most a day ahead) hold on it whatever day the test runs.
        with Lighttpd(s, env={"MENZZO_TEST_CLOCK": str(EXAMPLES_DAY)}) as web:
            problems = problems_of(web, todo, tokens, backoffice, s, spec)
        assert not problems, "\n".join(problems)
    finally:
        s.close()


def test_an_example_the_demo_does_not_answer_fails():
    """The check can fail: an example naming a sale product the demo does not have, an answer that is not
    the demo's, a metrics text naming a family, a label or a type the answer does not have, a 403 that is
    not the one described, and a request example without an answer are all caught."""
    spec = load()
    acknowledge = spec["components"]["requestBodies"]["Acknowledge"]["content"]["application/json"]["examples"]
    acknowledge["acknowledge"]["value"]["menzzo_order_id"] = "15000012345_788"
    listing = spec["components"]["responses"]["SalesPage"]["content"]["application/json"]["examples"]
    listing["order"]["value"][0]["sku"] = "ANOTHER-SKU"
    metrics = spec["paths"]["/api/metrics"]["get"]["responses"]["200"]["content"]["text/plain"]
    metrics["example"] = (metrics["example"].replace("menzzo_store_used_bytes", "menzzo_store_free_bytes")
                          .replace('{supplier="notio"}', '{supplier="notio",token="2"}')
                          .replace("# TYPE menzzo_cache_file_bytes gauge", "# TYPE menzzo_cache_file_bytes counter"))
    todo = [c for c in cases(spec) if c.what in ("example acknowledge", "example order")
            or (c.op_id, c.what) == ("getMetrics", "example default")]
    # a supplier's token where the back-office token goes: a 403 where the example says 200
    todo += [Case("getMetrics", "get", "/api/metrics", status=200, ctype="text/plain", token="demo",
                  supplier="asir-group", what="a supplier's token")]
    # a 403 wrong_supplier, where a back-office token gets a wrong_scope
    todo += [Case(c.op_id, c.method, c.path, c.headers, c.body, c.status, c.ctype, None, c.supplier, "other",
                  "the other supplier's token", c.code) for c in cases(spec)
             if c.op_id == "getSales" and c.code == "wrong_scope"]
    s, tokens, backoffice = demo()
    try:
        # The server's day is the one the examples were written on: their estimated ship dates (today to a
        # year ahead) and carrier event times (at most a day ahead) hold on it whatever day the test runs.
        with Lighttpd(s, env={"MENZZO_TEST_CLOCK": str(EXAMPLES_DAY)}) as web:
            problems = problems_of(web, todo, tokens, backoffice, s, spec)
    finally:
        s.close()
    assert len(problems) == 9, "\n".join(problems)
    assert any("acknowledgeSale example acknowledge" in p and ": 404 " in p for p in problems), problems
    assert any("getSales example order" in p and "ANOTHER-SKU" in p for p in problems), problems
    metrics_problems = [p for p in problems if p.startswith("getMetrics example default")]
    assert len(metrics_problems) == 5, "\n".join(metrics_problems)
    for expected in ("the answer has no family menzzo_store_free_bytes",
                     "the example leaves out the family menzzo_store_used_bytes",
                     "the answer has no menzzo_store_free_bytes sample",
                     "the answer has no menzzo_rate_limited_total sample with the labels ['supplier', 'token']",
                     "# TYPE menzzo_cache_file_bytes counter: the answer's is a gauge"):
        assert any(expected in p for p in metrics_problems), (expected, metrics_problems)
    assert any("getMetrics a supplier's token" in p and ": 403 " in p and "wrong_scope" in p
               for p in problems), problems
    assert any("getSales the other supplier's token" in p and "the code wrong_scope" in p
               for p in problems), problems
    spec = load()
    spec["components"]["requestBodies"]["Ship"]["content"]["application/json"]["examples"]["lost"] = {
        "value": {"menzzo_order_id": "15000012345_789"}}
    try:
        cases(spec)
    except AssertionError as e:
        assert "examples named lost" in str(e), e
    else:
        raise AssertionError("a request example without an answer was accepted")


# The error examples a demo store answers only with the server set up for them, or to a request that is
# not an example of the description: how each is provoked, the program run directly (response: program,
# the keyword arguments of Store.cgi, with {store} for the store's directory, and how many times it is
# sent, the last answer being the example's).
PROVOKED = {
    "InvalidBody": ("asir-group/ship-sale", dict(method="POST", body={"menzzo_order_id": "15000012345-789"}), 1),
    "TooManyRequests": ("asir-group/get-sales", dict(env={"MENZZO_RATE_LIMIT": "1,1", "MENZZO_TEST_CLOCK": "1000"}),
                        2),
    "InternalError": ("asir-group/get-sales", dict(env={"MENZZO_CACHE_TTL_ASIR_GROUP": "soon"}), 1),
    "StorageUnavailable": ("asir-group/get-sales", dict(env={"MENZZO_DATA_DIR": "{store}/nowhere"}), 1),
    "HealthUnavailable": ("health", dict(env={"MENZZO_DATA_DIR": "{store}/nowhere"}), 1),
}


def test_error_examples_are_real_answers():
    """Every error example that no example request gets through lighttpd is provoked here, and is the
    answer; an error example that is neither fails (add its way to PROVOKED)."""
    spec = load()
    sent = {(c.op_id, c.status) for c in cases(spec)}
    unchecked = set()
    for op_id, _, _, op, _ in operations(spec):
        for status, resp in op["responses"].items():
            name = resp.get("$ref", "").rsplit("/", 1)[-1]
            if "example" in resolve(spec, resp).get("content", {}).get("application/json", {}):
                if (op_id, int(status)) not in sent and name not in PROVOKED:
                    unchecked.add(f"{op_id} {status} ({name or 'inline'})")
    assert not unchecked, f"error examples never checked: {sorted(unchecked)}"
    s, tokens = demo_store()
    try:
        for name, (program, request, times) in PROVOKED.items():
            token = None if program == "health" else tokens[program.split("/")[0]]
            env = {k: v.format(store=s.dir) for k, v in request.get("env", {}).items()}
            for _ in range(times):
                r = s.cgi(program, token=token, **dict(request, env=env))
            resp = spec["components"]["responses"][name]["content"]["application/json"]
            problems = differences(resp["example"], r.json(), s.env["MENZZO_BASE_URL"], public_url(spec))
            assert not problems, (name, problems)
            check_against_spec(request.get("method", "GET"), "/api/" + program, r)
    finally:
        s.close()


# --- the code samples ------------------------------------------------------------------------

def samples(spec):
    """(what, language, source, scheme) of every x-codeSamples sample, in the order of the file, and of
    every sh and python block of the introduction (a supplier's); scheme: whose token it takes."""
    out = []
    for m in re.finditer(r"^```(sh|python)\n(.*?)^```", spec["info"]["description"], re.M | re.S):
        out.append((f"introduction block {len(out) + 1}", m.group(1), m.group(2), SUPPLIER_SCHEME))
    for op_id, _, _, op, _ in operations(spec):
        for sample in op.get("x-codeSamples", []):
            lang = {"Shell": "sh", "Python": "python"}[sample["lang"]]
            out.append((f"{op_id} {sample['label']}", lang, sample["source"], scheme_of(spec, op)))
    return out


def test_code_samples_run_against_the_demo():
    require("curl", "curl")
    spec = load()
    labels = {}
    for op_id, _, _, op, _ in operations(spec):
        labels[op_id] = {x["label"] for x in op.get("x-codeSamples", [])}
        for sample in op.get("x-codeSamples", []):
            assert public_url(spec) in sample["source"], (op_id, sample["label"])
    assert all(have >= {"curl", "Python"} for have in labels.values()), labels
    s, tokens, backoffice = demo()
    try:
        with Lighttpd(s) as web, tempfile.TemporaryDirectory() as work:
            for what, lang, source, scheme in samples(spec):
                m = re.search(r"/api/([a-z0-9-]+)/", source)
                supplier = m.group(1) if m and m.group(1) in tokens else default_supplier(spec)
                token = backoffice if scheme == BACKOFFICE_SCHEME else tokens[supplier]
                source = source.replace(public_url(spec), web.url)
                if lang == "sh":
                    # curl fails on an HTTP error here, so that a sample that gets one fails
                    argv = ["sh", "-ec", 'curl() { command curl --silent --show-error --fail-with-body "$@"; }\n'
                            + source]
                else:
                    argv = [sys.executable, "-c", source.replace(example_token(spec), token)]
                p = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=120,
                                   env=dict(os.environ, TOKEN=token))
                assert p.returncode == 0, \
                    f"{what} failed ({p.returncode}):\n{source}\n{p.stdout[-2000:]}{p.stderr[-2000:]}"
                for f in os.listdir(work):
                    if f.endswith(".pdf"):
                        assert open(os.path.join(work, f), "rb").read(5) == b"%PDF-", (what, f)
                        os.unlink(os.path.join(work, f))
    finally:
        s.close()
