"""The shipped nginx/slotlock.conf: it loads in a stock Debian nginx, limits
the write routes and, more generously, the read routes by rate, and answers
its own errors in JSON."""

import os
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SRCDIR, STOCK_NGINX, Stack, concurrently,  # noqa: E402
                     nginx_t_in_stock_conf)

JSON_TYPE = "application/json; charset=utf-8"
RENDER = os.path.join(SRCDIR, "script", "render-nginx-conf")
STATUS = ("/api/locks/status?tenantId=rate&resourceId=r1&date=2025-03-10")


def acquire_body(i):
    return {"tenantId": "rate", "resourceId": "r%d" % i, "date": "2025-03-10",
            "startTime": "10:00", "duration": 30}


class ShippedConfTest(unittest.TestCase):
    @unittest.skipUnless(os.path.isfile(STOCK_NGINX + "/nginx.conf"),
                         "no stock nginx.conf to include it in")
    def test_conf_passes_nginx_t_inside_the_stock_debian_nginx_conf(self):
        r, _ = nginx_t_in_stock_conf(os.path.join(SRCDIR, "nginx",
                                                  "slotlock.conf"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("test is successful", r.stderr)


class NginxFrontTest(unittest.TestCase):
    def test_rate_limit_is_429_json_on_acquire_but_not_on_listing(self):
        stack = Stack(env={"RATE_LIMIT_RPS": "1", "RATE_LIMIT_BURST": "2"})
        self.addCleanup(stack.stop)
        responses = concurrently(stack, [
            ("POST", "/api/locks/acquire", acquire_body(i)) for i in range(8)])
        limited = [r for r in responses if r.status == 429]
        self.assertEqual(len(responses) - len(limited), 3,
                         "1 request plus a burst of 2 get through")
        for r in limited:
            self.assertEqual(r.headers.get("Content-Type"), JSON_TYPE)
            self.assertEqual(r.headers.get("Cache-Control"), "no-store")
            self.assertEqual(r.json.get("success"), False, r.text)
            self.assertEqual(r.json.get("reason"), "rate_limited", r.text)

        # Listing appointments (GET) is not a write: never rate limited.
        responses = concurrently(stack, [
            ("GET", "/api/appointments?tenantId=rate")] * 8)
        self.assertNotIn(429, [r.status for r in responses])

    def test_rate_limit_0_turns_it_off(self):
        stack = Stack(env={"RATE_LIMIT_RPS": "0"})
        self.addCleanup(stack.stop)
        responses = concurrently(stack, [
            ("POST", "/api/locks/acquire", acquire_body(i)) for i in range(30)])
        self.assertNotIn(429, [r.status for r in responses])

    def test_chunked_body_over_16_KiB_is_413_json(self):
        stack = Stack()
        self.addCleanup(stack.stop)
        chunk = b"a" * 4096
        raw = (b"POST /api/locks/acquire HTTP/1.1\r\nHost: test\r\n"
               b"Content-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               + (b"1000\r\n" + chunk + b"\r\n") * 5 + b"0\r\n\r\n")
        r = stack.request(raw=raw)
        self.assertEqual(r.status, 413, r.text)
        self.assertEqual(r.headers.get("Content-Type"), JSON_TYPE)
        self.assertEqual(r.json.get("reason"), "payload_too_large", r.text)

    def test_app_answers_keep_their_headers_and_carry_the_request_id(self):
        stack = Stack()
        self.addCleanup(stack.stop)
        r = stack.request("GET", "/api/locks/health")
        names = [name.lower() for name, _ in r.header_list]
        self.assertEqual(names.count("cache-control"), 1, r.header_list)
        self.assertEqual(names.count("content-type"), 1, r.header_list)
        request_id = r.headers.get("X-Request-Id")
        self.assertRegex(request_id or "", r"^[0-9a-f]{32}$")
        # nginx hands the same id to the app (REQUEST_ID), which logs it.
        deadline = time.monotonic() + 5
        while request_id not in stack.logs() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn(request_id, stack.logs())

    def test_headers_over_8_KiB_are_400_json(self):
        stack = Stack()
        self.addCleanup(stack.stop)
        r = stack.request("GET", "/api/locks/health",
                          headers={"X-Big": "a" * 10 * 1024})
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.headers.get("Content-Type"), JSON_TYPE)
        self.assertEqual(r.json.get("reason"), "bad_request", r.text)


def render(*args, env=None):
    """script/render-nginx-conf with args; the rendered slotlock.conf (or
    None) and the finished process. env: the whole environment it gets
    besides PATH."""
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(
            [RENDER, "--dir", tmp, "--listen", "127.0.0.1:1",
             "--socket", os.path.join(tmp, "app.sock"), *args],
            env=dict(env or {}, PATH=os.environ["PATH"]),
            capture_output=True, text=True, timeout=30)
        path = os.path.join(tmp, "slotlock.conf")
        conf = None
        if os.path.exists(path):
            with open(path) as f:
                conf = f.read()
        return conf, r


def read_limits(conf):
    """(rate, burst) of the read zone in a rendered slotlock.conf, None
    when the read routes are not limited."""
    import re
    zone = re.search(r"zone=slotlock_read:\S+ rate=(\d+)r/s;", conf)
    bursts = set(re.findall(r"limit_req zone=slotlock_read burst=(\d+) ",
                            conf))
    if zone is None:
        assert not bursts, "a read limit_req without its zone"
        return None
    assert len(bursts) == 1, bursts
    return int(zone.group(1)), int(bursts.pop())


class ReadRateLimitTest(unittest.TestCase):
    def stack(self, rps, burst):
        # render-nginx-conf reads these from its environment, which the
        # harness does not pass Stack(env=...) into.
        with mock.patch.dict(os.environ, {"READ_RATE_LIMIT_RPS": str(rps),
                                          "READ_RATE_LIMIT_BURST": str(burst)}):
            stack = Stack()
        self.addCleanup(stack.stop)
        return stack

    def test_a_burst_of_status_reads_from_one_address_is_429_json(self):
        stack = self.stack(5, 5)
        responses = concurrently(stack, [("GET", STATUS)] * 20)
        limited = [r for r in responses if r.status == 429]
        served = [r for r in responses if r.status != 429]
        # 1 at the rate plus a burst of 5; a few more only if the burst
        # took long enough (200 ms each) for the rate to free them.
        self.assertGreaterEqual(len(served), 6, responses)
        self.assertLessEqual(len(served), 8, responses)
        for r in served:
            self.assertEqual(r.status, 200, r.text)
        for r in limited:
            self.assertEqual(r.headers.get("Content-Type"), JSON_TYPE)
            self.assertEqual(r.headers.get("Cache-Control"), "no-store")
            self.assertEqual(r.headers.get("Retry-After"), "1")
            self.assertRegex(r.headers.get("X-Request-Id") or "",
                             r"^[0-9a-f]{32}$")
            self.assertEqual(r.json.get("success"), False, r.text)
            self.assertEqual(r.json.get("reason"), "rate_limited", r.text)

        # Every read route counts, lock and appointment reads and the
        # admin ones alike.
        time.sleep(1.5)
        for path in ("/api/locks/00000000-0000-4000-8000-000000000000",
                     "/api/appointments?tenantId=rate",
                     "/api/appointments/00000000-0000-4000-8000-000000000000",
                     "/api/locks/admin/active?tenantId=rate",
                     "/api/locks/metrics"):
            with self.subTest(path=path):
                responses = concurrently(stack, [("GET", path)] * 12)
                self.assertIn(429, [r.status for r in responses])
                time.sleep(1.5)

    def test_a_grid_polling_status_a_few_times_a_second_is_never_limited(self):
        stack = self.stack(5, 5)
        statuses = []
        # Two grids behind one address, each polling twice a second.
        for _ in range(12):
            statuses += [r.status for r in concurrently(
                stack, [("GET", STATUS)] * 2)]
            time.sleep(0.5)
        self.assertEqual(set(statuses), {200}, statuses)

    def test_health_and_writes_do_not_count_as_reads(self):
        stack = self.stack(1, 1)
        # Load balancers and monitors poll health from one address; a
        # limited health check would read as the service being down.
        responses = concurrently(stack, [("GET", "/api/locks/health")] * 12)
        self.assertEqual({r.status for r in responses}, {200})
        # RATE_LIMIT_RPS is 0 here: writes are not limited, and the read
        # zone does not count them.
        responses = concurrently(stack, [
            ("POST", "/api/locks/acquire", acquire_body(i))
            for i in range(12)])
        self.assertNotIn(429, [r.status for r in responses])

    def test_render_defaults_and_options(self):
        # Default: 200 r/s per address, a burst of 400.
        conf, r = render()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(read_limits(conf), (200, 400))
        # From the environment, and --read-rate/--read-burst over it.
        conf, r = render(env={"READ_RATE_LIMIT_RPS": "7",
                              "READ_RATE_LIMIT_BURST": "9"})
        self.assertEqual(read_limits(conf), (7, 9))
        conf, r = render("--read-rate", "3", "--read-burst", "4",
                         env={"READ_RATE_LIMIT_RPS": "7"})
        self.assertEqual(read_limits(conf), (3, 4))
        # 0 turns it off, and leaves the write limit alone.
        conf, r = render("--read-rate", "0", "--rate", "5")
        self.assertIsNone(read_limits(conf))
        self.assertIn("zone=slotlock_write:10m rate=5r/s;", conf)
        # --rate 0 without a read rate: nothing is limited (what the
        # tests' stacks run with unless they ask).
        conf, r = render("--rate", "0")
        self.assertIsNone(read_limits(conf))
        self.assertNotIn("zone=slotlock_write", conf)
        # A read rate asked for is kept, writes off or not.
        conf, r = render("--rate", "0", "--read-rate", "8")
        self.assertEqual(read_limits(conf), (8, 400))
        self.assertNotIn("zone=slotlock_write", conf)
        conf, r = render("--read-rate", "fast")
        self.assertEqual(r.returncode, 2)
        self.assertIn("whole number", r.stderr)


if __name__ == "__main__":
    unittest.main()
