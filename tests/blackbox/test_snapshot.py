"""Black-box tests: every answer comes from one snapshot, and a poll that changes nothing
changes no answer (issues 15 and 16).

Rules (docs/api.md "Snapshots and freshness"): a reader takes the generation of the snapshot it
reads inside its own read transaction, so an answer never combines the statuses of one feed
version with the rates of another, even while the ingest has committed a version but not yet
published it (ZS_TEST_STALL_PUBLISH_MS holds the worker in exactly that window). A fetch that
finds the same content (304, or the same bytes) does not make a new snapshot: no generation,
no ETag, no cache changes; consumers see the day of the last check, which moves once a day.
"""

import gzip
import http.client
import json
import os
import re
import socket
import sqlite3
import threading
import time
import unittest

import harness
from harness import DaemonTestCase, Feed, feed, insurer_header, policy, provider, rule, status

AGB = "06010101"


def version(st, pct):
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), [
        policy("3311-BASIS", 2027, "Basis Zeker", "natura",
               [rule("*", pct, "avg_contracted_tariff")]),
        provider(AGB, "Sint Antonius Ziekenhuis"),
        status(AGB, 2027, "hospital", st, policy="3311-BASIS")])


STATUS = "/v1/status?agb=%s&policy=3311-BASIS&year=2027&care_type=hospital&amount=8000" % AGB


class SnapshotTest(DaemonTestCase):
    def answer(self, d):
        st, _, body = d.get(STATUS)
        self.assertEqual(st, 200, body)
        s = body["statuses"][0]
        c = s["consequence"]
        return s["status"], c["reimbursed_percent"], c["example"]["insurer_pays"]

    def serving(self, stall_publish_ms=None):
        """A feed server with the first version (negotiating, 75%) and a daemon polling it every
        second, once it serves that version; with stall_publish_ms, the worker waits that long
        between each commit and its publication."""
        s = self.start_server()
        s.set_content("/zk.jsonl", version("negotiating", 75))
        if stall_publish_ms:
            os.environ["ZS_TEST_STALL_PUBLISH_MS"] = str(stall_publish_ms)
        try:
            d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"), schedule=1)],
                                  now="2026-12-02T10:00:00")
        finally:
            os.environ.pop("ZS_TEST_STALL_PUBLISH_MS", None)
        d.wait_until(lambda: d.get(STATUS)[0] == 200, "first version served", timeout=20)
        return s, d

    def test_answer_never_mixes_versions_between_commit_and_publication(self):
        s, d = self.serving(stall_publish_ms=3000)
        # negotiating without as_contracted at 75%: 6000.00 of 8000 (domain.md, consequences)
        old = ("negotiating", 75, "6000.00")
        new = ("not_contracted", 80, "6400.00")
        self.assertEqual(self.answer(d), old)
        s.set_content("/zk.jsonl", version("not_contracted", 80))
        seen, deadline = [], time.time() + 20
        while time.time() < deadline:
            a = self.answer(d)
            seen.append(a)
            if a == new and len([x for x in seen if x == new]) >= 20:
                break
            time.sleep(0.02)
        mixed = [a for a in seen if a not in (old, new)]
        self.assertEqual(mixed, [], "answers mixing two feed versions")
        self.assertEqual(seen[-1], new, "the new version was never served")

    def test_answer_consistent_under_load_while_feed_changes(self):
        s, d = self.serving()
        ok = {("negotiating", 75, "6000.00"), ("not_contracted", 80, "6400.00")}
        bad, count, stop = [], [0], time.time() + 8

        def client():
            while time.time() < stop:
                a = self.answer(d)
                count[0] += 1
                if a not in ok:
                    bad.append(a)

        threads = [threading.Thread(target=client) for _ in range(3)]
        for t in threads:
            t.start()
        flip = 0
        while time.time() < stop - 1:
            flip ^= 1
            s.set_content("/zk.jsonl", version("not_contracted", 80) if flip
                          else version("negotiating", 75))
            time.sleep(1.5)
        for t in threads:
            t.join()
        self.assertGreater(count[0], 50)
        self.assertEqual(bad, [], "answers mixing two feed versions")

    def test_idle_serving_threads_let_the_whole_wal_be_checkpointed(self):
        # A lookup keeps its read transaction for the serving thread's next one while no newer
        # snapshot is published (docs/api.md "Snapshots and freshness"); the thread's tick ends
        # it about once a second, so an idle daemon does not hold the WAL: polls every second
        # keep writing to it, and a checkpoint of all of it must get through within seconds.
        s, d = self.serving()
        s.set_content("/zk.jsonl", version("not_contracted", 80))
        d.wait_until(lambda: self.answer(d)[0] == "not_contracted", "new version served",
                     timeout=20)
        for _ in range(40):  # on every serving thread: each keeps its snapshot
            self.assertEqual(self.answer(d), ("not_contracted", 80, "6400.00"))

        def truncated():
            con = sqlite3.connect(d.db_path, timeout=0)
            try:
                busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.OperationalError:  # the ingest writing at that moment
                return False
            finally:
                con.close()
            return busy == 0

        d.wait_until(truncated, "a checkpoint of the whole WAL while no request comes",
                     timeout=8)
        # and the next answer reads the same, newest snapshot
        self.assertEqual(self.answer(d), ("not_contracted", 80, "6400.00"))

    def test_poll_that_changes_nothing_keeps_etag_and_generation(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", version("contracted", 75))
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"), schedule=1)],
                              now="2026-12-02T10:00:00")
        d.wait_success("zk")
        d.wait_until(lambda: d.get(STATUS)[0] == 200, "served", timeout=20)
        st, h1, body = d.get(STATUS)
        gen1 = d.get("/healthz")[2]["generation"]
        n = s.count("/zk.jsonl")
        s.wait_requests("/zk.jsonl", n + 3, what="three more polls")
        st, h2, body2 = d.get(STATUS)
        self.assertEqual(d.get("/healthz")[2]["generation"], gen1,
                         "a poll that changed nothing made a new snapshot")
        self.assertEqual(h1.get("etag"), h2.get("etag"))
        self.assertEqual(body, body2)
        src = body2["statuses"][0]["sources"][0]
        # consumers see the day of the last check (Amsterdam), not the moment
        self.assertEqual(src["checked_on"], "2026-12-02")
        self.assertNotIn("last_success", src)
        self.assertFalse(src["stale"])
        # the exact moment stays on /v1/feeds and moves with every poll
        self.assertTrue(d.feeds()["zk"]["last_success"].startswith("2026-12-02T"))


