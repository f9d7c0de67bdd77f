"""A primary of a Redis Cluster SIGKILLed under booking load, on loopback:
three primaries with a replica each, BOOKING_MIN_REPLICAS=1. The cluster
promotes the dead primary's replica by itself; the app must find it
through its slot map, without a restart.

What must hold: no booking is acknowledged (201, or 200 on a retry) while
the killed primary's slots have no replica to confirm it; bookings on those
slots resume once the killed node is back as the new primary's replica;
every acknowledged booking is stored exactly once, none overlap; tenants
living on the other primaries are booking again once the replica is
promoted, before the killed primary's own tenants are. The times and counts
are printed, among them what the other primaries' tenants got between the
kill and the promotion.

With one replica per primary and BOOKING_MIN_REPLICAS=1, the promoted
replica has no replica of its own: its bookings are stored but answered 503
("retry with the same lockId") until the killed node, restarted as a
process supervisor would, rejoins as its replica. The README says as much:
N at most the number of replicas minus one keeps a failover from stopping
bookings."""

import os
import re
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bookload import BookingLoad, booked_intervals, overlaps  # noqa: E402
import harness  # noqa: E402
from harness import RedisError, Stack  # noqa: E402

TOKEN = "cluster-failover-admin-token"
ADMIN = {"Authorization": "Bearer " + TOKEN}
TENANTS = 2             # per primary, one client thread each
PROBE_DATE = "2027-01-04"   # past any day the load books
APPOINTMENTS = "/api/appointments"


def report(text):
    sys.stderr.write("test_cluster_failover: %s\n" % text)


def wait_until(check, timeout, pause=0.05):
    """harness.wait_until, with a Redis or socket error counting as not
    yet."""
    return harness.wait_until(check, timeout, pause,
                              ignore=(OSError, RedisError))


def redirects(stack):
    """The app's slotlock_redis_redirects_total, by kind."""
    r = stack.request("GET", "/api/locks/metrics?format=prometheus",
                      headers=ADMIN)
    if r.status != 200:
        raise AssertionError("metrics: %r" % r)
    return {kind: int(value) for kind, value in re.findall(
        r'^slotlock_redis_redirects_total\{kind="(\w+)"\} (\d+)$',
        r.text, re.M)}


