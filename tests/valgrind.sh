#!/bin/sh
# Leak check: run the daemon under valgrind on the sample feeds, make requests, stop it with
# SIGTERM, and fail on any definite or indirect leak or invalid access.
set -u
bin=${1:-src/zorgstatusd}
dir=$(mktemp -d)
# A free port from the kernel (bind to port 0), not one derived from the PID: a derived port
# collided with another process in CI ("Address already in use", exit 69). Retried if taken
# between the probe and the daemon's bind.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for attempt in 1 2 3; do
port=$(free_port)
valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--log-file="$dir/vg.log" "$bin" --listen "127.0.0.1:$port" --database "$dir/z.db" \
	--now 2026-11-20T10:00:00 >"$dir/d.log" 2>&1 &
pid=$!
ok=0
for _ in $(seq 1 120); do
	kill -0 "$pid" 2>/dev/null || break
	if curl -sf "http://127.0.0.1:$port/v1/feeds" 2>/dev/null | grep -q '"last_success":"'; then ok=1; break; fi
	sleep 0.5
done
if [ "$ok" -eq 1 ] || ! grep -q "Address already in use" "$dir/d.log"; then break; fi
wait "$pid"; echo "valgrind: port $port taken, attempt $attempt; trying another"
rm -f "$dir"/z.db*
done
sleep 3
for p in "/v1/providers/06010101?amount=8000" "/v1/providers/06010101?lang=en" \
	"/v1/policies?year=2027" "/v1/feeds" "/v1/status?agb=06010101&policy=9101-BASIS&year=2027" \
	"/v1/providers/123" "/nope" "/healthz"; do
	curl -s -o /dev/null "http://127.0.0.1:$port$p" || ok=0
done
# a large answer (59 KB) asked again: the cache's answer file (sendfile), the entry's text
# dropped, then the gzip form made from the file
for _ in 1 2 3; do
	curl -s -o /dev/null "http://127.0.0.1:$port/v1/providers/06010101" || ok=0
done
curl -s -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/v1/providers/06010101" || ok=0
kill -TERM "$pid"
wait "$pid"; rc=$?
if [ "$ok" -ne 1 ] || [ "$rc" -ne 0 ]; then
	echo "valgrind run failed (ready=$ok, exit=$rc)"; tail -40 "$dir/vg.log"; tail -20 "$dir/d.log"
	rm -rf "$dir"; exit 1
fi
grep -E "definitely lost|indirectly lost|ERROR SUMMARY" "$dir/vg.log"
rm -rf "$dir"
echo "valgrind: clean"
