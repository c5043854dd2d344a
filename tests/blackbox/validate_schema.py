#!/usr/bin/env python3
"""Check zorgstatus feeds (format v1, feeds/README.md) and the sample configuration.

Standard library only. If the `jsonschema` package happens to be installed, every line is also
checked against feeds/schema/*-v1.schema.json (skip with --no-jsonschema); the hand-written
checks below do not depend on it.

    tests/blackbox/validate_schema.py                  # all feeds/*.jsonl and feeds/sample.conf
    tests/blackbox/validate_schema.py FILE.jsonl ...    # only these feeds (cross-feed checks
                                                        # then see only these feeds)
    tests/blackbox/validate_schema.py --reconcile       # also print the reconciled matrix

Per line: it parses; the header comes first and the `end` trailer last with the exact count;
known record types; codes, enums, dates, timestamps; exactly one of policy/insurer/concern on a
status; `as_contracted` only with `negotiating`; patient stop from <= until.
Per feed: a status names a policy of the same feed and year (insurer feeds) or of any insurer
feed (provider feeds); insurer/concern scopes match the header; every AGB with a status has a
provider record in the same feed; AGB prefix fits the provider kind; `similar` declarations.
Across feeds (sample-data conventions, so that the expected outcomes are unambiguous): policy
ids unique per year; provider master data identical between insurer feeds; no two insurer
feeds speak about the same (AGB, policy, year, care type); where a provider speaks at concern
or insurer level, the insurer side speaks for all or none of that scope's policies; at most one
provider feed per AGB.

--reconcile prints, per (AGB, year, care type, policy), the outcome under this helper's reading
of domain.md "Sources and reconciliation" (see reconcile() below). It is a reading for checking
the sample data, not the normative implementation.

Exit status: 0 when no errors, 1 otherwise.
"""
import datetime
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FEEDS = os.path.normpath(os.path.join(HERE, "..", "..", "feeds"))

CARE = ["hospital", "ibc", "mental_health", "district_nursing", "physiotherapy", "gp", "acute",
        "maternity", "pharmacy", "medical_devices", "paramedical"]
STATUS = ["contracted", "contracted_ceiling", "negotiating", "not_contracted", "ended", "unknown"]
PKIND = ["hospital", "ibc", "mental_health", "district_nursing", "physiotherapy", "gp", "pharmacy",
         "maternity", "medical_devices", "other"]
POLICY_KIND = ["natura", "restitutie", "combinatie", "budget"]
BASIS = ["avg_contracted_tariff", "market_tariff", "statutory_max_tariff"]
EXEMPT = CARE + ["treatment_in_progress", "acute_maternity"]
STOP_REASON = ["ceiling_reached", "staff_shortage", "other"]
# AGB prefix (first two digits) per provider kind, as used in the sample data.
AGB_PREFIX = {"hospital": ["06"], "ibc": ["22"], "mental_health": ["94"], "district_nursing": ["47"],
              "physiotherapy": ["04"], "gp": ["01"], "maternity": ["08"], "pharmacy": ["02"]}

RE_AGB = re.compile(r"^[0-9]{8}$")
RE_UZOVI = re.compile(r"^[0-9]{4}$")
RE_CONCERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
RE_POLICY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
RE_POSTCODE = re.compile(r"^[1-9][0-9]{3} ?[A-Za-z]{2}$")
RE_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
RE_TS = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$")

SCOPES = ("policy", "insurer", "concern")


def status_class(s):
    """Agreement class (src/zs_types.h zs_status_class): contracted+contracted_ceiling,
    not_contracted+ended, negotiating; unknown = 0 (not spoken)."""
    return {"contracted": 1, "contracted_ceiling": 1, "negotiating": 2,
            "not_contracted": 3, "ended": 3}.get(s, 0)


class Report:
    def __init__(self):
        self.errors = 0
        self.warnings = 0

    def error(self, where, msg):
        self.errors += 1
        print(f"ERROR {where}: {msg}")

    def warn(self, where, msg):
        self.warnings += 1
        print(f"warning {where}: {msg}")


class Feed:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.kind = None          # "insurer" | "provider"
        self.header = None
        self.records = []         # (lineno, record)
        self.ok = False


def is_date(v):
    if not isinstance(v, str) or not RE_DATE.match(v):
        return False
    try:
        datetime.date.fromisoformat(v)
        return True
    except ValueError:
        return False


