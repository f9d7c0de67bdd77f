"""Admin routes and metrics through nginx against a real Redis:
admin-only customer data, 403 without a configured token, exact counters
in JSON and the Prometheus text format."""

import os
import re
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_case import ADMIN, TOKEN, BookingTestCase  # noqa: E402
from harness import Stack  # noqa: E402



class AdminTest(BookingTestCase):
    def test_admin_routes_need_the_token(self):
        paths = [("GET", "/api/appointments?tenantId=x", None),
                 ("GET", "/api/appointments/" + str(uuid.uuid4()), None),
                 ("DELETE", "/api/appointments/" + str(uuid.uuid4()), None),
                 ("GET", "/api/locks/admin/active?tenantId=x", None),
                 ("POST", "/api/locks/admin/force-release",
                  {"tenantId": "x", "resourceId": "r", "date": "2025-03-10",
                   "startTime": "10:00"}),
                 ("GET", "/api/locks/metrics", None)]
        for method, path, body in paths:
            for headers in (None, {"Authorization": "Bearer nope"},
                            {"Authorization": "Basic " + TOKEN},
                            {"Authorization": "Bearer " + TOKEN + "x"}):
                r = self.stack.request(method, path, body, headers=headers)
                self.assertReason(r, 401, "unauthorized")
                self.assertEqual(r.headers["WWW-Authenticate"], "Bearer")
            r = self.stack.request(method, path, body, headers={
                "Authorization": "bearer " + TOKEN})
            self.assertNotIn(r.status, (401, 403), r.text)

    def test_list_get_and_filters(self):
        ids = {}
        for spec, date, start in (("s2", "2025-03-11", "09:00"),
                                  ("s1", "2025-03-10", "15:00"),
                                  ("s1", "2025-03-10", "09:00"),
                                  ("s2", "2025-03-10", "11:00")):
            lock_id = self.held(specialist=spec, date=date, start=start)
            r = self.book(lock_id, specialist=spec, date=date, start=start)
            ids[(spec, date, start)] = r.json["appointment"]["id"]
        r = self.get("/api/appointments?tenantId=" + self.tenant)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json["count"], 4)
        self.assertEqual([(a["date"], a["startTime"])
                          for a in r.json["appointments"]],
                         [("2025-03-10", "09:00"), ("2025-03-10", "11:00"),
                          ("2025-03-10", "15:00"), ("2025-03-11", "09:00")])
        r = self.get("/api/appointments?tenantId=%s&specialistId=s1"
                     % self.tenant)
        self.assertEqual([a["startTime"] for a in r.json["appointments"]],
                         ["09:00", "15:00"])
        r = self.get("/api/appointments?tenantId=%s&date=2025-03-11"
                     % self.tenant)
        self.assertEqual(r.json["count"], 1)
        cancelled = ids[("s1", "2025-03-10", "15:00")]
        self.stack.request("DELETE", "/api/appointments/" + cancelled,
                           headers=ADMIN)
        r = self.get("/api/appointments?tenantId=%s&status=confirmed"
                     % self.tenant)
        self.assertEqual(r.json["count"], 3)
        r = self.get("/api/appointments?tenantId=%s&status=cancelled"
                     % self.tenant)
        self.assertEqual([a["id"] for a in r.json["appointments"]],
                         [cancelled])
        r = self.get("/api/appointments?tenantId=%s&status=maybe"
                     % self.tenant)
        self.assertReason(r, 400, "validation_error")
        self.assertReason(self.get("/api/appointments"), 400,
                          "validation_error")

        r = self.get("/api/appointments/" + ids[("s2", "2025-03-11",
                                                 "09:00")])
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json["appointment"]["customerEmail"],
                         "john@example.com")
        self.assertReason(self.get("/api/appointments/" +
                                   str(uuid.uuid4())), 404, "not_found")
        self.assertReason(self.get("/api/appointments/not-an-id"), 404,
                          "not_found")

    def test_active_pages_are_the_first_in_order_with_a_cursor(self):
        # Made out of order, over two resources and two days.
        made = [("r2", "2025-03-11", "09:00"), ("r1", "2025-03-10", "15:00"),
                ("r1", "2025-03-10", "09:00"), ("r2", "2025-03-10", "12:00"),
                ("r1", "2025-03-11", "08:00")]
        for sp, date, start in made:
            self.assertEqual(self.acquire(start=start, specialist=sp,
                                          date=date).status, 200)
        order = sorted(made)
        pages, cursor = [], None
        for _ in range(5):
            path = "/api/locks/admin/active?tenantId=%s&limit=2" % self.tenant
            if cursor:
                path += "&cursor=" + cursor
            r = self.get(path)
            self.assertEqual(r.status, 200, r.text)
            pages.append([(l["resourceId"], l["date"], l["startTime"])
                          for l in r.json["locks"]])
            cursor = r.json["nextCursor"]
            if cursor is None:
                break
        self.assertEqual(pages, [order[0:2], order[2:4], order[4:5]])
        # limit=N is the first N of the order, not any N.
        r = self.get("/api/locks/admin/active?tenantId=%s&limit=1"
                     % self.tenant)
        self.assertEqual([(l["resourceId"], l["date"], l["startTime"])
                          for l in r.json["locks"]], order[:1])
        for bad in ("x", "r1~2025-02-30~09:00", "r1~2025-03-10"):
            r = self.get("/api/locks/admin/active?tenantId=%s&cursor=%s"
                         % (self.tenant, bad))
            self.assertReason(r, 400, "validation_error")

    def test_active_locks_and_force_release(self):
        held = [self.held(start=s, specialist=sp, holderId=h)
                for s, sp, h in (("10:00", "r1", "ann"), ("09:00", "r1", None),
                                 ("11:00", "r2", "bob"))]
        # Another tenant whose name starts the same is not listed.
        other = self.tenant
        self.tenant = other + "-x"
        self.held(start="10:00", specialist="r1")
        self.tenant = other

        r = self.get("/api/locks/admin/active?tenantId=" + self.tenant)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json["tenantId"], self.tenant)
        self.assertEqual(r.json["count"], 3)
        locks = r.json["locks"]
        self.assertEqual([(l["resourceId"], l["startTime"]) for l in locks],
                         [("r1", "09:00"), ("r1", "10:00"), ("r2", "11:00")])
        self.assertEqual({l["lockId"] for l in locks}, set(held))
        self.assertEqual([l["holderId"] for l in locks], [None, "ann", "bob"])
        first = locks[0]
        self.assertEqual(first["key"],
                         "booking_lock:{%s|r1}:2025-03-10:09:00" % self.tenant)
        self.assertTrue(0 < first["remainingTTL"] <= 120000)
        self.assertEqual(first["duration"], 60)
        self.assertIn("expiresAt", first)

        r = self.get("/api/locks/admin/active?tenantId=%s&resourceId=r2"
                     % self.tenant)
        self.assertEqual(r.json["count"], 1)
        r = self.get("/api/locks/admin/active?tenantId=%s&limit=2"
                     % self.tenant)
        self.assertEqual(r.json["count"], 2)
        for bad in ("0", "1001", "x"):
            r = self.get("/api/locks/admin/active?tenantId=%s&limit=%s"
                         % (self.tenant, bad))
            self.assertReason(r, 400, "validation_error")

        release = {"tenantId": self.tenant, "resourceId": "r1",
                   "date": "2025-03-10", "startTime": "10:00"}
        r = self.stack.request("POST", "/api/locks/admin/force-release",
                               release, headers=ADMIN)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json, {"success": True, "released": True})
        r = self.stack.request("POST", "/api/locks/admin/force-release",
                               release, headers=ADMIN)
        self.assertReason(r, 404, "lock_not_found")
        self.assertEqual(self.acquire(start="10:00", specialist="r1").status,
                         200)
        # The holder of the forced lock finds it gone.
        r = self.stack.request("POST", "/api/locks/verify", dict(
            release, lockId=held[0]))
        self.assertReason(r, 409, "lock_not_found")

    def test_customer_data_never_leaves_without_the_token(self):
        a = self.book(self.held()).json["appointment"]
        for method, path in (("GET", "/api/appointments?tenantId=" +
                              self.tenant),
                             ("GET", "/api/appointments/" + a["id"]),
                             ("GET", "/api/locks/status?tenantId=%s&resource"
                              "Id=specialist-1&date=2025-03-10"
                              % self.tenant)):
            r = self.stack.request(method, path)
            self.assertNotIn("john@example.com", r.text)
            self.assertNotIn("+1234567890", r.text)


