"""The per-token rate limit (SPEC §2.7): RateLimit-Policy and RateLimit headers (the fields of
draft-ietf-httpapi-ratelimit-headers-10) on every response to a valid token, 429 rate_limited with
Retry-After, a batch as one request, MENZZO_RATE_LIMIT=0 off, a bucket that cannot be kept never
failing a request, concurrency, and the seed's own client loop never throttled under the default;
each CGI run directly and through lighttpd."""
import os
import re
import time

import requests

from harness import Lighttpd, Store, assert_error, sale
from test_actions import events, log, post, run_parallel, show
from test_docs import MenzzoSupplierAPI

POLICY_RE = re.compile(r'^"per-token";q=(\d+);w=(\d+)$')
LIMIT_RE = re.compile(r'^"per-token";r=(\d+)(?:;t=(\d+))?$')


def limit(r):
    """(q, w, r, t) of a response's RateLimit-Policy and RateLimit fields."""
    pm = POLICY_RE.match(r.headers["ratelimit-policy"])
    lm = LIMIT_RE.match(r.headers["ratelimit"])
    assert pm and lm, r.headers
    return int(pm.group(1)), int(pm.group(2)), int(lm.group(1)), None if lm.group(2) is None else int(lm.group(2))


def store_with(n=10, **env):
    s = Store(**env)
    s.import_lines([sale(600, i) for i in range(1, n + 1)] + [sale(601, 100 + i, supplier="notio") for i in range(1, 4)])
    return s


def test_headers_on_every_response_to_a_valid_token():
    with store_with() as s:
        tok, ntok = s.token("asir-group"), s.token("notio")
        s.admin("cancel", "600_9")
        calls = [
            (200, lambda: s.cgi("asir-group/get-sales", token=tok)),
            (200, lambda: s.cgi("asir-group/get-sales", token=tok)),  # a cache HIT too
            (400, lambda: s.cgi("asir-group/get-sales", query="page=0", token=tok)),
            (403, lambda: s.cgi("notio/get-sales", token=tok)),
            (200, lambda: post(s, "asir-group", "acknowledge-sale", {"menzzo_order_id": "600_1"}, tok)),
            (400, lambda: post(s, "asir-group", "ship-sale", {"menzzo_order_id": "x"}, tok)),
            (404, lambda: post(s, "asir-group", "ship-sale", {"menzzo_order_id": "600_99"}, tok)),
            (409, lambda: post(s, "asir-group", "ship-sale", {"menzzo_order_id": "600_9"}, tok)),
            (200, lambda: post(s, "asir-group", "ship-sale", {"items": [{"menzzo_order_id": "600_2"}]}, tok)),
            (404, lambda: s.cgi("files", token=tok, path_info="/labels/none.pdf")),
        ]
        for status, call in calls:
            r = call()
            assert r.status == status, r
            q, w, rem, t = limit(r)
            assert (q, w, t) == (1000, 50, 1) and 990 <= rem <= 999, r.headers
        # counted with a bucket that does not refill: every request takes one, whatever its status
        slow = {"MENZZO_RATE_LIMIT": "1,1000", "MENZZO_TEST_CLOCK": "1000"}   # the test builds' clock stands still
        tok = s.token("asir-group")
        slow_calls = [lambda: s.cgi("asir-group/get-sales", token=tok, env=slow),
                      lambda: s.cgi("asir-group/get-sales", query="page=0", token=tok, env=slow),
                      lambda: s.cgi("notio/get-sales", token=tok, env=slow),
                      lambda: post(s, "asir-group", "ship-sale", {"menzzo_order_id": "600_99"}, tok, env=slow),
                      lambda: post(s, "asir-group", "ship-sale", {"menzzo_order_id": "600_9"}, tok, env=slow),
                      lambda: s.cgi("files", token=tok, path_info="/labels/none.pdf", env=slow)]
        left = [limit(call())[2] for call in slow_calls]
        assert left == list(range(999, 999 - len(slow_calls), -1)), f"a request was not counted: {left}"
        # the other token has a bucket of its own
        assert limit(s.cgi("notio/get-sales", token=ntok))[2] == 999
        # no valid token, no bucket: no headers
        for r in (s.cgi("asir-group/get-sales"), s.cgi("asir-group/get-sales", token="mzk_" + "A" * 43),
                  s.cgi("health"), s.cgi("asir-group/get-sales", method="POST", token=tok)):
            assert "ratelimit" not in r.headers and "ratelimit-policy" not in r.headers, r