if __name__ == "__main__":
    unittest.main()


def two_providers(a_status):
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), [
        policy("3311-BASIS", 2027, "Basis Zeker", "natura",
               [rule("*", 75, "avg_contracted_tariff")]),
        provider("06010101", "Sint Antonius Ziekenhuis"),
        provider("04040101", "Lekstede Ziekenhuis"),
        status("06010101", 2027, "hospital", a_status, policy="3311-BASIS"),
        status("04040101", 2027, "hospital", "contracted", policy="3311-BASIS")])


class InvalidationTest(DaemonTestCase):
    """The shared response cache drops exactly the answers that depend on what changed."""

    def two_providers_daemon(self):
        """A feed server with two_providers("negotiating"), a daemon polling it every second
        with it applied: (server, daemon, the feed's first last_change)."""
        s = self.start_server()
        s.set_content("/zk.jsonl", two_providers("negotiating"))
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"), schedule=1)],
                              now="2026-12-02T10:00:00")
        return s, d, d.wait_success("zk")["last_change"]

    def test_change_to_one_provider_keeps_the_others_cached_answer(self):
        s, d, first = self.two_providers_daemon()
        a, b = "/v1/providers/06010101?year=2027", "/v1/providers/04040101?year=2027"
        st, ha, body_a = d.get(a)
        self.assertEqual(st, 200, body_a)
        st, hb, body_b = d.get(b)
        # the answer names what it depends on, for a cache tier in front (Varnish xkey)
        keys = set(ha.get("surrogate-key", "").split())
        self.assertIn("p:06010101", keys)
        self.assertIn("y:2027", keys)
        self.assertEqual(ha.get("xkey"), ha.get("surrogate-key"))
        self.assertNotIn("p:04040101", keys)
        self.assertEqual(d.get(b)[1].get("x-zorgstatus-cache"), "hit")
        # a new version changes A only
        s.set_content("/zk.jsonl", two_providers("contracted"))
        d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first),
                    "second version applied")
        st, hb2, body_b2 = d.get(b)
        self.assertEqual(hb2.get("x-zorgstatus-cache"), "hit",
                         "B's answer was dropped although only A changed")
        self.assertEqual(hb2.get("etag"), hb.get("etag"))
        st, ha2, body_a2 = d.get(a)
        self.assertEqual(ha2.get("x-zorgstatus-cache"), "miss")
        self.assertNotEqual(ha2.get("etag"), ha.get("etag"))
        pols = body_a2["years"][0]["policies"]
        self.assertEqual(pols[0]["statuses"][0]["status"], "contracted")

    def test_policy_rule_change_drops_that_years_answers(self):
        s, d, first = self.two_providers_daemon()
        b = "/v1/providers/04040101?year=2027&amount=8000"
        d.get(b)
        self.assertEqual(d.get(b)[1].get("x-zorgstatus-cache"), "hit")
        data = two_providers("negotiating").replace(b'"percent": 75', b'"percent": 70')
        self.assertNotEqual(data, two_providers("negotiating"))
        s.set_content("/zk.jsonl", data)
        d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first),
                    "new rules applied")
        st, h, body = d.get(b)
        self.assertEqual(h.get("x-zorgstatus-cache"), "miss")
        pol = body["years"][0]["policies"][0]
        # contracted: as contracted, but the policy's rule is shown in the policy itself
        self.assertEqual(self._percent(d), 70)

    def test_status_change_keeps_search_answers_and_a_name_change_drops_them(self):
        """A search answer depends on the search index (key "search": names, places, kinds)
        and, with a care type, on the year's statuses (s:<year>); before, it named no key and
        every snapshot dropped every search answer."""
        s, d, first = self.two_providers_daemon()
        q = "/v1/search?q=lekstede"
        qc = "/v1/search?q=ziekenhuis&care_type=hospital&year=2027"
        st, h, body = d.get(q)
        self.assertEqual(st, 200, body)
        self.assertEqual([r["name"] for r in body["results"]], ["Lekstede Ziekenhuis"])
        self.assertEqual(set(h.get("surrogate-key", "").split()), {"search"})
        st, hc, _ = d.get(qc)
        self.assertEqual(st, 200)
        self.assertEqual(set(hc.get("surrogate-key", "").split()), {"search", "s:2027"})
        self.assertEqual(d.get(q)[1].get("x-zorgstatus-cache"), "hit")
        self.assertEqual(d.get(qc)[1].get("x-zorgstatus-cache"), "hit")
        # a status changes: the plain search answer stays, the care-type one is made again
        s.set_content("/zk.jsonl", two_providers("contracted"))
        second = d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first),
                             "status change applied")["last_change"]
        st, h2, _ = d.get(q)
        self.assertEqual(h2.get("x-zorgstatus-cache"), "hit",
                         "a status change dropped a search answer that shows no status")
        self.assertEqual(h2.get("etag"), h.get("etag"))
        self.assertEqual(d.get(qc)[1].get("x-zorgstatus-cache"), "miss")
        # a provider's name changes: the search answer is made again and shows it
        s.set_content("/zk.jsonl", two_providers("contracted").replace(
            b"Lekstede Ziekenhuis", b"Lekstede Ziekenhuis Nieuwegein"))
        d.wait_feed("zk", lambda f: f.get("last_change") not in (None, second),
                    "name change applied")
        st, h3, body3 = d.get(q)
        self.assertEqual(h3.get("x-zorgstatus-cache"), "miss")
        self.assertEqual([r["name"] for r in body3["results"]],
                         ["Lekstede Ziekenhuis Nieuwegein"])

    def _percent(self, d):
        st, _, body = d.get("/v1/policies?year=2027")
        return body["policies"][0]["reimbursement"][0]["percent"]


