"""Black-box tests: the HTTP layer (src/zs_http.c, docs/api.md).

ETag on every 200 GET (equal content -> equal ETag, also across two independent daemons on the
same feeds), If-None-Match -> 304 without a body, gzip only when accepted, CORS on public GETs
and OPTIONS preflight, HEAD, keep-alive, 405 with Allow for other methods, 404 JSON for unknown
paths, every error JSON with error.code (never HTML, never 500), bad parameters -> 400 naming
the parameter, a parameter given twice -> 400, very long URLs -> 4xx with the daemon alive.

One daemon on the bundled sample feeds (feeds/sample.conf) at 2026-11-20T10:00 is shared by
the tests of a class.
"""

import gzip
import http.client
import json
import re
import socket
import time
import unittest
import urllib.parse

import harness
from openapi_check import start_sample_daemon, stop_daemon

ETAG_RE = re.compile(r'^"[0-9a-f]{16}"$')

# Every public GET endpoint with a 200 answer (bodies of several sizes).
PUBLIC_200 = [
    "/v1/providers/06010101",
    "/v1/providers/06010101?year=2027&amount=8000&lang=en",
    "/v1/providers/47470101?care_type=district_nursing",
    "/v1/status?agb=06010101&policy=9101-NATURA&year=2027",
    "/v1/policies",
    "/v1/policies?year=2027",
    "/v1/policies/9101-NATURA/similar?year=2027",
    "/v1/search?q=ziekenhuis",
    "/v1/search?q=zie&limit=1",
    "/v1/compare?agb=06010101,04040101&year=2027",
    "/v1/openapi.json",
]
PRIVATE_200 = ["/healthz", "/v1/feeds"]
ALL_200 = PUBLIC_200 + PRIVATE_200

# Bodies that do not depend on the time of the fetch (no last_success / since / clock).
TIME_INDEPENDENT = [
    "/v1/policies",
    "/v1/policies?year=2027",
    "/v1/policies/9101-NATURA/similar?year=2027",
    "/v1/policies/9301-BASIS/similar?year=2026",
    "/v1/search?q=ziekenhuis",
    "/v1/search?q=antonuis",
    "/v1/search?postcode=3435CM",
    "/v1/openapi.json",
]
# Bodies that carry fetch times (sources[].last_success, since): equal only if both daemons
# fetched within the same second; the ETag must follow the body either way.
TIME_DEPENDENT = [
    "/v1/providers/06010101",
    "/v1/status?agb=94060101&policy=9201-NATURA&year=2027",
    "/v1/compare?agb=06010101,04040101&year=2027",
]


def is_html(hdrs, data):
    ct = (hdrs.get("content-type") or "").lower()
    return "html" in ct or data.lstrip()[:1] == b"<"


def send_and_read_to_close(port, request):
    """Everything the daemon sends for the request bytes on a connection of their own, until
    it closes the connection, as bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=harness.HTTP_TIMEOUT)
    try:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return data


def raw_exchange(port, method, path, extra=""):
    """Everything the daemon sends for one request on its own connection, as bytes."""
    return send_and_read_to_close(port, ("%s %s HTTP/1.1\r\nHost: test\r\n%sConnection: close"
                                         "\r\n\r\n" % (method, path, extra)).encode())


def read_answer(tc, s, buf, head_only=False):
    """One answer from socket s after the bytes already read (buf): (status, lower-case
    headers, body, the bytes read past it). tc (a TestCase) fails when the connection closes
    before the answer is whole."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        tc.assertTrue(chunk, "connection closed before an answer's headers")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {k.strip().lower(): v.strip() for k, _, v in
            (line.partition(":") for line in lines[1:])}
    n = 0 if head_only else int(hdrs["content-length"])
    while len(buf) < n:
        chunk = s.recv(4096)
        tc.assertTrue(chunk, "connection closed inside an answer")
        buf += chunk
    return int(lines[0].split()[1]), hdrs, buf[:n], buf[n:]


