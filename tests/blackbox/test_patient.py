"""Black-box tests of issue 13: answers a patient understands at a glance.

Hand-built feeds; the clock at 2026-11-20 12:00 (Europe/Amsterdam), contract year 2026.
Insurer feed "ins" (concern "cz", UZOVI 9001, insurer "Testverzekeraar N.V.", header publisher
"Testverzekeraar"), policies P-A (natura 75%), P-B (natura 65%), P-C (natura 75%).
Provider 06000001 ("Ziekenhuis Een"), statuses for the whole concern:
  hospital          contracted, since 2020-01-01, stop (staff shortage) 2026-11-01..2027-01-31
                    -> in force: "contract, but no new patients until 31 January 2027"
  district_nursing  contracted, stop (staff shortage) from 2026-12-01 -> announced, said with date
  acute             contracted_ceiling exempt [acute], stop (ceiling reached) from 2026-11-01
                    -> the stop caused by the ceiling does not apply to acute care
  mental_health     the same ceiling and stop -> applies, unless ?situation=acute
  maternity         contracted_ceiling exempt [acute_maternity] -> the warning stays (saying the
                    exemption) unless ?situation=acute
  physiotherapy     the insurer: not_contracted; the provider (feed "prov", publisher
                    "Ziekenhuis Een Groep", display_name "Ziekenhuis Een"): contracted -> conflict
Provider 06000002: hospital, per policy: P-A contracted, P-B contracted, P-C not_contracted ->
/v1/compare ranks 1, 1, 3. Its own feed says "contracted" for the whole concern: consistent with
the insurer at the concern level (the insurer contracts some policy of it), so for P-C the basis
is "insurer", and staff see the provider's statement as consistent at the concern level.
Expected values are written from /work/shared/domain.md and data/phrases.json by hand.
"""

import json
import os
import unittest
import urllib.request

from harness import (DaemonTestCase, Feed, feed, insurer_header, policy, provider,
                     provider_header, rule, status, statuses_by_policy)

H1, H2 = "06000001", "06000002"
TOKEN = "patient-staff-token-0123456789"


def ins_feed():
    hdr = insurer_header("cz", "CZ Groep", "9001", "Testverzekeraar N.V.")
    hdr["publisher"] = {"name": "Testverzekeraar"}
    ceiling = {"exempt": ["acute"]}
    ceiling_stop = {"reason": "ceiling_reached", "from": "2026-11-01"}
    recs = [
        policy("P-A", 2026, "Alfa", "natura", [rule("*", 75, "avg_contracted_tariff")]),
        policy("P-B", 2026, "Beta", "natura", [rule("*", 65, "avg_contracted_tariff")]),
        policy("P-C", 2026, "Gamma", "natura", [rule("*", 75, "avg_contracted_tariff")]),
        provider(H1, "Ziekenhuis Een"),
        provider(H2, "Ziekenhuis Twee"),
        status(H1, 2026, "hospital", "contracted", concern="cz", since="2020-01-01",
               patient_stop={"reason": "staff_shortage", "from": "2026-11-01",
                             "until": "2027-01-31"}),
        status(H1, 2026, "district_nursing", "contracted", concern="cz",
               patient_stop={"reason": "staff_shortage", "from": "2026-12-01"}),
        status(H1, 2026, "acute", "contracted_ceiling", concern="cz", ceiling=ceiling,
               patient_stop=ceiling_stop),
        status(H1, 2026, "mental_health", "contracted_ceiling", concern="cz", ceiling=ceiling,
               patient_stop=ceiling_stop),
        status(H1, 2026, "maternity", "contracted_ceiling", concern="cz",
               ceiling={"exempt": ["acute_maternity"]}),
        status(H1, 2026, "physiotherapy", "not_contracted", concern="cz"),
        status(H2, 2026, "hospital", "contracted", policy="P-A"),
        status(H2, 2026, "hospital", "contracted", policy="P-B"),
        status(H2, 2026, "hospital", "not_contracted", policy="P-C"),
    ]
    return feed(hdr, recs)


def prov_feed():
    return feed(provider_header("Ziekenhuis Een Groep"),
                [status(H1, 2026, "physiotherapy", "contracted", concern="cz"),
                 status(H2, 2026, "hospital", "contracted", concern="cz")])


