#!/usr/bin/env bash
# Builds footfall's OCI image from scratch, without a container daemon or a base image (umoci):
#   /usr/bin/footfall                      the Release binary, stripped (it loads glibc alone)
#   /lib64/ld-linux-x86-64.so.2, /lib/x86_64-linux-gnu/{libc,libm}.so.6   that glibc, unmodified
#   /etc/ssl/certs/ca-certificates.crt     Debian's CA bundle (DynamoDB over TLS)
#   /etc/passwd, /etc/group                root and footfall (65532), the user it runs as
#   /data (footfall's, 0700)               the volume: FOOTFALL_STORE=sqlite:/data/footfall.db
#   /tmp (1777)                            SQLite's temporary files
#   /usr/share/doc/footfall/               LICENSE, NOTICE, licenses/ (scripts/lib/stage_licenses.sh)
# Config: user 65532:65532, entrypoint footfall, command serve, FOOTFALL_LISTEN=0.0.0.0:8080, port
# 8080/tcp, working directory and volume /data, org.opencontainers.image.* labels. Every file's
# time is the last commit's, so the same commit gives the same layer.
# Writes OUT_DIR/footfall-<version>-oci.tar (an OCI archive, `skopeo copy oci-archive:…` or
# `podman load -i …`) and prints its path.
# Usage: scripts/make-image.sh FOOTFALL_BINARY OUT_DIR   (root: file ownership in the layer)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
binary=$(realpath "${1:?usage: scripts/make-image.sh FOOTFALL_BINARY OUT_DIR}")
out_dir=${2:?usage: scripts/make-image.sh FOOTFALL_BINARY OUT_DIR}
[[ $(id -u) -eq 0 ]] || { echo "make-image: needs root (the layer's files are owned by root and 65532)" >&2; exit 1; }
for tool in umoci skopeo; do
  command -v "$tool" >/dev/null ||
    { echo "make-image: $tool is missing: scripts/install-deps.sh --test installs it" >&2; exit 1; }
done
version=$(sed -n 's/^project(footfall VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
epoch=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
uid=65532

work=$(mktemp -d /var/tmp/footfall-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
layout=$work/oci
bundle=$work/bundle
umoci init --layout "$layout"
umoci new --image "$layout:footfall"
umoci unpack --image "$layout:footfall" "$bundle" >/dev/null
root=$bundle/rootfs

install -D -m 0755 "$binary" "$root/usr/bin/footfall"
strip --strip-unneeded "$root/usr/bin/footfall"
install -D -m 0755 "$(readlink -f /lib64/ld-linux-x86-64.so.2)" "$root/lib64/ld-linux-x86-64.so.2"
# Every library the binary's loader resolves (glibc's libc and libm), where Debian keeps them.
/lib64/ld-linux-x86-64.so.2 --list "$binary" | awk '/=>/ && $3 ~ /^\// {print $3}' | sort -u |
  while read -r lib; do
    install -D -m 0644 "$(readlink -f "$lib")" "$root/lib/x86_64-linux-gnu/$(basename "$lib")"
  done
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nfootfall:x:%d:%d:footfall:/data:/sbin/nologin\n' \
  "$uid" "$uid" > "$root/etc/passwd"
printf 'root:x:0:\nfootfall:x:%d:\n' "$uid" > "$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
install -d -m 0700 -o "$uid" -g "$uid" "$root/data"
install -d -m 1777 "$root/tmp"
# shellcheck source=lib/stage_licenses.sh
source "$repo/scripts/lib/stage_licenses.sh"
stage_licenses "$root/usr/share/doc/footfall" /lib64/ and /lib/x86_64-linux-gnu/
find "$root" -exec touch -h -d "@$epoch" {} +

umoci repack --image "$layout:footfall" --history.created "$created" \
  --history.created_by "scripts/make-image.sh (footfall $version, $revision)" \
  --history.author "footfall maintainers" "$bundle"
umoci config --image "$layout:footfall" --no-history \
  --created "$created" --author "footfall maintainers" --os linux --architecture amd64 \
  --config.user "$uid:$uid" --config.workingdir /data \
  --config.entrypoint /usr/bin/footfall --config.cmd serve \
  --config.env PATH=/usr/bin --config.env FOOTFALL_STORE=sqlite:/data/footfall.db \
  --config.env FOOTFALL_LISTEN=0.0.0.0:8080 \
  --config.exposedports 8080/tcp --config.volume /data \
  --config.label "org.opencontainers.image.title=footfall" \
  --config.label "org.opencontainers.image.description=Privacy-first visitor counter and web analytics backend" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.revision=$revision" \
  --config.label "org.opencontainers.image.created=$created" \
  --config.label "org.opencontainers.image.licenses=Apache-2.0" \
  --config.label "org.opencontainers.image.source=https://github.com/footfall/footfall" \
  --config.label "org.opencontainers.image.documentation=https://github.com/footfall/footfall/blob/main/README.md"
umoci gc --layout "$layout"

mkdir -p "$out_dir"
archive=$out_dir/footfall-$version-oci.tar
rm -f "$archive"
skopeo copy --quiet "oci:$layout:footfall" "oci-archive:$archive:footfall:$version"
echo "$archive"
