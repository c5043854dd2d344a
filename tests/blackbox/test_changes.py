"""Black-box tests of the change feed (issue 10): GET /v1/changes and the webhooks.

Expected events are written by hand from the rules (docs/api.md, "Changes"):
* a feed update lists exactly the effective statuses it changed (new key: old null; changed
  status: old and new), oldest first, nothing before the cursor;
* a change of a year not yet published is never listed; when the clock passes 12 November
  00:00 (Europe/Amsterdam) one year_published event is listed for the new year;
* a cursor older than the retained window answers 410;
* webhooks: every event is POSTed to the subscriber, signed (HMAC-SHA256 of "<t>.<body>"),
  at least once and in order, across receiver errors and a daemon restart.
"""

import hashlib
import hmac
import http.server
import json
import os
import tempfile
import threading
import time
import unittest

from harness import DaemonTestCase, Feed, feed, insurer_header, policy, rule, status, provider

A, B, C = "06010101", "06010102", "06010103"
TOKEN = "staff-token-for-the-changes-test"
SECRET = "webhook-secret-of-the-test-0123456789"


def version(year_states, years=(2027,)):
    """An insurer feed: policy 3311-BASIS for each year, statuses {(agb, year): status}."""
    recs = [policy("3311-BASIS", y, "Basis Zeker", "natura",
                   [rule("*", 75, "avg_contracted_tariff")]) for y in years]
    for agb in sorted({a for a, _ in year_states}):
        recs.append(provider(agb, "Ziekenhuis %s" % agb))
    for (agb, y), st in sorted(year_states.items()):
        recs.append(status(agb, y, "hospital", st, policy="3311-BASIS"))
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), recs)


def brief(ev):
    """(type, year, agb, old status, new status) of one event."""
    if ev["type"] in ("year_published", "year_loaded"):
        return (ev["type"], ev["year"])
    return ("status", ev["year"], ev["agb"], ev["old"] and ev["old"]["status"],
            ev["new"] and ev["new"]["status"])


class Section:
    """A [subscriber NAME] / [cache NAME] section in the daemon's configuration."""

    def __init__(self, text):
        self.text = text

    def conf(self):
        return self.text


