#!/usr/bin/env bash
# Packages a footfall binary built with -DFOOTFALL_LAMBDA_PACKAGE=ON as an AWS Lambda custom-runtime
# zip for provided.al2023 (x86_64):
#   bootstrap                         the footfall binary itself (run as `footfall lambda`)
#   lib/ld-linux-x86-64.so.2, lib/*   the glibc it was linked against, and its loader
#   NOTICE, licenses/*                the third-party works compiled in, and their licence texts
# The binary asks for /var/task/lib/ld-linux-x86-64.so.2 as its interpreter and has a DT_RPATH of
# /var/task/lib, which the loader searches before Lambda's LD_LIBRARY_PATH (/lib64 among others),
# so on Amazon Linux 2023 (glibc 2.34, older than this machine's 2.36) it runs on the bundled glibc
# and never touches the system's. Everything else is linked statically.
# Usage: scripts/package-lambda.sh BINARY OUTPUT.zip
set -euo pipefail
binary=$1
output=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/lib"
cp "$binary" "$stage/bootstrap"
chmod 755 "$stage/bootstrap"
# Every shared library the binary needs, resolved on this machine by its loader, plus that loader
# (the binary names /var/task/lib/..., which only exists inside Lambda).
system_loader=/lib64/ld-linux-x86-64.so.2
cp -L "$system_loader" "$stage/lib/ld-linux-x86-64.so.2"
"$system_loader" --list "$binary" | awk '/=>/ && $3 ~ /^\// {print $3}' | sort -u |
  while read -r lib; do
    cp -L "$lib" "$stage/lib/$(basename "$lib")"
  done
if [[ ! -f "$stage/lib/ld-linux-x86-64.so.2" ]]; then
  echo "package-lambda: the binary does not use ld-linux-x86-64.so.2; wrong build?" >&2
  exit 1
fi
interpreter=$(readelf -l "$binary" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
if [[ "$interpreter" != /var/task/lib/ld-linux-x86-64.so.2 ]]; then
  echo "package-lambda: $binary's interpreter is '$interpreter', not /var/task/lib/...;" \
       "build it with -DFOOTFALL_LAMBDA_PACKAGE=ON" >&2
  exit 1
fi

# DT_RPATH, searched before LD_LIBRARY_PATH (which Lambda sets to a list starting with /lib64), not
# DT_RUNPATH, searched after it: with RUNPATH the bundled loader would load the system's libc.
dynamic=$(readelf -d "$binary")
if ! grep -q '(RPATH).*\[/var/task/lib\]' <<<"$dynamic" || grep -q '(RUNPATH)' <<<"$dynamic"; then
  echo "package-lambda: $binary must carry DT_RPATH /var/task/lib and no DT_RUNPATH" \
       "(link with -Wl,--disable-new-dtags; -DFOOTFALL_LAMBDA_PACKAGE=ON does)" >&2
  exit 1
fi

# The licences of what is compiled in or bundled travel with it (scripts/lib/stage_licenses.sh).
# shellcheck source=lib/stage_licenses.sh
source "$repo/scripts/lib/stage_licenses.sh"
stage_licenses "$stage" lib/

# Deterministic zip (fixed timestamps and order) with the execute bits Lambda needs.
python3 - "$stage" "$output" <<'PY'
import os, sys, zipfile
stage, output = sys.argv[1], sys.argv[2]
os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
with zipfile.ZipFile(output + ".tmp", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for root, dirs, files in os.walk(stage):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            info = zipfile.ZipInfo(os.path.relpath(path, stage), date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if os.access(path, os.X_OK) else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read())
os.replace(output + ".tmp", output)
PY
echo "package-lambda: $output: $(stat -c %s "$output") bytes, $(ls "$stage/lib" | wc -l) libraries: $(ls "$stage/lib" | tr '\n' ' ')" >&2
