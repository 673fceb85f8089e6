#!/usr/bin/env bash
# Refreshes third_party/user-agents/browsers.txt, the real-browser user agents the bot-filter
# tests must never drop (src/core/user_agent_corpus_test.cc), from the npm package user-agents
# (BSD-2-Clause): the newest version, or VERSION.
#
# The package's data (dist/user-agents.json) is sampled from real traffic and already filtered of
# bots by its authors (with isbot); it has no bot field to filter on. Kept: each distinct
# userAgent, sorted, one per line, nothing else. Not filtered with footfall's own classifier:
# that would make the test prove nothing.
# Usage: scripts/refresh-browser-corpus.sh [VERSION]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$repo/third_party/user-agents
package=user-agents
# shellcheck source=lib/npm_tarball.sh
source "$repo/scripts/lib/npm_tarball.sh"
fetch_npm_tarball refresh-browser-corpus "$package" "${1:-}"
tar -xzf "$tarball" -C "$work" package/dist/user-agents.json package/LICENSE
mkdir -p "$dest"
python3 - "$work/package/dist/user-agents.json" "$dest/browsers.txt" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1], encoding="utf-8"))
agents = sorted({e["userAgent"] for e in entries
                 if isinstance(e, dict) and isinstance(e.get("userAgent"), str)
                 and e["userAgent"].strip() and "\n" not in e["userAgent"]})
if len(agents) < 100:
    sys.exit(f"refresh-browser-corpus: only {len(agents)} user agents in the package")
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write("".join(a + "\n" for a in agents))
print(f"refresh-browser-corpus: {len(agents)} distinct user agents from {len(entries)} entries",
      file=sys.stderr)
PY
cp "$work/package/LICENSE" "$dest/LICENSE"
cat > "$dest/PROVENANCE" <<EOF
# What third_party/user-agents holds and where it came from. Written by
# scripts/refresh-browser-corpus.sh. Test data only: nothing of it is compiled into footfall.
package: $package (https://github.com/intoli/user-agents)
version: $version
license: BSD-2-Clause (LICENSE, from the package)
tarball: $tarball_url
tarball_sha256: $(sha256sum "$tarball" | cut -d' ' -f1)
tarball_integrity: $integrity
browsers.txt: every distinct userAgent of package/dist/user-agents.json, sorted, one per line
  (the package samples real traffic and removes bots with isbot before publishing)
browsers_sha256: $(sha256sum "$dest/browsers.txt" | cut -d' ' -f1)
fetched: $(date -u +%Y-%m-%d)
EOF
echo "refresh-browser-corpus: third_party/user-agents is now $package $version" >&2
