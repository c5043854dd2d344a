"""Black-box tests: feed ingestion, reconciliation and the public API of zorgstatusd.

Every expected value below is derived by hand from /work/shared/domain.md ("Sources and
reconciliation"), feeds/README.md (format v1) and docs/api.md -- never from program output.
Each test class starts its own feed server and daemon in its own temp dir.
"""

import datetime
import email.utils
import time
import unittest

from harness import (DaemonTestCase, Feed, feed, insurer_header, jsonl, line_of, policy,
                     provider, provider_header, rule, source_tuples, status,
                     statuses_by_policy, end)

Y = 2027
# Clock for these tests: after 12 November 2026, so contract year 2027 is public.
NOW = "2026-11-20T12:00:00"

A, B, C, D, E, F = ("06010001", "06010002", "06010003", "06010004", "06010005",
                    "06010006")

F_STOP = {"reason": "ceiling_reached", "from": "2026-10-01", "until": "2027-01-31",
          "note": "Omzetplafond bereikt"}

# --------------------------------------------------------------------------------------------
# the reconciliation scenario (three concerns, one insurer each, one provider-group feed)

ZK_POLICIES = [
    policy("3311-BASIS", Y, "Basis Zeker", "natura",
           [rule("*", 75, "avg_contracted_tariff"), rule("mental_health", 60,
                                                         "avg_contracted_tariff")],
           label="Zilveren Kruis"),
    policy("3311-EXCL", Y, "Basis Exclusief", "restitutie", [rule("*", 100, "market_tariff")],
           label="Zilveren Kruis"),
    policy("3311-BUDGET", Y, "Basis Budget", "budget",
           [rule("*", 65, "avg_contracted_tariff")], label="Zilveren Kruis"),
]
CZ_POLICIES = [
    policy("9664-ZORGBEWUST", Y, "Zorgbewust", "natura", [rule("*", 70,
                                                               "avg_contracted_tariff")],
           label="CZ"),
    policy("9664-COMBI", Y, "Zorg-op-maat", "combinatie",
           [rule("*", 100, "market_tariff"), rule("mental_health", 85, "market_tariff"),
            rule("district_nursing", 85, "market_tariff")], label="CZ"),
]
DSW_POLICIES = [
    policy("7119-POLIS", Y, "Zorgverzekering", "restitutie",
           [rule("*", 100, "statutory_max_tariff")], label="DSW"),
]


def zk_feed():
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis Zorgverzekeringen"),
                ZK_POLICIES + [
                    provider(A, "ALPHA ZKH (volgens verzekeraar)"),
                    provider(B, "Ziekenhuis Beta"),
                    provider(C, "Ziekenhuis Gamma"),
                    # A hospital: three levels; the most specific wins per policy
                    status(A, Y, "hospital", "not_contracted", concern="achmea"),
                    status(A, Y, "hospital", "negotiating", insurer="3311",
                           as_contracted=True),
                    status(A, Y, "hospital", "contracted", policy="3311-BASIS"),
                    # A mental health: concern level, one policy overridden
                    status(A, Y, "mental_health", "contracted_ceiling", concern="achmea"),
                    status(A, Y, "mental_health", "not_contracted", policy="3311-BUDGET"),
                    # B: not contracted for every policy of the concern
                    status(B, Y, "hospital", "not_contracted", insurer="3311"),
                    # C: per policy
                    status(C, Y, "hospital", "not_contracted", policy="3311-BASIS"),
                    status(C, Y, "hospital", "contracted_ceiling", policy="3311-EXCL"),
                    status(C, Y, "hospital", "negotiating", policy="3311-BUDGET"),
                    # F: ceiling with exemptions and a patient stop, for every 3311 policy
                    provider(F, "Ziekenhuis Zeta"),
                    status(F, Y, "hospital", "contracted_ceiling", insurer="3311",
                           ceiling={"exempt": ["acute", "treatment_in_progress"]},
                           patient_stop=F_STOP),
                ])


def cz_feed():
    return feed(insurer_header("cz", "CZ groep", "9664", "CZ Zorgverzekeringen"),
                CZ_POLICIES + [
                    provider(A, "Ziekenhuis Alpha"),
                    provider(B, "Ziekenhuis Beta"),
                    status(A, Y, "hospital", "contracted", insurer="9664"),
                    status(B, Y, "hospital", "contracted", policy="9664-ZORGBEWUST"),
                    status(B, Y, "hospital", "not_contracted", policy="9664-COMBI"),
                ])


def dsw_feed():
    return feed(insurer_header("dsw", "DSW", "7119", "DSW Zorgverzekeraar"),
                DSW_POLICIES + [
                    provider(D, "Ziekenhuis Delta"),
                    provider(E, "Ziekenhuis Epsilon"),
                    status(D, Y, "hospital", "contracted", insurer="7119"),
                    # explicit unknown counts as not having spoken -> concern level applies
                    status(E, Y, "hospital", "contracted", concern="dsw"),
                    status(E, Y, "hospital", "unknown", policy="7119-POLIS"),
                ])


ALPHA_LOCATIONS = [{"street": "Koekoekslaan 1", "postcode": "3435CM", "city": "Nieuwegein"}]


def provider_feed():
    return feed(provider_header("Ziekenhuisgroep Test"), [
        provider(A, "Ziekenhuis Alpha", parent="Alpha Groep", locations=ALPHA_LOCATIONS),
        provider(B, "Ziekenhuis Beta"),
        provider(C, "Ziekenhuis Gamma"),
        provider(E, "Ziekenhuis Epsilon"),
        status(A, Y, "hospital", "contracted", policy="3311-BASIS"),
        status(A, Y, "hospital", "contracted", concern="cz"),
        status(B, Y, "hospital", "contracted", concern="achmea"),
        status(B, Y, "hospital", "contracted", concern="cz"),
        status(B, Y, "hospital", "negotiating", policy="7119-POLIS"),
        status(C, Y, "hospital", "contracted", policy="3311-BASIS"),
        status(C, Y, "hospital", "contracted", policy="3311-EXCL"),
        status(C, Y, "hospital", "contracted", policy="3311-BUDGET"),
        status(C, Y, "hospital", "contracted", concern="cz"),
        status(E, Y, "hospital", "unknown", policy="7119-POLIS"),
    ])


