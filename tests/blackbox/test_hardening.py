"""Black-box tests of issue 15 (hardening): each test is named after what broke in the fault
campaign, and asserts what docs/api.md, docs/config.md and feeds/README.md promise instead.

Expected values are written from those documents (and the issue's rules), never copied from
program output.  Every test starts its own feed server(s) on 127.0.0.x and its own daemon.
"""

import gzip
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import (TIMEOUT_SCALE, Daemon, DaemonTestCase, Feed, FeedServer, feed, free_port,
                     insurer_header, policy, provider, rule, status)

Y = 2027
NOW = "2026-11-20T12:00:00"   # after 12 November 2026: contract year 2027 is public
ZK = "zk"
A, B = "06010001", "06010002"
EX_CONFIG = 78                 # sysexits.h


def zk_feed(a_status="contracted", b_status="contracted", extra=(), pad=0, bad_a=False):
    """Insurer 3311, policy 3311-BASIS, providers A and B with a hospital status each, pad
    more providers. bad_a: A's status line has an unknown status (its key stays readable)."""
    recs = [policy("3311-BASIS", Y, "Basis Zeker", "natura",
                   [rule("*", 75, "avg_contracted_tariff")], label="Zilveren Kruis"),
            provider(A, "Ziekenhuis Alpha"), provider(B, "Ziekenhuis Beta"),
            status(A, Y, "hospital", "contractd" if bad_a else a_status, policy="3311-BASIS"),
            status(B, Y, "hospital", b_status, policy="3311-BASIS")]
    recs += list(extra)
    for i in range(pad):
        agb = "0602%04d" % i
        recs.append(provider(agb, "Padding ziekenhuis %d" % i))
        recs.append(status(agb, Y, "hospital", "contracted", insurer="3311"))
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), recs)


class Base(DaemonTestCase):
    def hospital(self, d, agb):
        st, _, body = d.get("/v1/status?agb=%s&policy=3311-BASIS&year=%d" % (agb, Y))
        if st != 200:
            return st
        return {s["care_type"]: s["status"] for s in body["statuses"]}.get("hospital")

    def raw_request(self, d, data, timeout=15):
        """Send raw bytes, return (status, headers dict, body bytes)."""
        s = socket.create_connection(("127.0.0.1", d.port), timeout=timeout)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            buf = b""
            while True:
                try:
                    c = s.recv(65536)
                except ConnectionResetError:
                    break
                if not c:
                    break
                buf += c
        finally:
            s.close()
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        st = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return st, hdrs, body

    def assertJsonError(self, st, hdrs, body, want_status, want_code):
        self.assertEqual(st, want_status, body[:300])
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"),
                        "answer must be JSON, got %r: %r" % (hdrs.get("content-type"),
                                                             body[:200]))
        e = json.loads(body.decode("utf-8"))["error"]
        self.assertEqual(e["code"], want_code)
        return e


# --------------------------------------------------------------------------------------------
# 1. every request gets a JSON answer with the right status

class RequestValidationTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.server = FeedServer().start()
        cls.server.set_content("/zk.jsonl", zk_feed())
        cls.d = Daemon([Feed(ZK, "insurer", cls.server.url("/zk.jsonl"))], now=NOW)
        try:
            cls.d.start()
            cls.d.wait_success(ZK)
        except Exception:
            cls.d.cleanup()
            cls.server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.stop()
        finally:
            cls.d.cleanup()
            cls.server.stop()

    def get_raw(self, path, method="GET", headers=None, body=None):
        st, hdrs, data = self.d.request(method, path, headers=headers, body=body)
        return st, hdrs, data

    def test_invalid_utf8_param_is_400_not_503(self):
        cases = [("/v1/status?agb=06020202&policy=9301-BASIS&care_type=%ff", "care_type"),
                 ("/v1/compare?agb=0601010%ff", "agb"),
                 ("/v1/search?q=%c3%28", "q"),
                 ("/v1/status?agb=06010001&policy=3311-BASIS&lang=%ed%a0%80", "lang")]
        for path, param in cases:
            with self.subTest(path):
                st, hdrs, data = self.get_raw(path)
                e = self.assertJsonError(st, hdrs, data, 400, "bad_parameter")
                self.assertEqual(e["parameter"], param)
                self.assertIn(param, e["message"])
                self.assertIn("\\x", e["message"], "the offending bytes, escaped")

    def test_nul_in_parameter_is_400(self):
        st, hdrs, data = self.get_raw("/v1/status?agb=06010001%00&policy=3311-BASIS")
        e = self.assertJsonError(st, hdrs, data, 400, "bad_parameter")
        self.assertEqual(e["parameter"], "agb")

    def test_invalid_utf8_path_is_404_not_503(self):
        for path in ("/nope%ff", "/v1/providers/0601%ff0001", "/v1/%c0%af"):
            with self.subTest(path):
                st, hdrs, data = self.get_raw(path)
                e = self.assertJsonError(st, hdrs, data, 404, "not_found")
                self.assertIn("\\x", e["message"])

    def test_message_cut_mid_character_is_still_json(self):
        # "no such resource: %.200s" used to cut the two bytes of U+00E9 in half
        for n in (195, 196, 197, 198, 199):
            path = "/x/" + "a" * n + "%C3%A9"
            with self.subTest(n=n):
                st, hdrs, data = self.get_raw(path)
                e = self.assertJsonError(st, hdrs, data, 404, "not_found")
                self.assertTrue(e["message"].startswith("no such resource: /x/aaa"))
                self.assertTrue(e.get("text"), "the consumer text must be there too")

    def test_nul_in_path_is_400_not_a_file(self):
        for path in ("/www/index.html%00.txt", "/v1/status%00", "/%00"):
            with self.subTest(path):
                st, hdrs, data = self.get_raw(path)
                self.assertJsonError(st, hdrs, data, 400, "bad_request")

    def test_long_uri_is_json_414_not_html_400(self):
        st, hdrs, data = self.get_raw("/v1/search?q=" + "a" * (1 << 20))
        self.assertJsonError(st, hdrs, data, 414, "uri_too_long")

    def test_large_headers_are_json_431_not_html_400(self):
        hdrs_in = {"X-Big-%d" % i: "b" * 8000 for i in range(20)}   # about 160 KiB
        st, hdrs, data = self.get_raw("/healthz", headers=hdrs_in)
        self.assertJsonError(st, hdrs, data, 431, "headers_too_large")

    def test_unknown_method_is_json_405_not_html_501(self):
        for method in ("PROPFIND", "get", "BREW", "PATCH", "POST"):
            with self.subTest(method):
                st, hdrs, data = self.raw_request(
                    self.d, ("%s /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" %
                             method).encode())
                self.assertJsonError(st, hdrs, data, 405, "method_not_allowed")
                self.assertIn("GET", hdrs.get("allow", ""))

    def test_oversized_body_is_json_413_not_html(self):
        body = b"x" * (64 * 1024)   # max_body_kb defaults to 16
        st, hdrs, data = self.get_raw("/healthz", method="POST", body=body,
                                      headers={"Content-Type": "text/plain"})
        self.assertJsonError(st, hdrs, data, 413, "payload_too_large")

    def test_staff_preflight_has_no_cors(self):
        st, hdrs, _ = self.get_raw("/v1/providers/%s/history" % A, method="OPTIONS",
                                   headers={"Origin": "https://evil.example",
                                            "Access-Control-Request-Headers": "authorization"})
        self.assertIn(st, (200, 204))
        for h in hdrs:
            self.assertFalse(h.startswith("access-control-"), "staff path preflight: %s" % h)
        # public paths keep their CORS preflight
        st, hdrs, _ = self.get_raw("/v1/status", method="OPTIONS",
                                   headers={"Origin": "https://example.nl"})
        self.assertEqual(hdrs.get("access-control-allow-origin"), "*")

    def test_valid_requests_still_answer(self):
        self.assertEqual(self.hospital(self.d, A), "contracted")
        st, _, body = self.d.get("/v1/search?q=Zi%C3%ABkenhuis")
        self.assertEqual(st, 200, body)


