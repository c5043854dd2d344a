#!/usr/bin/env python3
"""bench/gen.py - deterministic generator of zorgstatus feeds (format v1) for tests and benchmarks.

Writes, into --out DIR:
  insurer-<UZOVI>.jsonl      one insurer feed per insurer (header, policies, similar declarations,
                             provider master data, statuses, trailer)
  provider-<slug>.jsonl      provider feeds of hospital groups, single hospitals and large chains
  zorgstatus.conf            a daemon configuration listing every feed as
                             url = http://127.0.0.1:PORT/<file>
  requests/lookup.txt        request paths for wrk (one per line): provider lookups,
  requests/search.txt        search-as-you-type prefixes,
  requests/compare.txt       5-provider compare lists
  sample-requests.txt        a human-readable sample of the three lists
  manifest.json              parameters, per-feed record counts and sizes, dataset statistics

Python 3 standard library only. Everything is derived from --seed through random.Random streams
seeded with strings (deterministic across runs and platforms; no dependence on hash seeds or on
dict/set iteration of unordered data). Feeds are streamed line by line; only compact per-provider
data (the serialized provider record, kind, city) is kept in memory.

Examples:
  bench/gen.py --scale small --out /tmp/zs-small
  bench/gen.py --scale national --seed 7 --port 18081 --out /tmp/zs-national
  bench/gen.py --scale small --providers 5000 --hospitals 12 --out /tmp/zs-custom
"""

import argparse
import datetime
import json
import os
import random
import re
import sys
import time
import urllib.parse

FORMAT_VERSION = 1

# --------------------------------------------------------------------------------------------
# Static vocabulary: Dutch-looking places, streets, names. (name, province, pc_lo, pc_hi, weight)
# Postcode ranges are roughly those of the real places; weights roughly their population (x1000).
CITIES = [
    ("Amsterdam", "NH", 1011, 1109, 900), ("Haarlem", "NH", 2011, 2037, 160),
    ("Zaandam", "NH", 1501, 1509, 80), ("Alkmaar", "NH", 1811, 1817, 110),
    ("Hoorn", "NH", 1621, 1628, 73), ("Den Helder", "NH", 1781, 1789, 56),
    ("Purmerend", "NH", 1441, 1448, 92), ("Hilversum", "NH", 1211, 1223, 90),
    ("Amstelveen", "NH", 1181, 1189, 90), ("Hoofddorp", "NH", 2131, 2136, 77),
    ("Heerhugowaard", "NH", 1701, 1706, 57), ("Bussum", "NH", 1401, 1406, 33),
    ("Beverwijk", "NH", 1941, 1948, 42), ("Heemskerk", "NH", 1961, 1969, 39),
    ("Weesp", "NH", 1381, 1384, 20), ("Almere", "FL", 1311, 1363, 220),
    ("Lelystad", "FL", 8211, 8245, 80), ("Emmeloord", "FL", 8301, 8309, 27),
    ("Dronten", "FL", 8251, 8256, 42), ("Zeewolde", "FL", 3891, 3899, 23),
    ("Utrecht", "UT", 3511, 3585, 370), ("Amersfoort", "UT", 3811, 3829, 160),
    ("Nieuwegein", "UT", 3430, 3439, 64), ("Zeist", "UT", 3701, 3709, 65),
    ("Veenendaal", "UT", 3901, 3907, 67), ("Houten", "UT", 3991, 3997, 50),
    ("Woerden", "UT", 3441, 3448, 52), ("Soest", "UT", 3761, 3769, 47),
    ("Baarn", "UT", 3741, 3744, 25), ("Den Haag", "ZH", 2491, 2599, 560),
    ("Rotterdam", "ZH", 3011, 3089, 660), ("Leiden", "ZH", 2311, 2334, 125),
    ("Delft", "ZH", 2611, 2629, 105), ("Dordrecht", "ZH", 3311, 3329, 120),
    ("Zoetermeer", "ZH", 2711, 2729, 126), ("Gouda", "ZH", 2801, 2809, 75),
    ("Schiedam", "ZH", 3111, 3125, 80), ("Vlaardingen", "ZH", 3131, 3138, 75),
    ("Alphen aan den Rijn", "ZH", 2401, 2409, 115), ("Spijkenisse", "ZH", 3201, 3209, 73),
    ("Gorinchem", "ZH", 4201, 4209, 38), ("Capelle aan den IJssel", "ZH", 2901, 2909, 67),
    ("Katwijk", "ZH", 2221, 2225, 66), ("Ridderkerk", "ZH", 2981, 2987, 47),
    ("Sliedrecht", "ZH", 3361, 3364, 25), ("Leiderdorp", "ZH", 2351, 2353, 28),
    ("Wassenaar", "ZH", 2241, 2245, 27), ("Eindhoven", "NB", 5611, 5658, 240),
    ("Tilburg", "NB", 5011, 5049, 225), ("Breda", "NB", 4811, 4839, 185),
    ("'s-Hertogenbosch", "NB", 5211, 5248, 158), ("Helmond", "NB", 5701, 5709, 93),
    ("Oss", "NB", 5341, 5349, 93), ("Roosendaal", "NB", 4701, 4709, 78),
    ("Bergen op Zoom", "NB", 4611, 4625, 68), ("Veghel", "NB", 5461, 5469, 38),
    ("Uden", "NB", 5401, 5409, 42), ("Waalwijk", "NB", 5141, 5144, 49),
    ("Oosterhout", "NB", 4901, 4909, 56), ("Etten-Leur", "NB", 4871, 4879, 44),
    ("Boxtel", "NB", 5281, 5283, 31), ("Valkenswaard", "NB", 5551, 5556, 31),
    ("Geldrop", "NB", 5661, 5667, 39), ("Nijmegen", "GE", 6511, 6546, 180),
    ("Arnhem", "GE", 6811, 6846, 165), ("Apeldoorn", "GE", 7311, 7339, 165),
    ("Ede", "GE", 6711, 6718, 118), ("Zutphen", "GE", 7201, 7207, 48),
    ("Doetinchem", "GE", 7001, 7009, 58), ("Harderwijk", "GE", 3841, 3849, 48),
    ("Tiel", "GE", 4001, 4007, 42), ("Winterswijk", "GE", 7101, 7107, 29),
    ("Wageningen", "GE", 6701, 6709, 40), ("Barneveld", "GE", 3771, 3774, 60),
    ("Culemborg", "GE", 4101, 4107, 29), ("Zaltbommel", "GE", 5301, 5308, 29),
    ("Nijkerk", "GE", 3861, 3864, 44), ("Epe", "GE", 8161, 8162, 33),
    ("Enschede", "OV", 7511, 7548, 160), ("Zwolle", "OV", 8011, 8046, 130),
    ("Deventer", "OV", 7411, 7429, 101), ("Hengelo", "OV", 7551, 7559, 81),
    ("Almelo", "OV", 7601, 7609, 73), ("Kampen", "OV", 8261, 8267, 54),
    ("Oldenzaal", "OV", 7571, 7577, 32), ("Hardenberg", "OV", 7771, 7779, 61),
    ("Raalte", "OV", 8101, 8102, 38), ("Rijssen", "OV", 7461, 7463, 38),
    ("Nijverdal", "OV", 7441, 7443, 35), ("Steenwijk", "OV", 8331, 8336, 44),
    ("Groningen", "GR", 9711, 9747, 235), ("Veendam", "GR", 9641, 9649, 27),
    ("Delfzijl", "GR", 9931, 9936, 25), ("Stadskanaal", "GR", 9501, 9503, 32),
    ("Winschoten", "GR", 9671, 9675, 18), ("Leeuwarden", "FR", 8911, 8939, 125),
    ("Sneek", "FR", 8601, 8608, 34), ("Drachten", "FR", 9200, 9207, 45),
    ("Heerenveen", "FR", 8441, 8449, 51), ("Harlingen", "FR", 8861, 8862, 16),
    ("Dokkum", "FR", 9101, 9104, 13), ("Franeker", "FR", 8801, 8802, 13),
    ("Assen", "DR", 9401, 9409, 69), ("Emmen", "DR", 7811, 7833, 107),
    ("Hoogeveen", "DR", 7901, 7908, 55), ("Meppel", "DR", 7941, 7944, 34),
    ("Coevorden", "DR", 7741, 7742, 35), ("Maastricht", "LI", 6211, 6229, 122),
    ("Heerlen", "LI", 6411, 6422, 87), ("Venlo", "LI", 5911, 5928, 102),
    ("Roermond", "LI", 6041, 6046, 59), ("Sittard", "LI", 6131, 6137, 92),
    ("Weert", "LI", 6001, 6006, 50), ("Venray", "LI", 5801, 5809, 44),
    ("Kerkrade", "LI", 6461, 6471, 45), ("Geleen", "LI", 6161, 6167, 32),
    ("Middelburg", "ZE", 4331, 4339, 49), ("Vlissingen", "ZE", 4381, 4389, 45),
    ("Goes", "ZE", 4461, 4465, 38), ("Terneuzen", "ZE", 4531, 4538, 54),
]
PROVINCES = ["NH", "FL", "UT", "ZH", "NB", "GE", "OV", "GR", "FR", "DR", "LI", "ZE"]
REGIONS = {  # region names used in hospital / chain names, per province
    "NH": ["Amstelland", "Zaanstreek", "Kennemerland", "Gooi en Vecht", "Westfriesland", "Waterland",
           "Noord-Holland Noord", "Haarlemmermeer"],
    "FL": ["Flevoland", "Noordoostpolder"], "UT": ["Eemland", "Lek en IJssel", "Utrechtse Heuvelrug",
                                                  "Gelderse Vallei", "Midden-Nederland"],
    "ZH": ["Haaglanden", "Rijnmond", "Drechtsteden", "Hollands Midden", "Delfland", "Voorne-Putten",
           "Rijnland", "Alblasserwaard"],
    "NB": ["West-Brabant", "De Kempen", "Midden-Brabant", "Maasland", "De Peel", "Bommelerwaard",
           "Langstraat"],
    "GE": ["Rivierenland", "Achterhoek", "Noord-Veluwe", "Rijn en IJssel", "Gelderse Vallei",
           "Oost-Gelderland"],
    "OV": ["Twente", "Salland", "Vechtdal", "IJsselland"], "GR": ["Ommelanden", "Oost-Groningen"],
    "FR": ["Oostergo", "Westergo", "Zuidwest-Friesland"], "DR": ["Drenthe", "Zuidoost-Drenthe"],
    "LI": ["Zuid-Limburg", "Noord-Limburg", "Midden-Limburg", "Westelijke Mijnstreek"],
    "ZE": ["Zeeland", "Zeeuws-Vlaanderen", "Walcheren"],
}
SURNAMES = [
    "de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
    "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit",
    "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan",
    "Vermeulen", "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "de Jong",
    "Schouten", "van Beek", "Willems", "van Dijk", "Hoekstra", "Maas", "Verhoeven", "Koster",
    "van Dam", "van der Wal", "Prins", "Blom", "Huisman", "Peeters", "de Jonge", "Kuipers",
    "van Veen", "Post", "Kuiper", "Veenstra", "Kramer", "van den Brink", "Scholten", "van Wijk",
    "Postma", "Martens", "Vink", "de Ruiter", "Timmermans", "Groen", "Gerritsen", "Jonker",
    "van Loon", "Boer", "van der Velde", "Willemsen", "Smeets", "de Lange", "de Vos", "Bosch",
    "van Dongen", "Schipper", "de Koning", "van der Laan", "Koning", "van der Velden", "Driessen",
    "van Doorn", "Hermans", "Evers", "van den Bosch", "van der Meulen", "Hofman", "Bosman",
    "Wouters", "Sanders", "van der Horst", "Mol", "Kuijpers", "Molenaar", "van de Ven", "Maassen",
    "Steenbergen", "Stam", "Akkerman", "Verbeek", "Zijlstra", "Wijnands", "Brink", "Hoogendoorn",
    "Janssens", "Stevens", "Stoffels", "Aarts", "Bruins", "Claassen", "Dirksen", "Ebbers", "Franssen",
    "Geerts", "Haverkamp", "IJzerman", "Kalkman", "Lammers", "Mertens", "Nijhuis", "Oosterhuis",
    "Pauwels", "Reinders", "Sluiter", "Terpstra", "Uijterwaal", "Vlug", "Wessels", "Zwart",
    "El Amrani", "Yilmaz", "Öztürk", "Bouzid", "Maxwell", "Santos", "Nguyen", "Kowalski",
]
FIRSTNAMES = [
    "Anna", "Sanne", "Lotte", "Maxime", "Max", "Sem", "Daan", "Lucas", "Emma", "Julia", "Noor",
    "Tess", "Bram", "Thijs", "Ruben", "Eva", "Fleur", "Jesse", "Lieke", "Maaike", "Pieter", "Joost",
    "Marieke", "Willem", "Anouk", "Floor", "Karin", "Femke", "Stijn", "Ilse", "Hanna", "Sara",
]
STREET_STEMS = [
    "Kerk", "Molen", "Dorps", "Linden", "Eiken", "Berken", "Beuken", "Wilhelmina", "Juliana",
    "Oranje", "Prins Hendrik", "Koningin Emma", "Vondel", "Rembrandt", "Van Gogh", "Spoor",
    "Stations", "Markt", "Haven", "Dijk", "Tulpen", "Rozen", "Esdoorn", "Hof", "Koekoeks", "Merel",
    "Lijsterbes", "Kastanje", "Populieren", "Wilgen", "Zuider", "Noorder", "Ooster", "Wester",
    "School", "Burgemeester de Jong", "Prinses Irene", "Beatrix", "Amalia", "Sint Jans", "Nieuwe",
    "Oude", "Hoog", "Laag", "Brink", "Veld", "Akker", "Weide", "Zonne", "Boog", "Park", "Singel",
    "Vaart", "Sluis", "Hooge", "Kerkhof", "Mozart", "Bach", "Erasmus", "Thorbecke", "Hobbema",
]
STREET_SUFFIXES = ["straat", "straat", "weg", "laan", "laan", "plein", "singel", "kade", "dreef",
                   "hof", "pad", "gracht", "park"]