ZK, CZ, DSW, PROV = "zk", "cz", "dsw", "ziekenhuizen"

ALL_POLICIES = ["3311-BASIS", "3311-EXCL", "3311-BUDGET", "9664-ZORGBEWUST", "9664-COMBI",
                "7119-POLIS"]


def exp(status, basis, sources, conflict=False, provider_only=False, as_contracted=None,
        ceiling=None):
    return dict(status=status, basis=basis, sources=set(sources), conflict=conflict,
                provider_only=provider_only, as_contracted=as_contracted, ceiling=ceiling)


UNKNOWN = exp("unknown", "none", [])

# Hand-derived expectations (domain.md, "Sources and reconciliation"; feeds/README.md).
EXPECTED = {
    A: {
        # insurer: policy-level "contracted" beats insurer- and concern-level; provider agrees
        # at policy level -> confirmed
        "3311-BASIS": {
            "hospital": exp("contracted", "confirmed",
                            [("insurer", ZK, "contracted", "policy"),
                             ("provider", PROV, "contracted", "policy")]),
            "mental_health": exp("contracted_ceiling", "insurer",
                                 [("insurer", ZK, "contracted_ceiling", "concern")],
                                 ceiling=True),
        },
        # insurer-level "negotiating, as contracted" beats concern-level "not_contracted";
        # the provider said nothing about this policy (its statement is per policy BASIS)
        "3311-EXCL": {
            "hospital": exp("negotiating", "insurer", [("insurer", ZK, "negotiating", "insurer")],
                            as_contracted=True),
            "mental_health": exp("contracted_ceiling", "insurer",
                                 [("insurer", ZK, "contracted_ceiling", "concern")],
                                 ceiling=True),
        },
        "3311-BUDGET": {
            "hospital": exp("negotiating", "insurer", [("insurer", ZK, "negotiating", "insurer")],
                            as_contracted=True),
            "mental_health": exp("not_contracted", "insurer",
                                 [("insurer", ZK, "not_contracted", "policy")]),
        },
        # insurer contracts every cz policy, provider says "contracted" per concern -> confirmed
        "9664-ZORGBEWUST": {
            "hospital": exp("contracted", "confirmed",
                            [("insurer", CZ, "contracted", "insurer"),
                             ("provider", PROV, "contracted", "concern")]),
            "mental_health": UNKNOWN,
        },
        "9664-COMBI": {
            "hospital": exp("contracted", "confirmed",
                            [("insurer", CZ, "contracted", "insurer"),
                             ("provider", PROV, "contracted", "concern")]),
            "mental_health": UNKNOWN,
        },
        # nobody spoke about A for DSW
        "7119-POLIS": {"hospital": UNKNOWN, "mental_health": UNKNOWN},
    },
    B: {
        # provider: concern-level "contracted"; insurer: not contracted for ALL the concern's
        # policies -> conflict; the insurer's status stands
        "3311-BASIS": {"hospital": exp("not_contracted", "conflict",
                                       [("insurer", ZK, "not_contracted", "insurer"),
                                        ("provider", PROV, "contracted", "concern")],
                                       conflict=True)},
        "3311-EXCL": {"hospital": exp("not_contracted", "conflict",
                                      [("insurer", ZK, "not_contracted", "insurer"),
                                       ("provider", PROV, "contracted", "concern")],
                                      conflict=True)},
        "3311-BUDGET": {"hospital": exp("not_contracted", "conflict",
                                        [("insurer", ZK, "not_contracted", "insurer"),
                                         ("provider", PROV, "contracted", "concern")],
                                        conflict=True)},
        # concern-level "contracted" while the insurer contracts SOME of the concern's
        # policies -> no conflict anywhere in the concern
        "9664-ZORGBEWUST": {"hospital": exp("contracted", "confirmed",
                                            [("insurer", CZ, "contracted", "policy"),
                                             ("provider", PROV, "contracted", "concern")])},
        # basis: the rule book says "compare at the level the provider spoke": at concern
        # level they agree.  Whether this policy then reads "confirmed" or "insurer" is not
        # pinned down; both accepted (None = any of BASIS_AGREE_SOME).
        "9664-COMBI": {"hospital": exp("not_contracted", None,
                                       [("insurer", CZ, "not_contracted", "policy"),
                                        ("provider", PROV, "contracted", "concern")])},
        # only the provider spoke
        "7119-POLIS": {"hospital": exp("negotiating", "provider_only",
                                       [("provider", PROV, "negotiating", "policy")],
                                       provider_only=True, as_contracted=False)},
    },
    C: {
        # per-policy contradiction -> conflict, insurer's status stands
        "3311-BASIS": {"hospital": exp("not_contracted", "conflict",
                                       [("insurer", ZK, "not_contracted", "policy"),
                                        ("provider", PROV, "contracted", "policy")],
                                       conflict=True)},
        # contracted vs contracted_ceiling: one agreement class (src/zs_types.h,
        # zs_status_class) -> confirmed; the insurer's status (with ceiling) is shown
        "3311-EXCL": {"hospital": exp("contracted_ceiling", "confirmed",
                                      [("insurer", ZK, "contracted_ceiling", "policy"),
                                       ("provider", PROV, "contracted", "policy")],
                                      ceiling=True)},
        # negotiating vs contracted: disagreement -> conflict
        "3311-BUDGET": {"hospital": exp("negotiating", "conflict",
                                        [("insurer", ZK, "negotiating", "policy"),
                                         ("provider", PROV, "contracted", "policy")],
                                        conflict=True, as_contracted=False)},
        # cz said nothing about C; provider said "contracted" per concern -> provider_only
        "9664-ZORGBEWUST": {"hospital": exp("contracted", "provider_only",
                                            [("provider", PROV, "contracted", "concern")],
                                            provider_only=True)},
        "9664-COMBI": {"hospital": exp("contracted", "provider_only",
                                       [("provider", PROV, "contracted", "concern")],
                                       provider_only=True)},
        "7119-POLIS": {"hospital": UNKNOWN},
    },
}
BASIS_AGREE_SOME = ("confirmed", "insurer")


