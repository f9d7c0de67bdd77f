"""A catalogue of malformed and hostile requests across every route, each
with the status and reason API.md gives it. None may be a 5xx, and none
may leave a lock or booking behind in Redis."""

import json
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Stack  # noqa: E402

TOKEN = "bad-input-admin-token"
ADMIN = {"Authorization": "Bearer " + TOKEN}
JSON = {"Content-Type": "application/json"}
UNKNOWN = "0b7e3c2a-5d1f-4a6b-9c8d-7e6f5a4b3c2d"   # never issued

SLOT = {"tenantId": "bad", "resourceId": "r", "date": "2025-03-10",
        "startTime": "10:00", "duration": 30}
BOOKING = {"lockId": UNKNOWN, "tenantId": "bad", "specialistId": "r",
           "serviceId": "s", "date": "2025-03-10", "startTime": "10:00",
           "endTime": "10:30", "duration": 30, "customerName": "A",
           "customerEmail": "a@example.com", "customerPhone": "+1 (555) 0",
           "price": 10}
MISSING = object()

# Values a field of each kind must refuse, with a label for the case name.
BAD_IDS = [("empty", ""), ("65_chars", "a" * 65), ("space", "a b"),
           ("colon", "a:b"), ("brace", "a{b"), ("close_brace", "a}b"),
           ("pipe", "a|b"), ("star", "a*"), ("question", "a?"),
           ("bracket", "[a]"), ("tab", "a\tb"), ("newline", "a\nb"),
           ("non_ascii", "caf\u00e9"), ("number", 12), ("null_missing", None),
           ("list", ["a"]), ("object", {"a": 1}), ("bool", True)]
BAD_DATES = [("feb_29_2025", "2025-02-29"), ("month_13", "2025-13-01"),
             ("month_0", "2025-00-10"), ("apr_31", "2025-04-31"),
             ("day_0", "2025-03-00"), ("short_year", "25-03-10"),
             ("slashes", "2025/03/10"), ("one_digit", "2025-3-10"),
             ("leading_space", " 2025-03-10"), ("with_time",
                                                "2025-03-10T00:00"),
             ("number", 20250310), ("empty", "")]
BAD_STARTS = [("24_00", "24:00"), ("minute_60", "12:60"), ("hour_25",
                                                           "25:00"),
              ("one_digit", "1:00"), ("dash", "12-00"), ("seconds",
                                                         "12:00:00"),
              ("negative", "-1:00"), ("number", 1200), ("empty", ""),
              ("am_pm", "10:00 AM")]
BAD_DURATIONS = [("zero", 0), ("negative", -30), ("over_a_day", 1441),
                 ("float", 60.0), ("string", "60"), ("bool", True),
                 ("exponent", 6e1), ("list", [60])]
BAD_LOCK_IDS = [("not_uuid", "not-a-uuid"),
                ("upper", UNKNOWN.upper()),
                ("no_dashes", UNKNOWN.replace("-", "")),
                ("braces", "{%s}" % UNKNOWN), ("number", 12345),
                ("too_long", UNKNOWN + "0"), ("glob", UNKNOWN[:-1] + "*")]


def with_field(base, field, value):
    body = dict(base)
    if value is MISSING or value is None:
        body.pop(field, None)
    else:
        body[field] = value
    return body