WIJKEN = ["Centrum", "Noord", "Oost", "Zuid", "West", "De Hoven", "Het Zand", "Oud-West",
          "Nieuw-Zuid", "De Akkers", "Vogelwijk", "Kanaleneiland", "Bloemenwijk", "De Brink",
          "Stadshart", "Het Veld", "Schildersbuurt", "De Meent", "Oosterpark", "Rivierenwijk"]
NOUNS = ["Linde", "Eik", "Brink", "Hoeve", "Molen", "Vaart", "Horst", "Kroon", "Zwaan", "Boog",
         "Meander", "Poort", "Toren", "Haven", "Dijk", "Bron", "Wiek", "Es", "Kastanje", "Roos",
         "Vijverhof", "Hoge Veld", "Weerd", "Beemd", "Kempen", "Maxima", "Spaarne", "Amstel"]
SAINTS = ["Antonius", "Anna", "Jansdal", "Franciscus", "Elisabeth", "Lucas", "Maartens", "Jozef",
          "Catharina", "Laurentius", "Agatha", "Barbara", "Radboud", "Gerardus", "Willibrord",
          "Bonifatius", "Servatius", "Clara", "Liduina", "Vincentius", "Anthonie", "Jacob"]
PC_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"

CARE_TYPES = ["hospital", "ibc", "mental_health", "district_nursing", "physiotherapy", "gp",
              "acute", "maternity", "pharmacy", "medical_devices", "paramedical"]

# kind -> AGB prefixes (first two digits), care types stated for it, share of providers (hospitals
# are an absolute count), coverage (probability that a big concern states something about it).
KINDS = {
    "hospital":         {"prefix": ["06"], "share": 0.0, "cov": 1.0},
    "ibc":              {"prefix": ["22"], "share": 0.0045, "cov": 0.80},
    "mental_health":    {"prefix": ["94"], "share": 0.12, "cov": 0.70},
    "district_nursing": {"prefix": ["47"], "share": 0.05, "cov": 0.85},
    "physiotherapy":    {"prefix": ["04"], "share": 0.22, "cov": 0.75},
    "gp":               {"prefix": ["01"], "share": 0.16, "cov": 0.97},
    "pharmacy":         {"prefix": ["02"], "share": 0.025, "cov": 0.95},
    "maternity":        {"prefix": ["08"], "share": 0.03, "cov": 0.85},
    "medical_devices":  {"prefix": ["12"], "share": 0.02, "cov": 0.60},
    "other":            {"prefix": ["05", "24", "26", "88"], "share": None, "cov": 0.60},
}
KIND_CT = {"ibc": "ibc", "mental_health": "mental_health", "district_nursing": "district_nursing",
           "physiotherapy": "physiotherapy", "gp": "gp", "pharmacy": "pharmacy",
           "maternity": "maternity", "medical_devices": "medical_devices", "other": "paramedical"}