def scenario_feeds(server, **kw):
    return [Feed(ZK, "insurer", server.url("/zk.jsonl"), **kw),
            Feed(CZ, "insurer", server.url("/cz.jsonl"), **kw),
            Feed(DSW, "insurer", server.url("/dsw.jsonl"), **kw),
            Feed(PROV, "provider", server.url("/prov.jsonl"), **kw)]


class ReconciliationTest(DaemonTestCase):
    """Tests 1 and 8: one daemon, read-only checks on the reconciled scenario."""

    @classmethod
    def setUpClass(cls):
        from harness import Daemon, FeedServer
        cls.server = FeedServer().start()
        cls.addClassCleanup(cls.server.stop)
        s = cls.server
        s.set_content("/zk.jsonl", zk_feed())
        s.set_content("/cz.jsonl", cz_feed())
        s.set_content("/dsw.jsonl", dsw_feed())
        # A provider feed may only name policies known from insurer feeds: hold it back
        # (503) until every insurer feed has been ingested, so the order is deterministic.
        s.set_error("/prov.jsonl", 503, b"not yet\n")
        cls.d = Daemon(scenario_feeds(s), now=NOW)
        cls.addClassCleanup(cls.d.cleanup)
        cls.addClassCleanup(cls.d.stop)
        cls.d.start()
        for name in (ZK, CZ, DSW):
            cls.d.wait_success(name)
        s.set_content("/prov.jsonl", provider_feed())
        cls.d.wait_success(PROV)
        # the provider feed's success must be the version with rows, not an empty state
        cls.d.wait_feed(PROV, lambda f: (f.get("rows_accepted") or 0) > 0,
                        "provider feed rows accepted")

    def provider_statuses(self, agb):
        st, hdrs, body = self.d.get("/v1/providers/%s?year=%d" % (agb, Y))
        self.assertEqual(st, 200, "GET /v1/providers/%s?year=%d -> %r" % (agb, Y, body))
        self.assertIn("application/json", hdrs.get("content-type", ""))
        self.assertEqual(body["provider"]["agb"], agb)
        return body, statuses_by_policy(body, Y)

    def check_provider(self, agb):
        body, got = self.provider_statuses(agb)
        self.assertEqual(sorted(got), sorted(ALL_POLICIES),
                         "%s: every %d policy must be listed" % (agb, Y))
        problems = []
        for pid, per_ct in EXPECTED[agb].items():
            self.assertEqual(sorted(got[pid]), sorted(per_ct),
                             "%s %s: care types (one status per care type any source "
                             "mentioned for this provider)" % (agb, pid))
            for ct, e in per_ct.items():
                s = got[pid][ct]
                where = "%s %s %s" % (agb, pid, ct)
                flags = s.get("flags") or {}
                if s.get("status") != e["status"]:
                    problems.append("%s: status %r, expected %r" % (where, s.get("status"),
                                                                     e["status"]))
                want_basis = e["basis"]
                if want_basis is None:
                    if s.get("basis") not in BASIS_AGREE_SOME:
                        problems.append("%s: basis %r, expected one of %r" %
                                        (where, s.get("basis"), BASIS_AGREE_SOME))
                elif s.get("basis") != want_basis:
                    problems.append("%s: basis %r, expected %r" % (where, s.get("basis"),
                                                                    want_basis))
                if flags.get("conflict") is not e["conflict"]:
                    problems.append("%s: flags.conflict %r, expected %r" %
                                    (where, flags.get("conflict"), e["conflict"]))
                if flags.get("provider_only") is not e["provider_only"]:
                    problems.append("%s: flags.provider_only %r, expected %r" %
                                    (where, flags.get("provider_only"), e["provider_only"]))
                if e["as_contracted"] is not None and \
                        bool(s.get("as_contracted")) is not e["as_contracted"]:
                    problems.append("%s: as_contracted %r, expected %r" %
                                    (where, s.get("as_contracted"), e["as_contracted"]))
                if e["ceiling"] is not None and flags.get("ceiling") is not e["ceiling"]:
                    problems.append("%s: flags.ceiling %r, expected %r" %
                                    (where, flags.get("ceiling"), e["ceiling"]))
                got_src = source_tuples(s)
                if got_src != e["sources"]:
                    problems.append("%s: sources %r, expected %r" %
                                    (where, sorted(got_src, key=str),
                                     sorted(e["sources"], key=str)))
        if problems:
            self.fail("%d discrepancies for provider %s:\n  %s" %
                      (len(problems), agb, "\n  ".join(problems)))

    def test_1a_most_specific_wins_and_agreement(self):
        """A: policy > insurer > concern within one source; agreement -> confirmed."""
        self.check_provider(A)

    def test_1b_concern_level_conflict(self):
        """B: concern-level 'contracted' vs insurer contracting none -> conflict; vs some ->
        no conflict; provider-only statement."""
        self.check_provider(B)

    def test_1c_per_policy_conflict_and_provider_only(self):
        """C: per-policy contradiction -> conflict; provider only -> provider_only; nobody ->
        unknown/none."""
        self.check_provider(C)

    def test_1d_explicit_unknown_counts_as_silence(self):
        """E: an explicit 'unknown' counts as not having spoken (feeds/README.md, Status):
        the insurer's concern-level 'contracted' applies to 7119-POLIS, and the provider's
        explicit 'unknown' neither confirms nor conflicts."""
        _, got = self.provider_statuses(E)
        s = got["7119-POLIS"]["hospital"]
        self.assertEqual(s["status"], "contracted", s)
        self.assertEqual(s["basis"], "insurer", s)
        self.assertIs(s["flags"]["conflict"], False, s)
        self.assertIs(s["flags"]["provider_only"], False, s)

    def test_1h_ceiling_exempt_and_patient_stop(self):
        """F: insurer-level contracted_ceiling with exemptions and a patient stop applies to
        every 3311 policy; flags carry them (docs/api.md, status object)."""
        _, got = self.provider_statuses(F)
        for pid in ("3311-BASIS", "3311-EXCL", "3311-BUDGET"):
            with self.subTest(pid):
                s = got[pid]["hospital"]
                self.assertEqual(s["status"], "contracted_ceiling")
                self.assertEqual(s["basis"], "insurer")
                self.assertIs(s["flags"]["ceiling"], True)
                self.assertEqual(sorted(s["flags"]["ceiling_exempt"]),
                                 ["acute", "treatment_in_progress"])
                ps = s["flags"]["patient_stop"] or {}
                want = dict(F_STOP, source="insurer")
                # documented keys must match; extra keys are allowed
                self.assertEqual({k: ps.get(k) for k in want}, want, ps)
        self.assertEqual(got["9664-COMBI"]["hospital"]["status"], "unknown")
        self.assertIsNone(got["9664-COMBI"]["hospital"]["flags"]["patient_stop"])

    def test_1e_provider_master_data(self):
        """The provider's own master data takes precedence over what insurers say."""
        body, _ = self.provider_statuses(A)
        p = body["provider"]
        self.assertEqual(p["name"], "Ziekenhuis Alpha")
        self.assertEqual(p["kind"], "hospital")
        self.assertEqual(p.get("parent"), "Alpha Groep")
        self.assertEqual(p["locations"], ALPHA_LOCATIONS)

    def test_1f_policy_object_in_provider_answer(self):
        body, _ = self.provider_statuses(A)
        y = [b for b in body["years"] if b["year"] == Y][0]
        pol = {p["policy"]["id"]: p["policy"] for p in y["policies"]}
        b = pol["3311-BASIS"]
        self.assertEqual(b["name"], "Basis Zeker")
        self.assertEqual(b["label"], "Zilveren Kruis")
        self.assertEqual(b["type"], "natura")
        self.assertEqual(b["insurer"]["uzovi"], "3311")
        self.assertEqual(b["concern"]["id"], "achmea")
        self.assertEqual(b["concern"]["name"], "Achmea")
        self.assertEqual(pol["9664-COMBI"]["type"], "combinatie")
        self.assertEqual(pol["9664-COMBI"]["concern"]["id"], "cz")

    def test_1g_status_endpoint(self):
        """/v1/status gives the same reconciled statuses for one policy."""
        st, _, body = self.d.get("/v1/status?agb=%s&policy=3311-BASIS&year=%d" % (B, Y))
        self.assertEqual(st, 200, body)
        self.assertEqual(body["year"], Y)
        self.assertEqual(body["provider"]["agb"], B)
        self.assertEqual(body["policy"]["id"], "3311-BASIS")
        by_ct = {s["care_type"]: s for s in body["statuses"]}
        self.assertEqual(sorted(by_ct), ["hospital"])
        self.assertEqual(by_ct["hospital"]["status"], "not_contracted")
        self.assertEqual(by_ct["hospital"]["basis"], "conflict")
        self.assertIs(by_ct["hospital"]["flags"]["conflict"], True)
        st, _, body = self.d.get("/v1/status?agb=%s&policy=3311-BASIS&year=%d"
                                 "&care_type=mental_health" % (A, Y))
        self.assertEqual(st, 200, body)
        self.assertEqual([(s["care_type"], s["status"]) for s in body["statuses"]],
                         [("mental_health", "contracted_ceiling")])

    def test_8_policies(self):
        """/v1/policies?year=2027 lists every declared policy with type and rules."""
        st, _, body = self.d.get("/v1/policies?year=%d" % Y)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["year"], Y)
        got = {p["id"]: p for p in body["policies"]}
        self.assertEqual(sorted(got), sorted(ALL_POLICIES))
        declared = {p["id"]: p for p in ZK_POLICIES + CZ_POLICIES + DSW_POLICIES}
        owner = {"3311": "achmea", "9664": "cz", "7119": "dsw"}
        for pid, p in got.items():
            want = declared[pid]
            self.assertEqual(p["type"], want["kind"], pid)
            self.assertEqual(p["name"], want["name"], pid)
            self.assertEqual(p["label"], want["label"], pid)
            self.assertEqual(p["insurer"]["uzovi"], pid[:4], pid)
            self.assertEqual(p["concern"]["id"], owner[pid[:4]], pid)
            norm = lambda rules: sorted((r["care_type"], float(r["percent"]), r["basis"])
                                        for r in rules)
            self.assertEqual(norm(p["reimbursement"]), norm(want["reimbursement"]), pid)

    def test_8b_feeds_listing(self):
        f = self.d.feeds()
        self.assertEqual(sorted(f), sorted([ZK, CZ, DSW, PROV]))
        self.assertEqual(f[ZK]["kind"], "insurer")
        self.assertEqual(f[PROV]["kind"], "provider")
        self.assertEqual(f[ZK]["url"], self.server.url("/zk.jsonl"))
        self.assertEqual(f[ZK]["schedule_seconds"], 1)
        self.assertEqual(f[ZK]["stale_after_seconds"], 86400)
        for name in (ZK, CZ, DSW, PROV):
            self.assertTrue(f[name]["last_success"], name)
            self.assertIs(f[name]["stale"], False, name)


