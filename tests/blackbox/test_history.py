"""Black-box test: the staff history answers "what did we tell this caller on that day?"
(domain.md, "Every change of an effective status is kept as history").

One insurer feed says 06010101 / 3311-BASIS / 2027 / hospital is negotiating; a second version
says contracted. The history then holds two entries for that key: negotiating from the first
apply until the second, and contracted from the second apply on (open). Asked `at` a moment
between the two applies, it answers negotiating; asked at the latest moment, contracted.
"""

import datetime
import os
import time
import unittest
import urllib.parse

from harness import DaemonTestCase, Feed, feed, insurer_header, policy, provider, rule, status

AGB = "06010101"
TOKEN = "staff-token-for-the-history-test"


def version(st):
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), [
        policy("3311-BASIS", 2027, "Basis Zeker", "natura",
               [rule("*", 75, "avg_contracted_tariff")]),
        provider(AGB, "Sint Antonius Ziekenhuis"),
        status(AGB, 2027, "hospital", st, policy="3311-BASIS")])


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class HistoryTest(DaemonTestCase):
    def test_what_was_shown_when(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", version("negotiating"))
        tokfile = os.path.join(self._tmp(), "staff.token")
        with open(tokfile, "w") as fh:
            fh.write(TOKEN + "\n")
        os.chmod(tokfile, 0o600)   # readable by group or others: the daemon refuses to start
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"))],
                              now="2026-12-02T10:00:00",
                              settings={"staff_token_file": tokfile})
        first = d.wait_success("zk")["last_change"]
        time.sleep(2.2)  # the daemon clock runs on: the second version comes seconds later
        s.set_content("/zk.jsonl", version("contracted"))
        second = d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first),
                             "second version applied")["last_change"]
        self.assertLess(first, second)
        auth = {"Authorization": "Bearer " + TOKEN}

        st, _, body = d.get("/v1/providers/%s/history?year=2027&policy=3311-BASIS"
                            "&care_type=hospital" % AGB, auth)
        self.assertEqual(st, 200, body)
        h = body["history"]
        self.assertEqual([e["status"] for e in h], ["negotiating", "contracted"])
        self.assertEqual(h[0]["valid_from"], first)
        self.assertEqual(h[0]["valid_until"], second)
        self.assertEqual(h[1]["valid_from"], second)
        self.assertIsNone(h[1]["valid_until"])

        def at(moment):
            st, _, b = d.get("/v1/providers/%s/history?year=2027&at=%s" %
                             (AGB, urllib.parse.quote(moment)), auth)
            self.assertEqual(st, 200, b)
            return [(e["policy"], e["care_type"], e["status"]) for e in b["history"]]

        t1 = datetime.datetime.fromisoformat(first.replace("Z", "+00:00"))
        self.assertEqual(at(iso(t1 + datetime.timedelta(seconds=1))),
                         [("3311-BASIS", "hospital", "negotiating")])
        self.assertEqual(at(second), [("3311-BASIS", "hospital", "contracted")])
        # before anything was known: nothing was shown
        self.assertEqual(at(iso(t1 - datetime.timedelta(seconds=1))), [])
        # without the token: 401, no data
        st, _, body = d.get("/v1/providers/%s/history" % AGB)
        self.assertEqual(st, 401)
        self.assertNotIn("history", body)

    def _tmp(self):
        import tempfile
        import shutil
        t = tempfile.mkdtemp(prefix="zsbb-hist-")
        self.addCleanup(shutil.rmtree, t, True)
        return t


if __name__ == "__main__":
    unittest.main()
