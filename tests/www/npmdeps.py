"""The pinned npm packages of the browser tests (tests/www/package.json: playwright-core,
axe-core), shared by test_widget.py and test_staff_page.py so that only one of them installs at a
time (make -j2 check runs both).

ensure_node_modules() returns the node_modules directory, installing the packages with `npm ci`
(exactly the lock file's versions; the tracked lock file is never rewritten) when they are
missing: in tests/www when it is writable, else in a cache directory (make distcheck's source
tree is read-only). No browser download: playwright-core drives /usr/bin/chromium. The check and
the install happen under one file lock. ZS_NODE_MODULES names a directory to use instead."""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCALE = float(os.environ.get("ZS_TIMEOUT_SCALE", "1") or "1")


def node_modules_ok(d):
    """d/node_modules holds the versions package.json pins?"""
    with open(os.path.join(HERE, "package.json"), encoding="utf-8") as f:
        want = json.load(f)["devDependencies"]
    for name, version in want.items():
        try:
            with open(os.path.join(d, "node_modules", name, "package.json"), encoding="utf-8") as f:
                if json.load(f).get("version") != version:
                    return False
        except (OSError, ValueError):
            return False
    return True


def install_dir():
    """tests/www, or a cache directory named after the lock file when tests/www is read-only."""
    if os.access(HERE, os.W_OK):
        return HERE
    with open(os.path.join(HERE, "package-lock.json"), "rb") as f:
        tag = hashlib.sha256(f.read()).hexdigest()[:12]
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                        "zorgstatus-www-" + tag)


def ensure_node_modules():
    if os.environ.get("ZS_NODE_MODULES"):
        return os.environ["ZS_NODE_MODULES"]
    where = install_dir()
    with open(os.path.join(tempfile.gettempdir(), "zorgstatus-www-npm.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if node_modules_ok(where):
            return os.path.join(where, "node_modules")
        npm = shutil.which("npm")
        if not npm:
            return None
        try:
            if where != HERE:
                os.makedirs(where, exist_ok=True)
                for name in ("package.json", "package-lock.json"):
                    shutil.copy(os.path.join(HERE, name), os.path.join(where, name))
            p = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                               cwd=where, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=300 * SCALE)
        except (OSError, subprocess.TimeoutExpired) as e:
            sys.stderr.write("cannot install the npm packages in %s: %s\n" % (where, e))
            return None
        if p.returncode != 0:
            sys.stderr.write(p.stdout.decode("utf-8", "replace")[-2000:])
        return os.path.join(where, "node_modules") if node_modules_ok(where) else None