class HttpCase(unittest.TestCase):
    d = None

    @classmethod
    def setUpClass(cls):
        cls.d = start_sample_daemon()

    @classmethod
    def tearDownClass(cls):
        if cls.d is not None:
            stop_daemon(cls.d)

    # helpers
    def req(self, method, path, headers=None, body=None, timeout=None):
        return self.d.request(method, path, headers=headers, body=body, timeout=timeout)

    def get_json(self, path, headers=None):
        st, hdrs, data = self.req("GET", path, headers)
        self.assertNotEqual(st, 500, "%s -> 500" % path)
        self.assertFalse(is_html(hdrs, data), "%s -> HTML body: %r" % (path, data[:200]))
        try:
            body = json.loads(data.decode("utf-8"))
        except ValueError:
            self.fail("%s -> %d, body is not JSON: %r" % (path, st, data[:200]))
        return st, hdrs, body, data

    def assert_error(self, method, path, status, code=None, parameter=None, headers=None,
                     body=None):
        st, hdrs, data = self.req(method, path, headers, body)
        shown = path if len(path) < 120 else path[:100] + "...(%d chars)" % len(path)
        self.assertNotEqual(st, 500, "%s %s -> 500" % (method, shown))
        self.assertEqual(st, status, "%s %s -> %d, expected %d: %r" %
                         (method, shown, st, status, data[:300]))
        self.assertFalse(is_html(hdrs, data), "%s %s -> HTML error body: %r" %
                         (method, shown, data[:200]))
        self.assertTrue((hdrs.get("content-type") or "").startswith("application/json"),
                        "%s %s -> Content-Type %r" % (method, shown, hdrs.get("content-type")))
        try:
            b = json.loads(data.decode("utf-8"))
        except ValueError:
            self.fail("%s %s -> %d, body is not JSON: %r" % (method, shown, st, data[:200]))
        self.assertIsInstance(b.get("error"), dict, "%s %s: no error object: %r" %
                              (method, shown, b))
        e = b["error"]
        self.assertIsInstance(e.get("code"), str, "%s %s: error.code missing" % (method, shown))
        self.assertIsInstance(e.get("message"), str, "%s %s: error.message missing" %
                              (method, shown))
        if code is not None:
            self.assertEqual(e["code"], code, "%s %s: %r" % (method, shown, e))
        if parameter is not None:
            self.assertEqual(e.get("parameter"), parameter, "%s %s: %r" % (method, shown, e))
        return st, hdrs, e

    def alive(self):
        st, _, body = self.d.get("/healthz")
        self.assertEqual(st, 200)
        self.assertEqual(body.get("status"), "ok")
        self.assertIsNone(self.d.proc.poll(), "the daemon died")


