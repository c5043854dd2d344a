"""Black-box test harness for zorgstatusd (Python 3 standard library only).

Three parts:

* FeedServer -- a real HTTP server on 127.0.0.1 (ephemeral port, ThreadingHTTPServer in a
  thread) whose behaviour per path the test controls at run time: serve bytes (with ETag /
  Last-Modified validators and conditional GET -> 304, gzip when the client asks for it),
  answer an error status, or cut the body off half-way.  Every request is recorded (method,
  headers, the status answered) so tests can assert conditional GET and Accept-Encoding.
* Daemon -- writes a configuration into a fresh temporary directory, starts the real
  zorgstatusd binary on a free port with a fresh SQLite file, waits until /healthz answers,
  offers get() returning (status, headers, parsed JSON), and stops it with SIGTERM (exit code
  must be 0).  stderr goes to a file in the temp dir and is quoted in failure messages.
* Feed builders -- dicts for header/policy/provider/status/end lines and jsonl() to turn them
  into JSON Lines bytes.

Environment:
  ZORGSTATUSD        path of the binary (else $abs_top_builddir/src, $top_builddir/src,
                     ../../src relative to this file, ./src, ../../src relative to cwd)
  ZS_TIMEOUT_SCALE   multiply every wait (default 1; e.g. 3 under valgrind)
  ZS_KEEP_TMP        keep the daemon's temp dirs (config, database, stderr) for inspection
  ZS_DUMP_RESPONSES  directory: every answer of Daemon.request() is written there as JSON
                     (tests/openapi/run.sh validates them against docs/openapi.json)
"""

import contextlib
import email.utils
import gzip
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT_SCALE = float(os.environ.get("ZS_TIMEOUT_SCALE", "1") or "1")

# Generous defaults: ASan builds are slow to start and to ingest.
START_TIMEOUT = 30.0 * TIMEOUT_SCALE
WAIT_TIMEOUT = 20.0 * TIMEOUT_SCALE
STOP_TIMEOUT = 20.0 * TIMEOUT_SCALE
HTTP_TIMEOUT = 15.0 * TIMEOUT_SCALE


# --------------------------------------------------------------------------------------------
# locating the binary

def find_binary():
    """Return the path of zorgstatusd, or None when it does not exist (yet)."""
    cands = []
    env = os.environ.get("ZORGSTATUSD")
    if env:
        return env if os.access(env, os.X_OK) else None
    for var in ("abs_top_builddir", "top_builddir"):
        v = os.environ.get(var)
        if v:
            cands.append(os.path.join(v, "src", "zorgstatusd"))
    cands.append(os.path.join(HERE, "..", "..", "src", "zorgstatusd"))
    cands.append(os.path.join(os.getcwd(), "src", "zorgstatusd"))
    cands.append(os.path.join(os.getcwd(), "..", "..", "src", "zorgstatusd"))
    for c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    return None


def require_binary():
    """unittest.SkipTest when the binary is missing (run.py turns all-skipped into exit 77)."""
    b = find_binary()
    if b is None:
        raise unittest.SkipTest("zorgstatusd binary not found (set ZORGSTATUSD)")
    return b


# --------------------------------------------------------------------------------------------
# feed server

class Route:
    """What the feed server does for one path.  mode: content | error | cut."""

    def __init__(self):
        self.mode = "error"
        self.data = b""
        self.status = 404
        self.body = b"not configured\n"
        self.etag = None
        self.last_modified = None
        self.gzip = True
        self.fraction = 0.5
        self.version = 0


