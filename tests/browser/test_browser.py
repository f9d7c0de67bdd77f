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
import sys
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from harness import Stack  # noqa: E402
from browser_common import main, run_scenarios  # noqa: E402

TOKEN = "browser-admin-token"


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
        args = ["--url", self.stack.url, "--short-url", self.short.url,
                "--token", TOKEN, "--screenshots", shots]
        if os.environ.get("BROWSER_ONLY"):
            args += ["--only", os.environ["BROWSER_ONLY"]]
        run_scenarios(self, "run.mjs", args, [self.stack, self.short])


if __name__ == "__main__":
    main()
