"""The live slot grid (docs/live-grid.md): GET /api/locks/stream is an
EventSource held by nginx (nchan), fed by slotlock-events' publisher from
the event streams. Each change type reaches a subscriber of its resource
and day as a status-shaped message with no lock, holder or customer
fields; bad parameters are a JSON 400; two app instances push each change
once; a reconnect with Last-Event-ID gets what it missed."""

import json
import os
import queue
import signal
import socket
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_case import ADMIN, TOKEN, BookingTestCase  # noqa: E402
from harness import Stack  # noqa: E402
import openapi_check  # noqa: E402

DEADLINE = 15.0       # generous: the machine is small and busy
DATE = "2025-03-10"
CUSTOMER = ("John Doe", "john@example.com", "+1234567890")
FORBIDDEN = {"lockId", "holderId", "appointmentId", "id", "fence",
             "customerName", "customerEmail", "customerPhone", "price",
             "clientAddress"}


class Sse:
    """A minimal EventSource: one connection, a thread that parses the
    stream into (id, data) pairs on a queue."""

    def __init__(self, port, query, last_event_id=None, headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port), 10)
        extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        headers = "Accept: text/event-stream\r\n" + extra
        if last_event_id is not None:
            headers += "Last-Event-ID: %s\r\n" % last_event_id
        self.sock.sendall(("GET /api/locks/stream?%s HTTP/1.1\r\n"
                           "Host: 127.0.0.1\r\n%s\r\n"
                           % (query, headers)).encode())
        self.sock.settimeout(None)
        self.f = self.sock.makefile("rb")
        self.status_line = self.f.readline().decode()
        self.status = int(self.status_line.split()[1])
        self.headers = {}
        while True:
            line = self.f.readline().decode().rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.events = queue.Queue()
        self.last_id = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _lines(self):
        """The body's lines, chunked transfer encoding undone."""
        chunked = "chunked" in self.headers.get("transfer-encoding", "")
        buf = b""
        while True:
            if chunked:
                size_line = self.f.readline()
                if not size_line:
                    return
                size = int(size_line.strip() or b"0", 16)
                if size == 0:
                    return
                data = self.f.read(size)
                self.f.readline()
            else:
                data = self.f.read1(4096)
                if not data:
                    return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield line.rstrip(b"\r").decode()

    def _read(self):
        event_id, data = None, []
        try:
            for line in self._lines():
                if line == "":
                    if data:
                        self.last_id = event_id
                        self.events.put((event_id, "\n".join(data)))
                    event_id, data = None, []
                elif line.startswith(":"):
                    continue
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "id":
                        event_id = value
                    elif name == "data":
                        data.append(value)
        except (OSError, ValueError):
            pass

    def next(self, timeout=DEADLINE):
        """The next message as (id, parsed data); fails after timeout."""
        event_id, text = self.events.get(timeout=timeout)
        return event_id, json.loads(text)

    def quiet(self, wait=1.0):
        """True when no message arrives within wait seconds."""
        try:
            self.events.get(timeout=wait)
            return False
        except queue.Empty:
            return True

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class GridCase(BookingTestCase):
    env = {"ADMIN_TOKEN": TOKEN, "LOCK_TTL": "2000", "PAYMENT_HOLD": "2000",
           "LOCK_MAX_PER_ADDRESS": "0",
           "CORS_ALLOWED_ORIGINS": "https://shop.example"}
    instances = 1

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(env=cls.env, events=True, instances=cls.instances)

    def subscribe(self, resource="specialist-1", date=DATE, **kw):
        s = Sse(self.stack.port, "tenantId=%s&resourceId=%s&date=%s"
                % (self.tenant, resource, date), **kw)
        self.addCleanup(s.close)
        self.assertEqual(s.status, 200, s.status_line)
        self.assertTrue(s.headers["content-type"].startswith(
            "text/event-stream"), s.headers)
        return s

    def ready(self, sub, resource="specialist-1"):
        """Waits until the publisher pushes to sub: holds and releases a
        probe slot until a message arrives, then drains the probe's
        messages. The publisher finds a resource's stream within a second
        of its first event; before that nothing of it is pushed, which is
        what the page's snapshot covers."""
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            lock = self.held(start="23:00", duration=30, specialist=resource)
            self.stack.request("POST", "/api/locks/release",
                               {"lockId": lock})
            try:
                sub.next(timeout=1.0)
                break
            except queue.Empty:
                continue
        else:
            self.fail("no message reached the subscriber")
        while not sub.quiet(1.0):
            pass

    def acquired(self, sub, n):
        """The start times of sub's next n hold.acquired messages; the
        holds' ends (LOCK_TTL is 2 s) may come between them on a slow
        machine, and are passed over."""
        out = []
        while len(out) < n:
            _, data = sub.next()
            if data["type"] != "hold.expired":
                self.assertEqual(data["type"], "hold.acquired", data)
                out.append(data["startTime"])
        return out

    def assertClean(self, data):
        self.assertFalse(FORBIDDEN & set(data), data)
        # The document's GridChange (additionalProperties false).
        openapi_check.document()
        errors = list(openapi_check._validator(
            {"$ref": "#/components/schemas/GridChange"}).iter_errors(data))
        self.assertEqual(errors, [], data)
        for secret in CUSTOMER:
            self.assertNotIn(secret, json.dumps(data))


