#!/usr/bin/env python3
"""bench/openloop.py - latency at a fixed offered rate (open loop), for bench/run.sh.

  openloop.py --port P --paths FILE --seconds S --workdir DIR --label L
              (--rate R | --max-from RUNS.jsonl --targets T1,T2 [--fraction 0.5])
              [--clients 32] [--s 1.1] [--seed 1] [--encoding identity|gzip]
              [--warmup 5] [--tool pace|h2load] [--pace PATH]

The offered rate is R, or FRACTION of the req/s of the first of the closed-loop wrk runs T1, T2, ...
(identity) found in RUNS.jsonl (bench/run.sh's runs). It is spread over HTTP/1.1 keep-alive
connections: with pace, CLIENTS of them, the rate spread evenly; with h2load, CLIENTS
connections at N = round(rate / CLIENTS) each, so the offered rate is CLIENTS x N. Both are
printed. One answer is in flight per connection: at 30,000 requests a second over 32 connections
a connection sends every millisecond, and an answer that takes longer delays the next request on
it (the "from due" figures count that). More connections were tried (at most 200 requests a
second each: 164 connections for 32,700 searches a second): the daemon's p50 went from 0.5 to
1.9 ms and its p99 from 1.8 to 7.6 ms, as every connection costs the server too, so the number
stays CLIENTS. Each connection has its own request list, drawn from the Zipf law over FILE (rank 1 = first line; bench/zipf.py sample, seed SEED*100+connection). Requests are sent on a
timer, whatever the answers (open loop); a request that is due while its connection still waits
for the previous answer is sent right after that answer.

The load generator (--tool):
  pace    bench/pace.c (default): one process, one thread, every connection in one epoll loop,
          request k of connection i due at t0 + (i + k * CLIENTS) / rate, sent on a 0.5 ms tick
          (at most that late); logs due, sent and done times of every request.
  h2load  CLIENTS processes of `h2load --h1 -c1 -t1 --rps=N` (h2load walks one request list in the
          same order on every connection of a process, so one process per connection); request k
          of a connection is taken as due at its first request's start + k / N. On two cores the
          32 processes compete with the server and with each other: their wake-ups and lateness
          are in the figures.

The run lasts WARMUP + S seconds at the same rate. The first WARMUP seconds (by due time) are
reported apart (warmup_*), as wrk's warm-up is not recorded: at the start the response cache holds
what the previous run asked. p50/p90/p99/p99.9/max: from when each request was sent, over the S
measured seconds; due_p50/due_p99/due_p99.9: from when it was due, counting the wait behind a late
answer on the same connection (the correction for coordinated omission that wrk2 makes), and also
the load generator's own lateness, so an upper bound. Prints one JSON object. Python 3 standard
library only.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import zipf  # noqa: E402  (bench/zipf.py: the same Zipf draws as its "sample" command)


def max_rps(runs, targets):
    found = {}
    if os.path.exists(runs):
        for line in open(runs, encoding="utf-8"):
            line = line.strip()
            if not line:
                continue
            x = json.loads(line)
            r = x.get("result")
            if x.get("available") and r and x.get("encoding") == "identity" and r.get("duration_us"):
                found[x["target"]] = (r["requests"] / (r["duration_us"] / 1e6), r)
    for t in targets:
        if t in found:
            return t, found[t][0]
    return None, None


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--paths", required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--max-from", default="")
    ap.add_argument("--targets", default="")
    ap.add_argument("--fraction", type=float, default=0.5)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--s", type=float, default=1.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--encoding", default="identity")
    ap.add_argument("--tool", choices=["pace", "h2load"], default="pace")
    ap.add_argument("--warmup", type=int, default=5,
                    help="seconds at the same rate before the measured SECONDS, reported apart")
    ap.add_argument("--pace", default=os.path.join(here, "work", "pace"),
                    help="the built bench/pace.c (bench/run.sh builds it)")
    a = ap.parse_args(argv)

    out = {"label": a.label, "encoding": a.encoding, "seconds": a.seconds, "available": False, "tool": a.tool}
    if a.rate > 0:
        rate, src = a.rate, "given"
    else:
        t, mx = max_rps(a.max_from, [x for x in a.targets.split(",") if x])
        if not mx:
            out["note"] = f"no closed-loop maximum measured for {a.targets}"
            print(json.dumps(out))
            return 0
        rate, src = mx * a.fraction, f"{a.fraction} x {t} ({mx:.0f} req/s)"
    if a.tool == "pace":
        clients = max(1, a.clients)
        per = rate / clients  # pace spreads any rate evenly over its connections
        offered = int(round(rate))
    else:
        clients = max(1, min(a.clients, int(rate)))
        per = max(1, round(rate / clients))
        offered = clients * per
    out.update({"rate_source": src, "wanted_rps": round(rate, 1), "clients": clients,
                "per_client_rps": round(per, 2), "offered_rps": offered})
    procs, logs = [], []
    stop = []

    def on_term(*_):
        stop.append(1)
        for p in procs:
            try:
                p.terminate()
            except OSError:
                pass
    signal.signal(signal.SIGTERM, on_term)
    total = a.warmup + a.seconds
    n_lines = int(per * (total + 30) + per * 5 + 10)  # pace's warm-up may last 30 s longer
    paths = [l.strip() for l in open(a.paths, encoding="utf-8") if l.startswith("/")]
    if not paths:
        out["note"] = f"no paths in {a.paths}"
        print(json.dumps(out))
        return 0
    cdf = zipf.zipf_cdf(len(paths), a.s)
    for i in range(clients):
        lst = os.path.join(a.workdir, f"open-{a.label}-{i}.txt")
        logf = os.path.join(a.workdir, f"open-{a.label}-{i}.log")
        zipf.write_sample(paths, cdf, n_lines, lst, a.seed * 100 + i, f"http://127.0.0.1:{a.port}")
        if os.path.exists(logf):
            os.unlink(logf)
        logs.append(logf)
    t0 = time.time()
    if a.tool == "pace":
        # one process, every connection in one epoll loop (bench/pace.c): the load generator's
        # own CPU and wake-ups stay small beside the server's
        logs = [os.path.join(a.workdir, f"open-{a.label}.log")]
        if os.path.exists(logs[0]):
            os.unlink(logs[0])
        with open(os.path.join(a.workdir, f"open-{a.label}.out"), "w") as o:
            procs.append(subprocess.Popen(
                [a.pace, "--port", str(a.port), "--conns", str(clients), "--rate", str(rate),
                 "--seconds", str(a.seconds), "--warmup", str(a.warmup),
                 "--lists", os.path.join(a.workdir, f"open-{a.label}"),
                 "--header", f"Accept-Encoding: {a.encoding}", "--log", logs[0]],
                stdout=o, stderr=subprocess.STDOUT))
    else:
        for i in range(clients):
            lst = os.path.join(a.workdir, f"open-{a.label}-{i}.txt")
            with open(os.path.join(a.workdir, f"open-{a.label}-{i}.out"), "w") as o:
                procs.append(subprocess.Popen(
                    ["h2load", "--h1", "-c1", "-t1", f"--rps={per}", "-D", str(total), "-i", lst,
                     "-H", f"Accept-Encoding: {a.encoding}", f"--log-file={logs[i]}"],
                    stdout=o, stderr=subprocess.STDOUT))
    for p in procs:
        try:
            p.wait(timeout=total + 90)  # pace: the warm-up may last 30 s longer
        except subprocess.TimeoutExpired:
            p.kill()
    elapsed = time.time() - t0
    # every request: (due, from sent, from due, status), due in microseconds from the run's start
    reqs = []
    warm_end = a.warmup * 1e6
    if a.tool == "pace":
        if os.path.exists(logs[0]):
            for line in open(logs[0]):
                f = line.split()
                if line.startswith("# measure_from_us"):
                    # pace ends the warm-up once the server has caught up (bench/pace.c)
                    if int(f[2]) >= 0:
                        warm_end = int(f[2])
                        out["warmup_caught_up"] = f[4] == "1"
                    continue
                if len(f) >= 5:
                    due, sent, done, code = int(f[0]), int(f[1]), int(f[2]), int(f[3])
                    reqs.append((due, done - sent, done - due, code))
    else:
        interval_us = 1e6 / per
        for logf in logs:
            if not os.path.exists(logf):
                continue
            rows = []
            for line in open(logf):
                f = line.split()
                if len(f) >= 3:
                    rows.append((int(f[0]), int(f[1]), int(f[2])))
            rows.sort()
            # one connection per process: request k was due at first start + k / rate; a request
            # sent late (the previous answer was late) counts its wait too (what wrk2 calls
            # correcting for coordinated omission)
            for k, (start, code, us) in enumerate(rows):
                due = rows[0][0] + k * interval_us
                reqs.append((k * interval_us, us, max(us, start + us - due), code))
    measured = [r for r in reqs if r[0] >= warm_end]
    warm = [r for r in reqs if r[0] < warm_end]
    lat = sorted(r[1] for r in measured if r[3] >= 0)
    corr = sorted(r[2] for r in measured if r[3] >= 0)
    failed = sum(1 for r in measured if r[3] < 0)
    non2xx = sum(1 for r in measured if r[3] >= 0 and not 200 <= r[3] < 400)
    if lat:
        out.update({
            "available": True, "requests": len(lat), "achieved_rps": round(len(lat) / a.seconds, 1),
            "p50_ms": round(pct(lat, 50) / 1000, 3), "p90_ms": round(pct(lat, 90) / 1000, 3),
            "p99_ms": round(pct(lat, 99) / 1000, 3), "p999_ms": round(pct(lat, 99.9) / 1000, 3),
            "max_ms": round(lat[-1] / 1000, 3),
            "due_p50_ms": round(pct(corr, 50) / 1000, 3), "due_p99_ms": round(pct(corr, 99) / 1000, 3),
            "due_p999_ms": round(pct(corr, 99.9) / 1000, 3),
            "non_2xx_3xx": non2xx, "failed": failed, "wall_seconds": round(elapsed, 1),
            "warmup_seconds": round(warm_end / 1e6, 1)})
        wl = sorted(r[1] for r in warm if r[3] >= 0)
        wc = sorted(r[2] for r in warm if r[3] >= 0)
        if wl:
            out.update({"warmup_requests": len(wl), "warmup_p99_ms": round(pct(wl, 99) / 1000, 3),
                        "warmup_max_ms": round(wl[-1] / 1000, 3),
                        "warmup_due_p99_ms": round(pct(wc, 99) / 1000, 3),
                        "warmup_failed": sum(1 for r in warm if r[3] < 0)})
    else:
        out["note"] = f"{a.tool} gave no results (see open-{a.label}*.out in the work directory)"
    if stop:
        out["note"] = "interrupted"
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
