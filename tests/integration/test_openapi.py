"""The OpenAPI document: served at GET /api/openapi.json exactly as kept
in docs/openapi.json, a valid OpenAPI 3.1 description whose schemas are
valid JSON Schema, naming every route the app routes and both security
schemes. (Every answer of every integration test is checked against it:
openapi_check.py.)"""

import json
import os
import re
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, Stack  # noqa: E402
import openapi_check  # noqa: E402

# Every route of src/router.c: (method, path template).
def _routes():
    """Every route the app has: the router's table of fixed paths, and the
    two routes whose path holds an id."""
    with open(os.path.join(SRCDIR, "src", "router.c")) as f:
        table = re.findall(r'\{ "(/api/[^"]+)", "([A-Z]+)", ROUTE_', f.read())
    routes = {(method.lower(), path) for path, method in table}
    return routes | {("get", "/api/locks/{lockId}"),
                     ("delete", "/api/locks/{lockId}"),
                     ("get", "/api/appointments/{id}"),
                     ("delete", "/api/appointments/{id}"),
                     ("delete", "/api/webhooks/{id}"),
                     # The live grid's stream, answered by nginx (nchan).
                     ("get", "/api/locks/stream")}


ROUTES = _routes()
METHODS = {"get", "post", "put", "delete", "patch", "options", "head"}


class OpenAPITest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(SRCDIR, "docs", "openapi.json")) as f:
            cls.doc = json.load(f)
        cls.stack = Stack(env={"CORS_ALLOWED_ORIGINS": "https://shop.example"})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def test_served_as_kept(self):
        r = self.stack.request("GET", "/api/openapi.json",
                               headers={"Origin": "https://shop.example"})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith(
            "application/json"))
        self.assertEqual(r.json, self.doc)
        self.assertEqual(r.headers["Access-Control-Allow-Origin"],
                         "https://shop.example")

    def test_every_route_is_described(self):
        described = {(m, p) for p, item in self.doc["paths"].items()
                     for m in item if m in METHODS}
        self.assertEqual(described, ROUTES)
        self.assertEqual(self.doc["openapi"], "3.1.0")
        schemes = self.doc["components"]["securitySchemes"]
        self.assertEqual(schemes["operatorToken"]["scheme"], "bearer")
        self.assertEqual(schemes["tenantToken"]["bearerFormat"], "JWT")

    def test_every_operation_documents_its_answers(self):
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                with self.subTest(method=method, path=path):
                    self.assertIn("operationId", op)
                    self.assertIn("default", op["responses"])
                    self.assertTrue(any(s.startswith("2")
                                        for s in op["responses"]))
                    if path.startswith("/api/locks/admin") or \
                            op["operationId"] in ("metrics",
                                                  "listAppointments",
                                                  "getAppointment",
                                                  "cancelAppointment"):
                        self.assertIn("401", op["responses"])
                        self.assertIn("403", op["responses"])
                        self.assertTrue(op["security"])

    def test_schemas_are_valid_json_schema(self):
        js = openapi_check.jsonschema
        self.assertIsNotNone(js, "python3-jsonschema is needed")
        cls = js.validators.validator_for(
            {"$schema": "https://json-schema.org/draft/2020-12/schema"})

        def walk(node):
            if isinstance(node, dict):
                if "schema" in node and isinstance(node["schema"], dict):
                    cls.check_schema(node["schema"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(self.doc["paths"])
        for schema in self.doc["components"]["schemas"].values():
            cls.check_schema(schema)

    def test_a_drifting_answer_is_caught(self):
        r = self.stack.request("GET", "/api/locks/health")
        r.json["healthy"] = "yes"
        with self.assertRaises(openapi_check.OpenAPIMismatch):
            openapi_check.check("GET", "/api/locks/health", r)
        r.status = 299
        with self.assertRaises(openapi_check.OpenAPIMismatch):
            openapi_check.check("GET", "/api/locks/health", r)


if __name__ == "__main__":
    unittest.main()
