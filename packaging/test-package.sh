#!/bin/sh
# Test a built zorgstatus .deb on this machine (Debian 12, root; no running systemd needed):
# install it with dpkg, check the installed layout, start the INSTALLED daemon with the INSTALLED
# configuration as the zorgstatus user, query it, reload it (SIGHUP), stop it (SIGTERM, exit 0),
# start it again on the same database, check the unit with systemd-analyze (verify, and
# security --offline=yes: exposure 2.0 or lower; setpriority allowed for ingest_nice), and purge
# the package.
#   sh packaging/test-package.sh zorgstatus_0.1.0_amd64.deb [PORT]
# PORT (default 8080, the installed configuration's) is passed as --listen 127.0.0.1:PORT when it
# differs from 8080. Prints one line per check; exits 1 if any failed.
set -u
deb=${1:?usage: test-package.sh PACKAGE.deb [PORT]}
port=${2:-8080}
unit=/lib/systemd/system/zorgstatusd.service
conf=/etc/zorgstatus/zorgstatus.conf
log=$(mktemp /tmp/zorgstatus-pkgtest.XXXXXX)
fails=0
pid=""
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@" >>"$log" 2>&1; then ok "$d"; else bad "$d"; fi
}
get() { # get PATH: body on stdout, fails on a status other than 200
	curl -fsS --max-time 10 "http://127.0.0.1:$port$1"
}
listen_opt() { [ "$port" = 8080 ] || echo "--listen 127.0.0.1:$port"; }
start() { # the installed daemon, installed configuration, as zorgstatus, in its state dir
	# shellcheck disable=SC2046
	(cd /var/lib/zorgstatus && exec setpriv --reuid=zorgstatus --regid=zorgstatus --init-groups \
		/usr/sbin/zorgstatusd --config "$conf" $(listen_opt)) >>"$log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 120 ]; do # up to 60 s for /readyz 200 (every sample feed attempted, one applied)
		kill -0 "$pid" 2>/dev/null || return 1
		curl -fs --max-time 2 -o /dev/null "http://127.0.0.1:$port/readyz" && return 0
		sleep 0.5; i=$((i + 1))
	done
	return 1
}
stop() { # SIGTERM; the daemon must exit 0 within 30 s
	[ -n "$pid" ] || return 1
	kill -TERM "$pid"
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
	wait "$pid"; rc=$?; pid=""
	[ "$rc" -eq 0 ]
}
json_has() { # json_has PYTHON-EXPRESSION-ON-d: stdin is JSON
	python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"
}
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; }
trap cleanup EXIT

echo "== package test: $deb (log: $log)"
check "dpkg -i" dpkg -i "$deb"
check "user zorgstatus exists (sysusers.d)" id zorgstatus
check "state directory /var/lib/zorgstatus owned by zorgstatus" \
	test "$(stat -c %U:%a /var/lib/zorgstatus 2>/dev/null)" = zorgstatus:750
for f in /usr/sbin/zorgstatusd "$conf" $unit /usr/lib/sysusers.d/zorgstatus.conf \
	/usr/lib/tmpfiles.d/zorgstatus.conf /usr/share/zorgstatus/www/index.html \
	/usr/share/zorgstatus/feeds/insurer-zuiderzorg.jsonl /usr/share/doc/zorgstatus/README.gz \
	/usr/share/doc/zorgstatus/copyright /usr/share/man/man8/zorgstatusd.8.gz \
	/usr/share/man/man5/zorgstatus.conf.5.gz; do
	check "installed $f" test -f "$f"
done
check "$conf is a conffile" sh -c "dpkg-query -W -f='\${Conffiles}' zorgstatus | grep -q '$conf'"
man_has_settings() { # every --setting of --help appears in zorgstatusd(8) as \-\-setting
	page=$(zcat /usr/share/man/man8/zorgstatusd.8.gz) || return 1
	for s in $(/usr/sbin/zorgstatusd --help | sed -n 's/^  --\([a-z_]*\) .*/\1/p'); do
		printf '%s\n' "$page" | grep -qF -- "\\-\\-$s\\fR" || { echo "man page lacks --$s"; return 1; }
	done
}
check "man page zorgstatusd(8) lists every option of --help" man_has_settings
check "installed binary uses installed paths (www_dir)" sh -c \
	"/usr/sbin/zorgstatusd --config $conf --dump-config | grep -qx 'www_dir = /usr/share/zorgstatus/www'"

