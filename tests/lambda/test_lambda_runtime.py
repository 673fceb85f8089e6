#!/usr/bin/env python3
"""End-to-end test of footfall as an AWS Lambda custom runtime: the real binary drives the
Runtime API fixture (runtime_api_fixture.py) and stores visits in a real moto server
(tests/tools/moto_server_atomic.py). Python 3 stdlib + boto3. Run through ctest
(lambda_runtime_e2e) or directly; about 15 s.

Environment:
  FOOTFALL_BIN             the footfall binary (default: <repo>/build/footfall). Always needed:
                           `footfall migrate` creates the tables.
  FOOTFALL_LAMBDA_COMMAND  optional JSON list: the argv that starts the runtime, e.g.
                           '["/path/run_in_chroot.sh", "build/footfall-lambda.zip"]'. It inherits
                           the environment the test builds (AWS_LAMBDA_RUNTIME_API, DYNAMODB_TABLE,
                           ...) and is started in its own process group. Default:
                           [FOOTFALL_BIN, "lambda"].

Nothing is skipped: if moto, boto3 or the binary is missing or does not start, the tests fail.

With FOOTFALL_TEST_ARTIFACTS set (ctest sets it; tests/tools/artifacts.py), tearDownModule keeps
the work dir (each runtime's stdout and stderr, the SQLite copies and exports of
test_lambda_stream.py) and moto's tables are dumped when it stops, for tests/privacy_audit.py.
test_lambda_faults.py and test_lambda_stream.py share this module's setUpModule/tearDownModule.
"""

import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EVENTS = os.path.join(HERE, "events")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "tools"))

import artifacts  # noqa: E402
import moto_server_atomic  # noqa: E402
import runtime_api_fixture as raf  # noqa: E402

import boto3  # noqa: E402  (a failed import fails the test, as it should)

REGION = "us-east-1"
ORIGIN = "https://me.example"
SITE = "me.example"
FUNCTION_NAME = "footfall-e2e"
COUNT_MESSAGE = "Visitor count updated successfully"
CLIENT_IP = "203.0.113.9"
RETENTION_S = 90 * 86400

V1_GET = "apigw_rest_v1_get_count.json"
V2_GET = "apigw_http_v2_get_count.json"
V2_API_COUNT = "apigw_http_v2_get_api_count.json"
V1_OPTIONS = "apigw_rest_v1_options_preflight.json"
V1_NULL_HEADERS = "apigw_rest_v1_null_headers.json"
V1_NO_SOURCE_IP = "apigw_rest_v1_get_count_no_source_ip.json"
V1_POST_B64 = "apigw_rest_v1_post_count_base64_body.json"
V2_POST_B64 = "apigw_http_v2_post_count_base64_body.json"
V2_BAD_UTF8 = "apigw_http_v2_get_count_invalid_utf8_query.json"
V2_NAMED_STAGE = "apigw_http_v2_get_count_named_stage.json"
INVALID_JSON = "invalid_json.txt"
NEITHER = "neither_format.json"

UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HEX32_RE = re.compile(r"^[0-9a-f]{32}$")
# Units CloudWatch accepts in EMF (MetricDatum.Unit).
EMF_UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None"}
# Every metric footfall's invocation lines may declare (namespace Footfall).
EMF_METRIC_NAMES = {
    "VisitsRecorded", "StoreLatency", "Errors", "ColdStart", "StoreDriftVisits",
    "StreamVisitsApplied", "StreamRecordsAlreadyApplied", "StreamRecordsSkipped"}

# Strings of the client or of the raw events that must never reach the runtime's logs.
FORBIDDEN_IN_LOGS = [
    CLIENT_IP, "198.51.100.23", "198.51.100.77",
    hashlib.sha256(CLIENT_IP.encode()).hexdigest()[:16],
    "Mozilla/5.0", "Firefox/121.0", "Slackbot", "curl/8.5.0", "aws-sdk-java",
    "cDehVQoZnx43VYQb9j2",      # X-Amz-Cf-Id of the v1 sample
    "theme=dark",               # cookies of the v2 sample
    "AKIAIOSFODNN7EXAMPLE",     # identity.accessKey of the null-headers event
    "aaaaaaaaaaaaaaaaaaaaaaaa",  # the 7 MB header
]

# Measurements reported at the end of the run (ctest keeps the output).
MEASURED = {}


# ------------------------------------------------------------------------------------ helpers
def footfall_bin():
    return os.environ.get("FOOTFALL_BIN") or os.path.join(REPO, "build", "footfall")


def runtime_command():
    raw = os.environ.get("FOOTFALL_LAMBDA_COMMAND")
    if not raw:
        return [footfall_bin(), "lambda"]
    argv = json.loads(raw)
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError("FOOTFALL_LAMBDA_COMMAND must be a non-empty JSON list of strings")
    return argv


def load_event(name):
    with open(os.path.join(EVENTS, name), "rb") as f:
        return f.read()


def load_event_json(name):
    return json.loads(load_event(name))


