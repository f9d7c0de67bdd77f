"""The live slot grid in headless Chromium (grid.mjs): two customers on
the same day's grid, against a stack with slotlock-events publishing to
nginx's stream. When one holds a slot the other's grid shows it held,
free again when it is released, booked when it is booked, all without a
reload and without reading status again; a page whose stream cannot
connect polls instead. Exits 77 (skipped) like test_browser.py when
node, chromium or playwright-core is missing."""

import os
import sys
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from harness import Stack  # noqa: E402
from browser_common import main, run_scenarios  # noqa: E402


class GridBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(env={"LOCK_TTL": "150000",
                               "LOCK_MAX_PER_ADDRESS": "0"}, events=True)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def test_grid_in_headless_chromium(self):
        run_scenarios(self, "grid.mjs", ["--url", self.stack.url],
                      [self.stack])


if __name__ == "__main__":
    main()
