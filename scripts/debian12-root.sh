#!/usr/bin/env bash
# Unpacks a fresh Debian 12 (bookworm) minbase root — debootstrap's, with git, make, sudo and
# ca-certificates — into DIR. The root is made once with debootstrap from the Debian mirror and
# kept as a tarball ($FOOTFALL_FRESH_ROOT_CACHE, default /var/cache/footfall/debian12-minbase.tar),
# so later runs unpack it in seconds. The root gets the machine's apt sources and resolv.conf.
# Used by bench/fresh_install.sh and tests/deploy/test_deb_package.sh. Root only.
# Usage: scripts/debian12-root.sh DIR
set -euo pipefail

dir=${1:?usage: scripts/debian12-root.sh DIR}
cache=${FOOTFALL_FRESH_ROOT_CACHE:-/var/cache/footfall/debian12-minbase.tar}
mirror=${FOOTFALL_DEBIAN_MIRROR:-http://deb.debian.org/debian}

[[ $(id -u) -eq 0 ]] || { echo "debian12-root: needs root (debootstrap, chroot)" >&2; exit 1; }
if [[ ! -s "$cache" ]]; then
  command -v debootstrap >/dev/null ||
    { echo "debian12-root: needs debootstrap (scripts/install-deps.sh --test)" >&2; exit 1; }
  echo "debian12-root: making the Debian 12 minbase root once ($cache)" >&2
  base=$(mktemp -d /var/tmp/footfall-minbase.XXXXXX)
  debootstrap --variant=minbase --include=git,make,sudo,ca-certificates bookworm "$base/root" \
    "$mirror" >&2
  mkdir -p "$(dirname "$cache")"
  tar -C "$base/root" -cf "$cache.tmp.$$" .
  mv "$cache.tmp.$$" "$cache"
  rm -rf "$base"
fi
mkdir -p "$dir"
tar -C "$dir" -xf "$cache"
cp /etc/resolv.conf "$dir/etc/resolv.conf"
# The machine's own apt sources (a fresh install has main, updates and security).
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  rm -f "$dir/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/debian.sources "$dir/etc/apt/sources.list.d/"
fi
