"""Every answer the integration tests get is checked against the OpenAPI
document (docs/openapi.json), so the document cannot drift from what the
service answers.

harness.py calls check(method, path, response) for each response of
Stack.request() and concurrently(). For a path under /api/: a JSON answer
must match the schema of its operation's status (or the operation's
"default"); an answer to a method the path does not document, or to a path
the document does not have, must be the common Error shape; a status with
neither an entry nor a default fails. A 204 has no body. Raw requests
(Stack.request(raw=...)) are not checked: they are deliberately broken.

The validator is Debian's python3-jsonschema (script/bootstrap installs
it). The python3 first on PATH may not see Debian's packages, so their
folder is added when the module is not found otherwise.
SLOTLOCK_OPENAPI_CHECK=0 turns the check off."""

import json
import os
import re
import sys
import warnings

ENABLED = os.environ.get("SLOTLOCK_OPENAPI_CHECK", "1") != "0"
SRCDIR = os.path.abspath(os.environ.get("SLOTLOCK_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOCUMENT = os.path.join(SRCDIR, "docs", "openapi.json")

try:
    import jsonschema
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import jsonschema
    except ImportError:
        jsonschema = None


class OpenAPIMismatch(AssertionError):
    pass


_doc = None
_routes = None
_validators = {}


def document():
    global _doc, _routes
    if _doc is None:
        with open(DOCUMENT) as f:
            _doc = json.load(f)
        # Paths without a template first, so /api/locks/acquire is never
        # taken for /api/locks/{lockId}.
        templates = sorted(_doc["paths"], key=lambda p: ("{" in p, p))
        _routes = [(re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+",
                                            re.escape(p)) + "$"), p)
                   for p in templates]
    return _doc


def _validator(schema):
    key = json.dumps(schema, sort_keys=True)
    v = _validators.get(key)
    if v is None:
        doc = document()
        cls = jsonschema.validators.validator_for(
            {"$schema": "https://json-schema.org/draft/2020-12/schema"})
        with warnings.catch_warnings():
            # RefResolver is what Debian's jsonschema has; newer ones warn.
            warnings.simplefilter("ignore", DeprecationWarning)
            v = cls(schema, resolver=jsonschema.RefResolver.from_schema(doc))
        _validators[key] = v
    return v


def operation(method, path):
    """(path template, operation) for a request, (template, None) when the
    path is documented but not the method, (None, None) when neither."""
    document()
    for rx, template in _routes:
        if rx.match(path):
            return template, _doc["paths"][template].get(method.lower())
    return None, None


def _fail(method, path, response, why):
    raise OpenAPIMismatch("%s %s answered %d, which docs/openapi.json does "
                          "not describe: %s\n%s" % (
                              method, path, response.status, why,
                              response.text[:500]))


def _validate(method, path, response, schema):
    errors = sorted(_validator(schema).iter_errors(response.json),
                    key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        _fail(method, path, response, "at %s: %s" % (
            "/".join(str(p) for p in e.path) or "(body)", e.message))


def check(method, path, response):
    if not ENABLED or method is None or path is None:
        return
    if jsonschema is None:
        raise OpenAPIMismatch("python3-jsonschema is not installed "
                              "(script/bootstrap installs it)")
    path = path.split("?", 1)[0]
    if not path.startswith("/api/"):
        return
    if response.status == 204:
        if response.body:
            _fail(method, path, response, "a 204 with a body")
        return
    ctype = response.headers.get("content-type", "")
    is_json = ctype.startswith("application/json")
    if method.upper() == "HEAD":
        return
    template, op = operation(method, path)
    if op is None:
        if is_json and response.status >= 400:
            _validate(method, path, response,
                      {"$ref": "#/components/schemas/Error"})
        return
    responses = op["responses"]
    entry = responses.get(str(response.status)) or responses.get("default")
    if entry is None:
        _fail(method, path, response, "no entry for the status and no "
              "default")
    content = entry.get("content", {})
    if not is_json:
        if not any(ctype.startswith(t) for t in content):
            _fail(method, path, response, "Content-Type %r" % ctype)
        return
    if response.json is None:
        _fail(method, path, response, "a body that is not JSON")
    media = content.get("application/json")
    if media is None:
        _fail(method, path, response, "JSON where the document has none")
    _validate(method, path, response, media["schema"])
