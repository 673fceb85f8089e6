#!/usr/bin/env bash
# make dist's artifacts (scripts/make-dist.sh): each one present and named with the version of
# CMakeLists.txt, SHA256SUMS checks them all, the tarball holds what it says (binary, unit,
# settings, README, LICENSE, NOTICE, licences) and its footfall prints that version and serves;
# the deb, the image and the zip are the ones their own tests check (deb_package_e2e,
# oci_image_e2e, lambda_package_*). Root only (the image). Usage: test_dist.sh FOOTFALL_BINARY ZIP
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "test_dist: FAIL: $*" >&2; exit 1; }
work=$(mktemp -d /var/tmp/footfall-dist-test.XXXXXX)
server_pid=""
trap '[[ -z "$server_pid" ]] || kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
version=$(sed -n 's/^project(footfall VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")

"$repo/scripts/make-dist.sh" "$1" "$2" "$work/dist" > "$work/make-dist.out" 2> "$work/make-dist.log" ||
  { tail -n 40 "$work/make-dist.log" >&2; fail "make-dist"; }
cd "$work/dist"
want="SHA256SUMS
footfall-$version-lambda.zip
footfall-$version-linux-x86_64.tar.gz
footfall-$version-oci.tar
footfall_${version}_amd64.deb"
[[ "$(ls -1 | LC_ALL=C sort)" == "$(LC_ALL=C sort <<<"$want")" ]] ||
  fail "dist holds $(ls -1 | tr '\n' ' '), not the five files"
sha256sum --quiet -c SHA256SUMS || fail "SHA256SUMS does not check"
[[ $(wc -l < SHA256SUMS) -eq 4 ]] || fail "SHA256SUMS does not list the four artifacts"

tar -C "$work" -xzf "footfall-$version-linux-x86_64.tar.gz"
dir=$work/footfall-$version-linux-x86_64
for f in footfall footfall.service footfall.env README.md LICENSE NOTICE licenses/openssl.txt \
         licenses/sqlite.txt licenses/crawler-user-agents.txt; do
  [[ -s "$dir/$f" ]] || fail "the tarball lacks $f"
done
[[ "$("$dir/footfall" --version | awk '{print $2}')" == "$version" ]] || fail "the tarball's footfall is not $version"
"$dir/footfall" serve --store memory: --listen 127.0.0.1:0 > "$work/serve.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*"listen":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$work/serve.log" | head -n 1)
  [[ -n "$port" ]] && break
  sleep 0.1
done
[[ -n "$port" ]] || { cat "$work/serve.log" >&2; fail "the tarball's footfall did not start"; }
curl -fsS "http://127.0.0.1:$port/count" | grep -q '"count": *1' || fail "the tarball's footfall did not count"
echo "test_dist: $(ls -1 | grep -vc SHA256SUMS) artifacts of $version, SHA256SUMS checks; the tarball's footfall served /count"
