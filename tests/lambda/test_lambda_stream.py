#!/usr/bin/env python3
"""End-to-end test of the seed's architecture with the aggregates off the request path: the real
binary as the API function (FOOTFALL_AGGREGATES=stream) writes visits to a real moto table; the
table's real DynamoDB Stream (moto's Streams API) is read back, wrapped as the Lambda event an
event source mapping delivers, and handed through the Runtime API fixture to the binary as the
aggregates function. Checks that the statistics then equal the SQLite engine's for the same visits,
that redelivered and bisected batches count once, that poison records and oversized events do not
block the stream, that throttled aggregate writes are retried, and counts DynamoDB requests per
visit on the request path (through a counting proxy in front of moto).

Run through ctest (lambda_stream_e2e) or directly; uses the helpers of test_lambda_runtime.py.
Nothing is skipped: if moto, boto3 or the binary is missing, the tests fail.
"""

import base64
import copy
import datetime
import http.client
import http.server
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import boto3  # noqa: E402

import test_lambda_runtime as trt  # noqa: E402

AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
]
PATHS = ["/", "/cv", "/blog/post", "/blog/%C3%A9t%C3%A9"]
REFERERS = [None, "https://news.example/item?id=1", "https://search.example/?q=resume"]


def setUpModule():
    trt.setUpModule()


def tearDownModule():
    trt.tearDownModule()


def visit_event(rng):
    """The HTTP API sample event as a different visitor (address, agent) on a random page."""
    event = trt.load_event_json(trt.V2_GET)
    address = "198.51.100.%d" % rng.randrange(1, 25)
    agent = rng.choice(AGENTS)
    path = rng.choice(PATHS)
    event["requestContext"]["http"]["sourceIp"] = address
    event["requestContext"]["http"]["userAgent"] = agent
    event["headers"]["user-agent"] = agent
    event["headers"]["x-forwarded-for"] = address
    event["rawQueryString"] = "path=" + path.replace("/", "%2F")
    event["queryStringParameters"] = {"path": path}
    referer = rng.choice(REFERERS)
    if referer:
        event["headers"]["referer"] = referer
    else:
        event["headers"].pop("referer", None)
    return event


def attribute_json(value):
    """A boto3 attribute value back in DynamoDB's JSON form (binary as base64)."""
    (kind, content), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(content).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode() for b in content]}
    if kind == "M":
        return {"M": {k: attribute_json(v) for k, v in content.items()}}
    if kind == "L":
        return {"L": [attribute_json(v) for v in content]}
    return {kind: content}


def lambda_record(record, stream_arn):
    """One GetRecords record as the Lambda event of a DynamoDB event source mapping carries it."""
    change = dict(record["dynamodb"])
    when = change.get("ApproximateCreationDateTime")
    if isinstance(when, datetime.datetime):
        change["ApproximateCreationDateTime"] = when.timestamp()
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = {k: attribute_json(v) for k, v in change[image].items()}
    return {"eventID": record["eventID"], "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"), "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", trt.REGION), "dynamodb": change,
            "eventSourceARN": stream_arn}


def streams_client(endpoint):
    return boto3.client("dynamodbstreams", region_name=trt.REGION, endpoint_url=endpoint,
                        aws_access_key_id="AKIDFOOTFALLTEST", aws_secret_access_key="secret",
                        aws_session_token="session-token")


def read_stream(streams, arn):
    """Every record of stream `arn`, shard by shard, each shard in order, as GetRecords returns
    them (what a DynamoDB event source mapping would hand the aggregates function)."""
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it, Limit=1000)
            if not page["Records"]:
                break
            records.extend(page["Records"])
            it = page.get("NextShardIterator")
    return records


