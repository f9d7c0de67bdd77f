"""Bookings through nginx against a real Redis: never double-booked,
retry-safe. Admin routes and metrics: test_admin.py."""

import os
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_case import ADMIN, BookingTestCase, hhmm, minutes  # noqa: E402
from harness import concurrently  # noqa: E402



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
        again = self.book(lock_id)
        self.assertEqual(again.status, 200, again.text)
        self.assertEqual(again.json["appointment"], first.json["appointment"])
        # A "retry" for another customer is not one: it learns nothing.
        other = self.book(lock_id, customerName="Someone Else")
        self.assertEqual(other.status, 409, other.text)
        self.assertEqual(other.json["reason"], "lock_used")
        self.assertNotIn("John", other.text)

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


if __name__ == "__main__":
    unittest.main()
