#!/usr/bin/env python3
"""bench/zipfstatic.py - the same-bytes nginx baseline of the Zipf rows, for bench/run.sh.

  zipfstatic.py census --port P --paths RANKED --out SIZES.tsv [--workers 4] [--s 1.1]
      Asks the daemon on 127.0.0.1:P for every path of RANKED (bench/zipf.py's zipf-lookup.txt)
      once without and once with Accept-Encoding: gzip (keep-alive connections, WORKERS threads,
      each its own connection and every WORKERS-th path) and writes SIZES.tsv:
        path  status  bytes  gz_status  gz_bytes  gz_encoding
      (body sizes; gz_encoding is the Content-Encoding of the gzip answer, '-' when none). Beside
      it SIZES.tsv.sample and SIZES.tsv.sample.gz: the largest identity and gzip bodies, the
      filler of the files below. bench/run.sh runs it against the daemon restarted with the
      response cache off (response_cache_seconds = 0), so that the census does not fill the cache
      the Zipf runs measure. Prints one JSON object (counts, seconds, means; the "zipf_mean_*"
      are the means per request under the Zipf law of exponent S, rank 1 = first line).

  zipfstatic.py files --sizes SIZES.tsv --root DIR [--step 0.005] [--exact 4096] [--s 1.1]
      Makes DIR a document root for nginx in which every path of SIZES.tsv (query string
      dropped) is a file of the size of the daemon's identity answer, and PATH.gz a file of the
      size of its gzip answer (for gzip_static; none where the daemon answered a gzip request
      uncompressed, so that nginx then serves the identity file too). Sizes up to EXACT bytes
      are exact; larger ones are rounded to the nearest step of a geometric scale (STEP = 0.005:
      at most 0.25 % off, as often up as down). One file per size used (DIR/buckets/), the
      paths hard links to it (a new copy of the bucket file when the link count is full; a
      symbolic link where the file system has no hard links): the national tree is about a
      thousand files instead of 80,000 x 2 (some GB). The bytes are the daemon's own JSON (and
      gzip) bytes repeated or cut to the size: nginx's work does not depend on them, and the .gz
      files are not valid gzip streams (wrk does not decode them). Paths the daemon did not
      answer 200 get a file of the size of its answer all the same (counted). Prints one JSON
      object (files, bucket files, bytes on disk, the largest rounding, Zipf means of the files).

Python 3 standard library only.
"""

import argparse
import errno
import http.client
import json
import math
import os
import shutil
import sys
import threading
import time


def read_paths(path):
    return [l.strip() for l in open(path, encoding="utf-8") if l.startswith("/")]


def zipf_weights(n, s):
    w = [1.0 / (k ** s) for k in range(1, n + 1)]
    t = sum(w)
    return [x / t for x in w]


def fetch(conn_box, port, path, gzip, timeout):
    """GET path; returns (status, body, content-encoding). Reconnects and retries on a dropped
    keep-alive connection (at most three attempts)."""
    hdr = {"Accept-Encoding": "gzip"} if gzip else {}
    last = None
    for _ in range(3):
        if conn_box[0] is None:
            conn_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c = conn_box[0]
        try:
            c.request("GET", path, headers=hdr)
            r = c.getresponse()
            body = r.read()
            enc = r.getheader("Content-Encoding") or "-"
            if (r.getheader("Connection") or "").lower() == "close":
                c.close()
                conn_box[0] = None
            return r.status, body, enc
        except (OSError, http.client.HTTPException) as e:
            last = e
            c.close()
            conn_box[0] = None
    raise last


def cmd_census(a):
    paths = read_paths(a.paths)
    if not paths:
        print(json.dumps({"ok": False, "note": f"no paths in {a.paths}"}))
        return 1
    res = [None] * len(paths)
    best = {"id": b"", "gz": b""}
    lock = threading.Lock()
    failures = []

    def worker(w):
        box = [None]
        big_id, big_gz = b"", b""
        try:
            for i in range(w, len(paths), a.workers):
                try:
                    st, body, _ = fetch(box, a.port, paths[i], False, a.timeout)
                    gst, gbody, genc = fetch(box, a.port, paths[i], True, a.timeout)
                except (OSError, http.client.HTTPException) as e:
                    res[i] = (0, -1, 0, -1, "-")
                    with lock:
                        failures.append(f"{paths[i]}: {e}")
                    continue
                res[i] = (st, len(body), gst, len(gbody), genc)
                if st == 200 and len(body) > len(big_id):
                    big_id = body
                if gst == 200 and genc == "gzip" and len(gbody) > len(big_gz):
                    big_gz = gbody
        finally:
            if box[0] is not None:
                box[0].close()
            with lock:
                if len(big_id) > len(best["id"]):
                    best["id"] = big_id
                if len(big_gz) > len(best["gz"]):
                    best["gz"] = big_gz

    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.time() - t0
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("path\tstatus\tbytes\tgz_status\tgz_bytes\tgz_encoding\n")
        for p, r in zip(paths, res):
            f.write(f"{p}\t{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\n")
    os.replace(tmp, a.out)
    with open(a.out + ".sample", "wb") as f:
        f.write(best["id"])
    with open(a.out + ".sample.gz", "wb") as f:
        f.write(best["gz"])
    ok = [r for r in res if r[1] >= 0]
    wts = zipf_weights(len(paths), a.s)
    out = {
        "ok": bool(ok) and len(failures) <= 0.01 * len(paths),
        "paths": len(paths), "seconds": round(secs, 2), "workers": a.workers,
        "requests_per_second": round(2 * len(paths) / secs, 1) if secs else None,
        "failed": len(failures), "failed_examples": failures[:3],
        "non_200": sum(1 for r in res if r[0] not in (0, 200)),
        "gz_non_200": sum(1 for r in res if r[2] not in (0, 200)),
        "gz_not_compressed": sum(1 for r in res if r[3] >= 0 and r[4] != "gzip"),
        "mean_bytes": round(sum(r[1] for r in ok) / len(ok)) if ok else None,
        "mean_gz_bytes": round(sum(r[3] for r in ok) / len(ok)) if ok else None,
        "zipf_mean_bytes": round(sum(w * max(r[1], 0) for w, r in zip(wts, res))),
        "zipf_mean_gz_bytes": round(sum(w * max(r[3], 0) for w, r in zip(wts, res))),
        "max_bytes": max((r[1] for r in ok), default=None),
        "zipf_s": a.s,
    }
    if not out["ok"]:
        out["note"] = f"{len(failures)} of {len(paths)} paths could not be fetched"
    print(json.dumps(out))
    return 0 if out["ok"] else 1


