#!/usr/bin/env python3
"""The call-centre workspace (www/staff/, served at /staff/) in real headless Chromium against
the real daemon (issue 11), Python 3 standard library only (plus axe-core from npm).

The daemon reads two feeds from a real HTTP feed server (tests/blackbox/harness.py) and two
staff accounts (alice admin, bob staff) made with `zorgstatusd --hash-token`:
  insurer zk, policy 3311-BASIS (natura, 75%), provider 06010101 Sint Antonius Ziekenhuis:
    hospital       negotiating (first version), contracted (second version, seconds later)
    mental_health  not_contracted (insurer level)
  provider feed pv: mental_health contracted for 3311-BASIS -> a conflict; the provider's
    statement is overruled by the rule "insurer_decides".
A small proxy on another port serves the daemon's /staff/ and /v1/ (so the page and the API
keep one origin), a driver page that runs the page in a same-origin iframe and drives it like
a user (typing, keys, clicks), and /__revoke (rewrites the accounts file without bob and sends
SIGHUP). Chromium runs with --dump-dom; the driver writes what it saw into <pre id="out">.
Every request the page makes is recorded by the proxy, with whether it carried a token.

Environment: ZORGSTATUSD, ZS_TOP_SRCDIR, CHROMIUM, ZS_ALLOW_SKIP=1 (exit 77 without Chromium),
ZS_TIMEOUT_SCALE. Exit status: 0 passed, 1 failed, 77 skipped.
"""

import datetime
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.environ.get("ZS_TOP_SRCDIR") or os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "blackbox"))

import harness  # noqa: E402
from npmdeps import ensure_node_modules  # noqa: E402
from harness import (Daemon, Feed, FeedServer, feed, insurer_header, jsonl, policy,  # noqa: E402
                     provider, provider_header, rule, status, end)

SCALE = float(os.environ.get("ZS_TIMEOUT_SCALE", "1") or "1")
AGB = "06010101"
POL = "3311-BASIS"
ALICE = "alice-token-0123456789-abcdefghijklmnop"
BOB = "bob-token-0123456789-abcdefghijklmnopqrs"
# the NL texts of www/staff/staff.js (the page's default language)
WRONG_NL = "Deze toegangscode is niet juist. Controleer de code en probeer het opnieuw."
REVOKED_NL = "U bent afgemeld: uw toegang is ingetrokken of niet meer geldig. Meld u opnieuw aan."


