"""script/bench: slotlock measured through nginx with wrk, beside three
baselines measured in the same run through the same nginx: nginx answering
by itself (return 200), a minimal libfcgi program making one Redis round
trip per request (tests/bench/fcgi_baseline.c), and the stack a user would
pick instead (tests/bench/node: Express and ioredis under node:cluster, the
naive SET NX PX hold, behind nginx with upstream keepalive).

The stack is the integration tests' own (harness.Stack): Redis (one
redis-server, or with --cluster a Redis Cluster of three primaries) from
script/render-redis-conf, the app under spawn-fcgi, nginx from
script/render-nginx-conf. On top of it the bench starts the baseline
program on a socket of its own and the Node baseline on a loopback port,
and adds two nginx servers on ports of their own: one for /return200 and
/fcgi, one proxying to Node. Run it through script/bench.
"""

import http.client
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402
from harness import Stack, free_port  # noqa: E402

BASELINE_BIN = os.path.join(ROOT, "tests", "bench", "fcgi_baseline")
# The baseline's keys all hash to this slot; in a cluster it talks to the
# node that serves it.
BASELINE_PREFIX = "{bench_baseline}"
BASELINE_NGINX = "baseline nginx return"
BASELINE_FCGI = "baseline fcgi+redis"
BASELINE_NODE = "baseline node express"
NODE_DIR = os.path.join(HERE, "node")
# The Node baseline's keys, like the libfcgi baseline's, in one slot.
NODE_PREFIX = "{bench_node}"
# Idle subscribers of the live grid held open in the grid scenarios.
GRID_STREAMS = 1000

# Busy-day scenarios (tests/bench/busy_day.lua): days each wrk thread fills
# for status (all 96 quarters held), and days per connection for the
# acquire-then-release cycles on days of 95 holds (or empty ones), so that
# a day's release is long answered before the day comes round again.
BUSY_STATUS_DAYS = 16
BUSY_ACQUIRE = "busy day acquire"
CYCLE_FULL = "busy acq+rel, day of 95"
CYCLE_EMPTY = "busy acq+rel, empty day"
BUSY_CYCLE_DAYS_PER_CONN = 4
# Acquire on resources with settings (tests/bench/acquire_settings.lua):
# the label, the resources' name prefix and their settings (None: none
# stored), compared with the first.
SETTINGS = [("acquire, no settings", "ns", None),
            ("acquire, cap 1 + buffers", "bs", (1, 10, 15)),
            ("acquire, capacity 1000", "cs", (1000, 0, 0))]
SETTINGS_RESOURCES = 256
# A full day at capacity 1000 (tests/bench/capacity_day.lua): every place
# of its 24 one-hour slots held.
CAPACITY_DAY = ("capday", "room", "2030-06-01", 1000)
CAPACITY_ACQUIRE = "capacity 1000 full day, acq"
CAPACITY_STATUS = "capacity 1000 full day, st"
# The kernel's own threads in a profile (--profile), by name.
KERNEL_THREADS = ("kworker", "ksoftirqd", "rcu_", "kdamond", "jbd2",
                  "migration", "kswapd", "irq/")
# Live locks are preloaded in batches, so that Redis never blocks for long.
PRELOAD_BATCH = 2000
PRELOAD_TTL_MS = 3600000

USAGE = """\
Usage: script/bench [--scale | --tune | --cluster] [options]

Builds, then starts its own redis-server, slotlock and the baseline program
(spawn-fcgi), the Node baseline (tests/bench/node, installed with npm ci
the first time) and nginx in a temporary folder on free loopback ports
(RATE_LIMIT_RPS=0), runs wrk scenarios (tests/bench/*.lua) and prints a
table: req/s, p50/p99/max latency, the ratio to each baseline, the CPU the
app and Redis spent per request, and Redis commands per request, then how
the run compares with the targets. Every scenario runs --runs times
(interleaved) and the median is shown. Nothing is left running.

  --duration S     seconds per scenario run (default 10)
  --connections N  wrk connections (default 64)
  --threads N      wrk threads (default 2)
  --runs N         runs of each scenario; the median is shown (default 2)
  --workers N      WORKERS of each app process (default: the app's own)
  --procs N        spawn-fcgi -F: app processes (default 1)
  --backlog N      spawn-fcgi -b: listen backlog (default 1024)
  --keepalive N    nginx keeps N idle connections per worker to the app,
                   with fastcgi_keep_conn on (0: off; default: as shipped)
  --appendfsync M  Redis appendfsync: always (default, as script/server
                   runs Redis), everysec or no
  --redis-over T   how the app and the baselines reach Redis: tcp
                   (127.0.0.1, default, as script/server runs it) or unix
                   (a Unix socket)
  --only REGEX     measure only the scenarios whose name REGEX matches
                   (the baselines always)
  --profile DIR    record each scenario run system-wide with perf (cpu-clock,
                   call graphs) into DIR/<scenario>-<run>-<n>.data and print,
                   after the table, the CPU each program (nginx, the app,
                   Redis, wrk, the kernel's own threads) spent per request
  --scale          instead: throughput and p99 at 16, 64, 256 and 1024
                   connections, then acquire and status with 10k, 100k and
                   1M live locks preloaded, and Redis's memory
  --tune           instead: acquire on unique slots for each worker, process
                   and backlog layout; BENCH_LAYOUTS="W F B K C,..." (WORKERS,
                   -F, -b, keepalive, connections) measures others
  --cluster        the default scenarios against a Redis Cluster of three
                   primaries (cluster-enabled redis-servers, no replicas,
                   each with the durability settings above) instead of one
                   redis-server: slotlock gets REDIS_CLUSTER_NODES, the
                   baseline program talks to the node that serves its keys,
                   Redis CPU and commands are summed over the three nodes,
                   and trips counts every command the app sends (the lockId
                   and appointment-id index GET/SET too, health's script on
                   every primary)
"""


def say(text):
    sys.stderr.write("bench: %s\n" % text)


class Fail(Exception):
    """Ends the bench with "bench: <message>" and status 1."""


