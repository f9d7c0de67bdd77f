"""Tenant tokens (JWT) on the admin routes, through nginx: what each role
may do on its own tenant, forbidden_tenant on another's, and a 401 with
error="invalid_token" for every bad token (expired, not yet valid, a wrong
signature, alg none, an algorithm not enabled, malformed, wrong issuer or
audience). The tokens are signed here (jwt_tokens.py): HS256 with hmac,
RS256 and ES256 with openssl."""

import os
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from booking_case import ADMIN, TOKEN, BookingTestCase  # noqa: E402
from harness import Stack  # noqa: E402
import jwt_tokens as jt  # noqa: E402

INVALID = 'Bearer error="invalid_token"'


class TenantTokenCase(BookingTestCase):
    """A Stack with the operator's token, HS256 and an RSA public key."""

    keys = None
    env = {"ADMIN_TOKEN": TOKEN, "JWT_SECRET": jt.SECRET,
           "JWT_ISSUER": "https://login.shop.example",
           "JWT_AUDIENCE": "slotlock"}

    @classmethod
    def setUpClass(cls):
        cls.keys = jt.KeyPair("rsa")
        cls.env = dict(cls.env, JWT_PUBLIC_KEY_FILE=cls.keys.public)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.keys.remove()

    def claims(self, role="admin", tenant=None, **extra):
        extra.setdefault("iss", "https://login.shop.example")
        extra.setdefault("aud", "slotlock")
        return jt.claims(tenant or self.tenant, role, **extra)

    def token(self, role="admin", tenant=None, alg="HS256", **extra):
        c = self.claims(role, tenant, **extra)
        if alg == "RS256":
            return jt.bearer(jt.rs256(c, self.keys.private))
        return jt.bearer(jt.hs256(c))

    def appointment(self, start="09:00"):
        lock_id = self.held(start=start)
        r = self.book(lock_id, start=start)
        self.assertEqual(r.status, 201, r.text)
        return r.json["appointment"]["id"]

    def force_release_body(self, tenant=None, start="10:00"):
        return {"tenantId": tenant or self.tenant,
                "resourceId": "specialist-1", "date": "2025-03-10",
                "startTime": start}

    def unheld_booking(self, tenant=None, start="16:00"):
        body = self.booking(None, start=start)
        del body["lockId"]
        body["tenantId"] = tenant or self.tenant
        return body

    def assertInvalidToken(self, r):
        self.assertReason(r, 401, "unauthorized")
        self.assertEqual(r.headers["WWW-Authenticate"], INVALID)


