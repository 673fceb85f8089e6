#!/usr/bin/env python3
"""The seed's architecture (API Gateway -> Lambda -> DynamoDB) on moto: footfall against the
seed's own Python handler, side by side in one run.

  - request path: DynamoDB requests and round trips per warm visit, counted by a proxy in front
    of moto (a round trip is a wave of requests that overlap in time);
  - write request units per visit by AWS's rules: the request path's (from the sizes of the items
    it stored) and footfall's stream path, amortised over stream batches of 1, 10 and 100 (the
    aggregates function reports the units of what it wrote, from the sizes it read first);
  - cold first answer: exec -> first answered event, through the Runtime API fixture (alternating
    runs), and warm per-invocation latency (fixture hand-out -> answer);
  - log bytes per invocation (what CloudWatch Logs would ingest);
  - the cost per million visits, REST and HTTP API, with the arithmetic.

The seed's handler is extracted from the seed document at run time (../shared/seed/
cloud-resume-backend.md, or $FOOTFALL_SEED_DOC) into a temporary directory and run, as a measured
reference only, by a minimal Runtime API loop written here (the stand-in for AWS's Python runtime
client); it is never committed. Both talk to the same moto server; moto's latency (~ms per
request) stands in for DynamoDB's, so latencies are comparable with each other, not with AWS.
Usage: aws_bench.py FOOTFALL_BIN
"""
import base64
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "lambda"))
import test_lambda_runtime as trt  # noqa: E402  (MotoServer, events, clean_env)
import test_lambda_stream as tls  # noqa: E402  (CountingProxy, lambda_record)
from runtime_api_fixture import RuntimeApiFixture  # noqa: E402

SEED_DOC = os.environ.get("FOOTFALL_SEED_DOC") or os.path.join(
    REPO, "..", "shared", "seed", "cloud-resume-backend.md")
ORIGIN = "https://me.example"

# Published on-demand prices, us-east-1 (docs/aws.md, "What it costs").
PRICE = {"rest_per_m": 3.50, "http_per_m": 1.00, "lambda_req_per_m": 0.20,
         "lambda_gb_s": 0.0000166667, "wru_per_m": 0.625, "rru_per_m": 0.125,
         "logs_per_gb": 0.50, "storage_gb_month": 0.25}
RETENTION_MONTHS = 3  # both keep visits 90 days (TTL)

SEED_RUNTIME = r'''
# A minimal AWS Lambda Runtime API loop for the seed's Python handler (a stand-in for AWS's
# runtime interface client): init = import the handler module, then next -> handler -> response.
# Logging as Lambda's Python runtime sets it up: every record to stdout, with its request id.
import json, logging, os, sys, urllib.request
request_id = "-"
class RequestId(logging.Filter):
    def filter(self, record):
        record.aws_request_id = request_id
        return True
handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(logging.Formatter(
    "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
    "%Y-%m-%dT%H:%M:%S"))
handler.addFilter(RequestId())
logging.getLogger().addHandler(handler)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import visitor_counter  # the seed's module: creates its boto3 resource at import, as on Lambda
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    request_id = rid
    result = visitor_counter.lambda_handler(event, None)
    req = urllib.request.Request(api + rid + "/response", data=json.dumps(result).encode(),
                                 method="POST")
    urllib.request.urlopen(req).read()
'''


def extract_seed_handler(directory):
    with open(SEED_DOC, encoding="utf-8") as f:
        text = f.read()
    start = text.index("modules/backend/lambda/visitor_counter.py")
    match = re.search(r"```python\n(.*?)```", text[start:], re.S)
    if not match or "def lambda_handler" not in match.group(1):
        raise RuntimeError("no lambda_handler found in %s" % SEED_DOC)
    with open(os.path.join(directory, "visitor_counter.py"), "w") as f:
        f.write(match.group(1))
    with open(os.path.join(directory, "seed_runtime.py"), "w") as f:
        f.write(SEED_RUNTIME)


# Visits applied before measuring, so that hour items are as full as they are in a busy hour; then
# (batch size, batches) measured.
STREAM_WARM_UP = 300
STREAM_BATCHES = ((1, 20), (10, 30), (100, 3))


