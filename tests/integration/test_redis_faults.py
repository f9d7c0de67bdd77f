"""A slow or full Redis: a stall gives 503 within REDIS_COMMAND_TIMEOUT and
frees the workers once it ends (every worker answers 200 again within a
bound); Redis at maxmemory (noeviction) gives 503 for acquire and booking
and never a partial booking."""

import os
import re
import signal
import socket
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (RedisError, Stack, _resp_encode,  # noqa: E402
                     _resp_read, concurrently, wait_until)

TOKEN = "faults-admin-token"
ADMIN = {"Authorization": "Bearer " + TOKEN}
WORKERS = 4
STALL_S = 3
COMMAND_TIMEOUT_MS = 300
# How long a PING may go unanswered before Redis counts as asleep: longer
# than a busy machine keeps a Redis that is awake from answering, and still
# well inside the stall.
ASLEEP_PROBE_S = 0.5
# After a stall every worker must answer health with 200 again within this.
# One Redis: its next command reconnects at once. A cluster: a stall longer
# than cluster-node-timeout (2 s in the harness) makes the nodes fail each
# other, and Redis itself answers CLUSTERDOWN until they clear the failure
# (twice the node timeout, plus gossip); the app can do nothing sooner.
RECOVERY_S = 5.0
CLUSTER_RECOVERY_S = 15.0


def booking(lock_id, tenant, start="10:00", end="10:30"):
    return {"lockId": lock_id, "tenantId": tenant, "specialistId": "r",
            "serviceId": "s", "date": "2025-03-10", "startTime": start,
            "endTime": end, "duration": 30, "customerName": "A",
            "customerEmail": "a@example.com", "price": 1}


def slot(tenant, start="10:00", **extra):
    body = {"tenantId": tenant, "resourceId": "r", "date": "2025-03-10",
            "startTime": start, "duration": 30}
    body.update(extra)
    return body


class StalledRedisTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(
            env={"ADMIN_TOKEN": TOKEN, "WORKERS": str(WORKERS),
                 "REDIS_COMMAND_TIMEOUT": str(COMMAND_TIMEOUT_MS)},
            redis_config={"enable-debug-command": "yes"})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def stall(self):
        """Runs DEBUG SLEEP on a side connection (on every node of a
        cluster) and returns the thread once every node is asleep."""
        def sleep():
            self.stack.redis("DEBUG", "SLEEP", str(STALL_S))
        t = threading.Thread(target=sleep)
        t.start()
        # A fixed pause is not enough on a busy machine: the DEBUG SLEEP
        # may not have reached Redis yet, and the request meant for the
        # stall would be served before it.
        for port in self.stack.redis_ports:
            self.assertTrue(wait_until(lambda: self.asleep(port),
                                       STALL_S - 1.0, pause=0.01),
                            "DEBUG SLEEP did not start on %d" % port)
        return t

    @staticmethod
    def asleep(port):
        """True when Redis on port leaves a PING unanswered for a while."""
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.settimeout(ASLEEP_PROBE_S)
            s.sendall(_resp_encode(["PING"]))
            try:
                _resp_read(s.makefile("rb"))
            except socket.timeout:
                return True
            return False

    def assertUnavailable(self, r):
        self.assertEqual(r.status, 503, r.text)
        self.assertEqual(r.json["reason"], "service_unavailable")
        self.assertTrue(r.json["message"])
        self.assertEqual(r.headers["Retry-After"], "1")

    def assertAllWorkersFree(self, what):
        """Once the stall is over, every worker answers again: as many
        health requests at once as twice the workers all get 200, within
        a bound (asked again until then: a request that lands while the
        stall is still wearing off may get its 503). Returns how long."""
        ended = time.monotonic()
        bound = CLUSTER_RECOVERY_S if self.stack.cluster else RECOVERY_S
        seen = []

        def all_free():
            results = concurrently(self.stack, [
                ("GET", "/api/locks/health")] * WORKERS * 2)
            seen.append([r.status for r in results])
            return seen[-1] == [200] * WORKERS * 2
        self.assertTrue(wait_until(all_free, bound, pause=0.1),
                        "health after the stall, burst by burst: %s\n%s"
                        % (seen, self.stack.logs()))
        took = time.monotonic() - ended
        print("%s: every worker answered 200 again %.2f s after it ended "
              "(%d bursts of %d)" % (what, took, len(seen), WORKERS * 2),
              file=sys.stderr)
        return took

    def test_stall_gives_503_within_the_command_timeout(self):
        tenant = "stall-1"
        sleeper = self.stall()
        began = time.monotonic()
        # As many requests as workers, at once: each is cut off by its own
        # command timeout, none waits for the stall to end.
        results = concurrently(self.stack, [
            ("POST", "/api/locks/acquire", slot(tenant, "%02d:00" % i))
            for i in range(WORKERS)])
        took = time.monotonic() - began
        still_stalled = sleeper.is_alive()
        for r in results:
            self.assertUnavailable(r)
        # Answered while Redis still slept: none waited for the stall to
        # end (REDIS_COMMAND_TIMEOUT is 0.3 s; a cluster may spend a few
        # timeouts finding that no node answers, and a busy machine more).
        self.assertTrue(still_stalled, "the acquires were answered %.2f s "
                        "after the stall began: not before it ended" % took)
        print("stall: %d acquires answered 503 after %.2f s of a %d s stall"
              % (len(results), took, STALL_S), file=sys.stderr)
        sleeper.join()
        self.assertAllWorkersFree("stall")

    def test_booking_cut_off_by_a_stall_is_found_by_its_retry(self):
        """A 503 after a timeout may hide a booking that Redis still made
        when it woke up; the retry with the same lockId finds it, and there
        is only ever one."""
        tenant = "stall-2"
        r = self.stack.request("POST", "/api/locks/acquire", slot(tenant))
        lock_id = r.json["lockId"]
        sleeper = self.stall()
        r = self.stack.request("POST", "/api/appointments",
                               booking(lock_id, tenant))
        self.assertUnavailable(r)
        sleeper.join()
        r = self.stack.request("POST", "/api/appointments",
                               booking(lock_id, tenant))
        self.assertIn(r.status, (200, 201), r.text)
        again = self.stack.request("POST", "/api/appointments",
                                   booking(lock_id, tenant))
        self.assertEqual(again.status, 200, again.text)
        self.assertEqual(again.json["appointment"]["id"],
                         r.json["appointment"]["id"])
        r = self.stack.request("GET", "/api/appointments?tenantId=" + tenant,
                               headers=ADMIN)
        self.assertEqual(r.json["count"], 1, r.text)

    def test_acquire_cut_off_by_a_stall_is_recovered_by_its_holder(self):
        """The same holder asking again gets the lock, whether or not Redis
        made it after the 503."""
        tenant = "stall-3"
        sleeper = self.stall()
        r = self.stack.request("POST", "/api/locks/acquire",
                               slot(tenant, holderId="h1"))
        self.assertUnavailable(r)
        sleeper.join()
        r = self.stack.request("POST", "/api/locks/acquire",
                               slot(tenant, holderId="h1"))
        self.assertEqual(r.status, 200, r.text)

    def test_sigstop_of_redis_gives_503_and_sigcont_heals(self):
        tenant = "stall-4"
        pids = self.stack.redis_pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            r = self.stack.request("POST", "/api/locks/acquire", slot(tenant))
            took = time.monotonic() - began
            self.assertUnavailable(r)
            self.assertLess(took, 2.0)
            r = self.stack.request("GET", "/api/locks/health")
            self.assertUnavailable(r)
            self.assertIs(r.json["healthy"], False)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        self.assertAllWorkersFree("SIGSTOP")
        r = self.stack.request("POST", "/api/locks/acquire",
                               slot(tenant, "12:00"))
        self.assertEqual(r.status, 200, r.text)