# --------------------------------------------------------------------------------------------
# 6. static files stay inside www_dir

class StaticTest(Base):
    def test_symlink_out_of_www_dir_is_not_served(self):
        www = tempfile.mkdtemp(prefix="zsbb-www-")
        outside = tempfile.mkdtemp(prefix="zsbb-outside-")
        self.addCleanup(shutil.rmtree, www, True)
        self.addCleanup(shutil.rmtree, outside, True)
        with open(os.path.join(www, "index.html"), "w") as fh:
            fh.write("<p>widget</p>")
        with open(os.path.join(outside, "secret.txt"), "w") as fh:
            fh.write("SECRET")
        os.symlink(os.path.join(outside, "secret.txt"), os.path.join(www, "secret.txt"))
        os.symlink(outside, os.path.join(www, "sub"))
        os.symlink(os.path.join(www, "index.html"), os.path.join(www, "inside.html"))
        d = self.start_daemon([], settings={"www_dir": www})
        for path in ("/www/secret.txt", "/www/sub/secret.txt"):
            with self.subTest(path):
                st, hdrs, data = d.request("GET", path)
                self.assertEqual(st, 404)
                self.assertNotIn(b"SECRET", data)
        st, _, data = d.request("GET", "/www/inside.html")   # a link that stays inside
        self.assertEqual(st, 200)
        self.assertIn(b"widget", data)
        st, _, data = d.request("GET", "/www/index.html%00.txt")
        self.assertEqual(st, 400)


# --------------------------------------------------------------------------------------------
# 7. secrets

class SecretsTest(Base):
    def start_expect_refusal(self, d, path):
        d.write_config()
        p = subprocess.run([d.binary, "--config", d.conf_path, "--listen",
                            "127.0.0.1:%d" % free_port(), "--database", d.db_path],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, EX_CONFIG, p.stderr)
        err = p.stderr.decode()
        self.assertIn(path, err)
        self.assertIn("0644", err)

    def test_world_readable_staff_token_refuses_start(self):
        d = Daemon([], settings={})
        self.addCleanup(d.cleanup)
        tok = os.path.join(d.tmp, "staff.token")
        with open(tok, "w") as fh:
            fh.write("s3cret-token-0123456789\n")
        os.chmod(tok, 0o644)
        d.settings["staff_token_file"] = tok
        self.start_expect_refusal(d, tok)
        os.chmod(tok, 0o600)   # owner only: starts
        d.start()
        # zorgstatusd answers /healthz a moment before its SIGTERM handler is installed; a
        # SIGTERM in that moment ends it with the signal (exit -15) instead of exit 0
        time.sleep(0.3)
        d.stop()

    def test_group_readable_credentials_file_refuses_start(self):
        d = Daemon([], settings={})
        self.addCleanup(d.cleanup)
        cred = os.path.join(d.tmp, "feed.cred")
        with open(cred, "w") as fh:
            fh.write("user:password\n")
        os.chmod(cred, 0o644)
        d.feeds_conf = [Feed(ZK, "insurer", "http://127.0.0.1:9/zk.jsonl",
                             credentials_file=cred)]
        self.start_expect_refusal(d, cred)


# --------------------------------------------------------------------------------------------
# 4. bad rows degrade gracefully (max_invalid_rows unset: max_invalid_percent = 1)

