"""Webhooks: slotlock-events delivers every event of every resource's
stream to the deployment's endpoint (WEBHOOK_URL) and to the endpoints
registered through /api/webhooks, signed, in order per resource, again
after a refusal or a stall with the same id, and into the dead letters
once WEBHOOK_RETRY_FOR has passed. The endpoint is a real HTTP server
(webhook_receiver.py)."""

import itertools
import json
import os
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, Stack  # noqa: E402
import jwt_tokens as jt  # noqa: E402
from webhook_receiver import Receiver, signature_valid  # noqa: E402

TOKEN = "webhook-test-operator-token-0123456789"
SECRET = "deployment-secret-0123456789"
_tenants = itertools.count(1)


def new_tenant(prefix="wh"):
    return "%s-%d-%s" % (prefix, next(_tenants), uuid.uuid4().hex[:6])


def auth(token=TOKEN):
    return {"Authorization": "Bearer " + token}


def tenant_token(tenant, role="admin"):
    return jt.hs256(jt.claims(tenant, role))


def emit(stack, tenant, resource, kind="hold.acquired", **fields):
    """Writes one event into the resource's stream as the scripts do (one
    field, event, the compact JSON text); returns the event."""
    event = {"id": str(uuid.uuid4()), "type": kind,
             "createdAt": "2026-01-01T00:00:00.000Z", "tenantId": tenant,
             "resourceId": resource, "date": "2030-01-01",
             "startTime": "10:00", "duration": 30,
             "lockId": str(uuid.uuid4()), "state": "held", "fence": 1}
    event.update(fields)
    stack.redis("XADD", "booking_events:{%s|%s}" % (tenant, resource), "*",
                "event", json.dumps(event, separators=(",", ":")))
    return event


def wait_dispatcher(stack, timeout=60.0):
    """Waits until slotlock-events has looked at the streams once."""
    deadline = time.monotonic() + timeout
    while stack.redis("HGET", "slotlock:webhook_stats", "updated_ms") is None:
        if time.monotonic() > deadline:
            raise AssertionError("slotlock-events never reported\n"
                                 + stack.logs())
        time.sleep(0.05)


def prometheus(stack):
    r = stack.request("GET", "/api/locks/metrics",
                      headers=dict(auth(), Accept="text/plain"))
    assert r.status == 200, r.text
    values = {}
    for line in r.text.splitlines():
        if line.startswith("slotlock_webhook_"):
            name, value = line.split(" ", 1)
            values[name] = float(value)
    return values


class Plans:
    """A receiver's plan that each test changes: by event id, how many
    first attempts fail ("fail") or stall ("stall")."""

    def __init__(self):
        self.rules = {}     # event id -> (answer, how many attempts)

    def __call__(self, path, event, attempt):
        rule = self.rules.get((event or {}).get("id"))
        if rule and attempt <= rule[1]:
            return rule[0]
        return "ok"


class WebhookStackTest(unittest.TestCase):
    """A stack with slotlock-events (cls.stack) and the receiver the
    subclass's setUpClass made (cls.receiver); both stopped at the end."""

    @classmethod
    def start_stack(cls, **env):
        """Starts the stack with the operator token, JWT_SECRET and env;
        returns once its dispatcher has looked at the streams."""
        cls.stack = Stack(env=dict({"ADMIN_TOKEN": TOKEN,
                                    "JWT_SECRET": jt.SECRET}, **env),
                          events=True)
        wait_dispatcher(cls.stack)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.receiver.stop()


