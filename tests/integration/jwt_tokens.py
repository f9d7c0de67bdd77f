"""Signing JSON Web Tokens for the tests, as a booking site's login would:
HS256 with Python's hmac, RS256 and ES256 with the openssl command line.
No JWT library: each token is made from its parts, so a test can also
make the broken ones (alg none, a wrong signature, a tampered payload)."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import tempfile
import time

SECRET = "a-test-secret-of-at-least-32-bytes-long!"


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def part(obj):
    return b64url(json.dumps(obj, separators=(",", ":")))


def claims(tenant, role, lifetime=300, **extra):
    """Claims a site would put in its token: tenant, role, iat and exp."""
    now = int(time.time())
    c = {"sub": "user-1", "tenantId": tenant, "role": role, "iat": now,
         "exp": now + lifetime}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def hs256(payload, secret=SECRET, header=None):
    head = part(header or {"alg": "HS256", "typ": "JWT"})
    signing_input = head + "." + part(payload)
    sig = hmac.new(secret.encode(), signing_input.encode(),
                   hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


def _openssl_sign(key_file, data):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_file],
                          input=data.encode(), capture_output=True,
                          check=True).stdout


def rs256(payload, key_file, header=None):
    head = part(header or {"alg": "RS256", "typ": "JWT"})
    signing_input = head + "." + part(payload)
    return signing_input + "." + b64url(_openssl_sign(key_file,
                                                      signing_input))


def _der_ecdsa_to_raw(der, size=32):
    """An ECDSA signature as openssl writes it (DER SEQUENCE of r, s) as a
    JWS wants it: r and s, each size bytes, one after the other."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        value = der[i + 2:i + 2 + n].lstrip(b"\0")
        out += value.rjust(size, b"\0")
        i += 2 + n
    return out


def es256(payload, key_file, header=None):
    head = part(header or {"alg": "ES256", "typ": "JWT"})
    signing_input = head + "." + part(payload)
    sig = _der_ecdsa_to_raw(_openssl_sign(key_file, signing_input))
    return signing_input + "." + b64url(sig)


def unsigned(payload):
    """alg "none": no signature at all."""
    return part({"alg": "none", "typ": "JWT"}) + "." + part(payload) + "."


class KeyPair:
    """A fresh key pair in a temporary folder: kind "rsa" or "ec"
    (P-256). private and public are the PEM files' paths."""

    def __init__(self, kind="rsa"):
        self.dir = tempfile.mkdtemp(prefix="slotlock-keys-")
        self.private = os.path.join(self.dir, "private.pem")
        self.public = os.path.join(self.dir, "public.pem")
        if kind == "rsa":
            subprocess.run(["openssl", "genpkey", "-algorithm", "RSA",
                            "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                            self.private], check=True, capture_output=True)
        else:
            subprocess.run(["openssl", "genpkey", "-algorithm", "EC",
                            "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                            self.private], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", self.private, "-pubout",
                        "-out", self.public], check=True, capture_output=True)

    def remove(self):
        for path in (self.private, self.public):
            if os.path.exists(path):
                os.remove(path)
        os.rmdir(self.dir)


def bearer(token):
    return {"Authorization": "Bearer " + token}
