"""Black-box tests: zorgstatusd as a production service (issue 9, items 2-7).

- SIGHUP reloads the configuration: a feed added and another removed while a client keeps
  querying, with no failed request; a broken configuration is refused with file:line: reason
  in the log and the running one stays; a restart-only setting is reported and kept.
- SIGTERM and SIGINT: exit 0 after a clean stop.
- A second daemon on an address already listened on exits with EX_UNAVAILABLE (69) and names
  the address, also when the other listener uses SO_REUSEPORT as zorgstatusd itself does.
- /readyz: 503 with a JSON reason until a feed is loaded, 200 after; /healthz 200 throughout.
- /metrics: Prometheus text; counts checked by hand against the requests made; `promtool check
  metrics` (Debian package prometheus) passes; off with metrics = 0; on its own address with
  metrics_listen.
- Logs: with JOURNAL_STREAM naming stderr, every line starts with <priority> and has no
  timestamp; the access log writes one line per request.
- sd_notify: READY=1 (after the port listens), STATUS=, RELOADING=1, STOPPING=1, WATCHDOG=1 on
  a unix datagram socket the test creates (NOTIFY_SOCKET).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import (DaemonTestCase, Feed, feed, insurer_header, policy, provider, rule,
                     status)

Y = 2027
NOW = "2026-11-20T12:00:00"
AGB = "06010001"
EX_UNAVAILABLE = 69


def insurer_feed(uzovi, concern, pid):
    """A small valid insurer feed: one policy, one provider contracted for it."""
    return feed(insurer_header(concern, concern.title(), uzovi, "Verzekeraar %s" % uzovi),
                [policy(pid, Y, "Polis %s" % pid, "natura",
                        [rule("*", 75, "avg_contracted_tariff")]),
                 provider(AGB, "Ziekenhuis Test"),
                 status(AGB, Y, "hospital", "contracted", policy=pid)])


def policy_ids(d):
    st, _, body = d.get("/v1/policies?year=%d" % Y)
    if st != 200:
        raise AssertionError("/v1/policies -> %d %r" % (st, body))
    return {p["id"] for p in body["policies"]}


def read_log(d):
    with open(d.stderr_path, "rb") as fh:
        return fh.read().decode("utf-8", "replace")


def wait_log(d, pattern, timeout=None, what=None):
    """Wait until the daemon's stderr matches the regex; return the match."""
    timeout = harness.WAIT_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern, re.M)
    while time.monotonic() < deadline:
        m = rx.search(read_log(d))
        if m:
            return m
        time.sleep(0.05)
    raise AssertionError("timeout waiting for log line /%s/ (%s)\n%s" %
                         (pattern, what or "", d.diag()))


class EnvPatch:
    """Set environment variables for the daemon's Popen (it inherits os.environ)."""

    def __init__(self, **env):
        self.env = env
        self.saved = {}

    def __enter__(self):
        for k, v in self.env.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Client(threading.Thread):
    """Queries the daemon without pause (a new connection every other request, keep-alive
    otherwise) and records every answer that is not a 200 with a JSON body."""

    def __init__(self, d, path):
        super().__init__(daemon=True)
        self.d, self.path = d, path
        self.stop_ev = threading.Event()
        self.ok = 0
        self.failures = []

    def run(self):
        import http.client
        conn = None
        while not self.stop_ev.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
                conn.request("GET", self.path)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    self.failures.append("status %d: %r" % (resp.status, data[:200]))
                else:
                    json.loads(data.decode("utf-8"))
                    self.ok += 1
                if self.ok % 2:
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001 -- every kind of failure counts
                self.failures.append(repr(e))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


# --------------------------------------------------------------------------------------------

