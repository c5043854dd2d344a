"""Black-box tests: docs/openapi.json (OpenAPI 3.1.0) against the daemon's real answers.

The document is checked on its own (openapi_check.doc_problems: 3.1 only, every schema valid
against the JSON Schema 2020-12 meta-schema, path parameters at path level, no fake operations,
400/413/414/431 on every operation, an example for every parameter that is valid for it; strict
shapes and named enums), then a daemon on the bundled sample feeds answers requests to every
operation -- good and bad, Dutch and English, staff and not, 304, 401, 404 not_yet_published,
405, 414, 431 -- and every answer's status, headers and body are validated against the response
the document declares, with python3-jsonschema's Draft202012Validator (not a hand-written
validator).  /v1/openapi.json must serve exactly docs/openapi.json.  tests/openapi/run.sh
validates the same answers again with Ajv (ZS_DUMP_RESPONSES, see harness.py).

The staff endpoints are asked with an admin account (staff_accounts_file, made with
zorgstatusd --hash-token) and the old staff_token_file (account "staff", role staff: 403 on the
audit log); 429 after too many wrong tokens has a daemon of its own (the limit is per client
address).  The change feed's webhook body (webhooks.changes) is received from a real POST of the
daemon to a [subscriber] on 127.0.0.1 and validated, signature included.
"""

import hashlib
import hmac
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import openapi_check as oc

STAFF_TOKEN = "blackbox-staff-token-0123456789"         # staff_token_file: "staff", role staff
ADMIN_TOKEN = "blackbox-admin-token-0123456789-abcdefgh"  # staff_accounts_file: "olga", admin
WRONG_TOKEN = "blackbox-wrong-token-0123456789-abcdefgh"
HOOK_SECRET = "blackbox-webhook-secret-0123456789"
STAFF = {"Authorization": "Bearer " + STAFF_TOKEN}
ADMIN = {"Authorization": "Bearer " + ADMIN_TOKEN}


def change_cursor(seq):
    """The cursor of change number seq (src/zs_changes.c: "1-<hex seq>-<4 hex check>")."""
    return "1-%x-%04x" % (seq, ((seq * 0x9E3779B97F4A7C15) & (2 ** 64 - 1)) >> 48)


EXPECTED_PATHS = {
    "/healthz", "/readyz", "/v1", "/v1/labels", "/v1/providers/{agb}",
    "/v1/providers/{agb}/history", "/v1/status",
    "/v1/policies", "/v1/policies/{id}/similar", "/v1/feeds", "/v1/search", "/v1/compare",
    "/v1/openapi.json", "/v1/changes", "/v1/subscribers", "/v1/staff/me",
    "/v1/staff/providers/{agb}", "/v1/staff/feeds", "/v1/staff/audit",
}
STAFF_TEMPLATES = {p for p in EXPECTED_PATHS if p.startswith("/v1/staff/")} | {
    "/v1/subscribers", "/v1/providers/{agb}/history"}

# Good requests: (path, headers).  Together they use every endpoint and parameter.
GOOD = [
    ("/healthz", {}),
    ("/readyz", {}),
    ("/readyz?lang=en", {}),
    ("/v1", {}),
    ("/v1?lang=en", {}),
    ("/v1/labels", {}),
    ("/v1/labels?lang=en", {}),
    ("/v1/labels", {"Accept-Language": "en"}),
    ("/v1/feeds", {}),
    ("/v1/openapi.json", {}),
    ("/v1/policies", {}),
    ("/v1/policies?year=2027", {}),
    ("/v1/policies?year=2026&lang=en", {}),
    ("/v1/policies/9101-NATURA/similar", {}),
    ("/v1/policies/9101-NATURA/similar?year=2027", {}),
    ("/v1/policies/9102-COMBI/similar?year=2027&lang=en", {}),
    ("/v1/policies/9201-VRIJ/similar?year=2026", {}),
    ("/v1/providers/06010101", {}),
    ("/v1/providers/06010101?year=2027&amount=8000", {}),
    ("/v1/providers/06010101?year=2027&amount=8000,50&lang=en", {}),
    ("/v1/providers/06010101?lang=nl", {"Accept-Language": "en"}),
    ("/v1/providers/06010202?year=2027", {"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"}),
    ("/v1/providers/06020202?year=2027&amount=12345.67", {}),          # conflict (A)
    ("/v1/providers/94060101", {}),                                     # C, D*, per policy
    ("/v1/providers/94060202?year=2026&in_treatment=true", {}),         # ceiling + stop (I)
    ("/v1/providers/94060202?year=2026&in_treatment=false&lang=en", {}),
    ("/v1/providers/94060303?year=2026&care_type=mental_health", {}),   # J
    ("/v1/providers/47470101?amount=0.01", {}),                         # patient stop (D10)
    ("/v1/providers/47470202?year=2027&lang=en", {}),                   # K, K2, K3
    ("/v1/providers/04040101?year=2027", {}),                           # provider_only (E)
    ("/v1/providers/04040202?year=2026&in_treatment=true", {}),         # ended (L)
    ("/v1/providers/04040202?year=2026&amount=100", {}),
    ("/v1/providers/22020101?year=2027&amount=99.9", {}),               # ended (L2)
    ("/v1/providers/01010101?year=2027&lang=en", {}),                   # gp (M)
    ("/v1/providers/01010303", {}),
    ("/v1/providers/06030101?year=2027", {}),
    ("/v1/providers/08080101", {}),
    ("/v1/providers/06010303?year=2026&care_type=hospital&amount=8000", {}),
    ("/v1/status?agb=06010101&policy=9101-NATURA", {}),
    ("/v1/status?agb=06010101&policy=9201-NATURA&year=2027&amount=8000", {}),
    ("/v1/status?agb=06020101&policy=9301-BASIS&year=2027&care_type=hospital&lang=en", {}),
    ("/v1/status?agb=94060101&policy=9201-NATURA&year=2027&in_treatment=true", {}),
    ("/v1/status?agb=94060202&policy=9102-NATURA&year=2027", {}),       # unknown (I2)
    ("/v1/search?q=zie", {}),
    ("/v1/search?q=06010101", {}),
    ("/v1/search?q=antonuis&lang=en", {}),
    ("/v1/search?q=xyzzyqq", {}),
    ("/v1/search?postcode=3435CM", {}),
    ("/v1/search?city=Veldhoven&kind=gp&care_type=gp&year=2026", {}),
    ("/v1/search?q=e&limit=50&offset=0", {}),
    ("/v1/search?q=e&limit=3&offset=1000", {}),
    ("/v1/compare?agb=06010101,04040101,06999999&year=2027", {}),
    ("/v1/compare?agb=06020101&year=2027&amount=8000&lang=en", {}),
    ("/v1/compare?agb=06010101&care_type=hospital&policy_type=natura&in_treatment=true", {}),
    ("/v1/compare?agb=06999999", {}),
    ("/v1/providers/06010101?year=2027&situation=acute", {}),
    ("/v1/status?agb=06010101&policy=9101-NATURA&situation=planned&lang=en", {}),
    ("/v1/compare?agb=06010101,94060202&situation=acute&year=2026", {}),
    # compact shapes (issue 16): texts=none, compare detail=summary|full
    ("/v1/providers/06010101?year=2027&texts=none", {}),
    ("/v1/status?agb=06010101&policy=9101-NATURA&texts=none&amount=8000", {}),
    ("/v1/compare?agb=06010101,04040101&year=2027&detail=summary", {}),
    ("/v1/compare?agb=06010101,04040101&year=2027&detail=full&texts=none", {}),
    ("/v1/policies/9101-NATURA/similar?year=2027&texts=none", {}),
    # the change feed (issue 10): the sample feeds' first load is the first events
    ("/v1/changes", {}),
    ("/v1/changes?limit=2", {}),
    ("/v1/changes?since=latest", {}),
    ("/v1/changes?since=" + change_cursor(1) + "&limit=1000&lang=en", {}),
]

