"""The app under valgrind memcheck: a few thousand requests over every
route, success and error paths, a Redis outage in the middle, then a clean
stop with SIGTERM. Memcheck must report no invalid access and no memory
definitely or indirectly lost. ("Still reachable" blocks that libc and
libfcgi keep until exit are not leaks and are allowed.)"""

import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack  # noqa: E402

ROUNDS = 300                # 8 to 19 requests each
DEADLINE_S = 240            # the loop stops here whatever ROUNDS says
TOKEN = "valgrind-admin-token"
ADMIN = {"Authorization": "Bearer " + TOKEN}


def hhmm(minute):
    return "%02d:%02d" % (minute // 60, minute % 60)


def slot(tenant, i):
    """Round i's slot: a resource of its own, so rounds never overlap."""
    return {"tenantId": tenant, "resourceId": "r%d" % i,
            "date": "2025-03-10", "startTime": hhmm((i * 30) % 1410),
            "duration": 30}


class ValgrindTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="slotlock-vg-")
        self.log = os.path.join(self.tmp, "memcheck.log")
        # spawn-fcgi runs its program with execv: no PATH search.
        valgrind = shutil.which("valgrind")
        self.assertIsNotNone(valgrind, "valgrind is not installed")
        os.environ["SLOTLOCK_WRAPPER"] = valgrind + (
            " --error-exitcode=99 --leak-check=full "
            "--show-leak-kinds=definite,indirect "
            "--errors-for-leak-kinds=definite,indirect "
            "--num-callers=30 --log-file=" + self.log)
        self.stack = Stack(env={"WORKERS": 2, "ADMIN_TOKEN": TOKEN},
                           ready_timeout=60)

    def tearDown(self):
        os.environ.pop("SLOTLOCK_WRAPPER", None)
        self.stack.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def req(self, method, path, body=None, headers=None, expect=None):
        r = self.stack.request(method, path, body, headers, timeout=30)
        self.count += 1
        if expect is not None:
            self.assertEqual(r.status, expect, "%s %s: %s" % (method, path,
                                                              r.text))
        self.assertLess(r.status, 500 if expect != 503 else 600, r.text)
        return r

    def one_round(self, tenant, i):
        s = slot(tenant, i)
        r = self.req("POST", "/api/locks/acquire",
                     dict(s, holderId="h%d" % (i % 4)), expect=200)
        lock_id = r.json["lockId"]
        self.req("POST", "/api/locks/acquire", s, expect=409)
        self.req("POST", "/api/locks/verify", dict(s, lockId=lock_id),
                 expect=200)
        self.req("POST", "/api/locks/refresh",
                 {"lockId": lock_id, "ttl": 60000}, expect=200)
        self.req("GET", "/api/locks/" + lock_id, expect=200)
        self.req("GET", "/api/locks/status?tenantId=%s&resourceId=%s"
                 "&date=%s" % (tenant, s["resourceId"], s["date"]),
                 expect=200)
        if i % 2:
            self.req("POST", "/api/locks/release", {"lockId": lock_id},
                     expect=200)
            self.req("DELETE", "/api/locks/" + lock_id, expect=404)
            return
        end = hhmm((i * 30) % 1410 + 30)
        book = dict(s, lockId=lock_id, specialistId=s["resourceId"],
                    serviceId="svc", endTime=end, customerName="Jane Roe",
                    customerEmail="jane@example.com",
                    customerPhone="+44 20 7946 0000", price=42.5)
        del book["resourceId"]
        r = self.req("POST", "/api/appointments", book, expect=201)
        appt = r.json["appointment"]["id"]
        self.req("POST", "/api/appointments", book, expect=200)
        self.req("GET", "/api/appointments/" + appt, headers=ADMIN,
                 expect=200)
        if i % 4 == 0:
            self.req("DELETE", "/api/appointments/" + appt, headers=ADMIN,
                     expect=200)
        # Error paths: every one of them allocates and must free.
        self.req("POST", "/api/locks/acquire", "{not json",
                 {"Content-Type": "application/json"}, expect=400)
        self.req("POST", "/api/locks/acquire", dict(s, date="2025-02-30"),
                 expect=400)
        self.req("POST", "/api/appointments", dict(book, lockId=None),
                 expect=400)
        self.req("POST", "/api/locks/verify", "<x/>",
                 {"Content-Type": "text/xml"}, expect=415)
        self.req("GET", "/api/locks/acquire", expect=405)
        self.req("GET", "/api/nothing-here", expect=404)
        self.req("GET", "/api/locks/not-a-uuid", expect=400)
        self.req("GET", "/api/locks/status?tenantId=%ZZ&tenantId=2",
                 expect=400)
        self.req("GET", "/api/locks/metrics", expect=401)
        # Webhook endpoints and dead letters.
        if i % 4 == 0:
            r = self.req("POST", "/api/webhooks",
                         {"url": "https://hooks.example.com/in",
                          "tenantId": s["tenantId"]}, ADMIN, expect=201)
            self.req("GET", "/api/webhooks?tenantId=" + s["tenantId"],
                     headers=ADMIN, expect=200)
            self.req("GET", "/api/webhooks/deadletters?limit=5",
                     headers=ADMIN, expect=200)
            self.req("DELETE", "/api/webhooks/" + r.json["webhook"]["id"],
                     headers=ADMIN, expect=200)
            self.req("DELETE", "/api/webhooks/" + r.json["webhook"]["id"],
                     headers=ADMIN, expect=404)
            self.req("POST", "/api/webhooks", {"url": "ftp://x", "secret": 5},
                     ADMIN, expect=400)

    def test_memcheck_finds_no_error_and_no_leak(self):
        self.count = 0
        tenant = "vg"
        start = time.monotonic()
        for i in range(ROUNDS):
            if time.monotonic() - start > DEADLINE_S:
                break
            self.one_round(tenant, i)
            if i % 20 == 0:
                self.req("GET", "/api/locks/metrics", headers=ADMIN,
                         expect=200)
                self.req("GET", "/api/locks/metrics?format=prometheus",
                         headers=ADMIN, expect=200)
                self.req("GET", "/api/appointments?tenantId=" + tenant,
                         headers=ADMIN, expect=200)
                self.req("GET", "/api/locks/admin/active?tenantId="
                         + tenant + "&limit=50", headers=ADMIN, expect=200)
                events = self.req("GET", "/api/events?tenantId=" + tenant
                                  + "&limit=20", headers=ADMIN, expect=200)
                self.req("GET", "/api/events?tenantId=" + tenant + "&after="
                         + (events.json["next"] or "0-0~r"), headers=ADMIN,
                         expect=200)
                self.req("GET", "/api/events?tenantId=" + tenant
                         + "&after=bad", headers=ADMIN, expect=400)
                self.req("POST", "/api/locks/admin/force-release",
                         dict(slot(tenant, i + 1), duration=None),
                         headers=ADMIN, expect=404)
            if i == ROUNDS // 2:
                # A Redis outage: the store's failure, reconnect and retry
                # paths run too.
                self.stack.stop_redis()
                for _ in range(5):
                    self.req("GET", "/api/locks/health", expect=503)
                    self.req("POST", "/api/locks/acquire",
                             slot(tenant, 100000 + i), expect=503)
                self.stack.start_redis()
                self.req("GET", "/api/locks/health", expect=200)
        elapsed = time.monotonic() - start
        self.assertGreater(self.count, 1000, "too few requests in time")

        # SIGTERM: workers finish, main joins them and returns, so memcheck
        # sees every thread's memory given back.
        self.stack.kill_app(signal.SIGTERM, timeout=60)
        with open(self.log) as f:
            report = f.read()
        print("valgrind: %d requests in %.1f s" % (self.count, elapsed))
        summary = [line.split("== ", 1)[-1] for line in report.splitlines()
                   if "lost:" in line or "reachable:" in line
                   or "ERROR SUMMARY" in line or "heap usage" in line]
        print("\n".join(summary))
        self.assertIn("ERROR SUMMARY: 0 errors", report, report[-8000:])
        for kind in ("definitely lost", "indirectly lost"):
            for line in report.splitlines():
                if kind + ":" in line:
                    self.assertIn(kind + ": 0 bytes", line, report[-8000:])
        self.assertEqual(self.stack.exit_status.get("app"), 0,
                         report[-8000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
