"""The lock routes through nginx, against a real Redis: every route, every
reason, intervals, holders, max hold, and races."""

import itertools
import os
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack, concurrently  # noqa: E402

_tenants = itertools.count()


def slot(tenant, start="14:00", duration=60, resource="specialist-1",
         date="2025-03-10", **extra):
    body = {"tenantId": tenant, "resourceId": resource, "date": date,
            "startTime": start, "duration": duration}
    body.update(extra)
    return body


def lock_key(tenant, start="14:00", resource="specialist-1",
             date="2025-03-10"):
    return "booking_lock:{%s|%s}:%s:%s" % (tenant, resource, date, start)


class LockTestCase(unittest.TestCase):
    """One stack for the class; every test works in a tenant of its own."""
    env = {"LOCK_TTL": 120000, "LOCK_MAX_HOLD": 600000}

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(env=cls.env)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def setUp(self):
        self.tenant = "t%d-%s" % (next(_tenants), self.id().split(".")[-1][:30])

    def post(self, path, body, **kw):
        return self.stack.request("POST", path, body, **kw)

    def acquire(self, **kw):
        return self.post("/api/locks/acquire", slot(self.tenant, **kw))

    def assertReason(self, r, status, reason):
        self.assertEqual(r.status, status, r.text)
        self.assertIs(r.json["success"], False, r.text)
        self.assertEqual(r.json["reason"], reason, r.text)
        self.assertTrue(r.json["message"])

    def assertFieldErrors(self, r, fields):
        self.assertReason(r, 400, "validation_error")
        self.assertEqual(sorted(e["field"] for e in r.json["errors"]),
                         sorted(fields), r.text)


