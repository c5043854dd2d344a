"""Black-box tests: /v1/search relevance and /v1/compare ranking on the sample feeds.

Every expected value below is written by hand from feeds/SAMPLES.md (providers, locations,
statuses) and the rules in the header comments of src/zs_search.c and src/zs_compare.c -- not
copied from the daemon's output.

Search rules (zs_search.c): the query is folded (lower case, no diacritics) and split into words;
every word is a prefix term (the half-typed last word matches), word order does not matter;
abbreviations expand (st = sint, zh/zkh = ziekenhuis, mc = medisch centrum); words of 4+ letters
get fuzzy alternatives (edit distance 1, 2 from 8 letters) when the strict query yields fewer
hits than asked.  Ranking: exact name, then name starting with the query, then other matches by
bm25 (name 10x place), then fuzzy; ties by name, then AGB.  An 8-digit query is an AGB lookup; a
postcode (1234 or 1234AB) searches locations.  Filters: postcode, city, kind, care_type (a status
for that care type in the year).  The hit's match field: agb | exact | prefix | words | fuzzy.
Since issue 12 the words people use for a provider's kind are searchable too (data/search.json
"care_words": "ziekenhuis" for every hospital, "ggz" for every mental-health provider), after the
name matches: so Máxima MC (a hospital without "ziekenhuis" in its name) and Psychologenpraktijk
Weltevreden (mental health without "ggz" in its name) are found by those words, last.

The providers (SAMPLES.md, "Providers"; name, first location):
  06010101 Sint Antonius Ziekenhuis      Nieuwegein 3435CM (+ Utrecht 3543AZ)   hospital
  06010202 Máxima MC                     Veldhoven 5504DB (+ Eindhoven 5631BM)  hospital
  06010303 Ziekenhuis Gelderse Vallei    Ede 6716RP                             hospital
  06020101 Ziekenhuis Kromme Rijn        Houten 3991AA                          hospital
  06020202 Lekstede Ziekenhuis           Vianen 4131NK                          hospital
  06030101 Noorderpark Ziekenhuis        Leeuwarden 8911AN                      hospital
  22020101 Heuvelrug Kliniek             Zeist 3708DL                           ibc
  94060101 GGZ Dijk en Duin              Castricum 1901ZZ                       mental_health
  94060202 Psychologenpraktijk Weltevreden Utrecht 3572BR                       mental_health
  94060303 GGZ Noorderlicht              Groningen 9725AG                       mental_health
  47470101 Buurtzorg Zuidoost            Amsterdam 1102DB                       district_nursing
  47470202 Wijkverpleging Kempenland     Veldhoven 5503AA                       district_nursing
  04040101 Fysiotherapie De Brug         Zwolle 8012DH                          physiotherapy
  04040202 Fysiotherapie Oosterpark      Groningen 9714BJ                       physiotherapy
  01010101 Huisartsenpraktijk 't Hofje   Den Haag 2562GV                        gp
  01010202 Huisartsenpraktijk De Linde   Veldhoven 5502AB                       gp
  01010303 Gezondheidscentrum Súdwest    Sneek 8601BS                           gp
  08080101 Verloskundigenpraktijk De Wieg Ede 6711PT                            maternity
"""

import json
import unittest
import urllib.parse

from openapi_check import start_sample_daemon, stop_daemon

SINT_ANTONIUS = "06010101"
MAXIMA = "06010202"
GELDERSE_VALLEI = "06010303"
KROMME_RIJN = "06020101"
LEKSTEDE = "06020202"
NOORDERPARK = "06030101"
HEUVELRUG = "22020101"
DIJK_EN_DUIN = "94060101"
WELTEVREDEN = "94060202"
NOORDERLICHT = "94060303"
BUURTZORG = "47470101"
KEMPENLAND = "47470202"
DE_BRUG = "04040101"
OOSTERPARK = "04040202"
HOFJE = "01010101"
DE_LINDE = "01010202"
SUDWEST = "01010303"
DE_WIEG = "08080101"

