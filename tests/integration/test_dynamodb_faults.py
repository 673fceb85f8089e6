#!/usr/bin/env python3
"""`footfall serve --store dynamodb://…` with a real fault proxy (tests/tools/fault_proxy.py)
between it and a real moto server: refused and reset connections, a stalled server, truncated
answers, and well-formed HTTP answers with hostile bodies (wrong JSON types, missing fields, not an
object, an HTML 500 page, 10 MB, invalid UTF-8, throttling, garbage).

For every fault: the process stays up; /count answers 503 store_unavailable with Retry-After
within its deadline; /readyz says not ready; the outage is one "store unavailable" log line (not a
line per failed call) and shows in /metrics; once the proxy passes traffic again, /count answers
200 within RECOVERY_S; and at the end the counter equals the visits stored (nothing counted twice)
and at least every acknowledged visit (nothing acknowledged lost)."""
import os
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
from harness import FootfallServer, footfall_bin, request, run_tests  # noqa: E402
from test_serve_dynamodb import CREDENTIALS, Moto  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402
from fault_checks import FaultChecks, metric  # noqa: E402

import boto3  # noqa: E402

# A well-formed answer without an Item: a GetItem of the counter takes it as DynamoDB's own "no
# counter yet" (0), so a readiness probe succeeds through it; a visit still gets 503. (A 10 MB
# answer is over the client's 4 MB limit, announced or not: unavailable.)
ANSWERS_WITHOUT_ITEM = {"http missing_fields"}
HOSTILE_PRESETS = ["wrong_types", "missing_fields", "not_object", "html_500", "huge",
                   "invalid_utf8", "throttle", "garbage"]


def set_up_table_behind_proxy(cls, table):
    """A moto server with footfall's `table` migrated on it, a fault proxy in front (`cls.proxy`),
    the store URI through the proxy (`cls.uri`) and a boto3 client straight to moto."""
    cls.moto = Moto()
    cls.table = table
    direct = f"dynamodb://{table}?region=us-east-1&endpoint={cls.moto.endpoint}"
    migrated = subprocess.run([footfall_bin(), "migrate", "--store", direct],
                              env={**os.environ, **CREDENTIALS}, capture_output=True, text=True)
    if migrated.returncode != 0:
        cls.moto.stop()
        raise AssertionError(f"footfall migrate failed: {migrated.stderr}")
    cls.proxy = FaultProxy(upstream=("127.0.0.1", cls.moto.port))
    cls.proxy.start()
    cls.uri = f"dynamodb://{table}?region=us-east-1&endpoint=http://127.0.0.1:{cls.proxy.port}"
    cls.dynamodb = boto3.client("dynamodb", endpoint_url=cls.moto.endpoint,
                                region_name="us-east-1", aws_access_key_id="testing",
                                aws_secret_access_key="testing")


class DynamoDbFaultsTest(FaultChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        set_up_table_behind_proxy(cls, "footfall-faults")

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.moto.stop()

    def table_state(self):
        items = []
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=self.table,
                                                                 ConsistentRead=True):
            items.extend(page["Items"])
        visits = [i for i in items if "timestamp" in i]
        total = next((int(i["count"]["N"]) for i in items if i["visit_id"]["S"] == "total"), 0)
        return len(visits), total

    def test_every_fault_gives_503_then_recovers_without_losing_or_doubling(self):
        self.measured = {}
        acknowledged = 0
        with FootfallServer(store=self.uri, env=CREDENTIALS,
                            extra_args=["--metrics-public", "true"]) as srv:
            for _ in range(3):
                self.assertEqual(request(srv.port, "GET", "/count").status, 200)
                acknowledged += 1
            faults = [("refuse", "refuse", {}), ("reset", "reset", {}),
                      ("truncate", "truncate", {}), ("stall", "stall", {})]
            faults += [(f"http {p}", "http", {"preset": p}) for p in HOSTILE_PRESETS]
            # Announces 100 GB and sends 2 bytes: refused at the header, nothing allocated.
            faults.append(("http length bomb", "http",
                           {"body": b"{}", "content_length": 100_000_000_000}))
            for label, mode, params in faults:
                with self.subTest(fault=label):
                    self.run_fault(srv, label, mode,
                                   probe_may_succeed=label in ANSWERS_WITHOUT_ITEM, **params)
                    acknowledged += 1  # wait_for_count_200's visit
            metrics = request(srv.port, "GET", "/metrics").body.decode()
            self.assertEqual(metric(metrics, "footfall_escaped_exceptions_total"), 0)
        visits, total = self.table_state()
        self.assertEqual(total, visits, "the counter and the visits stored disagree")
        self.assertGreaterEqual(total, acknowledged)
        self.report_measured()


