"""Integration-test harness: a whole slotlock stack per test, on loopback.

A Stack starts, in a private temporary folder and on free loopback ports,
its own redis-server (configured by script/render-redis-conf), the app
under spawn-fcgi, and nginx running the shipped nginx/slotlock.conf (made
concrete by script/render-nginx-conf), the same way script/server does it,
then waits until GET /api/locks/health answers. script/bench runs on it
too (tests/bench/bench.py).

    from harness import Stack, concurrently

    stack = Stack(env={"LOCK_TTL": "2000"})      # app/nginx settings
    r = stack.request("POST", "/api/locks/acquire", {"tenantId": "t"})
    r.status, r.headers["content-type"], r.json, r.text
    stack.redis("PTTL", "booking_lock:{t|r}:2025-03-10:14:00")
    stack.stop_redis(); stack.start_redis()      # same port, same data
    stack.kill_app(); stack.start_app()
    stack = Stack(instances=3)                   # three apps, one upstream
    stack = Stack(cluster=True)                  # Redis Cluster, 3 primaries
    stack.redis_node(stack.redis_ports[1], "CLUSTER", "NODES")
    stack = Stack(cluster=True, cluster_replicas=1)  # and a replica each
    stack.kill_redis_node(port); stack.start_redis_node(port)  # one node
    stack.kill_app(instance=2)                   # SIGKILL "app-2" only
    stack.kill_app(signal.SIGTERM); stack.exit_status["app"]
    responses = concurrently(stack, [("POST", path, body)] * 20)
    stack.stop()                                 # also run at exit

Environment:
    SLOTLOCK_BIN       the app (default: <source tree>/src/slotlock)
    SLOTLOCK_SRCDIR    the source tree, for nginx/ and script/ (default:
                       two folders up from this file)
    SLOTLOCK_WRAPPER   command put in front of the app, e.g. "valgrind -q"
    SLOTLOCK_KEEP_TMP  1 keeps the temporary folder (logs) after stop()
    ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS  passed on to the app
    SLOTLOCK_TEST_REDIS  "cluster": every Stack that does not say otherwise
                       runs on a Redis Cluster of CLUSTER_NODES primaries
                       (REDIS_CLUSTER_NODES for the app) instead of one
                       redis-server; "single" (the default): one redis-server

In cluster mode stack.redis() acts as a cluster client would: a command
with a key goes to the primary that owns the key's slot (MOVED and ASK
followed), and one without a key goes to every node, its answers put
together: KEYS one list, DBSIZE and DEL/EXISTS of several keys a sum, SCAN
one cursor over every node, INFO the numbers summed; FLUSHALL, CONFIG SET,
SCRIPT, DEBUG, CLIENT ... run on every node at once. stop_redis() and
start_redis() stop and start every node, and start_redis() waits until the
cluster is whole again.

With replicas (cluster_replicas=N), the commands for every node (KEYS,
DBSIZE, SCAN, INFO, FLUSHALL, ...) go to the primaries that serve slots at
that moment, as a cluster client's would, whichever nodes they are after a
failover; CONFIG SET goes to every running node. The cluster is whole when,
on top of the above, every primary has N replicas online.

stop() fails (AssertionError, logs kept) when the app's log holds a
sanitizer report, so an ASan or UBSan finding can never pass unseen.
"""

import atexit
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import openapi_check