class RolesTest(TenantTokenCase):
    def test_admin_may_do_every_admin_action_on_its_tenant(self):
        for alg in ("HS256", "RS256"):
            with self.subTest(alg=alg):
                h = self.token("admin", alg=alg)
                appt = self.appointment(start="09:00" if alg == "HS256"
                                        else "11:00")
                lock_id = self.held(start="13:00" if alg == "HS256"
                                    else "15:00")
                r = self.get("/api/locks/admin/active?tenantId=%s"
                             % self.tenant, headers=h)
                self.assertEqual(r.status, 200, r.text)
                self.assertEqual(r.json["count"], 1)
                r = self.get("/api/appointments?tenantId=" + self.tenant,
                             headers=h)
                self.assertEqual(r.status, 200, r.text)
                r = self.get("/api/appointments/" + appt, headers=h)
                self.assertEqual(r.status, 200, r.text)
                self.assertEqual(r.json["appointment"]["customerName"],
                                 "John Doe")
                r = self.stack.request("POST",
                                       "/api/locks/admin/force-release",
                                       self.force_release_body(
                                           start="13:00" if alg == "HS256"
                                           else "15:00"), headers=h)
                self.assertEqual(r.status, 200, r.text)
                self.assertIs(r.json["released"], True)
                r = self.stack.request("GET", "/api/locks/" + lock_id)
                self.assertEqual(r.status, 404, r.text)
                r = self.stack.request("DELETE", "/api/appointments/" + appt,
                                       headers=h)
                self.assertEqual(r.status, 200, r.text)
                self.assertEqual(r.json["appointment"]["status"],
                                 "cancelled")
                r = self.stack.request("POST", "/api/appointments",
                                       self.unheld_booking(
                                           start="17:00" if alg == "HS256"
                                           else "19:00"), headers=h)
                self.assertEqual(r.status, 201, r.text)
                r = self.get("/api/locks/metrics?tenantId=" + self.tenant,
                             headers=h)
                self.assertEqual(r.status, 200, r.text)
                self.assertEqual(r.json["metrics"]["tenantId"], self.tenant)

    def test_staff_may_read_and_nothing_else(self):
        h = self.token("staff")
        appt = self.appointment()
        self.held(start="12:00")
        for path in ("/api/locks/admin/active?tenantId=" + self.tenant,
                     "/api/appointments?tenantId=" + self.tenant,
                     "/api/appointments/" + appt):
            r = self.get(path, headers=h)
            self.assertEqual(r.status, 200, (path, r.text))
        for method, path, body in (
                ("POST", "/api/locks/admin/force-release",
                 self.force_release_body(start="12:00")),
                ("DELETE", "/api/appointments/" + appt, None),
                ("POST", "/api/appointments", self.unheld_booking()),
                ("GET", "/api/locks/metrics?tenantId=" + self.tenant, None),
                ("GET", "/api/locks/metrics", None)):
            r = self.stack.request(method, path, body, headers=h)
            self.assertReason(r, 403, "forbidden")
        # Nothing changed.
        r = self.get("/api/appointments/" + appt)
        self.assertEqual(r.json["appointment"]["status"], "confirmed")
        r = self.get("/api/locks/admin/active?tenantId=" + self.tenant)
        self.assertEqual(r.json["count"], 1)

    def test_an_unknown_role_may_do_nothing(self):
        for role in ("viewer", "Admin", ""):
            h = self.token(role)
            r = self.get("/api/appointments?tenantId=" + self.tenant,
                         headers=h)
            self.assertReason(r, 403, "forbidden")

    def test_another_tenants_data_is_forbidden_tenant(self):
        mine = self.tenant
        other = self.tenant + "-other"
        self.tenant = other
        appt = self.appointment()
        self.held(start="12:00")
        self.tenant = mine
        for role in ("admin", "staff"):
            h = self.token(role)
            for path in ("/api/locks/admin/active?tenantId=" + other,
                         "/api/appointments?tenantId=" + other,
                         "/api/appointments/" + appt):
                r = self.get(path, headers=h)
                self.assertReason(r, 403, "forbidden_tenant")
        h = self.token("admin")
        for method, path, body in (
                ("POST", "/api/locks/admin/force-release",
                 self.force_release_body(tenant=other, start="12:00")),
                ("DELETE", "/api/appointments/" + appt, None),
                ("POST", "/api/appointments",
                 self.unheld_booking(tenant=other)),
                ("GET", "/api/locks/metrics?tenantId=" + other, None)):
            r = self.stack.request(method, path, body, headers=h)
            self.assertReason(r, 403, "forbidden_tenant")
        # The other tenant's appointment and hold are untouched.
        r = self.get("/api/appointments/" + appt)
        self.assertEqual(r.json["appointment"]["status"], "confirmed")
        r = self.get("/api/locks/admin/active?tenantId=" + other)
        self.assertEqual(r.json["count"], 1)
        r = self.get("/api/appointments?tenantId=" + other)
        self.assertEqual(r.json["count"], 1)

    def test_unknown_appointment_is_404_for_a_tenant_token(self):
        h = self.token("admin")
        for method in ("GET", "DELETE"):
            r = self.stack.request(method, "/api/appointments/"
                                   + str(uuid.uuid4()), headers=h)
            self.assertReason(r, 404, "not_found")

    def test_the_operator_token_still_reaches_every_tenant(self):
        appt = self.appointment()
        for path in ("/api/appointments?tenantId=" + self.tenant,
                     "/api/appointments/" + appt,
                     "/api/locks/admin/active?tenantId=" + self.tenant,
                     "/api/locks/metrics"):
            r = self.get(path, headers=ADMIN)
            self.assertEqual(r.status, 200, (path, r.text))
        r = self.get("/api/locks/metrics", headers=ADMIN)
        self.assertIn("requestsTotal", r.json["metrics"])

    def test_tenant_metrics_count_the_tenants_own_data(self):
        self.held(start="08:00")
        self.held(start="09:00")
        appt = self.appointment(start="10:00")
        self.appointment(start="11:00")
        self.stack.request("DELETE", "/api/appointments/" + appt,
                           headers=ADMIN)
        # Another tenant's data is not counted.
        mine, self.tenant = self.tenant, self.tenant + "-x"
        self.held(start="08:00")
        self.tenant = mine
        h = self.token("admin")
        for path in ("/api/locks/metrics?tenantId=" + self.tenant,
                     "/api/locks/metrics"):
            r = self.get(path, headers=h)
            self.assertEqual(r.status, 200, r.text)
            m = r.json["metrics"]
            self.assertEqual(m["tenantId"], self.tenant)
            self.assertEqual(m["activeLocks"], 2)
            self.assertEqual(m["appointmentsConfirmed"], 1)
            self.assertEqual(m["appointmentsCancelled"], 1)
            self.assertNotIn("requestsTotal", m)
        r = self.get("/api/locks/metrics?format=prometheus", headers=h)
        self.assertEqual(r.status, 200, r.text)
        self.assertIn('slotlock_tenant_active_locks{tenant="%s"} 2'
                      % self.tenant, r.text)

    def test_a_tenant_admin_is_exempt_from_the_address_cap(self):
        # The cap is off in the test stack (LOCK_MAX_PER_ADDRESS 0); the
        # admin's acquire must still succeed with its token.
        r = self.acquire(start="18:00")
        self.assertEqual(r.status, 200, r.text)


