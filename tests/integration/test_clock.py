"""One clock: the app's own clock may be wrong (here, shifted by libfaketime),
and still every expiry decision, expiresAt, serverTime and createdAt comes
from Redis's TIME, locks expire by their TTL, and uptime stays sane."""

import datetime
import glob
import os
import re
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack  # noqa: E402

TOKEN = "clock-admin-token"
ADMIN = {"Authorization": "Bearer " + TOKEN}
TTL_MS = 1500
SLACK_MS = 3000


def faketime_library():
    """libfaketime's multi-threaded preload library (script/bootstrap
    installs the libfaketime package)."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
                   + glob.glob("/usr/lib/faketime/libfaketimeMT.so.1"))
    if not found:
        raise RuntimeError("libfaketime is not installed (script/bootstrap)")
    return found[0]


def asan_options():
    """ASAN_OPTIONS for an app under libfaketime (ignored by a build
    without ASan). By default ASan's allocator reads the monotonic clock
    while it holds a size class's lock, the first time it maps that class;
    under LD_PRELOAD the read goes to libfaketime, whose first call
    initialises itself with dlsym, which allocates, in the same class:
    the app deadlocks in a futex before main. Whether it does depends on
    which classes were mapped first, which the length of the program's
    path and environment decides. A negative release interval turns that
    clock read off (ASan then never hands freed memory back to the system
    early, which no test here looks at)."""
    options = os.environ.get("ASAN_OPTIONS", "")
    return (options + ":" if options else "") + \
        "allocator_release_to_os_interval_ms=-1"


class ShiftedClockTest(unittest.TestCase):
    shift = "-1h"
    shift_s = -3600

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(env={"ADMIN_TOKEN": TOKEN,
                               "LOCK_TTL": str(TTL_MS),
                               "LD_PRELOAD": faketime_library(),
                               "FAKETIME": cls.shift,
                               "ASAN_OPTIONS": asan_options()})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def redis_ms(self):
        sec, usec = self.stack.redis("TIME")
        return int(sec) * 1000 + int(usec) // 1000

    def test_the_app_clock_really_is_shifted(self):
        """Without this the other tests could pass with no fake clock."""
        with open(self.stack._logs["app"], encoding="utf-8") as f:
            first = f.readline()
        m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}Z ", first)
        self.assertTrue(m, first)
        logged = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
        logged = logged.replace(tzinfo=datetime.timezone.utc).timestamp()
        # The log line was written a moment ago, by the app's clock.
        self.assertAlmostEqual(logged - time.time(), self.shift_s, delta=60)

    def test_times_come_from_redis(self):
        stack = self.stack
        body = {"tenantId": "clock", "resourceId": "r",
                "date": "2025-03-10", "startTime": "10:00", "duration": 30}
        before = self.redis_ms()
        r = stack.request("POST", "/api/locks/acquire", body)
        after = self.redis_ms()
        self.assertEqual(r.status, 200, r.text)
        server = r.json["serverTime"]
        # Redis TIME has whole-second resolution as read here.
        self.assertGreaterEqual(server, before - SLACK_MS)
        self.assertLessEqual(server, after + SLACK_MS)
        self.assertEqual(r.json["expiresAt"], server + TTL_MS)
        lock_id = r.json["lockId"]

        r = stack.request("GET", "/api/locks/" + lock_id)
        self.assertEqual(r.status, 200, r.text)
        self.assertAlmostEqual(r.json["serverTime"], self.redis_ms(),
                               delta=SLACK_MS)
        self.assertAlmostEqual(r.json["expiresAt"],
                               server + TTL_MS, delta=50)

        r = stack.request("POST", "/api/locks/refresh",
                          {"lockId": lock_id, "ttl": 1000})
        self.assertEqual(r.status, 200, r.text)
        self.assertAlmostEqual(r.json["serverTime"], self.redis_ms(),
                               delta=SLACK_MS)

        # A booking's createdAt is Redis time too.
        r = stack.request("POST", "/api/locks/acquire",
                          dict(body, startTime="11:00"))
        book = {"lockId": r.json["lockId"], "tenantId": "clock",
                "specialistId": "r", "serviceId": "s",
                "date": "2025-03-10", "startTime": "11:00",
                "endTime": "11:30", "duration": 30, "customerName": "A",
                "customerEmail": "a@example.com", "price": 1}
        r = stack.request("POST", "/api/appointments", book)
        self.assertEqual(r.status, 201, r.text)
        created = datetime.datetime.strptime(
            r.json["appointment"]["createdAt"], "%Y-%m-%dT%H:%M:%S.%fZ")
        created = created.replace(tzinfo=datetime.timezone.utc).timestamp()
        self.assertAlmostEqual(created * 1000, self.redis_ms(),
                               delta=SLACK_MS)

    def test_a_lock_still_expires_by_its_ttl(self):
        stack = self.stack
        body = {"tenantId": "clock", "resourceId": "r2",
                "date": "2025-03-10", "startTime": "10:00", "duration": 30}
        r = stack.request("POST", "/api/locks/acquire", body)
        self.assertEqual(r.status, 200, r.text)
        lock_id = r.json["lockId"]
        r = stack.request("POST", "/api/locks/acquire", body)
        self.assertEqual(r.json["reason"], "slot_locked", r.text)
        self.assertLessEqual(r.json["remainingTTL"], TTL_MS)
        time.sleep(TTL_MS / 1000 + 0.3)
        r = stack.request("GET", "/api/locks/" + lock_id)
        self.assertEqual(r.status, 404, r.text)
        r = stack.request("POST", "/api/locks/acquire", body)
        self.assertEqual(r.status, 200, r.text)
        # Counted as expired by the same clock.
        r = stack.request("GET", "/api/locks/metrics", headers=ADMIN)
        self.assertGreaterEqual(r.json["metrics"]["locksExpired"], 1)

    def test_uptime_is_sane(self):
        r = self.stack.request("GET", "/api/locks/metrics", headers=ADMIN)
        self.assertEqual(r.status, 200, r.text)
        uptime = r.json["metrics"]["uptimeSeconds"]
        self.assertGreaterEqual(uptime, 0)
        self.assertLess(uptime, 120)


class ClockAheadTest(ShiftedClockTest):
    shift = "+1h"
    shift_s = 3600


if __name__ == "__main__":
    unittest.main()
