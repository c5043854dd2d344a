"""Black-box tests: docs/openapi.json against the daemon's real answers.

The document is checked on its own (OpenAPI 3.0.3 structure, every $ref resolves, only the
schema keywords openapi_check.py implements, strict shapes), then a daemon on the bundled
sample feeds answers requests to every endpoint -- good and bad, Dutch and English, staff and
not -- and every answer is validated against the response the document declares for that path,
method and status.  /v1/openapi.json must serve exactly docs/openapi.json.
"""

import json
import os
import shutil
import tempfile
import unittest
import urllib.parse

import openapi_check as oc

STAFF_TOKEN = "blackbox-staff-token-0123456789"

EXPECTED_PATHS = {
    "/healthz", "/v1/providers/{agb}", "/v1/providers/{agb}/history", "/v1/status",
    "/v1/policies", "/v1/policies/{id}/similar", "/v1/feeds", "/v1/search", "/v1/compare",
    "/v1/openapi.json",
}

# Good requests: (path, headers).  Together they use every endpoint and parameter.
GOOD = [
    ("/healthz", {}),
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
]

STAFF_GOOD = [
    "/v1/providers/47470101/history",
    "/v1/providers/06010101/history?year=2027",
    "/v1/providers/94060202/history?year=2026&policy=9101-NATURA&care_type=mental_health",
    "/v1/providers/06010101/history?at=2026-11-20",
    "/v1/providers/06010101/history?at=2026-11-20T09:30:00Z&lang=en",
    "/v1/providers/99999999/history",
]

# Bad requests: (path, expected status, expected error code).
BAD = [
    ("/healthz?lang=de", 400, "bad_parameter"),
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
    ("/v1/compare", 400, "missing_parameter"),
    ("/v1/compare?agb=12345678,abc", 400, "bad_parameter"),
    ("/v1/compare?agb=06010101&policy_type=x", 400, "bad_parameter"),
    ("/v1/compare?agb=06010101&year=2028", 404, "not_yet_published"),
    ("/v1/compare?agb=" + ",".join("%08d" % k for k in range(51)), 400, "bad_parameter"),
    ("/v1/providers/06010101/history", 401, "unauthorized"),
]

STAFF_BAD = [
    ("/v1/providers/123/history", 400, "bad_parameter"),
    ("/v1/providers/06010101/history?at=yesterday", 400, "bad_parameter"),
    ("/v1/providers/06010101/history?care_type=x", 400, "bad_parameter"),
    ("/v1/providers/06010101/history?policy=a%20b", 400, "bad_parameter"),
    ("/v1/providers/06010101/history?year=2028", 404, "not_yet_published"),
]

UNKNOWN_PATHS = ["/v1", "/v1/nope", "/v2/policies", "/v1/providers/06010101/x",
                 "/v1/policies/9101-NATURA", "/v1/policies/9101-NATURA/similar/x"]


