#!/usr/bin/env bash
# footfall on PostgreSQL: `bash bench/postgres_bench.sh build/footfall` (stand-alone, or after
# bench/run.sh in `make bench`).
#
# Starts its own PostgreSQL 15 (tests/integration/pg.py: initdb in a temp dir, a free loopback
# port, fsync and synchronous_commit on) and measures with wrk, side by side in one run:
#   sqlite   one footfall on a SQLite file (the single-machine path, the yardstick)
#   pg x1    one footfall on PostgreSQL
#   pg x2    two footfall instances on the same PostgreSQL database, loaded at once (two wrk
#            processes, half the threads and connections each; req/s summed, p99 the worse)
# then PostgreSQL's own `pgbench -N` (simple update) on the same server as the ceiling
# reference. Prints requests/s and p99 of each, the ratios pg x2 / pg x1, pg x1 / sqlite and
# footfall-on-PostgreSQL visits/s / pgbench tps, where the CPU went (footfall, PostgreSQL, the
# rest: mostly wrk), and whether every 200 was stored. Reported, not asserted: the exit status is
# nonzero only if something failed to run. See docs/benchmarks.md.
#
# Environment (all optional; the same names as bench/run.sh):
#   BENCH_DURATION=10s    wrk duration of each measured run
#   BENCH_CONNECTIONS=64  wrk connections (split in two for pg x2)
#   BENCH_THREADS=2       wrk threads (split in two for pg x2)
#   BENCH_WARMUP=2s       wrk warm-up run per configuration
#   BENCH_ROUNDS=2        measured runs per configuration, alternating sqlite, pg x1, pg x2
#   BENCH_PGBENCH_SECONDS=10  pgbench -T
#   TMPDIR                where the temp dirs (SQLite file, PostgreSQL data, logs) go; their
#                         filesystem matters because both engines fsync every commit
#
# Every target is 127.0.0.1. Everything started here is stopped by its PID on exit.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "usage: bash bench/postgres_bench.sh path/to/footfall" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
BIN=$(realpath -- "$1" 2>/dev/null) || { echo "bench: no such file: $1" >&2; exit 1; }
[[ -f $BIN && -x $BIN ]] || { echo "bench: not an executable file: $BIN" >&2; exit 1; }

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname -- "$BENCH_DIR")

DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
WARMUP=${BENCH_WARMUP:-2s}
ROUNDS=${BENCH_ROUNDS:-2}
PGBENCH_SECONDS=${BENCH_PGBENCH_SECONDS:-10}
HOST=127.0.0.1          # loopback only, deliberately not configurable
HALF_CONNS=$(( (CONNS + 1) / 2 )) HALF_THREADS=$(( (THREADS + 1) / 2 ))

PG_BIN=/usr/lib/postgresql/15/bin
PGBENCH=$PG_BIN/pgbench; [[ -x $PGBENCH ]] || PGBENCH=$(command -v pgbench || echo pgbench)
PSQL=$PG_BIN/psql;       [[ -x $PSQL ]] || PSQL=$(command -v psql || echo psql)
for tool in wrk python3 curl "$PGBENCH" "$PSQL" "$PG_BIN/postgres"; do
  command -v "$tool" >/dev/null ||
    { echo "bench: missing $tool (run scripts/install-deps.sh --bench; PostgreSQL 15 from postgresql-15)" >&2; exit 1; }
done
# Only our own command lines configure the PostgreSQL clients.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^PG' || true)

# ---------------------------------------------------------------- cleanup ---
TMP=$(mktemp -d -t footfall-pgbench.XXXXXX)
PG_HOLDER_PID="" SQLITE_PID="" PG_A_PID="" PG_B_PID="" WRK_PIDS=() PGBENCH_PID="" SAMPLER_PID=""



cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${WRK_PIDS[@]}"; do stop_pid "$pid" wrk; done
  stop_pid "$PGBENCH_PID" pgbench
  stop_pid "$SAMPLER_PID" "wait-event sampler (psql)"
  stop_pid "$SQLITE_PID" "footfall (sqlite)"
  stop_pid "$PG_A_PID" "footfall (pg A)"
  stop_pid "$PG_B_PID" "footfall (pg B)"
  # pg.py stops PostgreSQL (fast shutdown, by the postmaster's PID) and removes its temp dir;
  # a checkpoint can take a few seconds.
  stop_pid "$PG_HOLDER_PID" "PostgreSQL (pg.py)" 30
  rm -rf -- "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM



calc()   { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
ratio()  { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# machine_ticks: "busy total" ticks of all CPUs so far, from /proc/stat.
machine_ticks() {
  local _ user nice system idle iowait irq softirq steal
  read -r _ user nice system idle iowait irq softirq steal _ < /proc/stat
  echo "$((user + nice + system + irq + softirq + steal)) $((user + nice + system + idle + iowait + irq + softirq + steal))"
}
NPROC=$(nproc)

# postgres_ticks: CPU ticks used so far by PostgreSQL: the postmaster, its live children
# (backends, checkpointer, WAL writer, ...) and the children it has reaped (fields 16-17, so
# that pgbench's backends, gone when it ends, are counted too).
postgres_ticks() {
  local stat f kids
  read -r stat 2>/dev/null < "/proc/$PG_PID/stat" || { echo 0; return; }
  read -ra f <<< "${stat##*) }"
  read -ra kids <<< "$(cat /proc/"$PG_PID"/task/*/children 2>/dev/null || true)"
  echo $((f[11] + f[12] + f[13] + f[14] + $(cpu_ticks "${kids[@]}")))
}

# start_footfall NAME STORE: starts footfall on STORE, stderr to $TMP/NAME.stderr; sets
# STARTED_PID and STARTED_BASE once it answers /healthz.
start_footfall() {
  local name=$1 store=$2 logf="$TMP/$1.stderr" line addr deadline=$((SECONDS + 15))
  "$BIN" serve --listen "$HOST:0" --store "$store" --rate-limit-visitor 0 --rate-limit-global 0 < /dev/null > "$TMP/$name.stdout" 2> "$logf" &
  STARTED_PID=$!
  while :; do
    line=$(grep -m1 '"msg": *"listening"' "$logf" 2>/dev/null || true)
    if [[ $line =~ \"listen\":\ *\"([^\"]+)\" ]]; then addr=${BASH_REMATCH[1]}; break; fi
    alive "$STARTED_PID" || fail "footfall ($name) exited before logging its listen address" "$logf"
    ((SECONDS < deadline)) || fail "footfall ($name) logged no \"listening\" line within 15 s" "$logf"
    sleep 0.01
  done
  [[ $addr =~ ^127\.0\.0\.1:([0-9]+)$ ]] || fail "footfall ($name) listens on '$addr'" "$logf"
  STARTED_BASE="http://$HOST:${BASH_REMATCH[1]}"
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$STARTED_BASE/count") == 200 ]] ||
    fail "footfall ($name): GET /count did not answer 200" "$logf"
}

# api_count BASE LOG: the stored count from GET /api/count.
api_count() {
  local body
  body=$(curl -s --max-time 5 "$1/api/count") || fail "GET $1/api/count failed" "$2"
  [[ $body =~ \"count\":\ *([0-9]+) ]] || fail "GET $1/api/count answered: $body" "$2"
  echo "${BASH_REMATCH[1]}"
}

psql_at() { "$PSQL" -X -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U postgres "$@"; }

# parse_result FILE: the BENCH_RESULT line (bench/report.lua) of a wrk output into array R.
declare -A R
parse_result() {
  local line kv
  line=$(grep -m1 '^BENCH_RESULT ' "$1") || fail "wrk printed no BENCH_RESULT line" "$1"
  R=()
  for kv in ${line#BENCH_RESULT }; do R[${kv%%=*}]=${kv#*=}; done
  R[sock_errors]=$((R[connect_errors] + R[read_errors] + R[write_errors] + R[timeout_errors]))
  R[ok]=$((R[requests] - R[status_errors]))
}

# run_load NAME DURATION URL...: one wrk per URL, all at once (threads and connections split
# between them), in the background plus `wait` so Ctrl-C reaches the trap at once. Sets
# L_RPS (summed), L_P99 (worst), L_P50 (worst), L_OK, L_NON2XX, L_SOCK, L_SECS, L_VISITS and L_COMMITS (from the footfall logs), and the CPU
# ticks used meanwhile: L_FF_CPU (footfall), L_PG_CPU (PostgreSQL), L_BUSY/L_TOTAL (machine).
WRK_RUN=0
run_load() {
  local name=$1 dur=$2 url i out t c pids_ff m0 m1 ff0 pg0 logs0
  shift 2
  t=$THREADS c=$CONNS
  if (($# > 1)); then t=$HALF_THREADS c=$HALF_CONNS; fi
  read -ra pids_ff <<< "$SQLITE_PID $PG_A_PID $PG_B_PID"
  ff0=$(cpu_ticks "${pids_ff[@]}") pg0=$(postgres_ticks) m0=$(machine_ticks) logs0=$(log_sizes)
  WRK_PIDS=() OUTS=()
  for url in "$@"; do
    WRK_RUN=$((WRK_RUN + 1))
    out="$TMP/wrk-$WRK_RUN-$name.txt"
    wrk -t"$t" -c"$c" -d"$dur" --timeout 2s --latency -s "$BENCH_DIR/report.lua" "$url" \
        > "$out" 2>&1 < /dev/null &
    WRK_PIDS+=($!) OUTS+=("$out")
  done
  for i in "${!WRK_PIDS[@]}"; do
    wait "${WRK_PIDS[$i]}" || fail "wrk against $name exited with an error" "${OUTS[$i]}"
  done
  WRK_PIDS=()
  m1=$(machine_ticks)
  L_FF_CPU=$(($(cpu_ticks "${pids_ff[@]}") - ff0)) L_PG_CPU=$(($(postgres_ticks) - pg0))
  L_BUSY=$(( ${m1% *} - ${m0% *} )) L_TOTAL=$(( ${m1#* } - ${m0#* } ))
  sleep 0.2  # footfall's log writer runs behind by a few milliseconds
  read -r L_VISITS L_COMMITS <<< "$(commits_since "$logs0")"
  L_RPS=0 L_P99=0 L_P50=0 L_OK=0 L_NON2XX=0 L_SOCK=0 L_SECS=1
  for out in "${OUTS[@]}"; do
    parse_result "$out"
    L_RPS=$(calc "$L_RPS + ${R[rps]}" 1)
    L_P99=$(max_of "$L_P99" "${R[p99_ms]}") L_P50=$(max_of "$L_P50" "${R[p50_ms]}")
    L_OK=$((L_OK + R[ok])) L_NON2XX=$((L_NON2XX + R[status_errors]))
    L_SOCK=$((L_SOCK + R[sock_errors])) L_SECS=${R[duration_s]}
  done
  printf 'bench: %-18s %10.1f req/s  p50 %7.3f ms  p99 %7.3f ms  non-2xx %d  socket errors %d  CPU%%: machine %s, footfall %s, postgres %s; %s commits/s, %s visits/commit\n' \
    "$name" "$L_RPS" "$L_P50" "$L_P99" "$L_NON2XX" "$L_SOCK" "$(pct "$L_BUSY" "$L_TOTAL")" \
    "$(cpu_pct "$L_FF_CPU")" "$(cpu_pct "$L_PG_CPU")" "$(calc "$L_COMMITS / $L_SECS" 0)" \
    "$(ratio "$L_VISITS" "$L_COMMITS")" >&2
}
# duration_seconds 10s|2m|1h|10: whole seconds of a wrk duration.
duration_seconds() {
  local d=$1
  case $d in
    *h) echo $(( ${d%h} * 3600 )) ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *s) echo "${d%s}" ;;
    *) echo "$d" ;;
  esac
}

# sample_waits NAME SAMPLES: in the background, every 100 ms, what each of footfall's active
# PostgreSQL backends is waiting for (pg_stat_activity's wait_event_type:wait_event, "CPU" when
# it waits for nothing), appended to $TMP/waits-NAME.txt. One session doing the whole loop, so
# sampling costs one backend, not one psql per sample. Sets SAMPLER_PID.
sample_waits() {
  "$PSQL" -X -At -q -h "$HOST" -p "$PG_PORT" -U postgres -d footfall_bench -c "
    CREATE TEMP TABLE w (ev text);
    DO \$\$ BEGIN
      FOR i IN 1..$2 LOOP
        PERFORM pg_stat_clear_snapshot();
        INSERT INTO w SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU')
          FROM pg_stat_activity
          WHERE datname = 'footfall_bench' AND backend_type = 'client backend'
            AND state = 'active' AND pid <> pg_backend_pid();
        PERFORM pg_sleep(0.1);
      END LOOP;
    END \$\$;
    SELECT ev FROM w;" >> "$TMP/waits-$1.txt" 2> "$TMP/waits-$1.err" < /dev/null &
  SAMPLER_PID=$!
}

# wait_summary NAME: "Lock 0%, IO:WALSync 40%, CPU 35%, ..." from the samples of NAME.
wait_summary() {
  sort "$TMP/waits-$1.txt" | uniq -c | sort -rn |
    awk '{ n[NR] = $2; c[NR] = $1; t += $1 } $2 ~ /^Lock:/ { lock += $1 }
         END { if (!t) { print "no samples"; exit }
               printf "row/object locks %.0f%%", 100 * lock / t
               for (i = 1; i <= NR && i <= 4; i++) printf ", %s %.0f%%", n[i], 100 * c[i] / t
               printf " (%d samples)\n", t }'
}

# log_sizes: the byte sizes of the three footfall logs, "sqlite pg-a pg-b".
log_sizes() {
  local f sizes=""
  for f in sqlite pg-a pg-b; do sizes+="$(stat -c %s "$TMP/$f.stderr") "; done
  echo "$sizes"
}

# commits_since SIZES: "visits commits" answered 200 by /count in the footfall logs after SIZES
# (from log_sizes). Each request's log line has the size of the batch it was committed in, so
# the number of transactions is the sum of 1/batch over the visits.
commits_since() {
  local sizes f i=0
  read -ra sizes <<< "$1"
  for f in sqlite pg-a pg-b; do
    tail -c +$((sizes[i] + 1)) "$TMP/$f.stderr"
    i=$((i + 1))
  done | awk '/"route":"\/count"/ && /"status":200/ && match($0, /"batch":[0-9]+/) {
                b = substr($0, RSTART + 8, RLENGTH - 8) + 0; if (b > 0) { v++; c += 1 / b } }
              END { printf "%d %.0f\n", v, c }'
}

# pct PART WHOLE: percent of the machine (all cores = 100).
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b; else print "n/a" }'; }
# cpu_pct TICKS: percent of the machine over the last load (all cores = 100).
cpu_pct() { pct "$1" "$L_TOTAL"; }

# ------------------------------------------------------------ environment ---
COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "none")
[[ -z $(git -C "$REPO" status --porcelain 2>/dev/null) ]] || COMMIT="$COMMIT+dirty"
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
log "footfall $BIN, commit $COMMIT, nproc $NPROC ($CPU), load average $LOADAVG"
log "wrk -t$THREADS -c$CONNS -d$DURATION (pg x2: two wrk -t$HALF_THREADS -c$HALF_CONNS), warm-up $WARMUP, $ROUNDS rounds; temp dir $TMP ($(stat -f -c %T "$TMP"))"
FF_ENV=$(env | grep -E '^(FOOTFALL_[A-Z_]*|ALLOWED_ORIGIN)=' | sort | paste -sd ' ' || true)
[[ -z $FF_ENV ]] || log "NOTE: footfall settings from the environment: $FF_ENV"

# ------------------------------------------------------------- PostgreSQL ---
# pg.py prints "PORT DIR" once PostgreSQL accepts connections, and on SIGTERM stops it (by the
# postmaster's PID) and removes DIR. It is our child; the postmaster is its child. DIR is its own
# temp dir (under TMPDIR, not under $TMP: the postgres user must be able to reach it).
python3 "$REPO/tests/integration/pg.py" hold > "$TMP/pg.out" 2> "$TMP/pg.err" < /dev/null &
PG_HOLDER_PID=$!
deadline=$((SECONDS + 60))
until read -r PG_PORT PG_DIR 2>/dev/null < "$TMP/pg.out" && [[ -n ${PG_DIR:-} ]]; do
  alive "$PG_HOLDER_PID" || fail "PostgreSQL did not start" "$TMP/pg.err"
  ((SECONDS < deadline)) || fail "PostgreSQL did not start within 60 s" "$TMP/pg.err"
  sleep 0.05
done
PG_PID=$(cat /proc/"$PG_HOLDER_PID"/task/*/children 2>/dev/null | awk '{ print $1 }')
[[ -n $PG_PID ]] || fail "cannot find the postmaster started by pg.py (pid $PG_HOLDER_PID)" "$TMP/pg.err"
PG_VERSION=$(psql_at -d postgres -c 'SHOW server_version')
PG_SETTINGS=$(psql_at -d postgres -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections', 'wal_level')")
log "PostgreSQL $PG_VERSION pid $PG_PID on $HOST:$PG_PORT, data in $PG_DIR; $PG_SETTINGS"
psql_at -d postgres -c 'CREATE DATABASE footfall_bench' > /dev/null
psql_at -d postgres -c 'CREATE DATABASE pgbench' > /dev/null
PG_STORE="postgres://postgres@$HOST:$PG_PORT/footfall_bench"

# ---------------------------------------------------------------- footfall ---
start_footfall sqlite "sqlite:$TMP/bench.db"; SQLITE_PID=$STARTED_PID SQLITE_BASE=$STARTED_BASE
start_footfall pg-a "$PG_STORE";              PG_A_PID=$STARTED_PID PG_A_BASE=$STARTED_BASE
start_footfall pg-b "$PG_STORE";              PG_B_PID=$STARTED_PID PG_B_BASE=$STARTED_BASE
log "footfall sqlite pid $SQLITE_PID on $SQLITE_BASE; on PostgreSQL: A pid $PG_A_PID on $PG_A_BASE, B pid $PG_B_PID on $PG_B_BASE"
SQLITE_OK=1 PG_OK=2     # the /count checks in start_footfall
SQLITE_BEFORE=$(api_count "$SQLITE_BASE" "$TMP/sqlite.stderr")
PG_BEFORE=$(api_count "$PG_A_BASE" "$TMP/pg-a.stderr")

alive_all() {
  local p
  for p in "$SQLITE_PID" "$PG_A_PID" "$PG_B_PID"; do
    alive "$p" || fail "footfall (pid $p) died during $1" "$TMP/sqlite.stderr" "$TMP/pg-a.stderr" "$TMP/pg-b.stderr"
  done
  alive "$PG_PID" || fail "PostgreSQL died during $1" "$PG_DIR/postgres.log"
}

# Warm-up (not measured).
run_load "warm-up sqlite" "$WARMUP" "$SQLITE_BASE/count"; SQLITE_OK=$((SQLITE_OK + L_OK))
run_load "warm-up pg x1" "$WARMUP" "$PG_A_BASE/count";     PG_OK=$((PG_OK + L_OK))
run_load "warm-up pg x2" "$WARMUP" "$PG_A_BASE/count" "$PG_B_BASE/count"; PG_OK=$((PG_OK + L_OK))
alive_all "warm-up"

# Measured rounds alternate the three configurations so that background drift hits all alike.
declare -A RPS P99 NON2XX SOCK BUSY FFCPU PGCPU OTHER CPS VPC
CONFIGS=(sqlite pg1 pg2)
for cfg in "${CONFIGS[@]}"; do RPS[$cfg]="" P99[$cfg]="" NON2XX[$cfg]=0 SOCK[$cfg]=0 BUSY[$cfg]="" FFCPU[$cfg]="" PGCPU[$cfg]="" OTHER[$cfg]="" CPS[$cfg]="" VPC[$cfg]=""; done
record() {
  RPS[$1]+="$L_RPS " P99[$1]+="$L_P99 "
  NON2XX[$1]=$((NON2XX[$1] + L_NON2XX)) SOCK[$1]=$((SOCK[$1] + L_SOCK))
  BUSY[$1]+="$(pct "$L_BUSY" "$L_TOTAL") " FFCPU[$1]+="$(cpu_pct "$L_FF_CPU") " PGCPU[$1]+="$(cpu_pct "$L_PG_CPU") "
  OTHER[$1]+="$(pct $((L_BUSY - L_FF_CPU - L_PG_CPU)) "$L_TOTAL") "
  CPS[$1]+="$(calc "$L_COMMITS / $L_SECS" 0) " VPC[$1]+="$(ratio "$L_VISITS" "$L_COMMITS") "
}
# Wait events are sampled during the PostgreSQL runs, ending a little before wrk does.
WAIT_SAMPLES=$(( $(duration_seconds "$DURATION") * 10 - 5 ))
((WAIT_SAMPLES > 0)) || WAIT_SAMPLES=1
for ((round = 1; round <= ROUNDS; round++)); do
  run_load "round $round sqlite" "$DURATION" "$SQLITE_BASE/count"
  record sqlite; SQLITE_OK=$((SQLITE_OK + L_OK))
  sample_waits pg1 "$WAIT_SAMPLES"
  run_load "round $round pg x1" "$DURATION" "$PG_A_BASE/count"
  record pg1; PG_OK=$((PG_OK + L_OK))
  wait "$SAMPLER_PID" || fail "sampling wait events failed" "$TMP/waits-pg1.err"
  sample_waits pg2 "$WAIT_SAMPLES"
  run_load "round $round pg x2" "$DURATION" "$PG_A_BASE/count" "$PG_B_BASE/count"
  record pg2; PG_OK=$((PG_OK + L_OK))
  wait "$SAMPLER_PID" || fail "sampling wait events failed" "$TMP/waits-pg2.err"
  SAMPLER_PID=""
  alive_all "round $round"
done

# Every 200 stored: /api/count on both instances, and the database itself.
SQLITE_AFTER=$(api_count "$SQLITE_BASE" "$TMP/sqlite.stderr")
PG_AFTER_A=$(api_count "$PG_A_BASE" "$TMP/pg-a.stderr")
PG_AFTER_B=$(api_count "$PG_B_BASE" "$TMP/pg-b.stderr")
IFS='|' read -r PG_SHARDS PG_ROWS PG_SHARDS_USED < <(psql_at -d footfall_bench -c \
  "SELECT (SELECT sum(count) FROM counter_shards), (SELECT count(*) FROM visits), (SELECT count(*) FROM counter_shards WHERE count > 0)")
log "stored: sqlite $SQLITE_BEFORE -> $SQLITE_AFTER for $SQLITE_OK 200s; PostgreSQL $PG_BEFORE -> $PG_AFTER_A (A) / $PG_AFTER_B (B), counter_shards sum $PG_SHARDS, visits rows $PG_ROWS, $PG_SHARDS_USED shards used, for $PG_OK 200s"

# footfall is done: stop it so pgbench has the machine to itself.
stop_pid "$SQLITE_PID" "footfall (sqlite)"; SQLITE_PID=""
stop_pid "$PG_A_PID" "footfall (pg A)"; PG_A_PID=""
stop_pid "$PG_B_PID" "footfall (pg B)"; PG_B_PID=""

# ----------------------------------------------------------------- pgbench ---
# Simple update (-N: per transaction one UPDATE of pgbench_accounts, one SELECT, one INSERT into
# pgbench_history, each committed with fsync): what this PostgreSQL does with 8 clients.
"$PGBENCH" -i -q -h "$HOST" -p "$PG_PORT" -U postgres pgbench > "$TMP/pgbench-init.txt" 2>&1 < /dev/null ||
  fail "pgbench -i failed" "$TMP/pgbench-init.txt"
m0=$(machine_ticks) pg0=$(postgres_ticks)
"$PGBENCH" -N -c 8 -j 2 -T "$PGBENCH_SECONDS" -h "$HOST" -p "$PG_PORT" -U postgres pgbench \
  > "$TMP/pgbench.txt" 2>&1 < /dev/null &
PGBENCH_PID=$!
wait "$PGBENCH_PID" || fail "pgbench -N failed" "$TMP/pgbench.txt"
PGBENCH_PID=""
m1=$(machine_ticks)
PGB_TPS=$(awk '/^tps = / { print $3; exit }' "$TMP/pgbench.txt")
PGB_LAT=$(awk '/^latency average = / { print $4; exit }' "$TMP/pgbench.txt")
[[ -n $PGB_TPS ]] || fail "pgbench printed no tps" "$TMP/pgbench.txt"
L_TOTAL=$(( ${m1#* } - ${m0#* } ))
PGB_BUSY=$(pct $(( ${m1% *} - ${m0% *} )) "$L_TOTAL")
PGB_PGCPU=$(cpu_pct $(( $(postgres_ticks) - pg0 )))
log "pgbench -N -c 8 -j 2 -T $PGBENCH_SECONDS: $PGB_TPS tps, latency average $PGB_LAT ms; CPU%: machine $PGB_BUSY, postgres $PGB_PGCPU"

# ------------------------------------------------------------------ table ---
# shellcheck disable=SC2086  # the per-round lists are space-separated numbers
best_rps() { max_of ${RPS[$1]}; }
# shellcheck disable=SC2086
best_p99() { min_of ${P99[$1]}; }
S_RPS=$(best_rps sqlite) P1_RPS=$(best_rps pg1) P2_RPS=$(best_rps pg2)
S_P99=$(best_p99 sqlite) P1_P99=$(best_p99 pg1) P2_P99=$(best_p99 pg2)
PG_ADDED=$((PG_SHARDS - PG_BEFORE)) SQLITE_ADDED=$((SQLITE_AFTER - SQLITE_BEFORE))
yes_no() { if eval "$1"; then echo met; else echo MISSED; fi; }

row() { printf '%-34s %10s %10s %10s %9s  %s\n' "$@"; }
echo
echo "footfall on PostgreSQL bench  commit $COMMIT  nproc $NPROC  $(date -u +%Y-%m-%dT%H:%M:%SZ)  load average at start $LOADAVG"
echo "PostgreSQL $PG_VERSION ($PG_SETTINGS); wrk -t$THREADS -c$CONNS -d$DURATION (+ $WARMUP warm-up)," \
     "pg x2: two wrk -t$HALF_THREADS -c$HALF_CONNS at once, req/s summed, p99 the worse;" \
     "$ROUNDS alternating rounds, best round per metric"
echo
row "metric" "sqlite" "pg x1" "pg x2" "" ""
row "requests/s" "$(calc "$S_RPS" 0)" "$(calc "$P1_RPS" 0)" "$(calc "$P2_RPS" 0)" "" ""
row "p99 latency ms" "$(calc "$S_P99" 3)" "$(calc "$P1_P99" 3)" "$(calc "$P2_P99" 3)" "" ""
row "non-2xx responses (all rounds)" "${NON2XX[sqlite]}" "${NON2XX[pg1]}" "${NON2XX[pg2]}" "" ""
row "socket errors (all rounds)" "${SOCK[sqlite]}" "${SOCK[pg1]}" "${SOCK[pg2]}" "" ""
row "machine CPU % busy (per round)" "${BUSY[sqlite]% }" "${BUSY[pg1]% }" "${BUSY[pg2]% }" "" ""
row "  footfall CPU % of machine" "${FFCPU[sqlite]% }" "${FFCPU[pg1]% }" "${FFCPU[pg2]% }" "" ""
row "  postgres CPU % of machine" "" "${PGCPU[pg1]% }" "${PGCPU[pg2]% }" "" ""
row "  other (wrk, rest of the machine)" "${OTHER[sqlite]% }" "${OTHER[pg1]% }" "${OTHER[pg2]% }" "" ""
row "commits/s (per round)" "${CPS[sqlite]% }" "${CPS[pg1]% }" "${CPS[pg2]% }" "" ""
row "visits per commit (per round)" "${VPC[sqlite]% }" "${VPC[pg1]% }" "${VPC[pg2]% }" "" ""
echo
row "ratio" "" "" "value" "" ""
row "pg x2 / pg x1 requests/s" "" "" "$(ratio "$P2_RPS" "$P1_RPS")" "" "(> 1: two instances do more than one)"
row "pg x1 / sqlite requests/s" "" "" "$(ratio "$P1_RPS" "$S_RPS")" "" ""
row "pg x1 / sqlite p99" "" "" "$(ratio "$P1_P99" "$S_P99")" "" ""
row "pg x1 visits/s / pgbench tps" "" "" "$(ratio "$P1_RPS" "$PGB_TPS")" "" "(pgbench -N -c 8 -j 2: $(calc "$PGB_TPS" 0) tps, $PGB_LAT ms avg)"
row "pg x2 visits/s / pgbench tps" "" "" "$(ratio "$P2_RPS" "$PGB_TPS")" "" ""
echo
row "stored" "sqlite" "postgres" "200s" "" ""
row "GET /api/count - before >= 200s" "$SQLITE_ADDED" "$PG_ADDED" "" "" \
    "$(yes_no "((SQLITE_ADDED >= SQLITE_OK && PG_ADDED >= PG_OK))")"
row "200s answered (wrk + probes)" "$SQLITE_OK" "$PG_OK" "" "" ""
row "pg: sum(counter_shards) = visits rows" "" "$PG_SHARDS" "$PG_ROWS" "" \
    "$(yes_no "((PG_SHARDS == PG_ROWS && PG_AFTER_A == PG_SHARDS && PG_AFTER_B == PG_SHARDS))")"
echo
echo "per round req/s   sqlite: ${RPS[sqlite]}  pg x1: ${RPS[pg1]}  pg x2: ${RPS[pg2]}"
echo "per round p99 ms  sqlite: ${P99[sqlite]}  pg x1: ${P99[pg1]}  pg x2: ${P99[pg2]}"
echo "postgres: $PG_SHARDS_USED of 16 counter shards used; /api/count A $PG_AFTER_A, B $PG_AFTER_B;" \
     "pgbench machine CPU $PGB_BUSY %, postgres $PGB_PGCPU %"
echo "footfall's active backends were waiting on (pg_stat_activity, every 100 ms):"
echo "  pg x1: $(wait_summary pg1)"
echo "  pg x2: $(wait_summary pg2)"