class ETagTest(HttpCase):
    def test_etag_on_every_200_get(self):
        for path in ALL_200:
            with self.subTest(path=path):
                st, hdrs, _, _ = self.get_json(path)
                self.assertEqual(st, 200, path)
                et = hdrs.get("etag")
                self.assertIsNotNone(et, "%s: no ETag" % path)
                self.assertRegex(et, ETAG_RE, "%s: ETag %r is not a strong quoted tag" %
                                 (path, et))

    def test_etag_stable_for_same_content(self):
        for path in TIME_INDEPENDENT:
            with self.subTest(path=path):
                _, h1, _, b1 = self.get_json(path)
                _, h2, _, b2 = self.get_json(path)
                self.assertEqual(b1, b2, path)
                self.assertEqual(h1.get("etag"), h2.get("etag"), path)

    def test_etag_differs_for_different_content(self):
        tags = {}
        for path in TIME_INDEPENDENT:
            _, h, _, data = self.get_json(path)
            tags.setdefault(h.get("etag"), set()).add(data)
        for tag, bodies in tags.items():
            self.assertEqual(len(bodies), 1, "ETag %s shared by different bodies" % tag)

    def test_etag_depends_on_language(self):
        _, h_nl, _, _ = self.get_json("/v1/providers/06010101?year=2027")
        _, h_en, _, _ = self.get_json("/v1/providers/06010101?year=2027&lang=en")
        _, h_al, _, _ = self.get_json("/v1/providers/06010101?year=2027",
                                      {"Accept-Language": "en-GB,en;q=0.9"})
        self.assertNotEqual(h_nl["etag"], h_en["etag"])
        self.assertEqual(h_en["etag"], h_al["etag"])
        self.assertIn("accept-language", h_nl.get("vary", "").lower())

    def test_same_etag_from_two_independent_daemons(self):
        d2 = start_sample_daemon()
        try:
            self.assertNotEqual(d2.port, self.d.port)
            self.assertNotEqual(d2.db_path, self.d.db_path)
            for path in TIME_INDEPENDENT + TIME_DEPENDENT:
                with self.subTest(path=path):
                    s1, h1, b1 = self.d.request("GET", path)
                    s2, h2, b2 = d2.request("GET", path)
                    self.assertEqual((s1, s2), (200, 200), path)
                    if path in TIME_INDEPENDENT:
                        self.assertEqual(b1, b2, "%s: same feeds, different bodies" % path)
                    if b1 == b2:
                        self.assertEqual(h1.get("etag"), h2.get("etag"),
                                         "%s: same body, different ETags" % path)
                    else:
                        self.assertNotEqual(h1.get("etag"), h2.get("etag"),
                                            "%s: different bodies, same ETag" % path)
        finally:
            stop_daemon(d2)

    def test_if_none_match_304_without_body(self):
        for path in ALL_200:
            with self.subTest(path=path):
                st, h, data = self.req("GET", path)
                self.assertEqual(st, 200)
                et = h["etag"]
                for inm in (et, '"0000000000000000", ' + et, "*"):
                    st2, h2, data2 = self.req("GET", path, {"If-None-Match": inm})
                    if path in PRIVATE_200 and st2 == 200:
                        # /healthz and /v1/feeds carry the running clock: the content (and so
                        # the ETag) may have moved on meanwhile.
                        continue
                    self.assertEqual(st2, 304, "%s If-None-Match %s -> %d" % (path, inm, st2))
                    self.assertEqual(data2, b"", "%s: 304 with a body" % path)
                    self.assertEqual(h2.get("etag"), et, "%s: 304 must repeat the ETag" % path)

    def raw_head_lines(self, path, extra=""):
        """The status line and header lines of a GET exactly as they came over the wire."""
        head = raw_exchange(self.d.port, "GET", path, extra).split(b"\r\n\r\n", 1)[0]
        return head.decode("latin-1").split("\r\n")

    def test_answer_headers_on_the_wire_each_once_and_well_formed(self):
        """An answer's headers are given to evhttp as one block (src/zs_http_io.c,
        add_headers): on the wire each must still be its own line, once, in the usual form,
        for a rendered answer (miss), one from the cache (hit), gzip, and 304."""
        path = "/v1/providers/06010101?year=2027&lang=en"
        want = ["access-control-allow-origin", "access-control-expose-headers",
                "cache-control", "connection", "content-length", "content-type", "date", "etag",
                "surrogate-key", "vary", "x-content-type-options", "x-zorgstatus-cache", "xkey"]
        first = None
        for extra, status, names in (
                ("", "200", want),
                ("", "200", want),
                ("Accept-Encoding: gzip\r\n", "200", sorted(want + ["content-encoding"])),
                (None, "304", [n for n in want if n not in ("content-type", "content-length")])):
            if extra is None:
                extra = "If-None-Match: %s\r\n" % first["etag"]
            lines = self.raw_head_lines(path, extra)
            self.assertTrue(lines[0].startswith("HTTP/1.1 " + status), lines[0])
            got = {}
            for line in lines[1:]:
                m = re.match(r"^([A-Za-z0-9-]+): (\S.*)$", line)
                self.assertIsNotNone(m, "malformed header line %r in %r" % (line, lines))
                got.setdefault(m.group(1).lower(), []).append(m.group(2))
            self.assertEqual(sorted(got), names, lines)
            for name, vals in got.items():
                self.assertEqual(len(vals), 1, "%s given %d times" % (name, len(vals)))
            self.assertEqual(got["vary"], ["Accept-Encoding, Accept-Language"])
            self.assertEqual(got["surrogate-key"], got["xkey"])
            self.assertRegex(got["etag"][0], ETAG_RE)
            if status == "200":
                self.assertEqual(got["content-type"], ["application/json; charset=utf-8"])
            if first is None:
                first = {k: v[0] for k, v in got.items()}
                self.assertEqual(first["x-zorgstatus-cache"], "miss")
            else:
                self.assertEqual(got["x-zorgstatus-cache"], ["hit"])
                self.assertEqual(got["etag"], [first["etag"]])

    def test_every_answer_names_its_type_date_and_length_once(self):
        """The daemon gives evhttp its own Date and Content-Length, and evhttp adds no default
        Content-Type (src/zs_http_io.c, add_headers): every kind of answer must still carry
        each exactly once, the date in IMF-fixdate form and the length that of the body (for
        HEAD that of the GET answer); 304 and 204 carry no type."""
        fixdate = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul"
                             r"|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")
        lookup = "/v1/providers/06010101?year=2027"
        get_len = None
        for method, path, extra, status, ctype in (
                ("GET", lookup, "", "200", "application/json; charset=utf-8"),
                ("HEAD", lookup, "", "200", "application/json; charset=utf-8"),
                ("GET", "/v1/providers/123", "", "400", "application/json; charset=utf-8"),
                ("GET", "/v1/nothing-here", "", "404", "application/json; charset=utf-8"),
                ("POST", "/v1/policies", "Content-Length: 0\r\n", "405",
                 "application/json; charset=utf-8"),
                ("GET", "/", "", "200", "text/html; charset=utf-8"),
                ("GET", "/www/no-such-file.js", "", "404", None),
                ("GET", "/metrics", "", "200", "text/plain; version=0.0.4; charset=utf-8"),
                ("OPTIONS", "/v1/policies", "", "204", "")):
            with self.subTest(method=method, path=path):
                data = raw_exchange(self.d.port, method, path, extra)
                head, _, body = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                self.assertTrue(lines[0].startswith("HTTP/1.1 " + status), lines[0])
                got = {}
                for line in lines[1:]:
                    m = re.match(r"^([A-Za-z0-9-]+): (\S.*)$", line)
                    self.assertIsNotNone(m, "malformed header line %r" % line)
                    got.setdefault(m.group(1).lower(), []).append(m.group(2))
                for name in ("date", "content-type", "content-length"):
                    self.assertLessEqual(len(got.get(name, [])), 1, "%s twice: %r" % (name, lines))
                self.assertRegex(got["date"][0], fixdate)
                age = time.time() - time.mktime(time.strptime(got["date"][0],
                                                              "%a, %d %b %Y %H:%M:%S GMT"))
                self.assertLess(abs(age + time.timezone), 120, got["date"])
                if ctype == "":
                    self.assertNotIn("content-type", got)
                elif ctype is not None:
                    self.assertEqual(got["content-type"], [ctype])
                else:
                    self.assertEqual(len(got["content-type"]), 1)
                if status != "204":
                    length = int(got["content-length"][0])
                    if method == "HEAD":
                        self.assertEqual(body, b"")
                        self.assertEqual(length, get_len)
                    else:
                        self.assertEqual(length, len(body))
                if method == "GET" and path == lookup:
                    get_len = len(body)
                    self.assertGreater(get_len, 0)

    def test_accept_encoding_found_in_any_case(self):
        """Accept-Encoding is read in the router's own pass over the request headers
        (src/zs_http.c): a header name in any case still gets gzip, a refusal (q=0) none."""
        path = "/v1/providers/06010101?year=2027"
        for line, want in (("accept-encoding: gzip\r\n", "gzip"),
                           ("ACCEPT-ENCODING: gzip\r\n", "gzip"),
                           ("aCCEPT-eNCODING: gzip;q=0\r\n", None)):
            with self.subTest(header=line):
                head = raw_exchange(self.d.port, "GET", path, line).split(b"\r\n\r\n", 1)[0]
                got = [l.split(":", 1)[1].strip()
                       for l in head.decode("latin-1").split("\r\n")[1:]
                       if l.lower().startswith("content-encoding:")]
                self.assertEqual(got, [want] if want else [], head)

    def test_if_none_match_other_tag_200(self):
        st, h, data = self.req("GET", "/v1/policies", {"If-None-Match": '"0123456789abcdef"'})
        self.assertEqual(st, 200)
        self.assertGreater(len(data), 0)

    def test_304_also_with_gzip(self):
        st, h, _ = self.req("GET", "/v1/policies")
        st2, h2, data2 = self.req("GET", "/v1/policies", {"If-None-Match": h["etag"],
                                                          "Accept-Encoding": "gzip"})
        self.assertEqual(st2, 304)
        self.assertEqual(data2, b"")

    def test_head_304(self):
        st, h, _ = self.req("GET", "/v1/policies")
        st2, _, data2 = self.req("HEAD", "/v1/policies", {"If-None-Match": h["etag"]})
        self.assertEqual(st2, 304)
        self.assertEqual(data2, b"")


