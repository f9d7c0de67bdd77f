"""A real HTTP endpoint for the webhook tests: http.server in a thread on
a free loopback port. It records every delivery, checks its signature
against the secret of its path, and answers what the test's plan says:
200, a refusal (500), or a stall longer than the dispatcher waits."""

import hashlib
import hmac
import http.server
import json
import threading
import time


def signature_valid(header, body, secret, now=None, tolerance_s=300):
    """Checks "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">" as a
    receiver should: the right MAC, and a time stamp close to now."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
    except (AttributeError, KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), b"%d." % t + body,
                        hashlib.sha256).hexdigest()
    now = time.time() if now is None else now
    return (hmac.compare_digest(expected, parts.get("v1", ""))
            and abs(now - t) <= tolerance_s)


class Delivery:
    def __init__(self, path, headers, body, valid, answer):
        self.path = path
        self.headers = headers
        self.body = body
        self.valid = valid
        self.answer = answer        # "ok", "fail" or "stall"
        self.event_id = headers.get("Slotlock-Event-Id")
        try:
            self.event = json.loads(body)
        except ValueError:
            self.event = None


class Receiver:
    """secrets: path -> secret. plan(path, event, attempt) -> "ok", "fail"
    or "stall" (attempt counts this event id's deliveries to that path,
    from 1); default: always "ok"."""

    def __init__(self, secrets=None, plan=None, port=0):
        self.secrets = dict(secrets or {})
        self.plan = plan
        self.deliveries = []
        self.lock = threading.Lock()
        self.released = threading.Event()   # ends every stall
        self.port = port
        self.server = None
        self.start()

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                receiver._handle(self, body)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            # The dispatcher opens many connections at once; the default
            # backlog of 5 would drop some of them.
            request_queue_size = 1024

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        """Stops listening (the port stays this receiver's for start())."""
        if self.server is not None:
            self.released.set()
            self.server.shutdown()
            self.server.server_close()
            self.server = None
            self.released.clear()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def _handle(self, handler, body):
        path = handler.path
        headers = {k: v for k, v in handler.headers.items()}
        secret = self.secrets.get(path)
        valid = secret is not None and signature_valid(
            headers.get("Slotlock-Signature"), body, secret)
        with self.lock:
            event_id = headers.get("Slotlock-Event-Id")
            attempt = 1 + sum(1 for d in self.deliveries
                              if d.path == path and d.event_id == event_id)
            try:
                event = json.loads(body)
            except ValueError:
                event = None
            answer = self.plan(path, event, attempt) if self.plan else "ok"
            self.deliveries.append(Delivery(path, headers, body, valid,
                                            answer))
        if answer == "stall":
            self.released.wait(60)
            return
        status = 200 if answer == "ok" else 500
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        except OSError:
            pass

    def accepted(self, path=None):
        """The deliveries answered 200, in the order they came (of path)."""
        with self.lock:
            return [d for d in self.deliveries if d.answer == "ok"
                    and (path is None or d.path == path)]

    def all(self, path=None):
        with self.lock:
            return [d for d in self.deliveries
                    if path is None or d.path == path]

    def wait_for(self, condition, timeout=60.0, what="deliveries"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s; got %d deliveries"
                             % (what, len(self.all())))