class CountingProxy:
    """An HTTP proxy in front of moto on a free loopback port: counts requests per DynamoDB
    operation, and answers the first `throttle` TransactWriteItems with DynamoDB's throttling
    error and the next `cancel` with a TransactionCanceledException whose reason is throttling
    (both mean "not applied, try again")."""

    def __init__(self, upstream_port, throttle=0, cancel=0):
        self.counts = {}
        self.throttle, self.cancel = throttle, cancel
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                # Headers and body go out in separate writes: without this, Nagle's algorithm and
                # the client's delayed ACK hold the body back ~40 ms.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = self.headers.get("X-Amz-Target", "").split(".")[-1]
                with proxy.lock:
                    proxy.counts[operation] = proxy.counts.get(operation, 0) + 1
                    refuse = None
                    if operation == "TransactWriteItems" and proxy.throttle > 0:
                        proxy.throttle -= 1
                        refuse = {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                                  "message": "Rate of requests exceeds the allowed throughput."}
                    elif operation == "TransactWriteItems" and proxy.cancel > 0:
                        proxy.cancel -= 1
                        items = len(json.loads(body)["TransactItems"])
                        refuse = {"__type": "com.amazonaws.dynamodb.v20120810#"
                                            "TransactionCanceledException",
                                  "message": "Transaction cancelled",
                                  "CancellationReasons": [{"Code": "ThrottlingError"}] +
                                                         [{"Code": "None"}] * (items - 1)}
                if refuse is not None:
                    out = json.dumps(refuse).encode()
                    self.send_response(400)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = self.headers.get("Host", "")
                upstream.request("POST", self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                out = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding",
                                            "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
                upstream.close()

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that went away (a runtime stopped) is not the proxy's concern

        self.lock = threading.Lock()
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def take_counts(self):
        with self.lock:
            counts, self.counts = self.counts, {}
        return counts

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


TODAY = datetime.datetime.now(datetime.timezone.utc).date()


class StreamAggregatesTest(trt.LambdaRuntimeTestCase):
    # Visits are recorded now: a range around today (hourly series may cover 31 days at most).
    RANGE = ["--from", str(TODAY - datetime.timedelta(days=2)),
             "--to", str(TODAY + datetime.timedelta(days=2))]

    def stream_records(self, table):
        """(stream ARN, every record of the table's stream) from moto."""
        arn = self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        return arn, read_stream(streams_client(trt.MOTO.endpoint), arn)

    def footfall(self, *args):
        done = subprocess.run([trt.footfall_bin(), *args], env=trt.clean_env(),
                              capture_output=True, timeout=120)
        self.assertEqual(done.returncode, 0, "footfall %s: %r" % (args[0], done.stderr[-2000:]))
        return done.stdout

    def stats(self, store, interval):
        return json.loads(self.footfall("stats", "--store", store, "--site", trt.SITE, "--json",
                                        "--top", "100", "--interval", interval, *self.RANGE))

    def deliver(self, rt, records, stream_arn, expect_error=False):
        """Hands `records` to the aggregates runtime as one Lambda invocation; returns the
        invocation's log line (EMF) as a dict."""
        res = self.invoke(rt, {"Records": [lambda_record(r, stream_arn) for r in records]},
                          timeout=60)
        request_id = rt.sent[-1][0]
        if expect_error:
            self.assertEqual(res["kind"], "error", trt.raf.jsonable(res))
        else:
            self.assertEqual((res["kind"], res["status"]), ("response", 202),
                             trt.raf.jsonable(res))
            self.assertEqual(res["body_json"], {"batchItemFailures": []})
        # The line is written just after the answer is posted.
        deadline = time.monotonic() + 5
        while True:
            lines = [json.loads(l) for l in rt.lines()]
            mine = [l for l in lines if l.get("request_id") == request_id]
            if mine or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        self.assertEqual(len(mine), 1, "no log line for %s" % request_id)
        self.assertEqual(mine[0]["route"], "stream", mine[0])
        return mine[0]

    def send_visits(self, api, count, seed):
        rng = random.Random(seed)
        for _ in range(count):
            status, _, body, _ = self.invoke_http(api, visit_event(rng))
            self.assertEqual(status, 200, body)

    def assert_no_aggregates_written(self, table):
        for item in self.scan(table):
            key = item["visit_id"]["S"]
            self.assertFalse(key.startswith(("agg#", "pv", "mk#", "seen#")),
                             "the request path wrote %s" % key)

    def assert_same_stats_as_sqlite(self, table):
        dynamodb = self.store_uri(table)
        sqlite = "sqlite:" + os.path.join(trt.WORKDIR, "copy-%s.db" % table)
        exported = os.path.join(trt.WORKDIR, "export-%s.jsonl" % table)
        self.footfall("export", "--store", dynamodb, "--format", "jsonl", "-o", exported,
                      *self.RANGE)
        self.footfall("import", "--store", sqlite, exported)
        for interval in ("day", "hour"):
            got, want = self.stats(dynamodb, interval), self.stats(sqlite, interval)
            self.assertEqual(got, want, "DynamoDB's statistics (fed by the stream) differ from "
                                        "SQLite's for the same visits (%s)" % interval)
        return got

    def test_stream_feeds_the_aggregates_once_however_it_is_delivered(self):
        table = self.migrate(self.new_table_name())
        proxy = CountingProxy(trt.MOTO.port)
        self.addCleanup(proxy.stop)
        api = self.start_runtime(table=table, endpoint=proxy.endpoint,
                                 extra_env={"FOOTFALL_AGGREGATES": "stream"})
        self.send_visits(api, 1, seed=0)  # the cold start: the day's salt
        proxy.take_counts()
        visits = 40
        self.send_visits(api, visits, seed=1)
        counts = proxy.take_counts()
        # The warm request path: the visit PutItem and the counter ADD, sent at once.
        self.assertEqual(counts, {"PutItem": visits, "UpdateItem": visits}, counts)
        trt.MEASURED["request path, DynamoDB requests per warm visit (stream mode)"] = (
            "%s, 1 round trip" % {k: v / visits for k, v in counts.items()})
        # The runtime's own count agrees: each warm visit's line says 2 requests, and what
        # DynamoDB (here moto) reported consuming.
        api_lines = [json.loads(l) for l in api.wait_lines(visits + 1)][-visits:]
        self.assertEqual({l["dynamodb_requests"] for l in api_lines}, {2})
        self.assertTrue(all(l["consumed_capacity"] > 0 for l in api_lines), api_lines[0])
        self.assert_no_aggregates_written(table)

        stream_arn, records = self.stream_records(table)
        visit_records = [r for r in records if r["eventName"] == "INSERT"
                         and r["dynamodb"].get("NewImage", {}).get("aggregates") == {"S": "stream"}]
        self.assertEqual(len(visit_records), visits + 1)
        agg = self.start_runtime(table=table, extra_env={"FOOTFALL_AGGREGATES": "stream"})

        # A batch as the mapping would deliver it (the filter passes only visits; the function
        # must pass over anything else itself, e.g. counter records), then the same batch again
        # (its answer was lost): counted once.
        first, rest = visit_records[:17], visit_records[17:]
        counter = [r for r in records if r["dynamodb"]["Keys"]["visit_id"]["S"] == "total"][:1]
        line = self.deliver(agg, first + counter, stream_arn)
        self.assertEqual((line["StreamVisitsApplied"], line.get("StreamRecordsAlreadyApplied", 0),
                          line["records_not_visits"]), (17, 0, len(counter)))
        line = self.deliver(agg, first, stream_arn)
        self.assertEqual((line["StreamVisitsApplied"], line.get("StreamRecordsAlreadyApplied", 0)), (0, 17))

        # The rest with a poison record in the middle: skipped, logged, counted; the rest applied.
        poison = copy.deepcopy(rest[3])
        poison["dynamodb"]["NewImage"]["visitor"] = {"S": "not a hash: 192.0.2.1"}
        poison["eventID"] = "poison"
        line = self.deliver(agg, rest[:5] + [poison] + rest[5:], stream_arn)
        self.assertEqual((line["StreamVisitsApplied"], line.get("StreamRecordsSkipped", 0)),
                         (len(rest), 1), line)
        self.assertEqual(len(line["skipped_because"]), 1)
        self.assertIn("visitor", line["skipped_because"][0])
        self.assertNotIn("192.0.2.1", json.dumps(line))
        trt.MEASURED["stream path, write units per visit (batch of %d)" % len(rest)] = (
            "%.2f (%d requests)" % (line["write_units"] / len(rest), line["dynamodb_requests"]))

        # Delivered again split in two, as after a failure with bisect: nothing counts twice.
        half = len(rest) // 2
        for part in (rest[:half], rest[half:]):
            line = self.deliver(agg, part, stream_arn)
            self.assertEqual((line["StreamVisitsApplied"], line.get("StreamRecordsAlreadyApplied", 0)),
                             (0, len(part)))

        # An event over Lambda's 6 MB is refused as an invalid event; the runtime goes on.
        res = self.invoke(agg, b'{"Records": [' + b" " * (7 * 1024 * 1024) + b"]}", timeout=30)
        self.assertEqual((res["kind"], res["error_type"]), ("error", "InvalidEvent"))
        line = self.deliver(agg, first[:3], stream_arn)
        self.assertEqual(line.get("StreamRecordsAlreadyApplied", 0), 3)

        stats = self.assert_same_stats_as_sqlite(table)
        self.assertEqual(stats["views"], visits + 1)
        self.check_logs(api)

    def test_throttled_aggregate_writes_are_retried_and_count_once(self):
        table = self.migrate(self.new_table_name())
        api = self.start_runtime(table=table, extra_env={"FOOTFALL_AGGREGATES": "stream"})
        self.send_visits(api, 30, seed=2)
        stream_arn, records = self.stream_records(table)
        visit_records = [r for r in records if r["eventName"] == "INSERT"
                         and r["dynamodb"].get("NewImage", {}).get("aggregates") == {"S": "stream"}]
        # Throttled outright twice, then cancelled for throttling once: not applied, retried.
        proxy = CountingProxy(trt.MOTO.port, throttle=2, cancel=1)
        self.addCleanup(proxy.stop)
        agg = self.start_runtime(table=table, endpoint=proxy.endpoint,
                                 extra_env={"FOOTFALL_AGGREGATES": "stream"})
        line = self.deliver(agg, visit_records, stream_arn)
        self.assertEqual(line["StreamVisitsApplied"], 30, line)
        self.assertEqual(proxy.take_counts().get("TransactWriteItems"), 4)
        stats = self.assert_same_stats_as_sqlite(table)
        self.assertEqual(stats["views"], 30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
