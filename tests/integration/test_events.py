"""The event outbox (docs/events.md): every change a request makes writes
exactly one event to its resource's stream, in the same script, with the
hold's or booking's fields and never the customer's; a request sent twice
writes no second event; a hold that runs out is reported once, by the
sweeper or whoever finds it first, also with two app instances; the pull
API pages through a tenant's events without skipping or repeating one."""

import json
import os
import re
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_case import ADMIN, TOKEN, BookingTestCase  # noqa: E402
import jwt_tokens as jt  # noqa: E402

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CUSTOMER = ("John Doe", "john@example.com", "+1234567890", "127.0.0.1")
HOLD_FIELDS = {"id", "type", "createdAt", "tenantId", "resourceId", "date",
               "startTime", "duration", "lockId", "holderId", "fence",
               "state", "expiresAt"}
BOOKING_FIELDS = HOLD_FIELDS - {"state", "expiresAt"} | {"appointmentId"}
# Which events carry a state, and which an expiresAt.
WITH_STATE = {"hold.checkout", "hold.expired"}
WITH_END = {"hold.acquired", "hold.refreshed", "hold.checkout"}


def monitor_args(line):
    """The arguments of one MONITOR line: quoted, with sdscatrepr's
    escapes."""
    out, i = [], line.index('"')
    escapes = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b"}
    while i < len(line):
        if line[i] != '"':
            i += 1
            continue
        i += 1
        buf = bytearray()
        while line[i] != '"':
            c = line[i]
            if c == "\\":
                n = line[i + 1]
                if n == "x":
                    buf.append(int(line[i + 2:i + 4], 16))
                    i += 4
                    continue
                buf += escapes.get(n, n).encode()
                i += 2
                continue
            buf += c.encode()
            i += 1
        out.append(buf.decode())
        i += 1
    return out


def iso_ms(text):
    """An event's ISO 8601 time as epoch ms."""
    secs = time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    return int((secs - time.timezone) * 1000) + int(text[20:23])