def test_429_with_retry_after_and_the_bucket_refills():
    # the test builds' clock (MENZZO_TEST_CLOCK), so that the machine's speed plays no part
    with store_with(MENZZO_RATE_LIMIT="1,3", MENZZO_TEST_CLOCK="1000") as s:
        tok, other = s.token("asir-group"), s.token("asir-group")
        got = [limit(s.cgi("asir-group/get-sales", token=tok))[2:] for _ in range(3)]
        assert got == [(2, 1), (1, 1), (0, 1)], got
        for _ in range(3):
            r = post(s, "asir-group", "acknowledge-sale", {"menzzo_order_id": "600_3"}, tok)
            j = assert_error(r, 429, "rate_limited")
            assert r.headers["retry-after"] == "1" and limit(r) == (3, 3, 0, 1), r.headers
            assert "Retry-After" in j["error"]
        assert show(s, "600_3")["status"] == "pending" and events(s) == [] and len(log(s, "600_3")) == 1
        # a throttled request takes nothing from the bucket: one second later, one request is back
        assert limit(s.cgi("asir-group/get-sales", token=other))[2] == 2, "another token is not throttled"
        later = {"MENZZO_TEST_CLOCK": "1001.1"}
        r = post(s, "asir-group", "acknowledge-sale", {"menzzo_order_id": "600_3"}, tok, env=later)
        assert r.status == 200 and limit(r)[2] == 0, r
        assert_error(s.cgi("asir-group/get-sales", token=tok, env=later), 429, "rate_limited")


def test_a_batch_counts_as_one_request():
    with store_with(100, MENZZO_RATE_LIMIT="1,5", MENZZO_TEST_CLOCK="1000") as s:
        tok = s.token("asir-group")
        r = post(s, "asir-group", "acknowledge-sale", {"items": [{"menzzo_order_id": "600_%d" % i}
                                                                 for i in range(1, 101)]}, tok)
        assert r.status == 200 and r.json()["success"] is True, r
        assert limit(r)[2] == 4
        assert limit(s.cgi("asir-group/get-sales", token=tok))[2] == 3


def test_zero_disables_the_limit():
    with store_with(MENZZO_RATE_LIMIT="0") as s:
        tok = s.token("notio")
        for _ in range(5):
            r = s.cgi("notio/get-sales", token=tok)
            assert r.status == 200 and "ratelimit" not in r.headers and "ratelimit-policy" not in r.headers
        assert not [n for n in os.listdir(s.env["MENZZO_DATA_DIR"]) if n.startswith("cache.")], \
            "without a limit (and without a cache) nothing opens the cache"


def test_invalid_settings_are_misconfigured():
    with store_with() as s:
        tok = s.token("asir-group")
        for value in ("20", "abc", "20,0", "0,5", "-1,5", "20,1000,1", "20 ,1000", "1000001,1", "1,1000001", ",5"):
            r = s.cgi("asir-group/get-sales", token=tok, env={"MENZZO_RATE_LIMIT": value})
            assert_error(r, 500, "misconfigured")
            assert "MENZZO_RATE_LIMIT" in r.stderr and "MENZZO_RATE_LIMIT" not in r.body.decode()
        assert s.cgi("health", env={"MENZZO_RATE_LIMIT": "x"}).status == 503
        r = s.cgi("asir-group/get-sales", token=tok, env={"MENZZO_RATE_LIMIT": "1000000,1000000"})
        assert limit(r) == (1000000, 1, 999999, 1)


def test_a_bucket_that_cannot_be_kept_never_fails_a_request():
    with store_with() as s:
        tok = s.token("notio")
        afile = os.path.join(s.dir, "not-a-directory")
        open(afile, "w").close()
        for cache_dir in (afile, os.path.join(afile, "under-a-file")):
            for _ in range(3):
                r = s.cgi("notio/get-sales", token=tok, env={"MENZZO_CACHE_DIR": cache_dir,
                                                             "MENZZO_RATE_LIMIT": "1,1"})
                assert r.status == 200, r
                assert limit(r) == (1, 1, 0, 1), r.headers
                line = [l for l in r.stderr.splitlines() if r.headers["x-request-id"] in l]
                assert line and "rate limit: token" in line[0] and "let through" in line[0], r.stderr
        # a cache directory of its own that exists: the bucket is kept there (the shared-state file's default place)
        cache = os.path.join(s.dir, "cache")
        os.mkdir(cache, 0o700)
        r = s.cgi("notio/get-sales", token=tok, env={"MENZZO_CACHE_DIR": cache, "MENZZO_RATE_LIMIT": "1,1"})
        assert r.status == 200 and "rate limit" not in r.stderr
        r = s.cgi("notio/get-sales", token=tok, env={"MENZZO_CACHE_DIR": cache, "MENZZO_RATE_LIMIT": "1,1"})
        assert_error(r, 429, "rate_limited")
        assert os.listdir(cache) == ["state"], os.listdir(cache)


