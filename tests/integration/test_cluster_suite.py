"""The integration suite once more, against a Redis Cluster: each module
below runs in its own process with SLOTLOCK_TEST_REDIS=cluster, so every
Stack it makes is three primaries joined by redis-cli --cluster create
instead of one redis-server. One test per module; a module that fails
fails its test, with the module's output in the log.

Left out: test_sentinel (Sentinel, a single primary by nature),
test_round_trips (counts commands on one Redis), test_deploy (starts no
Redis), test_cluster and test_cluster_failover (a cluster whatever the
setting). test_valgrind runs when SLOTLOCK_VALGRIND_TESTS=1 (make check
sets it where valgrind runs the single-Redis one)."""

import os
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))

MODULES = ["test_health", "test_locks", "test_appointments", "test_admin",
           "test_nginx", "test_durability", "test_redis_faults", "test_clock",
           "test_abuse", "test_bad_input", "test_daemon", "test_instances",
           "test_hoarding", "test_customer_data", "test_checkout",
           "test_capacity", "test_lost_replies", "test_events",
           "test_webhooks", "test_event_faults", "test_grid"]
if os.environ.get("SLOTLOCK_VALGRIND_TESTS") == "1":
    MODULES.append("test_valgrind")

# A module that hangs is stopped (SIGTERM: its Stacks stop what they
# started) and fails.
MODULE_TIMEOUT_S = 900


def run_module(name):
    env = dict(os.environ, SLOTLOCK_TEST_REDIS="cluster")
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, name + ".py")],
                            env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        out = proc.communicate(timeout=MODULE_TIMEOUT_S)[0]
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            out = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0]
        out += b"\n(stopped after %d s)\n" % MODULE_TIMEOUT_S
    return proc.returncode, out.decode("utf-8", "replace"), \
        time.monotonic() - began


class ClusterSuiteTest(unittest.TestCase):
    pass


def _make(name):
    def test(self):
        status, out, took = run_module(name)
        sys.stderr.write("==== %s against a cluster: exit %s, %.0f s\n%s\n"
                         % (name, status, took, out))
        self.assertEqual(status, 0, "%s failed against a cluster" % name)
    test.__name__ = name
    test.__doc__ = "%s.py with SLOTLOCK_TEST_REDIS=cluster" % name
    return test


for _name in MODULES:
    setattr(ClusterSuiteTest, _name, _make(_name))


if __name__ == "__main__":
    unittest.main()