class DeliveryTest(WebhookStackTest):
    """The deployment's endpoint: every tenant's events."""

    @classmethod
    def setUpClass(cls):
        cls.plans = Plans()
        cls.receiver = Receiver({"/hook": SECRET}, plan=cls.plans)
        cls.start_stack(WEBHOOK_URL=cls.receiver.url("/hook"),
                        WEBHOOK_SECRET=SECRET, WEBHOOK_RETRY_FOR="600",
                        WEBHOOK_RETRY_MAX="2", WEBHOOK_TIMEOUT="1000")

    def delivered_ids(self, path="/hook"):
        return [d.event_id for d in self.receiver.accepted(path)]

    def wait_delivered(self, events, path="/hook"):
        ids = {e["id"] for e in events}
        self.receiver.wait_for(
            lambda: ids <= set(self.delivered_ids(path)),
            what="%d events at %s" % (len(ids), path))

    def test_every_event_arrives_signed_in_order_per_resource(self):
        tenant = new_tenant()
        written = {r: [] for r in ("room-a", "room-b", "room-c")}
        for i in range(8):
            for resource in written:
                written[resource].append(emit(self.stack, tenant, resource,
                                              fence=i + 1))
        everything = sum(written.values(), [])
        self.wait_delivered(everything)
        mine = [d for d in self.receiver.accepted("/hook")
                if d.event and d.event["tenantId"] == tenant]
        self.assertTrue(all(d.valid for d in mine))
        for d in mine:
            self.assertEqual(d.headers["Content-Type"], "application/json")
            self.assertEqual(d.event_id, d.event["id"])
        for resource, events in written.items():
            got = []
            for d in mine:
                if d.event["resourceId"] == resource \
                        and d.event_id not in got:
                    got.append(d.event_id)
            self.assertEqual(got, [e["id"] for e in events])
        # The body is the event exactly as written.
        self.assertEqual(mine[0].event, everything[0]
                         if mine[0].event_id == everything[0]["id"]
                         else mine[0].event)

    def test_changes_made_through_the_api_arrive_as_their_events(self):
        tenant = new_tenant()
        slot = {"tenantId": tenant, "resourceId": "room", "date": "2031-05-05",
                "startTime": "10:00", "duration": 30}
        r = self.stack.request("POST", "/api/locks/acquire", slot)
        self.assertEqual(r.status, 200, r.text)
        released = r.json["lockId"]
        r = self.stack.request("POST", "/api/locks/release",
                               {"lockId": released})
        self.assertEqual(r.status, 200, r.text)
        r = self.stack.request("POST", "/api/locks/acquire", slot)
        booked = r.json["lockId"]
        r = self.stack.request("POST", "/api/appointments", {
            "lockId": booked, "tenantId": tenant, "specialistId": "room",
            "serviceId": "s", "date": "2031-05-05", "startTime": "10:00",
            "endTime": "10:30", "customerName": "Ann Example",
            "customerEmail": "ann@example.com", "price": 10,
            "duration": 30})
        self.assertEqual(r.status, 201, r.text)
        appointment = r.json["appointment"]["id"]
        r = self.stack.request("DELETE", "/api/appointments/" + appointment,
                               headers=auth())
        self.assertEqual(r.status, 200, r.text)
        expected = [("hold.acquired", released), ("hold.released", released),
                    ("hold.acquired", booked), ("booking.created", booked),
                    ("booking.cancelled", booked)]

        def seen():
            got = []
            for d in self.receiver.accepted("/hook"):
                e = d.event or {}
                if e.get("tenantId") == tenant and \
                        (e["type"], e.get("lockId")) not in got:
                    got.append((e["type"], e.get("lockId")))
            return got
        self.receiver.wait_for(lambda: len(seen()) >= len(expected),
                               what="the five events")
        self.assertEqual(seen(), expected)
        for d in self.receiver.accepted("/hook"):
            if (d.event or {}).get("tenantId") == tenant:
                self.assertTrue(d.valid)
                self.assertNotIn("ann@example.com", d.body.decode())

    def test_a_hold_that_runs_out_is_delivered_as_hold_expired(self):
        tenant = new_tenant()
        r = self.stack.request("POST", "/api/locks/acquire", {
            "tenantId": tenant, "resourceId": "room", "date": "2031-05-06",
            "startTime": "10:00", "duration": 30, "ttl": 1000})
        self.assertEqual(r.status, 200, r.text)
        lock_id = r.json["lockId"]

        def types():
            return [d.event["type"] for d in self.receiver.accepted("/hook")
                    if d.event and d.event.get("lockId") == lock_id]
        self.receiver.wait_for(lambda: "hold.expired" in types(),
                               what="hold.expired")
        self.assertEqual(types(), ["hold.acquired", "hold.expired"])

    def test_a_refused_delivery_is_retried_with_the_same_id_and_body(self):
        tenant = new_tenant()
        first_id = str(uuid.uuid4())
        self.plans.rules[first_id] = ("fail", 3)
        first = emit(self.stack, tenant, "room", id=first_id)
        second = emit(self.stack, tenant, "room")
        self.wait_delivered([first, second])
        tries = [d for d in self.receiver.all("/hook")
                 if d.event_id == first["id"]]
        self.assertEqual([d.answer for d in tries],
                         ["fail", "fail", "fail", "ok"])
        self.assertEqual(len({d.body for d in tries}), 1)
        self.assertTrue(all(d.valid for d in tries))
        # The next event of the resource waited for the first one.
        order = [d.event_id for d in self.receiver.all("/hook")
                 if d.event_id in (first["id"], second["id"])]
        self.assertEqual(order[-1], second["id"])
        self.assertEqual(order.count(second["id"]), 1)
        self.assertGreaterEqual(
            prometheus(self.stack)["slotlock_webhook_failed_attempts_total"],
            3)

    def test_a_stalled_delivery_times_out_and_is_sent_again(self):
        tenant = new_tenant()
        event_id = str(uuid.uuid4())
        self.plans.rules[event_id] = ("stall", 1)
        event = emit(self.stack, tenant, "room", id=event_id)
        self.wait_delivered([event])
        tries = [d.answer for d in self.receiver.all("/hook")
                 if d.event_id == event["id"]]
        self.assertEqual(tries[0], "stall")
        self.assertEqual(tries[-1], "ok")

    def test_a_failing_resource_does_not_hold_up_another(self):
        tenant = new_tenant()
        stuck_id = str(uuid.uuid4())
        self.plans.rules[stuck_id] = ("fail", 10 ** 6)
        stuck = emit(self.stack, tenant, "stuck", id=stuck_id)
        others = [emit(self.stack, tenant, "free") for _ in range(5)]
        self.wait_delivered(others)
        self.assertNotIn(stuck["id"], self.delivered_ids())
        self.assertTrue(any(d.event_id == stuck["id"]
                            for d in self.receiver.all("/hook")))
        # The stuck event shows in the lag metrics while it is retried...
        self.receiver.wait_for(
            lambda: prometheus(self.stack)["slotlock_webhook_backlog_events"]
            >= 1 and prometheus(self.stack)[
                "slotlock_webhook_oldest_undelivered_seconds"] > 0,
            what="the backlog to show the stuck event")
        del self.plans.rules[stuck["id"]]
        self.wait_delivered([stuck])
        # ...and leaves them once delivered.
        self.receiver.wait_for(
            lambda: prometheus(self.stack)["slotlock_webhook_backlog_events"]
            == 0, what="the backlog to empty")

    def test_metrics_count_deliveries_and_backlog(self):
        before = prometheus(self.stack).get(
            "slotlock_webhook_deliveries_total", 0)
        tenant = new_tenant()
        events = [emit(self.stack, tenant, "room") for _ in range(3)]
        self.wait_delivered(events)
        self.receiver.wait_for(
            lambda: prometheus(self.stack).get(
                "slotlock_webhook_deliveries_total", 0) >= before + 3,
            what="the delivery counter")
        values = prometheus(self.stack)
        for name in ("slotlock_webhook_failed_attempts_total",
                     "slotlock_webhook_dead_letters_total",
                     "slotlock_webhook_backlog_events",
                     "slotlock_webhook_oldest_undelivered_seconds",
                     "slotlock_webhook_dispatcher_seen_seconds"):
            self.assertIn(name, values)
        self.assertGreater(values["slotlock_webhook_dispatcher_seen_seconds"],
                           0)

    def test_the_dispatcher_stops_cleanly_on_sigterm(self):
        self.stack.kill_events()
        self.assertEqual(self.stack.exit_status["events"], 0)
        tenant = new_tenant()
        event = emit(self.stack, tenant, "room")
        self.stack.start_events()
        self.wait_delivered([event])


    def test_the_documented_verification_example_accepts_a_delivery(self):
        with open(os.path.join(SRCDIR, "docs", "webhooks.md")) as f:
            doc = f.read()
        code = doc.split("```python\n", 1)[1].split("```", 1)[0]
        self.assertLessEqual(len(code.strip().splitlines()), 10)
        scope = {}
        exec(code, scope)
        tenant = new_tenant()
        event = emit(self.stack, tenant, "room")
        self.wait_delivered([event])
        d = [d for d in self.receiver.accepted("/hook")
             if d.event_id == event["id"]][0]
        self.assertTrue(scope["verify"](d.headers, d.body, SECRET))
        self.assertFalse(scope["verify"](d.headers, d.body + b" ", SECRET))
        self.assertFalse(scope["verify"](d.headers, d.body, SECRET + "x"))