class CompactTest(DaemonTestCase):
    """Compact answers for machines (issue 16): texts=none leaves out every consumer text and
    keeps codes, percentages, amounts, flags and dates; compare gives per provider and care type
    only the codes unless detail=full."""

    def test_texts_none_and_compare_summary(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", version("negotiating", 75))
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"))],
                              now="2026-12-02T10:00:00")
        d.wait_success("zk")
        st, _, full = d.get(STATUS)
        st, _, bare = d.get(STATUS + "&texts=none")
        self.assertEqual(st, 200, bare)
        c_full = full["statuses"][0]["consequence"]
        c_bare = bare["statuses"][0]["consequence"]
        self.assertIn("text", c_full)
        for k in ("text", "headline", "deductible_text"):
            self.assertNotIn(k, c_bare)
        for w in c_bare["warnings"] + c_bare["exceptions"]:
            self.assertEqual(set(w), {"code"})
        # negotiating without as_contracted, 75%: 6000.00 of 8000 (the numbers stay)
        self.assertEqual((c_bare["code"], c_bare["reimbursed_percent"],
                          c_bare["example"]["insurer_pays"]),
                         ("not_contracted_partial", 75, "6000.00"))
        # the full answer is not changed by a compact one asked before it (shared objects)
        self.assertEqual(d.get(STATUS)[2], full)
        st, _, cmp = d.get("/v1/compare?agb=%s&year=2027" % AGB)
        self.assertEqual(st, 200, cmp)
        self.assertEqual(cmp["detail"], "summary")
        one = cmp["policies"][0]["providers"][0]["statuses"][0]
        self.assertEqual(one, {"care_type": "hospital", "status": "negotiating",
                               "consequence": "not_contracted_partial",
                               "reimbursed_percent": 75, "conflict": False})
        st, _, cmp_full = d.get("/v1/compare?agb=%s&year=2027&detail=full" % AGB)
        self.assertNotIn("detail", cmp_full)
        self.assertIn("sources", cmp_full["policies"][0]["providers"][0]["statuses"][0])
        for bad in ("texts=some", "detail=all"):
            st, _, e = d.get(STATUS + "&" + bad)
            self.assertEqual((st, e["error"]["parameter"]), (400, bad.split("=")[0]))