SRCDIR = os.path.abspath(os.environ.get("SLOTLOCK_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))
APP_BIN = os.path.abspath(os.environ.get("SLOTLOCK_BIN")
                          or os.path.join(SRCDIR, "src", "slotlock"))

# Settings the app gets unless a test says otherwise. RATE_LIMIT_* are read
# by the nginx renderer, not by the app.
# The webhook dispatcher, built beside the app.
EVENTS_BIN = os.path.abspath(os.environ.get("SLOTLOCK_EVENTS_BIN")
                             or os.path.join(os.path.dirname(APP_BIN),
                                             "slotlock-events"))
DEFAULT_ENV = {
    "REDIS_HOST": "127.0.0.1",
    "WORKERS": "4",
    "RATE_LIMIT_RPS": "0",
    "RATE_LIMIT_BURST": "200",
    # Every test client is 127.0.0.1: like the rate limit, the cap per
    # address is off unless a test turns it on (test_hoarding.py does).
    "LOCK_MAX_PER_ADDRESS": "0",
}

# Taken from the test's own environment; nothing else leaks into the app.
PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "ASAN_OPTIONS",
                  "UBSAN_OPTIONS", "LSAN_OPTIONS")

# Lines AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer and
# ThreadSanitizer start their reports with.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "ERROR: UndefinedBehaviorSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")

TEST_REDIS = os.environ.get("SLOTLOCK_TEST_REDIS") or "single"
if TEST_REDIS not in ("single", "cluster"):
    raise RuntimeError("SLOTLOCK_TEST_REDIS must be single or cluster, not %r"
                       % TEST_REDIS)

# Every redis.conf is written by script/render-redis-conf, as script/server
# and script/bench write theirs: the durable settings (appendonly,
# appendfsync always, noeviction), and for a cluster node its cluster
# settings (cluster-node-timeout, short enough that a test that stops a
# node sees it failed soon). A test's redis_config adds to them.
RENDER_REDIS_CONF = os.path.join(SRCDIR, "script", "render-redis-conf")

CLUSTER_NODES = 3
CLUSTER_SLOTS = 16384


def render_redis_conf(folder, port, role="single", settings=None, **options):
    """Writes folder/redis.conf (folder/sentinel.conf for role "sentinel")
    with script/render-redis-conf and returns its path. settings: a dict of
    redis.conf lines ({"maxmemory": "10mb"}), each replacing the rendered
    line of the same name. options: the script's other options, e.g.
    replica_of="127.0.0.1:6379", fast_sync=True; logfile defaults to ""
    (standard output, which the caller captures)."""
    options.setdefault("logfile", "")
    argv = [RENDER_REDIS_CONF, "--dir", folder, "--port", str(port),
            "--role", role]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value not in (None, False):
            argv += [flag, str(value)]
    for name, value in (settings or {}).items():
        argv += ["--set", "%s %s" % (name, value)]
    subprocess.run(argv, check=True)
    return os.path.join(folder, ("sentinel" if role == "sentinel"
                                 else "redis") + ".conf")


def read_redis_conf(path):
    """The lines of a rendered configuration as {name: value} (values as
    written, quotes included; the name of a "sentinel ..." line is its
    first two words)."""
    config = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split(" ", 2 if line.startswith("sentinel ") else 1)
            name = " ".join(words[:-1]) if len(words) > 1 else words[0]
            value = words[-1] if len(words) > 1 else ""
            if re.fullmatch(r'"([^"\\]|\\.)*"', value):
                # One double-quoted string: the value Redis reads from it.
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            config[name] = value
    return config


class RedisError(Exception):
    """An error reply from Redis (-ERR ...)."""


def _crc16_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
        table.append(crc)
    return table


_CRC16 = _crc16_table()


def crc16(data):
    """CRC-16/XMODEM, the checksum Redis Cluster hashes keys with."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[((crc >> 8) ^ byte) & 0xFF]
    return crc


def keyslot(key):
    """The hash slot of key, as CLUSTER KEYSLOT computes it: only the part
    between the first "{" and the first "}" after it is hashed, when that
    part is not empty. A str key is taken as its UTF-8 bytes."""
    if not isinstance(key, bytes):
        key = str(key).encode()
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    return crc16(key) % CLUSTER_SLOTS


def _interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


_handed_out = set()


def free_port():
    """A loopback port free now and never handed out before by this
    process: two ports asked for in a row (Redis's and nginx's) are free
    at once, and the kernel may offer the same one twice."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


class Headers(dict):
    """Response headers; keys are case-insensitive. A repeated header's
    values are joined with ", "; Response.header_list keeps them apart."""

    def __init__(self, pairs):
        super().__init__()
        for name, value in pairs:
            key = name.lower()
            dict.__setitem__(self, key,
                             self[key] + ", " + value if key in self else value)

    def __getitem__(self, name):
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name):
        return dict.__contains__(self, name.lower())

    def get(self, name, default=None):
        return dict.get(self, name.lower(), default)


class Response:
    def __init__(self, status, header_list, body):
        self.status = status
        self.header_list = header_list
        self.headers = Headers(header_list)
        self.body = body
        self.text = body.decode("utf-8", "replace")
        try:
            self.json = json.loads(self.text)
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<Response %d %s>" % (self.status, self.text[:200])


def _encode_body(body, headers):
    """A dict or list is sent as JSON with Content-Type application/json;
    str or bytes go as they are, with no Content-Type added."""
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
    elif isinstance(body, str):
        body = body.encode()
    return body, headers


def _send(conn, method, path, body, headers):
    data, headers = _encode_body(body, headers)
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    response = Response(resp.status, resp.getheaders(), resp.read())
    # Every answer must match docs/openapi.json (openapi_check.py).
    openapi_check.check(method, path, response)
    return response


def _send_raw(port, raw, timeout):
    raw = raw if isinstance(raw, bytes) else raw.encode()
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(raw)
        resp = http.client.HTTPResponse(s, method=raw.split(b" ", 1)[0].decode())
        resp.begin()
        return Response(resp.status, resp.getheaders(), resp.read())