class AcquireTest(LockTestCase):
    def test_guide_acquire_then_conflict(self):
        r = self.acquire()
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.headers["Content-Type"],
                         "application/json; charset=utf-8")
        self.assertEqual(r.headers["Cache-Control"], "no-store")
        body = r.json
        self.assertIs(body["success"], True)
        self.assertIs(body["locked"], True)
        self.assertEqual(str(uuid.UUID(body["lockId"])), body["lockId"])
        self.assertEqual(uuid.UUID(body["lockId"]).version, 4)
        self.assertEqual(body["expiresIn"], 120000)
        self.assertEqual(body["expiresAt"], body["serverTime"] + 120000)
        self.assertEqual(body["refreshInterval"], 30000)
        # serverTime is Redis's clock.
        sec, usec = self.stack.redis("TIME")
        self.assertLess(abs(int(sec) * 1000 + int(usec) // 1000
                            - body["serverTime"]), 5000)

        again = self.acquire()
        self.assertReason(again, 409, "slot_locked")
        self.assertIs(again.json["locked"], False)
        self.assertEqual(again.json["message"],
                         "Slot is currently locked by another user")
        self.assertTrue(0 < again.json["remainingTTL"] <= 120000)

    def test_overlapping_intervals_conflict_and_adjacent_ones_do_not(self):
        self.assertEqual(self.acquire(start="14:00", duration=60).status, 200)
        for start, duration in (("14:30", 60), ("13:30", 60), ("14:15", 15),
                                ("13:00", 180), ("14:59", 1)):
            r = self.acquire(start=start, duration=duration)
            self.assertReason(r, 409, "slot_locked")
        for start, duration in (("15:00", 30), ("13:00", 60)):
            r = self.acquire(start=start, duration=duration)
            self.assertEqual(r.status, 200, "%s+%d: %s" % (start, duration,
                                                           r.text))
        # Other resources and dates are independent.
        self.assertEqual(self.acquire(resource="specialist-2").status, 200)
        self.assertEqual(self.acquire(date="2025-03-11").status, 200)

    def test_custom_ttl_sets_the_life_of_the_lock(self):
        r = self.acquire(ttl=5000)
        self.assertEqual(r.json["expiresIn"], 5000, r.text)
        pttl = self.stack.redis("PTTL", lock_key(self.tenant))
        self.assertTrue(4000 < pttl <= 5000, pttl)

    def test_lock_expires_by_its_ttl(self):
        self.assertEqual(self.acquire(ttl=1000).status, 200)
        time.sleep(1.2)
        self.assertEqual(self.acquire().status, 200)

    def test_same_holder_reacquire_returns_the_same_lock(self):
        first = self.acquire(holderId="cust-1", ttl=5000)
        self.assertEqual(first.status, 200, first.text)
        again = self.acquire(holderId="cust-1")
        self.assertEqual(again.status, 200, again.text)
        self.assertEqual(again.json["lockId"], first.json["lockId"])
        self.assertEqual(again.json["expiresIn"], 120000)
        self.assertGreater(self.stack.redis("PTTL", lock_key(self.tenant)),
                           100000)
        # Another holder, or the same holder with another duration: 409.
        self.assertReason(self.acquire(holderId="cust-2"), 409,
                          "slot_locked")
        self.assertReason(self.acquire(holderId="cust-1", duration=30), 409,
                          "slot_locked")
        self.assertReason(self.acquire(holderId="cust-1", start="14:30"),
                          409, "slot_locked")

    def test_holder_cap_counts_live_locks(self):
        starts = ["09:00", "10:00", "11:00", "12:00", "13:00"]
        ids = []
        for s in starts:
            r = self.acquire(holderId="greedy", start=s)
            self.assertEqual(r.status, 200, r.text)
            ids.append(r.json["lockId"])
        r = self.acquire(holderId="greedy", start="15:00")
        self.assertReason(r, 429, "too_many_locks")
        self.assertIs(r.json["locked"], False)
        # Re-acquiring one it holds adds nothing and is fine at the cap.
        self.assertEqual(self.acquire(holderId="greedy",
                                      start="09:00").status, 200)
        # Another holder is not affected; releasing one frees a place.
        self.assertEqual(self.acquire(holderId="other",
                                      start="16:00").status, 200)
        self.assertEqual(self.post("/api/locks/release",
                                   {"lockId": ids[0]}).status, 200)
        self.assertEqual(self.acquire(holderId="greedy",
                                      start="15:00").status, 200)

    def test_hundred_concurrent_acquires_give_exactly_one_lock(self):
        calls = [("POST", "/api/locks/acquire",
                  slot(self.tenant, holderId="h%d" % i)) for i in range(100)]
        results = concurrently(self.stack, calls)
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses.count(200), 1, statuses)
        self.assertEqual(statuses.count(409), 99, statuses)
        self.assertTrue(all(r.json["reason"] == "slot_locked"
                            for r in results if r.status == 409))

    def test_concurrent_overlapping_acquires_never_overlap(self):
        starts = ["10:00", "10:15", "10:30", "10:45", "11:00", "11:15"]
        calls = [("POST", "/api/locks/acquire",
                  slot(self.tenant, start=s, duration=30))
                 for s in starts for _ in range(5)]
        results = concurrently(self.stack, calls)
        won = [(c[2]["startTime"], r.json["lockId"])
               for c, r in zip(calls, results) if r.status == 200]
        self.assertTrue(all(r.status in (200, 409) for r in results))
        minutes = sorted(int(s[:2]) * 60 + int(s[3:]) for s, _ in won)
        for a, b in zip(minutes, minutes[1:]):
            self.assertGreaterEqual(b - a, 30, won)
        # At least two win: 10:15 and 11:00 between them block all the rest.
        self.assertGreaterEqual(len(won), 2)

    def test_redis_cli_lines_of_the_guide_work_on_a_live_lock(self):
        lock_id = self.acquire().json["lockId"]
        key = lock_key(self.tenant)
        self.assertIn(lock_id, self.stack.redis("GET", key))
        ttl = self.stack.redis("TTL", key)
        self.assertTrue(110 <= ttl <= 120, ttl)
        self.assertIn(key, self.stack.redis("KEYS", "booking_lock:*"))
        self.assertEqual(self.stack.redis("DEL", key), 1)
        # DEL frees the slot at once.
        self.assertEqual(self.acquire().status, 200)