def metric(d, name):
    """The value of an unlabelled sample on /metrics."""
    st, _, raw = d.request("GET", "/metrics")
    for ln in raw.decode().splitlines():
        if ln.startswith(name + " "):
            return float(ln.split()[1])
    raise AssertionError("%s not on /metrics" % name)


def answer_fds(d):
    """How many answer files (memfd "zs-answer") the daemon has open now."""
    fd_dir = "/proc/%d/fd" % d.proc.pid
    n = 0
    for fd in os.listdir(fd_dir):
        try:
            n += "zs-answer" in os.readlink(os.path.join(fd_dir, fd))
        except OSError:  # closed meanwhile
            pass
    return n


BIG = "06020202"


def big_hospital(st):
    """40 policies, a hospital with 3 care types on each: its lookup is well over 32 KiB."""
    pols = [policy("3311-P%02d" % i, 2027, "Polis %02d" % i, "natura",
                   [rule("*", 75, "avg_contracted_tariff")]) for i in range(40)]
    sts = [status(BIG, 2027, ct, st if i == 0 else "contracted", policy="3311-P%02d" % i)
           for i in range(40) for ct in ("hospital", "mental_health", "pharmacy")]
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"),
                pols + [provider(BIG, "Groot Ziekenhuis")] + sts)


class StatusMemoTest(DaemonTestCase):
    """Answers computed again (response cache off) write their statuses from the serving
    thread's status memo: counted on /metrics, and the same bytes (README, Speed)."""

    def test_second_lookup_writes_every_status_from_the_memo(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", big_hospital("negotiating"))
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"))],
                              now="2026-12-02T10:00:00",
                              settings={"response_cache_seconds": 0, "threads": 1})
        d.wait_success("zk")
        path = "/v1/providers/%s?year=2027" % BIG
        st, _, b1 = d.request("GET", path)
        self.assertEqual(st, 200)
        # 40 policies (the same type and rate) with 3 care types each: 120 statuses, of 6
        # different texts (negotiating on the first policy, contracted on the 39 others, for
        # each care type): 6 made anew, 114 copied
        self.assertEqual(metric(d, "zorgstatus_status_memo_misses_total"), 6)
        self.assertEqual(metric(d, "zorgstatus_status_memo_hits_total"), 114)
        st, h2, b2 = d.request("GET", path)
        self.assertEqual(b2, b1)
        self.assertEqual(metric(d, "zorgstatus_status_memo_hits_total"), 114 + 120)
        self.assertEqual(metric(d, "zorgstatus_status_memo_misses_total"), 6)
        shown = [x["status"] for p in json.loads(b1)["years"][0]["policies"] for x in p["statuses"]]
        self.assertEqual(len(shown), 120)
        self.assertEqual(shown.count("negotiating"), 3)
        # another language: other texts, made anew
        st, _, b3 = d.request("GET", path + "&lang=en")
        self.assertEqual(st, 200)
        self.assertNotEqual(b3, b1)
        self.assertEqual(metric(d, "zorgstatus_status_memo_misses_total"), 12)


