"""What the booking and admin tests share: the admin token, a fresh tenant
per test, and BookingTestCase, a class-wide Stack with helpers for the
guide's acquire and booking bodies."""

import itertools
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack  # noqa: E402

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