class OpenApiDocumentTest(unittest.TestCase):
    """The document on its own; no daemon."""

    @classmethod
    def setUpClass(cls):
        cls.doc = oc.load_doc()

    def test_structure(self):
        probs = oc.doc_problems(self.doc)
        self.assertEqual(probs, [], "\n".join(probs))

    def test_every_path(self):
        self.assertEqual(set(self.doc["paths"]), EXPECTED_PATHS)
        for p, item in self.doc["paths"].items():
            with self.subTest(path=p):
                for m in ("get", "head", "options", "post", "put", "delete", "patch"):
                    self.assertIn(m, item, "%s: no %s operation" % (p, m))
                for m in ("post", "put", "delete", "patch"):
                    self.assertEqual(list(item[m]["responses"]), ["405"])
                self.assertIn("204", item["options"]["responses"])
                get = item["get"]["responses"]
                for code in ("200", "304", "400"):
                    self.assertIn(code, get, "%s GET: no %s response" % (p, code))
                for code, r in get.items():
                    if code != "304":
                        self.assertIsNotNone(oc.response_schema(self.doc, item["get"], code),
                                             "%s GET %s: no JSON schema" % (p, code))

    def test_404_and_405_declared(self):
        for p, item in self.doc["paths"].items():
            with self.subTest(path=p):
                if "{" in p or p in ("/v1/status", "/v1/policies", "/v1/search",
                                     "/v1/compare"):
                    self.assertIn("404", item["get"]["responses"])
                sch = oc.response_schema(self.doc, item["post"], 405)
                self.assertEqual(sch, {"$ref": "#/components/schemas/Error"})
                allow = oc.response_for(self.doc, item["post"], 405)["headers"]["Allow"]
                self.assertTrue(allow.get("required"))

    def test_strict_schemas(self):
        schemas = self.doc["components"]["schemas"]
        for name in ("Error", "Health", "Location", "Provider", "PolicySummary", "Policy",
                     "ReimbursementRule", "SimilarRef", "Status", "Flags", "PatientStop",
                     "Source", "Consequence", "Example", "Warning", "ExceptionNote",
                     "ProviderAnswer", "StatusAnswer", "PoliciesAnswer", "Feed", "FeedsAnswer",
                     "SearchHit", "SearchAnswer", "CompareAnswer", "CompareRank",
                     "CompareProvider", "SimilarAnswer", "SimilarItem", "HistoryAnswer",
                     "HistoryEntry"):
            with self.subTest(schema=name):
                s = schemas[name]
                self.assertEqual(s.get("type"), "object")
                self.assertIs(s.get("additionalProperties"), False, name)
                self.assertTrue(s.get("required"), name)
        err = schemas["Error"]["properties"]["error"]
        self.assertIs(err["additionalProperties"], False)
        self.assertEqual(set(err["required"]), {"code", "message", "text"})
        self.assertEqual(set(err["properties"]),
                         {"code", "message", "text", "parameter", "published_from", "year"})

    def test_enums(self):
        s = self.doc["components"]["schemas"]
        self.assertEqual(set(s["Status"]["properties"]["status"]["enum"]),
                         {"contracted", "contracted_ceiling", "negotiating", "not_contracted",
                          "ended", "unknown"})
        self.assertEqual(set(s["Status"]["properties"]["basis"]["enum"]),
                         {"confirmed", "conflict", "insurer", "provider_only", "none"})
        self.assertEqual(set(s["PolicySummary"]["properties"]["type"]["enum"]),
                         {"natura", "restitutie", "combinatie", "budget"})
        self.assertEqual(set(s["Consequence"]["properties"]["code"]["enum"]),
                         {"as_contracted", "exception_acute", "exception_gp",
                          "continuity_of_treatment", "unknown", "not_contracted_no_rule",
                          "not_contracted_full", "not_contracted_partial"})
        self.assertEqual(set(s["Consequence"]["properties"]["basis"]["enum"]),
                         {"avg_contracted_tariff", "market_tariff", "statutory_max_tariff",
                          "contracted_tariff", None})
        self.assertEqual(set(s["Warning"]["properties"]["code"]["enum"]),
                         {"conflict", "provider_reported", "may_change", "ceiling",
                          "patient_stop", "stale"})
        self.assertEqual(set(s["ExceptionNote"]["properties"]["code"]["enum"]),
                         {"acute_care", "gp_care", "continuity_of_treatment", "duty_of_care"})
        self.assertEqual(len(s["CareType"]["enum"]), 11)

    def test_parameters(self):
        """Types, patterns, enums and bounds of the parameters."""
        P = {k: v for k, v in self.doc["components"]["parameters"].items()}
        self.assertEqual(P["Year"]["schema"], {"type": "integer", "minimum": 2000,
                                               "maximum": 2100})
        self.assertEqual((P["Limit"]["schema"]["minimum"], P["Limit"]["schema"]["maximum"]),
                         (1, 50))
        self.assertEqual((P["Offset"]["schema"]["minimum"], P["Offset"]["schema"]["maximum"]),
                         (0, 1000))
        self.assertEqual(P["Lang"]["schema"]["enum"], ["nl", "en"])
        self.assertEqual(P["PolicyType"]["schema"]["enum"],
                         ["natura", "restitutie", "combinatie", "budget"])
        self.assertEqual(P["Q"]["schema"]["maxLength"], 200)
        for name in self.doc["components"]["parameters"]:
            with self.subTest(parameter=name):
                prm = P[name]
                self.assertIn(prm["in"], ("query", "path", "header"))
                self.assertTrue(prm.get("description"))

    def test_validator_rejects(self):
        """The validator is not a yes-man: a few broken bodies must fail."""
        doc = self.doc
        good_err = {"error": {"code": "bad_parameter", "message": "year: x",
                              "text": "De vraag klopt niet: de waarde van year is niet goed.",
                              "parameter": "year"}}
        self.assertEqual(oc.validate(doc, {"$ref": "#/components/schemas/Error"}, good_err), [])
        for bad in ({"error": {"code": "oops", "message": "m", "text": "t"}},
                    {"error": {"code": "not_found", "message": "m"}},
                    {"error": {"code": "not_found"}},
                    {"error": {"code": "not_found", "message": "m", "extra": 1}},
                    {"error": "not_found"},
                    {"code": "not_found", "message": "m"},
                    {"error": {"code": "not_yet_published", "message": "m",
                               "published_from": "2027-11-12"}},
                    {"error": {"code": "not_found", "message": "m"}, "x": 1}):
            with self.subTest(bad=bad):
                self.assertNotEqual(oc.validate(doc, {"$ref": "#/components/schemas/Error"},
                                                bad), [])
        st = {"care_type": "hospital", "status": "contracted", "as_contracted": False,
              "basis": "insurer",
              "flags": {"ceiling": False, "ceiling_exempt": [], "patient_stop": None,
                        "conflict": False, "provider_only": False, "stale": False},
              "sources": [], "consequence": {
                  "code": "as_contracted", "reimbursed_percent": 100,
                  "basis": "contracted_tariff", "deductible_applies": True, "warnings": [],
                  "exceptions": [], "text": "t", "lang": "nl"}}
        S = {"$ref": "#/components/schemas/Status"}
        self.assertEqual(oc.validate(doc, S, st), [])
        for path, value in ((("status",), "contractd"), (("basis",), "both"),
                            (("as_contracted",), "false"), (("care_type",), "dentist"),
                            (("flags", "patient_stop"), {"reason": "x"}),
                            (("flags", "ceiling_exempt"), ["nope"]),
                            (("consequence", "reimbursed_percent"), 101),
                            (("consequence", "reimbursed_percent"), True),
                            (("consequence", "lang"), "de"),
                            (("consequence", "warnings"), [{"code": "may_change"}]),
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
            oc.validate(doc, {"type": "string", "format": "x", "const": "a"}, "a")


class OpenApiLiveTest(unittest.TestCase):
    """Real answers of a daemon on the sample feeds against the document."""
    d = None

    @classmethod
    def setUpClass(cls):
        cls.doc = oc.load_doc()
        cls.tokdir = tempfile.mkdtemp(prefix="zsbb-token-")
        tok = os.path.join(cls.tokdir, "staff.token")
        with open(tok, "w") as fh:
            fh.write(STAFF_TOKEN + "\n")
        try:
            cls.d = oc.start_sample_daemon(settings={"staff_token_file": tok})
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

    # helpers
    def call(self, method, url, headers=None, body=None):
        st, hdrs, data = self.d.request(method, url, headers=headers, body=body)
        self.assertNotEqual(st, 500, "%s %s -> 500" % (method, url))
        return st, hdrs, data

    def check(self, method, url, headers=None, expect=None, body=None):
        """Request, then validate status, headers and body against the document.  Returns
        (status, parsed body or None)."""
        shown = url if len(url) <= 100 else url[:90] + "..."
        st, hdrs, data = self.call(method, url, headers, body)
        if expect is not None:
            self.assertEqual(st, expect, "%s %s -> %d: %r" % (method, shown, st, data[:300]))
        split = urllib.parse.urlsplit(url)
        path = urllib.parse.unquote(split.path)
        templ, op, _ = oc.find_operation(self.doc, method, path)
        parsed = None
        if data and method != "HEAD":
            self.assertTrue(hdrs.get("content-type", "").startswith("application/json"),
                            "%s %s: Content-Type %r" % (method, shown, hdrs.get("content-type")))
            try:
                parsed = json.loads(data.decode("utf-8"))
            except ValueError:
                self.fail("%s %s -> %d: body is not JSON: %r" % (method, shown, st, data[:200]))
        if op is None:
            # unknown path (or method on it): only errors, in the Error shape
            self.assertGreaterEqual(st, 400, "%s %s: %d for a path the document lacks" %
                                    (method, shown, st))
            if parsed is not None:
                oc.check(self.doc, {"$ref": "#/components/schemas/Error"}, parsed,
                         "%s %s" % (method, shown))
            return st, parsed
        resp = oc.response_for(self.doc, op, st)
        self.assertIsNotNone(resp, "%s %s -> %d, not declared for %s %s (declared: %s)" %
                             (method, shown, st, method.upper(), templ,
                              sorted(op["responses"])))
        for hname, h in (resp.get("headers") or {}).items():
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
        # every query parameter sent must be declared for the operation
        declared = {name for (where, name) in oc.operation_params(self.doc, op)
                    if where == "query"}
        for name, _ in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
            self.assertIn(name, declared, "%s %s: parameter %r not declared" %
                          (method, templ, name))
        # a 400 names a parameter of the operation (or none for undecodable requests)
        if st == 400 and parsed is not None:
            prm = parsed["error"].get("parameter")
            names = {name for (_, name) in oc.operation_params(self.doc, op)}
            if prm is not None:
                self.assertIn(prm, names, "%s %s: error.parameter %r is not a parameter of "
                              "%s" % (method, shown, prm, templ))
            else:
                self.assertEqual(parsed["error"]["code"], "bad_request")
        return st, parsed

    # tests
    def test_openapi_json_equals_docs_file(self):
        st, body = self.check("GET", "/v1/openapi.json", expect=200)
        with open(oc.DOC_PATH, encoding="utf-8") as fh:
            on_disk = json.load(fh)
        self.assertEqual(body, on_disk, "the daemon serves a different API description than "
                         "docs/openapi.json -- rebuild after editing it")

    def test_good_answers(self):
        for url, headers in GOOD:
            with self.subTest(url=url, headers=headers):
                st, body = self.check("GET", url, headers, expect=200)
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

    def test_both_languages_everywhere(self):
        for url in ("/v1/providers/06020202?year=2027&amount=8000",
                    "/v1/status?agb=47470101&policy=9301-BASIS&year=2027",
                    "/v1/compare?agb=94060101,06010101&year=2027"):
            texts = {}
            for lang in ("nl", "en"):
                with self.subTest(url=url, lang=lang):
                    st, body = self.check("GET", url + "&lang=" + lang, expect=200)
                    cons = list(_consequences(body))
                    self.assertTrue(cons)
                    self.assertTrue(all(c["lang"] == lang for c in cons))
                    texts[lang] = [c["text"] for c in cons]
            self.assertNotEqual(texts["nl"], texts["en"])

    def test_staff_history(self):
        auth = {"Authorization": "Bearer " + STAFF_TOKEN}
        for url in STAFF_GOOD:
            with self.subTest(url=url):
                self.check("GET", url, auth, expect=200)
        for url, status, code in STAFF_BAD:
            with self.subTest(url=url):
                st, body = self.check("GET", url, auth, expect=status)
                self.assertEqual(body["error"]["code"], code)
        for hdr in ({"Authorization": "Bearer wrong-token-0123456789"},
                    {"Authorization": "Basic " + STAFF_TOKEN}, {}):
            with self.subTest(auth=hdr):
                st, body = self.check("GET", "/v1/providers/06010101/history", hdr, expect=401)
                self.assertEqual(body["error"]["code"], "unauthorized")

    def test_error_answers(self):
        for url, status, code in BAD:
            with self.subTest(url=url[:80]):
                st, body = self.check("GET", url, expect=status)
                self.assertEqual(body["error"]["code"], code)
                if code == "not_yet_published":
                    self.assertIn("published_from", body["error"])

    def test_unknown_paths(self):
        for url in UNKNOWN_PATHS:
            with self.subTest(url=url):
                st, body = self.check("GET", url, expect=404)
                self.assertEqual(body["error"]["code"], "not_found")

    def test_other_methods(self):
        for p in ("/healthz", "/v1/feeds", "/v1/policies", "/v1/policies/9101-NATURA/similar",
                  "/v1/providers/06010101", "/v1/providers/06010101/history", "/v1/status",
                  "/v1/search", "/v1/compare", "/v1/openapi.json", "/v1/nope"):
            for m in ("POST", "PUT", "DELETE", "PATCH"):
                with self.subTest(method=m, path=p):
                    st, body = self.check(m, p, expect=405,
                                          body=b"{}" if m != "DELETE" else None)
                    self.assertEqual(body["error"]["code"], "method_not_allowed")

    def test_head_options_304(self):
        for p in ("/healthz", "/v1/feeds", "/v1/policies", "/v1/providers/06010101",
                  "/v1/search?q=zie", "/v1/compare?agb=06010101", "/v1/openapi.json",
                  "/v1/status?agb=06010101&policy=9101-NATURA",
                  "/v1/policies/9101-NATURA/similar"):
            with self.subTest(path=p):
                self.check("HEAD", p, expect=200)
                self.check("OPTIONS", urllib.parse.urlsplit(p).path, expect=204)
                st, hdrs, _ = self.call("GET", p)
                if p not in ("/healthz", "/v1/feeds"):   # these carry the running clock
                    self.check("GET", p, {"If-None-Match": hdrs["etag"]}, expect=304)

    def test_every_documented_operation_exercised(self):
        """Every GET path of the document is requested by the lists above."""
        used = set()
        for url in [u for u, _ in GOOD] + STAFF_GOOD + [u for u, _, _ in BAD]:
            templ, op, _ = oc.find_operation(self.doc, "GET", urllib.parse.urlsplit(url).path)
            if templ:
                used.add(templ)
        self.assertEqual(used, EXPECTED_PATHS)
        # and every query parameter of every GET operation is used at least once
        sent = {}
        for url in [u for u, _ in GOOD] + STAFF_GOOD + [u for u, _, _ in BAD]:
            split = urllib.parse.urlsplit(url)
            templ, _, _ = oc.find_operation(self.doc, "GET", split.path)
            for name, _ in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
                sent.setdefault(templ, set()).add(name)
        for templ in EXPECTED_PATHS:
            op = self.doc["paths"][templ]["get"]
            for (where, name) in oc.operation_params(self.doc, op):
                if where == "query":
                    with self.subTest(path=templ, parameter=name):
                        self.assertIn(name, sent.get(templ, set()))


def _consequences(node):
    """Every consequence object inside an answer."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "consequence" and isinstance(v, dict):
                yield v
            else:
                yield from _consequences(v)
    elif isinstance(node, list):
        for v in node:
            yield from _consequences(v)


if __name__ == "__main__":
    unittest.main()
