#!/usr/bin/env python3
"""bench/feedver.py - new versions of the benchmark feeds: the churn and season modes of run.sh.

A version of a feed is its base file (as bench/gen.py wrote it) with a set of status records
toggled: `"status":"contracted"}` <-> `"status":"negotiating"}` (only records whose status is the
last field, so that the toggled record stays valid: no ceiling, no as_contracted). Versions are
cumulative: version k toggles round(RATE x eligible records) records more (chosen with
random.Random("feedver-SEED-FEED-k")) relative to version k-1, so each new version differs from
the previous one in exactly that many statuses. The header (generated_at) is kept, so nothing but
the toggled statuses changes. A version is written to LIVE/FEED.tmp and renamed over LIVE/FEED
(nginx serves LIVE; its ETag follows mtime and size, and mtime is moved at least one second
forward per version so that every version has a new ETag). Deterministic: the same base files,
seed and rate give byte-identical versions.

  feedver.py churn --base DATA --live LIVE --feeds F1,F2,.. [--interval 20] [--rate 0.02]
                   [--seed 1] [--port DAEMON_PORT] [--log FILE] [--max-rounds N]
      Every INTERVAL seconds writes the next version of each named feed (file names, e.g.
      insurer-4375.jsonl) until killed (SIGTERM) or MAX_ROUNDS. With --port it polls the daemon's
      GET /v1/feeds every second and logs when each version was applied (last_change moved).
      Log: one JSON object per line (round, feeds, statuses changed, write seconds, apply lags).

  feedver.py season --base DATA --live LIVE --port DAEMON_PORT --db DB --days N [--rate 0.01]
                    [--seed 1] [--pid DAEMON_PID] [--measure CMD] [--log FILE] [--timeout 900]
      Day 0: waits until the daemon has settled (every feed fetched since the start: last_attempt
      moved; no last_change moving for SETTLE seconds) and measures. Day d = 1..N: writes the next version
      of every feed with eligible records, waits until every one of them has a new last_change,
      then measures: apply seconds (from the first file written to the last feed applied, polling
      every 0.2 s), database and WAL (-wal) size, history and effective rows (SQLite read-only),
      the daemon's VmRSS/VmHWM, and runs MEASURE (a shell command, e.g. a short wrk run) whose last
      `ZSRESULT {...}` line is kept. One JSON object per day in the log.
      With --one-feed, after day N: a new version of the largest insurer feed alone (the others
      answer 304), and its apply time as the daemon measured it (/metrics: the mean of
      zorgstatus_ingest_duration_seconds over the applies meanwhile, normally one), with the lag
      from the file written to its new last_change: {"event": "one_feed", ...}.
      With --rollover, one more day after day N: every feed loses its oldest contract year (its
      policy, status and similar records; the toggles so far are kept) - the year rollover. Measured:
      the apply seconds, then the moving of the year's rows into history that the daemon does in
      bounded transactions between its rounds (until table `retired` is empty, polled read-only):
      its seconds, the rows moved, the largest WAL (-wal) size seen from the first file written to
      the end, and, from the daemon log (--daemon-log), the rows per transaction. One JSON object
      {"event": "rollover", ...} in the log; no MEASURE run (the default year may be the one gone).

Python 3 standard library only.
"""

import argparse
import array
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

A = '"status":"contracted"}'
B = '"status":"negotiating"}'


