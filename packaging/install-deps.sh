#!/bin/sh
# Install the Debian 12 packages zorgstatus needs to build and run (and, with --test, to test;
# with --ci, also to build and check the Debian package).
# Runs apt-get only for what is missing; needs root for that.
set -eu
# What building and running needs; "--test" adds what the test suite needs.
PKGS="build-essential autoconf automake pkg-config libevent-dev libsqlite3-dev libjansson-dev
libcurl4-openssl-dev zlib1g-dev libsystemd-dev libssl-dev tzdata ca-certificates"
if [ "${1:-}" = "--test" ] || [ "${1:-}" = "--ci" ]; then
	PKGS="$PKGS check python3 curl valgrind chromium prometheus"
	PKGS="$PKGS varnish varnish-modules" # tests/blackbox/test_varnish.py (cache tier)
	PKGS="$PKGS clang libclang-rt-14-dev" # tests/fuzz (libFuzzer)
	PKGS="$PKGS strace" # tests/blackbox/test_http.py (answers written at once)
	# docs/openapi.json checks (tests/openapi/run.sh) and the widget tests (tests/www: npm
	# playwright-core and axe-core); npm only where node brings none
	PKGS="$PKGS python3-jsonschema nodejs"; command -v npm >/dev/null || PKGS="$PKGS npm"
fi
# "--ci" adds what CI needs to build, check and install the Debian package (.ci/run).
if [ "${1:-}" = "--ci" ]; then
	PKGS="$PKGS debhelper dpkg-dev fakeroot lintian systemd sqlite3 man-db"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