def is_ts(v):
    if not isinstance(v, str) or not RE_TS.match(v):
        return False
    try:
        datetime.datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
        return True
    except ValueError:
        return False


def is_year(v):
    return isinstance(v, int) and not isinstance(v, bool) and 2000 <= v <= 2100


def nonempty_str(v):
    return isinstance(v, str) and v.strip() != ""


# ------------------------------------------------------------------------------ per line
def check_provider(rep, where, r):
    if not (isinstance(r.get("agb"), str) and RE_AGB.match(r["agb"])):
        rep.error(where, f'field "agb": not 8 digits: {r.get("agb")!r}')
    if not nonempty_str(r.get("name")):
        rep.error(where, 'field "name": missing or empty')
    if r.get("kind") not in PKIND:
        rep.error(where, f'field "kind": unknown provider kind {r.get("kind")!r}')
    elif isinstance(r.get("agb"), str) and r["kind"] in AGB_PREFIX and r["agb"][:2] not in AGB_PREFIX[r["kind"]]:
        rep.error(where, f'field "agb": prefix {r["agb"][:2]} does not fit kind {r["kind"]} '
                         f'(expected {"/".join(AGB_PREFIX[r["kind"]])})')
    if "parent" in r and not nonempty_str(r["parent"]):
        rep.error(where, 'field "parent": empty')
    locs = r.get("locations")
    if not isinstance(locs, list) or not locs:
        rep.error(where, 'field "locations": missing or empty')
        return
    for i, l in enumerate(locs):
        if not isinstance(l, dict):
            rep.error(where, f'field "locations[{i}]": not an object')
            continue
        for k in ("street", "city"):
            if not nonempty_str(l.get(k)):
                rep.error(where, f'field "locations[{i}].{k}": missing or empty')
        if not (isinstance(l.get("postcode"), str) and RE_POSTCODE.match(l["postcode"])):
            rep.error(where, f'field "locations[{i}].postcode": not a Dutch postcode: {l.get("postcode")!r}')


def check_patient_stop(rep, where, ps):
    if not isinstance(ps, dict):
        rep.error(where, 'field "patient_stop": not an object')
        return
    if ps.get("reason") not in STOP_REASON:
        rep.error(where, f'field "patient_stop.reason": unknown reason {ps.get("reason")!r}')
    if not is_date(ps.get("from")):
        rep.error(where, f'field "patient_stop.from": missing or not a date: {ps.get("from")!r}')
    if "until" in ps:
        if not is_date(ps["until"]):
            rep.error(where, f'field "patient_stop.until": not a date: {ps["until"]!r}')
        elif is_date(ps.get("from")) and ps["until"] < ps["from"]:
            rep.error(where, 'field "patient_stop.until": before "from"')
    if "note" in ps and not isinstance(ps["note"], str):
        rep.error(where, 'field "patient_stop.note": not a string')


def check_status(rep, where, r, insurer_feed):
    if not (isinstance(r.get("agb"), str) and RE_AGB.match(r["agb"])):
        rep.error(where, f'field "agb": not 8 digits: {r.get("agb")!r}')
    present = [s for s in SCOPES if s in r]
    if len(present) != 1:
        rep.error(where, f'field "policy/insurer/concern": exactly one required, found {present or "none"}')
    if "policy" in r and not (isinstance(r["policy"], str) and RE_POLICY.match(r["policy"])):
        rep.error(where, f'field "policy": bad policy id {r["policy"]!r}')
    if "insurer" in r and not (isinstance(r["insurer"], str) and RE_UZOVI.match(r["insurer"])):
        rep.error(where, f'field "insurer": not a UZOVI code {r["insurer"]!r}')
    if "concern" in r and not (isinstance(r["concern"], str) and RE_CONCERN.match(r["concern"])):
        rep.error(where, f'field "concern": bad concern id {r["concern"]!r}')
    if not is_year(r.get("year")):
        rep.error(where, f'field "year": not a year 2000-2100: {r.get("year")!r}')
    if r.get("care_type") not in CARE:
        rep.error(where, f'field "care_type": unknown care type {r.get("care_type")!r}')
    if r.get("status") not in STATUS:
        rep.error(where, f'field "status": unknown status {r.get("status")!r}')
    if "as_contracted" in r:
        if not isinstance(r["as_contracted"], bool):
            rep.error(where, 'field "as_contracted": not a boolean')
        elif r["as_contracted"] and r.get("status") != "negotiating":
            rep.error(where, 'field "as_contracted": only with status negotiating')
        if not insurer_feed:
            rep.warn(where, 'field "as_contracted": ignored in provider feeds')
    if "ceiling" in r:
        c = r["ceiling"]
        if not isinstance(c, dict):
            rep.error(where, 'field "ceiling": not an object')
        else:
            ex = c.get("exempt", [])
            if not isinstance(ex, list) or any(e not in EXEMPT for e in ex) or len(set(ex)) != len(ex):
                rep.error(where, f'field "ceiling.exempt": bad list {ex!r}')
        if not insurer_feed:
            rep.warn(where, 'field "ceiling": ignored in provider feeds')
        elif r.get("status") != "contracted_ceiling":
            rep.warn(where, 'field "ceiling": sample convention is to use it only with contracted_ceiling')
    if "patient_stop" in r:
        check_patient_stop(rep, where, r["patient_stop"])
    if "said_at" in r and not is_ts(r["said_at"]):
        rep.error(where, f'field "said_at": not an RFC 3339 timestamp: {r["said_at"]!r}')


