#!/usr/bin/env python3
"""Run the zorgstatusd black-box tests (unittest discovery in this directory).

Exit status for automake: 0 all passed, 77 skipped (binary not built), 1 any failure.
Usage: run.py [-v] [-k PATTERN ...]   (extra arguments go to unittest's -k filter)
Env:   ZORGSTATUSD (binary), ZS_TIMEOUT_SCALE, ZS_CALENDAR_LEAD, ZS_KEEP_TMP -- see harness.py
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


def main(argv):
    if harness.find_binary() is None:
        sys.stderr.write("SKIP: zorgstatusd binary not found (set ZORGSTATUSD=path)\n")
        return 77
    sys.stderr.write("zorgstatusd: %s\n" % harness.find_binary())
    patterns = [a for a in argv if a not in ("-v", "-q")]
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = ["*%s*" % p for p in patterns]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    verbosity = 1 if "-q" in argv else 2
    result = unittest.TextTestRunner(verbosity=verbosity, stream=sys.stderr).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.testsRun and len(result.skipped) == result.testsRun:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
