"""The shipped nginx/slotlock.conf: it loads in a stock Debian nginx, limits
the write routes by rate, and answers its own errors in JSON."""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SRCDIR, STOCK_NGINX, Stack, concurrently,  # noqa: E402
                     nginx_t_in_stock_conf)

JSON_TYPE = "application/json; charset=utf-8"


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


if __name__ == "__main__":
    unittest.main()
