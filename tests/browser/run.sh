#!/usr/bin/env bash
# Runs the browser end-to-end test (ctest -L browser, or by hand from anywhere):
#   FOOTFALL_BIN=build/footfall tests/browser/run.sh [TEST_FILE]
# Installs the pinned npm packages (npm ci; the registry is needed only until npm's cache has
# them), checks that web/counter.min.js is the minified web/counter.js, then runs e2e.test.mjs in
# Debian's headless Chromium. A missing Chromium, Node.js, npm or python3 is a failure, not a skip:
# tests/browser/install.sh installs Chromium.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

fail() { echo "browser e2e: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node not found (Node.js >= 20 is required)"
command -v npm >/dev/null || fail "npm not found"
command -v python3 >/dev/null || fail "python3 not found (reads the SQLite file)"
[[ $(node -p 'process.versions.node.split(".")[0]') -ge 20 ]] || fail "Node.js >= 20 is required, found $(node --version)"
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] || fail "${CHROMIUM:-/usr/bin/chromium} not found: run tests/browser/install.sh"
export FOOTFALL_BIN=${FOOTFALL_BIN:-$repo/build/footfall}
[[ -x "$FOOTFALL_BIN" ]] || fail "footfall binary not found: $FOOTFALL_BIN"

bash "$repo/web/build.sh" --check
(cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2)
cd "$here"
# One test file per run (default e2e.test.mjs): each ctest test has its own artifacts.
exec node --test-reporter=spec "${1:-e2e.test.mjs}"
