# shellcheck shell=bash
# Shell helpers shared by the benchmark scripts (sourced, not run): process control, logging,
# numbers. Only processes the scripts started are ever signalled, by PID.

# alive PID: true while PID runs. `kill -0` alone is not enough: a child that
# exited stays a zombie (state Z) until we wait for it.
alive() {
  local stat
  read -r stat 2>/dev/null < "/proc/$1/stat" || return 1
  stat=${stat##*) }            # drop "pid (comm) ", comm may contain spaces
  [[ ${stat%% *} != Z ]]
}

# stop_pid PID NAME [SECONDS]: SIGTERM, give it SECONDS (default 5) to exit, then SIGKILL it
# and the children it had (nginx workers), then reap it. Sets STOP_STATUS to its exit status.
stop_pid() {
  local pid=$1 name=$2 secs=${3:-5} kids i
  [[ -n $pid ]] || return 0
  if alive "$pid"; then
    kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 100; i++)); do alive "$pid" || break; sleep 0.01; done
    if alive "$pid"; then
      echo "bench: $name (pid $pid) ignored SIGTERM for $secs s; killing it" >&2
      # shellcheck disable=SC2086  # $kids is a list of PIDs
      kill -KILL "$pid" $kids 2>/dev/null || true
    fi
  fi
  STOP_STATUS=0  # read by the callers
  export STOP_STATUS
  wait "$pid" 2>/dev/null || STOP_STATUS=$?
}

# ---------------------------------------------------------------- helpers ---
log() { printf 'bench: %s\n' "$*" >&2; }

# fail MSG [LOGFILE...]: print MSG and the tail of each log, exit 1 (cleanup runs).
fail() {
  local f
  echo "bench: FAILED: $1" >&2
  shift
  for f in "$@"; do
    [[ -s $f ]] || continue
    echo "---- last lines of $(basename "$f") ----" >&2
    tail -n 20 "$f" >&2
  done
  exit 1
}

max_of() { printf '%s\n' "$@" | sort -g | tail -n 1; }

min_of() { printf '%s\n' "$@" | sort -g | head -n 1; }

# cpu_ticks PID...: user+system CPU time used so far by these processes, in
# clock ticks (fields 14 and 15 of /proc/PID/stat). Used to tell whether a
# slow server is busy computing or waiting (e.g. on fsync).
# thread_ticks PID: one line per thread of PID, "NAME TICKS" (user+system CPU so far; threads are
# named by footfall, see src/base/thread_name.h).
thread_ticks() {
  local task stat f name
  for task in /proc/"$1"/task/*; do
    read -r stat 2>/dev/null < "$task/stat" || continue
    name=${stat#*(} name=${name%%)*}
    read -ra f <<< "${stat##*) }"
    echo "${name// /_} $((f[11] + f[12]))"
  done
}

# reaped_children_ticks: user+system CPU time of this shell's children that have
# exited and been waited for (cutime + cstime of $$), in clock ticks. The
# difference across a `wait` for one child is that child's CPU.
reaped_children_ticks() {
  local stat f
  read -r stat < "/proc/$$/stat"
  read -ra f <<< "${stat##*) }"
  echo $((f[13] + f[14]))
}

cpu_ticks() {
  local total=0 pid stat f
  for pid in "$@"; do
    read -r stat 2>/dev/null < "/proc/$pid/stat" || continue
    read -ra f <<< "${stat##*) }"       # f[0] is field 3 (state)
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