class FullRedisTest(unittest.TestCase):
    maxDiff = None
    def setUp(self):
        self.stack = Stack(env={"ADMIN_TOKEN": TOKEN})
        self.addCleanup(self.stack.stop)

    def snapshot(self):
        """Every key but the counters, with its value."""
        out = {}
        for key in self.stack.redis("KEYS", "*"):
            if (key == "slotlock:stats" or key.startswith("booking_stats:")
                    or key.startswith("filler")):
                continue
            kind = self.stack.redis("TYPE", key)
            if kind == "string":
                out[key] = self.stack.redis("GET", key)
            elif kind == "zset":
                out[key] = self.stack.redis("ZRANGE", key, 0, -1,
                                            "WITHSCORES")
            else:
                out[key] = kind
        return out

    def fill(self):
        """Fills Redis (each node of a cluster) past a maxmemory it then
        gets (noeviction)."""
        stack = self.stack
        for port in stack.redis_ports:
            stack.redis("SET", stack.key_on(port, "filler"), "x" * 2000000)
            used = int(re.search(r"used_memory:(\d+)", stack.redis_node(
                port, "INFO", "memory")).group(1))
            stack.redis_node(port, "CONFIG", "SET", "maxmemory",
                             str(used // 2))
            with self.assertRaisesRegex(RedisError, "^OOM"):
                stack.redis("SET", stack.key_on(port, "probe"), "x")

    def assertOutOfMemory(self, r):
        self.assertEqual(r.status, 503, r.text)
        self.assertEqual(r.json["reason"], "service_unavailable")
        self.assertIn("out of memory", r.json["message"])
        self.assertEqual(r.headers["Retry-After"], "1")

    def test_full_redis_refuses_acquire_and_booking_whole(self):
        stack, tenant = self.stack, "full-1"
        held = stack.request("POST", "/api/locks/acquire",
                             slot(tenant, holderId="h"))
        self.assertEqual(held.status, 200, held.text)
        lock_id = held.json["lockId"]
        lock_key = "booking_lock:{%s|r}:2025-03-10:10:00" % tenant
        # An expired holder entry and a stale index entry: cleaning them up
        # are the first writes acquire makes, and must not let it go on.
        stack.redis("ZADD", "booking_holder:{%s}:h" % tenant, 1, "gone")
        stack.redis("ZADD", "booking_locks:{%s|r}:2025-03-10" % tenant,
                    600, "10:00x")
        self.fill()
        before = self.snapshot()
        pttl = stack.redis("PTTL", lock_key)

        for body in (slot(tenant, "12:00"), slot(tenant, "13:00",
                                                 holderId="h")):
            self.assertOutOfMemory(stack.request(
                "POST", "/api/locks/acquire", body))
        self.assertOutOfMemory(stack.request(
            "POST", "/api/appointments", booking(lock_id, tenant)))
        # Admin booking without a lock: refused the same way.
        body = booking(None, tenant, "15:00", "15:30")
        self.assertOutOfMemory(stack.request(
            "POST", "/api/appointments", body, headers=ADMIN))

        # Nothing changed: no booking record, no booked entry, the lock as
        # it was (its TTL only ran down).
        after = self.snapshot()
        if stack.cluster:
            # In a cluster the holder set lives outside the lock's slot and
            # is kept by the app's own commands beside the script: dropping
            # its expired entry needs no memory and may happen first.
            entries = before["booking_holder:{%s}:h" % tenant]
            gone = entries.index("gone")
            del entries[gone:gone + 2]
        self.assertEqual(after, before)
        self.assertEqual(stack.redis("KEYS", "booking_appt:*"), [])
        self.assertEqual(stack.redis("KEYS", "booking_booked:*"), [])
        self.assertLessEqual(stack.redis("PTTL", lock_key), pttl)
        # Reading still works, and so does freeing memory.
        r = stack.request("GET", "/api/locks/" + lock_id)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(stack.request("GET", "/api/locks/health").status,
                         200)

        # With room again, the same lockId books, once.
        stack.redis("CONFIG", "SET", "maxmemory", "0")
        r = stack.request("POST", "/api/appointments",
                          booking(lock_id, tenant))
        self.assertEqual(r.status, 201, r.text)
        self.assertEqual(stack.redis("EXISTS", lock_key), 0)
        self.assertEqual(len(stack.redis("KEYS", "booking_appt:*")), 1)

    def test_release_and_cancel_work_when_redis_is_full(self):
        """Freeing a slot must not need memory."""
        stack, tenant = self.stack, "full-2"
        first = stack.request("POST", "/api/locks/acquire", slot(tenant))
        second = stack.request("POST", "/api/locks/acquire",
                               slot(tenant, "11:00"))
        r = stack.request("POST", "/api/appointments",
                          booking(second.json["lockId"], tenant, "11:00",
                                  "11:30"))
        self.assertEqual(r.status, 201, r.text)
        appt_id = r.json["appointment"]["id"]
        self.fill()
        r = stack.request("POST", "/api/locks/release",
                          {"lockId": first.json["lockId"]})
        self.assertEqual(r.status, 200, r.text)
        r = stack.request("DELETE", "/api/appointments/" + appt_id,
                          headers=ADMIN)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json["appointment"]["status"], "cancelled")


if __name__ == "__main__":
    unittest.main()