def clean_env():
    """os.environ without anything that could point the runtime at another store or account."""
    env = {}
    for key, value in os.environ.items():
        if key.startswith(("AWS_", "FOOTFALL_")) or key in ("DYNAMODB_TABLE", "ALLOWED_ORIGIN",
                                                             "_X_AMZN_TRACE_ID"):
            continue
        env[key] = value
    env.update({"AWS_ACCESS_KEY_ID": "AKIDFOOTFALLTEST", "AWS_SECRET_ACCESS_KEY": "secret",
                "AWS_SESSION_TOKEN": "session-token", "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION})
    return env


def uuid7_time_s(visit_id):
    return int(visit_id.replace("-", "")[:12], 16) / 1000.0


class MotoServer:
    """moto_server_atomic.py on a loopback port the OS chose when moto bound it (so no other
    process can have taken it first); stop() ends only the process it started. Raises
    RuntimeError (with moto's output) if it does not start."""

    START_TIMEOUT_S = 60

    def __init__(self):
        self.proc = None
        self.log = tempfile.NamedTemporaryFile(prefix="footfall-moto-", suffix=".log", delete=False)
        try:
            self.proc, self.port = moto_server_atomic.launch(
                stdout=self.log, stderr=subprocess.STDOUT, deadline_s=self.START_TIMEOUT_S)
        except RuntimeError as error:
            tail = self.log_tail()
            self.stop()
            raise RuntimeError("%s: %s" % (error, tail)) from None
        except BaseException:
            self.stop()
            raise
        self.endpoint = "http://127.0.0.1:%d" % self.port

    def log_tail(self, n=2000):
        try:
            with open(self.log.name, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        try:
            os.unlink(self.log.name)
        except OSError:
            pass

    def client(self):
        return boto3.client("dynamodb", region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="AKIDFOOTFALLTEST", aws_secret_access_key="secret",
                            aws_session_token="session-token")


class Runtime:
    """One runtime process (FOOTFALL_LAMBDA_COMMAND or `footfall lambda`) with its stdout and
    stderr captured to files. Started in its own process group, which stop() signals."""

    def __init__(self, argv, env, workdir):
        self.stdout_path = os.path.join(workdir, "stdout-%s" % uuid.uuid4().hex[:8])
        self.stderr_path = self.stdout_path.replace("stdout-", "stderr-")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, start_new_session=True)

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read()

    def lines(self):
        data = self.stdout()
        # Only complete lines: a line being written is not one yet.
        return [l for l in data.split(b"\n")[:-1]]

    def wait_lines(self, count, timeout=5.0):
        end = time.monotonic() + timeout
        while True:
            lines = self.lines()
            if len(lines) >= count or time.monotonic() > end:
                return lines
            time.sleep(0.01)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        # The whole group: a launcher script may have left the runtime running as its child.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            if self.wait_exit(5) is not None and sig == signal.SIGTERM:
                try:
                    os.killpg(self.proc.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.2)  # give what is left of the group a moment before SIGKILL
        self.wait_exit(5)


MOTO = None
WORKDIR = None


def setUpModule():
    global MOTO, WORKDIR
    binary = footfall_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise RuntimeError("footfall binary not found or not executable: %s (set FOOTFALL_BIN)"
                           % binary)
    runtime_command()  # a malformed FOOTFALL_LAMBDA_COMMAND fails here, not later
    WORKDIR = tempfile.mkdtemp(prefix="footfall-lambda-e2e-")
    try:
        MOTO = MotoServer()
    except BaseException:
        shutil.rmtree(WORKDIR, ignore_errors=True)  # tearDownModule does not run now
        raise


def tearDownModule():
    if MOTO is not None:
        MOTO.stop()  # dumps moto's tables first when artifacts are on (moto_server_atomic.py)
    if WORKDIR is not None:
        artifacts.keep_directory(WORKDIR, "lambda-workdir")
        shutil.rmtree(WORKDIR, ignore_errors=True)
    if MEASURED:
        sys.stderr.write("\nlambda_runtime_e2e measurements (runtime: %s):\n"
                         % json.dumps(runtime_command()))
        for key in sorted(MEASURED):
            sys.stderr.write("  %s: %s\n" % (key, MEASURED[key]))


# --------------------------------------------------------------------------------- test base
class LambdaRuntimeTestCase(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        self.ddb = MOTO.client()
        self.t0 = time.time()
        self.runtimes = []

    # -- tables
    def new_table_name(self):
        return "footfall-e2e-%s-%s" % (self._testMethodName[5:25].replace("_", "-"),
                                       uuid.uuid4().hex[:8])

    def store_uri(self, table, endpoint=None):
        return "dynamodb://%s?region=%s&endpoint=%s" % (table, REGION, endpoint or MOTO.endpoint)

    def migrate(self, table):
        proc = subprocess.run([footfall_bin(), "migrate", "--store", self.store_uri(table)],
                              env=clean_env(), capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 0, "footfall migrate failed: %r" % proc.stderr)
        desc = self.ddb.describe_table(TableName=table)["Table"]
        self.assertEqual(desc["KeySchema"], [{"AttributeName": "visit_id", "KeyType": "HASH"}])
        self.assertEqual(sorted(a["AttributeName"] for a in desc["AttributeDefinitions"]),
                         ["agg_pk", "agg_sk", "visit_id"])
        self.assertEqual([(i["IndexName"], i["KeySchema"]) for i in
                          desc["GlobalSecondaryIndexes"]],
                         [("aggregates", [{"AttributeName": "agg_pk", "KeyType": "HASH"},
                                          {"AttributeName": "agg_sk", "KeyType": "RANGE"}])])
        self.assertEqual(desc["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        ttl = self.ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        self.assertEqual((ttl.get("AttributeName"), ttl.get("TimeToLiveStatus")),
                         ("expiration_time", "ENABLED"))
        return table

    def scan(self, table):
        items = []
        for page in self.ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items.extend(page["Items"])
        return items

    def table_state(self, table):
        """(visit rows, counter value or None, salt items) of `table`."""
        visits, total, salts = [], None, []
        for item in self.scan(table):
            key = item["visit_id"]["S"]
            if key == "total":
                total = int(item["count"]["N"])
            elif key.startswith("salt#"):
                salts.append(item)
            elif "timestamp" in item:  # not a shard, page-view, seen or aggregate item
                visits.append(item)
        return visits, total, salts

    # -- runtimes
    def start_runtime(self, *, table=None, store=None, endpoint=None, origins_var="ALLOWED_ORIGIN",
                      extra_env=None, argv=None):
        """A fixture and a runtime serving it. `table` sets DYNAMODB_TABLE (with
        AWS_ENDPOINT_URL_DYNAMODB = `endpoint` or moto), `store` sets FOOTFALL_STORE."""
        fx = raf.RuntimeApiFixture().start()
        self.addCleanup(fx.stop)
        env = fx.lambda_env(base=clean_env(), AWS_LAMBDA_FUNCTION_NAME=FUNCTION_NAME)
        env[origins_var] = ORIGIN
        if table is not None:
            env["DYNAMODB_TABLE"] = table
            env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint or MOTO.endpoint
        if store is not None:
            env["FOOTFALL_STORE"] = store
        env.update(extra_env or {})
        rt = Runtime(argv or runtime_command(), env, WORKDIR)
        rt.started_mono = time.monotonic()
        self.addCleanup(rt.stop)
        rt.fx = fx
        rt.sent = []  # (request id, trace id) in the order sent
        self.runtimes.append(rt)
        return rt

    def invoke(self, rt, event, timeout=10.0, **kwargs):
        """Queues `event` (a file name in events/, bytes, or a JSON object), waits for the
        runtime's answer and returns the fixture's result."""
        if isinstance(event, str):
            event = load_event(event)
        trace_id = raf.new_trace_id()
        rid = rt.fx.enqueue(event, trace_id=trace_id, **kwargs)
        rt.sent.append((rid, trace_id))
        try:
            return rt.fx.wait_result(rid, timeout)
        except TimeoutError:
            self.fail("no answer for invocation %s within %.1f s; runtime rc=%s, stderr=%r"
                      % (rid, timeout, rt.proc.poll(), rt.stderr()[-2000:]))

    def invoke_http(self, rt, event, **kwargs):
        """invoke() for an event the runtime must answer with an API Gateway response; returns
        (statusCode, headers, body parsed as JSON or None, result)."""
        res = self.invoke(rt, event, **kwargs)
        self.assertEqual((res["kind"], res["source"], res["status"]), ("response", "runtime", 202),
                         "expected a response, got %r" % raf.jsonable(res))
        out = res["body_json"]
        self.assertIsInstance(out, dict, "response body is not a JSON object: %r" % res["body"])
        # multiValueHeaders: REST (1.0) answers, for a repeated header name.
        self.assertLessEqual({"statusCode", "headers", "body", "isBase64Encoded"}, set(out))
        self.assertLessEqual(set(out), {"statusCode", "headers", "multiValueHeaders", "body",
                                        "isBase64Encoded"})
        self.assertIsInstance(out["statusCode"], int)
        self.assertIsInstance(out["headers"], dict)
        for name, value in out["headers"].items():
            self.assertIsInstance(name, str)
            self.assertIsInstance(value, str, "header %s" % name)
        self.assertIsInstance(out["body"], str)
        self.assertIs(out["isBase64Encoded"], False)
        try:
            body = json.loads(out["body"]) if out["body"] else None
        except ValueError:
            self.fail("response body is not JSON: %r" % out["body"])
        return out["statusCode"], out["headers"], body, res

    def assert_count_response(self, rt, event, expected_count, **kwargs):
        status, headers, body, res = self.invoke_http(rt, event, **kwargs)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"count": expected_count, "message": COUNT_MESSAGE})
        self.assertEqual(headers.get("Content-Type"), "application/json")
        return headers, res

    def assert_vary_origin(self, headers):
        vary = [v.strip().lower() for v in headers.get("Vary", "").split(",")]
        self.assertIn("origin", vary, headers)

    # -- the log contract, checked at the end of every test that runs invocations
    def check_logs(self, rt, visits_recorded=None):
        """stdout: exactly one JSON line per invocation, in order, matching the fixture's
        request ids, ColdStart on the first only; valid EMF wherever it declares metrics; no
        client data in stdout/stderr, and not the trace id either (Lambda's REPORT line has it).
        VisitsRecorded is 1 for a 200 of /count unless `visits_recorded` lists it per line. A
        count of 0 is not declared (no data point), so absent reads as 0."""
        results = [rt.fx.result(rid) for rid, _ in rt.sent]
        answered = [(rid, trace, res) for (rid, trace), res in zip(rt.sent, results)
                    if res is not None and res["source"] == "runtime"]
        # The runtime writes an invocation's line before it asks for the next one: once it has
        # called /next after the last answer, every line it will write for them is written.
        if answered:
            last = max(res["completed_mono"] for _, _, res in answered)
            end = time.monotonic() + 5
            while (not any(c["at_mono"] >= last for c in rt.fx.next_calls())
                   and rt.proc.poll() is None and time.monotonic() < end):
                time.sleep(0.01)
        lines = rt.wait_lines(len(answered))
        self.assertEqual(len(lines), len(answered),
                         "want one stdout line per invocation, got:\n%s"
                         % b"\n".join(lines)[-3000:].decode("utf-8", "replace"))
        for index, ((rid, trace, res), raw) in enumerate(zip(answered, lines)):
            with self.subTest(line=index, request_id=rid):
                try:
                    line = json.loads(raw)
                except ValueError:
                    self.fail("stdout line %d is not JSON: %r" % (index, raw[:300]))
                self.assert_emf(line)
                self.assertEqual(line["request_id"], rid)
                self.assertNotIn(trace, raw.decode("utf-8", "replace"))
                if "_aws" in line:
                    self.assertEqual(line["FunctionName"], FUNCTION_NAME)
                self.assertEqual(line.get("ColdStart", 0), 1 if index == 0 else 0)
                if res["kind"] == "response":
                    status = res["body_json"]["statusCode"]
                    self.assertEqual(line["status"], status)
                    self.assertEqual(line.get("Errors", 0), 1 if status >= 500 else 0)
                    recorded = 1 if (status == 200 and line.get("route") == "/count") else 0
                    if visits_recorded is not None:
                        recorded = visits_recorded[index]
                    self.assertEqual(line.get("VisitsRecorded", 0), recorded)
                else:
                    self.assertEqual(line.get("Errors", 0), 1)
                    self.assertEqual(line.get("VisitsRecorded", 0), 0)
                    self.assertEqual(line.get("level"), "error")
        self.assert_no_client_data(rt)

    def assert_emf(self, line):
        """Valid EMF if the line declares metrics; a line that declares none (nothing to count:
        a warm preflight) has none of the metric members either."""
        self.assertIsInstance(line, dict)
        if "_aws" not in line:
            self.assertFalse(set(line) & EMF_METRIC_NAMES, line)
            return
        aws = line.get("_aws")
        self.assertIsInstance(aws, dict, "no _aws member")
        ts = aws.get("Timestamp")
        self.assertIsInstance(ts, int)
        self.assertLess(abs(ts / 1000.0 - time.time()), 600, "Timestamp %s is not now" % ts)
        directives = aws.get("CloudWatchMetrics")
        self.assertIsInstance(directives, list)
        self.assertGreaterEqual(len(directives), 1)
        first = directives[0]
        self.assertEqual(first.get("Namespace"), "Footfall")
        self.assertEqual(first.get("Dimensions"), [["FunctionName"]])
        for directive in directives:
            for dimension_set in directive["Dimensions"]:
                self.assertLessEqual(len(dimension_set), 30)
                for name in dimension_set:
                    self.assertIsInstance(line.get(name), str, "dimension %s is not a top-level "
                                          "string member" % name)
            metrics = directive.get("Metrics")
            self.assertIsInstance(metrics, list)
            self.assertTrue(1 <= len(metrics) <= 100)
            for metric in metrics:
                name = metric.get("Name")
                self.assertIsInstance(name, str)
                self.assertTrue(name)
                self.assertIn(name, line, "metric %s is not a top-level member" % name)
                value = line[name]
                self.assertTrue(isinstance(value, (int, float)) and not isinstance(value, bool),
                                "metric %s = %r is not a number" % (name, value))
                if "Unit" in metric:
                    self.assertIn(metric["Unit"], EMF_UNITS)
        names = {m["Name"] for m in first["Metrics"]}
        self.assertTrue(names <= EMF_METRIC_NAMES, names)

    def assert_no_client_data(self, rt):
        out, err = rt.stdout(), rt.stderr()
        for needle in FORBIDDEN_IN_LOGS:
            self.assertNotIn(needle.encode(), out, "stdout carries client data %r" % needle)
            self.assertNotIn(needle.encode(), err, "stderr carries client data %r" % needle)


# ------------------------------------------------------------------------------------- tests
class ApiGatewayEventsTest(LambdaRuntimeTestCase):

    def test_samples_count_and_store_seed_shaped_rows(self):
        table = self.migrate(self.new_table_name())
        rt = self.start_runtime(table=table)

        headers, first = self.assert_count_response(rt, V1_GET, 1)
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), ORIGIN)
        self.assert_vary_origin(headers)
        MEASURED["process start -> first GET /next (ms)"] = round(
            (rt.fx.next_calls()[0]["at_mono"] - rt.started_mono) * 1000, 1)
        MEASURED["first GET /count (cold, creates the day's salt), hand-out->answer ms"] = round(
            first["latency_ms"], 1)

        headers, _ = self.assert_count_response(rt, V2_GET, 2)
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), ORIGIN)
        self.assert_vary_origin(headers)
        t1 = time.time()

        visits, total, salts = self.table_state(table)
        self.assertEqual(total, 2)
        self.assertEqual(len(visits), total)
        by_path = {}
        for item in visits:
            visit_id = item["visit_id"]["S"]
            self.assertRegex(visit_id, UUID7_RE)
            self.assertLess(abs(uuid7_time_s(visit_id) - t1), 120, "UUIDv7 time is not now")
            path = item["path"]["S"]
            self.assertNotEqual(path, "/count")
            by_path[path] = item
            visitor = item["visitor"]["S"]
            self.assertRegex(visitor, HEX32_RE)
            ip_hash = hashlib.sha256(CLIENT_IP.encode()).hexdigest()
            self.assertNotEqual(visitor, CLIENT_IP)
            self.assertNotIn(visitor, ip_hash)
            self.assertNotIn("visitor_ip", item)
            expires = int(item["expiration_time"]["N"])
            self.assertGreaterEqual(expires, int(self.t0) + RETENTION_S - 5)
            self.assertLessEqual(expires, int(t1) + RETENTION_S + 5)
            self.assertEqual(item["site"]["S"], SITE)
            stamp = item["timestamp"]["S"]
            parsed = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            self.assertLess(abs(parsed.timestamp() - t1), 120, stamp)
            for attribute in item.values():
                self.assertNotIn(CLIENT_IP, json.dumps(attribute), item)
        # v1: the page is the Referer's path; v2: ?path=.
        self.assertEqual(set(by_path), {"/about", "/blog/post"})
        # Same client, user agent, site and day: the same visitor (unique visitors per day).
        if by_path["/about"]["timestamp"]["S"][:10] == by_path["/blog/post"]["timestamp"]["S"][:10]:
            self.assertEqual(by_path["/about"]["visitor"], by_path["/blog/post"]["visitor"])

        day = int(time.time() // 86400)
        salt_keys = {s["visit_id"]["S"] for s in salts}
        self.assertTrue(salt_keys & {"salt#%d" % day, "salt#%d" % (day - 1)},
                        "no salt#<day> item: %r" % salt_keys)
        for salt in salts:
            self.assertEqual(len(salt["salt"]["B"]), 32)

        # Named stage: rawPath /prod/count is still the /count route.
        status, headers, body, _ = self.invoke_http(rt, V2_NAMED_STAGE)
        self.assertEqual((status, body), (200, {"count": 3, "message": COUNT_MESSAGE}))
        visits, total, _ = self.table_state(table)
        self.assertEqual((total, len(visits)), (3, 3))
        self.assertEqual(sorted(v["path"]["S"] for v in visits), ["/", "/about", "/blog/post"])
        self.check_logs(rt)

    def test_reads_preflight_and_rejections_write_nothing(self):
        table = self.migrate(self.new_table_name())
        # FOOTFALL_STORE (endpoint in the URI) and FOOTFALL_ALLOWED_ORIGINS this time.
        rt = self.start_runtime(store=self.store_uri(table), origins_var="FOOTFALL_ALLOWED_ORIGINS")
        self.assert_count_response(rt, V1_GET, 1)
        before = self.table_state(table)
        self.assertEqual((len(before[0]), before[1]), (1, 1))

        def assert_nothing_written():
            visits, total, _ = self.table_state(table)
            self.assertEqual((len(visits), total), (len(before[0]), before[1]))

        # Read-only route: same count, no increment.
        status, headers, body, _ = self.invoke_http(rt, V2_API_COUNT)
        self.assertEqual((status, body["count"]), (200, 1))
        self.assertNotIn("Access-Control-Allow-Origin", headers)  # the event has no Origin
        assert_nothing_written()

        # CORS preflight.
        status, headers, body, _ = self.invoke_http(rt, V1_OPTIONS)
        self.assertEqual(status, 204)
        self.assertIsNone(body)
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), ORIGIN)
        self.assertIn("GET", headers.get("Access-Control-Allow-Methods", ""))
        self.assertIn("content-type", headers.get("Access-Control-Allow-Headers", "").lower())
        self.assert_vary_origin(headers)
        assert_nothing_written()

        # An origin that is not allowed may not count, in either payload format.
        v1 = load_event_json(V1_GET)
        v1["headers"]["Origin"] = "https://evil.example"
        v1["multiValueHeaders"]["Origin"] = ["https://evil.example"]
        v2 = load_event_json(V2_GET)
        v2["headers"]["origin"] = "https://evil.example"
        for event in (v1, v2):
            status, headers, body, _ = self.invoke_http(rt, event)
            self.assertEqual(status, 403, body)
            self.assertEqual(body.get("error"), "origin_not_allowed")
            self.assertNotIn("Access-Control-Allow-Origin", headers)
            self.assert_vary_origin(headers)
        assert_nothing_written()

        # POST with a base64 body: 405 with Allow, in both formats.
        for name in (V1_POST_B64, V2_POST_B64):
            status, headers, body, _ = self.invoke_http(rt, name)
            self.assertEqual(status, 405, name)
            self.assertEqual(body.get("error"), "method_not_allowed")
            self.assertIn("GET", headers.get("Allow", ""))
        assert_nothing_written()

        # ?path=%FF is not UTF-8: 400 invalid_path.
        status, headers, body, _ = self.invoke_http(rt, V2_BAD_UTF8)
        self.assertEqual((status, body.get("error")), (400, "invalid_path"))
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), ORIGIN)
        assert_nothing_written()
        self.check_logs(rt)

    def test_odd_but_valid_events_are_answered(self):
        table = self.migrate(self.new_table_name())
        rt = self.start_runtime(table=table)
        expected_total = 0
        expected_paths = []
        # headers null (console test invoke; no Origin, no Referer) and no sourceIp: answered
        # (200, or a 4xx error body), never a crash or an invocation error.
        for name, page in ((V1_NULL_HEADERS, "/"), (V1_NO_SOURCE_IP, "/about")):
            status, headers, body, _ = self.invoke_http(rt, name)
            self.assertIsInstance(body, dict, name)
            if status == 200:
                expected_total += 1
                expected_paths.append(page)
                self.assertEqual(body, {"count": expected_total, "message": COUNT_MESSAGE})
            else:
                self.assertTrue(400 <= status < 500 and "error" in body, (name, status, body))
            self.assert_vary_origin(headers)
            visits, total, _ = self.table_state(table)
            self.assertEqual((len(visits), total or 0), (expected_total, expected_total))
        visits = self.table_state(table)[0]
        self.assertEqual(sorted(v["path"]["S"] for v in visits), sorted(expected_paths))
        for item in visits:
            # Without an Origin the visit belongs to the default site: the first allowed origin's.
            self.assertEqual(item["site"]["S"], SITE)
            self.assertRegex(item["visitor"]["S"], HEX32_RE)
        self.assertIsNone(rt.proc.poll(), "runtime exited")
        self.assert_count_response(rt, V2_GET, expected_total + 1)
        self.check_logs(rt)

    def test_bootstrap_name_without_arguments_runs_the_runtime(self):
        table = self.migrate(self.new_table_name())
        link = os.path.join(tempfile.mkdtemp(dir=WORKDIR), "bootstrap")
        os.symlink(os.path.abspath(footfall_bin()), link)
        rt = self.start_runtime(table=table, argv=[link])
        self.assert_count_response(rt, V2_GET, 1)
        self.check_logs(rt)


