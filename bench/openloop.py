#!/usr/bin/env python3
"""bench/openloop.py - latency at a fixed offered rate (open loop) with h2load, for bench/run.sh.

  openloop.py --port P --paths FILE --seconds S --workdir DIR --label L
              (--rate R | --max-from RUNS.jsonl --targets T1,T2 [--fraction 0.5])
              [--clients 16] [--s 1.1] [--seed 1] [--encoding identity|gzip]

The offered rate is R, or FRACTION of the req/s of the first of the closed-loop wrk runs T1, T2, ...
(identity) found in RUNS.jsonl (bench/run.sh's runs). It is spread over CLIENTS h2load processes
of one HTTP/1.1 connection each (`h2load --h1 -c1 -t1 --rps=N -D S`), N = round(rate / CLIENTS),
so the offered rate is CLIENTS x N (printed). Each process has its own request list, drawn from the
Zipf law over FILE (rank 1 = first line; bench/zipf.py sample, seed SEED*100+process), because
h2load walks a request list in the same order in every connection. h2load sends on a timer,
whatever the answers (open loop); on one connection a request that is due while the previous
answer has not arrived waits for it (h2load queues it). From the per-request --log-file of every
process (start time, status, duration): p50/p90/p99/p99.9/max from when each request was sent
(h2load's own measure), and due_p50/due_p99/due_p99.9 from when it was due: request k of a
connection was due at its first request's start + k / N, latency max(duration, start + duration -
due) (the correction for coordinated omission that wrk2 makes). The "due" figures also count the
load generator's own delays (32 processes sharing 2 cores with the server send late when starved),
so they are an upper bound; the achieved rate is reported beside the offered one. Prints one JSON
object. Python 3 standard library only.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))


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
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--s", type=float, default=1.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--encoding", default="identity")
    a = ap.parse_args(argv)

    out = {"label": a.label, "encoding": a.encoding, "seconds": a.seconds, "available": False}
    if a.rate > 0:
        rate, src = a.rate, "given"
    else:
        t, mx = max_rps(a.max_from, [x for x in a.targets.split(",") if x])
        if not mx:
            out["note"] = f"no closed-loop maximum measured for {a.targets}"
            print(json.dumps(out))
            return 0
        rate, src = mx * a.fraction, f"{a.fraction} x {t} ({mx:.0f} req/s)"
    clients = max(1, min(a.clients, int(rate)))
    per = max(1, round(rate / clients))
    out.update({"rate_source": src, "wanted_rps": round(rate, 1), "clients": clients, "per_client_rps": per,
                "offered_rps": clients * per})
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
    n_lines = per * a.seconds + per * 5 + 10
    for i in range(clients):
        lst = os.path.join(a.workdir, f"open-{a.label}-{i}.txt")
        logf = os.path.join(a.workdir, f"open-{a.label}-{i}.log")
        subprocess.run([sys.executable, os.path.join(here, "zipf.py"), "sample", a.paths, str(n_lines), lst,
                        "--s", str(a.s), "--seed", str(a.seed * 100 + i),
                        "--base", f"http://127.0.0.1:{a.port}"], check=True)
        if os.path.exists(logf):
            os.unlink(logf)
        logs.append(logf)
    t0 = time.time()
    for i in range(clients):
        lst = os.path.join(a.workdir, f"open-{a.label}-{i}.txt")
        with open(os.path.join(a.workdir, f"open-{a.label}-{i}.out"), "w") as o:
            procs.append(subprocess.Popen(
                ["h2load", "--h1", "-c1", "-t1", f"--rps={per}", "-D", str(a.seconds), "-i", lst,
                 "-H", f"Accept-Encoding: {a.encoding}", f"--log-file={logs[i]}"],
                stdout=o, stderr=subprocess.STDOUT))
    for p in procs:
        try:
            p.wait(timeout=a.seconds + 60)
        except subprocess.TimeoutExpired:
            p.kill()
    elapsed = time.time() - t0
    lat, corr, non2xx, failed = [], [], 0, 0
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
        # one connection per process: request k was due at first start + k / rate; a request sent
        # late (the previous answer was late) counts its wait too (what wrk2 calls correcting for
        # coordinated omission)
        for k, (start, code, us) in enumerate(rows):
            if code < 0:
                failed += 1
                continue
            if not 200 <= code < 400:
                non2xx += 1
            lat.append(us)
            corr.append(max(us, start + us - (rows[0][0] + k * interval_us)))
    lat.sort()
    corr.sort()
    if lat:
        out.update({
            "available": True, "requests": len(lat), "achieved_rps": round(len(lat) / a.seconds, 1),
            "p50_ms": round(pct(lat, 50) / 1000, 3), "p90_ms": round(pct(lat, 90) / 1000, 3),
            "p99_ms": round(pct(lat, 99) / 1000, 3), "p999_ms": round(pct(lat, 99.9) / 1000, 3),
            "max_ms": round(lat[-1] / 1000, 3),
            "due_p50_ms": round(pct(corr, 50) / 1000, 3), "due_p99_ms": round(pct(corr, 99) / 1000, 3),
            "due_p999_ms": round(pct(corr, 99.9) / 1000, 3),
            "non_2xx_3xx": non2xx, "failed": failed, "wall_seconds": round(elapsed, 1)})
    else:
        out["note"] = "h2load gave no results (see open-*.out in the work directory)"
    if stop:
        out["note"] = "interrupted"
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
