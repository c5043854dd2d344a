"""Black-box tests: similar policies (domain.md "Similar policies", issue 5).

Hand-built feeds whose answers are known in advance. Contract year 2026, care type hospital,
100 hospitals 06000001..06000100. Concern "alpha" (insurer 9001):
  A-BASIS   natura 75%  contracts all 100
  A-TWIN    natura 75%  contracts all 100           (identical network, other name, not declared)
  A-COPY98  natura 75%  contracts 98 of the 100     (2% fewer; declared very_similar to A-BASIS)
  A-LOW     natura 65%  contracts all 100           (reimbursement 10 points lower)
  A-BUDGET  budget 75%  contracts 50 of the 100     (declared equal to A-BASIS: differs a lot)
Concern "beta" (insurer 9002):
  B-BASIS   natura 75%  contracts all 100           (a look-alike of another concern)

Default thresholds: equal = overlap 100% and 0 points; very similar = overlap >= 95% and <= 5
points. Overlap = |common| / |union| of contracted (provider, care type) pairs. So, for A-BASIS:
  A-TWIN   100/100 = 1.00, 0 points  -> equal,        not declared -> finding undeclared_twin
  A-COPY98  98/100 = 0.98, 0 points  -> very_similar, declared     -> no finding
  A-LOW    100/100 = 1.00, 10 points -> different,    not declared -> no finding
  A-BUDGET  50/100 = 0.50, 0 points  -> different,    declared equal -> declared_but_different
  B-BASIS: other concern, never compared.
"""

import unittest

from harness import DaemonTestCase, Feed, feed, insurer_header, policy, rule, status


def similar_rec(year, a, b, relation):
    return {"type": "similar", "year": year, "policies": [a, b], "relation": relation}

N = 100
AGBS = ["060%05d" % i for i in range(1, N + 1)]


def alpha_feed():
    recs = [
        policy("A-BASIS", 2026, "Alpha Basis", "natura", [rule("*", 75, "avg_contracted_tariff")]),
        policy("A-TWIN", 2026, "Alpha Twin", "natura", [rule("*", 75, "avg_contracted_tariff")]),
        policy("A-COPY98", 2026, "Alpha Copy", "natura", [rule("*", 75, "avg_contracted_tariff")]),
        policy("A-LOW", 2026, "Alpha Low", "natura", [rule("*", 65, "avg_contracted_tariff")]),
        policy("A-BUDGET", 2026, "Alpha Budget", "budget", [rule("*", 75, "avg_contracted_tariff")]),
    ]
    for i, agb in enumerate(AGBS):
        for pid in ("A-BASIS", "A-TWIN", "A-LOW"):
            recs.append(status(agb, 2026, "hospital", "contracted", policy=pid))
        recs.append(status(agb, 2026, "hospital", "contracted" if i < 98 else "not_contracted",
                           policy="A-COPY98"))
        recs.append(status(agb, 2026, "hospital", "contracted" if i < 50 else "not_contracted",
                           policy="A-BUDGET"))
    recs.append(similar_rec(2026, "A-BASIS", "A-COPY98", "very_similar"))
    recs.append(similar_rec(2026, "A-BASIS", "A-BUDGET", "equal"))
    return feed(insurer_header("alpha", "Alpha Groep", "9001", "Alpha Zorg"), recs)


def beta_feed():
    recs = [policy("B-BASIS", 2026, "Beta Basis", "natura", [rule("*", 75, "avg_contracted_tariff")])]
    recs += [status(agb, 2026, "hospital", "contracted", policy="B-BASIS") for agb in AGBS]
    return feed(insurer_header("beta", "Beta Groep", "9002", "Beta Zorg"), recs)


class SimilarTest(DaemonTestCase):
    settings = None

    def setUp(self):
        s = self.start_server()
        s.set_content("/alpha.jsonl", alpha_feed())
        s.set_content("/beta.jsonl", beta_feed())
        self.d = self.start_daemon([Feed("alpha", "insurer", s.url("/alpha.jsonl")),
                                    Feed("beta", "insurer", s.url("/beta.jsonl"))],
                                   now="2026-06-01T12:00:00", settings=self.settings)
        self.d.wait_success("alpha")
        self.d.wait_success("beta")

    def similar_of(self, pid):
        st, _, body = self.d.get("/v1/policies/%s/similar?year=2026" % pid)
        self.assertEqual(st, 200, body)
        return {x["policy"]["id"]: x for x in body["similar"]}


