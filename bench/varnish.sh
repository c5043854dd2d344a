#!/usr/bin/env bash
# bench/varnish.sh - requests per second of the provider lookup mix through the cache tier
# (varnishd with packaging/varnish/zorgstatus.vcl) against the daemon alone, beside nginx
# serving one pre-rendered lookup (issue 10).
#
#   bench/varnish.sh [--duration 10s] [--connections 64] [--wrk-threads 2] [--daemon PATH]
#                    [--config FILE] [--results DIR]
#
# Without --config the daemon runs on the bundled sample feeds (its built-in configuration);
# with --config (e.g. the one bench/run.sh writes for the national dataset) on those feeds.
# The lookup mix rotates over every provider the daemon knows (bench/paths.lua), so after the
# first round every lookup is a Varnish hit: this measures what the cache tier serves at the
# peak, where answers change only when a feed does. Writes DIR/VARNISH.md (default
# bench/results). Needs wrk, varnish, varnish-modules (xkey) and nginx; everything listens on
# 127.0.0.1 and is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
duration=10s
connections=64
wrk_threads=2
daemon="$repo/src/zorgstatusd"
[ -x "$daemon" ] || daemon="$repo/build/src/zorgstatusd"
config=""
results="$here/results"
while [ $# -gt 0 ]; do
	case "$1" in
	--duration) duration=$2; shift 2 ;;
	--connections) connections=$2; shift 2 ;;
	--wrk-threads) wrk_threads=$2; shift 2 ;;
	--daemon) daemon=$2; shift 2 ;;
	--config) config=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	-h|--help) sed -n '2,15p' "$0"; exit 0 ;;
	*) echo "varnish.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
die() { echo "varnish.sh: $*" >&2; exit 1; }
for t in wrk varnishd curl python3; do
	command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || die "$t is required (apt-get install wrk varnish varnish-modules nginx)"
done
[ -x "$daemon" ] || die "no daemon binary at $daemon (build first, or --daemon PATH)"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || nginx_bin=""

work=$(mktemp -d /tmp/zs-varnish-bench-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_200() {
	for _ in $(seq 1 300); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}
dport=$(port); vport=$(port); nport=$(port)

# the daemon, alone
args=(--listen "127.0.0.1:$dport" --database "$work/zs.db" --log-level warn)
[ -n "$config" ] && args+=(--config "$config")
"$daemon" "${args[@]}" 2>"$work/daemon.log" &
pids+=($!)
wait_200 "http://127.0.0.1:$dport/readyz" || die "the daemon did not get ready (see $work/daemon.log)"

# the lookup mix: every provider with a status (read from the change feed, /v1/changes)
python3 - "$dport" "$work/paths.txt" <<'EOF'
import json, sys, urllib.request
port, out = sys.argv[1], sys.argv[2]
agbs, since = set(), None
for _ in range(100000):
    url = "http://127.0.0.1:%s/v1/changes?limit=1000" % port + ("&since=" + since if since else "")
    with urllib.request.urlopen(url) as r:
        body = json.load(r)
    agbs.update(e["agb"] for e in body["changes"] if e.get("agb"))
    since = body["next"]
    if not body["more"]:
        break
with open(out, "w") as fh:
    for a in sorted(agbs):
        fh.write("/v1/providers/%s\n" % a)
print("lookup mix: %d providers" % len(agbs))
EOF
[ -s "$work/paths.txt" ] || die "no providers found for the lookup mix"
first=$(head -n 1 "$work/paths.txt")

# varnishd with the shipped VCL, the daemon as its backend
sed "s/\.port = \"8080\";/.port = \"$dport\";/" "$repo/packaging/varnish/zorgstatus.vcl" >"$work/zs.vcl"
chmod 644 "$work/zs.vcl"
varnishd=$(command -v varnishd || echo /usr/sbin/varnishd)
"$varnishd" -F -n "$work/varnish" -a "127.0.0.1:$vport" -f "$work/zs.vcl" -s malloc,256m \
	-T none >"$work/varnish.log" 2>&1 &
pids+=($!)
wait_200 "http://127.0.0.1:$vport$first" || die "varnishd did not serve (see $work/varnish.log)"

# nginx: one pre-rendered lookup for every path
if [ -n "$nginx_bin" ]; then
	mkdir -p "$work/static" "$work/ng/tmp"
	curl -s "http://127.0.0.1:$dport$first" >"$work/static/provider.json"
	cat >"$work/ng/nginx.conf" <<EOF
$([ "$(id -u)" = 0 ] && echo "user root;")
worker_processes 2;
daemon off;
pid $work/ng/nginx.pid;
error_log $work/ng/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/ng/tmp;
    proxy_temp_path $work/ng/tmp;
    fastcgi_temp_path $work/ng/tmp;
    uwsgi_temp_path $work/ng/tmp;
    scgi_temp_path $work/ng/tmp;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$nport;
        root $work/static;
        location /v1/providers/ { default_type application/json; try_files /provider.json =404; }
    }
}
EOF
	"$nginx_bin" -p "$work/ng" -c "$work/ng/nginx.conf" -e "$work/ng/error.log" &
	pids+=($!)
	wait_200 "http://127.0.0.1:$nport$first" || nginx_bin=""
fi

run() { # NAME PORT [HEADER]
	local extra=()
	[ -n "${3:-}" ] && extra=(-H "$3")
	# warm-up (fills the cache), then the measured run
	wrk -t"$wrk_threads" -c"$connections" -d2s -s "$here/paths.lua" "${extra[@]}" \
		"http://127.0.0.1:$2" -- "$work/paths.txt" >/dev/null 2>&1 || true
	local rps
	rps=$(wrk -t"$wrk_threads" -c"$connections" -d"$duration" -s "$here/paths.lua" "${extra[@]}" \
		"http://127.0.0.1:$2" -- "$work/paths.txt" 2>&1 | awk '/^Requests\/sec/ {print $2}')
	printf '| %s | %s |\n' "$1" "${rps:-n/a}"
}
bytes=$(stat -c %s "$work/static/provider.json" 2>/dev/null || echo "?")
mkdir -p "$results"
{
	echo "# Lookup mix through Varnish (bench/varnish.sh)"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, wrk -t$wrk_threads -c$connections -d$duration,"
	echo "$(wc -l <"$work/paths.txt") providers rotating, $("$varnishd" -V 2>&1 | sed -n 's/.*(\(varnish-[0-9.]*\).*/\1/p' | head -n 1),"
	echo "feeds: ${config:-the bundled sample}; one lookup answer: $bytes bytes."
	echo
	echo "| target | requests/s |"
	echo "| --- | --- |"
	run "daemon alone" "$dport"
	run "daemon alone, gzip" "$dport" "Accept-Encoding: gzip"
	run "through Varnish" "$vport"
	run "through Varnish, gzip" "$vport" "Accept-Encoding: gzip"
	if [ -n "$nginx_bin" ]; then
		run "nginx, one pre-rendered lookup" "$nport"
	fi
} | tee "$results/VARNISH.md"
