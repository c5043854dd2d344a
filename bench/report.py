#!/usr/bin/env python3
"""bench/report.py - turn one bench/run.sh run into results.json and RESULTS.md.

Called by bench/run.sh; reads WORK/run.json (parameters and measurements written by run.sh),
WORK/runs.jsonl (one line per wrk run), the dataset's manifest.json and WORK/feeds.json (the
daemon's /v1/feeds after ingest). Prints the targets with PASS / MISS / N/A. Targets are reported,
never asserted: the exit status is 0 whatever they say. Python 3 standard library only.
"""

import json
import os
import sys

TARGETS = {
    "lookup_vs_nginx": 0.8,       # our lookup throughput / nginx throughput (identity)
    "search_p99_ms": 10.0,
    "compare_p99_ms": 10.0,
    "ingest_seconds": 60.0,       # national scale
    "rss_bytes": 1 << 30,
}
TARGET_NAMES = {"lookup": "provider lookup", "search": "search as you type", "compare": "compare 5 providers",
                "nginx": "nginx static lookup JSON", "nginx-gzip-static": "nginx gzip_static (precompressed .gz)",
                "nginx-again": "nginx static lookup JSON, again after the daemon's rows",
                "nginx-gzip-static-again": "nginx gzip_static, again after the daemon's rows",
                "lookup-cold": "lookup, cold (response cache off, every provider)",
                "lookup-warm": "lookup, warm (the nginx file's path repeated)",
                "zipf-lookup": "Zipf lookup (all providers)", "zipf-search": "Zipf search",
                "zipf-compare": "Zipf compare", "churn-zipf-lookup": "Zipf lookup under churn",
                "churn-zipf-search": "Zipf search under churn", "churn-zipf-compare": "Zipf compare under churn",
                "nginx-zipf": "nginx same-size files (Zipf paths)"}
# the daemon's rows divided by nginx-zipf (same bytes per path) instead of the one-file nginx
ZIPF_LOOKUPS = ("zipf-lookup", "churn-zipf-lookup")
# issue 16 item 8 (reported, never asserted)
NEW_TARGETS = {"warm_vs_nginx": 0.9, "warm_gzip_vs_gzip_static": 0.9, "churn_zipf_vs_nginx": 0.5,
               "cold_vs_nginx": 0.3, "open_p99_ms": 10.0, "one_feed_apply_seconds": 5.0}
# status records of the national dataset (seed 1), for projecting a small-scale season when no
# national manifest is in the work directory
NATIONAL_STATUS_RECORDS = 958248


def load_jsonl(path):
    out = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    return out


def summarize(run):
    r = run.get("result")
    if not run.get("available") or not r:
        return None
    secs = r["duration_us"] / 1e6 if r["duration_us"] else 0
    req = r["requests"]
    errs = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
    return {
        "requests": req,
        "seconds": round(secs, 2),
        "rps": round(req / secs, 1) if secs else 0.0,
        "p50_ms": round(r["p50_us"] / 1000, 3),
        "p90_ms": round(r["p90_us"] / 1000, 3),
        "p99_ms": round(r["p99_us"] / 1000, 3),
        "p999_ms": round(r["p999_us"] / 1000, 3),
        "max_ms": round(r["lat_max_us"] / 1000, 3),
        "mean_bytes": round(r["bytes"] / req) if req else 0,
        "non_2xx_3xx": r["status_errors"],
        "socket_errors": errs,
    }


def scale_note(run):
    """What a target's figure was measured on, when not the national dataset as gen.py makes it."""
    if run.get("gen_providers"):
        return (f"measured at {run.get('scale')} scale with {fmt(int(run['gen_providers']))} providers "
                f"(`--providers`)")
    return "" if run.get("scale") == "national" else f"measured at {run.get('scale')} scale"


def fmt(v, nd=2):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def median(v):
    v = sorted(v)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def slope(xs, ys):
    """Least-squares slope of ys over xs (None with fewer than two points)."""
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else None


def summarize_churn(events, run):
    if not events:
        return {}
    rounds = [e for e in events if e.get("event") == "round"]
    applied = [e for e in events if e.get("event") == "applied"]
    end = next((e for e in events if e.get("event") == "end"), {})
    lags = [e["lag_seconds"] for e in applied]
    changed = [sum(r["changed"].values()) for r in rounds]
    return {"feeds": (run.get("churn_feeds") or "").split(","), "interval_seconds": run.get("churn_interval"),
            "rate": run.get("churn_rate"), "daemon_schedule_seconds": run.get("churn_schedule"),
            "seconds": run.get("churn_seconds"), "rounds": len(rounds),
            "statuses_changed_per_round": median(changed), "versions_written": end.get("versions_written"),
            "versions_applied_seen": len(applied), "apply_lag_median_seconds": median(lags),
            "apply_lag_max_seconds": max(lags) if lags else None,
            "not_applied_at_end": end.get("not_applied_at_end"), "churner_cpu_seconds": end.get("cpu_seconds"),
            "daemon_metrics": run.get("churn_metrics")}


def summarize_season(events, run, manifest):
    days = [e for e in events if e.get("event") == "day"]
    info = next((e for e in events if e.get("event") == "season"), {})
    if not days:
        note = next((e.get("note") for e in events if e.get("note")), "")
        return {"days": [], "note": note} if events else {}
    for d in days:
        lk = d.get("lookup") or {}
        if lk.get("duration_us"):
            d["lookup_rps"] = round(lk["requests"] / (lk["duration_us"] / 1e6), 1)
            d["lookup_p50_ms"] = round(lk["p50_us"] / 1000, 3)
            d["lookup_p99_ms"] = round(lk["p99_us"] / 1000, 3)
    later = [d for d in days if d["day"] >= 1]
    xs = [d["day"] for d in later]
    keys = ["apply_seconds", "db_bytes", "wal_bytes", "history_rows", "vmrss_kb", "lookup_p99_ms"]
    slopes = {k: slope(xs, [d.get(k) for d in later]) for k in keys}
    # projection for a 60-day season at this scale, and scaled to the national dataset by status records
    d0 = days[0]
    run_status = sum((manifest.get("stats", {}).get("statuses_by_year") or {}).values()) if manifest else 0
    national = NATIONAL_STATUS_RECORDS
    nat_src = "national seed-1 dataset (constant in report.py)"
    mp = run.get("manifest") or ""
    alt = os.path.join(os.path.dirname(os.path.dirname(mp)), f"data-national-s{run.get('seed', 1)}", "manifest.json")
    if os.path.exists(alt):
        try:
            m = json.load(open(alt, encoding="utf-8"))
            national = sum(m["stats"]["statuses_by_year"].values())
            nat_src = alt
        except (ValueError, KeyError):
            pass
    factor = (national / run_status) if run_status and run.get("scale") != "national" else 1.0
    proj = {}
    for k in ("db_bytes", "history_rows"):
        if slopes.get(k) is not None and d0.get(k) is not None:
            proj[k] = round(d0[k] + 60 * slopes[k])
            proj[k + "_national"] = round((d0[k] + 60 * slopes[k]) * factor)
    # the WAL is bounded (wal_limit_mb): its largest size seen, not a line
    proj["wal_bytes_max_seen"] = max(d.get("wal_bytes") or 0 for d in days)
    applies = [d["apply_seconds"] for d in later if d.get("apply_seconds") is not None]
    if applies:
        proj["apply_seconds_mean"] = round(sum(applies) / len(applies), 2)
        proj["apply_seconds_per_day_national_rough"] = round(proj["apply_seconds_mean"] * factor, 1)
    return {"days": days, "info": info, "rate_per_day": run.get("season_rate"),
            "rollover": next((e for e in events if e.get("event") == "rollover"), None),
            "one_feed": next((e for e in events if e.get("event") == "one_feed"), None),
            "note": next((e.get("note") for e in events if e.get("event") == "unavailable"), ""),
            "daemon_schedule_seconds": run.get("season_schedule"), "measure": run.get("season_measure"),
            "slopes_per_day": {k: (round(v, 3) if v is not None else None) for k, v in slopes.items()},
            "projection_60_days": proj, "national_factor": round(factor, 2), "national_factor_source": nat_src,
            "status_records_run": run_status, "status_records_national": national}


