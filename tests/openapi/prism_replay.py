#!/usr/bin/env python3
"""Replay the black-box suite's requests through Prism in proxy mode (@stoplight/prism-cli)
in front of a real zorgstatusd on the sample feeds, and report every RESPONSE violation Prism
logs (request violations are expected: the suite sends bad requests on purpose).

    prism_replay.py DOC DUMP_DIR         (needs ZORGSTATUSD; run.sh calls it)

The requests are the distinct (method, URL, headers) of the answers in DUMP_DIR (written by
tests/blackbox/harness.py with ZS_DUMP_RESPONSES), sent one at a time; Authorization is sent
with this daemon's staff token where the original request carried one.  HEAD requests are not
replayed: Prism 5 tries to parse the empty body of a HEAD answer as JSON and reports an error
of its own (every HEAD answer is validated by validate-responses.js and test_openapi.py).
Neither are requests whose path does not percent-decode to UTF-8 (test_hardening's
"/v1/providers/0601%ff0001", "/v1/providers/%zz"): Prism 5.14 dies on them (URIError in
uri-template-lite) before forwarding; the daemon's answers to them (404 not_found, 400) are
validated by validate-responses.js.
Prints failures, then "N passed, N failed"; exit 1 on any failure.
"""
import glob
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))

import harness  # noqa: E402
import openapi_check as oc  # noqa: E402

TOKEN = "prism-replay-staff-token-0123456789"
# Prism log lines: "[HTTP SERVER] get /v1/search ℹ  info      Request received" starts a
# request; "[VALIDATOR] ... Violation: response..." is a finding about the answer.
RX_START = re.compile(r"\[HTTP SERVER\] (\w+) (\S+) .*Request received")
RX_BAD = re.compile(r"Violation: response|Request terminated with error")


def prism_can_route(path):
    """False for a path JavaScript's decodeURIComponent rejects (a '%' without two hex digits,
    or bytes that are not UTF-8): Prism dies on those."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", path):
        return False
    try:
        urllib.parse.unquote(path, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def requests_of(dump_dir):
    seen, out = set(), []
    for f in sorted(glob.glob(os.path.join(dump_dir, "*.json"))):
        with open(f, encoding="utf-8") as fh:
            rec = json.load(fh)
        if rec["method"] == "HEAD" or len(rec["url"]) > 4000:
            continue
        if not prism_can_route(rec["url"].split("?")[0]):
            continue
        hdrs = {k: v for k, v in rec.get("request_headers", {}).items()
                if k.lower() not in ("authorization", "host", "content-length")
                and len(v) < 4000}
        if "authorization" in {k.lower() for k in rec.get("request_headers", {})}:
            hdrs["Authorization"] = "Bearer " + TOKEN
        key = (rec["method"], rec["url"], json.dumps(hdrs, sort_keys=True))
        if key not in seen:
            seen.add(key)
            out.append((rec["method"], rec["url"], hdrs))
    return out


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    doc, dump_dir = argv
    reqs = requests_of(dump_dir)
    tmp = tempfile.mkdtemp(prefix="zs-prism-")
    tok = os.path.join(tmp, "staff.token")
    with open(tok, "w") as fh:
        fh.write(TOKEN + "\n")
    os.chmod(tok, 0o600)
    d = oc.start_sample_daemon(settings={"staff_token_file": tok})
    port = harness.free_port()
    log_path = os.path.join(tmp, "prism.log")
    log = open(log_path, "w")
    prism = subprocess.Popen([os.path.join(HERE, "node_modules", ".bin", "prism"), "proxy",
                              "--host", "127.0.0.1", "--port", str(port), "--errors", "false",
                              doc, "http://127.0.0.1:%d" % d.port],
                             stdout=log, stderr=subprocess.STDOUT)
    failed = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline or prism.poll() is not None:
                    raise SystemExit("prism did not start; see %s" % log_path)
                time.sleep(0.3)
        for method, url, hdrs in reqs:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                c.request(method, url, headers=hdrs,
                          body=b"{}" if method in ("POST", "PUT", "PATCH") else None)
                c.getresponse().read()
            except (OSError, http.client.HTTPException) as e:
                failed.append("%s %s: %s" % (method, url[:100], e))
            finally:
                c.close()
        time.sleep(1)   # let Prism's logger flush
    finally:
        prism.terminate()
        try:
            prism.wait(10)
        except subprocess.TimeoutExpired:
            prism.kill()
        log.close()
        oc.stop_daemon(d)
    current = None
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = RX_START.search(line)
            if m:
                current = "%s %s" % (m.group(1).upper(), m.group(2))
            elif RX_BAD.search(line):
                failed.append("%s: %s" % (current, line.strip()[line.find("]") + 1:][:300]))
    for f in failed:
        print("FAIL prism: " + f)
    n_bad = len({f.split(":")[0] for f in failed})
    print("prism proxy: %d requests replayed, %d with response violations%s" %
          (len(reqs), n_bad, " (log %s)" % log_path if failed else ""))
    print("%d passed, %d failed" % (len(reqs) - n_bad, n_bad))
    if not failed:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