# Staff requests (admin token): every staff operation and parameter, and public answers to a
# staff request (sources carry agreement; private, no CORS).
STAFF_GOOD = [
    "/v1/staff/me",
    "/v1/staff/me?lang=en",
    "/v1/staff/feeds",
    "/v1/staff/feeds?lang=en",
    "/v1/subscribers",
    "/v1/subscribers?lang=en",
    "/v1/staff/providers/06020202?year=2027",                  # confirms / more_specific
    "/v1/staff/providers/47470101",                            # a statement with a patient stop
    "/v1/staff/providers/06020202?lang=en&amount=8000",
    "/v1/staff/providers/94060202?year=2026&care_type=mental_health&in_treatment=true"
    "&situation=acute",
    "/v1/staff/providers/06010101?at=2026-11-20T09:00:00Z",    # view history (sample load)
    "/v1/staff/providers/47470101?at=2026-11-20T09:00:00Z&lang=en&year=2026",
    "/v1/staff/providers/06010101?at=2026-11-19",              # before anything was shown
    "/v1/staff/providers/06010101?year=2020",
    "/v1/staff/audit",
    "/v1/staff/audit?agb=06020202&who=olga&from=2026-11-01&until=2026-12-01T00:00:00Z&limit=5",
    "/v1/staff/audit?limit=1000&lang=en",
    "/v1/providers/06020202?year=2027",
    "/v1/status?agb=06020202&policy=9301-BASIS&year=2027",
    "/v1/feeds",
    "/v1/providers/47470101/history",
    "/v1/providers/06010101/history?year=2027",
    "/v1/providers/94060202/history?year=2026&policy=9101-NATURA&care_type=mental_health",
    "/v1/providers/06010101/history?at=2026-11-20",
    "/v1/providers/06010101/history?year=2027&limit=1",
    "/v1/providers/06010101/history?limit=2&cursor="
    "323032377c393130312d4e41545552417c686f73706974616c7c307c30",
    "/v1/providers/06010101/history?at=2026-11-20T09:30:00Z&lang=en",
    "/v1/providers/99999999/history",
]

# Bad requests: (path, expected status, expected error code).
BAD = [
    ("/healthz?lang=de", 400, "bad_parameter"),
    ("/v1/labels?lang=de", 400, "bad_parameter"),
    ("/v1/feeds?lang=fr", 400, "bad_parameter"),
    ("/v1/openapi.json?lang=x", 400, "bad_parameter"),
    ("/v1/policies?year=abc", 400, "bad_parameter"),
    ("/v1/policies?year=1999", 400, "bad_parameter"),
    ("/v1/policies?year=2026&year=2027", 400, "bad_parameter"),
    ("/v1/policies?year=2028", 404, "not_yet_published"),
    ("/v1/policies/9101-NATURA/similar?year=abc", 400, "bad_parameter"),
    ("/v1/policies/9101-NATURA/similar?year=2028", 404, "not_yet_published"),
    ("/v1/policies/9999-NOPE/similar", 404, "not_found"),
    ("/v1/policies/a%20b/similar", 400, "bad_parameter"),
    ("/v1/providers/123", 400, "bad_parameter"),
    ("/v1/providers/99999999", 404, "not_found"),
    ("/v1/providers/06010101?year=2028", 404, "not_yet_published"),
    ("/v1/providers/06010101?amount=abc", 400, "bad_parameter"),
    ("/v1/providers/06010101?care_type=nope", 400, "bad_parameter"),
    ("/v1/providers/06010101?in_treatment=yes", 400, "bad_parameter"),
    ("/v1/providers/06010101?in_treatment=1", 400, "bad_parameter"),     # boolean: true|false
    ("/v1/providers/06010101?situation=urgent", 400, "bad_parameter"),
    ("/v1/status?agb=06010101&policy=9101-NATURA&in_treatment=TRUE", 400, "bad_parameter"),
    ("/v1/compare?agb=06010101&in_treatment=0", 400, "bad_parameter"),
    ("/v1/providers/06010101?lang=de", 400, "bad_parameter"),
    ("/v1/status?agb=06010101", 400, "missing_parameter"),
    ("/v1/status?policy=9101-NATURA", 400, "missing_parameter"),
    ("/v1/status?agb=1&policy=9101-NATURA", 400, "bad_parameter"),
    ("/v1/status?agb=06010101&policy=9101-NATURA&year=2028", 404, "not_yet_published"),
    ("/v1/status?agb=06010101&policy=NOPE", 404, "not_found"),
    ("/v1/status?agb=99999999&policy=9101-NATURA", 404, "not_found"),
    ("/v1/search", 400, "missing_parameter"),
    ("/v1/search?q=zie&limit=0", 400, "bad_parameter"),
    ("/v1/search?q=zie&limit=51", 400, "bad_parameter"),
    ("/v1/search?q=zie&offset=-1", 400, "bad_parameter"),
    ("/v1/search?postcode=12", 400, "bad_parameter"),
    ("/v1/search?q=zie&kind=x", 400, "bad_parameter"),
    ("/v1/search?q=zie&care_type=x", 400, "bad_parameter"),
    ("/v1/search?q=zie&year=2028", 404, "not_yet_published"),
    ("/v1/search?q=zie&q=zie", 400, "bad_parameter"),
    ("/v1/search?q", 400, "bad_request"),
    ("/v1/search?q=zie&limit", 400, "bad_request"),      # a pair without "="
    ("/v1/compare", 400, "missing_parameter"),
    ("/v1/compare?agb=12345678,abc", 400, "bad_parameter"),
    ("/v1/compare?agb=06010101&policy_type=x", 400, "bad_parameter"),
    ("/v1/compare?agb=06010101&year=2028", 404, "not_yet_published"),
    ("/v1/compare?agb=" + ",".join("%08d" % k for k in range(51)), 400, "bad_parameter"),
    ("/v1/providers/06010101/history", 401, "unauthorized"),
    ("/v1/changes?since=garbage", 400, "bad_parameter"),
    ("/v1/changes?since=" + change_cursor(1)[:-1] + "0", 400, "bad_parameter"),   # bad check
    ("/v1/changes?limit=0", 400, "bad_parameter"),
    ("/v1/changes?limit=1001", 400, "bad_parameter"),
    ("/v1/changes?since=" + change_cursor(0xfffff), 410, "cursor_expired"),       # never given
    ("/v1/subscribers", 401, "unauthorized"),
    ("/v1/staff/me", 401, "unauthorized"),
    ("/v1/staff/feeds", 401, "unauthorized"),
    ("/v1/staff/audit", 401, "unauthorized"),
    ("/v1/staff/providers/06010101", 401, "unauthorized"),
]