class BadTokensTest(TenantTokenCase):
    def bad_tokens(self):
        now = int(time.time())
        good = self.claims()
        yield "expired", jt.hs256(self.claims(exp=now - 31))
        yield "expired RS256", jt.rs256(self.claims(exp=now - 60),
                                        self.keys.private)
        yield "no exp", jt.hs256(self.claims(exp=None))
        yield "exp not a number", jt.hs256(self.claims(exp="soon"))
        yield "not yet valid", jt.hs256(self.claims(nbf=now + 60))
        yield "nbf not a number", jt.hs256(self.claims(nbf="later"))
        yield "wrong secret", jt.hs256(good, secret="x" * 40)
        other = jt.KeyPair("rsa")
        try:
            yield "wrong RSA key", jt.rs256(good, other.private)
        finally:
            other.remove()
        yield "alg none", jt.unsigned(good)
        yield "alg none, signed", jt.hs256(good, header={"alg": "none"})
        yield "alg NONE", jt.unsigned(good).replace(
            jt.part({"alg": "none", "typ": "JWT"}), jt.part({"alg": "NONE"}))
        yield "HS384 not enabled", jt.hs256(good, header={"alg": "HS384"})
        yield "ES256 with an RSA key", jt.hs256(good, header={"alg": "ES256"})
        with open(self.keys.public) as f:
            pem = f.read()
        yield "HS256 signed with the public key", jt.hs256(good, secret=pem)
        yield "no alg", jt.hs256(good, header={"typ": "JWT"})
        head, payload, sig = jt.hs256(good).split(".")
        yield "tampered payload", ".".join((head, jt.part(
            self.claims(tenant="someone-else")), sig))
        yield "no signature", head + "." + payload + "."
        yield "two parts", head + "." + payload
        yield "four parts", jt.hs256(good) + ".x"
        yield "not base64url", head + ".%%%." + sig
        yield "padding", head + "=." + payload + "." + sig
        yield "header not JSON", jt.b64url("nope") + "." + payload + "." + sig
        yield "payload not JSON", jt.hs256({"x": 1}).split(".")[0] + "." + \
            jt.b64url("nope") + "." + sig
        yield "garbage", "not-a-token"
        yield "wrong issuer", jt.hs256(self.claims(iss="https://evil"))
        yield "no issuer", jt.hs256(self.claims(iss=None))
        yield "wrong audience", jt.hs256(self.claims(aud="other"))
        yield "audience list without ours", jt.hs256(self.claims(
            aud=["a", "b"]))
        yield "no tenant", jt.hs256(dict(good, tenantId=None))
        yield "tenant not an id", jt.hs256(dict(good, tenantId="a b"))
        yield "tenant a number", jt.hs256(dict(good, tenantId=7))
        yield "no role", jt.hs256(dict(good, role=None))
        yield "role not a string", jt.hs256(dict(good, role=["admin"]))
        yield "very long", "a" * 9000 + "." + payload + "." + sig

    def test_each_bad_token_is_401_invalid_token(self):
        path = "/api/appointments?tenantId=" + self.tenant
        for name, token in self.bad_tokens():
            with self.subTest(name):
                r = self.get(path, headers={"Authorization":
                                            "Bearer " + token})
                if name == "very long":
                    # nginx's header buffer is 8 KiB: its own 400.
                    self.assertIn(r.status, (400, 401), r.text)
                    continue
                self.assertInvalidToken(r)

    def test_leeway_of_30_seconds(self):
        now = int(time.time())
        path = "/api/appointments?tenantId=" + self.tenant
        for c in (self.claims(exp=now - 20), self.claims(nbf=now + 20),
                  self.claims(aud=["x", "slotlock"])):
            r = self.get(path, headers=jt.bearer(jt.hs256(c)))
            self.assertEqual(r.status, 200, r.text)

    def test_no_header_is_a_plain_401(self):
        r = self.get("/api/appointments?tenantId=" + self.tenant,
                     headers=None)
        self.assertReason(r, 401, "unauthorized")
        self.assertEqual(r.headers["WWW-Authenticate"], "Bearer")


