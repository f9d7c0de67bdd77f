"""Health through nginx, and the JSON errors nginx makes itself."""

import os
import shutil
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack  # noqa: E402

JSON_TYPE = "application/json; charset=utf-8"


class HealthTest(unittest.TestCase):
    def setUp(self):
        self.stack = Stack()
        self.addCleanup(self.stack.stop)

    def assertJsonError(self, r, status, reason):
        """r is status with the contract's error body and headers."""
        self.assertEqual(r.status, status, r.text)
        self.assertEqual(r.headers.get("Content-Type"), JSON_TYPE)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertIsInstance(r.json, dict, r.text)
        self.assertEqual(r.json.get("success"), False, r.text)
        self.assertEqual(r.json.get("reason"), reason, r.text)
        self.assertIsInstance(r.json.get("message"), str, r.text)
        self.assertTrue(r.json["message"], r.text)

    def wait_for_status(self, path, status, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            r = self.stack.request("GET", path)
            if r.status == status or time.monotonic() > deadline:
                return r
            time.sleep(0.1)

    def test_health_is_200_with_the_contract_body_and_headers(self):
        r = self.stack.request("GET", "/api/locks/health")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json, {"success": True, "healthy": True,
                                  "message": "Lock service is operational"})
        self.assertEqual(r.headers.get("Content-Type"), JSON_TYPE)
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertRegex(r.headers.get("X-Request-Id", ""), r"^[0-9a-f]{32}$")

    def test_health_is_503_while_redis_is_down_and_recovers_without_restart(self):
        app_pid = self.stack.pid("app")
        self.stack.stop_redis()

        r = self.stack.request("GET", "/api/locks/health")
        self.assertJsonError(r, 503, "service_unavailable")
        self.assertEqual(r.json.get("healthy"), False, r.text)
        self.assertEqual(r.headers.get("Retry-After"), "1")

        self.stack.start_redis()
        r = self.wait_for_status("/api/locks/health", 200)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json.get("healthy"), True, r.text)
        self.assertEqual(self.stack.pid("app"), app_pid,
                         "the app must survive Redis going away")

    def test_body_over_16_KiB_is_413_json_from_nginx(self):
        body = '{"tenantId":"%s"}' % ("a" * 20 * 1024)
        r = self.stack.request("POST", "/api/locks/acquire", body,
                               {"Content-Type": "application/json"})
        self.assertJsonError(r, 413, "payload_too_large")

    def test_uri_over_8_KiB_is_414_json_from_nginx(self):
        r = self.stack.request(
            "GET", "/api/locks/status?tenantId=" + "a" * 10 * 1024)
        self.assertJsonError(r, 414, "uri_too_long")

    def test_app_down_is_502_json_and_recovers_on_restart(self):
        self.stack.kill_app()
        r = self.stack.request("GET", "/api/locks/health")
        self.assertJsonError(r, 502, "service_unavailable")
        self.assertEqual(r.headers.get("Retry-After"), "1")

        self.stack.start_app()
        r = self.stack.request("GET", "/api/locks/health")
        self.assertEqual(r.status, 200, r.text)

    def test_path_outside_the_api_is_404_json_from_nginx(self):
        for path in ("/no-such-page.html", "/api/locks", "/api/other"):
            with self.subTest(path=path):
                r = self.stack.request("GET", path)
                self.assertJsonError(r, 404, "not_found")


class RedisOverUnixSocketTest(unittest.TestCase):
    """REDIS_HOST starting with / is a Unix socket (script/server reaches
    its own Redis that way)."""

    def test_the_app_reaches_redis_over_its_unix_socket(self):
        # A folder with a short path: a socket's path has at most 107 bytes.
        folder = tempfile.mkdtemp(prefix="slotlock-sock-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "redis.sock")
        # One redis-server also when the module runs against a cluster: a
        # cluster's nodes are reached by address only.
        stack = Stack(env={"REDIS_HOST": path}, cluster=False,
                      redis_config={"unixsocket": path,
                                    "unixsocketperm": "700"})
        self.addCleanup(stack.stop)

        r = stack.request("GET", "/api/locks/health")
        self.assertEqual(r.status, 200, r.text)
        body = {"tenantId": "sock", "resourceId": "r1", "date": "2030-01-02",
                "startTime": "10:00", "duration": 30}
        r = stack.request("POST", "/api/locks/acquire", body)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(stack.request("POST", "/api/locks/acquire",
                                       body).status, 409)
        # The app's connections are the socket's (flag U), none over TCP
        # but this test's own.
        clients = stack.redis("CLIENT", "LIST").splitlines()
        self.assertTrue([c for c in clients if " flags=U " in c], clients)
        tcp = [c for c in clients if " addr=127.0.0.1:" in c]
        self.assertEqual(len(tcp), 1, clients)


if __name__ == "__main__":
    unittest.main()