# Hospitals whose name starts with "Ziekenhuis", and those with it as a later word.
ZIEKENHUIS_FIRST = [GELDERSE_VALLEI, KROMME_RIJN]          # by name: Gelderse < Kromme
ZIEKENHUIS_LATER = {SINT_ANTONIUS, LEKSTEDE, NOORDERPARK}
ZIEKENHUIS_KIND = MAXIMA                                    # a hospital: by its kind, last


class SampleDaemonCase(unittest.TestCase):
    d = None

    @classmethod
    def setUpClass(cls):
        cls.d = start_sample_daemon()

    @classmethod
    def tearDownClass(cls):
        if cls.d is not None:
            stop_daemon(cls.d)

    def api(self, path, **params):
        url = path + ("?" + urllib.parse.urlencode(params) if params else "")
        st, _, body = self.d.get(url)
        self.assertEqual(st, 200, "%s -> %d %s" % (url, st, json.dumps(body)[:300]))
        return body


class SearchTest(SampleDaemonCase):
    def search(self, **params):
        body = self.api("/v1/search", **params)
        for key in ("query", "total", "limit", "offset", "results"):
            self.assertIn(key, body)
        for hit in body["results"]:
            self.assertEqual(hit["href"], "/v1/providers/%s" % hit["agb"])
        return body

    def agbs(self, body):
        return [h["agb"] for h in body["results"]]

    def hit(self, body, agb):
        for h in body["results"]:
            if h["agb"] == agb:
                return h
        self.fail("%s not among the hits %s" % (agb, self.agbs(body)))

    # names, abbreviations, word order
    def test_st_antonius(self):
        b = self.search(q="st antonius")
        self.assertEqual(self.agbs(b), [SINT_ANTONIUS])
        self.assertEqual(b["total"], 1)
        # "st" is written out: "sint antonius" is the start of "sint antonius ziekenhuis"
        self.assertEqual(b["results"][0]["match"], "prefix")
        h = b["results"][0]
        self.assertEqual((h["name"], h["kind"], h["city"], h["postcode"]),
                         ("Sint Antonius Ziekenhuis", "hospital", "Nieuwegein", "3435CM"))
        self.assertEqual(b["query"], "st antonius")

    def test_word_order(self):
        b = self.search(q="antonius st")
        self.assertEqual(self.agbs(b), [SINT_ANTONIUS])
        self.assertEqual(b["results"][0]["match"], "words")
        b = self.search(q="ziekenhuis antonius")
        self.assertEqual(self.agbs(b), [SINT_ANTONIUS])

    def test_exact_name_first(self):
        for q in ("sint antonius ziekenhuis", "Sint Antonius Ziekenhuis",
                  "St. Antonius Ziekenhuis", "SINT ANTONIUS ZIEKENHUIS"):
            with self.subTest(q=q):
                b = self.search(q=q)
                self.assertEqual(self.agbs(b)[:1], [SINT_ANTONIUS])
                self.assertEqual(b["results"][0]["match"], "exact")
        b = self.search(q="ziekenhuis gelderse vallei")
        self.assertEqual(self.agbs(b), [GELDERSE_VALLEI])
        self.assertEqual(b["results"][0]["match"], "exact")

    def test_exact_before_words(self):
        # the whole name of Lekstede Ziekenhuis: exact, and no other provider has both words
        b = self.search(q="lekstede ziekenhuis")
        self.assertEqual(self.agbs(b), [LEKSTEDE])
        self.assertEqual(b["results"][0]["match"], "exact")

    def test_maxima_without_and_with_accent(self):
        for q in ("maxima", "Máxima", "MAXIMA", "máx", "Maxi"):
            with self.subTest(q=q):
                b = self.search(q=q)
                self.assertEqual(self.agbs(b), [MAXIMA])
                self.assertEqual(b["results"][0]["name"], "Máxima MC")
                self.assertEqual(b["results"][0]["match"], "prefix")
        for q in ("máxima mc", "Maxima MC"):
            with self.subTest(q=q):
                b = self.search(q=q)
                self.assertEqual(self.agbs(b), [MAXIMA])
                self.assertEqual(b["results"][0]["match"], "exact")

    def test_maxima_decomposed_accent(self):
        """"Ma\\u0301xima" (a + combining acute, NFD, as some systems send it) is the same
        text with a diacritic: folding must drop the mark, not split the word."""
        b = self.search(q="Ma\u0301xima")
        self.assertEqual(self.agbs(b), [MAXIMA])

    def test_other_diacritics(self):
        b = self.search(q="sudwest")
        self.assertEqual(self.agbs(b), [SUDWEST])
        b = self.search(q="Súdwest")
        self.assertEqual(self.agbs(b), [SUDWEST])
        b = self.search(q="coöperatie")   # a concern name, not a provider: nothing
        self.assertEqual(b["results"], [])

    def test_apostrophe(self):
        b = self.search(q="'t hofje")
        self.assertEqual(self.agbs(b), [HOFJE])
        b = self.search(q="hofje")
        self.assertEqual(self.agbs(b), [HOFJE])

    # typos
    def test_typo_antonuis(self):
        b = self.search(q="antonuis")     # transposition: distance 1 from "antonius"
        self.assertEqual(self.agbs(b), [SINT_ANTONIUS])
        self.assertEqual(b["results"][0]["match"], "fuzzy")
        b = self.search(q="ziekenhuis antonuis")
        self.assertEqual(self.agbs(b), [SINT_ANTONIUS])
        self.assertEqual(b["results"][0]["match"], "fuzzy")

    def test_typo_other(self):
        b = self.search(q="gelderse valei")   # "valei": one letter missing from "vallei"
        self.assertEqual(self.agbs(b), [GELDERSE_VALLEI])
        self.assertEqual(b["results"][0]["match"], "fuzzy")
        b = self.search(q="noorderlict")      # one letter missing
        self.assertEqual(self.agbs(b), [NOORDERLICHT])

    def test_strict_hits_before_fuzzy(self):
        # "brug" and "dijk" match De Brug / GGZ Dijk en Duin strictly; fuzzy alternatives of
        # these 4-letter words may add other providers -- only after the strict hits.
        for q, agb in (("brug", DE_BRUG), ("dijk", DIJK_EN_DUIN)):
            with self.subTest(q=q):
                b = self.search(q=q)
                self.assertEqual(self.agbs(b)[0], agb)
                self.assertNotEqual(b["results"][0]["match"], "fuzzy")
                tiers = [h["match"] for h in b["results"]]
                if "fuzzy" in tiers:
                    self.assertTrue(all(t == "fuzzy" for t in tiers[tiers.index("fuzzy"):]),
                                    tiers)

    # prefix as you type
    def test_prefix_as_you_type(self):
        for q in ("zie", "ziek", "zieken", "ziekenh", "ziekenhuis", "Ziekenhuis", "zh", "zkh"):
            with self.subTest(q=q):
                b = self.search(q=q)
                got = self.agbs(b)
                self.assertEqual(b["total"], 6, got)
                self.assertEqual(set(got), set(ZIEKENHUIS_FIRST) | ZIEKENHUIS_LATER |
                                 {ZIEKENHUIS_KIND})
                # names starting with the query first, then the other name matches, then the
                # hospital found by its kind only
                self.assertEqual(set(got[:2]), set(ZIEKENHUIS_FIRST), got)
                self.assertEqual(set(got[2:5]), ZIEKENHUIS_LATER, got)
                self.assertEqual(got[5], ZIEKENHUIS_KIND, got)
                self.assertEqual([h["match"] for h in b["results"]],
                                 ["prefix", "prefix", "words", "words", "words", "words"])

    def test_prefix_tier_ties_by_name(self):
        """Two names that both start with the query rank equal on the rule; ties go by name
        (zs_search.c: "ties by name, then AGB"): Ziekenhuis Gelderse Vallei before Ziekenhuis
        Kromme Rijn, GGZ Dijk en Duin before GGZ Noorderlicht."""
        b = self.search(q="ziekenhuis")
        self.assertEqual(self.agbs(b)[:2], ZIEKENHUIS_FIRST)
        b = self.search(q="ggz")   # then Weltevreden, mental health by its kind
        self.assertEqual(self.agbs(b), [DIJK_EN_DUIN, NOORDERLICHT, WELTEVREDEN])

    def test_prefix_two_words(self):
        b = self.search(q="ziekenhuis g")
        self.assertEqual(self.agbs(b), [GELDERSE_VALLEI])
        self.assertEqual(b["results"][0]["match"], "prefix")
        # "k": Kromme Rijn by its name, Sint Antonius by its street (Koekoekslaan)
        b = self.search(q="ziekenhuis k")
        self.assertEqual(self.agbs(b), [KROMME_RIJN, SINT_ANTONIUS])
        self.assertEqual([h["match"] for h in b["results"]], ["prefix", "words"])

    # AGB
    def test_agb_exact(self):
        for agb in (SINT_ANTONIUS, DE_BRUG, SUDWEST):
            with self.subTest(agb=agb):
                b = self.search(q=agb)
                self.assertEqual(self.agbs(b), [agb])
                self.assertEqual(b["results"][0]["match"], "agb")
                self.assertEqual(b["total"], 1)
        b = self.search(q=" 06010202 ")
        self.assertEqual(self.agbs(b), [MAXIMA])

    def test_agb_unknown(self):
        b = self.search(q="06999999")
        self.assertEqual(b["results"], [])
        self.assertEqual(b["total"], 0)

    # postcodes
    def test_postcode_in_query(self):
        for q in ("3435", "3435CM", "3435cm", "3435 cm", "3435 CM"):
            with self.subTest(q=q):
                b = self.search(q=q)
                self.assertEqual(self.agbs(b), [SINT_ANTONIUS])

    def test_postcode_parameter(self):
        for pc in ("3435", "3435CM", "3435cm", "3435 cm", "3435 CM"):
            with self.subTest(postcode=pc):
                b = self.search(postcode=pc)
                self.assertEqual(self.agbs(b), [SINT_ANTONIUS])
        # second location of Sint Antonius (Utrecht)
        self.assertEqual(self.agbs(self.search(postcode="3543AZ")), [SINT_ANTONIUS])
        self.assertEqual(self.agbs(self.search(postcode="5504")), [MAXIMA])
        self.assertEqual(self.agbs(self.search(postcode="5631BM")), [MAXIMA])
        self.assertEqual(self.agbs(self.search(postcode="5502")), [DE_LINDE])
        # area with no provider, full postcode of another street
        self.assertEqual(self.search(postcode="1234")["results"], [])
        self.assertEqual(self.search(postcode="3435AB")["results"], [])

    def test_postcode_with_query(self):
        b = self.search(q="ziekenhuis", postcode="3435")
        self.assertEqual(self.agbs(b), [SINT_ANTONIUS])
        # Máxima MC has no "ziekenhuis" in its name, but it is a hospital
        b = self.search(q="ziekenhuis", postcode="5504")
        self.assertEqual(self.agbs(b), [MAXIMA])
        b = self.search(q="huisarts", postcode="5504")
        self.assertEqual(b["results"], [])

    # filters
    def test_city_filter(self):
        for city in ("Veldhoven", "veldhoven", "VELDHOVEN"):
            with self.subTest(city=city):
                b = self.search(city=city)
                self.assertEqual(set(self.agbs(b)), {MAXIMA, KEMPENLAND, DE_LINDE})
                self.assertEqual(b["total"], 3)
        # any location counts: Sint Antonius has a second location in Utrecht
        self.assertEqual(set(self.agbs(self.search(city="Utrecht"))), {SINT_ANTONIUS, WELTEVREDEN})
        self.assertEqual(self.agbs(self.search(q="ziekenhuis", city="Utrecht")), [SINT_ANTONIUS])
        self.assertEqual(set(self.agbs(self.search(city="Ede"))), {GELDERSE_VALLEI, DE_WIEG})
        self.assertEqual(self.agbs(self.search(city="Den Haag")), [HOFJE])
        self.assertEqual(set(self.agbs(self.search(city="Groningen"))),
                         {NOORDERLICHT, OOSTERPARK})
        self.assertEqual(self.search(city="Maastricht")["results"], [])
        self.assertEqual(self.search(q="fysiotherapie", city="Veldhoven")["results"], [])

    def test_kind_filter(self):
        self.assertEqual(set(self.agbs(self.search(q="ggz", kind="mental_health"))),
                         {DIJK_EN_DUIN, NOORDERLICHT, WELTEVREDEN})
        self.assertEqual(self.search(q="ggz", kind="hospital")["results"], [])
        self.assertEqual(set(self.agbs(self.search(q="fysio", kind="physiotherapy"))),
                         {DE_BRUG, OOSTERPARK})
        self.assertEqual(self.agbs(self.search(city="Veldhoven", kind="gp")), [DE_LINDE])
        self.assertEqual(self.agbs(self.search(city="Veldhoven", kind="hospital")), [MAXIMA])
        # "de": De Linde by its name, 't Hofje by its city Den Haag; the name weighs more
        b = self.search(q="de", kind="gp")
        self.assertEqual(self.agbs(b), [DE_LINDE, HOFJE])

    def test_care_type_filter(self):
        # 2026 (current year): maternity statuses exist for 06010101 and 08080101 only
        b = self.search(q="ziekenhuis", care_type="maternity")
        self.assertEqual(self.agbs(b), [SINT_ANTONIUS])
        # 2027: maternity statuses for 06010202 (Máxima, a hospital) and 08080101
        self.assertEqual(self.agbs(self.search(q="ziekenhuis", care_type="maternity", year=2027)),
                         [MAXIMA])
        self.assertEqual(self.agbs(self.search(q="mc", care_type="maternity", year=2027)),
                         [MAXIMA])
        # acute: 06010101 in 2026; 06010101 and 06010202 in 2027
        self.assertEqual(self.agbs(self.search(q="ziekenhuis", care_type="acute")),
                         [SINT_ANTONIUS])
        self.assertEqual(set(self.agbs(self.search(city="Veldhoven", care_type="acute",
                                                   year=2027))), {MAXIMA})
        self.assertEqual(self.agbs(self.search(city="Veldhoven", care_type="gp")), [DE_LINDE])
        self.assertEqual(self.search(q="ziekenhuis", care_type="pharmacy")["results"], [])

    # paging
    def test_paging_stable_without_duplicates(self):
        for params, size in ((dict(q="ziekenhuis"), 2), (dict(q="e"), 3), (dict(q="e"), 1),
                             (dict(city="Veldhoven"), 2), (dict(q="brug"), 1),
                             (dict(q="dijk"), 1), (dict(q="antonuis"), 1)):
            with self.subTest(params=params, size=size):
                full = self.search(limit=50, **params)
                self.assertEqual(full["total"], len(full["results"]))
                again = self.search(limit=50, **params)
                self.assertEqual(self.agbs(again), self.agbs(full), "not stable")
                pages, offset = [], 0
                while True:
                    p = self.search(limit=size, offset=offset, **params)
                    self.assertEqual(p["total"], full["total"],
                                     "total at limit=%d offset=%d differs from limit=50 (%s)"
                                     % (size, offset, self.agbs(full)))
                    self.assertEqual((p["limit"], p["offset"]), (size, offset))
                    self.assertLessEqual(len(p["results"]), size)
                    if not p["results"]:
                        break
                    pages += self.agbs(p)
                    offset += size
                self.assertEqual(len(pages), len(set(pages)), "duplicates across pages")
                self.assertEqual(pages, self.agbs(full))
        b = self.search(q="ziekenhuis", offset=6)
        self.assertEqual((b["total"], b["results"]), (6, []))

    def test_paging_reaches_fuzzy(self):
        # the fuzzy pass runs when the strict hits do not fill offset + limit
        b = self.search(q="antonuis", limit=1, offset=0)
        self.assertEqual(self.agbs(b), [SINT_ANTONIUS])

    def test_default_limit(self):
        b = self.search(q="e")
        self.assertEqual((b["limit"], b["offset"]), (10, 0))
        self.assertLessEqual(len(b["results"]), 10)

    # nothing found
    def test_unknown_words_empty(self):
        for q in ("xyzzyqq", "qwerty uiop", "ziekenhuis xyzzyqq", "zzzzzzzzzzzz"):
            with self.subTest(q=q):
                b = self.search(q=q)
                self.assertEqual(b["results"], [])
                self.assertEqual(b["total"], 0)
                self.assertEqual(b["query"], q)