class FeedServer:
    """HTTP feed server in a background thread.  Use as a context manager or start()/stop()."""

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self._lock = threading.Lock()
        self._routes = {}
        self._log = {}          # path -> list of request records
        self._stalls = {}       # path -> times a send_timeout ended a transfer (set_drip)
        self._cond = threading.Condition(self._lock)
        self._last_lm = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # keep test output clean
                pass

            def do_GET(self):
                outer._handle(self)

            def do_HEAD(self):
                outer._handle(self, head=True)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # cut-off connections and client hang-ups are expected

        self._httpd = Server((host, 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = None

    # lifecycle
    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, path):
        return "http://%s:%d%s" % (self.host, self.port, path)

    # behaviour control
    def _route(self, path):
        r = self._routes.get(path)
        if r is None:
            r = self._routes[path] = Route()
        return r

    def _next_lm(self):
        """Last-Modified for a new version: strictly later than any earlier one (HTTP dates
        have one-second resolution; two versions within a second must still differ)."""
        t = max(int(time.time()), self._last_lm + 1)
        self._last_lm = t
        return email.utils.formatdate(t, usegmt=True)

    def set_content(self, path, data, etag=True, last_modified=True, gzip_ok=True):
        """Serve data with 200; validators (ETag from the content hash, Last-Modified = now)
        and conditional GET answered with 304; gzip when the client accepts it."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self._lock:
            r = self._route(path)
            r.mode = "content"
            r.data = data
            r.etag = ('"%s"' % hashlib.sha1(data).hexdigest()[:20]) if etag else None
            r.last_modified = self._next_lm() if last_modified else None
            r.gzip = gzip_ok
            r.version += 1

    def set_error(self, path, status=500, body=b"internal server error\n"):
        with self._lock:
            r = self._route(path)
            r.mode = "error"
            r.status = status
            r.body = body
            r.version += 1

    def set_cutoff(self, path, data, fraction=0.5, etag=True, last_modified=True):
        """Announce Content-Length of the whole of data, write only the first fraction of it,
        then close the connection.  Validators of the *whole* data are sent, so a daemon
        that wrongly remembers them will send If-None-Match for the complete version."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self._lock:
            r = self._route(path)
            r.mode = "cut"
            r.data = data
            r.fraction = fraction
            r.etag = ('"%s"' % hashlib.sha1(data).hexdigest()[:20]) if etag else None
            r.last_modified = self._next_lm() if last_modified else None
            r.version += 1

    # behaviours added for tests/blackbox/test_hardening.py (the ones above are unchanged)
    def set_drip(self, path, data, chunk=1, interval=1.0, send_timeout=None):
        """Announce Content-Length of data, then send `chunk` bytes every `interval` seconds
        (a feed server that drips). send_timeout: as nginx's, with a small send buffer: a
        chunk the client has not taken within that many seconds ends the connection, and
        stalls(path) says when."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self._lock:
            r = self._route(path)
            r.mode = "drip"
            r.data = data
            r.chunk = chunk
            r.interval = interval
            r.send_timeout = send_timeout
            r.version += 1

    def stalls(self, path):
        """The times (time.time()) at which a send_timeout of set_drip ended a transfer."""
        with self._lock:
            return list(self._stalls.get(path, []))

    def set_redirect(self, path, location, status=302):
        """Answer with `status` and Location: location (absolute URL or path)."""
        with self._lock:
            r = self._route(path)
            r.mode = "redirect"
            r.status = status
            r.location = location
            r.version += 1

    def set_raw(self, path, payload, headers=None):
        """Answer 200 with exactly these body bytes and extra headers (e.g. a gzip bomb:
        a small gzip payload with Content-Encoding: gzip that inflates to gigabytes)."""
        with self._lock:
            r = self._route(path)
            r.mode = "raw"
            r.data = payload
            r.raw_headers = dict(headers or {})
            r.version += 1

    def etag(self, path):
        with self._lock:
            return self._route(path).etag

    def last_modified(self, path):
        with self._lock:
            return self._route(path).last_modified

    # observation
    def requests(self, path):
        """List of dicts: method, headers (lower-case names), status, gzip, t."""
        with self._lock:
            return list(self._log.get(path, []))

    def count(self, path):
        with self._lock:
            return len(self._log.get(path, []))

    def wait_requests(self, path, n, timeout=None, what=None):
        """Wait until path has been requested at least n times in total."""
        timeout = WAIT_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._log.get(path, [])) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        "timeout after %.0fs waiting for %d requests of %s (got %d)%s" %
                        (timeout, n, path, len(self._log.get(path, [])),
                         ": " + what if what else ""))
                self._cond.wait(min(left, 0.2))

    # request handling
    def _record(self, path, handler, status, gz):
        rec = {"method": handler.command,
               "headers": {k.lower(): v for k, v in handler.headers.items()},
               "status": status, "gzip": gz, "t": time.time()}
        with self._cond:
            self._log.setdefault(path, []).append(rec)
            self._cond.notify_all()

    @staticmethod
    def _hang_up(h):
        """End the connection now (both directions), whatever the client still expects."""
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self, h, head=False):
        path = urllib.parse.urlsplit(h.path).path
        with self._lock:
            r = self._routes.get(path)
            if r is None:
                mode, status, body = "error", 404, b"no such feed\n"
            else:
                mode, status, body = r.mode, r.status, r.body
                data, etag, lm, gz_ok, frac = r.data, r.etag, r.last_modified, r.gzip, r.fraction
                extra = (getattr(r, "chunk", 1), getattr(r, "interval", 1.0),
                         getattr(r, "location", None), getattr(r, "raw_headers", {}),
                         getattr(r, "send_timeout", None))
        try:
            if mode in ("drip", "redirect", "raw"):
                self._handle_added(h, path, mode, status, data, extra, head)
                return
            if mode == "error":
                self._record(path, h, status, False)
                h.send_response(status)
                h.send_header("Content-Type", "text/plain")
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                if not head:
                    h.wfile.write(body)
                return
            if mode == "cut":
                self._record(path, h, 200, False)
                h.send_response(200)
                h.send_header("Content-Type", "application/x-ndjson")
                h.send_header("Content-Length", str(len(data)))
                if etag:
                    h.send_header("ETag", etag)
                if lm:
                    h.send_header("Last-Modified", lm)
                h.send_header("Connection", "close")
                h.end_headers()
                if not head:
                    h.wfile.write(data[:int(len(data) * frac)])
                    h.wfile.flush()
                self._hang_up(h)
                return
            # content
            inm = h.headers.get("If-None-Match")
            ims = h.headers.get("If-Modified-Since")
            not_modified = False
            if inm is not None:
                if etag and (inm.strip() == "*" or
                             etag in [t.strip() for t in inm.split(",")]):
                    not_modified = True
            elif ims is not None and lm:
                try:
                    a = email.utils.parsedate_to_datetime(ims)
                    b = email.utils.parsedate_to_datetime(lm)
                    not_modified = a >= b
                except (TypeError, ValueError):
                    not_modified = False
            if not_modified:
                self._record(path, h, 304, False)
                h.send_response(304)
                if etag:
                    h.send_header("ETag", etag)
                if lm:
                    h.send_header("Last-Modified", lm)
                h.end_headers()
                return
            ae = h.headers.get("Accept-Encoding", "") or ""
            use_gz = gz_ok and any(p.split(";")[0].strip().lower() == "gzip"
                                   for p in ae.split(","))
            payload = gzip.compress(data) if use_gz else data
            self._record(path, h, 200, use_gz)
            h.send_response(200)
            h.send_header("Content-Type", "application/x-ndjson")
            h.send_header("Content-Length", str(len(payload)))
            if use_gz:
                h.send_header("Content-Encoding", "gzip")
            h.send_header("Vary", "Accept-Encoding")
            if etag:
                h.send_header("ETag", etag)
            if lm:
                h.send_header("Last-Modified", lm)
            h.end_headers()
            if not head:
                h.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


    def _handle_added(self, h, path, mode, status, data, extra, head):
        chunk, interval, location, raw_headers, send_timeout = extra
        if mode == "redirect":
            self._record(path, h, status, False)
            h.send_response(status)
            h.send_header("Location", location)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if mode == "raw":
            self._record(path, h, 200, False)
            h.send_response(200)
            h.send_header("Content-Type", "application/x-ndjson")
            h.send_header("Content-Length", str(len(data)))
            for k, v in raw_headers.items():
                h.send_header(k, v)
            h.end_headers()
            if not head:
                h.wfile.write(data)
            return
        # drip
        self._record(path, h, 200, False)
        h.send_response(200)
        h.send_header("Content-Type", "application/x-ndjson")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.flush()
        if head:
            return
        if send_timeout is not None:
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
            h.connection.settimeout(send_timeout)
        for i in range(0, len(data), chunk):
            try:
                h.wfile.write(data[i:i + chunk])
                h.wfile.flush()
            except TimeoutError:
                with self._lock:
                    self._stalls.setdefault(path, []).append(time.time())
                self._hang_up(h)
                return
            time.sleep(interval)


# --------------------------------------------------------------------------------------------
# daemon

@contextlib.contextmanager
def traced(tc, pid, calls):
    """strace on every thread of process pid for the system calls named (e.g.
    "sendfile,epoll_ctl") while the block runs; yields a list that holds strace's lines once
    the block is over. tc (a TestCase) is skipped when strace is missing or cannot attach."""
    if not shutil.which("strace"):
        tc.skipTest("needs strace")
    out = tempfile.NamedTemporaryFile(prefix="zs-strace-", suffix=".txt", delete=False)
    out.close()
    tc.addCleanup(os.unlink, out.name)
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-p", str(pid), "-e", "trace=" + calls,
                               "-o", out.name],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines = []
    try:
        time.sleep(1.0)  # attached to every thread
        if tracer.poll() is not None:
            tc.skipTest("strace cannot attach here: %s"
                        % tracer.stderr.read().decode(errors="replace")[:200])
        yield lines
    finally:
        if tracer.poll() is None:
            tracer.terminate()
            tracer.wait(10)
        tracer.stderr.close()
    with open(out.name, encoding="utf-8", errors="replace") as f:
        lines.extend(joined_strace_lines(f.read().splitlines()))


def joined_strace_lines(raw):
    """strace -f's lines with every call another thread interrupted made whole again: "PID
    call(args <unfinished ...>" and, later, "PID <... call resumed>rest" become one line
    "PID call(argsrest", where the line of the call stood (so each call is one line)."""
    out, open_at = [], {}
    for line in raw:
        m = re.match(r"^(\d+) +(.*) <unfinished \.\.\.>$", line)
        if m:
            open_at[m.group(1)] = len(out)
            out.append("%s %s" % (m.group(1), m.group(2)))
            continue
        m = re.match(r"^(\d+) +<\.\.\. \w+ resumed>(.*)$", line)
        if m and m.group(1) in open_at:
            out[open_at.pop(m.group(1))] += m.group(2)
            continue
        out.append(line)
    return out


def write_interest_asked(lines, fd):
    """The lines of a trace (traced) in which epoll was asked for write interest (EPOLLOUT) on
    descriptor fd: an answer that did not go out in its request's turn."""
    return [line for line in lines
            if re.search(r"epoll_ctl\(\d+, EPOLL_CTL_\w+, %s, .*EPOLLOUT" % fd, line)]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Feed:
    """One [feed NAME] section."""

    def __init__(self, name, kind, url, schedule=1, stale_after=86400, max_invalid_rows=0,
                 **extra):
        self.name, self.kind, self.url = name, kind, url
        self.schedule, self.stale_after = schedule, stale_after
        self.max_invalid_rows = max_invalid_rows
        self.extra = extra

    def conf(self):
        lines = ["[feed %s]" % self.name, "kind = %s" % self.kind, "url = %s" % self.url,
                 "schedule = %d" % self.schedule, "stale_after = %d" % self.stale_after]
        if self.max_invalid_rows is not None:  # None: unset, max_invalid_percent applies
            lines.append("max_invalid_rows = %d" % self.max_invalid_rows)
        lines += ["%s = %s" % kv for kv in self.extra.items()]
        return "\n".join(lines) + "\n"


_dump_lock = threading.Lock()
_dump_count = [0]


def dump_response(method, path, req_headers, status, headers, data):
    """With ZS_DUMP_RESPONSES=dir: write one answer of the daemon as dir/PID-N.json
    ({"method", "url", "request_headers", "status", "headers", "body"}, body as text, gunzipped)
    for tests/openapi/run.sh, which validates every dumped answer against docs/openapi.json."""
    out = os.environ.get("ZS_DUMP_RESPONSES")
    if not out:
        return
    body = data
    if headers.get("content-encoding") == "gzip" and body:
        try:
            body = gzip.decompress(body)
        except OSError:
            pass
    rec = {"method": method, "url": path,
           "request_headers": {k: (v if k.lower() != "authorization" else
                                   v.split(" ")[0] + " (redacted)")
                               for k, v in (req_headers or {}).items()},
           "status": status, "headers": headers,
           "body": body.decode("utf-8", "replace") if body else None}
    with _dump_lock:
        _dump_count[0] += 1
        n = _dump_count[0]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "%d-%05d.json" % (os.getpid(), n)), "w", encoding="utf-8") as fh:
        json.dump(rec, fh, ensure_ascii=False)


