#!/usr/bin/env bash
# The Debian package, installed as a person installs it: build footfall_<version>_amd64.deb
# (scripts/make-deb.sh: debhelper, lintian), then in a fresh Debian 12 root (debootstrap's
# minbase, cached: scripts/debian12-root.sh) `apt-get install ./footfall_<version>_amd64.deb`; run
# the unit's ExecStart as systemd would (systemd itself cannot run in a chroot): its Environment=
# and EnvironmentFile=, as a dynamic user's UID owning only StateDirectory=, from
# WorkingDirectory=; answer /count twice; check the database is in /var/lib/footfall; upgrade in
# place to a rebuilt package (a newer version) and check the count survives; remove (the data
# stays), then purge (one line says what happens to the data, which stays too).
# Root only. Usage: tests/deploy/test_deb_package.sh FOOTFALL_BINARY
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
binary=$(realpath "${1:?usage: test_deb_package.sh FOOTFALL_BINARY}")
[[ $(id -u) -eq 0 ]] || { echo "test_deb_package: needs root (chroot, mounts)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/footfall-deb.XXXXXX)
root=$work/root
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  for m in "$root/dev" "$root/proc"; do mountpoint -q "$m" && umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test_deb_package: FAIL: $*" >&2; exit 1; }

# Two packages of the same binary: the version of CMakeLists.txt, and a later one to upgrade to.
# make-deb.sh writes them to build/; they are moved to the work directory.
version=$(sed -n 's/^project(footfall VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
first=$("$repo/scripts/make-deb.sh" "$binary" "$version" 2>"$work/make-deb.log") ||
  { cat "$work/make-deb.log" >&2; fail "make-deb $version"; }
cp "$repo/$first" "$work/"
second=$("$repo/scripts/make-deb.sh" "$binary" "$version+upgrade1" 2>>"$work/make-deb.log") ||
  { cat "$work/make-deb.log" >&2; fail "make-deb $version+upgrade1"; }
mv "$repo/$second" "$work/"
echo "test_deb_package: built $(basename "$first") and $(basename "$second"); lintian passed"

"$repo/scripts/debian12-root.sh" "$root"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
cp "$work"/footfall_*.deb "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive "$@"; }

installed_at=$(date +%s.%N)
in_root apt-get install -y "/tmp/$(basename "$first")" > "$work/install.log" 2>&1 ||
  { tail -n 30 "$work/install.log" >&2; fail "apt-get install"; }
in_root dpkg-query -W -f='${Status} ${Version}\n' footfall | grep -q "install ok installed $version$" ||
  fail "footfall $version is not installed"
[[ -L "$root/etc/systemd/system/multi-user.target.wants/footfall.service" ]] ||
  fail "the unit is not enabled"
in_root man -w footfall >/dev/null 2>&1 || [[ -s "$root/usr/share/man/man1/footfall.1.gz" ]] ||
  fail "no footfall(1)"
grep -q '^#FOOTFALL_STORE=' "$root/etc/default/footfall" || fail "/etc/default/footfall"
grep -qx '/etc/default/footfall' "$root/var/lib/dpkg/info/footfall.conffiles" ||
  fail "/etc/default/footfall is not a conffile"
echo "test_deb_package: installed with apt in a fresh Debian 12 root; the unit is enabled"

unit=$root/lib/systemd/system/footfall.service
unit_value() { sed -n "s/^$1=//p" "$unit"; }
# The operator's settings, as a person edits the conffile: a loopback port for this test.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "FOOTFALL_LISTEN=127.0.0.1:$port" >> "$root/etc/default/footfall"

# What systemd does for DynamicUser= and StateDirectory=: a UID from its dynamic range, owning
# /var/lib/private/<dir>, reached through the /var/lib/<dir> symlink. /var/lib/private stays
# 0700 for everyone else; only the service's own mount namespace can pass through it, which here
# (no namespace) is a search-only 0711 while the service runs.
uid=61184
state=$(unit_value StateDirectory)
[[ "$(unit_value DynamicUser)" == yes && -n "$state" ]] || fail "the unit has no DynamicUser/StateDirectory"
start_service() {
  mkdir -p "$root/var/lib/private/$state"
  chmod 0711 "$root/var/lib/private"
  chown "$uid:$uid" "$root/var/lib/private/$state"
  ln -sfn "private/$state" "$root/var/lib/$state"
  local env=() line
  while IFS= read -r line; do env+=("$line"); done < <(unit_value Environment)
  local file
  file=$(unit_value EnvironmentFile)
  file=${file#-}
  while IFS= read -r line; do
    [[ "$line" =~ ^[A-Z_][A-Z0-9_]*= ]] && env+=("$line")
  done < "$root$file"
  local exec
  exec=$(unit_value ExecStart)
  # shellcheck disable=SC2086  # ExecStart is a command line
  setsid chroot --userspec="$uid:$uid" "$root" /usr/bin/env -i PATH=/usr/bin:/bin \
    "${env[@]}" /bin/sh -c "umask $(unit_value UMask); cd $(unit_value WorkingDirectory) && exec $exec" \
    > "$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; fail "footfall serve exited"; }
    sleep 0.1
  done
  cat "$work/serve.log" >&2
  fail "footfall serve is not ready on 127.0.0.1:$port"
}
stop_service() {
  kill -TERM "$server_pid"
  wait "$server_pid" || fail "footfall serve did not stop cleanly on SIGTERM"
  server_pid=""
  chmod 0700 "$root/var/lib/private"
}
count() { curl -fsS "http://127.0.0.1:$port/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }

start_service
[[ "$(count)" == 1 ]] || fail "the first /count did not answer 1"
first_count_s=$(python3 -c "import time; print(time.time() - $installed_at)")
[[ "$(count)" == 2 ]] || fail "the second /count did not answer 2"
stop_service
db=$root/var/lib/private/$state/footfall.db
[[ -s "$db" && "$(stat -c %u "$db")" == "$uid" ]] || fail "no database owned by the service in /var/lib/$state"
[[ -e "$root/var/lib/$state/footfall.db" ]] || fail "/var/lib/$state/footfall.db is not there"
printf 'test_deb_package: ExecStart as the unit'"'"'s user answered /count 1, 2; the database is /var/lib/%s/footfall.db; apt-get install -> first /count: %.1f s\n' "$state" "$first_count_s"

in_root apt-get install -y "/tmp/$(basename "$second")" > "$work/upgrade.log" 2>&1 ||
  { tail -n 30 "$work/upgrade.log" >&2; fail "the upgrade"; }
in_root dpkg-query -W -f='${Version}' footfall | grep -qx "$version+upgrade1" || fail "not upgraded"
grep -q "^FOOTFALL_LISTEN=127.0.0.1:$port" "$root/etc/default/footfall" ||
  fail "the upgrade lost the operator's /etc/default/footfall"
start_service
[[ "$(count)" == 3 ]] || fail "the count did not survive the upgrade"
stop_service
echo "test_deb_package: upgraded in place to $version+upgrade1; the settings and the count (3) survived"

in_root apt-get remove -y footfall > "$work/remove.log" 2>&1 || { cat "$work/remove.log" >&2; fail "remove"; }
[[ ! -e "$root/usr/bin/footfall" && -s "$db" && -e "$root/etc/default/footfall" ]] ||
  fail "remove must delete the program and keep the data and the settings"
in_root apt-get purge -y footfall > "$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "purge"; }
grep -q '^footfall: purge keeps the visit data in /var/lib/footfall' "$work/purge.log" ||
  { cat "$work/purge.log" >&2; fail "purge did not say what it does with /var/lib/footfall"; }
[[ -s "$db" && ! -e "$root/etc/default/footfall" ]] || fail "purge must keep the data and delete the settings"
echo "test_deb_package: remove kept the data and the settings; purge said so in one line, kept the data and deleted the settings"