class CompareTest(SampleDaemonCase):
    """zs_compare.c: a provider counts as covered by a policy when at least one of its care
    types that year (or only the care_type asked) is contracted, contracted_ceiling, or
    negotiating with the as-contracted declaration for that policy, and none is explicitly not
    covered; care types nobody states for that policy neither cover nor block.  Ranking: most
    covered first; equal coverage gives an equal rank (1, 1, 3), and within a rank the order is
    neutral (a hash of the question and the policy id, issue 13): the tests compare each rank's
    set of policies, not their order within it.

    Display order of the nine policies (concern, insurer, policy name), same both years:
      Coöperatie Deltazorg U.A. / Deltazorg:  9301-BASIS "Delta Basis", 9301-KEUZE "Delta
        Keuzepolis"
      Noordkust / Noordkust:                  9201-VRIJ "Noordkust Vrije Keuze", 9201-NATURA
        "Noordkust Zorg Natura"
      ZuiderZorg Groep / Polderpolis:         9102-COMBI "Combinatie Polis", 9102-NATURA
        "Natura Polis"
      ZuiderZorg Groep / ZuiderZorg:          9101-NATURA "Basis Zorg Natura", 9101-BUDGET
        "Budget Basis", 9101-DIRECT "Direct Basis"
    """
    DISPLAY = ["9301-BASIS", "9301-KEUZE", "9201-VRIJ", "9201-NATURA", "9102-COMBI",
               "9102-NATURA", "9101-NATURA", "9101-BUDGET", "9101-DIRECT"]
    ZUIDERZORG = ["9102-COMBI", "9102-NATURA", "9101-NATURA", "9101-BUDGET", "9101-DIRECT"]

    def compare(self, **params):
        b = self.api("/v1/compare", **params)
        for k, p in enumerate(b["policies"]):
            self.assertEqual(p["rank"], 1 + sum(1 for q in b["policies"] if q["covered"] > p["covered"]))
            if k:
                self.assertLessEqual(p["covered"], b["policies"][k - 1]["covered"])
            self.assertEqual(p["of"], len(b["providers"]))
            self.assertEqual(p["covered"], sum(1 for x in p["providers"] if x["covered"]))
            self.assertEqual(p["covers_all"], p["of"] > 0 and p["covered"] == p["of"])
        return b

    def ranking(self, b):
        return [(p["policy"]["id"], p["covered"]) for p in b["policies"]]

    def assertRanking(self, b, expected):
        """The same coverage per policy, ranked by coverage (order within a rank is neutral)."""
        key = lambda t: (-t[1], t[0])  # noqa: E731
        self.assertEqual(sorted(self.ranking(b), key=key), sorted(expected, key=key))

    def covered_by(self, b, agb):
        return {p["policy"]["id"]: [x for x in p["providers"] if x["agb"] == agb][0]["covered"]
                for p in b["policies"]}

    def test_hospital_and_physio_2027(self):
        # 06010101 in 2027 has statements for hospital and acute:
        #   zuiderzorg concern: hospital negotiating + as_contracted (G), acute contracted (G4)
        #     -> covered by the 5 ZuiderZorg-concern policies
        #   9201: hospital negotiating without declaration (G2) -> not covered
        #   9301: hospital contracted (G3); nobody states acute (unknown, ignored) -> covered
        # 04040101 in 2027, physiotherapy only: provider_only contracted for zuiderzorg and
        #   noordkust (E, E2), confirmed contracted for deltazorg (E3) -> covered by all nine.
        b = self.compare(agb="06010101,04040101", year=2027)
        self.assertEqual(b["year"], 2027)
        self.assertIsNone(b["care_type"])
        self.assertEqual([p["agb"] for p in b["providers"]], [SINT_ANTONIUS, DE_BRUG])
        self.assertEqual(b["unknown_agb"], [])
        self.assertRanking(b, [
            ("9301-BASIS", 2), ("9301-KEUZE", 2),
            ("9102-COMBI", 2), ("9102-NATURA", 2), ("9101-NATURA", 2), ("9101-BUDGET", 2),
            ("9101-DIRECT", 2), ("9201-VRIJ", 1), ("9201-NATURA", 1)])
        self.assertEqual([p["covers_all"] for p in b["policies"]], [True] * 7 + [False] * 2)
        cov = self.covered_by(b, SINT_ANTONIUS)
        self.assertEqual({k for k, v in cov.items() if v},
                         set(self.ZUIDERZORG) | {"9301-BASIS", "9301-KEUZE"})
        cov = self.covered_by(b, DE_BRUG)
        self.assertTrue(all(cov.values()))
        # statuses per provider: one per care type stated that year
        p = b["policies"][0]
        sts = {x["agb"]: [s["care_type"] for s in x["statuses"]] for x in p["providers"]}
        self.assertEqual(sts, {SINT_ANTONIUS: ["acute", "hospital"], DE_BRUG: ["physiotherapy"]})

    def test_unknown_agb_reported(self):
        b = self.compare(agb="06999999,06010101,04040101", year=2027)
        self.assertEqual(b["unknown_agb"], ["06999999"])
        self.assertEqual([p["agb"] for p in b["providers"]], [SINT_ANTONIUS, DE_BRUG])
        self.assertIn(("9301-BASIS", 2), self.ranking(b))
        self.assertEqual(b["policies"][0]["covered"], 2)
        self.assertTrue(all(p["of"] == 2 for p in b["policies"]))
        for p in b["policies"]:
            self.assertNotIn("06999999", [x["agb"] for x in p["providers"]])
        b = self.compare(agb="06999999", year=2027)
        self.assertEqual(b["unknown_agb"], ["06999999"])
        self.assertEqual(b["providers"], [])
        # nothing covered anywhere: the plain display order
        self.assertRanking(b, [(pid, 0) for pid in self.DISPLAY])
        self.assertTrue(all(p["covers_all"] is False for p in b["policies"]))

    def test_duplicate_agb_counts_once(self):
        b = self.compare(agb="06010101,06010101", year=2027)
        self.assertEqual([p["agb"] for p in b["providers"]], [SINT_ANTONIUS])
        self.assertTrue(all(p["of"] == 1 for p in b["policies"]))

    def test_tie_order_and_conflicts(self):
        # 06020101 Ziekenhuis Kromme Rijn, 2027, hospital only:
        #   9101-NATURA, 9101-DIRECT, 9102-NATURA, 9102-COMBI: contracted, confirmed (B)
        #   9101-BUDGET: not_contracted (B2)
        #   9301-BASIS, 9301-KEUZE: negotiating + as_contracted, conflict (A2): covered (the
        #     same rank as the others; "conflicts" counts it)
        #   9201-*: nobody speaks (unknown) -> not covered
        b = self.compare(agb="06020101", year=2027, detail="full")
        self.assertRanking(b, [
            ("9102-COMBI", 1), ("9102-NATURA", 1), ("9101-NATURA", 1), ("9101-DIRECT", 1),
            ("9301-BASIS", 1), ("9301-KEUZE", 1),
            ("9201-VRIJ", 0), ("9201-NATURA", 0), ("9101-BUDGET", 0)])
        by = {p["policy"]["id"]: p for p in b["policies"]}
        self.assertEqual((by["9301-BASIS"]["rank"], by["9301-BASIS"]["conflicts"]), (1, 1))
        self.assertEqual((by["9101-NATURA"]["rank"], by["9101-NATURA"]["conflicts"]), (1, 0))
        self.assertEqual(by["9101-BUDGET"]["rank"], 7)
        st = by["9301-BASIS"]["providers"][0]["statuses"][0]
        self.assertEqual((st["status"], st["as_contracted"], st["basis"]),
                         ("negotiating", True, "conflict"))

    def test_policy_type_filter(self):
        b = self.compare(agb="06010101,04040101", year=2027, policy_type="combinatie")
        self.assertRanking(b, [("9301-KEUZE", 2), ("9102-COMBI", 2)])
        b = self.compare(agb="06010101,04040101", year=2027, policy_type="restitutie")
        self.assertRanking(b, [("9201-VRIJ", 1)])
        b = self.compare(agb="06010101,04040101", year=2027, policy_type="budget")
        self.assertRanking(b, [("9101-BUDGET", 2)])
        b = self.compare(agb="06010101,04040101", year=2027, policy_type="natura")
        self.assertRanking(b, [("9301-BASIS", 2), ("9102-NATURA", 2),
                                           ("9101-NATURA", 2), ("9101-DIRECT", 2),
                                           ("9201-NATURA", 1)])
        for p in b["policies"]:
            self.assertEqual(p["policy"]["type"], "natura")

    def test_care_type_filter(self):
        # only hospital for 06010101 in 2027: zuiderzorg negotiating + as_contracted (5) and
        # 9301 contracted (2) cover; 9201 negotiating without declaration does not.
        b = self.compare(agb="06010101", year=2027, care_type="hospital")
        self.assertEqual(b["care_type"], "hospital")
        self.assertRanking(b, [
            ("9301-BASIS", 1), ("9301-KEUZE", 1),
            ("9102-COMBI", 1), ("9102-NATURA", 1), ("9101-NATURA", 1), ("9101-BUDGET", 1),
            ("9101-DIRECT", 1),
            ("9201-VRIJ", 0), ("9201-NATURA", 0)])
        for p in b["policies"]:
            self.assertEqual([s["care_type"] for s in p["providers"][0]["statuses"]],
                             ["hospital"])
        # only acute: stated by zuiderzorg alone (contracted)
        b = self.compare(agb="06010101", year=2027, care_type="acute")
        self.assertRanking(b, [(pid, 1) for pid in self.ZUIDERZORG] +
                         [("9301-BASIS", 0), ("9301-KEUZE", 0), ("9201-VRIJ", 0),
                          ("9201-NATURA", 0)])
        # a care type nobody states: nobody covers
        b = self.compare(agb="06010101", year=2027, care_type="pharmacy")
        self.assertRanking(b, [(pid, 0) for pid in self.DISPLAY])

    def test_unstated_care_types_do_not_block_2026(self):
        # 06010101 in 2026 is stated for hospital, acute and maternity:
        #   zuiderzorg: hospital + acute contracted, maternity by nobody -> covered
        #   9201: hospital contracted_ceiling, acute/maternity by nobody -> covered
        #   9301: hospital contracted, maternity contracted_ceiling, acute by nobody -> covered
        # so all nine cover it, in display order; with care_type=hospital too.
        b = self.compare(agb="06010101", year=2026)
        self.assertRanking(b, [(pid, 1) for pid in self.DISPLAY])
        b = self.compare(agb="06010101", year=2026, care_type="hospital")
        self.assertRanking(b, [(pid, 1) for pid in self.DISPLAY])
        # maternity 2026: 9301 contracted_ceiling (G6) only
        b = self.compare(agb="06010101", year=2026, care_type="maternity")
        self.assertEqual(sorted(self.ranking(b)[:2]), [("9301-BASIS", 1), ("9301-KEUZE", 1)])
        self.assertEqual(sum(c for _, c in self.ranking(b)), 2)

    def test_default_year_is_current(self):
        b = self.compare(agb="04040101")
        self.assertEqual(b["year"], 2026)
        # 2026 physiotherapy: zuiderzorg concern (5) and 9301 (2) contracted (E4); noordkust
        # says nothing about De Brug in 2026 -> 9201 not covered
        self.assertRanking(b, [("9301-BASIS", 1), ("9301-KEUZE", 1)] +
                         [(pid, 1) for pid in self.ZUIDERZORG] +
                         [("9201-VRIJ", 0), ("9201-NATURA", 0)])

    def test_three_providers_mixed(self):
        # 2027: 06010101 (zuiderzorg 5 and 9301), 04040101 (all 9), 06020101 (zuiderzorg 4
        # without 9101-BUDGET, plus 9301 with a conflict)
        #   9102-COMBI, 9102-NATURA, 9101-NATURA, 9101-DIRECT: 3 (no conflicts)
        #   9301-BASIS, 9301-KEUZE: 3 (one of them, 06020101, with a conflict)
        #   9101-BUDGET: 2
        #   9201-*: 1
        # The conflict-free 3s and 9301-* (3, one conflict) share rank 1.
        b = self.compare(agb="06010101,04040101,06020101", year=2027)
        self.assertRanking(b, [
            ("9102-COMBI", 3), ("9102-NATURA", 3), ("9101-NATURA", 3), ("9101-DIRECT", 3),
            ("9301-BASIS", 3), ("9301-KEUZE", 3), ("9101-BUDGET", 2),
            ("9201-VRIJ", 1), ("9201-NATURA", 1)])


if __name__ == "__main__":
    unittest.main()