STAFF_BAD = [
    ("/v1/staff/providers/123", 400, "bad_parameter"),
    ("/v1/staff/providers/06010101?at=yesterday", 400, "bad_parameter"),
    ("/v1/staff/providers/06010101?care_type=x", 400, "bad_parameter"),
    ("/v1/staff/providers/06010101?amount=abc", 400, "bad_parameter"),
    ("/v1/staff/providers/06010101?in_treatment=1", 400, "bad_parameter"),
    ("/v1/staff/providers/06010101?situation=urgent", 400, "bad_parameter"),
    ("/v1/staff/providers/06010101?year=abc", 400, "bad_parameter"),
    ("/v1/staff/providers/06010101?lang=de", 400, "bad_parameter"),
    ("/v1/staff/providers/99999999", 404, "not_found"),
    ("/v1/staff/providers/06010101?year=2028", 404, "not_yet_published"),
    ("/v1/staff/audit?agb=1", 400, "bad_parameter"),
    ("/v1/staff/audit?who=", 400, "bad_parameter"),
    ("/v1/staff/audit?from=x", 400, "bad_parameter"),
    ("/v1/staff/audit?until=2026-13", 400, "bad_parameter"),
    ("/v1/staff/audit?limit=0", 400, "bad_parameter"),
    ("/v1/staff/audit?limit=1001", 400, "bad_parameter"),
    ("/v1/staff/me?lang=fr", 400, "bad_parameter"),
    ("/v1/providers/123/history", 400, "bad_parameter"),
    ("/v1/providers/06010101/history?at=yesterday", 400, "bad_parameter"),
    ("/v1/providers/06010101/history?care_type=x", 400, "bad_parameter"),
    ("/v1/providers/06010101/history?policy=a%20b", 400, "bad_parameter"),
    ("/v1/providers/06010101/history?year=2028", 404, "not_yet_published"),
]

UNKNOWN_PATHS = ["/v1/nope", "/v2/policies", "/v1/providers/06010101/x",
                 "/v1/policies/9101-NATURA", "/v1/policies/9101-NATURA/similar/x"]


NAMED_ENUMS = {
    "ContractStatus": {"contracted", "contracted_ceiling", "negotiating", "not_contracted",
                       "ended", "unknown"},
    "StatusBasis": {"confirmed", "conflict", "insurer", "provider_only", "none"},
    "PolicyType": {"natura", "restitutie", "combinatie", "budget"},
    "ProviderKind": {"hospital", "ibc", "mental_health", "district_nursing", "physiotherapy",
                     "gp", "pharmacy", "maternity", "medical_devices", "other"},
    "CareType": {"hospital", "ibc", "mental_health", "district_nursing", "physiotherapy", "gp",
                 "acute", "maternity", "pharmacy", "medical_devices", "paramedical"},
    "ReimbursementBasis": {"avg_contracted_tariff", "market_tariff", "statutory_max_tariff"},
    "ErrorCode": {"bad_parameter", "missing_parameter", "bad_request", "not_found",
                  "not_yet_published", "method_not_allowed", "unauthorized", "unavailable",
                  "internal", "payload_too_large", "uri_too_long", "headers_too_large",
                  "no_data", "forbidden", "cursor_expired", "too_many_requests"},
}


def ref(name):
    return {"$ref": "#/components/schemas/" + name}