class BadRowTest(Base):
    def test_one_bad_row_on_first_load_keeps_the_insurer(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", zk_feed(bad_a=True))
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl"), max_invalid_rows=None)],
                              now=NOW)
        f = d.wait_success(ZK)
        self.assertEqual(f["rows_rejected"], 1)
        self.assertEqual(f["errors"][0]["line"], 5)       # header, policy, A, B, A's status
        self.assertEqual(f["errors"][0]["field"], "status")
        self.assertEqual(self.hospital(d, B), "contracted")
        st, _, body = d.get("/v1/policies?year=%d" % Y)
        self.assertEqual(st, 200)
        self.assertIn("3311-BASIS", json.dumps(body))

    def test_bad_row_keeps_last_good_statement(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", zk_feed(a_status="contracted", b_status="contracted"))
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl"), max_invalid_rows=None)],
                              now=NOW)
        d.wait_success(ZK)
        self.assertEqual(self.hospital(d, A), "contracted")
        # new version: B changes, A's row is invalid but its key is readable
        s.set_content("/zk.jsonl", zk_feed(b_status="ended", bad_a=True))
        d.wait_until(lambda: self.hospital(d, B) == "ended", "the new version applied")
        self.assertEqual(self.hospital(d, A), "contracted",
                         "A's last good statement must be kept, not removed")
        self.assertEqual(d.feeds()[ZK]["rows_rejected"], 1)

    def test_many_bad_rows_reject_the_version(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", zk_feed(pad=10))
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl"), max_invalid_rows=None)],
                              now=NOW)
        d.wait_success(ZK)
        # 25 records, 2 invalid: over 1% and over the one always tolerated
        bad = [{"type": "status", "agb": "0609000%d" % i} for i in range(2)]
        s.set_content("/zk.jsonl", zk_feed(b_status="ended", extra=bad, pad=10))
        d.wait_feed(ZK, lambda f: f.get("last_error"), "the version rejected")
        self.assertEqual(self.hospital(d, B), "contracted", "old version kept as a whole")

    def test_max_invalid_rows_zero_still_rejects(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", zk_feed())
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl"), max_invalid_rows=0)],
                              now=NOW)
        d.wait_success(ZK)
        s.set_content("/zk.jsonl", zk_feed(b_status="ended", bad_a=True))
        d.wait_feed(ZK, lambda f: f.get("last_error"), "the version rejected")
        self.assertEqual(self.hospital(d, B), "contracted")


# --------------------------------------------------------------------------------------------
# 3. memory per line is bounded

def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as fh:
        for ln in fh:
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1])
    return 0


class LongLineTest(Base):
    def test_60mb_line_is_a_row_error_not_a_gigabyte(self):
        s = self.start_server()
        good = zk_feed(pad=20)
        s.set_content("/zk.jsonl", good, gzip_ok=False)
        d0 = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl"), max_invalid_rows=None)],
                               now=NOW)
        d0.wait_success(ZK)
        base = vm_hwm_kb(d0.proc.pid)
        d0.stop()
        # the same feed plus one status line of 60 MB (a huge note in a patient stop)
        huge = status("06099999", Y, "hospital", "contracted", insurer="3311",
                      patient_stop={"reason": "other", "from": "2026-10-01",
                                    "note": "x" * (60 << 20)})
        s.set_content("/zk.jsonl", zk_feed(pad=20, extra=[huge]), gzip_ok=False)
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl"), max_invalid_rows=None)],
                              now=NOW)
        f = d.wait_success(ZK, timeout=60 * TIMEOUT_SCALE)
        peak = vm_hwm_kb(d.proc.pid)
        self.assertEqual(f["rows_rejected"], 1)
        self.assertIn("max_line_kb", f["errors"][0]["reason"])
        self.assertEqual(f["errors"][0]["line"], 7)   # header, policy, A, B, 2 statuses, it
        self.assertEqual(self.hospital(d, A), "contracted")
        self.assertLess(peak, 2 * base, "peak RSS %d KiB vs %d KiB without the line" %
                        (peak, base))


# --------------------------------------------------------------------------------------------
# 5. redirects and what the public sees of fetch errors

