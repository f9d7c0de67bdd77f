"""make install: the files it puts on a server, and that they work there.
The systemd unit passes systemd-analyze verify, the nginx site passes
nginx -t inside a stock Debian nginx.conf, the settings file starts the
app, and the socket the unit makes is open to nginx's group only."""

import grp
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (APP_BIN, SRCDIR, STOCK_NGINX, free_port,  # noqa: E402
                     nginx_t_in_stock_conf, wait_until)

BUILDDIR = os.path.dirname(os.path.dirname(APP_BIN))
IN_CI = bool(os.environ.get("CI"))

UNIT = "lib/systemd/system/slotlock.service"
ENV_FILE = "etc/slotlock/slotlock.env"
SITE = "etc/nginx/conf.d/slotlock.conf"
PROGRAM = "usr/bin/slotlock"
WWW = "usr/share/slotlock/www"

# Every variable of the configuration table of the API contract.
SETTINGS = {
    "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB",
    "REDIS_CONNECT_TIMEOUT", "REDIS_MAX_RETRY_PER_REQUEST",
    "REDIS_COMMAND_TIMEOUT", "WORKERS", "REDIS_SENTINELS",
    "REDIS_MASTER_NAME", "REDIS_SENTINEL_PASSWORD", "REDIS_CLUSTER_NODES",
    "BOOKING_MIN_REPLICAS", "LOCK_TTL", "LOCK_REFRESH_INTERVAL",
    "LOCK_MAX_HOLD", "LOCK_MAX_PER_HOLDER", "ADMIN_TOKEN", "RATE_LIMIT_RPS",
    "RATE_LIMIT_BURST",
    # The contract's additions.
    "LOCK_MAX_PER_ADDRESS", "PAYMENT_HOLD", "READ_RATE_LIMIT_RPS",
    "READ_RATE_LIMIT_BURST", "CORS_ALLOWED_ORIGINS", "JWT_SECRET",
    "JWT_PUBLIC_KEY_FILE", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_TENANT_CLAIM",
    "JWT_ROLE_CLAIM", "EVENTS_MAXLEN", "EVENTS_RETENTION", "SWEEP_INTERVAL",
    "WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_RETRY_FOR", "WEBHOOK_RETRY_MAX",
    "WEBHOOK_TIMEOUT",
    "GRID_PUBLISH_URL",
}

# A user id no account has, like the one DynamicUser= makes.
DYNAMIC_UID = 61923


def clean_env():
    """The environment for a child make: no jobserver of the make running
    the tests."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR")}
    env["LC_ALL"] = "C"
    return env


def unit_lines(path, key):
    """The values of key= in a unit file, in order."""
    with open(path) as f:
        return [line.split("=", 1)[1].strip() for line in f
                if line.startswith(key + "=")]


def env_file_lines(path):
    """(name, value, commented) for each KEY=VALUE line of the settings
    file, "#KEY=VALUE" lines included."""
    out = []
    with open(path) as f:
        for line in f:
            m = re.match(r"^(#?)([A-Z][A-Z0-9_]*)=(.*)$", line.rstrip("\n"))
            if m:
                out.append((m.group(2), m.group(3), m.group(1) == "#"))
    return out


def www_files():
    """The pages in the source tree's www/, as make install sees them."""
    root = os.path.join(SRCDIR, "www")
    found = []
    for folder, dirs, files in os.walk(root):
        for name in files:
            if not name.startswith("."):
                found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(found)



