"""CORS from CORS_ALLOWED_ORIGINS, through nginx: preflights, the headers
of every answer to a listed origin, the refusal of an unlisted origin's
writes, nginx's own errors, and no CORS header at all when the list is
unset."""

import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_case import ADMIN, TOKEN, BookingTestCase  # noqa: E402
from harness import Stack  # noqa: E402

SHOP = "https://shop.example"
LOCAL = "http://localhost:3000"
EVIL = "https://evil.example"
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                "Access-Control-Allow-Headers", "Access-Control-Max-Age",
                "Access-Control-Expose-Headers")


def no_cors_headers(test, r):
    for name in CORS_HEADERS:
        test.assertNotIn(name, r.headers, (name, r.headers))


class CorsTest(BookingTestCase):
    env = {"ADMIN_TOKEN": TOKEN,
           "CORS_ALLOWED_ORIGINS": "%s, %s" % (SHOP, LOCAL)}

    def preflight(self, path, origin, method="POST",
                  headers="content-type, authorization"):
        h = {"Origin": origin, "Access-Control-Request-Method": method}
        if headers:
            h["Access-Control-Request-Headers"] = headers
        return self.stack.request("OPTIONS", path, headers=h)

    def test_preflight_from_a_listed_origin(self):
        for path, methods in (("/api/locks/acquire", "POST"),
                              ("/api/appointments", "GET, POST"),
                              ("/api/locks/some-lock-id", "GET, DELETE"),
                              ("/api/appointments/some-id", "GET, DELETE"),
                              ("/api/locks/status", "GET")):
            for origin in (SHOP, LOCAL):
                r = self.preflight(path, origin)
                self.assertEqual(r.status, 204, (path, r.text))
                self.assertEqual(r.body, b"")
                self.assertEqual(r.headers["Access-Control-Allow-Origin"],
                                 origin)
                self.assertEqual(r.headers["Access-Control-Allow-Methods"],
                                 methods)
                allowed = [h.strip().lower() for h in r.headers[
                    "Access-Control-Allow-Headers"].split(",")]
                self.assertIn("content-type", allowed)
                self.assertIn("authorization", allowed)
                self.assertGreater(int(r.headers["Access-Control-Max-Age"]),
                                   0)
                self.assertIn("Origin", r.headers["Vary"])
                self.assertNotIn("Access-Control-Allow-Credentials",
                                 r.headers)

    def test_preflight_from_an_unlisted_origin_gets_no_cors_header(self):
        for origin in (EVIL, "null", SHOP + "/", "https://shop.example.evil",
                       SHOP.upper()):
            r = self.preflight("/api/locks/acquire", origin)
            self.assertEqual(r.status, 204, r.text)
            no_cors_headers(self, r)
            self.assertIn("Origin", r.headers["Vary"])

    def test_preflight_on_an_unknown_path_is_404(self):
        r = self.preflight("/api/nothing-here", SHOP)
        self.assertEqual(r.status, 404, r.text)

    def test_every_answer_to_a_listed_origin_names_it(self):
        h = {"Origin": SHOP}
        answers = [
            self.stack.request("POST", "/api/locks/acquire", {
                "tenantId": self.tenant, "resourceId": "r",
                "date": "2025-03-10", "startTime": "10:00",
                "duration": 30}, headers=h),
            self.stack.request("POST", "/api/locks/acquire", {
                "tenantId": self.tenant}, headers=h),           # 400
            self.stack.request("GET", "/api/locks/health", headers=h),
            self.stack.request("GET", "/api/appointments?tenantId=x",
                               headers=h),                       # 401
            self.stack.request("GET", "/api/nothing", headers=h),  # 404
            self.stack.request("PUT", "/api/locks/acquire", {},
                               headers=h),                       # 405
        ]
        self.assertEqual([r.status for r in answers],
                         [200, 400, 200, 401, 404, 405])
        for r in answers:
            self.assertEqual(r.headers["Access-Control-Allow-Origin"], SHOP,
                             r)
            self.assertIn("Origin", r.headers["Vary"])
            expose = r.headers["Access-Control-Expose-Headers"]
            self.assertIn("Retry-After", expose)

    def test_a_write_from_an_unlisted_origin_is_refused(self):
        body = {"tenantId": self.tenant, "resourceId": "r",
                "date": "2025-03-10", "startTime": "11:00", "duration": 30}
        for method, path, b in (("POST", "/api/locks/acquire", body),
                                ("POST", "/api/appointments", {}),
                                ("DELETE", "/api/locks/x", None),
                                ("DELETE", "/api/appointments/x", None),
                                ("PUT", "/api/locks/acquire", {})):
            r = self.stack.request(method, path, b, headers=dict(
                ADMIN, Origin=EVIL))
            self.assertReason(r, 403, "origin_not_allowed")
            no_cors_headers(self, r)
        # Nothing was held: the slot is still free for a listed origin.
        r = self.stack.request("POST", "/api/locks/acquire", body,
                               headers={"Origin": SHOP})
        self.assertEqual(r.status, 200, r.text)

    def test_a_read_from_an_unlisted_origin_gets_no_cors_header(self):
        r = self.stack.request("GET", "/api/locks/health",
                               headers={"Origin": EVIL})
        self.assertEqual(r.status, 200, r.text)
        no_cors_headers(self, r)

    def test_requests_without_origin_are_unchanged(self):
        r = self.acquire(start="12:00")
        self.assertEqual(r.status, 200, r.text)
        no_cors_headers(self, r)
        # OPTIONS without a preflight's headers: 204 with Allow.
        r = self.stack.request("OPTIONS", "/api/appointments")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.headers["Allow"], "GET, POST")

    def test_nginx_errors_carry_cors_headers(self):
        # 413 from nginx (body over 16 KiB), 404 of nginx's own page.
        big = "x" * (20 * 1024)
        r = self.stack.request("POST", "/api/locks/acquire", big, headers={
            "Origin": SHOP, "Content-Type": "application/json"})
        self.assertEqual(r.status, 413, r.text)
        self.assertEqual(r.json["reason"], "payload_too_large")
        self.assertEqual(r.headers["Access-Control-Allow-Origin"], SHOP)
        self.assertIn("Origin", r.headers["Vary"])
        r = self.stack.request("POST", "/api/locks/acquire", big, headers={
            "Origin": EVIL, "Content-Type": "application/json"})
        self.assertEqual(r.status, 413)
        no_cors_headers(self, r)

    def test_nginx_502_carries_cors_headers(self):
        self.stack.kill_app()
        try:
            r = self.stack.request("GET", "/api/locks/health",
                                   headers={"Origin": LOCAL})
            self.assertEqual(r.status, 502, r.text)
            self.assertEqual(r.json["reason"], "service_unavailable")
            self.assertEqual(r.headers["Access-Control-Allow-Origin"], LOCAL)
            self.assertIn("Retry-After",
                          r.headers["Access-Control-Expose-Headers"])
        finally:
            self.stack.start_app()