# --------------------------------------------------------------------------------------------
# one-insurer feeds for the failure tests

def small_feed(hospital="contracted", extra=(), trailer=True, count=None, version=1, pad=0):
    """One insurer (3311), one policy, provider A with a hospital status; pad adds harmless
    records for other providers after the status (so a cut-off half-way lands after it)."""
    recs = [policy("3311-BASIS", Y, "Basis Zeker", "natura",
                   [rule("*", 75, "avg_contracted_tariff")], label="Zilveren Kruis"),
            provider(A, "Ziekenhuis Alpha"),
            status(A, Y, "hospital", hospital, policy="3311-BASIS")]
    recs += list(extra)
    for i in range(pad):
        agb = "0602%04d" % i
        recs.append(provider(agb, "Padding ziekenhuis %d" % i))
        recs.append(status(agb, Y, "hospital", "contracted", insurer="3311"))
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis", version=version),
                recs, trailer=trailer, count=count)


class SmallFeedCase(DaemonTestCase):
    PATH = "/zk.jsonl"
    MAX_INVALID = 0

    def setUp(self):
        self.server = self.start_server()
        self.server.set_content(self.PATH, small_feed(pad=30))
        self.d = self.start_daemon([Feed(ZK, "insurer", self.server.url(self.PATH),
                                         max_invalid_rows=self.MAX_INVALID)], now=NOW)
        self.d.wait_success(ZK)
        self.assertHospital(A, "contracted")

    def hospital(self, agb, care_type="hospital"):
        st, _, body = self.d.get("/v1/status?agb=%s&policy=3311-BASIS&year=%d" % (agb, Y))
        self.assertEqual(st, 200, body)
        return {s["care_type"]: s["status"] for s in body["statuses"]}.get(care_type)

    def assertHospital(self, agb, want, care_type="hospital", msg=""):
        self.assertEqual(self.hospital(agb, care_type), want,
                         "%s %s: %s" % (agb, care_type, msg))

    def daemon_now(self):
        n = self.d.now_utc()
        self.assertIsNotNone(n, "/healthz has no 'now'")
        return n

    def switch_and_wait(self, fn, fetches=2):
        """Apply fn() (changes what the server serves), then wait until the daemon has fetched
        at least `fetches` more times (so it has processed at least fetches-1 answers)."""
        n0 = self.server.count(self.PATH)
        t0 = self.daemon_now()
        fn()
        try:
            self.server.wait_requests(self.PATH, n0 + fetches,
                                      what="the daemon should re-fetch every second")
        except AssertionError:
            self.d.assert_alive("(while waiting for re-fetches)")
            raise
        return t0

    def assert_error_reported(self, since, pattern):
        f = self.d.wait_feed(ZK, lambda f: f.get("last_error") and
                             parse_ts(f["last_error"].get("at")) >= since -
                             datetime.timedelta(seconds=1),
                             "last_error reported after %s" % since)
        msg = f["last_error"].get("message") or ""
        self.assertRegex(msg, pattern, "last_error.message")
        return f

    def assert_success_stays(self, fetches=2):
        """last_success does not move while the feed keeps failing."""
        before = self.d.feeds()[ZK]["last_success"]
        self.assertTrue(before)
        n0 = self.server.count(self.PATH)
        self.server.wait_requests(self.PATH, n0 + fetches)
        time.sleep(0.3)
        after = self.d.feeds()[ZK]
        self.assertEqual(after["last_success"], before,
                         "last_success must not change while fetches fail")
        return after