class ValidationTest(LockTestCase):
    def test_every_bad_field_is_listed(self):
        r = self.post("/api/locks/acquire",
                      {"tenantId": "a b", "resourceId": "x{y}",
                       "date": "2025-02-29", "startTime": "24:00",
                       "duration": 60.0, "holderId": "", "ttl": 999})
        self.assertFieldErrors(r, ["tenantId", "resourceId", "date",
                                   "startTime", "duration", "holderId",
                                   "ttl"])

    def test_missing_fields_are_required(self):
        r = self.post("/api/locks/acquire", {})
        self.assertFieldErrors(r, ["tenantId", "resourceId", "date",
                                   "startTime", "duration"])

    def test_field_rules(self):
        ok = dict(tenantId="t", resourceId="r", date="2028-02-29",
                  startTime="23:00", duration=60)
        self.assertEqual(self.post("/api/locks/acquire", dict(
            ok, tenantId=self.tenant)).status, 200)
        bad = [("duration", "60"), ("duration", 0), ("duration", 1441),
               ("duration", 61), ("startTime", "9:00"),
               ("startTime", "12:60"), ("date", "2025-13-01"),
               ("date", "10/03/2025"), ("tenantId", "x" * 65),
               ("tenantId", "a|b"), ("tenantId", "a:b"), ("tenantId", "a*"),
               ("tenantId", 5), ("ttl", 1.5), ("ttl", 600001)]
        for field, value in bad:
            r = self.post("/api/locks/acquire", dict(ok, **{field: value}))
            self.assertFieldErrors(r, [field])

    def test_bad_requests_change_nothing(self):
        before = self.stack.redis("DBSIZE")
        self.post("/api/locks/acquire", {"tenantId": "x"})
        self.post("/api/locks/acquire", "not json")
        self.assertEqual(self.stack.redis("DBSIZE"), before)

    def test_body_errors(self):
        r = self.post("/api/locks/acquire", "{not json",
                      headers={"Content-Type": "application/json"})
        self.assertReason(r, 400, "invalid_json")
        r = self.post("/api/locks/acquire", "[1,2]",
                      headers={"Content-Type": "application/json"})
        self.assertReason(r, 400, "invalid_json")
        r = self.post("/api/locks/acquire", "",
                      headers={"Content-Type": "application/json"})
        self.assertReason(r, 400, "invalid_json")
        r = self.post("/api/locks/acquire", "tenantId=x",
                      headers={"Content-Type":
                               "application/x-www-form-urlencoded"})
        self.assertReason(r, 415, "unsupported_media_type")
        self.assertIn("Content-Type: application/json", r.json["message"])
        r = self.post("/api/locks/acquire", "x" * 20000,
                      headers={"Content-Type": "application/json"})
        self.assertReason(r, 413, "payload_too_large")

    def test_text_plain_and_no_content_type_are_json_too(self):
        import json
        body = json.dumps(slot(self.tenant))
        r = self.post("/api/locks/acquire", body,
                      headers={"Content-Type": "text/plain;charset=UTF-8"})
        self.assertEqual(r.status, 200, r.text)
        r = self.post("/api/locks/acquire",
                      json.dumps(slot(self.tenant, start="16:00")),
                      headers={})
        self.assertEqual(r.status, 200, r.text)

    def test_unknown_fields_are_ignored(self):
        r = self.acquire(color="blue")
        self.assertEqual(r.status, 200, r.text)

    def test_unknown_path_and_wrong_method(self):
        r = self.stack.request("GET", "/api/locks/nope/deeper")
        self.assertReason(r, 404, "not_found")
        r = self.stack.request("GET", "/api/locks/acquire")
        self.assertReason(r, 405, "method_not_allowed")
        self.assertEqual(r.headers["Allow"], "POST")
        r = self.stack.request("POST", "/api/locks/health", {})
        self.assertReason(r, 405, "method_not_allowed")
        self.assertEqual(r.headers["Allow"], "GET")
        r = self.stack.request("GET", "/api/locks/not-a-uuid")
        self.assertFieldErrors(r, ["lockId"])
        r = self.stack.request("DELETE", "/api/locks/ABC")
        self.assertFieldErrors(r, ["lockId"])