class GridTest(GridCase):
    def test_each_change_type_arrives_shaped_like_status(self):
        sub = self.subscribe()
        self.ready(sub)
        seen = []

        def expect(type_, status, start):
            _, data = sub.next()
            self.assertClean(data)
            self.assertEqual(data["type"], type_, data)
            self.assertEqual(data["status"], status, data)
            self.assertEqual(data["startTime"], start, data)
            self.assertIsInstance(data["duration"], int)
            if status == "held":
                self.assertGreater(data["expiresIn"], 0, data)
                self.assertIn("expiresAt", data)
            else:
                self.assertNotIn("expiresIn", data)
            seen.append(type_)
            return data

        lock = self.held(start="09:00", duration=30, holderId="h-1")
        expect("hold.acquired", "held", "09:00")
        r = self.stack.request("POST", "/api/locks/refresh",
                               {"lockId": lock})
        self.assertEqual(r.status, 200, r.text)
        expect("hold.refreshed", "held", "09:00")
        r = self.stack.request("POST", "/api/locks/release",
                               {"lockId": lock})
        self.assertEqual(r.status, 200, r.text)
        expect("hold.released", "free", "09:00")

        self.held(start="10:00", duration=30)
        expect("hold.acquired", "held", "10:00")
        r = self.stack.request("POST", "/api/locks/admin/force-release",
                               {"tenantId": self.tenant,
                                "resourceId": "specialist-1", "date": DATE,
                                "startTime": "10:00"}, headers=ADMIN)
        self.assertEqual(r.status, 200, r.text)
        expect("hold.force_released", "free", "10:00")

        # LOCK_TTL is 2 s: the sweeper reports the end.
        self.held(start="11:00", duration=30)
        expect("hold.acquired", "held", "11:00")
        expect("hold.expired", "free", "11:00")

        lock = self.held(start="12:00", duration=60)
        expect("hold.acquired", "held", "12:00")
        r = self.book(lock, start="12:00", duration=60)
        self.assertEqual(r.status, 201, r.text)
        data = expect("booking.created", "booked", "12:00")
        self.assertEqual(data["duration"], 60)
        r = self.stack.request("DELETE", "/api/appointments/%s"
                               % r.json["appointmentId"], headers=ADMIN)
        self.assertIn(r.status, (200, 204), r.text)
        expect("booking.cancelled", "free", "12:00")
        self.assertEqual(seen, [
            "hold.acquired", "hold.refreshed", "hold.released",
            "hold.acquired", "hold.force_released", "hold.acquired",
            "hold.expired", "hold.acquired", "booking.created",
            "booking.cancelled"])

    def test_only_the_resource_and_day_subscribed(self):
        sub = self.subscribe()
        self.ready(sub)
        self.held(start="09:00", duration=30, specialist="specialist-2")
        self.held(start="09:00", duration=30, date="2025-03-11")
        self.held(start="13:00", duration=30)
        _, data = sub.next()
        self.assertEqual(data["startTime"], "13:00", data)
        self.assertEqual(data["type"], "hold.acquired", data)
        self.assertEqual(data["date"], DATE)

    def test_last_event_id_resume(self):
        sub = self.subscribe()
        self.ready(sub)
        self.held(start="08:00", duration=30)
        event_id, data = sub.next()
        self.assertEqual(data["startTime"], "08:00")
        self.assertTrue(event_id, "nchan names each message")
        sub.close()
        # Two changes while the page is away...
        self.held(start="08:30", duration=30)
        self.held(start="09:30", duration=30)
        # ...wait until the publisher has sent both (nothing of this
        # tenant left unacknowledged in the group).
        key = "booking_events:{%s|specialist-1}" % self.tenant
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            groups = {g[1]: g for g in self.stack.redis("XINFO", "GROUPS",
                                                        key)}
            info = dict(zip(groups["grid"][::2], groups["grid"][1::2]))
            if info["pending"] == 0 and info["lag"] == 0:
                break
            time.sleep(0.1)
        # ...and the reconnect gets both, in order.
        again = self.subscribe(last_event_id=event_id)
        self.assertEqual(self.acquired(again, 2), ["08:30", "09:30"])

    def test_bad_parameters_are_a_json_400(self):
        cases = {
            "resourceId=r&date=%s" % DATE: "tenantId",
            "tenantId=t&date=%s" % DATE: "resourceId",
            "tenantId=t&resourceId=r": "date",
            "tenantId=t&resourceId=r&date=2025-13-01": "date",
            "tenantId=t%%20x&resourceId=r&date=%s" % DATE: "tenantId",
            "tenantId=t&resourceId=%s&date=%s" % ("r" * 65, DATE):
                "resourceId",
            "": "tenantId",
        }
        for query, field in cases.items():
            with self.subTest(query=query):
                r = self.stack.request("GET", "/api/locks/stream?" + query,
                                       headers={"Accept":
                                                "text/event-stream"})
                self.assertReason(r, 400, "validation_error")
                self.assertEqual(r.json["errors"][0]["field"], field)
                self.assertTrue(r.headers["Content-Type"].startswith(
                    "application/json"))
        r = self.stack.request("POST", "/api/locks/stream?tenantId=t&"
                               "resourceId=r&date=" + DATE, body={})
        self.assertReason(r, 405, "method_not_allowed")

    def test_origins_as_the_api_allows_them(self):
        query = "tenantId=%s&resourceId=specialist-1&date=%s" % (
            self.tenant, DATE)
        # A listed origin may read the stream from its pages.
        sub = Sse(self.stack.port, query,
                  headers={"Origin": "https://shop.example"})
        self.addCleanup(sub.close)
        self.assertEqual(sub.status, 200, sub.status_line)
        self.assertEqual(sub.headers["access-control-allow-origin"],
                         "https://shop.example")
        # The site's own origin (a WebSocket always sends one).
        own = Sse(self.stack.port, query,
                  headers={"Origin": "http://127.0.0.1"})
        self.addCleanup(own.close)
        self.assertEqual(own.status, 200, own.status_line)
        # Any other: the API's JSON refusal.
        r = self.stack.request("GET", "/api/locks/stream?" + query,
                               headers={"Accept": "text/event-stream",
                                        "Origin": "https://evil.example"})
        self.assertReason(r, 403, "origin_not_allowed")
        self.assertNotIn("Access-Control-Allow-Origin", r.headers)

    def test_publisher_killed_loses_nothing(self):
        sub = self.subscribe()
        self.ready(sub)
        self.stack.kill_events(signal.SIGKILL)
        self.held(start="15:00", duration=30)
        self.held(start="15:30", duration=30)
        self.assertTrue(sub.quiet(0.5), "nothing published while it is down")
        self.stack.start_events()
        self.assertEqual(self.acquired(sub, 2), ["15:00", "15:30"])


