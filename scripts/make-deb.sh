#!/usr/bin/env bash
# Builds build/footfall_<version>_amd64.deb with Debian's tooling (debhelper, dpkg-shlibdeps,
# dpkg-deb: see debian/rules) from the footfall binary given, then checks it with lintian
# (errors and warnings fail; the informational tags that remain are in docs/packaging.md).
# Usage: scripts/make-deb.sh FOOTFALL_BINARY [VERSION]
#   VERSION defaults to the project's (CMakeLists.txt `project(... VERSION x.y.z)`), the one
#   place it is written; the package tests pass another to build an upgrade.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
binary=$(realpath "${1:?usage: scripts/make-deb.sh FOOTFALL_BINARY [VERSION]}")
version=${2:-$(sed -n 's/^project(footfall VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")}
[[ -x "$binary" ]] || { echo "make-deb: $binary is not an executable" >&2; exit 1; }
[[ -n "$version" ]] || { echo "make-deb: no version in CMakeLists.txt" >&2; exit 1; }
for tool in dh dpkg-deb lintian; do
  command -v "$tool" >/dev/null || {
    echo "make-deb: $tool is missing: scripts/install-deps.sh --test installs it" >&2; exit 1; }
done

cd "$repo"
# The package's date is the last commit's (reproducible), or now outside a git checkout.
date=$(git log -1 --format=%cD 2>/dev/null || date -R)
cat > debian/changelog <<CHANGELOG
footfall ($version) unstable; urgency=medium

  * footfall $version; its changes are the git history of the repository.

 -- footfall maintainers <footfall@users.noreply.github.com>  $date
CHANGELOG
export SOURCE_DATE_EPOCH=$(date -d "$date" +%s)
FOOTFALL_BINARY=$binary debian/rules binary >&2
debian/rules clean >/dev/null 2>&1 || true
deb=build/footfall_${version}_amd64.deb
[[ -s "$deb" ]] || { echo "make-deb: $deb was not written" >&2; exit 1; }
# Errors and warnings fail the build; the informational tags that remain are explained in
# docs/packaging.md.
lintian --fail-on error,warning "$deb" >&2
echo "$deb"
