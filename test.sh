#!/bin/sh
# One command: install what is missing, build with warnings as errors, run the whole suite
# (check unit tests + black-box daemon tests), then again under AddressSanitizer and
# UndefinedBehaviorSanitizer, then a valgrind leak check of a daemon run, then the API contract
# checks on every answer the plain run collected (tests/openapi/run.sh: redocly lint, a generated
# TypeScript client, Ajv, openapi-response-validator, Prism) and the fuzzers for
# ZS_FUZZ_SECONDS (default 60) each under ASan+UBSan (tests/fuzz/run.sh).
# Ends with one line "N passed, N failed".
set -u
cd "$(dirname "$0")" || exit 1
top=$(pwd)
sh packaging/install-deps.sh --test || exit 1
if [ -f config.status ]; then
	echo "test.sh builds out of tree (build/, build-asan/), but this source tree is configured"
	echo "in place. Run 'make distclean' here first, or run 'make check' in this tree."
	exit 1
fi
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; exit 1; }

pass=0; fail=0
tally() { # $1 = build dir: count single tests (check's "Checks: N, Failures: F, Errors: E",
	# unittest's "Ran N tests" and "FAILED (failures=F, errors=E)"); a test program whose log
	# has no count counts as one test, failed unless automake says it passed.
	for l in "$1"/tests/*/*.log; do
		[ -f "$l" ] || continue
		counts=$(awk '
			/Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
				for (i = 1; i <= NF; i++) { w = $i; gsub(/[^0-9]/, "", w)
					if ($(i-1) == "Checks:") n = w; if ($(i-1) == "Failures:") f = w
					if ($(i-1) == "Errors:") e = w }
				found = 1 }
			/^Ran [0-9]+ test/ { n = $2; found = 1 }
			/^FAILED \(/ { while (match($0, /(failures|errors)=[0-9]+/)) {
					kv = substr($0, RSTART, RLENGTH); sub(/.*=/, "", kv); f += kv
					$0 = substr($0, RSTART + RLENGTH) } }
			END { if (found) print n + 0, f + e + 0; else print "none" }' "$l")
		res=$(sed -n 's/^:test-result: //p' "${l%.log}.trs" 2>/dev/null | head -1)
		if [ "$counts" = "none" ]; then
			n=1; bad=1
			[ "$res" = PASS ] || [ "$res" = SKIP ] && bad=0
		else
			n=${counts% *}; bad=${counts#* }
			[ "$bad" -eq 0 ] && { [ "$res" = FAIL ] || [ "$res" = ERROR ]; } && bad=1
		fi
		pass=$((pass + n - bad)); fail=$((fail + bad))
	done
}
suite() { # $1 = build dir, rest = configure flags
	dir=$1; shift
	mkdir -p "$dir"
	( cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1 ) ||
		{ echo "configure failed in $dir"; tail -20 "$dir/configure.out"; fail=$((fail + 1)); return; }
	make -C "$dir" -j"$(nproc)" >"$dir/build.out" 2>&1 ||
		{ echo "build failed in $dir"; grep -E "error|warning" "$dir/build.out" | head -30; fail=$((fail + 1)); return; }
	echo "== make check in $dir $*"
	dump=""
	[ "$dir" = build ] && { dump="$top/build/responses"; rm -rf "$dump"; mkdir -p "$dump"; }
	ZS_DUMP_RESPONSES=$dump make -C "$dir" -j2 check 2>&1 |
		grep -E "^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):|^# |[0-9]+%: Checks" || true
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
echo "== openapi: every answer of the plain run against docs/openapi.json (tests/openapi/run.sh)"
if [ -d build/responses ] && [ -x build/src/zorgstatusd ]; then
	ZORGSTATUSD="$top/build/src/zorgstatusd" sh tests/openapi/run.sh "$top/build/responses" \
		>build/openapi.out 2>&1
	tail -n 15 build/openapi.out
	last=$(tail -n 1 build/openapi.out)
	p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
	f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-1}))
else
	echo "openapi: no build/responses (the plain build failed)"; fail=$((fail + 1))
fi
echo "== fuzz: ${ZS_FUZZ_SECONDS:-60} s per target under ASan+UBSan (tests/fuzz/run.sh)"
if make -C build fuzz >build/fuzz-build.out 2>&1 &&
	sh tests/fuzz/run.sh "${ZS_FUZZ_SECONDS:-60}" build >build/fuzz.out 2>&1; then
	tail -n 5 build/fuzz.out; pass=$((pass + 1))
else
	tail -n 30 build/fuzz-build.out build/fuzz.out 2>/dev/null; fail=$((fail + 1))
fi
echo
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