class AnswerFileTest(DaemonTestCase):
    """A cached answer of 32 KiB or more asked again without gzip is sent from an in-memory
    file with sendfile (docs/api.md, Caching): the same bytes as the first answer, counted on
    /metrics, and gone with its entry when the provider changes."""

    def big_hospital_daemon(self):
        """A daemon polling big_hospital("negotiating") every second, applied: (server, daemon,
        the feed's first last_change, the hospital's lookup path)."""
        s = self.start_server()
        s.set_content("/zk.jsonl", big_hospital("negotiating"))
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"), schedule=1)],
                              now="2026-12-02T10:00:00")
        return s, d, d.wait_success("zk")["last_change"], "/v1/providers/%s?year=2027" % BIG

    def file_answer_connection(self):
        """A daemon whose hospital answer is in its cache file, and a keep-alive connection to
        it: (daemon, get() -> (status, body) of the lookup on that connection, the body)."""
        s, d, first, path = self.big_hospital_daemon()
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
        self.addCleanup(conn.close)

        def get():
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()

        st, b1 = get()  # the answer, then its file (made at the first hit)
        self.assertEqual((st, get()), (200, (200, b1)))
        return d, get, b1

    def test_large_answer_from_the_cache_file_is_the_same_bytes_and_follows_a_change(self):
        s, d, first, path = self.big_hospital_daemon()
        st, h1, b1 = d.request("GET", path)
        self.assertEqual((st, h1["x-zorgstatus-cache"]), (200, "miss"))
        self.assertGreater(len(b1), 32 * 1024, "the fixture must be large enough")
        self.assertEqual(metric(d, "zorgstatus_response_cache_files"), 0)
        bytes1 = metric(d, "zorgstatus_response_cache_bytes")
        # a revalidation (304) sends no body: no file for it
        st, _, _ = d.request("GET", path, headers={"If-None-Match": h1["etag"]})
        self.assertEqual(st, 304)
        self.assertEqual(metric(d, "zorgstatus_response_cache_files"), 0)
        # the first hit with a body makes the file, and the entry's text goes (the file holds
        # its bytes); this answer is the first sent from it
        st, h2, b2 = d.request("GET", path)
        self.assertEqual((st, h2["x-zorgstatus-cache"]), (200, "hit"))
        self.assertEqual(b2, b1)
        self.assertEqual(metric(d, "zorgstatus_response_cache_files"), 1)
        self.assertEqual(metric(d, "zorgstatus_response_cache_file_answers_total"), 1)
        self.assertEqual(metric(d, "zorgstatus_response_cache_file_bytes"), len(b1))
        self.assertLessEqual(metric(d, "zorgstatus_response_cache_bytes"), bytes1)
        # later hits are sent from it: the same bytes, headers and length
        for _ in range(3):
            st, h3, b3 = d.request("GET", path)
            self.assertEqual(b3, b1)
            self.assertEqual(int(h3["content-length"]), len(b1))
            self.assertEqual(h3["etag"], h1["etag"])
        self.assertEqual(metric(d, "zorgstatus_response_cache_file_answers_total"), 4)
        # HEAD: the length of the file, no body (and not counted as sent from it)
        st, hh, bh = d.request("HEAD", path)
        self.assertEqual((st, bh, int(hh["content-length"])), (200, b"", len(b1)))
        self.assertEqual(metric(d, "zorgstatus_response_cache_file_answers_total"), 4)
        # gzip answers come from the gzip form, made once from the file
        st, hg, bg = d.request("GET", path, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(hg.get("content-encoding"), "gzip")
        self.assertEqual(gzip.decompress(bg), b1)
        self.assertEqual(metric(d, "zorgstatus_response_cache_files"), 1)
        # the provider changes: the new answer, and the old entry's file is gone with it
        s.set_content("/zk.jsonl", big_hospital("contracted"))
        d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first),
                    "second version applied")
        st, h4, b4 = d.request("GET", path)
        self.assertEqual(h4["x-zorgstatus-cache"], "miss")
        self.assertNotEqual(b4, b1)
        self.assertEqual(metric(d, "zorgstatus_response_cache_files"), 0)
        self.assertEqual(d.request("GET", path)[2], b4)
        self.assertEqual(d.request("GET", path)[2], b4)
        self.assertEqual(metric(d, "zorgstatus_response_cache_files"), 1)
        self.assertEqual(metric(d, "zorgstatus_response_cache_file_answers_total"), 6)
        # and it is the new version's: every status contracted now
        shown = [x["status"] for p in json.loads(b4)["years"][0]["policies"]
                 for x in p["statuses"]]
        self.assertEqual(len(shown), 120)
        self.assertEqual(set(shown), {"contracted"})
        self.assertIn("negotiating", [x["status"] for p in json.loads(b1)["years"][0]["policies"]
                                      for x in p["statuses"]])

    def test_an_answer_from_the_cache_file_is_written_in_its_requests_turn(self):
        """Regression (bench, warm identity lookup): an answer sent from its cache file was
        written half in its request's turn (the headers) and half at the next turn (the file),
        with write interest asked of epoll for every answer. strace on the daemon: on one
        keep-alive connection, each answer's file goes out with sendfile, and no EPOLLOUT is
        asked for that connection."""
        d, get, b1 = self.file_answer_connection()
        with harness.traced(self, d.proc.pid, "sendfile,epoll_ctl") as lines:
            for _ in range(3):
                self.assertEqual(get(), (200, b1))
                time.sleep(0.1)
        sent = [m.group(1) for m in (re.search(r"sendfile\((\d+), \d+, .*= %d$" % len(b1), line)
                                     for line in lines) if m]
        self.assertEqual(len(sent), 3, "three answers from the file: %r" % lines[:20])
        self.assertEqual(len(set(sent)), 1, "one connection: %r" % sent)
        self.assertEqual(harness.write_interest_asked(lines, sent[0]), [],
                         "write interest asked for answers the socket took at once")

    def test_an_answer_from_the_cache_file_goes_out_in_two_system_calls(self):
        """Regression (bench, warm identity lookup: ~15% of its CPU): the headers of an answer
        from its cache file went out between TCP_CORK on and off, four system calls per
        answer. Now they go with MSG_MORE and the file after them: on one keep-alive
        connection, per answer one sendmsg of the headers with MSG_MORE, then one sendfile of
        the whole file, no TCP_CORK and no writev; the client gets the same bytes."""
        d, get, b1 = self.file_answer_connection()
        with harness.traced(self, d.proc.pid, "sendmsg,sendfile,setsockopt,writev") as lines:
            for _ in range(3):
                self.assertEqual(get(), (200, b1))
                time.sleep(0.1)
        calls = [(m.group(1), m.group(2), m.group(3), m.group(4)) for m in
                 (re.search(r"^\d+ +(sendmsg|sendfile|setsockopt|writev)\((\d+), (.*)\) += (-?\d+)",
                            line) for line in lines) if m]
        sent = [c for c in calls if c[0] == "sendfile" and c[3] == str(len(b1))]
        self.assertEqual(len(sent), 3, "three answers from the file: %r" % lines[:20])
        fd = sent[0][1]
        on_conn = [c for c in calls if c[1] == fd]
        self.assertEqual([c[0] for c in on_conn], ["sendmsg", "sendfile"] * 3, repr(lines[:20]))
        for c in on_conn[::2]:
            self.assertIn("MSG_MORE", c[2])
            self.assertIn('"HTTP/1.1 200 OK', c[2])
            self.assertLess(int(c[3]), 2048)  # the headers only, not a byte of the body
        self.assertEqual([line for line in lines if "TCP_CORK" in line], [])

    def test_an_answer_asked_often_with_gzip_goes_out_smaller(self):
        """The gzip form made on the request path is quick (level 1); the 32nd gzip answer
        from the cache and every later one carry a smaller form, made once (level 6, docs/
        api.md, Caching): the same JSON, the same ETag."""
        s, d, first, path = self.big_hospital_daemon()
        gz = {"Accept-Encoding": "gzip"}
        st, h0, b0 = d.request("GET", path, headers=gz)
        self.assertEqual((st, h0["x-zorgstatus-cache"], h0.get("content-encoding")),
                         (200, "miss", "gzip"))
        identity = gzip.decompress(b0)
        sizes = []
        for i in range(1, 36):
            st, h, b = d.request("GET", path, headers=gz)
            self.assertEqual((st, h["x-zorgstatus-cache"], h["etag"]), (200, "hit", h0["etag"]))
            self.assertEqual(int(h["content-length"]), len(b))
            self.assertEqual(gzip.decompress(b), identity)
            sizes.append(len(b))
        self.assertEqual(set(sizes[:31]), {len(b0)})   # hits 1-31: the first form
        self.assertLess(sizes[31], len(b0))            # hit 32 on: the smaller one
        self.assertEqual(set(sizes[31:]), {sizes[31]})
        # and the answer without gzip is still the same text
        self.assertEqual(d.request("GET", path)[2], identity)

    def test_a_slow_client_gets_the_file_of_an_answer_replaced_meanwhile(self):
        s, d, first, path = self.big_hospital_daemon()
        b1 = d.request("GET", path)[2]
        self.assertEqual(d.request("GET", path)[2], b1)  # the file is made
        self.assertEqual(metric(d, "zorgstatus_response_cache_files"), 1)
        # a client with a 4 KB receive window: most of the answer waits in the daemon
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", d.port))
        slow.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                      % path).encode())
        time.sleep(0.5)
        # meanwhile the provider changes and the new answer (with its file) replaces the entry
        s.set_content("/zk.jsonl", big_hospital("contracted"))
        d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first),
                    "second version applied")
        b2 = d.request("GET", path)[2]
        self.assertNotEqual(b2, b1)
        self.assertEqual(d.request("GET", path)[2], b2)
        # the slow client still gets the old answer whole, from the file its entry dropped
        raw = b""
        slow.settimeout(20)
        while True:
            chunk = slow.recv(4096)
            if not chunk:
                break
            raw += chunk
            time.sleep(0.001)
        slow.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])
        self.assertEqual(body, b1)
        # and its descriptor is given back: every answer file the daemon holds is a cached one
        d.wait_until(lambda: answer_fds(d) == metric(d, "zorgstatus_response_cache_files") == 1,
                     "the replaced answer's file closed")

    def test_answers_evicted_while_being_sent_arrive_whole(self):
        # 120 hospitals of 45-46 KB and a 4 MiB cache (256 KiB a shard, about five answers):
        # entries and files are dropped all the time while other connections are still
        # sending them
        agbs = ["0603%04d" % i for i in range(120)]
        pols = [policy("3311-P%02d" % i, 2027, "Polis %02d" % i, "natura",
                       [rule("*", 75, "avg_contracted_tariff")]) for i in range(14)]
        recs = pols + [provider(a, "Ziekenhuis %s" % a) for a in agbs]
        recs += [status(a, 2027, ct, "contracted", policy="3311-P%02d" % i)
                 for n, a in enumerate(agbs) for i in range(12 + n % 3)
                 for ct in ("hospital", "mental_health")]
        s = self.start_server()
        s.set_content("/zk.jsonl", feed(insurer_header("achmea", "Achmea", "3311",
                                                       "Zilveren Kruis"), recs))
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl"))],
                              now="2026-12-02T10:00:00", settings={"response_cache_mb": 4})
        d.wait_success("zk")
        paths = ["/v1/providers/%s?year=2027" % a for a in agbs]
        # the expected bytes: the gzip form, which never comes from a file
        want = {}
        for p in paths:
            st, h, b = d.request("GET", p, headers={"Accept-Encoding": "gzip"})
            want[p] = gzip.decompress(b) if h.get("content-encoding") == "gzip" else b
            self.assertGreater(len(want[p]), 32 * 1024)
        bad, errors = [], []

        def client(k):
            try:
                for i in range(60):
                    p = paths[(k * 7 + i * (k + 1)) % len(paths)]
                    st, _, b = d.request("GET", p)
                    if st != 200 or b != want[p]:
                        bad.append((p, st, len(b), len(want[p])))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        ts = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(bad, [])
        # the files count against response_cache_mb like the JSON and gzip forms
        self.assertLessEqual(metric(d, "zorgstatus_response_cache_bytes"), 4 * 1024 * 1024)
        self.assertGreater(metric(d, "zorgstatus_response_cache_files"), 0)
        self.assertGreater(metric(d, "zorgstatus_response_cache_evictions_total"), 0)
        d.assert_alive("after sending evicted answers")
