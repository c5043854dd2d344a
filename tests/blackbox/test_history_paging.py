"""Black-box test: the staff history pages (issue 17): `limit` (default 200, at most 1000)
and an opaque `cursor` (the answer's `next_cursor`); following the cursors gives exactly the
unpaged list, in the same order, once each. Also: retention and compact storage keep the
answer's shape (flags as before)."""

import os
import time
import unittest
import urllib.parse

from harness import DaemonTestCase, Feed, feed, insurer_header, policy, provider, rule, status

AGB = "06010101"
TOKEN = "staff-token-for-the-paging-test"


def version(hosp, ggz):
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), [
        policy("3311-BASIS", 2027, "Basis Zeker", "natura",
               [rule("*", 75, "avg_contracted_tariff")]),
        provider(AGB, "Sint Antonius Ziekenhuis"),
        status(AGB, 2027, "hospital", hosp, policy="3311-BASIS"),
        status(AGB, 2027, "mental_health", ggz, policy="3311-BASIS")])


class HistoryPagingTest(DaemonTestCase):
    def test_pages_follow_the_cursor(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", version("negotiating", "negotiating"))
        tokfile = os.path.join(self._tmp(), "staff.token")
        with open(tokfile, "w") as fh:
            fh.write(TOKEN + "\n")
        os.chmod(tokfile, 0o600)
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"), schedule=1)],
                              now="2026-12-02T10:00:00",
                              settings={"staff_token_file": tokfile})
        last = d.wait_success("zk")["last_change"]
        for hosp, ggz in (("contracted", "negotiating"), ("contracted", "contracted_ceiling"),
                          ("ended", "contracted_ceiling")):
            time.sleep(1.1)  # each version in a second of its own
            s.set_content("/zk.jsonl", version(hosp, ggz))
            last = d.wait_feed("zk", lambda f, prev=last: f.get("last_change") not in (None, prev),
                               "version applied")["last_change"]
        auth = {"Authorization": "Bearer " + TOKEN}
        base = "/v1/providers/%s/history?year=2027" % AGB
        st, _, full = d.get(base, auth)
        self.assertEqual(st, 200, full)
        # hospital: negotiating, contracted, ended; mental health: negotiating, ceiling
        self.assertEqual(len(full["history"]), 5)
        self.assertIsNone(full["next_cursor"])
        self.assertEqual(full["limit"], 200)
        ceiling = [e for e in full["history"] if e["status"] == "contracted_ceiling"]
        self.assertEqual(ceiling[0]["flags"], {"ceiling": True, "conflict": False,
                                               "patient_stop": None, "provider_only": False})
        pages, cursor = [], None
        for _ in range(10):
            q = base + "&limit=2" + ("&cursor=" + urllib.parse.quote(cursor) if cursor else "")
            st, _, page = d.get(q, auth)
            self.assertEqual(st, 200, page)
            self.assertLessEqual(len(page["history"]), 2)
            pages += page["history"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(pages, full["history"])
        for bad in ("limit=0", "limit=1001", "limit=x", "cursor=zz", "cursor=00",
                    "cursor=" + "41" * 10):
            st, _, body = d.get(base + "&" + bad, auth)
            self.assertEqual(st, 400, (bad, body))
            self.assertEqual(body["error"]["parameter"], bad.split("=")[0])

    def _tmp(self):
        import shutil
        import tempfile
        t = tempfile.mkdtemp(prefix="zsbb-page-")
        self.addCleanup(shutil.rmtree, t, True)
        return t


if __name__ == "__main__":
    unittest.main()
