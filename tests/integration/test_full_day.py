"""A full day costs Redis what an empty one does.

One specialist's day is filled with 1,440 one-minute holds. A status of
that day, and an acquire refused on it, must not read every hold: Redis
counts the commands the scripts run (INFO commandstats, after CONFIG
RESETSTAT), and those per request must not grow with the holds of the day.
The time Redis spends per script call (INFO commandstats usec of EVALSHA)
is printed for the reader, never asserted: on a shared machine it follows
the load, not the code. script/bench holds the time ratios."""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, concurrently  # noqa: E402

TENANT, FULL, DATE = "fd", "busy", "2025-03-10"
CALLS = 200
# Commands of the client (the test) or of the call itself, not of a script.
NOT_SCRIPT = ("evalsha", "eval", "info", "config", "ping", "script", "hello",
              "client", "select", "auth", "cluster", "readonly", "asking")


def hhmm(m):
    return "%02d:%02d" % (m // 60, m % 60)


def status_path(resource):
    return ("/api/locks/status?tenantId=%s&resourceId=%s&date=%s"
            % (TENANT, resource, DATE))


class FullDayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # No sweeper: its calls would be counted too.
        cls.stack = Stack(env={"LOCK_TTL": 600000, "LOCK_MAX_HOLD": 600000,
                               "WORKERS": 2, "SWEEP_INTERVAL": 0})
        body = {"tenantId": TENANT, "resourceId": FULL, "date": DATE,
                "duration": 1}
        calls = [("POST", "/api/locks/acquire", dict(body, startTime=hhmm(m)))
                 for m in range(1440)]
        for i in range(0, len(calls), 48):
            for r in concurrently(cls.stack, calls[i:i + 48]):
                assert r.status == 200, r.text
        cls.fresh = 0

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def cost(self, requests, status):
        """Runs requests (a function of i giving method, path, body) CALLS
        times; returns (script commands per call, by name; Redis usec per
        script call)."""
        self.stack.redis("CONFIG", "RESETSTAT")
        for i in range(CALLS):
            r = self.stack.request(*requests(i))
            self.assertEqual(r.status, status, r.text)
        stats = {}
        ports = (self.stack.redis_ports if self.stack.cluster
                 else [self.stack.redis_port])
        for port in ports:
            info = self.stack.redis_node(port, "INFO", "commandstats")
            for line in info.splitlines():
                if line.startswith("cmdstat_"):
                    name, _, fields = line[8:].partition(":")
                    values = dict(f.split("=") for f in fields.split(","))
                    had = stats.get(name, (0, 0))
                    stats[name] = (had[0] + int(values["calls"]),
                                   had[1] + int(values["usec"]))
        calls = sum(c for n, (c, _) in stats.items()
                    if n in ("evalsha", "eval"))
        usec = sum(u for n, (_, u) in stats.items()
                   if n in ("evalsha", "eval"))
        self.assertEqual(calls, CALLS)
        commands = {n: c / CALLS for n, (c, _) in stats.items()
                    if n not in NOT_SCRIPT and "|" not in n}
        return commands, usec / CALLS

    def measure(self, what, empty, full):
        """cost() of empty (requests, status) and of full; prints and
        returns both."""
        e, f = self.cost(*empty), self.cost(*full)
        self.report(what, e, f)
        return e, f

    def report(self, what, empty, full):
        print("\n%s: empty day %.1f usec, %.1f commands (%s); full day "
              "%.1f usec, %.1f commands (%s)"
              % (what, empty[1], sum(empty[0].values()), empty[0],
                 full[1], sum(full[0].values()), full[0]),
              file=sys.stderr)

    def test_the_day_is_full(self):
        r = self.stack.request("GET", status_path(FULL))
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(len(r.json["locked"]), 1440)
        self.assertEqual(r.json["locked"][754],
                         {"startTime": "12:34", "duration": 1,
                          "expiresIn": r.json["locked"][754]["expiresIn"]})
        self.assertTrue(0 < r.json["locked"][754]["expiresIn"] <= 600000)

    def test_status_of_a_full_day_costs_about_what_an_empty_one_does(self):
        empty, full = self.measure(
            "status", (lambda i: ("GET", status_path("idle")), 200),
            (lambda i: ("GET", status_path(FULL)), 200))
        self.assertLessEqual(sum(full[0].values()),
                             sum(empty[0].values()) + 1, full[0])

    def test_a_refused_acquire_on_a_full_day_reads_only_what_it_overlaps(self):
        def on_empty_day(i):
            type(self).fresh += 1
            return ("POST", "/api/locks/acquire",
                    {"tenantId": TENANT, "resourceId": "e%d" % self.fresh,
                     "date": DATE, "startTime": "12:00", "duration": 60})

        def on_full_day(i):
            m = (i * 37) % 1380
            return ("POST", "/api/locks/acquire",
                    {"tenantId": TENANT, "resourceId": FULL, "date": DATE,
                     "startTime": hhmm(m), "duration": 1 + i % 60})

        empty, full = self.measure("acquire (refused on the full day)",
                                   (on_empty_day, 200), (on_full_day, 409))
        # However many holds the day has: a bounded number of commands,
        # fewer than an acquire that succeeds makes.
        self.assertLessEqual(sum(full[0].values()), 12, full[0])
        self.assertLess(sum(full[0].values()), sum(empty[0].values()))

    def test_a_hold_deleted_by_hand_stops_blocking_at_once(self):
        key = "booking_lock:{%s|%s}:%s:12:34" % (TENANT, FULL, DATE)
        self.assertEqual(self.stack.redis("DEL", key), 1)
        body = {"tenantId": TENANT, "resourceId": FULL, "date": DATE,
                "startTime": "12:30", "duration": 10}
        r = self.stack.request("POST", "/api/locks/acquire", body)
        self.assertEqual(r.status, 409, r.text)
        # The freed minute alone can be held again, at once.
        r = self.stack.request("POST", "/api/locks/acquire",
                               dict(body, startTime="12:34", duration=1))
        self.assertEqual(r.status, 200, r.text)

    def test_the_index_follows_every_change_of_a_hold(self):
        def acquire(start, duration, **extra):
            return self.stack.request("POST", "/api/locks/acquire", dict(
                {"tenantId": TENANT, "resourceId": "moves", "date": DATE,
                 "startTime": start, "duration": duration}, **extra))

        def locked():
            r = self.stack.request("GET", status_path("moves"))
            return {(l["startTime"], l["duration"]): l["expiresIn"]
                    for l in r.json["locked"]}

        long = acquire("08:00", 120, ttl=5000).json["lockId"]
        # Overlapped by the hold that starts before it, or touching it.
        self.assertEqual(acquire("09:00", 10).status, 409)
        self.assertEqual(acquire("07:30", 31).status, 409)
        self.assertEqual(acquire("10:00", 10).status, 200)
        short = acquire("07:00", 60, ttl=1000).json["lockId"]
        self.assertEqual(sorted(locked()), [("07:00", 60), ("08:00", 120),
                                            ("10:00", 10)])
        self.assertLessEqual(locked()[("08:00", 120)], 5000)
        r = self.stack.request("POST", "/api/locks/refresh",
                               {"lockId": long, "ttl": 60000})
        self.assertEqual(r.status, 200, r.text)
        self.assertGreater(locked()[("08:00", 120)], 5000)
        r = self.stack.request("POST", "/api/locks/release",
                               {"lockId": long})
        self.assertEqual(r.status, 200, r.text)
        self.assertNotIn(("08:00", 120), locked())
        self.assertEqual(acquire("09:00", 10).status, 200)
        # A hold that ran out neither blocks nor shows.
        time.sleep(1.2)
        self.assertNotIn(("07:00", 60), locked())
        self.assertEqual(acquire("06:00", 200).status, 409)  # 09:00's
        self.assertEqual(acquire("06:30", 60).status, 200)
        r = self.stack.request("POST", "/api/locks/verify", {
            "tenantId": TENANT, "resourceId": "moves", "date": DATE,
            "startTime": "07:00", "duration": 60, "lockId": short})
        self.assertEqual(r.status, 409, r.text)


if __name__ == "__main__":
    unittest.main()