class OpenApiDocumentTest(unittest.TestCase):
    """The document on its own; no daemon."""

    @classmethod
    def setUpClass(cls):
        cls.doc = oc.load_doc()

    def test_structure(self):
        probs = oc.doc_problems(self.doc)
        self.assertEqual(probs, [], "\n".join(probs))

    def test_every_path_without_fake_operations(self):
        self.assertEqual(self.doc["openapi"], "3.1.0")
        self.assertEqual(set(self.doc["paths"]), EXPECTED_PATHS)
        for p, item in self.doc["paths"].items():
            with self.subTest(path=p):
                ops = set(item) - {"parameters", "summary", "description"}
                self.assertEqual(ops, {"get", "head", "options"})
                if "{" in p:
                    names = {oc.resolve(self.doc, x["$ref"])["name"] for x in item["parameters"]}
                    self.assertEqual(names, {"agb"} if "agb" in p else {"id"})
                self.assertIn("204", item["options"]["responses"])
                for m in ("get", "head", "options"):
                    for code in ("400", "413", "414", "431"):
                        self.assertIn(code, item[m]["responses"], "%s %s: no %s" % (m, p, code))
                get = item["get"]["responses"]
                for code in ("200", "304"):
                    self.assertIn(code, get, "%s GET: no %s response" % (p, code))
                for code, r in get.items():
                    if code != "304":
                        self.assertIsNotNone(oc.response_schema(self.doc, item["get"], code),
                                             "%s GET %s: no JSON schema" % (p, code))
                self.assertNotIn("content", oc.response_for(self.doc, item["get"], 304))

    def test_404_and_405_declared(self):
        for p, item in self.doc["paths"].items():
            with self.subTest(path=p):
                if "{" in p or p in ("/v1/status", "/v1/policies", "/v1/search",
                                     "/v1/compare"):
                    self.assertIn("404", item["get"]["responses"])
        # 405: once, for every path and method other than GET/HEAD/OPTIONS
        self.assertIn("405", self.doc["info"]["description"])
        self.assertEqual(oc.response_schema(self.doc, None, 405), ref("Error"))
        allow = oc.response_for(self.doc, None, 405)["headers"]["Allow"]
        allow = oc.resolve(self.doc, allow["$ref"]) if "$ref" in allow else allow
        self.assertTrue(allow.get("required"))
        self.assertEqual(allow["schema"]["enum"], ["GET, HEAD, OPTIONS"])

    def test_staff_and_limits_declared(self):
        """Staff operations: bearer security, 401, private and no CORS on every answer, their own
        preflight; 403 on the audit log; 410 on the change feed; 429 with Retry-After on every
        GET and HEAD (any request that carries a bearer token can get it)."""
        R = lambda r: oc.resolve(self.doc, r["$ref"]) if "$ref" in r else r     # noqa: E731
        for p, item in self.doc["paths"].items():
            staff = p in STAFF_TEMPLATES
            for m in ("get", "head"):
                with self.subTest(path=p, method=m):
                    resp = item[m]["responses"]
                    retry = R(R(resp["429"])["headers"]["Retry-After"])
                    self.assertTrue(retry["required"])
                    self.assertEqual(item[m]["security"], [{"staffToken": []}] if staff else [])
                    if not staff:
                        continue
                    self.assertIn("401", resp)
                    for code, r in resp.items():
                        hd = R(r).get("headers", {})
                        self.assertFalse([h for h in hd if h.startswith("Access-Control")],
                                         "%s %s %s: CORS header on a staff answer" % (m, p, code))
                        cc = R(hd["Cache-Control"])
                        self.assertTrue(cc.get("required"), "%s %s %s" % (m, p, code))
                        self.assertEqual(cc["schema"]["enum"], ["private, no-store"])
            with self.subTest(path=p, method="options"):
                self.assertEqual(item["options"]["responses"]["204"]["$ref"].rsplit("/", 1)[-1],
                                 "StaffPreflight" if staff else "Preflight")
        self.assertIn("403", self.doc["paths"]["/v1/staff/audit"]["get"]["responses"])
        self.assertIn("410", self.doc["paths"]["/v1/changes"]["get"]["responses"])
        self.assertNotIn("403", self.doc["paths"]["/v1/staff/me"]["get"]["responses"])

    def test_strict_schemas(self):
        schemas = self.doc["components"]["schemas"]
        for name in ("Error", "Health", "Location", "Provider", "PolicySummary", "Policy",
                     "ReimbursementRule", "SimilarRef", "Status", "Flags", "PatientStop",
                     "Source", "Consequence", "Example", "Warning", "ExceptionNote",
                     "ProviderAnswer", "StatusAnswer", "PoliciesAnswer", "Feed", "FeedsAnswer",
                     "SearchHit", "SearchAnswer", "CompareAnswer", "CompareRank",
                     "CompareProvider", "SimilarAnswer", "SimilarItem", "HistoryAnswer",
                     "HistoryEntry", "ChangeState", "ChangeStatusEvent", "YearPublishedEvent",
                     "YearLoadedEvent",
                     "ChangesAnswer", "WebhookBatch", "Subscriber", "CacheTier",
                     "SubscribersAnswer", "StaffMe", "Statement", "StatementStop",
                     "StaffStatus", "StaffProviderAnswer", "StaffFeed", "StaffFeedsAnswer",
                     "AuditEntry", "AuditAnswer"):
            with self.subTest(schema=name):
                s = schemas[name]
                self.assertEqual(s.get("type"), "object")
                self.assertIs(s.get("additionalProperties"), False, name)
                self.assertTrue(s.get("required"), name)
        err = schemas["Error"]["properties"]["error"]
        self.assertIs(err["additionalProperties"], False)
        self.assertEqual(set(err["required"]), {"code", "message", "text"})
        self.assertEqual(set(err["properties"]),
                         {"code", "message", "text", "parameter", "published_from", "year",
                          "oldest_cursor"})

    def test_named_enums(self):
        s = self.doc["components"]["schemas"]
        for name, values in NAMED_ENUMS.items():
            with self.subTest(schema=name):
                self.assertEqual(s[name]["type"], "string")
                self.assertEqual(set(s[name]["enum"]), values)
        # every basis value (and every contract status, policy type, error code) is defined
        for name in ("StatusBasis", "ReimbursementBasis", "ContractStatus", "PolicyType",
                     "ErrorCode"):
            with self.subTest(defined=name):
                self.assertEqual(set(s[name]["x-enumDescriptions"]), NAMED_ENUMS[name])
                self.assertTrue(all(len(t) > 10 for t in s[name]["x-enumDescriptions"].values()))
        cb = s["Consequence"]["properties"]["basis"]
        self.assertEqual(set(cb["enum"]), NAMED_ENUMS["ReimbursementBasis"] |
                         {"contracted_tariff", None})
        self.assertEqual(set(cb["x-enumDescriptions"]), set(cb["enum"]) - {None})
        # the answers use them by name
        P = lambda sch, prop: s[sch]["properties"][prop]                       # noqa: E731
        self.assertEqual(P("Status", "status")["$ref"], ref("ContractStatus")["$ref"])
        self.assertEqual(P("Status", "basis")["$ref"], ref("StatusBasis")["$ref"])
        self.assertEqual(P("HistoryEntry", "basis")["$ref"], ref("StatusBasis")["$ref"])
        self.assertEqual(P("PolicySummary", "type")["$ref"], ref("PolicyType")["$ref"])
        self.assertEqual(P("Provider", "kind")["oneOf"], [ref("ProviderKind"), {"type": "null"}])
        self.assertEqual(P("ReimbursementRule", "basis")["$ref"],
                         ref("ReimbursementBasis")["$ref"])
        self.assertEqual(set(s["Consequence"]["properties"]["code"]["enum"]),
                         {"as_contracted", "exception_acute", "exception_gp",
                          "continuity_of_treatment", "unknown", "not_contracted_no_rule",
                          "not_contracted_full", "not_contracted_partial"})
        self.assertEqual(set(s["Warning"]["properties"]["code"]["enum"]),
                         {"provider_reported", "may_change", "ceiling",
                          "patient_stop", "patient_stop_announced", "stale"})

    def test_parameters(self):
        """Types, bounds, and an example for every parameter that its own schema accepts."""
        P = self.doc["components"]["parameters"]
        self.assertEqual(P["Year"]["schema"], {"type": "integer", "minimum": 2000,
                                               "maximum": 2100})
        self.assertEqual((P["Limit"]["schema"]["minimum"], P["Limit"]["schema"]["maximum"]),
                         (1, 50))
        self.assertEqual((P["Offset"]["schema"]["minimum"], P["Offset"]["schema"]["maximum"]),
                         (0, 1000))
        self.assertEqual(P["InTreatment"]["schema"], {"type": "boolean"})
        self.assertEqual(P["PolicyType"]["schema"], ref("PolicyType"))
        self.assertEqual(P["Kind"]["schema"], ref("ProviderKind"))
        self.assertEqual(P["Q"]["schema"]["maxLength"], 200)
        for name, prm in P.items():
            with self.subTest(parameter=name):
                self.assertIn(prm["in"], ("query", "path", "header"))
                self.assertTrue(prm.get("description"))
                self.assertIn("example", prm)
                self.assertEqual(oc.validate(self.doc, prm["schema"], prm["example"]), [])
        self.assertEqual(oc.validate(self.doc, P["InTreatment"]["schema"], "1"),
                         oc.validate(self.doc, {"type": "boolean"}, "1"))
        self.assertNotEqual(oc.validate(self.doc, P["InTreatment"]["schema"], "true"), [])

    def test_validator_rejects(self):
        """The validator is not a yes-man: broken bodies fail, the 3.0 construct of issue 14
        (null patient_stop) passes, and a broken schema is an error, not a pass."""
        doc = self.doc
        E = ref("Error")
        good_err = {"error": {"code": "bad_parameter", "message": "year: x",
                              "text": "De vraag klopt niet: de waarde van year is niet goed.",
                              "parameter": "year"}}
        self.assertEqual(oc.validate(doc, E, good_err), [])
        for bad in ({"error": {"code": "oops", "message": "m", "text": "t"}},
                    {"error": {"code": "not_found", "message": "m"}},
                    {"error": {"code": "not_found"}},
                    {"error": {"code": "not_found", "message": "m", "text": "t", "extra": 1}},
                    {"error": "not_found"},
                    {"code": "not_found", "message": "m"},
                    {"error": {"code": "not_yet_published", "message": "m", "text": "t",
                               "published_from": "2027-11-12"}},
                    {"error": {"code": "not_found", "message": "m", "text": "t"}, "x": 1}):
            with self.subTest(bad=bad):
                self.assertNotEqual(oc.validate(doc, E, bad), [])
        st = {"care_type": "hospital", "status": "contracted", "as_contracted": False,
              "basis": "insurer",
              "flags": {"ceiling": False, "ceiling_exempt": [], "patient_stop": None,
                        "conflict": False, "provider_only": False, "stale": False},
              "sources": [], "consequence": {
                  "code": "as_contracted", "reimbursed_percent": 100,
                  "basis": "contracted_tariff", "deductible_applies": True, "warnings": [],
                  "deductible_text": "d", "exceptions": [], "text": "t",
                  "presentation": "contracted",
                  "headline": "Gecontracteerd", "lang": "nl"}}
        S = ref("Status")
        self.assertEqual(oc.validate(doc, S, st), [])
        stop = {"reason": "staff_shortage", "from": "2026-10-01", "until": None, "note": None,
                "source": "insurer", "active": True, "announced": False, "applies": True}
        st2 = json.loads(json.dumps(st))
        st2["flags"]["patient_stop"] = stop
        self.assertEqual(oc.validate(doc, S, st2), [])
        for path, value in ((("status",), "contractd"), (("basis",), "both"),
                            (("as_contracted",), "false"), (("care_type",), "dentist"),
                            (("flags", "patient_stop"), {"reason": "x"}),
                            (("flags", "patient_stop"), dict(stop, until="2026-13-01")),
                            (("flags", "patient_stop"), dict(stop, active=None)),
                            (("flags", "ceiling_exempt"), ["nope"]),
                            (("consequence", "reimbursed_percent"), 101),
                            (("consequence", "reimbursed_percent"), True),
                            (("consequence", "basis"), "both"),
                            (("consequence", "presentation"), "green"),
                            (("consequence", "lang"), "de"),
                            (("consequence", "warnings"), [{"text": "zonder code"}]),
                            (("since",), "2026-11-20 09:00"),
                            (("flags", "extra"), 1)):
            with self.subTest(field=path, value=value):
                bad = json.loads(json.dumps(st))
                node = bad
                for k in path[:-1]:
                    node = node[k]
                node[path[-1]] = value
                self.assertNotEqual(oc.validate(doc, S, bad), [], "%s=%r accepted" %
                                    (".".join(path), value))
        for key in ("flags", "sources", "consequence", "basis"):
            with self.subTest(missing=key):
                bad = dict(st)
                del bad[key]
                self.assertNotEqual(oc.validate(doc, S, bad), [])
        with self.assertRaises(oc.SchemaError):
            oc.validate(doc, {"type": "strng"}, "a")


