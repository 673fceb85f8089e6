#!/usr/bin/env bash
# Refreshes third_party/crawler-user-agents (the bot patterns footfall compiles in) from the npm
# registry: the newest version of the crawler-user-agents package, or VERSION. `make refresh-bots`.
#
# Fetches the tarball with `npm pack`, checks it against the registry's sha512 integrity, checks
# the licence is still MIT and that every pattern can be compiled in (scripts/crawler_patterns.py
# check), then rewrites crawler-user-agents.json, LICENSE and PROVENANCE. Nothing is changed if a
# step fails. Afterwards: rebuild, run the tests (`ctest -L unit`: every example of the new list
# must be recognised and no browser of third_party/user-agents dropped) and commit the three files.
# Usage: scripts/refresh-crawler-list.sh [VERSION]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$repo/third_party/crawler-user-agents
package=crawler-user-agents
# shellcheck source=lib/npm_tarball.sh
source "$repo/scripts/lib/npm_tarball.sh"
fetch_npm_tarball refresh-crawler-list "$package" "${1:-}"
tar -xzf "$tarball" -C "$work" package/crawler-user-agents.json package/LICENSE package/package.json
python3 - "$work/package/package.json" "$version" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1]))
if meta.get("version") != sys.argv[2] or meta.get("license") != "MIT":
    sys.exit(f"refresh-crawler-list: package.json says version {meta.get('version')!r}, "
             f"license {meta.get('license')!r}; expected {sys.argv[2]!r}, 'MIT' (check NOTICE)")
PY
python3 "$repo/scripts/crawler_patterns.py" check "$work/package/crawler-user-agents.json"

mkdir -p "$dest"
cp "$work/package/crawler-user-agents.json" "$dest/crawler-user-agents.json"
cp "$work/package/LICENSE" "$dest/LICENSE"
cat > "$dest/PROVENANCE" <<EOF
# What third_party/crawler-user-agents holds and where it came from. Written by
# scripts/refresh-crawler-list.sh; scripts/crawler_patterns.py compiles the version in and refuses
# a crawler-user-agents.json whose sha256 is not json_sha256.
package: $package (https://github.com/monperrus/crawler-user-agents)
version: $version
license: MIT (LICENSE, from the package)
tarball: $tarball_url
tarball_sha256: $(sha256sum "$tarball" | cut -d' ' -f1)
tarball_integrity: $integrity
json: package/crawler-user-agents.json in the tarball, unchanged
json_sha256: $(sha256sum "$dest/crawler-user-agents.json" | cut -d' ' -f1)
fetched: $(date -u +%Y-%m-%d)
EOF
echo "refresh-crawler-list: third_party/crawler-user-agents is now $package $version" >&2
