# Sourced by the packaging scripts (package-lambda.sh, make-image.sh, make-dist.sh):
# stage_licenses DIR [LIBDIR] writes into DIR the licences of what a binary artifact carries —
# footfall's own (LICENSE, Apache-2.0) and NOTICE, the MIT and BSD texts their licences ask copies
# to carry, and, when the artifact bundles glibc's shared libraries in LIBDIR (a path as the
# artifact names it), the LGPL-2.1, Debian's copyright file and where the exact source is (what
# the LGPL asks) — as DIR/{LICENSE,NOTICE} and DIR/licenses/*. Needs $repo (the repository) set.

stage_licenses() {
  local dir=$1 libdir=${2:-}
  mkdir -p "$dir/licenses"
  cp "$repo/LICENSE" "$dir/LICENSE"
  cp "$repo/NOTICE" "$dir/NOTICE"
  cp "$repo/third_party/crawler-user-agents/LICENSE" "$dir/licenses/crawler-user-agents.txt"
  _debian_copyright "$dir" re2 libre2-9 libre2-dev
  _debian_copyright "$dir" openssl libssl3 libssl-dev
  _debian_copyright "$dir" sqlite libsqlite3-0 libsqlite3-dev
  _debian_copyright "$dir" nlohmann-json nlohmann-json3-dev
  _debian_copyright "$dir" rapidjson rapidjson-dev
  _debian_copyright "$dir" cli11 libcli11-dev
  [[ -n "$libdir" ]] || return 0
  _debian_copyright "$dir" glibc libc6
  cp /usr/share/common-licenses/LGPL-2.1 "$dir/licenses/LGPL-2.1.txt"
  local glibc_binary glibc_source
  glibc_binary=$(dpkg-query -W -f='${Version}' libc6)
  glibc_source=$(dpkg-query -W -f='${source:Package}=${source:Version}' libc6)
  cat > "$dir/licenses/glibc-source.txt" <<TEXT
The libraries in $libdir (ld-linux-x86-64.so.2, libc.so.6, libm.so.6) are the GNU C Library as
Debian 12 ships it, unmodified: binary package libc6 $glibc_binary, source package
$glibc_source. Its complete source, with Debian's patches:
  apt-get source $glibc_source     (on Debian 12)
  https://snapshot.debian.org/package/${glibc_source%=*}/${glibc_source#*=}/
Licence: LGPL-2.1-or-later (LGPL-2.1.txt; details in glibc.txt). You may replace these files
with your own build of the same glibc version.
TEXT
}

# _debian_copyright DIR NAME PACKAGE...: the first installed package's copyright file, as NAME.txt.
_debian_copyright() {
  local dir=$1 name=$2 package
  shift 2
  for package in "$@"; do
    if [[ -f /usr/share/doc/$package/copyright ]]; then
      cp "/usr/share/doc/$package/copyright" "$dir/licenses/$name.txt"
      return
    fi
  done
  echo "stage_licenses: the licence of $name (/usr/share/doc/{$*}/copyright) not found;" \
       "scripts/install-deps.sh installs it" >&2
  exit 1
}
