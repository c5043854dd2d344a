#!/bin/sh
# One command: install what is missing, build with warnings as errors, run the whole suite
# (check unit tests + black-box daemon tests), then again under AddressSanitizer and
# UndefinedBehaviorSanitizer, then a valgrind leak check of a daemon run.
# Ends with one line "N passed, N failed".
set -u
cd "$(dirname "$0")"
top=$(pwd)
sh packaging/install-deps.sh || exit 1
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; exit 1; }

pass=0; fail=0
tally() { # $1 = build dir: add the automake test-suite counts
	p=$(sed -n 's/^# PASS: *//p' "$1/test-suite.log" 2>/dev/null | head -1)
	f=$(sed -n 's/^# FAIL: *//p' "$1/test-suite.log" 2>/dev/null | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$1/test-suite.log" 2>/dev/null | head -1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0}))
}
suite() { # $1 = build dir, rest = configure flags
	dir=$1; shift
	mkdir -p "$dir"
	( cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1 ) ||
		{ echo "configure failed in $dir"; tail -20 "$dir/configure.out"; fail=$((fail + 1)); return; }
	make -C "$dir" -j"$(nproc)" >"$dir/build.out" 2>&1 ||
		{ echo "build failed in $dir"; grep -E "error|warning" "$dir/build.out" | head -30; fail=$((fail + 1)); return; }
	echo "== make check in $dir $*"
	make -C "$dir" -j2 check 2>&1 | grep -E "^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):|^# |[0-9]+%: Checks" || true
	if grep -q "^# FAIL: *[1-9]\|^# ERROR: *[1-9]" "$dir/test-suite.log" 2>/dev/null; then
		for l in "$dir"/tests/*/*.log; do
			grep -q "^FAIL\|^ERROR\|FAIL:\|Traceback\|Error" "$l" 2>/dev/null && { echo "---- $l"; tail -60 "$l"; }
		done
	fi
	tally "$dir"
}
suite build
suite build-asan --enable-asan
echo "== valgrind: daemon run on the sample feeds"
if sh tests/valgrind.sh build/src/zorgstatusd; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
echo
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
