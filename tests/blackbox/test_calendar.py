"""Black-box tests: publication calendar (domain.md, "Publication calendar: from 12 November").

Statuses for contract year Y+1 are public from 12 November of Y, 00:00 Europe/Amsterdam
(= 11 November 23:00:00Z, CET = UTC+1).  Before that a request for Y+1 answers 404
not_yet_published with published_from; without ?year the provider endpoint shows the current
year and, from 12 November to 31 December, also the next one.  From 1 January Y+1 is the
current year.

The daemon's clock is started a few seconds before midnight (--now) and runs on in real time.
The brief's start time is 23:59:58; the default lead here is 5 s (23:59:55) so that the feed is
ingested and the pre-midnight checks are done before midnight even on slow (ASan) builds.
ZS_CALENDAR_LEAD=2 gives exactly 23:59:58.  The daemon's own clock (/healthz "now") is read
before and after the pre-midnight checks to prove they ran before midnight.
"""

import datetime
import os
import time
import unittest

from harness import (TIMEOUT_SCALE, DaemonTestCase, Feed, feed, insurer_header, policy,
                     provider, rule, status, statuses_by_policy)

LEAD = max(2, min(50, int(os.environ.get("ZS_CALENDAR_LEAD", "5"))))
A = "06010001"
UTC = datetime.timezone.utc


def calendar_feed():
    recs = []
    for y in (2026, 2027):
        recs.append(policy("3311-BASIS", y, "Basis Zeker", "natura",
                           [rule("*", 75, "avg_contracted_tariff")], label="Zilveren Kruis"))
    recs.append(provider(A, "Ziekenhuis Alpha"))
    recs.append(status(A, 2026, "hospital", "contracted", policy="3311-BASIS"))
    recs.append(status(A, 2027, "hospital", "negotiating", policy="3311-BASIS"))
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), recs)


def start_before(local_midnight_date):
    """--now value LEAD seconds before local midnight at the end of local_midnight_date
    ("YYYY-MM-DD" of the day that ends)."""
    return "%sT23:59:%02d" % (local_midnight_date, 60 - LEAD)


def nyp_published_from(body):
    e = body.get("error") or {}
    return e.get("published_from", body.get("published_from"))


class CalendarCase(DaemonTestCase):
    NOW = None
    MIDNIGHT_UTC = None      # local midnight as UTC datetime

    def setUp(self):
        self.server = self.start_server()
        self.server.set_content("/zk.jsonl", calendar_feed())
        self.d = self.start_daemon([Feed("zk", "insurer", self.server.url("/zk.jsonl"))],
                                   now=self.NOW)
        self.d.wait_success("zk", timeout=LEAD + 10 * TIMEOUT_SCALE)

    def daemon_now(self):
        n = self.d.now_utc()
        self.assertIsNotNone(n, "/healthz must report the daemon's clock as 'now'")
        return n

    def assert_before_midnight(self, what):
        n = self.daemon_now()
        if n >= self.MIDNIGHT_UTC:
            self.fail("daemon clock %s already past midnight (%s) %s; the daemon was too slow "
                      "to start/ingest -- raise ZS_CALENDAR_LEAD (now %d)" %
                      (n.isoformat(), self.MIDNIGHT_UTC.isoformat(), what, LEAD))
        return n

    def wait_past_midnight(self):
        target = self.MIDNIGHT_UTC + datetime.timedelta(seconds=1)
        deadline = time.monotonic() + LEAD + 30 * TIMEOUT_SCALE
        while time.monotonic() < deadline:
            if self.daemon_now() >= target:
                return
            time.sleep(0.2)
        self.fail("daemon clock did not pass %s" % target.isoformat())

    def first_answer_after_midnight(self, path, ok):
        """GET path right after midnight; if ok(status, body) is false, keep polling (up to
        90 s) to measure how long the old answer was still served, then fail with that."""
        st, _, body = self.d.get(path)
        if ok(st, body):
            return st, body
        t0 = time.monotonic()
        first = (st, body)
        while time.monotonic() - t0 < 90:
            time.sleep(0.5)
            st, _, body = self.d.get(path)
            if ok(st, body):
                self.fail("%s: after midnight the pre-midnight answer was still served for "
                          "%.1f s (a response cache across the calendar boundary?): first "
                          "answer %d %r" % (path, time.monotonic() - t0, first[0], first[1]))
        self.fail("%s: still wrong 90 s after midnight: %d %r" % (path, st, body))

    def years_without_year(self):
        st, _, body = self.d.get("/v1/providers/%s" % A)
        self.assertEqual(st, 200, body)
        return body, [y["year"] for y in body["years"]]


