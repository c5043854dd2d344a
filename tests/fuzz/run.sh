#!/bin/sh
# tests/fuzz/run.sh - run every libFuzzer target for SECONDS (default 60) under ASan + UBSan.
# First the regression corpus (every input that ever failed) is replayed, then each target
# fuzzes from its seeds (the sample feeds, feeds/sample.conf, tests/fuzz/seeds) plus the
# corpus it built before. Exit status non-zero on any crash, leak, timeout or sanitizer report;
# the input that failed is kept as WORK/crash-TARGET-* (add it to tests/fuzz/regression/TARGET/).
#
# usage: tests/fuzz/run.sh [SECONDS] [BUILDDIR]     (after `make fuzz` in BUILDDIR, default .)
# env:   FUZZ_WORK (default BUILDDIR/tests/fuzz/work), FUZZ_JOBS (parallel jobs per target, 1),
#        FUZZ_TARGETS (default: all three)
set -eu
secs=${1:-60}
build=${2:-.}
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$build/tests/fuzz
work=${FUZZ_WORK:-$bin/work}
jobs=${FUZZ_JOBS:-1}
targets=${FUZZ_TARGETS:-fuzz_feed_line fuzz_config fuzz_request}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ZS_FUZZ_FEEDS_DIR=$src/feeds

for t in $targets; do
	[ -x "$bin/$t" ] || { echo "fuzz: $bin/$t missing: run 'make fuzz' first" >&2; exit 1; }
done
mkdir -p "$work"
status=0
for t in $targets; do
	corpus=$work/corpus-$t
	seeds=$work/seeds-$t
	reg=$src/tests/fuzz/regression/$t
	mkdir -p "$corpus" "$seeds"
	case $t in
	fuzz_feed_line) # one seed per sample feed line; first byte: bit 0 provider feed, bit 1
		# no header seen yet (the first line)
		for f in "$src"/feeds/*.jsonl; do
			case $(basename "$f") in insurer-*) k=0 ;; *) k=1 ;; esac
			i=0
			while IFS= read -r line && [ $i -lt 40 ]; do
				i=$((i + 1))
				mode=$k
				[ $i -eq 1 ] && mode=$((k + 2))
				{ printf "\\00$mode"; printf '%s' "$line"; } > "$seeds/$(basename "$f" .jsonl)-$i"
			done < "$f"
		done ;;
	fuzz_config)
		cp "$src/feeds/sample.conf" "$seeds/sample.conf"
		[ -f "$src/packaging/zorgstatus.conf.in" ] && cp "$src/packaging/zorgstatus.conf.in" "$seeds/" || true ;;
	fuzz_request)
		cp "$src"/tests/fuzz/seeds/fuzz_request/* "$seeds/" ;;
	esac
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
		echo "== $t: regression corpus"
		if ! "$bin/$t" -runs=1 "$reg"/* > "$work/$t-regression.log" 2>&1; then
			echo "fuzz: $t fails on its regression corpus (see $work/$t-regression.log)" >&2
			tail -n 30 "$work/$t-regression.log" >&2
			status=1
			continue
		fi
	fi
	echo "== $t: fuzzing for $secs s"
	if ! "$bin/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-jobs="$jobs" -workers="$jobs" -print_final_stats=1 \
		-artifact_prefix="$work/crash-$t-" "$corpus" "$seeds" > "$work/$t.log" 2>&1; then
		echo "fuzz: $t FAILED (see $work/$t.log; inputs in $work/crash-$t-*)" >&2
		tail -n 40 "$work/$t.log" >&2
		status=1
	else
		grep -E "^stat::number_of_executed_units|^Done" "$work/$t.log" | tail -n 1 || true
	fi
done
exit $status