def find_chromium():
    c = os.environ.get("CHROMIUM")
    if c:
        return c if os.access(c, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def find_binary():
    try:
        return harness.find_binary()
    except Exception:
        return None


def insurer_version(hospital):
    return feed(insurer_header("achmea", "Achmea", "3311", "Zilveren Kruis"), [
        policy(POL, 2027, "Basis Zeker", "natura", [rule("*", 75, "avg_contracted_tariff")]),
        provider(AGB, "Sint Antonius Ziekenhuis"),
        status(AGB, 2027, "hospital", hospital, policy=POL),
        status(AGB, 2027, "mental_health", "not_contracted", insurer="3311")])


PROVIDER_FEED = jsonl([provider_header("Antonius Groep"),
                       status(AGB, 2027, "mental_health", "contracted", policy=POL), end(1)])


class Env:
    tmp = daemon = feeds = proxy = chromium = None
    accounts = None
    first = second = None
    requests = []
    lock = threading.Lock()


def hash_line(name, role, token):
    p = subprocess.run([find_binary(), "--hash-token", name, role], input=token + "\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("--hash-token: " + p.stderr)
    return p.stdout.strip()


def write_accounts(lines):
    with open(Env.accounts + ".new", "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(Env.accounts + ".new", 0o600)
    os.replace(Env.accounts + ".new", Env.accounts)


def daemon_status(path, token=None):
    c = http.client.HTTPConnection("127.0.0.1", Env.daemon.port, timeout=10)
    try:
        c.request("GET", path, headers={"Authorization": "Bearer " + token} if token else {})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


# ---- the proxy: one origin for the page, the API and the driver pages --------------------------

DRIVERS = {}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="text/html; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path
        if path.startswith("/drive/"):
            body = DRIVERS.get(path[len("/drive/"):])
            return self.send(200 if body else 404, (body or "no driver").encode("utf-8"))
        if path == "/axe.min.js":
            p = axe_path()
            if not p:
                return self.send(404, b"axe-core is not installed")
            with open(p, "rb") as fh:
                return self.send(200, fh.read(), "text/javascript; charset=utf-8")
        if path == "/__revoke":
            write_accounts([hash_line("alice", "admin", ALICE)])
            Env.daemon.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10 * SCALE
            while time.monotonic() < deadline and daemon_status("/v1/staff/me", BOB) != 401:
                time.sleep(0.05)
            return self.send(200, b"revoked", "text/plain")
        with Env.lock:
            Env.requests.append((path, "Authorization" in self.headers))
        c = http.client.HTTPConnection("127.0.0.1", Env.daemon.port, timeout=30)
        try:
            hdrs = {k: v for k, v in self.headers.items()
                    if k.lower() in ("authorization", "accept", "accept-language", "if-none-match")}
            c.request("GET", path, headers=hdrs)
            r = c.getresponse()
            data = r.read()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            c.close()


DRIVER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>driver</title></head><body>
<iframe id="f" src="/staff/{query}" title="workspace" style="width:1280px;height:2400px"></iframe>
<pre id="out"></pre>
<script>
(function () {{
  var out = {{}}, k = 0, waited = 0, steps = [{steps}];
  function f() {{ return document.getElementById("f"); }}
  function doc() {{ return f().contentDocument; }}
  function win() {{ return f().contentWindow; }}
  function q(s) {{ var d = doc(); return d ? d.querySelector(s) : null; }}
  function qa(s) {{ var d = doc(); return d ? Array.prototype.slice.call(d.querySelectorAll(s)) : []; }}
  function txt(s) {{ var e = q(s); return e ? e.textContent.replace(/\\s+/g, " ").trim() : null; }}
  function type(el, v) {{ el.focus(); el.value = v; el.dispatchEvent(new Event("input", {{bubbles: true}})); }}
  function key(el, name) {{ el.dispatchEvent(new KeyboardEvent("keydown", {{key: name, bubbles: true, cancelable: true}})); }}
  function signIn(tok) {{ var i = q("#st-token"); if (!i) return false; type(i, tok); q("#st-signin-form").requestSubmit(); return true; }}
  function signedIn() {{ var a = q("#st-app"); return a && !a.hidden && txt("#st-who"); }}
  function row(ct) {{ return q("tr.st-status-row[data-policy='{pol}'][data-care='" + ct + "']"); }}
  function done() {{ document.getElementById("out").textContent = JSON.stringify(out); }}
  function tick() {{
    try {{ if (k < steps.length && steps[k](out)) {{ k++; waited = 0; }} }}
    catch (e) {{ out.error = String(e) + " at step " + k; done(); return; }}
    if (++waited > 400) {{ out.error = "step " + k + " never finished"; done(); return; }}
    if (k < steps.length) setTimeout(tick, 50); else done();
  }}
  window.addEventListener("load", tick);
}})();
</script></body></html>
"""

# sign in as TOKEN, search "antonius", pick the provider with the keyboard
OPEN_PROVIDER = """
  function (o) { return signIn("TOKEN"); },
  function (o) { return signedIn(); },
  function (o) { type(q("#st-q"), "antonius"); return true; },
  function (o) { var r = q(".st-result[data-agb='%s']"); if (!r) return false;
    var i = q("#st-q"); key(i, "ArrowDown"); o.expanded = i.getAttribute("aria-expanded");
    o.active = i.getAttribute("aria-activedescendant") === r.id; key(i, "Enter"); return true; },
  function (o) { return row("hospital") && row("mental_health"); },
""" % AGB


def chromium(url):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=Env.tmp)
    cmd = [Env.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=30000",
           "--dump-dom", url]
    env = dict(os.environ, TZ="UTC")  # the time picker's local time is UTC here
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=120 * SCALE, cwd=Env.tmp)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if p.returncode != 0:
        raise AssertionError("chromium failed (%d):\n%s" % (
            p.returncode, p.stderr.decode("utf-8", "replace")[-3000:]))
    return p.stdout.decode("utf-8")


def setUpModule():
    missing = []
    if find_binary() is None:
        missing.append("the zorgstatusd binary (set ZORGSTATUSD)")
    Env.chromium = find_chromium()
    if Env.chromium is None:
        missing.append("Chromium (/usr/bin/chromium)")
    if missing:
        msg = "cannot run the staff page tests without: " + "; ".join(missing)
        if os.environ.get("ZS_ALLOW_SKIP") == "1":
            raise unittest.SkipTest(msg)
        raise RuntimeError(msg)
    Env.tmp = tempfile.mkdtemp(prefix="zs-staff-www-")
    Env.feeds = FeedServer().start()
    Env.feeds.set_content("/zk.jsonl", insurer_version("negotiating"))
    Env.feeds.set_content("/pv.jsonl", PROVIDER_FEED)
    Env.accounts = os.path.join(Env.tmp, "accounts")
    write_accounts([hash_line("alice", "admin", ALICE), hash_line("bob", "staff", BOB)])
    Env.daemon = Daemon([Feed("zk", "insurer", Env.feeds.url("/zk.jsonl")),
                         Feed("pv", "provider", Env.feeds.url("/pv.jsonl"))],
                        now="2026-12-02T10:00:00", log_level="info",
                        settings={"staff_accounts_file": Env.accounts,
                                  "www_dir": os.path.join(TOP, "www"),
                                  # wrong tokens on purpose below: the limit is
                                  # tests/blackbox/test_staff.py's subject
                                  "staff_auth_failures": 10000})
    Env.daemon.start()
    Env.first = Env.daemon.wait_success("zk")["last_change"]
    Env.daemon.wait_success("pv")
    time.sleep(2.2)  # the daemon clock runs on: the second version comes seconds later
    Env.feeds.set_content("/zk.jsonl", insurer_version("contracted"))
    Env.second = Env.daemon.wait_feed("zk", lambda f: f.get("last_change") not in (None, Env.first),
                                      "second version")["last_change"]
    Env.proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=Env.proxy.serve_forever, daemon=True).start()


def tearDownModule():
    if Env.proxy:
        Env.proxy.shutdown()
        Env.proxy.server_close()
    if Env.daemon:
        Env.daemon.stop()
        Env.daemon.cleanup()
    if Env.feeds:
        Env.feeds.stop()
    if Env.tmp:
        shutil.rmtree(Env.tmp, ignore_errors=True)


def staff_request(path):
    return path.startswith("/v1/staff") or "/history" in path


class StaffPageCase(unittest.TestCase):
    def drive(self, name, steps, query=""):
        DRIVERS[name] = DRIVER.format(steps=steps, query=query, pol=POL)
        with Env.lock:
            del Env.requests[:]
        markup = chromium("http://127.0.0.1:%d/drive/%s" % (Env.proxy.server_address[1], name))
        m = re.search(r'<pre id="out">(.*?)</pre>', markup, re.S)
        txt = m.group(1) if m else ""
        self.assertTrue(txt, "the driver did not finish:\n" + markup[-3000:])
        import html
        out = json.loads(html.unescape(txt))
        self.assertNotIn("error", out, out)
        with Env.lock:
            reqs = list(Env.requests)
        # no staff request ever leaves the page without a token
        self.assertEqual([p for p, a in reqs if staff_request(p) and not a], [])
        return out, reqs


class TestSignIn(StaffPageCase):
    def test_wrong_token_refused_right_token_works(self):
        out, reqs = self.drive("signin.html", """
          function (o) { return signIn("this-is-not-the-token-of-anyone"); },
          function (o) { var m = txt("#st-signin-msg"); if (!m || /Bezig/.test(m)) return false;
            o.msg = m; o.appHidden = q("#st-app").hidden; o.invalid = q("#st-token").getAttribute("aria-invalid");
            o.stored = win().sessionStorage.getItem("zorgstatus-staff-token"); return true; },
          function (o) { return signIn("%s"); },
          function (o) { if (!signedIn()) return false; o.who = txt("#st-who");
            o.stored = win().sessionStorage.getItem("zorgstatus-staff-token") === "%s";
            o.local = win().localStorage.length; o.signinHidden = q("#st-signin").hidden;
            o.auditShown = !q("#st-audit").hidden; o.tokenField = q("#st-token").value; return true; },
          function (o) { return qa("#st-feeds-body tr.st-feed").length === 2; },
          function (o) { o.feeds = qa("#st-feeds-body tr.st-feed").map(function (r) { return r.getAttribute("data-feed"); }); return true; }
        """ % (ALICE, ALICE))
        self.assertEqual(out["msg"], WRONG_NL)
        self.assertTrue(out["appHidden"])
        self.assertEqual(out["invalid"], "true")
        self.assertTrue(out["stored"])
        self.assertEqual(out["who"], "Aangemeld als alice (beheerder)")
        self.assertEqual(out["local"], 0)  # sessionStorage only
        self.assertTrue(out["signinHidden"])
        self.assertTrue(out["auditShown"])
        self.assertEqual(out["tokenField"], "")
        self.assertEqual(sorted(out["feeds"]), ["pv", "zk"])
        me = [a for p, a in reqs if p.startswith("/v1/staff/me")]
        self.assertEqual(me, [True, True])

    def test_no_staff_data_without_a_token(self):
        out, reqs = self.drive("anon.html", """
          function (o) { return q("#st-token"); },
          function (o) { o.n = (o.n || 0) + 1; return o.n > 20; },
          function (o) { o.appHidden = q("#st-app").hidden; o.body = txt("#st-provider-body");
            o.feeds = txt("#st-feeds-body"); o.fields = qa("input").map(function (i) { return i.id; }).sort();
            return true; }
        """)
        self.assertTrue(out["appHidden"])
        self.assertEqual((out["body"], out["feeds"]), ("", ""))
        # no field for caller data: only the token, the provider search and the moment
        self.assertEqual(out["fields"], ["st-at", "st-q", "st-token"])
        self.assertEqual([p for p, a in reqs if staff_request(p)], [])
        # and after signing out nothing staff stays on the page or in storage
        out, _ = self.drive("signout.html", OPEN_PROVIDER.replace("TOKEN", BOB) + """
          function (o) { q("#st-signout").click(); return true; },
          function (o) { o.body = txt("#st-provider-body"); o.feeds = txt("#st-feeds-body");
            o.stored = win().sessionStorage.getItem("zorgstatus-staff-token");
            o.appHidden = q("#st-app").hidden; o.focus = doc().activeElement.id; return true; }
        """)
        self.assertEqual((out["body"], out["feeds"], out["stored"]), ("", "", None))
        self.assertTrue(out["appHidden"])
        self.assertEqual(out["focus"], "st-token")


class TestProviderView(StaffPageCase):
    def test_conflict_highlighted_with_both_statements(self):
        out, _ = self.drive("conflict.html", OPEN_PROVIDER.replace("TOKEN", BOB) + """
          function (o) { var r = row("mental_health");
            o.cls = r.className; o.badges = Array.prototype.map.call(r.querySelectorAll(".st-badge"), function (b) { return b.textContent; });
            o.focus = doc().activeElement.id; o.heading = txt("#st-provider-h");
            o.hospitalCls = row("hospital").className;
            var b = r.querySelector("button.st-toggle"); o.btnBefore = b.getAttribute("aria-expanded");
            o.detailHidden = doc().getElementById(b.getAttribute("aria-controls")).hidden; b.click(); return true; },
          function (o) { var b = row("mental_health").querySelector("button.st-toggle");
            var d = doc().getElementById(b.getAttribute("aria-controls")); if (d.hidden) return false;
            o.btnAfter = b.getAttribute("aria-expanded");
            o.statements = Array.prototype.map.call(d.querySelectorAll("tr.st-statement"), function (s) {
              var rule = s.querySelector(".st-rule");
              return [s.getAttribute("data-source"), s.className.replace("st-statement ", ""),
                      s.querySelector(".st-level").textContent, s.querySelector(".st-says").textContent,
                      s.querySelector(".st-feedline").textContent, rule ? rule.getAttribute("data-rule") : null]; });
            o.consequence = d.querySelector(".st-consequence").getAttribute("data-code"); return true; }
        """)
        self.assertEqual(out["expanded"], "true")
        self.assertTrue(out["active"])
        self.assertEqual(out["focus"], "st-provider-h")
        self.assertEqual(out["heading"], "Sint Antonius Ziekenhuis")
        self.assertIn("st-conflict", out["cls"].split())
        self.assertNotIn("st-conflict", out["hospitalCls"].split())
        self.assertEqual(out["badges"], ["Conflict"])
        self.assertEqual((out["btnBefore"], out["detailHidden"], out["btnAfter"]), ("false", True, "true"))
        # both statements: the insurer's decides; the provider's is overruled by its rule
        # (lines: zk line 5 = the mental_health record; pv line 2)
        self.assertEqual(sorted(out["statements"]), [
            ["insurer", "st-decides", "verzekeraar 3311", "Geen contract", "zk, regel 5", None],
            ["provider", "st-overruled", "polis " + POL, "Contract", "pv, regel 2",
             "insurer_decides"],
        ])
        self.assertEqual(out["consequence"], "not_contracted_partial")

    def test_time_picker_shows_the_earlier_status(self):
        t1 = datetime.datetime.fromisoformat(Env.first.replace("Z", "+00:00"))
        moment = (t1 + datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")  # UTC
        out, reqs = self.drive("time.html", OPEN_PROVIDER.replace("TOKEN", BOB) + """
          function (o) { o.now = row("hospital").getAttribute("data-status");
            q("#st-at").value = "%s"; q("#st-time-form").requestSubmit(); return true; },
          function (o) { if (q("#st-provider").getAttribute("data-view") !== "history") return false;
            o.then = row("hospital").getAttribute("data-status");
            o.thenText = row("hospital").querySelector(".st-status").textContent;
            o.mhThen = row("mental_health").getAttribute("data-status");
            o.note = !!q(".st-at-note"); o.view = txt("#st-view"); q("#st-time-now").click(); return true; },
          function (o) { if (q("#st-provider").getAttribute("data-view") !== "now") return false;
            o.back = row("hospital").getAttribute("data-status"); return true; }
        """ % moment)
        self.assertEqual(out["now"], "contracted")
        self.assertEqual(out["then"], "negotiating")
        self.assertEqual(out["thenText"], "Nog in gesprek over een contract")
        self.assertEqual(out["mhThen"], "not_contracted")
        self.assertTrue(out["note"])
        self.assertTrue(out["view"].startswith("U ziet wat wij toonden op "), out["view"])
        self.assertEqual(out["back"], "contracted")
        asked = [p for p, a in reqs if p.startswith("/v1/staff/providers/") and "at=" in p]
        self.assertEqual(len(asked), 1)
        self.assertIn("at=" + moment.replace(":", "%3A") + "Z", asked[0])


class TestRevocation(StaffPageCase):
    def test_revoked_account_is_refused_after_sighup(self):
        out, _ = self.drive("revoke.html", OPEN_PROVIDER.replace("TOKEN", BOB) + """
          function (o) { if (o.sent) return o.revoked; o.sent = 1;
            fetch("/__revoke").then(function (r) { return r.text(); }).then(function () { o.revoked = 1; });
            return false; },
          function (o) { q("#st-time-now").click(); return true; },
          function (o) { if (q("#st-signin").hidden) return false;
            o.msg = txt("#st-signin-msg"); o.body = txt("#st-provider-body");
            o.stored = win().sessionStorage.getItem("zorgstatus-staff-token"); return true; }
        """)
        self.assertEqual(out["msg"], REVOKED_NL)
        self.assertEqual(out["body"], "")
        self.assertIsNone(out["stored"])
        self.assertEqual(daemon_status("/v1/staff/me", BOB), 401)
        self.assertEqual(daemon_status("/v1/staff/me", ALICE), 200)

    @classmethod
    def tearDownClass(cls):
        write_accounts([hash_line("alice", "admin", ALICE), hash_line("bob", "staff", BOB)])
        Env.daemon.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10 * SCALE
        while time.monotonic() < deadline and daemon_status("/v1/staff/me", BOB) != 200:
            time.sleep(0.05)


class TestStatic(unittest.TestCase):
    def test_no_external_resources(self):
        www = os.path.join(TOP, "www", "staff")
        with open(os.path.join(www, "index.html"), encoding="utf-8") as fh:
            page = fh.read()
        refs = re.findall(r'(?:src|href)="([^"]*)"', page)
        self.assertEqual(sorted(refs), ["#st-main", "/staff/staff.css", "/staff/staff.js"])
        for name in ("staff.js", "staff.css"):
            with open(os.path.join(www, name), encoding="utf-8") as fh:
                text = fh.read()
            self.assertIsNone(re.search(r"https?://|@import|url\(", text), name)
        # served at /staff/ and /staff
        for path in ("/staff/", "/staff", "/staff/staff.js"):
            self.assertEqual(daemon_status(path), 200, path)


AXE = """
  function (o) { if (o.axeLoading) return !!win().axe; o.axeLoading = 1;
    var s = doc().createElement("script"); s.src = "/axe.min.js"; doc().head.appendChild(s); return false; },
  function (o) { if (o.started) return o.done; o.started = 1;
    win().axe.run(doc(), {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
      .then(function (r) { o.violations = r.violations.map(function (v) {
          return v.id + ": " + v.nodes.map(function (n) { return n.target.join(" "); }).join(", "); });
        o.passes = r.passes.length; o.done = 1; }, function (e) { o.error = String(e); o.done = 1; });
    return false; }
"""


def axe_path():
    """axe-core from npm (tests/www/package.json, pinned; npmdeps installs it), or None."""
    d = ensure_node_modules()
    p = os.path.join(d, "axe-core", "axe.min.js") if d else None
    return p if p and os.path.isfile(p) else None


class TestAxe(StaffPageCase):
    def test_axe_every_state(self):
        if not axe_path():
            if os.environ.get("ZS_ALLOW_SKIP") == "1":
                self.skipTest("axe-core not installed (npm install in tests/www)")
            self.fail("axe-core missing: run npm install in tests/www")
        states = {
            "signin-error": """function (o) { return signIn("wrong-token-for-the-axe-check"); },
                function (o) { var m = txt("#st-signin-msg"); return m && !/Bezig/.test(m); },""",
            "provider-open": OPEN_PROVIDER.replace("TOKEN", ALICE) + """
                function (o) { qa("button.st-toggle").forEach(function (b) { b.click(); }); return true; },
                function (o) { return txt("#st-audit-body") && qa("#st-feeds-body tr").length > 0; },""",
            "history-en": OPEN_PROVIDER.replace("TOKEN", BOB) + """
                function (o) { q("#st-lang").click(); return true; },
                function (o) { return doc().documentElement.lang === "en" && txt("#st-who") === "Signed in as bob"; },
                function (o) { q("#st-at").value = "2026-12-02T09:00:01"; q("#st-time-form").requestSubmit(); return true; },
                function (o) { return q("#st-provider").getAttribute("data-view") === "history"; },""",
        }
        for name, steps in states.items():
            with self.subTest(state=name):
                out, _ = self.drive("axe-%s.html" % name, steps + AXE)
                self.assertGreater(out.get("passes", 0), 10, out)
                self.assertEqual(out["violations"], [], name)


def main():
    if find_chromium() is None or find_binary() is None:
        if os.environ.get("ZS_ALLOW_SKIP") == "1":
            sys.stderr.write("SKIP: Chromium or the zorgstatusd binary not found\n")
            return 77
        sys.stderr.write("FAIL: Chromium or the zorgstatusd binary not found\n")
        return 1
    prog = unittest.main(module=__name__, argv=sys.argv[:1] + sys.argv[1:], exit=False,
                         verbosity=2)
    r = prog.result
    if not r.wasSuccessful():
        return 1
    if r.testsRun and len(r.skipped) == r.testsRun:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
