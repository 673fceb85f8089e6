#!/usr/bin/env bash
# The release artifacts, in OUT_DIR (make dist: build/dist):
#   footfall_<version>_amd64.deb              the Debian package (scripts/make-deb.sh; lintian-clean)
#   footfall-<version>-linux-x86_64.tar.gz    footfall (stripped; needs glibc >= 2.36), the systemd
#                                             unit and its settings file, README.md, LICENSE,
#                                             NOTICE, licenses/
#   footfall-<version>-lambda.zip             the Lambda package (make lambda-zip)
#   footfall-<version>-oci.tar                the OCI image (scripts/make-image.sh)
#   SHA256SUMS                                `sha256sum -c SHA256SUMS` checks them
# The version is CMakeLists.txt's (`project(footfall VERSION …)`), the one place it is written;
# the binary must say the same (`footfall --version`). Files carry the last commit's time.
# Usage: scripts/make-dist.sh FOOTFALL_BINARY LAMBDA_ZIP OUT_DIR   (root: the image's layer)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: scripts/make-dist.sh FOOTFALL_BINARY LAMBDA_ZIP OUT_DIR"
binary=$(realpath "${1:?$usage}")
lambda_zip=$(realpath "${2:?$usage}")
out=${3:?$usage}
version=$(sed -n 's/^project(footfall VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
said=$("$binary" --version | awk '{print $2}')
[[ "$said" == "$version" ]] ||
  { echo "make-dist: $binary says version '$said', CMakeLists.txt $version: rebuild it" >&2; exit 1; }
[[ -s "$lambda_zip" ]] || { echo "make-dist: no Lambda zip at $lambda_zip (make lambda-zip)" >&2; exit 1; }
epoch=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)

rm -rf "$out"
mkdir -p "$out"
out=$(realpath "$out")
work=$(mktemp -d /var/tmp/footfall-dist.XXXXXX)
trap 'rm -rf "$work"' EXIT

deb=$("$repo/scripts/make-deb.sh" "$binary" "$version")
mv "$repo/$deb" "$out/"
"$repo/scripts/make-image.sh" "$binary" "$out" >/dev/null
cp "$lambda_zip" "$out/footfall-$version-lambda.zip"

name=footfall-$version-linux-x86_64
stage=$work/$name
install -D -m 0755 "$binary" "$stage/footfall"
strip --strip-unneeded "$stage/footfall"
install -m 0644 "$repo/deploy/systemd/footfall.service" "$repo/deploy/systemd/footfall.env" \
  "$repo/README.md" "$stage/"
# shellcheck source=lib/stage_licenses.sh
source "$repo/scripts/lib/stage_licenses.sh"
stage_licenses "$stage"
tar -C "$work" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
  -cf - "$name" | gzip -9 -n > "$out/$name.tar.gz"

(cd "$out" && sha256sum -- *.deb *.tar.gz *.zip *.tar > SHA256SUMS)
ls -l "$out" >&2
echo "$out"
