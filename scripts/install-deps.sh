#!/usr/bin/env bash
# Installs what footfall needs from Debian 12 packages, and no more:
#   scripts/install-deps.sh          building the footfall binary (what `make serve` needs)
#   scripts/install-deps.sh --test   and the tests: sanitizers, PostgreSQL, Chromium, promtool, …
#   scripts/install-deps.sh --bench  and the benchmarks (which take in the tests' servers)
# Idempotent: when every package is already present it does nothing (no apt call at all).
# Runs apt through sudo when not root. moto and Terraform, which Debian does not package, are
# checked by scripts/check-test-tools.sh.
set -euo pipefail

usage() { echo "usage: scripts/install-deps.sh [--test | --bench]" >&2; exit 2; }

packages=(
  build-essential cmake ninja-build pkg-config   # toolchain
  python3                                        # generates the crawler list's C++ at build time
  libboost1.74-dev                               # Beast/Asio HTTP server
  libcli11-dev                                   # command-line parsing
  nlohmann-json3-dev                             # JSON in and out
  rapidjson-dev                                  # JSON on the Lambda hot path (event parsing)
  libsqlite3-dev                                 # embedded default store
  libpq-dev                                      # PostgreSQL store (client library, opened on use)
  libssl-dev                                     # HMAC-SHA256 visitor hashing, TLS to AWS
  libre2-dev                                     # RE2::Set: the crawler-user-agents patterns in one pass (bot filter)
  ca-certificates                                # verifying AWS endpoints (dynamodb:// stores)
)
test_packages=(
  clang libclang-rt-14-dev                       # sanitized build and libFuzzer (only recommended by clang)
  libgtest-dev libgmock-dev                      # unit tests
  postgresql-15                                  # PostgreSQL server for the store tests
  curl openssl                                   # integration tests, README examples, test certificates
  chromium fonts-dejavu-core                     # browser end-to-end test (tests/browser)
  prometheus                                     # promtool: metrics exposition and alert-rule tests
  python3-yaml                                   # YAML in the deploy checks (tests/deploy)
  systemd                                        # systemd-analyze: checks deploy/systemd/footfall.service
  libfaketime                                    # moves the clock of footfall serve in the salt-deletion tests
  zip unzip                                      # the Lambda package tests
  debhelper lintian debootstrap                  # the Debian package: make deb, its lint, a fresh root to install it in
  umoci skopeo                                   # the OCI image: built from scratch without a daemon, inspected
)
bench_packages=(
  wrk nginx-light                                # make bench: load generator and reference
)
case "${1:-}" in
  "") ;;
  --test) packages+=("${test_packages[@]}") ;;
  --bench) packages+=("${test_packages[@]}" "${bench_packages[@]}") ;;
  *) usage ;;
esac
[[ $# -le 1 ]] || usage

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
