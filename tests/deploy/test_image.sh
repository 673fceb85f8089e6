#!/usr/bin/env bash
# The OCI image, tested as far as this machine allows (containers cannot run here: no cgroup
# delegation). Builds it (scripts/make-image.sh), checks its configuration with `skopeo inspect`
# (user, port, environment, volume, entrypoint, labels) and its compressed size (at most 12 MB),
# unpacks its root filesystem with umoci, and runs the entrypoint there as a container runtime
# would: `env -i` plus the image's environment only, as the image's user (groups cleared), from its
# working directory, in private mount and network namespaces — the root filesystem read-only but the
# /data volume (a bind mount, as a volume is), the network only loopback (so the image's own
# FOOTFALL_LISTEN=0.0.0.0:8080 binds nothing but the namespace's). It must answer /count twice,
# and nothing but /data may change.
# Root only. Usage: tests/deploy/test_image.sh FOOTFALL_BINARY
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
binary=$(realpath "${1:?usage: test_image.sh FOOTFALL_BINARY}")
[[ $(id -u) -eq 0 ]] || { echo "test_image: needs root (namespaces, chroot)" >&2; exit 1; }
fail() { echo "test_image: FAIL: $*" >&2; exit 1; }
work=$(mktemp -d /var/tmp/footfall-image-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

archive=$("$repo/scripts/make-image.sh" "$binary" "$work" 2>"$work/make-image.log") ||
  { cat "$work/make-image.log" >&2; fail "make-image"; }
image="oci-archive:$archive"

# The configuration, as a registry or a runtime reads it.
skopeo inspect --config "$image" > "$work/config.json"
python3 - "$work/config.json" <<'PY' || fail "the image's configuration"
import json, sys
c = json.load(open(sys.argv[1]))["config"]
want = {
    "User": "65532:65532",
    "ExposedPorts": {"8080/tcp": {}},
    "Env": ["PATH=/usr/bin", "FOOTFALL_STORE=sqlite:/data/footfall.db",
            "FOOTFALL_LISTEN=0.0.0.0:8080"],
    "Entrypoint": ["/usr/bin/footfall"],
    "Cmd": ["serve"],
    "Volumes": {"/data": {}},
    "WorkingDir": "/data",
}
bad = {k: (c.get(k), v) for k, v in want.items() if c.get(k) != v}
labels = c.get("Labels", {})
for k in ("title", "description", "version", "revision", "created", "licenses", "source"):
    if not labels.get("org.opencontainers.image." + k):
        bad["label " + k] = "missing"
if labels.get("org.opencontainers.image.licenses") != "Apache-2.0":
    bad["licenses"] = labels.get("org.opencontainers.image.licenses")
if bad:
    sys.exit("config differs: %r" % bad)
PY
size=$(skopeo inspect --raw "$image" | python3 -c '
import json, sys; m = json.load(sys.stdin); print(sum(l["size"] for l in m["layers"]))')
(( size <= 12 * 1000 * 1000 )) || fail "compressed layers are $size bytes, over 12 MB"
echo "test_image: skopeo inspect: user 65532, port 8080, /data volume, entrypoint footfall serve, OCI labels; layers $size bytes compressed"

# The root filesystem, as a runtime unpacks it.
skopeo copy --quiet "$image" "oci:$work/layout:footfall"
umoci unpack --image "$work/layout:footfall" "$work/bundle" >/dev/null
rootfs=$work/bundle/rootfs
[[ -x "$rootfs/usr/bin/footfall" && -f "$rootfs/usr/share/doc/footfall/LICENSE" &&
   -f "$rootfs/usr/share/doc/footfall/licenses/LGPL-2.1.txt" ]] || fail "the root filesystem lacks footfall or its licences"
[[ "$(stat -c %u "$rootfs/data")" == 65532 ]] || fail "/data is not the image user's"
(cd "$rootfs" && find . -path ./data -prune -o -printf '%p %s %T@ %m\n' | sort) > "$work/before.txt"

mapfile -t image_env < <(python3 -c '
import json, sys; print("\n".join(json.load(open(sys.argv[1]))["config"]["Env"]))' "$work/config.json")
# Inside new mount and network namespaces: the read-only root, the volume, loopback up; the
# entrypoint with exactly the image's environment, as 65532:65532, in /data.
unshare --mount --net --fork bash -euo pipefail -c '
  rootfs=$1 log=$2; shift 2
  ip link set lo up
  mount --make-rprivate /
  mount --bind "$rootfs" "$rootfs"
  mount --bind "$rootfs/data" "$rootfs/data"
  mount -o remount,bind,ro "$rootfs"
  # unshare(1) sets the root, the working directory and the user as a runtime does (no shell,
  # no env(1) inside the image: both run from the host before the entrypoint).
  env -i "$@" "$(command -v unshare)" --root="$rootfs" --wd=/data --setgid 65532 --setuid 65532 \
    /usr/bin/footfall serve > "$log" 2>&1 &
  pid=$!
  ready=""
  for _ in $(seq 1 100); do
    if curl -fsS http://127.0.0.1:8080/readyz >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$ready" ]] || { cat "$log" >&2; echo "test_image: not ready on 127.0.0.1:8080" >&2; exit 1; }
  count() { curl -fsS http://127.0.0.1:8080/count | python3 -c "import json,sys; print(json.load(sys.stdin)[\"count\"])"; }
  [[ "$(count)" == 1 && "$(count)" == 2 ]] || { echo "test_image: /count did not answer 1, 2" >&2; exit 1; }
  kill -TERM "$pid"
  wait "$pid" || { cat "$log" >&2; echo "test_image: footfall did not stop cleanly" >&2; exit 1; }
' _ "$rootfs" "$work/serve.log" "${image_env[@]}" || fail "running the entrypoint"

(cd "$rootfs" && find . -path ./data -prune -o -printf '%p %s %T@ %m\n' | sort) > "$work/after.txt"
diff -u "$work/before.txt" "$work/after.txt" >&2 || fail "files outside /data changed"
[[ -s "$rootfs/data/footfall.db" && "$(stat -c %u "$rootfs/data/footfall.db")" == 65532 ]] ||
  fail "no /data/footfall.db owned by the image's user"
echo "test_image: the entrypoint, with the image's environment only, as 65532 on a read-only root, answered /count 1, 2 and wrote only /data/footfall.db"