def rest_visit_event(rng):
    """The REST API sample event (the seed's API type) as another visitor on another page."""
    event = trt.load_event_json(trt.V1_GET)
    address = "198.51.100.%d" % rng.randrange(1, 250)
    agent = rng.choice(tls.AGENTS)
    path = rng.choice(tls.PATHS)
    event["requestContext"]["identity"]["sourceIp"] = address
    event["headers"]["User-Agent"] = agent
    event["headers"]["X-Forwarded-For"] = address
    event["queryStringParameters"] = {"path": path.replace("%C3%A9", "é")}
    referer = rng.choice(tls.REFERERS)
    event["headers"]["Referer"] = referer or ORIGIN + "/"
    # As API Gateway sends every REST proxy event: the multi-value maps repeat the single-value
    # ones (the seed logs the whole event, so leaving them out would understate its log bill).
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    event["multiValueQueryStringParameters"] = {
        k: [v] for k, v in event["queryStringParameters"].items()}
    return event


def item_bytes(item):
    """DynamoDB's size of an item as boto3 returns it (names plus values, AWS's rules)."""
    size = 0
    for name, value in item.items():
        (kind, content), = value.items()
        size += len(name.encode())
        if kind == "S":
            size += len(content.encode())
        elif kind == "N":
            size += len(content.lstrip("-").replace(".", "").lstrip("0") or "0") // 2 + 1
        elif kind == "B":
            size += len(content)
        elif kind == "BS":
            size += sum(len(b) for b in content)
        else:
            size += len(json.dumps(content, default=str))
    return size


def wru(size):
    return max(1, math.ceil(size / 1024))


class TimingProxy(tls.CountingProxy):
    """CountingProxy that also keeps each request's (start, end) time, to count round trips."""

    def __init__(self, upstream_port):
        super().__init__(upstream_port)
        self.intervals = []
        handler = self.server.RequestHandlerClass
        original = handler.do_POST
        proxy = self

        def timed(handler_self):
            started = time.monotonic()
            original(handler_self)
            with proxy.lock:
                proxy.intervals.append((started, time.monotonic()))
        handler.do_POST = timed

    def take_round_trips(self):
        with self.lock:
            intervals, self.intervals = sorted(self.intervals), []
        waves, end = 0, -1.0
        for start, stop in intervals:
            if start >= end:
                waves += 1
                end = stop
            else:
                end = max(end, stop)
        return waves, len(intervals)


class Runtime:
    def __init__(self, argv, env, fixture):
        self.fixture = fixture
        self.out = tempfile.TemporaryFile()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT)

    def invoke(self, event, timeout=30):
        # The deadline the function is configured with: 60 s for the aggregates function.
        rid = self.fixture.enqueue(event, timeout_ms=timeout * 1000)
        res = self.fixture.wait_result(rid, timeout)
        if res["kind"] != "response":
            raise RuntimeError("invocation failed: %r" % res.get("body"))
        return res

    def log_bytes(self):
        self.out.flush()
        return os.fstat(self.out.fileno()).st_size

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def main():
    binary = os.path.abspath(sys.argv[1])
    os.environ["FOOTFALL_BIN"] = binary
    work = tempfile.mkdtemp(prefix="footfall-aws-bench-")
    moto = trt.MotoServer()
    proxy = TimingProxy(moto.port)
    try:
        run(binary, work, moto, proxy)
    finally:
        proxy.stop()
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)