class AdminDisabledTest(BookingTestCase):
    env = {}

    def test_every_admin_route_is_403_without_a_configured_token(self):
        for method, path in (("GET", "/api/appointments?tenantId=x"),
                             ("GET", "/api/locks/admin/active?tenantId=x"),
                             ("GET", "/api/locks/metrics"),
                             ("DELETE", "/api/appointments/" +
                              str(uuid.uuid4()))):
            for headers in (None, {"Authorization": "Bearer anything"},
                            {"Authorization": "Bearer "}):
                r = self.stack.request(method, path, headers=headers)
                self.assertReason(r, 403, "admin_disabled")
        r = self.book(None, headers={"Authorization": "Bearer x"})
        self.assertReason(r, 403, "admin_disabled")


PROM_LINE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*"'
    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*)?\})? (-?[0-9.e+-]+|\+Inf|NaN)$')


def parse_prometheus(text):
    """A strict reader of the text format 0.0.4: returns {name: type} and
    [(name, labels, value)]; raises AssertionError on a bad line."""
    types, samples, helped = {}, [], set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in types, "TYPE twice: " + name
            types[name] = kind
        else:
            m = PROM_LINE.match(line)
            assert m, "bad sample line: %r" % line
            labels = dict(re.findall(r'([a-zA-Z_]+)="([^"]*)"',
                                     m.group(3) or ""))
            samples.append((m.group(1), labels, float(m.group(5))))
    for name, _, _ in samples:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or base in types, "no TYPE for " + name
        assert name in helped or base in helped, "no HELP for " + name
    return types, samples