class OnlyHs256Test(TenantTokenCase):
    """JWT_SECRET only, no ADMIN_TOKEN, no issuer or audience, custom
    claim names: RS256 is not enabled, the operator's routes still open
    to tenant tokens."""

    env = {"JWT_SECRET": jt.SECRET, "JWT_TENANT_CLAIM": "org",
           "JWT_ROLE_CLAIM": "perm", "ADMIN_TOKEN": None}

    @classmethod
    def setUpClass(cls):
        cls.keys = jt.KeyPair("rsa")
        BookingTestCase.setUpClass.__func__(cls)

    def test_custom_claims_and_rs256_not_enabled(self):
        now = int(time.time())
        path = "/api/appointments?tenantId=" + self.tenant
        c = {"org": self.tenant, "perm": "staff", "exp": now + 60}
        r = self.get(path, headers=jt.bearer(jt.hs256(c)))
        self.assertEqual(r.status, 200, r.text)
        # The default claim names mean nothing here.
        c2 = {"tenantId": self.tenant, "role": "staff", "exp": now + 60}
        self.assertInvalidToken(self.get(path, headers=jt.bearer(
            jt.hs256(c2))))
        self.assertInvalidToken(self.get(path, headers=jt.bearer(
            jt.rs256(c, self.keys.private))))
        # ADMIN_TOKEN unset: the old operator token is just a bad token.
        self.assertInvalidToken(self.get(path, headers=ADMIN))


class Es256Test(TenantTokenCase):
    """JWT_PUBLIC_KEY_FILE with a P-256 key: ES256; HS256 not enabled."""

    env = {"ADMIN_TOKEN": TOKEN}

    @classmethod
    def setUpClass(cls):
        cls.keys = jt.KeyPair("ec")
        cls.env = dict(cls.env, JWT_PUBLIC_KEY_FILE=cls.keys.public)
        BookingTestCase.setUpClass.__func__(cls)

    def test_es256(self):
        path = "/api/appointments?tenantId=" + self.tenant
        c = jt.claims(self.tenant, "admin")
        r = self.get(path, headers=jt.bearer(jt.es256(c, self.keys.private)))
        self.assertEqual(r.status, 200, r.text)
        other = jt.KeyPair("ec")
        try:
            self.assertInvalidToken(self.get(path, headers=jt.bearer(
                jt.es256(c, other.private))))
        finally:
            other.remove()
        self.assertInvalidToken(self.get(path, headers=jt.bearer(
            jt.hs256(c))))


class ConfigurationTest(unittest.TestCase):
    def test_bad_settings_stop_the_start(self):
        for env in ({"JWT_SECRET": "short"},
                    {"JWT_PUBLIC_KEY_FILE": "/nonexistent/key.pem"},
                    {"JWT_PUBLIC_KEY_FILE": "/etc/hostname"},
                    {"CORS_ALLOWED_ORIGINS": "*"},
                    {"CORS_ALLOWED_ORIGINS": "https://shop.example/"}):
            with self.subTest(env):
                with self.assertRaises(Exception):
                    Stack(env=env, ready_timeout=3).stop()


if __name__ == "__main__":
    unittest.main()