def _secret_file(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as fh:
        fh.write(text + "\n")
    os.chmod(path, 0o600)
    return path


def staff_settings(directory):
    """staff_token_file (account "staff", role staff) and staff_accounts_file (account "olga",
    role admin, its line made by zorgstatusd --hash-token) in directory."""
    import harness
    p = subprocess.run([harness.require_binary(), "--hash-token", "olga", "admin"],
                       input=ADMIN_TOKEN + "\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError("--hash-token failed: %s" % p.stderr)
    return {"staff_token_file": _secret_file(directory, "staff.token", STAFF_TOKEN),
            "staff_accounts_file": _secret_file(directory, "accounts", p.stdout.strip())}


class HookReceiver:
    """A webhook subscriber on 127.0.0.1: keeps every POST (headers, body), answers 204."""

    def __init__(self):
        self.posts = []
        self.lock = threading.Lock()
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with recv.lock:
                    recv.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def received(self):
        with self.lock:
            return list(self.posts)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class OpenApiLiveTest(unittest.TestCase):
    """Real answers of a daemon on the sample feeds against the document."""
    d = None
    hook = None

    @classmethod
    def setUpClass(cls):
        cls.doc = oc.load_doc()
        cls.tokdir = tempfile.mkdtemp(prefix="zsbb-token-")
        try:
            settings = staff_settings(cls.tokdir)
            cls.hook = HookReceiver()
            secret = _secret_file(cls.tokdir, "hook.secret", HOOK_SECRET)
            sections = [
                oc.ConfSection("[subscriber openapi]\nurl = http://127.0.0.1:%d/hook\n"
                               "secret_file = %s\nmax_batch = 50\n" % (cls.hook.port, secret)),
                oc.ConfSection("[subscriber filtered]\nurl = http://127.0.0.1:%d/other\n"
                               "secret_file = %s\nyear = 2027\ninsurer = 9101\n"
                               "provider_kind = hospital\n" % (cls.hook.port, secret)),
                oc.ConfSection("[cache front]\nurl = http://127.0.0.1:%d/\n" % cls.hook.port)]
            cls.d = oc.start_sample_daemon(settings=settings, sections=sections)
        except BaseException:
            if cls.hook:
                cls.hook.close()
            shutil.rmtree(cls.tokdir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.d is not None:
                oc.stop_daemon(cls.d)
        finally:
            if cls.hook:
                cls.hook.close()
            shutil.rmtree(cls.tokdir, ignore_errors=True)

    # helpers
    def call(self, method, url, headers=None, body=None):
        st, hdrs, data = self.d.request(method, url, headers=headers, body=body)
        self.assertLess(st, 500, "%s %s -> %d" % (method, url[:100], st))
        return st, hdrs, data

    def check(self, method, url, headers=None, expect=None, body=None):
        """Request, then validate status, headers and body against the document.  Returns
        (status, parsed body or None, headers)."""
        shown = url if len(url) <= 100 else url[:90] + "..."
        st, hdrs, data = self.call(method, url, headers, body)
        if expect is not None:
            self.assertEqual(st, expect, "%s %s -> %d: %r" % (method, shown, st, data[:300]))
        split = urllib.parse.urlsplit(url)
        path = urllib.parse.unquote(split.path, errors="replace")
        templ, op, _ = oc.find_operation(self.doc, method, path)
        parsed = None
        if st in (204, 304):
            self.assertEqual(data, b"", "%s %s -> %d with a body" % (method, shown, st))
            self.assertNotIn("content-type", hdrs, "%s %s -> %d with Content-Type" %
                             (method, shown, st))
        if data and method != "HEAD":
            self.assertTrue(hdrs.get("content-type", "").startswith("application/json"),
                            "%s %s: Content-Type %r" % (method, shown, hdrs.get("content-type")))
            try:
                parsed = json.loads(data.decode("utf-8"))
            except ValueError:
                self.fail("%s %s -> %d: body is not JSON: %r" % (method, shown, st, data[:200]))
        if templ is None:
            # a path the document lacks: only 404 not_found / 405, in the Error shape
            self.assertIn(st, (404, 405), "%s %s: %d for a path the document lacks" %
                          (method, shown, st))
            if parsed is not None:
                oc.check(self.doc, ref("Error"), parsed, "%s %s" % (method, shown))
            return st, parsed, hdrs
        resp = oc.response_for(self.doc, op, st)
        self.assertIsNotNone(resp, "%s %s -> %d, not declared for %s %s (declared: %s)" %
                             (method, shown, st, method.upper(), templ,
                              sorted(op["responses"]) if op else "405 only"))
        for hname, h in (resp.get("headers") or {}).items():
            h = oc.resolve(self.doc, h["$ref"]) if "$ref" in h else h
            v = hdrs.get(hname.lower())
            if h.get("required"):
                self.assertIsNotNone(v, "%s %s -> %d: header %s missing" %
                                     (method, shown, st, hname))
            if v is not None and "schema" in h:
                oc.check(self.doc, h["schema"], v, "%s %s header %s" % (method, shown, hname))
        if parsed is not None:
            schema = oc.response_schema(self.doc, op, st)
            self.assertIsNotNone(schema, "%s %s -> %d: no JSON schema declared" %
                                 (method, shown, st))
            oc.check(self.doc, schema, parsed, "%s %s (%d)" % (method, shown, st))
        elif method == "GET" and st not in (204, 304):
            self.fail("%s %s -> %d without a body" % (method, shown, st))
        if op is None:
            return st, parsed, hdrs
        # every query parameter sent must be declared for the operation, and valid for it
        # when the answer is a success
        declared = {name: prm for (where, name), prm in oc.operation_params(self.doc, op).items()
                    if where == "query"}
        for name, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
            self.assertIn(name, declared, "%s %s: parameter %r not declared" %
                          (method, templ, name))
            if st == 200:
                sch = declared[name]["schema"]
                typed = value
                t = oc.resolve(self.doc, sch["$ref"]).get("type") if "$ref" in sch else \
                    sch.get("type")
                if t == "integer":
                    typed = int(value)
                elif t == "boolean":
                    typed = {"true": True, "false": False}.get(value, value)
                oc.check(self.doc, sch, typed, "%s %s parameter %s" % (method, shown, name))
        # a 400 names a parameter of the operation (or none for undecodable requests)
        if st == 400 and parsed is not None:
            prm = parsed["error"].get("parameter")
            names = {name for (_, name) in oc.operation_params(self.doc, op)}
            if prm is not None:
                self.assertIn(prm, names, "%s %s: error.parameter %r is not a parameter of "
                              "%s" % (method, shown, prm, templ))
            else:
                self.assertEqual(parsed["error"]["code"], "bad_request")
        return st, parsed, hdrs

    # tests
    def test_openapi_json_equals_docs_file(self):
        st, body, _ = self.check("GET", "/v1/openapi.json", expect=200)
        with open(oc.DOC_PATH, encoding="utf-8") as fh:
            on_disk = json.load(fh)
        self.assertEqual(body, on_disk, "the daemon serves a different API description than "
                         "docs/openapi.json -- rebuild after editing it")

    def test_good_answers(self):
        for url, headers in GOOD:
            with self.subTest(url=url, headers=headers):
                st, body, _ = self.check("GET", url, headers, expect=200)
                want = None
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
                if "lang" in q:
                    want = q["lang"]
                elif headers.get("Accept-Language", "").startswith("en"):
                    want = "en"
                elif "lang" in body:
                    want = "nl"
                if want and "lang" in body:
                    self.assertEqual(body["lang"], want)
                if want:
                    for c in _consequences(body):
                        self.assertEqual(c["lang"], want)

    def test_gzip_answers(self):
        """gzip is declared (Content-Encoding) and the unzipped body is still valid."""
        import gzip
        for url in ("/v1/policies?year=2027", "/v1/providers/06010101?year=2027"):
            with self.subTest(url=url):
                st, hdrs, data = self.call("GET", url, {"Accept-Encoding": "gzip"})
                self.assertEqual((st, hdrs.get("content-encoding")), (200, "gzip"))
                templ, op, _ = oc.find_operation(self.doc, "GET", urllib.parse.urlsplit(url).path)
                oc.check(self.doc, oc.response_schema(self.doc, op, 200),
                         json.loads(gzip.decompress(data)), url)

    def test_both_languages_everywhere(self):
        for url in ("/v1/providers/06020202?year=2027&amount=8000",
                    "/v1/status?agb=47470101&policy=9301-BASIS&year=2027",
                    "/v1/compare?agb=94060101,06010101&year=2027&detail=full"):
            texts = {}
            for lang in ("nl", "en"):
                with self.subTest(url=url, lang=lang):
                    st, body, _ = self.check("GET", url + "&lang=" + lang, expect=200)
                    cons = list(_consequences(body))
                    self.assertTrue(cons)
                    self.assertTrue(all(c["lang"] == lang for c in cons))
                    texts[lang] = [c["text"] for c in cons]
            self.assertNotEqual(texts["nl"], texts["en"])

    def test_staff_answers(self):
        """Every staff operation with an admin token: private, no CORS; the documented 400 /
        404 answers; 401 without a valid token, on every staff path."""
        for url in STAFF_GOOD:
            with self.subTest(url=url):
                st, body, hdrs = self.check("GET", url, ADMIN, expect=200)
                self.assertEqual(hdrs.get("cache-control"), "private, no-store")
                self.assertNotIn("access-control-allow-origin", hdrs)
                self.check("HEAD", url, ADMIN, expect=200)
        for url, status, code in STAFF_BAD:
            with self.subTest(url=url):
                st, body, hdrs = self.check("GET", url, ADMIN, expect=status)
                self.assertEqual(body["error"]["code"], code)
                if url.startswith("/v1/staff/"):
                    self.assertEqual(hdrs.get("cache-control"), "private, no-store")
                    self.assertNotIn("access-control-allow-origin", hdrs)
        # the legacy staff_token_file account reads everything but the audit log
        for url in ("/v1/staff/me", "/v1/staff/providers/06010101?year=2027",
                    "/v1/providers/06010101/history?year=2027"):
            with self.subTest(url=url, account="staff"):
                self.check("GET", url, STAFF, expect=200)
        st, me, _ = self.check("GET", "/v1/staff/me", STAFF, expect=200)
        self.assertEqual(me, {"name": "staff", "role": "staff"})
        st, me, _ = self.check("GET", "/v1/staff/me", ADMIN, expect=200)
        self.assertEqual(me, {"name": "olga", "role": "admin"})
        for url in ("/v1/staff/audit", "/v1/staff/audit?limit=5"):
            with self.subTest(url=url, account="staff"):
                st, body, hdrs = self.check("GET", url, STAFF, expect=403)
                self.assertEqual(body["error"]["code"], "forbidden")
                self.check("HEAD", url, STAFF, expect=403)
        # one wrong token at a time stays under the sign-in limit (10 a minute)
        for p in sorted(STAFF_TEMPLATES):
            url = p.replace("{agb}", "06010101")
            for hdr in ({"Authorization": "Bearer " + WRONG_TOKEN},
                        {"Authorization": "Basic " + STAFF_TOKEN}, {}):
                if "Bearer" in str(hdr) and p != "/v1/staff/me":
                    continue
                with self.subTest(path=p, auth=hdr):
                    st, body, hdrs = self.check("GET", url, hdr, expect=401)
                    self.assertEqual(body["error"]["code"], "unauthorized")
                    self.assertEqual(hdrs.get("cache-control"), "private, no-store")
                    self.check("HEAD", url, hdr, expect=401)

    def test_staff_provider_views(self):
        """view now: statements with role and overruled_by; view history: valid_from, no
        statements.  Expected values from feeds/SAMPLES.md and the sample feeds."""
        st, b, _ = self.check("GET", "/v1/staff/providers/06020202?year=2027", ADMIN,
                              expect=200)
        self.assertEqual((b["view"], b["at"]), ("now", None))
        pol = [p for p in b["years"][0]["policies"] if p["policy"]["id"] == "9301-BASIS"][0]
        hosp = [x for x in pol["statuses"] if x["care_type"] == "hospital"][0]
        self.assertEqual([(x["source"], x["level"], x["role"], x["overruled_by"])
                          for x in hosp["statements"]],
                         [("insurer", "insurer", "decides", None),
                          ("provider", "concern", "confirms", None)])
        self.assertEqual(hosp["basis"], "confirmed")
        self.assertIn("shown_since", hosp)
        self.assertNotIn("valid_from", hosp)
        st, b, _ = self.check("GET", "/v1/staff/providers/06020202?year=2027"
                              "&at=2026-11-20T09:00:00Z", ADMIN, expect=200)
        self.assertEqual((b["view"], b["at"]), ("history", "2026-11-20T09:00:00Z"))
        for p in b["years"][0]["policies"]:
            for x in p["statuses"]:
                self.assertNotIn("statements", x)
                self.assertEqual(x["sources"], [])
                self.assertEqual(x["valid_from"], "2026-11-20T09:00:00Z")
                self.assertIsNone(x["valid_until"])

    def test_change_feed(self):
        """Cursors chain; since=latest is the end; 410 names since and carries oldest_cursor."""
        st, first, _ = self.check("GET", "/v1/changes?limit=1", expect=200)
        self.assertEqual(first["changes"][0]["cursor"], change_cursor(1))
        self.assertEqual(first["next"], change_cursor(1))
        self.assertTrue(first["more"])
        st, nxt, _ = self.check("GET", "/v1/changes?limit=1&since=" + first["next"], expect=200)
        self.assertEqual(nxt["changes"][0]["cursor"], change_cursor(2))
        st, end, _ = self.check("GET", "/v1/changes?since=latest", expect=200)
        self.assertEqual((end["changes"], end["more"]), ([], False))
        st, none, _ = self.check("GET", "/v1/changes?since=" + end["next"], expect=200)
        self.assertEqual((none["changes"], none["next"]), ([], end["next"]))
        st, e, _ = self.check("GET", "/v1/changes?since=" + change_cursor(0xfffff), expect=410)
        self.assertEqual((e["error"]["code"], e["error"]["parameter"]),
                         ("cursor_expired", "since"))
        self.assertEqual(e["error"]["oldest_cursor"], change_cursor(0))

    def test_webhook_body(self):
        """webhooks.changes: the body a subscriber receives, and its signature header."""
        wh = self.doc["webhooks"]["changes"]["post"]
        schema = wh["requestBody"]["content"]["application/json"]["schema"]
        sig = oc.resolve(self.doc, wh["parameters"][0]["$ref"]) \
            if "$ref" in wh["parameters"][0] else wh["parameters"][0]
        self.assertEqual(sig["name"], "X-Zorgstatus-Signature")
        import harness
        wait = 30 * harness.TIMEOUT_SCALE
        deadline = time.monotonic() + wait
        posts = []
        while time.monotonic() < deadline:
            posts = self.hook.received()
            if any(json.loads(b)["subscriber"] == "openapi" and not json.loads(b)["more"]
                   for _, b in posts if b):
                break
            time.sleep(0.2)
        self.assertTrue(posts, "no webhook POST within %.0f s" % wait)
        for hdrs, body in posts:
            with self.subTest(batch=len(body)):
                self.assertTrue(hdrs.get("content-type", "").startswith("application/json"))
                oc.check(self.doc, sig["schema"], hdrs.get("x-zorgstatus-signature"),
                         "X-Zorgstatus-Signature")
                t, v1 = hdrs["x-zorgstatus-signature"].split(",")
                want = hmac.new(HOOK_SECRET.encode(), t[2:].encode() + b"." + body,
                                hashlib.sha256).hexdigest()
                self.assertTrue(hmac.compare_digest(v1[3:], want), "bad signature")
                batch = json.loads(body)
                oc.check(self.doc, schema, batch, "webhook body")
                self.assertIn(batch["subscriber"], ("openapi", "filtered"))
                self.assertLessEqual(len(batch["events"]),
                                     50 if batch["subscriber"] == "openapi" else 100)
        self.assertTrue(any(json.loads(b)["subscriber"] == "openapi" for _, b in posts))
        # the filtered subscriber gets only 2027 events, status events only of insurer 9101
        # (a year-level event passes every filter but year)
        for hdrs, body in posts:
            if json.loads(body)["subscriber"] == "filtered":
                for ev in json.loads(body)["events"]:
                    self.assertEqual(ev["year"], 2027)
                    if ev["type"] == "status":
                        self.assertTrue(ev["policy"].startswith("9101-"), ev)

    def test_error_answers(self):
        for url, status, code in BAD:
            with self.subTest(url=url[:80]):
                st, body, _ = self.check("GET", url, expect=status)
                self.assertEqual(body["error"]["code"], code)
                if code == "not_yet_published":
                    self.assertIn("published_from", body["error"])
                    self.assertEqual(body["error"].get("parameter", "year"), "year")
                self.check("HEAD", url, expect=status)

    def test_unknown_paths(self):
        for url in UNKNOWN_PATHS:
            with self.subTest(url=url):
                st, body, _ = self.check("GET", url, expect=404)
                self.assertEqual(body["error"]["code"], "not_found")

    def test_other_methods_405(self):
        """Every path answers other methods with the one documented 405 (Allow header)."""
        for p in ("/healthz", "/v1/feeds", "/v1/policies", "/v1/policies/9101-NATURA/similar",
                  "/v1/providers/06010101", "/v1/providers/06010101/history", "/v1/status",
                  "/v1/search", "/v1/compare", "/v1/openapi.json", "/v1/nope", "/v1/changes",
                  "/v1/subscribers", "/v1/staff/me", "/v1/staff/providers/06010101",
                  "/v1/staff/feeds", "/v1/staff/audit"):
            for m in ("POST", "PUT", "DELETE", "PATCH"):
                with self.subTest(method=m, path=p):
                    st, body, hdrs = self.check(m, p, expect=405,
                                                body=b"{}" if m != "DELETE" else None)
                    self.assertEqual(body["error"]["code"], "method_not_allowed")
                    self.assertEqual(hdrs.get("allow"), "GET, HEAD, OPTIONS")
        # a body over max_body_kb is refused first, whatever the method (info.description)
        for p in ("/healthz", "/v1/changes", "/v1/staff/me"):
            with self.subTest(method="POST", path=p, body="20 KiB"):
                st, body, hdrs = self.check("POST", p, body=b"x" * (20 << 10), expect=413)
                self.assertEqual(body["error"]["code"], "payload_too_large")

    def test_head_options_304(self):
        for p in ("/healthz", "/v1/feeds", "/v1/policies", "/v1/providers/06010101", "/v1/labels",
                  "/v1/search?q=zie", "/v1/compare?agb=06010101", "/v1/openapi.json",
                  "/v1/status?agb=06010101&policy=9101-NATURA",
                  "/v1/policies/9101-NATURA/similar",
                  "/v1/providers/06010101/history", "/v1/changes?since=latest",
                  "/v1/subscribers", "/v1/staff/me", "/v1/staff/providers/06010101",
                  "/v1/staff/feeds", "/v1/staff/audit?limit=1"):
            with self.subTest(path=p):
                templ, _, _ = oc.find_operation(self.doc, "GET", urllib.parse.urlsplit(p).path)
                staff = templ in STAFF_TEMPLATES
                auth = ADMIN if staff else {}
                self.check("HEAD", p, auth, expect=200)
                st, _, h = self.check("OPTIONS", urllib.parse.urlsplit(p).path, expect=204)
                if staff:
                    self.assertNotIn("access-control-allow-origin", h)
                st, hdrs, _ = self.call("GET", p, auth)
                # these carry the running clock or the notifier's progress
                if p not in ("/healthz", "/v1/feeds", "/v1/subscribers", "/v1/staff/feeds"):
                    st, _, h304 = self.check("GET", p, dict(auth, **{
                        "If-None-Match": hdrs["etag"]}), expect=304)
                    self.assertEqual(h304.get("etag"), hdrs["etag"])
                    self.assertNotIn("content-type", h304)

    def test_limits_413_414_431(self):
        """Too large a body, too long a URI, too large headers: the documented JSON 413 / 414 /
        431 on every operation."""
        long_q = "a" * 9000
        for p in sorted(EXPECTED_PATHS):
            concrete = p.replace("{agb}", "06010101").replace("{id}", "9101-NATURA")
            with self.subTest(path=p, limit=414):
                st, body, _ = self.check("GET", concrete + "?lang=" + long_q, expect=414)
                self.assertEqual(body["error"]["code"], "uri_too_long")
                self.check("HEAD", concrete + "?lang=" + long_q, expect=414)
            with self.subTest(path=p, limit=431):
                st, body, _ = self.check("GET", concrete, {"X-Filler": "x" * 17000},
                                         expect=431)
                self.assertEqual(body["error"]["code"], "headers_too_large")
            with self.subTest(path=p, limit=413):
                st, body, _ = self.check("GET", concrete, body=b"x" * (20 << 10), expect=413)
                self.assertEqual(body["error"]["code"], "payload_too_large")

    def test_query_rules(self):
        """docs/api.md, Query strings: empty pairs are ignored, a pair without '=' cannot be
        decoded, a value that is not UTF-8 is a bad parameter named as such."""
        for a, b in (("/v1/search?q=zie&&", "/v1/search?q=zie&"),
                     ("/v1/search?q=zie&&limit=3", "/v1/search?q=zie&limit=3"),
                     ("/v1/policies?&year=2027", "/v1/policies?year=2027")):
            with self.subTest(a=a, b=b):
                sa, ba, _ = self.check("GET", a)
                sb, bb, _ = self.check("GET", b, expect=200)
                self.assertEqual((sa, ba), (sb, bb))
        st, body, _ = self.check("GET", "/v1/search?q", expect=400)
        self.assertEqual(body["error"]["code"], "bad_request")
        for url in ("/v1/search?q=%ff", "/v1/search?q=zie%c3", "/v1/search?q=%c0%af"):
            with self.subTest(url=url):
                st, body, _ = self.check("GET", url, expect=400)
                self.assertEqual(body["error"]["code"], "bad_parameter")
                self.assertEqual(body["error"]["parameter"], "q")
                self.assertNotIn("ontbreekt", body["error"]["text"])

    def test_every_documented_operation_exercised(self):
        """Every GET path of the document is requested by the lists above."""
        used = set()
        every = [u for u, _ in GOOD] + STAFF_GOOD + [u for u, _, _ in BAD + STAFF_BAD]
        for url in every:
            templ, op, _ = oc.find_operation(self.doc, "GET", urllib.parse.urlsplit(url).path)
            if templ:
                used.add(templ)
        self.assertEqual(used, EXPECTED_PATHS)
        # and every query parameter of every GET operation is used at least once
        sent = {}
        for url in every:
            split = urllib.parse.urlsplit(url)
            templ, _, _ = oc.find_operation(self.doc, "GET", split.path)
            for name, _ in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
                sent.setdefault(templ, set()).add(name)
        for templ in EXPECTED_PATHS:
            _, op, _ = oc.find_operation(self.doc, "GET", templ)
            for (where, name) in oc.operation_params(self.doc, op):
                if where == "query":
                    with self.subTest(path=templ, parameter=name):
                        self.assertIn(name, sent.get(templ, set()))


class OpenApiSignInLimitTest(unittest.TestCase):
    """429 too_many_requests (Retry-After) after staff_auth_failures wrong tokens from one
    address: its own daemon, since the limit holds the whole address for a minute."""
    d = None
    call = OpenApiLiveTest.call
    check = OpenApiLiveTest.check

    @classmethod
    def setUpClass(cls):
        cls.doc = oc.load_doc()
        cls.tokdir = tempfile.mkdtemp(prefix="zsbb-token-")
        try:
            settings = staff_settings(cls.tokdir)
            settings["staff_auth_failures"] = 3
            cls.d = oc.start_sample_daemon(settings=settings)
        except BaseException:
            shutil.rmtree(cls.tokdir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.d is not None:
                oc.stop_daemon(cls.d)
        finally:
            shutil.rmtree(cls.tokdir, ignore_errors=True)

    def test_too_many_requests(self):
        wrong = {"Authorization": "Bearer " + WRONG_TOKEN}
        for _ in range(3):
            st, body, _ = self.check("GET", "/v1/staff/me", wrong, expect=401)
            self.assertEqual(body["error"]["code"], "unauthorized")
        # the 4th within the minute: refused, the right token too, on every path that is
        # asked with a token; a request without one is not held up
        for url, hdr in (("/v1/staff/me", wrong), ("/v1/staff/me", ADMIN),
                         ("/v1/staff/providers/06010101", ADMIN), ("/v1/staff/audit", ADMIN),
                         ("/v1/subscribers", ADMIN), ("/v1/providers/06010101/history", ADMIN),
                         ("/v1/providers/06010101", ADMIN), ("/v1/changes", ADMIN)):
            with self.subTest(url=url, auth=hdr["Authorization"][-8:]):
                st, body, hdrs = self.check("GET", url, hdr, expect=429)
                self.assertEqual(body["error"]["code"], "too_many_requests")
                self.assertTrue(1 <= int(hdrs["retry-after"]) <= 60, hdrs.get("retry-after"))
                self.check("HEAD", url, hdr, expect=429)
        self.check("GET", "/v1/providers/06010101", expect=200)
        st, body, _ = self.check("GET", "/v1/staff/me", expect=401)
        self.assertEqual(body["error"]["code"], "unauthorized")


def _consequences(node):
    """Every consequence object inside an answer."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "consequence" and isinstance(v, dict) and "code" in v:
                yield v
            else:
                yield from _consequences(v)
    elif isinstance(node, list):
        for v in node:
            yield from _consequences(v)


if __name__ == "__main__":
    unittest.main()