def run(binary, work, moto, proxy):
    extract_seed_handler(work)
    ddb = moto.client()
    ff_table, seed_table = "footfall-bench", "seed-bench"
    subprocess.run([binary, "migrate", "--store", "dynamodb://%s?region=%s&endpoint=%s"
                    % (ff_table, trt.REGION, moto.endpoint)], env=trt.clean_env(), check=True,
                   capture_output=True)
    ddb.create_table(TableName=seed_table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "visit_id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "visit_id", "AttributeType": "S"}])
    ddb.put_item(TableName=seed_table, Item={"visit_id": {"S": "total"}, "count": {"N": "0"}})

    def start(kind, fixture, endpoint=moto.endpoint):
        """Latencies are measured straight to moto; requests are counted through the proxy."""
        env_base = dict(trt.clean_env(), AWS_ENDPOINT_URL_DYNAMODB=endpoint)
        if kind == "footfall":
            # As the Terraform module configures both functions (lambda.tf, aggregates.tf).
            env = fixture.lambda_env(base=env_base, DYNAMODB_TABLE=ff_table,
                                     ALLOWED_ORIGIN=ORIGIN, FOOTFALL_AGGREGATES="stream",
                                     FOOTFALL_METRICS="log")
            return Runtime([binary, "lambda"], env, fixture)
        env = fixture.lambda_env(base=env_base, DYNAMODB_TABLE=seed_table, ALLOWED_ORIGIN=ORIGIN)
        return Runtime([sys.executable, os.path.join(work, "seed_runtime.py")], env, fixture)

    kinds = ("footfall", "seed")
    rng = random.Random(5)
    # Cold first answer: the event is queued before exec, as Lambda holds it during init.
    cold = {k: [] for k in kinds}
    for _ in range(5):
        for kind in kinds:
            with RuntimeApiFixture() as fx:
                rid = fx.enqueue(rest_visit_event(rng))
                rt = start(kind, fx)
                try:
                    res = fx.wait_result(rid, 30)
                    cold[kind].append((res["completed_mono"] - rt.started) * 1000)
                finally:
                    rt.stop()

    # Warm: one runtime each, alternating invocations, straight to moto.
    warm = {k: [] for k in kinds}
    log_per_invocation = {}
    with RuntimeApiFixture() as fx_ff, RuntimeApiFixture() as fx_seed:
        runtimes = {"footfall": start("footfall", fx_ff), "seed": start("seed", fx_seed)}
        try:
            for kind in kinds:
                for _ in range(5):
                    runtimes[kind].invoke(rest_visit_event(rng))
            time.sleep(0.05)
            logs_before = {k: runtimes[k].log_bytes() for k in kinds}
            n = 100
            for _ in range(n):
                event = rest_visit_event(rng)
                for kind in kinds:
                    warm[kind].append(runtimes[kind].invoke(event)["latency_ms"])
            time.sleep(0.05)  # the last line is written just after the answer
            for kind in kinds:
                log_per_invocation[kind] = (runtimes[kind].log_bytes() - logs_before[kind]) / n
        finally:
            for kind in kinds:
                runtimes[kind].stop()

    # Requests and round trips per warm visit, through the counting proxy.
    requests = {k: [] for k in kinds}
    waves = {k: [] for k in kinds}
    with RuntimeApiFixture() as fx_ff, RuntimeApiFixture() as fx_seed:
        runtimes = {"footfall": start("footfall", fx_ff, proxy.endpoint),
                    "seed": start("seed", fx_seed, proxy.endpoint)}
        try:
            for kind in kinds:
                runtimes[kind].invoke(rest_visit_event(rng))
            for _ in range(30):
                event = rest_visit_event(rng)
                for kind in kinds:
                    time.sleep(0.02)
                    proxy.take_round_trips()
                    runtimes[kind].invoke(event)
                    # The proxy notes a request after its answer is sent: let it catch up.
                    time.sleep(0.02)
                    w, r = proxy.take_round_trips()
                    waves[kind].append(w)
                    requests[kind].append(r)
        finally:
            for kind in kinds:
                runtimes[kind].stop()

    # Request-path write units: the items each stored for a visit, by AWS's rules.
    def visit_items(table):
        items = []
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            items += [i for i in page["Items"] if "timestamp" in i]
        return items
    request_wru, item_size = {}, {}
    for kind, table in (("footfall", ff_table), ("seed", seed_table)):
        visits = visit_items(table)
        sizes = [item_bytes(i) for i in visits]
        item_size[kind] = statistics.mean(sizes)
        request_wru[kind] = statistics.mean(wru(s) for s in sizes) + 1  # + the counter's ADD

    # Enough of footfall's visits in the stream for a warm-up and then the measured batches.
    with RuntimeApiFixture() as fx:
        rt = start("footfall", fx)
        try:
            for _ in range(STREAM_WARM_UP + sum(b * n for b, n in STREAM_BATCHES) + 10):
                rt.invoke(rest_visit_event(rng))
        finally:
            rt.stop()

    # Stream path: footfall's visits, delivered to the aggregates function in batches.
    arn = ddb.describe_table(TableName=ff_table)["Table"]["LatestStreamArn"]
    records = [r for r in tls.read_stream(tls.streams_client(moto.endpoint), arn)
               if r["eventName"] == "INSERT" and
               r["dynamodb"].get("NewImage", {}).get("aggregates") == {"S": "stream"}]
    stream_wru, stream_requests, stream_reported, took = {}, {}, {}, {}
    stream_rru, stream_log = {}, {}
    with RuntimeApiFixture() as fx:
        agg = start("footfall", fx)
        try:
            needed = STREAM_WARM_UP + sum(b * n for b, n in STREAM_BATCHES)
            if len(records) < needed:
                raise RuntimeError("only %d of %d visits in the stream" % (len(records), needed))
            # Steady state, not a fresh table: the hour's items are filled first (their size is
            # what a write costs), then every batch size is measured on the same hour.
            for position in range(0, STREAM_WARM_UP, 10):
                agg.invoke({"Records": [tls.lambda_record(r, arn)
                                        for r in records[position:position + 10]]}, 60)
            position = STREAM_WARM_UP
            for batch, count in STREAM_BATCHES:
                units = calls = visits = read_units = log = 0
                reported = 0.0
                for _ in range(count):
                    part = records[position:position + batch]
                    position += batch
                    before = agg.log_bytes()
                    started = time.monotonic()
                    agg.invoke({"Records": [tls.lambda_record(r, arn) for r in part]}, 60)
                    took.setdefault(batch, []).append(time.monotonic() - started)
                    time.sleep(0.05)
                    agg.out.seek(before)
                    written = agg.out.read()
                    line = json.loads(written.decode().strip().splitlines()[-1])
                    agg.out.seek(0, os.SEEK_END)
                    log += len(written)
                    units += line["write_units"]
                    read_units += line["read_units"]
                    calls += line["dynamodb_requests"]
                    reported += line["consumed_capacity"]
                    visits += line["StreamVisitsApplied"]
                stream_wru[batch] = units / visits
                stream_rru[batch] = read_units / visits
                stream_log[batch] = log / visits
                stream_requests[batch] = calls / visits
                stream_reported[batch] = reported / visits
                print("stream batches of %d: median %.0f ms per invocation on moto" %
                      (batch, 1000 * statistics.median(took[batch])), flush=True)
        finally:
            agg.stop()

    report(cold, warm, requests, waves, request_wru, item_size, stream_wru, stream_requests,
           log_per_invocation, len(records), stream_rru, stream_log)
    print("cross-check, capacity moto reported per visit on the stream path (not AWS's rules): "
          + ", ".join("batch %d: %.2f" % (b, stream_reported[b]) for b in sorted(stream_reported)))


def report(cold, warm, requests, waves, request_wru, item_size, stream_wru, stream_requests,
           log_per_invocation, stream_visits, stream_rru, stream_log):
    med = statistics.median
    p90 = lambda xs: sorted(xs)[int(0.9 * (len(xs) - 1))]  # noqa: E731
    print("== The seed's architecture on moto: footfall against the seed's Python handler ==")
    print("request path, per warm visit: footfall %.2f requests in %.2f round trips; seed %.2f "
          "requests in %.2f round trips" % (statistics.mean(requests["footfall"]),
                                            statistics.mean(waves["footfall"]),
                                            statistics.mean(requests["seed"]),
                                            statistics.mean(waves["seed"])))
    print("cold first answer (exec -> answered, 5 alternating runs, straight to moto): footfall "
          "median %.1f ms "
          "(%s), seed median %.1f ms (%s): the seed takes %.1fx as long"
          % (med(cold["footfall"]), ", ".join("%.0f" % c for c in cold["footfall"]),
             med(cold["seed"]), ", ".join("%.0f" % c for c in cold["seed"]),
             med(cold["seed"]) / med(cold["footfall"])))
    print("warm invocation (hand-out -> answer, 100 alternating, straight to moto): footfall "
          "median %.2f ms, p90 "
          "%.2f; seed median %.2f ms, p90 %.2f" % (med(warm["footfall"]), p90(warm["footfall"]),
                                                   med(warm["seed"]), p90(warm["seed"])))
    print("visit item: footfall %.0f bytes, seed %.0f bytes; request-path write units per visit: "
          "footfall %.2f, seed %.2f" % (item_size["footfall"], item_size["seed"],
                                        request_wru["footfall"], request_wru["seed"]))
    for batch in sorted(stream_wru):
        print("stream path, batch of %d: %.2f write units, %.2f read units, %.2f requests and "
              "%.0f log bytes per visit; footfall in all %.2f WRU per visit"
              % (batch, stream_wru[batch], stream_rru[batch], stream_requests[batch],
                 stream_log[batch], request_wru["footfall"] + stream_wru[batch]))
    print("log bytes per invocation: footfall %.0f, seed %.0f"
          % (log_per_invocation["footfall"], log_per_invocation["seed"]))
    print()
    print("Cost per million visits (prices in docs/aws.md; Lambda billed at the warm moto "
          "latency, 128 MB; storage %d months):" % RETENTION_MONTHS)

    def lines(kind, api, batch):
        p = PRICE
        rows = [("API Gateway %s" % api, "1 M requests",
                 p["rest_per_m"] if api == "REST" else p["http_per_m"])]
        rows.append(("Lambda requests", "1 M x $0.20/M", p["lambda_req_per_m"]))
        ms = max(1, math.ceil(med(warm[kind])))
        rows.append(("Lambda duration", "0.125 GB x %d ms x 1 M = %.0f GB-s" % (ms, 0.125 * ms * 1000),
                     0.125 * ms / 1000 * 1e6 * p["lambda_gb_s"]))
        units = request_wru[kind]
        arithmetic = "%.2f WRU request path" % units
        if kind == "footfall":
            units += stream_wru[batch]
            arithmetic += " + %.2f stream (batch %d)" % (stream_wru[batch], batch)
            rows.append(("Lambda (stream)", "1 M / %d batches x $0.20/M" % batch,
                         1e6 / batch * p["lambda_req_per_m"] / 1e6))
        rows.append(("DynamoDB writes", arithmetic + " = %.2f x $0.625" % units,
                     units * p["wru_per_m"]))
        log_bytes = log_per_invocation[kind]
        log_arithmetic = "%.0f bytes" % log_bytes
        if kind == "footfall":
            rows.append(("DynamoDB reads", "%.2f RRU (stream, batch %d) x $0.125"
                         % (stream_rru[batch], batch), stream_rru[batch] * p["rru_per_m"]))
            log_bytes += stream_log[batch]
            log_arithmetic += " + %.0f (stream)" % stream_log[batch]
        gb = log_bytes * 1e6 / 1e9
        rows.append(("CloudWatch Logs", "%s x 1 M = %.2f GB x $0.50" % (log_arithmetic, gb),
                     gb * p["logs_per_gb"]))
        storage_gb = item_size[kind] * 1e6 / 1e9
        rows.append(("DynamoDB storage", "%.2f GB x $0.25 x %d months" % (storage_gb,
                                                                         RETENTION_MONTHS),
                     storage_gb * p["storage_gb_month"] * RETENTION_MONTHS))
        return rows

    seed_rest = sum(c for _, _, c in lines("seed", "REST", None))
    for kind, api, batch in (("seed", "REST", None), ("footfall", "REST", 10),
                             ("footfall", "HTTP", 10), ("footfall", "REST", 100),
                             ("footfall", "HTTP", 100)):
        rows = lines(kind, api, batch)
        total = sum(c for _, _, c in rows)
        print("  %s, %s API%s: $%.2f (%.2fx the seed's REST)" % (
            kind, api, "" if batch is None else ", stream batches of %d" % batch, total,
            total / seed_rest))
        for name, arithmetic, cost in rows:
            print("      %-18s %-58s $%.3f" % (name, arithmetic, cost))
    json.dump({"cold_ms": {k: med(v) for k, v in cold.items()},
               "warm_ms": {k: med(v) for k, v in warm.items()},
               "request_wru": request_wru, "stream_wru": stream_wru, "stream_rru": stream_rru,
               "log_bytes": log_per_invocation, "stream_log_bytes": stream_log}, sys.stderr)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