class MetricFiltersTest(LambdaRuntimeTestCase):
    """FOOTFALL_METRICS=log, as the Terraform module runs both functions: the lines carry the
    metric members and the FunctionName dimension without the EMF directive, and every metric
    filter of the module (deploy/terraform/modules/footfall/metrics.tf) matches exactly the
    lines that carry its member, taking the value EMF would have."""

    METRICS_TF = os.path.join(REPO, "deploy", "terraform", "modules", "footfall", "metrics.tf")

    def module_filters(self):
        """metric name -> (pattern member, value member) from the module's locals and filters."""
        text = open(self.METRICS_TF, encoding="utf-8").read()
        names = set(re.findall(r"^\s+(\w+)\s+=\s+\"(?:Count|Milliseconds)\"", text, re.M))
        for line in (r'pattern\s*=\s*"\{ \$\.\$\{each\.value\.metric\} >= 0 \}"',
                     r'value\s*=\s*"\$\.\$\{each\.value\.metric\}"',
                     r'dimensions\s*=\s*\{ FunctionName = "\$\.FunctionName" \}'):
            self.assertEqual(len(re.findall(line, text)), 1, line)
        return names

    def test_log_lines_feed_the_modules_metric_filters(self):
        names = self.module_filters()
        self.assertTrue({"VisitsRecorded", "StoreLatency", "Errors", "ColdStart",
                         "StoreDriftVisits"} <= names, names)
        table = self.migrate(self.new_table_name())
        rt = self.start_runtime(table=table, extra_env={"FOOTFALL_METRICS": "log"})
        self.assert_count_response(rt, V1_GET, 1)
        self.assert_count_response(rt, V2_GET, 2)
        self.invoke(rt, "apigw_rest_v1_options_preflight.json")
        lines = [json.loads(raw) for raw in rt.wait_lines(3)]
        raw_lines = rt.stdout().splitlines()
        for line in lines:
            self.assertNotIn("_aws", line)
            # A filter `{ $.X >= 0 }` matches a line iff it has a numeric member X >= 0.
            for name in names & set(line):
                self.assertIsInstance(line[name], (int, float))
                self.assertGreaterEqual(line[name], 0)
                self.assertEqual(line["FunctionName"], FUNCTION_NAME)
        self.assertEqual([line.get("VisitsRecorded") for line in lines], [1, 1, None])
        self.assertEqual([line.get("ColdStart") for line in lines], [1, None, None])
        self.assertGreater(lines[1]["StoreLatency"], 0)
        self.assertNotIn("FunctionName", lines[2])  # a preflight has no metric to give
        MEASURED["warm visit line, FOOTFALL_METRICS=log (bytes)"] = len(raw_lines[1])
        self.assertLess(len(raw_lines[1]), 260, raw_lines[1])
        self.assert_no_client_data(rt)