# Concerns and insurers (fictional). Concern i gets its insurers from the front of its list.
CONCERNS = [
    ("zuiderzorg", "Zuiderzorg", ["Zuiderzorg Zorgverzekeringen N.V.", "Brabantse Zorgverzekeraar N.V.",
                                  "Kempenzorg Verzekeringen", "Zeeuwse Zorgverzekeraar"]),
    ("polderland", "Polderland Groep", ["Polderland Zorgverzekeraar N.V.", "Hollandse Zorg N.V.",
                                        "Waterland Verzekeringen", "Rijnmond Zorgverzekeraar"]),
    ("rijnzorg", "Rijnzorg", ["Rijnzorg Zorgverzekeringen N.V.", "Veluwse Zorgverzekeraar N.V.",
                              "IJsselzorg Verzekeringen", "Achterhoekse Zorg"]),
    ("noorderzorg", "Noorderzorg Groep", ["Noorderzorg Zorgverzekeraar N.V.", "Waddenzorg N.V.",
                                          "Friese Onderlinge Zorg"]),
    ("deltazorg", "Delta Zorggroep", ["Delta Zorgverzekeringen N.V.", "Maasland Zorg N.V.",
                                      "Drechtzorg"]),
    ("oranjezorg", "Oranjezorg", ["Oranje Zorgverzekeraar N.V.", "Oranje Direct Zorg"]),
    ("hanzezorg", "Hanze Onderlinge", ["Hanze Onderlinge Zorgverzekeraar U.A.", "Hanze Regio Zorg"]),
    ("duinzorg", "Duinzorg", ["Duinzorg Zorgverzekeringen N.V.", "Kustzorg N.V."]),
    ("vechtzorg", "Vechtstreek Zorg", ["Vechtstreek Zorgverzekeraar U.A.", "Vecht Direct"]),
    ("kempenaar", "De Kempenaar", ["De Kempenaar Zorgverzekeraar U.A.", "Kempenaar Online"]),
    ("limeszorg", "Limes Zorg", ["Limes Zorgverzekeraar N.V."]),
    ("eemzorg", "Eem Onderlinge", ["Eem Onderlinge Zorgverzekeraar U.A."]),
]
LABEL_SUFFIXES = ["", " Direct", " Online", " Jong", " Samen", " Plus"]
POLICY_NAMES = {
    "natura": ["Basis Zeker", "Natura Basis", "Basis Compleet", "Zorg Natura", "Basis Online",
               "Basis Bewust", "Zorgpolis Natura", "Basis Samen", "Basis Regio", "Basis Zorgvuldig"],
    "combinatie": ["Combinatie Polis", "Basis Keuze", "Zorg Combi", "Basis Flexibel",
                   "Keuzepolis", "Combi Basis", "Basis Balans"],
    "restitutie": ["Basis Vrij", "Restitutie Basis", "Vrije Keuze Polis", "Basis Exclusief"],
    "budget": ["Basis Budget", "Zorg Select Budget", "Basis Voordelig", "Budget Polis"],
}
CEILING_EXEMPTS = [["acute", "treatment_in_progress", "acute_maternity"],
                   ["acute", "treatment_in_progress"], ["acute"], []]

SCALES = {
    "small": dict(concerns=3, insurers=5, policies=12, providers=1500, hospitals=8,
                  hospital_groups=1, single_hospital_feeds=2, chain_factor=None,
                  lookups=1000, searches=400, compares=300),
    "national": dict(concerns=10, insurers=20, policies=65, providers=80000, hospitals=71,
                     hospital_groups=10, single_hospital_feeds=20, chain_factor=None,
                     lookups=10000, searches=2000, compares=2000),
}
# (slug, publisher name, kind, size at 80,000 providers, name pattern)
CHAINS = [
    ("wijkzorg-samen", "Wijkzorg Samen", "district_nursing", 400),
    ("ggz-de-linde", "GGZ De Linde", "mental_health", 120),
    ("fysio-verder", "Fysio Verder Groep", "physiotherapy", 250),
    ("zorggroep-sint-maarten", "Zorggroep Sint Maarten", "gp", 90),
    ("maxima-klinieken", "Maxima Klinieken", "ibc", 30),
]


def jdump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Feed:
    """One feed file, written line by line; counts records and writes the trailer on close."""

    def __init__(self, path, header):
        self.path = path
        self.f = open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
        self.f.write(jdump(header) + "\n")
        self.records = 0
        self.counts = {}

    def rec(self, line, rtype):
        self.f.write(line)
        self.f.write("\n")
        self.records += 1
        self.counts[rtype] = self.counts.get(rtype, 0) + 1

    def close(self):
        self.f.write(jdump({"type": "end", "records": self.records}) + "\n")
        self.f.close()
        return os.path.getsize(self.path)


def largest_remainder(total, weights, minimum):
    n = len(weights)
    base = [minimum] * n
    rest = total - minimum * n
    if rest < 0:
        raise SystemExit("gen.py: counts too small for the requested minimum")
    sw = sum(weights)
    raw = [rest * w / sw for w in weights]
    fl = [int(x) for x in raw]
    left = rest - sum(fl)
    order = sorted(range(n), key=lambda i: (-(raw[i] - fl[i]), i))
    for i in order[:left]:
        fl[i] += 1
    return [b + f for b, f in zip(base, fl)]