class ChangeFeedTest(DaemonTestCase):
    def changes(self, d, since=None, limit=None, headers=None):
        q = []
        if since is not None:
            q.append("since=" + since)
        if limit is not None:
            q.append("limit=%d" % limit)
        return d.get("/v1/changes" + ("?" + "&".join(q) if q else ""), headers)

    def latest(self, d):
        st, _, b = self.changes(d, "latest")
        self.assertEqual(st, 200, b)
        self.assertEqual(b["changes"], [])
        self.assertFalse(b["more"])
        return b["next"]

    def test_feed_update_lists_exactly_its_changes(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", version({(A, 2027): "negotiating", (B, 2027): "contracted"}))
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"))],
                              now="2026-12-02T10:00:00")
        first = d.wait_success("zk")["last_change"]
        # the first load of 2027 (no status of that year before): one year_loaded event
        # stands for its new rows (a consumer reads the year whole), not a row per status
        st, _, b = self.changes(d)
        self.assertEqual(st, 200, b)
        self.assertEqual([brief(e) for e in b["changes"]], [("year_loaded", 2027)])
        cur = self.latest(d)
        self.assertEqual(cur, b["next"])

        # the update: A negotiating -> contracted, B unchanged, C new
        time.sleep(1.1)
        s.set_content("/zk.jsonl", version({(A, 2027): "contracted", (B, 2027): "contracted",
                                            (C, 2027): "negotiating"}))
        d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first), "update applied")
        st, h, b = self.changes(d, cur)
        self.assertEqual(st, 200, b)
        self.assertEqual([brief(e) for e in b["changes"]],
                         [("status", 2027, A, "negotiating", "contracted"),
                          ("status", 2027, C, None, "negotiating")])
        self.assertEqual(b["changes"][1]["policy"], "3311-BASIS")
        self.assertEqual(b["changes"][1]["care_type"], "hospital")
        self.assertIsNone(b["changes"][1]["old"])
        self.assertIs(b["changes"][1]["new"]["conflict"], False)
        self.assertFalse(b["more"])
        # nothing after the last one
        st, _, b2 = self.changes(d, b["next"])
        self.assertEqual((st, b2["changes"], b2["next"]), (200, [], b["next"]))
        # a page of one: the first of the two, and more follow
        st, _, p1 = self.changes(d, cur, 1)
        self.assertEqual([brief(e) for e in p1["changes"]],
                         [("status", 2027, A, "negotiating", "contracted")])
        self.assertTrue(p1["more"])
        st, _, p2 = self.changes(d, p1["next"], 1)
        self.assertEqual([brief(e) for e in p2["changes"]], [("status", 2027, C, None,
                                                              "negotiating")])
        self.assertFalse(p2["more"])
        # cacheable per cursor: ETag, 304
        etag = h.get("etag")
        self.assertTrue(etag)
        st, _, _ = d.request("GET", "/v1/changes?since=" + cur, {"If-None-Match": etag})
        self.assertEqual(st, 304)
        self.assertIn("changes", h.get("xkey", "").split())
        # bad input: 400 naming the parameter
        for q, param in (("since=garbage", "since"), ("since=1-1-0000", "since"),
                         ("limit=0", "limit"), ("limit=1001", "limit"), ("foo=1", "foo")):
            st, _, e = d.get("/v1/changes?" + q)
            self.assertEqual(st, 400, (q, e))
            self.assertEqual(e["error"]["parameter"], param, q)

    def test_embargo_and_year_published(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", version({(A, 2026): "contracted", (A, 2027): "negotiating"},
                                           years=(2026, 2027)))
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"))],
                              now="2026-11-11T23:59:50")
        first = d.wait_success("zk")["last_change"]
        self.assertLess(first, "2026-11-11T23:00:00Z", "the first load came after 00:00")
        # 2027 is not published yet: only 2026 is listed (its first load: year_loaded)
        st, _, b = self.changes(d)
        self.assertEqual([brief(e) for e in b["changes"]], [("year_loaded", 2026)])
        cur = b["next"]
        # a 2027 change during the embargo: still nothing
        time.sleep(1.1)
        s.set_content("/zk.jsonl", version({(A, 2026): "contracted", (A, 2027): "contracted"},
                                           years=(2026, 2027)))
        second = d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first),
                             "embargoed update applied")["last_change"]
        self.assertLess(second, "2026-11-11T23:00:00Z")  # applied before publication
        st, _, b = self.changes(d, cur)
        self.assertEqual(b["changes"], [])
        # past 12 November 00:00 Amsterdam (23:00 UTC): one year_published event, no rows
        d.wait_until(lambda: self.changes(d, cur)[2]["changes"], "year_published event",
                     timeout=30)
        st, _, b = self.changes(d, cur)
        self.assertEqual([brief(e) for e in b["changes"]], [("year_published", 2027)])
        self.assertGreaterEqual(b["changes"][0]["applied_at"], "2026-11-11T23:00:00Z")
        cur = b["next"]
        # a later 2027 change is listed after it
        time.sleep(1.1)
        s.set_content("/zk.jsonl", version({(A, 2026): "contracted", (A, 2027): "ended"},
                                           years=(2026, 2027)))
        d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first, second),
                    "published update applied")
        st, _, b = self.changes(d, cur)
        self.assertEqual([brief(e) for e in b["changes"]],
                         [("status", 2027, A, "contracted", "ended")])
        # still exactly one year_published event in the whole feed
        st, _, everything = self.changes(d, limit=1000)
        self.assertEqual([brief(e) for e in everything["changes"]].count(("year_published",
                                                                          2027)), 1)

    def test_expired_cursor_is_410(self):
        s = self.start_server()
        # two years loaded: two events (year_loaded 2026 and 2027)
        s.set_content("/zk.jsonl", version({(A, 2026): "contracted", (B, 2027): "contracted"},
                                           years=(2026, 2027)))
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"))],
                              now="2026-12-02T10:00:00",
                              settings={"changes_retention": 2})
        d.wait_success("zk")
        st, _, b = self.changes(d, limit=1)
        self.assertEqual(st, 200, b)
        if not b["changes"]:  # already pruned: the window start then
            self.skipTest("events pruned before the first read (very slow host)")
        old = b["next"]
        # after the retention window the events are pruned (every round, schedule 1 s)
        d.wait_until(lambda: self.changes(d, old)[0] == 410, "410 for the old cursor",
                     timeout=20)
        st, _, e = self.changes(d, old)
        self.assertEqual(st, 410)
        self.assertEqual(e["error"]["code"], "cursor_expired")
        self.assertEqual(e["error"]["parameter"], "since")
        self.assertIn("re-sync", e["error"]["message"])
        # the way back: since=latest
        st, _, b = self.changes(d, "latest")
        self.assertEqual(st, 200)


class Receiver:
    """A webhook receiver: a real HTTP server on 127.0.0.1 that records every POST and answers
    500 while failing is set."""

    def __init__(self):
        self.lock = threading.Lock()
        self.accepted = []   # bodies answered 2xx, in order
        self.attempts = []   # (status answered, headers, body)
        self.fail = False
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    code = 500 if outer.fail else 204
                    outer.attempts.append((code, dict(self.headers), body))
                    if code == 204:
                        outer.accepted.append((dict(self.headers), body))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.t = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        self.t.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def events(self):
        with self.lock:
            out = []
            for _, body in self.accepted:
                out += json.loads(body)["events"]
            return out