class LockIdRoutesTest(LockTestCase):
    def held(self, **kw):
        r = self.acquire(**kw)
        self.assertEqual(r.status, 200, r.text)
        return r.json["lockId"]

    def test_verify(self):
        lock_id = self.held()
        before = self.stack.redis("PTTL", lock_key(self.tenant))
        r = self.post("/api/locks/verify", slot(self.tenant, lockId=lock_id))
        self.assertEqual(r.status, 200, r.text)
        self.assertIs(r.json["valid"], True)
        self.assertTrue(0 < r.json["remainingTTL"] <= before)
        # Verify never extends the lock.
        self.assertLessEqual(self.stack.redis("PTTL", lock_key(self.tenant)),
                             before)

        wrong_duration = self.post("/api/locks/verify",
                                   slot(self.tenant, lockId=lock_id,
                                        duration=30))
        self.assertReason(wrong_duration, 409, "lock_mismatch")
        self.assertIs(wrong_duration.json["valid"], False)
        other_slot = self.post("/api/locks/verify",
                               slot(self.tenant, start="15:00",
                                    lockId=lock_id))
        self.assertReason(other_slot, 409, "lock_mismatch")
        unknown = self.post("/api/locks/verify",
                            slot(self.tenant, lockId=str(uuid.uuid4())))
        self.assertReason(unknown, 409, "lock_not_found")
        self.assertIs(unknown.json["valid"], False)
        # Slot fields are required.
        r = self.post("/api/locks/verify", {"lockId": lock_id})
        self.assertFieldErrors(r, ["tenantId", "resourceId", "date",
                                   "startTime"])

    def test_refresh_resets_the_ttl(self):
        lock_id = self.held(ttl=5000)
        r = self.post("/api/locks/refresh", {"lockId": lock_id})
        self.assertEqual(r.status, 200, r.text)
        for k in ("success", "refreshed", "locked"):
            self.assertIs(r.json[k], True)
        self.assertEqual(r.json["lockId"], lock_id)
        self.assertEqual(r.json["expiresIn"], 120000)
        self.assertEqual(r.json["refreshInterval"], 30000)
        self.assertGreater(self.stack.redis("PTTL", lock_key(self.tenant)),
                           110000)
        r = self.post("/api/locks/refresh",
                      slot(self.tenant, lockId=lock_id, ttl=3000))
        self.assertEqual(r.json["expiresIn"], 3000, r.text)

    def test_refresh_with_mismatching_fields_changes_nothing(self):
        lock_id = self.held(ttl=5000)
        r = self.post("/api/locks/refresh",
                      slot(self.tenant, start="15:00", lockId=lock_id))
        self.assertReason(r, 404, "lock_not_found")
        r = self.post("/api/locks/refresh",
                      {"lockId": lock_id, "tenantId": "someone-else"})
        self.assertReason(r, 404, "lock_not_found")
        self.assertLessEqual(self.stack.redis("PTTL", lock_key(self.tenant)),
                             5000)
        r = self.post("/api/locks/refresh", {"lockId": str(uuid.uuid4())})
        self.assertReason(r, 404, "lock_not_found")

    def test_release_and_delete(self):
        lock_id = self.held()
        r = self.post("/api/locks/release",
                      {"lockId": lock_id, "tenantId": "another"})
        self.assertReason(r, 404, "lock_not_found")
        self.assertIs(r.json["released"], False)
        self.assertEqual(self.stack.redis("EXISTS", lock_key(self.tenant)), 1)

        r = self.post("/api/locks/release", slot(self.tenant,
                                                 lockId=lock_id))
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json, {"success": True, "released": True})
        self.assertEqual(self.stack.redis("EXISTS", lock_key(self.tenant)), 0)
        r = self.post("/api/locks/release", {"lockId": lock_id})
        self.assertReason(r, 404, "lock_not_found")
        self.assertIs(r.json["released"], False)

        lock_id = self.held()
        r = self.stack.request("DELETE", "/api/locks/" + lock_id)
        self.assertEqual(r.status, 200, r.text)
        self.assertIs(r.json["released"], True)
        r = self.stack.request("DELETE", "/api/locks/" + lock_id)
        self.assertReason(r, 404, "lock_not_found")
        self.assertIs(r.json["released"], False)

    def test_get_lock_by_id(self):
        lock_id = self.held(duration=45)
        r = self.stack.request("GET", "/api/locks/" + lock_id)
        self.assertEqual(r.status, 200, r.text)
        b = r.json
        self.assertEqual((b["lockId"], b["tenantId"], b["resourceId"],
                          b["date"], b["startTime"], b["duration"]),
                         (lock_id, self.tenant, "specialist-1", "2025-03-10",
                          "14:00", 45))
        self.assertTrue(0 < b["expiresIn"] <= 120000)
        self.assertEqual(b["expiresAt"], b["serverTime"] + b["expiresIn"])
        self.assertNotIn("holderId", b)
        r = self.stack.request("GET", "/api/locks/" + str(uuid.uuid4()))
        self.assertReason(r, 404, "lock_not_found")

    def test_expired_holder_cannot_touch_the_next_holders_lock(self):
        old = self.held(ttl=1000)
        time.sleep(1.2)
        new = self.held()
        self.assertNotEqual(old, new)
        for path, body in (("/api/locks/release", {"lockId": old}),
                           ("/api/locks/release",
                            slot(self.tenant, lockId=old)),
                           ("/api/locks/refresh", {"lockId": old}),
                           ("/api/locks/refresh",
                            slot(self.tenant, lockId=old))):
            self.assertReason(self.post(path, body), 404, "lock_not_found")
        self.assertReason(self.stack.request("DELETE", "/api/locks/" + old),
                          404, "lock_not_found")
        self.assertIn(new, self.stack.redis("GET", lock_key(self.tenant)))