class DaemonError(AssertionError):
    pass


class Daemon:
    """The real zorgstatusd in a fresh temp dir.

    feeds: list of Feed; now: "YYYY-MM-DDTHH:MM:SS" (Amsterdam) or None; settings: extra
    global settings written into the config file (retry_min = 1 and fetch_timeout = 15 by
    default so that failure tests stay quick)."""

    def __init__(self, feeds, now=None, settings=None, log_level="debug"):
        self.binary = require_binary()
        self.feeds_conf = list(feeds)
        self.now = now
        self.settings = {"retry_min": 1, "connect_timeout": 5, "fetch_timeout": 15}
        self.settings.update(settings or {})
        self.log_level = log_level
        self.tmp = tempfile.mkdtemp(prefix="zsbb-")
        self.conf_path = os.path.join(self.tmp, "zorgstatus.conf")
        self.db_path = os.path.join(self.tmp, "zorgstatus.db")
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.stdout_path = os.path.join(self.tmp, "stdout.log")
        self.proc = None
        self.port = None
        self.spawned_at = None   # time.time() just before spawn
        self.exit_code = None

    # config
    def write_config(self):
        parts = ["# written by tests/blackbox/harness.py"]
        parts += ["%s = %s" % kv for kv in self.settings.items()]
        text = "\n".join(parts) + "\n\n" + "\n".join(f.conf() for f in self.feeds_conf)
        with open(self.conf_path, "w") as fh:
            fh.write(text)
        return text

    # lifecycle
    def start(self, timeout=None):
        timeout = START_TIMEOUT if timeout is None else timeout
        self.write_config()
        last = None
        for attempt in range(3):       # retry when the free port was taken meanwhile
            self.port = free_port()
            cmd = [self.binary, "--config", self.conf_path,
                   "--listen", "127.0.0.1:%d" % self.port, "--database", self.db_path]
            if self.now:
                cmd += ["--now", self.now]
            if self.log_level:
                cmd += ["--log-level", self.log_level]
            self.cmd = cmd
            err = open(self.stderr_path, "ab")
            out = open(self.stdout_path, "ab")
            self.spawned_at = time.time()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         cwd=self.tmp)
            err.close()
            out.close()
            try:
                self.wait_healthy(timeout)
                return self
            except DaemonError as e:
                last = e
                if self.proc.poll() is None:
                    raise
                tail = self.stderr_tail()
                if "in use" not in tail and "bind" not in tail.lower():
                    raise
        raise last

    def wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        lasterr = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.exit_code = rc
                raise DaemonError("zorgstatusd exited with %d before becoming healthy\n"
                                  "command: %s\n%s" % (rc, " ".join(self.cmd), self.diag()))
            try:
                st, _, body = self.get("/healthz", timeout=2)
                if st == 200:
                    return body
                lasterr = "status %d" % st
            except (OSError, http.client.HTTPException, DaemonError) as e:
                lasterr = repr(e)
            time.sleep(0.05)
        raise DaemonError("zorgstatusd not healthy after %.0fs (%s)\n%s" %
                          (timeout, lasterr, self.diag()))

    def stop(self, timeout=None):
        """SIGTERM, wait, return the exit code (raises DaemonError unless it is 0)."""
        timeout = STOP_TIMEOUT if timeout is None else timeout
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_code = self.proc.returncode
                raise DaemonError("zorgstatusd did not exit within %.0fs of SIGTERM\n%s" %
                                  (timeout, self.diag()))
        self.exit_code = self.proc.returncode
        if self.exit_code != 0:
            raise DaemonError("zorgstatusd exited with %d after SIGTERM (expected 0)\n%s" %
                              (self.exit_code, self.diag()))
        return self.exit_code

    def cleanup(self):
        """Stop (ignoring errors) and remove the temp dir unless ZS_KEEP_TMP is set."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.environ.get("ZS_KEEP_TMP"):
            sys.stderr.write("[harness] kept %s\n" % self.tmp)
            return
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    # diagnostics
    def stderr_tail(self, lines=60):
        try:
            with open(self.stderr_path, "rb") as fh:
                data = fh.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(data[-lines:])

    def diag(self, lines=60):
        return "--- zorgstatusd stderr (last %d lines, %s) ---\n%s\n--- end ---" % (
            lines, self.stderr_path, self.stderr_tail(lines))

    # HTTP client
    def request(self, method, path, headers=None, body=None, timeout=None):
        """Return (status, headers dict with lower-case names, raw body bytes)."""
        timeout = HTTP_TIMEOUT if timeout is None else timeout
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            dump_response(method, path, headers, resp.status, hdrs, data)
            return resp.status, hdrs, data
        finally:
            conn.close()

    def get(self, path, headers=None, method="GET", body=None, timeout=None):
        """Return (status, headers, parsed JSON).  Raises DaemonError when the body is not
        JSON (the API promises JSON for every answer, errors included)."""
        st, hdrs, data = self.request(method, path, headers, body, timeout)
        if method == "HEAD":
            return st, hdrs, None
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise DaemonError("%s %s -> %d with non-JSON body (Content-Type %r): %r" %
                              (method, path, st, hdrs.get("content-type"), data[:300]))
        return st, hdrs, parsed

    # helpers on the API
    def now_utc(self):
        """The daemon's clock from /healthz ("now"), as an aware datetime (or None)."""
        import datetime
        st, _, body = self.get("/healthz")
        v = body.get("now") if isinstance(body, dict) else None
        if not v:
            return None
        return datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))

    def feeds(self):
        st, _, body = self.get("/v1/feeds")
        if st != 200:
            raise DaemonError("/v1/feeds -> %d %r" % (st, body))
        return {f["name"]: f for f in body["feeds"]}

    def wait_feed(self, name, pred, what, timeout=None):
        """Poll /v1/feeds until pred(feed_dict) is true; return the feed dict."""
        timeout = WAIT_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        f = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DaemonError("zorgstatusd died (exit %s) while waiting for feed %s: %s\n%s"
                                  % (self.proc.returncode, name, what, self.diag()))
            f = self.feeds().get(name)
            if f is not None and pred(f):
                return f
            time.sleep(0.1)
        raise DaemonError("timeout after %.0fs waiting for feed %s: %s\nlast /v1/feeds entry: "
                          "%s\n%s" % (timeout, name, what, json.dumps(f, indent=1),
                                      self.diag()))

    def wait_success(self, name, timeout=None):
        return self.wait_feed(name, lambda f: f.get("last_success"),
                              "last_success set", timeout)

    def wait_until(self, fn, what, timeout=None, interval=0.1):
        """Poll fn() until it returns a true value; return it."""
        timeout = WAIT_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = fn()
            except (OSError, http.client.HTTPException) as e:
                last = e
                if self.proc.poll() is not None:
                    break
            if last and not isinstance(last, Exception):
                return last
            time.sleep(interval)
        raise DaemonError("timeout after %.0fs waiting for %s (last: %r)%s\n%s" %
                          (timeout, what, last, self.exit_note(), self.diag()))

    def exit_note(self):
        """'' while the daemon runs; otherwise a note with its exit status."""
        rc = self.proc.poll() if self.proc else None
        if rc is None:
            return ""
        return ("\nNOTE: zorgstatusd is no longer running (exit status %d%s) -- it crashed, "
                "exited, or was signalled by something outside this test" %
                (rc, ", signal %d" % -rc if rc < 0 else ""))

    def assert_alive(self, what=""):
        if self.proc.poll() is not None:
            raise DaemonError("zorgstatusd is not running %s%s\n%s" %
                              (what, self.exit_note(), self.diag()))


