#!/usr/bin/env python3
"""bench/verify.py DIR - check a directory written by bench/gen.py against feed format v1.

Streams every feed listed in DIR/manifest.json and checks: header first, trailer last with the
right record count, every line valid JSON of a known type, field formats (AGB, UZOVI, postcode,
dates, codes), exactly one scope per status, scopes that name this feed's insurer/concern (insurer
feeds) or a known concern/insurer (provider feeds), status policies declared in the same feed
(insurer feeds) or in any insurer feed (provider feeds) for that year, similar declarations naming
existing policies of one year with at least one of this feed, every status AGB present in a
provider record of the same feed, no duplicate (agb, scope, year, care type) statement within a
feed, and record counts equal to the manifest. Also checks the request lists: every AGB used in
requests/lookup.txt and requests/compare.txt exists. Exit 0 if all is well, 1 otherwise.
Python 3 standard library only.
"""

import json
import os
import re
import sys

AGB = re.compile(r"^[0-9]{8}$")
UZOVI = re.compile(r"^[0-9]{4}$")
PC = re.compile(r"^[0-9]{4}[A-Z]{2}$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
TS = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$")
ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
CARE = {"hospital", "ibc", "mental_health", "district_nursing", "physiotherapy", "gp", "acute",
        "maternity", "pharmacy", "medical_devices", "paramedical"}
STATUS = {"contracted", "contracted_ceiling", "negotiating", "not_contracted", "ended", "unknown"}
PKIND = {"natura", "restitutie", "combinatie", "budget"}
BASIS = {"avg_contracted_tariff", "market_tariff", "statutory_max_tariff"}
VKIND = {"hospital", "ibc", "mental_health", "district_nursing", "physiotherapy", "gp", "pharmacy",
         "maternity", "medical_devices", "other"}
EXEMPT = CARE | {"treatment_in_progress", "acute_maternity"}
REASON = {"ceiling_reached", "staff_shortage", "other"}


class Checker:
    def __init__(self, d):
        self.d = d
        self.errors = []
        self.policies = {}        # (id, year) -> uzovi
        self.concerns = set()
        self.insurers = set()
        self.all_agbs = set()
        self.similar_refs = []    # checked once every insurer feed is read
        self.stats = {"lines": 0, "status": 0, "provider": 0, "policy": 0, "similar": 0}

    def err(self, feed, line, msg):
        if len(self.errors) < 200:
            self.errors.append(f"{feed} line {line}: {msg}")

    def run(self):
        m = json.load(open(os.path.join(self.d, "manifest.json"), encoding="utf-8"))
        feeds = m["feeds"]
        # pass 1: insurer feeds (policies must be known before provider feeds are checked)
        for fe in feeds:
            if fe["kind"] == "insurer":
                self.feed(fe, True)
        for name, ln, ps, y in self.similar_refs:
            for p in ps:
                if (p, y) not in self.policies:
                    self.err(name, ln, f"similar: unknown policy {p} {y}")
        for fe in feeds:
            if fe["kind"] == "provider":
                self.feed(fe, False)
        self.requests()
        conf = open(os.path.join(self.d, "zorgstatus.conf"), encoding="utf-8").read()
        for fe in feeds:
            if f"[feed {fe['name']}]" not in conf or f"/{fe['file']}\n" not in conf:
                self.err("zorgstatus.conf", 0, f"feed {fe['name']} missing")
        return m

    def feed(self, fe, insurer):
        name = fe["name"]
        path = os.path.join(self.d, fe["file"])
        agbs = set()
        status_agbs = []
        seen = set()
        own_pol = set()
        similar = []
        records = 0
        trailer = None
        hdr = None
        with open(path, encoding="utf-8") as f:
            for ln, raw in enumerate(f, 1):
                self.stats["lines"] += 1
                if not raw.strip():
                    continue
                if trailer is not None:
                    self.err(name, ln, "content after the trailer")
                    break
                try:
                    o = json.loads(raw)
                except ValueError as e:
                    self.err(name, ln, f"invalid JSON: {e}")
                    continue
                t = o.get("type")
                if ln == 1:
                    hdr = o
                    if t != "header" or o.get("version") != 1:
                        self.err(name, ln, "first line is not a version-1 header")
                    fmt = "zorgstatus-insurer" if insurer else "zorgstatus-provider"
                    if o.get("format") != fmt:
                        self.err(name, ln, f"format {o.get('format')} != {fmt}")
                    if not TS.match(o.get("generated_at", "")):
                        self.err(name, ln, "generated_at")
                    if insurer:
                        if not UZOVI.match(o["insurer"]["uzovi"]) or not ID.match(o["concern"]["id"]):
                            self.err(name, ln, "header codes")
                        self.concerns.add(o["concern"]["id"])
                        self.insurers.add(o["insurer"]["uzovi"])
                    elif not o.get("publisher", {}).get("name"):
                        self.err(name, ln, "publisher name")
                    continue
                if t == "end":
                    trailer = o
                    continue
                records += 1
                if t == "policy":
                    self.stats["policy"] += 1
                    if not insurer:
                        self.err(name, ln, "policy record in a provider feed")
                        continue
                    key = (o["id"], o["year"])
                    if not ID.match(o["id"]) or o.get("kind") not in PKIND or not o.get("name"):
                        self.err(name, ln, "policy fields")
                    if key in self.policies:
                        self.err(name, ln, f"policy {key} declared twice")
                    self.policies[key] = hdr["insurer"]["uzovi"]
                    own_pol.add(key)
                    rs = o.get("reimbursement", [])
                    if not any(x.get("care_type") == "*" for x in rs):
                        self.err(name, ln, "no default reimbursement rule")
                    for x in rs:
                        if (x.get("care_type") != "*" and x.get("care_type") not in CARE) or \
                                x.get("basis") not in BASIS or not 0 <= x.get("percent", -1) <= 100:
                            self.err(name, ln, f"reimbursement rule {x}")
                elif t == "provider":
                    self.stats["provider"] += 1
                    if not AGB.match(o.get("agb", "")) or o.get("kind") not in VKIND or not o.get("name"):
                        self.err(name, ln, "provider fields")
                    if o["agb"] in agbs:
                        self.err(name, ln, f"provider {o['agb']} twice in one feed")
                    agbs.add(o["agb"])
                    self.all_agbs.add(o["agb"])
                    locs = o.get("locations") or []
                    if not locs:
                        self.err(name, ln, "no locations")
                    for loc in locs:
                        if not PC.match(loc.get("postcode", "")) or not loc.get("street") or not loc.get("city"):
                            self.err(name, ln, f"location {loc}")
                        elif loc["postcode"][4:] in ("SA", "SD", "SS"):
                            self.err(name, ln, f"postcode letters {loc['postcode']}")
                elif t == "status":
                    self.stats["status"] += 1
                    self.status(name, ln, o, insurer, hdr, own_pol, seen)
                    status_agbs.append((ln, o.get("agb")))
                elif t == "similar":
                    self.stats["similar"] += 1
                    if not insurer:
                        self.err(name, ln, "similar record in a provider feed")
                    similar.append((ln, o))
                else:
                    self.err(name, ln, f"unknown record type {t!r}")
        if trailer is None:
            self.err(name, 0, "no trailer")
        elif trailer.get("records") != records:
            self.err(name, 0, f"trailer says {trailer.get('records')}, counted {records}")
        if records != fe["records"]:
            self.err(name, 0, f"manifest says {fe['records']} records, counted {records}")
        for ln, agb in status_agbs:
            if agb not in agbs:
                self.err(name, ln, f"status for AGB {agb} without a provider record in this feed")
        for ln, o in similar:
            ps = o.get("policies", [])
            y = o.get("year")
            if len(ps) != 2 or ps[0] == ps[1] or o.get("relation") not in ("equal", "very_similar"):
                self.err(name, ln, "similar fields")
                continue
            if not any((p, y) in own_pol for p in ps):
                self.err(name, ln, "similar: neither policy is declared in this feed")
            self.similar_refs.append((name, ln, ps, y))

    def status(self, name, ln, o, insurer, hdr, own_pol, seen):
        if not AGB.match(o.get("agb", "")):
            self.err(name, ln, "agb")
        scopes = [k for k in ("policy", "insurer", "concern") if k in o]
        if len(scopes) != 1:
            self.err(name, ln, f"scopes {scopes}")
            return
        sc = scopes[0]
        v = o[sc]
        y = o.get("year")
        if not isinstance(y, int) or not 2000 <= y <= 2100:
            self.err(name, ln, "year")
        if o.get("care_type") not in CARE:
            self.err(name, ln, f"care_type {o.get('care_type')}")
        st = o.get("status")
        if st not in STATUS:
            self.err(name, ln, f"status {st}")
        if o.get("as_contracted") and st != "negotiating":
            self.err(name, ln, "as_contracted without negotiating")
        if "ceiling" in o:
            for x in o["ceiling"].get("exempt", []):
                if x not in EXEMPT:
                    self.err(name, ln, f"ceiling exempt {x}")
        ps = o.get("patient_stop")
        if ps is not None:
            if ps.get("reason") not in REASON or not DATE.match(ps.get("from", "")) or \
                    ("until" in ps and not DATE.match(ps["until"])):
                self.err(name, ln, f"patient_stop {ps}")
            elif "until" in ps and ps["until"] < ps["from"]:
                self.err(name, ln, "patient_stop until before from")
        if "said_at" in o and not TS.match(o["said_at"]):
            self.err(name, ln, "said_at")
        if insurer:
            if sc == "policy" and (v, y) not in own_pol:
                self.err(name, ln, f"policy {v} {y} not declared in this feed")
            if sc == "insurer" and v != hdr["insurer"]["uzovi"]:
                self.err(name, ln, f"insurer scope {v} is not this feed's insurer")
            if sc == "concern" and v != hdr["concern"]["id"]:
                self.err(name, ln, f"concern scope {v} is not this feed's concern")
        else:
            if sc == "policy" and (v, y) not in self.policies:
                self.err(name, ln, f"policy {v} {y} not declared in any insurer feed")
            if sc == "insurer" and v not in self.insurers:
                self.err(name, ln, f"unknown insurer {v}")
            if sc == "concern" and v not in self.concerns:
                self.err(name, ln, f"unknown concern {v}")
        key = (o.get("agb"), sc, v, y, o.get("care_type"))
        if key in seen:
            self.err(name, ln, f"duplicate statement {key}")
        seen.add(key)

    def requests(self):
        rdir = os.path.join(self.d, "requests")
        for fn in ("lookup.txt", "search.txt", "compare.txt"):
            lines = open(os.path.join(rdir, fn), encoding="utf-8").read().split("\n")[:-1]
            if not lines:
                self.err(fn, 0, "empty")
            for i, l in enumerate(lines, 1):
                if not l.startswith("/v1/"):
                    self.err(fn, i, "not a /v1/ path")
                if fn == "lookup.txt":
                    agb = l.split("/")[3].split("?")[0]
                    if agb not in self.all_agbs:
                        self.err(fn, i, f"unknown AGB {agb}")
                elif fn == "compare.txt":
                    agbs = l.split("agb=")[1].split("&")[0].split(",")
                    if len(agbs) != 5 or len(set(agbs)) != 5 or any(a not in self.all_agbs for a in agbs):
                        self.err(fn, i, f"bad compare list {agbs}")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    c = Checker(sys.argv[1])
    m = c.run()
    print(f"verify.py: {len(m['feeds'])} feeds, {c.stats['lines']} lines "
          f"({c.stats['policy']} policy, {c.stats['provider']} provider, {c.stats['status']} status, "
          f"{c.stats['similar']} similar), {len(c.all_agbs)} distinct AGBs, "
          f"{len(c.policies)} (policy, year) pairs, {len(c.concerns)} concerns, {len(c.insurers)} insurers")
    if c.errors:
        for e in c.errors:
            print("ERROR " + e)
        print(f"verify.py: {len(c.errors)}{'+' if len(c.errors) >= 200 else ''} errors")
        return 1
    print("verify.py: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
