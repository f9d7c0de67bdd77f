"""What the headless Chromium tests (test_browser.py, test_grid_browser.py,
test_cross_origin.py) share: where Chromium and the scenarios are, the
check that node, chromium and playwright-core are there, running one
scenario file with node against the stacks, and the main that skips (77)
when something is missing."""

import os
import shutil
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from harness import SRCDIR  # noqa: E402

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


def run_scenarios(test, script, args, stacks):
    """Runs node BROWSER_DIR/script args with CHROMIUM set and prints what
    it printed; fails test (with the stacks' logs) when it runs longer
    than NODE_TIMEOUT_S or exits other than 0."""
    argv = ["node", os.path.join(BROWSER_DIR, script)] + args
    env = dict(os.environ, CHROMIUM=CHROMIUM)
    try:
        r = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           timeout=NODE_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        test.fail("%s did not finish in %d s\n%s\n%s" % (
            script, NODE_TIMEOUT_S, e.output or "", stacks[0].logs()))
    sys.stdout.write("\n" + r.stdout)
    if r.returncode != 0:
        test.fail("%s exited %d\n%s\n%s" % (
            script, r.returncode, r.stdout,
            "\n".join(s.logs() for s in stacks)))


def main():
    reason = missing()
    if reason:
        print("browser tests: " + reason)
        # script/test installs all three, so there a gap is a failure.
        sys.exit(1 if os.environ.get("SLOTLOCK_REQUIRE_BROWSER") else 77)
    unittest.main(verbosity=2)