def check_policy(rep, where, r):
    if not (isinstance(r.get("id"), str) and RE_POLICY.match(r["id"])):
        rep.error(where, f'field "id": bad policy id {r.get("id")!r}')
    if not is_year(r.get("year")):
        rep.error(where, f'field "year": not a year 2000-2100: {r.get("year")!r}')
    if not nonempty_str(r.get("name")):
        rep.error(where, 'field "name": missing or empty')
    if "label" in r and not nonempty_str(r["label"]):
        rep.error(where, 'field "label": empty')
    if r.get("kind") not in POLICY_KIND:
        rep.error(where, f'field "kind": unknown policy type {r.get("kind")!r}')
    rb = r.get("reimbursement")
    if not isinstance(rb, list) or not rb:
        rep.error(where, 'field "reimbursement": required, a non-empty list of rules')
        return
    seen = set()
    for i, e in enumerate(rb):
        w = f'field "reimbursement[{i}]'
        if not isinstance(e, dict):
            rep.error(where, w + '": not an object')
            continue
        ct = e.get("care_type")
        if ct != "*" and ct not in CARE:
            rep.error(where, w + f'.care_type": unknown {ct!r}')
        if ct in seen:
            rep.error(where, w + f'.care_type": duplicate {ct!r}')
        seen.add(ct)
        p = e.get("percent")
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 100:
            rep.error(where, w + f'.percent": not 0-100: {p!r}')
        if e.get("basis") not in BASIS:
            rep.error(where, w + f'.basis": unknown {e.get("basis")!r}')
    if "*" not in seen:
        rep.warn(where, 'field "reimbursement": no "*" default (the sample data always has one)')


def check_similar(rep, where, r):
    if not is_year(r.get("year")):
        rep.error(where, f'field "year": not a year 2000-2100: {r.get("year")!r}')
    ps = r.get("policies")
    if (not isinstance(ps, list) or len(ps) != 2 or len(set(map(str, ps))) != 2
            or not all(isinstance(p, str) and RE_POLICY.match(p) for p in ps)):
        rep.error(where, f'field "policies": two distinct policy ids required: {ps!r}')
    if r.get("relation") not in ("equal", "very_similar"):
        rep.error(where, f'field "relation": unknown {r.get("relation")!r}')


def check_header(rep, where, h, kind):
    if h.get("type") != "header":
        rep.error(where, 'field "type": line 1 must be the header')
        return False
    fmt = {"insurer": "zorgstatus-insurer", "provider": "zorgstatus-provider"}
    if h.get("format") != fmt.get(kind):
        rep.error(where, f'field "format": {h.get("format")!r}, expected {fmt.get(kind)!r}')
        return False
    v = h.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or v != 1:
        rep.error(where, f'field "version": {v!r}, this checker knows version 1')
        return False
    if not is_ts(h.get("generated_at")):
        rep.error(where, f'field "generated_at": not an RFC 3339 timestamp: {h.get("generated_at")!r}')
    if kind == "insurer":
        c, i = h.get("concern"), h.get("insurer")
        if not (isinstance(c, dict) and isinstance(c.get("id"), str) and RE_CONCERN.match(c["id"])
                and nonempty_str(c.get("name"))):
            rep.error(where, f'field "concern": id and name required: {c!r}')
            return False
        if not (isinstance(i, dict) and isinstance(i.get("uzovi"), str) and RE_UZOVI.match(i["uzovi"])
                and nonempty_str(i.get("name"))):
            rep.error(where, f'field "insurer": uzovi and name required: {i!r}')
            return False
    else:
        p = h.get("publisher")
        if not (isinstance(p, dict) and nonempty_str(p.get("name"))):
            rep.error(where, f'field "publisher": name required: {p!r}')
    return True


