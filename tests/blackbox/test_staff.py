"""Black-box tests: the call-centre workspace API (issue 11; docs/api.md "Staff").

Staff accounts come from staff_accounts_file (lines made by `zorgstatusd --hash-token`), the old
staff_token_file is one more account "staff"; accounts are read again on SIGHUP. Failed sign-ins
are limited per client address. Staff answers never carry CORS headers and are
"Cache-Control: private, no-store". /v1/staff/providers/{agb} gives every statement behind every
status with its level, own date, feed, line and whether (and by which rule) it was overruled;
?at= gives what the public answer said then. Every provider look-up is in the audit log, which
only role admin reads.

The data (written by hand; expected values follow domain.md "Sources and reconciliation"):
  insurer feed zk (Zilveren Kruis, uzovi 3311, concern achmea), policy 3311-BASIS (natura, 75%):
    line 4  hospital       negotiating     policy 3311-BASIS   (version 2: contracted)
    line 5  mental_health  not_contracted  insurer 3311        since 2026-10-01
    line 6  mental_health  contracted      concern achmea      -> overruled: more_specific
  provider feed pv (Antonius Groep):
    line 2  mental_health  contracted      policy 3311-BASIS   -> overruled: insurer_decides,
                                                                  the status is a conflict
    line 3  an invalid record (status "maybe"): a row error of the feed
"""

import os
import signal
import subprocess
import time
import unittest
import urllib.parse

from harness import (DaemonTestCase, Feed, feed, insurer_header, jsonl, line_of, policy,
                     provider, provider_header, require_binary, rule, status, end)

AGB = "06010101"
POL = "3311-BASIS"
ALICE = "alice-token-0123456789-abcdefghijklmnop"    # admin
BOB = "bob-token-0123456789-abcdefghijklmnopqrs"     # staff
LEGACY = "legacy-staff-token-0123456789"             # staff_token_file: account "staff"
STAFF_PATHS = ["/v1/staff/me", "/v1/staff/feeds", "/v1/staff/audit",
               "/v1/staff/providers/%s" % AGB, "/v1/providers/%s/history" % AGB]


def insurer_version(hospital):
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), [
        policy(POL, 2027, "Basis Zeker", "natura", [rule("*", 75, "avg_contracted_tariff")]),
        provider(AGB, "Sint Antonius Ziekenhuis"),
        status(AGB, 2027, "hospital", hospital, policy=POL),
        status(AGB, 2027, "mental_health", "not_contracted", insurer="3311", since="2026-10-01"),
        status(AGB, 2027, "mental_health", "contracted", concern="achmea")])


PROVIDER_FEED = jsonl([
    provider_header("Antonius Groep"),
    status(AGB, 2027, "mental_health", "contracted", policy=POL),
    status(AGB, 2027, "hospital", "maybe", policy=POL),
    end(2)])