class DaemonTestCase(unittest.TestCase):
    """Base class: start_daemon() registers cleanup; on failure the stderr tail is printed."""

    def start_daemon(self, feeds, **kw):
        d = Daemon(feeds, **kw)
        self.addCleanup(d.cleanup)
        self.addCleanup(self._stop_checked, d)
        d.start()
        return d

    def start_server(self):
        s = FeedServer().start()
        self.addCleanup(s.stop)
        return s

    def _stop_checked(self, d):
        failed = False
        outcome = getattr(self, "_outcome", None)
        if outcome is not None and getattr(outcome, "success", True) is False:
            failed = True
        if failed:
            sys.stderr.write("\n%s\n" % d.diag(40))
        d.stop()


# --------------------------------------------------------------------------------------------
# feed builders

GENERATED_AT = "2026-11-12T06:00:00+01:00"


def insurer_header(concern_id, concern_name, uzovi, name, version=1,
                   generated_at=GENERATED_AT):
    return {"type": "header", "format": "zorgstatus-insurer", "version": version,
            "generated_at": generated_at,
            "concern": {"id": concern_id, "name": concern_name},
            "insurer": {"uzovi": uzovi, "name": name}}


def provider_header(publisher, version=1, generated_at=GENERATED_AT):
    return {"type": "header", "format": "zorgstatus-provider", "version": version,
            "generated_at": generated_at, "publisher": {"name": publisher}}


