#!/usr/bin/env bash
# Fetches Debian 11's libc6 (glibc 2.31) and unpacks it under DIR, once, then prints the unpacked
# root (DIR/libc6). It stands in for the system glibc in Lambda's /lib64: Amazon Linux 2023 has
# 2.34, older than the 2.36 footfall is built against, so a package that lets the system glibc in
# fails there exactly as it fails with 2.31 (`GLIBC_2.35' not found).
#
# The machine's apt configuration is never touched: a temporary sources list naming bullseye on the
# machine's own Debian mirror (deb.debian.org if none is found; archive.debian.org as a fallback,
# where old releases go), apt lists and cache all live under DIR. Concurrent callers are serialised
# with flock. Needs apt-get, dpkg-deb and the Debian archive keyring (all part of Debian 12).
# Usage: old_glibc.sh DIR
set -euo pipefail
dir=${1:?usage: old_glibc.sh DIR}
mkdir -p "$dir"
dir=$(realpath "$dir")
exec 9>"$dir/.lock"
flock 9

unpacked=$dir/libc6
if [[ -f "$unpacked/.complete" ]]; then
  echo "$unpacked"
  exit 0
fi

# The first Debian mirror the machine uses: deb822 .sources files first, then one-line lists.
mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources \
           2>/dev/null || true)
if [[ -z "$mirror" ]]; then
  mirror=$(awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^https?:.*debian\/?$/) {print $i; exit}}' \
             /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
fi
mirrors=("${mirror:-http://deb.debian.org/debian}")
[[ "${mirrors[0]}" == http://archive.debian.org/debian ]] || mirrors+=(http://archive.debian.org/debian)

work=$dir/apt
fetched=""
for uri in "${mirrors[@]}"; do
  rm -rf "$work"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/download"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bullseye main" \
    > "$work/sources.list"
  apt_options=(-q -o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=-
               -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
               -o APT::Sandbox::User=root)
  if apt-get "${apt_options[@]}" update >"$work/update.log" 2>&1 &&
     (cd "$work/download" && apt-get "${apt_options[@]}" download libc6:amd64/bullseye) \
       >"$work/download.log" 2>&1; then
    fetched=$(ls "$work"/download/libc6_2.31-*_amd64.deb 2>/dev/null | head -1)
    [[ -n "$fetched" ]] && break
  fi
done
if [[ -z "$fetched" ]]; then
  echo "old_glibc.sh: could not download Debian 11's libc6 from ${mirrors[*]}:" >&2
  tail -5 "$work/update.log" "$work/download.log" >&2 || true
  exit 1
fi

rm -rf "$unpacked"
mkdir -p "$unpacked"
dpkg-deb -x "$fetched" "$unpacked"
if [[ ! -f "$unpacked/lib/x86_64-linux-gnu/libc.so.6" ]]; then
  echo "old_glibc.sh: $fetched holds no lib/x86_64-linux-gnu/libc.so.6" >&2
  exit 1
fi
basename "$fetched" > "$unpacked/.complete"
rm -rf "$work"
echo "$unpacked"
