#!/usr/bin/env bash
# From a fresh Debian 12 to the first answered /count, as a new user does it: a debootstrap'd
# minbase root with git, make and sudo (nothing else), `git clone` of this repository, and
# `make serve` as the README says. Measures the wall time from `make serve` to the first
# `200` of GET /count, and what apt installed (packages, megabytes); prints one JSON line.
#
# Root only (chroot, mounts of /proc and /dev). Packages come from the machine's Debian mirror; the
# server listens on 127.0.0.1 on a port the OS chooses. The minbase root is made once and kept
# as a tarball (scripts/debian12-root.sh).
# Usage: bench/fresh_install.sh [REPO]   (default: this repository's HEAD, committed state)
set -euo pipefail

repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
deadline_s=${FOOTFALL_FRESH_DEADLINE_S:-1800}

[[ $(id -u) -eq 0 ]] || { echo "fresh_install: needs root (chroot and mounts)" >&2; exit 1; }
work=$(mktemp -d /var/tmp/footfall-fresh.XXXXXX)
root=$work/root
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  for m in "$root/dev" "$root/proc"; do mountpoint -q "$m" && umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT
"$repo/scripts/debian12-root.sh" "$root"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
git clone -q "$repo" "$root/root/footfall"

installed() {  # packages and installed kilobytes in the root
  chroot "$root" dpkg-query -W -f='${db:Status-Abbrev} ${Installed-Size}\n' |
    awk '$1 == "ii" { n++; kb += $2 } END { print n, kb }'
}
read -r packages_before kb_before < <(installed)

log=$work/serve.log
start=$(date +%s.%N)
setsid chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  bash -c 'cd /root/footfall && exec make serve ARGS="--listen 127.0.0.1:0 --store memory:"' \
  > "$log" 2>&1 &
server_pid=$!

port=""
answered=""
while [[ -z "$answered" ]]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "fresh_install: make serve exited before answering; its last lines:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  if (( $(date +%s) - ${start%.*} > deadline_s )); then
    echo "fresh_install: no answer within $deadline_s s; last lines:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  if [[ -z "$port" ]]; then
    port=$(sed -n 's/.*"msg":"listening","listen":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$log" | head -n 1)
  fi
  if [[ -n "$port" ]] && [[ $(python3 - "$port" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/count", timeout=5) as r:
        print(r.status)
except Exception:
    print(0)
PY
) == 200 ]]; then
    answered=$(date +%s.%N)
  else
    sleep 0.2
  fi
done
read -r packages_after kb_after < <(installed)
steps=$(grep -c '^\[[0-9]*/[0-9]*\] ' "$log" || true)
python3 - "$start" "$answered" "$((packages_after - packages_before))" \
  "$((kb_after - kb_before))" "$steps" "$(nproc)" "$log" <<'PY'
import json, re, sys
start, answered, packages, kb, steps, cores, log = sys.argv[1:]
# apt's "Need to get 123 MB of archives": what was downloaded (the last attempt, if retried).
fetched = [float(n.replace(",", "")) * (1 / 1024 if unit == "kB" else 1)
           for n, unit in re.findall(r"Need to get ([0-9.,]+) (kB|MB)", open(log).read())]
print(json.dumps({"from": "source (make serve)",
                  "seconds_to_first_count": round(float(answered) - float(start), 1),
                  "packages_installed": int(packages), "installed_mb": round(int(kb) / 1024),
                  "downloaded_mb": round(fetched[-1]) if fetched else None,
                  "build_steps": int(steps), "cores": int(cores)}))
PY