class ReloadTest(DaemonTestCase):

    def test_reload_adds_and_removes_a_feed_while_a_client_queries(self):
        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        srv.set_content("/b.jsonl", insurer_feed("1002", "beta", "1002-NATURA"))
        srv.set_content("/c.jsonl", insurer_feed("1003", "gamma", "1003-NATURA"))
        d = self.start_daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=3600),
                               Feed("beta", "insurer", srv.url("/b.jsonl"), schedule=3600)],
                              now=NOW, settings={"response_cache_seconds": 0})
        d.wait_success("alfa")
        d.wait_success("beta")
        self.assertEqual(policy_ids(d), {"1001-NATURA", "1002-NATURA"})

        client = Client(d, "/v1/policies?year=%d" % Y)
        client.start()
        try:
            time.sleep(0.3)
            # beta removed, gamma added, alfa unchanged
            d.feeds_conf = [Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=3600),
                            Feed("gamma", "insurer", srv.url("/c.jsonl"), schedule=3600)]
            d.write_config()
            os.kill(d.proc.pid, signal.SIGHUP)
            d.wait_until(lambda: policy_ids(d) == {"1001-NATURA", "1003-NATURA"},
                         "policies of alfa and gamma only after the reload")
            time.sleep(0.3)
        finally:
            client.stop_ev.set()
            client.join(20)
        d.assert_alive("after SIGHUP")
        self.assertEqual(client.failures, [], "requests failed during the reload")
        self.assertGreater(client.ok, 10, "the client made too few requests to mean anything")
        self.assertEqual(set(d.feeds()), {"alfa", "gamma"})
        # alfa was not fetched again because of the reload (schedule 3600 s, unchanged)
        self.assertEqual(srv.count("/a.jsonl"), 1)
        log = read_log(d)
        self.assertRegex(log, r"configuration reloaded: 2 feeds \(1 added, 1 removed, 0 changed\)")

    def test_broken_configuration_is_refused_and_the_running_one_stays(self):
        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        d = self.start_daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=3600)],
                              now=NOW)
        d.wait_success("alfa")
        text = d.write_config()
        # line numbers written by hand: the file as written plus two lines
        n = text.count("\n")
        with open(d.conf_path, "a") as fh:
            fh.write("[feed beta]\nkind = reinsurer\n")
        os.kill(d.proc.pid, signal.SIGHUP)
        m = wait_log(d, r"reload refused, the running configuration stays: (.*)$")
        self.assertEqual(m.group(1), "%s:%d: feed beta: kind: must be insurer or provider, "
                         "got \"reinsurer\"" % (d.conf_path, n + 2))
        d.assert_alive("after a refused reload")
        self.assertEqual(set(d.feeds()), {"alfa"})
        self.assertEqual(policy_ids(d), {"1001-NATURA"})
        # still ready (readiness is reached at the end of the first round, a moment after the
        # feed's success: wait for it, then it must hold)
        d.wait_until(lambda: d.get("/readyz")[0] == 200, "ready after the refused reload")
        st, _, body = d.get("/readyz")
        self.assertEqual(st, 200, body)

        # an unknown global setting on a known line
        with open(d.conf_path, "w") as fh:
            fh.write("retry_min = 1\nno_such_setting = 3\n")
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_log(d, re.escape("%s:2: no_such_setting: unknown setting" % d.conf_path))
        self.assertEqual(set(d.feeds()), {"alfa"})

    def test_restart_only_setting_is_reported_and_kept(self):
        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        d = self.start_daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=3600)],
                              now=NOW, settings={"threads": 2, "log_level": "debug"})
        d.wait_success("alfa")
        d.settings["threads"] = 3
        d.settings["log_level"] = "warn"
        d.write_config()
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_log(d, r"reload: threads changed: needs a restart; the running value stays")
        wait_log(d, r"configuration .* applied: 1 feeds")
        self.assertEqual(d.get("/healthz")[0], 200)


    def test_reload_changes_url_schedule_and_log_level_at_once(self):
        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        srv.set_content("/a2.jsonl", insurer_feed("1001", "alfa", "1001-RESTITUTIE"))
        d = harness.Daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=3600)],
                           now=NOW, settings={"log_level": "info"}, log_level=None)
        self.addCleanup(d.cleanup)
        self.addCleanup(d.stop)
        d.start()
        d.wait_success("alfa")
        self.assertEqual(policy_ids(d), {"1001-NATURA"})
        self.assertNotIn("debug", read_log(d))
        # a new url (fetched at once), a shorter schedule (from now on), log level debug
        d.feeds_conf = [Feed("alfa", "insurer", srv.url("/a2.jsonl"), schedule=1)]
        d.settings["log_level"] = "debug"
        d.write_config()
        os.kill(d.proc.pid, signal.SIGHUP)
        d.wait_until(lambda: policy_ids(d) == {"1001-RESTITUTIE"},
                     "the policy of the new url after the reload")
        self.assertEqual(srv.count("/a.jsonl"), 1)
        srv.wait_requests("/a2.jsonl", 3, what="schedule = 1 after the reload")
        wait_log(d, r"debug \[fetch\] round \d+ done: 1 of 1 feeds loaded, 0 failing")
        self.assertRegex(read_log(d), r"configuration reloaded: 1 feeds \(0 added, 0 removed, "
                                      r"1 changed\)")


    def test_reload_applies_new_similarity_thresholds(self):
        # two policies of one insurer, the same contracted set (overlap 1.0), non-contracted
        # reimbursement 75% and 65%: 10 points apart
        srv = self.start_server()
        srv.set_content("/a.jsonl", feed(
            insurer_header("alfa", "Alfa", "1001", "Verzekeraar 1001"),
            [policy("1001-A", Y, "Polis A", "natura", [rule("*", 75, "avg_contracted_tariff")]),
             policy("1001-B", Y, "Polis B", "natura", [rule("*", 65, "avg_contracted_tariff")]),
             provider(AGB, "Ziekenhuis Test"),
             status(AGB, Y, "hospital", "contracted", insurer="1001")]))
        d = self.start_daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=3600)],
                              now=NOW, settings={"similar_very_pct": 5,
                                                 "response_cache_seconds": 0})
        d.wait_success("alfa")

        def verdict():
            st, _, body = d.get("/v1/policies/1001-A/similar?year=%d" % Y)
            self.assertEqual(st, 200, body)
            v = [x["verdict"] for x in body["similar"] if x["policy"]["id"] == "1001-B"]
            return v[0] if v else None

        self.assertIn(verdict(), (None, "different"))  # 10 points > 5
        d.settings["similar_very_pct"] = 10
        d.write_config()
        os.kill(d.proc.pid, signal.SIGHUP)
        d.wait_until(lambda: verdict() == "very_similar", "very_similar with very_pct = 10")


