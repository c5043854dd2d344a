#!/bin/sh
# Check docs/openapi.json with established tools (issue 14).  From anywhere:
#
#   tests/openapi/run.sh [DUMP_DIR]
#
# 1. npm ci into tests/openapi/node_modules (git-ignored; versions pinned in package-lock.json;
#    needs Node >= 18.20 and npm, and the npm registry on first run)
# 2. redocly lint (recommended rules, redocly.yaml): 0 errors
# 3. openapi-typescript generates the client types (generated/, git-ignored) and
#    tsc --noEmit type-checks client-check.ts against them
# 4. Ajv (2020-12, strict, ajv-formats) and openapi-response-validator validate every answer in
#    DUMP_DIR against the document (validate-responses.js).  Without DUMP_DIR, the black-box suite is run first with
#    ZS_DUMP_RESPONSES into a temporary directory: that needs a built daemon
#    (ZORGSTATUSD=path/to/zorgstatusd) and python3-jsonschema; ZS_BLACKBOX_PATTERN limits it
#    (run.py -k patterns, e.g. "OpenApi").
# 5. Prism in proxy mode (prism_replay.py) in front of a sample-feed daemon replays the same
#    requests and must log no response violation (needs ZORGSTATUSD; skip with ZS_NO_PRISM=1).
#
# Exit status non-zero on any failure; the last line is "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
doc="$top/docs/openapi.json"
passed=0
failed=0
ok() { passed=$((passed + $1)); }
bad() { failed=$((failed + $1)); echo "run.sh: FAILED: $2" >&2; }
finish() {
	[ -n "${tmpdump:-}" ] && rm -rf "$tmpdump"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit $?
}
# counts from a step's own "N passed, N failed" last line
add_counts() {
	line=$(tail -n 1 "$1")
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-1}))
}

cd "$here" || exit 1
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "run.sh: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
	bad 1 "node/npm missing"
	finish
fi
echo "== npm ci ($(node --version))"
if cmp -s package-lock.json node_modules/.zs-installed-lock 2>/dev/null; then
	echo "node_modules up to date"
elif npm ci --no-audit --no-fund --loglevel=error; then
	cp package-lock.json node_modules/.zs-installed-lock
else
	bad 1 "npm ci"
	finish
fi
bin="$here/node_modules/.bin"

echo "== redocly lint"
if "$bin/redocly" lint zorgstatus --format=stylish; then ok 1; else bad 1 "redocly lint"; fi

echo "== openapi-typescript + tsc --noEmit"
rm -rf generated
if "$bin/openapi-typescript" && "$bin/tsc" -p tsconfig.json; then
	ok 1
else
	bad 1 "generated TypeScript client does not type-check"
fi

dump="${1:-}"
if [ -z "$dump" ]; then
	if [ -z "${ZORGSTATUSD:-}" ]; then
		echo "run.sh: no DUMP_DIR and no ZORGSTATUSD: cannot collect real answers" >&2
		bad 1 "no answers to validate"
		finish
	fi
	tmpdump=$(mktemp -d /tmp/zs-openapi-dump.XXXXXX)
	dump="$tmpdump"
	echo "== black-box suite with ZS_DUMP_RESPONSES=$dump"
	# shellcheck disable=SC2086
	if ZS_DUMP_RESPONSES="$dump" ZS_TOP_SRCDIR="$top" \
		python3 "$top/tests/blackbox/run.py" -q ${ZS_BLACKBOX_PATTERN:-}; then
		ok 1
	else
		bad 1 "black-box suite"
	fi
fi

echo "== ajv + openapi-response-validator over the answers in $dump"
out=$(mktemp)
node validate-responses.js "$doc" "$dump" | tee "$out"
add_counts "$out"

if [ "${ZS_NO_PRISM:-0}" != 1 ] && [ -n "${ZORGSTATUSD:-}" ]; then
	echo "== prism proxy replay"
	python3 prism_replay.py "$doc" "$dump" | tee "$out"
	add_counts "$out"
else
	echo "== prism proxy replay skipped (ZS_NO_PRISM=1 or no ZORGSTATUSD)"
fi
rm -f "$out"
finish
