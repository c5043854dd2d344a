#!/bin/sh
# One command: install what is missing (Debian 12, as root), build, and serve the bundled sample
# feeds on http://127.0.0.1:8080 (SQLite file zorgstatus.db here). Extra arguments go to the
# daemon, e.g. ./run.sh --listen 127.0.0.1:9090 --now 2026-11-11T23:59:50
# Builds out of tree in build/ (as ./test.sh does), unless this tree is configured in place.
set -eu
cd "$(dirname "$0")"
top=$(pwd)
sh packaging/install-deps.sh
[ -x configure ] || autoreconf -fi
if [ -f config.status ]; then
	dir=.
else
	dir=build
	mkdir -p build
	[ -f build/Makefile ] || (cd build && "$top/configure" >/dev/null)
fi
make -C "$dir" -j"$(nproc)" >/dev/null
exec "$dir/src/zorgstatusd" --database zorgstatus.db "$@"