class InvalidEventsTest(LambdaRuntimeTestCase):

    def assert_invalid_event(self, res):
        self.assertEqual((res["kind"], res["source"], res["phase"], res["status"]),
                         ("error", "runtime", "invoke", 202), raf.jsonable(res))
        self.assertEqual(res["error_type"], "InvalidEvent")
        self.assertIsInstance(res["body_json"], dict, res["body"])
        self.assertEqual(res["body_json"].get("errorType"), "InvalidEvent")
        self.assertIsInstance(res["body_json"].get("errorMessage"), str)

    def test_invalid_events_are_function_errors_and_the_runtime_goes_on(self):
        table = self.migrate(self.new_table_name())
        rt = self.start_runtime(table=table)
        count = 0
        huge = load_event_json(V1_GET)
        huge["headers"]["X-Huge"] = "a" * (7 * 1024 * 1024)
        for name, event in ((INVALID_JSON, INVALID_JSON), (NEITHER, NEITHER),
                            ("7 MB event", json.dumps(huge).encode())):
            with self.subTest(event=name):
                res = self.invoke(rt, event, timeout=20)
                self.assert_invalid_event(res)
                if name == "7 MB event":
                    self.assertGreater(len(json.dumps(huge)), 7 * 1024 * 1024)
                    MEASURED["7 MB event answered after (ms)"] = round(res["latency_ms"], 1)
                count += 1
                self.assert_count_response(rt, V1_GET, count)
        visits, total, _ = self.table_state(table)
        self.assertEqual((len(visits), total), (count, count))
        self.assertIsNone(rt.proc.poll(), "runtime exited")
        self.check_logs(rt)