def load_feed(rep, path, validators):
    f = Feed(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        rep.error(f.name, f"cannot read as UTF-8: {e}")
        return f
    if text.startswith("\ufeff"):
        rep.warn(f.name, "starts with a byte order mark")
    lines = [(n, l) for n, l in enumerate(text.split("\n"), 1) if l.strip() != ""]
    objs = []
    for n, l in lines:
        try:
            o = json.loads(l)
        except json.JSONDecodeError as e:
            rep.error(f"{f.name} line {n}", f"not JSON: {e}")
            continue
        if not isinstance(o, dict):
            rep.error(f"{f.name} line {n}", "not a JSON object")
            continue
        objs.append((n, o))
    if not objs:
        rep.error(f.name, "empty feed")
        return f
    n0, h = objs[0]
    fmt = h.get("format")
    f.kind = {"zorgstatus-insurer": "insurer", "zorgstatus-provider": "provider"}.get(fmt)
    if f.kind is None:
        rep.error(f"{f.name} line {n0}", f'field "format": unknown format {fmt!r}')
        return f
    if f.name.startswith(("insurer-", "provider-")) and not f.name.startswith(f.kind + "-"):
        rep.error(f.name, f"file name does not match the header format {fmt}")
    if not check_header(rep, f"{f.name} line {n0}", h, f.kind):
        return f
    f.header = h
    nl, end = objs[-1]
    if len(objs) < 2 or end.get("type") != "end":
        rep.error(f"{f.name} line {nl}", "last line is not the end trailer: truncated feed")
        return f
    body = objs[1:-1]
    rec = end.get("records")
    if not isinstance(rec, int) or isinstance(rec, bool) or rec != len(body):
        rep.error(f"{f.name} line {nl}", f'field "records": trailer says {rec!r}, feed has {len(body)} records')
    types = {"insurer": ("policy", "provider", "status", "similar"), "provider": ("provider", "status")}[f.kind]
    v = validators.get(f.kind)
    if v is not None:
        for n, o in objs:
            t = o.get("type")
            vt = v[t] if isinstance(t, str) and t in v and t in ("header", "end") + types else v["*"]
            for e in vt.iter_errors(o):
                rep.error(f"{f.name} line {n}", f"schema: {e.message} (at {'/'.join(map(str, e.absolute_path)) or 'line'})")
    for n, r in body:
        where = f"{f.name} line {n}"
        t = r.get("type")
        if t not in types:
            rep.error(where, f'field "type": unknown or misplaced record type {t!r}')
            continue
        {"policy": check_policy, "provider": check_provider, "similar": check_similar}.get(
            t, lambda rp, w, x: check_status(rp, w, x, f.kind == "insurer"))(rep, where, r)
        f.records.append((n, r))
    f.ok = True
    return f


# ------------------------------------------------------------------------------ model
def norm_provider(p):
    q = {k: p.get(k) for k in ("agb", "name", "kind", "parent")}
    q["locations"] = [(l.get("street"), str(l.get("postcode", "")).replace(" ", "").upper(), l.get("city"))
                      for l in p.get("locations", []) if isinstance(l, dict)]
    return q


class Model:
    def __init__(self, feeds):
        self.feeds = [f for f in feeds if f.ok]
        self.policies = {}        # (id, year) -> dict(policy, uzovi, concern, feed)
        self.insurers = {}        # uzovi -> (concern id, name, feed)
        self.concerns = {}        # concern id -> name
        for f in self.feeds:
            if f.kind != "insurer":
                continue
            u, c = f.header["insurer"]["uzovi"], f.header["concern"]["id"]
            self.insurers.setdefault(u, (c, f.header["insurer"]["name"], f.name))
            self.concerns.setdefault(c, f.header["concern"]["name"])

    def policies_of(self, year, insurer=None, concern=None):
        out = []
        for (pid, y), p in sorted(self.policies.items()):
            if y != year:
                continue
            if insurer is not None and p["uzovi"] != insurer:
                continue
            if concern is not None and p["concern"] != concern:
                continue
            out.append(pid)
        return out

    def scope_policies(self, r):
        y = r.get("year")
        if "policy" in r:
            return [r["policy"]] if (r["policy"], y) in self.policies else []
        if "insurer" in r:
            return self.policies_of(y, insurer=r["insurer"])
        return self.policies_of(y, concern=r.get("concern"))


def cross_checks(rep, feeds):
    m = Model(feeds)
    # insurers and concerns
    seen_u = {}
    for f in m.feeds:
        if f.kind != "insurer":
            continue
        u, c = f.header["insurer"]["uzovi"], f.header["concern"]
        if u in seen_u:
            rep.error(f.name, f"UZOVI {u} also speaks in {seen_u[u]}")
        seen_u[u] = f.name
        if m.concerns[c["id"]] != c["name"]:
            rep.error(f.name, f'concern {c["id"]} named {c["name"]!r} here, {m.concerns[c["id"]]!r} elsewhere')
    # policies
    for f in m.feeds:
        if f.kind != "insurer":
            continue
        u, c = f.header["insurer"]["uzovi"], f.header["concern"]["id"]
        for n, r in f.records:
            if r["type"] != "policy":
                continue
            key = (r.get("id"), r.get("year"))
            if key in m.policies:
                rep.error(f"{f.name} line {n}", f"policy {key[0]} {key[1]} already declared in {m.policies[key]['feed']}")
                continue
            if isinstance(r.get("id"), str) and not r["id"].startswith(u):
                rep.warn(f"{f.name} line {n}", f"policy id {r['id']} is not prefixed with the UZOVI {u}")
            m.policies[key] = {"policy": r, "uzovi": u, "concern": c, "feed": f.name}
    # per feed references
    for f in m.feeds:
        agbs = {}
        for n, r in f.records:
            if r["type"] == "provider":
                if r.get("agb") in agbs:
                    rep.error(f"{f.name} line {n}", f"provider {r.get('agb')} twice in this feed")
                agbs[r.get("agb")] = r
        for n, r in f.records:
            where = f"{f.name} line {n}"
            if r["type"] == "similar":
                ps, y = r.get("policies") or [], r.get("year")
                mine = [p for p in ps if (p, y) in m.policies and m.policies[(p, y)]["feed"] == f.name]
                if not mine:
                    rep.error(where, "similar: none of the policies is declared in this feed for that year")
                for p in ps:
                    if (p, y) not in m.policies:
                        rep.error(where, f"similar: policy {p} {y} declared in no insurer feed")
                    elif m.policies[(p, y)]["concern"] != f.header["concern"]["id"]:
                        rep.error(where, f"similar: policy {p} is of another concern")
            if r["type"] != "status":
                continue
            if r.get("agb") not in agbs:
                rep.error(where, f"status for AGB {r.get('agb')} without a provider record in this feed")
            y = r.get("year")
            if f.kind == "insurer":
                if "policy" in r:
                    p = m.policies.get((r["policy"], y))
                    if p is None or p["feed"] != f.name:
                        rep.error(where, f'field "policy": {r["policy"]} is not declared in this feed for {y}')
                if "insurer" in r and r["insurer"] != f.header["insurer"]["uzovi"]:
                    rep.error(where, f'field "insurer": {r["insurer"]} is not this feed\'s UZOVI')
                if "concern" in r and r["concern"] != f.header["concern"]["id"]:
                    rep.error(where, f'field "concern": {r["concern"]} is not this feed\'s concern')
            else:
                if "policy" in r and (r["policy"], y) not in m.policies:
                    rep.error(where, f'field "policy": {r["policy"]} declared in no insurer feed for {y}')
                if "insurer" in r and r["insurer"] not in m.insurers:
                    rep.error(where, f'field "insurer": no insurer feed for UZOVI {r["insurer"]}')
                if "concern" in r and r["concern"] not in m.concerns:
                    rep.error(where, f'field "concern": no insurer feed for concern {r["concern"]}')
            if not m.scope_policies(r) and ("insurer" in r or "concern" in r):
                rep.error(where, f"scope has no policies in {y}")
    # provider master data
    ins_master, prov_master = {}, {}
    for f in m.feeds:
        for n, r in f.records:
            if r["type"] != "provider":
                continue
            q = norm_provider(r)
            tgt = ins_master if f.kind == "insurer" else prov_master
            if r["agb"] in tgt and tgt[r["agb"]][0] != q:
                where = f"{f.name} line {n}"
                if f.kind == "insurer":
                    rep.error(where, f"provider {r['agb']}: master data differs from {tgt[r['agb']][1]}")
                else:
                    rep.error(where, f"provider {r['agb']}: also published by provider feed {tgt[r['agb']][1]}")
            tgt.setdefault(r["agb"], (q, f.name))
    for agb, (q, fn) in sorted(prov_master.items()):
        if agb in ins_master and ins_master[agb][0] != q:
            diff = [k for k in q if q[k] != ins_master[agb][0][k]]
            print(f"note {fn}: provider {agb} master data differs from the insurer feeds in {diff}; "
                  f"the provider feed takes precedence")
    # overlapping insurer statements, provider feeds per AGB
    speaker = {}
    for f in m.feeds:
        if f.kind != "insurer":
            continue
        for n, r in f.records:
            if r["type"] != "status" or r.get("status") == "unknown":
                continue
            for pid in m.scope_policies(r):
                k = (r["agb"], pid, r["year"], r["care_type"])
                if k in speaker and speaker[k][0] != f.name:
                    rep.error(f"{f.name} line {n}", f"insurer feeds {speaker[k][0]} line {speaker[k][1]} and this "
                                                    f"one both speak about {k}")
                speaker.setdefault(k, (f.name, n))
    owner = {}
    for f in m.feeds:
        if f.kind != "provider":
            continue
        for n, r in f.records:
            if r["type"] != "status":
                continue
            if r["agb"] in owner and owner[r["agb"]] != f.name:
                rep.error(f"{f.name} line {n}", f"AGB {r['agb']} also in provider feed {owner[r['agb']]}")
            owner.setdefault(r["agb"], f.name)
            if ("insurer" in r or "concern" in r) and r.get("status") != "unknown":
                pids = m.scope_policies(r)
                spoken = [p for p in pids if (r["agb"], p, r["year"], r["care_type"]) in speaker]
                if spoken and len(spoken) != len(pids):
                    rep.error(f"{f.name} line {n}", f"insurer side speaks for only {spoken} of {pids}: "
                                                    f"ambiguous comparison at {'insurer' if 'insurer' in r else 'concern'} level")
    return m


# ------------------------------------------------------------------------------ reconcile
def most_specific(stmts, pid, pol):
    """Within one source: policy > insurer > concern; `unknown` counts as not having spoken."""
    best = None
    for level, rank in (("policy", 0), ("insurer", 1), ("concern", 2)):
        for feed, n, r in stmts:
            if r.get("status") == "unknown":
                continue
            if level == "policy" and r.get("policy") == pid or \
               level == "insurer" and r.get("insurer") == pol["uzovi"] or \
               level == "concern" and r.get("concern") == pol["concern"]:
                if best is None:
                    best = (level, feed, n, r)
        if best:
            return best
    return None


def reconcile(m):
    """This helper's reading of domain.md "Sources and reconciliation":
    - insurer side: the most specific statement of the insurer feed that covers the policy
      (the sample data never has two insurer feeds covering one policy);
    - provider side: likewise within the provider feed;
    - both spoke: compared at the provider's level. Policy level: same agreement class ->
      confirmed, else conflict. Concern/insurer level: conflict iff no policy of that scope has the
      provider's class on the insurer side (then every policy of the scope is conflict); otherwise
      each policy whose insurer class equals the provider's is confirmed, the others keep basis
      "insurer" (no conflict: the provider's broad statement says nothing about that policy);
    - effective status, as_contracted and ceiling come from the insurer when it spoke;
      patient_stop from the insurer if it gave one, else from the provider;
    - only the provider spoke: its status, basis provider_only; nobody: unknown / none."""
    ins = {}   # (agb, year, care_type) -> [(feed, line, rec)]
    prv = {}
    for f in m.feeds:
        for n, r in f.records:
            if r["type"] == "status":
                (ins if f.kind == "insurer" else prv).setdefault((r["agb"], r["year"], r["care_type"]), []).append((f.name, n, r))
    rows = []
    for key in sorted(set(ins) | set(prv)):
        agb, year, ct = key
        pids = m.policies_of(year)
        ins_eff, prv_eff = {}, {}
        for pid in pids:
            pol = m.policies[(pid, year)]
            # group by feed so that "most specific" is per source
            for src, eff in ((ins, ins_eff), (prv, prv_eff)):
                byfeed = {}
                for s in src.get(key, []):
                    byfeed.setdefault(s[0], []).append(s)
                for stm in byfeed.values():
                    b = most_specific(stm, pid, pol)
                    if b:
                        eff[pid] = b
        for pid in pids:
            i, p = ins_eff.get(pid), prv_eff.get(pid)
            if not i and not p:
                continue
            flags = {"ceiling": False, "ceiling_exempt": [], "patient_stop": None,
                     "conflict": False, "provider_only": False}
            if i:
                r = i[3]
                status, asc = r["status"], bool(r.get("as_contracted")) and r["status"] == "negotiating"
                flags["ceiling"] = status == "contracted_ceiling" or "ceiling" in r
                flags["ceiling_exempt"] = list(r.get("ceiling", {}).get("exempt", [])) if flags["ceiling"] else []
                if "patient_stop" in r:
                    flags["patient_stop"] = dict(r["patient_stop"], source="insurer")
                if not p:
                    basis = "insurer"
                else:
                    pr, plevel = p[3], p[0]
                    if plevel == "policy":
                        basis = "confirmed" if status_class(status) == status_class(pr["status"]) else "conflict"
                    else:
                        scope = m.scope_policies(pr)
                        same = [q for q in scope if q in ins_eff and
                                status_class(ins_eff[q][3]["status"]) == status_class(pr["status"])]
                        if not same:
                            basis = "conflict"
                        elif status_class(status) == status_class(pr["status"]):
                            basis = "confirmed"
                        else:
                            basis = "insurer"
                    if flags["patient_stop"] is None and "patient_stop" in pr:
                        flags["patient_stop"] = dict(pr["patient_stop"], source="provider")
                flags["conflict"] = basis == "conflict"
            else:
                pr = p[3]
                status, asc, basis = pr["status"], False, "provider_only"
                flags["provider_only"] = True
                if "patient_stop" in pr:
                    flags["patient_stop"] = dict(pr["patient_stop"], source="provider")
            rows.append({"agb": agb, "year": year, "care_type": ct, "policy": pid, "status": status,
                         "as_contracted": asc, "basis": basis, "flags": flags,
                         "insurer": f"{i[3]['status']}@{i[0]} {i[1]}:{i[2]}" if i else "-",
                         "provider": f"{p[3]['status']}@{p[0]} {p[1]}:{p[2]}" if p else "-"})
    return rows


def print_rows(rows):
    print(f"{'agb':8} {'year':4} {'care_type':16} {'policy':11} {'status':18} {'asc':3} {'basis':13} "
          f"{'flags':32} insurer | provider")
    for r in rows:
        fl = []
        if r["flags"]["ceiling"]:
            fl.append("ceiling" + ("[" + ",".join(r["flags"]["ceiling_exempt"]) + "]" if r["flags"]["ceiling_exempt"] else ""))
        if r["flags"]["patient_stop"]:
            ps = r["flags"]["patient_stop"]
            fl.append(f"stop:{ps['reason']}:{ps['from']}..{ps.get('until', '')}:{ps['source']}")
        if r["flags"]["conflict"]:
            fl.append("conflict")
        if r["flags"]["provider_only"]:
            fl.append("provider_only")
        print(f"{r['agb']:8} {r['year']:4} {r['care_type']:16} {r['policy']:11} {r['status']:18} "
              f"{'yes' if r['as_contracted'] else '':3} {r['basis']:13} {' '.join(fl) or '-':32} "
              f"{r['insurer']} | {r['provider']}")


# ------------------------------------------------------------------------------ config
def check_conf(rep, path, feeds):
    try:
        lines = open(path, encoding="utf-8").read().split("\n")
    except OSError as e:
        rep.error(path, f"cannot read: {e}")
        return
    sections, cur = {}, None
    base = os.path.dirname(path)
    for n, l in enumerate(lines, 1):
        s = l.split("#", 1)[0].strip()
        if not s:
            continue
        mo = re.match(r"^\[feed ([A-Za-z0-9_.-]{1,64})\]$", s)
        if mo:
            cur = mo.group(1)
            if cur in sections:
                rep.error(f"{os.path.basename(path)} line {n}", f"feed {cur} twice")
            sections[cur] = {}
            continue
        if "=" not in s:
            rep.error(f"{os.path.basename(path)} line {n}", f"not key = value: {s!r}")
            continue
        k, v = (x.strip() for x in s.split("=", 1))
        if cur is None:
            if k in ("listen", "database"):
                rep.error(f"{os.path.basename(path)} line {n}", f"global {k} in the sample configuration")
            continue
        sections[cur][k] = v
    listed = set()
    byname = {os.path.basename(f.path): f for f in feeds}
    for name, kv in sections.items():
        for k in ("kind", "url", "schedule", "stale_after"):
            if k not in kv:
                rep.error(f"{os.path.basename(path)} [feed {name}]", f"no {k}")
        url = kv.get("url", "")
        fp = os.path.normpath(os.path.join(base, url))
        if not os.path.isfile(fp):
            rep.error(f"{os.path.basename(path)} [feed {name}]", f"url {url} is not a file next to the config")
            continue
        listed.add(os.path.basename(fp))
        f = byname.get(os.path.basename(fp))
        if f and f.kind and f.kind != kv.get("kind"):
            rep.error(f"{os.path.basename(path)} [feed {name}]", f"kind {kv.get('kind')} but the feed is {f.kind}")
    for f in feeds:
        if os.path.dirname(os.path.abspath(f.path)) == os.path.abspath(base) and os.path.basename(f.path) not in listed:
            rep.error(os.path.basename(path), f"feed file {os.path.basename(f.path)} is not listed")


# ------------------------------------------------------------------------------ main
def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    opts = {a for a in argv if a.startswith("--")}
    unknown = opts - {"--reconcile", "--no-jsonschema", "--help"}
    if "--help" in opts or unknown:
        print(__doc__)
        return 0 if not unknown else 2
    rep = Report()
    validators = {}
    if "--no-jsonschema" not in opts:
        try:
            import jsonschema  # optional
            for kind in ("insurer", "provider"):
                with open(os.path.join(FEEDS, "schema", f"{kind}-v1.schema.json"), encoding="utf-8") as fh:
                    s = json.load(fh)
                V = jsonschema.Draft202012Validator
                V.check_schema(s)
                # one validator per record type, for precise messages; "*" for the whole oneOf
                vs = {"*": V(s, format_checker=V.FORMAT_CHECKER)}
                for t in s["$defs"]:
                    vs[t] = V({"$schema": s["$schema"], "$defs": s["$defs"], "$ref": "#/$defs/" + t},
                              format_checker=V.FORMAT_CHECKER)
                validators[kind] = vs
            print("jsonschema: checking every line against feeds/schema/*-v1.schema.json")
        except ImportError:
            print("jsonschema not installed: hand-written checks only")
    paths = args or sorted(glob.glob(os.path.join(FEEDS, "*.jsonl")))
    feeds = [load_feed(rep, p, validators) for p in paths]
    m = cross_checks(rep, feeds)
    if not args:
        check_conf(rep, os.path.join(FEEDS, "sample.conf"), feeds)
    for f in feeds:
        if f.ok:
            n = {t: sum(1 for _, r in f.records if r["type"] == t) for t in ("policy", "provider", "status", "similar")}
            print(f"{f.name}: {f.kind}, {len(f.records)} records ({', '.join(f'{v} {k}' for k, v in n.items() if v)})")
    for y in sorted({y for _, y in m.policies}):
        kinds = sorted({p["policy"]["kind"] for (_, yy), p in m.policies.items() if yy == y})
        print(f"{y}: {len(m.policies_of(y))} policies, types {', '.join(kinds)}")
    if "--reconcile" in opts:
        print_rows(reconcile(m))
    print(f"{rep.errors} error(s), {rep.warnings} warning(s)")
    return 1 if rep.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