class Feed:
    """One feed's base file and the cumulative set of toggled status records."""

    def __init__(self, base, live, name, seed, rate):
        self.base, self.live, self.name, self.seed, self.rate = base, live, name, seed, rate
        self.eligible = array.array("l")
        self.toggled = set()
        self.version = 0
        self.mtime = 0.0
        with open(os.path.join(base, name), encoding="utf-8") as f:
            for i, line in enumerate(f):
                s = line.rstrip("\n")
                if '"type":"status"' in s and (s.endswith(A) or s.endswith(B)):
                    self.eligible.append(i)

    def next_version(self):
        """Write the next version to LIVE; returns the number of statuses changed."""
        self.version += 1
        n = len(self.eligible)
        if n == 0:
            return 0
        k = max(1, round(self.rate * n))
        r = random.Random(f"feedver-{self.seed}-{self.name}-{self.version}")
        for i in r.sample(range(n), k):
            self.toggled ^= {self.eligible[i]}
        dst = os.path.join(self.live, self.name)
        tmp = dst + ".tmp"
        with open(os.path.join(self.base, self.name), encoding="utf-8") as src, \
                open(tmp, "w", encoding="utf-8") as out:
            tog = self.toggled
            for i, line in enumerate(src):
                if i in tog:
                    s = line.rstrip("\n")
                    line = (s[:-len(A)] + B if s.endswith(A) else s[:-len(B)] + A) + "\n"
                out.write(line)
        self._publish(tmp, dst)
        return k

    def _publish(self, tmp, dst):
        """Put tmp in place of dst atomically, with an mtime newer than dst's and than this
        feed's last version (the daemon's conditional GET sees every version as changed)."""
        try:
            old = os.stat(dst).st_mtime
        except OSError:
            old = 0.0
        t = max(time.time(), old + 1.0, self.mtime + 1.0)
        os.utime(tmp, (t, t))
        self.mtime = t
        os.replace(tmp, dst)

    def write_without_year(self, year):
        """Write a version without the records of contract year `year` (toggles kept); returns
        the number of records dropped."""
        dst = os.path.join(self.live, self.name)
        tmp = dst + ".tmp"
        tag = f'"year":{year}'
        lines, dropped = [], 0
        with open(os.path.join(self.base, self.name), encoding="utf-8") as src:
            for i, line in enumerate(src):
                s = line.rstrip("\n")
                if i in self.toggled:
                    s = s[:-len(A)] + B if s.endswith(A) else s[:-len(B)] + A
                if tag in s:
                    o = json.loads(s)
                    if o.get("year") == year and o.get("type") in ("policy", "status", "similar"):
                        dropped += 1
                        continue
                lines.append(s)
        # the trailer counts the records
        for j in range(len(lines) - 1, -1, -1):
            if lines[j].startswith('{"type":"end"'):
                o = json.loads(lines[j])
                o["records"] -= dropped
                lines[j] = json.dumps(o, separators=(",", ":"))
                break
        with open(tmp, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        self._publish(tmp, dst)
        return dropped


def feeds_state(port, timeout=10):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/feeds", timeout=timeout) as r:
        return {f["name"]: f for f in json.load(r)["feeds"]}


def feed_names_by_file(conf):
    """[feed NAME] -> file name of its url, from a zorgstatus.conf."""
    out, name = {}, None
    for line in open(conf, encoding="utf-8"):
        line = line.strip()
        if line.startswith("[feed ") and line.endswith("]"):
            name = line[6:-1].strip()
        elif name and line.startswith("url") and "=" in line:
            out[line.split("=", 1)[1].strip().rsplit("/", 1)[-1]] = name
    return out


def emit(log, obj):
    line = json.dumps(obj, ensure_ascii=False)
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    print(line, flush=True)


def cmd_churn(a):
    names = [x for x in a.feeds.split(",") if x]
    feeds = [Feed(a.base, a.live, n, a.seed, a.rate) for n in names]
    byfile = {n: n[:-6] if n.endswith(".jsonl") else n for n in names}
    if a.conf:
        m = feed_names_by_file(a.conf)
        byfile = {n: m.get(n, byfile[n]) for n in names}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    t0 = time.time()
    rnd = 0
    pending = {}  # feed name -> (round, write time, last_change before)
    lags = []
    last = {}
    if a.port:
        try:
            last = {k: v.get("last_change") for k, v in feeds_state(a.port).items()}
        except Exception:
            last = {}
    while not stop and (a.max_rounds == 0 or rnd < a.max_rounds):
        rnd += 1
        due = t0 + (rnd - 1) * a.interval
        while not stop and time.time() < due:
            time.sleep(min(1.0, max(0.0, due - time.time())))
            if a.port:
                poll(a.port, pending, last, lags, a.log)
        if stop:
            break
        tw = time.time()
        changed = {}
        for f in feeds:
            changed[f.name] = f.next_version()
            pending[byfile[f.name]] = (rnd, time.time())
        emit(a.log, {"event": "round", "round": rnd, "at": round(tw - t0, 2), "changed": changed,
                     "write_seconds": round(time.time() - tw, 3)})
    # a last look at what was applied
    if a.port:
        for _ in range(3):
            if not pending:
                break
            poll(a.port, pending, last, lags, a.log)
            time.sleep(1)
    cpu = os.times()
    emit(a.log, {"event": "end", "rounds": rnd, "seconds": round(time.time() - t0, 1),
                 "versions_written": sum(f.version for f in feeds), "versions_applied_seen": len(lags),
                 "not_applied_at_end": sorted(pending), "cpu_seconds": round(cpu.user + cpu.system, 2)})
    return 0


def poll(port, pending, last, lags, log):
    try:
        st = feeds_state(port, timeout=5)
    except Exception:
        return
    now = time.time()
    for name, f in st.items():
        lc = f.get("last_change")
        if lc != last.get(name):
            last[name] = lc
            if name in pending:
                rnd, tw = pending.pop(name)
                lag = round(now - tw, 2)
                lags.append(lag)
                emit(log, {"event": "applied", "feed": name, "round": rnd, "lag_seconds": lag})


def vm(pid, key):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def fsize(p):
    try:
        return os.path.getsize(p)
    except OSError:
        return 0


def db_counts(db):
    out = {}
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        for t in ("history", "effective", "stmt"):
            try:
                out[t + "_rows"] = c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            except sqlite3.Error:
                out[t + "_rows"] = None
        c.close()
    except sqlite3.Error as e:
        out["error"] = str(e)
    return out


def measure(a, day, extra):
    rec = {"event": "day", "day": day}
    rec.update(extra)
    rec["db_bytes"] = fsize(a.db)
    rec["wal_bytes"] = fsize(a.db + "-wal")
    rec.update(db_counts(a.db))
    if a.pid:
        rec["vmrss_kb"] = vm(a.pid, "VmRSS")
        rec["vmhwm_kb"] = vm(a.pid, "VmHWM")
    if a.measure:
        try:
            p = subprocess.run(a.measure, shell=True, capture_output=True, text=True, timeout=600)
            res = [l for l in p.stdout.splitlines() if l.startswith("ZSRESULT ")]
            rec["lookup"] = json.loads(res[-1][9:]) if res else None
        except (subprocess.SubprocessError, ValueError):
            rec["lookup"] = None
    emit(a.log, rec)


def gone(a):
    """True (and logged) when the daemon given with --pid has exited."""
    if a.pid and not os.path.exists(f"/proc/{a.pid}"):
        emit(a.log, {"event": "unavailable", "note": f"daemon (pid {a.pid}) exited during the season"})
        return True
    return False


def cmd_season(a):
    byfile = feed_names_by_file(a.conf)
    files = sorted(byfile)
    t_start = time.time()
    # day 0: let the daemon settle: every feed fetched since we started (last_attempt moved) and
    # no last_change moving for SETTLE seconds
    deadline = t_start + a.timeout
    first, prev, stable_since = None, None, None
    while time.time() < deadline:
        if gone(a):
            return 1
        try:
            st = feeds_state(a.port)
        except Exception:
            time.sleep(0.5)
            continue
        if first is None:
            first = {k: v.get("last_attempt") for k, v in st.items()}
        cur = {k: v.get("last_change") for k, v in st.items()}
        tried = all(v.get("last_attempt") != first.get(k) for k, v in st.items())
        ok = all(v.get("last_success") for v in st.values())
        if cur != prev or not (tried and ok):
            stable_since = time.time()
        elif time.time() - stable_since >= a.settle:
            break
        prev = cur
        time.sleep(a.poll)
    measure(a, 0, {"settle_seconds": round(time.time() - t_start, 2)})
    t = time.time()
    feeds = [Feed(a.base, a.live, n, a.seed, a.rate) for n in files]
    feeds = [f for f in feeds if f.eligible]
    emit(a.log, {"event": "season", "feeds": len(feeds), "feeds_without_status_records": len(files) - len(feeds),
                 "eligible_statuses": sum(len(f.eligible) for f in feeds), "scan_seconds": round(time.time() - t, 2)})
    for day in range(1, a.days + 1):
        before = {k: v.get("last_change") for k, v in feeds_state(a.port).items()}
        t0 = time.time()
        changed = 0
        for f in feeds:
            changed += f.next_version()
        t_written = time.time()
        want = {byfile[f.name] for f in feeds}
        done, failed = {}, {}
        deadline = t0 + a.timeout
        while want and time.time() < deadline:
            if gone(a):
                return 1
            time.sleep(a.poll)
            try:
                st = feeds_state(a.port)
            except Exception:
                continue
            for name in list(want):
                f = st.get(name, {})
                if f.get("last_change") != before.get(name):
                    done[name] = time.time() - t0
                    want.discard(name)
        extra = {"statuses_changed": changed, "write_seconds": round(t_written - t0, 2),
                 "apply_seconds": round(max(done.values()), 2) if done and not want else None,
                 "feeds_applied": len(done), "feeds_not_applied": sorted(want)}
        measure(a, day, extra)
    if a.one_feed:
        r = one_feed_day(a, byfile, feeds)
        if r:
            return r
    if a.rollover:
        return rollover_day(a, byfile, files, a.days + 1, {f.name: f for f in feeds})
    return 0


def ingest_metrics(port):
    """(sum, count) of zorgstatus_ingest_duration_seconds (one observation per apply of the
    versions fetched in a round) from /metrics; (None, None) when not available."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode("utf-8", "replace")
    except Exception:
        return None, None
    vals = {}
    for line in text.splitlines():
        for k in ("sum", "count"):
            if line.startswith(f"zorgstatus_ingest_duration_seconds_{k} "):
                vals[k] = float(line.split()[1])
    return vals.get("sum"), vals.get("count")


def one_feed_day(a, byfile, feeds):
    """Issue 16 item 6: a new version of the largest insurer feed alone (the others answer 304);
    the daemon's own apply time from /metrics (ingest duration: parse, reconcile, similar
    policies, commit), and the lag from the file written to its last_change moving."""
    ins = [f for f in feeds if f.name.startswith("insurer-")]
    if not ins:
        return 0
    f = max(ins, key=lambda x: os.path.getsize(os.path.join(a.base, x.name)))
    name = byfile[f.name]
    before = feeds_state(a.port).get(name, {}).get("last_change")
    s0, c0 = ingest_metrics(a.port)
    t0 = time.time()
    changed = f.next_version()
    lag = None
    deadline = t0 + a.timeout
    while time.time() < deadline:
        if gone(a):
            return 1
        time.sleep(a.poll)
        try:
            if feeds_state(a.port).get(name, {}).get("last_change") != before:
                lag = time.time() - t0
                break
        except Exception:
            continue
    # the duration is recorded just after the commit that moved last_change
    s1, c1 = ingest_metrics(a.port)
    wait_until = time.time() + 30
    while None not in (c0, c1) and c1 <= c0 and time.time() < wait_until:
        time.sleep(a.poll)
        s1, c1 = ingest_metrics(a.port)
    applies = int(c1 - c0) if None not in (c0, c1) else None
    secs = (s1 - s0) / applies if applies else None
    emit(a.log, {"event": "one_feed", "feed": f.name, "bytes": os.path.getsize(os.path.join(a.live, f.name)),
                 "statuses_changed": changed, "apply_seconds": round(secs, 2) if secs is not None else None,
                 "applies": applies, "lag_seconds": round(lag, 2) if lag is not None else None})
    return 0


def db_value(db, sql):
    """The one value of sql on the daemon's database, read-only (None: not known)."""
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        v = c.execute(sql).fetchone()[0]
        c.close()
        return v
    except sqlite3.Error:
        return None