class RedirectTest(Base):
    def test_redirect_to_other_host_is_not_followed(self):
        s = self.start_server()
        other = FeedServer(host="127.0.0.2").start()
        self.addCleanup(other.stop)
        other.set_content("/evil.jsonl", zk_feed(a_status="ended"))
        s.set_redirect("/zk.jsonl", other.url("/evil.jsonl"))
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl"))], now=NOW)
        f = d.wait_feed(ZK, lambda f: f.get("last_error"), "the redirect refused")
        self.assertEqual(f["last_error"]["message"], "redirect not followed")
        self.assertEqual(other.count("/evil.jsonl"), 0)
        self.assertIsNone(f["last_success"])

    def test_redirect_on_the_same_host_is_followed(self):
        s = self.start_server()
        s.set_content("/v2/zk.jsonl", zk_feed())
        s.set_redirect("/zk.jsonl", "/v2/zk.jsonl", status=301)
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl"))], now=NOW)
        d.wait_success(ZK)
        self.assertEqual(self.hospital(d, A), "contracted")

    def test_follow_redirects_none(self):
        s = self.start_server()
        s.set_content("/v2/zk.jsonl", zk_feed())
        s.set_redirect("/zk.jsonl", "/v2/zk.jsonl")
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl"))], now=NOW,
                              settings={"follow_redirects": "none"})
        f = d.wait_feed(ZK, lambda f: f.get("last_error"), "the redirect refused")
        self.assertEqual(s.count("/v2/zk.jsonl"), 0)
        self.assertEqual(f["last_error"]["message"], "redirect not followed")

    def test_public_feeds_hide_connect_error_details(self):
        port = free_port()   # nothing listens there
        d = Daemon([Feed(ZK, "insurer", "http://127.0.0.1:%d/zk.jsonl" % port)], now=NOW)
        self.addCleanup(d.cleanup)
        tok = os.path.join(d.tmp, "staff.token")
        with open(tok, "w") as fh:
            fh.write("staff-token-0123456789\n")
        os.chmod(tok, 0o600)
        d.settings["staff_token_file"] = tok
        d.start()
        self.addCleanup(d.stop)
        f = d.wait_feed(ZK, lambda f: f.get("last_error"), "the connect error")
        self.assertEqual(f["last_error"]["message"], "connection failed")
        public = {x["name"]: x for x in d.get("/v1/feeds")[2]["feeds"]}[ZK]
        self.assertNotIn(str(port), json.dumps(public["last_error"]))
        st, _, body = d.get("/v1/feeds",
                            headers={"Authorization": "Bearer staff-token-0123456789"})
        staff = {x["name"]: x for x in body["feeds"]}[ZK]
        self.assertTrue(staff["last_error"]["message"].startswith("connection failed: "))
        self.assertIn(str(port), staff["last_error"]["message"])


# --------------------------------------------------------------------------------------------
# 8 + 10. the transfer fault matrix against a real feed server

