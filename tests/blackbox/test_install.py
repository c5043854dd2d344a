"""Installed layout of the daemon (issue 9, item 1).

- The man pages zorgstatusd(8) and zorgstatus.conf(5) are written by the daemon from its one
  settings table (`--man 8|5`): every setting `--help` lists, with its default and bounds, is in
  both, so they cannot drift.
- Source-tree paths (www/, feeds/) are used only by the binary in its own build tree; the same
  binary copied anywhere else uses the installed paths (pkgdatadir) only.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

TOP = os.path.realpath(os.environ.get("ZS_TOP_SRCDIR")
                       or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def run(binary, *args):
    return subprocess.run([binary] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)


def help_settings(binary):
    """[(name, default, lo, hi)] from --help: '  --name  help' then 'default D[, from L to H]'."""
    out = run(binary, "--help").stdout.splitlines()
    settings = []
    for i, line in enumerate(out):
        m = re.match(r"^  --([a-z_]+) ", line)
        if not m or i + 1 >= len(out):
            continue
        d = re.match(r'^\s+default (?:"(.*)"|(\S+), from (-?\d+) to (-?\d+))$', out[i + 1])
        if d:
            settings.append((m.group(1), d.group(1) if d.group(1) is not None else d.group(2),
                             d.group(3), d.group(4)))
    return settings


def dump(binary):
    out = run(binary, "--dump-config")
    if out.returncode != 0:
        raise AssertionError("--dump-config failed: " + out.stderr)
    www = re.search(r"^www_dir = (.*)$", out.stdout, re.M).group(1)
    url = re.search(r"^url = (.*)$", out.stdout, re.M).group(1)
    return www, url


class ManPages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = harness.require_binary()
        cls.settings = help_settings(cls.bin)

    def page(self, section):
        r = run(self.bin, "--man", str(section))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_help_has_settings(self):
        # the parser above must see the table, or the tests below would pass on nothing
        names = [s[0] for s in self.settings]
        for n in ("listen", "database", "threads", "log_level", "response_cache_seconds"):
            self.assertIn(n, names)
        self.assertGreaterEqual(len(names), 20)

    def test_section8_lists_every_setting_with_default_and_bounds(self):
        page = self.page(8)
        self.assertTrue(page.startswith(".TH ZORGSTATUSD 8 "), page[:80])
        for name, default, lo, hi in self.settings:
            self.assertIn("\\fB\\-\\-%s\\fR" % name, page, name)
            if lo is not None:
                self.assertIn("Default %s, from %s to %s." % (default, lo, hi), page, name)
        for opt in ("config", "dump\\-config", "help", "version", "man"):
            self.assertIn("\\fB\\-\\-%s\\fR" % opt, page)
        for sig in ("SIGHUP", "SIGTERM"):
            self.assertIn(sig, page)

    def test_section5_lists_every_setting_and_feed_key(self):
        page = self.page(5)
        self.assertTrue(page.startswith(".TH ZORGSTATUS.CONF 5 "), page[:80])
        for name, default, lo, hi in self.settings:
            self.assertIn("\\fB%s\\fR = " % name, page, name)
        for key in ("kind", "url", "schedule", "stale_after", "max_invalid_rows",
                    "credentials_file"):
            self.assertIn("\\fB%s\\fR = " % key, page, key)

    def test_pages_are_clean_roff(self):
        groff = shutil.which("groff")
        if not groff:
            self.skipTest("groff not installed")
        for section in (8, 5):
            # every warning but "cannot adjust/break line" (long paths of a test prefix)
            r = subprocess.run([groff, "-man", "-ww", "-Wbreak", "-z", "-Tutf8"],
                               input=self.page(section),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=60)
            self.assertEqual(r.stderr, "", "groff warnings in section %d" % section)

    def test_other_sections_refused(self):
        for arg in (["--man", "3"], ["--man"]):
            r = run(self.bin, *arg)
            self.assertEqual(r.returncode, 64, arg)  # EX_USAGE
            self.assertIn("--man needs 8", r.stderr)
            self.assertEqual(r.stdout, "")


class Paths(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = harness.require_binary()

    def test_build_tree_binary_uses_source_tree(self):
        www, url = dump(self.bin)
        self.assertEqual(os.path.realpath(www), os.path.join(TOP, "www"))
        self.assertTrue(url.startswith("file:///"), url)
        self.assertEqual(os.path.dirname(os.path.realpath(url[len("file://"):])),
                         os.path.join(TOP, "feeds"))

    def test_copied_binary_uses_installed_paths_only(self):
        tmp = tempfile.mkdtemp(prefix="zsinst-")
        try:
            copy = os.path.join(tmp, "zorgstatusd")
            shutil.copy2(self.bin, copy)
            www, url = dump(copy)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        # pkgdatadir (make distcheck installs under the tree, so compare with the source dirs)
        self.assertTrue(www.endswith("/share/zorgstatus/www"), www)
        self.assertNotEqual(os.path.realpath(www), os.path.join(TOP, "www"))
        self.assertRegex(url, r"^file:///.*/share/zorgstatus/feeds/[a-z-]+\.jsonl$")
        self.assertNotEqual(os.path.dirname(os.path.realpath(url[len("file://"):])),
                            os.path.join(TOP, "feeds"))


if __name__ == "__main__":
    unittest.main()
