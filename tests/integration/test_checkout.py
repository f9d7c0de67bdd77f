"""Checkout-grade holds: the payment phase, late booking if still free,
resource settings and fencing tokens."""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_case import ADMIN, BookingTestCase  # noqa: E402

PAYMENT_HOLD = 30000


class CheckoutTest(BookingTestCase):
    env = dict(BookingTestCase.env, PAYMENT_HOLD=str(PAYMENT_HOLD),
               LOCK_TTL="5000", LOCK_MAX_HOLD="10000")

    def checkout(self, lock_id, **fields):
        return self.stack.request("POST", "/api/locks/checkout",
                                  dict(fields, lockId=lock_id))

    def test_checkout_gives_the_payment_hold_once(self):
        r = self.acquire(holderId="ann", ttl=5000)
        self.assertEqual(r.status, 200, r.text)
        lock = r.json["lockId"]
        c = self.checkout(lock, tenantId=self.tenant,
                          resourceId="specialist-1", date="2025-03-10",
                          startTime="14:00")
        self.assertEqual(c.status, 200, c.text)
        self.assertIs(c.json["checkout"], True)
        self.assertEqual(c.json["lockId"], lock)
        self.assertEqual(c.json["expiresAt"] - c.json["serverTime"],
                         c.json["expiresIn"])
        # Its own cap, past LOCK_MAX_HOLD (10 s).
        self.assertGreater(c.json["expiresIn"], 10000)
        self.assertLessEqual(c.json["expiresIn"], PAYMENT_HOLD)
        self.assertGreater(self.stack.redis(
            "PTTL", "booking_lock:{%s|specialist-1}:2025-03-10:14:00"
            % self.tenant), 10000)
        for again in (self.checkout(lock),
                      self.stack.request("POST", "/api/locks/refresh",
                                         {"lockId": lock})):
            self.assertEqual(again.status, 409, again.text)
            self.assertEqual(again.json["reason"], "checkout_started")
        # The same holder acquiring again does not reset it.
        r = self.acquire(holderId="ann", ttl=1000)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json["lockId"], lock)
        self.assertGreater(r.json["expiresIn"], 10000)
        got = self.stack.request("GET", "/api/locks/" + lock)
        self.assertEqual(got.json["state"], "checkout")
        active = self.stack.request(
            "GET", "/api/locks/admin/active?tenantId=" + self.tenant,
            headers=ADMIN)
        self.assertEqual([l["state"] for l in active.json["locks"]],
                         ["checkout"])
        # Booking works as before.
        b = self.stack.request("POST", "/api/appointments", self.booking(lock))
        self.assertEqual(b.status, 201, b.text)

    def test_checkout_of_a_lock_that_is_not_there(self):
        lock = self.acquire().json["lockId"]
        r = self.checkout(lock, startTime="15:00")
        self.assertEqual(r.status, 404, r.text)
        self.assertEqual(r.json["reason"], "lock_not_found")
        self.assertEqual(self.stack.request(
            "GET", "/api/locks/" + lock).json["state"], "held")
        r = self.checkout("0e0e0e0e-0000-4000-8000-000000000000")
        self.assertEqual(r.status, 404, r.text)
        r = self.stack.request("POST", "/api/locks/checkout", {})
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.json["errors"][0]["field"], "lockId")


class FenceTest(BookingTestCase):
    def test_fences_strictly_increase_per_resource(self):
        fences = []
        for start in ("09:00", "10:00", "11:00"):
            r = self.acquire(start=start)
            self.assertEqual(r.status, 200, r.text)
            fences.append(r.json["fence"])
            lock = r.json["lockId"]
            self.assertEqual(self.stack.request(
                "DELETE", "/api/locks/" + lock).status, 200)
        self.assertEqual(fences, sorted(set(fences)))
        # Another resource counts on its own.
        other = self.acquire(specialist="specialist-2").json["fence"]
        self.assertEqual(other, 1)
        r = self.acquire(start="12:00")
        lock, fence = r.json["lockId"], r.json["fence"]
        self.assertGreater(fence, fences[-1])
        v = self.stack.request("POST", "/api/locks/verify", {
            "lockId": lock, "tenantId": self.tenant,
            "resourceId": "specialist-1", "date": "2025-03-10",
            "startTime": "12:00"})
        self.assertEqual(v.json["fence"], fence)
        self.assertEqual(self.stack.request(
            "GET", "/api/locks/" + lock).json["fence"], fence)
        b = self.stack.request("POST", "/api/appointments",
                               self.booking(lock, start="12:00"))
        self.assertEqual(b.status, 201, b.text)
        self.assertEqual(b.json["appointment"]["fence"], fence)


