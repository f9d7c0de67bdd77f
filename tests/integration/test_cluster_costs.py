"""What each route costs against a Redis Cluster: the commands the app
sends per request, counted on every primary.

In a cluster a script may touch one hash slot only. The app makes lockIds
and appointment ids whose index keys fall in the specialist's slot, so the
script writes them as with one Redis; a holder's locks live on the tenant's
slot and are kept with a script of their own there, and the routes that
span a tenant ask every primary. This test pins those costs to
the table in the README ("Redis Cluster"): MONITOR on every primary shows
what the app sent (commands its scripts ran are marked "lua" and left out).

One worker, whose connection to every primary is open (a health check goes
to each) before the counting starts; the slot map does not move, so no
request sees a redirect."""

import itertools
import os
import re
import sys
import unittest
from collections import Counter

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import keyslot  # noqa: E402
from test_round_trips import Monitor, OneWorkerTest  # noqa: E402

REQUESTS = 4
ADMIN = {"Authorization": "Bearer t0ken"}
_slots = itertools.count()


class ClusterCostTest(OneWorkerTest):
    CLUSTER = True

    def slot(self, **extra):
        n = next(_slots)
        body = {"tenantId": "cc%d" % n, "resourceId": "r%d" % n,
                "date": "2025-03-10", "startTime": "14:00", "duration": 60}
        body.update(extra)
        return body

    def booking(self, slot, lock_id):
        return {"lockId": lock_id, "tenantId": slot["tenantId"],
                "specialistId": slot["resourceId"], "serviceId": "s1",
                "date": slot["date"], "startTime": slot["startTime"],
                "endTime": "15:00", "duration": 60, "customerName": "Ann",
                "customerEmail": "ann@example.com", "price": 10}

    def sent(self, requests, expected_status):
        """Sends each (method, path, body[, headers]) and checks its status;
        returns what the app sent to the cluster, as {command: count}."""
        monitors = [Monitor(port) for port in self.stack.redis_ports]
        try:
            for method, path, body, *headers in requests:
                r = self.stack.request(method, path, body,
                                       headers=headers[0] if headers
                                       else None)
                self.assertEqual(r.status, expected_status,
                                 "%s %s: %s" % (method, path, r.text))
        finally:
            names = Counter()
            for monitor in monitors:
                names.update(monitor.client_commands())
        return dict(names)

    def assertCost(self, requests, expected_status, **per_request):
        """Each request cost per_request (command -> count) and nothing
        else: no EVAL, no SCRIPT LOAD, no CLUSTER SLOTS, no ASKING."""
        got = self.sent(requests, expected_status)
        want = {name: n * len(requests) for name, n in per_request.items()
                if n}
        self.assertEqual(got, want)

    # ---- one slot -----------------------------------------------------

    def test_acquire_without_holder_is_one_script_call(self):
        self.assertCost([("POST", "/api/locks/acquire", self.slot())
                         for _ in range(REQUESTS)], 200, evalsha=1)

    def test_acquire_with_holder_reserves_a_place_first(self):
        self.assertCost([("POST", "/api/locks/acquire",
                          self.slot(holderId="h"))
                         for _ in range(REQUESTS)], 200, evalsha=2)

    def test_ids_are_made_for_their_specialists_slot(self):
        """lockIds and appointment ids are still UUIDs, with their index
        keys in the slot of the specialist's lock."""
        uuid_form = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                               r"[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        ids = set()
        for _ in range(20):
            slot = self.slot()
            lock_id = self.acquire(slot)
            r = self.stack.request("POST", "/api/appointments",
                                   self.booking(slot, lock_id))
            self.assertEqual(r.status, 201, r.text)
            appt_id = r.json["appointment"]["id"]
            lock_key = "booking_lock:{%s|%s}:%s:%s" % (
                slot["tenantId"], slot["resourceId"], slot["date"],
                slot["startTime"])
            for index in ("booking_lockid:" + lock_id,
                          "booking_apptid:" + appt_id):
                self.assertRegex(index.split(":", 1)[1], uuid_form)
                self.assertEqual(keyslot(index), keyslot(lock_key), index)
            self.assertEqual(self.stack.redis("GET",
                                              "booking_apptid:" + appt_id),
                             "booking_appt:{%s|%s}:%s:%s" % (
                                 slot["tenantId"], slot["resourceId"],
                                 slot["date"], appt_id))
            ids.update((lock_id, appt_id))
        self.assertEqual(len(ids), 40)

    def test_refused_acquire_gives_the_reserved_place_back(self):
        taken = []
        for _ in range(REQUESTS):
            slot = self.slot()
            self.acquire(slot)
            taken.append(dict(slot, holderId="other"))
        self.assertCost([("POST", "/api/locks/acquire", s) for s in taken],
                        409, evalsha=3)
        self.assertCost([("POST", "/api/locks/acquire",
                          dict(s, holderId=None)) for s in taken],
                        409, evalsha=1)

    def test_verify_is_one_script_call(self):
        slot = self.slot()
        body = dict(slot, lockId=self.acquire(slot))
        self.assertCost([("POST", "/api/locks/verify", body)] * REQUESTS,
                        200, evalsha=1)

    def test_refresh_reads_the_lockid_index_only_without_slot_fields(self):
        slot = self.slot()
        lock_id = self.acquire(slot)
        self.assertCost([("POST", "/api/locks/refresh",
                          dict(slot, lockId=lock_id))] * REQUESTS, 200,
                        evalsha=1)
        self.assertCost([("POST", "/api/locks/refresh",
                          {"lockId": lock_id})] * REQUESTS, 200,
                        get=1, evalsha=1)

    def test_a_holders_lock_moves_in_its_holder_index_too(self):
        slot = self.slot(holderId="h")
        lock_id = self.acquire(slot)
        self.assertCost([("POST", "/api/locks/refresh",
                          {"lockId": lock_id})] * REQUESTS, 200,
                        get=1, evalsha=2)
        self.assertCost([("DELETE", "/api/locks/" + lock_id, None)], 200,
                        get=1, evalsha=2)

    def test_release_and_lookup_by_lockid(self):
        ids = [self.acquire(self.slot()) for _ in range(REQUESTS)]
        self.assertCost([("GET", "/api/locks/" + i, None) for i in ids],
                        200, get=1, evalsha=1)
        self.assertCost([("POST", "/api/locks/release", {"lockId": i})
                         for i in ids], 200, get=1, evalsha=1)

    def test_status_is_one_script_call(self):
        slot = self.slot()
        self.acquire(slot)
        path = ("/api/locks/status?tenantId=%s&resourceId=%s&date=%s"
                % (slot["tenantId"], slot["resourceId"], slot["date"]))
        self.assertCost([("GET", path, None)] * REQUESTS, 200, evalsha=1)

    def test_booking_is_one_script_call(self):
        plain, held = [], []
        for _ in range(REQUESTS):
            slot = self.slot()
            plain.append(self.booking(slot, self.acquire(slot)))
            slot = self.slot(holderId="h")
            held.append(self.booking(slot, self.acquire(slot)))
        self.assertCost([("POST", "/api/appointments", b) for b in plain],
                        201, evalsha=1)
        # The consumed lock leaves its holder's set as well.
        self.assertCost([("POST", "/api/appointments", b) for b in held],
                        201, evalsha=2)
        self.assertCost([("POST", "/api/appointments", b) for b in plain],
                        200, evalsha=1)
        ids = [self.stack.request("POST", "/api/appointments",
                                  b).json["appointment"]["id"]
               for b in plain]
        self.assertCost([("GET", "/api/appointments/" + i, None, ADMIN)
                         for i in ids], 200, get=1, evalsha=1)
        self.assertCost([("DELETE", "/api/appointments/" + i, None, ADMIN)
                         for i in ids], 200, get=1, evalsha=1)

    # ---- every primary ------------------------------------------------

    def test_health_asks_every_primary(self):
        self.assertCost([("GET", "/api/locks/health", None)] * REQUESTS,
                        200, evalsha=len(self.stack.redis_ports))

    def test_tenant_wide_routes_scan_every_primary(self):
        """One SCAN per primary (the test's keys fit in a page), then one
        read per run of keys on one slot: here one per resource."""
        tenant = "wide%d" % next(_slots)
        for i in range(6):
            slot = dict(self.slot(), tenantId=tenant, resourceId="r%d" % i)
            self.stack.request("POST", "/api/appointments",
                               self.booking(slot, self.acquire(slot)))
            self.acquire(dict(slot, startTime="16:00"))
        primaries = len(self.stack.redis_ports)
        self.assertCost([("GET", "/api/locks/admin/active?tenantId=" + tenant,
                          None, ADMIN)], 200, scan=primaries, evalsha=6)
        self.assertCost([("GET", "/api/appointments?tenantId=" + tenant,
                          None, ADMIN)], 200, scan=primaries, evalsha=6)
        # Metrics add up the counters of every resource that has any.
        got = self.sent([("GET", "/api/locks/metrics", None, ADMIN)], 200)
        stats_keys = sum(len(self.stack.redis_node(
            port, "KEYS", "booking_stats:*"))
            for port in self.stack.redis_ports)
        self.assertEqual(got, {"scan": primaries, "evalsha": stats_keys})


if __name__ == "__main__":
    unittest.main()