def oldest_year(db):
    return db_value(db, "SELECT min(year) FROM policy")


def retired_left(db):
    """Retired policies whose rows are not all moved yet (None: not known)."""
    return db_value(db, "SELECT count(*) FROM retired")


def rollover_log(path, offset):
    """(rows, transactions) from the daemon log's rollover lines after offset."""
    rows = txs = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            f.seek(offset)
            for line in f:
                m = re.search(r"rollover: (\d+) row\(s\) of retired policies moved into history in (\d+)"
                              r" transaction", line)
                if m:
                    rows += int(m.group(1))
                    txs += int(m.group(2))
    except OSError:
        return None, None
    return rows, txs


def rollover_day(a, byfile, files, day, seasoned):
    year = oldest_year(a.db)
    # every feed (with the toggles of days 1..N), without the year
    feeds = [seasoned.get(n) or Feed(a.base, a.live, n, a.seed, a.rate) for n in files]
    before = {k: v.get("last_change") for k, v in feeds_state(a.port).items()}
    history0 = db_counts(a.db).get("history_rows")
    log_off = fsize(a.daemon_log) if a.daemon_log else 0
    wal_peak = fsize(a.db + "-wal")
    t0 = time.time()
    dropped = sum(f.write_without_year(year) for f in feeds)
    want = {byfile[f.name] for f in feeds if f.name in byfile}
    done = {}
    deadline = t0 + a.timeout
    while want and time.time() < deadline:
        if gone(a):
            return 1
        time.sleep(a.poll)
        wal_peak = max(wal_peak, fsize(a.db + "-wal"))
        try:
            st = feeds_state(a.port)
        except Exception:
            continue
        for name in list(want):
            if st.get(name, {}).get("last_change") != before.get(name):
                done[name] = time.time() - t0
                want.discard(name)
    applied_at = time.time()
    left = retired_left(a.db)
    while left and time.time() < deadline:
        if gone(a):
            return 1
        time.sleep(a.poll)
        wal_peak = max(wal_peak, fsize(a.db + "-wal"))
        left = retired_left(a.db)
    moved_at = time.time()
    rows, txs = None, None
    for _ in range(50):  # the daemon logs the move right after its last transaction
        if not a.daemon_log:
            break
        rows, txs = rollover_log(a.daemon_log, log_off)
        if rows or left != 0:
            break
        time.sleep(0.2)
    rec = {"event": "rollover", "day": day, "year": year, "records_dropped": dropped,
           "apply_seconds": round(max(done.values()), 2) if done and not want else None,
           "feeds_applied": len(done), "feeds_not_applied": sorted(want),
           "move_seconds": round(moved_at - applied_at, 2) if left == 0 else None,
           "retired_left": left, "wal_peak_bytes": wal_peak,
           "rows_moved_log": rows, "transactions_log": txs,
           "rows_per_transaction": round(rows / txs) if rows and txs else None}
    rec["db_bytes"] = fsize(a.db)
    rec["wal_bytes"] = fsize(a.db + "-wal")
    rec.update(db_counts(a.db))
    if history0 is not None and rec.get("history_rows") is not None:
        rec["history_rows_added"] = rec["history_rows"] - history0
    if a.pid:
        rec["vmrss_kb"] = vm(a.pid, "VmRSS")
        rec["vmhwm_kb"] = vm(a.pid, "VmHWM")
    emit(a.log, rec)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("churn")
    p.add_argument("--base", required=True)
    p.add_argument("--live", required=True)
    p.add_argument("--feeds", required=True)
    p.add_argument("--conf", default="", help="zorgstatus.conf, to map file names to feed names")
    p.add_argument("--interval", type=float, default=20)
    p.add_argument("--rate", type=float, default=0.02)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", default="")
    p.add_argument("--max-rounds", type=int, default=0)
    p = sub.add_parser("season")
    p.add_argument("--base", required=True)
    p.add_argument("--live", required=True)
    p.add_argument("--conf", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--days", type=int, default=5)
    p.add_argument("--rate", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pid", type=int, default=0)
    p.add_argument("--measure", default="")
    p.add_argument("--log", default="")
    p.add_argument("--poll", type=float, default=0.2)
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--settle", type=float, default=4, help="day 0: seconds without a change")
    p.add_argument("--one-feed", action="store_true",
                   help="after the days: a new version of the largest insurer feed alone (its apply time)")
    p.add_argument("--rollover", action="store_true", help="a last day without the oldest year")
    p.add_argument("--daemon-log", default="", help="the daemon's log (rollover rows per transaction)")
    a = ap.parse_args(argv)
    return cmd_churn(a) if a.cmd == "churn" else cmd_season(a)


if __name__ == "__main__":
    sys.exit(main())