class Gen:
    def __init__(self, a):
        self.a = a
        self.seed = a.seed
        self.out = a.out
        d = datetime.date.fromisoformat(a.date)
        self.date = d
        self.year_cur = d.year
        self.year_next = d.year + 1
        self.years = [self.year_cur, self.year_next]
        self.generated_at = f"{d.isoformat()}T06:00:00+01:00"
        self.manifest_feeds = []
        self.stats = {}

    def rng(self, *parts):
        return random.Random("/".join([str(self.seed)] + [str(p) for p in parts]))

    # ---------------------------------------------------------------- structure: concerns etc.
    def build_market(self):
        a = self.a
        nc, ni, npol = a.concerns, a.insurers, a.policies
        if not 1 <= nc <= len(CONCERNS):
            raise SystemExit(f"gen.py: --concerns must be 1..{len(CONCERNS)}")
        if ni < nc:
            raise SystemExit("gen.py: --insurers must be >= --concerns")
        # insurers per concern: one each, extras in passes over shrinking prefixes
        per = [1] * nc
        extra = ni - nc
        passes = [min(nc, 6), min(nc, 3), 1]
        while extra > 0:
            for plen in passes:
                for k in range(plen):
                    if extra == 0:
                        break
                    per[k] += 1
                    extra -= 1
        for k in range(nc):
            if per[k] > len(CONCERNS[k][2]):
                raise SystemExit("gen.py: too many insurers for the built-in concern table")
        r = self.rng("market")
        self.concerns = []
        self.insurers = []
        used_uzovi = set()
        for k in range(nc):
            cid, cname, inames = CONCERNS[k]
            # coverage factor: the four largest concerns contract nearly everything
            factor = [0.98, 0.92, 0.88, 0.85][k] if k < 4 else round(r.uniform(0.70, 0.82), 3)
            c = {"id": cid, "name": cname, "idx": k, "factor": factor, "insurers": [],
                 "exempt": CEILING_EXEMPTS[k % len(CEILING_EXEMPTS)]}
            for j in range(per[k]):
                while True:
                    uz = str(r.randint(3100, 9899))
                    if uz not in used_uzovi:
                        used_uzovi.add(uz)
                        break
                ins = {"uzovi": uz, "name": inames[j], "concern": c, "lead": j == 0,
                       "province": PROVINCES[r.randrange(len(PROVINCES))], "policies": []}
                base = inames[j].split(" Zorgverzekeringen")[0].split(" Zorgverzekeraar")[0]
                base = base.replace(" N.V.", "").replace(" U.A.", "")
                nlab = 1 + (r.random() < 0.55) + (r.random() < 0.25)
                ins["labels"] = [base + LABEL_SUFFIXES[x] for x in range(nlab)]
                c["insurers"].append(ins)
                self.insurers.append(ins)
            self.concerns.append(c)
        # policies per insurer
        weights = [2.0 if (ins["lead"] and len(ins["concern"]["insurers"]) > 1) else 1.0
                   for ins in self.insurers]
        minimum = 2 if npol >= 2 * ni else 1
        counts = largest_remainder(npol, weights, minimum)
        # policy types
        n_budget = max(1, round(npol * 0.045))
        n_rest = max(1, round(npol * 0.06))
        n_comb = round(npol * 0.35)
        kinds = {}
        # budget policies at lead insurers (they carry the network statements), biggest first
        leads = [i for i, ins in enumerate(self.insurers) if ins["lead"] and counts[i] >= 2]
        for i in leads[:n_budget]:
            kinds[(i, counts[i] - 1)] = "budget"
        slots = [(i, s) for i in range(ni) for s in range(counts[i]) if (i, s) not in kinds]
        # restitutie: spread over insurers, never an insurer's first policy
        cand = [x for x in slots if x[1] >= 1]
        r.shuffle(cand)
        for x in cand[:n_rest]:
            kinds[x] = "restitutie"
        rest = [x for x in slots if x not in kinds]
        r.shuffle(rest)
        comb_left = n_comb
        for x in rest:
            if x[1] == 0:
                kinds[x] = "natura"
        for x in rest:
            if x in kinds:
                continue
            if comb_left > 0:
                kinds[x] = "combinatie"
                comb_left -= 1
            else:
                kinds[x] = "natura"
        # a selective natura policy at one lead insurer (national-like markets only)
        selective_natura = None
        if npol >= 20:
            for i in leads[n_budget:]:
                if counts[i] >= 3:
                    selective_natura = (i, 1)
                    kinds[(i, 1)] = "natura"
                    break
        used_ids = set()
        self.policies = []
        for i, ins in enumerate(self.insurers):
            names_used = set()
            prev_natura = None
            for s in range(counts[i]):
                kind = kinds[(i, s)]
                name = None
                for nm in POLICY_NAMES[kind]:
                    if nm not in names_used:
                        name = nm
                        break
                if name is None:
                    name = f"{POLICY_NAMES[kind][0]} {s + 1}"
                if (i, s) == selective_natura:
                    name = "Zorg Select"
                names_used.add(name)
                slug = re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")[:40]
                pid = f"{ins['uzovi']}-{slug}"
                while pid in used_ids:
                    pid += "X"
                used_ids.add(pid)
                label = ins["labels"][s % len(ins["labels"])]
                rules = self.rules_for(kind, r)
                if kind == "natura" and prev_natura is not None and r.random() < 0.45:
                    # twin of the previous natura policy: same rules (equal) or nearly (very similar)
                    rules = [dict(x) for x in prev_natura["rules"]]
                    if r.random() < 0.4:
                        rules[0]["percent"] = max(50, rules[0]["percent"] - 5)
                pol = {"id": pid, "name": name, "label": label, "kind": kind, "insurer": ins,
                       "rules": rules, "selective": kind == "budget" or (i, s) == selective_natura}
                # next year's rules: mostly unchanged, sometimes a 5-point step
                rules_next = [dict(x) for x in rules]
                if kind in ("natura", "budget") and r.random() < 0.2:
                    rules_next[0]["percent"] = max(50, min(80, rules_next[0]["percent"] + r.choice([-5, 5])))
                pol["rules_next"] = rules_next
                if kind == "natura" and prev_natura is None:
                    prev_natura = pol
                ins["policies"].append(pol)
                self.policies.append(pol)
        self.stats["policy_types"] = {k: sum(1 for p in self.policies if p["kind"] == k)
                                      for k in ("natura", "combinatie", "restitutie", "budget")}

    @staticmethod
    def rules_for(kind, r):
        if kind == "restitutie":
            rules = [{"care_type": "*", "percent": 100, "basis": "market_tariff"}]
            if r.random() < 0.3:
                rules.append({"care_type": "mental_health", "percent": 100, "basis": "statutory_max_tariff"})
            return rules
        if kind == "combinatie":
            p = r.choice([80, 85, 85, 90])
            rules = [{"care_type": "*", "percent": 100, "basis": "market_tariff"},
                     {"care_type": "mental_health", "percent": p, "basis": "market_tariff"},
                     {"care_type": "district_nursing", "percent": p, "basis": "market_tariff"}]
            if r.random() < 0.35:
                rules.append({"care_type": "hospital", "percent": r.choice([75, 80]),
                              "basis": "avg_contracted_tariff"})
            return rules
        if kind == "budget":
            p = r.choice([50, 60, 65, 70])
            return [{"care_type": "*", "percent": p, "basis": "avg_contracted_tariff"},
                    {"care_type": "mental_health", "percent": max(50, p - 10), "basis": "avg_contracted_tariff"}]
        p = r.choice([65, 70, 75, 75, 80])
        rules = [{"care_type": "*", "percent": p, "basis": "avg_contracted_tariff"}]
        if r.random() < 0.5:
            rules.append({"care_type": "mental_health", "percent": max(55, p - r.choice([5, 10, 15])),
                          "basis": "avg_contracted_tariff"})
        if r.random() < 0.25:
            rules.append({"care_type": "district_nursing", "percent": min(100, p + 5),
                          "basis": "avg_contracted_tariff"})
        return rules

    # ---------------------------------------------------------------- providers
    def street(self, r):
        stem = STREET_STEMS[r.randrange(len(STREET_STEMS))]
        suf = STREET_SUFFIXES[r.randrange(len(STREET_SUFFIXES))]
        if stem.lower() == suf or (stem == "Hof" and suf == "hof"):
            suf = "straat"
        s = stem + suf
        s = s[0].upper() + s[1:]
        n = r.randint(1, 240) if r.random() < 0.8 else r.randint(1, 20)
        if r.random() < 0.08:
            return f"{s} {n}{r.choice('abc')}"
        return f"{s} {n}"

    def postcode(self, r, ci):
        _, _, lo, hi, _ = CITIES[ci]
        while True:
            a, b = PC_LETTERS[r.randrange(20)], PC_LETTERS[r.randrange(20)]
            if a + b not in ("SA", "SD", "SS"):
                return f"{r.randint(lo, hi)}{a}{b}"

    def location(self, r, ci):
        return {"street": self.street(r), "postcode": self.postcode(r, ci), "city": CITIES[ci][0]}

    def pick_city(self, r):
        x = r.random() * self.city_wtotal
        lo, hi = 0, len(self.city_cum) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.city_cum[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def surname_cap(self, r):
        s = SURNAMES[r.randrange(len(SURNAMES))]
        return s[0].upper() + s[1:]

    def provider_name(self, kind, r, ci):
        city = CITIES[ci][0]
        region = REGIONS[CITIES[ci][1]][r.randrange(len(REGIONS[CITIES[ci][1]]))]
        sn = self.surname_cap
        x = r.random()
        if kind == "ibc":
            spec = r.choice(["Oog", "Huid", "Orthopedie", "Spataderen", "Hand", "Rug", "Slaap",
                             "Voet", "Plastische Chirurgie", "Dermatologie"])
            return r.choice([f"{spec}kliniek {city}" if " " not in spec else f"Kliniek {spec} {city}",
                             f"Kliniek {sn(r)}", f"ZBC {region}", f"Medisch Centrum {NOUNS[r.randrange(len(NOUNS))]}",
                             f"Maxclinic {city}", f"{spec}centrum {region}" if " " not in spec else f"Centrum {spec} {region}",
                             f"Sint {SAINTS[r.randrange(len(SAINTS))]} Kliniek"])
        if kind == "mental_health":
            if x < 0.35:
                return f"Psychologenpraktijk {sn(r)}"
            if x < 0.55:
                return f"Praktijk voor Psychotherapie {sn(r)}"
            if x < 0.70:
                return f"Praktijk {FIRSTNAMES[r.randrange(len(FIRSTNAMES))]} {SURNAMES[r.randrange(len(SURNAMES))]}"
            if x < 0.80:
                return f"GGZ {region}"
            if x < 0.90:
                return f"Psychiatrische Praktijk {sn(r)}"
            return f"{NOUNS[r.randrange(len(NOUNS))]} GGZ {city}"
        if kind == "district_nursing":
            if x < 0.3:
                return f"Thuiszorg {city}"
            if x < 0.55:
                return f"Wijkverpleging {city} {WIJKEN[r.randrange(len(WIJKEN))]}"
            if x < 0.7:
                return f"Zorggroep {NOUNS[r.randrange(len(NOUNS))]}"
            if x < 0.85:
                return f"Thuiszorg {sn(r)}"
            return f"Buurtteam {city} {WIJKEN[r.randrange(len(WIJKEN))]}"
        if kind == "physiotherapy":
            if x < 0.3:
                return f"Fysiotherapiepraktijk {sn(r)}"
            if x < 0.5:
                return f"Fysiotherapie {city} {WIJKEN[r.randrange(len(WIJKEN))]}"
            if x < 0.65:
                return f"Fysiotherapie De {NOUNS[r.randrange(len(NOUNS))]}"
            if x < 0.75:
                return f"Sportfysiotherapie {city}"
            if x < 0.85:
                return f"Paramedisch Centrum {NOUNS[r.randrange(len(NOUNS))]}"
            if x < 0.92:
                return f"Max Fysio {city}"
            return f"Fysio {FIRSTNAMES[r.randrange(len(FIRSTNAMES))]} {SURNAMES[r.randrange(len(SURNAMES))]}"
        if kind == "gp":
            if x < 0.5:
                return f"Huisartsenpraktijk {sn(r)}"
            if x < 0.62:
                return f"Huisartsenpraktijk {sn(r)} & {SURNAMES[r.randrange(len(SURNAMES))]}"
            if x < 0.75:
                return f"Huisartsen {WIJKEN[r.randrange(len(WIJKEN))]} {city}"
            if x < 0.9:
                return f"Gezondheidscentrum {NOUNS[r.randrange(len(NOUNS))]}"
            return f"Huisartsenpraktijk Sint {SAINTS[r.randrange(len(SAINTS))]}"
        if kind == "pharmacy":
            return r.choice([f"Apotheek {NOUNS[r.randrange(len(NOUNS))]}", f"Apotheek {city} {WIJKEN[r.randrange(len(WIJKEN))]}",
                             f"Service Apotheek {sn(r)}", f"{sn(r)} Apotheek", f"Stadsapotheek {city}"])
        if kind == "maternity":
            return r.choice([f"Verloskundigenpraktijk {NOUNS[r.randrange(len(NOUNS))]}", f"Kraamzorg {region}",
                             f"Verloskundig Centrum {city}", f"Verloskundigen {sn(r)}", f"Kraamzorg {sn(r)}"])
        if kind == "medical_devices":
            return r.choice([f"Orthopedische Schoentechniek {sn(r)}", f"Hulpmiddelencentrum {region}",
                             f"{NOUNS[r.randrange(len(NOUNS))]} Medical", f"Hoortoestellen {city}",
                             f"Thuiszorgwinkel {city}"])
        return r.choice([f"Logopediepraktijk {sn(r)}", f"Diëtistenpraktijk {sn(r)}", f"Ergotherapie {city}",
                         f"Podotherapie {sn(r)}", f"Oefentherapie {city} {WIJKEN[r.randrange(len(WIJKEN))]}",
                         f"Mensendieck {sn(r)}", f"Diëtist {FIRSTNAMES[r.randrange(len(FIRSTNAMES))]} {SURNAMES[r.randrange(len(SURNAMES))]}"])

    def hospital_names(self, n, r):
        """n hospital organisations: (name, main city index). Names fit the city or its region."""
        out = []
        seen = set()
        fixed = ["Sint Antonius Ziekenhuis", "Maxima Medisch Centrum", "St. Anna Ziekenhuis",
                 "Ziekenhuis Rivierenland"]
        for nm in fixed[:n]:
            out.append((nm, self.pick_city(r)))
            seen.add(nm)
        tries = 0
        while len(out) < n and tries < 100000:
            tries += 1
            x = r.random()
            ci = self.pick_city(r)
            city = CITIES[ci][0]
            region = REGIONS[CITIES[ci][1]][r.randrange(len(REGIONS[CITIES[ci][1]]))]
            saint = SAINTS[r.randrange(len(SAINTS))]
            if x < 0.22:
                nm = f"Ziekenhuis {region}"
            elif x < 0.36:
                nm = f"Sint {saint} Ziekenhuis"
            elif x < 0.46:
                nm = f"St. {saint} Gasthuis"
            elif x < 0.6:
                nm = f"Medisch Centrum {city}"
            elif x < 0.7:
                nm = f"{region} Ziekenhuis"
            elif x < 0.8:
                nm = f"Ziekenhuis {NOUNS[r.randrange(len(NOUNS))]}"
            elif x < 0.88:
                nm = f"{city} Medisch Centrum"
            elif x < 0.94:
                nm = f"Streekziekenhuis {region}"
            else:
                nm = f"Ziekenhuis {city}"
            if nm not in seen:
                seen.add(nm)
                out.append((nm, ci))
        while len(out) < n:
            out.append((f"Ziekenhuis {len(out) + 1}", self.pick_city(r)))
        return out

    def build_providers(self):
        """Creates every provider; keeps per provider: agb, kind, city index, care types,
        the serialized provider record for insurer feeds and (for publishers' members) for the
        provider's own feed."""
        a = self.a
        r = self.rng("providers")
        self.city_cum = []
        tot = 0
        for c in CITIES:
            tot += c[4]
            self.city_cum.append(tot)
        self.city_wtotal = tot
        self.city_by_prov = {p: [i for i, c in enumerate(CITIES) if c[1] == p] for p in PROVINCES}
        self.agb = []
        self.kind = []
        self.city = []
        self.cts = []
        self.line_ins = []
        self.line_own = {}       # provider index -> own record line (publishers' members)
        self.member_of = {}      # provider index -> publisher index
        self.names_sample = []   # (name, index) sample for search prefixes
        next_seq = {}

        def new_agb(kind):
            pref = KINDS[kind]["prefix"][r.randrange(len(KINDS[kind]["prefix"]))]
            seq = next_seq.get(pref, r.randint(1000, 9000)) + r.randint(1, 5)
            if seq > 999999:
                raise SystemExit("gen.py: AGB number space exhausted; use fewer providers")
            next_seq[pref] = seq
            return f"{pref}{seq:06d}"

        def add(kind, name, ci, locations, cts, parent=None, parent_in_insurer=True):
            idx = len(self.agb)
            agb = new_agb(kind)
            rec = {"type": "provider", "agb": agb, "name": name, "kind": kind}
            if parent and parent_in_insurer:
                rec["parent"] = parent
            rec["locations"] = locations
            self.agb.append(agb)
            self.kind.append(kind)
            self.city.append(ci)
            self.cts.append(cts)
            self.line_ins.append(jdump(rec))
            if parent and not parent_in_insurer:
                rec2 = {"type": "provider", "agb": agb, "name": name, "kind": kind, "parent": parent,
                        "locations": locations}
                self.line_own[idx] = jdump(rec2)
            return idx

        n_total = a.providers
        n_hosp = a.hospitals
        self.publishers = []   # {"slug","name","members":[idx],"kind","per_policy":bool}
        # ---- hospitals: organisations with several locations, some in groups
        hosps = self.hospital_names(n_hosp, r)
        hnames = [h[0] for h in hosps]
        # hospital groups: 2-3 organisations of one province under a group name
        by_prov = {}
        for h, (_, ci) in enumerate(hosps):
            by_prov.setdefault(CITIES[ci][1], []).append(h)
        provs = [p for p in PROVINCES if len(by_prov.get(p, [])) >= 2]
        r.shuffle(provs)
        groups = []
        group_names = []
        taken = set()
        k = 0
        while len(groups) < a.hospital_groups and k < 10 * len(PROVINCES) and provs:
            p = provs[k % len(provs)]
            k += 1
            free = [h for h in by_prov[p] if h not in taken]
            size = 2 if r.random() < 0.6 else 3
            if len(free) < 2:
                continue
            members = free[:size]
            taken.update(members)
            region = REGIONS[p][sum(1 for g in groups if CITIES[hosps[g[0]][1]][1] == p) % len(REGIONS[p])]
            gname = f"Zorggroep {region}" if len(groups) % 2 == 0 else f"{region} Ziekenhuisgroep"
            if gname in group_names:
                gname = f"Ziekenhuiscombinatie {region} {len(groups) + 1}"
            groups.append(members)
            group_names.append(gname)
        group_of = {}
        for g, members in enumerate(groups):
            for m in members:
                group_of[m] = g
        hosp_idx = []
        for h in range(n_hosp):
            name, ci = hosps[h]
            # main location in its city; further locations (outpatient clinics) in the province
            nloc = r.choices([1, 2, 3, 4, 5], weights=[20, 35, 25, 15, 5])[0]
            locs = [self.location(r, ci)]
            prov_cities = self.city_by_prov[CITIES[ci][1]]
            for _ in range(nloc - 1):
                locs.append(self.location(r, prov_cities[r.randrange(len(prov_cities))]))
            cts = ["hospital", "acute"]
            if r.random() < 0.85:
                cts.append("maternity")
            if r.random() < 0.4:
                cts.append("mental_health")
            parent = group_names[group_of[h]] if h in group_of else (
                name.replace("Ziekenhuis", "Zorggroep") if r.random() < 0.3 and "Ziekenhuis" in name else None)
            idx = add("hospital", name, ci, locs, tuple(cts), parent=parent)
            hosp_idx.append(idx)
            self.names_sample.append((name, idx))
        for g, members in enumerate(groups):
            self.publishers.append({"slug": f"hg{g + 1:02d}", "name": group_names[g],
                                    "members": [hosp_idx[m] for m in members], "kind": "hospital",
                                    "per_policy": g % 3 == 0})
        singles = [h for h in range(n_hosp) if h not in group_of]
        r.shuffle(singles)
        for s, h in enumerate(sorted(singles[:a.single_hospital_feeds])):
            self.publishers.append({"slug": f"h{s + 1:02d}", "name": hnames[h], "members": [hosp_idx[h]],
                                    "kind": "hospital", "per_policy": s % 4 == 1})
        # ---- chains (publish provider feeds at concern level)
        chain_members = {}
        scale = n_total / 80000.0
        for slug, pname, kind, size in CHAINS:
            n = max(3, int(round(size * scale)))
            chain_members[slug] = (pname, kind, n)
        # ---- all other providers, kind by kind (chains are part of their kind's count)
        n_rest = n_total - n_hosp
        shares = {k: v["share"] for k, v in KINDS.items() if k != "hospital" and v["share"] is not None}
        counts = {k: max(1, int(round(n_rest * s))) for k, s in shares.items()}
        counts["other"] = max(1, n_rest - sum(counts.values()))
        self.stats["providers_by_kind"] = {"hospital": n_hosp, **counts}
        for kind in ["ibc", "mental_health", "district_nursing", "physiotherapy", "gp", "pharmacy",
                     "maternity", "medical_devices", "other"]:
            n = counts[kind]
            chains_here = [(slug, *v) for slug, v in chain_members.items() if v[1] == kind]
            for slug, pname, _, csize in chains_here:
                csize = min(csize, n // 2)
                members = []
                brand = pname.replace(" Groep", "")
                for _ in range(csize):
                    ci = self.pick_city(r)
                    if kind == "gp":
                        nm = f"Huisartsenpraktijk {self.surname_cap(r)}"
                    else:
                        nm = f"{brand} {CITIES[ci][0]}"
                        if r.random() < 0.35:
                            nm += f" {WIJKEN[r.randrange(len(WIJKEN))]}"
                    idx = add(kind, nm, ci, [self.location(r, ci)], (KIND_CT[kind],), parent=pname,
                              parent_in_insurer=False)
                    members.append(idx)
                    if len(members) <= 5:
                        self.names_sample.append((nm, idx))
                n -= csize
                self.publishers.append({"slug": slug, "name": pname, "members": members, "kind": kind,
                                        "per_policy": False})
            for _ in range(n):
                ci = self.pick_city(r)
                nm = self.provider_name(kind, r, ci)
                locs = [self.location(r, ci)]
                if kind in ("mental_health", "district_nursing") and r.random() < 0.15:
                    prov_cities = self.city_by_prov[CITIES[ci][1]]
                    locs.append(self.location(r, prov_cities[r.randrange(len(prov_cities))]))
                idx = add(kind, nm, ci, locs, (KIND_CT[kind],))
                if r.random() < 0.01:
                    self.names_sample.append((nm, idx))
        for pi, p in enumerate(self.publishers):
            for m in p["members"]:
                self.member_of[m] = pi
        self.n = len(self.agb)
        self.by_province = {p: [] for p in PROVINCES}
        for i in range(self.n):
            self.by_province[CITIES[self.city[i]][1]].append(i)
        self.stats["providers"] = self.n
        self.stats["hospital_locations"] = sum(
            json.loads(self.line_ins[i])["locations"].__len__() for i in hosp_idx)

    # ---------------------------------------------------------------- timestamps
    def said_pool(self, r, n=240, days=25):
        pool = []
        for _ in range(n):
            d = self.date - datetime.timedelta(days=r.randint(0, days))
            pool.append(f"{d.isoformat()}T{r.randint(8, 17):02d}:{r.randint(0, 59):02d}:00+01:00")
        return pool

    def day(self, r, lo_days_before, hi_days_before):
        return (self.date - datetime.timedelta(days=r.randint(hi_days_before, lo_days_before))).isoformat()

    # ---------------------------------------------------------------- insurer feeds
    def policy_line(self, pol, year):
        rules = pol["rules"] if year == self.year_cur else pol["rules_next"]
        return jdump({"type": "policy", "id": pol["id"], "year": year, "name": pol["name"],
                      "label": pol["label"], "kind": pol["kind"], "reimbursement": rules})

    def similar_records(self, ins, r):
        """Declarations of equal / very similar policies. Returns list of (year, a, b, relation);
        also records undeclared twins in stats."""
        out = []
        c = ins["concern"]
        mine = [p for p in ins["policies"] if not p["selective"]]
        cands = []
        for i in range(len(mine)):
            for j in range(i + 1, len(mine)):
                cands.append((mine[i], mine[j], False))
        if ins["lead"]:
            others = [p for o in c["insurers"] if o is not ins for p in o["policies"] if not p["selective"]]
            for p in mine:
                for q in others:
                    cands.append((p, q, True))
        for p, q, cross in cands:
            if p["kind"] != q["kind"]:
                continue
            for year in self.years:
                rp = p["rules"] if year == self.year_cur else p["rules_next"]
                rq = q["rules"] if year == self.year_cur else q["rules_next"]
                rel = similarity(rp, rq)
                if rel is None:
                    continue
                prob = (0.3 if cross else 0.7) if rel == "equal" else (0.15 if cross else 0.55)
                key = "declared" if r.random() < prob else "undeclared"
                self.stats.setdefault("twins", {}).setdefault(key, {}).setdefault(rel, 0)
                self.stats["twins"][key][rel] += 1
                if key == "declared":
                    out.append((year, p["id"], q["id"], rel))
        return out

    def write_insurer_feeds(self):
        self.decisions = {}   # provider index (publishers' members) -> {(concern, ct, year): (st, asc)}
        self.excluded = {}    # provider index -> [(policy id, year)] (selective policy exclusions)
        self.extras = {}      # provider index -> [(uzovi, ct, year, status)]
        self.innet = {}
        self.stated = bytearray(self.n)   # 1: the provider appears in some feed
        st_counts = {}
        for c in self.concerns:
            lead = c["insurers"][0]
            self.write_lead_feed(c, lead, st_counts)
            for ins in c["insurers"][1:]:
                self.write_member_feed(c, ins)
        self.stats["insurer_status_counts"] = st_counts

    def feed_header(self, c, ins):
        return {"type": "header", "format": "zorgstatus-insurer", "version": FORMAT_VERSION,
                "generated_at": self.generated_at, "concern": {"id": c["id"], "name": c["name"]},
                "insurer": {"uzovi": ins["uzovi"], "name": ins["name"]}}

    def write_policies_and_similar(self, f, ins, r):
        for year in self.years:
            for pol in ins["policies"]:
                f.rec(self.policy_line(pol, year), "policy")
        for year, p, q, rel in self.similar_records(ins, r):
            f.rec(f'{{"type":"similar","year":{year},"policies":["{p}","{q}"],"relation":"{rel}"}}', "similar")

    def write_lead_feed(self, c, ins, st_counts):
        r = self.rng("insurer", ins["uzovi"])
        name = f"insurer-{ins['uzovi']}"
        f = Feed(os.path.join(self.out, name + ".jsonl"), self.feed_header(c, ins))
        self.write_policies_and_similar(f, ins, r)
        multi = len(c["insurers"]) > 1
        scope = f'"concern":"{c["id"]}"' if multi else f'"insurer":"{ins["uzovi"]}"'
        selective = [p for p in ins["policies"] if p["selective"]]
        exempt = c["exempt"]
        ceil_obj = (',"ceiling":{"exempt":[' + ",".join(f'"{x}"' for x in exempt) + "]}") if exempt else ""
        said = self.said_pool(r)
        yc, yn = self.year_cur, self.year_next
        innet = bytearray(self.n)
        self.innet[c["idx"]] = innet
        factor = c["factor"]
        cov = {k: (1.0 if k == "hospital" else v["cov"] * factor) for k, v in KINDS.items()}
        rand = r.random
        nstat = 0
        netsize = 0
        for i in range(self.n):
            kind = self.kind[i]
            if rand() >= cov[kind]:
                continue
            innet[i] = 1
            self.stated[i] = 1
            netsize += 1
            agb = self.agb[i]
            f.rec(self.line_ins[i], "provider")
            keep = i in self.member_of
            if keep:
                dec = self.decisions.setdefault(i, {})
            excl_prob = 0.0
            if selective:
                excl_prob = {"hospital": 0.3, "ibc": 0.4, "mental_health": 0.25, "physiotherapy": 0.12,
                             "district_nursing": 0.1}.get(kind, 0.03)
            stop = None   # patient stop for this provider at this concern
            if kind in ("district_nursing", "mental_health"):
                x = rand()
                if x < 0.03:
                    stop = ("staff_shortage", self.day(r, 80, 5),
                            r.choice([None, f"{yn}-01-31", f"{yn}-03-31"]),
                            "Geen nieuwe cliënten door personeelstekort")
            for ct in self.cts[i]:
                # ---- current year
                if kind == "hospital":
                    x = rand()
                    s1 = "contracted" if x < 0.70 else ("contracted_ceiling" if x < 0.985 else "not_contracted")
                    if ct == "acute":
                        s1 = "contracted"
                elif kind in ("mental_health", "district_nursing"):
                    x = rand()
                    s1 = "contracted" if x < 0.50 else ("contracted_ceiling" if x < 0.95 else "not_contracted")
                else:
                    x = rand()
                    s1 = "contracted" if x < 0.975 else ("contracted_ceiling" if x < 0.99 else "not_contracted")
                # ---- next year
                asc = False
                if kind == "hospital":
                    if ct == "acute":
                        s2 = "contracted" if rand() < 0.6 else "negotiating"
                    elif s1 == "not_contracted":
                        s2 = "negotiating" if rand() < 0.5 else "not_contracted"
                    else:
                        s2 = "negotiating" if rand() < 0.5 else s1
                    if s2 == "negotiating":
                        asc = rand() < 0.4
                elif kind == "ibc":
                    x = rand()
                    s2 = "negotiating" if x < 0.25 else s1
                elif kind in ("mental_health", "district_nursing"):
                    x = rand()
                    s2 = "negotiating" if x < 0.15 else ("ended" if x < 0.17 else s1)
                    if s2 == "negotiating":
                        asc = rand() < 0.2
                else:
                    x = rand()
                    s2 = "ended" if x < 0.01 else ("negotiating" if x < 0.03 else s1)
                pstop1 = pstop2 = ""
                if stop is not None:
                    reason, frm, until, note = stop
                    ps = f',"patient_stop":{{"reason":"{reason}","from":"{frm}"'
                    if until:
                        ps += f',"until":"{until}"'
                    ps += f',"note":"{note}"}}'
                    pstop1 = ps
                    if until is None or until >= f"{yn}-01-01":
                        pstop2 = ps
                elif s1 == "contracted_ceiling" and kind in ("district_nursing", "mental_health") and rand() < 0.08:
                    frm = self.day(r, 70, 3)
                    pstop1 = (f',"patient_stop":{{"reason":"ceiling_reached","from":"{frm}","until":"{yc}-12-31",'
                              f'"note":"Omzetplafond bereikt"}}')
                for year, st, pst in ((yc, s1, pstop1), (yn, s2, pstop2)):
                    extra = ""
                    if st == "contracted_ceiling":
                        extra = ceil_obj
                    elif st == "negotiating" and year == yn and asc:
                        extra = ',"as_contracted":true'
                    sa = ""
                    if year == yn and kind == "hospital":
                        sa = f',"said_at":"{said[r.randrange(len(said))]}"'
                    f.rec(f'{{"type":"status","agb":"{agb}",{scope},"year":{year},"care_type":"{ct}",'
                          f'"status":"{st}"{extra}{pst}{sa}}}', "status")
                    nstat += 1
                    k = (kind, year, st)
                    st_counts[k] = st_counts.get(k, 0) + 1
                    if keep:
                        dec[(c["idx"], ct, year)] = (st, asc and year == yn and st == "negotiating")
            # selective policies: exclusions for the whole provider, policy-scoped
            for pol in selective:
                pe = excl_prob if pol["kind"] == "budget" else excl_prob * 0.5
                if rand() < pe:
                    for ct in self.cts[i]:
                        for year in self.years:
                            f.rec(f'{{"type":"status","agb":"{agb}","policy":"{pol["id"]}","year":{year},'
                                  f'"care_type":"{ct}","status":"not_contracted"}}', "status")
                            nstat += 1
                            if keep:
                                self.excluded.setdefault(i, []).append((pol["id"], ct, year))
        size = f.close()
        self.register(name, "insurer", f, size, extra={"uzovi": ins["uzovi"], "concern": c["id"],
                                                         "network_providers": netsize, "scope": scope.split(":")[0].strip('"')})

    def write_member_feed(self, c, ins):
        """A non-lead insurer of a multi-insurer concern: its policies and declarations, and its own
        regional contracts with providers outside the concern network (insurer-scoped)."""
        r = self.rng("insurer", ins["uzovi"])
        name = f"insurer-{ins['uzovi']}"
        f = Feed(os.path.join(self.out, name + ".jsonl"), self.feed_header(c, ins))
        self.write_policies_and_similar(f, ins, r)
        innet = self.innet[c["idx"]]
        netsize = 0
        for i in self.by_province[ins["province"]]:
            if innet[i] or self.kind[i] not in ("physiotherapy", "other", "district_nursing",
                                                "mental_health", "gp"):
                continue
            if r.random() >= 0.25:
                continue
            netsize += 1
            self.stated[i] = 1
            f.rec(self.line_ins[i], "provider")
            for ct in self.cts[i]:
                for year in self.years:
                    st = "contracted" if (year == self.year_cur or r.random() < 0.9) else "negotiating"
                    f.rec(f'{{"type":"status","agb":"{self.agb[i]}","insurer":"{ins["uzovi"]}","year":{year},'
                          f'"care_type":"{ct}","status":"{st}"}}', "status")
                    if i in self.member_of:
                        self.extras.setdefault(i, []).append((ins["uzovi"], ct, year, st))
        size = f.close()
        self.register(name, "insurer", f, size, extra={"uzovi": ins["uzovi"], "concern": c["id"],
                                                         "network_providers": netsize, "scope": "insurer"})

    # ---------------------------------------------------------------- provider feeds
    def write_provider_feeds(self):
        conflicts = 0
        provider_only = 0
        confirmed = 0
        for p in self.publishers:
            r = self.rng("publisher", p["slug"])
            name = f"provider-{p['slug']}"
            header = {"type": "header", "format": "zorgstatus-provider", "version": FORMAT_VERSION,
                      "generated_at": self.generated_at.replace("T06:", "T08:"),
                      "publisher": {"name": p["name"]}}
            f = Feed(os.path.join(self.out, name + ".jsonl"), header)
            said = self.said_pool(r, n=60, days=10)
            for i in p["members"]:
                f.rec(self.line_own.get(i, self.line_ins[i]), "provider")
                self.stated[i] = 1
            for i in p["members"]:
                agb = self.agb[i]
                dec = self.decisions.get(i, {})
                stop_concern = None
                if p["kind"] == "district_nursing" and r.random() < 0.1:
                    stop_concern = r.randrange(len(self.concerns))
                for c in self.concerns:
                    for ct in self.cts[i]:
                        for year in self.years:
                            ins = dec.get((c["idx"], ct, year))
                            if ins is None:
                                x = r.random()
                                if x < 0.2:
                                    st = "not_contracted"
                                elif x < 0.24:
                                    st = "contracted"
                                else:
                                    continue
                                provider_only += 1
                            else:
                                ist = ins[0]
                                st = ist
                                if ist == "contracted_ceiling" and r.random() < 0.5:
                                    st = "contracted"
                                if ist == "ended" and r.random() < 0.5:
                                    st = "not_contracted"
                                if r.random() < 0.04:
                                    # a disagreement: mostly the provider announces a deal the
                                    # insurer has not published yet
                                    if ist == "negotiating":
                                        st = "contracted"
                                    elif ist in ("contracted", "contracted_ceiling"):
                                        st = "negotiating" if year == self.year_next else "not_contracted"
                                    else:
                                        st = "contracted"
                                if status_class(st) != status_class(ist):
                                    conflicts += 1
                                else:
                                    confirmed += 1
                            extra = ""
                            if stop_concern == c["idx"] and year == self.year_cur and st.startswith("contracted"):
                                extra = (f',"patient_stop":{{"reason":"staff_shortage","from":"{self.day(r, 40, 2)}",'
                                         f'"note":"Tijdelijk geen nieuwe cliënten in deze wijk"}}')
                            sa = f',"said_at":"{said[r.randrange(len(said))]}"' if year == self.year_next else ""
                            f.rec(f'{{"type":"status","agb":"{agb}","concern":"{c["id"]}","year":{year},'
                                  f'"care_type":"{ct}","status":"{st}"{extra}{sa}}}', "status")
                # per policy where they can: the selective policies
                if p["per_policy"]:
                    excl = set(self.excluded.get(i, []))
                    for pol in self.policies:
                        if not pol["selective"]:
                            continue
                        for ct in self.cts[i]:
                            for year in self.years:
                                if (pol["id"], ct, year) in excl:
                                    st = "not_contracted"
                                else:
                                    ins = dec.get((pol["insurer"]["concern"]["idx"], ct, year))
                                    if ins is None:
                                        continue
                                    st = ins[0]
                                f.rec(f'{{"type":"status","agb":"{agb}","policy":"{pol["id"]}","year":{year},'
                                      f'"care_type":"{ct}","status":"{st}"}}', "status")
                # insurer-level statements about regional contracts of member insurers
                for uz, ct, year, st in self.extras.get(i, []):
                    f.rec(f'{{"type":"status","agb":"{agb}","insurer":"{uz}","year":{year},'
                          f'"care_type":"{ct}","status":"{st}"}}', "status")
            size = f.close()
            self.register(name, "provider", f, size, extra={"publisher": p["name"], "providers": len(p["members"])})
        self.stats["provider_statements"] = {"confirmed_class": confirmed, "conflict_class": conflicts,
                                             "provider_only": provider_only}

    def register(self, name, kind, f, size, extra=None):
        e = {"name": name, "kind": kind, "file": name + ".jsonl", "records": f.records,
             "lines": f.records + 2, "bytes": size, "by_type": f.counts}
        if extra:
            e.update(extra)
        self.manifest_feeds.append(e)

    # ---------------------------------------------------------------- config, requests, manifest
    def order_feeds(self):
        """Config order: per concern the member insurers before the lead insurer (the lead's
        'similar' records may name the members' policies, so a daemon that ingests in config order
        knows them by then), then the provider feeds (their policy-scoped statements name insurer
        policies)."""
        ins = {e["uzovi"]: e for e in self.manifest_feeds if e["kind"] == "insurer"}
        ordered = []
        for c in self.concerns:
            for x in c["insurers"][1:] + c["insurers"][:1]:
                ordered.append(ins[x["uzovi"]])
        ordered += [e for e in self.manifest_feeds if e["kind"] == "provider"]
        self.manifest_feeds = ordered

    def write_config(self):
        a = self.a
        path = os.path.join(self.out, "zorgstatus.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"# generated by bench/gen.py --seed {a.seed} --scale {a.scale}: "
                    f"{len(self.manifest_feeds)} feeds served from http://127.0.0.1:{a.port}/\n")
            f.write("# listen and database are given on the command line by bench/run.sh\n")
            if a.now:
                f.write(f"now = {a.now}\n")
            if a.threads:
                f.write(f"threads = {a.threads}\n")
            for e in self.manifest_feeds:
                f.write(f"\n[feed {e['name']}]\nkind = {e['kind']}\n"
                        f"url = http://127.0.0.1:{a.port}/{e['file']}\n"
                        f"schedule = {a.schedule}\nstale_after = {a.schedule * 2}\nmax_invalid_rows = 0\n")

    def write_requests(self):
        a = self.a
        r = self.rng("requests")
        rdir = os.path.join(self.out, "requests")
        os.makedirs(rdir, exist_ok=True)
        year = self.year_next
        # lookups: a quarter hospitals and ZBCs (what comparison sites look up most), rest uniform
        # only providers that some feed mentions (the others are unknown to the daemon)
        known = [i for i in range(self.n) if self.stated[i]]
        self.stats["providers_in_feeds"] = len(known)
        hosp = [i for i in known if self.kind[i] in ("hospital", "ibc")]
        look = []
        for _ in range(a.lookups):
            i = hosp[r.randrange(len(hosp))] if r.random() < 0.25 else known[r.randrange(len(known))]
            look.append(f"/v1/providers/{self.agb[i]}?year={year}")
        # search: the fixed prefixes plus as-you-type prefixes of real names and cities
        fixed = ["st", "sint a", "max", "zieken", "fysio", "huisarts", "apo", "ggz", "thuisz",
                 "kliniek", "sint", "st. an", "maxima", "ziekenhuis r", "de v", "amst", "rotter"]
        qs = list(fixed)
        while len(qs) < a.searches:
            x = r.random()
            if x < 0.7:
                nm = self.names_sample[r.randrange(len(self.names_sample))][0].lower()
            else:
                nm = CITIES[r.randrange(len(CITIES))][0].lower()
            words = nm.split()
            w = r.randrange(min(2, len(words)))
            stem = " ".join(words[:w])
            tail = words[w]
            k = r.randint(2, max(2, min(len(tail), 8)))
            q = (stem + " " + tail[:k]).strip()
            qs.append(q)
        search = [f"/v1/search?q={urllib.parse.quote(q, safe='')}&limit=10" for q in qs]
        # compare: 5 providers of one kind, same city where possible, else same province
        by_city_kind = {}
        for i in known:
            by_city_kind.setdefault((self.city[i], self.kind[i]), []).append(i)
        by_prov_kind = {}
        for i in known:
            by_prov_kind.setdefault((CITIES[self.city[i]][1], self.kind[i]), []).append(i)
        comp = []
        tries = 0
        while len(comp) < a.compares and tries < a.compares * 20:
            tries += 1
            i = hosp[r.randrange(len(hosp))] if r.random() < 0.4 else known[r.randrange(len(known))]
            pool = by_city_kind[(self.city[i], self.kind[i])]
            if len(pool) < 5:
                pool = by_prov_kind[(CITIES[self.city[i]][1], self.kind[i])]
            if len(pool) < 5:
                pool = [j for j in known if self.kind[j] == self.kind[i]] if self.kind[i] == "hospital" else pool
            if len(pool) < 5:
                continue
            pick = r.sample(pool, 5)
            comp.append(f"/v1/compare?agb={','.join(self.agb[j] for j in pick)}&year={year}")
        for fname, lst in (("lookup.txt", look), ("search.txt", search), ("compare.txt", comp)):
            with open(os.path.join(rdir, fname), "w", encoding="utf-8") as f:
                for line in lst:
                    f.write(line + "\n")
        with open(os.path.join(self.out, "sample-requests.txt"), "w", encoding="utf-8") as f:
            f.write("# Sample requests (full lists for wrk in requests/*.txt, one path per line;\n"
                    "# bench/paths.lua rotates over them). Base: http://127.0.0.1:DAEMON_PORT\n")
            for title, lst in (("provider lookup", look), ("search as you type", search),
                               ("compare 5 providers", comp)):
                f.write(f"\n# {title} ({len(lst)} in requests/)\n")
                for line in lst[:25]:
                    f.write(line + "\n")
        self.stats["requests"] = {"lookup": len(look), "search": len(search), "compare": len(comp)}

    def write_manifest(self, elapsed):
        a = self.a
        tot_rec = sum(e["records"] for e in self.manifest_feeds)
        tot_bytes = sum(e["bytes"] for e in self.manifest_feeds)
        st = self.stats
        # hospital next-year share still negotiating
        sc = st.pop("insurer_status_counts")
        hn = {k[2]: v for k, v in sc.items() if k[0] == "hospital" and k[1] == self.year_next}
        tot_hn = sum(hn.values())
        st["hospital_next_year_statuses"] = hn
        st["hospital_next_year_negotiating_share"] = round(hn.get("negotiating", 0) / tot_hn, 3) if tot_hn else 0
        st["statuses_by_year"] = {str(y): sum(v for k, v in sc.items() if k[1] == y) for y in self.years}
        m = {"generator": "bench/gen.py", "format_version": FORMAT_VERSION,
             "params": {"seed": a.seed, "scale": a.scale, "date": a.date, "port": a.port,
                        "concerns": a.concerns, "insurers": a.insurers, "policies_per_year": a.policies,
                        "providers": a.providers, "hospitals": a.hospitals},
             "years": self.years, "generated_at": self.generated_at,
             "feeds": self.manifest_feeds,
             "totals": {"feeds": len(self.manifest_feeds), "records": tot_rec, "bytes": tot_bytes},
             "stats": st, "elapsed_seconds": round(elapsed, 2)}
        with open(os.path.join(self.out, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(m, f, ensure_ascii=False, indent=1)
            f.write("\n")
        return m


def status_class(s):
    if s in ("contracted", "contracted_ceiling"):
        return 1
    if s in ("not_contracted", "ended"):
        return 3
    if s == "negotiating":
        return 2
    return 0


def similarity(ra, rb):
    """equal when the rules are identical; very_similar when every care type's percentage differs
    by at most 5 points with the same basis; else None."""
    da = {x["care_type"]: (x["percent"], x["basis"]) for x in ra}
    db = {x["care_type"]: (x["percent"], x["basis"]) for x in rb}
    if da == db:
        return "equal"
    keys = sorted(set(da) | set(db))
    for k in keys:
        a = da.get(k, da.get("*"))
        b = db.get(k, db.get("*"))
        if a is None or b is None or a[1] != b[1] or abs(a[0] - b[0]) > 5:
            return None
    return "very_similar"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Deterministic generator of zorgstatus v1 feeds.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", choices=sorted(SCALES), default="small")
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--port", type=int, default=18081, help="port of the feed HTTP server in zorgstatus.conf")
    ap.add_argument("--date", default="2026-11-16",
                    help="feed date (YYYY-MM-DD); contract years are its year and the next (default mid-November 2026)")
    ap.add_argument("--now", default=None,
                    help="'now' setting written to the config (default DATE T12:00:00; '' to omit)")
    ap.add_argument("--threads", type=int, default=0, help="'threads' setting written to the config (0: omit)")
    ap.add_argument("--schedule", type=int, default=86400, help="feed schedule seconds in the config")
    for k in ("concerns", "insurers", "policies", "providers", "hospitals", "hospital_groups",
              "single_hospital_feeds", "lookups", "searches", "compares"):
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=None, help=f"override the scale's {k}")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    preset = SCALES[a.scale]
    for k, v in preset.items():
        if getattr(a, k, None) is None:
            setattr(a, k, v)
    if a.now is None:
        a.now = f"{a.date}T12:00:00"
    if a.hospitals < 1 or a.providers < a.hospitals + 50:
        raise SystemExit("gen.py: need --hospitals >= 1 and --providers >= hospitals + 50")
    t0 = time.monotonic()
    os.makedirs(a.out, exist_ok=True)
    for fn in os.listdir(a.out):   # stale feeds of an earlier run would end up in no config
        if fn.endswith(".jsonl") and (fn.startswith("insurer-") or fn.startswith("provider-")):
            os.unlink(os.path.join(a.out, fn))
    g = Gen(a)
    g.build_market()
    g.build_providers()
    t1 = time.monotonic()
    g.write_insurer_feeds()
    t2 = time.monotonic()
    g.write_provider_feeds()
    g.order_feeds()
    g.write_config()
    g.write_requests()
    m = g.write_manifest(time.monotonic() - t0)
    if not a.quiet:
        tot = m["totals"]
        print(f"gen.py: {a.scale} seed {a.seed}: {tot['feeds']} feeds, {tot['records']} records, "
              f"{tot['bytes'] / 1e6:.1f} MB in {a.out} "
              f"(providers {t1 - t0:.1f}s, insurer feeds {t2 - t1:.1f}s, total {m['elapsed_seconds']:.1f}s)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