class GzipTest(HttpCase):
    def test_gzip_when_accepted(self):
        for path in PUBLIC_200 + ["/v1/feeds"]:
            with self.subTest(path=path):
                st, hp, plain = self.req("GET", path)
                self.assertEqual(st, 200)
                self.assertIsNone(hp.get("content-encoding"),
                                  "%s: compressed without Accept-Encoding" % path)
                json.loads(plain.decode("utf-8"))
                st, hz, data = self.req("GET", path, {"Accept-Encoding": "gzip"})
                self.assertEqual(st, 200)
                self.assertIn("accept-encoding", hz.get("vary", "").lower())
                if len(plain) <= 256 and hz.get("content-encoding") is None:
                    self.assertEqual(data, plain)   # small bodies may go uncompressed
                    continue
                self.assertEqual(hz.get("content-encoding"), "gzip",
                                 "%s (%d bytes): not compressed" % (path, len(plain)))
                if "content-length" in hz:
                    self.assertEqual(int(hz["content-length"]), len(data))
                self.assertLess(len(data), len(plain))
                self.assertEqual(gzip.decompress(data), plain,
                                 "%s: gunzipped body differs from the plain body" % path)
                self.assertEqual(hz.get("etag"), hp.get("etag"),
                                 "%s: the ETag must not depend on the encoding" % path)

    def test_no_gzip_otherwise(self):
        for ae in ("identity", "deflate", "br", "gzip;q=0", "gzip; q=0.0, identity"):
            with self.subTest(accept_encoding=ae):
                st, h, data = self.req("GET", "/v1/policies?year=2027", {"Accept-Encoding": ae})
                self.assertEqual(st, 200)
                self.assertIsNone(h.get("content-encoding"), "Accept-Encoding %r" % ae)
                json.loads(data.decode("utf-8"))

    def test_gzip_among_others(self):
        st, h, data = self.req("GET", "/v1/policies?year=2027",
                               {"Accept-Encoding": "br;q=1.0, gzip;q=0.8, *;q=0.1"})
        self.assertEqual(st, 200)
        self.assertEqual(h.get("content-encoding"), "gzip")
        json.loads(gzip.decompress(data).decode("utf-8"))

    def test_gzip_error_is_json(self):
        st, h, data = self.req("GET", "/v1/search?q=zie&limit=0", {"Accept-Encoding": "gzip"})
        self.assertEqual(st, 400)
        if h.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        self.assertEqual(json.loads(data.decode("utf-8"))["error"]["parameter"], "limit")


class CorsTest(HttpCase):
    def test_cors_on_public_gets(self):
        for path in PUBLIC_200:
            with self.subTest(path=path):
                st, h, _ = self.req("GET", path, {"Origin": "https://widget.example"})
                self.assertEqual(st, 200)
                self.assertEqual(h.get("access-control-allow-origin"), "*", path)
                self.assertIn("etag", h.get("access-control-expose-headers", "").lower())

    def test_cors_on_errors(self):
        for path in ("/v1/search?q=zie&limit=0", "/v1/providers/99999999", "/v1/nope"):
            with self.subTest(path=path):
                st, h, _ = self.req("GET", path, {"Origin": "https://widget.example"})
                self.assertIn(st, (400, 404))
                self.assertEqual(h.get("access-control-allow-origin"), "*", path)

    def test_public_cache_control(self):
        st, h, _ = self.req("GET", "/v1/policies")
        self.assertIn("public", h.get("cache-control", ""))
        st, h, _ = self.req("GET", "/v1/feeds")
        self.assertNotIn("public", h.get("cache-control", ""), "/v1/feeds is not public")
        st, h, _ = self.req("GET", "/v1/search?q=zie&limit=0")
        self.assertIn("no-store", h.get("cache-control", ""), "errors must not be cached")

    def test_options_preflight(self):
        for path in ("/v1/providers/06010101", "/v1/search", "/v1/compare", "/v1/policies",
                     "/v1/openapi.json"):
            with self.subTest(path=path):
                st, h, data = self.req("OPTIONS", path, {
                    "Origin": "https://widget.example",
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "If-None-Match, Accept-Language"})
                self.assertEqual(st, 204, path)
                self.assertEqual(data, b"")
                self.assertEqual(h.get("access-control-allow-origin"), "*")
                methods = [m.strip() for m in
                           h.get("access-control-allow-methods", "").split(",")]
                self.assertIn("GET", methods)
                self.assertIn("HEAD", methods)
                allowed = h.get("access-control-allow-headers", "").lower()
                self.assertIn("if-none-match", allowed)
                self.assertIn("accept-language", allowed)


