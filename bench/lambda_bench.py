#!/usr/bin/env python3
"""Lambda benchmark: start-up, warm invocation CPU cost, peak RSS, package size.

Runs the real footfall binary as a Lambda runtime against the Runtime API fixture
(tests/lambda/runtime_api_fixture.py) with the in-memory store, so that no network store is in
the measurement:
  - start-up: process exec -> its first GET /next reaches the fixture (CLOCK_MONOTONIC on both
    sides), median and max of 20 runs; target <= 15 ms;
  - warm invocation CPU cost: user+system CPU time of the runtime process (from /proc) across
    N invocations of the REST sample GET /count event, divided by N; target <= 100 us. This
    includes parsing the event, the handler and the Runtime API HTTP exchange, not the fixture;
  - peak RSS of the runtime (VmHWM) after those invocations;
  - zip size and bundled library count (build/footfall-lambda.zip), target <= 5 MB.
Usage: lambda_bench.py FOOTFALL_BIN [ZIP]
"""
import json
import os
import statistics
import subprocess
import sys
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


def startup_ms(binary, runs=20):
    samples = []
    for _ in range(runs):
        with RuntimeApiFixture() as fx:
            started = time.monotonic()
            proc = subprocess.Popen([binary, "lambda"], env=env_for(fx),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                fx.wait_next_calls(1, 10)
                samples.append((fx.next_calls()[0]["at_mono"] - started) * 1000)
            finally:
                proc.kill()
                proc.wait()
    return samples


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
    starts = startup_ms(binary)
    cpu_us, rss_kb, statuses = warm_cpu_us(binary)
    print("== Lambda runtime (memory store; fixture as Runtime API) ==")
    print(f"start-up exec -> first /next: median {statistics.median(starts):.2f} ms, "
          f"max {max(starts):.2f} ms over {len(starts)} runs (target <= 15 ms)")
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
               "warm_cpu_us": cpu_us, "peak_rss_kb": rss_kb}, sys.stderr)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