class DriftTest(unittest.TestCase):
    """What a store cannot repair is never silent: a `drift` line naming the visit ids, and a
    metric. (Its own table: these tests leave the counter and the visits disagreeing.)"""

    @classmethod
    def setUpClass(cls):
        set_up_table_behind_proxy(cls, "footfall-drift")

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.moto.stop()

    def setUp(self):
        self.proxy.set_mode("pass")

    def drift_lines(self, srv, kind, at_least=1):
        # A drift is reported once the store has given up: for aggregates, after the two
        # background attempts that follow the answer, each up to 8 throttled calls with
        # backoffs of up to 1 s (about 7 s of backoff at worst, 3.5 s on average, plus the calls
        # themselves on a loaded machine: a 5 s wait was once too short, 2026-12-06).
        deadline = time.monotonic() + 30
        while True:
            lines = [e for e in srv.stderr_events()
                     if isinstance(e, dict) and e.get("event") == "drift" and e.get("kind") == kind]
            if len(lines) >= at_least or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def stored_ids(self):
        ids = set()
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=self.table,
                                                                 ConsistentRead=True):
            ids.update(i["visit_id"]["S"] for i in page["Items"] if "timestamp" in i)
        return ids

    def test_aggregates_that_cannot_be_written_are_reported_by_visit_id(self):
        with FootfallServer(store=self.uri, env=CREDENTIALS,
                            extra_args=["--metrics-public", "true"]) as srv:
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            before = self.stored_ids()
            self.proxy.set_mode("http", preset="throttle",
                                only_targets=["BatchGetItem", "TransactWriteItems"])
            # The visit and the counter are stored; only the statistics miss it.
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            lines = self.drift_lines(srv, "aggregates_short")
            self.assertEqual(len(lines), 1, lines)
            new = self.stored_ids() - before
            self.assertEqual(len(new), 1)
            self.assertEqual(lines[0]["visit_ids"], sorted(new))
            self.assertIn("Throttling", lines[0]["error"])
            metrics = request(srv.port, "GET", "/metrics").body.decode()
            self.assertEqual(metric(metrics, "footfall_store_drift_aggregates_short_visits_total"), 1)
            self.assertNotIn("127.0.0.1", str(lines))

    def test_a_failed_take_back_of_the_counter_is_reported_by_visit_id(self):
        with FootfallServer(store=self.uri, env=CREDENTIALS,
                            extra_args=["--metrics-public", "true"]) as srv:
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            before_ids = self.stored_ids()
            # The visit's PutItem hangs while the counter's ADD goes through; then both fail, so
            # the PutItem fails for good and the ADD that should take the count back fails too.
            self.proxy.set_mode("stall", only_targets=["PutItem"])
            relayed = self.proxy.stats()["bytes_to_client"]
            answer = {}
            thread = threading.Thread(
                target=lambda: answer.setdefault("r", request(srv.port, "GET", "/count")))
            thread.start()
            deadline = time.monotonic() + 10
            while self.proxy.stats()["bytes_to_client"] == relayed:  # the ADD's answer
                self.assertLess(time.monotonic(), deadline, "the counter's ADD never answered")
                time.sleep(0.01)
            self.proxy.set_mode("http", preset="throttle", only_targets=["PutItem", "UpdateItem"])
            thread.join(30)
            self.assertEqual(answer["r"].status, 503, answer["r"].body)
            lines = self.drift_lines(srv, "total_ahead")
            self.assertEqual(len(lines), 1, lines)
            self.assertEqual(len(lines[0]["visit_ids"]), 1)
            # The visit named was never stored; the counter holds it.
            self.assertNotIn(lines[0]["visit_ids"][0], self.stored_ids())
            self.assertEqual(self.stored_ids(), before_ids)
            metrics = request(srv.port, "GET", "/metrics").body.decode()
            self.assertEqual(metric(metrics, "footfall_store_drift_total_ahead_visits_total"), 1)


if __name__ == "__main__":
    run_tests()