def cases():
    """(name, method, path, body, headers, status, reason, error fields)."""
    out = []

    def add(name, method, path, body=None, headers=None, status=400,
            reason="validation_error", fields=None):
        if isinstance(body, (dict, list)) and headers is None:
            headers = JSON
        out.append((name, method, path, body, headers, status, reason,
                    fields))

    # ---- acquire: every field rule -----------------------------------
    for field in ("tenantId", "resourceId"):
        for label, value in BAD_IDS:
            add("acquire_%s_%s" % (field, label), "POST",
                "/api/locks/acquire", with_field(SLOT, field, value),
                fields=[field])
    for label, value in BAD_IDS:
        if value is not None:       # holderId is optional
            add("acquire_holderId_" + label, "POST", "/api/locks/acquire",
                with_field(SLOT, "holderId", value), fields=["holderId"])
    for label, value in BAD_DATES:
        add("acquire_date_" + label, "POST", "/api/locks/acquire",
            with_field(SLOT, "date", value), fields=["date"])
    for label, value in BAD_STARTS:
        add("acquire_start_" + label, "POST", "/api/locks/acquire",
            with_field(SLOT, "startTime", value), fields=["startTime"])
    for label, value in BAD_DURATIONS:
        add("acquire_duration_" + label, "POST", "/api/locks/acquire",
            with_field(SLOT, "duration", value), fields=["duration"])
    add("acquire_duration_past_midnight", "POST", "/api/locks/acquire",
        dict(SLOT, startTime="23:30", duration=60), fields=["duration"])
    for label, value in (("too_short", 999), ("over_max_hold", 600001),
                         ("string", "5000"), ("float", 5000.5),
                         ("negative", -1000)):
        add("acquire_ttl_" + label, "POST", "/api/locks/acquire",
            dict(SLOT, ttl=value), fields=["ttl"])
    add("acquire_every_field_bad", "POST", "/api/locks/acquire",
        {"tenantId": "", "resourceId": "a:b", "date": "2025-02-30",
         "startTime": "9:00", "duration": 0},
        fields=["tenantId", "resourceId", "date", "startTime", "duration"])
    add("acquire_empty_object", "POST", "/api/locks/acquire", {},
        fields=["tenantId", "resourceId", "date", "startTime", "duration"])

    # ---- bodies that are not a JSON object (any POST route) ----------
    for path in ("/api/locks/acquire", "/api/locks/verify",
                 "/api/locks/refresh", "/api/locks/release",
                 "/api/appointments"):
        route = path.rsplit("/", 1)[1]
        add(route + "_no_body", "POST", path, None, JSON,
            reason="invalid_json")
        add(route + "_array", "POST", path, "[]", JSON,
            reason="invalid_json")
        add(route + "_form_type", "POST", path, "tenantId=bad",
            {"Content-Type": "application/x-www-form-urlencoded"}, 415,
            "unsupported_media_type")
    for label, raw in (("null", "null"), ("string", '"x"'), ("number", "1"),
                       ("truncated", '{"tenantId": "bad"'),
                       ("trailing_garbage", '{"tenantId": "bad"} x'),
                       ("two_objects", "{} {}"),
                       ("single_quotes", "{'tenantId': 'bad'}"),
                       ("comment", '{"tenantId": "bad" /* c */}'),
                       ("trailing_comma", '{"tenantId": "bad",}'),
                       ("duplicate_key", '{"tenantId": "a", "tenantId": "b",'
                        ' "resourceId": "r", "date": "2025-03-10",'
                        ' "startTime": "10:00", "duration": 30}'),
                       ("nan", '{"duration": NaN}'),
                       ("lone_surrogate", '{"tenantId": "\\ud800"}'),
                       ("whitespace_only", "  \n ")):
        add("acquire_body_" + label, "POST", "/api/locks/acquire", raw, JSON,
            reason="invalid_json")
    # Valid JSON whose values no field takes: refused by field.
    every_slot_field = ["tenantId", "resourceId", "date", "startTime",
                        "duration"]
    for label, raw in (("big_int", '{"duration": 99999999999999999999999}'),
                       ("huge_real", '{"duration": 1e400}'),
                       ("nul_escape", '{"tenantId": "a\\u0000"}')):
        add("acquire_body_" + label, "POST", "/api/locks/acquire", raw, JSON,
            fields=every_slot_field)
    add("acquire_xml_type", "POST", "/api/locks/acquire",
        json.dumps(SLOT), {"Content-Type": "application/xml"}, 415,
        "unsupported_media_type")
    add("acquire_too_large", "POST", "/api/locks/acquire",
        json.dumps(dict(SLOT, pad="x" * 17000)), JSON, 413,
        "payload_too_large")

    # ---- verify / refresh / release ----------------------------------
    vbody = dict(SLOT, lockId=UNKNOWN)
    add("verify_no_lock_id", "POST", "/api/locks/verify",
        with_field(vbody, "lockId", None), fields=["lockId"])
    for label, value in BAD_LOCK_IDS:
        add("verify_lock_id_" + label, "POST", "/api/locks/verify",
            dict(vbody, lockId=value), fields=["lockId"])
    for field in ("tenantId", "resourceId", "date", "startTime"):
        add("verify_missing_" + field, "POST", "/api/locks/verify",
            with_field(vbody, field, None), fields=[field])
    add("verify_bad_duration", "POST", "/api/locks/verify",
        dict(vbody, duration="30"), fields=["duration"])
    add("verify_unknown_lock", "POST", "/api/locks/verify", vbody, None,
        409, "lock_not_found")
    add("refresh_no_lock_id", "POST", "/api/locks/refresh", {"ttl": 5000},
        fields=["lockId"])
    for label, value in BAD_LOCK_IDS:
        add("refresh_lock_id_" + label, "POST", "/api/locks/refresh",
            {"lockId": value}, fields=["lockId"])
    add("refresh_bad_ttl", "POST", "/api/locks/refresh",
        {"lockId": UNKNOWN, "ttl": 10}, fields=["ttl"])
    add("refresh_bad_slot_field", "POST", "/api/locks/refresh",
        {"lockId": UNKNOWN, "date": "2025-02-29"}, fields=["date"])
    add("refresh_unknown_lock", "POST", "/api/locks/refresh",
        {"lockId": UNKNOWN}, None, 404, "lock_not_found")
    add("release_no_lock_id", "POST", "/api/locks/release", {},
        fields=["lockId"])
    add("release_empty_lock_id", "POST", "/api/locks/release",
        {"lockId": ""}, fields=["lockId"])
    for label, value in BAD_LOCK_IDS[:4]:
        add("release_lock_id_" + label, "POST", "/api/locks/release",
            {"lockId": value}, fields=["lockId"])
    add("release_unknown_lock", "POST", "/api/locks/release",
        {"lockId": UNKNOWN}, None, 404, "lock_not_found")

    # ---- lock by id in the path --------------------------------------
    for method in ("GET", "DELETE"):
        for label, value in (("not_uuid", "not-a-uuid"),
                             ("upper", UNKNOWN.upper()),
                             ("glob", "*"),
                             ("encoded_uuid", UNKNOWN.replace("-", "%2D"))):
            add("lock_%s_%s" % (method.lower(), label), method,
                "/api/locks/" + value, fields=["lockId"])
        add("lock_%s_unknown" % method.lower(), method,
            "/api/locks/" + UNKNOWN, status=404, reason="lock_not_found")
        # nginx resolves the dot segments before anything else.
        add("lock_%s_dot_dot" % method.lower(), method, "/api/locks/%2e%2e",
            status=404, reason="not_found")
        add("lock_%s_two_segments" % method.lower(), method,
            "/api/locks/%s/x" % UNKNOWN, status=404, reason="not_found")
    add("lock_put", "PUT", "/api/locks/" + UNKNOWN, status=405,
        reason="method_not_allowed")

    # ---- status ------------------------------------------------------
    st = "/api/locks/status?"
    for label, query, fields in (
            ("no_query", "", ["tenantId", "resourceId", "date"]),
            ("no_tenant", "resourceId=r&date=2025-03-10", ["tenantId"]),
            ("bad_tenant", "tenantId=a%7Cb&resourceId=r&date=2025-03-10",
             ["tenantId"]),
            ("bad_date", "tenantId=bad&resourceId=r&date=2025-02-29",
             ["date"]),
            ("repeated", "tenantId=a&tenantId=b&resourceId=r"
             "&date=2025-03-10", ["tenantId"]),
            ("bad_escape", "tenantId=%zz&resourceId=r&date=2025-03-10",
             ["query", "tenantId"]),
            ("nul", "tenantId=a%00&resourceId=r&date=2025-03-10",
             ["query", "tenantId"]),
            ("bad_utf8", "tenantId=%C3%28&resourceId=r&date=2025-03-10",
             ["query", "tenantId"])):
        add("status_" + label, "GET", st + query, fields=fields)
    add("status_post", "POST", "/api/locks/status", {}, status=405,
        reason="method_not_allowed")

    # ---- admin: active, force-release, metrics -----------------------
    act = "/api/locks/admin/active?"
    for label, query, fields in (
            ("no_tenant", "", ["tenantId"]),
            ("limit_0", "tenantId=bad&limit=0", ["limit"]),
            ("limit_1001", "tenantId=bad&limit=1001", ["limit"]),
            ("limit_text", "tenantId=bad&limit=ten", ["limit"]),
            ("limit_negative", "tenantId=bad&limit=-1", ["limit"]),
            ("bad_resource", "tenantId=bad&resourceId=a*", ["resourceId"]),
            ("bad_date", "tenantId=bad&date=yesterday", ["date"])):
        add("active_" + label, "GET", act + query, headers=ADMIN,
            fields=fields)
    add("active_no_token", "GET", act + "tenantId=bad", status=401,
        reason="unauthorized")
    events = "/api/events?"
    for label, query, fields in (
            ("no_tenant", "", ["tenantId"]),
            ("limit_0", "tenantId=bad&limit=0", ["limit"]),
            ("limit_1001", "tenantId=bad&limit=1001", ["limit"]),
            ("after_not_a_cursor", "tenantId=bad&after=yesterday",
             ["after"]),
            ("after_bad_resource", "tenantId=bad&after=1-0~a*", ["after"])):
        add("events_" + label, "GET", events + query, headers=ADMIN,
            fields=fields)
    add("events_no_token", "GET", events + "tenantId=bad", status=401,
        reason="unauthorized")
    for label, value in (("wrong_token", "Bearer nope"),
                         ("basic_scheme", "Basic " + TOKEN),
                         ("no_scheme", TOKEN),
                         ("token_prefix", "Bearer " + TOKEN[:-1]),
                         ("token_longer", "Bearer " + TOKEN + "x"),
                         ("empty", "Bearer ")):
        add("active_" + label, "GET", act + "tenantId=bad",
            headers={"Authorization": value}, status=401,
            reason="unauthorized")
    fr = "/api/locks/admin/force-release"
    add("force_release_no_token", "POST", fr, SLOT, JSON, 401,
        "unauthorized")
    add("force_release_missing_start", "POST", fr,
        with_field(SLOT, "startTime", None), dict(ADMIN, **JSON),
        fields=["startTime"])
    add("force_release_bad_tenant", "POST", fr,
        dict(SLOT, tenantId="*"), dict(ADMIN, **JSON), fields=["tenantId"])
    add("force_release_not_json", "POST", fr, "{", dict(ADMIN, **JSON),
        reason="invalid_json")
    add("force_release_unknown", "POST", fr, SLOT, dict(ADMIN, **JSON), 404,
        "lock_not_found")
    add("metrics_no_token", "GET", "/api/locks/metrics", status=401,
        reason="unauthorized")
    add("metrics_bad_format", "GET", "/api/locks/metrics?format=xml",
        headers=ADMIN, fields=["format"])
    add("metrics_post", "POST", "/api/locks/metrics", {}, ADMIN, 405,
        "method_not_allowed")

    # ---- appointments: create ----------------------------------------
    ap = "/api/appointments"
    add("book_no_lock_id", "POST", ap, with_field(BOOKING, "lockId", None),
        status=400, reason="lock_required")
    add("book_null_lock_id", "POST", ap, dict(BOOKING, lockId=None),
        status=400, reason="lock_required")
    add("book_no_lock_id_wrong_token", "POST", ap,
        with_field(BOOKING, "lockId", None),
        dict(JSON, Authorization="Bearer nope"), 401, "unauthorized")
    add("book_unknown_lock", "POST", ap, BOOKING, status=409,
        reason="lock_expired")
    for label, value in BAD_LOCK_IDS[:3]:
        add("book_lock_id_" + label, "POST", ap, dict(BOOKING, lockId=value),
            fields=["lockId"])
    for field, label, value in (
            ("tenantId", "pipe", "a|b"), ("specialistId", "empty", ""),
            ("specialistId", "missing", None), ("serviceId", "glob", "s*"),
            ("serviceId", "missing", None), ("date", "feb_29", "2025-02-29"),
            ("startTime", "bad", "10:61"), ("duration", "string", "30"),
            ("endTime", "mismatch", "11:00"), ("endTime", "missing", None),
            ("endTime", "24_01", "24:01"), ("endTime", "number", 1030),
            ("customerName", "empty", ""),
            ("customerName", "201_chars", "x" * 201),
            ("customerName", "missing", None),
            ("customerName", "number", 5),
            ("customerEmail", "no_at", "a.example.com"),
            ("customerEmail", "missing", None),
            ("customerEmail", "too_long", "a" * 250 + "@example.com"),
            ("customerEmail", "spaces", "a b@example.com"),
            ("customerPhone", "letters", "call me"),
            ("customerPhone", "33_chars", "1" * 33),
            ("customerPhone", "number", 5550100),
            ("price", "negative", -1), ("price", "string", "50"),
            ("price", "missing", None), ("price", "bool", False)):
        add("book_%s_%s" % (field, label), "POST", ap,
            with_field(BOOKING, field, value), fields=[field])

    # ---- appointments: list, get, cancel ------------------------------
    for label, query, fields in (
            ("no_tenant", "", ["tenantId"]),
            ("bad_status", "tenantId=bad&status=pending", ["status"]),
            ("bad_specialist", "tenantId=bad&specialistId=%20",
             ["specialistId"]),
            ("bad_date", "tenantId=bad&date=2025-13-01", ["date"]),
            ("repeated_status", "tenantId=bad&status=confirmed"
             "&status=cancelled", ["status"])):
        add("list_" + label, "GET", ap + "?" + query, headers=ADMIN,
            fields=fields)
    add("list_no_token", "GET", ap + "?tenantId=bad", status=401,
        reason="unauthorized")
    for method in ("GET", "DELETE"):
        m = method.lower()
        add("appt_%s_no_token" % m, method, ap + "/" + UNKNOWN, status=401,
            reason="unauthorized")
        add("appt_%s_unknown" % m, method, ap + "/" + UNKNOWN,
            headers=ADMIN, status=404, reason="not_found")
        add("appt_%s_not_uuid" % m, method, ap + "/not-a-uuid",
            headers=ADMIN, status=404, reason="not_found")
        add("appt_%s_glob" % m, method, ap + "/*", headers=ADMIN,
            status=404, reason="not_found")
    add("appt_put", "PUT", ap + "/" + UNKNOWN, headers=ADMIN, status=405,
        reason="method_not_allowed")
    add("appointments_delete_collection", "DELETE", ap, headers=ADMIN,
        status=405, reason="method_not_allowed")

    # ---- webhooks ----------------------------------------------------
    wh = "/api/webhooks"
    for label, body, fields in (
            ("no_url", {}, ["url"]), ("url_number", {"url": 5}, ["url"]),
            ("url_ftp", {"url": "ftp://example.com/"}, ["url"]),
            ("url_userinfo", {"url": "http://u:p@example.com/"}, ["url"]),
            ("url_space", {"url": "http://example.com/a b"}, ["url"]),
            ("url_2100", {"url": "http://example.com/" + "a" * 2100},
             ["url"]),
            ("secret_short", {"url": "http://example.com/",
                              "secret": "short"}, ["secret"]),
            ("tenant_pipe", {"url": "http://example.com/",
                             "tenantId": "a|b"}, ["tenantId"])):
        add("webhook_" + label, "POST", wh, body, headers=ADMIN,
            fields=fields)
    add("webhook_no_token", "POST", wh, {"url": "http://example.com/"},
        status=401, reason="unauthorized")
    add("webhook_list_bad_tenant", "GET", wh + "?tenantId=a%7Cb",
        headers=ADMIN, fields=["tenantId"])
    add("deadletters_bad_limit", "GET", wh + "/deadletters?limit=x",
        headers=ADMIN, fields=["limit"])
    add("webhook_delete_unknown", "DELETE", wh + "/wh_" + "0" * 32,
        headers=ADMIN, status=404, reason="not_found")
    add("webhook_delete_glob", "DELETE", wh + "/*", headers=ADMIN,
        status=404, reason="not_found")
    add("webhook_put", "PUT", wh, {}, headers=ADMIN, status=405,
        reason="method_not_allowed")

    # ---- routing and nginx -------------------------------------------
    add("acquire_get", "GET", "/api/locks/acquire", status=405,
        reason="method_not_allowed")
    add("acquire_put", "PUT", "/api/locks/acquire", SLOT, status=405,
        reason="method_not_allowed")
    add("health_post", "POST", "/api/locks/health", {}, status=405,
        reason="method_not_allowed")
    add("unknown_admin_route", "GET", "/api/locks/admin/nothing",
        headers=ADMIN, status=404, reason="not_found")
    add("api_locks_bare", "GET", "/api/locks", status=404,
        reason="not_found")
    add("unknown_api_path", "GET", "/api/nothing", status=404,
        reason="not_found")
    add("uri_too_long", "GET", "/api/locks/status?tenantId=" + "a" * 9000,
        status=414, reason="uri_too_long")
    return out