class DefaultThresholds(SimilarTest):
    def test_verdicts_and_findings(self):
        sim = self.similar_of("A-BASIS")
        self.assertEqual(set(sim), {"A-TWIN", "A-COPY98", "A-LOW", "A-BUDGET"},
                         "only the policies of the same concern are compared")
        self.assertEqual(sim["A-TWIN"]["verdict"], "equal")
        self.assertAlmostEqual(sim["A-TWIN"]["overlap"], 1.0)
        self.assertIsNone(sim["A-TWIN"]["declared"])
        self.assertEqual(sim["A-TWIN"]["finding"], "undeclared_twin")

        self.assertEqual(sim["A-COPY98"]["verdict"], "very_similar")
        self.assertAlmostEqual(sim["A-COPY98"]["overlap"], 0.98)
        self.assertEqual(sim["A-COPY98"]["common"], 98)
        self.assertEqual(sim["A-COPY98"]["only_this"], 2)
        self.assertEqual(sim["A-COPY98"]["only_other"], 0)
        self.assertEqual(sim["A-COPY98"]["declared"], "very_similar")
        self.assertIsNone(sim["A-COPY98"]["finding"])

        self.assertEqual(sim["A-LOW"]["verdict"], "different")
        self.assertAlmostEqual(sim["A-LOW"]["max_percent_difference"], 10.0)
        self.assertIsNone(sim["A-LOW"]["finding"])
        diffs = sim["A-LOW"]["reasons"]["reimbursement_differences"]
        self.assertTrue(diffs and all(abs(abs(d["a_percent"] - d["b_percent"]) - 10) < 1e-9
                                      for d in diffs), diffs)

        self.assertEqual(sim["A-BUDGET"]["verdict"], "different")
        self.assertAlmostEqual(sim["A-BUDGET"]["overlap"], 0.5)
        self.assertEqual(sim["A-BUDGET"]["declared"], "equal")
        self.assertEqual(sim["A-BUDGET"]["finding"], "declared_but_different")
        ex = sim["A-BUDGET"]["reasons"]
        self.assertEqual(len(ex["only_in_a_examples"]) + len(ex["only_in_b_examples"]), 3)
        net = {n["care_type"]: n for n in ex["network_differences"]}
        self.assertEqual(net["hospital"]["common"], 50)
        self.assertEqual(net["hospital"]["only_a"] + net["hospital"]["only_b"], 50)

    def test_other_concern_never_flagged(self):
        sim = self.similar_of("B-BASIS")
        self.assertEqual(sim, {})

    def test_twins_on_policy_objects(self):
        st, _, body = self.d.get("/v1/policies?year=2026")
        self.assertEqual(st, 200)
        pol = {p["id"]: p for p in body["policies"]}
        twins = {t["id"]: t for t in pol["A-BASIS"]["similar"]}
        # equal/very similar or declared; A-LOW (different, not declared) is not a twin
        self.assertEqual(set(twins), {"A-TWIN", "A-COPY98", "A-BUDGET"})
        self.assertEqual(twins["A-BUDGET"]["finding"], "declared_but_different")
        self.assertEqual(pol["B-BASIS"]["similar"], [])

    def test_unknown_policy_and_bad_id(self):
        st, _, body = self.d.get("/v1/policies/NOPE/similar?year=2026")
        self.assertEqual(st, 404)
        self.assertEqual(body["error"]["parameter"], "id")
        st, _, body = self.d.get("/v1/policies/bad%20id/similar?year=2026")
        self.assertEqual(st, 400)


class StricterThresholds(SimilarTest):
    settings = {"similar_very_overlap": 99}

    def test_threshold_is_configurable(self):
        sim = self.similar_of("A-BASIS")
        # 0.98 < 0.99: no longer very similar, and the declaration becomes a finding
        self.assertEqual(sim["A-COPY98"]["verdict"], "different")
        self.assertEqual(sim["A-COPY98"]["finding"], "declared_but_different")
        self.assertEqual(sim["A-TWIN"]["verdict"], "equal")


if __name__ == "__main__":
    unittest.main()
