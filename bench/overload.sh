#!/usr/bin/env bash
# Overload benchmark (part of `make bench`): footfall far past what it is allowed to sustain.
#
# One machine cannot offer 10x footfall's own maximum throughput (the load generator shares the
# 2 cores), so "sustainable" here is the rate footfall is configured to sustain: the global rate
# limit is set to a tenth of the throughput measured in phase 1, and wrk then offers everything it
# can (about 10x that) on 1024 connections for BENCH_OVERLOAD_SECONDS (default 60). Reported:
#   - the answers during overload by status (from footfall's /metrics): 200 within the limit,
#     429 beyond it, any 503 when the store queue is full — and whether anything else appeared;
#   - peak RSS during overload (VmHWM) against RSS before;
#   - p99 latency of a light load (4 connections) before, and in each of the 5 seconds after.
# Usage: bench/overload.sh path/to/footfall
set -euo pipefail
BIN=$(realpath "${1:?usage: overload.sh path/to/footfall}")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
SECONDS_OVERLOAD=${BENCH_OVERLOAD_SECONDS:-60}
HOST=127.0.0.1
command -v wrk >/dev/null || fail "wrk is missing (scripts/install-deps.sh --bench installs it)"
TMP=$(mktemp -d /tmp/footfall-overload-XXXXXX)
PID=
cleanup() { stop_pid "$PID" footfall; rm -rf "$TMP"; }
trap cleanup EXIT

start() {  # start LIMIT: footfall with a global limit of LIMIT requests/s (0: none); sets PID PORT
  local logf=$TMP/footfall.log deadline=$((SECONDS + 10))
  "$BIN" serve --listen "$HOST:0" --store "sqlite:$TMP/overload.db" --log-requests false \
    --rate-limit-visitor 0 --rate-limit-global "$1" --metrics-public true \
    --max-connections 20000 < /dev/null > /dev/null 2> "$logf" &
  PID=$!
  until grep -q '"listening"' "$logf" 2>/dev/null; do
    alive "$PID" || fail "footfall exited at start" "$logf"
    ((SECONDS < deadline)) || fail "footfall did not listen within 10 s" "$logf"
    sleep 0.05
  done
  PORT=$(grep -o '"listen":"[^"]*"' "$logf" | head -1 | sed 's/.*:\([0-9]*\)"$/\1/')
}

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
light_p99() {  # light_p99 SECONDS: p99 ms of 4 connections for that long
  wrk -t1 -c4 -d"$1"s -s "$HERE/report.lua" "http://$HOST:$PORT/count" | grep BENCH_RESULT | field p99_ms
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$PID/status"; }

log "phase 1: capacity (64 connections, 10 s, no limit)"
start 0
capacity=$(wrk -t2 -c64 -d10s -s "$HERE/report.lua" "http://$HOST:$PORT/count" | grep BENCH_RESULT | field rps)
stop_pid "$PID" footfall; PID=
limit=$(python3 -c "print(max(1, int(float('$capacity') / 10)))")
log "capacity ${capacity} req/s; allowing ${limit} req/s (a tenth) for the overload"

start "$limit"
before_p99=$(light_p99 5)
before_rss=$(rss_kb)
log "phase 2: overload, 1024 connections for ${SECONDS_OVERLOAD} s"
wrk -t2 -c1024 -d"${SECONDS_OVERLOAD}s" --timeout 10s -s "$HERE/report.lua" "http://$HOST:$PORT/count" > "$TMP/wrk.txt" &
WRK=$!
peak=0
while alive "$WRK"; do
  alive "$PID" || fail "footfall died under overload" "$TMP/footfall.log"
  rss=$(rss_kb); ((rss > peak)) && peak=$rss
  sleep 1
done
wait "$WRK" || true
offered=$(grep BENCH_RESULT "$TMP/wrk.txt" | field rps)
overload_p99=$(grep BENCH_RESULT "$TMP/wrk.txt" | field p99_ms)
socket_errors=$(grep -o 'connect_errors=[0-9]* read_errors=[0-9]* write_errors=[0-9]* timeout_errors=[0-9]*' "$TMP/wrk.txt")
after=()
for i in 1 2 3 4 5; do after+=("$(light_p99 1)"); done
curl -s "http://$HOST:$PORT/metrics" > "$TMP/metrics.txt"
by_status=$(grep '^footfall_http_requests_total{route="/count"' "$TMP/metrics.txt" |
            sed 's/.*status="\([0-9]*\)"} \(.*\)/\1:\2/' | tr '\n' ' ')
hwm=$(hwm_kb)

printf '\n== overload (%s s, 1024 connections, limit %s req/s = capacity/10) ==\n' "$SECONDS_OVERLOAD" "$limit"
printf 'capacity (64 conns, no limit)  %s req/s\n' "$capacity"
printf 'offered during overload        %s req/s  (%.1fx the limit)\n' "$offered" \
  "$(python3 -c "print(float('$offered') / $limit)")"
printf 'answers on /count by status    %s\n' "$by_status"
printf 'socket errors (wrk)            %s\n' "$socket_errors"
printf 'p99 under overload             %s ms (429s included)\n' "$overload_p99"
printf 'RSS before / peak sampled / VmHWM   %s / %s / %s KB\n' "$before_rss" "$peak" "$hwm"
printf 'light-load p99 before          %s ms\n' "$before_p99"
printf 'light-load p99 after, s 1..5   %s ms\n' "${after[*]}"