class MaxHoldTest(LockTestCase):
    env = {"LOCK_TTL": 2000, "LOCK_MAX_HOLD": 3000}

    def test_refresh_is_cut_at_max_hold_then_refused(self):
        r = self.acquire()
        lock_id = r.json["lockId"]
        acquired = r.json["serverTime"]
        time.sleep(1.5)
        r = self.post("/api/locks/refresh", {"lockId": lock_id})
        self.assertEqual(r.status, 200, r.text)
        # Cut to acquire + 3000, short of a full 2000.
        self.assertEqual(r.json["expiresAt"], acquired + 3000)
        self.assertLess(r.json["expiresIn"], 2000)
        r = self.post("/api/locks/refresh", {"lockId": lock_id})
        self.assertReason(r, 409, "max_hold_reached")
        # Re-acquire by the same holder does not restart the clock either.
        r = self.acquire(holderId="h", start="09:00")
        acquired = r.json["serverTime"]
        time.sleep(1.5)
        r = self.acquire(holderId="h", start="09:00")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json["expiresAt"], acquired + 3000)


class StatusTest(LockTestCase):
    def test_status_lists_held_intervals_without_lock_ids(self):
        self.acquire(start="15:00", duration=30)
        self.acquire(start="09:00", duration=60, holderId="secret-holder")
        r = self.stack.request(
            "GET", "/api/locks/status?tenantId=%s&resourceId=specialist-1"
            "&date=2025-03-10" % self.tenant)
        self.assertEqual(r.status, 200, r.text)
        b = r.json
        self.assertEqual((b["tenantId"], b["resourceId"], b["date"]),
                         (self.tenant, "specialist-1", "2025-03-10"))
        self.assertEqual([(l["startTime"], l["duration"]) for l in b["locked"]],
                         [("09:00", 60), ("15:00", 30)])
        self.assertTrue(all(0 < l["expiresIn"] <= 120000
                            for l in b["locked"]))
        self.assertEqual(b["booked"], [])
        self.assertNotIn("lockId", r.text)
        self.assertNotIn("secret-holder", r.text)

    def test_status_of_an_empty_day_has_empty_lists(self):
        r = self.stack.request(
            "GET", "/api/locks/status?tenantId=%s&resourceId=r&date="
            "2025-03-10" % self.tenant)
        self.assertEqual(r.json["locked"], [])
        self.assertEqual(r.json["booked"], [])

    def test_status_query_is_validated(self):
        r = self.stack.request("GET", "/api/locks/status?tenantId=a&date=x")
        self.assertFieldErrors(r, ["resourceId", "date"])
        r = self.stack.request("GET", "/api/locks/status?tenantId=a&tenantId"
                               "=b&resourceId=r&date=2025-03-10")
        self.assertFieldErrors(r, ["tenantId"])


class ScriptCacheTest(LockTestCase):
    def test_script_flush_between_requests_breaks_nothing(self):
        lock_id = self.acquire().json["lockId"]
        self.assertEqual(self.stack.redis("SCRIPT", "FLUSH"), "OK")
        r = self.post("/api/locks/verify", slot(self.tenant, lockId=lock_id))
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(self.stack.redis("SCRIPT", "FLUSH"), "OK")
        self.assertReason(self.acquire(), 409, "slot_locked")


class RedisOutageTest(unittest.TestCase):
    def test_redis_down_gives_503_and_recovers_without_restart(self):
        stack = Stack(env={"REDIS_COMMAND_TIMEOUT": 500})
        self.addCleanup(stack.stop)
        body = slot("outage")
        self.assertEqual(stack.request("POST", "/api/locks/acquire",
                                       body).status, 200)
        app_pid = stack.pid("app")
        stack.stop_redis()
        started = time.monotonic()
        r = stack.request("POST", "/api/locks/acquire",
                          slot("outage", start="16:00"))
        self.assertEqual(r.status, 503, r.text)
        self.assertEqual(r.json["reason"], "service_unavailable")
        self.assertEqual(r.headers["Retry-After"], "1")
        self.assertLess(time.monotonic() - started, 5)
        stack.start_redis()
        deadline = time.monotonic() + 10
        while True:
            r = stack.request("POST", "/api/locks/acquire",
                              slot("outage", start="17:00"))
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(stack.pid("app"), app_pid)


