#!/usr/bin/env bash
# bench/run.sh - national-scale benchmark of zorgstatusd, side by side with nginx.
#
#   bench/run.sh [--scale national|small] [--duration 20s] [options]
#
# One command: builds the daemon if src/zorgstatusd is missing, installs wrk and nginx with
# apt-get when missing (as root), generates the dataset (bench/gen.py), serves the feeds through
# nginx on 127.0.0.1, starts the daemon with a fresh database, measures ingest + reconciliation
# time and peak RSS, runs wrk against lookup / search / compare (with and without gzip) and
# against nginx serving one pre-rendered lookup JSON (and, for the Zipf rows, nginx serving for
# every path a file of the size of the daemon's answer), and writes bench/results/RESULTS.md and
# bench/results/results.json. Targets are reported (PASS/MISS), never asserted: the exit status
# is 0 unless the benchmark itself could not run. Everything listens on 127.0.0.1 only; every
# process started here is stopped on exit. See bench/README.md.
#
# Options:
#   --scale national|small   dataset size (default national)
#   --duration D             wrk duration per run, e.g. 20s, 1m (default 20s)
#   --warmup D               wrk warm-up per target, not recorded (default 2s)
#   --connections N          wrk connections (default 64)
#   --wrk-threads N          wrk threads (default 2)
#   --threads N              daemon serving threads = nginx worker_processes (default 2)
#   --seed N                 dataset seed (default 1)
#   --providers N            providers in the dataset instead of the scale's (gen.py --providers;
#                              320000 at national scale makes the largest insurer feed ~100 MB)
#   --daemon PATH            daemon binary (default src/zorgstatusd of this repository)
#   --no-build               never build the daemon; without a binary, run the nginx part only
#   --no-install             never apt-get install missing tools
#   --regen                  regenerate the dataset even if an up-to-date one exists
#   --ingest-timeout SEC     give up waiting for ingest after SEC (default 900; small: 120)
#   --workdir DIR            scratch directory (default bench/work; holds dataset, logs, db)
#   --results DIR            where RESULTS.md and results.json go (default bench/results)
#   --modes LIST             comma-separated measurement phases (default basic,zipf,open,churn,season):
#                              basic  lookup/search/compare rotating over the request lists
#                                     (identity and gzip); warm lookup (one path); cold lookup
#                              zipf   Zipf-distributed lookups over all providers, search, compare;
#                                     nginx serving same-size files for the Zipf paths (nginx-zipf)
#                              open   open loop (bench/pace.c) at half the measured maximum: p50/p99/p99.9
#                              churn  zipf (and open, with open) while feeds change every 20 s
#                              season N simulated days of new versions of every feed (apply time, sizes)
#                            the nginx baseline rows and the ingest always run
#   --zipf-s S               Zipf exponent (default 1.1)
#   --zipf-seed N            seed of the Zipf draws (default 1)
#   --warm-pairs N           basic mode: N pairs of short runs on the warm path, the daemon and
#                            nginx one after the other (order ABBA), per encoding; the warm
#                            targets are their ratio (default 4; 0: the single runs' ratio)
#   --pair-duration D        each run of a warm pair (default 5s)
#   --open-clients N         connections of the open loop (default 32)
#   --open-tool pace|h2load  open-loop load generator: bench/pace.c, one process (default), or
#                              one h2load process per connection
#   --open-warmup SEC        seconds at the same rate before each open-loop run's measured part,
#                              at least (pace: until the server has caught up, at most 30 s
#                              more), reported apart (default 5)
#   --churn-feeds N          feeds that change in churn mode (default 10, at most half the feeds)
#   --churn-interval SEC     seconds between new versions in churn mode (default 20)
#   --churn-rate R           share of a changed feed's statuses toggled per version (default 0.02)
#   --churn-schedule SEC     the daemon's feed schedule in churn mode (default 5)
#   --season-days N          simulated days in season mode (default 10 small, 3 national)
#   --season-rate R          share of every feed's statuses toggled per day (default 0.01)
#   --season-schedule SEC    the daemon's feed schedule in season mode (default 2)
#   --season-measure D       zipf lookup wrk run after each simulated day (default 5s)
#   --season-rollover 0|1    a last season day without the oldest contract year: the year
#                            rollover (apply, moving its rows into history, WAL peak; default 1)
#   -h, --help               this text
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

scale=national
duration=20s
warmup=2s
connections=64
wrk_threads=2
threads=2
seed=1
daemon=""
no_build=0
no_install=0
regen=0
providers=
ingest_timeout=""
work="$here/work"
resdir="$here/results"
modes="basic,zipf,open,churn,season"
zipf_s=1.1
zipf_seed=1
open_clients=32
open_tool=pace
open_warmup=5
churn_feeds=10
churn_interval=20
churn_rate=0.02
churn_schedule=5
season_days=""
season_rate=0.01
season_schedule=2
season_measure=5s
season_rollover=1
warm_pairs=4
pair_duration=5s

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "run.sh: $*" >&2; exit 1; }
log() { printf '[run.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
need_arg() { [ $# -ge 2 ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
	case "$1" in
	--scale) need_arg "$@"; scale=$2; shift 2 ;;
	--duration) need_arg "$@"; duration=$2; shift 2 ;;
	--warmup) need_arg "$@"; warmup=$2; shift 2 ;;
	--connections) need_arg "$@"; connections=$2; shift 2 ;;
	--wrk-threads) need_arg "$@"; wrk_threads=$2; shift 2 ;;
	--threads) need_arg "$@"; threads=$2; shift 2 ;;
	--seed) need_arg "$@"; seed=$2; shift 2 ;;
	--daemon) need_arg "$@"; daemon=$2; shift 2 ;;
	--no-build) no_build=1; shift ;;
	--no-install) no_install=1; shift ;;
	--regen) regen=1; shift ;;
	--providers) need_arg "$@"; providers=$2; shift 2 ;;
	--ingest-timeout) need_arg "$@"; ingest_timeout=$2; shift 2 ;;
	--workdir) need_arg "$@"; work=$2; shift 2 ;;
	--results) need_arg "$@"; resdir=$2; shift 2 ;;
	--modes) need_arg "$@"; modes=$2; shift 2 ;;
	--zipf-s) need_arg "$@"; zipf_s=$2; shift 2 ;;
	--zipf-seed) need_arg "$@"; zipf_seed=$2; shift 2 ;;
	--warm-pairs) need_arg "$@"; warm_pairs=$2; shift 2 ;;
	--pair-duration) need_arg "$@"; pair_duration=$2; shift 2 ;;
	--open-clients) need_arg "$@"; open_clients=$2; shift 2 ;;
	--open-tool) need_arg "$@"; open_tool=$2; shift 2 ;;
	--open-warmup) need_arg "$@"; open_warmup=$2; shift 2 ;;
	--churn-feeds) need_arg "$@"; churn_feeds=$2; shift 2 ;;
	--churn-interval) need_arg "$@"; churn_interval=$2; shift 2 ;;
	--churn-rate) need_arg "$@"; churn_rate=$2; shift 2 ;;
	--churn-schedule) need_arg "$@"; churn_schedule=$2; shift 2 ;;
	--season-days) need_arg "$@"; season_days=$2; shift 2 ;;
	--season-rate) need_arg "$@"; season_rate=$2; shift 2 ;;
	--season-schedule) need_arg "$@"; season_schedule=$2; shift 2 ;;
	--season-measure) need_arg "$@"; season_measure=$2; shift 2 ;;
	--season-rollover) need_arg "$@"; season_rollover=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done

