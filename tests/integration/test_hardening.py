"""What nginx answers by itself, and the headers every answer carries.

Every status nginx makes here (the request could not be read, a protocol it
does not speak, a range or precondition a static file cannot meet, a
method it refuses, the app down) is the project's JSON error shape, never
nginx's HTML page. TRACE, which nginx refuses before it looks at the path,
gets the app's own method_not_allowed on API paths. A path segment
starting with a dot is never served from the web root. Every answer says
X-Content-Type-Options: nosniff; the pages also refuse to be framed and
carry a Content-Security-Policy that fits what they load."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, Stack, free_port, wait_until  # noqa: E402

JSON_TYPE = "application/json; charset=utf-8"
REQUEST_ID = r"^[0-9a-f]{32}$"
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# nginx's own answer to a method a static page does not take.
STATIC_405_MESSAGE = "Static pages can only be read with GET or HEAD."
NGINX_404_MESSAGE = "Nothing is served at this path."


def raw(request_line, *headers, body=b""):
    lines = [request_line, "Host: test", "Connection: close"] + list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class JsonErrorAssertions:
    def assertHeaderOnce(self, r, name, value=None):
        values = [v for k, v in r.header_list if k.lower() == name.lower()]
        self.assertEqual(len(values), 1,
                         "%s once in %r" % (name, r.header_list))
        if value is not None:
            self.assertEqual(values[0], value, r.header_list)

    def assertJsonError(self, r, status, reason):
        self.assertEqual(r.status, status, r.text)
        self.assertHeaderOnce(r, "Content-Type", JSON_TYPE)
        self.assertHeaderOnce(r, "Cache-Control", "no-store")
        self.assertHeaderOnce(r, "X-Content-Type-Options", "nosniff")
        self.assertRegex(r.headers.get("X-Request-Id") or "", REQUEST_ID,
                         r.header_list)
        self.assertIsInstance(r.json, dict, r.text)
        self.assertEqual(r.json.get("success"), False, r.text)
        self.assertEqual(r.json.get("reason"), reason, r.text)
        self.assertIsInstance(r.json.get("message"), str, r.text)


class NginxOwnErrorsTest(JsonErrorAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def request(self, *args, **kwargs):
        return self.stack.request(*args, **kwargs)

    def test_unknown_transfer_encoding_is_501_json(self):
        r = self.request(raw=raw(
            "POST /api/locks/acquire HTTP/1.1",
            "Content-Type: application/json", "Transfer-Encoding: gzip"))
        self.assertJsonError(r, 501, "not_implemented")

    def test_http_2_0_request_line_is_505_json(self):
        r = self.request(raw=raw("GET / HTTP/2.0"))
        self.assertJsonError(r, 505, "http_version_not_supported")

    def test_range_past_the_end_of_a_page_is_416_json(self):
        r = self.request("GET", "/index.html",
                         headers={"Range": "bytes=999999-"})
        self.assertJsonError(r, 416, "range_not_satisfiable")
        # A range that fits is still served as one.
        r = self.request("GET", "/index.html", headers={"Range": "bytes=0-9"})
        self.assertEqual(r.status, 206, r.text)
        self.assertEqual(len(r.body), 10)

    def test_failed_if_match_on_a_page_is_412_json(self):
        r = self.request("GET", "/index.html", headers={"If-Match": '"nope"'})
        self.assertJsonError(r, 412, "precondition_failed")

    def test_if_unmodified_since_in_the_past_on_a_page_is_412_json(self):
        r = self.request("GET", "/index.html", headers={
            "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
        self.assertJsonError(r, 412, "precondition_failed")

    def test_trace_on_api_paths_gets_the_apps_405(self):
        for path in ("/api/locks/health", "/api/appointments",
                     "/api/locks/acquire", "/api/locks/status?tenantId=t"):
            with self.subTest(path=path):
                app = self.request("PUT", path)
                self.assertEqual(app.status, 405, app.text)
                r = self.request(raw=raw("TRACE %s HTTP/1.1" % path))
                self.assertJsonError(r, 405, "method_not_allowed")
                self.assertNotEqual(r.json["message"], STATIC_405_MESSAGE)
                self.assertHeaderOnce(r, "Allow", app.headers["Allow"])
        # On an API path the app does not know, TRACE is its 404, as any
        # other method would be.
        app = self.request("PUT", "/api/locks/admin/nope")
        r = self.request(raw=raw("TRACE /api/locks/admin/nope HTTP/1.1"))
        self.assertEqual((r.status, r.json), (app.status, app.json))

    def test_trace_with_a_body_on_an_api_path_is_still_the_apps_405(self):
        body = b'{"tenantId":"t"}'
        r = self.request(raw=raw(
            "TRACE /api/locks/health HTTP/1.1", "Content-Type: application/json",
            "Content-Length: %d" % len(body), body=body))
        self.assertJsonError(r, 405, "method_not_allowed")
        self.assertHeaderOnce(r, "Allow", "GET")

    def test_trace_on_a_page_is_the_static_405(self):
        for path in ("/", "/admin", "/index.html"):
            with self.subTest(path=path):
                r = self.request(raw=raw("TRACE %s HTTP/1.1" % path))
                self.assertJsonError(r, 405, "method_not_allowed")
                self.assertEqual(r.json["message"], STATIC_405_MESSAGE)
                self.assertHeaderOnce(r, "Allow", "GET, HEAD")

    def test_unknown_methods_on_api_paths_reach_the_app(self):
        r = self.request(raw=raw("FROB /api/locks/health HTTP/1.1"))
        self.assertJsonError(r, 405, "method_not_allowed")
        self.assertHeaderOnce(r, "Allow", "GET")

    def test_every_status_nginx_makes_here_is_json(self):
        cases = [
            ("bad request line", raw("GARBAGE"), 400, "bad_request"),
            ("Content-Length and Transfer-Encoding",
             raw("POST /api/locks/acquire HTTP/1.1", "Content-Length: 2",
                 "Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
             400, "bad_request"),
            ("header over 8 KiB (494)",
             raw("GET /api/locks/health HTTP/1.1", "X-Big: " + "a" * 10240),
             400, "bad_request"),
            ("unknown page", raw("GET /nope.html HTTP/1.1"), 404, "not_found"),
            ("an error page asked for", raw("GET /_slotlock_error/500 HTTP/1.1"),
             404, "not_found"),
            ("POST to a page", raw("POST /index.html HTTP/1.1",
                                   "Content-Length: 0"),
             405, "method_not_allowed"),
            ("body over 16 KiB",
             raw("POST /api/locks/acquire HTTP/1.1",
                 "Content-Type: application/json", "Content-Length: 20000",
                 body=b"a" * 20000),
             413, "payload_too_large"),
            ("URI over 8 KiB", raw("GET /%s HTTP/1.1" % ("a" * 9000)),
             414, "uri_too_long"),
            ("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n",
             400, "bad_request"),
        ]
        for what, request, status, reason in cases:
            with self.subTest(what):
                self.assertJsonError(self.request(raw=request), status, reason)


class AppDownTest(JsonErrorAssertions, unittest.TestCase):
    def test_app_down_is_json_with_request_id_and_nosniff(self):
        stack = Stack()
        self.addCleanup(stack.stop)
        stack.kill_app()
        r = stack.request("GET", "/api/locks/health")
        self.assertIn(r.status, (502, 503), r.text)
        self.assertJsonError(r, r.status, "service_unavailable")
        # TRACE goes to the app too; with the app down it is the same 503
        # shape, not nginx's HTML 502.
        r = stack.request(raw=raw("TRACE /api/locks/health HTTP/1.1"))
        self.assertIn(r.status, (502, 503), r.text)
        self.assertJsonError(r, r.status, "service_unavailable")


class HeadersTest(JsonErrorAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def test_pages_refuse_framing_and_carry_the_csp(self):
        for path in ("/", "/admin", "/index.html", "/admin.html", "/app.js",
                     "/admin.js", "/slotlock-client.js", "/style.css"):
            with self.subTest(path=path):
                r = self.stack.request("GET", path)
                self.assertEqual(r.status, 200, r.text)
                self.assertHeaderOnce(r, "X-Content-Type-Options", "nosniff")
                self.assertHeaderOnce(r, "X-Frame-Options", "DENY")
                self.assertHeaderOnce(r, "Content-Security-Policy", PAGE_CSP)
                self.assertRegex(r.headers.get("X-Request-Id") or "",
                                 REQUEST_ID)

    def test_api_answers_and_nginx_errors_say_nosniff(self):
        for method, path in (("GET", "/api/locks/health"),
                             ("GET", "/api/locks/status?tenantId=t"
                              "&resourceId=r&date=2025-03-10"),
                             ("GET", "/api/appointments?tenantId=t"),
                             ("GET", "/api/locks/nope/x"),
                             ("GET", "/api/locks"),
                             ("GET", "/nope"),
                             ("DELETE", "/")):
            with self.subTest(method=method, path=path):
                r = self.stack.request(method, path)
                self.assertHeaderOnce(r, "X-Content-Type-Options", "nosniff")
                self.assertRegex(r.headers.get("X-Request-Id") or "",
                                 REQUEST_ID)

    def test_the_csp_allows_everything_the_pages_load(self):
        # Only same-origin scripts and styles, no inline ones, no style
        # attributes in the markup: what the CSP above allows.
        www = os.path.join(SRCDIR, "www")
        for name in sorted(os.listdir(www)):
            if not name.endswith(".html"):
                continue
            with open(os.path.join(www, name)) as f:
                html = f.read()
            with self.subTest(page=name):
                self.assertNotRegex(html, r"<script(?![^>]*\bsrc=\"/)")
                self.assertNotRegex(html, r"<style|\sstyle=|\son[a-z]+=")
                for url in re.findall(r'(?:src|href)="([^"]+)"', html):
                    self.assertTrue(url.startswith("/")
                                    and not url.startswith("//"), url)


class DotfilesTest(JsonErrorAssertions, unittest.TestCase):
    """A second nginx over the same app, rendered with a web root of its
    own that holds dotfiles (the project's www/ has none to find)."""

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack()
        cls.tmp = tempfile.mkdtemp(prefix="slotlock-dot-")
        cls.nginx = None
        try:
            www = os.path.join(cls.tmp, "www")
            for path, text in ((".env", "SECRET=1\n"),
                               (".git/config", "[core]\n"),
                               ("sub/.hidden", "secret\n"),
                               ("sub/file.txt", "visible\n"),
                               (".dir/file.txt", "secret\n"),
                               ("index.html", "<!doctype html>\n")):
                path = os.path.join(www, path)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
            os.makedirs(os.path.join(www, "empty"))
            cls.port = free_port()
            ndir = os.path.join(cls.tmp, "nginx")
            subprocess.run(
                [os.path.join(SRCDIR, "script", "render-nginx-conf"),
                 "--dir", ndir, "--listen", "127.0.0.1:%d" % cls.port,
                 *[arg for path in cls.stack.socket_paths
                   for arg in ("--socket", path)],
                 "--rate", "0", "--www", www, "--workers", "1"], check=True)
            cls.nginx = subprocess.Popen(
                ["nginx", "-p", ndir + "/", "-c",
                 os.path.join(ndir, "nginx.conf"), "-e",
                 os.path.join(ndir, "error.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

            def listening():
                with socket.create_connection(("127.0.0.1", cls.port), 1):
                    return True
            if not wait_until(listening, ignore=(OSError,)):
                raise RuntimeError("the second nginx did not start")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.nginx is not None:
            cls.nginx.send_signal(signal.SIGQUIT)
            try:
                cls.nginx.wait(10)
            except subprocess.TimeoutExpired:
                cls.nginx.kill()
                cls.nginx.wait()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        cls.stack.stop()

    def get(self, path):
        import http.client
        from harness import Response
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return Response(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()

    def test_a_path_segment_starting_with_a_dot_is_a_json_404(self):
        for path in ("/.env", "/.git/config", "/.git/", "/sub/.hidden",
                     "/.dir/file.txt", "/%2eenv", "/sub/%2Ehidden",
                     "/sub/../.env", "/.env?x=1", "/.nothing-here"):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertJsonError(r, 404, "not_found")
                self.assertNotIn(b"SECRET", r.body)

    def test_other_files_are_still_served(self):
        r = self.get("/sub/file.txt")
        self.assertEqual((r.status, r.text), (200, "visible\n"))
        self.assertHeaderOnce(r, "X-Content-Type-Options", "nosniff")
        r = self.get("/")
        self.assertEqual(r.status, 200, r.text)

    def test_a_folder_without_an_index_is_a_json_404_not_a_listing(self):
        for path in ("/empty/", "/empty", "/sub/"):
            with self.subTest(path=path):
                self.assertJsonError(self.get(path), 404, "not_found")

    def test_api_paths_with_a_dot_segment_still_reach_the_app(self):
        r = self.get("/api/locks/.x")
        self.assertEqual(r.headers.get("Content-Type"), JSON_TYPE, r.text)
        self.assertNotEqual((r.json or {}).get("message"), NGINX_404_MESSAGE,
                            "answered by the app, not by nginx")


if __name__ == "__main__":
    unittest.main()