class ClusterFailoverTest(unittest.TestCase):
    @staticmethod
    def tenants_per_primary(stack, primaries):
        """{primary's port: [TENANTS tenants that live on that primary]}:
        a one-thread load's specialist, {tenant|r0}, and the tenant's
        holder sets, {tenant}, both land there."""
        found = {port: [] for port in primaries}
        for n in range(100000):
            tenant = "cf%d" % n
            port = stack.redis_node_of("{%s|r0}" % tenant)
            if (stack.redis_node_of("{%s}" % tenant) == port
                    and len(found[port]) < TENANTS):
                found[port].append(tenant)
            if all(len(t) == TENANTS for t in found.values()):
                return found
        raise AssertionError("no tenants for every primary")

    @staticmethod
    def post_until(stack, path, body, done, timeout=30):
        """POSTs body until done(answer) or timeout seconds; the last
        answer (None when every try failed to connect)."""
        answers = [None]

        def check():
            answers.append(stack.request("POST", path, body))
            return done(answers[-1])
        wait_until(check, timeout, pause=0.2)
        return answers[-1]

    @staticmethod
    def probe_booking(tenant, lock_id):
        return {
            "lockId": lock_id, "tenantId": tenant, "specialistId": "r0",
            "serviceId": "cut", "date": PROBE_DATE, "startTime": "09:00",
            "endTime": "10:00", "duration": 60, "customerName": "Probe",
            "customerEmail": "probe@example.com", "price": 10}

    def test_a_primary_killed_under_load_loses_no_acknowledged_booking(self):
        stack = Stack(cluster=True, cluster_replicas=1, env={
            "ADMIN_TOKEN": TOKEN, "BOOKING_MIN_REPLICAS": "1",
            "WORKERS": "8", "REDIS_CONNECT_TIMEOUT": "1000",
            "REDIS_COMMAND_TIMEOUT": "1000"})
        self.addCleanup(stack.stop)
        r = stack.request("GET", "/api/locks/health")
        self.assertEqual(r.status, 200, r.text + stack.logs())

        primaries = stack.cluster_primaries()
        self.assertEqual(len(primaries), 3)
        tenants = self.tenants_per_primary(stack, primaries)
        victim = primaries[1]
        heirs = stack.cluster_replicas_of(victim)
        self.assertEqual(len(heirs), 1, "the victim's replicas: %r" % heirs)
        heir = heirs[0]
        victims = tenants[victim]
        others = [t for p in primaries if p != victim for t in tenants[p]]

        loads = {t: BookingLoad(stack, t, threads=1, retry_s=30)
                 for t in victims + others}
        for load in loads.values():
            self.addCleanup(load.stop)
            load.start()
        self.assertTrue(wait_until(
            lambda: all(load.count() >= 10 for load in loads.values()), 30),
            "no bookings before the kill: %s\n%s" % (
                {t: load.summary() for t, load in loads.items()},
                stack.logs()))

        acked_before = sum(load.count() for load in loads.values())
        stack.kill_redis_node(victim)
        # Taken once the process is gone: a request sent after it cannot
        # have been answered by the killed primary.
        killed_at = time.monotonic()

        # The cluster fails the node after cluster-node-timeout, then the
        # replica wins the election. In between, with Redis's default
        # cluster-require-full-coverage yes, every node would say
        # cluster_state:fail and refuse every key with CLUSTERDOWN; the
        # nodes run with no (script/render-redis-conf), so the other
        # primaries keep serving and that phase is usually not seen.
        survivor = next(p for p in primaries if p != victim)
        down = []

        def promoted_now():
            if not down and "cluster_state:fail" in stack.redis_node(
                    survivor, "CLUSTER", "INFO"):
                down.append(time.monotonic())
            owners = stack.cluster_primaries()
            return heir in owners and victim not in owners
        promoted = wait_until(promoted_now, 30, pause=0.02)
        promoted_at = time.monotonic()
        self.assertTrue(promoted, "the replica on %d was not promoted\n%s"
                        % (heir, stack.logs()))

        # The new primary has no replica yet: a booking is stored, and
        # answered 503, not acknowledged.
        probe = {"tenantId": victims[0], "resourceId": "r0",
                 "date": PROBE_DATE, "startTime": "09:00", "duration": 60}
        r = self.post_until(stack, "/api/locks/acquire", probe,
                            lambda r: r.status == 200)
        self.assertEqual(getattr(r, "status", None), 200,
                         "acquire on the promoted primary: %r\n%s"
                         % (r, stack.logs()))
        probe_booking = self.probe_booking(victims[0], r.json["lockId"])
        r = stack.request("POST", APPOINTMENTS, probe_booking)
        self.assertEqual(r.status, 503, r.text)
        self.assertIn("same lockId", r.json["message"])
        day = "booking_booked:{%s|r0}:%s" % (victims[0], PROBE_DATE)
        self.assertEqual(stack.redis_node(heir, "ZCARD", day), 1)

        # The killed node comes back, as a process supervisor would bring
        # it, and rejoins as the new primary's replica.
        restarted_at = time.monotonic()
        stack.start_redis_node(victim)
        stack.wait_cluster()
        whole_at = time.monotonic()
        self.assertEqual(stack.cluster_replicas_of(heir), [victim])

        r = self.post_until(stack, APPOINTMENTS, probe_booking,
                            lambda r: r.status != 503)
        self.assertEqual(getattr(r, "status", None), 200, "%r\n%s"
                         % (r, stack.logs()))
        probe_id = r.json["appointment"]["id"]
        self.assertEqual(stack.redis("ZRANGE", day, 0, -1),
                         ["540/60/%s" % probe_id])

        resumed = wait_until(lambda: all(
            loads[t].acked_after(whole_at) >= 5 for t in victims), 30)
        for load in loads.values():
            load.stop()
        self.assertTrue(resumed, "no bookings on the promoted primary: %s\n%s"
                        % ([loads[t].summary() for t in victims],
                           stack.logs()))

        # Time line of the victim's tenants: nothing acknowledged between
        # the kill and the node's return; then bookings again.
        bookings = [(sent, done, status) for t in victims
                    for sent, done, path, status in loads[t].timeline
                    if path == APPOINTMENTS]
        unconfirmed = [(round(sent - killed_at, 3), status)
                       for sent, done, status in bookings
                       if sent > killed_at and done < restarted_at
                       and status in (200, 201)]
        self.assertEqual(unconfirmed, [], "acknowledged with no replica "
                         "(seconds after the kill, status)")
        first_ack = min(done for sent, done, status in bookings
                        if sent > killed_at and status in (200, 201))
        first_201 = min(done for sent, done, status in bookings
                        if sent > killed_at and status == 201)
        self.assertLess(first_201 - killed_at, 30)

        # The other primaries' tenants, from the kill to that first 201,
        # in three phases: the killed node unreachable, the cluster down
        # (as its nodes said it), the replica promoted.
        down_at = down[0] if down else promoted_at
        phases = [(killed_at, down_at), (down_at, promoted_at),
                  (promoted_at, first_201)]
        served = [0, 0, 0]
        failed = [{}, {}, {}]
        for tenant in others:
            for sent, done, path, status in loads[tenant].timeline:
                for i, (begin, end) in enumerate(phases):
                    if not begin <= done < end:
                        continue
                    if path == APPOINTMENTS and status == 201:
                        served[i] += 1
                    elif status is None or status >= 500:
                        route = path.rsplit("/", 1)[1]
                        failed[i][route] = failed[i].get(route, 0) + 1
        # While the killed node is only unreachable, the other primaries'
        # tenants keep booking: everything their requests touch (lock,
        # bookings, the lockId and appointment-id indexes) is on their own
        # primaries, bar a holder's set on the tenant's slot.
        self.assertGreater(served[0], 0, "the other primaries' tenants got "
                           "no booking while the killed node was down")
        # Once the replica is promoted they are served, while the killed
        # primary's tenants still wait for a replica to confirm.
        self.assertGreater(served[2], 0, "the other primaries' tenants got "
                           "no booking between the promotion and the "
                           "killed primary's tenants' first")

        # Nothing lost, nothing twice, nothing overlapping: our
        # acknowledgements, the admin list and the day indexes agree.
        lost = {}
        listed_n = stored_n = 0
        for tenant, load in loads.items():
            acked = {a["id"] for a in load.acked.values()}
            self.assertEqual(len(acked), len(load.acked),
                             "one appointment acknowledged for two lockIds")
            r = stack.request("GET", "%s?tenantId=%s" % (APPOINTMENTS,
                                                         tenant),
                              headers=ADMIN)
            self.assertEqual(r.status, 200, r.text)
            listed = [a["id"] for a in r.json["appointments"]]
            self.assertEqual(len(listed), len(set(listed)),
                             "listed twice in %s" % tenant)
            intervals = booked_intervals(stack.redis, tenant)
            self.assertEqual(overlaps(intervals), [])
            stored = [b[2] for items in intervals.values() for b in items]
            self.assertEqual(len(stored), len(set(stored)),
                             "stored twice in %s" % tenant)
            self.assertEqual(set(listed), set(stored), tenant)
            lost[tenant] = acked - set(stored)
            listed_n += len(listed)
            stored_n += len(stored)
        self.assertEqual({t: ids for t, ids in lost.items() if ids}, {})

        r = stack.request("GET", "/api/locks/health")
        self.assertEqual(r.status, 200, r.text)
        self.assertIsNotNone(stack.pid("app"), "the app is gone\n"
                             + stack.logs())
        counts = redirects(stack)
        acked = sum(load.count() for load in loads.values())
        gave_up = sum(load.gave_up for load in loads.values())
        report("primary %d SIGKILLed after %d bookings; cluster_state:fail "
               "%s; replica %d "
               "promoted %.2f s after the kill; killed node restarted at "
               "%.2f s, its replica again at %.2f s; on the killed "
               "primary's tenants the first acknowledgement came %.2f s "
               "after the kill, the first 201 %.2f s after it"
               % (victim, acked_before, "%.2f s after the kill" % (
                   down_at - killed_at) if down else "not seen",
                  heir, promoted_at - killed_at,
                  restarted_at - killed_at, whole_at - killed_at,
                  first_ack - killed_at, first_201 - killed_at))
        report("other primaries' tenants (%d client threads), 201s and "
               "5xx by route: %s"
               % (len(others), "; ".join(
                   "%s (%.2f-%.2f s) %d, %s" % (
                       name, begin - killed_at, end - killed_at, n,
                       " ".join("%s=%d" % kv for kv in sorted(f.items()))
                       or "no 5xx")
                   for name, (begin, end), n, f in zip(
                       ("node down", "cluster down", "promoted"), phases,
                       served, failed))))
        refused = sum(len(load.refused) for load in loads.values())
        report("%d bookings acknowledged in all, %d listed, %d stored, 0 "
               "lost or twice, none overlap; %d requests answered 5xx and "
               "retried, %d slots refused after an acquire (a hold lost "
               "with the killed node), %d given up; redirects seen by the "
               "app: %s"
               % (acked, listed_n, stored_n,
                  sum(load.unavailable for load in loads.values()), refused,
                  gave_up,
                  " ".join("%s=%d" % kv for kv in sorted(counts.items()))))
        for kind in ("moved", "ask", "tryagain"):
            self.assertIn(kind, counts, "slotlock_redis_redirects_total"
                          "{kind=%r} missing from the metrics" % kind)


if __name__ == "__main__":
    unittest.main()