def thread_nices(pid):
    """{thread name: set of nice values} of a running process (Linux /proc)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "comm") as fh:
                name = fh.read().strip()
            with open(base + "stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        # fields after the parenthesised name: state is field 3, nice field 19
        fields = stat[stat.rindex(")") + 2:].split()
        out.setdefault(name, set()).add(int(fields[16]))
    return out


class IngestNiceTest(DaemonTestCase):
    """ingest_nice: the thread that fetches and applies feeds runs at that nice value, the
    serving threads at the daemon's own, so a busy machine answers first while a feed is
    applied; a reload may raise it."""

    @unittest.skipUnless(os.path.isdir("/proc/self/task"), "needs Linux /proc")
    def test_ingest_thread_runs_at_ingest_nice_and_serving_threads_do_not(self):
        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        d = self.start_daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=1)],
                              now=NOW, settings={"threads": 2, "ingest_nice": 7})
        d.wait_success("alfa")
        own = os.getpriority(os.PRIO_PROCESS, 0)
        nices = thread_nices(d.proc.pid)
        self.assertEqual(nices.get("zs-ingest"), {max(own, 7)}, nices)
        self.assertEqual(nices.get("zs-http"), {own}, nices)
        # raised on reload (lowering needs CAP_SYS_NICE, so only raising is portable)
        d.settings["ingest_nice"] = 12
        d.write_config()
        os.kill(d.proc.pid, signal.SIGHUP)
        d.wait_until(lambda: thread_nices(d.proc.pid).get("zs-ingest") == {max(own, 12)},
                     "the ingest thread at nice 12 after the reload")
        self.assertEqual(thread_nices(d.proc.pid).get("zs-http"), {own})


class RowsInMemoryTest(DaemonTestCase):
    """rows_in_memory: the statuses are held in memory by a thread of their own at nice 19;
    /healthz says when answers read them from there; a changed feed is in the answers (from the
    new snapshot's rows, never the old ones), and with rows_in_memory = 0 nothing is held."""

    def _start_ready(self):
        """A feed server with one contract of AGB and a daemon of 2 threads polling it every
        second, its statuses in memory."""
        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        d = self.start_daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=1)],
                              now=NOW, settings={"threads": 2})
        d.wait_success("alfa")
        d.wait_until(lambda: d.get("/healthz")[2].get("rows_in_memory") == "ready",
                     "/healthz rows_in_memory ready")
        return srv, d

    @staticmethod
    def _end_contract(srv):
        """The insurer's feed ends the contract of AGB."""
        srv.set_content("/a.jsonl", feed(
            insurer_header("alfa", "Alfa", "1001", "Verzekeraar 1001"),
            [policy("1001-NATURA", Y, "Polis 1001-NATURA", "natura",
                    [rule("*", 75, "avg_contracted_tariff")]),
             provider(AGB, "Ziekenhuis Test"),
             status(AGB, Y, "hospital", "not_contracted", policy="1001-NATURA")]))

    def _status(self, d):
        st, _, body = d.get("/v1/providers/%s?year=%d" % (AGB, Y))
        self.assertEqual(st, 200, body)
        return [s["status"] for y in body["years"] for p in y["policies"]
                for s in p["statuses"]]

    @unittest.skipUnless(os.path.isdir("/proc/self/task"), "needs Linux /proc")
    def test_statuses_in_memory_follow_a_changed_feed(self):
        srv, d = self._start_ready()
        self.assertEqual(self._status(d), ["contracted"])
        self.assertEqual(thread_nices(d.proc.pid).get("zs-rows"), {19})
        # the insurer ends the contract: the next answers say so (from the new snapshot's rows)
        self._end_contract(srv)
        d.wait_until(lambda: self._status(d) == ["not_contracted"], "the changed status")
        d.wait_until(lambda: d.get("/healthz")[2].get("rows_in_memory") == "ready",
                     "/healthz rows_in_memory ready again")
        self.assertEqual(self._status(d), ["not_contracted"])
        text = d.request("GET", "/metrics")[2].decode()
        gen = d.get("/healthz")[2]["generation"]
        self.assertRegex(text, r"(?m)^zorgstatus_rows_in_memory_generation %d$" % gen)
        self.assertRegex(text, r"(?m)^zorgstatus_rows_in_memory_rows 1$")

    @staticmethod
    def _metric(d, name):
        m = re.search(r"(?m)^%s (-?\d+)$" % name, d.request("GET", "/metrics")[2].decode())
        return int(m.group(1)) if m else None

    def test_threads_without_requests_let_go_of_old_statuses(self):
        """A serving thread keeps the statuses in memory of the snapshot it last answered from;
        once a newer one is there, a thread that gets no requests lets go of the old one within
        seconds (zorgstatus_rows_in_memory_versions back to 1), instead of holding it (~60 MB
        nationally) until its next request. Only /metrics is asked meanwhile: it reads no
        snapshot, so it moves no thread."""
        srv, d = self._start_ready()
        for _ in range(8):  # each on a connection of its own: both threads answer some
            self.assertEqual(self._status(d), ["contracted"])
        gen = self._metric(d, "zorgstatus_rows_in_memory_generation")
        self._end_contract(srv)
        d.wait_until(lambda: self._metric(d, "zorgstatus_rows_in_memory_generation") > gen,
                     "the statuses of the new snapshot in memory")
        d.wait_until(lambda: self._metric(d, "zorgstatus_rows_in_memory_versions") == 1,
                     "only the newest statuses held (zorgstatus_rows_in_memory_versions 1)")
        self.assertEqual(self._status(d), ["not_contracted"])

    def test_off_holds_nothing(self):
        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        d = self.start_daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"))],
                              now=NOW, settings={"rows_in_memory": 0})
        d.wait_success("alfa")
        self.assertEqual(d.get("/healthz")[2].get("rows_in_memory"), "off")
        self.assertEqual(self._status(d), ["contracted"])
        text = d.request("GET", "/metrics")[2].decode()
        self.assertNotIn("zorgstatus_rows_in_memory", text)


