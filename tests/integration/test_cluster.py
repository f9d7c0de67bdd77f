"""slotlock on a Redis Cluster of three primaries, whatever
SLOTLOCK_TEST_REDIS says: the keyslot fixture of the unit tests agrees with
Redis; slots resharded (redis-cli --cluster reshard, and one hot slot
migrated by hand) while bookings run cause no 5xx, no failed and no double
booking, and the app's redirect counters show it met the moves; a primary
whose slots all moved away, then removed from the cluster, leaves every
route working."""

import http.client
import os
import random
import re
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bookload import booked_intervals, overlaps  # noqa: E402
from harness import SRCDIR, Stack, keyslot  # noqa: E402

TOKEN = "cluster-admin-token"
ADMIN = {"Authorization": "Bearer " + TOKEN}
FIXTURE = os.path.join(SRCDIR, "tests", "unit", "keyslot_cases.txt")
DATES = ["2025-04-%02d" % d for d in range(1, 29)]


def report(text):
    sys.stderr.write("test_cluster: %s\n" % text)


def hhmm(m):
    return "%02d:%02d" % (m // 60, m % 60)


def booking(lock_id, tenant, resource, date, start, duration):
    s = int(start[:2]) * 60 + int(start[3:])
    return {"lockId": lock_id, "tenantId": tenant, "specialistId": resource,
            "serviceId": "cut", "date": date, "startTime": start,
            "endTime": hhmm(s + duration), "duration": duration,
            "customerName": "Cluster Load",
            "customerEmail": "load@example.com", "price": 10}


def node_ids(stack):
    return {port: stack.redis_node(port, "CLUSTER", "MYID")
            for port in stack.redis_ports}


def owned_slots(stack, port):
    return [s for first, last, owner in stack.cluster_slot_map()
            if owner == port for s in range(first, last + 1)]


def reshard(stack, source, target, count):
    """redis-cli --cluster reshard of count slots from the primary on port
    source to the one on port target (it takes source's lowest slots)."""
    ids = node_ids(stack)
    out = subprocess.run(
        ["redis-cli", "--cluster", "reshard", "127.0.0.1:%d" % source,
         "--cluster-from", ids[source], "--cluster-to", ids[target],
         "--cluster-slots", str(count), "--cluster-yes",
         "--cluster-pipeline", "5"],
        capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise AssertionError("redis-cli --cluster reshard failed:\n%s%s"
                             % (out.stdout[-3000:], out.stderr[-3000:]))
    stack.wait_cluster()


def migrate_by_hand(stack, slot, source, target, batch=10, pause=0.005):
    """Moves one slot as redis-cli does, batch keys a MIGRATE, with a
    short pause after each so that requests meet the slot half moved (ASK,
    TRYAGAIN). Returns (keys moved, seconds the slot was half moved).

    The pauses must keep the slot's move well under the app's
    REDIS_COMMAND_TIMEOUT: a request that meets TRYAGAIN for that long is a
    503 by design."""
    began = time.monotonic()
    ids = node_ids(stack)
    stack.redis_node(target, "CLUSTER", "SETSLOT", slot, "IMPORTING",
                     ids[source])
    stack.redis_node(source, "CLUSTER", "SETSLOT", slot, "MIGRATING",
                     ids[target])
    moved = 0
    while True:
        keys = stack.redis_node(source, "CLUSTER", "GETKEYSINSLOT", slot,
                                batch)
        if not keys:
            break
        stack.redis_node(source, "MIGRATE", "127.0.0.1", target, "", 0,
                         5000, "KEYS", *keys)
        moved += len(keys)
        time.sleep(pause)
    for port in [target, source] + [p for p in stack.redis_ports
                                    if p not in (source, target)]:
        stack.redis_node(port, "CLUSTER", "SETSLOT", slot, "NODE",
                         ids[target])
    took = time.monotonic() - began
    stack.wait_cluster()
    return moved, took


def redirects(stack):
    """The app's slotlock_redis_redirects_total, by kind."""
    r = stack.request("GET", "/api/locks/metrics?format=prometheus",
                      headers=ADMIN)
    if r.status != 200:
        raise AssertionError("metrics: %r" % r)
    found = {}
    for kind, value in re.findall(
            r'^slotlock_redis_redirects_total\{kind="(\w+)"\} (\d+)$',
            r.text, re.M):
        found[kind] = int(value)
    return found


class KeyslotFixtureTest(unittest.TestCase):
    def test_fixture_matches_cluster_keyslot_of_the_test_cluster(self):
        stack = Stack(cluster=True)
        self.addCleanup(stack.stop)
        with open(FIXTURE, "rb") as f:
            lines = f.read().split(b"\n")
        self.assertEqual(lines[-1], b"", "the fixture ends with a newline")
        cases = [line.split(b" ", 1) for line in lines[:-1]]
        self.assertGreaterEqual(len(cases), 300)
        wrong = []
        for slot, key in cases:
            asked = stack.redis_node(stack.redis_ports[len(wrong) % 3],
                                     "CLUSTER", "KEYSLOT", key)
            if asked != int(slot) or keyslot(key) != asked:
                wrong.append((key, int(slot), asked, keyslot(key)))
        self.assertEqual(wrong, [], "(key, fixture, CLUSTER KEYSLOT, "
                         "harness) that disagree")
        report("keyslot fixture: %d keys agree with CLUSTER KEYSLOT"
               % len(cases))


class ReshardUnderLoadTest(unittest.TestCase):
    THREADS = 8

    def test_reshard_while_booking_loses_and_doubles_nothing(self):
        stack = Stack(cluster=True, env={"ADMIN_TOKEN": TOKEN,
                                         "WORKERS": "8"})
        self.addCleanup(stack.stop)
        a, b, c = stack.redis_ports
        bulk = 400
        # Hot tags: four in the slots redis-cli will move from a to b (its
        # lowest), two on c for the slot moved by hand, two that stay.
        moving = set(owned_slots(stack, a)[:bulk])
        hot = {"a": [], "c": [], "stay": []}
        for n in range(200000):
            tag = ("rs%d" % n, "r")
            slot = keyslot("{%s|%s}" % tag)
            owner = stack.redis_node_of("{%s|%s}" % tag)
            group = ("a" if slot in moving else "c" if owner == c
                     else "stay" if owner == b else None)
            if group and len(hot[group]) < {"a": 4, "c": 2, "stay": 2}[group]:
                hot[group].append(tag)
            if all(len(v) == {"a": 4, "c": 2, "stay": 2}[k]
                   for k, v in hot.items()):
                break
        tags = [t for v in hot.values() for t in v]
        by_hand = keyslot("{%s|%s}" % hot["c"][0])
        before = {t: stack.redis_node_of("{%s|%s}" % t) for t in tags}

        stop = threading.Event()
        lock = threading.Lock()
        seen = {"acquire": {}, "book": {}, "retry": {}}
        problems = []
        booked = {}     # appointment id -> (tenant, resource, date, start, d)

        def note(kind, status):
            with lock:
                seen[kind][status] = seen[kind].get(status, 0) + 1

        def post(path, body):
            try:
                return stack.request("POST", path, body, timeout=15)
            except (OSError, http.client.HTTPException) as e:
                return e

        def worker(w):
            rnd = random.Random(w)
            n = 0
            while not stop.is_set():
                n += 1
                tenant, resource = rnd.choice(tags)
                date = rnd.choice(DATES)
                duration = rnd.choice((30, 60, 90))
                start = hhmm(rnd.randrange(8 * 60, 17 * 60, 30))
                body = {"tenantId": tenant, "resourceId": resource,
                        "date": date, "startTime": start,
                        "duration": duration, "holderId": "w%d-%d" % (w, n)}
                r = post("/api/locks/acquire", body)
                status = getattr(r, "status", None)
                note("acquire", status)
                if status not in (200, 409):
                    with lock:
                        problems.append(("acquire", body, repr(r)))
                    continue
                if status != 200:
                    continue
                appt = booking(r.json["lockId"], tenant, resource, date,
                               start, duration)
                r = post("/api/appointments", appt)
                status = getattr(r, "status", None)
                note("book", status)
                if status != 201:
                    with lock:
                        problems.append(("book", appt, repr(r)))
                    continue
                appt_id = r.json["appointment"]["id"]
                with lock:
                    booked[appt_id] = (tenant, resource, date, start,
                                       duration)
                again = post("/api/appointments", appt)
                status = getattr(again, "status", None)
                note("retry", status)
                if status != 200 or again.json["appointment"]["id"] \
                        != appt_id:
                    with lock:
                        problems.append(("retry", appt, repr(again)))

        threads = [threading.Thread(target=worker, args=(w,), daemon=True)
                   for w in range(self.THREADS)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            began = time.monotonic()
            reshard(stack, a, b, bulk)
            time.sleep(0.5)
            hand_keys, hand_s = migrate_by_hand(stack, by_hand, c, a)
            time.sleep(0.5)
            # And back: b's lowest slots (the ones it got from a) to c.
            reshard(stack, b, c, bulk // 2)
            time.sleep(1.0)
            took = time.monotonic() - began
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        after = {t: stack.redis_node_of("{%s|%s}" % t) for t in tags}

        # The moves really moved hot keys.
        self.assertTrue(all(after[t] != before[t] for t in hot["a"]),
                        (before, after))
        self.assertEqual(after[hot["c"][0]], a)
        self.assertEqual(problems[:10], [], "%d problems; answers: %s; slot "
                         "%d (%d keys) half moved for %.2f s"
                         % (len(problems), seen, by_hand, hand_keys, hand_s))
        self.assertGreater(len(booked), 50, seen)

        # Nothing booked twice, nothing lost: the admin list, the day
        # indexes and our own 201s agree.
        listed = {}
        for tenant in sorted({t for t, _ in tags}):
            r = stack.request("GET", "/api/appointments?tenantId=" + tenant,
                              headers=ADMIN)
            self.assertEqual(r.status, 200, r.text)
            self.assertEqual(r.json["count"], len(r.json["appointments"]))
            for appt in r.json["appointments"]:
                self.assertNotIn(appt["id"], listed)
                listed[appt["id"]] = appt
        self.assertEqual(set(listed), set(booked))
        stored = {}
        for tenant in sorted({t for t, _ in tags}):
            intervals = booked_intervals(stack.redis, tenant)
            self.assertEqual(overlaps(intervals), [])
            for items in intervals.values():
                for _, _, appt_id in items:
                    self.assertNotIn(appt_id, stored)
                    stored[appt_id] = tenant
        self.assertEqual(set(stored), set(booked))
        days = {}
        for appt in listed.values():
            s = int(appt["startTime"][:2]) * 60 + int(appt["startTime"][3:])
            days.setdefault((appt["tenantId"], appt["specialistId"],
                             appt["date"]), []).append((s, appt["duration"]))
        for day in days.values():
            day.sort()
            for (s1, d1), (s2, _) in zip(day, day[1:]):
                self.assertLessEqual(s1 + d1, s2, "overlap in %r" % day)

        counts = redirects(stack)
        report("reshard under load: %d + %d slots by redis-cli and slot %d "
               "(%d keys, %.2f s half moved) by hand, in %.1f s with %d "
               "threads; answers: %s; "
               "%d bookings, none lost or doubled; redirects seen by the "
               "app: moved=%s ask=%s tryagain=%s"
               % (bulk, bulk // 2, by_hand, hand_keys, hand_s, took,
                  self.THREADS,
                  seen, len(booked), counts.get("moved"), counts.get("ask"),
                  counts.get("tryagain")))
        for kind in ("moved", "ask", "tryagain"):
            self.assertIn(kind, counts, "slotlock_redis_redirects_total"
                          "{kind=%r} missing from the metrics" % kind)
        self.assertGreater(counts["moved"] + counts["ask"], 0)


class EmptiedPrimaryTest(unittest.TestCase):
    def setUp(self):
        self.stack = Stack(cluster=True, env={"ADMIN_TOKEN": TOKEN})
        self.addCleanup(self.stack.stop)

    def tags_per_node(self):
        """A tenant whose {tenant|r} lands on each primary, by port."""
        found = {}
        for n in range(100000):
            port = self.stack.redis_node_of("{em%d|r}" % n)
            found.setdefault(port, "em%d" % n)
            if len(found) == len(self.stack.redis_ports):
                return found
        raise AssertionError("no tenant for every node")

    def check_every_route(self, tenant, old):
        """Every route answers for tenant; old (made before) is still
        found. Returns nothing; fails on the first wrong answer."""
        stack = self.stack

        def call(method, path, body=None, admin=False, expect=200):
            r = stack.request(method, path, body,
                              headers=ADMIN if admin else None)
            self.assertEqual(r.status, expect, "%s %s: %s" % (method, path,
                                                             r.text))
            return r

        call("GET", "/api/locks/health")
        slot = {"tenantId": tenant, "resourceId": "r", "date": "2025-05-01",
                "startTime": "09:00", "duration": 60}
        lock_id = call("POST", "/api/locks/acquire",
                       dict(slot, holderId="h")).json["lockId"]
        call("POST", "/api/locks/acquire", slot, expect=409)
        call("POST", "/api/locks/verify", dict(slot, lockId=lock_id))
        call("POST", "/api/locks/refresh", {"lockId": lock_id})
        call("GET", "/api/locks/" + lock_id)
        r = call("GET", "/api/locks/status?tenantId=%s&resourceId=r"
                 "&date=2025-05-01" % tenant)
        self.assertEqual(len(r.json["locked"]), 1, r.text)
        r = call("GET", "/api/locks/admin/active?tenantId=" + tenant,
                 admin=True)
        self.assertIn(lock_id, [x["lockId"] for x in r.json["locks"]])
        self.assertIn(old["lock"], [x["lockId"] for x in r.json["locks"]])
        call("POST", "/api/locks/release", {"lockId": lock_id})
        lock_id = call("POST", "/api/locks/acquire", slot).json["lockId"]
        call("DELETE", "/api/locks/" + lock_id)
        call("POST", "/api/locks/acquire", slot)
        call("POST", "/api/locks/admin/force-release",
             {k: slot[k] for k in ("tenantId", "resourceId", "date",
                                   "startTime")}, admin=True)
        lock_id = call("POST", "/api/locks/acquire", slot).json["lockId"]
        body = booking(lock_id, tenant, "r", slot["date"], "09:00", 60)
        appt = call("POST", "/api/appointments", body,
                    expect=201).json["appointment"]
        call("POST", "/api/appointments", body)
        r = call("GET", "/api/appointments?tenantId=" + tenant, admin=True)
        ids = [x["id"] for x in r.json["appointments"]]
        self.assertIn(appt["id"], ids)
        self.assertIn(old["appt"], ids)
        call("GET", "/api/appointments/" + old["appt"], admin=True)
        call("DELETE", "/api/appointments/" + appt["id"], admin=True)
        call("GET", "/api/locks/" + old["lock"])
        r = call("GET", "/api/locks/metrics", admin=True)
        self.assertIs(r.json["metrics"]["redisConnected"], True, r.text)
        call("GET", "/api/locks/metrics?format=prometheus", admin=True)

    def make_old(self, tenant):
        stack = self.stack
        r = stack.request("POST", "/api/locks/acquire", {
            "tenantId": tenant, "resourceId": "r", "date": "2025-05-02",
            "startTime": "10:00", "duration": 30})
        self.assertEqual(r.status, 200, r.text)
        held = r.json["lockId"]
        r = stack.request("POST", "/api/locks/acquire", {
            "tenantId": tenant, "resourceId": "r", "date": "2025-05-02",
            "startTime": "11:00", "duration": 30})
        r = stack.request("POST", "/api/appointments", booking(
            r.json["lockId"], tenant, "r", "2025-05-02", "11:00", 30))
        self.assertEqual(r.status, 201, r.text)
        return {"lock": held, "appt": r.json["appointment"]["id"]}

    def test_a_primary_emptied_then_removed_leaves_every_route_working(self):
        stack = self.stack
        tenants = self.tags_per_node()
        old = {port: self.make_old(t) for port, t in tenants.items()}
        victim, heir = stack.redis_ports[1], stack.redis_ports[0]

        emptied = len(owned_slots(stack, victim))
        reshard(stack, victim, heir, emptied)
        self.assertEqual(owned_slots(stack, victim), [])
        for port, tenant in tenants.items():
            with self.subTest(tenant=tenant, step="emptied"):
                self.check_every_route(tenant, old[port])

        # Then taken out of the cluster as an operator would (every node
        # forgets it, it is reset) and stopped. The app's seed list still
        # names it.
        victim_id = node_ids(stack)[victim]
        out = subprocess.run(
            ["redis-cli", "--cluster", "del-node",
             "127.0.0.1:%d" % heir, victim_id],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        stack.forget_redis_node(victim)
        stack.wait_cluster()
        self.assertTrue(all(victim_id not in stack.redis_node(
            port, "CLUSTER", "NODES") for port in stack.redis_ports))
        for port, tenant in tenants.items():
            with self.subTest(tenant=tenant, step="removed"):
                self.check_every_route(tenant, old[port])
        report("a primary emptied (%d slots moved by redis-cli), then "
               "removed with del-node: every route answered, twice, for "
               "tenants first on each of the three primaries" % emptied)


if __name__ == "__main__":
    unittest.main()
