"""The slot picker and admin pages in headless Chromium (Debian's chromium
package, driven by playwright-core from tests/browser/package-lock.json)
against two real stacks: one with a long lock life for racing, closing,
clock-skew and admin scenarios, one whose locks reach LOCK_MAX_HOLD within
seconds for the expiry scenario. The scenarios are in run.mjs.

Exits 77 (skipped) when node, chromium or playwright-core is missing:
script/bootstrap installs the first two, `npm ci` in tests/browser the
third (script/test does both, and sets SLOTLOCK_REQUIRE_BROWSER=1 so
that there a missing one fails the test instead).

BROWSER_ONLY=<words> runs only the scenarios whose name contains them;
SLOTLOCK_SCREENSHOT_DIR says where the screenshots go (default:
tests/browser/screenshots under the current folder)."""

import os
import shutil
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import SRCDIR, Stack  # noqa: E402

TOKEN = "browser-admin-token"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
BROWSER_DIR = os.path.join(SRCDIR, "tests", "browser")
NODE_TIMEOUT_S = 240


def missing():
    if not shutil.which("node"):
        return "node is not installed (script/bootstrap installs it)"
    if not os.access(CHROMIUM, os.X_OK):
        return "no %s (script/bootstrap installs chromium)" % CHROMIUM
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules",
                                      "playwright-core")):
        return "no playwright-core: run npm ci in tests/browser"
    return None


class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Refresh every second, so a force-released hold is noticed at once.
        # The picker's grid follows the live stream (docs/live-grid.md),
        # which slotlock-events feeds.
        cls.stack = Stack(env={"ADMIN_TOKEN": TOKEN, "LOCK_TTL": "150000",
                               "LOCK_REFRESH_INTERVAL": "1000"}, events=True)
        try:
            # Acquired at 0 with 4 s of life; the refresh at 1 s is cut to
            # the 5 s cap, the next one is refused with max_hold_reached,
            # and the hold runs out at 5 s.
            cls.short = Stack(env={"LOCK_TTL": "4000",
                                   "LOCK_MAX_HOLD": "5000",
                                   "LOCK_REFRESH_INTERVAL": "1000"},
                               events=True)
        except BaseException:
            cls.stack.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.short.stop()
        cls.stack.stop()

    def test_pages_in_headless_chromium(self):
        shots = os.path.abspath(os.environ.get("SLOTLOCK_SCREENSHOT_DIR")
                                or os.path.join("tests", "browser",
                                                "screenshots"))
        argv = ["node", os.path.join(BROWSER_DIR, "run.mjs"),
                "--url", self.stack.url, "--short-url", self.short.url,
                "--token", TOKEN, "--screenshots", shots]
        if os.environ.get("BROWSER_ONLY"):
            argv += ["--only", os.environ["BROWSER_ONLY"]]
        env = dict(os.environ, CHROMIUM=CHROMIUM)
        try:
            r = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               timeout=NODE_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            self.fail("run.mjs did not finish in %d s\n%s\n%s" % (
                NODE_TIMEOUT_S, e.output or "", self.stack.logs()))
        sys.stdout.write("\n" + r.stdout)
        if r.returncode != 0:
            self.fail("run.mjs exited %d\n%s\n%s\n%s" % (
                r.returncode, r.stdout, self.stack.logs(), self.short.logs()))


if __name__ == "__main__":
    reason = missing()
    if reason:
        print("browser tests: " + reason)
        # script/test installs all three, so there a gap is a failure.
        sys.exit(1 if os.environ.get("SLOTLOCK_REQUIRE_BROWSER") else 77)
    unittest.main(verbosity=2)