class TenantEndpointTest(WebhookStackTest):
    """Endpoints registered through the API: a tenant's get only its
    tenant's events, from their registration on."""

    @classmethod
    def setUpClass(cls):
        cls.receiver = Receiver()
        cls.start_stack(WEBHOOK_RETRY_FOR="600", WEBHOOK_RETRY_MAX="2",
                        WEBHOOK_TIMEOUT="1000")

    def register(self, path, tenant=None, token=TOKEN, secret=None):
        body = {"url": self.receiver.url(path)}
        if tenant is not None:
            body["tenantId"] = tenant
        if secret is not None:
            body["secret"] = secret
        r = self.stack.request("POST", "/api/webhooks", body,
                               headers=auth(token))
        self.assertEqual(r.status, 201, r.text)
        self.receiver.secrets[path] = r.json["secret"]
        return r.json

    def test_a_tenant_endpoint_gets_its_tenant_events_only(self):
        mine, other = new_tenant(), new_tenant()
        old = emit(self.stack, mine, "room")
        time.sleep(0.01)
        hook = self.register("/t-only", token=tenant_token(mine))
        self.assertEqual(hook["webhook"]["tenantId"], mine)
        self.assertTrue(hook["secret"].startswith("whsec_"))
        wanted = [emit(self.stack, mine, "room"),
                  emit(self.stack, mine, "desk")]
        emit(self.stack, other, "room")
        ids = {e["id"] for e in wanted}
        self.receiver.wait_for(
            lambda: ids <= {d.event_id
                            for d in self.receiver.accepted("/t-only")},
            what="the tenant's events")
        got = self.receiver.accepted("/t-only")
        self.assertTrue(all(d.valid for d in got))
        self.assertTrue(all(d.event["tenantId"] == mine for d in got))
        # Registered after it: the older event is not sent.
        self.assertNotIn(old["id"], {d.event_id for d in got})

    def test_an_operator_endpoint_without_tenant_gets_every_tenant(self):
        a, b = new_tenant(), new_tenant()
        self.register("/all", secret="an-operator-chosen-secret")
        events = [emit(self.stack, a, "room"), emit(self.stack, b, "room")]
        ids = {e["id"] for e in events}
        self.receiver.wait_for(
            lambda: ids <= {d.event_id for d in self.receiver.accepted("/all")},
            what="both tenants' events")
        self.assertTrue(all(d.valid for d in self.receiver.accepted("/all")))

    def test_a_deleted_endpoint_gets_nothing_more(self):
        tenant = new_tenant()
        hook = self.register("/deleted", tenant=tenant)
        first = emit(self.stack, tenant, "room")
        self.receiver.wait_for(
            lambda: first["id"] in {d.event_id for d in
                                    self.receiver.accepted("/deleted")},
            what="the first event")
        r = self.stack.request("DELETE",
                               "/api/webhooks/" + hook["webhook"]["id"],
                               headers=auth())
        self.assertEqual(r.status, 200, r.text)
        # Once the dispatcher has seen the delete it removes the
        # endpoint's consumer group from the stream.
        stream = "booking_events:{%s|room}" % tenant
        group = "webhook:" + hook["webhook"]["id"]
        self.receiver.wait_for(
            lambda: group not in json.dumps(self.stack.redis(
                "XINFO", "GROUPS", stream)),
            what="the deleted endpoint's group to go")
        self.register("/marker", tenant=tenant)
        later = emit(self.stack, tenant, "room")
        self.receiver.wait_for(
            lambda: later["id"] in {d.event_id for d in
                                    self.receiver.accepted("/marker")},
            what="the marker's event")
        self.assertNotIn(later["id"], {d.event_id for d in
                                       self.receiver.all("/deleted")})

    # ---- the API ----------------------------------------------------------

    def test_list_shows_endpoints_without_their_secrets(self):
        tenant = new_tenant()
        hook = self.register("/listed", tenant=tenant)
        r = self.stack.request("GET", "/api/webhooks?tenantId=" + tenant,
                               headers=auth())
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json["count"], 1)
        self.assertEqual(r.json["webhooks"][0]["id"], hook["webhook"]["id"])
        self.assertNotIn("secret", r.json["webhooks"][0])
        self.assertNotIn(hook["secret"], r.text)
        # A tenant token lists its own tenant's, named or not.
        r = self.stack.request("GET", "/api/webhooks",
                               headers=auth(tenant_token(tenant)))
        self.assertEqual([w["id"] for w in r.json["webhooks"]],
                         [hook["webhook"]["id"]])

    def test_auth_is_needed_and_kept_to_the_tenant(self):
        tenant, other = new_tenant(), new_tenant()
        body = {"url": self.receiver.url("/x"), "tenantId": tenant}
        r = self.stack.request("POST", "/api/webhooks", body)
        self.assertEqual(r.status, 401)
        r = self.stack.request("POST", "/api/webhooks", body,
                               headers=auth("wrong-token"))
        self.assertEqual(r.status, 401)
        r = self.stack.request("POST", "/api/webhooks", body,
                               headers=auth(tenant_token(other)))
        self.assertEqual((r.status, r.json["reason"]),
                         (403, "forbidden_tenant"))
        r = self.stack.request("POST", "/api/webhooks", body,
                               headers=auth(tenant_token(tenant, "staff")))
        self.assertEqual((r.status, r.json["reason"]), (403, "forbidden"))
        r = self.stack.request("GET", "/api/webhooks?tenantId=" + tenant,
                               headers=auth(tenant_token(other)))
        self.assertEqual(r.status, 403)
        # Another tenant's endpoint cannot be deleted by a tenant token,
        # nor a deployment-wide one.
        hook = self.register("/guarded", tenant=tenant)
        wide = self.register("/wide")
        for hid in (hook["webhook"]["id"], wide["webhook"]["id"]):
            r = self.stack.request("DELETE", "/api/webhooks/" + hid,
                                   headers=auth(tenant_token(other)))
            self.assertEqual((r.status, r.json["reason"]),
                             (403, "forbidden_tenant"))
        r = self.stack.request("GET", "/api/webhooks/deadletters",
                               headers=auth(tenant_token(other, "staff")))
        self.assertEqual(r.status, 403)
        self.stack.request("DELETE", "/api/webhooks/" + wide["webhook"]["id"],
                           headers=auth())

    def test_bad_registrations_are_refused_with_reasons(self):
        cases = [
            ({}, "url"),
            ({"url": 7}, "url"),
            ({"url": "ftp://example.com/x"}, "url"),
            ({"url": "http://"}, "url"),
            ({"url": "http://user:pw@example.com/"}, "url"),
            ({"url": "http://example.com/a b"}, "url"),
            ({"url": "http://example.com:99999/"}, "url"),
            ({"url": "https://example.com/" + "a" * 2100}, "url"),
            ({"url": "https://example.com/", "secret": "short"}, "secret"),
            ({"url": "https://example.com/", "tenantId": "bad tenant"},
             "tenantId"),
        ]
        for body, field in cases:
            with self.subTest(body=str(body)[:60]):
                r = self.stack.request("POST", "/api/webhooks", body,
                                       headers=auth())
                self.assertEqual(r.status, 400, r.text)
                self.assertEqual(r.json["reason"], "validation_error")
                self.assertIn(field, [e["field"] for e in r.json["errors"]])
        r = self.stack.request("POST", "/api/webhooks", "{not json",
                               headers=dict(auth(), **{
                                   "Content-Type": "application/json"}))
        self.assertEqual(r.status, 400)
        for good in ("https://hooks.example.com/in?x=1",
                     "http://[::1]:8080/path", "HTTP://EXAMPLE.COM"):
            r = self.stack.request("POST", "/api/webhooks",
                                   {"url": good, "tenantId": new_tenant()},
                                   headers=auth())
            self.assertEqual(r.status, 201, good)

    def test_deleting_an_unknown_endpoint_is_404(self):
        for hid in ("wh_" + "0" * 32, "nothing", "wh_" + "z" * 32):
            r = self.stack.request("DELETE", "/api/webhooks/" + hid,
                                   headers=auth())
            self.assertEqual((r.status, r.json["reason"]),
                             (404, "not_found"))
        r = self.stack.request("GET", "/api/webhooks/" + "wh_" + "0" * 32,
                               headers=auth())
        self.assertEqual(r.status, 405)

    def test_deadletter_listing_checks_its_query(self):
        r = self.stack.request("GET", "/api/webhooks/deadletters?limit=0",
                               headers=auth())
        self.assertEqual(r.status, 400)
        r = self.stack.request("GET", "/api/webhooks/deadletters?limit=5",
                               headers=auth())
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["count"], len(r.json["deadLetters"]))