class StopTest(DaemonTestCase):

    def _stop_with(self, sig):
        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        d = harness.Daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"))], now=NOW)
        self.addCleanup(d.cleanup)
        d.start()
        d.wait_success("alfa")
        d.proc.send_signal(sig)
        rc = d.proc.wait(harness.STOP_TIMEOUT)
        self.assertEqual(rc, 0, d.diag())
        log = read_log(d)
        self.assertIn("%s: shutting down" % ("SIGINT" if sig == signal.SIGINT else "SIGTERM"),
                      log)
        self.assertRegex(log, r"\[main\] stopped\s*$")
        # the database was closed cleanly: no write-ahead log left over
        self.assertFalse(os.path.exists(d.db_path + "-wal") and
                         os.path.getsize(d.db_path + "-wal") > 0,
                         "the database's WAL was not checkpointed at close")

    def test_sigterm_exits_0(self):
        self._stop_with(signal.SIGTERM)

    def test_sigint_exits_0(self):
        self._stop_with(signal.SIGINT)


class AddressTest(DaemonTestCase):

    def _second(self, listen, db_dir):
        cmd = [harness.require_binary(), "--listen", listen,
               "--database", os.path.join(db_dir, "second.db"), "--now", NOW]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=harness.START_TIMEOUT, cwd=db_dir)
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def test_taken_metrics_address_exits_69_instead_of_hanging(self):
        """Regression: with metrics_listen on a taken address the daemon stopped its serving
        threads right after starting them, and waited for ever when a thread had not yet
        entered its loop (the stop request was lost). It exits 69 naming the address."""
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        self.addCleanup(taken.close)
        maddr = "127.0.0.1:%d" % taken.getsockname()[1]
        tmp = tempfile.mkdtemp(prefix="zsbb-metrics-")
        self.addCleanup(shutil.rmtree, tmp, True)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        cmd = [harness.require_binary(), "--listen", "127.0.0.1:%d" % port, "--metrics_listen", maddr,
               "--database", os.path.join(tmp, "m.db"), "--now", NOW]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=harness.START_TIMEOUT, cwd=tmp)
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, EX_UNAVAILABLE, err)
        self.assertIn(maddr, err)

    def test_second_daemon_on_a_taken_port_exits_69_naming_the_address(self):
        d = self.start_daemon([], now=NOW)
        tmp = tempfile.mkdtemp(prefix="zsbb-second-")
        self.addCleanup(shutil.rmtree, tmp, True)
        addr = "127.0.0.1:%d" % d.port
        rc, err = self._second(addr, tmp)
        self.assertEqual(rc, EX_UNAVAILABLE, err)
        self.assertIn("listen %s: address already in use" % addr, err)
        # the second daemon stopped before it ingested or served anything
        self.assertEqual(d.get("/healthz")[0], 200)

    def test_a_foreign_so_reuseport_listener_is_refused_too(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(5)
        tmp = tempfile.mkdtemp(prefix="zsbb-second-")
        self.addCleanup(shutil.rmtree, tmp, True)
        addr = "127.0.0.1:%d" % s.getsockname()[1]
        rc, err = self._second(addr, tmp)
        self.assertEqual(rc, EX_UNAVAILABLE, err)
        self.assertIn(addr, err)
        self.assertIn("in use", err)


class ReadyTest(DaemonTestCase):

    def test_readyz_503_until_a_feed_is_loaded_then_200(self):
        srv = self.start_server()
        srv.set_error("/a.jsonl", 500)
        d = self.start_daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=1)],
                              now=NOW, settings={"retry_min": 1})
        srv.wait_requests("/a.jsonl", 1)
        d.wait_feed("alfa", lambda f: f.get("last_error"), "first failure recorded")
        st, hdrs, body = d.get("/readyz")
        self.assertEqual(st, 503, body)
        self.assertEqual(body["status"], "not_ready")
        self.assertIn(body["reason"], ("starting", "no_feed_loaded"))
        self.assertTrue(body.get("message"))
        self.assertEqual(hdrs.get("cache-control"), "no-store")
        # liveness is not readiness
        self.assertEqual(d.get("/healthz")[0], 200)
        d.wait_until(lambda: d.get("/readyz")[2].get("reason") == "no_feed_loaded",
                     "reason no_feed_loaded after the first round")
        # a feed that never loaded is not logged as "last good content kept"
        log = read_log(d)
        self.assertIn("feed alfa: fetch failed, the feed has never loaded", log)
        self.assertNotIn("feed alfa: fetch failed, last good content kept", log)

        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        d.wait_until(lambda: d.get("/readyz")[0] == 200, "/readyz 200 after the feed loaded")
        st, _, body = d.get("/readyz")
        self.assertEqual(body["status"], "ready")
        # once loaded, a failure keeps the last good content and says so
        srv.set_error("/a.jsonl", 503)
        wait_log(d, r"feed alfa: fetch failed, last good content kept")
        self.assertEqual(d.get("/readyz")[0], 200)