case "$scale" in national | small) ;; *) die "--scale must be national or small" ;; esac
case "$providers" in "") ;; *[!0-9]* | 0*) die "--providers must be a positive number" ;; esac
if [ -z "$season_days" ]; then
	if [ "$scale" = national ]; then season_days=3; else season_days=10; fi
fi
for v in "$connections" "$wrk_threads" "$threads" "$seed" "$zipf_seed" "$open_clients" "$open_warmup" "$churn_feeds" \
	"$churn_interval" "$churn_schedule" "$season_days" "$season_schedule"; do
	case "$v" in '' | *[!0-9]*) die "not a whole number: $v" ;; esac
done
for v in "$zipf_s" "$churn_rate" "$season_rate"; do
	case "$v" in '' | *[!0-9.]* | *.*.*) die "not a number: $v" ;; esac
done
[ "$open_clients" -ge 1 ] || die "--open-clients must be at least 1"
case "$open_tool" in pace | h2load) ;; *) die "--open-tool must be pace or h2load" ;; esac
case "$season_rollover" in 0 | 1) ;; *) die "--season-rollover must be 0 or 1" ;; esac
modes=",$modes,"
for m in $(echo "$modes" | tr ',' ' '); do
	case "$m" in basic | zipf | open | churn | season) ;; *) die "unknown mode $m (basic,zipf,open,churn,season)" ;; esac
done
mode() { case "$modes" in *",$1,"*) return 0 ;; esac; return 1; }
# seconds in a wrk duration (Ns, Nm, Nh or N)
dur_seconds() {
	case "$1" in
	*[0-9]s) echo "${1%s}" ;;
	*[0-9]m) echo $((${1%m} * 60)) ;;
	*[0-9]h) echo $((${1%h} * 3600)) ;;
	*[!0-9]* | '') die "bad duration $1" ;;
	*) echo "$1" ;;
	esac
}
dur_s=$(dur_seconds "$duration")
warm_s=$(dur_seconds "$warmup")
pair_s=$(dur_seconds "$pair_duration")
case "$warm_pairs" in '' | *[!0-9]*) die "--warm-pairs must be a whole number" ;; esac
season_measure_s=$(dur_seconds "$season_measure")
if [ -z "$ingest_timeout" ]; then
	if [ "$scale" = national ]; then ingest_timeout=900; else ingest_timeout=120; fi
fi
case "$ingest_timeout" in '' | *[!0-9]*) die "--ingest-timeout must be whole seconds" ;; esac

mkdir -p "$work" "$resdir"
work=$(cd "$work" && pwd)
resdir=$(cd "$resdir" && pwd)
: >"$work/run.vars"
: >"$work/runs.jsonl"
rm -f "$work/feeds.json"

# run.vars: one "s|j<TAB>key<TAB>value" per line (s: string, j: JSON); report.py reads run.json
rv() { printf 's\t%s\t%s\n' "$1" "$2" >>"$work/run.vars"; }
rvj() { printf 'j\t%s\t%s\n' "$1" "$2" >>"$work/run.vars"; }