def parse_ts(s):
    if not s:
        return datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


class Http500Test(SmallFeedCase):
    def test_2_http_500_keeps_last_good(self):
        good = self.d.feeds()[ZK]["last_success"]
        since = self.switch_and_wait(lambda: self.server.set_error(self.PATH, 500))
        f = self.assert_error_reported(since, r"500")
        self.assertHospital(A, "contracted", msg="last good version must still be served")
        self.assertLessEqual(parse_ts(f["last_success"]), parse_ts(f["last_error"]["at"]))
        self.assertGreaterEqual(parse_ts(f["last_success"]), parse_ts(good))
        self.assert_success_stays()
        self.assertHospital(A, "contracted")
        # recovery: a new good version is applied
        self.server.set_content(self.PATH, small_feed("ended", pad=30))
        self.d.wait_until(lambda: self.hospital(A) == "ended", "new version after recovery")


class StaleTest(SmallFeedCase):
    """domain.md: a source that fails keeps its last good statements, marked stale after its
    configured age; it never wipes them."""
    STALE_AFTER = 3

    def setUp(self):
        self.server = self.start_server()
        self.server.set_content(self.PATH, small_feed())
        self.d = self.start_daemon([Feed(ZK, "insurer", self.server.url(self.PATH),
                                         stale_after=self.STALE_AFTER)], now=NOW)
        self.d.wait_success(ZK)

    def test_2b_failing_feed_goes_stale_but_is_kept(self):
        f = self.d.feeds()[ZK]
        self.assertIs(f["stale"], False)
        self.server.set_error(self.PATH, 500)
        f = self.d.wait_feed(ZK, lambda f: f.get("stale") is True,
                             "stale after %d s without success" % self.STALE_AFTER,
                             timeout=self.STALE_AFTER + 20)
        st, _, body = self.d.get("/v1/status?agb=%s&policy=3311-BASIS&year=%d" % (A, Y))
        self.assertEqual(st, 200, body)
        s = body["statuses"][0]
        self.assertEqual(s["status"], "contracted", "stale statements are kept")
        self.assertIs(s["flags"]["stale"], True, s)
        self.assertEqual([x.get("stale") for x in s["sources"]], [True], s["sources"])
        # and it recovers
        self.server.set_content(self.PATH, small_feed())
        self.d.wait_feed(ZK, lambda f: f.get("stale") is False, "fresh again after success")


class CutOffTest(SmallFeedCase):
    def test_3_cut_off_half_way(self):
        v2 = small_feed("not_contracted", pad=30)
        # the changed line must be in the half that arrives, the trailer in the half that not
        self.assertLess(line_of(v2, lambda l: '"not_contracted"' in l) * 2,
                        v2.count(b"\n"))
        since = self.switch_and_wait(lambda: self.server.set_cutoff(self.PATH, v2, 0.5))
        self.assert_error_reported(since, r".")
        self.assertHospital(A, "contracted", msg="a cut-off body must not be applied")
        self.assert_success_stays()
        self.assertHospital(A, "contracted")
        # the complete version, same validators as the cut one: it must now be applied
        # (a daemon that kept the ETag of the failed transfer would get 304 and never update)
        self.server.set_content(self.PATH, v2)
        self.d.wait_until(lambda: self.hospital(A) == "not_contracted",
                          "complete version applied after a cut-off transfer")


