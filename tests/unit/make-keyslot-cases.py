#!/usr/bin/env python3
"""Writes tests/unit/keyslot_cases.txt: one line per key, "<slot> <key>",
the slot being what CLUSTER KEYSLOT of a real redis-server answers.

    tests/unit/make-keyslot-cases.py [output]   (default: next to this file)

The keys are the app's key shapes (locks, their day indexes, bookings,
lockId and appointment-id indexes, holder sets) over many ids, and the
hash-tag edge cases: empty tags, unbalanced braces, several tags, bytes
that are not ASCII or not UTF-8. No key holds a space, a newline or a NUL,
so a line splits at its first space; the longest line is 1006 bytes. The file is made once and committed; run
this again only to add cases. Needs redis-server on PATH.
"""

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid


def ids(seed, n):
    """n fixed UUIDs (canonical lowercase), the same at every run."""
    return [str(uuid.UUID(bytes=hashlib.md5(b"%s-%d" % (seed, i)).digest(),
                          version=4)) for i in range(n)]


def cases():
    tenants = ["t", "acme", "salon-1", "Clinic_42", "a.b-c_d", "x" * 64,
               "0", "TENANT"]
    resources = ["r", "r1", "dr-smith", "room.7", "R_2", "y" * 64]
    dates = ["2025-03-10", "2028-02-29", "2031-12-31"]
    times = ["00:00", "09:30", "14:00", "23:59"]
    keys = []
    for i, tenant in enumerate(tenants):
        for j, resource in enumerate(resources):
            tag = "{%s|%s}" % (tenant, resource)
            date = dates[(i + j) % len(dates)]
            for start in times[:2 + (i + j) % 3]:
                keys.append("booking_lock:%s:%s:%s" % (tag, date, start))
            keys.append("booking_locks:%s:%s" % (tag, date))
            keys.append("booking_booked:%s:%s" % (tag, date))
            lock_id, appt_id = ids(b"%s|%s" % (tenant.encode(),
                                               resource.encode()), 2)
            keys.append("booking_done:%s:%s" % (tag, lock_id))
            keys.append("booking_appt:%s:%s:%s" % (tag, date, appt_id))
        for holder in ("h", "holder-1", "h" * 64):
            keys.append("booking_holder:{%s}:%s" % (tenant, holder))
    keys += ["booking_lockid:" + i for i in ids(b"lock", 24)]
    keys += ["booking_apptid:" + i for i in ids(b"appt", 12)]
    keys += ["slotlock:live", "slotlock:stats", "booking_lock:{t|r}",
             "booking_lock:{t|r}:2025-03-10:14:00"]
    # Hash-tag edge cases: only the part between the first "{" and the
    # first "}" after it counts, and only when it is not empty.
    keys += ["{}", "{", "}", "}{", "}{a}", "a{b}c{d}", "{}{x}", "foo{}{bar}",
             "foo{{bar}}zap", "foo{bar}{zap}", "{a", "a}", "{{}}", "{a}{b}",
             "a{}b", "{|}", "x{|}y", "{}}", "{{}", "{a}", "a", "0", "{0}",
             "{t|r}", "x{t|r}", "{t|r}x", "booking_lock:{}:2025-03-10:14:00",
             "booking_lock:{t|r:2025-03-10:14:00", "booking_holder:{}:h",
             "foo", "bar", "123456789", "{123456789}", "a" * 1000,
             "{" + "b" * 500 + "}" + "c" * 10]
    keys = [k.encode() for k in keys]
    # Not ASCII: UTF-8, and bytes that are not UTF-8 at all.
    keys += ["é".encode(), "{é}x".encode(), "x{é}".encode(),
             "日本{語}".encode(), "booking_lock:{tö|r}:2025-03-10:14:00".encode(),
             b"\xff", b"\x80", b"\xc3\x28", b"{\xff}", b"\xfe{\xff}\xfd",
             b"a\x01b", b"\x7f", b"caf\xe9", b"{caf\xe9}x"]
    for key in keys:
        assert key and not any(c in key for c in b" \r\n\0"), key
    assert len(set(keys)) == len(keys)
    return keys


def resp(args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "keyslot_cases.txt")
    keys = cases()
    tmp = tempfile.mkdtemp(prefix="keyslot-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        bus = s.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--dir", tmp, "--save", "", "--appendonly", "no",
         "--cluster-enabled", "yes", "--cluster-port", str(bus),
         "--cluster-config-file", "nodes.conf"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                conn = socket.create_connection(("127.0.0.1", port), 5)
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("redis-server did not start")
        with conn:
            conn.sendall(b"".join(resp([b"CLUSTER", b"KEYSLOT", k])
                                  for k in keys))
            replies = conn.makefile("rb")
            slots = []
            for key in keys:
                line = replies.readline()
                if not line.startswith(b":"):
                    sys.exit("CLUSTER KEYSLOT %r: %r" % (key, line))
                slots.append(int(line[1:]))
        with open(out, "wb") as f:
            for slot, key in zip(slots, keys):
                f.write(b"%d %s\n" % (slot, key))
        print("%s: %d keys" % (out, len(keys)), file=sys.stderr)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
