"""Several app instances behind one nginx upstream: when one dies under
load, nginx hands new requests to the others, and no booking is lost or
made twice."""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bookload import BookingLoad, booked_intervals, overlaps  # noqa: E402
from harness import Stack, wait_until  # noqa: E402


def report(text):
    sys.stderr.write("test_instances: %s\n" % text)



class InstancesTest(unittest.TestCase):
    def test_killing_one_instance_under_load_loses_no_booking(self):
        stack = Stack(instances=3, env={"WORKERS": "2"})
        self.addCleanup(stack.stop)
        self.assertEqual(len({stack.pid(n) for n in stack.app_names}), 3)

        load = BookingLoad(stack, "inst", threads=4)
        load.start()
        self.addCleanup(load.stop)
        self.assertTrue(wait_until(lambda: load.count() >= 20, 20),
                        "no bookings before the kill\n" + stack.logs())

        stack.kill_app(instance=2)
        killed_at = time.monotonic()
        self.assertIsNone(stack.pid("app-2"))
        self.assertTrue(wait_until(lambda: load.acked_after(killed_at) >= 30,
                                   20), "bookings stopped after the kill\n"
                        + stack.logs())
        load.stop()

        # New requests never meet the dead instance: nginx finds its
        # socket refusing and hands them to the next one, whatever the
        # round-robin turn.
        for i in range(9):
            r = stack.request("GET", "/api/locks/health")
            self.assertEqual(r.status, 200, r.text)
        for i in range(6):
            r = stack.request("POST", "/api/locks/acquire", {
                "tenantId": "inst-after", "resourceId": "r", "duration": 30,
                "date": "2025-03-10", "startTime": "%02d:00" % (8 + i)})
            self.assertEqual(r.status, 200, r.text)

        # Every booking that was answered is stored, once; nothing else is.
        stored = booked_intervals(stack.redis, "inst")
        stored_ids = sorted(b[2] for items in stored.values() for b in items)
        acked_ids = sorted(a["id"] for a in load.acked.values())
        self.assertEqual(stored_ids, acked_ids)
        self.assertEqual(overlaps(stored), [])
        self.assertEqual((load.gave_up, load.refused), (0, []))

        report("3 instances, one SIGKILLed under load: %d bookings "
               "acknowledged, %d stored, %d requests answered 5xx (in "
               "flight at the kill, then retried), %d lost"
               % (len(acked_ids), len(stored_ids), load.unavailable,
                  len(set(acked_ids) - set(stored_ids))))


if __name__ == "__main__":
    unittest.main()