def parse_args(argv):
    """The options as a dict; exits 2 (with usage) on a bad one, as the
    shell version did."""
    opts = {"duration": "10", "connections": "64", "threads": "2",
            "runs": "2", "workers": "", "procs": "1", "backlog": "1024",
            "keepalive": "", "appendfsync": "always", "mode": "default",
            "cluster": False, "only": "", "profile": "",
            "redis-over": "tcp"}
    valued = ("duration", "connections", "threads", "runs", "workers",
              "procs", "backlog", "keepalive", "appendfsync", "only",
              "profile", "redis-over")

    def usage_error(text):
        sys.stderr.write(text + "\n")
        sys.exit(2)

    args = list(argv)
    while args:
        arg = args.pop(0)
        name = arg[2:]
        if arg in ("-h", "--help"):
            sys.stdout.write(USAGE)
            sys.exit(0)
        elif name in valued and arg.startswith("--"):
            if not args:
                usage_error("bench: %s needs a value" % arg)
            opts[name] = args.pop(0)
        elif arg in ("--scale", "--tune"):
            opts["mode"] = name
        elif arg == "--cluster":
            opts["cluster"] = True
        else:
            sys.stderr.write("bench: unknown argument: %s\n" % arg)
            sys.stderr.write(USAGE)
            sys.exit(2)
    for name in ("duration", "connections", "threads", "runs", "procs",
                 "backlog"):
        if not re.fullmatch(r"[1-9][0-9]*", opts[name]):
            usage_error("bench: --%s must be a positive number" % name)
        opts[name] = int(opts[name])
    if not re.fullmatch(r"([1-9][0-9]*)?", opts["workers"]):
        usage_error("bench: --workers must be a positive number")
    if not re.fullmatch(r"([0-9]+)?", opts["keepalive"]):
        usage_error("bench: --keepalive must be a number")
    if opts["appendfsync"] not in ("always", "everysec", "no"):
        usage_error("bench: --appendfsync must be always, everysec or no")
    if opts["redis-over"] not in ("unix", "tcp"):
        usage_error("bench: --redis-over must be unix or tcp")
    if opts["cluster"]:
        opts["redis-over"] = "tcp"     # cluster nodes are found by address
    if opts["cluster"] and opts["mode"] != "default":
        usage_error("bench: --cluster runs the default scenarios only, not "
                    "--%s" % opts["mode"])
    return opts


