"""script/server itself, run as a developer runs it: each part it started
(redis-server, the app, nginx; in --sentinel mode also a replica and a
sentinel) is SIGKILLed in turn while it runs. The part is started again
within seconds, the others keep running, every acknowledged booking is
still there and a new booking works; only SIGTERM stops it all. And
--sentinel is ready only when a booking can be acknowledged."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, _tail, wait_until  # noqa: E402

SERVER = os.path.join(SRCDIR, "script", "server")
TOKEN = "server-test-token"
ADMIN = {"Authorization": "Bearer " + TOKEN}
# script/server runs script/bootstrap and script/build first (both quick
# when there is nothing to do); the bound on coming up allows for a build.
START_TIMEOUT = 240
# A killed part must serve again within this many seconds.
RESTART_TIMEOUT = 10
STOP_TIMEOUT = 20


def report(text):
    sys.stderr.write("test_server: %s\n" % text)


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_ports(count):
    """The first of count consecutive loopback ports, all free now
    (script/server puts the replicas on REDIS_PORT + 1 and + 2, the
    sentinels on SENTINEL_PORT and the two after it)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + count <= 65535 and all(port_free(first + i)
                                          for i in range(count)):
            return first
    raise RuntimeError("no %d consecutive free ports" % count)


def port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def processes():
    """{pid: (ppid, cmdline)} of every process on the machine."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(
                    "utf-8", "replace").strip()
        except OSError:
            continue
        # The command name in parentheses may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] == "Z":
            continue
        found[int(entry)] = (int(fields[1]), cmdline)
    return found


def descendants(pid):
    """{pid: cmdline} of every process below pid."""
    procs = processes()
    out, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, cmdline) in procs.items():
            if ppid == parent and child not in out:
                out[child] = cmdline
                todo.append(child)
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


class Server:
    """script/server in its own session, its run folder a temporary one."""

    def __init__(self, args=(), env=None):
        self.dir = tempfile.mkdtemp(prefix="slotlock-server-")
        self.run_dir = os.path.join(self.dir, "run")
        self.port = free_ports(1)
        self.redis_port = free_ports(3)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", self.dir),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "SLOTLOCK_RUN_DIR": self.run_dir,
            "PORT": str(self.port), "REDIS_PORT": str(self.redis_port),
            "ADMIN_TOKEN": TOKEN, "RATE_LIMIT_RPS": "0",
            "LOCK_MAX_PER_ADDRESS": "0", "WORKERS": "2",
        }
        self.env.update(env or {})
        self.log_path = os.path.join(self.dir, "server.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [SERVER] + list(args), cwd=self.dir, env=self.env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.seen = {}

    def log(self):
        return ("\n--- script/server output ---\n" + _tail(self.log_path, 6000))

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            headers = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            return resp.status, parsed, text
        finally:
            conn.close()

    def health(self):
        try:
            return self.request("GET", "/api/locks/health", timeout=3)[0]
        except OSError:
            return None

    def parts(self):
        """{name: pid} of the parts script/server runs now, found among
        its children by their command lines."""
        found = {}
        procs = processes()
        for pid, (ppid, cmdline) in procs.items():
            if ppid != self.proc.pid:
                continue
            if cmdline.startswith("nginx: master process"):
                found["nginx"] = pid
            elif cmdline.split(" ")[0].endswith("/slotlock"):
                found["app"] = pid
            elif cmdline.split(" ")[0].endswith("/slotlock-events"):
                found["events"] = pid
            elif cmdline.startswith("redis-server"):
                # "redis-server 127.0.0.1:PORT [sentinel]" once it has
                # read its configuration; until then it does not count.
                address = cmdline.split(" ")[1].rsplit(":", 1)
                if len(address) != 2 or not address[1].isdigit():
                    continue
                port = int(address[1])
                if "[sentinel]" in cmdline:
                    found["sentinel-%d" % (port - self.sentinel_port + 1)] = pid
                elif port == self.redis_port:
                    found["redis"] = pid
                else:
                    found["replica-%d" % (port - self.redis_port)] = pid
        for pid in found.values():
            self.seen[pid] = procs[pid][1]
        return found

    sentinel_port = 0

    def stop(self):
        # What it started, nginx's workers (in their own group) included.
        self.seen.update(descendants(self.proc.pid))
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        # Whatever is left of what it started (a test that failed half way).
        for pid in list(self.seen):
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if os.environ.get("SLOTLOCK_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)


class ServerCase(unittest.TestCase):
    tenant = "srv"
    slot = 0

    def start(self, args=(), env=None, sentinel=False):
        extra = dict(env or {})
        sentinel_port = 0
        if sentinel:
            sentinel_port = free_ports(3)
            extra["SENTINEL_PORT"] = str(sentinel_port)
        server = Server(args, extra)
        server.sentinel_port = sentinel_port
        self.addCleanup(server.stop)
        return server

    def wait_up(self, server):
        started = time.monotonic()
        up = wait_until(lambda: server.health() == 200
                        or server.proc.poll() is not None,
                        START_TIMEOUT, pause=0.1)
        self.assertTrue(up and server.proc.poll() is None,
                        "script/server did not come up" + server.log())
        return time.monotonic() - started

    def book(self, server):
        """acquire + POST /api/appointments; returns (status, answer)."""
        ServerCase.slot += 1
        minute = ServerCase.slot * 30
        start = "%02d:%02d" % (8 + minute // 60 % 10, minute % 60)
        date = "2031-%02d-%02d" % (1 + ServerCase.slot // 28 % 12,
                                    1 + ServerCase.slot % 28)
        status, lock, text = server.request("POST", "/api/locks/acquire", {
            "tenantId": self.tenant, "resourceId": "specialist-1",
            "date": date, "startTime": start, "duration": 30})
        self.assertEqual(status, 200, text + server.log())
        end_minute = (8 + minute // 60 % 10) * 60 + minute % 60 + 30
        status, answer, text = server.request("POST", "/api/appointments", {
            "lockId": lock["lockId"], "tenantId": self.tenant,
            "specialistId": "specialist-1", "serviceId": "service-1",
            "date": date, "startTime": start,
            "endTime": "%02d:%02d" % (end_minute // 60, end_minute % 60),
            "customerName": "Jo Doe", "customerEmail": "jo@example.com",
            "customerPhone": "+1234567890", "price": 50, "duration": 30})
        return status, answer, text

    def booked(self, server):
        status, answer, text = self.book(server)
        self.assertEqual(status, 201, text + server.log())
        return answer["appointment"]["id"]

    def assert_kept(self, server, ids):
        for appointment_id in ids:
            status, answer, text = server.request(
                "GET", "/api/appointments/" + appointment_id, headers=ADMIN)
            self.assertEqual(status, 200, text + server.log())
            self.assertEqual(answer["appointment"]["id"], appointment_id)

    def kill_and_recover(self, server, name, ids):
        """SIGKILLs the part name; returns the seconds until it ran again
        under a new pid and health answered 200."""
        before = server.parts()
        self.assertIn(name, before, server.log())
        workers = [pid for pid, cmdline in descendants(before[name]).items()
                   if name == "nginx"]
        os.kill(before[name], signal.SIGKILL)
        killed = time.monotonic()

        def back():
            now = server.parts()
            return (now.get(name) not in (None, before[name])
                    and server.health() == 200)
        self.assertTrue(wait_until(back, RESTART_TIMEOUT, pause=0.1),
                        "%s was not started again (parts now: %s)%s"
                        % (name, server.parts(), server.log()))
        took = time.monotonic() - killed
        self.assertIsNone(server.proc.poll(), server.log())
        now = server.parts()
        for other, pid in before.items():
            if other != name:
                self.assertEqual(now.get(other), pid,
                                 "%s was restarted too, or stopped, when %s "
                                 "was killed%s" % (other, name, server.log()))
        # nginx's workers outlive their master: they must not keep the
        # port from the new nginx, nor be left behind.
        self.assertTrue(wait_until(lambda: not any(alive(p) for p in workers),
                                   5), "old nginx workers left running")
        self.assertIn("%s exited" % name, _tail(server.log_path, 6000))
        self.assert_kept(server, ids)
        ids.append(self.booked(server))
        return took

    def stop_and_check(self, server, ports):
        left = set(descendants(server.proc.pid)) | set(server.seen)
        server.proc.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        try:
            status = server.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail("script/server did not stop on SIGTERM" + server.log())
        took = time.monotonic() - stopping
        self.assertEqual(status, 143, server.log())
        self.assertTrue(wait_until(lambda: not any(alive(p) for p in left),
                                   5),
                        "left running after SIGTERM: %s%s" % (
                            {p: server.seen.get(p) for p in left if alive(p)},
                            server.log()))
        for port in ports:
            self.assertFalse(port_answers(port), "port %d still answers"
                             % port)
        return took


class DefaultModeTest(ServerCase):
    tenant = "srv-default"

    def test_each_part_killed_is_started_again_and_nothing_is_lost(self):
        server = self.start()
        came_up = self.wait_up(server)
        self.assertEqual(sorted(server.parts()),
                         ["app", "events", "nginx", "redis"], server.log())
        ids = [self.booked(server) for _ in range(3)]
        timings = {}
        for name in ("redis", "app", "nginx", "events"):
            timings[name] = self.kill_and_recover(server, name, ids)
        # The same one again: a restart is not a one-off.
        timings["redis again"] = self.kill_and_recover(server, "redis", ids)
        took = self.stop_and_check(server, [server.port, server.redis_port])
        report("came up in %.1f s; serving again after SIGKILL: %s; %d "
               "bookings kept; stopped on SIGTERM in %.1f s"
               % (came_up, ", ".join("%s %.1f s" % kv
                                     for kv in timings.items()),
                  len(ids), took))


class SentinelModeTest(ServerCase):
    tenant = "srv-sentinel"

    def test_ready_means_a_booking_is_acknowledged(self):
        server = self.start(["--sentinel"], sentinel=True)
        came_up = self.wait_up(server)
        # The very first booking, as soon as health says 200: the replicas
        # are online and caught up, so it is confirmed by one of them.
        started = time.monotonic()
        status, answer, text = self.book(server)
        took = time.monotonic() - started
        self.assertEqual(status, 201, text + server.log())
        self.assertLess(took, 1.5, "the first booking waited for a replica")
        ids = [answer["appointment"]["id"]]
        self.assertTrue(wait_until(
            lambda: "slotlock is running" in _tail(server.log_path, 6000), 5),
            server.log())
        self.assertEqual(
            sorted(server.parts()),
            ["app", "events", "nginx", "redis", "replica-1", "replica-2",
             "sentinel-1", "sentinel-2", "sentinel-3"], server.log())
        timings = {}
        for name in ("replica-1", "sentinel-2", "app"):
            timings[name] = self.kill_and_recover(server, name, ids)
        took_stop = self.stop_and_check(
            server, [server.port, server.redis_port, server.redis_port + 1,
                     server.redis_port + 2] + [server.sentinel_port + i
                                               for i in range(3)])
        report("--sentinel came up in %.1f s, first booking in %.2f s; "
               "serving again after SIGKILL: %s; stopped in %.1f s"
               % (came_up, took, ", ".join("%s %.1f s" % kv
                                           for kv in timings.items()),
                  took_stop))


if __name__ == "__main__":
    unittest.main()
