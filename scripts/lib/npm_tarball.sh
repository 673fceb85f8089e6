# Sourced by the scripts that refresh vendored npm data (refresh-crawler-list.sh,
# refresh-browser-corpus.sh): fetch_npm_tarball NAME PACKAGE [VERSION] downloads the package's
# tarball with `npm pack` into a temporary directory (removed on exit) and checks it against the
# registry's sha512 integrity. It sets: version (the newest when VERSION is empty), work (the
# directory), tarball (its path), tarball_url and integrity (the registry's). NAME prefixes errors.
fetch_npm_tarball() {
  local name=$1 package=$2
  command -v npm >/dev/null || { echo "$name: needs npm (apt-get install npm)" >&2; exit 1; }
  version=${3:-$(npm view "$package" version)}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tarball_url=$(npm view "$package@$version" dist.tarball)
  integrity=$(npm view "$package@$version" dist.integrity)
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
  tarball=$work/$package-$version.tgz
  local actual
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [[ "$actual" != "$integrity" ]]; then
    echo "$name: $tarball is $actual, the registry says $integrity" >&2
    exit 1
  fi
}
