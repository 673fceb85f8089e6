#!/usr/bin/env bash
# Refreshes third_party/crawler-user-agents (the bot patterns footfall compiles in) from the npm
# registry: the newest version of the crawler-user-agents package, or VERSION. `make refresh-bots`.
#
# Fetches the tarball with `npm pack`, checks it against the registry's sha512 integrity, checks
# the licence is still MIT and that every pattern can be compiled in (scripts/crawler_patterns.py
# check), then rewrites crawler-user-agents.json, LICENSE and PROVENANCE, and the list's version in
# NOTICE. Nothing is changed if a step fails. Afterwards: rebuild, run the tests (`ctest -L unit`:
# every example of the new list must be recognised and no browser of third_party/user-agents
# dropped) and commit the four files.
# The registry is npm's configured one; npm_config_registry=URL points npm elsewhere, which is how
# tests/tools/test_refresh_crawler_list.py runs this script against a registry on 127.0.0.1.
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

# Every file is written in $new first and moved into place once all of them are ready.
new=$work/new
mkdir -p "$new"
cp "$work/package/crawler-user-agents.json" "$new/crawler-user-agents.json"
cp "$work/package/LICENSE" "$new/LICENSE"
cat > "$new/PROVENANCE" <<EOF
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
json_sha256: $(sha256sum "$new/crawler-user-agents.json" | cut -d' ' -f1)
fetched: $(date -u +%Y-%m-%d)
EOF
# NOTICE names the version on the line that opens the list's entry, "crawler-user-agents 1.60.0 (MIT)".
python3 - "$repo/NOTICE" "$new/NOTICE" "$package" "$version" <<'PY'
import re, sys
notice_path, out_path, package, version = sys.argv[1:]
with open(notice_path, encoding="utf-8") as f:
    notice = f.read()
entry = re.compile(rf"^{re.escape(package)} \S+ \(MIT\)$", re.M)
if len(entry.findall(notice)) != 1:
    sys.exit(f"refresh-crawler-list: {notice_path} has no single line "
             f"'{package} VERSION (MIT)' to update")
with open(out_path, "w", encoding="utf-8") as f:
    f.write(entry.sub(f"{package} {version} (MIT)", notice))
PY

mkdir -p "$dest"
for file in crawler-user-agents.json LICENSE PROVENANCE; do
  mv "$new/$file" "$dest/$file"
done
mv "$new/NOTICE" "$repo/NOTICE"
echo "refresh-crawler-list: third_party/crawler-user-agents and NOTICE are now $package $version" >&2