class MetricsTest(unittest.TestCase):
    def test_counters_follow_known_traffic_in_both_formats(self):
        stack = Stack(env={"ADMIN_TOKEN": TOKEN, "WORKERS": 4})
        self.addCleanup(stack.stop)
        case = BookingTestCase("setUp")
        case.stack, case.tenant = stack, "metrics"

        def metrics():
            r = stack.request("GET", "/api/locks/metrics", headers=ADMIN)
            self.assertEqual(r.status, 200, r.text)
            return r.json["metrics"]

        m = metrics()
        self.assertEqual(m["successRate"], "0.00%")
        self.assertEqual(m["totalAttempts"], 0)

        locks = [case.held(start="%02d:00" % h) for h in range(8, 14)]  # 6
        for _ in range(3):
            self.assertEqual(case.acquire(start="08:30").status, 409)
        for lock_id in locks[:2]:                           # 2 released
            stack.request("DELETE", "/api/locks/" + lock_id)
        stack.request("POST", "/api/locks/refresh", {"lockId": locks[2]})
        case.book(locks[3], start="11:00")                  # 1 booked
        case.book(locks[3], start="11:00")                  # replay: 200
        case.book(str(uuid.uuid4()))                        # 1 rejected
        appt = case.book(locks[4], start="12:00").json["appointment"]
        stack.request("DELETE", "/api/appointments/" + appt["id"],
                      headers=ADMIN)                        # 1 cancelled
        short = case.held(start="20:00", ttl=1000)          # expires
        time.sleep(1.3)

        m = metrics()
        self.assertEqual(m["locksAcquired"], 7)
        self.assertEqual(m["locksFailed"], 3)
        self.assertEqual(m["totalAttempts"], 10)
        self.assertEqual(m["successRate"], "70.00%")
        self.assertEqual(m["locksReleased"], 2)
        self.assertEqual(m["locksRefreshed"], 1)
        self.assertEqual(m["bookingsCreated"], 2)
        self.assertEqual(m["bookingsRejected"], 1)
        self.assertEqual(m["bookingsCancelled"], 1)
        self.assertEqual(m["activeLocks"], 2)     # locks[2] and locks[5]
        self.assertEqual(m["locksExpired"], 1)    # short
        self.assertIsInstance(m["averageLockDuration"], int)
        self.assertGreaterEqual(m["averageLockDuration"], 0)
        self.assertIs(m["redisConnected"], True)
        self.assertGreaterEqual(m["requestsTotal"], 20)
        self.assertEqual(m["requestErrors"], 0)
        self.assertIsInstance(m["uptimeSeconds"], int)
        self.assertTrue(short)

        for headers, path in ((ADMIN, "/api/locks/metrics?format=prometheus"),
                              (dict(ADMIN, Accept="text/plain"),
                               "/api/locks/metrics")):
            r = stack.request("GET", path, headers=headers)
            self.assertEqual(r.status, 200, r.text)
            self.assertEqual(r.headers["Content-Type"],
                             "text/plain; version=0.0.4; charset=utf-8")
            types, samples = parse_prometheus(r.text)
            values = {n: v for n, l, v in samples if not l}
            self.assertEqual(values["slotlock_locks_acquired_total"], 7)
            self.assertEqual(values["slotlock_locks_failed_total"], 3)
            self.assertEqual(values["slotlock_bookings_created_total"], 2)
            self.assertEqual(values["slotlock_active_locks"], 2)
            self.assertEqual(types["slotlock_request_duration_seconds"],
                             "histogram")
            buckets = [(l["le"], v) for n, l, v in samples
                       if n == "slotlock_request_duration_seconds_bucket"
                       and l["route"] == "acquire"]
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts))
            self.assertEqual(buckets[-1][0], "+Inf")
            count = [v for n, l, v in samples
                     if n == "slotlock_request_duration_seconds_count"
                     and l["route"] == "acquire"]
            self.assertEqual(count, [counts[-1]])
            self.assertEqual(counts[-1], 10)   # 7 acquired + 3 refused
        r = stack.request("GET", "/api/locks/metrics?format=xml",
                          headers=ADMIN)
        self.assertEqual(r.status, 400)


if __name__ == "__main__":
    unittest.main()