def bucket(n, step, exact):
    """n rounded to the nearest size of the scale: exact up to EXACT, then EXACT * (1+STEP)^k."""
    if n <= exact:
        return n
    k = round(math.log(n / exact) / math.log1p(step))
    return max(exact + 1, int(round(exact * (1 + step) ** k)))


def filler(path, fallback):
    try:
        b = open(path, "rb").read()
    except OSError:
        b = b""
    return b or fallback


def cmd_files(a):
    rows = []
    with open(a.sizes, encoding="utf-8") as f:
        next(f, None)
        for line in f:
            p, st, n, gst, gn, genc = line.rstrip("\n").split("\t")
            rows.append((p, int(st), int(n), int(gst), int(gn), genc))
    if os.path.isdir(a.root):
        shutil.rmtree(a.root)
    bdir = os.path.join(a.root, "buckets")
    os.makedirs(bdir)
    fill = {"id": filler(a.sizes + ".sample", b'{"provider":{"agb":"00000000"}}\n'),
            "gz": filler(a.sizes + ".sample.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")}
    made = {}           # (kind, size) -> current bucket file
    copies = {}         # (kind, size) -> copies made
    disk = [0, 0]       # bucket files, their bytes
    links = {"hard": 0, "symbolic": 0}
    worst = [0.0]

    def bucket_file(kind, size, fresh=False):
        key = (kind, size)
        if key in made and not fresh:
            return made[key]
        copies[key] = copies.get(key, 0) + 1
        fn = os.path.join(bdir, f"{kind}-{size}" + (f"-{copies[key]}" if copies[key] > 1 else ""))
        src = fill[kind]
        data = (src * (size // len(src) + 1))[:size]
        with open(fn, "wb") as f:
            f.write(data)
        made[key] = fn
        disk[0] += 1
        disk[1] += size
        return fn

    def place(kind, size, target):
        b = bucket(size, a.step, a.exact)
        if size > 0:
            worst[0] = max(worst[0], abs(b - size) / size)
        fn = bucket_file(kind, b)
        try:
            os.link(fn, target)
            links["hard"] += 1
        except OSError as e:
            if e.errno == errno.EMLINK:
                os.link(bucket_file(kind, b, fresh=True), target)
                links["hard"] += 1
            else:
                os.symlink(os.path.relpath(fn, os.path.dirname(target)), target)
                links["symbolic"] += 1
        return b

    wts = zipf_weights(len(rows), a.s)
    zid = zgz = 0.0
    skipped = non200 = nogz = 0
    dirs = set()
    for w, (p, st, n, gst, gn, genc) in zip(wts, rows):
        if n < 0:
            skipped += 1     # not fetched: no file, nginx answers 404
            continue
        rel = p.split("?", 1)[0].lstrip("/")
        if not rel or ".." in rel.split("/"):
            skipped += 1
            continue
        target = os.path.join(a.root, rel)
        d = os.path.dirname(target)
        if d not in dirs:
            os.makedirs(d, exist_ok=True)
            dirs.add(d)
        if os.path.lexists(target):
            skipped += 1     # a path twice in the list: the first one's sizes
            continue
        if st != 200:
            non200 += 1
        zid += w * place("id", n, target)
        if gn >= 0 and genc == "gzip":
            zgz += w * place("gz", gn, target + ".gz")
        else:
            nogz += 1        # nginx serves the identity file to gzip requests too, like the daemon
            zgz += w * bucket(n, a.step, a.exact)
    out = {"paths": len(rows), "files": len(rows) - skipped, "skipped": skipped, "non_200_served_200": non200,
           "without_gz": nogz, "bucket_files": disk[0], "disk_bytes": disk[1], "links": links,
           "step": a.step, "exact_up_to": a.exact, "largest_rounding": round(worst[0], 5),
           "zipf_mean_file_bytes": round(zid), "zipf_mean_gz_file_bytes": round(zgz)}
    print(json.dumps(out))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("census")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--paths", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--s", type=float, default=1.1)
    p = sub.add_parser("files")
    p.add_argument("--sizes", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--step", type=float, default=0.005)
    p.add_argument("--exact", type=int, default=4096)
    p.add_argument("--s", type=float, default=1.1)
    a = ap.parse_args(argv)
    if a.cmd == "census" and a.workers < 1:
        ap.error("--workers must be at least 1")
    return cmd_census(a) if a.cmd == "census" else cmd_files(a)


if __name__ == "__main__":
    sys.exit(main())