class FetchMatrixTest(Base):
    """Each fault: the last good data stays, the error class is reported, and a healthy feed
    next to it is not held back."""

    def test_fault_matrix_keeps_last_good_data(self):
        s = self.start_server()
        good = zk_feed()
        s.set_content("/zk.jsonl", good)
        s.set_content("/other.jsonl", feed(insurer_header("cz", "CZ", "9664", "CZ"), [
            policy("9664-P", Y, "CZ Polis", "natura", [rule("*", 70, "avg_contracted_tariff")]),
            provider(B, "Ziekenhuis Beta"),
            status(B, Y, "hospital", "contracted", policy="9664-P")]))
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl")),
                               Feed("cz", "insurer", s.url("/other.jsonl"))], now=NOW,
                              settings={"low_speed_limit": 1000, "low_speed_time": 2,
                                        "fetch_timeout": 6, "max_feed_mb": 1})
        d.wait_success(ZK)
        d.wait_success("cz")
        bomb = gzip.compress(b"\n" * (64 << 20))       # 64 MiB of blank lines, ~64 KiB
        big = zk_feed(pad=1) + b" " * (2 << 20) + b"\n"   # over max_feed_mb = 1
        cases = [
            ("drip", lambda: s.set_drip("/zk.jsonl", zk_feed(a_status="ended"), 1, 0.5),
             "timed out"),
            ("oversize", lambda: s.set_content("/zk.jsonl", big, gzip_ok=False),
             "feed too large"),
            ("gzip bomb", lambda: s.set_raw("/zk.jsonl", bomb, {"Content-Encoding": "gzip"}),
             "feed too large"),
            ("cut off", lambda: s.set_cutoff("/zk.jsonl", zk_feed(a_status="ended", pad=50)),
             "transfer cut off"),
            ("HTTP 500", lambda: s.set_error("/zk.jsonl", 500), "HTTP 500"),
            ("redirect elsewhere",
             lambda: s.set_redirect("/zk.jsonl", "http://127.0.0.2:%d/zk.jsonl" % s.port),
             "redirect not followed"),
        ]
        for what, fn, cls in cases:
            with self.subTest(what):
                n0 = d.feeds()["cz"]
                t0 = time.monotonic()
                fn()
                f = d.wait_feed(ZK, lambda f: (f.get("last_error") or {}).get("message") == cls,
                                "error class %r" % cls, timeout=30)
                self.assertEqual(self.hospital(d, A), "contracted", what)
                self.assertIsNotNone(f["last_success"])
                d.assert_alive(what)
                if what == "drip":
                    # ended by the low-speed limit (2 s), long before fetch_timeout would
                    self.assertLess(time.monotonic() - t0, 15 * TIMEOUT_SCALE)
                # the healthy feed kept being fetched meanwhile
                cz = d.wait_feed("cz", lambda f: f["last_attempt"] != n0["last_attempt"],
                                 "cz fetched again", timeout=10)
                self.assertIsNone(cz["last_error"])
        s.set_content("/zk.jsonl", zk_feed(a_status="ended"))
        d.wait_until(lambda: self.hospital(d, A) == "ended", "recovery")

    def test_dripping_feed_does_not_hold_back_others(self):
        s = self.start_server()
        s.set_drip("/slow.jsonl", zk_feed(), 1, 0.2)   # would take minutes
        s.set_content("/fast.jsonl", feed(insurer_header("cz", "CZ", "9664", "CZ"), [
            policy("9664-P", Y, "CZ Polis", "natura", [rule("*", 70, "avg_contracted_tariff")]),
            provider(B, "Ziekenhuis Beta"),
            status(B, Y, "hospital", "contracted", policy="9664-P")]))
        # the slow feed comes first in the configuration
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/slow.jsonl"), schedule=300),
                               Feed("cz", "insurer", s.url("/fast.jsonl"), schedule=300)],
                              now=NOW, settings={"fetch_timeout": 120, "low_speed_limit": 0})
        t0 = time.monotonic()
        d.wait_success("cz", timeout=10 * TIMEOUT_SCALE)
        self.assertLess(time.monotonic() - t0, 10 * TIMEOUT_SCALE)
        self.assertIsNone(d.feeds()[ZK]["last_success"], "the slow feed is still dripping")

    def test_transfers_keep_flowing_while_a_version_is_applied(self):
        # What broke: while a fetched version was applied, the transfers still running were
        # not read; a first load at four times the national dataset applied for 80 s, and the
        # feed server (nginx, send_timeout 60 s) cut four insurer feeds off. Here the early
        # apply of the fast feed is made 4 s longer (ZS_TEST_STALL_APPLY_MS) while the slow
        # feed is still coming, from a server that ends a transfer it cannot write to for
        # 1.5 s (both times ZS_TIMEOUT_SCALE): the slow feed must arrive whole at its first
        # request.
        s = self.start_server()
        s.set_content("/fast.jsonl", feed(insurer_header("cz", "CZ", "9664", "CZ"), [
            policy("9664-P", Y, "CZ Polis", "natura", [rule("*", 70, "avg_contracted_tariff")]),
            provider(B, "Ziekenhuis Beta"),
            status(B, Y, "hospital", "contracted", policy="9664-P")]))
        slow = zk_feed(pad=9999)                      # 3 MB, dripped over about 2-3 s
        s.set_drip("/slow.jsonl", slow, 16384, 0.01, send_timeout=1.5 * TIMEOUT_SCALE)
        os.environ["ZS_TEST_STALL_APPLY_MS"] = str(int(4000 * TIMEOUT_SCALE))
        try:
            d = self.start_daemon([Feed(ZK, "insurer", s.url("/slow.jsonl"), schedule=300),
                                   Feed("cz", "insurer", s.url("/fast.jsonl"), schedule=300)],
                                  now=NOW, settings={"fetch_timeout": 120, "low_speed_limit": 0})
        finally:
            os.environ.pop("ZS_TEST_STALL_APPLY_MS", None)
        d.wait_success(ZK, timeout=60 * TIMEOUT_SCALE)
        self.assertEqual(s.stalls("/slow.jsonl"), [],
                         "the daemon left the slow transfer unread during the apply")
        self.assertEqual(len(s.requests("/slow.jsonl")), 1, "fetched whole the first time")
        self.assertIsNone(d.feeds()[ZK]["last_error"])
        self.assertEqual(self.hospital(d, A), "contracted")
        d.wait_success("cz")


