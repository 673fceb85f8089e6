#!/usr/bin/env bash
# Runs the packaged Lambda zip the way AWS Lambda runs a provided.al2023 function, as closely as
# this machine allows (docs/aws.md, "How the package is tested", says what is reproduced and what
# is not). The recipe:
#   - root: the zip unpacked at /var/task, and /lib64 -> usr/lib64 holding a real glibc OLDER than
#     the one footfall is built against (Debian 11's 2.31, fetched by old_glibc.sh; Amazon Linux
#     2023 has 2.34), so a package that lets the system's glibc in fails here as it fails on AWS;
#   - mounts: the whole root read-only except /tmp (a 512 MB tmpfs, as Lambda's default ephemeral
#     storage), plus /proc and /dev/{null,zero,random,urandom};
#   - environment: exactly what Lambda sets, nothing inherited: the variables AWS's
#     provided.al2023 base image fixes (LD_LIBRARY_PATH, PATH, LANG, TZ, LAMBDA_TASK_ROOT,
#     LAMBDA_RUNTIME_DIR, AWS_EXECUTION_ENV, the X-Ray daemon address), the per-function reserved
#     variables taken from the caller (required: the Runtime API address, function name, version,
#     memory size, log group and stream, region, temporary credentials), and the function's own
#     configuration (DYNAMODB_TABLE, ALLOWED_ORIGIN, FOOTFALL_*, AWS_ENDPOINT_URL_DYNAMODB);
#   - limits: a memory cgroup of AWS_LAMBDA_FUNCTION_MEMORY_SIZE MB (default 128) with no swap;
#     a non-root user (Lambda runs functions as sbx_user1051); working directory /var/task.
# Needs root (mount namespace, chroot, cgroups) and util-linux's unshare. Nothing is skipped: a
# missing capability or download fails with the reason. SIGTERM/SIGINT are forwarded to the
# runtime; the temporary root and the cgroup are removed on exit.
# Environment: FOOTFALL_OLD_GLIBC_DIR caches the download (default ~/.cache/footfall/old-glibc).
# Usage: run_in_chroot.sh footfall-lambda.zip
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "run_in_chroot.sh: $*" >&2; exit 2; }
[[ $# -eq 1 ]] || fail "usage: run_in_chroot.sh footfall-lambda.zip"
zip=$(realpath -e "$1") || fail "no such package: $1"
[[ $(id -u) -eq 0 ]] || fail "needs root (mount namespace, chroot, memory cgroup)"
command -v unshare >/dev/null || fail "needs util-linux's unshare"

# --- The environment Lambda gives a provided.al2023 function.
readonly LAMBDA_FIXED=(
  "LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
  "PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
  "LANG=en_US.UTF-8"
  "TZ=:UTC"
  "LAMBDA_TASK_ROOT=/var/task"
  "LAMBDA_RUNTIME_DIR=/var/runtime"
  "AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023"
  "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand"
  "AWS_XRAY_CONTEXT_MISSING=LOG_ERROR"
  "AWS_XRAY_DAEMON_ADDRESS=169.254.79.129:2000"
  "_AWS_XRAY_DAEMON_ADDRESS=169.254.79.129"
  "_AWS_XRAY_DAEMON_PORT=2000"
)
readonly LAMBDA_PER_FUNCTION=(
  AWS_LAMBDA_RUNTIME_API AWS_LAMBDA_FUNCTION_NAME AWS_LAMBDA_FUNCTION_VERSION
  AWS_LAMBDA_LOG_GROUP_NAME AWS_LAMBDA_LOG_STREAM_NAME AWS_REGION AWS_DEFAULT_REGION
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
)
memory_mb=${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:-128}
[[ "$memory_mb" =~ ^[0-9]+$ && $memory_mb -ge 128 && $memory_mb -le 10240 ]] ||
  fail "AWS_LAMBDA_FUNCTION_MEMORY_SIZE must be 128..10240, not '$memory_mb'"
lambda_env=("${LAMBDA_FIXED[@]}" "_HANDLER=${_HANDLER:-bootstrap}"
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=$memory_mb")
for name in "${LAMBDA_PER_FUNCTION[@]}"; do
  [[ -n "${!name:-}" ]] || fail "$name is not set (Lambda always sets it)"
  lambda_env+=("$name=${!name}")
done
while IFS='=' read -r name _; do
  if [[ "$name" =~ ^(DYNAMODB_TABLE|ALLOWED_ORIGIN|FOOTFALL_[A-Z0-9_]+|AWS_ENDPOINT_URL_DYNAMODB)$ &&
        "$name" != FOOTFALL_OLD_GLIBC_DIR ]]; then
    lambda_env+=("$name=${!name}")
  fi
done < <(env)

# --- The root.
old_glibc=$("$here/old_glibc.sh" "${FOOTFALL_OLD_GLIBC_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/footfall/old-glibc}")
root=$(mktemp -d /tmp/footfall-lambda-root.XXXXXX)
chmod 755 "$root"  # mktemp makes it 0700; Lambda's user must traverse it
cgroup=""
cleanup() {
  if [[ -n "$cgroup" ]]; then rmdir "$cgroup" 2>/dev/null || true; fi
  rm -rf "$root"
}
trap cleanup EXIT
mkdir -p "$root"/{var/task,var/runtime,var/lang/lib,opt,tmp,proc,dev,etc,usr/lib64}
ln -s usr/lib64 "$root/lib64"
cp -a "$old_glibc/lib/x86_64-linux-gnu/." "$root/usr/lib64/"
for device in null zero random urandom; do : > "$root/dev/$device"; done
python3 -c 'import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = info.external_attr >> 16
        os.chmod(path, (mode & 0o7777) or 0o644)' "$zip" "$root/var/task"

# --- The memory limit: a child of this process's own memory cgroup (v1 or v2).
if [[ -d /sys/fs/cgroup/memory ]]; then
  parent=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' /proc/self/cgroup)
  cgroup=$parent/footfall-lambda-$$
  mkdir "$cgroup" || fail "cannot create memory cgroup $cgroup"
  echo $((memory_mb * 1024 * 1024)) > "$cgroup/memory.limit_in_bytes"
  if [[ -f "$cgroup/memory.memsw.limit_in_bytes" ]]; then
    echo $((memory_mb * 1024 * 1024)) > "$cgroup/memory.memsw.limit_in_bytes"
  fi
elif [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
  parent=/sys/fs/cgroup$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
  grep -qw memory "$parent/cgroup.subtree_control" 2>/dev/null ||
    echo +memory > "$parent/cgroup.subtree_control" 2>/dev/null ||
    fail "the memory controller is not enabled below $parent"
  cgroup=$parent/footfall-lambda-$$
  mkdir "$cgroup" || fail "cannot create memory cgroup $cgroup"
  echo $((memory_mb * 1024 * 1024)) > "$cgroup/memory.max"
  echo 0 > "$cgroup/memory.swap.max" 2>/dev/null || true
else
  fail "no memory cgroup (v1 or v2) under /sys/fs/cgroup"
fi

# --- Run: a private mount namespace in which the root is read-only, then the bootstrap as Lambda
# starts it: cleared environment, chroot, non-root user, cwd /var/task.
unshare --mount --propagation private -- /bin/bash -euc '
  root=$1; cgroup=$2; unshare=$3; shift 3
  mount --bind "$root" "$root"
  mount -o remount,bind,ro "$root"
  mount -t tmpfs -o size=512m,mode=1777,nosuid,nodev tmpfs "$root/tmp"
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
  for device in null zero random urandom; do mount --bind "/dev/$device" "$root/dev/$device"; done
  echo $$ > "$cgroup/cgroup.procs"
  exec env -i "$@" "$unshare" --root="$root" --wd=/var/task --setgid 990 --setuid 993 \
    /var/task/bootstrap
' run_in_chroot "$root" "$cgroup" "$(command -v unshare)" "${lambda_env[@]}" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
set +e
wait "$child"
rc=$?
# A forwarded signal interrupts the first wait; wait again for the real exit status.
if kill -0 "$child" 2>/dev/null; then wait "$child"; rc=$?; fi
exit "$rc"
