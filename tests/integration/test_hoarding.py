"""Hoarding: one client address may hold at most LOCK_MAX_PER_ADDRESS live
locks per tenant, whatever holderId it sends (or none); the operator's
token is exempt."""

import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack  # noqa: E402

TOKEN = "hoarding-admin-token"
ADMIN = {"Authorization": "Bearer " + TOKEN}
CAP = 3


def slot(tenant, resource, start="10:00", **extra):
    body = {"tenantId": tenant, "resourceId": resource,
            "date": "2025-03-10", "startTime": start, "duration": 60}
    body.update(extra)
    return body


class AddressCapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(env={"ADMIN_TOKEN": TOKEN,
                               "LOCK_MAX_PER_ADDRESS": str(CAP)})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def acquire(self, body, headers=None):
        return self.stack.request("POST", "/api/locks/acquire", body,
                                  headers=headers)

    def test_whole_day_holds_without_a_holder_id_stop_at_the_cap(self):
        got = [self.acquire(slot("hoard-a", "r%d" % i)) for i in range(CAP)]
        self.assertEqual([r.status for r in got], [200] * CAP)
        r = self.acquire(slot("hoard-a", "r-next"))
        self.assertEqual(r.status, 429, r.text)
        self.assertEqual(r.json["reason"], "too_many_locks")
        self.assertIs(r.json["locked"], False)
        # Nothing was made for the refused one.
        self.assertIsNone(self.stack.redis(
            "GET", "booking_lock:{hoard-a|r-next}:2025-03-10:10:00"))
        # A new holderId each time does not get round it.
        r = self.acquire(slot("hoard-a", "r-other", holderId="fresh-holder"))
        self.assertEqual(r.status, 429, r.text)
        # Nor does a header of the client's own making.
        r = self.acquire(slot("hoard-a", "r-xff"),
                         headers={"X-Forwarded-For": "203.0.113.9",
                                  "X-Real-IP": "203.0.113.9"})
        self.assertEqual(r.status, 429, r.text)

    def test_a_released_lock_gives_its_place_back(self):
        ids = [self.acquire(slot("hoard-b", "r%d" % i)).json["lockId"]
               for i in range(CAP)]
        self.assertEqual(self.acquire(slot("hoard-b", "x")).status, 429)
        r = self.stack.request("DELETE", "/api/locks/" + ids[0])
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(self.acquire(slot("hoard-b", "x")).status, 200)

    def test_a_booked_lock_gives_its_place_back(self):
        ids = [self.acquire(slot("hoard-c", "r%d" % i)).json["lockId"]
               for i in range(CAP)]
        r = self.stack.request("POST", "/api/appointments", {
            "lockId": ids[1], "tenantId": "hoard-c", "specialistId": "r1",
            "serviceId": "s", "date": "2025-03-10", "startTime": "10:00",
            "endTime": "11:00", "duration": 60, "customerName": "A",
            "customerEmail": "a@example.com", "price": 1})
        self.assertEqual(r.status, 201, r.text)
        self.assertEqual(self.acquire(slot("hoard-c", "y")).status, 200)

    def test_the_cap_is_per_tenant(self):
        for i in range(CAP):
            self.assertEqual(self.acquire(slot("hoard-d", "r%d" % i)).status,
                             200)
        self.assertEqual(self.acquire(slot("hoard-e", "r0")).status, 200)

    def test_the_operator_token_is_exempt(self):
        for i in range(CAP + 2):
            r = self.acquire(slot("hoard-f", "r%d" % i), headers=ADMIN)
            self.assertEqual(r.status, 200, r.text)
        # Its locks are not counted against the address either.
        self.assertEqual(self.acquire(slot("hoard-f", "mine")).status, 200)


if __name__ == "__main__":
    unittest.main()
