"""The live slot grid in headless Chromium (grid.mjs): two customers on
the same day's grid, against a stack with slotlock-events publishing to
nginx's stream. When one holds a slot the other's grid shows it held,
free again when it is released, booked when it is booked, all without a
reload and without reading status again; a page whose stream cannot
connect polls instead. Exits 77 (skipped) like test_browser.py when
node, chromium or playwright-core is missing."""

import os
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from harness import Stack  # noqa: E402
from test_browser import BROWSER_DIR, CHROMIUM, missing  # noqa: E402

NODE_TIMEOUT_S = 240


class GridBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(env={"LOCK_TTL": "150000",
                               "LOCK_MAX_PER_ADDRESS": "0"}, events=True)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def test_grid_in_headless_chromium(self):
        argv = ["node", os.path.join(BROWSER_DIR, "grid.mjs"),
                "--url", self.stack.url]
        env = dict(os.environ, CHROMIUM=CHROMIUM)
        try:
            r = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               timeout=NODE_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            self.fail("grid.mjs did not finish in %d s\n%s\n%s" % (
                NODE_TIMEOUT_S, e.output or "", self.stack.logs()))
        sys.stdout.write("\n" + r.stdout)
        if r.returncode != 0:
            self.fail("grid.mjs exited %d\n%s\n%s" % (
                r.returncode, r.stdout, self.stack.logs()))


if __name__ == "__main__":
    reason = missing()
    if reason:
        print("browser tests: " + reason)
        sys.exit(1 if os.environ.get("SLOTLOCK_REQUIRE_BROWSER") else 77)
    unittest.main(verbosity=2)
