"""The app as a daemon under spawn-fcgi: it stops cleanly on SIGTERM under
load, checks its whole configuration at start-up without needing Redis,
logs one line per request with no customer data or token in it, and every
error nginx makes in front of it is JSON."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (APP_BIN, Stack, concurrently, free_port,  # noqa: E402
                     wait_until)

JSON_TYPE = "application/json; charset=utf-8"

# "<time> info <request id> <method> <path> <route> <status> <ms>ms[ <reason>]"
REQUEST_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info (?P<id>[0-9a-f]{32}) "
    r"(?P<method>[A-Z]+) (?P<path>/\S*) (?P<route>[a-z_]+) "
    r"(?P<status>\d{3}) \d+\.\d{3}ms( [a-z_]+)?$")


def acquire_body(tenant, resource="r1", start="10:00", duration=30):
    return {"tenantId": tenant, "resourceId": resource, "date": "2025-03-10",
            "startTime": start, "duration": duration}


def app_log(stack):
    with open(os.path.join(stack.dir, "app.log"), encoding="utf-8",
              errors="replace") as f:
        return f.read()



def backlog(socket_path):
    """Connections queued on the app's listening socket, not yet accepted
    (ss shows them as the Recv-Q of a listening socket); None without ss."""
    if shutil.which("ss") is None:
        return None
    out = subprocess.run(["ss", "-xlnH", "src", socket_path],
                         capture_output=True, text=True).stdout.split()
    return int(out[2]) if len(out) > 2 else 0


class JsonErrorMixin:
    def assertJsonError(self, r, status, reason):
        self.assertEqual(r.status, status, r.text)
        self.assertEqual(r.headers.get("Content-Type"), JSON_TYPE)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertIsInstance(r.json, dict, r.text)
        self.assertEqual(r.json.get("success"), False, r.text)
        self.assertEqual(r.json.get("reason"), reason, r.text)


class StopTest(JsonErrorMixin, unittest.TestCase):
    def test_sigterm_under_load_serves_every_request_sent_and_exits_0(self):
        workers = 4
        stack = Stack(env={"WORKERS": workers})
        self.addCleanup(stack.stop)
        app = stack._procs["app"]

        # Redis holds every write for a while, so each worker is busy with
        # a request and more wait on the socket when the signal comes.
        stack.redis("CLIENT", "PAUSE", "5000", "WRITE")
        self.addCleanup(lambda: stack.pid("redis")
                        and stack.redis("CLIENT", "UNPAUSE"))
        calls = [("POST", "/api/locks/acquire", acquire_body("stop", "r%d" % i))
                 for i in range(3 * workers)]
        results = {}
        sender = threading.Thread(
            target=lambda: results.update(r=concurrently(stack, calls)))
        sender.start()

        def busy():
            info = stack.redis("INFO", "clients")
            return "blocked_clients:%d" % workers in info
        self.assertTrue(wait_until(busy), "every worker is in a request")
        queued = len(calls) - workers
        if backlog(stack.socket_path) is not None:
            self.assertTrue(wait_until(
                lambda: backlog(stack.socket_path) == queued),
                "the other requests wait on the socket")
        else:
            time.sleep(0.5)

        os.kill(app.pid, signal.SIGTERM)
        self.assertTrue(wait_until(lambda: "signal 15" in app_log(stack)))
        # A request that comes after the signal is turned away at once.
        r = stack.request("POST", "/api/locks/acquire",
                          acquire_body("stop", "late"), timeout=5)
        self.assertJsonError(r, 502, "service_unavailable")
        self.assertIsNone(app.poll(), "still serving what it was sent")

        stack.redis("CLIENT", "UNPAUSE")
        try:
            status = app.wait(5)
        except subprocess.TimeoutExpired:
            self.fail("the app did not exit within 5 s of its last request")
        sender.join(30)
        self.assertEqual(status, 0, app_log(stack))
        self.assertEqual([r.status for r in results["r"]],
                         [200] * len(calls), app_log(stack))
        self.assertIn("slotlock stopped", app_log(stack))

    def test_sigterm_when_idle_exits_0_at_once(self):
        stack = Stack()
        self.addCleanup(stack.stop)
        app = stack._procs["app"]
        os.kill(app.pid, signal.SIGTERM)
        self.assertEqual(app.wait(5), 0, app_log(stack))


class StartTest(JsonErrorMixin, unittest.TestCase):
    def run_app(self, env):
        """Runs the app under spawn-fcgi as the systemd unit does; returns
        (exit status, output). Redis is never there."""
        tmp = tempfile.mkdtemp(prefix="slotlock-start-")
        self.addCleanup(shutil.rmtree, tmp, True)
        full = {"PATH": os.environ["PATH"], "REDIS_HOST": "127.0.0.1",
                "REDIS_PORT": str(free_port())}
        full.update(env)
        proc = subprocess.Popen(
            ["spawn-fcgi", "-n", "-s", os.path.join(tmp, "app.sock"),
             "-M", "0600", "--", APP_BIN], env=full,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out = proc.communicate(timeout=10)[0].decode()
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0].decode()
        return proc.returncode, out

    def test_a_bad_setting_stops_start_up_naming_it(self):
        cases = [
            ("REDIS_PORT", "abc"), ("REDIS_PORT", "70000"),
            ("REDIS_DB", "-1"), ("REDIS_CONNECT_TIMEOUT", "10s"),
            ("REDIS_COMMAND_TIMEOUT", "0"),
            ("REDIS_MAX_RETRY_PER_REQUEST", "many"), ("WORKERS", "0"),
            ("LOCK_TTL", "999"), ("LOCK_REFRESH_INTERVAL", "1e3"),
            ("LOCK_MAX_HOLD", "2.5"), ("LOCK_MAX_PER_HOLDER", "0"),
            ("BOOKING_MIN_REPLICAS", "x"), ("REDIS_SENTINELS", "nohost"),
            ("REDIS_CLUSTER_NODES", "a:b"), ("ADMIN_TOKEN", "t" * 600),
        ]
        for name, value in cases:
            with self.subTest(name=name, value=value):
                status, out = self.run_app({name: value})
                self.assertEqual(status, 2, out)
                self.assertIn(name, out)
                self.assertNotIn("slotlock started", out)
        # One that is fine alone but not with another.
        status, out = self.run_app({"LOCK_TTL": "700000"})
        self.assertEqual(status, 2, out)
        self.assertIn("LOCK_TTL", out)

    def test_starts_without_redis_and_serves_once_redis_is_up(self):
        stack = Stack(start_redis=False)
        self.addCleanup(stack.stop)
        app_pid = stack.pid("app")
        r = stack.request("GET", "/api/locks/health")
        self.assertJsonError(r, 503, "service_unavailable")
        r = stack.request("POST", "/api/locks/acquire", acquire_body("start"))
        self.assertJsonError(r, 503, "service_unavailable")

        stack.start_redis()
        self.assertTrue(wait_until(lambda: stack.request(
            "GET", "/api/locks/health").status == 200))
        r = stack.request("POST", "/api/locks/acquire", acquire_body("start"))
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(stack.pid("app"), app_pid)


class LogTest(unittest.TestCase):
    TOKEN = "admin-7d1c0e5f9a2b4c68b3e1f0a9d8c7b6a5"
    WRONG_TOKEN = "not-the-token-31f4a9c2e8b7d6a5"
    EMAIL = "ada.lovelace.q7z@example.org"
    PHONE = "+44 20 7946 0958"
    NAME = "Ada Q. Lovelace-Zyx"

    def test_one_line_per_request_and_no_customer_data_or_token(self):
        stack = Stack(env={"ADMIN_TOKEN": self.TOKEN})
        self.addCleanup(stack.stop)
        admin = {"Authorization": "Bearer " + self.TOKEN}
        sent = []   # (request id, method, path, status)

        def call(method, path, body=None, headers=None):
            r = stack.request(method, path, body, headers)
            sent.append((r.headers.get("X-Request-Id"), method,
                         path.split("?")[0], r.status))
            return r

        r = call("POST", "/api/locks/acquire",
                 acquire_body("logs", start="09:00", duration=60))
        self.assertEqual(r.status, 200, r.text)
        booking = {"lockId": r.json["lockId"], "tenantId": "logs",
                   "specialistId": "r1", "serviceId": "cut",
                   "date": "2025-03-10", "startTime": "09:00",
                   "endTime": "10:00", "duration": 60, "price": 30,
                   "customerName": self.NAME, "customerEmail": self.EMAIL,
                   "customerPhone": self.PHONE}
        self.assertEqual(call("POST", "/api/appointments", booking).status,
                         201)
        self.assertEqual(call("POST", "/api/appointments", booking).status,
                         200)
        bad = dict(booking, customerEmail=self.EMAIL + " nope")
        self.assertEqual(call("POST", "/api/appointments", bad).status, 400)
        r = call("GET", "/api/appointments?tenantId=logs", headers=admin)
        self.assertEqual(r.status, 200, r.text)
        self.assertIn(self.EMAIL, r.text)
        appointment_id = r.json["appointments"][0]["id"]
        self.assertEqual(call("GET", "/api/appointments/" + appointment_id,
                              headers={"Authorization": "Bearer "
                                       + self.WRONG_TOKEN}).status, 401)
        self.assertEqual(call("DELETE", "/api/appointments/" + appointment_id,
                              headers=admin).status, 200)
        self.assertEqual(call("GET", "/api/locks/metrics",
                              headers=admin).status, 200)

        # An error is logged with its cause.
        stack.stop_redis()
        self.assertEqual(call("GET", "/api/locks/health").status, 503)

        ids = [s[0] for s in sent]
        self.assertTrue(wait_until(lambda: all(i in app_log(stack)
                                               for i in ids), 5))
        log = app_log(stack)
        for secret in (self.TOKEN, self.WRONG_TOKEN, self.EMAIL, self.PHONE,
                       self.NAME, "7946 0958", "lovelace"):
            self.assertNotIn(secret.lower(), log.lower())

        lines = {}
        for line in log.splitlines():
            m = REQUEST_LINE.match(line)
            if m:
                self.assertNotIn(m.group("id"), lines, "one line a request")
                lines[m.group("id")] = m
        for request_id, method, path, status in sent:
            with self.subTest(request=(method, path, status)):
                m = lines.get(request_id)
                self.assertIsNotNone(m, "no request line for %s" % request_id)
                self.assertEqual(m.group("method"), method)
                # An id in the path is never logged: it is written {id}.
                self.assertEqual(m.group("path"), re.sub(
                    r"^(/api/(locks|appointments)/)[0-9a-f-]{36}$", r"\1{id}",
                    path))
                self.assertEqual(int(m.group("status")), status)
        self.assertRegex(log, r"\n\S+ error worker \d+: redis: \S.*")


class NginxErrorTest(JsonErrorMixin, unittest.TestCase):
    def test_rate_limit_on_booking_creation_is_429_json(self):
        stack = Stack(env={"RATE_LIMIT_RPS": "1", "RATE_LIMIT_BURST": "2"})
        self.addCleanup(stack.stop)
        responses = concurrently(stack, [
            ("POST", "/api/appointments", {"tenantId": "rate"})] * 8)
        limited = [r for r in responses if r.status == 429]
        self.assertEqual(len(responses) - len(limited), 3,
                         "1 request plus a burst of 2 get through")
        for r in limited:
            self.assertJsonError(r, 429, "rate_limited")
            self.assertEqual(r.headers.get("Retry-After"), "1")

    def test_app_too_slow_is_504_json(self):
        stack = Stack()
        self.addCleanup(stack.stop)
        # The site keeps nginx's 60 s read timeout; a copy with 1 s makes
        # the timeout happen within the test.
        conf = os.path.join(stack.dir, "nginx", "slotlock.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("fastcgi_intercept_errors off;",
                                 "fastcgi_intercept_errors off;\n"
                                 "    fastcgi_read_timeout 1s;", 1))
        master = stack.pid("nginx")
        old = nginx_workers(master)
        os.kill(master, signal.SIGHUP)
        self.assertTrue(wait_until(
            lambda: (lambda now: now and not now & old)(nginx_workers(master))),
            "nginx reloaded")

        app = stack.pid("app")
        os.kill(app, signal.SIGSTOP)
        self.addCleanup(os.kill, app, signal.SIGCONT)
        r = stack.request("GET", "/api/locks/health", timeout=10)
        self.assertJsonError(r, 504, "service_unavailable")
        self.assertEqual(r.headers.get("Retry-After"), "1")


def nginx_workers(master):
    """The pids of an nginx master's worker processes."""
    try:
        with open("/proc/%d/task/%d/children" % (master, master)) as f:
            return set(int(p) for p in f.read().split())
    except OSError:
        return set()


if __name__ == "__main__":
    unittest.main()