if start; then ok "installed daemon started as zorgstatus, /readyz 200"; else bad "installed daemon started as zorgstatus, /readyz 200"; tail -20 "$log"; fi
check "runs as user zorgstatus" test "$(ps -o user= -p "${pid:-0}" 2>/dev/null)" = zorgstatus
check "GET /healthz" get /healthz
check "GET /v1/search?q=antonius finds the sample provider" sh -c \
	"curl -fsS 'http://127.0.0.1:$port/v1/search?q=antonius' | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d.get(\"total\", 0) >= 1 else 1)'"
check "GET /v1/feeds: the 8 sample feeds, each fetched" sh -c \
	"curl -fsS 'http://127.0.0.1:$port/v1/feeds' | python3 -c 'import json,sys; d=json.load(sys.stdin); f=d[\"feeds\"]; sys.exit(0 if len(f) == 8 and all(x[\"last_success\"] for x in f) else 1)'"
check "GET / serves the widget from /usr/share/zorgstatus/www" sh -c \
	"curl -fsS http://127.0.0.1:$port/www/widget.js | cmp -s - /usr/share/zorgstatus/www/widget.js"
check "GET /metrics (Prometheus text)" sh -c "curl -fsS http://127.0.0.1:$port/metrics | grep -q '^# TYPE '"
same_large_answer() { # a 59 KB lookup asked again comes from its in-memory file (sendfile)
	a=$(get /v1/providers/06010101 | md5sum) && b=$(get /v1/providers/06010101 | md5sum) &&
		c=$(get /v1/providers/06010101 | md5sum) || return 1
	[ "$a" = "$b" ] && [ "$b" = "$c" ] || { echo "answers differ: $a $b $c"; return 1; }
	curl -fsS "http://127.0.0.1:$port/metrics" | grep -q '^zorgstatus_response_cache_file_answers_total [1-9]'
}
check "a large cached answer sent from its file, the same bytes" same_large_answer
check "SIGHUP reloads, still ready" sh -c "kill -HUP $pid && sleep 1 && kill -0 $pid && curl -fsS -o /dev/null http://127.0.0.1:$port/readyz"
check "database in /var/lib/zorgstatus, owned by zorgstatus" \
	test "$(stat -c %U /var/lib/zorgstatus/zorgstatus.db 2>/dev/null)" = zorgstatus
check "SIGTERM: exit 0" stop
if start; then ok "started again on the same database"; else bad "started again on the same database"; tail -20 "$log"; fi
check "GET /v1/search after restart" get "/v1/search?q=antonius"
check "SIGTERM: exit 0 (second run)" stop

check "systemd-analyze verify $unit" systemd-analyze verify "$unit"
check "systemd-analyze security --offline=yes: exposure <= 2.0" \
	systemd-analyze security --offline=yes --threshold=20 "$unit"
systemd-analyze security --offline=yes "$unit" 2>/dev/null | tail -1
# the ingest thread sets its own priority (ingest_nice): of @resources, only setpriority is let
# through, so systemd names it as the one allowed
check "the unit allows setpriority (ingest_nice)" sh -c \
	"systemd-analyze security --offline=yes '$unit' 2>/dev/null | grep -q '@resources is included (e.g. setpriority is allowed)'"

check "dpkg --purge" dpkg --purge zorgstatus
check "purge removed /etc/zorgstatus and /var/lib/zorgstatus" sh -c '! test -e /etc/zorgstatus && ! test -e /var/lib/zorgstatus'
echo "== package test: $fails failed"
[ "$fails" -eq 0 ]
