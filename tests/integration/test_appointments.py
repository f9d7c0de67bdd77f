"""Bookings, admin routes and metrics through nginx against a real Redis:
never double-booked, retry-safe, admin-only customer data, exact counters."""

import itertools
import os
import re
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, concurrently  # noqa: E402

TOKEN = "test-admin-token"
ADMIN = {"Authorization": "Bearer " + TOKEN}
_tenants = itertools.count()


def minutes(hhmm):
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def hhmm(m):
    return "%02d:%02d" % (m // 60, m % 60)


class BookingTestCase(unittest.TestCase):
    env = {"ADMIN_TOKEN": TOKEN}

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(env=cls.env)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def setUp(self):
        self.tenant = "b%d-%s" % (next(_tenants), self.id().split(".")[-1][:30])

    def acquire(self, start="14:00", duration=60, specialist="specialist-1",
                date="2025-03-10", **extra):
        body = {"tenantId": self.tenant, "resourceId": specialist,
                "date": date, "startTime": start, "duration": duration}
        body.update(extra)
        return self.stack.request("POST", "/api/locks/acquire", body)

    def booking(self, lock_id, start="14:00", duration=60,
                specialist="specialist-1", date="2025-03-10", **extra):
        """The guide's booking body."""
        body = {"lockId": lock_id, "tenantId": self.tenant,
                "specialistId": specialist, "serviceId": "service-1",
                "date": date, "startTime": start,
                "endTime": hhmm(minutes(start) + duration),
                "customerName": "John Doe",
                "customerEmail": "john@example.com",
                "customerPhone": "+1234567890", "price": 50,
                "duration": duration}
        body.update(extra)
        return body

    def book(self, lock_id, headers=None, **kw):
        return self.stack.request("POST", "/api/appointments",
                                  self.booking(lock_id, **kw),
                                  headers=headers)

    def held(self, **kw):
        r = self.acquire(**kw)
        self.assertEqual(r.status, 200, r.text)
        return r.json["lockId"]

    def assertReason(self, r, status, reason):
        self.assertEqual(r.status, status, r.text)
        self.assertIs(r.json["success"], False, r.text)
        self.assertEqual(r.json["reason"], reason, r.text)
        self.assertTrue(r.json["message"])

    def get(self, path, headers=ADMIN):
        return self.stack.request("GET", path, headers=headers)


class CreateTest(BookingTestCase):
    def test_guide_booking_is_created_and_the_lock_consumed(self):
        lock_id = self.held()
        r = self.book(lock_id)
        self.assertEqual(r.status, 201, r.text)
        a = r.json["appointment"]
        self.assertIs(r.json["success"], True)
        self.assertEqual(str(uuid.UUID(a["id"])), a["id"])
        expected = {"tenantId": self.tenant, "specialistId": "specialist-1",
                    "serviceId": "service-1", "date": "2025-03-10",
                    "startTime": "14:00", "endTime": "15:00", "duration": 60,
                    "customerName": "John Doe",
                    "customerEmail": "john@example.com",
                    "customerPhone": "+1234567890", "price": 50,
                    "status": "confirmed"}
        self.assertEqual({k: a[k] for k in expected}, expected)
        self.assertRegex(a["createdAt"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertNotIn("lockId", a)
        # The lock is gone; the booking is stored under the same hash tag.
        key = "booking_lock:{%s|specialist-1}:2025-03-10:14:00" % self.tenant
        self.assertEqual(self.stack.redis("EXISTS", key), 0)
        self.assertEqual(len(self.stack.redis(
            "KEYS", "booking_appt:{%s|specialist-1}:*" % self.tenant)), 1)
        # Locks see bookings: an overlapping acquire is slot_booked.
        r = self.acquire(start="14:30")
        self.assertReason(r, 409, "slot_booked")
        self.assertIs(r.json["locked"], False)
        self.assertEqual(self.acquire(start="15:00").status, 200)
        # Status shows the booked interval, without customer data.
        r = self.stack.request(
            "GET", "/api/locks/status?tenantId=%s&resourceId=specialist-1"
            "&date=2025-03-10" % self.tenant)
        self.assertEqual(r.json["booked"],
                         [{"startTime": "14:00", "duration": 60}])
        self.assertNotIn("John", r.text)

    def test_retry_with_the_same_lock_id_returns_the_same_booking(self):
        lock_id = self.held()
        first = self.book(lock_id)
        self.assertEqual(first.status, 201, first.text)
        again = self.book(lock_id, customerName="Someone Else")
        self.assertEqual(again.status, 200, again.text)
        self.assertEqual(again.json["appointment"], first.json["appointment"])

    def test_fifty_concurrent_requests_with_one_lock_id_book_once(self):
        lock_id = self.held()
        calls = [("POST", "/api/appointments", self.booking(lock_id))] * 50
        results = concurrently(self.stack, calls)
        statuses = [r.status for r in results]
        self.assertEqual(statuses.count(201), 1, statuses)
        self.assertEqual(statuses.count(200), 49, statuses)
        ids = {r.json["appointment"]["id"] for r in results}
        self.assertEqual(len(ids), 1)
        r = self.get("/api/appointments?tenantId=" + self.tenant)
        self.assertEqual(r.json["count"], 1, r.text)

    def test_hundred_holders_racing_leave_no_overlapping_bookings(self):
        # Each holder picks an interval in 09:00-13:00 that overlaps others.
        calls = []
        for i in range(100):
            start = 9 * 60 + (i * 7) % 200
            calls.append(("POST", "/api/locks/acquire",
                          {"tenantId": self.tenant,
                           "resourceId": "specialist-1",
                           "date": "2025-03-10", "startTime": hhmm(start),
                           "duration": 30 + (i % 3) * 15,
                           "holderId": "holder-%d" % i}))
        locks = concurrently(self.stack, calls)
        self.assertTrue(all(r.status in (200, 409) for r in locks))
        bookings = [("POST", "/api/appointments",
                     self.booking(r.json["lockId"], start=c[2]["startTime"],
                                  duration=c[2]["duration"]))
                    for c, r in zip(calls, locks) if r.status == 200]
        # Add a second wave of admin bookings without locks, all racing.
        for i in range(20):
            bookings.append(("POST", "/api/appointments",
                             self.booking(None, start=hhmm(9 * 60 + i * 10),
                                          duration=30), ADMIN))
        results = concurrently(self.stack, bookings)
        self.assertTrue(all(r.status in (201, 409) for r in results),
                        [r.text for r in results if r.status not in
                         (201, 409)])
        listed = self.get("/api/appointments?tenantId=%s&status=confirmed"
                          % self.tenant).json["appointments"]
        self.assertEqual(len(listed),
                         sum(1 for r in results if r.status == 201))
        spans = sorted((minutes(a["startTime"]), a["duration"])
                       for a in listed)
        for (s1, d1), (s2, _) in zip(spans, spans[1:]):
            self.assertLessEqual(s1 + d1, s2, spans)
        self.assertGreater(len(listed), 0)

    def test_expired_mismatched_and_booked(self):
        r = self.book(str(uuid.uuid4()))
        self.assertReason(r, 409, "lock_expired")
        self.assertEqual(r.json["message"],
                         "Your reservation expired. Please select a time "
                         "slot again.")
        lock_id = self.held()
        for change in ({"startTime": "14:30", "endTime": "15:30"},
                       {"specialistId": "specialist-2"},
                       {"date": "2025-03-11"},
                       {"duration": 30, "endTime": "14:30"},
                       {"tenantId": self.tenant + "x"}):
            body = self.booking(lock_id)
            body.update(change)
            r = self.stack.request("POST", "/api/appointments", body)
            self.assertReason(r, 409, "lock_mismatch")
        # The lock is still there and still books.
        self.assertEqual(self.book(lock_id).status, 201)

    def test_refused_bookings_of_unknown_resources_leave_no_key(self):
        # Anyone can name any resource: a refusal there must not store
        # anything (no counters of its own in a cluster either).
        for i in range(5):
            r = self.book(str(uuid.uuid4()), specialist="nobody-%d" % i)
            self.assertReason(r, 409, "lock_expired")
        self.assertEqual(self.stack.redis("KEYS", "*{%s|nobody-*" %
                                          self.tenant), [])

    def test_lock_that_expired_cannot_book(self):
        lock_id = self.held(ttl=1000)
        time.sleep(1.2)
        self.assertReason(self.book(lock_id), 409, "lock_expired")

    def test_admin_booking_without_a_lock_is_still_checked(self):
        r = self.book(None, headers=ADMIN, start="10:00")
        self.assertEqual(r.status, 201, r.text)
        r = self.book(None, headers=ADMIN, start="10:30")
        self.assertReason(r, 409, "slot_booked")
        self.held(start="12:00")
        r = self.book(None, headers=ADMIN, start="12:30")
        self.assertReason(r, 409, "slot_locked")
        self.assertReason(self.book(None), 400, "lock_required")
        self.assertReason(self.book("", headers={
            "Authorization": "Bearer wrong"}), 401, "unauthorized")

    def test_cancel_frees_the_interval_at_once(self):
        a = self.book(self.held()).json["appointment"]
        self.assertReason(self.acquire(), 409, "slot_booked")
        r = self.stack.request("DELETE", "/api/appointments/" + a["id"],
                               headers=ADMIN)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json["appointment"]["status"], "cancelled")
        self.assertEqual(r.json["appointment"]["id"], a["id"])
        again = self.stack.request("DELETE", "/api/appointments/" + a["id"],
                                   headers=ADMIN)
        self.assertEqual(again.status, 200, again.text)
        self.assertEqual(again.json, r.json)
        self.assertEqual(self.book(self.held()).status, 201)

    def test_booking_validation_lists_every_bad_field(self):
        body = self.booking(str(uuid.uuid4()), endTime="16:00",
                            customerName="", customerEmail="nope",
                            customerPhone="call me", price=-1,
                            serviceId="a b")
        r = self.stack.request("POST", "/api/appointments", body)
        self.assertReason(r, 400, "validation_error")
        self.assertEqual(sorted(e["field"] for e in r.json["errors"]),
                         ["customerEmail", "customerName", "customerPhone",
                          "endTime", "price", "serviceId"])
        for field, value in (("price", "50"), ("customerName", "x" * 201),
                             ("customerEmail", "a@b"), ("lockId", "nope"),
                             ("duration", 60.0), ("price", None)):
            body = self.booking(str(uuid.uuid4()))
            body[field] = value
            r = self.stack.request("POST", "/api/appointments", body)
            self.assertReason(r, 400, "validation_error")
            self.assertEqual([e["field"] for e in r.json["errors"]], [field])
        # Optional phone, 24:00 end, and a 200-character name are fine.
        lock_id = self.held(start="23:00")
        body = self.booking(lock_id, start="23:00",
                            customerName="\u00e9" * 200)
        del body["customerPhone"]
        r = self.stack.request("POST", "/api/appointments", body)
        self.assertEqual(r.status, 201, r.text)
        self.assertEqual(r.json["appointment"]["endTime"], "24:00")
        self.assertIsNone(r.json["appointment"]["customerPhone"])


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