INVALID_EXTRA = [
    status("1234567", Y, "hospital", "contracted", policy="3311-BASIS"),        # bad AGB
    status(A, Y, "physiotherapy", "contractd", policy="3311-BASIS"),            # bad status
    status(A, Y, "dentistry", "contracted", policy="3311-BASIS"),               # bad care type
    '{"type":"status","agb":"06010001","policy":',                              # bad JSON
    status(A, Y, "mental_health", "contracted", policy="3311-BASIS"),           # valid, new
]


def invalid_feed():
    # records: policy, provider, status(hospital ended), 4 invalid, 1 valid = 8 records
    return small_feed("ended", extra=INVALID_EXTRA)


def expected_invalid_lines(data):
    return {
        "agb": line_of(data, lambda l: '"1234567"' in l),
        "status": line_of(data, lambda l: '"contractd"' in l),
        "care_type": line_of(data, lambda l: '"dentistry"' in l),
        None: line_of(data, lambda l: l.endswith('"policy":')),
    }


class InvalidRowsMixin:
    def check_errors_listed(self, f, data):
        want = expected_invalid_lines(data)
        self.assertEqual(sorted(want.values()), [5, 6, 7, 8])  # sanity of the test data
        errs = f.get("errors") or []
        by_line = {}
        for e in errs:
            by_line.setdefault(e.get("line"), []).append(e)
        for field, line in want.items():
            self.assertIn(line, by_line, "errors must name line %d (%s); got %r" %
                          (line, field or "bad JSON", errs))
            if field is not None:
                self.assertIn(field, [e.get("field") for e in by_line[line]],
                              "line %d must name field %r: %r" % (line, field, by_line[line]))
        reasons = " ".join(str(e.get("reason")) for e in errs)
        self.assertIn("contractd", reasons)
        self.assertIn("dentistry", reasons)


class InvalidRowsRejectTest(InvalidRowsMixin, SmallFeedCase):
    MAX_INVALID = 0

    def test_4a_invalid_rows_reject_version(self):
        data = invalid_feed()
        since = self.switch_and_wait(lambda: self.server.set_content(self.PATH, data))
        f = self.d.wait_feed(ZK, lambda f: len(f.get("errors") or []) >= 4,
                             "errors list filled")
        self.check_errors_listed(f, data)
        self.assertHospital(A, "contracted", msg="version with 4 invalid rows > "
                            "max_invalid_rows=0 must be rejected as a whole")
        self.assertHospital(A, None, "mental_health", msg="valid rows of a rejected version "
                            "must not be applied")
        f = self.assert_error_reported(since, r".")


class InvalidRowsTolerateTest(InvalidRowsMixin, SmallFeedCase):
    MAX_INVALID = 10

    def test_4b_invalid_rows_tolerated(self):
        data = invalid_feed()
        self.switch_and_wait(lambda: self.server.set_content(self.PATH, data))
        self.d.wait_until(lambda: self.hospital(A) == "ended",
                          "valid rows applied with max_invalid_rows=10")
        self.assertHospital(A, "contracted", "mental_health")
        f = self.d.wait_feed(ZK, lambda f: len(f.get("errors") or []) >= 4,
                             "errors list filled")
        self.check_errors_listed(f, data)
        self.assertEqual(f.get("rows_rejected"), 4, f)


def validation_feed():
    """v2 for ValidationDetailsTest: scope errors, an unknown record type, an unknown field
    (ignored), an empty line (ignored, not counted), a postcode with a space (normalised)."""
    hdr = insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis")
    recs = [
        policy("3311-BASIS", Y, "Basis Zeker", "natura", [rule("*", 75,
                                                                "avg_contracted_tariff")]),
        provider(A, "Ziekenhuis Alpha", locations=[{"street": "Koekoekslaan 1",
                                                    "postcode": "3435 CM",
                                                    "city": "Nieuwegein"}]),
        status(A, Y, "hospital", "contracted", policy="3311-BASIS"),
        # a policy not declared in this feed
        status(A, Y, "physiotherapy", "contracted", policy="3311-NOPE"),
        # insurer scope must be the header's UZOVI, concern scope the header's concern
        status(A, Y, "gp", "contracted", insurer="9999"),
        status(A, Y, "maternity", "contracted", concern="cz"),
        # exactly one of policy / insurer / concern
        status(A, Y, "pharmacy", "contracted", policy="3311-BASIS", insurer="3311"),
        # unknown record type
        {"type": "frobnicate", "x": 1},
        # unknown fields are ignored (forward compatibility)
        dict(status(A, Y, "mental_health", "contracted", policy="3311-BASIS"),
             future_field={"a": 1}),
    ]
    lines = [hdr] + recs[:3] + [""] + recs[3:] + [end(len(recs))]
    return jsonl(lines)