class EventsCase(BookingTestCase):
    env = {"ADMIN_TOKEN": TOKEN, "LOCK_TTL": "2000", "PAYMENT_HOLD": "2000",
           "LOCK_MAX_PER_ADDRESS": "0"}

    def stream(self, resource="specialist-1", tenant=None):
        return "booking_events:{%s|%s}" % (tenant or self.tenant, resource)

    def events(self, resource="specialist-1", tenant=None):
        """The resource's stream as event objects, checked for shape."""
        out = []
        for entry_id, fields in self.stack.redis(
                "XRANGE", self.stream(resource, tenant), "-", "+"):
            self.assertEqual(len(fields), 2, fields)
            self.assertEqual(fields[0], "event")
            text = fields[1]
            for secret in CUSTOMER:
                self.assertNotIn(secret, text)
            event = json.loads(text)
            self.assertTrue(ISO.match(event["createdAt"]), event)
            self.assertEqual(event["tenantId"], tenant or self.tenant)
            self.assertEqual(event["resourceId"], resource)
            allowed = (BOOKING_FIELDS if event["type"].startswith("booking.")
                       else HOLD_FIELDS)
            self.assertLessEqual(set(event), allowed, event)
            self.assertEqual("state" in event, event["type"] in WITH_STATE,
                             event)
            self.assertEqual("expiresAt" in event, event["type"] in WITH_END,
                             event)
            out.append(event)
        return out

    def script_sent(self, key, send):
        """The EVALSHA the app sent for key while send() ran, as MONITOR
        on key's node saw it, and that node's port."""
        port = (self.stack.redis_node_of(key) if self.stack.cluster
                else self.stack.redis_port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            f = s.makefile("rb")
            s.sendall(b"MONITOR\r\n")
            self.assertEqual(f.readline().strip(), b"+OK")
            send()
            while True:
                line = f.readline().decode()
                if '"EVALSHA"' in line or '"EVAL"' in line:
                    args = monitor_args(line)
                    if key in args:
                        return port, args

    def types(self, resource="specialist-1"):
        return [e["type"] for e in self.events(resource)]

    def wait_for(self, check, what, timeout=30.0):
        """Waits for check() to be true; the deadline is generous, the
        assertion is on what happened."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = check()
            if got:
                return got
            time.sleep(0.05)
        self.fail("never happened: " + what)


class OutboxTest(EventsCase):
    # Long lives: nothing runs out while a test walks through its steps.
    env = dict(EventsCase.env, LOCK_TTL="60000", PAYMENT_HOLD="60000")

    def test_each_change_writes_one_event_of_its_own(self):
        r = self.acquire(holderId="ann", ttl=60000)
        self.assertEqual(r.status, 200, r.text)
        lock = r.json["lockId"]
        self.assertEqual(self.stack.request(
            "POST", "/api/locks/refresh", {"lockId": lock}).status, 200)
        # The same holder again renews its hold: a refresh.
        self.assertEqual(self.acquire(holderId="ann").json["lockId"], lock)
        c = self.stack.request("POST", "/api/locks/checkout",
                               {"lockId": lock})
        self.assertEqual(c.status, 200, c.text)
        b = self.book(lock)
        self.assertEqual(b.status, 201, b.text)
        appt = b.json["appointment"]["id"]
        d = self.stack.request("DELETE", "/api/appointments/" + appt,
                               headers=ADMIN)
        self.assertEqual(d.status, 200, d.text)
        events = self.events()
        self.assertEqual([e["type"] for e in events], [
            "hold.acquired", "hold.refreshed", "hold.refreshed",
            "hold.checkout", "booking.created", "booking.cancelled"])
        fence = r.json["fence"]
        for e in events:
            self.assertEqual((e["date"], e["startTime"], e["duration"]),
                             ("2025-03-10", "14:00", 60), e)
            self.assertEqual(e["lockId"], lock)
            self.assertEqual(e["fence"], fence)
        for e in events[:5]:
            self.assertEqual(e["holderId"], "ann")
        self.assertEqual(events[3]["state"], "checkout")
        for e in events[4:]:
            self.assertEqual(e["appointmentId"], appt)
        self.assertEqual(events[0]["expiresAt"], r.json["expiresAt"])
        self.assertEqual(events[3]["expiresAt"], c.json["expiresAt"])
        self.assertNotIn("state", events[0])
        ids = [e["id"] for e in events]
        self.assertEqual(len(set(ids)), len(ids))

    def test_release_force_release_and_a_booking_without_a_lock(self):
        lock = self.held(start="09:00")
        r = self.stack.request("POST", "/api/locks/release",
                               {"lockId": lock})
        self.assertEqual(r.status, 200, r.text)
        lock2 = self.held(start="10:00")
        r = self.stack.request("DELETE", "/api/locks/" + lock2)
        self.assertEqual(r.status, 200, r.text)
        lock3 = self.held(start="11:00")
        r = self.stack.request("POST", "/api/locks/admin/force-release",
                               {"tenantId": self.tenant,
                                "resourceId": "specialist-1",
                                "date": "2025-03-10", "startTime": "11:00"},
                               headers=ADMIN)
        self.assertEqual(r.status, 200, r.text)
        b = self.book("", start="12:00", headers=ADMIN)
        self.assertEqual(b.status, 201, b.text)
        events = self.events()
        self.assertEqual([(e["type"], e.get("lockId")) for e in events], [
            ("hold.acquired", lock), ("hold.released", lock),
            ("hold.acquired", lock2), ("hold.released", lock2),
            ("hold.acquired", lock3), ("hold.force_released", lock3),
            ("booking.created", None)])
        self.assertEqual(events[-1]["appointmentId"],
                         b.json["appointment"]["id"])
        self.assertNotIn("holderId", events[0])

    def test_refusals_and_reads_write_no_event(self):
        lock = self.held()
        for r in (self.acquire(),                       # slot_locked
                  self.stack.request("GET", "/api/locks/" + lock),
                  self.stack.request(
                      "GET", "/api/locks/status?tenantId=%s&resourceId="
                      "specialist-1&date=2025-03-10" % self.tenant),
                  self.book(lock, start="15:00"),       # lock_mismatch
                  self.stack.request("POST", "/api/locks/release",
                                     {"lockId": lock, "startTime": "15:00"})):
            self.assertIn(r.status, (200, 404, 409), r.text)
        self.assertEqual(self.types(), ["hold.acquired"])

    def test_a_script_sent_again_after_a_lost_reply_writes_no_event(self):
        # What the store sends again when a reply is lost: the very same
        # EVALSHA, which recognises its own earlier run.
        lock_key = "booking_lock:{%s|specialist-1}:2025-03-10:14:00" % (
            self.tenant)
        got = {}

        def acquire():
            got["r"] = self.acquire(holderId="ann")
        port, args = self.script_sent(lock_key, acquire)
        lock = got["r"].json["lockId"]
        again = json.loads(self.stack.redis_node(port, *args))
        self.assertEqual(again["lockId"], lock)

        def book():
            got["b"] = self.book(lock)
        port, args = self.script_sent(lock_key, book)
        self.assertEqual(got["b"].status, 201, got["b"].text)
        again = json.loads(self.stack.redis_node(port, *args))
        self.assertIs(again["ok"], True, again)
        appt = got["b"].json["appointment"]["id"]

        lock = self.held(start="16:00")
        key = lock_key[:-5] + "16:00"

        def release():
            got["r"] = self.stack.request(
                "POST", "/api/locks/release", {"lockId": lock,
                "tenantId": self.tenant, "resourceId": "specialist-1",
                "date": "2025-03-10", "startTime": "16:00", "duration": 60})
        port, args = self.script_sent(key, release)
        self.assertEqual(got["r"].status, 200, got["r"].text)
        again = json.loads(self.stack.redis_node(port, *args))
        self.assertIs(again["ok"], True, again)
        self.assertEqual([(e["type"], e.get("appointmentId"))
                          for e in self.events()], [
            ("hold.acquired", None), ("booking.created", appt),
            ("hold.acquired", None), ("hold.released", None)])

    def test_a_request_run_twice_writes_one_event(self):
        # The same script run again, as the store does after a lost reply:
        # acquire with the same lockId, release with the same token, book
        # with the same appointment id, cancel twice.
        lock = self.held()
        self.assertEqual(self.acquire(holderId="bob").status, 409)
        rel = self.stack.request("POST", "/api/locks/release",
                                 {"lockId": lock})
        self.assertEqual(rel.status, 200)
        again = self.stack.request("POST", "/api/locks/release",
                                   {"lockId": lock})
        self.assertEqual(again.status, 404)
        lock = self.held()
        b = self.book(lock)
        self.assertEqual(b.status, 201)
        self.assertEqual(self.book(lock).status, 200)
        appt = b.json["appointment"]["id"]
        for _ in range(2):
            self.assertEqual(self.stack.request(
                "DELETE", "/api/appointments/" + appt,
                headers=ADMIN).status, 200)
        self.assertEqual(self.stack.request(
            "POST", "/api/locks/checkout", {"lockId": lock}).status, 404)
        self.assertEqual(self.types(), [
            "hold.acquired", "hold.released", "hold.acquired",
            "booking.created", "booking.cancelled"])


class ExpiryTest(EventsCase):
    """Holds live 4 s (2 s from a checkout) here: they run out on their
    own."""
    env = dict(EventsCase.env, LOCK_TTL="4000")

    def expired(self, resource="specialist-1"):
        return [e for e in self.events(resource)
                if e["type"] == "hold.expired"]

    def test_a_hold_that_runs_out_is_reported_once_with_its_data(self):
        r = self.acquire(holderId="ann")
        self.assertEqual(r.status, 200, r.text)
        lock = r.json["lockId"]
        got = self.wait_for(self.expired, "hold.expired")
        self.assertEqual(len(got), 1, got)
        e = got[0]
        self.assertEqual((e["lockId"], e["holderId"], e["state"], e["fence"],
                          e["startTime"], e["duration"]),
                         (lock, "ann", "held", r.json["fence"], "14:00", 60))
        # Reported after its end (Redis's clock), by the sweeper.
        self.assertGreaterEqual(iso_ms(e["createdAt"]), r.json["expiresAt"])
        # An acquire and a metrics call afterwards report it no second time.
        self.assertEqual(self.acquire(start="16:00").status, 200)
        self.assertEqual(self.stack.request(
            "GET", "/api/locks/metrics", headers=ADMIN).status, 200)
        time.sleep(1.2)
        self.assertEqual(len(self.expired()), 1)
        self.assertEqual(self.stack.redis(
            "HGET", self.holds_key(), lock), None)

    def holds_key(self):
        return ("booking_holds:{%s|specialist-1}" % self.tenant
                if self.stack.cluster else "slotlock:holds")

    def test_expired_after_checkout_says_checkout(self):
        lock = self.held(start="09:00")
        self.assertEqual(self.stack.request(
            "POST", "/api/locks/checkout", {"lockId": lock}).status, 200)
        got = self.wait_for(self.expired, "hold.expired")
        self.assertEqual([(e["lockId"], e["state"]) for e in got],
                         [(lock, "checkout")])

    def test_released_and_booked_holds_never_expire(self):
        released = self.held(start="09:00")
        booked = self.held(start="10:00")
        self.assertEqual(self.stack.request(
            "POST", "/api/locks/release", {"lockId": released}).status, 200)
        self.assertEqual(self.book(booked, start="10:00").status, 201)
        ran_out = self.held(start="11:00")
        self.wait_for(self.expired, "hold.expired")
        time.sleep(1.2)
        self.assertEqual([e["lockId"] for e in self.expired()], [ran_out])

    def test_expired_counted_once_in_the_metrics(self):
        # A stack of its own: the counters are the whole deployment's.
        from harness import Stack
        stack = Stack(env=self.env)
        self.addCleanup(stack.stop)
        self.stack, saved = stack, self.stack
        self.addCleanup(setattr, self, "stack", saved)
        locks = [self.held(start="%02d:00" % h) for h in range(8, 13)]
        got = self.wait_for(lambda: len(self.expired()) == 5 and
                            self.expired(), "five hold.expired")
        self.assertEqual(sorted(e["lockId"] for e in got), sorted(locks))
        m = stack.request("GET", "/api/locks/metrics",
                          headers=ADMIN).json["metrics"]
        self.assertEqual((m["locksExpired"], m["activeLocks"]), (5, 0))


class TwoInstancesExpiryTest(EventsCase):
    """Two app instances, so two sweepers, on the same Redis."""

    @classmethod
    def setUpClass(cls):
        from harness import Stack
        cls.stack = Stack(env=cls.env, instances=2)

    def test_each_hold_is_reported_once(self):
        locks = [self.held(start="%02d:00" % h, specialist="r%d" % (h % 2))
                 for h in range(8, 18)]
        def all_expired():
            got = [e for r in ("r0", "r1") for e in self.events(r)
                   if e["type"] == "hold.expired"]
            return len(got) >= len(locks) and got
        self.wait_for(all_expired, "every hold.expired")
        time.sleep(1.2)
        got = [e["lockId"] for r in ("r0", "r1") for e in self.events(r)
               if e["type"] == "hold.expired"]
        self.assertEqual(sorted(got), sorted(locks))


class PullApiTest(EventsCase):
    env = dict(EventsCase.env, JWT_SECRET=jt.SECRET, LOCK_TTL="60000")

    def page(self, after=None, limit=None, headers=ADMIN, tenant=None):
        q = "tenantId=" + (tenant or self.tenant)
        if after is not None:
            q += "&after=" + after
        if limit is not None:
            q += "&limit=%d" % limit
        return self.stack.request("GET", "/api/events?" + q, headers=headers)

    def everything(self, limit, **kw):
        """Every event through pages of limit, until a page is empty."""
        got, after = [], None
        while True:
            r = self.page(after, limit, **kw)
            self.assertEqual(r.status, 200, r.text)
            self.assertEqual(r.json["count"], len(r.json["events"]))
            self.assertLessEqual(r.json["count"], limit)
            if not r.json["events"]:
                return got, r.json["next"]
            got += r.json["events"]
            after = r.json["next"]

    def make_changes(self):
        for i in range(4):
            for res in ("r-a", "r-b", "r-c"):
                lock = self.held(start="%02d:00" % (8 + i), specialist=res)
                if i % 2:
                    self.stack.request("POST", "/api/locks/release",
                                       {"lockId": lock})

    def test_pages_never_skip_or_repeat_an_event(self):
        self.make_changes()
        stored = {res: [e["id"] for e in self.events(res)]
                  for res in ("r-a", "r-b", "r-c")}
        total = sum(len(ids) for ids in stored.values())
        self.assertEqual(total, 18)
        for limit in (1, 4, 7, 1000):
            got, _ = self.everything(limit)
            ids = [e["id"] for e in got]
            self.assertEqual(len(ids), len(set(ids)), limit)
            self.assertEqual(sorted(ids),
                             sorted(i for v in stored.values() for i in v))
            # Each resource's in stream order; all by createdAt.
            for res, want in stored.items():
                self.assertEqual([e["id"] for e in got
                                  if e["resourceId"] == res], want)
            times = [e["createdAt"] for e in got]
            self.assertEqual(times, sorted(times))
        # Events made after the last page come on the next one.
        got, after = self.everything(5)
        self.held(start="20:00", specialist="r-b")
        self.held(start="20:00", specialist="r-0")
        new = self.wait_for(lambda: self.page(after).json["events"],
                            "the new events")
        self.assertEqual(sorted(e["resourceId"] for e in new),
                         ["r-0", "r-b"])
        # Another tenant's events are not in the page.
        other = self.tenant + "-x"
        self.stack.request("POST", "/api/locks/acquire", {
            "tenantId": other, "resourceId": "r-a", "date": "2025-03-10",
            "startTime": "09:00", "duration": 60})
        got, _ = self.everything(1000)
        self.assertEqual({e["tenantId"] for e in got}, {self.tenant})

    def test_a_tenant_without_events_and_the_default_limit(self):
        r = self.page()
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual((r.json["events"], r.json["next"]), ([], None))
        for i in range(105):
            self.held(start="%02d:%02d" % (8 + i // 12, i % 12 * 5),
                      duration=5)
        r = self.page()
        self.assertEqual(r.json["count"], 100)
        rest = self.page(r.json["next"])
        self.assertEqual(rest.json["count"], 5)
        self.assertEqual(self.page(rest.json["next"]).json["next"],
                         rest.json["next"])

    def test_who_may_read_the_events(self):
        self.held()
        token = jt.bearer(jt.hs256(jt.claims(self.tenant, "admin")))
        self.assertEqual(self.page(headers=token).json["count"], 1)
        staff = jt.bearer(jt.hs256(jt.claims(self.tenant, "staff")))
        self.assertReason(self.page(headers=staff), 403, "forbidden")
        other = jt.bearer(jt.hs256(jt.claims("someone-else", "admin")))
        self.assertReason(self.page(headers=other), 403, "forbidden_tenant")
        self.assertReason(self.page(headers={}), 401, "unauthorized")
        self.assertReason(self.page(headers={
            "Authorization": "Bearer wrong"}), 401, "unauthorized")

    def test_bad_parameters_are_400_with_a_reason(self):
        for query, field in (
                ("", "tenantId"), ("tenantId=a%20b", "tenantId"),
                ("tenantId=t&limit=0", "limit"),
                ("tenantId=t&limit=1001", "limit"),
                ("tenantId=t&limit=ten", "limit"),
                ("tenantId=t&after=", "after"),
                ("tenantId=t&after=12", "after"),
                ("tenantId=t&after=12-0", "after"),
                ("tenantId=t&after=12-x~r", "after"),
                ("tenantId=t&after=-0~r", "after"),
                ("tenantId=t&after=1-0~", "after"),
                ("tenantId=t&after=1-0~a*b", "after")):
            r = self.stack.request("GET", "/api/events?" + query,
                                   headers=ADMIN)
            self.assertReason(r, 400, "validation_error")
            self.assertIn(field, [e["field"] for e in r.json["errors"]],
                          query)
        r = self.stack.request("POST", "/api/events?tenantId=t",
                               headers=ADMIN)
        self.assertEqual(r.status, 405, r.text)


class CapTest(EventsCase):
    env = dict(EventsCase.env, LOCK_TTL="60000", EVENTS_MAXLEN="10")

    def test_the_stream_is_capped_at_about_events_maxlen(self):
        lock = self.held(holderId="ann")
        for _ in range(400):
            self.assertEqual(self.stack.request(
                "POST", "/api/locks/refresh", {"lockId": lock}).status, 200)
        n = self.stack.redis("XLEN", self.stream())
        # MAXLEN ~ trims whole nodes of the stream (100 entries each).
        self.assertGreaterEqual(n, 10)
        self.assertLess(n, 250)
        last = self.events()[-1]
        self.assertEqual(last["type"], "hold.refreshed")


if __name__ == "__main__":
    unittest.main()
