"""Black-box test of the cache tier (issue 10): a real varnishd with the shipped VCL
(packaging/varnish/zorgstatus.vcl) in front of the real daemon, both on 127.0.0.1.

The cache holds a provider's answer (a second request is a hit; the VCL keeps it for hours),
and after a feed update the new answer is served within a few seconds: the daemon purged the
answer's keys (xkey) at the cache. Skipped, with the reason, only where varnishd or the xkey
vmod (Debian varnish, varnish-modules) is not installed or cannot start here.
"""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import (DaemonTestCase, Feed, TIMEOUT_SCALE, feed, free_port, insurer_header,
                     policy, provider, rule, status, statuses_by_policy)

import http.client
import json

AGB = "06010101"
TOP = os.environ.get("ZS_TOP_SRCDIR") or os.path.join(os.path.dirname(__file__), "..", "..")
VCL = os.path.join(TOP, "packaging", "varnish", "zorgstatus.vcl")
XKEY = "/usr/lib/x86_64-linux-gnu/varnish/vmods/libvmod_xkey.so"


def version(st):
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), [
        policy("3311-BASIS", 2027, "Basis Zeker", "natura",
               [rule("*", 75, "avg_contracted_tariff")]),
        provider(AGB, "Sint Antonius Ziekenhuis"),
        status(AGB, 2027, "hospital", st, policy="3311-BASIS")])


class Section:
    def __init__(self, text):
        self.text = text

    def conf(self):
        return self.text


def fetch(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


class VarnishTest(DaemonTestCase):
    def start_varnish(self, port, backend_port):
        varnishd = shutil.which("varnishd") or (
            "/usr/sbin/varnishd" if os.path.exists("/usr/sbin/varnishd") else None)
        if not varnishd:
            self.skipTest("varnishd is not installed (Debian: apt-get install varnish "
                          "varnish-modules)")
        if not any(os.path.exists(p) for p in (XKEY, "/usr/lib/varnish/vmods/libvmod_xkey.so")):
            self.skipTest("vmod xkey is not installed (Debian: apt-get install varnish-modules)")
        work = tempfile.mkdtemp(prefix="zsbb-varnish-")
        os.chmod(work, 0o755)
        self.addCleanup(shutil.rmtree, work, True)
        with open(VCL) as fh:
            text = fh.read()
        self.assertIn('.port = "8080";', text)
        vcl = os.path.join(work, "zorgstatus.vcl")
        with open(vcl, "w") as fh:
            fh.write(text.replace('.port = "8080";', '.port = "%d";' % backend_port))
        os.chmod(vcl, 0o644)
        log = open(os.path.join(work, "varnishd.log"), "wb")
        cmd = [varnishd, "-F", "-n", os.path.join(work, "n"), "-a", "127.0.0.1:%d" % port,
               "-f", vcl, "-s", "malloc,32m", "-T", "none"]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        log.close()

        def stop():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.addCleanup(stop)
        deadline = time.monotonic() + 30 * TIMEOUT_SCALE
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                with open(os.path.join(work, "varnishd.log"), "rb") as fh:
                    out = fh.read().decode("utf-8", "replace")[-1500:]
                self.skipTest("varnishd cannot start here (exit %s): %s" % (proc.returncode, out))
            try:
                st, _, _ = fetch(port, "/readyz")
                if st == 200:
                    return proc
            except OSError:
                pass
            time.sleep(0.2)
        self.fail("varnishd did not serve /readyz within 30 s")

    def test_cached_then_purged_after_a_feed_update(self):
        s = self.start_server()
        s.set_content("/zk.jsonl", version("negotiating"))
        vport = free_port()
        cache = Section("[cache front]\nurl = http://127.0.0.1:%d/\n" % vport)
        d = self.start_daemon([Feed("zk", "insurer", s.url("/zk.jsonl")), cache],
                              now="2026-12-02T10:00:00")
        first = d.wait_success("zk")["last_change"]
        self.start_varnish(vport, d.port)
        path = "/v1/providers/%s?year=2027" % AGB

        def shown():
            st, h, body = fetch(vport, path)
            self.assertEqual(st, 200, body[:300])
            b = json.loads(body)
            return statuses_by_policy(b, 2027)["3311-BASIS"]["hospital"]["status"], h

        # wait for the backend probe to call the daemon healthy
        deadline = time.monotonic() + 20 * TIMEOUT_SCALE
        while True:
            st, _, _ = fetch(vport, path)
            if st == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        # The first load's purge was refused while varnishd was not up and is retried with
        # backoff (1, 2, 4, ... s): until it has reached the cache it may purge the answer
        # between the two requests below (seen once under make distcheck: MISS, not HIT).
        def purged():
            with open(d.stderr_path, encoding="utf-8", errors="replace") as fh:
                return "cache front: purged generations" in fh.read()
        d.wait_until(purged, "the first load's purge delivered to varnishd",
                     timeout=40 * TIMEOUT_SCALE)
        s1, h1 = shown()
        self.assertEqual(s1, "negotiating")
        s2, h2 = shown()
        self.assertEqual(s2, "negotiating")
        self.assertEqual(h2.get("x-cache"), "HIT", h2)
        self.assertIn("p:" + AGB, h2.get("xkey", "").split())
        # the ETag is honoured by the cache: 304
        st, _, _ = fetch(vport, path, {"If-None-Match": h2["etag"]})
        self.assertEqual(st, 304)
        # staff and operational endpoints are passed, never cached
        fetch(vport, "/v1/feeds")
        st, h, _ = fetch(vport, "/v1/feeds")
        self.assertEqual(h.get("x-cache"), "MISS")

        time.sleep(1.1)
        s.set_content("/zk.jsonl", version("contracted"))
        d.wait_feed("zk", lambda f: f.get("last_change") not in (None, first), "update applied")
        t0 = time.monotonic()
        deadline = t0 + 5 * TIMEOUT_SCALE
        while True:
            now_shown, h = shown()
            if now_shown == "contracted" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(now_shown, "contracted",
                         "the cache still serves the old answer %.1f s after the update" %
                         (time.monotonic() - t0))
        # and it is cached again
        again, h = shown()
        self.assertEqual((again, h.get("x-cache")), ("contracted", "HIT"))
        # a purge from elsewhere is refused by the ACL only for other addresses: from
        # 127.0.0.1 a purge without keys is a 400
        c = http.client.HTTPConnection("127.0.0.1", vport, timeout=10)
        c.request("PURGE", "/")
        self.assertEqual(c.getresponse().status, 400)
        c.close()


if __name__ == "__main__":
    unittest.main()
