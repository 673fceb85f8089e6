#!/usr/bin/env bash
# Minifies web/counter.js into web/counter.min.js with the terser version pinned in
# web/package-lock.json (installed by `npm ci`; after the first install npm's cache serves it, so
# the build also works offline). The output is deterministic: the same counter.js and lockfile
# always give the same bytes. Fails if the result, gzipped (gzip -9), is over 1536 bytes (the
# snippet's budget: what a visitor downloads).
#
# Usage: web/build.sh           rewrite web/counter.min.js
#        web/build.sh --check   change nothing; exit 1 if web/counter.min.js is stale or too big
set -euo pipefail
cd "$(dirname "$0")"
readonly gzipped_budget=1536

command -v npm >/dev/null || { echo "web/build.sh: npm (Node.js >= 20) is required" >&2; exit 1; }
npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2

out=$(mktemp)
trap 'rm -f "$out"' EXIT
node_modules/.bin/terser counter.js --ecma 2017 --compress passes=2 --mangle --output "$out"
printf '\n' >>"$out"

size=$(wc -c <"$out")
gzipped=$(gzip -9n <"$out" | wc -c)
if [[ $gzipped -gt $gzipped_budget ]]; then
  echo "web/build.sh: counter.min.js would be $gzipped bytes gzipped, over the $gzipped_budget-byte budget" >&2
  exit 1
fi
if [[ "${1:-}" == "--check" ]]; then
  if ! cmp -s "$out" counter.min.js; then
    echo "web/build.sh: web/counter.min.js is not the minified web/counter.js; run web/build.sh" >&2
    exit 1
  fi
  echo "web/build.sh: counter.min.js is up to date ($size bytes, $gzipped gzipped)" >&2
else
  cat "$out" >counter.min.js
  echo "web/build.sh: wrote counter.min.js ($size bytes, $gzipped gzipped)" >&2
fi