def policy(pid, year, name, kind, reimbursement, label=None):
    return {"type": "policy", "id": pid, "year": year, "name": name,
            "label": label or name, "kind": kind, "reimbursement": reimbursement}


def rule(care_type, percent, basis):
    return {"care_type": care_type, "percent": percent, "basis": basis}


def provider(agb, name, kind="hospital", parent=None, locations=None):
    d = {"type": "provider", "agb": agb, "name": name, "kind": kind,
         "locations": locations or [{"street": "Teststraat 1", "postcode": "3511AA",
                                     "city": "Utrecht"}]}
    if parent:
        d["parent"] = parent
    return d


def status(agb, year, care_type, st, policy=None, insurer=None, concern=None, **extra):
    """A status record addressed to exactly one of policy / insurer / concern."""
    d = {"type": "status", "agb": agb}
    if policy is not None:
        d["policy"] = policy
    if insurer is not None:
        d["insurer"] = insurer
    if concern is not None:
        d["concern"] = concern
    d.update({"year": year, "care_type": care_type, "status": st})
    d.update(extra)
    return d


def end(n):
    return {"type": "end", "records": n}


def jsonl(lines):
    """Lines (dicts, or str taken verbatim, e.g. broken JSON) -> JSON Lines bytes."""
    out = []
    for ln in lines:
        out.append(ln if isinstance(ln, str) else json.dumps(ln, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8")


def feed(header, records, trailer=True, count=None):
    """header + records + trailer {"type":"end","records":len(records)} (or count)."""
    lines = [header] + list(records)
    if trailer:
        lines.append(end(len(records) if count is None else count))
    return jsonl(lines)


def line_of(data, predicate):
    """1-based line number of the first line of the JSONL bytes for which predicate(text)."""
    for i, ln in enumerate(data.decode("utf-8").split("\n"), 1):
        if predicate(ln):
            return i
    raise KeyError("no such line")


# --------------------------------------------------------------------------------------------
# response navigation

def year_block(resp, year):
    for y in resp.get("years", []):
        if y.get("year") == year:
            return y
    return None


def statuses_by_policy(resp, year):
    """{policy id: {care_type: status object}} for one year of a /v1/providers answer."""
    y = year_block(resp, year)
    if y is None:
        raise AssertionError("year %d missing from response years %r" %
                             (year, [b.get("year") for b in resp.get("years", [])]))
    out = {}
    for p in y.get("policies", []):
        out[p["policy"]["id"]] = {s["care_type"]: s for s in p.get("statuses", [])}
    return out


def source_tuples(st):
    """Set of (kind, feed, status, level) of a status object's sources."""
    return {(s.get("kind"), s.get("feed"), s.get("status"), s.get("level"))
            for s in st.get("sources", [])}