# ------------------------------------------------------------------ process bookkeeping
pids=()
cleanup() {
	local rc=$? pid alive i
	trap - EXIT INT TERM
	for pid in ${pids[@]+"${pids[@]}"}; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for i in $(seq 1 50); do
		alive=0
		for pid in ${pids[@]+"${pids[@]}"}; do
			if kill -0 "$pid" 2>/dev/null; then alive=1; fi
		done
		[ "$alive" = 0 ] && break
		[ "$i" = 50 ] || sleep 0.1
	done
	for pid in ${pids[@]+"${pids[@]}"}; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ tools
command -v python3 >/dev/null || die "python3 is required"
command -v curl >/dev/null || die "curl is required"

apt_install() {
	local guard=0
	# keep the package's service from being started (we run our own instance)
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		guard=1
	fi
	log "apt-get install $*"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$work/apt.log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$work/apt.log" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$work/apt.log" 2>&1 ||
			log "apt-get install $* failed (see $work/apt.log)"
	fi
	if [ "$guard" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}

nginx_bin=$(command -v nginx || true)
[ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
if { ! command -v wrk >/dev/null || [ -z "$nginx_bin" ]; } && [ "$no_install" = 0 ] && [ "$(id -u)" = 0 ] &&
	command -v apt-get >/dev/null; then
	pkgs=()
	command -v wrk >/dev/null || pkgs+=(wrk)
	[ -n "$nginx_bin" ] || pkgs+=(nginx-light)
	apt_install "${pkgs[@]}"
	if [ -z "$(command -v nginx || true)" ] && [ ! -x /usr/sbin/nginx ]; then apt_install nginx; fi
	nginx_bin=$(command -v nginx || true)
	[ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
fi
command -v wrk >/dev/null || die "wrk is required (apt-get install wrk, or run as root without --no-install)"
# h2load (Debian nghttp2-client) for the open loop: --rps gives each connection a fixed request rate
if mode open && ! command -v h2load >/dev/null && [ "$no_install" = 0 ] && [ "$(id -u)" = 0 ] &&
	command -v apt-get >/dev/null; then
	apt_install nghttp2-client
fi
h2load_version=$(h2load --version 2>/dev/null | head -n 1 || true)
# bench/pace.c, the default open-loop load generator: built here with libevent (the daemon's own
# dependency); without a compiler or libevent the open loop falls back to h2load
pace_status=""
if mode open && [ "$open_tool" = pace ]; then
	mkdir -p "$work"
	if ${CC:-cc} -O2 -o "$work/pace" "$here/pace.c" $(pkg-config --cflags --libs libevent 2>/dev/null || echo -levent) \
		>"$work/pace-build.log" 2>&1; then
		pace_status="bench/pace.c (one process, one epoll loop)"
	else
		log "bench/pace.c did not build (see $work/pace-build.log): the open loop uses h2load"
		open_tool=h2load
	fi
fi
wrk_version=$(wrk -v 2>&1 | head -n 1 | sed 's/ \[.*//' || true)
nginx_version=""
[ -n "$nginx_bin" ] && nginx_version=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //' || true)

# ------------------------------------------------------------------ daemon binary
daemon_status="available"
[ -n "$daemon" ] || daemon="$repo/src/zorgstatusd"
if [ ! -x "$daemon" ] && [ "$daemon" = "$repo/src/zorgstatusd" ] && [ "$no_build" = 0 ]; then
	if [ -f "$repo/configure.ac" ]; then
		log "building the daemon (autoreconf -fi && ./configure && make), log: $work/build.log"
		if ! (cd "$repo" && autoreconf -fi && ./configure && make -j"$(nproc)") >"$work/build.log" 2>&1; then
			log "build failed; see $work/build.log"
		fi
	else
		log "no configure.ac in $repo: cannot build the daemon"
	fi
fi
if [ ! -x "$daemon" ]; then
	daemon_status="not available (no binary at $daemon)"
	log "daemon $daemon not available: running the nginx/wrk part only"
fi

# ------------------------------------------------------------------ machine, commit
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	commit="$commit-dirty"
fi
mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
machine=$(python3 -c 'import json,sys; print(json.dumps({"nproc": int(sys.argv[1]), "mem_total_mib": int(sys.argv[2]) // 1024, "cpu_model": sys.argv[3], "kernel": sys.argv[4]}))' \
	"$(nproc)" "$mem_kb" "${cpu_model:-unknown}" "$(uname -sr)")
rv date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
rv commit "$commit"
rvj machine "$machine"
rv scale "$scale"
rvj seed "$seed"
if [ -n "$providers" ]; then rvj gen_providers "$providers"; fi
rv duration "$duration"
rv warmup "$warmup"
rvj warm_pairs "$warm_pairs"
rvj pair_seconds "$pair_s"
rvj connections "$connections"
rvj wrk_threads "$wrk_threads"
rvj daemon_threads "$threads"
rv wrk_version "$wrk_version"
rv nginx_version "$nginx_version"
rv daemon_binary "$daemon"
rv modes "$(echo "$modes" | sed 's/^,//; s/,$//')"
rv h2load_version "$h2load_version"
rvj zipf_s "$zipf_s"
rvj zipf_seed "$zipf_seed"
rvj open_clients "$open_clients"
rv open_tool "$open_tool"
rv pace_status "$pace_status"
rvj open_warmup "$open_warmup"
rvj churn_interval "$churn_interval"
rvj churn_rate "$churn_rate"
rvj churn_schedule "$churn_schedule"
rvj season_days "$season_days"
rvj season_rate "$season_rate"
rvj season_schedule "$season_schedule"
rv season_measure "$season_measure"
rvj season_rollover "$season_rollover"

# ------------------------------------------------------------------ ports (127.0.0.1 only)
read -r dport fport bport gport zport < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(5):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
)
log "ports: daemon $dport, feeds $fport, nginx baseline $bport, nginx gzip_static $gport, nginx same-bytes Zipf $zport"

# ------------------------------------------------------------------ dataset
data="$work/data-$scale-s$seed${providers:+-p$providers}"
gen_s=0
if [ "$regen" = 1 ] || [ ! -f "$data/manifest.json" ] || [ "$here/gen.py" -nt "$data/manifest.json" ]; then
	log "generating the $scale dataset (seed $seed) in $data"
	t=$(date +%s.%N)
	python3 "$here/gen.py" --scale "$scale" --seed "$seed" --port "$fport" --out "$data" \
		${providers:+--providers "$providers"}
	gen_s=$(python3 -c 'import sys,time; print(round(time.time()-float(sys.argv[1]),2))' "$t")
else
	log "reusing the dataset in $data (--regen to rebuild)"
fi
# the feed server serves a copy (hard links) of the dataset: churn and season modes replace files
# there (write + rename), never in the dataset itself
live="$work/live"
rm -rf "$live"
cp -al "$data" "$live" 2>/dev/null || cp -a "$data" "$live"
conf="$work/zorgstatus.conf"
sed -e "s#http://127\.0\.0\.1:[0-9]*/#http://127.0.0.1:$fport/#" "$data/zorgstatus.conf" >"$conf"
rvj gen_seconds "$gen_s"
rv manifest "$data/manifest.json"
# the Zipf lists (zipf-lookup.txt, cold-lookup.txt): every provider once
nprov=$(python3 "$here/zipf.py" ranked "$data" "$work" --seed "$zipf_seed")
rvj providers_ranked "$nprov"
nfeeds=$(grep -c '^\[feed ' "$conf")

# ------------------------------------------------------------------ HTTP servers: feeds + baseline
static="$work/static"
ngdir="$work/nginx"
mkdir -p "$static" "$ngdir/tmp"
rm -f "$static/provider.json"
# the same-bytes baseline of the Zipf rows (files made after the census, see census_run)
zstatic="$work/zipfstatic"
rm -rf "$zstatic" "$work/zipf-sizes.tsv" "$work/zipf-sizes.tsv.sample" "$work/zipf-sizes.tsv.sample.gz"
mkdir -p "$zstatic"
# open file descriptors: nginx-zipf's open_file_cache keeps one per cached path and worker
nofile=$(ulimit -Hn)
case "$nofile" in '' | *[!0-9]*) nofile=65536 ;; esac
[ "$nofile" -gt 1048576 ] && nofile=1048576
nginx_status="not available"
wait_http() { # URL SECONDS: wait until URL answers 200
	local i
	for i in $(seq 1 $(($2 * 10))); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ]; then return 0; fi
		[ "$i" = $(($2 * 10)) ] || sleep 0.1
	done
	return 1
}
if [ -n "$nginx_bin" ]; then
	user_line=""
	[ "$(id -u)" = 0 ] && user_line="user root;" # workers must read the work directory wherever it is
	# nginx-zipf's open_file_cache: every path and its .gz if the descriptors allow (the one-file
	# servers need 64); what the workers may open is set to the hard limit
	zcache=$((2 * nprov + 64))
	[ "$zcache" -gt $((nofile - 2 * connections - 1024)) ] && zcache=$((nofile - 2 * connections - 1024))
	[ "$zcache" -lt 64 ] && zcache=64
	rvj nginx_zipf_open_file_cache "$zcache"
	cat >"$ngdir/nginx.conf" <<EOF
# generated by bench/run.sh
$user_line
worker_processes $threads;
worker_rlimit_nofile $nofile;
daemon off;
master_process on;
pid $ngdir/nginx.pid;
error_log $ngdir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    open_file_cache max=64 inactive=60s;
    client_body_temp_path $ngdir/tmp/body;
    proxy_temp_path $ngdir/tmp/proxy;
    fastcgi_temp_path $ngdir/tmp/fastcgi;
    uwsgi_temp_path $ngdir/tmp/uwsgi;
    scgi_temp_path $ngdir/tmp/scgi;
    types { application/json json; application/x-ndjson jsonl; text/plain txt conf; }
    default_type application/octet-stream;

    # the feed files, for the daemon to fetch
    server {
        listen 127.0.0.1:$fport;
        root $live;
        open_file_cache off;   # churn/season replace files: every fetch sees the current one
        location / { }
    }

    # the baseline: one pre-rendered provider lookup for every /v1/providers/ path
    server {
        listen 127.0.0.1:$bport reuseport;
        root $static;
        charset utf-8;
        charset_types application/json;
        gzip on;
        gzip_types application/json;
        location /v1/providers/ {
            default_type application/json;
            try_files /provider.json =404;
        }
    }

    # the gzip baseline without compression work: the same file precompressed (provider.json.gz)
    server {
        listen 127.0.0.1:$gport reuseport;
        root $static;
        charset utf-8;
        charset_types application/json;
        gzip off;
        gzip_static on;
        location /v1/providers/ {
            default_type application/json;
            try_files /provider.json =404;
        }
    }

    # the same-bytes baseline of the Zipf rows: for every path of zipf-lookup.txt a file of the
    # size of the daemon's own answer, and beside it PATH.gz of the size of its gzip answer
    # (bench/zipfstatic.py); identity requests get the file, gzip requests the .gz
    server {
        listen 127.0.0.1:$zport reuseport;
        root $zstatic;
        charset utf-8;
        charset_types application/json;
        gzip off;
        gzip_static on;
        open_file_cache max=$zcache inactive=60s;
        # the daemon's constant answer headers, so that the bytes per response match too (its
        # per-path Surrogate-Key/xkey against nginx's Server, Last-Modified, Accept-Ranges)
        add_header Vary "Accept-Encoding, Accept-Language";
        add_header X-Content-Type-Options nosniff;
        add_header Access-Control-Allow-Origin *;
        add_header Access-Control-Expose-Headers ETag;
        add_header Cache-Control "public, max-age=60";
        location /v1/providers/ {
            default_type application/json;
        }
    }
}
EOF
	"$nginx_bin" -p "$ngdir" -c "$ngdir/nginx.conf" -e "$ngdir/error.log" &
	pids+=("$!")
	if wait_http "http://127.0.0.1:$fport/manifest.json" 10; then
		nginx_status="nginx, worker_processes $threads"
	else
		log "nginx did not come up (see $ngdir/error.log); serving feeds with python3 -m http.server"
	fi
