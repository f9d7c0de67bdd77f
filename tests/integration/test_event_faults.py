"""Events under faults: changes made through the API while the dispatcher
is killed with SIGKILL in the middle of a delivery, while Redis (AOF,
appendfsync always) is killed and restarted, while the app is killed, and
while the receiver is down for a while. Afterwards every acknowledged
change has exactly one event in its resource's stream, and every event in
the streams has reached the receiver at least once, with a valid
signature; a delivery cut short is made again with the same id."""

import collections
import itertools
import json
import os
import signal
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402

TOKEN = "event-faults-operator-token-0123456789"
SECRET = "event-faults-secret-0123456789"
_tenants = itertools.count(1)


class Changes(threading.Thread):
    """Makes changes through the API in a loop: acquire a hold, then
    release it or book it, alternately, each on a slot of its own. Records
    the acknowledged ones as (event type, lockId or appointmentId)."""

    def __init__(self, stack, tenant):
        super().__init__(daemon=True)
        self.stack = stack
        self.tenant = tenant
        self.acked = []
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()

    def post(self, path, body):
        try:
            return self.stack.request("POST", path, body, timeout=5)
        except OSError:
            return None

    def run(self):
        for i in itertools.count():
            if self.stop_flag.is_set():
                return
            minute = (i % 48) * 30
            slot = {"tenantId": self.tenant, "resourceId": "r%d" % (i % 3),
                    "date": "2031-%02d-%02d" % (1 + (i // 1440) % 12,
                                                1 + (i // 48) % 28),
                    "startTime": "%02d:%02d" % (minute // 60, minute % 60),
                    "duration": 30}
            r = self.post("/api/locks/acquire", slot)
            if r is None or r.status != 200:
                time.sleep(0.05)
                continue
            lock_id = r.json["lockId"]
            self.record("hold.acquired", lock_id)
            if i % 2 == 0:
                r = self.post("/api/locks/release", {"lockId": lock_id})
                if r is not None and r.status == 200:
                    self.record("hold.released", lock_id)
            else:
                body = {"lockId": lock_id, "tenantId": self.tenant,
                        "specialistId": slot["resourceId"],
                        "serviceId": "s", "date": slot["date"],
                        "startTime": slot["startTime"],
                        "endTime": "%02d:%02d" % ((minute + 30) // 60,
                                                  (minute + 30) % 60),
                        "customerName": "Ann Example",
                        "customerEmail": "ann@example.com", "price": 10,
                        "duration": 30}
                r = self.post("/api/appointments", body)
                if r is not None and r.status in (200, 201):
                    self.record("booking.created",
                                r.json["appointment"]["id"])

    def record(self, kind, ident):
        with self.lock:
            self.acked.append((kind, ident))

    def count(self):
        with self.lock:
            return len(self.acked)

    def wait_more(self, n, timeout=60.0):
        """Waits until n more changes than now were acknowledged."""
        target = self.count() + n
        deadline = time.monotonic() + timeout
        while self.count() < target:
            if time.monotonic() > deadline:
                raise AssertionError("the changes did not go on")
            time.sleep(0.05)

    def finish(self):
        self.stop_flag.set()
        self.join(30)


class EventFaultsTest(unittest.TestCase):
    def setUp(self):
        self.tenant = "ef-%d-%s" % (next(_tenants),
                                    self.id().split(".")[-1][5:25])
        self.stall_next = threading.Event()
        self.stalled = threading.Event()
        self.receiver = Receiver({"/hook": SECRET}, plan=self.plan)
        self.addCleanup(self.receiver.stop)
        self.stack = Stack(env={"ADMIN_TOKEN": TOKEN,
                                "WEBHOOK_URL": self.receiver.url("/hook"),
                                "WEBHOOK_SECRET": SECRET,
                                "WEBHOOK_RETRY_FOR": "3600",
                                "WEBHOOK_RETRY_MAX": "2",
                                "WEBHOOK_TIMEOUT": "2000",
                                "REDIS_COMMAND_TIMEOUT": "1000",
                                "REDIS_CONNECT_TIMEOUT": "1000",
                                "LOCK_MAX_PER_HOLDER": "100000"},
                           events=True)
        self.addCleanup(self.stack.stop)
        self.assertEqual(self.stack.redis_config.get("appendfsync"),
                         "always")
        self.changes = Changes(self.stack, self.tenant)

    def plan(self, path, event, attempt):
        if self.stall_next.is_set() and attempt == 1 and event \
                and event.get("tenantId") == self.tenant:
            self.stall_next.clear()
            self.stalled_id = event["id"]
            self.stalled.set()
            return "stall"
        return "ok"

    # ---- what must hold afterwards -------------------------------------

    def stream_events(self):
        """Every event in the tenant's streams, in stream order."""
        events = []
        pattern = "booking_events:{%s|*" % self.tenant
        for port in self.stack.redis_ports:
            cursor = "0"
            while True:
                cursor, keys = self.stack.redis_node(
                    port, "SCAN", cursor, "MATCH", pattern, "COUNT", "500")
                for key in keys:
                    for _, fields in self.stack.redis_node(
                            port, "XRANGE", key, "-", "+"):
                        events.append(json.loads(dict(zip(
                            fields[::2], fields[1::2]))["event"]))
                if cursor == "0":
                    break
        return events

    def check_events(self, what):
        self.changes.finish()
        acked = list(self.changes.acked)
        self.assertGreater(len(acked), 0)
        events = self.stream_events()
        found = collections.Counter()
        for e in events:
            ident = e.get("appointmentId") if e["type"].startswith(
                "booking.") else e.get("lockId")
            found[(e["type"], ident)] += 1
        for change in acked:
            self.assertEqual(found[change], 1,
                             "%s: %r has %d events" % (what, change,
                                                       found[change]))
        ids = [e["id"] for e in events]
        self.assertEqual(len(ids), len(set(ids)))
        wanted = set(ids)
        self.receiver.wait_for(
            lambda: wanted <= {d.event_id
                               for d in self.receiver.accepted("/hook")},
            timeout=120, what="every event of the streams")
        mine = [d for d in self.receiver.all("/hook")
                if d.event_id in wanted]
        self.assertTrue(all(d.valid for d in mine))
        # Order per resource, in the first delivery of each event.
        for resource in {e["resourceId"] for e in events}:
            in_stream = [e["id"] for e in events
                         if e["resourceId"] == resource]
            first_seen = []
            for d in self.receiver.accepted("/hook"):
                if d.event_id in in_stream and d.event_id not in first_seen:
                    first_seen.append(d.event_id)
            self.assertEqual(first_seen, in_stream, what)
        print("%s: %d acknowledged changes, %d events, %d deliveries "
              "(%d of them again)" % (
                  what, len(acked), len(events), len(mine),
                  len(mine) - len(wanted)), file=sys.stderr)

    # ---- the faults -------------------------------------------------------

    def test_dispatcher_killed_mid_delivery(self):
        self.stall_next.set()
        self.changes.start()
        self.assertTrue(self.stalled.wait(60), "no delivery to stall")
        self.changes.wait_more(10)
        self.stack.kill_events(signal.SIGKILL)
        self.assertEqual(self.stack.exit_status["events"], -signal.SIGKILL)
        self.changes.wait_more(10)
        self.receiver.released.set()
        self.stack.start_events()
        self.changes.wait_more(10)
        self.check_events("slotlock-events SIGKILL")
        again = [d.answer for d in self.receiver.all("/hook")
                 if d.event_id == self.stalled_id]
        self.assertEqual(again[0], "stall")
        self.assertIn("ok", again[1:])

    def test_redis_killed_and_restarted_from_its_aof(self):
        self.changes.start()
        self.changes.wait_more(20)
        self.stack.stop_redis(kill=True)
        time.sleep(0.5)
        self.stack.start_redis()
        self.changes.wait_more(20)
        self.stack.stop_redis(kill=True)
        self.stack.start_redis()
        self.changes.wait_more(20)
        self.check_events("redis-server SIGKILL")

    def test_app_killed(self):
        self.changes.start()
        self.changes.wait_more(20)
        self.stack.kill_app(signal.SIGKILL)
        self.stack.start_app()
        self.changes.wait_more(20)
        self.check_events("app SIGKILL")

    def test_a_receiver_down_for_a_while_gets_everything_back(self):
        self.changes.start()
        self.changes.wait_more(10)
        self.receiver.stop()
        before = self.stack.redis("HGET", "slotlock:webhook_stats",
                                  "failed_attempts") or 0
        self.changes.wait_more(20)
        # Refused connections are counted, and retried.
        deadline = time.monotonic() + 60
        while int(self.stack.redis("HGET", "slotlock:webhook_stats",
                                   "failed_attempts") or 0) \
                < int(before) + 3:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        self.receiver.start()
        self.changes.wait_more(10)
        self.check_events("receiver down")


if __name__ == "__main__":
    unittest.main()