def verify(testcase, headers, body):
    sig = {k.lower(): v for k, v in headers.items()}["x-zorgstatus-signature"]
    parts = dict(p.split("=", 1) for p in sig.split(","))
    t = int(parts["t"])
    testcase.assertLess(abs(time.time() - t), 300)
    want = hmac.new(SECRET.encode(), ("%d." % t).encode() + body, hashlib.sha256).hexdigest()
    testcase.assertTrue(hmac.compare_digest(want, parts["v1"]), "signature does not verify")


class WebhookTest(DaemonTestCase):
    def test_signed_batches_at_least_once_in_order(self):
        rcv = Receiver()
        self.addCleanup(rcv.stop)
        tmp = tempfile.mkdtemp(prefix="zsbb-hook-")
        secret = os.path.join(tmp, "hook.secret")
        tok = os.path.join(tmp, "staff.token")
        for path, text in ((secret, SECRET), (tok, TOKEN)):
            with open(path, "w") as fh:
                fh.write(text + "\n")
            os.chmod(path, 0o600)
        s = self.start_server()
        s.set_content("/zk.jsonl", version({(A, 2027): "negotiating", (B, 2027): "contracted"}))
        sub = Section("[subscriber site]\nurl = http://127.0.0.1:%d/hook\nsecret_file = %s\n"
                      "max_batch = 2\n" % (rcv.port, secret))
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl")), sub],
                              now="2026-12-02T10:00:00", settings={"staff_token_file": tok})
        first = d.wait_success("zk")["last_change"]
        d.wait_until(lambda: len(rcv.events()) >= 1, "first events delivered")
        self.assertEqual([brief(e) for e in rcv.events()], [("year_loaded", 2027)])
        for hdrs, body in rcv.accepted:
            verify(self, hdrs, body)
            self.assertEqual(json.loads(body)["subscriber"], "site")

        # the receiver fails: retried with backoff, marked failing; then it recovers
        with rcv.lock:
            rcv.fail = True
        time.sleep(1.1)
        s.set_content("/zk.jsonl", version({(A, 2027): "contracted", (B, 2027): "contracted",
                                            (C, 2027): "negotiating"}))
        second = d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first),
                             "second version")["last_change"]
        auth = {"Authorization": "Bearer " + TOKEN}
        d.wait_until(lambda: d.get("/v1/subscribers", auth)[2]["subscribers"][0]["failing"],
                     "subscriber marked failing", timeout=30)
        st, _, b = d.get("/v1/subscribers")
        self.assertEqual(st, 401)
        st, _, b = d.get("/v1/subscribers", auth)
        self.assertEqual(st, 200, b)
        self.assertEqual(b["subscribers"][0]["name"], "site")
        self.assertIn("HTTP 500", b["subscribers"][0]["last_error"]["message"])
        with rcv.lock:
            rcv.fail = False
        d.wait_until(lambda: len(rcv.events()) >= 3, "delivery after recovery", timeout=60)

        # a third version while the receiver fails, then a restart of the daemon
        with rcv.lock:
            rcv.fail = True
        time.sleep(1.1)
        s.set_content("/zk.jsonl", version({(A, 2027): "ended", (B, 2027): "negotiating",
                                            (C, 2027): "negotiating"}))
        d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first, second),
                    "third version")
        n_attempts = len(rcv.attempts)
        d.wait_until(lambda: len(rcv.attempts) > n_attempts, "an attempt that fails")
        d.stop()
        with rcv.lock:
            rcv.fail = False
        d.start()
        d.wait_until(lambda: len(rcv.events()) >= 5, "delivery after the restart", timeout=60)
        time.sleep(1.5)  # nothing more should come

        st, _, allc = d.get("/v1/changes?limit=1000")
        want = [e["cursor"] for e in allc["changes"]]
        self.assertEqual([brief(e) for e in allc["changes"]],
                         [("year_loaded", 2027),
                          ("status", 2027, A, "negotiating", "contracted"),
                          ("status", 2027, C, None, "negotiating"),
                          ("status", 2027, A, "contracted", "ended"),
                          ("status", 2027, B, "contracted", "negotiating")])
        got = [e["cursor"] for e in rcv.events()]
        # at least once, in order: without repeats the accepted events are exactly the feed
        dedup = []
        for c in got:
            if c not in dedup:
                dedup.append(c)
        self.assertEqual(dedup, want)
        self.assertEqual(got, sorted(got, key=want.index))
        for hdrs, body in rcv.accepted:
            verify(self, hdrs, body)
            self.assertLessEqual(len(json.loads(body)["events"]), 2)  # max_batch
        self.assertTrue(any(code == 500 for code, _, _ in rcv.attempts))


if __name__ == "__main__":
    unittest.main()
