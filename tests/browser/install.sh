#!/usr/bin/env bash
# Installs what the browser end-to-end test needs from Debian 12 packages: Chromium (driven over
# CDP by playwright-core from npm, so no chromedriver) and a font for the screenshot.
# Idempotent: when every package is already present it does nothing (no apt call at all).
# Runs apt through sudo when not root. Node.js >= 20 and npm come with the machine image; this
# script only checks for them, because Debian 12's own nodejs is 18, too old for playwright-core.
set -euo pipefail

packages=(
  chromium            # /usr/bin/chromium, run headless by the test
  fonts-dejavu-core   # text in the screenshot is drawn with a real font
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "browser/install.sh: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "browser/install.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # A stale package list makes apt ask for versions the mirror no longer has: refresh once, retry.
  if ! "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [[ $node_major -lt 20 ]] || ! command -v npm >/dev/null; then
  echo "browser/install.sh: need Node.js >= 20 with npm on PATH (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