def _resp_encode(args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if not isinstance(arg, bytes):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def _resp_read(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        if int(rest) < 0:
            return None
        data = f.read(int(rest) + 2)[:-2]
        try:
            return data.decode()
        except UnicodeDecodeError:
            return data
    if kind == b"*":
        if int(rest) < 0:
            return None
        return [_resp_read(f) for _ in range(int(rest))]
    raise ConnectionError("unexpected reply from redis: %r" % line)


# How stack.redis() spreads a command without a key over a cluster's nodes.
# Commands with a key not named here take it as their first argument.
_ALL_NODES = {"FLUSHALL", "FLUSHDB", "SCRIPT", "DEBUG", "CLIENT", "SAVE",
              "BGSAVE", "BGREWRITEAOF", "PING", "SLOWLOG", "FUNCTION",
              "LATENCY", "ACL"}
_ANY_NODE = {"TIME", "CLUSTER", "ECHO", "LASTSAVE", "COMMAND", "ROLE",
             "READONLY", "READWRITE", "WAIT"}
_SUMMED_PER_KEY = {"DEL", "EXISTS", "UNLINK", "TOUCH"}
_KEY_IS_SECOND = {"OBJECT", "XINFO", "MEMORY"}


def _sum_info(replies):
    """INFO answers of several nodes as one: numbers (and the numbers of
    "a=1,b=2" values) summed, anything else as the first node says it."""
    parsed = []
    for text in replies:
        fields = {}
        for line in text.splitlines():
            if ":" in line and not line.startswith("#"):
                name, value = line.split(":", 1)
                fields[name] = value
        parsed.append(fields)

    def add(values):
        if all(re.fullmatch(r"-?\d+", v) for v in values):
            return str(sum(int(v) for v in values))
        pairs = [dict(p.split("=", 1) for p in v.split(",") if "=" in p)
                 for v in values]
        first = pairs[0]
        if (first and all(p.keys() == first.keys() for p in pairs)
                and all(re.fullmatch(r"-?\d+", x)
                        for p in pairs for x in p.values())):
            return ",".join("%s=%d" % (k, sum(int(p[k]) for p in pairs))
                            for k in first)
        return values[0]

    out = []
    for line in replies[0].splitlines():
        if ":" in line and not line.startswith("#"):
            name = line.split(":", 1)[0]
            values = [f[name] for f in parsed if name in f]
            line = "%s:%s" % (name, add(values))
        out.append(line)
    # Fields only some nodes have (a keyspace line of a db the first node
    # holds nothing in) are added at the end.
    seen = set(parsed[0])
    for fields in parsed[1:]:
        for name in fields:
            if name not in seen:
                seen.add(name)
                out.append("%s:%s" % (name, add(
                    [f[name] for f in parsed if name in f])))
    return "\r\n".join(out) + "\r\n"


def _tail(path, limit=4000):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return "(no %s)" % path


def _alive(pid):
    """True while process pid runs (a zombie does not count)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class _ForkedGroup:
    """The processes spawn-fcgi -F N forked before it exited, each in a
    session of its own, with what Stack needs of a Popen: pid (the first
    one), poll(), wait() and returncode (None: not known)."""

    def __init__(self, pids):
        self.pids = pids
        self.pid = pids[0]
        self.returncode = None

    def poll(self):
        return None if any(map(_alive, self.pids)) else -1

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("spawn-fcgi -F", timeout)
            time.sleep(0.02)
        return self.returncode


def _killpg(proc, sig):
    """Signals the process group of proc (a Popen started in a session of
    its own), or of each process of a _ForkedGroup."""
    for pid in getattr(proc, "pids", [proc.pid]):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass


class Stack:
    """redis-server + spawn-fcgi/app + nginx, started on creation.

    env:          settings for the app (and RATE_LIMIT_* for nginx) on top
                  of DEFAULT_ENV; a value of None removes a default.
    redis_config: redis.conf lines ({"maxmemory": "10mb"}) on top of what
                  script/render-redis-conf writes, each replacing the
                  rendered line of the same name (on every node of a
                  cluster).
    start_redis:  False to start without Redis (health then answers 503).
    instances:    app processes, each on its own socket, all in nginx's
                  upstream; named "app", "app-2", "app-3", ...
    cluster:      True: a Redis Cluster of CLUSTER_NODES primaries, named
                  "redis", "redis-2", ..., made with redis-cli --cluster
                  create; False: one redis-server "redis"; None (default):
                  as SLOTLOCK_TEST_REDIS says.
    cluster_replicas: with a cluster, N replicas for each primary
                  (CLUSTER_NODES * (1 + N) nodes, the primaries first:
                  "redis" to "redis-3" at creation), made with --cluster-
                  replicas N; 0 (default): primaries only.
    app_procs:    processes of each app instance on its one socket
                  (spawn-fcgi -F; default 1); app_pids() has their pids.
    app_backlog:  the app socket's listen backlog (spawn-fcgi -b).
    nginx_workers: nginx worker processes (a number or "auto"; default 1).
    nginx_setup:  called with nginx's folder once script/render-nginx-conf
                  has written slotlock.conf and nginx.conf there, before
                  nginx starts: to add to or change the configuration.
    events:       True: start the webhook dispatcher (slotlock-events) as
                  "events", with the app's settings; start_events() and
                  kill_events() start and stop it later.
    """

    def __init__(self, env=None, redis_config=None, start_redis=True,
                 ready_timeout=10.0, instances=1, cluster=None,
                 cluster_replicas=0, app_procs=1, app_backlog=1024,
                 nginx_workers=1, nginx_setup=None, events=False):
        self.ready_timeout = ready_timeout
        self.app_procs = int(app_procs)
        self.app_backlog = int(app_backlog)
        self.nginx_workers = nginx_workers
        self.nginx_setup = nginx_setup
        self.extra_names = []   # started with spawn_fcgi(), beside the apps
        self._procs = {}
        self._logs = {}
        self.exit_status = {}   # name -> exit status of its last run
        self.cluster = (TEST_REDIS == "cluster") if cluster is None \
            else bool(cluster)
        if cluster_replicas and not self.cluster:
            raise ValueError("cluster_replicas needs cluster=True")
        self.cluster_replicas = int(cluster_replicas)
        self._cluster_made = False
        self._slot_map = None   # [(first slot, last slot, port)]
        self.dir = tempfile.mkdtemp(prefix="slotlock-it-")
        nodes = (CLUSTER_NODES * (1 + self.cluster_replicas)
                 if self.cluster else 1)
        self.redis_names = ["redis"] + ["redis-%d" % i
                                        for i in range(2, nodes + 1)]
        self.redis_ports = [free_port() for _ in self.redis_names]
        self.redis_port = self.redis_ports[0]
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        # nginx's internal publisher server of the live grid, on a Unix
        # socket (script/server does the same).
        self.publish_socket = os.path.join(self.dir, "nginx", "grid.sock")
        self.socket_path = os.path.join(self.dir, "app.sock")
        self.app_names = ["app"] + ["app-%d" % (i + 1)
                                    for i in range(1, instances)]
        self.socket_paths = [self.socket_path] + [
            os.path.join(self.dir, name + ".sock")
            for name in self.app_names[1:]]

        self.env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
        self.env.update(DEFAULT_ENV)
        if self.cluster:
            del self.env["REDIS_HOST"]
            self.env["REDIS_CLUSTER_NODES"] = ",".join(
                "127.0.0.1:%d" % port for port in self.redis_ports)
        else:
            self.env["REDIS_PORT"] = str(self.redis_port)
        self.env["GRID_PUBLISH_URL"] = "unix:" + self.publish_socket
        for key, value in (env or {}).items():
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = str(value)

        # One configuration per node, rendered now (and again at each start
        # of the node); redis_config is the first node's, as {name: value}.
        self.redis_configs = []
        for name, port in zip(self.redis_names, self.redis_ports):
            options = {"settings": redis_config}
            if self.cluster:
                # The cluster bus port is chosen too: the default, port +
                # 10000, may be taken or past 65535. With replicas, a
                # replica (a new one, or a restarted node that rejoins)
                # syncs at once, without disk.
                options.update(role="cluster", cluster_port=free_port(),
                               fast_sync=bool(self.cluster_replicas))
            options.update(folder=os.path.join(self.dir, name), port=port)
            self.redis_configs.append(options)
            conf = render_redis_conf(**options)
            if len(self.redis_configs) == 1:
                self.redis_config = read_redis_conf(conf)

        atexit.register(self.stop)
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL):
            # Turn a SIGTERM (a timeout, a CI stop) into what Ctrl-C does:
            # unittest stops, and atexit still stops what we started.
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            if start_redis:
                self.start_redis()
            self._start_nginx()
            self.start_app()
            if events:
                self.start_events()
        except BaseException:
            self.stop()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- processes ------------------------------------------------------

    def _spawn(self, name, argv, env=None):
        if self.pid(name):
            raise RuntimeError("%s is already running" % name)
        log = open(os.path.join(self.dir, name + ".log"), "ab")
        self._logs[name] = log.name
        try:
            self._procs[name] = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()

    def _kill(self, name, sig=signal.SIGTERM, timeout=5.0):
        """Signals the process group of name, waits, then SIGKILLs what is
        left of the group."""
        proc = self._procs.get(name)
        if proc is None:
            return
        _killpg(proc, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        _killpg(proc, signal.SIGKILL)
        proc.wait()
        self.exit_status[name] = proc.returncode
        # Forgotten only now, so that stop() after an interruption retries.
        del self._procs[name]

    def pid(self, name):
        """The pid of "redis" ("redis-2", ... in a cluster), "app" ("app-2",
        ...) or "nginx", or None when not running."""
        proc = self._procs.get(name)
        return proc.pid if proc and proc.poll() is None else None

    def start_redis(self):
        """Starts Redis: the one redis-server, or every node of the cluster
        (the first time also making the cluster), and waits until it
        serves: the cluster until every node says cluster_state:ok and all
        agree on which primary has which slots."""
        for name, config in zip(self.redis_names, self.redis_configs):
            self._spawn_redis(name, config)
        self._wait(lambda: all(self.redis_node(port, "PING") == "PONG"
                               for port in self.redis_ports),
                   "redis-server", *self.redis_names)
        if not self.cluster:
            return
        if not self._cluster_made:
            self._create_cluster()
        self.wait_cluster()

    def _spawn_redis(self, name, options):
        """Starts the node name with its configuration rendered afresh."""
        self._spawn(name, ["redis-server", render_redis_conf(**options)])

    def kill_redis_node(self, port, sig=signal.SIGKILL):
        """Signals one node of the cluster (default: SIGKILL, a crash) and
        waits for it to end. It stays one of the cluster's nodes: the
        others see it fail, and start_redis_node() brings it back."""
        self._kill(self.redis_name_of(port), sig)

    def start_redis_node(self, port):
        """Starts one stopped node again, with its configuration, data and
        nodes.conf, and waits until it answers PING (it may still be
        joining: wait_cluster() waits for the whole cluster)."""
        name = self.redis_name_of(port)
        self._spawn_redis(name, self.redis_configs[
            self.redis_ports.index(port)])
        self._wait(lambda: self.redis_node(port, "PING") == "PONG",
                   name, name)

    def _create_cluster(self):
        log = os.path.join(self.dir, "cluster-create.log")
        self._logs["cluster-create"] = log
        env = dict(os.environ)
        password = self.redis_config.get("requirepass")
        if password:
            env["REDISCLI_AUTH"] = password
        with open(log, "ab") as out:
            status = subprocess.run(
                ["redis-cli", "--cluster", "create"]
                + ["127.0.0.1:%d" % port for port in self.redis_ports]
                + ["--cluster-replicas", str(self.cluster_replicas),
                   "--cluster-yes"],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=env, timeout=60).returncode
        if status != 0:
            raise RuntimeError("redis-cli --cluster create failed (%d)\n%s"
                               % (status, self.logs()))
        self._cluster_made = True

    def cluster_slot_map(self, port=None):
        """[(first slot, last slot, primary's port)], sorted, as the node on
        port (default: the first that answers) sees the cluster."""
        ports = [port] if port else self.redis_ports
        error = None
        for p in ports:
            try:
                reply = self.redis_node(p, "CLUSTER", "SLOTS")
            except (OSError, RedisError) as e:
                error = e
                continue
            return sorted((r[0], r[1], int(r[2][1])) for r in reply)
        raise error

    def cluster_primaries(self):
        """The ports of the primaries that serve slots now, sorted."""
        return sorted({port for _, _, port in self.cluster_slot_map()})

    def cluster_replicas_of(self, port):
        """The ports of the replicas that the primary on port says are
        online (INFO replication)."""
        info = self.redis_node(port, "INFO", "replication")
        return [int(p) for p in re.findall(
            r"^slave\d+:.*\bport=(\d+),state=online", info, re.M)]

    def cluster_ok(self):
        """Every node answers cluster_state:ok, all see the same slot map,
        and it covers every slot; with replicas, every primary has its
        replicas online and every other node is one of them."""
        maps = []
        for port in self.redis_ports:
            if "cluster_state:ok" not in self.redis_node(port, "CLUSTER",
                                                         "INFO"):
                return False
            maps.append(self.cluster_slot_map(port))
        covered = sum(last - first + 1 for first, last, _ in maps[0])
        if covered != CLUSTER_SLOTS or any(m != maps[0] for m in maps):
            return False
        if not self.cluster_replicas:
            return True
        replicas = {port: self.cluster_replicas_of(port)
                    for _, _, port in maps[0]}
        return (all(len(r) == self.cluster_replicas
                    for r in replicas.values())
                and sorted(list(replicas) + sum(replicas.values(), []))
                == sorted(self.redis_ports))

    def wait_cluster(self, timeout=30.0):
        """Waits until cluster_ok(); forgets the slot map known so far."""
        self._slot_map = None
        deadline = self.ready_timeout
        self.ready_timeout = max(timeout, self.ready_timeout)
        try:
            self._wait(self.cluster_ok, "cluster_state:ok", *self.redis_names)
        finally:
            self.ready_timeout = deadline

    def stop_redis(self, kill=False):
        """Stops Redis, every node at once: SIGTERM (clean shutdown), or
        SIGKILL with kill=True."""
        sig = signal.SIGKILL if kill else signal.SIGTERM
        for name in self.redis_names:
            proc = self._procs.get(name)
            if proc is not None:
                _killpg(proc, sig)
        for name in self.redis_names:
            self._kill(name, sig)

    def forget_redis_node(self, port):
        """Stops the node on port (if it still runs) and leaves it out of
        the cluster's nodes from now on: for a node removed from the
        cluster (redis-cli --cluster del-node)."""
        name = self.redis_name_of(port)
        self._kill(name)
        i = self.redis_ports.index(port)
        for nodes in (self.redis_names, self.redis_ports, self.redis_configs):
            del nodes[i]
        self._slot_map = None

    def redis_pids(self):
        """The pids of the Redis processes running now (one, or every node
        of the cluster)."""
        return [pid for pid in map(self.pid, self.redis_names) if pid]

    def _instances(self, instance):
        """(name, socket) of instance 1, 2, ..., or of all when None."""
        pairs = list(zip(self.app_names, self.socket_paths))
        return pairs if instance is None else [pairs[instance - 1]]

    def start_app(self, wait=True, instance=None):
        """Starts every app instance, or only instance (1, 2, ...)."""
        if not os.access(APP_BIN, os.X_OK):
            raise RuntimeError("no app at %s: build it first (script/build)"
                               " or set SLOTLOCK_BIN" % APP_BIN)
        wrapper = shlex.split(os.environ.get("SLOTLOCK_WRAPPER", ""))
        for name, path in self._instances(instance):
            self.spawn_fcgi(name, path, wrapper + [APP_BIN], env=self.env,
                            procs=self.app_procs, backlog=self.app_backlog)
        if wait:
            self.wait_ready()

    def spawn_fcgi(self, name, path, argv, env=None, procs=1, backlog=1024):
        """Runs the FastCGI program argv under spawn-fcgi on the socket
        path, as name (stop() stops it too). One process stays spawn-fcgi's
        own (-n); procs > 1 are forked by spawn-fcgi -F, which then exits,
        and are followed by their pids."""
        if name not in self.app_names + self.extra_names:
            self.extra_names.append(name)
        base = ["spawn-fcgi", "-b", str(backlog), "-s", path, "-M", "0600"]
        if procs == 1:
            self._spawn(name, base + ["-n", "--"] + argv, env=env)
            return
        pidfile = os.path.join(self.dir, name + ".pids")
        self._spawn(name, base + ["-F", str(procs), "-P", pidfile, "--"]
                    + argv, env=env)
        if self._procs[name].wait(30) != 0:
            raise RuntimeError("spawn-fcgi %s failed\n%s" % (name,
                                                              self.logs()))
        with open(pidfile) as f:
            self._procs[name] = _ForkedGroup([int(p) for p in f.read().split()])

    def app_pids(self, names=None):
        """The pids of the running processes of the apps (or of the names
        given, e.g. ["baseline"] for a spawn_fcgi() one)."""
        pids = []
        for name in names or self.app_names:
            proc = self._procs.get(name)
            if proc is not None:
                pids += [p for p in getattr(proc, "pids", [proc.pid])
                         if _alive(p)]
        return pids

    def kill_app(self, sig=signal.SIGKILL, instance=None, timeout=5.0):
        """Signals every app instance, or only instance (1, 2, ...); a
        SIGKILL follows after timeout seconds."""
        for name, _ in self._instances(instance):
            self._kill(name, sig, timeout)

    def start_events(self, env=None):
        """Starts the webhook dispatcher as "events" with the app's
        settings (and env on top); stop() stops it too."""
        if not os.access(EVENTS_BIN, os.X_OK):
            raise RuntimeError("no dispatcher at %s: build it first"
                               % EVENTS_BIN)
        if "events" not in self.extra_names:
            self.extra_names.append("events")
        wrapper = shlex.split(os.environ.get("SLOTLOCK_EVENTS_WRAPPER", ""))
        self._spawn("events", wrapper + [EVENTS_BIN],
                    env=dict(self.env, **(env or {})))

    def kill_events(self, sig=signal.SIGTERM, timeout=5.0):
        """Signals the dispatcher (SIGKILL: a crash) and waits for it to
        end; its exit status is then exit_status["events"]."""
        self._kill("events", sig, timeout)

    def _start_nginx(self):
        ndir = os.path.join(self.dir, "nginx")
        subprocess.run(
            [os.path.join(SRCDIR, "script", "render-nginx-conf"),
             "--dir", ndir, "--listen", "127.0.0.1:%d" % self.port,
             *[arg for path in self.socket_paths
               for arg in ("--socket", path)],
             "--rate", self.env.get("RATE_LIMIT_RPS", "0"),
             "--burst", self.env.get("RATE_LIMIT_BURST", "200"),
             "--www", os.path.join(SRCDIR, "www"),
             "--workers", str(self.nginx_workers),
             "--cors-origins", self.env.get("CORS_ALLOWED_ORIGINS", ""),
             "--publish-listen", "unix:" + self.publish_socket],
            check=True)
        # A killed nginx leaves its Unix socket behind.
        if os.path.exists(self.publish_socket):
            os.unlink(self.publish_socket)
        if self.nginx_setup:
            self.nginx_setup(ndir)
        self._logs["nginx-error"] = os.path.join(ndir, "error.log")
        self._spawn("nginx", ["nginx", "-p", ndir + "/", "-c",
                              os.path.join(ndir, "nginx.conf"),
                              "-e", os.path.join(ndir, "error.log")])

    def _wait(self, ready, what, *names):
        deadline = time.monotonic() + self.ready_timeout
        while True:
            for name in names:
                proc = self._procs.get(name)
                if proc is None or proc.poll() is not None:
                    raise RuntimeError("%s is not running (exit status %s)\n%s"
                                       % (name, proc and proc.returncode,
                                          self.logs()))
            try:
                if ready():
                    return
            except (OSError, RedisError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("%s not ready after %.0f s\n%s" % (
                    what, self.ready_timeout, self.logs()))
            time.sleep(0.05)

    def wait_ready(self):
        """Waits until the app answers GET /api/locks/health through nginx
        (any answer from the app, 503 included; not nginx's 502)."""
        self._wait(lambda: self.request("GET", "/api/locks/health",
                                        timeout=2).status not in (502, 504),
                   "GET /api/locks/health", "nginx",
                   *[name for name in self.app_names if name in self._procs])

    def logs(self):
        """The end of each log, for failure messages."""
        return "\n".join("---- %s (%s)\n%s" % (name, path, _tail(path))
                         for name, path in self._logs.items())

    def sanitizer_reports(self):
        """The lines of the apps' logs where a sanitizer report starts, as
        (log path, line)."""
        found = []
        for name in self.app_names + [n for n in self.extra_names
                                      if n == "events"]:
            path = self._logs.get(name)
            if not path or not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            found += [(path, line) for line in text.splitlines()
                      if any(marker in line for marker in SANITIZER_MARKERS)]
        return found

    def stop(self):
        """Stops everything this Stack started. Safe to call again. Fails
        when an app's log holds a sanitizer report (the apps are stopped
        with SIGTERM first, so LeakSanitizer has had its say)."""
        for name in (["nginx"] + self.app_names + self.extra_names
                     + self.redis_names):
            self._kill(name)
        reports = self.sanitizer_reports() if self.dir else []
        keep = reports or os.environ.get("SLOTLOCK_KEEP_TMP")
        if self.dir and not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        atexit.unregister(self.stop)
        if reports:
            logs = reports[0][0]
            raise AssertionError(
                "sanitizer report in the app's log %s:\n%s\n%s" % (
                    logs, "\n".join(line for _, line in reports[:10]),
                    _tail(logs, 6000)))

    # ---- clients --------------------------------------------------------

    def request(self, method=None, path=None, body=None, headers=None,
                raw=None, timeout=10.0):
        """One request on a new connection. body: a dict or list is sent as
        JSON with Content-Type application/json; str or bytes as they are.
        raw: a whole HTTP request (bytes) sent verbatim instead."""
        if raw is not None:
            return _send_raw(self.port, raw, timeout)
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            return _send(conn, method, path, body, headers)
        finally:
            conn.close()

    def redis(self, *args):
        """Runs one command on the test Redis; returns the decoded reply
        (str, int, None, list; bytes when not UTF-8). In a cluster, routed
        as the module's documentation says."""
        if not self.cluster:
            return self.redis_node(self.redis_port, *args)
        return self._cluster_command(args)

    def redis_node(self, port, *args, asking=False):
        """Runs one command on the node listening on port, as it is (no
        redirection followed); with asking=True after ASKING."""
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            f = s.makefile("rb")
            password = self.redis_config.get("requirepass")
            if password:
                s.sendall(_resp_encode(["AUTH", password]))
                _resp_read(f)
            if asking:
                s.sendall(_resp_encode(["ASKING"]))
                _resp_read(f)
            s.sendall(_resp_encode(args))
            return _resp_read(f)

    def redis_node_of(self, key):
        """The port of the primary that owns key's slot now."""
        slot = keyslot(key)
        if self._slot_map is None:
            self._slot_map = self.cluster_slot_map()
        for first, last, port in self._slot_map:
            if first <= slot <= last:
                return port
        raise RedisError("CLUSTERDOWN slot %d is not served" % slot)

    def key_on(self, port, prefix):
        """A key that the node on port serves: prefix itself with a single
        Redis, prefix{N} for the smallest N that lands there in a cluster."""
        if not self.cluster:
            return prefix
        for n in range(100000):
            key = "%s{%d}" % (prefix, n)
            if self.redis_node_of(key) == port:
                return key
        raise RuntimeError("no key lands on the node on port %d" % port)

    def redis_name_of(self, port):
        """The process name ("redis", "redis-2", ...) of the node on port."""
        return self.redis_names[self.redis_ports.index(port)]

    def _keyed(self, key, args):
        """args on the primary of key's slot, following MOVED (the slot
        map is read again) and ASK (once, with ASKING), and waiting out
        TRYAGAIN and CLUSTERDOWN for a while."""
        port = self.redis_node_of(key)
        asking = False
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.redis_node(port, *args, asking=asking)
            except RedisError as e:
                words = str(e).split()
                if words[0] in ("MOVED", "ASK"):
                    port = int(words[2].rsplit(":", 1)[1])
                    asking = words[0] == "ASK"
                    if not asking:
                        self._slot_map = None
                    continue
                if (words[0] not in ("TRYAGAIN", "CLUSTERDOWN")
                        or time.monotonic() > deadline):
                    raise
            time.sleep(0.05)
            asking = False
            port = self.redis_node_of(key)

    def _data_ports(self):
        """The nodes a command for every node goes to: all of them, or
        with replicas the primaries serving slots now."""
        if not self.cluster_replicas:
            return self.redis_ports
        return self.cluster_primaries()

    def _first_port(self):
        """The node that answers a command for any node: the first, or
        with replicas the first primary serving slots now."""
        if not self.cluster_replicas:
            return self.redis_port
        return self.cluster_primaries()[0]

    def _on_every_node(self, args, ports=None):
        """args on every node (default: _data_ports()) at once; their
        replies in node order. An error of any node is raised."""
        ports = self._data_ports() if ports is None else ports
        replies = [None] * len(ports)

        def run(i, port):
            try:
                replies[i] = self.redis_node(port, *args)
            except BaseException as e:  # raised in the caller's thread
                replies[i] = e
        threads = [threading.Thread(target=run, args=(i, port))
                   for i, port in enumerate(ports)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply
        return replies

    def _scan(self, args):
        """SCAN over every node with one cursor: node index + node count *
        that node's cursor."""
        ports = self._data_ports()
        n = len(ports)
        cursor = int(args[1])
        node, node_cursor = cursor % n, cursor // n
        next_cursor, keys = self.redis_node(ports[node], "SCAN",
                                            node_cursor, *args[2:])
        next_cursor = int(next_cursor)
        if next_cursor:
            return [str(next_cursor * n + node), keys]
        return [str(node + 1) if node + 1 < n else "0", keys]

    def _cluster_command(self, args):
        name = str(args[0]).upper()
        sub = str(args[1]).upper() if len(args) > 1 else ""
        if name == "KEYS":
            return [k for reply in self._on_every_node(args) for k in reply]
        if name == "DBSIZE":
            return sum(self._on_every_node(args))
        if name == "INFO":
            return _sum_info(self._on_every_node(args))
        if name == "SCAN":
            return self._scan(args)
        if name == "CONFIG":
            if sub == "GET":
                return self.redis_node(self._first_port(), *args)
            if self.cluster_replicas:
                return self._on_every_node(args, [
                    port for port in self.redis_ports
                    if self.pid(self.redis_name_of(port))])[0]
            return self._on_every_node(args)[0]
        if name in _ALL_NODES or (name == "MEMORY" and sub != "USAGE"):
            return self._on_every_node(args)[0]
        if name in _ANY_NODE or len(args) < 2:
            return self.redis_node(self._first_port(), *args)
        if name in _SUMMED_PER_KEY:
            return sum(self._keyed(key, (args[0], key)) for key in args[1:])
        if name in ("EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL",
                    "FCALL_RO"):
            if int(args[2]) == 0:
                return self.redis_node(self._first_port(), *args)
            return self._keyed(args[3], args)
        if name in _KEY_IS_SECOND:
            return self._keyed(args[2], args)
        return self._keyed(args[1], args)


def wait_until(check, timeout=10.0, pause=0.05, ignore=()):
    """Calls check until it is true or timeout seconds have passed; returns
    its last answer as a bool. An exception of a class in ignore counts as
    not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return True
        except ignore:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(pause)


STOCK_NGINX = "/etc/nginx"


def nginx_t_in_stock_conf(site):
    """Runs nginx -t on a copy of the machine's stock nginx configuration
    with site dropped into its conf.d/, the stock absolute paths pointed
    into the copy. Returns (the finished process, the stock nginx.conf
    text)."""
    tmp = tempfile.mkdtemp(prefix="slotlock-conf-")
    try:
        etc = os.path.join(tmp, "etc")
        shutil.copytree(STOCK_NGINX, etc, symlinks=True)
        os.symlink("/usr/lib/nginx/modules", os.path.join(tmp, "modules"))
        os.makedirs(os.path.join(etc, "conf.d"), exist_ok=True)
        shutil.copy(site, os.path.join(etc, "conf.d"))
        conf = os.path.join(etc, "nginx.conf")
        with open(conf) as f:
            stock = f.read()
        with open(conf, "w") as f:
            f.write(stock.replace("/etc/nginx/", etc + "/")
                    .replace("/var/log/nginx/", tmp + "/")
                    .replace("/run/nginx.pid", tmp + "/nginx.pid"))
        result = subprocess.run(["nginx", "-t", "-p", tmp + "/", "-c", conf,
                                 "-e", os.path.join(tmp, "error.log")],
                                capture_output=True, text=True, timeout=60)
        return result, stock
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def concurrently(stack, calls, timeout=30.0):
    """Sends requests at the same moment, one thread and one connection
    each, and returns their Responses in order. calls: a list of
    (method, path[, body[, headers]]) tuples."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", stack.port,
                                          timeout=timeout)
        try:
            conn.connect()
            barrier.wait(timeout)
            results[i] = _send(conn, method, path, body, headers)
        except BaseException as e:  # re-raised in the caller's thread
            barrier.abort()
            results[i] = e
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,) + tuple(call))
               for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        # A thread that failed first breaks the barrier for the others.
        raise next((e for e in errors
                    if not isinstance(e, threading.BrokenBarrierError)),
                   errors[0])
    return results
