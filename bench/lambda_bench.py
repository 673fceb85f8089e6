#!/usr/bin/env python3
"""Lambda benchmark: start-up, warm invocation CPU cost, peak RSS, package size.

Runs the real footfall binary as a Lambda runtime against the Runtime API fixture
(tests/lambda/runtime_api_fixture.py) with the in-memory store, so that no network store is in
the measurement:
  - start-up: process exec -> its first GET /next reaches the fixture (CLOCK_MONOTONIC on both
    sides), median and max of 20 runs; target <= 15 ms;
  - first invocation: the sample GET /count event handed over right after the first GET /next,
    until the runtime's next GET /next (so its answer was posted), median of 20 runs: the part
    of a cold start that comes after start-up (first salt, first user agent: the bot matcher's
    build), for the binary and, when root, the packaged bootstrap;
  - warm invocation CPU cost: user+system CPU time of the runtime process (from /proc) across
    N invocations of the REST sample GET /count event, divided by N; target <= 100 us. This
    includes parsing the event, the handler and the Runtime API HTTP exchange, not the fixture;
  - peak RSS of the runtime (VmHWM) after those invocations;
  - zip size and bundled library count (build/footfall-lambda.zip), target <= 5 MB;
  - the packaged bootstrap's start-up, in the same runs as the binary's: the zip unpacked at
    /var/task of a chroot whose /lib64 holds Debian 11's glibc 2.31 (tests/lambda/old_glibc.sh),
    started with Lambda's LD_LIBRARY_PATH (needs root; said so and left out otherwise).
Usage: lambda_bench.py FOOTFALL_BIN [ZIP]
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lambda"))
from runtime_api_fixture import RuntimeApiFixture  # noqa: E402

EVENT = os.path.join(HERE, "..", "tests", "lambda", "events", "apigw_rest_v1_get_count.json")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def env_for(fx):
    env = dict(os.environ, **fx.lambda_env())
    # Default logging (one EMF line per invocation) is part of the measured cost.
    env.update(FOOTFALL_STORE="memory:", ALLOWED_ORIGIN="https://me.example")
    return env


LAMBDA_LD_LIBRARY_PATH = ("/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"
                          "/var/task:/var/task/lib:/opt/lib")


def packaged_root(zip_path):
    """A chroot holding the unpacked zip at /var/task and Debian 11's glibc in /lib64, or None
    (with the reason printed) when this cannot be made here."""
    if os.geteuid() != 0:
        print("packaged start-up: left out (chroot needs root)")
        return None
    cache = os.path.join(os.path.dirname(os.path.abspath(zip_path)), "old-glibc")
    glibc = subprocess.run([os.path.join(HERE, "..", "tests", "lambda", "old_glibc.sh"), cache],
                           capture_output=True, text=True)
    if glibc.returncode != 0:
        print("packaged start-up: left out (no old glibc: %s)" % glibc.stderr.strip()[-300:])
        return None
    root = tempfile.mkdtemp(prefix="footfall-bench-root-")
    os.makedirs(os.path.join(root, "usr"))
    shutil.copytree(os.path.join(glibc.stdout.strip(), "lib", "x86_64-linux-gnu"),
                    os.path.join(root, "usr", "lib64"), symlinks=True)
    os.symlink("usr/lib64", os.path.join(root, "lib64"))
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            path = z.extract(info, os.path.join(root, "var", "task"))
            os.chmod(path, (info.external_attr >> 16) & 0o7777 or 0o644)
    return root


def startup_ms(argv, runs=20, extra_env=None):
    samples = []
    for _ in range(runs):
        with RuntimeApiFixture() as fx:
            env = env_for(fx)
            env.update(extra_env or {})
            started = time.monotonic()
            proc = subprocess.Popen(argv, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                fx.wait_next_calls(1, 10)
                samples.append((fx.next_calls()[0]["at_mono"] - started) * 1000)
            finally:
                proc.kill()
                proc.wait()
    return samples


def first_invocation_ms(argv, extra_env=None):
    with RuntimeApiFixture() as fx:
        env = env_for(fx)
        env.update(extra_env or {})
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            fx.wait_next_calls(1, 10)
            with open(EVENT) as f:
                event = f.read()
            handed = time.monotonic()
            fx.enqueue(event)
            fx.wait_next_calls(2, 10)
            return (fx.next_calls()[1]["at_mono"] - handed) * 1000
        finally:
            proc.kill()
            proc.wait()


def warm_cpu_us(binary, invocations=2000):
    with RuntimeApiFixture() as fx:
        proc = subprocess.Popen([binary, "lambda"], env=env_for(fx),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with open(EVENT) as f:
                event = f.read()
            # Warm up (cold start, first salt, allocator) before measuring.
            for _ in range(50):
                fx.wait_result(fx.enqueue(event), 10)
            before = cpu_seconds(proc.pid)
            ids = []
            for _ in range(invocations):
                rid = fx.enqueue(event)
                fx.wait_result(rid, 10)
                ids.append(rid)
            after = cpu_seconds(proc.pid)
            statuses = {fx.result(rid)["body_json"]["statusCode"] for rid in ids}
            return (after - before) / invocations * 1e6, peak_rss_kb(proc.pid), statuses
        finally:
            proc.kill()
            proc.wait()


def main():
    binary = sys.argv[1]
    zip_path = sys.argv[2] if len(sys.argv) > 2 else None
    root = packaged_root(zip_path) if zip_path and os.path.exists(zip_path) else None
    starts, packaged, firsts, packaged_firsts = [], [], [], []
    packaged_argv = ["chroot", root, "/var/task/bootstrap"] if root else None
    packaged_env = {"LD_LIBRARY_PATH": LAMBDA_LD_LIBRARY_PATH}
    try:
        # Alternating, so that the machine's noise falls on both alike.
        for _ in range(20):
            starts += startup_ms([binary, "lambda"], runs=1)
            firsts.append(first_invocation_ms([binary, "lambda"]))
            if root:
                packaged += startup_ms(packaged_argv, runs=1, extra_env=packaged_env)
                packaged_firsts.append(first_invocation_ms(packaged_argv, packaged_env))
    finally:
        if root:
            shutil.rmtree(root, ignore_errors=True)
    cpu_us, rss_kb, statuses = warm_cpu_us(binary)
    print("== Lambda runtime (memory store; fixture as Runtime API) ==")
    print(f"start-up exec -> first /next: median {statistics.median(starts):.2f} ms, "
          f"max {max(starts):.2f} ms over {len(starts)} runs (target <= 15 ms)")
    if packaged:
        print(f"packaged bootstrap start-up (chroot, glibc 2.31 in /lib64, Lambda's "
              f"LD_LIBRARY_PATH): median {statistics.median(packaged):.2f} ms, max "
              f"{max(packaged):.2f} ms over {len(packaged)} runs; "
              f"{statistics.median(packaged) / statistics.median(starts):.2f}x the binary's")
    print(f"first invocation (event handed over -> next GET /next): median "
          f"{statistics.median(firsts):.2f} ms, max {max(firsts):.2f} ms over {len(firsts)} runs"
          + (f"; packaged bootstrap: median {statistics.median(packaged_firsts):.2f} ms"
             if packaged_firsts else ""))
    print(f"warm invocation CPU: {cpu_us:.1f} us per invocation (target <= 100 us); "
          f"answers {sorted(statuses)}")
    print(f"peak RSS: {rss_kb / 1024:.1f} MB")
    if zip_path and os.path.exists(zip_path):
        with zipfile.ZipFile(zip_path) as z:
            libs = [n for n in z.namelist() if n.startswith("lib/")]
        size = os.path.getsize(zip_path)
        print(f"zip: {size / 1e6:.2f} MB ({size} bytes; target <= 5 MB), "
              f"{len(libs)} bundled libraries: {' '.join(sorted(libs))}")
    json.dump({"startup_ms_median": statistics.median(starts), "startup_ms_max": max(starts),
               "packaged_startup_ms_median": statistics.median(packaged) if packaged else None,
               "first_invocation_ms_median": statistics.median(firsts),
               "packaged_first_invocation_ms_median":
                   statistics.median(packaged_firsts) if packaged_firsts else None,
               "warm_cpu_us": cpu_us, "peak_rss_kb": rss_kb}, sys.stderr)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