class MethodTest(HttpCase):
    def test_head(self):
        for path in ALL_200:
            with self.subTest(path=path):
                st, hg, _ = self.req("GET", path)
                st_h, hh, data = self.req("HEAD", path)
                self.assertEqual(st_h, 200, path)
                self.assertEqual(data, b"", "%s: HEAD with a body" % path)
                self.assertTrue(hh.get("content-type", "").startswith("application/json"))
                if path not in PRIVATE_200:
                    self.assertEqual(hh.get("etag"), hg.get("etag"), path)

    def test_head_error(self):
        st, h, data = self.req("HEAD", "/v1/providers/99999999")
        self.assertEqual(st, 404)
        self.assertEqual(data, b"")
        st, h, data = self.req("HEAD", "/v1/search?q=zie&limit=0")
        self.assertEqual(st, 400)
        self.assertEqual(data, b"")

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=harness.HTTP_TIMEOUT)
        conn.auto_open = 0     # a closed connection must not be silently reopened
        try:
            conn.connect()
            sock = conn.sock
            for path in ("/v1/policies", "/v1/search?q=zie", "/v1/nope",
                         "/v1/providers/06010101", "/healthz"):
                conn.request("GET", path)
                resp = conn.getresponse()
                data = resp.read()
                self.assertIn(resp.status, (200, 404), path)
                self.assertFalse(resp.will_close, "%s: the server closes the connection" % path)
                self.assertIs(conn.sock, sock, "%s: not the same connection" % path)
                json.loads(data.decode("utf-8"))
        finally:
            conn.close()

    def test_head_sends_no_body(self):
        """A HEAD answer has headers only (RFC 9110 9.3.2); a body would be read as the start
        of the next response on a kept-alive connection."""
        for path in ("/v1/policies", "/v1/providers/99999999", "/healthz"):
            with self.subTest(path=path):
                data = raw_exchange(self.d.port, "HEAD", path)
                head, sep, rest = data.partition(b"\r\n\r\n")
                self.assertTrue(sep, "no complete header block: %r" % data[:200])
                self.assertEqual(rest, b"", "%s: HEAD answered with a %d-byte body: %r" %
                                 (path, len(rest), rest[:80]))

    def test_keep_alive_head_then_get(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=harness.HTTP_TIMEOUT)
        conn.auto_open = 0
        try:
            conn.connect()
            # a large answer, so that a wrongly sent body cannot hide in the first read buffer
            conn.request("HEAD", "/v1/providers/06010101?year=2027&amount=8000")
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
            time.sleep(0.2)
            conn.request("GET", "/healthz")
            try:
                resp = conn.getresponse()
            except http.client.HTTPException as e:
                self.fail("the answer after a HEAD on the same connection is garbled (the HEAD "
                          "answer carried a body?): %s" % str(e)[:120])
            self.assertEqual(resp.status, 200)
            self.assertEqual(json.loads(resp.read().decode("utf-8"))["status"], "ok")
        finally:
            conn.close()

    def test_keep_alive_after_error_and_gzip(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=harness.HTTP_TIMEOUT)
        conn.auto_open = 0
        try:
            conn.connect()
            for path, hdrs in (("/v1/search?q=zie&limit=99", {}),
                               ("/v1/policies?year=2027", {"Accept-Encoding": "gzip"}),
                               ("/v1/policies?year=2027", {})):
                conn.request("GET", path, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
                if resp.getheader("Content-Encoding") == "gzip":
                    data = gzip.decompress(data)
                json.loads(data.decode("utf-8"))
                self.assertFalse(resp.will_close, path)
        finally:
            conn.close()

    def test_pipelined_requests_answered_whole_and_in_order(self):
        """Answers are written out while their request is handled (zs_http.c write_now); three
        requests sent at once on one connection still get three whole answers, in order,
        the HEAD one without a body, and the connection stays open."""
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=harness.HTTP_TIMEOUT)
        try:
            s.sendall(b"GET /v1/policies?year=2027 HTTP/1.1\r\nHost: t\r\n\r\n"
                      b"HEAD /v1/providers/06010101 HTTP/1.1\r\nHost: t\r\n\r\n"
                      b"GET /v1/nope HTTP/1.1\r\nHost: t\r\n\r\n")
            buf = b""
            got = []
            for method in ("GET", "HEAD", "GET"):
                st, _, body, buf = read_answer(self, s, buf, head_only=method == "HEAD")
                got.append((st, body))
            self.assertEqual([g[0] for g in got], [200, 200, 404])
            self.assertIn("policies", json.loads(got[0][1].decode("utf-8")))
            self.assertEqual(got[1][1], b"")
            self.assertEqual(json.loads(got[2][1].decode("utf-8"))["error"]["code"], "not_found")
            self.assertEqual(buf, b"", "bytes after the third answer: %r" % buf[:80])
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertTrue(s.recv(65536).startswith(b"HTTP/1.1 200"), "the connection was closed")
        finally:
            s.close()

    def test_http10_answer_then_close(self):
        """An HTTP/1.0 request without keep-alive: the whole answer, then the connection
        closes (the answer is written, and the connection freed, inside the request's turn)."""
        data = send_and_read_to_close(self.d.port,
                                      b"GET /v1/providers/06010101?year=2027 HTTP/1.0\r\n\r\n")
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"),
                        head[:40])
        n = int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))
        self.assertEqual(len(body), n)
        self.assertEqual(json.loads(body.decode("utf-8"))["provider"]["agb"], "06010101")

    def test_slow_reader_gets_every_answer_whole_then_the_next(self):
        """A reader with a small receive buffer that asks 300 times at once and reads late:
        what the socket does not take at once (7 MB here; Linux lets a socket's send buffer
        grow to 4 MB) goes when it can (libevent's write event), every answer whole and in
        order, and the connection then answers again."""
        path = "/v1/providers/06010101?year=2027"
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(harness.HTTP_TIMEOUT)
        s.connect(("127.0.0.1", self.d.port))
        try:
            s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode() * 300)
            time.sleep(0.5)
            buf = b""
            bodies = []
            while len(bodies) < 300:
                st, _, body, buf = read_answer(self, s, buf)
                self.assertEqual(st, 200, "answer %d" % (len(bodies) + 1))
                bodies.append(body)
            self.assertEqual(len(set(bodies)), 1, "the same answer 300 times")
            self.assertGreater(len(bodies[0]), 10000)
            self.assertEqual(json.loads(bodies[0].decode("utf-8"))["provider"]["agb"], "06010101")
            self.assertEqual(buf, b"")
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertTrue(s.recv(65536).startswith(b"HTTP/1.1 200"), "the connection was closed")
        finally:
            s.close()

    def test_answers_after_one_libevent_wrote_are_still_written_at_once(self):
        """Regression: an answer is written inside its request's turn (zs_http.c write_now), but
        after one answer that the socket did not take at once (libevent finished it with its
        write event, which leaves the front of the output frozen), every later answer on that
        connection went the slow way: write interest asked of epoll (EPOLLOUT), one more turn.
        strace on the daemon: the later answers' writes come with no EPOLLOUT for their
        connection."""
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(harness.HTTP_TIMEOUT)
        s.connect(("127.0.0.1", self.d.port))
        self.addCleanup(s.close)
        # 300 answers asked at once: ~7 MB, more than the socket's send buffer takes
        s.sendall(b"GET /v1/providers/06010101?year=2027 HTTP/1.1\r\nHost: t\r\n\r\n" * 300)
        time.sleep(0.5)
        buf = b""
        for _ in range(300):
            _, _, _, buf = read_answer(self, s, buf)
        with harness.traced(self, self.d.proc.pid, "writev,epoll_ctl") as lines:
            for _ in range(3):
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                st, _, body, buf = read_answer(self, s, buf)
                self.assertEqual(st, 200)
                time.sleep(0.1)
        fds = {m.group(1) for m in (re.search(r'writev\((\d+), .*\\"status\\":\\"ok\\"', line)
                                    for line in lines) if m}
        self.assertEqual(len(fds), 1, "the three /healthz answers' writes (one connection): %r"
                         % lines[:20])
        self.assertEqual(harness.write_interest_asked(lines, fds.pop()), [],
                         "write interest asked for answers that fit the socket")

    def test_405_for_other_methods(self):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            for path in ("/v1/policies", "/v1/providers/06010101", "/v1/search?q=zie",
                         "/v1/compare?agb=06010101", "/healthz", "/v1/nope"):
                with self.subTest(method=method, path=path):
                    body = b'{"x":1}' if method in ("POST", "PUT", "PATCH") else None
                    hdrs = {"Content-Type": "application/json"} if body else {}
                    st, h, e = self.assert_error(method, path, 405, "method_not_allowed",
                                                 headers=hdrs, body=body)
                    allow = [m.strip() for m in h.get("allow", "").split(",")]
                    self.assertIn("GET", allow, "%s %s: Allow %r" % (method, path, allow))
                    self.assertIn("HEAD", allow)
                    self.assertNotIn(method, allow)
        self.alive()


