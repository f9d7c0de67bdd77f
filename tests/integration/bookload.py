"""Booking load for the scaling tests: threads that each hold and book slots
of their own, retrying through 5xx answers the way a careful client does
(the same holderId to acquire again, the same lockId to book again).

    load = BookingLoad(stack, "tenant-a", threads=4)
    load.start(); ...; load.stop()
    load.acked      # {lockId: answer} of every booking answered 200/201
    load.answers    # (monotonic time, status) of every booking request
    load.unavailable  # how many requests of either kind got a 5xx or none
    load.timeline   # (sent, answered, path, status or None) of every request

Bounded: each thread books at most max_per_thread slots, one every pace_s
at most, and gives a slot up after retry_s of 5xx answers.
"""

import datetime
import http.client
import threading
import time

DAY0 = datetime.date(2025, 3, 10)


def slot_of(thread, i):
    """The i-th slot of a thread: its own resource, one hour a slot."""
    date = DAY0 + datetime.timedelta(days=i // 24)
    return {"resourceId": "r%d" % thread, "date": date.isoformat(),
            "startTime": "%02d:00" % (i % 24), "duration": 60}


def end_time(slot):
    return "%02d:00" % (int(slot["startTime"][:2]) + 1)


def booked_intervals(redis, tenant):
    """{(resource, date): [(start, duration, id), ...]} from the day
    indexes, through redis(*args) of the server that is asked."""
    out = {}
    cursor = "0"
    while True:
        cursor, keys = redis("SCAN", cursor, "MATCH",
                             "booking_booked:{%s|*" % tenant, "COUNT", 500)
        for key in keys:
            tag, date = key.split(":", 1)[1].rsplit(":", 1)
            resource = tag.strip("{}").split("|", 1)[1]
            items = out.setdefault((resource, date), [])
            for member in redis("ZRANGE", key, 0, -1):
                start, duration, appt_id = member.split("/", 2)
                items.append((int(start), int(duration), appt_id))
        if cursor == "0":
            return out


def overlaps(intervals):
    """The pairs of bookings that overlap, per (resource, date)."""
    found = []
    for where, items in intervals.items():
        items = sorted(items)
        for a, b in zip(items, items[1:]):
            if a[0] + a[1] > b[0]:
                found.append((where, a, b))
    return found


class BookingLoad:
    def __init__(self, stack, tenant, threads=4, max_per_thread=2000,
                 retry_s=20.0, pause_s=0.05, pace_s=0.02):
        self.stack = stack
        self.tenant = tenant
        self.max_per_thread = max_per_thread
        self.retry_s = retry_s
        self.pause_s = pause_s
        self.pace_s = pace_s
        self.acked = {}
        self.answers = []
        self.gave_up = 0
        self.unavailable = 0    # 5xx or no answer, acquire and booking
        self.refused = []
        self.timeline = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(t,),
                                          daemon=True)
                         for t in range(threads)]

    def start(self):
        for t in self._threads:
            t.start()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(self.retry_s + 15)

    def summary(self):
        with self._lock:
            return ("%d acknowledged, %d answers, %d given up, refused: %s"
                    % (len(self.acked), len(self.answers), self.gave_up,
                       self.refused[:10]))

    def count(self):
        with self._lock:
            return len(self.acked)

    def acked_after(self, moment):
        """Bookings answered 200/201 after moment (monotonic)."""
        with self._lock:
            return sum(1 for a in self.acked.values() if a["at"] > moment)

    def _request(self, path, body):
        try:
            return self.stack.request("POST", path, body, timeout=5)
        except (OSError, http.client.HTTPException):
            return None

    def _retry(self, path, body, deadline, on_answer=None):
        """Sends until an answer below 500 or the deadline; None then."""
        while not self._stop.is_set() or on_answer is not None:
            sent = time.monotonic()
            r = self._request(path, body)
            with self._lock:
                self.timeline.append((sent, time.monotonic(), path,
                                      r.status if r is not None else None))
            if r is None or r.status >= 500:
                with self._lock:
                    self.unavailable += 1
            if on_answer is not None:
                on_answer(r)
            if r is not None and r.status < 500:
                return r
            if time.monotonic() > deadline:
                return None
            time.sleep(self.pause_s)
        return None

    def _note(self, r):
        with self._lock:
            self.answers.append((time.monotonic(),
                                 r.status if r is not None else None))

    def _run(self, thread):
        for i in range(self.max_per_thread):
            if self._stop.wait(self.pace_s):
                return
            slot = slot_of(thread, i)
            deadline = time.monotonic() + self.retry_s
            body = dict(slot, tenantId=self.tenant,
                        holderId="h%d-%d" % (thread, i))
            r = self._retry("/api/locks/acquire", body, deadline)
            if r is None and self._stop.is_set():
                return
            if r is None or r.status != 200:
                self._give_up(r)
                continue
            lock_id = r.json["lockId"]
            booking = {
                "lockId": lock_id, "tenantId": self.tenant,
                "specialistId": slot["resourceId"], "serviceId": "cut",
                "date": slot["date"], "startTime": slot["startTime"],
                "endTime": end_time(slot), "duration": slot["duration"],
                "customerName": "Load %d" % thread,
                "customerEmail": "load%d@example.com" % thread, "price": 10,
            }
            # Once acquired, a booking is retried to the end even while
            # the load stops: a 503 may hide a booking that was made.
            r = self._retry("/api/appointments", booking, deadline,
                            on_answer=self._note)
            if r is not None and r.status in (200, 201):
                with self._lock:
                    self.acked[lock_id] = {
                        "id": r.json["appointment"]["id"],
                        "status": r.status, "slot": slot,
                        "at": time.monotonic()}
            else:
                self._give_up(r)

    def _give_up(self, r):
        with self._lock:
            if r is None:
                self.gave_up += 1
            else:
                self.refused.append((r.status, r.json and r.json.get("reason")))