class PatientTest(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp_token = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                     "zs-patient-token-%d" % os.getpid())
        with open(cls.tmp_token, "w") as fh:
            fh.write(TOKEN + "\n")
        os.chmod(cls.tmp_token, 0o600)

    @classmethod
    def tearDownClass(cls):
        os.unlink(cls.tmp_token)

    def setUp(self):
        s = self.start_server()
        s.set_content("/ins.jsonl", ins_feed())
        s.set_content("/prov.jsonl", prov_feed())
        self.d = self.start_daemon(
            [Feed("ins", "insurer", s.url("/ins.jsonl")),
             Feed("prov", "provider", s.url("/prov.jsonl"), display_name="Ziekenhuis Een")],
            now="2026-11-20T12:00:00", settings={"staff_token_file": self.tmp_token})
        self.d.wait_success("ins")
        self.d.wait_success("prov")

    def statuses(self, agb=H1, query="", headers=None):
        st, _, body = self.d.get("/v1/providers/%s?year=2026%s" % (agb, query), headers=headers)
        self.assertEqual(st, 200, body)
        return statuses_by_policy(body, 2026)

    @staticmethod
    def warnings(s):
        return {w["code"]: w["text"] for w in s["consequence"]["warnings"]}

    # ---- 1. dates ----
    def test_since_is_when_the_status_began(self):
        got = self.statuses()["P-A"]
        self.assertEqual(got["hospital"]["since"], "2020-01-01", "the record's own date")
        # no record date: the day the statement was said (header generated_at, 12 November)
        self.assertEqual(got["district_nursing"]["since"], "2026-11-12")
        self.assertNotIn("shown_since", got["hospital"], "the load time is for staff only")
        staff = self.statuses(headers={"Authorization": "Bearer " + TOKEN})["P-A"]
        self.assertEqual(staff["hospital"]["since"], "2020-01-01")
        self.assertTrue(staff["hospital"]["shown_since"].startswith("2026-11-20"),
                        staff["hospital"].get("shown_since"))

    # ---- 2. names ----
    def test_sources_named_for_people(self):
        phys = self.statuses()["P-A"]["physiotherapy"]
        names = {s["kind"]: s["name"] for s in phys["sources"]}
        self.assertEqual(names, {"insurer": "Testverzekeraar", "provider": "Ziekenhuis Een"},
                         "header publisher; the configuration's display_name overrides")
        for w in phys["consequence"]["warnings"]:
            self.assertNotIn("prov", w["text"].split())
        self.assertNotIn("(prov)", phys["consequence"]["text"])
        self.assertNotIn("(ins)", phys["consequence"]["text"])

    # ---- 3. labels ----
    def test_labels(self):
        st, hdrs, nl = self.d.get("/v1/labels?lang=nl")
        self.assertEqual(st, 200, nl)
        self.assertEqual(nl["lang"], "nl")
        self.assertEqual(nl["care_type"]["mental_health"], "Geestelijke gezondheidszorg (ggz)")
        self.assertEqual(nl["status"]["not_contracted"], "Geen contract")
        self.assertEqual(nl["policy_type"]["restitutie"], "Restitutiepolis")
        self.assertEqual(nl["provider_kind"]["gp"], "Huisarts")
        self.assertEqual(nl["reimbursement_basis"]["market_tariff"], "Marktconform tarief")
        self.assertEqual(nl["warning"]["patient_stop"], "Neemt geen nieuwe patiënten aan")
        self.assertEqual(nl["presentation"]["contracted_patient_stop"],
                         "Contract, maar geen nieuwe patiënten")
        for fam, codes in (("care_type", 11), ("status", 6), ("basis", 5), ("policy_type", 4),
                           ("provider_kind", 10), ("reimbursement_basis", 4),
                           ("consequence", 8), ("presentation", 7)):
            self.assertEqual(len(nl[fam]), codes, fam)
        st, _, en = self.d.get("/v1/labels?lang=en")
        self.assertEqual(en["care_type"]["mental_health"], "Mental health care")
        self.assertEqual(set(en["warning"]), set(nl["warning"]))
        etag = {k.lower(): v for k, v in hdrs.items()}.get("etag")
        self.assertTrue(etag)
        st, _, _ = self.d.request("GET", "/v1/labels?lang=nl", {"If-None-Match": etag})
        self.assertEqual(st, 304)
        st, _, body = self.d.get("/v1/labels?lang=de")
        self.assertEqual(st, 400)
        self.assertEqual(body["error"]["parameter"], "lang")

    # ---- 4. patient stops ----
    def test_active_stop_is_never_plain_contracted(self):
        s = self.statuses()["P-A"]["hospital"]
        c = s["consequence"]
        self.assertEqual(s["status"], "contracted")
        self.assertEqual(c["presentation"], "contracted_patient_stop")
        self.assertTrue(c["text"].startswith(
            "Deze zorgaanbieder heeft een contract met uw zorgverzekeraar, maar neemt tot en met "
            "31 januari 2027 geen nieuwe patiënten van uw zorgverzekeraar aan."), c["text"])
        self.assertIn("zorgbemiddeling", self.warnings(s)["patient_stop"])
        self.assertIs(s["flags"]["patient_stop"]["active"], True)
        # a patient already in treatment is not a new patient
        s = self.statuses(query="&in_treatment=true")["P-A"]["hospital"]
        self.assertEqual(s["consequence"]["presentation"], "contracted")
        self.assertNotIn("patient_stop", self.warnings(s))

    def test_announced_stop_said_with_its_date(self):
        s = self.statuses()["P-A"]["district_nursing"]
        self.assertIs(s["flags"]["patient_stop"]["active"], False)
        self.assertIs(s["flags"]["patient_stop"]["announced"], True)
        self.assertEqual(s["consequence"]["presentation"], "contracted")
        self.assertIn("Vanaf 1 december 2026 neemt deze zorgaanbieder geen nieuwe patiënten",
                      self.warnings(s)["patient_stop_announced"])
        en = self.statuses(query="&lang=en")["P-A"]["district_nursing"]
        self.assertIn("From 1 December 2026", self.warnings(en)["patient_stop_announced"])

    def test_ceiling_stop_does_not_apply_to_exempt_care(self):
        got = self.statuses()["P-A"]
        acute = got["acute"]
        self.assertEqual(acute["consequence"]["presentation"], "contracted")
        self.assertEqual(self.warnings(acute), {})
        self.assertIs(acute["flags"]["patient_stop"]["applies"], False)
        mh = got["mental_health"]
        self.assertEqual(mh["consequence"]["presentation"], "contracted_patient_stop")
        self.assertIn("Bij spoed (acute zorg) geldt deze stop niet.",
                      self.warnings(mh)["patient_stop"])
        mh = self.statuses(query="&situation=acute")["P-A"]["mental_health"]
        self.assertEqual(mh["consequence"]["presentation"], "contracted")
        self.assertEqual(self.warnings(mh), {})

    # ---- 5. exemptions by situation ----
    def test_acute_maternity_needs_the_situation(self):
        planned = self.statuses()["P-A"]["maternity"]
        self.assertIs(planned["flags"]["ceiling"], True)
        self.assertIn("Bij spoed (acute zorg) geldt deze grens niet.",
                      self.warnings(planned)["ceiling"])
        acute = self.statuses(query="&situation=acute")["P-A"]["maternity"]
        self.assertIs(acute["flags"]["ceiling"], False)
        self.assertNotIn("ceiling", self.warnings(acute))
        self.assertEqual(acute["situation"], "acute")
        st, _, body = self.d.get("/v1/providers/%s?situation=urgent" % H1)
        self.assertEqual(st, 400)
        self.assertEqual(body["error"]["parameter"], "situation")

    # ---- 6. conflicts ----
    def test_conflict_is_one_message(self):
        s = self.statuses()["P-A"]["physiotherapy"]
        c = s["consequence"]
        self.assertEqual(s["basis"], "conflict")
        self.assertEqual(c["presentation"], "conflict")
        self.assertTrue(c["text"].startswith(
            "Uw zorgverzekeraar zegt: er is geen contract. De zorgaanbieder zegt: er is een "
            "contract. Wat u vergoed krijgt, volgt wat uw zorgverzekeraar zegt. Vraag het na bij "
            "uw zorgverzekeraar."), c["text"])
        self.assertNotIn("conflict", self.warnings(s), "not an answer plus a doubt")
        self.assertNotIn("heeft geen contract met uw zorgverzekeraar", c["text"])
        self.assertEqual(c["code"], "not_contracted_partial", "the insurer's word decides")

    # ---- 9. basis, defined ----
    def test_staff_see_concern_level_consistency(self):
        pub = self.statuses(agb=H2)["P-C"]["hospital"]
        self.assertEqual((pub["status"], pub["basis"]), ("not_contracted", "insurer"))
        self.assertNotIn("agreement", pub["sources"][1])
        staff = self.statuses(agb=H2, headers={"Authorization": "Bearer " + TOKEN})["P-C"]["hospital"]
        prov = [x for x in staff["sources"] if x["kind"] == "provider"][0]
        self.assertEqual(prov["agreement"], "consistent_at_concern_level")
        self.assertEqual(prov["name"], "Ziekenhuis Een")

    # ---- 10. compare and similar ----
    def test_compare_equal_coverage_equal_rank(self):
        st, _, body = self.d.get("/v1/compare?agb=%s&year=2026&care_type=hospital" % H2)
        self.assertEqual(st, 200, body)
        ranks = {p["policy"]["id"]: p["rank"] for p in body["policies"]}
        self.assertEqual(ranks, {"P-A": 1, "P-B": 1, "P-C": 3})
        self.assertEqual([p["rank"] for p in body["policies"]], [1, 1, 3])

    def test_similar_requested_policy_on_side_a(self):
        for me, other, mine, theirs in (("P-A", "P-B", 75, 65), ("P-B", "P-A", 65, 75)):
            st, _, body = self.d.get("/v1/policies/%s/similar?year=2026" % me)
            self.assertEqual(st, 200, body)
            item = {x["policy"]["id"]: x for x in body["similar"]}[other]
            self.assertEqual(item["a"], me)
            self.assertEqual(item["b"], other)
            diffs = item["reasons"]["reimbursement_differences"]
            self.assertTrue(diffs)
            for d in diffs:
                self.assertEqual((d["a_percent"], d["b_percent"]), (mine, theirs), d)

    # ---- 11. a newcomer's first minutes ----
    def test_index_and_www(self):
        st, _, body = self.d.get("/v1/")
        self.assertEqual(st, 200, body)
        paths = {e["path"] for e in body["endpoints"]}
        self.assertIn("/v1/labels", paths)
        self.assertIn("/v1/providers/{agb}", paths)
        self.assertEqual(body["links"]["openapi"], "/v1/openapi.json")
        # a past year without data says so (instead of an empty list)
        for path in ("/v1/policies?year=2020", "/v1/providers/%s?year=2020" % H1,
                     "/v1/compare?agb=%s&year=2020" % H2):
            st, _, body = self.d.get(path)
            self.assertEqual(st, 404, path)
            self.assertEqual((body["error"]["code"], body["error"]["parameter"]), ("no_data", "year"))
            self.assertEqual(body["error"]["text"], "Over 2020 hebben wij geen gegevens.")
        st, _, body = self.d.get("/v1/policies?year=2026")
        self.assertEqual((st, len(body["policies"])), (200, 3))
        with urllib.request.urlopen("http://127.0.0.1:%d/www/" % self.d.port, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn(b"<html", r.read().lower())


class FeedFieldsTest(DaemonTestCase):
    """The new feed fields are validated: a record whose since is not a date is an invalid
    record (reported with its line and field); a header whose publisher is not an object with a
    name rejects the version."""

    def test_bad_since_and_bad_publisher(self):
        s = self.start_server()
        hdr = insurer_header("cz", "CZ Groep", "9001", "Testverzekeraar N.V.")
        recs = [policy("P-A", 2026, "Alfa", "natura", [rule("*", 75, "avg_contracted_tariff")]),
                status(H1, 2026, "hospital", "contracted", policy="P-A", since="2020-13-01"),
                status(H1, 2026, "acute", "contracted", policy="P-A", since="2021-02-03")]
        s.set_content("/ins.jsonl", feed(hdr, recs))
        bad = dict(hdr, publisher="Testverzekeraar")
        s.set_content("/bad.jsonl", feed(bad, recs[:1]))
        d = self.start_daemon([Feed("ins", "insurer", s.url("/ins.jsonl"), max_invalid_rows=1),
                               Feed("bad", "insurer", s.url("/bad.jsonl"))],
                              now="2026-11-20T12:00:00")
        d.wait_success("ins")
        d.wait_feed("bad", lambda f: f.get("last_error"), "the bad header rejected")
        feeds = d.feeds()
        self.assertEqual([(e["line"], e["field"]) for e in feeds["ins"]["errors"]], [(3, "since")])
        self.assertIsNone(feeds["bad"]["last_success"])
        self.assertIn("publisher", feeds["bad"]["last_error"]["message"])
        st, _, body = d.get("/v1/providers/%s?year=2026" % H1)
        got = statuses_by_policy(body, 2026)["P-A"]
        self.assertEqual(got["acute"]["since"], "2021-02-03")
        self.assertNotIn("hospital", got)


if __name__ == "__main__":
    unittest.main()