class ValidationDetailsTest(SmallFeedCase):
    MAX_INVALID = 10

    def test_4c_scope_type_and_forward_compat(self):
        data = validation_feed()
        self.switch_and_wait(lambda: self.server.set_content(self.PATH, data))
        self.d.wait_until(lambda: self.hospital(A, "mental_health") == "contracted",
                          "valid rows applied (an unknown field must be ignored, an empty "
                          "line neither counted nor an error)")
        f = self.d.feeds()[ZK]
        errs = f.get("errors") or []
        lines = {e.get("line"): e for e in errs}
        want = {
            line_of(data, lambda l: '"3311-NOPE"' in l): "policy",
            line_of(data, lambda l: '"9999"' in l): "insurer",
            line_of(data, lambda l: '"maternity"' in l): "concern",
            line_of(data, lambda l: '"pharmacy"' in l): None,
            line_of(data, lambda l: '"frobnicate"' in l): "type",
        }
        self.assertEqual(sorted(want), [6, 7, 8, 9, 10])  # the empty line 5 counts as a line
        for line, field in sorted(want.items()):
            with self.subTest(line=line, field=field):
                self.assertIn(line, lines, "errors must name line %d: %r" % (line, errs))
                if field:
                    self.assertEqual(lines[line].get("field"), field, lines[line])
        with self.subTest("rows_rejected"):
            self.assertEqual(f.get("rows_rejected"), 5, f)
        st, _, body = self.d.get("/v1/providers/%s?year=%d" % (A, Y))
        self.assertEqual(st, 200, body)
        with self.subTest("invalid rows not applied"):
            mentioned = {s["care_type"] for p in body["years"][0]["policies"]
                         for s in p["statuses"]}
            self.assertEqual(mentioned, {"hospital", "mental_health"},
                             "care types of invalid rows must not appear")
        with self.subTest("postcode"):
            self.assertEqual(body["provider"]["locations"][0]["postcode"], "3435CM",
                             "postcode with a space is accepted and the space removed")


class ProviderUndeclaredPolicyTest(DaemonTestCase):
    def test_4d_provider_status_for_undeclared_policy(self):
        """feeds/README.md: a provider-feed status may only name a policy declared in any
        insurer feed; naming another one is an invalid record (line 3 here)."""
        s = self.start_server()
        s.set_content("/zk.jsonl", small_feed())
        data = feed(provider_header("Alpha"), [
            provider(A, "Ziekenhuis Alpha"),
            status(A, Y, "hospital", "contracted", policy="9999-NOPE"),
            status(A, Y, "hospital", "contracted", policy="3311-BASIS")])
        s.set_error("/prov.jsonl", 503)
        d = self.start_daemon([Feed(ZK, "insurer", s.url("/zk.jsonl")),
                               Feed(PROV, "provider", s.url("/prov.jsonl"),
                                    max_invalid_rows=10)], now=NOW)
        d.wait_success(ZK)
        s.set_content("/prov.jsonl", data)
        f = d.wait_success(PROV)
        f = d.wait_feed(PROV, lambda f: f.get("rows_accepted") or f.get("rows_rejected"),
                        "rows counted")
        self.assertEqual(f.get("rows_rejected"), 1, f)
        self.assertIn(3, [e.get("line") for e in f.get("errors") or []], f)


class TruncatedTest(SmallFeedCase):
    def test_5_missing_or_wrong_trailer(self):
        cases = [
            ("no trailer", small_feed("not_contracted", trailer=False),
             r"(?i)truncat|trailer|end"),
            ("wrong count", small_feed("not_contracted", count=99), r"(?i)truncat|trailer|"
                                                                    r"count|records"),
            ("version 2", small_feed("not_contracted", version=2), r"(?i)version"),
            ("empty body", b"", r"(?i)header|empty|truncat"),
            # "The last line is the trailer": records after it make the version invalid
            ("record after the trailer",
             small_feed("not_contracted") + jsonl([status(A, Y, "gp", "contracted",
                                                          policy="3311-BASIS")]),
             r"(?i)trailer|end|truncat|after"),
            ("provider format in an insurer feed",
             feed(provider_header("X"), [status(A, Y, "hospital", "ended",
                                                policy="3311-BASIS")]),
             r"(?i)header|format"),
        ]
        for what, data, pattern in cases:
            with self.subTest(what):
                since = self.switch_and_wait(lambda: self.server.set_content(self.PATH, data))
                self.assert_error_reported(since, pattern)
                self.assertHospital(A, "contracted", msg="%s: must be rejected as a whole" %
                                    what)
        self.server.set_content(self.PATH, small_feed("negotiating"))
        self.d.wait_until(lambda: self.hospital(A) == "negotiating",
                          "good version applied after rejected ones")


class ConditionalGetTest(DaemonTestCase):
    def test_6_conditional_get_and_gzip(self):
        s = self.start_server()

        def one(uzovi, concern, agb):
            pid = "%s-P" % uzovi
            return feed(insurer_header(concern, concern.upper(), uzovi, "Verzekeraar " + uzovi),
                        [policy(pid, Y, "Polis " + uzovi, "natura",
                                [rule("*", 80, "avg_contracted_tariff")]),
                         provider(agb, "Ziekenhuis " + agb),
                         status(agb, Y, "hospital", "contracted", policy=pid)])

        s.set_content("/etag.jsonl", one("1001", "c1", A), etag=True, last_modified=False,
                      gzip_ok=False)
        s.set_content("/lm.jsonl", one("1002", "c2", B), etag=False, last_modified=True,
                      gzip_ok=False)
        s.set_content("/gz.jsonl", one("1003", "c3", C), etag=False, last_modified=False,
                      gzip_ok=True)
        d = self.start_daemon([Feed("etag", "insurer", s.url("/etag.jsonl")),
                               Feed("lm", "insurer", s.url("/lm.jsonl")),
                               Feed("gz", "insurer", s.url("/gz.jsonl"))], now=NOW)
        for n in ("etag", "lm", "gz"):
            d.wait_success(n)
        s.wait_requests("/etag.jsonl", 4)
        s.wait_requests("/lm.jsonl", 4)

        def status_of(agb, pid):
            st, _, body = d.get("/v1/status?agb=%s&policy=%s&year=%d" % (agb, pid, Y))
            if st != 200:
                return None
            return {x["care_type"]: x["status"] for x in body["statuses"]}.get("hospital")

        with self.subTest("If-None-Match"):
            reqs = s.requests("/etag.jsonl")
            etag = s.etag("/etag.jsonl")
            self.assertEqual(reqs[0]["status"], 200)
            self.assertNotIn("if-none-match", reqs[0]["headers"])
            for r in reqs[1:]:
                self.assertEqual(r["headers"].get("if-none-match"), etag,
                                 "re-fetch must carry If-None-Match with the ETag")
            self.assertEqual([r["status"] for r in reqs[1:]], [304] * (len(reqs) - 1))
            self.assertEqual(status_of(A, "1001-P"), "contracted",
                             "304 must keep the content")
            fe = d.feeds()["etag"]
            self.assertIsNone(fe["last_error"])
            self.assertGreater(parse_ts(fe["last_success"]), parse_ts(fe["last_change"]),
                               "304 is a successful fetch (last_success moves) but not a "
                               "change (last_change stays): %r" % fe)
        with self.subTest("If-Modified-Since"):
            reqs = s.requests("/lm.jsonl")
            lm = s.last_modified("/lm.jsonl")
            for r in reqs[1:]:
                ims = r["headers"].get("if-modified-since")
                self.assertIsNotNone(ims, "re-fetch must carry If-Modified-Since")
                self.assertEqual(email.utils.parsedate_to_datetime(ims),
                                 email.utils.parsedate_to_datetime(lm),
                                 "If-Modified-Since %r must equal the server's Last-Modified "
                                 "%r" % (ims, lm))
            self.assertEqual([r["status"] for r in reqs[1:]], [304] * (len(reqs) - 1))
            self.assertEqual(status_of(B, "1002-P"), "contracted")
            self.assertIsNone(d.feeds()["lm"]["last_error"])
        with self.subTest("gzip"):
            reqs = s.requests("/gz.jsonl")
            self.assertIn("gzip", reqs[0]["headers"].get("accept-encoding", ""),
                          "fetch must send Accept-Encoding: gzip")
            self.assertTrue(reqs[0]["gzip"], "server should have sent gzip")
            self.assertEqual(status_of(C, "1003-P"), "contracted",
                             "gzip-compressed feed must be ingested")
        with self.subTest("new ETag after 304s"):
            new = one("1001", "c1", A).replace(b'"contracted"', b'"ended"')
            s.set_content("/etag.jsonl", new, etag=True, last_modified=False, gzip_ok=False)
            d.wait_until(lambda: status_of(A, "1001-P") == "ended",
                         "changed content (new ETag) applied")