# --------------------------------------------------------------------------------------------

SAMPLE_RX = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? (\S+)$')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): float}; checks every line's syntax on the way."""
    out = {}
    for ln in text.splitlines():
        if not ln or ln.startswith("#"):
            continue
        m = SAMPLE_RX.match(ln)
        if not m:
            raise AssertionError("not a sample line: %r" % ln)
        labels = {}
        if m.group(2):
            for kv in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2)):
                labels[kv[0]] = kv[1]
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return out


def metric(ms, name, **labels):
    return ms.get((name, frozenset(labels.items())))


class MetricsTest(DaemonTestCase):

    def _daemon(self, settings=None):
        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        d = self.start_daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=3600,
                                    stale_after=86400)], now=NOW, settings=settings)
        d.wait_success("alfa")
        return srv, d

    def test_metrics_counts_requests_and_feeds_and_promtool_accepts_them(self):
        srv, d = self._daemon({"response_cache_seconds": 10})
        for _ in range(3):
            self.assertEqual(d.get("/v1/policies?year=%d" % Y)[0], 200)
        self.assertEqual(d.get("/v1/no-such-thing")[0], 404)
        self.assertEqual(d.get("/v1/providers/123")[0], 400)
        self.assertEqual(d.get("/v1/providers/%s?year=%d" % (AGB, Y))[0], 200)
        time.sleep(0.2)  # the access to the counters happens when the answer is written out
        st, hdrs, data = d.request("GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain; version=0.0.4"))
        self.assertNotIn("access-control-allow-origin", hdrs, "/metrics is not behind CORS")
        text = data.decode("utf-8")
        ms = parse_metrics(text)
        pol = "/v1/policies"
        self.assertEqual(metric(ms, "zorgstatus_http_requests_total", route=pol, code="200"), 3)
        self.assertEqual(metric(ms, "zorgstatus_http_requests_total", route="other",
                                code="404"), 1)
        self.assertEqual(metric(ms, "zorgstatus_http_requests_total",
                                route="/v1/providers/{id}", code="400"), 1)
        self.assertEqual(metric(ms, "zorgstatus_http_requests_total",
                                route="/v1/providers/{id}", code="200"), 1)
        self.assertEqual(metric(ms, "zorgstatus_http_request_duration_seconds_count",
                                route=pol), 3)
        self.assertEqual(metric(ms, "zorgstatus_http_request_duration_seconds_bucket",
                                route=pol, le="+Inf"), 3)
        # the same URL three times within response_cache_seconds: 1 miss, 2 hits at least
        self.assertIsNotNone(metric(ms, "zorgstatus_response_cache_hits_total"))
        self.assertIsNotNone(metric(ms, "zorgstatus_response_cache_misses_total"))
        # small answers here: no buffer of 64 KiB and more was needed, none is pooled
        self.assertEqual(metric(ms, "zorgstatus_answer_buffers_total", source="new"), 0)
        self.assertEqual(metric(ms, "zorgstatus_answer_buffers_total", source="reused"), 0)
        self.assertEqual(metric(ms, "zorgstatus_answer_buffers_pooled_bytes"), 0)
        self.assertEqual(metric(ms, "zorgstatus_feed_fetches_total", feed="alfa",
                                outcome="applied"), 1)
        self.assertEqual(metric(ms, "zorgstatus_feed_fetches_total", feed="alfa",
                                outcome="failed"), 0)
        self.assertEqual(metric(ms, "zorgstatus_feed_stale", feed="alfa", kind="insurer"), 0)
        # 3 records: policy, provider, status
        self.assertEqual(metric(ms, "zorgstatus_feed_rows_accepted", feed="alfa",
                                kind="insurer"), 3)
        self.assertEqual(metric(ms, "zorgstatus_feed_rows_rejected", feed="alfa",
                                kind="insurer"), 0)
        ls = metric(ms, "zorgstatus_feed_last_success_timestamp_seconds", feed="alfa",
                    kind="insurer")
        self.assertIsNotNone(ls)
        self.assertGreater(ls, 1.7e9)
        self.assertGreaterEqual(metric(ms, "zorgstatus_snapshot_generation"), 1)
        self.assertGreater(metric(ms, "zorgstatus_database_size_bytes"), 4096)
        self.assertEqual(metric(ms, "zorgstatus_database_readable"), 1)
        self.assertEqual(metric(ms, "zorgstatus_ready"), 1)
        self.assertGreater(metric(ms, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(metric(ms, "process_open_fds"), 3)
        self.assertIsNotNone(metric(ms, "process_cpu_seconds_total"))
        start = metric(ms, "process_start_time_seconds")
        self.assertLess(abs(start - d.spawned_at), 30)
        self.assertEqual(metric(ms, "zorgstatus_ingest_duration_seconds_count"), 1)

        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool not installed (Debian package prometheus): the exposition "
                          "was checked by this test's parser only")
        p = subprocess.run([promtool, "check", "metrics"], input=data, capture_output=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, "promtool check metrics:\n%s%s" % (
            p.stdout.decode(), p.stderr.decode()))

    def test_metrics_off(self):
        _, d = self._daemon({"metrics": 0})
        st, _, body = d.get("/metrics")
        self.assertEqual(st, 404, body)

    def test_metrics_on_a_separate_address(self):
        mport = harness.free_port()
        _, d = self._daemon({"metrics_listen": "127.0.0.1:%d" % mport})
        st, _, body = d.get("/metrics")
        self.assertEqual(st, 404, body)
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", mport, timeout=10)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        data = resp.read().decode()
        conn.close()
        self.assertEqual(resp.status, 200)
        self.assertIn("zorgstatus_feed_stale{feed=\"alfa\",kind=\"insurer\"} 0", data)


class LogTest(DaemonTestCase):

    def _journal_daemon(self, stream_value=None):
        srv = self.start_server()
        srv.set_error("/a.jsonl", 500)
        d = harness.Daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=3600)],
                           now=NOW, log_level="info")
        self.addCleanup(d.cleanup)
        open(d.stderr_path, "ab").close()
        st = os.stat(d.stderr_path)
        value = stream_value or "%d:%d" % (st.st_dev, st.st_ino)
        with EnvPatch(JOURNAL_STREAM=value):
            d.start()
        self.addCleanup(d.stop)
        srv.wait_requests("/a.jsonl", 1)
        wait_log(d, r"fetch failed")
        return d

    def test_journald_priority_prefix_and_no_timestamp(self):
        d = self._journal_daemon()
        lines = [ln for ln in read_log(d).splitlines() if ln]
        self.assertTrue(lines)
        for ln in lines:
            self.assertRegex(ln, r"^<[3467]>(error|warn |info |debug) \[[a-z]+\] ",
                             "line without priority prefix, or with a timestamp")
        self.assertTrue(any(ln.startswith("<4>warn  [ingest] feed alfa: fetch failed")
                            for ln in lines), lines)
        self.assertTrue(any(ln.startswith("<6>info  [main] zorgstatusd ") for ln in lines))

    def test_other_journal_stream_keeps_the_plain_format(self):
        d = self._journal_daemon("1:1")
        for ln in [ln for ln in read_log(d).splitlines() if ln]:
            self.assertRegex(ln, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (error|warn |info |debug) ")

    def test_access_log(self):
        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        tmpd = tempfile.mkdtemp(prefix="zsbb-access-")
        self.addCleanup(shutil.rmtree, tmpd, True)
        path = os.path.join(tmpd, "access.log")
        d = self.start_daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=3600)],
                              now=NOW, settings={"access_log": path, "threads": 1})
        d.wait_success("alfa")
        st, hdrs, data = d.request("GET", "/v1/policies?year=%d" % Y)
        self.assertEqual(st, 200)
        self.assertEqual(d.request("GET", "/v1/nothing%20here")[0], 404)
        self.assertEqual(d.request("HEAD", "/v1/policies?year=%d" % Y)[0], 200)
        time.sleep(0.3)
        with open(path) as fh:
            lines = fh.read().splitlines()
        rx = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (\S+) (\S+) status=(\d+) "
                        r"bytes=(\d+) us=(\d+) thread=(\d+)$")
        parsed = []
        for ln in lines:
            m = rx.match(ln)
            self.assertIsNotNone(m, "access log line %r" % ln)
            parsed.append(m.groups())
        want_get = ("GET", "/v1/policies?year=%d" % Y, "200", str(len(data)))
        self.assertIn(want_get, [p[:4] for p in parsed])
        self.assertIn(("GET", "/v1/nothing%20here", "404"), [p[:3] for p in parsed])
        self.assertIn(("HEAD", "/v1/policies?year=%d" % Y, "200", "0"),
                      [p[:4] for p in parsed])
        self.assertTrue(all(p[5] == "1" for p in parsed), "one serving thread: thread=1")
        # rotation: move the file away, reload, and the next line goes to a new file
        os.rename(path, path + ".1")
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_log(d, r"configuration .* applied")
        self.assertEqual(d.request("GET", "/healthz?rotated=1")[0], 200)
        d.wait_until(lambda: os.path.exists(path) and
                     "GET /healthz?rotated=1 status=200" in open(path).read(),
                     "the access log line in the reopened file")
        with open(path + ".1") as fh:
            self.assertNotIn("rotated", fh.read())


class NotifyTest(DaemonTestCase):

    def test_sd_notify_ready_status_reload_watchdog_stopping(self):
        tmpd = tempfile.mkdtemp(prefix="zsbb-notify-")
        self.addCleanup(shutil.rmtree, tmpd, True)
        sock_path = os.path.join(tmpd, "notify.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(s.close)
        s.bind(sock_path)
        s.settimeout(0.2)
        msgs = []
        ready_port_open = []

        srv = self.start_server()
        srv.set_content("/a.jsonl", insurer_feed("1001", "alfa", "1001-NATURA"))
        d = harness.Daemon([Feed("alfa", "insurer", srv.url("/a.jsonl"), schedule=3600)],
                           now=NOW)
        self.addCleanup(d.cleanup)

        def collect(until, timeout=None):
            deadline = time.monotonic() + (timeout or harness.WAIT_TIMEOUT)
            while time.monotonic() < deadline:
                try:
                    m = s.recv(4096).decode()
                except socket.timeout:
                    continue
                msgs.append(m)
                if "READY=1" in m and not ready_port_open:
                    c = socket.socket()
                    try:
                        c.connect(("127.0.0.1", d.port))
                        ready_port_open.append(True)
                    except OSError:
                        ready_port_open.append(False)
                    c.close()
                if until(m):
                    return m
            raise AssertionError("no notification matching after %r" % msgs)

        with EnvPatch(NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="400000"):
            d.start()
        collect(lambda m: "READY=1" in m)
        self.assertEqual(ready_port_open, [True], "READY=1 before the port listened")
        collect(lambda m: m.startswith("STATUS=") and "1 of 1 feeds loaded, 0 failing" in m)
        collect(lambda m: m == "WATCHDOG=1", timeout=5)
        os.kill(d.proc.pid, signal.SIGHUP)
        collect(lambda m: "RELOADING=1" in m and "MONOTONIC_USEC=" in m)
        collect(lambda m: "READY=1" in m)
        d.stop()
        collect(lambda m: "STOPPING=1" in m)


if __name__ == "__main__":
    unittest.main()