class GridInstancesTest(GridCase):
    """Two app instances, one publisher: each change is pushed once."""
    instances = 2

    def test_no_duplicate_pushes(self):
        sub = self.subscribe()
        self.ready(sub)
        starts = ["%02d:00" % h for h in range(6, 12)]
        for start in starts:
            self.held(start=start, duration=30)
        got = [sub.next()[1] for _ in starts]
        self.assertEqual([m["startTime"] for m in got], starts)
        self.assertEqual({m["type"] for m in got}, {"hold.acquired"})
        # What comes next, until all is quiet for 3 s: the holds run out
        # (LOCK_TTL is 2 s), each once; none is acquired a second time.
        later = []
        while True:
            try:
                later.append(sub.next(timeout=3.0)[1])
            except queue.Empty:
                break
        self.assertEqual([m for m in later if m["type"] == "hold.acquired"],
                         [])
        expired = [m["startTime"] for m in later
                   if m["type"] == "hold.expired"]
        self.assertEqual(sorted(expired), sorted(set(expired)))



class GridSentinelTest(GridCase):
    """Sentinel: the publisher follows a failover to the new primary,
    where the streams and the group are, and goes on pushing."""

    @classmethod
    def setUpClass(cls):
        from test_sentinel import MASTER, Topology
        cls.topo = Topology()
        try:
            cls.stack = Stack(start_redis=False, cluster=False, events=True,
                              env=dict(cls.env, **{
                                  "REDIS_SENTINELS": cls.topo.sentinels(),
                                  "REDIS_MASTER_NAME": MASTER,
                                  "REDIS_CONNECT_TIMEOUT": "1000",
                                  "REDIS_COMMAND_TIMEOUT": "1000"}))
        except BaseException:
            cls.topo.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.topo.stop()

    def test_pushes_go_on_after_a_failover(self):
        sub = self.subscribe()
        self.ready(sub)
        self.held(start="09:00", duration=30)
        self.assertEqual(self.acquired(sub, 1), ["09:00"])
        self.topo.kill("primary")
        # Acquire again until the service has its new primary.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = self.acquire(start="10:00", duration=30)
            if r.status == 200:
                break
            time.sleep(0.5)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(self.acquired(sub, 1), ["10:00"])


if __name__ == "__main__":
    unittest.main()