fi
if [ "$nginx_status" = "not available" ]; then
	python3 -m http.server --bind 127.0.0.1 --directory "$live" "$fport" >"$work/http-server.log" 2>&1 &
	pids+=("$!")
	wait_http "http://127.0.0.1:$fport/manifest.json" 10 || die "could not serve the feeds on 127.0.0.1:$fport"
fi
rv nginx_status "$nginx_status"

# ------------------------------------------------------------------ daemon: start, ingest, RSS
dpid=""
daemon_ok=0
vm() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || true; }
# the statuses held in memory (rows_in_memory): answered from the database, slower, until the
# first build is there (/healthz rows_in_memory "building"); every run measures after it, and
# no run measures nginx while the daemon builds. rows_wait label start-time
rows_wait() {
	local i
	for i in $(seq 1 $((ingest_timeout * 5))); do
		curl -s -m 5 "http://127.0.0.1:$dport/healthz" | grep -q '"rows_in_memory":"building"' || break
		sleep 0.2
	done
	rvj "rows_ready_seconds_$1" "$(python3 -c 'import sys,time; print(round(time.time()-float(sys.argv[1]),2))' "$2")"
}
if [ "$daemon_status" = available ]; then
	db="$work/zorgstatus.db"
	rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
	dargs=(--config "$conf" --listen "127.0.0.1:$dport" --database "$db")
	if "$daemon" --help 2>&1 | grep -q -- 'threads'; then dargs+=(--threads "$threads"); fi
	log "starting $daemon (${nfeeds} feeds), log: $work/daemon.log"
	t0=$(date +%s.%N)
	"$daemon" "${dargs[@]}" >"$work/daemon.log" 2>&1 &
	dpid=$!
	pids+=("$dpid")
	method="" ingest_s="" complete=false note="" last_report=0 first_pass=""
	deadline=$(($(date +%s) + ingest_timeout))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if ! kill -0 "$dpid" 2>/dev/null; then
			note="daemon exited during ingest (see daemon.log)"
			daemon_status="exited during ingest"
			break
		fi
		code=$(curl -s -m 5 -o "$work/feeds.poll" -w '%{http_code}' "http://127.0.0.1:$dport/v1/feeds" || true)
		if [ "$code" = 200 ]; then
			state=$(python3 -c '
import json, sys
try:
    f = json.load(open(sys.argv[1]))["feeds"]
except Exception:
    print("0 0"); sys.exit()
print(sum(1 for x in f if x.get("last_success")), len(f), sum(1 for x in f if x.get("last_attempt")),
      sum(1 for x in f if x.get("last_error")))' "$work/feeds.poll")
			read -r ok tot tried failed <<<"$state"
			if [ -z "$first_pass" ] && [ "$tot" -gt 0 ] && [ "$tried" = "$tot" ]; then
				# every feed fetched and applied or rejected once (rejected ones are retried later)
				first_pass=$(python3 -c 'import sys,time; print(round(time.time()-float(sys.argv[1]),2))' "$t0")
				rvj ingest_first_pass_seconds "$first_pass"
				rvj ingest_first_pass_failed "$failed"
				log "ingest: every feed attempted once after ${first_pass}s ($failed with an error)"
			fi
			if [ "$tot" -gt 0 ] && [ "$ok" = "$tot" ]; then
				ingest_s=$(python3 -c 'import sys,time; print(round(time.time()-float(sys.argv[1]),2))' "$t0")
				method="GET /v1/feeds: every feed has last_success"
				complete=true
				cp "$work/feeds.poll" "$work/feeds.json"
				break
			fi
			if [ $(($(date +%s) - last_report)) -ge 10 ]; then
				log "ingest: $ok/$tot feeds done"
				last_report=$(date +%s)
			fi
		elif [ "$code" = 404 ] && [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$dport/healthz" || true)" = 200 ]; then
			# /v1/feeds not there yet: /healthz answering is the best signal available
			ingest_s=$(python3 -c 'import sys,time; print(round(time.time()-float(sys.argv[1]),2))' "$t0")
			method="GET /healthz answered 200 (/v1/feeds not available)"
			note="upper bound unknown: the daemon may still be ingesting"
			complete=true
			break
		fi
		sleep 0.2
	done
	if [ "$complete" != true ] && [ -z "$note" ]; then
		note="not complete after ${ingest_timeout}s"
		[ -f "$work/feeds.poll" ] && cp "$work/feeds.poll" "$work/feeds.json"
	fi
	rv ingest_method "$method"
	rv ingest_note "$note"
	rvj ingest_complete "$complete"
	if [ -n "$ingest_s" ]; then rvj ingest_seconds "$ingest_s"; fi
	if kill -0 "$dpid" 2>/dev/null; then
		daemon_ok=1
		hwm=$(vm "$dpid" VmHWM)
		[ -n "$hwm" ] && rvj vmhwm_kb_ingest "$hwm"
		log "ingest: ${ingest_s:-?} s ($method) ${note}; VmHWM ${hwm:-?} kB"
		t_rows=$(date +%s.%N)
		rows_wait ingest "$t_rows"
	fi
fi
rv daemon_status "$daemon_status"

# ------------------------------------------------------------------ the nginx static file
req="$data/requests"
src=""
if [ "$daemon_ok" = 1 ]; then
	# the median-sized of the first 31 lookups that answer 200: exactly the daemon's JSON
	python3 - "$req/lookup.txt" "$dport" "$work/lookup-sizes.txt" <<'EOF' || true
import sys, urllib.request
paths = [l.strip() for l in open(sys.argv[1]) if l.strip()][:31]
out = []
for p in paths:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[2]}{p}", timeout=10) as r:
            if r.status == 200:
                out.append((len(r.read()), p))
    except Exception:
        pass
out.sort()
with open(sys.argv[3], "w") as f:
    for n, p in out:
        f.write(f"{n} {p}\n")
EOF
	n=$(grep -c . "$work/lookup-sizes.txt" 2>/dev/null || true)
	if [ "${n:-0}" -gt 0 ]; then
		pick=$(sed -n "$(((n + 1) / 2))p" "$work/lookup-sizes.txt" | cut -d' ' -f2)
		if curl -s -f -o "$static/provider.json" "http://127.0.0.1:$dport$pick"; then
			src="daemon response to $pick (median size of $n lookups)"
		fi
	fi
fi
if [ -z "$src" ]; then
	# no daemon answer to copy: a synthetic lookup-shaped JSON, so the nginx side can still be run
	python3 - "$static/provider.json" <<'EOF'
import json, sys
st = {"care_type": "hospital", "status": "contracted", "as_contracted": False, "basis": "confirmed",
      "flags": {"ceiling": False, "ceiling_exempt": [], "patient_stop": None, "conflict": False,
                "provider_only": False, "stale": False},
      "sources": [{"kind": "insurer", "feed": "insurer-4375", "status": "contracted", "level": "concern",
                   "said_at": "2026-11-16T05:00:00Z", "last_success": "2026-11-16T11:00:00Z", "stale": False}],
      "consequence": {"reimbursed": "full", "text": "Deze zorgverlener heeft een contract voor deze polis."}}