class LateBookingTest(BookingTestCase):
    env = dict(BookingTestCase.env, LOCK_TTL="1000", LOCK_MAX_HOLD="1000")

    def expired_lock(self, start):
        lock = self.acquire(start=start, ttl=1000).json["lockId"]
        deadline = time.monotonic() + 5
        while self.stack.request("GET", "/api/locks/" + lock).status == 200:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        return lock

    def test_a_late_booking_books_when_still_free(self):
        lock = self.expired_lock("09:00")
        r = self.stack.request("POST", "/api/appointments",
                               self.booking(lock, start="09:00",
                                            ifStillFree=True), headers=ADMIN)
        self.assertEqual(r.status, 201, r.text)
        self.assertIs(r.json["lateBooking"], True)
        # Retried: the same appointment.
        again = self.stack.request("POST", "/api/appointments",
                                   self.booking(lock, start="09:00",
                                                ifStillFree=True),
                                   headers=ADMIN)
        self.assertEqual(again.status, 200, again.text)
        self.assertEqual(again.json["appointmentId"], r.json["appointmentId"])
        # An unknown lockId too.
        r = self.stack.request("POST", "/api/appointments", self.booking(
            "0e0e0e0e-0000-4000-8000-00000000000a", start="11:00",
            ifStillFree=True), headers=ADMIN)
        self.assertEqual(r.status, 201, r.text)

    def test_a_late_booking_never_takes_a_held_or_booked_interval(self):
        lock = self.expired_lock("13:00")
        other = self.acquire(start="13:30", duration=30, ttl=60000 if False
                             else 1000)
        self.assertEqual(other.status, 200, other.text)
        r = self.stack.request("POST", "/api/appointments",
                               self.booking(lock, start="13:00",
                                            ifStillFree=True), headers=ADMIN)
        self.assertEqual(r.status, 409, r.text)
        self.assertEqual(r.json["reason"], "slot_locked")
        first = self.stack.request("POST", "/api/appointments", self.booking(
            other.json["lockId"], start="13:30", duration=30))
        self.assertEqual(first.status, 201, first.text)
        r = self.stack.request("POST", "/api/appointments",
                               self.booking(lock, start="13:00",
                                            ifStillFree=True), headers=ADMIN)
        self.assertEqual(r.status, 409, r.text)
        self.assertEqual(r.json["reason"], "slot_booked")

    def test_customers_cannot_book_late(self):
        lock = self.expired_lock("15:00")
        r = self.stack.request("POST", "/api/appointments",
                               self.booking(lock, start="15:00",
                                            ifStillFree=True))
        self.assertEqual(r.status, 401, r.text)
        self.assertEqual(r.json["reason"], "unauthorized")
        r = self.stack.request("POST", "/api/appointments",
                               self.booking(lock, start="15:00"))
        self.assertEqual(r.status, 409, r.text)
        self.assertEqual(r.json["reason"], "lock_expired")


class ResourceSettingsTest(BookingTestCase):
    def test_settings_are_stored_and_checked(self):
        path = "/api/resources?tenantId=%s&resourceId=room" % self.tenant
        r = self.stack.request("GET", path, headers=ADMIN)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual((r.json["capacity"], r.json["bufferBefore"],
                          r.json["bufferAfter"]), (1, 0, 0))
        body = {"tenantId": self.tenant, "resourceId": "room",
                "capacity": 3, "bufferBefore": 5, "bufferAfter": 15}
        r = self.stack.request("PUT", "/api/resources", body, headers=ADMIN)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json["capacity"], 3)
        r = self.stack.request("GET", path, headers=ADMIN)
        self.assertEqual((r.json["capacity"], r.json["bufferBefore"],
                          r.json["bufferAfter"]), (3, 5, 15))
        # Stored beside the resource's keys, on its hash slot.
        self.assertEqual(self.stack.redis(
            "HGET", "booking_resource:{%s|room}" % self.tenant, "capacity"),
            "3")
        for bad, field in (({"capacity": 0}, "capacity"),
                           ({"capacity": 1001}, "capacity"),
                           ({"bufferBefore": 241}, "bufferBefore"),
                           ({"bufferAfter": -1}, "bufferAfter"),
                           ({"capacity": "2"}, "capacity")):
            r = self.stack.request("PUT", "/api/resources", dict(body, **bad),
                                   headers=ADMIN)
            self.assertEqual(r.status, 400, r.text)
            self.assertEqual([e["field"] for e in r.json["errors"]], [field])
        r = self.stack.request("PUT", "/api/resources", body)
        self.assertEqual(r.status, 401, r.text)
        r = self.stack.request("GET", path)
        self.assertEqual(r.status, 401, r.text)
        r = self.stack.request("POST", "/api/resources", body, headers=ADMIN)
        self.assertEqual(r.status, 405, r.text)


if __name__ == "__main__":
    unittest.main()