class NotFoundTest(HttpCase):
    def test_unknown_paths(self):
        # (/v1 and /v1/ are the endpoint index since issue 13: tested in test_patient.py)
        for path in ("/v1/nope", "/v2/policies", "/favicon.ico",
                     "/v1/providers", "/v1/providers/06010101/nope",
                     "/v1/providers/06010101/history/x", "/v1/policies/9101-NATURA/nope",
                     "/v1/policies/9101-NATURA/similar/x", "/v1//policies", "/healthz/x",
                     "/V1/POLICIES", "/v1/policies.json", "/index.html"):
            with self.subTest(path=path):
                self.assert_error("GET", path, 404, "not_found")

    def test_unknown_provider_and_policy(self):
        self.assert_error("GET", "/v1/providers/99999999", 404, "not_found", "agb")
        self.assert_error("GET", "/v1/status?agb=06010101&policy=9999-NOPE", 404, "not_found",
                          "policy")
        self.assert_error("GET", "/v1/status?agb=99999999&policy=9101-NATURA", 404,
                          "not_found", "agb")
        self.assert_error("GET", "/v1/policies/9999-NOPE/similar", 404, "not_found")

    def test_not_yet_published(self):
        for path in ("/v1/policies?year=2028", "/v1/providers/06010101?year=2028",
                     "/v1/search?q=zie&year=2028", "/v1/compare?agb=06010101&year=2028",
                     "/v1/status?agb=06010101&policy=9101-NATURA&year=2028"):
            with self.subTest(path=path):
                st, h, e = self.assert_error("GET", path, 404, "not_yet_published", "year")
                # 2028 is public from 12 November 2027, 00:00 Europe/Amsterdam (CET, UTC+1)
                self.assertEqual(e.get("published_from"), "2027-11-11T23:00:00Z")