def hash_line(name, role, token):
    p = subprocess.run([require_binary(), "--hash-token", name, role], input=token + "\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError("--hash-token failed: %s" % p.stderr)
    return p.stdout.strip()


def auth(token):
    return {"Authorization": "Bearer " + token}


class StaffTest(DaemonTestCase):
    def setUp(self):
        self.s = self.start_server()
        self.v1 = insurer_version("negotiating")
        self.s.set_content("/zk.jsonl", self.v1)
        self.s.set_content("/pv.jsonl", PROVIDER_FEED)

    def start(self, **settings):
        import tempfile
        import shutil
        tmp = tempfile.mkdtemp(prefix="zsbb-staff-")
        self.addCleanup(shutil.rmtree, tmp, True)
        self.accounts = os.path.join(tmp, "accounts")
        self.write_accounts([hash_line("alice", "admin", ALICE), hash_line("bob", "staff", BOB)])
        tok = os.path.join(tmp, "staff.token")
        with open(tok, "w") as fh:
            fh.write(LEGACY + "\n")
        os.chmod(tok, 0o600)
        s = {"staff_accounts_file": self.accounts, "staff_token_file": tok}
        s.update(settings)
        d = self.start_daemon([Feed("zk", "insurer", self.s.url("/zk.jsonl")),
                               Feed("pv", "provider", self.s.url("/pv.jsonl"), max_invalid_rows=5)],
                              now="2026-12-02T10:00:00", settings=s)
        d.wait_success("zk")
        d.wait_success("pv")
        return d

    def write_accounts(self, lines):
        with open(self.accounts + ".new", "w") as fh:
            fh.write("# name role hash\n\n" + "\n".join(lines) + "\n")
        os.chmod(self.accounts + ".new", 0o600)
        os.replace(self.accounts + ".new", self.accounts)

    def hup_and_wait(self, d, pred, what):
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.1)
        self.fail("after SIGHUP: " + what)

    # ---- accounts ----------------------------------------------------------------------------

    def test_hash_token_command(self):
        line = hash_line("carol", "admin", "x" * 32)
        name, role, h = line.split(" ")
        self.assertEqual((name, role), ("carol", "admin"))
        algo, salt, digest = h.split(":")
        self.assertEqual(algo, "sha256")
        self.assertRegex(salt, "^[0-9a-f]{32}$")
        self.assertRegex(digest, "^[0-9a-f]{64}$")
        self.assertNotIn("x" * 32, line)
        # salted: the same token twice gives two different lines
        self.assertNotEqual(hash_line("carol", "admin", "x" * 32), line)
        for bad in (["carol", "staff"], ["carol", "boss"], ["", "staff"]):
            tokn = "short" if bad[1] == "staff" and bad[0] else "y" * 32
            p = subprocess.run([require_binary(), "--hash-token"] + bad, input=tokn + "\n",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=30)
            self.assertNotEqual(p.returncode, 0, bad)
            self.assertEqual(p.stdout, "")

    def test_accounts_roles_and_the_old_token(self):
        d = self.start()
        for token, name, role in ((ALICE, "alice", "admin"), (BOB, "bob", "staff"),
                                  (LEGACY, "staff", "staff")):
            st, _, b = d.get("/v1/staff/me", auth(token))
            self.assertEqual((st, b), (200, {"name": name, "role": role}))
        for headers in ({}, auth("not-a-token-of-anyone-at-all"), {"Authorization": "Basic eDp5"}):
            st, _, b = d.get("/v1/staff/me", headers)
            self.assertEqual(st, 401)
            self.assertEqual(b["error"]["code"], "unauthorized")
        # the audit log is for admin only
        self.assertEqual(d.get("/v1/staff/audit", auth(BOB))[0], 403)
        self.assertEqual(d.get("/v1/staff/audit", auth(LEGACY))[0], 403)
        self.assertEqual(d.get("/v1/staff/audit", auth(ALICE))[0], 200)
        # the old history endpoint takes every account
        self.assertEqual(d.get("/v1/providers/%s/history" % AGB, auth(BOB))[0], 200)

    def test_revoked_after_sighup_and_broken_file_keeps_accounts(self):
        d = self.start()
        self.assertEqual(d.get("/v1/staff/me", auth(BOB))[0], 200)
        self.write_accounts([hash_line("alice", "admin", ALICE)])
        self.hup_and_wait(d, lambda: d.get("/v1/staff/me", auth(BOB))[0] == 401,
                          "bob is still accepted")
        self.assertEqual(d.get("/v1/staff/providers/%s" % AGB, auth(BOB))[0], 401)
        self.assertEqual(d.get("/v1/staff/me", auth(ALICE))[0], 200)
        # a broken file: the reload is refused, the running accounts stay
        with open(self.accounts, "a") as fh:
            fh.write("mallory boss sha256:00:11\n")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_until(lambda: "staff_accounts_file" in d.stderr_tail(200) and
                     "reload refused" in d.stderr_tail(200), "reload refused")
        self.assertEqual(d.get("/v1/staff/me", auth(ALICE))[0], 200)
        self.assertIn(":4: role must be staff or admin", d.stderr_tail(200))

    def test_failed_sign_ins_are_limited_per_address_and_logged_without_token(self):
        d = self.start(staff_auth_failures=3)
        wrong = "wrong-token-that-must-never-be-logged-42"
        for i in range(3):
            self.assertEqual(d.get("/v1/staff/me", auth(wrong))[0], 401, i)
        st, h, b = d.get("/v1/staff/me", auth(ALICE))  # even the right token, this minute
        self.assertEqual(st, 429)
        self.assertEqual(b["error"]["code"], "too_many_requests")
        self.assertTrue(1 <= int(h["retry-after"]) <= 60, h)
        self.assertEqual(h["cache-control"], "private, no-store")
        # public answers without a token are not limited
        self.assertEqual(d.get("/v1/providers/%s?year=2027" % AGB)[0], 200)
        log = d.stderr_tail(400)
        self.assertIn("failed staff sign-in from 127.0.0.1", log)
        self.assertNotIn(wrong, log)
        self.assertNotIn(ALICE, log)

    # ---- headers -----------------------------------------------------------------------------

    def test_no_cors_and_private_no_store(self):
        d = self.start()
        for path in STAFF_PATHS:
            for headers in ({}, auth(ALICE), {"Origin": "https://evil.example", **auth(ALICE)}):
                st, h, _ = d.request("GET", path, headers)
                self.assertIn(st, (200, 401), path)
                self.assertEqual(h.get("cache-control"), "private, no-store", (path, st))
                self.assertFalse([k for k in h if k.startswith("access-control-")], (path, h))
            st, h, _ = d.request("OPTIONS", path, {"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "GET"})
            self.assertFalse([k for k in h if k.startswith("access-control-")], (path, h))
        # an error before routing (a bad query) on a staff path: no CORS either
        st, h, _ = d.request("GET", "/v1/staff/feeds?a=1&a=2", auth(ALICE))
        self.assertEqual(st, 400)
        self.assertFalse([k for k in h if k.startswith("access-control-")], h)
        # a public path asked with a staff token: private (it holds shown_since)
        st, h, b = d.get("/v1/providers/%s?year=2027" % AGB, auth(ALICE))
        self.assertEqual(st, 200)
        self.assertEqual(h.get("cache-control"), "private, no-store")
        self.assertNotIn("access-control-allow-origin", h)

    # ---- the statements behind a status --------------------------------------------------------

    def test_statements_behind_a_conflict(self):
        d = self.start()
        st, h, b = d.get("/v1/staff/providers/%s?year=2027" % AGB, auth(BOB))
        self.assertEqual(st, 200, b)
        self.assertEqual(b["view"], "now")
        self.assertEqual(b["provider"]["name"], "Sint Antonius Ziekenhuis")
        [pol] = [p for p in b["years"][0]["policies"] if p["policy"]["id"] == POL]
        by_ct = {s["care_type"]: s for s in pol["statuses"]}
        mh = by_ct["mental_health"]
        self.assertEqual(mh["status"], "not_contracted")
        self.assertEqual(mh["basis"], "conflict")
        self.assertTrue(mh["flags"]["conflict"])
        self.assertEqual(mh["consequence"]["presentation"], "conflict")
        ins_line = line_of(self.v1, lambda t: '"mental_health"' in t and '"insurer": "3311"' in t)
        con_line = line_of(self.v1, lambda t: '"mental_health"' in t and '"concern": "achmea"' in t)
        prov_line = line_of(PROVIDER_FEED, lambda t: '"mental_health"' in t)
        self.assertEqual((ins_line, con_line, prov_line), (5, 6, 2))
        got = sorted((s["source"], s["level"], s["scope_id"], s["status"], s["feed"], s["line"],
                      s["date"], s["role"], s["overruled_by"]) for s in mh["statements"])
        self.assertEqual(got, sorted([
            ("insurer", "insurer", "3311", "not_contracted", "zk", 5, "2026-10-01", "decides",
             None),
            ("insurer", "concern", "achmea", "contracted", "zk", 6, None, "overruled",
             "more_specific"),
            ("provider", "policy", POL, "contracted", "pv", 2, None, "overruled",
             "insurer_decides"),
        ]))
        for s in mh["statements"]:
            self.assertTrue(s["said_at"].endswith("Z"), s)
        # hospital: the insurer alone (the provider's record was invalid)
        hs = by_ct["hospital"]
        self.assertEqual(hs["status"], "negotiating")
        self.assertEqual([(s["source"], s["role"]) for s in hs["statements"]],
                         [("insurer", "decides")])
        # the public answer has no statements, no shown_since
        st, _, pub = d.get("/v1/providers/%s?year=2027" % AGB)
        [pp] = [p for p in pub["years"][0]["policies"] if p["policy"]["id"] == POL]
        for s in pp["statuses"]:
            self.assertNotIn("statements", s)
            self.assertNotIn("shown_since", s)
        # bad input: 400 naming the parameter; unknown provider 404; without token 401
        for q, param in (("?at=yesterday", "at"), ("?year=20x7", "year"),
                         ("?care_type=nothing", "care_type")):
            st, _, e = d.get("/v1/staff/providers/%s%s" % (AGB, q), auth(BOB))
            self.assertEqual((st, e["error"].get("parameter")), (400, param), q)
        st, _, e = d.get("/v1/staff/providers/0601010x", auth(BOB))
        self.assertEqual((st, e["error"].get("parameter")), (400, "agb"))
        self.assertEqual(d.get("/v1/staff/providers/99999999", auth(BOB))[0], 404)
        st, _, e = d.get("/v1/staff/providers/%s" % AGB)
        self.assertEqual(st, 401)
        self.assertNotIn("years", e)

    def test_history_at_a_moment_and_the_audit_log(self):
        d = self.start()
        first = d.feeds()["zk"]["last_change"]
        time.sleep(2.2)  # the daemon clock runs on: the second version comes seconds later
        self.s.set_content("/zk.jsonl", insurer_version("contracted"))
        second = d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first),
                             "second version applied")["last_change"]

        def hospital(at=None):
            q = "?year=2027" + ("&at=" + urllib.parse.quote(at) if at else "")
            st, h, b = d.get("/v1/staff/providers/%s%s" % (AGB, q), auth(BOB))
            self.assertEqual(st, 200, b)
            [pol] = [p for p in b["years"][0]["policies"] if p["policy"]["id"] == POL]
            return b, {s["care_type"]: s for s in pol["statuses"]}["hospital"]

        b, now = hospital()
        self.assertEqual((now["status"], now["consequence"]["code"]), ("contracted", "as_contracted"))
        b, then = hospital(first)
        self.assertEqual(b["view"], "history")
        self.assertEqual(b["at"], first)
        # negotiating on a natura policy with 75%: not_contracted_partial, shown as negotiating
        self.assertEqual(then["status"], "negotiating")
        self.assertEqual(then["consequence"]["code"], "not_contracted_partial")
        self.assertEqual(then["consequence"]["reimbursed_percent"], 75)
        self.assertEqual(then["consequence"]["presentation"], "negotiating")
        self.assertIn("75%", then["consequence"]["text"])
        self.assertEqual((then["valid_from"], then["valid_until"]), (first, second))
        self.assertNotIn("statements", then)
        b, later = hospital(second)
        self.assertEqual((later["status"], later["valid_until"]), ("contracted", None))
        # a date: the end of that day (Amsterdam): what was shown at its end -> contracted
        self.assertEqual(hospital("2026-12-02")[1]["status"], "contracted")

        # the audit log: who looked up which provider when, nothing about callers
        st, _, a = d.get("/v1/staff/audit?agb=%s" % AGB, auth(ALICE))
        self.assertEqual(st, 200)
        bob = [e for e in a["entries"] if e["who"] == "bob"]
        self.assertEqual(len(bob), 4)
        for e in bob:
            self.assertEqual(set(e), {"at", "who", "role", "action", "agb", "asked_at"})
            self.assertEqual((e["role"], e["action"], e["agb"]), ("staff", "provider", AGB))
        self.assertEqual(sorted(e["asked_at"] or "" for e in bob),
                         sorted(["", first, second, "2026-12-02"]))
        self.assertEqual(a["retention_days"], 90)
        # newest first; limit and filters
        st, _, a2 = d.get("/v1/staff/audit?who=bob&limit=1", auth(ALICE))
        self.assertEqual(a2["entries"], [bob[0]])
        self.assertEqual(d.get("/v1/staff/audit?limit=0", auth(ALICE))[2]["error"]["parameter"],
                         "limit")
        self.assertEqual(d.get("/v1/staff/audit?agb=1", auth(ALICE))[2]["error"]["parameter"], "agb")
        # the history endpoint is audited too
        d.get("/v1/providers/%s/history" % AGB, auth(BOB))
        st, _, a3 = d.get("/v1/staff/audit?who=bob&limit=1", auth(ALICE))
        self.assertEqual(a3["entries"][0]["action"], "history")
        # the audit file is the daemon's own: next to the database, not readable by others
        audit = d.db_path[:-3] + "-audit.db"
        self.assertTrue(os.path.isfile(audit))
        self.assertEqual(os.stat(audit).st_mode & 0o077, 0)

    # ---- feeds ---------------------------------------------------------------------------------

    def test_feed_health_with_row_errors(self):
        d = self.start()
        st, h, b = d.get("/v1/staff/feeds", auth(BOB))
        self.assertEqual(st, 200)
        feeds = {f["name"]: f for f in b["feeds"]}
        self.assertEqual(set(feeds), {"zk", "pv"})
        pv = feeds["pv"]
        self.assertEqual(pv["rows_rejected"], 1)
        self.assertFalse(pv["stale"])
        self.assertFalse(pv["failing"])
        [err] = pv["errors"]
        self.assertEqual(err["line"], line_of(PROVIDER_FEED, lambda t: '"maybe"' in t))
        self.assertEqual(err["line"], 3)
        self.assertEqual(err["field"], "status")
        self.assertTrue(err["reason"])
        self.assertEqual(feeds["zk"]["errors"], [])
        self.assertEqual(d.get("/v1/staff/feeds")[0], 401)
        # a failing feed: failing true, the whole message for staff
        self.s.set_error("/zk.jsonl", 500)
        d.wait_feed("zk", lambda f: f.get("last_error") is not None, "zk failed")
        st, _, b = d.get("/v1/staff/feeds", auth(BOB))
        zk = {f["name"]: f for f in b["feeds"]}["zk"]
        self.assertTrue(zk["failing"])
        self.assertIn("500", zk["last_error"]["message"])


if __name__ == "__main__":
    unittest.main()
