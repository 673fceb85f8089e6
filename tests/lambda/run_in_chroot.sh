#!/usr/bin/env bash
# Runs the packaged Lambda zip the way Lambda does — /var/task/bootstrap — inside a chroot that
# holds nothing but the unpacked zip and an empty /tmp, so the run proves the package needs
# nothing from this machine's /lib or /usr. The environment is passed through. Needs root
# (CAP_SYS_CHROOT). SIGTERM/SIGINT are forwarded; the temporary root is removed on exit.
# Usage: run_in_chroot.sh footfall-lambda.zip
set -euo pipefail
zip=$(realpath "$1")
if [[ $(id -u) -ne 0 ]]; then
  echo "run_in_chroot.sh: needs root to chroot" >&2
  exit 2
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/var/task" "$root/tmp"
python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = info.external_attr >> 16
        if mode:
            import os; os.chmod(path, mode & 0o7777)' "$zip" "$root/var/task"
cd "$root/var/task"
chroot "$root" /var/task/bootstrap &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
set +e
wait "$child"
rc=$?
# A forwarded signal interrupts the first wait; wait again for the real exit status.
if kill -0 "$child" 2>/dev/null; then wait "$child"; rc=$?; fi
exit "$rc"