class BadParameterTest(HttpCase):
    CASES = [
        # (path, parameter)
        ("/v1/policies?year=abc", "year"),
        ("/v1/policies?year=1999", "year"),
        ("/v1/policies?year=2101", "year"),
        ("/v1/policies?year=", "year"),
        ("/v1/providers/06010101?year=abc", "year"),
        ("/v1/providers/06010101?year=1999", "year"),
        ("/v1/search?q=zie&year=abc", "year"),
        ("/v1/compare?agb=06010101&year=1999", "year"),
        ("/v1/status?agb=06010101&policy=9101-NATURA&year=abc", "year"),
        ("/v1/policies/9101-NATURA/similar?year=abc", "year"),
        ("/v1/providers/123", "agb"),
        ("/v1/providers/0601010a", "agb"),
        ("/v1/providers/060101011", "agb"),
        ("/v1/status?agb=123&policy=9101-NATURA", "agb"),
        ("/v1/search?q=zie&limit=0", "limit"),
        ("/v1/search?q=zie&limit=51", "limit"),
        ("/v1/search?q=zie&limit=abc", "limit"),
        ("/v1/search?q=zie&offset=-1", "offset"),
        ("/v1/search?q=zie&offset=x", "offset"),
        ("/v1/search?postcode=12", "postcode"),
        ("/v1/search?postcode=0123", "postcode"),
        ("/v1/search?postcode=1234ABC", "postcode"),
        ("/v1/search?q=zie&postcode=12", "postcode"),
        ("/v1/search?q=zie&kind=nope", "kind"),
        ("/v1/search?q=zie&care_type=nope", "care_type"),
        ("/v1/policies?lang=de", "lang"),
        ("/v1/providers/06010101?lang=de", "lang"),
        ("/v1/search?q=zie&lang=fr", "lang"),
        ("/healthz?lang=xx", "lang"),
        ("/v1/providers/06010101?amount=abc", "amount"),
        ("/v1/providers/06010101?amount=-5", "amount"),
        ("/v1/providers/06010101?amount=1.234", "amount"),
        ("/v1/status?agb=06010101&policy=9101-NATURA&amount=abc", "amount"),
        ("/v1/providers/06010101?care_type=nope", "care_type"),
        ("/v1/status?agb=06010101&policy=9101-NATURA&care_type=nope", "care_type"),
        ("/v1/compare?agb=06010101&care_type=nope", "care_type"),
        ("/v1/providers/06010101?in_treatment=yes", "in_treatment"),
        ("/v1/compare?agb=06010101&policy_type=x", "policy_type"),
        ("/v1/compare?agb=12345678,abc", "agb"),
        ("/v1/compare?agb=abc", "agb"),
        ("/v1/compare?agb=0601010", "agb"),
        ("/v1/status?agb=06010101&policy=a%20b", "policy"),
    ]

    def test_bad_parameters(self):
        for path, param in self.CASES:
            with self.subTest(path=path):
                st, h, e = self.assert_error("GET", path, 400, "bad_parameter", param)
                self.assertIn(param, e["message"], "the message should name the parameter")
        self.alive()

    def test_compare_51_agbs(self):
        agbs = ",".join("%08d" % (6010000 + k) for k in range(51))
        self.assert_error("GET", "/v1/compare?agb=" + agbs, 400, "bad_parameter", "agb")
        # 50 is the limit, not an error
        agbs50 = ",".join("%08d" % (6010000 + k) for k in range(50))
        st, _, body, _ = self.get_json("/v1/compare?agb=" + agbs50)
        self.assertEqual(st, 200)
        self.assertEqual(len(body["providers"]) + len(body["unknown_agb"]), 50)

    def test_missing_parameters(self):
        for path, param in (("/v1/status?policy=9101-NATURA", "agb"),
                            ("/v1/status?agb=06010101", "policy"),
                            ("/v1/compare", "agb"),
                            ("/v1/compare?agb=", "agb"),
                            ("/v1/search", "q"),
                            ("/v1/search?q=", "q"),
                            ("/v1/search?limit=5", "q")):
            with self.subTest(path=path):
                self.assert_error("GET", path, 400, "missing_parameter", param)

    def test_parameter_given_twice(self):
        for path, param in (("/v1/policies?year=2026&year=2027", "year"),
                            ("/v1/policies?year=2026&year=2026", "year"),
                            ("/v1/search?q=zie&q=maxima", "q"),
                            ("/v1/search?q=zie&limit=5&limit=5", "limit"),
                            ("/v1/providers/06010101?lang=en&lang=nl", "lang"),
                            ("/v1/compare?agb=06010101&agb=04040101", "agb"),
                            ("/v1/status?agb=06010101&policy=9101-NATURA&policy=9101-DIRECT",
                             "policy"),
                            ("/healthz?x=1&x=2", "x")):
            with self.subTest(path=path):
                self.assert_error("GET", path, 400, "bad_parameter", param)

    def test_undecodable_requests_are_json(self):
        for path in ("/v1/search?q", "/v1/search?=x"):
            with self.subTest(path=path):
                st, h, e = self.assert_error("GET", path, 400)
                self.assertIn(e["code"], ("bad_request", "bad_parameter", "missing_parameter"))
        # empty pairs are nothing (docs/api.md, Query strings; issue 14): q=zie&& is q=zie
        st, _, body = self.get_json("/v1/search?q=zie&&")[:3]
        self.assertEqual(st, 200, body)
        self.assertEqual(self.get_json("/v1/search?q=zie")[2], body)

    def test_too_many_parameters(self):
        path = "/v1/policies?" + "&".join("p%d=1" % k for k in range(40))
        self.assert_error("GET", path, 400)
        self.alive()