class PublicationTest(CalendarCase):
    NOW = start_before("2026-11-11")
    MIDNIGHT_UTC = datetime.datetime(2026, 11, 11, 23, 0, 0, tzinfo=UTC)

    def test_next_year_published_at_12_november(self):
        d = self.d
        self.assert_before_midnight("before the checks")
        prov_2027 = d.get("/v1/providers/%s?year=2027" % A)
        prov_all = d.get("/v1/providers/%s" % A)
        pol_2027 = d.get("/v1/policies?year=2027")
        stat_2027 = d.get("/v1/status?agb=%s&policy=3311-BASIS&year=2027" % A)
        pol_2026 = d.get("/v1/policies?year=2026")
        self.assert_before_midnight("after the pre-publication checks")

        for what, (st, hdrs, body) in (("providers?year=2027", prov_2027),
                                       ("policies?year=2027", pol_2027),
                                       ("status?year=2027", stat_2027)):
            with self.subTest("before: " + what):
                self.assertEqual(st, 404, "%s: %r" % (what, body))
                self.assertEqual((body.get("error") or {}).get("code"), "not_yet_published",
                                 "%s: %r" % (what, body))
                self.assertEqual(nyp_published_from(body), "2026-11-11T23:00:00Z",
                                 "%s: %r" % (what, body))
        with self.subTest("before: providers without year"):
            st, _, body = prov_all
            self.assertEqual(st, 200, body)
            self.assertEqual([y["year"] for y in body["years"]], [2026],
                             "before 12 November only the current year")
            self.assertEqual(statuses_by_policy(body, 2026)["3311-BASIS"]["hospital"]["status"],
                             "contracted")
        with self.subTest("before: policies 2026"):
            st, _, body = pol_2026
            self.assertEqual(st, 200, body)
            self.assertEqual([p["id"] for p in body["policies"]], ["3311-BASIS"])

        self.wait_past_midnight()

        with self.subTest("after: providers?year=2027"):
            st, body = self.first_answer_after_midnight("/v1/providers/%s?year=2027" % A,
                                                        lambda st, b: st == 200)
            self.assertEqual([y["year"] for y in body["years"]], [2027])
            self.assertEqual(statuses_by_policy(body, 2027)["3311-BASIS"]["hospital"]["status"],
                             "negotiating")
        with self.subTest("after: providers without year"):
            self.first_answer_after_midnight(
                "/v1/providers/%s" % A,
                lambda st, b: st == 200 and [y["year"] for y in b["years"]] == [2026, 2027])
            body, years = self.years_without_year()
            self.assertEqual(years, [2026, 2027],
                             "from 12 November: current and next year")
            self.assertEqual(statuses_by_policy(body, 2026)["3311-BASIS"]["hospital"]["status"],
                             "contracted")
            self.assertEqual(statuses_by_policy(body, 2027)["3311-BASIS"]["hospital"]["status"],
                             "negotiating")
        with self.subTest("after: policies?year=2027"):
            st, body = self.first_answer_after_midnight("/v1/policies?year=2027",
                                                        lambda st, b: st == 200)
            self.assertEqual(st, 200, body)
            self.assertEqual(body["year"], 2027)
            self.assertEqual([p["id"] for p in body["policies"]], ["3311-BASIS"])
        with self.subTest("after: status?year=2027"):
            st, body = self.first_answer_after_midnight(
                "/v1/status?agb=%s&policy=3311-BASIS&year=2027" % A, lambda st, b: st == 200)
            self.assertEqual(st, 200, body)
            self.assertEqual(body["year"], 2027)
            self.assertEqual([(s["care_type"], s["status"]) for s in body["statuses"]],
                             [("hospital", "negotiating")])


class NewYearTest(CalendarCase):
    NOW = start_before("2026-12-31")
    MIDNIGHT_UTC = datetime.datetime(2026, 12, 31, 23, 0, 0, tzinfo=UTC)

    def test_current_year_from_1_january(self):
        self.assert_before_midnight("before the checks")
        body, years = self.years_without_year()
        self.assert_before_midnight("after the 31 December check")
        self.assertEqual(years, [2026, 2027], "on 31 December: current and next year")

        self.wait_past_midnight()
        self.first_answer_after_midnight(
            "/v1/providers/%s" % A,
            lambda st, b: st == 200 and [y["year"] for y in b["years"]] == [2027])
        body, years = self.years_without_year()
        self.assertEqual(years, [2027], "from 1 January 2027 the current year is 2027 only")
        self.assertEqual(statuses_by_policy(body, 2027)["3311-BASIS"]["hospital"]["status"],
                         "negotiating")


if __name__ == "__main__":
    unittest.main()