class DeadLetterTest(WebhookStackTest):
    """A short retry window (WEBHOOK_RETRY_FOR=3): an event refused past
    it goes to the dead letters, and the resource's next event follows."""

    @classmethod
    def setUpClass(cls):
        cls.refused = set()
        cls.receiver = Receiver({"/hook": SECRET},
                                plan=lambda p, e, a: "fail"
                                if (e or {}).get("id") in cls.refused
                                else "ok")
        cls.start_stack(WEBHOOK_URL=cls.receiver.url("/hook"),
                        WEBHOOK_SECRET=SECRET, WEBHOOK_RETRY_FOR="3",
                        WEBHOOK_TIMEOUT="1000")

    def test_an_event_refused_for_the_whole_window_is_dead_lettered(self):
        tenant = new_tenant()
        doomed_id = str(uuid.uuid4())
        self.refused.add(doomed_id)
        doomed = emit(self.stack, tenant, "room", id=doomed_id)
        after = emit(self.stack, tenant, "room")
        self.receiver.wait_for(
            lambda: after["id"] in {d.event_id
                                    for d in self.receiver.accepted()},
            what="the event after the dead letter")
        tries = [d for d in self.receiver.all() if d.event_id == doomed["id"]]
        # Tried (how often depends on how soon the dispatcher first saw
        # it), then given up.
        self.assertGreaterEqual(len(tries), 1)
        self.assertTrue(all(d.answer == "fail" for d in tries))
        r = self.stack.request(
            "GET", "/api/webhooks/deadletters?tenantId=" + tenant,
            headers=auth())
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json["count"], 1)
        letter = r.json["deadLetters"][0]
        self.assertEqual(letter["eventId"], doomed["id"])
        self.assertEqual(letter["endpointId"], "deployment")
        self.assertEqual(letter["event"], doomed)
        self.assertEqual(letter["attempts"], len(tries))
        self.assertEqual(letter["lastError"], "HTTP 500")
        # Its tenant sees it; another tenant does not.
        r = self.stack.request("GET", "/api/webhooks/deadletters",
                               headers=auth(tenant_token(tenant)))
        self.assertEqual([d["eventId"] for d in r.json["deadLetters"]],
                         [doomed["id"]])
        r = self.stack.request("GET", "/api/webhooks/deadletters",
                               headers=auth(tenant_token(new_tenant())))
        self.assertEqual(r.json["count"], 0)
        self.assertGreaterEqual(
            prometheus(self.stack)["slotlock_webhook_dead_letters_total"], 1)


class SignatureTest(unittest.TestCase):
    """The receiver's check itself refuses what it should (so that the
    tests above prove something)."""

    def test_a_wrong_secret_a_changed_body_or_an_old_stamp_fail(self):
        import hashlib
        import hmac
        body = b'{"id":"x"}'
        t = int(time.time())
        mac = hmac.new(b"k" * 16, b"%d." % t + body,
                       hashlib.sha256).hexdigest()
        header = "t=%d,v1=%s" % (t, mac)
        self.assertTrue(signature_valid(header, body, "k" * 16))
        self.assertFalse(signature_valid(header, body, "j" * 16))
        self.assertFalse(signature_valid(header, body + b" ", "k" * 16))
        self.assertFalse(signature_valid(header, body, "k" * 16,
                                         now=t + 3600))
        self.assertFalse(signature_valid(None, body, "k" * 16))


if __name__ == "__main__":
    unittest.main()