class HandEditTest(LockTestCase):
    """Keys an operator wrote or deleted with redis-cli: never a 5xx, and
    never a cap that counts holds that are gone. A value slotlock did not
    write is an opaque hold of its key's start time: it blocks that start,
    is listed by admin/active (holderId null) and force-release removes
    it."""
    env = dict(LockTestCase.env, ADMIN_TOKEN="t0ken")
    admin = {"Authorization": "Bearer t0ken"}

    def active(self):
        r = self.stack.request("GET", "/api/locks/admin/active?tenantId="
                               + self.tenant, headers=self.admin)
        self.assertEqual(r.status, 200, r.text)
        return r.json["locks"]

    def force_release(self, start="14:00"):
        return self.post("/api/locks/admin/force-release",
                         {"tenantId": self.tenant,
                          "resourceId": "specialist-1",
                          "date": "2025-03-10", "startTime": start},
                         headers=self.admin)

    def assertOpaqueHold(self, lock_id, duration):
        key = lock_key(self.tenant)
        self.assertReason(self.acquire(), 409, "slot_locked")
        r = self.stack.request("GET", "/api/locks/status?tenantId=%s&"
                               "resourceId=specialist-1&date=2025-03-10"
                               % self.tenant)
        self.assertEqual(r.status, 200, r.text)
        [held] = self.active()
        self.assertEqual((held["key"], held["lockId"], held["holderId"],
                          held["startTime"], held["duration"]),
                         (key, lock_id, None, "14:00", duration))
        self.assertTrue(0 < held["remainingTTL"] <= 60000, held)
        r = self.force_release()
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(self.stack.redis("EXISTS", key), 0)
        self.assertReason(self.force_release(), 404, "lock_not_found")
        self.assertEqual(self.acquire().status, 200)

    def test_a_hand_written_duration_is_an_opaque_hold(self):
        self.stack.redis("SET", lock_key(self.tenant), '{"duration":60}',
                         "PX", 60000)
        self.assertOpaqueHold(None, 60)

    def test_a_hand_written_lock_id_is_an_opaque_hold(self):
        lock_id = str(uuid.uuid4())
        self.stack.redis("SET", lock_key(self.tenant), lock_id, "PX", 60000)
        self.assertOpaqueHold(lock_id, 1)

    def test_other_hand_written_values_never_fail(self):
        for value in ("[1,2]", "42", '"x"', '{"lockId":7}', "{", ""):
            self.stack.redis("SET", lock_key(self.tenant), value, "PX", 60000)
            self.assertReason(self.acquire(), 409, "slot_locked")
            self.assertEqual(len(self.active()), 1, value)
            r = self.force_release()
            self.assertEqual(r.status, 200, (value, r.text))

    def test_a_lock_overwritten_by_hand_is_an_opaque_hold(self):
        r = self.acquire(holderId="ann")
        self.assertEqual(r.status, 200, r.text)
        self.stack.redis("SET", lock_key(self.tenant), "mine", "PX", 60000)
        self.assertReason(self.acquire(holderId="ann"), 409, "slot_locked")
        # Another start over the same interval: the index entry is gone.
        self.assertEqual(self.acquire(start="14:30", duration=15).status,
                         200)
        self.assertEqual(self.force_release().status, 200)
        r = self.post("/api/locks/verify", slot(self.tenant,
                                                lockId=r.json["lockId"]))
        self.assertReason(r, 409, "lock_not_found")

    def test_a_holders_locks_deleted_by_hand_free_their_places(self):
        starts = ["09:00", "10:00", "11:00", "12:00", "13:00"]
        for s in starts:
            self.assertEqual(self.acquire(holderId="h", start=s).status, 200)
        self.assertReason(self.acquire(holderId="h", start="15:00"), 429,
                          "too_many_locks")
        for s in starts:
            self.assertEqual(self.stack.redis("DEL", lock_key(self.tenant,
                                                              s)), 1)
        for s in ["15:00", "16:00", "17:00", "18:00", "19:00"]:
            r = self.acquire(holderId="h", start=s)
            self.assertEqual(r.status, 200, r.text)
        self.assertReason(self.acquire(holderId="h", start="20:00"), 429,
                          "too_many_locks")

if __name__ == "__main__":
    unittest.main()