def test_concurrent_requests_share_one_bucket():
    """24 processes at once on one token of 1/s, burst 10, the clock standing still (the test builds'
    MENZZO_TEST_CLOCK, so that a slow machine refills nothing): the bucket lets through exactly its 10,
    each seeing its own remaining count; buckets of their own would let all 24 through."""
    with store_with(MENZZO_RATE_LIMIT="1,10", MENZZO_TEST_CLOCK="1000") as s:
        tok = s.token("asir-group")
        results = run_parallel([lambda: s.cgi("asir-group/get-sales", token=tok)] * 24)
        statuses = sorted(r.status for r in results)
        assert statuses == [200] * 10 + [429] * 14, statuses
        assert sorted(limit(r)[2] for r in results if r.status == 200) == list(range(10))
        # cache purge --all drops the cache, and with it the buckets: they start full again
        s.admin("cache", "purge", "--all")
        assert limit(s.cgi("asir-group/get-sales", token=tok))[2] == 9


def test_through_lighttpd():
    with store_with(MENZZO_RATE_LIMIT="1,2", MENZZO_TEST_CLOCK="1000") as s:
        tok = s.token("asir-group")
        with Lighttpd(s) as web:
            r = web.request("GET", "/api/asir-group/get-sales", token=tok)
            assert r.status == 200 and limit(r) == (2, 2, 1, 1), r.headers
            r = web.request("POST", "/api/asir-group/acknowledge-sale", token=tok, body={"menzzo_order_id": "600_1"})
            assert r.status == 200 and limit(r)[2] == 0
            r = web.request("GET", "/api/asir-group/get-sales", token=tok)
            assert r.status == 429 and r.json()["code"] == "rate_limited" and r.headers["retry-after"] == "1", r
            for path in ("/api/health", "/api/nowhere", "/"):
                r = web.request("GET", path, token=tok)
                assert "ratelimit" not in r.headers and "ratelimit-policy" not in r.headers, (path, r.headers)


def seed_loop(api, rounds):
    """The page's usage example, as a supplier runs it: a page of open sale products, each acknowledged
    and shipped as fast as the client can send the requests, and again for the next page."""
    done = 0
    for _ in range(rounds):
        sales = api.get_sales()
        for sale_ in sales:
            order_id = sale_['menzzo_order_id']
            ack_result = api.acknowledge_sale(order_id)
            assert ack_result['success'] is True
            ship_result = api.ship_sale(order_id)
            assert ship_result['success'] is True
            done += 1
    return done


def test_the_seed_client_loop_is_never_throttled_by_the_default():
    with Store() as s:
        s.import_lines([sale(700 + i // 2, i, order_date="2026-01-%02d" % (1 + i % 28)) for i in range(1, 321)])
        tok = s.token("asir-group")
        with Lighttpd(s) as web:
            api = MenzzoSupplierAPI(base_url=web.url, token=tok, supplier='asir-group')
            t0 = time.time()
            done = seed_loop(api, 3)  # raise_for_status() raises on the first 429
            took = time.time() - t0
            r = web.request("GET", "/api/asir-group/get-sales", token=tok)
            q, w, left, _ = limit(r)
        print(f"    seed client, default limit: {done} sale products acknowledged and shipped "
              f"({2 * done + 3} requests in {took:.1f} s), not one 429; {left} of {q} left")
        assert done == 300 and (q, w) == (1000, 50)
        assert len(events(s)) == 600
    # the same loop against a tighter limit is throttled: the test above could fail.  1/s with a burst of 100:
    # 600 requests would need over 8 minutes to pass unthrottled, whatever the machine's speed.
    with Store(MENZZO_RATE_LIMIT="1,100") as s:
        s.import_lines([sale(700 + i // 2, i) for i in range(1, 321)])
        tok = s.token("asir-group")
        with Lighttpd(s) as web:
            api = MenzzoSupplierAPI(base_url=web.url, token=tok, supplier='asir-group')
            try:
                seed_loop(api, 3)
            except requests.HTTPError as e:
                assert e.response.status_code == 429 and e.response.json()["code"] == "rate_limited"
            else:
                raise AssertionError("a limit of 1,100 did not throttle 600 requests sent as fast as possible")


# What the loop meets is the rate limit's arithmetic, the same in both modes (test_through_lighttpd runs the
# limit through plain CGI): once is enough.
test_the_seed_client_loop_is_never_throttled_by_the_default.one_mode = True
