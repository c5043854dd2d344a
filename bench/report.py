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
                "nginx": "nginx static lookup JSON"}


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


def fmt(v, nd=2):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


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

    def rps(t, e):
        r = by.get((t, e))
        return r["rps"] if r and r["available"] and r["rps"] else None

    headline = {}
    for e in ("identity", "gzip"):
        a, b = rps("lookup", e), rps("nginx", e)
        headline[f"lookup_vs_nginx_{e}"] = round(a / b, 3) if a and b else None

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
    peak_kb = max([v for v in (rss["vmhwm_kb_after_ingest"], rss["vmhwm_kb_end"]) if v] or [0]) or None

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
           "" if run.get("scale") == "national" else f"measured at {run.get('scale')} scale")
    v = peak_kb
    target("daemon peak RSS (VmHWM)", round(v / 1024, 1) if v else None, "<= 1024 MiB",
           v is not None and v * 1024 <= TARGETS["rss_bytes"], "MiB")

    res = {
        "date": run.get("date"), "commit": run.get("commit"), "machine": run.get("machine"),
        "params": {k: run.get(k) for k in ("scale", "seed", "duration", "connections", "wrk_threads",
                                            "daemon_threads", "warmup")},
        "daemon": {"status": run.get("daemon_status"), "binary": run.get("daemon_binary")},
        "nginx": {"status": run.get("nginx_status"), "version": run.get("nginx_version"),
                  "worker_processes": run.get("daemon_threads"), "file_bytes": run.get("nginx_file_bytes"),
                  "file_source": run.get("nginx_file_source")},
        "tools": {"wrk": run.get("wrk_version")},
        "dataset": ds, "ingest": ingest, "rss": rss, "runs": rows, "headline": headline,
        "targets": targets,
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
    L.append(f"| run | scale `{p['scale']}`, seed {p['seed']}, wrk `-t{p['wrk_threads']} -c{p['connections']} "
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
    L.append("## Targets (reported, not asserted)\n")
    L.append("| target | goal | measured | result | note |\n| --- | --- | --- | --- | --- |")
    for t in targets:
        val = "not available" if t["value"] is None else f"{fmt(t['value'])} {t['unit']}".strip()
        L.append(f"| {t['name']} | {t['target']} | {val} | **{t['result']}** | {t['note']} |")
    L.append("")
    L.append("## Throughput and latency\n")
    L.append("| endpoint | server | Accept-Encoding | req/s | p50 ms | p90 ms | p99 ms | max ms | "
             "mean bytes/resp | non-2xx | note |")
    L.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        enc = "gzip" if r["encoding"] == "gzip" else "–"
        name = TARGET_NAMES.get(r["target"], r["target"])
        if not r["available"]:
            L.append(f"| {name} | {r['server']} | {enc} | not available | | | | | | | {r['note']} |")
        else:
            L.append(f"| {name} | {r['server']} | {enc} | {fmt(r['rps'], 0)} | {fmt(r['p50_ms'], 3)} | "
                     f"{fmt(r['p90_ms'], 3)} | {fmt(r['p99_ms'], 3)} | {fmt(r['max_ms'], 1)} | "
                     f"{fmt(r['mean_bytes'])} | {fmt(r['non_2xx_3xx'])} | {r['note']} |")
    L.append("")
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
    L.append(f"| nginx static file | {fmt(res['nginx']['file_bytes'])} bytes, {res['nginx']['file_source'] or '–'} |")
    L.append("")
    with open(os.path.join(resdir, "RESULTS.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L))

    print("\nTargets (reported, never asserted):")
    for t in targets:
        val = "not available" if t["value"] is None else f"{fmt(t['value'])} {t['unit']}".strip()
        print(f"  {t['result']:<4}  {t['name']:<26} {t['target']:<20} measured {val}"
              f"{'  (' + t['note'] + ')' if t['note'] else ''}")
    print(f"\nResults: {os.path.join(resdir, 'RESULTS.md')} and {os.path.join(resdir, 'results.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