def md_nginx_zipf(res):
    z = res["nginx_zipf"]
    c, f, mb = z.get("census") or {}, z.get("files") or {}, z.get("mean_bytes") or {}
    if not c and not any((mb.get(e) or {}).get("daemon") for e in ("identity", "gzip")):
        return []
    L = ["## The same-bytes baseline of the Zipf rows (nginx-zipf)\n",
         "The Zipf mix is hospital-heavy: its mean answer is far larger than the one-file baseline's file. "
         "nginx-zipf serves, for every path of the Zipf list, a file of the size of the daemon's own answer "
         "(identity) and a .gz of the size of its gzip answer (`gzip_static on`), drawn by the same "
         "`zipf.lua` with the same exponent and seed (bench/zipfstatic.py; bench/README.md).\n",
         "| | |", "| --- | --- |"]
    if c:
        L.append(f"| census (daemon, response cache off) | {fmt(c.get('paths'))} paths, identity and gzip, in "
                 f"{fmt(c.get('seconds'))} s ({fmt(c.get('requests_per_second'), 0)} req/s, {c.get('workers')} "
                 f"keep-alive connections); not fetched {fmt(c.get('failed'))}, non-200 {fmt(c.get('non_200'))}, "
                 f"gzip asked but answered uncompressed {fmt(c.get('gz_not_compressed'))} |")
        L.append(f"| answer size, mean over paths | identity {fmt(c.get('mean_bytes'))} bytes, gzip "
                 f"{fmt(c.get('mean_gz_bytes'))} bytes; the largest {fmt(c.get('max_bytes'))} bytes |")
        L.append(f"| answer size, mean per request under the Zipf law | identity {fmt(c.get('zipf_mean_bytes'))} "
                 f"bytes, gzip {fmt(c.get('zipf_mean_gz_bytes'))} bytes (bodies) |")
    else:
        L.append("| census | not made |")
    if f:
        L.append(f"| files | {fmt(f.get('files'))} paths, {fmt(f.get('bucket_files'))} bucket files "
                 f"({fmt((f.get('disk_bytes') or 0) / 1e6, 1)} MB; sizes exact up to {fmt(f.get('exact_up_to'))} "
                 f"bytes, then steps of {fmt(100 * f.get('step', 0), 1)} %, largest rounding "
                 f"{fmt(100 * (f.get('largest_rounding') or 0), 2)} %); {fmt((f.get('links') or {}).get('hard'))} hard links, "
                 f"{fmt((f.get('links') or {}).get('symbolic'))} symbolic; Zipf mean of the "
                 f"files: identity {fmt(f.get('zipf_mean_file_bytes'))}, gzip {fmt(f.get('zipf_mean_gz_file_bytes'))} "
                 f"bytes |")
    if z.get("open_file_cache"):
        L.append(f"| nginx-zipf open_file_cache | max={fmt(z['open_file_cache'])} (one-file servers: 64) |")
    if z.get("check"):
        L.append(f"| identity / gzip_static check | {z['check']} |")
    for e in ("identity", "gzip"):
        b = mb.get(e) or {}
        d = b.get("nginx_vs_daemon")
        L.append(f"| mean bytes/resp in the wrk runs, {e} | nginx-zipf {fmt(b.get('nginx_zipf'))}, daemon Zipf "
                 f"lookup {fmt(b.get('daemon'))}{f' (nginx {100 * d:+.2f} %)' if d is not None else ''} "
                 f"(headers included) |")
    L.append("")
    return L


def summarize_pairs(lines):
    """The warm pairs (run.sh warm_pairs_run): per encoding, the daemon's and nginx's req/s
    over all their runs, their ratio, each pair's own ratio and the CPU per answer of both."""
    out = {}
    for enc in ("identity", "gzip"):
        runs = {}
        for x in lines:
            s = summarize(dict(x, available=True))
            if x.get("encoding") != enc or not s or not s["seconds"] or s["non_2xx_3xx"]:
                continue
            runs.setdefault(x["pair"], {})[x["server"]] = (s, x.get("cpu_seconds"))
        pairs = [(i, p) for i, p in sorted(runs.items()) if "zorgstatusd" in p and "nginx" in p]
        if not pairs:
            continue

        def total(who):
            req = sum(p[who][0]["requests"] for _, p in pairs)
            secs = sum(p[who][0]["seconds"] for _, p in pairs)
            cpu = [p[who][1] for _, p in pairs]
            cpu_us = round(sum(cpu) * 1e6 / req, 1) if req and None not in cpu else None
            return round(req / secs, 1), cpu_us

        d_rps, d_cpu = total("zorgstatusd")
        n_rps, n_cpu = total("nginx")
        out[enc] = {
            "pairs": len(pairs), "daemon_rps": d_rps, "nginx_rps": n_rps,
            "ratio": round(d_rps / n_rps, 3) if n_rps else None,
            "pair_ratios": [round(p["zorgstatusd"][0]["rps"] / p["nginx"][0]["rps"], 3) for _, p in pairs],
            "daemon_cpu_us_per_req": d_cpu, "nginx_cpu_us_per_req": n_cpu,
        }
    return out


