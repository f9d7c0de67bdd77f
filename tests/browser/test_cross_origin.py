"""A booking site on its own origin runs the shipped lock client against
slotlock on another origin, in headless Chromium (cross_origin.mjs):
acquire, countdown, refresh, release and booking work from a listed
origin; a page on an unlisted origin is refused (the API's 403 carries no
CORS header, so the browser hides it from the page). Each site origin is
its own small HTTP server on loopback serving a page and
www/slotlock-client.js. Exits 77 (skipped) like test_browser.py when
node, chromium or playwright-core is missing."""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from harness import SRCDIR, Stack, free_port  # noqa: E402
from browser_common import BROWSER_DIR, CHROMIUM, main  # noqa: E402

PAGE = b"""<!doctype html><html><head><meta charset="utf-8">
<title>A booking site</title></head><body><p>Booking site</p></body></html>
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_site(folder):
    port = free_port()
    handler = functools.partial(_Quiet, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % port


class CrossOriginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="slotlock-site-")
        with open(os.path.join(cls.folder, "index.html"), "wb") as f:
            f.write(PAGE)
        shutil.copy(os.path.join(SRCDIR, "www", "slotlock-client.js"),
                    cls.folder)
        cls.site, cls.site_url = serve_site(cls.folder)
        cls.evil, cls.evil_url = serve_site(cls.folder)
        cls.stack = Stack(env={"CORS_ALLOWED_ORIGINS": cls.site_url,
                               "LOCK_TTL": "150000"})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        for s in (cls.site, cls.evil):
            s.shutdown()
            s.server_close()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_the_lock_client_across_origins(self):
        r = subprocess.run(
            ["node", os.path.join(BROWSER_DIR, "cross_origin.mjs"),
             "--api", self.stack.url, "--site", self.site_url,
             "--evil", self.evil_url],
            env=dict(os.environ, CHROMIUM=CHROMIUM), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, timeout=120)
        sys.stdout.write("\n" + r.stdout)
        self.assertEqual(r.returncode, 0, r.stdout + self.stack.logs())


if __name__ == "__main__":
    main()