class InstallTest(unittest.TestCase):
    """One make install into a staging folder, as a packager or
    "sudo make install" with --prefix=/usr --sysconfdir=/etc would do."""

    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(os.path.join(BUILDDIR, "Makefile")):
            raise RuntimeError("no Makefile in %s: configure first" % BUILDDIR)
        cls.tmp = tempfile.mkdtemp(prefix="slotlock-install-")
        # Traversable by the other users the socket test runs as.
        os.chmod(cls.tmp, 0o755)
        cls.root = os.path.join(cls.tmp, "root")
        r = subprocess.run(
            ["make", "-s", "-C", BUILDDIR, "install", "DESTDIR=" + cls.root,
             "prefix=/usr", "sysconfdir=/etc",
             "systemdsystemunitdir=/lib/systemd/system"],
            env=clean_env(), capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise RuntimeError("make install failed:\n" + r.stdout + r.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.root, name)

    def mode(self, name):
        return stat.S_IMODE(os.stat(self.path(name)).st_mode)

    # ---- the files ------------------------------------------------------

    def test_install_puts_each_file_in_place_with_its_mode(self):
        self.assertEqual(self.mode(PROGRAM), 0o755)
        self.assertEqual(self.mode(UNIT), 0o644)
        self.assertEqual(self.mode(SITE), 0o644)
        self.assertEqual(self.mode(ENV_FILE), 0o640,
                         "the settings file may hold secrets")
        for name in www_files():
            with self.subTest(page=name):
                self.assertEqual(self.mode(os.path.join(WWW, name)), 0o644)
        leftovers = [os.path.join(d, f) for d, _, files in os.walk(self.root)
                     for f in files if f.endswith(".tmp")]
        self.assertEqual(leftovers, [])

    def test_unit_names_the_installed_paths(self):
        unit = self.path(UNIT)
        with open(unit) as f:
            text = f.read()
        self.assertIsNone(re.search(r"@[A-Za-z_]+@", text),
                          "every @placeholder@ is filled in")
        self.assertEqual(unit_lines(unit, "EnvironmentFile"),
                         ["/" + ENV_FILE])
        start = shlex.split(unit_lines(unit, "ExecStart")[0])
        self.assertEqual(os.path.basename(start[0]), "spawn-fcgi")
        self.assertIn("-n", start)
        self.assertEqual(start[start.index("-s") + 1],
                         "/run/slotlock/slotlock.sock")
        self.assertEqual(start[-1], "/" + PROGRAM)
        self.assertEqual(unit_lines(unit, "RuntimeDirectory"), ["slotlock"])

    def test_site_serves_the_installed_pages_from_the_installed_socket(self):
        with open(self.path(SITE)) as f:
            text = f.read()
        self.assertRegex(text, r"\n\s*root /%s;" % re.escape(WWW))
        self.assertIn("server unix:/run/slotlock/slotlock.sock ", text)

    def test_install_keeps_an_edited_settings_file(self):
        env_file = self.path(ENV_FILE)
        with open(env_file) as f:
            shipped = f.read()

        def restore():
            with open(env_file, "w") as f:
                f.write(shipped)
        self.addCleanup(restore)
        with open(env_file, "a") as f:
            f.write("ADMIN_TOKEN=kept-across-installs\n")
        r = subprocess.run(
            ["make", "-s", "-C", BUILDDIR, "install-data",
             "DESTDIR=" + self.root, "prefix=/usr", "sysconfdir=/etc",
             "systemdsystemunitdir=/lib/systemd/system"],
            env=clean_env(), capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(env_file) as f:
            self.assertIn("ADMIN_TOKEN=kept-across-installs", f.read())

    # ---- systemd --------------------------------------------------------

    def systemd_analyze(self):
        tool = shutil.which("systemd-analyze")
        if tool is None:
            if IN_CI:
                self.fail("systemd-analyze missing: script/bootstrap "
                          "installs the systemd package")
            self.skipTest("no systemd-analyze (apt-get install systemd)")
        return tool

    def test_unit_passes_systemd_analyze_verify(self):
        tool = self.systemd_analyze()
        # Without a running systemd, verify loads the file on its own and
        # still checks every key, value and the ExecStart programs.
        r = subprocess.run([tool, "verify", self.path(UNIT)],
                           capture_output=True, text=True, timeout=60,
                           env=dict(clean_env(), SYSTEMD_LOG_COLOR="0"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout + r.stderr, "")

    def test_systemd_analyze_verify_does_find_faults_here(self):
        # So that a silent pass above means something on this machine.
        tool = self.systemd_analyze()
        bad = os.path.join(self.tmp, "broken.service")
        with open(self.path(UNIT)) as f:
            text = f.read()
        with open(bad, "w") as f:
            f.write(text.replace("ProtectSystem=strict",
                                 "ProtectSystem=strikt"))
        r = subprocess.run([tool, "verify", bad], capture_output=True,
                           text=True, timeout=60)
        self.assertIn("strikt", r.stdout + r.stderr)

    def test_settings_file_lists_every_setting_and_its_values_start_the_app(self):
        lines = env_file_lines(self.path(ENV_FILE))
        names = [name for name, _, _ in lines]
        self.assertEqual(set(names), SETTINGS)
        self.assertEqual(len(names), len(set(names)), "each setting once")
        self.assertTrue(all(commented for _, _, commented in lines),
                        "shipped with every default commented out")

        # nginx applies the rate limit; the file shows the site's values.
        values = {name: value for name, value, _ in lines}
        with open(self.path(SITE)) as f:
            site = f.read()
        self.assertIn("rate=%sr/s;" % values["RATE_LIMIT_RPS"], site)
        self.assertIn("burst=%s " % values["RATE_LIMIT_BURST"], site)
        self.assertIn("zone=slotlock_read:10m rate=%sr/s;"
                      % values["READ_RATE_LIMIT_RPS"], site)
        self.assertIn("zone=slotlock_read burst=%s "
                      % values["READ_RATE_LIMIT_BURST"], site)

        # Every line uncommented as it stands is a valid configuration.
        env = {"PATH": os.environ["PATH"]}
        env.update((k, v) for k, v in values.items()
                   if not k.startswith("RATE_LIMIT_"))
        env.update(REDIS_HOST="127.0.0.1", REDIS_PORT=str(free_port()))
        sock = os.path.join(self.tmp, "settings.sock")
        proc = subprocess.Popen(
            ["spawn-fcgi", "-n", "-s", sock, "-M", "0600", "--",
             self.path(PROGRAM)], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        try:
            self.assertTrue(wait_until(lambda: os.path.exists(sock)
                                       or proc.poll() is not None))
            time.sleep(0.2)
            self.assertIsNone(proc.poll(), "the app stopped at start-up")
        finally:
            proc.send_signal(signal.SIGTERM)
            out = proc.communicate(timeout=10)[0].decode()
        self.assertEqual(proc.returncode, 0, out)
        self.assertIn("slotlock started", out)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to switch users")
    def test_unit_socket_is_open_to_the_nginx_group_and_no_one_else(self):
        # What systemd does with the unit, step by step: a runtime folder
        # owned by a dynamic user (mode 0750), ExecStart as that user, in
        # no other group, then the "+" ExecStartPost line as root.
        # (test_systemd.py runs the unit under systemd itself.)
        unit = self.path(UNIT)
        run = os.path.join(self.tmp, "run")
        os.mkdir(run, 0o750)
        os.chown(run, DYNAMIC_UID, DYNAMIC_UID)
        post = unit_lines(unit, "ExecStartPost")
        self.assertEqual(len(post), 1)
        self.assertTrue(post[0].startswith("+"), post[0])
        group = re.search(r"chgrp (\S+) /run/slotlock ", post[0])
        self.assertIsNotNone(group, "the unit gives the folder to a group")
        group = group.group(1)
        gid = grp.getgrnam(group).gr_gid

        sock = os.path.join(run, "slotlock.sock")
        argv = [{"/run/slotlock/slotlock.sock": sock,
                 "/" + PROGRAM: self.path(PROGRAM)}.get(a, a)
                for a in shlex.split(unit_lines(unit, "ExecStart")[0])]
        env = {"PATH": os.environ["PATH"], "REDIS_HOST": "127.0.0.1",
               "REDIS_PORT": str(free_port()), "WORKERS": "2"}
        proc = subprocess.Popen(
            ["setpriv", "--reuid=%d" % DYNAMIC_UID,
             "--regid=%d" % DYNAMIC_UID, "--clear-groups", "--"] + argv,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            self.assertTrue(wait_until(lambda: os.path.exists(sock)
                                       or proc.poll() is not None))
            subprocess.run(
                [a.replace("/run/slotlock", run).replace("$$", "$")
                 for a in shlex.split(post[0][1:])], check=True, timeout=30,
                env=dict(os.environ, MAINPID=str(proc.pid)))
            st = os.stat(sock)
            self.assertEqual(st.st_uid, DYNAMIC_UID)
            self.assertEqual(st.st_gid, gid, "socket given to the group")
            self.assertEqual(os.stat(run).st_gid, gid, "and its folder")
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)

            def connect_as(user):
                entry = pwd.getpwnam(user)
                return subprocess.run(
                    ["setpriv", "--reuid=%d" % entry.pw_uid,
                     "--regid=%d" % entry.pw_gid,
                     "--init-groups", "--", sys.executable, "-c",
                     "import socket,sys; s=socket.socket(socket.AF_UNIX);"
                     "s.connect(sys.argv[1])", sock],
                    capture_output=True, text=True, timeout=30)

            # nginx's workers run as a member of that group.
            member = next((u.pw_name for u in pwd.getpwall()
                           if u.pw_gid == gid), None)
            self.assertIsNotNone(member, "a user whose group is " + group)
            r = connect_as(member)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = connect_as("nobody")
            self.assertNotEqual(r.returncode, 0, "others are kept out")
            self.assertIn("Permission denied", r.stderr)
        finally:
            proc.send_signal(signal.SIGTERM)
            out = proc.communicate(timeout=10)[0].decode()
        self.assertEqual(proc.returncode, 0, out)

    # ---- nginx ----------------------------------------------------------

    @unittest.skipUnless(os.path.isfile(STOCK_NGINX + "/nginx.conf"),
                         "no stock nginx.conf to include the site in")
    def test_site_passes_nginx_t_inside_the_stock_debian_nginx_conf(self):
        r, stock = nginx_t_in_stock_conf(self.path(SITE))
        self.assertIn("include /etc/nginx/conf.d/*.conf;", stock)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("test is successful", r.stderr)


if __name__ == "__main__":
    unittest.main()