def md_pairs(res):
    wp = res.get("warm_pairs") or {}
    if not wp:
        return []
    L = ["## Warm lookup, paired with nginx\n",
         f"The warm path asked of the daemon and of nginx in pairs of {fmt(res['params'].get('pair_seconds'))}-s "
         "runs right after each other, the order turned every pair (daemon first, then nginx first, ...), "
         "so that both meet the same phases of the shared machine; the warm targets are the ratio of their "
         "req/s over all pairs. The single warm rows above ran minutes away from nginx's rows.\n",
         "| Accept-Encoding | pairs | daemon req/s | nginx req/s | ratio | each pair | daemon CPU µs/req | "
         "nginx CPU µs/req |",
         "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for enc, w in wp.items():
        L.append(f"| {'gzip' if enc == 'gzip' else '–'} | {w['pairs']} | {fmt(w['daemon_rps'], 0)} | "
                 f"{fmt(w['nginx_rps'], 0)} | {fmt(w['ratio'], 2)}x | "
                 f"{', '.join(fmt(r, 2) for r in w['pair_ratios'])} | {fmt(w['daemon_cpu_us_per_req'], 1)} | "
                 f"{fmt(w['nginx_cpu_us_per_req'], 1)} |")
    L.append("")
    return L


def md_open(res):
    o = res["open_loop"]
    runs = o["runs"]
    if not runs:
        return []
    if o.get("tool") == "pace":
        gen = (f"`bench/pace.c`: one process with one epoll loop holding {o['clients']} keep-alive connections, "
               "request k of connection i due at the start + (i + k × connections) / rate, so that requests are "
               "evenly spaced")
        gen_own = "the load generator's own lateness (small with one process)"
    else:
        gen = (f"`{o.get('h2load') or 'h2load'}` with `--h1 --rps`: {o['clients']} processes of one connection "
               "each, request k of a connection due at its first start + k / rate")
        gen_own = "the load generator's own lateness on this shared machine (32 processes)"
    warm = o.get("warmup_seconds")
    L = ["## Open loop: latency at half the measured maximum\n",
         f"{gen}. Every connection sends at a fixed rate whatever the answers (open loop), paths drawn from the "
         "same Zipf law (a different seed per connection). The rate is half the closed-loop Zipf maximum of the "
         "same endpoint without churn (or the rotating run's when Zipf was not run); the nginx row gets the "
         "daemon's lookup rate, served by nginx-zipf (for every path a file of the size of the daemon's answer) "
         "when its files were made. "
         + (f"Each run first sends at the same rate for at least {warm} s, not in the figures (as wrk's warm-up; at "
            "the start the response cache holds what the previous run asked)"
            + (", until no request is more than 10 ms overdue (the server has worked off what it fell behind "
               "on its cold start; at most 30 s more)" if o.get("tool") == "pace" else "")
            + "; the warm-up's length and own p99 are in the note. " if warm else "")
         + "p50…max: from when each request was sent. A request due while its connection still waits for the "
         "previous answer is sent right after it, so a server that falls behind shows as achieved < offered; "
         "the \"from due\" columns count that wait (wrk2's correction for coordinated omission) and also "
         f"{gen_own}: an upper bound.\n",
         "| endpoint | conditions | offered req/s | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | "
         "p99 from due | p99.9 from due | non-2xx | rate from | note |",
         "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in runs:
        name = r.get("label", "?")
        srv = "nginx" if name == "nginx" else "zorgstatusd"
        if not r.get("available"):
            L.append(f"| {name} ({srv}) | {r.get('conditions', '')} | not available | | | | | | | | | | | "
                     f"{r.get('note', '')} |")
            continue
        note = r.get("note", "")
        if r.get("warmup_p99_ms") is not None:
            cu = r.get("warmup_caught_up")
            how = ("" if cu is None else ", until caught up" if cu else ", not caught up at its limit")
            note = (note + "; " if note else "") + (f"warm-up {fmt(r.get('warmup_seconds'), 1)} s{how}: p99 "
                                                    f"{fmt(r['warmup_p99_ms'], 3)} ms, max "
                                                    f"{fmt(r.get('warmup_max_ms'), 1)} ms")
        if r.get("baseline"):
            note = (note + "; " if note else "") + r["baseline"]
        if r.get("nginx_p99_ms_same_rate") is not None:
            note = (note + "; " if note else "") + f"nginx p99 at the same rate {fmt(r['nginx_p99_ms_same_rate'], 3)} ms"
        L.append(f"| {name} ({srv}) | {r.get('conditions')} | {fmt(r['offered_rps'])} | {fmt(r['achieved_rps'], 0)} | "
                 f"{fmt(r['p50_ms'], 3)} | {fmt(r['p90_ms'], 3)} | {fmt(r['p99_ms'], 3)} | {fmt(r['p999_ms'], 3)} | "
                 f"{fmt(r['max_ms'], 1)} | {fmt(r.get('due_p99_ms'), 3)} | {fmt(r.get('due_p999_ms'), 3)} | "
                 f"{fmt(r['non_2xx_3xx'])} | {r.get('rate_source', '')} | {note} |")
    L.append("")
    return L


def md_churn(res):
    c = res["churn"]
    if not c:
        return []
    m = c.get("daemon_metrics") or {}
    L = ["## Churn: feeds changing while serving\n",
         f"Every {c['interval_seconds']} s a new version of {len(c['feeds'])} feeds ({', '.join(c['feeds'])}), "
         f"{fmt(c['rate'] * 100 if c['rate'] is not None else None, 1)} % of their toggleable statuses changed per "
         f"version (bench/feedver.py); the other feeds answer 304. The daemon polls every "
         f"{c['daemon_schedule_seconds']} s (bench/work/zorgstatus-churn.conf). The Zipf and open-loop rows "
         "\"under churn\" above ran during it.\n",
         "| | |", "| --- | --- |",
         f"| duration | {fmt(c['seconds'])} s, {c['rounds']} rounds, {fmt(c['versions_written'])} versions written "
         f"(median {fmt(c['statuses_changed_per_round'])} statuses changed per round) |",
         f"| applied (last_change on /v1/feeds moved) | {fmt(c['versions_applied_seen'])} versions; lag from "
         f"the file written to applied: median {fmt(c['apply_lag_median_seconds'])} s, max "
         f"{fmt(c['apply_lag_max_seconds'])} s (includes up to one poll interval); not applied at the end: "
         f"{', '.join(c.get('not_applied_at_end') or []) or 'none'} |",
         f"| daemon during churn | {fmt(m.get('generations'))} snapshot generations, response cache "
         f"{fmt(m.get('cache_hits'))} hits / {fmt(m.get('cache_misses'))} misses |",
         f"| the feed publisher (feedver.py) | {fmt(c['churner_cpu_seconds'])} s CPU on the same machine |", ""]
    return L


def md_season(res):
    s = res["season"]
    if not s:
        return []
    if not s.get("days"):
        return ["## Season\n", f"Not run: {s.get('note', '')}\n"]
    L = ["## Season: simulated days of new versions\n",
         f"Day 0 is the base dataset; each day every feed with toggleable statuses gets one new version with "
         f"{fmt((s['rate_per_day'] or 0) * 100, 1)} % of them changed (bench/feedver.py season), served to the "
         f"daemon's own polling (schedule {s['daemon_schedule_seconds']} s: apply time includes up to one poll "
         f"interval). After each day: sizes, SQLite rows (read-only connection), memory and a "
         f"{s['measure']} Zipf lookup wrk run.{' **' + s['note'] + '.**' if s.get('note') else ''}\n",
         "| day | statuses changed | apply s | feeds applied | DB MB | WAL MB | history rows | effective rows | "
         "VmRSS MiB | lookup req/s | p50 ms | p99 ms |",
         "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for d in s["days"]:
        miss = d.get("feeds_not_applied")
        L.append(f"| {d['day']} | {fmt(d.get('statuses_changed'))} | {fmt(d.get('apply_seconds'))} | "
                 f"{fmt(d.get('feeds_applied'))}{' (missing: ' + ', '.join(miss) + ')' if miss else ''} | "
                 f"{fmt(d['db_bytes'] / 1e6, 2)} | {fmt(d['wal_bytes'] / 1e6, 2)} | {fmt(d.get('history_rows'))} | "
                 f"{fmt(d.get('effective_rows'))} | "
                 f"{fmt(d['vmrss_kb'] / 1024, 1) if d.get('vmrss_kb') else '–'} | {fmt(d.get('lookup_rps'), 0)} | "
                 f"{fmt(d.get('lookup_p50_ms'), 3)} | {fmt(d.get('lookup_p99_ms'), 3)} |")
    sl, pj = s["slopes_per_day"], s["projection_60_days"]

    def mb(v):
        return f"{fmt(v / 1e6, 2)} MB" if v is not None else "–"
    L += ["", "Growth per day (least-squares slope over days 1..N) and a 60-day season:\n",
          "| | per day | 60 days, this run's scale | 60 days, national |", "| --- | ---: | ---: | ---: |",
          f"| database | {mb(sl.get('db_bytes'))} | {mb(pj.get('db_bytes'))} | {mb(pj.get('db_bytes_national'))} |",
          f"| WAL | {mb(sl.get('wal_bytes'))} | largest seen {mb(pj.get('wal_bytes_max_seen'))} | not a line: "
          "cut back to `wal_limit_mb` at the checkpoint after an ingest round; during a round it can grow "
          "beyond (the largest seen is measured right after the day's apply) |",
          f"| history rows | {fmt(sl.get('history_rows'), 1)} | {fmt(pj.get('history_rows'))} | "
          f"{fmt(pj.get('history_rows_national'))} |",
          f"| apply seconds | {fmt(sl.get('apply_seconds'), 3)} | mean {fmt(pj.get('apply_seconds_mean'))} s per day | "
          + (f"measured above (national run) |" if s["national_factor"] == 1 else
             f"rough: {fmt(pj.get('apply_seconds_per_day_national_rough'))} s per day (mean x factor; "
             "run the season at national scale to measure it) |"),
          f"| daemon VmRSS | {fmt((sl.get('vmrss_kb') or 0) / 1024, 2)} MiB | | |",
          f"| lookup p99 | {fmt(sl.get('lookup_p99_ms'), 3)} ms | | |", "",
          f"National = this run's 60-day value x {s['national_factor']} (status records: national "
          f"{fmt(s['status_records_national'])} from {s['national_factor_source']}, this run "
          f"{fmt(s['status_records_run'])}); 1 at national scale. A linear projection: the WAL is bounded by "
          "`wal_limit_mb` and history is pruned by `history_keep_years`, so read its slope as growth within a "
          "season, not beyond.\n"]
    r = s.get("rollover")
    if r:
        miss = r.get("feeds_not_applied")
        L += ["Year rollover (day " + str(r.get("day")) + ": every feed without contract year "
              f"{r.get('year')}, {fmt(r.get('records_dropped'))} records; bench/feedver.py --rollover). The year "
              "disappears from every answer in the apply's one transaction; its rows move into history "
              "afterwards, between the daemon's rounds, in transactions of at most `rollover_batch_rows` rows "
              "with a WAL checkpoint after each:\n",
              "| apply s | rows moved | transactions | rows per transaction | moving s | WAL peak MB | "
              "history rows after | DB MB after |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
              f"| {fmt(r.get('apply_seconds'))}{' (missing: ' + ', '.join(miss) + ')' if miss else ''} | "
              f"{fmt(r.get('rows_moved_log'))} | {fmt(r.get('transactions_log'))} | "
              f"{fmt(r.get('rows_per_transaction'))} | "
              f"{fmt(r.get('move_seconds')) if r.get('move_seconds') is not None else 'not done (' + str(r.get('retired_left')) + ' left)'} | "
              f"{fmt((r.get('wal_peak_bytes') or 0) / 1e6, 1)} | {fmt(r.get('history_rows'))} | "
              f"{fmt((r.get('db_bytes') or 0) / 1e6, 1)} |", ""]
    return L


def main():
    if len(sys.argv) != 3:
        print("usage: report.py WORKDIR RESULTSDIR", file=sys.stderr)
        return 2
    work, resdir = sys.argv[1], sys.argv[2]
    run = json.load(open(os.path.join(work, "run.json"), encoding="utf-8"))
    runs = load_jsonl(os.path.join(work, "runs.jsonl"))
    manifest = {}
    if run.get("manifest") and os.path.exists(run["manifest"]):
        manifest = json.load(open(run["manifest"], encoding="utf-8"))
    feeds = None
    fpath = os.path.join(work, "feeds.json")
    if os.path.exists(fpath):
        try:
            feeds = json.load(open(fpath, encoding="utf-8")).get("feeds")
        except (ValueError, AttributeError):
            feeds = None

    rows = []
    by = {}
    for x in runs:
        s = summarize(x)
        row = {"target": x["target"], "server": x["server"], "encoding": x["encoding"],
               "available": bool(s), "note": x.get("note", "")}
        if s:
            row.update(s)
            if s["requests"] and s["non_2xx_3xx"] > 0.01 * s["requests"]:
                row["note"] = (row["note"] + "; " if row["note"] else "") + \
                    f"{s['non_2xx_3xx']} non-2xx/3xx responses"
        rows.append(row)
        by[(x["target"], x["encoding"])] = row

    def rps1(t, e):
        r = by.get((t, e))
        return r["rps"] if r and r["available"] and r["rps"] else None

    def rps(t, e):
        # nginx's one-file baselines ran before and after the daemon's basic rows: their mean
        a = rps1(t, e)
        if t in ("nginx", "nginx-gzip-static"):
            b = rps1(t + "-again", e)
            if a and b:
                return round((a + b) / 2, 1)
        return a

    def ratio(a, b):
        return round(a / b, 3) if a and b else None

    def one_file(e):
        return rps("nginx", "identity") if e == "identity" else rps("nginx-gzip-static", "gzip")

    # every daemon row as a ratio to nginx in the same run: identity to nginx identity, gzip to
    # nginx gzip_static (the same bytes precompressed); the Zipf lookups to nginx-zipf (a file of
    # the size of the daemon's answer for every path: identity, and .gz with gzip_static), the
    # one-file ratio kept beside it; cache hit share and snapshot generations
    for r in rows:
        if r["available"] and r["server"] == "zorgstatusd":
            if r["target"] in ZIPF_LOOKUPS:
                r["vs_nginx"] = ratio(r["rps"], rps("nginx-zipf", r["encoding"]))
                r["vs_nginx_baseline"] = "nginx-zipf"
                r["vs_nginx_one_file"] = ratio(r["rps"], one_file(r["encoding"]))
                of = r["vs_nginx_one_file"]
                extra = (f"× nginx: same-size files (nginx-zipf{', gzip_static' if r['encoding'] == 'gzip' else ''})"
                         if r["vs_nginx"] is not None else "× nginx: same-size files not available")
                extra += f"; one-file nginx: {fmt(of, 2) + 'x' if of is not None else '–'}"
                r["note"] = (r["note"] + "; " if r["note"] else "") + extra
            else:
                r["vs_nginx"] = ratio(r["rps"], one_file(r["encoding"]))
                r["vs_nginx_baseline"] = "nginx" if r["encoding"] == "identity" else "nginx-gzip-static"
        x = next((x for x in runs if x["target"] == r["target"] and x["encoding"] == r["encoding"]), {})
        h, m = x.get("cache_hits"), x.get("cache_misses")
        if h is not None and m is not None:
            r["cache_hits"], r["cache_misses"] = h, m
            r["cache_hit_share"] = round(h / (h + m), 4) if h + m else None
        if x.get("generations") is not None:
            r["generations"] = x["generations"]
        # CPU per answer: the server's own CPU time over the run divided by its answers; less
        # sensitive than req/s to how the two cores were shared with wrk
        cs = x.get("cpu_seconds")
        if cs is not None and r.get("requests"):
            r["cpu_seconds"] = cs
            r["cpu_us_per_req"] = round(cs * 1e6 / r["requests"], 1)

    headline = {}
    for e in ("identity", "gzip"):
        a, b = rps("lookup", e), rps("nginx", e)
        headline[f"lookup_vs_nginx_{e}"] = round(a / b, 3) if a and b else None
    n_id, n_gs = rps("nginx", "identity"), rps("nginx-gzip-static", "gzip")
    headline["nginx_gzip_static_vs_nginx_gzip"] = ratio(n_gs, rps("nginx", "gzip"))
    # the warm targets: the paired runs when there are (summarize_pairs), else the single rows
    warm_pairs = summarize_pairs(load_jsonl(os.path.join(work, "pairs.jsonl")))
    headline["warm_vs_nginx_identity_single"] = ratio(rps("lookup-warm", "identity"), n_id)
    headline["warm_gzip_vs_nginx_gzip_static_single"] = ratio(rps("lookup-warm", "gzip"), n_gs)
    for key, enc in (("warm_vs_nginx_identity", "identity"), ("warm_gzip_vs_nginx_gzip_static", "gzip")):
        w = warm_pairs.get(enc)
        headline[key] = w["ratio"] if w else headline[key + "_single"]
    headline["cold_vs_nginx_identity"] = ratio(rps("lookup-cold", "identity"), n_id)
    headline["zipf_vs_nginx_identity"] = ratio(rps("zipf-lookup", "identity"), n_id)
    headline["zipf_gzip_vs_nginx_gzip_static"] = ratio(rps("zipf-lookup", "gzip"), n_gs)
    headline["churn_zipf_vs_nginx_identity"] = ratio(rps("churn-zipf-lookup", "identity"), n_id)
    headline["churn_zipf_gzip_vs_nginx_gzip_static"] = ratio(rps("churn-zipf-lookup", "gzip"), n_gs)
    # the same bytes: nginx-zipf serves for every Zipf path a file of the daemon's answer's size
    z_id, z_gz = rps("nginx-zipf", "identity"), rps("nginx-zipf", "gzip")
    headline["zipf_vs_nginx_zipf_identity"] = ratio(rps("zipf-lookup", "identity"), z_id)
    headline["zipf_gzip_vs_nginx_zipf_gzip_static"] = ratio(rps("zipf-lookup", "gzip"), z_gz)
    headline["churn_zipf_vs_nginx_zipf_identity"] = ratio(rps("churn-zipf-lookup", "identity"), z_id)
    headline["churn_zipf_gzip_vs_nginx_zipf_gzip_static"] = ratio(rps("churn-zipf-lookup", "gzip"), z_gz)

    # mean bytes per response: nginx-zipf against the daemon's Zipf lookup (same path draws)
    def mean_bytes(t, e):
        r = by.get((t, e))
        return r["mean_bytes"] if r and r["available"] and r.get("mean_bytes") else None

    zipf_bytes = {}
    for e in ("identity", "gzip"):
        nb = mean_bytes("nginx-zipf", e)
        db = mean_bytes("zipf-lookup", e) or mean_bytes("churn-zipf-lookup", e)
        zipf_bytes[e] = {"nginx_zipf": nb, "daemon": db,
                         "nginx_vs_daemon": round(nb / db - 1, 4) if nb and db else None}
        nz = by.get(("nginx-zipf", e))
        if nz and nz["available"] and nb and db:
            nz["note"] = (nz["note"] + "; " if nz["note"] else "") + \
                f"mean bytes/resp {100 * (nb / db - 1):+.2f} % of the daemon's Zipf lookup ({fmt(db)})"

    # ---- open loop, churn, season
    opens = load_jsonl(os.path.join(work, "open.jsonl"))
    open_by = {(o.get("label"), o.get("conditions")): o for o in opens}
    nginx_open = open_by.get(("nginx", "steady"))
    for o in opens:
        if o.get("available") and nginx_open and nginx_open.get("available") and o is not nginx_open \
                and o.get("label", "").endswith("lookup"):
            o["nginx_p99_ms_same_rate"] = nginx_open.get("p99_ms")
    churn = summarize_churn(load_jsonl(os.path.join(work, "churn.jsonl")), run)
    season = summarize_season(load_jsonl(os.path.join(work, "season.jsonl")), run, manifest)

    # ---- dataset / ingest
    ds = {}
    if manifest:
        ds = {"feeds": manifest["totals"]["feeds"], "records": manifest["totals"]["records"],
              "bytes": manifest["totals"]["bytes"], "providers": manifest["stats"].get("providers"),
              "providers_in_feeds": manifest["stats"].get("providers_in_feeds"),
              "policies_per_year": manifest["params"].get("policies_per_year"),
              "statuses_by_year": manifest["stats"].get("statuses_by_year"),
              "generator_seconds": run.get("gen_seconds")}
    ingest = {"seconds": run.get("ingest_seconds"), "complete": run.get("ingest_complete", False),
              "method": run.get("ingest_method"), "note": run.get("ingest_note", ""),
              "first_pass_seconds": run.get("ingest_first_pass_seconds"),
              "first_pass_failed_feeds": run.get("ingest_first_pass_failed")}
    if feeds is not None:
        ingest["feeds_total"] = len(feeds)
        ingest["feeds_ok"] = sum(1 for f in feeds if f.get("last_success"))
        ingest["rows_accepted"] = sum(int(f.get("rows_accepted") or 0) for f in feeds)
        ingest["rows_rejected"] = sum(int(f.get("rows_rejected") or 0) for f in feeds)
        ingest["feeds_with_error"] = [f.get("name") for f in feeds if f.get("last_error")]
        if manifest:
            ingest["records_expected"] = manifest["totals"]["records"]
    rss = {"vmhwm_kb_after_ingest": run.get("vmhwm_kb_ingest"), "vmhwm_kb_end": run.get("vmhwm_kb_end"),
           "vmrss_kb_end": run.get("vmrss_kb_end")}
    for k, v in run.items():
        if k.startswith("vmhwm_kb_before_restart_"):
            rss[k] = v
    peak_kb = max([v for k, v in rss.items() if k.startswith("vmhwm_kb") and v] or [0]) or None

    # ---- targets
    def worst_p99(t):
        vals = [r["p99_ms"] for r in rows if r["target"] == t and r["available"]]
        return max(vals) if vals else None

    targets = []

    def target(name, value, goal, ok, unit="", note=""):
        res = "N/A" if value is None else ("PASS" if ok else "MISS")
        targets.append({"name": name, "target": goal, "value": value, "unit": unit, "result": res, "note": note})

    v = headline["lookup_vs_nginx_identity"]
    target("lookup throughput / nginx", v, ">= 0.8x", v is not None and v >= TARGETS["lookup_vs_nginx"], "x")
    v = worst_p99("search")
    target("search p99", v, "<= 10 ms", v is not None and v <= TARGETS["search_p99_ms"], "ms",
           "worst of identity/gzip")
    v = worst_p99("compare")
    target("compare p99", v, "<= 10 ms", v is not None and v <= TARGETS["compare_p99_ms"], "ms",
           "worst of identity/gzip")
    v = ingest["seconds"] if ingest["complete"] else None
    target("ingest + reconcile", v, "<= 60 s (national)", v is not None and v <= TARGETS["ingest_seconds"], "s",
           scale_note(run))
    season_hwm = max([d.get("vmhwm_kb") or 0 for d in season.get("days", [])] or [0]) or None
    v = max([x for x in (peak_kb, season_hwm) if x] or [0]) or None
    # the response cache's answer files (memfd) are memory VmHWM does not count: added
    files_kb = run.get("answer_files_kb_end") or 0
    if v is not None:
        v += files_kb
    target("daemon peak RSS (VmHWM)", round(v / 1024, 1) if v else None, "<= 1024 MiB",
           v is not None and v * 1024 <= TARGETS["rss_bytes"], "MiB",
           "highest of after ingest, end of the wrk runs and every season day"
           + (f", plus the response cache's answer files at the end ({files_kb / 1024:.1f} MiB of "
              "shared memory, which VmHWM does not count)" if files_kb else ""))

    # issue 16 item 8
    def ratio_target(name, key, goal, note=""):
        v = headline.get(key)
        target(name, v, f">= {goal}x", v is not None and v >= goal, "x", note)

    def warm_note(key, enc):
        w = warm_pairs.get(enc)
        single = headline.get(key + "_single")
        single = f"{fmt(single, 2)}x" if single is not None else "not available"
        if not w:
            return "the single run (no warm pairs)"
        return (f"{w['pairs']} pairs of {fmt(run.get('pair_seconds'))}-s runs with nginx, order turned every "
                f"pair (each: {', '.join(fmt(r, 2) for r in w['pair_ratios'])}); the single run: {single}")
    ratio_target("warm lookup / nginx identity", "warm_vs_nginx_identity", NEW_TARGETS["warm_vs_nginx"],
                 warm_note("warm_vs_nginx_identity", "identity"))
    ratio_target("warm lookup gzip / nginx gzip_static", "warm_gzip_vs_nginx_gzip_static",
                 NEW_TARGETS["warm_gzip_vs_gzip_static"], warm_note("warm_gzip_vs_nginx_gzip_static", "gzip"))
    v = headline.get("churn_zipf_vs_nginx_zipf_identity")
    old = headline.get("churn_zipf_vs_nginx_identity")
    if v is not None:
        note = ("baseline: nginx serving, for every Zipf path, a file of the size of the daemon's answer "
                "(nginx-zipf, the same Zipf draws, without churn)")
    elif z_id is None:
        note = "the same-bytes baseline (nginx-zipf) is not available"
    else:
        note = "no Zipf lookup under churn in this run (mode churn)"
    nb, cb = mean_bytes("nginx-zipf", "identity"), mean_bytes("churn-zipf-lookup", "identity")
    if nb and cb:
        note += f"; mean bytes/resp nginx-zipf {fmt(nb)}, daemon under churn {fmt(cb)}"
    note += (f"; against the one-file nginx ({fmt(run.get('nginx_file_bytes'))} bytes for every path): "
             f"{fmt(old, 2) + 'x' if old is not None else 'not available'}")
    target("Zipf lookup under churn / nginx identity, same bytes", v, f">= {NEW_TARGETS['churn_zipf_vs_nginx']}x",
           v is not None and v >= NEW_TARGETS["churn_zipf_vs_nginx"], "x", note)
    ratio_target("cold lookup / nginx identity", "cold_vs_nginx_identity", NEW_TARGETS["cold_vs_nginx"])
    for cond, pre in (("steady", ""), ("churn", "churn-")):
        for ep in ("lookup", "search", "compare"):
            o = open_by.get((pre + ep, cond))
            v = o.get("p99_ms") if o and o.get("available") else None
            note = ""
            if o and o.get("available"):
                note = (f"offered {fmt(o['offered_rps'])} req/s, achieved {fmt(o['achieved_rps'], 0)}; "
                        f"p99 from due {fmt(o.get('due_p99_ms'), 3)} ms")
                if o["achieved_rps"] < 0.95 * o["offered_rps"]:
                    note += " (fell behind: p99 from sent understates)"
            target(f"{ep} p99 at half max{' under churn' if cond == 'churn' else ''} (open loop)", v, "<= 10 ms",
                   v is not None and v <= NEW_TARGETS["open_p99_ms"], "ms", note)

    of = season.get("one_feed") or {}
    v = of.get("apply_seconds")
    note = ""
    if of:
        note = (f"{of.get('feed')} ({fmt((of.get('bytes') or 0) / 1e6, 1)} MB, {fmt(of.get('statuses_changed'))} "
                f"statuses changed) alone, the others 304; the daemon's ingest duration over "
                f"{fmt(of.get('applies'))} apply; lag from the file written to applied {fmt(of.get('lag_seconds'))} s")
        on = scale_note(run)
        if on:
            note += "; " + on
    target("one changed insurer feed applied", v, "<= 5 s",
           v is not None and v <= NEW_TARGETS["one_feed_apply_seconds"], "s", note)

    res = {
        "date": run.get("date"), "commit": run.get("commit"), "machine": run.get("machine"),
        "params": {k: run.get(k) for k in ("scale", "seed", "duration", "connections", "wrk_threads",
                                            "daemon_threads", "warmup", "warm_pairs", "pair_seconds",
                                            "gen_providers")},
        "daemon": {"status": run.get("daemon_status"), "binary": run.get("daemon_binary")},
        "nginx": {"status": run.get("nginx_status"), "version": run.get("nginx_version"),
                  "worker_processes": run.get("daemon_threads"), "file_bytes": run.get("nginx_file_bytes"),
                  "file_source": run.get("nginx_file_source")},
        "tools": {"wrk": run.get("wrk_version")},
        "dataset": ds, "ingest": ingest, "rss": rss, "runs": rows, "headline": headline,
        "warm_pairs": warm_pairs,
        "targets": targets,
        "modes": run.get("modes", "basic"),
        "zipf": {"s": run.get("zipf_s"), "seed": run.get("zipf_seed"), "providers": run.get("providers_ranked")},
        "nginx_zipf": {"census": run.get("zipf_census"), "files": run.get("zipf_files"),
                       "open_file_cache": run.get("nginx_zipf_open_file_cache"),
                       "check": run.get("nginx_zipf_check"), "mean_bytes": zipf_bytes},
        "open_loop": {"tool": run.get("open_tool") or "h2load", "h2load": run.get("h2load_version"),
                      "pace": run.get("pace_status"), "clients": run.get("open_clients"),
                      "warmup_seconds": run.get("open_warmup"), "runs": opens},
        "churn": churn, "season": season,
        "restarts": {k[len("restart_seconds_"):]: v for k, v in run.items() if k.startswith("restart_seconds_")},
        "rows_ready": {k[len("rows_ready_seconds_"):]: v for k, v in run.items() if k.startswith("rows_ready_seconds_")},
        "database_end": {"db_bytes": run.get("db_bytes_end"), "wal_bytes": run.get("wal_bytes_end")},
    }
    os.makedirs(resdir, exist_ok=True)
    with open(os.path.join(resdir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, ensure_ascii=False, indent=1)
        f.write("\n")

    # ---- Markdown
    m = res["machine"] or {}
    L = []
    L.append("# zorgstatus benchmark results\n")
    L.append(f"Generated by `bench/run.sh` on {res['date']} at commit `{res['commit']}`. "
             "See `bench/README.md` for what is measured and how to read it.\n")
    L.append("| machine | |\n| --- | --- |")
    L.append(f"| CPUs (nproc) | {m.get('nproc')} |")
    L.append(f"| memory | {fmt(m.get('mem_total_mib'))} MiB |")
    L.append(f"| CPU | {m.get('cpu_model')} |")
    L.append(f"| kernel | {m.get('kernel')} |")
    p = res["params"]
    provs = f", {fmt(int(p['gen_providers']))} providers (`--providers`)" if p.get("gen_providers") else ""
    L.append(f"| run | scale `{p['scale']}`{provs}, seed {p['seed']}, wrk `-t{p['wrk_threads']} -c{p['connections']} "
             f"-d{p['duration']}` (warm-up {p['warmup']} per target), daemon threads {p['daemon_threads']}, "
             f"nginx worker_processes {p['daemon_threads']} |")
    L.append(f"| tools | {res['tools']['wrk'] or 'wrk ?'}; {res['nginx']['version'] or 'nginx not available'} |")
    L.append(f"| daemon | {res['daemon']['status']} |")
    L.append("")
    h = headline["lookup_vs_nginx_identity"]
    hg = headline["lookup_vs_nginx_gzip"]
    L.append(f"**Headline: provider lookup throughput = {fmt(h, 2) + 'x' if h is not None else 'not available'} "
             f"of nginx serving the same JSON as a static file** (with gzip: "
             f"{fmt(hg, 2) + 'x' if hg is not None else 'not available'}).\n")
    def hx(k):
        v = headline.get(k)
        return f"{fmt(v, 2)}x" if v is not None else "not available"
    L.append(f"Warm lookup (one path, the nginx file's): **{hx('warm_vs_nginx_identity')}** of nginx identity, "
             f"**{hx('warm_gzip_vs_nginx_gzip_static')}** of nginx gzip_static with gzip"
             + (" (paired runs, see below; the single runs: "
                f"{hx('warm_vs_nginx_identity_single')} and {hx('warm_gzip_vs_nginx_gzip_static_single')})"
                if res.get("warm_pairs") else "") + ". "
             f"Cold lookup: **{hx('cold_vs_nginx_identity')}** of nginx identity. "
             f"Zipf lookup over all {fmt(res['zipf']['providers'])} providers, against nginx serving for every "
             f"path a file of the size of the daemon's answer (same bytes): **{hx('zipf_vs_nginx_zipf_identity')}** "
             f"(gzip: {hx('zipf_gzip_vs_nginx_zipf_gzip_static')} of its gzip_static); under churn "
             f"**{hx('churn_zipf_vs_nginx_zipf_identity')}** (gzip: "
             f"{hx('churn_zipf_gzip_vs_nginx_zipf_gzip_static')}); against the one-file nginx "
             f"({fmt(run.get('nginx_file_bytes'))} bytes for every path): {hx('zipf_vs_nginx_identity')} "
             f"(gzip {hx('zipf_gzip_vs_nginx_gzip_static')}), under churn {hx('churn_zipf_vs_nginx_identity')} "
             f"(gzip {hx('churn_zipf_gzip_vs_nginx_gzip_static')}). "
             f"nginx gzip_static / nginx gzip on the fly: {hx('nginx_gzip_static_vs_nginx_gzip')}. "
             f"Modes run: `{res['modes']}`.\n")
    L.append("## Targets (reported, not asserted)\n")
    L.append("| target | goal | measured | result | note |\n| --- | --- | --- | --- | --- |")
    for t in targets:
        val = "not available" if t["value"] is None else f"{fmt(t['value'])} {t['unit']}".strip()
        L.append(f"| {t['name']} | {t['target']} | {val} | **{t['result']}** | {t['note']} |")
    L.append("")
    L.append("## Throughput and latency\n")
    L.append("Closed loop (wrk). **× nginx**: req/s divided by nginx's in this run (the one-file baselines: "
             "the mean of their runs before and after the daemon's basic rows, as nginx's own throughput "
             "drifts between runs on a shared machine), identity rows by nginx "
             "serving the file, gzip rows by nginx `gzip_static` serving the same file precompressed; the Zipf "
             "lookup rows (also under churn) by nginx-zipf, which serves for every Zipf path a file of the size "
             "of the daemon's answer (identity; gzip rows: a .gz of the size of its gzip answer, `gzip_static`) "
             "with the same Zipf draws: the same bytes. Their note gives the ratio to the one-file nginx too. "
             "**cache hits**: share of the daemon's response cache lookups that hit during the run "
             "(/metrics), **gen**: snapshot generations published during the run, **CPU µs/req**: the "
             "server's CPU time (user + system; the daemon's process, nginx's master and workers) during the "
             "run divided by its answers, which depends less than req/s on how the cores were shared with "
             "wrk.\n")
    L.append("| endpoint | server | Accept-Encoding | req/s | × nginx | p50 ms | p90 ms | p99 ms | max ms | "
             "mean bytes/resp | non-2xx | cache hits | gen | CPU µs/req | note |")
    L.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        enc = "gzip" if r["encoding"] == "gzip" else "–"
        name = TARGET_NAMES.get(r["target"], r["target"])
        if not r["available"]:
            L.append(f"| {name} | {r['server']} | {enc} | not available | | | | | | | | | | | {r['note']} |")
        else:
            hs = r.get("cache_hit_share")
            L.append(f"| {name} | {r['server']} | {enc} | {fmt(r['rps'], 0)} | "
                     f"{fmt(r.get('vs_nginx'), 2) + 'x' if r.get('vs_nginx') is not None else '–'} | "
                     f"{fmt(r['p50_ms'], 3)} | "
                     f"{fmt(r['p90_ms'], 3)} | {fmt(r['p99_ms'], 3)} | {fmt(r['max_ms'], 1)} | "
                     f"{fmt(r['mean_bytes'])} | {fmt(r['non_2xx_3xx'])} | "
                     f"{fmt(hs * 100, 1) + ' %' if hs is not None else '–'} | {fmt(r.get('generations'))} | "
                     f"{fmt(r.get('cpu_us_per_req'), 1)} | {r['note']} |")
    L.append("")
    L.extend(md_nginx_zipf(res))
    L.extend(md_pairs(res))
    L.extend(md_open(res))
    L.extend(md_churn(res))
    L.extend(md_season(res))
    L.append("## Ingest and memory\n")
    L.append("| | |\n| --- | --- |")
    if ds:
        L.append(f"| dataset | {fmt(ds['feeds'])} feeds, {fmt(ds['records'])} records, "
                 f"{fmt(ds['bytes'] / 1e6, 1)} MB, {fmt(ds['providers'])} providers "
                 f"({fmt(ds['providers_in_feeds'])} in feeds), {ds['policies_per_year']} policies/year |")
        L.append(f"| generator | {fmt(ds['generator_seconds'])} s (0 = reused an existing dataset) |")
    isec = ingest["seconds"]
    L.append(f"| ingest + reconcile | {fmt(isec) + ' s' if isec is not None else 'not measured'}"
             f"{'' if ingest['complete'] else ' (incomplete)'} — {ingest['method'] or ''} {ingest['note']} |")
    if ingest["first_pass_seconds"] is not None:
        L.append(f"| every feed attempted once | {fmt(ingest['first_pass_seconds'])} s, "
                 f"{ingest['first_pass_failed_feeds']} of them with an error then"
                 f"{' (the daemon retries them after retry_min)' if ingest['first_pass_failed_feeds'] else ''} |")
    if "feeds_total" in ingest:
        L.append(f"| feeds | {ingest['feeds_ok']}/{ingest['feeds_total']} with last_success; rows accepted "
                 f"{fmt(ingest['rows_accepted'])} (records in feeds {fmt(ingest.get('records_expected'))}), "
                 f"rejected {fmt(ingest['rows_rejected'])}; feeds with an error: "
                 f"{', '.join(ingest['feeds_with_error']) or 'none'} |")
    L.append(f"| daemon VmHWM after ingest | {fmt(rss['vmhwm_kb_after_ingest'])} kB |")
    L.append(f"| daemon VmHWM at end | {fmt(rss['vmhwm_kb_end'])} kB (VmRSS {fmt(rss['vmrss_kb_end'])} kB) |")
    before = [(k[len("vmhwm_kb_before_restart_"):], v) for k, v in rss.items() if k.startswith("vmhwm_kb_before_restart_")]
    if before:
        L.append("| daemon VmHWM before each restart | " + ", ".join(f"before {k}: {fmt(v)} kB" for k, v in before) + " |")
    L.append(f"| nginx static file | {fmt(res['nginx']['file_bytes'])} bytes, {res['nginx']['file_source'] or '–'} |")
    L.append(f"| nginx gzip_static file | {fmt(run.get('nginx_gz_file_bytes'))} bytes (gzip -6 of the same file) |")
    if res["restarts"]:
        L.append("| daemon restarts (until /healthz 200) | " +
                 ", ".join(f"{k} {fmt(v)} s" for k, v in res["restarts"].items()) + " |")
    if res.get("rows_ready"):
        L.append("| statuses in memory after a restart (until /healthz rows_in_memory is no longer "
                 "building; every run starts after it) | " +
                 ", ".join(f"{k} {fmt(v)} s" for k, v in res["rows_ready"].items()) + " |")
    de = res["database_end"]
    if de.get("db_bytes") is not None:
        L.append(f"| database at the end | {fmt(de['db_bytes'] / 1e6, 1)} MB, WAL {fmt((de['wal_bytes'] or 0) / 1e6, 1)} MB |")
    L.append("")
    with open(os.path.join(resdir, "RESULTS.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L))

    print("\nTargets (reported, never asserted):")
    for t in targets:
        val = "not available" if t["value"] is None else f"{fmt(t['value'])} {t['unit']}".strip()
        print(f"  {t['result']:<4}  {t['name']:<48} {t['target']:<20} measured {val}"
              f"{'  (' + t['note'] + ')' if t['note'] else ''}")
    print(f"\nResults: {os.path.join(resdir, 'RESULTS.md')} and {os.path.join(resdir, 'results.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
