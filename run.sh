#!/bin/sh
# One command: install what is missing (Debian 12, as root), build, and serve the bundled sample
# feeds on http://127.0.0.1:8080 (SQLite file zorgstatus.db here). Extra arguments go to the
# daemon, e.g. ./run.sh --listen 127.0.0.1:9090 --now 2026-11-11T23:59:50
set -eu
cd "$(dirname "$0")"
sh packaging/install-deps.sh
if [ ! -x src/zorgstatusd ] || [ ! -f Makefile ]; then
	[ -x configure ] || autoreconf -fi
	[ -f Makefile ] || ./configure
fi
make -j"$(nproc)" >/dev/null
exec ./src/zorgstatusd --database zorgstatus.db "$@"