class ApiErrorTest(DaemonTestCase):
    def setUp(self):
        self.server = self.start_server()
        self.server.set_content("/zk.jsonl", small_feed())
        cred_url = self.server.url("/zk.jsonl").replace("http://", "http://alice:s3cret@")
        self.d = self.start_daemon([Feed(ZK, "insurer", self.server.url("/zk.jsonl")),
                                    Feed("cred", "insurer", cred_url)], now=NOW)
        self.d.wait_success(ZK)

    def test_7b_feed_url_without_credentials(self):
        """docs/api.md: the URL in /v1/feeds never contains credentials."""
        url = self.d.feeds()["cred"]["url"]
        self.assertNotIn("s3cret", url)
        self.assertNotIn("alice", url)

    def err(self, path, status, code, parameter=None, method="GET", body=None):
        st, hdrs, j = self.d.get(path, method=method, body=body,
                                 headers={"Content-Type": "application/json"} if body else None)
        where = "%s %s" % (method, path)
        self.assertNotEqual(st, 500, where)
        self.assertEqual(st, status, "%s -> %d %r" % (where, st, j))
        self.assertIn("application/json", hdrs.get("content-type", ""), where)
        self.assertIsInstance(j, dict, where)
        self.assertIsInstance(j.get("error"), dict, "%s: %r" % (where, j))
        self.assertEqual(j["error"].get("code"), code, "%s: %r" % (where, j))
        self.assertTrue(j["error"].get("message"), "%s: error.message" % where)
        if parameter is not None:
            self.assertEqual(j["error"].get("parameter"), parameter, "%s: %r" % (where, j))
        return j

    def test_7_api_errors(self):
        cases = [
            ("unknown path", dict(path="/nope", status=404, code="not_found")),
            ("unknown v1 path", dict(path="/v1/nope", status=404, code="not_found")),
            ("POST", dict(path="/v1/providers/%s?year=%d" % (A, Y), status=405,
                          code="method_not_allowed", method="POST", body=b"{}")),
            ("DELETE", dict(path="/v1/policies?year=%d" % Y, status=405,
                            code="method_not_allowed", method="DELETE")),
            ("year=abc", dict(path="/v1/providers/%s?year=abc" % A, status=400,
                              code="bad_parameter", parameter="year")),
            ("year=1999", dict(path="/v1/policies?year=1999", status=400,
                               code="bad_parameter", parameter="year")),
            ("short agb", dict(path="/v1/providers/123", status=400, code="bad_parameter",
                               parameter="agb")),
            ("unknown agb", dict(path="/v1/providers/06999999?year=%d" % Y, status=404,
                                 code="not_found")),
            ("status without policy", dict(path="/v1/status?agb=%s&year=%d" % (A, Y),
                                           status=400, code="missing_parameter",
                                           parameter="policy")),
            ("status bad care_type", dict(path="/v1/status?agb=%s&policy=3311-BASIS&year=%d"
                                          "&care_type=dentistry" % (A, Y), status=400,
                                          code="bad_parameter", parameter="care_type")),
            ("status unknown policy", dict(path="/v1/status?agb=%s&policy=3311-NOPE&year=%d"
                                           % (A, Y), status=404, code="not_found")),
        ]
        for what, kw in cases:
            with self.subTest(what):
                self.err(**kw)
        with self.subTest("year 2028 not yet published"):
            j = self.err("/v1/providers/%s?year=2028" % A, 404, "not_yet_published")
            self.assertEqual(j["error"].get("published_from", j.get("published_from")),
                             "2027-11-11T23:00:00Z", j)
        with self.subTest("HEAD allowed"):
            st, hdrs, _ = self.d.request("HEAD", "/v1/providers/%s?year=%d" % (A, Y))
            self.assertEqual(st, 200)
        # and the daemon is still fine
        st, _, body = self.d.get("/healthz")
        self.assertEqual(st, 200)
        self.assertEqual(body.get("status"), "ok")


if __name__ == "__main__":
    unittest.main()
