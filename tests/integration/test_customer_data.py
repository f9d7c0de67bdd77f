"""What a booking keeps and tells: prices exactly as sent, customer data
only to the true retry of a booking, no ids in the logs, the id at the top
of the answer, and valid JSON with bad values refused by field."""

import os
import re
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_case import ADMIN, BookingTestCase  # noqa: E402

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                  r"[0-9a-f]{12}")


class PriceTest(BookingTestCase):
    def book_at(self, start, price):
        lock = self.acquire(start=start).json["lockId"]
        return self.stack.request("POST", "/api/appointments",
                                  self.booking(lock, start=start,
                                               price=price))

    def test_prices_come_back_exactly_as_sent(self):
        cases = [("09:00", "19.99"), ("10:00", "1234567.89"),
                 ("11:00", "123456789012345"), ("12:00", "0.1"),
                 ("13:00", "50"), ("14:00", "99999999999999.9")]
        for start, text in cases:
            lock = self.acquire(start=start).json["lockId"]
            body = self.booking(lock, start=start, price=0)
            raw = re.sub(rb'"price": 0\b', b'"price": ' + text.encode(),
                         __import__("json").dumps(body).encode())
            r = self.stack.request("POST", "/api/appointments", raw,
                                   headers={"Content-Type":
                                            "application/json"})
            self.assertEqual(r.status, 201, r.text)
            # The text of the answer, not only the number Python reads.
            self.assertIn('"price":%s' % text, r.text)
            appt_id = r.json["appointment"]["id"]
            for path in ("/api/appointments/" + appt_id,
                         "/api/appointments?tenantId=" + self.tenant):
                got = self.stack.request("GET", path, headers=ADMIN)
                self.assertIn('"price":%s' % text, got.text, path)
            got = self.stack.request("DELETE", "/api/appointments/" + appt_id,
                                     headers=ADMIN)
            self.assertIn('"price":%s' % text, got.text)

    def test_a_price_that_cannot_be_kept_exactly_is_refused(self):
        for start, price in (("15:00", 1234567890123456),
                             ("16:00", 0.1 + 0.2)):
            r = self.book_at(start, price)
            self.assertEqual(r.status, 400, r.text)
            self.assertEqual(r.json["reason"], "validation_error")
            self.assertEqual([e["field"] for e in r.json["errors"]],
                             ["price"])


class RetryTest(BookingTestCase):
    def test_a_true_retry_gets_the_appointment_and_its_id_on_top(self):
        lock = self.acquire().json["lockId"]
        first = self.stack.request("POST", "/api/appointments",
                                   self.booking(lock))
        self.assertEqual(first.status, 201, first.text)
        self.assertEqual(first.json["appointmentId"],
                         first.json["appointment"]["id"])
        again = self.stack.request("POST", "/api/appointments",
                                   self.booking(lock))
        self.assertEqual(again.status, 200, again.text)
        self.assertEqual(again.json["appointmentId"],
                         first.json["appointmentId"])
        self.assertEqual(again.json["appointment"]["customerEmail"],
                         "john@example.com")

    def test_a_retry_with_other_customer_fields_gets_no_customer_data(self):
        lock = self.acquire().json["lockId"]
        r = self.stack.request("POST", "/api/appointments",
                               self.booking(lock))
        self.assertEqual(r.status, 201, r.text)
        for change in ({"customerName": "attacker"},
                       {"customerEmail": "evil@example.com"},
                       {"customerPhone": "+999"},
                       {"date": "2000-01-01"},
                       {"customerName": "attacker", "date": "2000-01-01"}):
            r = self.stack.request("POST", "/api/appointments",
                                   self.booking(lock, **change))
            self.assertEqual(r.status, 409, (change, r.text))
            self.assertEqual(r.json["reason"], "lock_used")
            for secret in ("John Doe", "john@example.com", "+1234567890"):
                self.assertNotIn(secret, r.text)


class LogTest(BookingTestCase):
    def test_no_lock_id_or_appointment_id_is_logged(self):
        lock = self.acquire().json["lockId"]
        self.assertEqual(self.stack.request(
            "GET", "/api/locks/" + lock).status, 200)
        appt = self.stack.request("POST", "/api/appointments",
                                  self.booking(lock)).json["appointmentId"]
        self.assertEqual(self.stack.request(
            "GET", "/api/appointments/" + appt, headers=ADMIN).status, 200)
        other = self.acquire(start="16:00").json["lockId"]
        self.assertEqual(self.stack.request(
            "DELETE", "/api/locks/" + other).status, 200)
        access = os.path.join(self.stack.dir, "nginx", "access.log")
        for path in (self.stack._logs["app"], access):
            with open(path) as f:
                text = f.read()
            self.assertIn("/api/locks/{id}", text, path)
            self.assertEqual(UUID.findall(text), [], path)


class ValidJsonTest(BookingTestCase):
    def post(self, raw):
        return self.stack.request("POST", "/api/locks/acquire", raw,
                                  headers={"Content-Type":
                                           "application/json"})

    def test_a_nul_escape_is_a_bad_field_not_bad_json(self):
        r = self.post('{"tenantId": "t\\u0000x", "resourceId": "r", '
                      '"date": "2025-03-10", "startTime": "10:00", '
                      '"duration": 60}')
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.json["reason"], "validation_error")
        self.assertEqual([e["field"] for e in r.json["errors"]],
                         ["tenantId"])

    def test_an_out_of_range_number_is_a_bad_field_not_bad_json(self):
        for number in ("1e400", "-1e400", "123456789012345678901234567890"):
            r = self.post('{"tenantId": "%s", "resourceId": "r", '
                          '"date": "2025-03-10", "startTime": "10:00", '
                          '"duration": %s}' % (self.tenant, number))
            self.assertEqual(r.status, 400, r.text)
            self.assertEqual(r.json["reason"], "validation_error", number)
            self.assertEqual([e["field"] for e in r.json["errors"]],
                             ["duration"])
        lock = self.acquire().json["lockId"]
        body = self.booking(lock)
        raw = __import__("json").dumps(body).replace('"price": 50',
                                                      '"price": 1e400')
        r = self.stack.request("POST", "/api/appointments", raw,
                               headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual([e["field"] for e in r.json["errors"]], ["price"])
        # Nothing changed: the lock is still there, unbooked.
        self.assertEqual(self.stack.request("GET", "/api/locks/" + lock).status,
                         200)


if __name__ == "__main__":
    unittest.main()
