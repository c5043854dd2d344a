#!/bin/sh
# tests/fuzz/build.sh - build the libFuzzer targets with clang under ASan + UBSan (`make fuzz`
# runs this; see tests/fuzz/README.md). Out of the default build on purpose: it needs clang and
# Debian's libclang-rt-14-dev (libFuzzer's runtime).
#
# usage: build.sh TOP_SRCDIR TOP_BUILDDIR "CFLAGS of the libraries" "LIBS" "core sources"
# (the core library's sources as Makefile.am lists them, relative to either tree)
# env:   FUZZ_CC (default clang), FUZZ_SAN (default address,undefined)
set -eu
src=$1 build=$2 libcflags=$3 libs=$4 sources=$5
cc=${FUZZ_CC:-clang}
san=${FUZZ_SAN:-address,undefined}
out=$build/tests/fuzz
obj=$out/obj
mkdir -p "$obj"
command -v "$cc" >/dev/null 2>&1 || { echo "fuzz: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=$san -fno-sanitize-recover=all -std=gnu11"
cppflags="-I$src/src -I$build -include config.h -DZS_FUZZ_FEEDS_DIR=\"$src/feeds\""
objs=
for f in $sources; do
	case $f in *.c) ;; *) continue ;; esac
	if [ -f "$src/$f" ]; then c=$src/$f; elif [ -f "$build/$f" ]; then c=$build/$f; else
		echo "fuzz: $f not found" >&2; exit 1; fi
	o=$obj/$(basename "$c" .c).o
	# rebuild when the source or any header is newer
	if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || [ -n "$(find "$src/src" -name '*.h' -newer "$o" | head -n 1)" ]; then
		echo "  FUZZCC   $(basename "$c")"
		# shellcheck disable=SC2086
		$cc $flags -fsanitize=fuzzer-no-link $cppflags $libcflags -c "$c" -o "$o"
	fi
	objs="$objs $o"
done
for t in fuzz_feed_line fuzz_config fuzz_request; do
	echo "  FUZZLD   $t"
	# shellcheck disable=SC2086
	$cc $flags -fsanitize=fuzzer $cppflags $libcflags "$src/tests/fuzz/$t.c" $objs $libs \
		-o "$out/$t"
done
echo "fuzz: targets in $out (run them with $src/tests/fuzz/run.sh)"