pols = [{"policy": {"id": f"4375-POLIS-{i}", "name": "Basis Zeker", "label": "Zuiderzorg", "type": "natura",
                    "insurer": {"uzovi": "4375", "name": "Zuiderzorg Zorgverzekeringen N.V."},
                    "concern": {"id": "zuiderzorg", "name": "Zuiderzorg"}}, "statuses": [st]} for i in range(12)]
doc = {"provider": {"agb": "04012186", "name": "Fysiotherapiepraktijk Ebbers", "kind": "physiotherapy",
                    "locations": [{"street": "Lijsterbesstraat 146", "postcode": "3046PX", "city": "Rotterdam"}]},
       "years": [{"year": 2027, "policies": pols}]}
open(sys.argv[1], "w").write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
EOF
	src="synthetic lookup-shaped JSON (the daemon gave no lookup to copy)"
fi
rv nginx_file_source "$src"
rvj nginx_file_bytes "$(wc -c <"$static/provider.json")"
# the precompressed copy for gzip_static (gzip -6, no name/time: deterministic)
gzip -6 -n -c "$static/provider.json" >"$static/provider.json.gz"
touch -r "$static/provider.json" "$static/provider.json.gz"
rvj nginx_gz_file_bytes "$(wc -c <"$static/provider.json.gz")"