class CorsRateLimitTest(unittest.TestCase):
    def test_nginx_429_carries_cors_headers(self):
        with Stack(env={"RATE_LIMIT_RPS": "1", "RATE_LIMIT_BURST": "1",
                        "CORS_ALLOWED_ORIGINS": SHOP}) as stack:
            body = {"tenantId": "t", "resourceId": "r",
                    "date": "2025-03-10", "startTime": "10:00"}
            statuses = []
            for _ in range(6):
                r = stack.request("POST", "/api/locks/acquire", body,
                                  headers={"Origin": SHOP})
                statuses.append(r.status)
                self.assertEqual(r.headers["Access-Control-Allow-Origin"],
                                 SHOP)
                self.assertIn("Origin", r.headers["Vary"])
            self.assertIn(429, statuses)


class NoCorsTest(unittest.TestCase):
    """CORS_ALLOWED_ORIGINS unset: no CORS header, writes from any origin
    as before, OPTIONS a 405 as before."""

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(env={"ADMIN_TOKEN": TOKEN})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def test_no_cors_headers(self):
        r = self.stack.request("POST", "/api/locks/acquire", {
            "tenantId": "nc", "resourceId": "r", "date": "2025-03-10",
            "startTime": "10:00", "duration": 30}, headers={"Origin": EVIL})
        self.assertEqual(r.status, 200, r.text)
        no_cors_headers(self, r)
        self.assertNotIn("Vary", r.headers)
        r = self.stack.request("OPTIONS", "/api/locks/acquire", headers={
            "Origin": SHOP, "Access-Control-Request-Method": "POST"})
        self.assertEqual(r.status, 405)
        no_cors_headers(self, r)
        self.stack.kill_app()
        try:
            r = self.stack.request("GET", "/api/locks/health",
                                   headers={"Origin": SHOP})
            self.assertEqual(r.status, 502)
            no_cors_headers(self, r)
            self.assertNotIn("Vary", r.headers)
        finally:
            self.stack.start_app()


if __name__ == "__main__":
    unittest.main()