def build(opts):
    """Installs what is missing, builds the app and the baseline program."""
    subprocess.run([os.path.join(ROOT, "script", "bootstrap")], check=True)
    subprocess.run([os.path.join(ROOT, "script", "build")], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["make", "tests/bench/fcgi_baseline"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    if not shutil.which("wrk"):
        raise Fail("wrk is missing (script/bootstrap installs it)")
    if opts["profile"] and not shutil.which("perf"):
        raise Fail("--profile needs perf (Debian's linux-perf)")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules")):
        if not shutil.which("node") or not shutil.which("npm"):
            raise Fail("the Node baseline needs node (18 or later) and npm")
        say("installing the Node baseline (npm ci in tests/bench/node)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=NODE_DIR, check=True,
                       stdout=subprocess.DEVNULL)
    # 1024 connections need more than the usual 1024 descriptors, in wrk
    # and in nginx (which inherits this limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 16384 if hard == resource.RLIM_INFINITY else min(16384, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def cpu_us(pids):
    """CPU time (user + system) used so far by the given processes, in
    microseconds, counted in clock ticks as /proc gives it."""
    ticks = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                # utime and stime: fields 14 and 15, the 12th and 13th
                # after the ")" that ends the command name.
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks * (1000000 // os.sysconf("SC_CLK_TCK"))


def children(pid):
    """The pids of pid's child processes."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def wrk_line(output):
    """The fields of the "BENCH ..." line tests/bench/common.lua prints."""
    for line in output.splitlines():
        if line.startswith("BENCH "):
            return dict(kv.split("=", 1) for kv in line.split()[1:])
    return None


class Bench:
    def __init__(self, opts):
        self.opts = opts
        self.workers = opts["workers"]
        self.procs = opts["procs"]
        self.backlog = opts["backlog"]
        self.keepalive = opts["keepalive"]
        self.cluster = opts["cluster"]
        self.stack = None
        self.node = None        # the Node baseline's primary process
        self.node_pids = []
        self.results = []       # (label, run, [the values report() shows])
        self.profiles = []      # (label, (perf.data path, tids), requests)
        self.socket_dir = None  # holds Redis's Unix socket (--redis-over)
        self.grid_memory = []   # (nginx kB without, with the streams)
        self.flush = True       # measure() empties Redis first
        # Commands that count as the app's round trips; see commands().
        self.app_trips = "replies" if self.cluster else "trips"

    # ---- the stack --------------------------------------------------

    def start_stack(self):
        """harness.Stack with the app as asked, the baseline program on
        its own socket, and nginx with the baselines' server; waits until
        the app and both baselines answer 200."""
        self.baseline_port = free_port()
        self.node_port = free_port()         # Node itself
        self.node_nginx_port = free_port()   # nginx in front of it
        self.url = None
        env = {"WORKERS": self.workers or None, "RATE_LIMIT_RPS": "0"}
        redis_config = {"appendfsync": self.opts["appendfsync"]}
        redis_host = "127.0.0.1"
        if self.opts["redis-over"] == "unix":
            # A short path of its own: a socket path has at most 107 bytes.
            self.socket_dir = tempfile.mkdtemp(prefix="slotlock-bench-")
            redis_host = os.path.join(self.socket_dir, "redis.sock")
            redis_config.update(unixsocket=redis_host, unixsocketperm="700")
            env["REDIS_HOST"] = redis_host
        self.stack = Stack(
            env=env, cluster=self.cluster, ready_timeout=30,
            redis_config=redis_config,
            app_procs=self.procs, app_backlog=self.backlog,
            nginx_workers="auto", nginx_setup=self.nginx_setup)
        stack = self.stack
        self.url = stack.url
        self.baseline_url = "http://127.0.0.1:%d" % self.baseline_port
        self.node_url = "http://127.0.0.1:%d" % self.node_nginx_port

        baseline_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                        "REDIS_HOST": redis_host,
                        "REDIS_PORT": str(stack.redis_port)}
        if self.cluster:
            port = stack.redis_node_of(BASELINE_PREFIX)
            baseline_env.update(REDIS_PORT=str(port),
                                KEY_PREFIX=BASELINE_PREFIX)
            say("cluster of 3 primaries on %s; the baseline's slot %d is on "
                "port %d" % (stack.env["REDIS_CLUSTER_NODES"],
                             harness.keyslot(BASELINE_PREFIX), port))
        if self.workers:
            baseline_env["WORKERS"] = self.workers
        stack.spawn_fcgi("baseline", self.baseline_socket(stack.dir),
                         [BASELINE_BIN], env=baseline_env, procs=self.procs,
                         backlog=self.backlog)
        self.start_node(baseline_env)

        for url in (self.url + "/api/locks/health",
                    self.baseline_url + "/fcgi",
                    self.baseline_url + "/return200",
                    self.node_url + "/health"):
            if not harness.wait_until(lambda: self.get_status(url) == 200,
                                      10, 0.1, ignore=(OSError,)):
                raise Fail("%s does not answer 200\n%s\n---- node\n%s"
                           % (url, stack.logs(), self.node_log()))
        # node:cluster's workers, whose CPU counts as the baseline's.
        self.node_pids = [self.node.pid] + children(self.node.pid)
        # Node compiles its hot paths while it runs: a first run of a few
        # seconds is slower, so each server gets one before any is timed.
        for script, target in (("acquire_unique.lua", self.node_url),
                               ("acquire_unique.lua", self.url)):
            subprocess.run(
                ["wrk", "-t%d" % self.opts["threads"],
                 "-c%d" % self.opts["connections"], "-d3s",
                 "-s", os.path.join(HERE, script), target],
                env=dict(os.environ, BENCH_SALT="warm"),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start_node(self, baseline_env):
        """The Node baseline (tests/bench/node/server.js) on node_port,
        one worker per core, against the same Redis (in a cluster, the
        node that serves its keys' slot)."""
        env = dict(baseline_env, PORT=str(self.node_port))
        env.pop("WORKERS", None)
        env["KEY_PREFIX"] = NODE_PREFIX if self.cluster else "bench_node"
        if self.cluster:
            env["REDIS_PORT"] = str(self.stack.redis_node_of(NODE_PREFIX))
        env["NODE_ENV"] = "production"
        self.node_log_path = os.path.join(self.stack.dir, "node.log")
        with open(self.node_log_path, "ab") as log:
            self.node = subprocess.Popen(
                ["node", os.path.join(NODE_DIR, "server.js")], env=env,
                cwd=NODE_DIR, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)

    def node_log(self):
        try:
            with open(self.node_log_path, errors="replace") as f:
                return f.read()[-4000:]
        except (OSError, AttributeError):
            return ""

    def stop_node(self):
        if self.node is None:
            return
        try:
            os.killpg(self.node.pid, signal.SIGTERM)
            self.node.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.node.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.node.wait()
        self.node = None

    def stop_stack(self):
        self.stop_node()
        if self.stack:
            self.stack.stop()
        self.stack = None
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            self.socket_dir = None

    @staticmethod
    def baseline_socket(stack_dir):
        return os.path.join(stack_dir, "baseline.sock")

    def get_status(self, url):
        host_port, path = url[len("http://"):].split("/", 1)
        port = int(host_port.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port,
                                                  timeout=2)
        try:
            conn.request("GET", "/" + path)
            return conn.getresponse().status
        finally:
            conn.close()

    def nginx_setup(self, ndir):
        """Sets the upstream keepalive when asked, and adds a server of
        the bench's own on baseline_port: /return200 answered by nginx,
        /fcgi by the baseline program, with the same FastCGI parameters
        and upstream settings as the app's."""
        path = os.path.join(ndir, "slotlock.conf")
        with open(path) as f:
            lines = f.read().split("\n")
        if self.keepalive:
            lines = [line for line in lines
                     if not re.match(r"\s*keepalive [0-9]*;", line)
                     and not re.match(r"\s*fastcgi_keep_conn ", line)]
            if int(self.keepalive) > 0:
                lines = self.insert_after(lines, r"upstream slotlock_app \{$",
                                          "    keepalive %s;" % self.keepalive)
                lines = self.insert_after(
                    lines, r"\s*fastcgi_intercept_errors off;",
                    "    fastcgi_keep_conn on;")
            with open(path, "w") as f:
                f.write("\n".join(lines))

        upstream = lines[lines.index("upstream slotlock_app {"):]
        upstream = upstream[:upstream.index("}")]
        bench = ["upstream bench_baseline {",
                 '    server "unix:%s" max_fails=0;'
                 % self.baseline_socket(os.path.dirname(ndir))]
        bench += [line for line in upstream
                  if re.match(r"\s*keepalive", line)]
        bench += ["}", "server {",
                  "    listen 127.0.0.1:%d;" % self.baseline_port]
        bench += [line for line in lines if re.match(
            r"\s*fastcgi_(param|keep_conn|intercept_errors) ", line)]
        bench += ["    location = /return200 {",
                  '        default_type "application/json; charset=utf-8";',
                  "        return 200 '{\"success\":true}';",
                  "    }",
                  "    location = /fcgi {",
                  "        fastcgi_pass bench_baseline;",
                  "    }",
                  "}"]
        # The Node baseline as one would deploy it: nginx proxying to it
        # with upstream keepalive (Node serves many requests per
        # connection), the body limit and timeouts of the app's server.
        bench += ["upstream bench_node {",
                  "    server 127.0.0.1:%d max_fails=0;" % self.node_port,
                  "    keepalive 32;",
                  "}", "server {",
                  "    listen 127.0.0.1:%d;" % self.node_nginx_port,
                  "    client_max_body_size 16k;",
                  "    location / {",
                  "        proxy_pass http://bench_node;",
                  "        proxy_http_version 1.1;",
                  '        proxy_set_header Connection "";',
                  "        proxy_set_header X-Request-Id $request_id;",
                  "    }",
                  "}"]
        with open(os.path.join(ndir, "bench.conf"), "w") as f:
            f.write("\n".join(bench) + "\n")

        path = os.path.join(ndir, "nginx.conf")
        with open(path) as f:
            main = f.read()
        include = 'include "%s";' % os.path.join(ndir, "slotlock.conf")
        if include not in main:
            raise Fail("could not add the baseline server to nginx.conf")
        main = main.replace(include, include + '\n    include "%s";'
                            % os.path.join(ndir, "bench.conf"))
        # Each client connection can hold an upstream one too: 1024 clients
        # need more than the 1024 connections per nginx worker of a local
        # run.
        main = re.sub(r"worker_connections [0-9]+;",
                      "worker_connections 4096;", main)
        with open(path, "w") as f:
            f.write(main)

    @staticmethod
    def insert_after(lines, pattern, new):
        for i, line in enumerate(lines):
            if re.match(pattern, line):
                return lines[:i + 1] + [new] + lines[i + 1:]
        raise Fail("nginx/slotlock.conf: no line %r to set keepalive after"
                   % pattern)

    # ---- measuring --------------------------------------------------

    def on_every_node(self, *args):
        """args on every Redis server of the bench in turn (the one, or each
        node of the cluster), on a connection of its own."""
        return [self.stack.redis_node(port, *args)
                for port in self.stack.redis_ports]

    def flushall(self):
        self.on_every_node("FLUSHALL")

    def commands(self, kind):
        """Commands Redis has run: "trips" counts the ones slotlock sends
        (EVALSHA and EVAL, which scripts cannot call), "set" the
        baseline's, "all" every command, those the scripts call included;
        the bench's own are left out. In a cluster the app also sends GET
        and SET (the lockId and appointment-id indexes), which INFO
        commandstats counts together with its scripts' own; "replies"
        counts what clients sent instead: the replies Redis wrote
        (total_writes_processed, one per command a client sent and waited
        for) less the connections it accepted, since each of the bench's
        own queries between two counts opens one and is answered once."""
        n = 0
        if kind == "replies":
            for info in self.on_every_node("INFO", "stats"):
                fields = dict(line.split(":", 1) for line in info.split("\r\n")
                              if ":" in line)
                n += (int(fields["total_writes_processed"])
                      - int(fields["total_connections_received"]))
            return n
        for info in self.on_every_node("INFO", "commandstats"):
            for name, calls in re.findall(
                    r"^cmdstat_([a-z|]*):calls=([0-9]*),", info, re.M):
                if re.match(r"(info|flushall|ping|config|script|dbsize)",
                            name):
                    continue
                if (kind == "all" or name in ("evalsha", "eval")
                        or (kind == "set" and name == "set")):
                    n += int(calls)
        return n

    def measure(self, label, run, conns, script, target, expect, **env):
        """One wrk measurement, kept for report(). expect: the statuses
        that count as answered; anything else, and socket errors, is
        "bad"."""
        if not self.wanted(label):
            return
        stack = self.stack
        if label.startswith(BASELINE_NODE):
            pids, trips = self.node_pids, "set"
        elif label.startswith("baseline"):
            pids, trips = stack.app_pids(["baseline"]), "set"
        else:
            pids, trips = stack.app_pids(), self.app_trips
        if self.flush:
            self.flushall()
        app_before = cpu_us(pids)
        redis_before = cpu_us(stack.redis_pids())
        trips_before = self.commands(trips)
        cmds_before = self.commands("all")
        env = dict(os.environ, BENCH_SALT="s%d%d%d" % (
            run, random.randrange(32768), random.randrange(32768)), **env)
        profile = self.start_profile(label, run, pids)
        proc = subprocess.run(
            ["wrk", "-t%d" % self.opts["threads"], "-c%d" % conns,
             "-d%ds" % self.opts["duration"], "--timeout", "5s",
             "-s", os.path.join(HERE, script), target],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        self.stop_profile(profile)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout)
            raise Fail("wrk failed in %s" % label)
        f = wrk_line(proc.stdout)
        if f is None:
            sys.stderr.write(proc.stdout)
            raise Fail("no result from %s" % label)
        app = cpu_us(pids) - app_before
        redis = cpu_us(stack.redis_pids()) - redis_before
        trips_n = self.commands(trips) - trips_before
        cmds = self.commands("all") - cmds_before

        bad = int(f["socket_errors"])
        for item in f["statuses"].split(","):
            if item != "-":
                status, n = item.split(":")
                if status not in expect.split(","):
                    bad += int(n)
        req = max(int(f["requests"]), 1)
        if bad:
            say("%s: socket errors %s, statuses %s"
                % (label, f["socket_errors"], f["statuses"]))
        # As the table shows them: rounded per request.
        values = [float(f["rps"]), float(f["p50_us"]), float(f["p99_us"]),
                  float(f["max_us"]), float(bad), round(app / req),
                  round(redis / req), round(trips_n / req, 2),
                  round(cmds / req, 1)]
        self.results.append((label, run, values))
        if profile:
            self.profiles.append((label, profile[1:], int(f["requests"])))
        say("%-26s run %s: %7s req/s  p99 %6.1f ms  bad %s"
            % (label, run, f["rps"], values[2] / 1000, bad))

    # ---- profiles (--profile) ----------------------------------------

    PROFILE_HZ = 997

    def start_profile(self, label, run, pids):
        """perf record of the whole machine while one scenario runs, as
        (the perf process, its output, {thread id: role}), or None without
        --profile. pids: the processes whose CPU counts as the app's."""
        folder = self.opts["profile"]
        if not folder:
            return None
        os.makedirs(folder, exist_ok=True)
        # The baselines are measured twice per run: a sample number keeps
        # every recording apart.
        path = os.path.join(folder, "%s-%s-%d.data" % (
            re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_"), run,
            len(self.profiles) + 1))
        # Each sample names a thread: the bench's own threads by role, so
        # that other work on the machine is not counted as theirs.
        nginx = self.stack.pid("nginx")
        roles = {"app": pids, "redis": self.stack.redis_pids(),
                 "nginx": [nginx] + children(nginx) if nginx else []}
        tids = {}
        for role, procs in roles.items():
            for pid in procs:
                try:
                    for tid in os.listdir("/proc/%d/task" % pid):
                        tids[int(tid)] = role
                except OSError:
                    pass
        perf = subprocess.Popen(
            ["perf", "record", "-a", "-g", "-e", "cpu-clock",
             "-F", str(self.PROFILE_HZ), "-o", path],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)     # perf has its buffers mapped
        return perf, path, tids

    @staticmethod
    def stop_profile(profile):
        if profile:
            profile[0].send_signal(signal.SIGINT)
            profile[0].wait()

    def profile_report(self):
        """CPU per request by program, from the recorded samples: each
        sample stands for 1/PROFILE_HZ s of one CPU. app, redis and nginx
        are the bench's own processes (by thread), wrk the load generator;
        kernel: the kernel's own threads (disk and network work done
        outside any program); other: everything else running on the
        machine; idle is left out."""
        if not self.profiles:
            return
        rows = {}
        for label, (path, tids), requests in self.profiles:
            out = subprocess.run(
                ["perf", "report", "-i", path, "--stdio", "--no-children",
                 "--sort", "pid", "-g", "none", "-F", "sample,pid"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True).stdout
            counts = rows.setdefault(label, {"requests": 0})
            counts["requests"] += max(requests, 1)
            for line in out.splitlines():
                m = re.match(r"\s*(\d+)\s+(\d+):(.*?)\s*$", line)
                if not m:
                    continue
                n, tid, comm = int(m.group(1)), int(m.group(2)), m.group(3)
                if tid == 0:
                    continue                    # idle
                role = tids.get(tid)
                if role is None:
                    role = ("wrk" if comm == "wrk" else
                            "kernel" if comm.startswith(KERNEL_THREADS)
                            else "other")
                counts[role] = counts.get(role, 0) + n
        shown = ["app", "redis", "nginx", "wrk", "kernel"]
        print()
        print("CPU per request by program, us (perf cpu-clock samples of "
              "both CPUs; idle left out)")
        print("%-26s %7s %7s %7s %7s %7s %7s %7s" % (
            "scenario", "app", "redis", "nginx", "wrk", "kernel", "total",
            "other"))
        us = 1e6 / self.PROFILE_HZ
        for label, counts in rows.items():
            req = counts.pop("requests")
            main = [counts.get(k, 0) * us / req for k in shown]
            print("%-26s %7.0f %7.0f %7.0f %7.0f %7.0f %7.0f %7.0f" % (
                (label,) + tuple(main)
                + (sum(main), counts.get("other", 0) * us / req)))
        print("(other: work on the machine that is not the bench's; perf "
              "report -i DIR/<scenario>-<run>-<n>.data for the functions)")

    def wanted(self, label):
        return (label.startswith("baseline") or not self.opts["only"]
                or re.search(self.opts["only"], label) is not None)

    def fill(self, salt, days, free):
        """Fills days 0 to days-1 of every wrk thread with 15-minute holds
        through the app (tests/bench/busy_day.lua, BENCH_BUSY=fill): all 96
        quarters, or with free all but one. Not measured; ends wrk once
        every thread has its answers."""
        env = dict(os.environ, BENCH_SALT=salt, BENCH_BUSY="fill",
                   BENCH_BUSY_SALT=salt, BENCH_BUSY_DAYS=str(days),
                   BENCH_BUSY_FREE="1" if free else "0")
        threads = self.opts["threads"]
        began = time.monotonic()
        proc = subprocess.Popen(
            ["wrk", "-t%d" % threads, "-c%d" % self.opts["connections"],
             "-d300s", "--timeout", "5s",
             "-s", os.path.join(HERE, "busy_day.lua"), self.url],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        out, filled, answered, expected = [], 0, 0, 0
        for line in proc.stdout:
            out.append(line)
            if line.startswith("BENCH_FILLED"):
                fields = dict(kv.split("=") for kv in line.split()[1:])
                answered += int(fields["answered"])
                expected += int(fields["expected"])
                filled += 1
                if filled == threads:
                    proc.send_signal(signal.SIGINT)
        proc.wait()
        f = wrk_line("".join(out))
        holds = days * threads * (95 if free else 96)
        bad = [item for item in (f["statuses"].split(",") if f else [])
               if item != "-" and not item.startswith("200:")]
        # wrk may miss an answer now and then (one in thousands); a day
        # short of one hold is still a busy day.
        if (filled != threads or bad or expected != holds
                or answered < holds - threads):
            sys.stderr.write("".join(out))
            raise Fail("busy-day fill: %d of %d threads done, %d answers "
                       "for %d holds, other statuses: %s"
                       % (filled, threads, answered, holds, bad or "none"))
        say("filled %d days with %d holds in %.1f s"
            % (days * threads, holds, time.monotonic() - began))

    def report(self, ratios):
        """The median of every label's runs as a table; with ratios, each
        req/s also as a ratio to the two baselines of the same runs."""
        rows, order = {}, []
        for label, _, values in self.results:
            if label not in rows:
                order.append(label)
                rows[label] = []
            rows[label].append(values)

        def med(label, i):
            return statistics.median(r[i] for r in rows[label])

        self.medians = {label: [med(label, i) for i in range(9)]
                        for label in order}

        def spread(label):
            v = [r[0] for r in rows[label]]
            m = statistics.median(v)
            return 100 * (max(v) - min(v)) / m if m else 0

        head = "%-26s %8s %7s %7s %7s %5s" % (
            "scenario", "req/s", "p50 ms", "p99 ms", "max ms", "bad")
        if ratios:
            head += " %7s %7s %7s" % ("/nginx", "/fcgi", "/node")
        head += " %6s %6s %5s %5s %6s" % ("app us", "red us", "trips",
                                          "cmds", "spread")
        out = [head, "-" * len(head)]
        for label in order:
            rps = med(label, 0)
            line = "%-26s %8.0f %7.2f %7.2f %7.1f %5.0f" % (
                label, rps, med(label, 1) / 1000, med(label, 2) / 1000,
                med(label, 3) / 1000, max(r[4] for r in rows[label]))
            if ratios:
                line += " %7.2f %7.2f %7.2f" % (
                    rps / med(BASELINE_NGINX, 0), rps / med(BASELINE_FCGI, 0),
                    rps / med(BASELINE_NODE, 0))
            line += " %6.0f %6.0f %5.2f %5.1f %5.0f%%" % (
                med(label, 5), med(label, 6), med(label, 7), med(label, 8),
                spread(label))
            out.append(line)
        print("\n".join(out))

    def memory(self):
        """Prints VmRSS and VmHWM of each app process; returns the largest
        VmHWM, in kB."""
        peak = 0
        for pid in self.stack.app_pids():
            with open("/proc/%d/status" % pid) as f:
                status = {line.split(":")[0]: re.sub(r"[ \t]+", " ", line)
                          for line in f.read().splitlines()}
            print("slotlock pid %d: %s, %s" % (pid, status["VmRSS"],
                                               status["VmHWM"]))
            peak = max(peak, int(status["VmHWM"].split()[1]))
        return peak

    def describe(self):
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        redis = "redis: cluster of 3 primaries," if self.cluster else "redis"
        return ("wrk -t%d, %ds per run, median of %d runs; slotlock: "
                "spawn-fcgi -F %d -b %d, WORKERS=%s; nginx keepalive: %s; "
                "%s appendfsync %s, reached over %s; %d cores, load average "
                "%s" % (
                    self.opts["threads"], self.opts["duration"],
                    self.opts["runs"], self.procs, self.backlog,
                    self.workers or "default",
                    self.keepalive or "as shipped", redis,
                    self.opts["appendfsync"], self.opts["redis-over"],
                    len(os.sched_getaffinity(0)),
                    load))

    def preload(self, n):
        """Fills Redis with n live locks (tests/bench/preload.lua). A
        cluster gets the same locks: each node writes the keys of its own
        slots, in the same batches."""
        with open(os.path.join(HERE, "preload.lua")) as f:
            script = f.read()
        batches = range(0, n, PRELOAD_BATCH)
        if not self.cluster:
            sha = self.stack.redis("SCRIPT", "LOAD", script)
            for first in batches:
                self.stack.redis("EVALSHA", sha, 1, "slotlock:live", "pre",
                                 first, PRELOAD_BATCH, PRELOAD_TTL_MS)
            return
        wrote = 0
        for port in self.stack.redis_ports:
            sha = self.stack.redis_node(port, "SCRIPT", "LOAD", script)
            for first in batches:
                wrote += self.stack.redis_node(
                    port, "EVALSHA", sha, 0, "pre", first, PRELOAD_BATCH,
                    PRELOAD_TTL_MS)
        if wrote != len(batches) * PRELOAD_BATCH:
            raise Fail("preload: the cluster nodes wrote %d locks" % wrote)

    def store_settings(self, prefix, settings):
        """Gives acquire_settings.lua's resources of prefix their settings,
        as PUT /api/resources stores them."""
        capacity, before, after = settings
        for tid in range(self.opts["threads"]):
            for r in range(SETTINGS_RESOURCES):
                self.stack.redis(
                    "HSET", "booking_resource:{bench%d|%s-%d-%d}"
                    % (r % 64, prefix, tid, r), "capacity", capacity,
                    "bufferBefore", before, "bufferAfter", after,
                    *(("shared", "1") if capacity > 1 else ()))

    def settings_scenarios(self, run, c):
        """Acquire on fresh slots without settings, with capacity 1 and
        buffers, and with capacity 1000 (tests/bench/acquire_settings.lua)."""
        for label, prefix, settings in SETTINGS:
            if not self.wanted(label):
                continue
            self.flushall()
            if settings:
                self.store_settings(prefix, settings)
            self.flush = False
            self.measure(label, run, c, "acquire_settings.lua", self.url,
                         "200", BENCH_SETTINGS_PREFIX=prefix)
            self.flush = True

    def fill_capacity_day(self):
        """Holds every place of CAPACITY_DAY's 24 hours through the app,
        eight connections at a time; not measured."""
        tenant, resource, date, capacity = CAPACITY_DAY
        self.stack.redis("HSET", "booking_resource:{%s|%s}"
                         % (tenant, resource), "capacity", capacity,
                         "bufferBefore", 0, "bufferAfter", 0, "shared", "1")
        port = int(self.url.rsplit(":", 1)[1])
        failures = []

        def fill(hours):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for h in hours:
                body = ('{"tenantId":"%s","resourceId":"%s","date":"%s",'
                        '"startTime":"%02d:00","duration":60,'
                        '"ttl":300000}' % (tenant, resource, date, h))
                for _ in range(capacity):
                    conn.request("POST", "/api/locks/acquire", body,
                                 {"Content-Type": "application/json"})
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        failures.append(r.status)
            conn.close()

        threads = [threading.Thread(target=fill, args=(range(i, 24, 8),))
                   for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if failures:
            raise Fail("capacity day: %d acquires refused while filling"
                       % len(failures))

    def capacity_day(self, run, c):
        """An acquire refused on a full day at capacity 1000, and that
        day's status."""
        if not (self.wanted(CAPACITY_ACQUIRE)
                or self.wanted(CAPACITY_STATUS)):
            return
        tenant, resource, date, _ = CAPACITY_DAY
        self.flushall()
        self.fill_capacity_day()
        self.flush = False
        env = dict(BENCH_CAPACITY_TENANT=tenant,
                   BENCH_CAPACITY_RESOURCE=resource,
                   BENCH_CAPACITY_DATE=date)
        self.measure(CAPACITY_ACQUIRE, run, c, "capacity_day.lua", self.url,
                     "409", **env)
        self.measure(CAPACITY_STATUS, run, c, "capacity_day.lua", self.url,
                     "200", BENCH_CAPACITY_MODE="status", **env)
        self.flush = True

    # ---- modes ------------------------------------------------------

    def baselines(self, run, c, nginx=True):
        if nginx:
            self.measure(BASELINE_NGINX, run, c, "get.lua", self.baseline_url,
                         "200", BENCH_PATH="/return200")
        self.measure(BASELINE_FCGI, run, c, "get.lua", self.baseline_url,
                     "200", BENCH_PATH="/fcgi")
        self.measure(BASELINE_NODE, run, c, "acquire_unique.lua",
                     self.node_url, "200")

    def busy_day(self, run, c):
        """The busy-day scenarios (tests/bench/busy_day.lua)."""
        url = self.url
        self.measure(BUSY_ACQUIRE, run, c, "busy_day.lua", url, "200")
        self.measure("busy day acquire+book", run, c, "busy_day.lua", url,
                     "200,201", BENCH_BUSY_BOOK="1")
        # Days filled for status (all 96 quarters held) and for the
        # acquire-then-release cycles (95 held, one free), then the same
        # cycles on empty days.
        tag = "%d%d" % (run, random.randrange(1 << 30))
        cycle_days = BUSY_CYCLE_DAYS_PER_CONN * -(-c // self.opts["threads"])
        self.flushall()
        if self.wanted("busy day status, 96 held"):
            self.fill("fs" + tag, BUSY_STATUS_DAYS, free=False)
        if self.wanted(CYCLE_FULL):
            self.fill("fc" + tag, cycle_days, free=True)
        self.flush = False
        self.measure("busy day status, 96 held", run, c, "busy_day.lua",
                     url, "200", BENCH_BUSY="status",
                     BENCH_BUSY_SALT="fs" + tag,
                     BENCH_BUSY_DAYS=str(BUSY_STATUS_DAYS))
        self.measure(CYCLE_FULL, run, c, "busy_day.lua", url, "200",
                     BENCH_BUSY="cycle", BENCH_BUSY_SALT="fc" + tag,
                     BENCH_BUSY_DAYS=str(cycle_days))
        self.measure(CYCLE_EMPTY, run, c, "busy_day.lua", url, "200",
                     BENCH_BUSY="cycle", BENCH_BUSY_SALT="fe" + tag,
                     BENCH_BUSY_DAYS=str(cycle_days))
        self.flush = True

    # ---- the live grid ----------------------------------------------

    def nginx_pss_kb(self):
        """nginx's memory: the PSS of its master and workers, in kB (PSS
        shares each shared page, nchan's shared memory among them, out
        between the processes that map it, so the sum counts it once)."""
        pid = self.stack.pid("nginx")
        total = 0
        for p in [pid] + children(pid):
            try:
                with open("/proc/%d/smaps_rollup" % p) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total

    def open_streams(self, n):
        """n idle subscribers of GET /api/locks/stream (50 channels, a
        day each), each its own connection; fails unless all are 200."""
        socks = []
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", self.stack.port), 10)
            s.sendall(b"GET /api/locks/stream?tenantId=bench-grid&"
                      b"resourceId=r%d&date=2030-01-01 HTTP/1.1\r\n"
                      b"Host: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                      b"\r\n" % (i % 50))
            socks.append(s)
        bad = 0
        for s in socks:
            s.settimeout(10)
            head = s.recv(4096).split(b"\r\n", 1)[0]
            if b" 200 " not in head:
                bad += 1
        if bad:
            for s in socks:
                s.close()
            raise Fail("%d of %d streams were not opened" % (bad, n))
        return socks

    def grid(self, run, c, n=GRID_STREAMS):
        """Acquire with no stream open and with n idle ones, in the same
        run; and nginx's memory per idle subscriber."""
        if not self.wanted("grid"):
            return
        self.measure("grid: acquire, no streams", run, c,
                     "acquire_unique.lua", self.url, "200")
        before = self.nginx_pss_kb()
        socks = self.open_streams(n)
        try:
            time.sleep(1)
            after = self.nginx_pss_kb()
            self.grid_memory.append((before, after))
            say("nginx PSS %d kB with no stream, %d kB with %d: %.1f kB "
                "per idle subscriber" % (before, after, n,
                                         (after - before) / n))
            self.measure("grid: acquire, %d streams" % n, run, c,
                         "acquire_unique.lua", self.url, "200")
        finally:
            for s in socks:
                s.close()

    def grid_report(self):
        if not self.grid_memory:
            return
        per = [(a - b) / GRID_STREAMS for b, a in self.grid_memory]
        print("nginx memory per idle grid subscriber: %.1f kB (median of "
              "%d runs; PSS of nginx's processes with %d streams open "
              "minus none)" % (statistics.median(per), len(per),
                               GRID_STREAMS))

    def default_run(self):
        c = self.opts["connections"]
        self.start_stack()
        url = self.url
        for run in range(1, self.opts["runs"] + 1):
            self.baselines(run, c)
            self.measure("acquire unique", run, c, "acquire_unique.lua",
                         url, "200")
            self.measure("acquire unique c256", run, 256,
                         "acquire_unique.lua", url, "200")
            self.measure("acquire contended (409)", run, c,
                         "acquire_contended.lua", url, "200,409")
            self.measure("acquire+book", run, c, "acquire_book.lua", url,
                         "200,201")
            self.measure("acquire+release", run, c, "acquire_release.lua",
                         url, "200")
            self.settings_scenarios(run, c)
            self.capacity_day(run, c)
            # Status of days that hold four locks each.
            self.flushall()
            if self.wanted("status"):
                self.preload(4000)
            self.flush = False
            self.measure("status", run, c, "status.lua", url, "200",
                         BENCH_STATUS_SALT="pre", BENCH_STATUS_RANGE="2000")
            self.flush = True
            self.measure("health", run, c, "get.lua", url, "200",
                         BENCH_PATH="/api/locks/health")
            self.grid(run, c)
            # The baselines once more, so that both halves of a run have
            # them near, then the busy day.
            self.baselines(run, c, nginx=False)
            self.busy_day(run, c)
        print()
        print(self.describe())
        print("connections: %d (c256: 256); /nginx, /fcgi: req/s over each "
              "baseline's;" % c)
        if not self.cluster:
            print("app us, red us: CPU time of the app and of Redis per "
                  "request; trips: Redis\n"
                  "round trips per request (EVALSHA/EVAL, the baseline's "
                  "SET); cmds: Redis\n"
                  "commands per request, those run inside the scripts "
                  "included")
        else:
            print("app us, red us: CPU time of the app and of the 3 nodes "
                  "per request; trips:\n"
                  "commands the app sent per request, to all nodes (replies "
                  "written to clients;\n"
                  "the baseline's SET, to the one node that serves its "
                  "slot); cmds: commands\n"
                  "per request on all nodes, those run inside the scripts "
                  "included")
        print("busy day: 15-minute holds, 96 to a specialist's day, taken "
              "in random order\n"
              "(tests/bench/busy_day.lua); acq+rel: acquire the one free "
              "quarter of a day,\n"
              "then release it; both requests count")
        print()
        self.report(ratios=True)
        print()
        self.grid_report()
        peak = self.memory()
        print()
        self.targets(peak)

    def targets(self, peak_kb):
        """How the run compares with the targets, from the medians."""
        m = self.medians
        rps, p99, red = 0, 2, 6

        def ratio(a, b, i=rps):
            return m[a][i] / m[b][i] if m[b][i] else float("inf")

        def line(name, value, op, goal):
            met = value >= goal if op == ">=" else value <= goal
            verdict = "met" if met else "missed by %.0f%%" % (
                100 * abs(value - goal) / goal)
            print("  %-54s %6.2f (%s %.2f) %s" % (name, value, op, goal,
                                                 verdict))

        print("targets (medians of this run):")
        checks = [
            ("busy day acquire req/s / node baseline's",
             lambda: ratio(BUSY_ACQUIRE, BASELINE_NODE), ">=", 1.5),
            ("busy day acquire req/s / fcgi baseline's",
             lambda: ratio(BUSY_ACQUIRE, BASELINE_FCGI), ">=", 0.9),
            ("acquire unique req/s / fcgi baseline's",
             lambda: ratio("acquire unique", BASELINE_FCGI), ">=", 0.9),
            ("acq+rel req/s, empty day / day of 95 holds",
             lambda: ratio(CYCLE_EMPTY, CYCLE_FULL), "<=", 1.3),
            ("acquire's Redis us, day of 95 / empty day (estimate)",
             lambda: acquire_cost(), "<=", 1.3),
            ("busy day acquire p99 / fcgi baseline's p99",
             lambda: ratio(BUSY_ACQUIRE, BASELINE_FCGI, p99), "<=", 1.5),
            ("acquire unique p99 / fcgi baseline's p99",
             lambda: ratio("acquire unique", BASELINE_FCGI, p99), "<=", 1.5),
            ("slotlock VmHWM, MB", lambda: peak_kb / 1024.0, "<=", 16),
        ]
        for label, _, settings in SETTINGS[1:]:
            checks += [
                ("%s: Redis us / no settings'" % label,
                 lambda label=label: ratio(label, SETTINGS[0][0], red),
                 "<=", 1.15),
                ("%s: req/s / no settings'" % label,
                 lambda label=label: ratio(label, SETTINGS[0][0]),
                 ">=", 1 / 1.15)]

        def acquire_cost():
            # Release costs the same on both kinds of day, so the
            # difference in Redis CPU per request is the acquire's, spread
            # over two requests; the acquire on an empty day costs about
            # what "acquire unique" does.
            alone = m["acquire unique"][red]
            extra = 2 * (m[CYCLE_FULL][red] - m[CYCLE_EMPTY][red])
            notes.append("  (acquire: %.0f us of Redis CPU on an empty day, "
                         "%+.0f us on a day of 95 holds)" % (alone, extra))
            return (alone + extra) / alone if alone else float("inf")

        notes = []
        for name, value, op, goal in checks:
            try:
                line(name, value(), op, goal)
            except (KeyError, ZeroDivisionError):
                continue
        for note in notes:
            print(note)

    def scale_run(self):
        self.start_stack()
        url = self.url
        for run in range(1, self.opts["runs"] + 1):
            for c in (16, 64, 256, 1024):
                self.measure("acquire unique c%d" % c, run, c,
                             "acquire_unique.lua", url, "200")
        print()
        print(self.describe())
        print()
        self.report(ratios=False)
        print()
        self.results = []
        memory = []
        for n in (10000, 100000, 1000000):
            label = "1M" if n == 1000000 else "%dk" % (n // 1000)
            for run in range(1, self.opts["runs"] + 1):
                self.flushall()
                began = time.monotonic()
                self.preload(n)
                say("preloaded %d live locks in %d s"
                    % (n, time.monotonic() - began))
                used = re.search(r"^used_memory_human:(.*)\r$",
                                 self.stack.redis("INFO", "memory"), re.M)
                memory.append("%s: %s, %d keys" % (
                    label, used.group(1), self.stack.redis("DBSIZE")))
                self.flush = False
                self.measure("acquire unique, %s live" % label, run, 64,
                             "acquire_unique.lua", url, "200")
                self.measure("status, %s live" % label, run, 64,
                             "status.lua", url, "200",
                             BENCH_STATUS_SALT="pre",
                             BENCH_STATUS_RANGE=str(n // 2))
                self.flush = True
        self.report(ratios=False)
        print()
        print("Redis memory right after each preload (used_memory_human, "
              "keys):")
        print("\n".join(memory))
        print()
        self.memory()

    def tune_run(self):
        # WORKERS, spawn-fcgi -F, spawn-fcgi -b, nginx keepalive,
        # connections. nginx keepalive with fastcgi_keep_conn on is left
        # out: with libfcgi it stalls (see README); --keepalive N measures
        # it on its own.
        layouts = ["4 1 1024 0 64", "8 1 1024 0 64", "16 1 1024 0 64",
                   "32 1 1024 0 64", "64 1 1024 0 64",
                   "8 2 1024 0 64", "4 4 1024 0 64", "16 2 1024 0 64",
                   "16 1 64 0 256", "16 1 1024 0 256"]
        if os.environ.get("BENCH_LAYOUTS"):
            layouts = os.environ["BENCH_LAYOUTS"].split(",")
        for run in range(1, self.opts["runs"] + 1):
            for layout in layouts:
                w, f, b, k, c = layout.split()
                self.workers, self.procs, self.backlog = w, int(f), int(b)
                self.keepalive = k
                self.start_stack()
                self.measure("W=%s F=%s b=%s ka=%s c=%s" % (w, f, b, k, c),
                             run, int(c), "acquire_unique.lua", self.url,
                             "200")
                self.stop_stack()
        print()
        print("acquire unique; W: WORKERS, F: spawn-fcgi -F, b: spawn-fcgi "
              "-b,")
        print("ka: nginx keepalive per nginx worker with fastcgi_keep_conn "
              "on (0: off),")
        print("c: wrk connections")
        print(self.describe())
        print()
        self.report(ratios=False)


def main(argv):
    opts = parse_args(argv)
    bench = Bench(opts)
    try:
        build(opts)
        getattr(bench, opts["mode"] + "_run")()
        bench.profile_report()
    except Fail as e:
        say(str(e))
        return 1
    except subprocess.CalledProcessError as e:
        say("%s failed (exit status %d)" % (e.cmd[0], e.returncode))
        return 1
    finally:
        bench.stop_stack()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