# ------------------------------------------------------------------ wrk runs
addrun() { # target server encoding available note result-json [extra-json merged into the run]
	python3 -c 'import json,sys
a = sys.argv[1:]
d = {"target": a[0], "server": a[1], "encoding": a[2], "available": a[3] == "1", "note": a[4],
     "result": json.loads(a[5]) if a[5] else None}
if len(a) > 6 and a[6]:
    d.update(json.loads(a[6]))
print(json.dumps(d))' "$@" >>"$work/runs.jsonl"
}
wrk_script() { # target port encoding seconds script [script args]: wrk output to $work/wrk-TARGET-ENC.txt
	local target=$1 port=$2 enc=$3 secs=$4 script=$5 out wpid
	shift 5
	local hdr=()
	[ "$enc" = gzip ] && hdr=(-H "Accept-Encoding: gzip")
	out="$work/wrk-$target-$enc.txt"
	rm -f "$out"
	# in the background + wait, so that a signal to this script is handled at once
	timeout $((secs + 60)) wrk -t"$wrk_threads" -c"$connections" -d"${secs}s" --latency --timeout 10s \
		-s "$script" ${hdr[@]+"${hdr[@]}"} "http://127.0.0.1:$port" -- "$@" >"$out" 2>&1 &
	wpid=$!
	pids+=("$wpid")
	wait "$wpid" || true
}
wrk_result() { # target encoding: the ZSRESULT JSON of that run, or nothing
	grep '^ZSRESULT ' "$work/wrk-$1-$2.txt" 2>/dev/null | tail -n 1 | sed 's/^ZSRESULT //' || true
}
probe() { # port paths-file: prints the HTTP code of the first path that answers 2xx, else of the first
	local port=$1 paths=$2 first="" code p i=0
	while IFS= read -r p && [ "$i" -lt 5 ]; do
		i=$((i + 1))
		code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$p" || true)
		[ -z "$first" ] && first=$code
		case "$code" in 2??) echo "$code"; return ;; esac
	done <"$paths"
	echo "${first:-000}"
}
dalive() { [ "$daemon_ok" = 1 ] && [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; }
metrics() { # the daemon's response cache hits, misses and snapshot generation ("-" when not exported)
	curl -s -m 5 "http://127.0.0.1:$dport/metrics" 2>/dev/null | awk '
		/^zorgstatus_response_cache_hits_total/ { h += $NF; hs = 1 }
		/^zorgstatus_response_cache_misses_total/ { m += $NF; ms = 1 }
		/^zorgstatus_snapshot_generation/ { g = $NF }
		END { print (hs ? h : "-"), (ms ? m : "-"), (g == "" ? "-" : g) }' || echo "- - -"
}
metrics_delta() { # "before" "after" (from metrics): the run's cache hits/misses and new generations as JSON
	python3 -c 'import json, sys
b, a = sys.argv[1].split(), sys.argv[2].split()
def d(i):
    try:
        return int(float(a[i]) - float(b[i]))
    except (ValueError, IndexError):
        return None
print(json.dumps({"cache_hits": d(0), "cache_misses": d(1), "generations": d(2)}))' "$1" "$2"
}
cpu_ticks() { # server: CPU clock ticks (user + system) the server has used so far, "-" when unknown
	# (the daemon: its process, all threads; nginx: its master and workers, which also serve the feeds)
	local p list=""
	case "$1" in
	zorgstatusd) list=$dpid ;;
	nginx) [ -s "$ngdir/nginx.pid" ] && p=$(cat "$ngdir/nginx.pid") && list="$p $(pgrep -P "$p" | tr '\n' ' ')" ;;
	esac
	[ -n "$list" ] || { echo -; return; }
	for p in $list; do cat "/proc/$p/stat" 2>/dev/null; done | awk '
		{ sub(/^.*\) /, ""); t += $12 + $13; n++ } END { print (n ? t : "-") }'
}
cpu_delta() { # ticks-before ticks-after: {"cpu_seconds": S} as JSON (null when unknown)
	python3 -c 'import json, os, sys
try:
    s = round((int(sys.argv[2]) - int(sys.argv[1])) / os.sysconf("SC_CLK_TCK"), 2)
except ValueError:
    s = None
print(json.dumps({"cpu_seconds": s}))' "$1" "$2"
}
# bench_run TARGET SERVER PORT PROBE-FILE "ENCODINGS" WARMUP(0|1) SCRIPT [SCRIPT ARGS]
bench_run() {
	local target=$1 server=$2 port=$3 probefile=$4 encs=$5 dowarm=$6 script=$7 code enc res note before extra
	local cpu0 cpu
	shift 7
	code=$(probe "$port" "$probefile")
	case "$code" in
	2??) ;;
	*)
		log "$target on $server: not available (HTTP $code)"
		for enc in $encs; do addrun "$target" "$server" "$enc" 0 "not available (HTTP $code)" ""; done
		return
		;;
	esac
	if [ "$dowarm" = 1 ] && [ "$warm_s" -gt 0 ]; then
		log "$target on $server: warm-up ${warm_s}s"
		wrk_script "$target-warmup" "$port" identity "$warm_s" "$script" "$@"
	fi
	for enc in $encs; do
		log "$target on $server, Accept-Encoding: $([ "$enc" = gzip ] && echo gzip || echo none): ${dur_s}s"
		before=""
		[ "$server" = zorgstatusd ] && before=$(metrics)
		cpu0=$(cpu_ticks "$server")
		wrk_script "$target" "$port" "$enc" "$dur_s" "$script" "$@"
		cpu=$(cpu_delta "$cpu0" "$(cpu_ticks "$server")")
		extra=$cpu
		[ "$server" = zorgstatusd ] && extra=$(python3 -c 'import json, sys
d = json.loads(sys.argv[1]); d.update(json.loads(sys.argv[2])); print(json.dumps(d))' \
			"$(metrics_delta "$before" "$(metrics)")" "$cpu")
		res=$(wrk_result "$target" "$enc")
		if [ -n "$res" ]; then
			note=""
			[ "$server" = zorgstatusd ] && ! kill -0 "$dpid" 2>/dev/null && note="daemon died during the run"
			addrun "$target" "$server" "$enc" 1 "$note" "$res" "$extra"
		else
			addrun "$target" "$server" "$enc" 0 "wrk gave no result (see $work/wrk-$target-$enc.txt)" ""
		fi
	done
}
# warm_pairs: the warm path asked of the daemon and of nginx (the same file: identity, and its .gz
# with gzip_static) in pairs of short runs one right after the other, the order turned every
# pair (daemon-nginx, nginx-daemon, ...), so that both see the same phases of a shared machine:
# its speed drifts by a fifth and more over minutes, for nginx too, and the single warm runs
# are minutes apart from nginx's. One line per run in pairs.jsonl; report.py takes the ratio.
warm_pairs_run() {
	local enc i who port order c0 res
	: >"$work/pairs.jsonl"
	for enc in identity gzip; do
		for i in $(seq 1 "$warm_pairs"); do
			if [ $((i % 2)) = 1 ]; then order="zorgstatusd nginx"; else order="nginx zorgstatusd"; fi
			for who in $order; do
				if [ "$who" = zorgstatusd ]; then
					port=$dport
				elif [ "$enc" = gzip ]; then
					port=$gport
				else
					port=$bport
				fi
				log "warm pair $i ($enc): $who ${pair_s}s"
				c0=$(cpu_ticks "$who")
				wrk_script "pair-$who-$i" "$port" "$enc" "$pair_s" "$here/paths.lua" "$work/warm-lookup.txt"
				res=$(wrk_result "pair-$who-$i" "$enc")
				[ -n "$res" ] || continue
				python3 -c 'import json, sys
d = {"encoding": sys.argv[1], "pair": int(sys.argv[2]), "server": sys.argv[3], "result": json.loads(sys.argv[4])}
d.update(json.loads(sys.argv[5]))
print(json.dumps(d))' "$enc" "$i" "$who" "$res" "$(cpu_delta "$c0" "$(cpu_ticks "$who")")" >>"$work/pairs.jsonl"
			done
		done
	done
}
bench_target() { # target server port paths-file: rotating over the paths, identity and gzip
	bench_run "$1" "$2" "$3" "$4" "identity gzip" 1 "$here/paths.lua" "$4"
}
daemon_rows() { # target "encodings": rows saying the daemon is not there
	local enc
	for enc in $2; do addrun "$1" zorgstatusd "$enc" 0 "daemon $daemon_status" ""; done
}
zipf_runs() { # prefix: Zipf-distributed lookup (identity, gzip), search and compare
	if ! dalive; then
		daemon_rows "$1-lookup" "identity gzip"
		daemon_rows "$1-search" identity
		daemon_rows "$1-compare" identity
		return
	fi
	bench_run "$1-lookup" zorgstatusd "$dport" "$work/zipf-lookup.txt" "identity gzip" 1 "$here/zipf.lua" \
		"$work/zipf-lookup.txt" "$zipf_s" "$zipf_seed"
	bench_run "$1-search" zorgstatusd "$dport" "$req/search.txt" identity 1 "$here/zipf.lua" \
		"$req/search.txt" "$zipf_s" "$zipf_seed"
	bench_run "$1-compare" zorgstatusd "$dport" "$req/compare.txt" identity 1 "$here/zipf.lua" \
		"$req/compare.txt" "$zipf_s" "$zipf_seed"
}
open_one() { # label port paths-file targets-for-the-maximum [conditions]
	local label=$1 port=$2 paths=$3 targets=$4 cond=${5:-steady} opid
	log "open loop $label ($cond): ${dur_s}s at half of the maximum of ${targets%%,*}"
	python3 "$here/openloop.py" --port "$port" --paths "$paths" --seconds "$dur_s" --workdir "$work" \
		--label "$label" --max-from "$work/runs.jsonl" --targets "$targets" --clients "$open_clients" \
		--tool "$open_tool" --pace "$work/pace" --warmup "$open_warmup" \
		--s "$zipf_s" --seed "$zipf_seed" >"$work/open-$label.json" 2>"$work/open-$label.err" &
	opid=$!
	pids+=("$opid")
	wait "$opid" || true
	python3 -c 'import json, sys
try:
    d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
except Exception:
    d = {"label": sys.argv[2], "available": False, "note": "openloop.py failed (see open-" + sys.argv[2] + ".err)"}
d["conditions"] = sys.argv[3]
d["server"] = sys.argv[4]
if sys.argv[5]:
    d["baseline"] = sys.argv[5]
print(json.dumps(d))' "$work/open-$label.json" "$label" "$cond" "$([ "$port" = "$dport" ] && echo zorgstatusd || echo nginx)" \
		"$( [ "$port" = "$zport" ] && echo "nginx-zipf (a file of the size of the daemon's answer for every path)" ||
			{ [ "$port" = "$bport" ] && echo "one-file nginx (the same file for every path)"; } || true)" \
		>>"$work/open.jsonl"
}
open_runs() { # conditions (steady|churn): lookup, search, compare at half their maximum
	local c=$1 pre=""
	[ "$c" = churn ] && pre="churn-"
	if [ "$open_tool" = h2load ] && ! command -v h2load >/dev/null; then
		echo "{\"label\": \"${pre}lookup\", \"available\": false, \"note\": \"h2load not available\", \"conditions\": \"$c\"}" >>"$work/open.jsonl"
		return
	fi
	if [ "$c" = steady ] && [ "$nginx_status" != "not available" ]; then
		# nginx at the rate the daemon's lookup gets: the reference latency; nginx-zipf (the same
		# bytes for every Zipf path) when its files were made, else the one-file nginx
		if [ "$zipf_census" = ok ]; then
			open_one nginx "$zport" "$work/zipf-lookup.txt" "zipf-lookup,lookup"
		else
			open_one nginx "$bport" "$work/zipf-lookup.txt" "zipf-lookup,lookup"
		fi
	fi
	if dalive; then
		open_one "${pre}lookup" "$dport" "$work/zipf-lookup.txt" "zipf-lookup,lookup,churn-zipf-lookup" "$c"
		open_one "${pre}search" "$dport" "$req/search.txt" "zipf-search,search,churn-zipf-search" "$c"
		open_one "${pre}compare" "$dport" "$req/compare.txt" "zipf-compare,compare,churn-zipf-compare" "$c"
	fi
}
daemon_restart() { # config-file label: stop the daemon, start it again on the same database
	local cfg=$1 label=$2 i code hwm
	if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
		# the peak so far: a restarted process starts its VmHWM again
		hwm=$(vm "$dpid" VmHWM)
		[ -n "$hwm" ] && rvj "vmhwm_kb_before_restart_$label" "$hwm"
		kill -TERM "$dpid" 2>/dev/null || true
		for i in $(seq 1 300); do
			kill -0 "$dpid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$dpid" 2>/dev/null || true
		wait "$dpid" 2>/dev/null || true
	fi
	dargs=(--config "$cfg" --listen "127.0.0.1:$dport" --database "$db")
	if "$daemon" --help 2>&1 | grep -q -- 'threads'; then dargs+=(--threads "$threads"); fi
	log "restarting the daemon with $cfg ($label), log: $work/daemon-$label.log"
	t_restart=$(date +%s.%N)
	"$daemon" "${dargs[@]}" >"$work/daemon-$label.log" 2>&1 &
	dpid=$!
	pids+=("$dpid")
	daemon_ok=0
	for i in $(seq 1 $((ingest_timeout * 5))); do
		kill -0 "$dpid" 2>/dev/null || break
		code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$dport/healthz" || true)
		if [ "$code" = 200 ]; then daemon_ok=1; break; fi
		sleep 0.2
	done
	[ "$daemon_ok" = 1 ] || { daemon_status="did not come back after the restart for $label (see daemon-$label.log)"; log "$daemon_status"; }
	rvj "restart_seconds_$label" "$(python3 -c 'import sys,time; print(round(time.time()-float(sys.argv[1]),2))' "$t_restart")"
	if [ "$daemon_ok" = 1 ]; then rows_wait "$label" "$t_restart"; fi
}
# the same-bytes baseline of the Zipf rows. census_run: the size of the daemon's answer to every
# path of zipf-lookup.txt, identity and gzip, from the daemon running now (restarted with the
# response cache off, so the census fills no cache that a Zipf run measures), then the files
# nginx-zipf serves (bench/zipfstatic.py)
zipf_census=""   # empty: not done; "ok"; else why nginx-zipf is not available
census_run() {
	local cpid t
	log "census: every Zipf path from the daemon (response cache off), identity and gzip; $nprov paths"
	t=$(timeout_for_census)
	timeout "$t" python3 "$here/zipfstatic.py" census --port "$dport" --paths "$work/zipf-lookup.txt" \
		--out "$work/zipf-sizes.tsv" --s "$zipf_s" >"$work/zipf-census.json" 2>"$work/zipf-census.err" &
	cpid=$!
	pids+=("$cpid")
	if ! wait "$cpid"; then
		zipf_census="census failed (see $work/zipf-census.err)"
		[ -s "$work/zipf-census.json" ] && zipf_census="census failed: $(python3 -c 'import json,sys
print(json.loads(open(sys.argv[1]).read().splitlines()[-1]).get("note", "?"))' "$work/zipf-census.json" 2>/dev/null || echo '?')"
		log "$zipf_census"
		return
	fi
	rvj zipf_census "$(tail -n 1 "$work/zipf-census.json")"
	if ! python3 "$here/zipfstatic.py" files --sizes "$work/zipf-sizes.tsv" --root "$zstatic" --s "$zipf_s" \
		>"$work/zipf-files.json" 2>"$work/zipf-files.err"; then
		zipf_census="the files could not be made (see $work/zipf-files.err)"
		log "$zipf_census"
		return
	fi
	rvj zipf_files "$(tail -n 1 "$work/zipf-files.json")"
	zipf_census=ok
	log "census: $(tail -n 1 "$work/zipf-census.json")"
	log "files: $(tail -n 1 "$work/zipf-files.json")"
}
timeout_for_census() { # seconds: generous for 2 x paths at 200 req/s, at least 120
	local t=$((nprov / 100 + 120))
	echo "$t"
}
need_census() { { mode zipf || mode churn; } && [ "$nginx_status" != "not available" ]; }
nginx_zipf_done=0
nginx_zipf_runs() { # nginx-zipf identity and gzip, once per run (before the first daemon Zipf run)
	local enc
	[ "$nginx_zipf_done" = 0 ] || return 0
	nginx_zipf_done=1
	if [ "$nginx_status" = "not available" ]; then
		for enc in identity gzip; do addrun nginx-zipf nginx "$enc" 0 "nginx not available" ""; done
	elif [ "$zipf_census" != ok ]; then
		for enc in identity gzip; do
			addrun nginx-zipf nginx "$enc" 0 "not available: ${zipf_census:-no census (daemon $daemon_status)}" ""
		done
	else
		bench_run nginx-zipf nginx "$zport" "$work/zipf-lookup.txt" "identity gzip" 1 "$here/zipf.lua" \
			"$work/zipf-lookup.txt" "$zipf_s" "$zipf_seed"
		check_gz_static
	fi
}
check_gz_static() { # the first Zipf path from nginx-zipf: identity the file, gzip the .gz
	local p n_id n_gz e_gz want_id want_gz
	p=$(head -n 1 "$work/zipf-lookup.txt")
	n_id=$(curl -s -m 10 -o /dev/null -w '%{size_download}' "http://127.0.0.1:$zport$p" || true)
	read -r n_gz e_gz < <(curl -s -m 10 -D - -o /dev/null -w '%{size_download}\n' -H 'Accept-Encoding: gzip' \
		"http://127.0.0.1:$zport$p" | tr -d '\r' | awk 'tolower($1) == "content-encoding:" {e = $2}
		/^[0-9]+$/ {n = $1} END {print n, (e == "" ? "-" : e)}' || true)
	want_id=$(stat -L -c %s "$zstatic${p%%\?*}" 2>/dev/null || echo '?')
	want_gz=$(stat -L -c %s "$zstatic${p%%\?*}.gz" 2>/dev/null || echo '?')
	rv nginx_zipf_check "$p: identity $n_id bytes (file $want_id), gzip $n_gz bytes Content-Encoding $e_gz (.gz $want_gz)"
	log "nginx-zipf check $p: identity $n_id bytes (file $want_id), gzip $n_gz bytes, Content-Encoding $e_gz (.gz $want_gz)"
}
zipf_bytes_log() { # mean bytes per response: nginx-zipf and the daemon's Zipf lookup, both encodings
	local enc
	for enc in identity gzip; do
		python3 -c 'import json, sys
def mean(f):
    try:
        l = [x for x in open(f) if x.startswith("ZSRESULT ")][-1]
        d = json.loads(l[9:])
        return d["bytes"] / d["requests"]
    except Exception:
        return None
n, z = mean(sys.argv[1]), mean(sys.argv[2])
print("mean bytes/resp (%s): nginx-zipf %s, daemon zipf-lookup %s%s" % (sys.argv[3],
      "%.0f" % n if n else "-", "%.0f" % z if z else "-", " (nginx %+.2f %%)" % (100 * (n / z - 1)) if n and z else ""))' \
			"$work/wrk-nginx-zipf-$enc.txt" "$work/wrk-zipf-lookup-$enc.txt" "$enc" | while IFS= read -r l; do log "$l"; done
	done
}

: >"$work/open.jsonl"
rm -f "$work/churn.jsonl" "$work/season.jsonl" "$work/pairs.jsonl"
warm_path=${pick:-}

# nginx rows: always (every ratio is to nginx in the same run)
if [ "$nginx_status" != "not available" ]; then
	bench_target nginx nginx "$bport" "$req/lookup.txt"
	bench_run nginx-gzip-static nginx "$gport" "$req/lookup.txt" gzip 0 "$here/paths.lua" "$req/lookup.txt"
else
	for enc in identity gzip; do addrun nginx nginx "$enc" 0 "nginx not available" ""; done
	addrun nginx-gzip-static nginx gzip 0 "nginx not available" ""
fi

if mode basic; then
	if dalive; then
		# cold: every answer rendered. The daemon restarted with the response cache off
		# (response_cache_seconds = 0), over every provider in a shuffled order (year 2026: no other
		# run asks it), no warm-up; then restarted with the benchmark configuration again
		kconf="$work/zorgstatus-cold.conf"
		{ echo "response_cache_seconds = 0"; cat "$conf"; } >"$kconf"
		daemon_restart "$kconf" cold
		if dalive; then
			bench_run lookup-cold zorgstatusd "$dport" "$work/cold-lookup.txt" identity 0 "$here/paths.lua" \
				"$work/cold-lookup.txt"
		else
			daemon_rows lookup-cold identity
		fi
		# the census for nginx-zipf while the response cache is off (after the cold run: it
		# does not change what the cold run measures)
		if need_census && dalive; then census_run; fi
		daemon_restart "$conf" main
	else
		daemon_rows lookup-cold identity
	fi
	for t in lookup search compare; do
		if dalive; then
			bench_target "$t" zorgstatusd "$dport" "$req/$t.txt"
		else
			daemon_rows "$t" "identity gzip"
		fi
	done
	if dalive && [ -n "$warm_path" ]; then
		# the path whose answer nginx serves, over and over: the warm path, same bytes as nginx
		echo "$warm_path" >"$work/warm-lookup.txt"
		bench_run lookup-warm zorgstatusd "$dport" "$work/warm-lookup.txt" "identity gzip" 1 "$here/paths.lua" \
			"$work/warm-lookup.txt"
	else
		daemon_rows lookup-warm "identity gzip"
	fi
	# nginx once more after the daemon's basic rows: its throughput drifts by a fifth between
	# runs on a shared machine, and the ratios use the mean of its runs before and after
	if [ "$nginx_status" != "not available" ]; then
		bench_run nginx-again nginx "$bport" "$req/lookup.txt" identity 0 "$here/paths.lua" "$req/lookup.txt"
		bench_run nginx-gzip-static-again nginx "$gport" "$req/lookup.txt" gzip 0 "$here/paths.lua" \
			"$req/lookup.txt"
	fi
	if [ "$nginx_status" != "not available" ] && [ "$warm_pairs" -gt 0 ] && dalive && [ -n "$warm_path" ]; then
		warm_pairs_run
	fi
fi

# without mode basic: a daemon with the response cache off only for the census
if need_census && [ -z "$zipf_census" ] && dalive; then
	kconf="$work/zorgstatus-cold.conf"
	{ echo "response_cache_seconds = 0"; cat "$conf"; } >"$kconf"
	daemon_restart "$kconf" census
	if dalive; then census_run; fi
	daemon_restart "$conf" main
fi

if mode zipf; then
	nginx_zipf_runs
	zipf_runs zipf
	zipf_bytes_log
fi

if mode open; then
	open_runs steady
fi

# the feeds that change in churn mode: every k-th feed file of the config, sorted by name
churn_list=$(python3 - "$conf" "$churn_feeds" <<'EOF'
import sys
files = sorted(l.split("=", 1)[1].strip().rsplit("/", 1)[-1] for l in open(sys.argv[1]) if l.strip().startswith("url"))
n = max(1, min(int(sys.argv[2]), len(files) // 2))
print(",".join(files[int(i * len(files) / n)] for i in range(n)))
EOF
)
if mode churn; then
	nginx_zipf_runs
	rv churn_feeds "$churn_list"
	if dalive; then
		cconf="$work/zorgstatus-churn.conf"
		sed -E "s/^schedule *= *[0-9]+/schedule = $churn_schedule/" "$conf" >"$cconf"
		daemon_restart "$cconf" churn
	fi
	if dalive; then
		sleep $((churn_schedule + 1))
		mbefore=$(metrics)
		log "churn: every ${churn_interval}s a new version of $churn_list (rate $churn_rate); daemon schedule ${churn_schedule}s"
		python3 "$here/feedver.py" churn --base "$data" --live "$live" --feeds "$churn_list" --conf "$conf" \
			--interval "$churn_interval" --rate "$churn_rate" --seed "$seed" --port "$dport" \
			--log "$work/churn.jsonl" >"$work/churn.out" 2>&1 &
		cpid=$!
		pids+=("$cpid")
		tc=$(date +%s)
		zipf_runs churn-zipf
		if mode open; then open_runs churn; fi
		kill -TERM "$cpid" 2>/dev/null || true
		wait "$cpid" || true
		rvj churn_seconds "$(($(date +%s) - tc))"
		rvj churn_metrics "$(metrics_delta "$mbefore" "$(metrics)")"
	else
		zipf_runs churn-zipf
	fi
fi

if mode season; then
	if dalive; then
		# day 0 is the base dataset again (churn may have changed some feeds)
		rm -rf "$live"
		cp -al "$data" "$live" 2>/dev/null || cp -a "$data" "$live"
		sconf="$work/zorgstatus-season.conf"
		sed -E "s/^schedule *= *[0-9]+/schedule = $season_schedule/" "$conf" >"$sconf"
		daemon_restart "$sconf" season
	fi
	if dalive; then
		log "season: $season_days simulated days, rate $season_rate per day, daemon schedule ${season_schedule}s"
		season_roll_args=()
		if [ "$season_rollover" = 1 ]; then
			season_roll_args=(--rollover --daemon-log "$work/daemon-season.log")
			log "season: then the rollover day (every feed without its oldest year)"
		fi
		python3 "$here/feedver.py" season --base "$data" --live "$live" --conf "$conf" --port "$dport" --db "$db" \
			--days "$season_days" --rate "$season_rate" --seed "$seed" --pid "$dpid" --timeout "$ingest_timeout" \
			--settle $((season_schedule + 2)) --one-feed \
			--measure "wrk -t$wrk_threads -c$connections -d${season_measure_s}s --latency --timeout 10s -s $here/zipf.lua http://127.0.0.1:$dport -- $work/zipf-lookup.txt $zipf_s $zipf_seed" \
			${season_roll_args[@]+"${season_roll_args[@]}"} \
			--log "$work/season.jsonl" >"$work/season.out" 2>&1 &
		spid=$!
		pids+=("$spid")
		wait "$spid" || true
	else
		echo '{"event": "unavailable", "note": "daemon not available"}' >"$work/season.jsonl"
	fi
fi

if [ -n "${db:-}" ]; then
	rvj db_bytes_end "$(stat -c %s "$db" 2>/dev/null || echo 0)"
	rvj wal_bytes_end "$(stat -c %s "$db-wal" 2>/dev/null || echo 0)"
fi

if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
	hwm=$(vm "$dpid" VmHWM)
	rss=$(vm "$dpid" VmRSS)
	[ -n "$hwm" ] && rvj vmhwm_kb_end "$hwm"
	[ -n "$rss" ] && rvj vmrss_kb_end "$rss"
	# the response cache's answer files: shared memory (memfd), not in VmRSS/VmHWM
	afb=$(curl -s "http://127.0.0.1:$dport/metrics" 2>/dev/null |
		awk '/^zorgstatus_response_cache_file_bytes /{printf "%d", $2 / 1024}')
	[ -n "$afb" ] && rvj answer_files_kb_end "$afb"
fi

# ------------------------------------------------------------------ report
python3 - "$work/run.vars" "$work/run.json" <<'EOF'
import json, sys
d = {}
for line in open(sys.argv[1], encoding="utf-8"):
    t, k, v = line.rstrip("\n").split("\t", 2)
    d[k] = json.loads(v) if t == "j" else v
json.dump(d, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
EOF
python3 "$here/report.py" "$work" "$resdir"
log "raw wrk output, daemon log and nginx log are in $work"