# --------------------------------------------------------------------------------------------
# 10. kill -9 at random moments of a mid-size ingest

def big_feed(st, n):
    recs = [policy("3311-BASIS", Y, "Basis Zeker", "natura",
                   [rule("*", 75, "avg_contracted_tariff")])]
    for i in range(n):
        agb = "07%06d" % i
        recs.append(provider(agb, "Zorgaanbieder %d" % i))
        recs.append(status(agb, Y, "hospital", st, policy="3311-BASIS"))
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), recs)


class KillTest(Base):
    KILLS = 10
    N = 6000

    def test_kill_9_during_ingest_leaves_old_or_new(self):
        s = self.start_server()
        versions = {"contracted": big_feed("contracted", self.N),
                    "ended": big_feed("ended", self.N)}
        s.set_content("/zk.jsonl", versions["contracted"])
        d = Daemon([Feed(ZK, "insurer", s.url("/zk.jsonl"))], now=NOW, log_level="info")
        self.addCleanup(d.cleanup)
        d.start()
        d.wait_success(ZK, timeout=60 * TIMEOUT_SCALE)
        rnd = random.Random(os.environ.get("ZS_KILL_SEED", "15"))
        cur = "contracted"
        t_end = time.monotonic() + 45 * TIMEOUT_SCALE
        for k in range(self.KILLS):
            self.assertLess(time.monotonic(), t_end, "kill test over its time budget")
            cur = "ended" if cur == "contracted" else "contracted"
            n0 = s.count("/zk.jsonl")
            s.set_content("/zk.jsonl", versions[cur])
            s.wait_requests("/zk.jsonl", n0 + 1, timeout=10)   # the ingest has started
            time.sleep(rnd.uniform(0, 0.8))
            d.proc.kill()
            d.proc.wait()
            db = sqlite3.connect(d.db_path)
            try:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok",
                                 "kill %d" % k)
                rows = db.execute("SELECT status, count(*) FROM stmt GROUP BY status").fetchall()
                self.assertEqual(len(rows), 1, "kill %d: a mix of versions: %r" % (k, rows))
                self.assertEqual(rows[0][1], self.N, "kill %d: a partial version" % k)
                eff = db.execute("SELECT count(DISTINCT status), count(*) FROM effective"
                                 " WHERE policy_id='3311-BASIS'").fetchone()
                self.assertEqual(eff, (1, self.N), "kill %d: effective rows %r" % (k, eff))
            finally:
                db.close()
            d.start()
        d.wait_success(ZK, timeout=60 * TIMEOUT_SCALE)
        time.sleep(0.3)   # see SecretsTest: SIGTERM right after start-up
        d.stop()


if __name__ == "__main__":
    unittest.main()