class MaintenanceEventTest(LambdaRuntimeTestCase):
    """EventBridge's hourly scheduled event deletes old salts with no visit at all (the salts of
    days before yesterday, a week back; TTL deletes older ones)."""

    def put_salt(self, table, day):
        self.ddb.put_item(TableName=table, Item={
            "visit_id": {"S": "salt#%d" % day}, "salt": {"B": bytes([day % 256]) * 32},
            "expiration_time": {"N": str((day + 2) * 86400)}})

    def salt_days(self, table):
        return sorted(int(item["visit_id"]["S"][5:]) for item in self.table_state(table)[2])

    def test_scheduled_event_deletes_salts_older_than_yesterday(self):
        table = self.migrate(self.new_table_name())
        today = int(time.time()) // 86400
        for day in (today, today - 1, today - 2, today - 5, today - 9):
            self.put_salt(table, day)
        # moto never runs TTL: take the salt left to it away, or the privacy audit finds it.
        self.addCleanup(self.ddb.delete_item, TableName=table,
                        Key={"visit_id": {"S": "salt#%d" % (today - 9)}})
        rt = self.start_runtime(table=table)
        res = self.invoke(rt, "eventbridge_scheduled.json", timeout=20)
        self.assertEqual((res["kind"], res["status"]), ("response", 202), raf.jsonable(res))
        self.assertEqual(res["body_json"], {"salts_deleted": 2, "visits_pruned": 0})
        # Yesterday's is kept; nine days back is past the sweep, left to TTL.
        self.assertEqual(self.salt_days(table), [today - 9, today - 1, today])
        res = self.invoke(rt, "eventbridge_scheduled.json", timeout=20)
        self.assertEqual(res["body_json"], {"salts_deleted": 0, "visits_pruned": 0})
        # Visits still count after it (the runtime's cached salt is today's).
        self.assert_count_response(rt, V1_GET, 1)
        lines = [json.loads(raw) for raw in rt.wait_lines(3)]
        self.assertEqual([line.get("route") for line in lines[:2]], ["maintenance"] * 2)
        self.assertEqual([line.get("salts_deleted") for line in lines[:2]], [2, 0])
        self.assertEqual([line.get("Errors", 0) for line in lines], [0, 0, 0])
        for line in lines:
            self.assert_emf(line)
        self.assert_no_client_data(rt)


