#!/usr/bin/env python3
"""bench/zipf.py - request lists for the Zipf, cold and open-loop runs of bench/run.sh.

  zipf.py ranked DATA OUTDIR [--seed N] [--year Y]
      Reads every provider record of the dataset's feeds (DATA/*.jsonl) and writes
        OUTDIR/zipf-lookup.txt  every provider once, /v1/providers/AGB?year=Y, most asked first:
                                by kind (hospitals, ZBCs, mental health, district nursing,
                                maternity, physiotherapy, GPs, pharmacies, medical devices,
                                other), within a kind in a shuffled order (seed)
        OUTDIR/cold-lookup.txt  every provider once, year=Y-1 (a year no other run asks), in a
                                shuffled order: the cold run's paths
      and prints the number of providers.
  zipf.py sample RANKED N OUT [--s 1.1] [--seed N] [--base URL]
      Writes N paths (or BASE+path) drawn from the Zipf law over RANKED (rank 1 = first line),
      for tools that read a request list in order (h2load -i).

Deterministic: the same dataset and seed give the same files (random.Random seeded with strings).
Python 3 standard library only.
"""

import argparse
import bisect
import glob
import json
import os
import random
import sys

KIND_ORDER = ["hospital", "ibc", "mental_health", "district_nursing", "maternity", "physiotherapy", "gp",
              "pharmacy", "medical_devices", "other"]


def providers(data):
    seen = {}
    for path in sorted(glob.glob(os.path.join(data, "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if '"type":"provider"' not in line:
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                agb = r.get("agb")
                if agb and agb not in seen:
                    seen[agb] = r.get("kind") or "other"
    return seen


def cmd_ranked(a):
    seen = providers(a.data)
    by_kind = {}
    for agb, kind in seen.items():
        by_kind.setdefault(kind, []).append(agb)
    order = KIND_ORDER + sorted(k for k in by_kind if k not in KIND_ORDER)
    ranked = []
    for kind in order:
        agbs = sorted(by_kind.get(kind, []))
        random.Random(f"zipf-rank-{a.seed}-{kind}").shuffle(agbs)
        ranked.extend(agbs)
    os.makedirs(a.outdir, exist_ok=True)
    with open(os.path.join(a.outdir, "zipf-lookup.txt"), "w", encoding="utf-8") as f:
        for agb in ranked:
            f.write(f"/v1/providers/{agb}?year={a.year}\n")
    cold = sorted(ranked)
    random.Random(f"cold-{a.seed}").shuffle(cold)
    with open(os.path.join(a.outdir, "cold-lookup.txt"), "w", encoding="utf-8") as f:
        for agb in cold:
            f.write(f"/v1/providers/{agb}?year={a.year - 1}\n")
    print(len(ranked))
    return 0


def cmd_sample(a):
    paths = [l.strip() for l in open(a.ranked, encoding="utf-8") if l.startswith("/")]
    if not paths:
        print(f"zipf.py: no paths in {a.ranked}", file=sys.stderr)
        return 1
    write_sample(paths, zipf_cdf(len(paths), a.s), a.n, a.out, a.seed, a.base)
    return 0


def zipf_cdf(n, s):
    """The cumulative weights of ranks 1..n under the Zipf law with exponent s."""
    cdf, acc = [], 0.0
    for k in range(1, n + 1):
        acc += 1.0 / (k ** s)
        cdf.append(acc)
    return cdf


def write_sample(paths, cdf, n, out, seed, base=""):
    """Writes n paths drawn with cdf (zipf_cdf) to out, deterministic for the seed."""
    acc = cdf[-1]
    r = random.Random(f"zipf-sample-{seed}")
    with open(out, "w", encoding="utf-8") as f:
        for _ in range(n):
            i = bisect.bisect_left(cdf, r.random() * acc)
            f.write(base + paths[min(i, len(paths) - 1)] + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ranked")
    p.add_argument("data")
    p.add_argument("outdir")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--year", type=int, default=2027)
    p = sub.add_parser("sample")
    p.add_argument("ranked")
    p.add_argument("n", type=int)
    p.add_argument("out")
    p.add_argument("--s", type=float, default=1.1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--base", default="")
    a = ap.parse_args(argv)
    return cmd_ranked(a) if a.cmd == "ranked" else cmd_sample(a)


if __name__ == "__main__":
    sys.exit(main())
