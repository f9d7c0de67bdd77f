"""Each request costs exactly one Redis round trip: the script call.

Redis counts what it runs (INFO commandstats, after CONFIG RESETSTAT) and
shows every command a client sends (MONITOR), which tells the commands the
app sends from those its scripts run ("[0 lua]"). For each route, a known
number of requests must give exactly as many EVALSHA calls, no EVAL or
SCRIPT, and nothing else sent by the app. Input refused by validation costs
no round trip at all.

One worker, so that the app holds one Redis connection, opened (with the
scripts loaded) before the counting starts."""

import itertools
import os
import socket
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, _resp_encode  # noqa: E402

REQUESTS = 5
_slots = itertools.count()


class Monitor:
    """The commands clients other than Redis's scripts send while open."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.file = self.sock.makefile("rb")
        self.sock.sendall(_resp_encode(["MONITOR"]))
        if self.file.readline() != b"+OK\r\n":
            raise RuntimeError("MONITOR refused")

    def client_commands(self):
        """Closes the monitor and returns the client commands it saw, as
        lowercase names. Reads until Redis has been quiet for 0.5 s, at
        most 1000 lines."""
        self.sock.settimeout(0.5)
        names = []
        try:
            for _ in range(1000):
                line = self.file.readline()
                if not line:
                    break
                # +1700000000.123456 [0 127.0.0.1:40000] "EVALSHA" "..."
                # +1700000000.123457 [0 lua] "GET" "..."
                source, _, command = line.decode().partition("] ")
                if not source.endswith(" lua"):
                    names.append(command.split('"')[1].lower())
        except socket.timeout:
            pass
        finally:
            self.file.close()
            self.sock.close()
        return names


class OneWorkerTest(unittest.TestCase):
    """What the counting tests share (this file's and
    test_cluster_costs.py's): a stack (a Redis Cluster when CLUSTER) with
    one worker and no sweeper, whose connections are open before the
    counting starts."""

    CLUSTER = False

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(cluster=cls.CLUSTER,
                          env={"WORKERS": "1", "ADMIN_TOKEN": "t0ken",
                               # The sweeper's own calls would be counted.
                               "SWEEP_INTERVAL": "0"})
        # The worker's connection is open and its scripts loaded from here
        # (in a cluster, the health check goes to every primary).
        r = cls.stack.request("GET", "/api/locks/health")
        assert r.status == 200, r.text

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def acquire(self, slot):
        r = self.stack.request("POST", "/api/locks/acquire", slot)
        self.assertEqual(r.status, 200, r.text)
        return r.json["lockId"]


class RoundTripTest(OneWorkerTest):
    # ---- shared steps ----------------------------------------------------

    def slot(self):
        """A slot no other request of this test class uses."""
        n = next(_slots)
        return {"tenantId": "rt", "resourceId": "r%d" % n,
                "date": "2025-03-10", "startTime": "14:00", "duration": 60}

    def commandstats(self):
        calls = {}
        for line in self.stack.redis("INFO", "commandstats").splitlines():
            if line.startswith("cmdstat_"):
                name, _, fields = line[len("cmdstat_"):].partition(":")
                calls[name] = int(fields.split(",")[0].split("=")[1])
        return calls

    def assertRoundTrips(self, requests, expected_status, trips=1):
        """Sends each request of requests (method, path, body) and checks
        its status, then that Redis got exactly trips EVALSHA per request
        from the app and no other command."""
        self.stack.redis("CONFIG", "RESETSTAT")
        monitor = Monitor(self.stack.redis_port)
        try:
            for method, path, body in requests:
                r = self.stack.request(method, path, body)
                self.assertEqual(r.status, expected_status,
                                 "%s %s: %s" % (method, path, r.text))
        finally:
            sent = monitor.client_commands()
        stats = self.commandstats()

        self.assertEqual(sent, ["evalsha"] * (trips * len(requests)))
        self.assertEqual(stats.get("evalsha", 0), trips * len(requests),
                         stats)
        for name in stats:
            self.assertFalse(name == "eval" or name.startswith("script"),
                             "the app sent %s: %s" % (name, stats))

    # ---- routes --------------------------------------------------------------

    def test_health_is_one_script_call(self):
        self.assertRoundTrips(
            [("GET", "/api/locks/health", None)] * REQUESTS, 200)

    def test_acquire_is_one_script_call(self):
        self.assertRoundTrips(
            [("POST", "/api/locks/acquire", self.slot())
             for _ in range(REQUESTS)], 200)

    def test_refused_acquire_is_one_script_call(self):
        slot = self.slot()
        self.acquire(slot)
        self.assertRoundTrips(
            [("POST", "/api/locks/acquire", slot)] * REQUESTS, 409)

    def test_verify_is_one_script_call(self):
        slot = self.slot()
        body = dict(slot, lockId=self.acquire(slot))
        self.assertRoundTrips(
            [("POST", "/api/locks/verify", body)] * REQUESTS, 200)

    def test_refresh_with_and_without_slot_fields_is_one_script_call(self):
        slot = self.slot()
        lock_id = self.acquire(slot)
        self.assertRoundTrips(
            [("POST", "/api/locks/refresh", dict(slot, lockId=lock_id)),
             ("POST", "/api/locks/refresh", {"lockId": lock_id})]
            * REQUESTS, 200)

    def test_release_with_slot_fields_is_one_script_call(self):
        bodies = []
        for _ in range(REQUESTS):
            slot = self.slot()
            bodies.append(dict(slot, lockId=self.acquire(slot)))
        self.assertRoundTrips(
            [("POST", "/api/locks/release", b) for b in bodies], 200)

    def test_release_by_lock_id_alone_is_one_script_call(self):
        ids = [self.acquire(self.slot()) for _ in range(REQUESTS * 2)]
        self.assertRoundTrips(
            [("POST", "/api/locks/release", {"lockId": i})
             for i in ids[:REQUESTS]]
            + [("DELETE", "/api/locks/" + i, None) for i in ids[REQUESTS:]],
            200)

    def test_lock_lookup_is_one_script_call(self):
        lock_id = self.acquire(self.slot())
        self.assertRoundTrips(
            [("GET", "/api/locks/" + lock_id, None)] * REQUESTS, 200)

    def test_status_is_one_script_call(self):
        slot = self.slot()
        self.acquire(slot)
        path = ("/api/locks/status?tenantId=%s&resourceId=%s&date=%s"
                % (slot["tenantId"], slot["resourceId"], slot["date"]))
        self.assertRoundTrips([("GET", path, None)] * REQUESTS, 200)

    def test_booking_and_its_retry_are_one_script_call_each(self):
        bookings = []
        for _ in range(REQUESTS):
            slot = self.slot()
            bookings.append({
                "lockId": self.acquire(slot), "tenantId": slot["tenantId"],
                "specialistId": slot["resourceId"], "serviceId": "s1",
                "date": slot["date"], "startTime": slot["startTime"],
                "endTime": "15:00", "duration": 60, "customerName": "Ann",
                "customerEmail": "ann@example.com", "price": 10})
        self.assertRoundTrips(
            [("POST", "/api/appointments", b) for b in bookings], 201)
        self.assertRoundTrips(
            [("POST", "/api/appointments", b) for b in bookings], 200)

    def test_refused_input_costs_no_round_trip(self):
        bad = dict(self.slot(), date="2025-02-29")
        self.assertRoundTrips(
            [("POST", "/api/locks/acquire", bad)] * REQUESTS, 400, trips=0)


if __name__ == "__main__":
    unittest.main()