class DeadlineTest(LambdaRuntimeTestCase):
    """An invocation whose deadline is 150 ms away while the store cannot answer: the runtime
    posts 503 store_unavailable before the deadline rather than hang until Lambda kills it."""

    BUDGET_MS = 150

    def check_answers_before_deadline(self, rt, label):
        rows = []
        for attempt in range(3):
            # The deadline is BUDGET_MS after the fixture hands the invocation out, as in Lambda:
            # a deadline fixed before the call would also count the runtime's start-up (the
            # chroot run unpacks the zip first), which is not what this test measures.
            status, headers, body, res = self.invoke_http(rt, V1_GET, timeout_ms=self.BUDGET_MS,
                                                          timeout=10)
            self.assertEqual(status, 503, body)
            self.assertEqual(body.get("error"), "store_unavailable")
            self.assertEqual(headers.get("Access-Control-Allow-Origin"), ORIGIN)
            margin = res["deadline_ms"] - res["completed_at"] * 1000.0
            rows.append((round(res["latency_ms"], 1), round(margin, 1)))
            self.assertGreater(margin, 0, "answered %.1f ms after the deadline" % -margin)
        MEASURED["deadline %d ms, %s: (hand-out->answer ms, ms left)" % (self.BUDGET_MS, label)] = rows
        # A deadline already past: an answer at once, not a wait for the store.
        res = self.invoke(rt, V1_GET, deadline_ms=int(time.time() * 1000) - 50)
        self.assertEqual((res["kind"], res["body_json"]["statusCode"]), ("response", 503))
        self.assertLess(res["latency_ms"], 1000)
        MEASURED["deadline already past, %s: hand-out->answer ms" % label] = round(res["latency_ms"], 1)
        self.check_logs(rt)

    def test_store_port_closed(self):
        # Bound, never listening, and held for the test: connections are refused, and no other
        # process can start listening on the port meanwhile (a port picked free and let go can).
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        self.addCleanup(closed.close)
        rt = self.start_runtime(table="footfall-e2e-nowhere",
                                endpoint="http://127.0.0.1:%d" % closed.getsockname()[1])
        self.check_answers_before_deadline(rt, "endpoint port closed")

    def test_store_accepts_but_never_answers(self):
        # Listening, never accepting or reading: connect succeeds, no reply ever comes.
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(128)
        self.addCleanup(silent.close)
        rt = self.start_runtime(table="footfall-e2e-silent",
                                endpoint="http://127.0.0.1:%d" % silent.getsockname()[1])
        self.check_answers_before_deadline(rt, "endpoint silent")

    def test_moto_stopped_after_a_warm_invocation(self):
        moto = MotoServer()
        self.addCleanup(moto.stop)
        table = "footfall-e2e-stopped"
        proc = subprocess.run([footfall_bin(), "migrate", "--store",
                               self.store_uri(table, moto.endpoint)],
                              env=clean_env(), capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rt = self.start_runtime(table=table, endpoint=moto.endpoint)
        self.assert_count_response(rt, V1_GET, 1)  # the store connection is now warm
        moto.stop()
        self.check_answers_before_deadline(rt, "moto stopped")


class InitErrorTest(LambdaRuntimeTestCase):

    def test_no_store_configured_is_an_init_error_and_exit(self):
        rt = self.start_runtime()  # neither DYNAMODB_TABLE nor FOOTFALL_STORE
        init = rt.fx.wait_init_error(10)
        self.assertEqual(init["error_type"], "Runtime.ConfigError")
        self.assertIsInstance(init["body_json"], dict, init["body"])
        self.assertEqual(init["body_json"].get("errorType"), "Runtime.ConfigError")
        self.assertIn("DYNAMODB_TABLE", init["body_json"].get("errorMessage", ""))
        rc = rt.wait_exit(10)
        self.assertIsNotNone(rc, "runtime still running after its init error")
        self.assertNotEqual(rc, 0)
        # Lambda serves the init error to the first invocation.
        rid = rt.fx.enqueue(load_event(V1_GET))
        res = rt.fx.wait_result(rid, 5)
        self.assertEqual((res["kind"], res["phase"], res["error_type"]),
                         ("error", "init", "Runtime.ConfigError"))
        self.assertEqual([c["outcome"] for c in rt.fx.next_calls()], [],
                         "the runtime asked for an invocation after its init error")
        for raw in rt.lines():  # whatever it logs is JSON lines
            try:
                self.assertIsInstance(json.loads(raw), dict)
            except ValueError:
                self.fail("stdout line is not JSON: %r" % raw[:300])
        self.assert_no_client_data(rt)


class SeedCompatibilityTest(LambdaRuntimeTestCase):

    def test_table_made_like_the_seed_terraform(self):
        table = "ResumeVisitorCounter-e2e-%s" % uuid.uuid4().hex[:6]
        # modules/backend/dynamodb.tf of the seed, as boto3 calls.
        self.ddb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "visit_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "visit_id", "KeyType": "HASH"}],
            SSESpecification={"Enabled": True},
            Tags=[{"Key": "Name", "Value": "Resume Visitor Counter"},
                  {"Key": "Environment", "Value": "e2e"},
                  {"Key": "Project", "Value": "Cloud Resume Challenge"}])
        self.ddb.get_waiter("table_exists").wait(TableName=table,
                                                 WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
        self.ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expiration_time"})
        self.ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        self.ddb.put_item(TableName=table, Item={"visit_id": {"S": "total"}, "count": {"N": "0"}})

        # The seed's Lambda environment: DYNAMODB_TABLE and ALLOWED_ORIGIN, nothing else.
        rt = self.start_runtime(table=table)
        self.assert_count_response(rt, V1_GET, 1)
        status, _, body, _ = self.invoke_http(rt, V2_API_COUNT)
        self.assertEqual((status, body["count"]), (200, 1))
        self.assert_count_response(rt, V2_GET, 2)
        visits, total, salts = self.table_state(table)
        self.assertEqual((len(visits), total), (2, 2))
        self.assertTrue(salts)
        self.check_logs(rt)


def with_user_agent(name, user_agent):
    """The sample event `name` (REST 1.0 or HTTP API 2.0) sent by another user agent."""
    event = load_event_json(name)
    if event.get("version") == "2.0":
        event["headers"]["user-agent"] = user_agent
        event["requestContext"]["http"]["userAgent"] = user_agent
    else:
        event["headers"]["User-Agent"] = user_agent
        event["multiValueHeaders"]["User-Agent"] = [user_agent]
        event["requestContext"]["identity"]["userAgent"] = user_agent
    return event


class BotUserAgentsTest(LambdaRuntimeTestCase):
    """The function drops bots as serve does (the same core): a crawler or a monitor gets the
    count but is not recorded; an HTTP library counts as non_browser unless
    FOOTFALL_DROP_HTTP_LIBRARIES is true."""
    GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    UPTIME_ROBOT = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
    PYTHON_REQUESTS = "python-requests/2.31.0"

    def test_crawlers_and_monitors_get_the_count_but_are_not_recorded(self):
        table = self.migrate(self.new_table_name())
        rt = self.start_runtime(table=table)
        self.assert_count_response(rt, V1_GET, 1)
        self.assert_count_response(rt, with_user_agent(V1_GET, self.GOOGLEBOT), 1)
        self.assert_count_response(rt, with_user_agent(V2_GET, self.UPTIME_ROBOT), 1)
        self.assert_count_response(rt, with_user_agent(V2_GET, self.PYTHON_REQUESTS), 2)
        visits, total, _ = self.table_state(table)
        self.assertEqual((len(visits), total), (2, 2))
        self.check_logs(rt, visits_recorded=[1, 0, 0, 1])

    def test_drop_http_libraries(self):
        table = self.migrate(self.new_table_name())
        rt = self.start_runtime(table=table, extra_env={"FOOTFALL_DROP_HTTP_LIBRARIES": "true"})
        self.assert_count_response(rt, with_user_agent(V1_GET, self.PYTHON_REQUESTS), 0)
        self.assert_count_response(rt, V2_GET, 1)
        visits, total, _ = self.table_state(table)
        self.assertEqual((len(visits), total), (1, 1))
        self.check_logs(rt, visits_recorded=[0, 1])


class RepeatedInvocationsTest(LambdaRuntimeTestCase):
    N = 200

    def test_200_sequential_visits_count_exactly(self):
        table = self.migrate(self.new_table_name())
        # As the module deploys it: aggregates left to the stream, the visit and the counter in
        # one round trip. (Inline, each visit is also a TransactWriteItems, which moto runs by
        # copying every table it holds under one lock: 200 of them late in this module, with
        # the other tests' tables in moto, ran into the store's deadline.)
        rt = self.start_runtime(table=table, extra_env={"FOOTFALL_AGGREGATES": "stream"})
        status, _, body, _ = self.invoke_http(rt, V2_API_COUNT)
        self.assertEqual(status, 200)
        base = body["count"]
        latencies = []
        events = [load_event(V1_GET), load_event(V2_GET)]
        for i in range(1, self.N + 1):
            _, res = self.assert_count_response(rt, events[i % 2], base + i)
            latencies.append(res["latency_ms"])
        visits, total, _ = self.table_state(table)
        self.assertEqual(total, base + self.N)
        self.assertEqual(len(visits), total)
        # One keep-alive connection to the Runtime API for all of them (runtime_client.h).
        self.assertEqual(rt.fx.state()["connections_accepted"], 1)
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(round(0.99 * len(latencies))) - 1)]
        MEASURED["GET /count against moto, hand-out->answer ms (n=%d)" % self.N] = (
            "median %.2f, p99 %.2f, max %.2f" % (statistics.median(latencies), p99, latencies[-1]))
        self.check_logs(rt)


if __name__ == "__main__":
    unittest.main(verbosity=2)
