#!/usr/bin/env bash
# Installs footfall's build and test dependencies from Debian 12 packages.
# Idempotent: when every package is already present it does nothing (no apt call at all).
# Runs apt through sudo when not root. Usage: scripts/install-deps.sh [--bench]
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config   # toolchain
  clang libclang-rt-14-dev                       # sanitized build and libFuzzer (only recommended by clang)
  libboost1.74-dev                               # Beast/Asio HTTP server
  libcli11-dev                                   # command-line parsing
  nlohmann-json3-dev                             # JSON in and out
  rapidjson-dev                                  # JSON on the Lambda hot path (event parsing)
  libsqlite3-dev                                 # embedded default store
  libpq-dev                                      # PostgreSQL store (client library)
  postgresql-15                                  # PostgreSQL server for the store tests
  libssl-dev                                     # HMAC-SHA256 visitor hashing
  libre2-dev                                     # RE2::Set: the crawler-user-agents patterns in one pass (bot filter)
  libgtest-dev libgmock-dev                      # unit tests
  python3 curl openssl                           # integration tests, README examples, test certificates
  chromium fonts-dejavu-core                     # browser end-to-end test (tests/browser)
  prometheus                                     # promtool: metrics exposition and alert-rule tests
  python3-yaml                                   # YAML in the deploy checks (tests/deploy)
  systemd                                        # systemd-analyze: checks deploy/systemd/footfall.service
  libfaketime                                    # moves the clock of footfall serve in the salt-deletion tests
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk nginx-light)                    # make bench: load generator and reference
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# A stale package list makes apt ask for versions the mirror no longer has: refresh once, then retry.
if ! "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
  "${sudo_cmd[@]}" apt-get update
  "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
