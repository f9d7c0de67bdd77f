"""Nothing lost: bookings made under concurrent load survive a SIGKILL of
redis-server (appendonly yes, appendfsync always, restarted from the same
config and data folder) and a SIGKILL of the app; the app reconnects to a
restarted Redis by itself; clients that retry with the same lockId get the
booking that was made, never a second one."""

import collections
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SRCDIR, RedisError, Stack, _resp_encode,  # noqa: E402
                     _resp_read, _tail, free_port, read_redis_conf,
                     wait_until)

TOKEN = "durability-admin-token"
ADMIN = {"Authorization": "Bearer " + TOKEN}
THREADS = 6
ITERATIONS_MAX = 400        # per thread: the load is bounded in count...
RETRY_FOR = 15.0            # ...and each request's retries in time
TRANSIENT = (502, 503, 504)


def hhmm(m):
    return "%02d:%02d" % (m // 60, m % 60)


def redis_at(port, *args):
    """One command to the redis-server on port."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(_resp_encode(args))
        return _resp_read(s.makefile("rb"))


class Load:
    """THREADS clients doing acquire -> book until stopped. Even iterations
    take a slot of the client's own specialist (never contended), odd ones
    a 30-minute slot of one shared specialist on a 15-minute grid, so
    clients overlap and conflict. A 502/503/504 or a broken connection is
    retried with the same request (for a booking: the same lockId) until a
    definitive answer. Every fourth iteration only acquires, and keeps the
    lock."""

    def __init__(self, stack, tenant):
        self.stack = stack
        self.tenant = tenant
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = []             # (lockId, status, appointment)
        self.held = []              # lockIds acquired and kept
        self.transient = 0          # 502/503/504 and broken connections
        self.rejected = collections.Counter()
        self.errors = []
        self.threads = [threading.Thread(target=self._run, args=(i,))
                        for i in range(THREADS)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()

    def _retrying(self, method, path, body, headers=None):
        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                r = self.stack.request(method, path, body, headers=headers,
                                       timeout=5)
                if r.status not in TRANSIENT:
                    return r
                if r.json is None or r.json.get("success") is not False:
                    self.errors.append("non-JSON %d: %r" % (r.status, r.text))
            except (OSError, http.client.HTTPException):
                pass
            with self.lock:
                self.transient += 1
            if time.monotonic() > deadline:
                self.errors.append("%s %s: no answer in %.0f s"
                                   % (method, path, RETRY_FOR))
                return None
            time.sleep(0.05)

    def _run(self, i):
        rng = random.Random(i)
        holder = "holder-%d" % i
        for k in range(ITERATIONS_MAX):
            if self.stop.is_set():
                return
            time.sleep(0.01)    # a steady load, not one that ends at once
            if k % 2 == 0:
                specialist, duration = "own-%d" % i, 15
                start = (k // 2) * 15 % 1440
                date = "2025-03-%02d" % (10 + k // 192)
            else:
                specialist, duration = "shared", 30
                start = rng.randrange(0, 8) * 15
                date = "2025-04-%02d" % (1 + k % 28)
            slot = {"tenantId": self.tenant, "resourceId": specialist,
                    "date": date, "startTime": hhmm(start),
                    "duration": duration, "holderId": holder}
            r = self._retrying("POST", "/api/locks/acquire", slot)
            if r is None:
                continue
            if r.status != 200:
                with self.lock:
                    self.rejected[r.json and r.json.get("reason")] += 1
                if r.status >= 500:
                    self.errors.append("acquire: %r" % r)
                continue
            lock_id = r.json["lockId"]
            if k % 4 == 2:
                with self.lock:
                    self.held.append(lock_id)
                continue
            body = {"lockId": lock_id, "tenantId": self.tenant,
                    "specialistId": specialist, "serviceId": "s",
                    "date": date, "startTime": hhmm(start),
                    "endTime": hhmm(start + duration), "duration": duration,
                    "customerName": "Load %d/%d" % (i, k),
                    "customerEmail": "load@example.com", "price": 10}
            r = self._retrying("POST", "/api/appointments", body)
            if r is None:
                continue
            with self.lock:
                if r.status in (200, 201):
                    self.acked.append((lock_id, r.status,
                                       r.json["appointment"]))
                else:
                    self.rejected[r.json and r.json.get("reason")] += 1
                    if r.status >= 500:
                        self.errors.append("book: %r" % r)


class DurabilityCase(unittest.TestCase):
    env = {"ADMIN_TOKEN": TOKEN, "REDIS_COMMAND_TIMEOUT": "1000",
           "REDIS_CONNECT_TIMEOUT": "1000", "LOCK_MAX_PER_HOLDER": "1000"}

    def setUp(self):
        self.stack = Stack(env=self.env)
        self.addCleanup(self.stack.stop)
        self.tenant = "dur-" + self.id().split(".")[-1][5:30]

    def wait_healthy(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            r = self.stack.request("GET", "/api/locks/health", timeout=2)
            if r.status == 200:
                return
            self.assertLess(time.monotonic(), deadline,
                            "not healthy again: %r" % r)
            time.sleep(0.05)

    def check_nothing_lost(self, load, what):
        """Every acknowledged booking is stored, exactly once per lockId, no
        two overlap, and every lock left is whole."""
        stack, tenant = self.stack, self.tenant
        self.assertEqual(load.errors, [])
        self.assertGreater(len(load.acked), 0)

        by_lock = collections.defaultdict(set)
        for lock_id, _, appt in load.acked:
            by_lock[lock_id].add(appt["id"])
        for lock_id, ids in by_lock.items():
            self.assertEqual(len(ids), 1, "lockId %s booked as %s"
                             % (lock_id, ids))
        acked = {appt["id"]: appt for _, _, appt in load.acked}

        r = stack.request("GET", "/api/appointments?tenantId=" + tenant,
                          headers=ADMIN)
        self.assertEqual(r.status, 200, r.text)
        stored = {a["id"]: a for a in r.json["appointments"]}
        # Nothing acknowledged is missing, nothing is stored twice, and
        # nothing is stored that its client was not told about (every
        # client retried until it got an answer).
        self.assertEqual(set(stored), set(acked))
        self.assertEqual(len(r.json["appointments"]), len(stored))
        for aid, appt in acked.items():
            self.assertEqual(stored[aid], appt)
            self.assertEqual(stored[aid]["status"], "confirmed")

        # No two bookings of one specialist and day overlap.
        days = collections.defaultdict(list)
        for a in stored.values():
            s = int(a["startTime"][:2]) * 60 + int(a["startTime"][3:])
            days[a["specialistId"], a["date"]].append((s, a["duration"]))
        for day in days.values():
            day.sort()
            for (s1, d1), (s2, _) in zip(day, day[1:]):
                self.assertLessEqual(s1 + d1, s2, "overlap in %r" % day)

        # The records in Redis agree both ways: record <-> booked entry <->
        # id index.
        members = 0
        for key in stack.redis("KEYS", "booking_booked:{%s|*" % tenant):
            tag = key[len("booking_booked:"):]
            for m in stack.redis("ZRANGE", key, 0, -1):
                members += 1
                aid = m.split("/")[2]
                self.assertIn(aid, stored)
                appt_key = "booking_appt:%s:%s" % (tag, aid)
                self.assertEqual(stack.redis("GET", "booking_apptid:" + aid),
                                 appt_key)
                self.assertEqual(json.loads(stack.redis("GET", appt_key))
                                 ["id"], aid)
        self.assertEqual(members, len(stored))
        self.assertEqual(len(stack.redis(
            "KEYS", "booking_appt:{%s|*" % tenant)), len(stored))

        # Every lock is whole: its JSON value parses and its indexes point
        # at it.
        locks = stack.redis("KEYS", "booking_lock:{%s|*" % tenant)
        # The live-lock set: one for the whole Redis, or one per resource
        # ({tenant|resource}, beside the lock) in a cluster.
        live = set(stack.redis("ZRANGE", "slotlock:live", 0, -1))
        for key in stack.redis("KEYS", "booking_live:{%s|*" % tenant):
            live.update(stack.redis("ZRANGE", key, 0, -1))
        for key in locks:
            lock = json.loads(stack.redis("GET", key))
            self.assertEqual(key, "booking_lock:{%s|%s}:%s:%s" % (
                lock["tenantId"], lock["resourceId"], lock["date"],
                lock["startTime"]))
            self.assertEqual(stack.redis(
                "GET", "booking_lockid:" + lock["lockId"]), key)
            day_index = "booking_locks:{%s|%s}:%s" % (
                lock["tenantId"], lock["resourceId"], lock["date"])
            # The day index holds the lock's interval, expiry and id,
            # scored by its start minute.
            start = (int(lock["startTime"][:2]) * 60
                     + int(lock["startTime"][3:]))
            members = stack.redis("ZRANGEBYSCORE", day_index, start, start)
            self.assertTrue(any(m.endswith("/" + lock["lockId"])
                                for m in members), (day_index, members))
            self.assertIn(lock["lockId"], live)
            self.assertIsNotNone(stack.redis(
                "ZSCORE", "booking_holder:{%s}:%s" % (tenant,
                                                      lock["holderId"]),
                lock["lockId"]))
        dangling = 0
        for key in stack.redis("KEYS", "booking_lockid:*"):
            target = stack.redis("GET", key)
            if target is None:
                continue
            if stack.cluster and target not in locks:
                # In a cluster an index the lock scripts could not reach
                # (an id not made for the lock's slot; an admin's
                # force-release) may outlive its lock until it expires: it
                # must then lead nowhere.
                r = stack.request("GET", "/api/locks/" + key.split(":", 1)[1])
                self.assertEqual(r.status, 404, r.text)
                dangling += 1
                continue
            self.assertIn(target, locks)
        if dangling:
            print("%s: %d lockId index entries outlive their lock, each "
                  "answering 404" % (what, dangling), file=sys.stderr)
        # Every lock acknowledged and kept is still there under its id.
        self.assertGreater(len(load.held), 0)
        for lock_id in load.held:
            r = stack.request("GET", "/api/locks/" + lock_id)
            self.assertEqual(r.status, 200, r.text)

        retried = sum(1 for _, status, _ in load.acked if status == 200)
        print("%s: %d bookings acknowledged (%d of them 200 on a retry with"
              " the same lockId), %d checked in Redis, none lost or doubled;"
              " %d locks acknowledged and kept, %d locks in Redis, all whole;"
              " %d transient answers retried; refused: %s" % (what, len(acked), retried, len(stored),
                                len(load.held), len(locks), load.transient,
                                dict(load.rejected)), file=sys.stderr)


class RedisKillTest(DurabilityCase):
    def test_bookings_survive_sigkill_of_redis_mid_load(self):
        stack = self.stack
        app_pid = stack.pid("app")
        with Load(stack, self.tenant) as load:
            time.sleep(1.5)
            before = len(load.acked)
            stack.stop_redis(kill=True)
            time.sleep(0.3)
            # Down: a clean 503, not a hang or a crash.
            r = stack.request("GET", "/api/locks/health")
            self.assertEqual(r.status, 503, r.text)
            self.assertEqual(r.headers["Retry-After"], "1")
            stack.start_redis()
            time.sleep(1.5)
        self.assertGreater(before, 0)
        self.assertGreater(len(load.acked), before)
        # The app never restarted: it reconnected by itself.
        self.assertEqual(stack.pid("app"), app_pid)
        self.check_nothing_lost(load, "redis-server SIGKILL")

    def test_app_reconnects_to_a_redis_restarted_by_hand(self):
        stack = self.stack
        app_pid = stack.pid("app")
        slot = {"tenantId": self.tenant, "resourceId": "r",
                "date": "2025-03-10", "startTime": "09:00", "duration": 30}
        r = stack.request("POST", "/api/locks/acquire", slot)
        self.assertEqual(r.status, 200, r.text)
        lock_id = r.json["lockId"]
        for _ in range(2):
            stack.stop_redis(kill=True)
            for path in ("/api/locks/health", "/api/locks/" + lock_id):
                r = stack.request("GET", path)
                self.assertEqual(r.status, 503, r.text)
                self.assertEqual(r.json["reason"], "service_unavailable")
            stack.start_redis()
            self.wait_healthy()
            # The lock was acknowledged before the kill: still there, under
            # the same id, and the scripts work again (EVAL after NOSCRIPT).
            r = stack.request("GET", "/api/locks/" + lock_id)
            self.assertEqual(r.status, 200, r.text)
            self.assertEqual(stack.pid("app"), app_pid)
        r = stack.request("POST", "/api/locks/acquire", slot)
        self.assertEqual(r.json["reason"], "slot_locked", r.text)


class ScriptServerRedisTest(unittest.TestCase):
    """The Redis script/server runs, without running script/server: its
    configuration rendered by the very command script/server runs, and a
    redis-server started with it."""

    def test_script_server_keeps_redis_data_in_an_ignored_folder(self):
        """script/server's Redis keeps its data in .run/redis, durably, and
        it outlives a restart of script/server (and a SIGKILL of Redis)."""
        with open(os.path.join(SRCDIR, "script", "server")) as f:
            server = f.read()
        self.assertRegex(server, r'\nrun="?\$root/\.run"?\n')
        found = re.search(r'^ *(script/render-redis-conf --dir "\$run/redis"'
                          r' .*)$', server, re.M)
        self.assertIsNotNone(found, "script/server renders no redis.conf in"
                             " $run/redis")
        # That command, run as script/server runs it, with a temporary
        # folder as the project root's .run.
        root = tempfile.mkdtemp(prefix="slotlock-server-redis-")
        self.addCleanup(shutil.rmtree, root, True)
        port = free_port()
        subprocess.run(
            ["bash", "-c", 'set -euo pipefail; run="$1/.run"; REDIS_PORT=$2;'
             ' redis_auth=(); cd "$3"; ' + found.group(1),
             "render", root, str(port), SRCDIR], check=True)
        data = os.path.join(root, ".run", "redis")
        conf = os.path.join(data, "redis.conf")
        config = read_redis_conf(conf)
        self.assertEqual(config["port"], str(port))
        self.assertEqual(config["dir"], data)
        self.assertEqual(config["logfile"], os.path.join(data, "redis.log"))
        self.assertEqual(config["appendonly"], "yes")
        self.assertEqual(config["appendfsync"], "always")
        self.assertEqual(config["maxmemory-policy"], "noeviction")
        self.assertEqual(config["save"], "")

        # Redis runs with it: an answered write is on disk in .run/redis,
        # and there after a SIGKILL and a start from the same file.
        def start():
            proc = subprocess.Popen(["redis-server", conf],
                                    stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            self.addCleanup(proc.wait)
            self.addCleanup(proc.kill)
            self.assertTrue(wait_until(lambda: redis_at(port, "PING")
                                       == "PONG", 10,
                                       ignore=(OSError, RedisError)),
                            _tail(os.path.join(data, "redis.log")))
            return proc
        proc = start()
        self.assertEqual(redis_at(port, "CONFIG", "GET", "dir"),
                         ["dir", data])
        self.assertEqual(redis_at(port, "SET", "kept", "yes"), "OK")
        proc.kill()
        proc.wait()
        start()
        self.assertEqual(redis_at(port, "GET", "kept"), "yes")
        self.assertIn("appendonlydir", os.listdir(data))
        # Nothing in script/server deletes the data folder.
        self.assertNotRegex(server, r"rm -[a-z]*r[a-z]* [^\n]*\$run(/redis)?"
                            r"[\"']?(\s|$)")

    def test_script_server_data_is_never_committed(self):
        path = os.path.join(SRCDIR, ".gitignore")
        if not os.path.exists(path):
            self.skipTest("not a git checkout (a release tarball)")
        with open(path) as f:
            ignored = f.read().split("\n")
        self.assertIn("/.run/", ignored)


class BookingRetryCase(DurabilityCase):
    def book(self, lock_id):
        return self.stack.request("POST", "/api/appointments", {
            "lockId": lock_id, "tenantId": self.tenant, "specialistId": "r",
            "serviceId": "s", "date": "2025-03-10", "startTime": "09:00",
            "endTime": "09:30", "duration": 30, "customerName": "A",
            "customerEmail": "a@example.com", "price": 1})

    def held_lock(self):
        r = self.stack.request("POST", "/api/locks/acquire", {
            "tenantId": self.tenant, "resourceId": "r",
            "date": "2025-03-10", "startTime": "09:00", "duration": 30})
        self.assertEqual(r.status, 200, r.text)
        return r.json["lockId"]

    def assertBookedOnce(self, lock_id, first_status):
        first = self.book(lock_id)
        self.assertEqual(first.status, first_status, first.text)
        again = self.book(lock_id)
        self.assertEqual(again.status, 200, again.text)
        self.assertEqual(again.json["appointment"], first.json["appointment"])
        r = self.stack.request("GET", "/api/appointments?tenantId="
                               + self.tenant, headers=ADMIN)
        self.assertEqual(r.json["count"], 1, r.text)


class AppKillTest(BookingRetryCase):
    def test_bookings_survive_sigkill_of_the_app_mid_load(self):
        stack = self.stack
        with Load(stack, self.tenant) as load:
            time.sleep(1.5)
            before = len(load.acked)
            stack.kill_app(signal.SIGKILL)
            # Down: nginx answers with its JSON 502, never an HTML page.
            for path in ("/api/locks/health", "/api/appointments"):
                r = stack.request("GET", path)
                self.assertEqual(r.status, 502, r.text)
                self.assertEqual(r.headers["Content-Type"],
                                 "application/json; charset=utf-8")
                self.assertEqual(r.json["reason"], "service_unavailable")
                self.assertEqual(r.headers["Retry-After"], "1")
            time.sleep(0.3)
            stack.start_app()
            time.sleep(1.5)
        self.assertGreater(before, 0)
        self.assertGreater(len(load.acked), before)
        self.check_nothing_lost(load, "app SIGKILL")

    def test_a_booking_sent_while_the_app_is_down_is_made_on_retry(self):
        lock_id = self.held_lock()
        self.stack.kill_app(signal.SIGKILL)
        r = self.book(lock_id)
        self.assertEqual(r.status, 502, r.text)
        self.assertEqual(r.json["reason"], "service_unavailable")
        self.stack.start_app()
        self.assertBookedOnce(lock_id, 201)


class AppDiesMidBookingTest(BookingRetryCase):
    # One worker, so the booking goes out on the connection the acquire
    # opened, and reaches Redis before the app dies.
    env = dict(DurabilityCase.env, WORKERS="1")

    def test_a_booking_made_as_the_app_died_is_found_on_retry(self):
        """The app dies after sending the booking to Redis and before
        answering: the client sees a 502, Redis makes the booking, and the
        retry with the same lockId gets it (200), not a second one."""
        stack = self.stack
        lock_id = self.held_lock()
        redis_pids = stack.redis_pids()
        for pid in redis_pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            answer = []
            t = threading.Thread(target=lambda: answer.append(
                self.book(lock_id)))
            t.start()
            time.sleep(0.3)     # the app waits for Redis (1 s timeout)
            stack.kill_app(signal.SIGKILL)
            t.join()
        finally:
            for pid in redis_pids:
                os.kill(pid, signal.SIGCONT)
        self.assertEqual(answer[0].status, 502, answer[0].text)
        stack.start_app()
        self.assertBookedOnce(lock_id, 200)


if __name__ == "__main__":
    unittest.main()