class BadInputTest(unittest.TestCase):
    def test_catalogue(self):
        with Stack(env={"ADMIN_TOKEN": TOKEN}) as stack:
            # Something real to leave alone: a live lock and a booking.
            r = stack.request("POST", "/api/locks/acquire",
                              dict(SLOT, startTime="08:00"))
            self.assertEqual(r.status, 200, r.text)
            held = stack.request("POST", "/api/locks/acquire",
                                 dict(SLOT, startTime="09:00"))
            r = stack.request("POST", "/api/appointments", dict(
                BOOKING, lockId=held.json["lockId"], startTime="09:00",
                endTime="09:30"))
            self.assertEqual(r.status, 201, r.text)

            def snapshot():
                out = {}
                for key in stack.redis("KEYS", "*"):
                    # The counters (per resource in a cluster) may move.
                    if key == "slotlock:stats" or key.startswith(
                            "booking_stats:"):
                        continue
                    kind = stack.redis("TYPE", key)
                    # The event streams and the hash of what a hold's
                    # expiry event needs, besides the strings and zsets.
                    if kind in ("stream", "hash"):
                        out[key] = stack.redis(
                            *(("XRANGE", key, "-", "+") if kind == "stream"
                              else ("HGETALL", key)))
                        continue
                    out[key] = (stack.redis("GET", key) if kind == "string"
                                else stack.redis("HGETALL", key)
                                if kind == "hash"
                                else stack.redis("XRANGE", key, "-", "+")
                                if kind == "stream"
                                else stack.redis("ZRANGE", key, 0, -1,
                                                 "WITHSCORES"))
                return out

            before = snapshot()
            table = cases()
            names = [c[0] for c in table]
            self.assertEqual(len(names), len(set(names)), "duplicate names")
            self.assertGreaterEqual(len(table), 100)
            for (name, method, path, body, headers, status, reason,
                 fields) in table:
                with self.subTest(name):
                    r = stack.request(method, path, body, headers=headers)
                    self.assertLess(r.status, 500, r.text)
                    self.assertEqual(r.status, status, r.text[:300])
                    self.assertEqual(r.headers.get("Content-Type"),
                                     "application/json; charset=utf-8")
                    self.assertIs(r.json["success"], False)
                    self.assertEqual(r.json["reason"], reason)
                    self.assertTrue(r.json["message"])
                    if fields is not None:
                        self.assertEqual(
                            sorted(e["field"] for e in r.json["errors"]),
                            sorted(fields), r.text[:300])
                    if status == 405:
                        self.assertIn("Allow", r.headers)
                    if status == 401:
                        self.assertEqual(r.headers["WWW-Authenticate"],
                                         "Bearer")
            # Nothing was created, changed or removed by any of them.
            self.assertEqual(snapshot(), before)
            self.assertEqual(stack.request("GET",
                                           "/api/locks/health").status, 200)
            print("bad input: %d malformed or hostile requests, each with "
                  "its expected status and reason, none a 5xx, Redis "
                  "unchanged" % len(table), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