class LongRequestTest(HttpCase):
    def test_10k_url_is_4xx_and_daemon_alive(self):
        n = 10 * 1024
        for path in ("/v1/search?q=" + "a" * n,
                     "/v1/search?q=" + urllib.parse.quote("ziekenhuis " * (n // 11)),
                     "/v1/providers/" + "1" * n,
                     "/v1/" + "x" * n,
                     "/v1/compare?agb=" + ",".join("%08d" % k for k in range(n // 9))):
            with self.subTest(path=path[:40]):
                st, h, data = self.req("GET", path)
                self.assertTrue(400 <= st < 500, "%d for a %d-byte URL" % (st, len(path)))
                self.assertFalse(is_html(h, data), "HTML error body: %r" % data[:120])
                self.assertIn("code", json.loads(data.decode("utf-8"))["error"])
                self.alive()

    def test_oversized_request_is_json_error(self):
        """Beyond the daemon's header limit (16 kB): still a JSON error (docs/api.md: every
        error is JSON), and the daemon lives on."""
        for what, path, hdrs in (("40 kB URL", "/v1/search?q=" + "a" * 40000, {}),
                                 ("20 kB header", "/v1/policies", {"X-Filler": "a" * 20000})):
            with self.subTest(what=what):
                try:
                    st, h, data = self.req("GET", path, hdrs)
                except (ConnectionError, http.client.HTTPException) as e:
                    self.alive()
                    self.fail("%s: connection dropped without an answer (%r)" % (what, e))
                self.assertTrue(400 <= st < 500, "%s -> %d" % (what, st))
                self.alive()
                self.assertFalse(is_html(h, data), "%s -> %d with an HTML body: %r" %
                                 (what, st, data[:80]))
                self.assertIn("code", json.loads(data.decode("utf-8"))["error"])


class NoServerErrorTest(HttpCase):
    """Odd but possible requests: never 500, never HTML, always JSON."""
    PATHS = [
        "/v1/providers/%zz", "/v1/providers/%00", "/v1/search?q=%zz", "/v1/search?q=%00",
        "/v1/search?q=%E2%82", "/v1/search?q=" + urllib.parse.quote("\u0000\uffff\U0001F600"),
        "/v1/search?q=" + urllib.parse.quote('"*^():-+ AND OR NOT NEAR'),
        "/v1/search?q=" + urllib.parse.quote("zie*") + "&city=" + urllib.parse.quote('"'),
        "/v1/search?q=" + urllib.parse.quote("a" * 200),
        "/v1/search?city=" + urllib.parse.quote("Den Haag"),
        "/v1/search?q=" + urllib.parse.quote("x " * 90),
        "/v1/search?q=zie&offset=1000&limit=50",
        "/v1/providers/06010101?amount=9999999999.99",
        "/v1/providers/06010101?amount=0",
        "/v1/providers/06010101?amount=0,01&in_treatment=true&lang=en",
        "/v1/status?agb=06010101&policy=" + "A" * 64,
        "/v1/status?agb=06010101&policy=" + "A" * 65,
        "/v1/compare?agb=06010101,06010101,06010101",
        "/v1/providers/06010101/history",
        "/v1/policies/" + "x" * 65 + "/similar",
        "/v1/policies/%2F/similar",
    ]

    def test_no_500_no_html(self):
        for path in self.PATHS:
            with self.subTest(path=path[:60]):
                st, h, data = self.req("GET", path)
                self.assertLess(st, 500, "%s -> %d" % (path, st))
                self.assertFalse(is_html(h, data), "%s -> HTML: %r" % (path, data[:100]))
                b = json.loads(data.decode("utf-8"))
                if st >= 400:
                    self.assertIsInstance(b["error"]["code"], str)
        self.alive()


if __name__ == "__main__":
    unittest.main()
