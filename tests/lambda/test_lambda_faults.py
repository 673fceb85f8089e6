#!/usr/bin/env python3
"""`footfall lambda` (through the Runtime API fixture) with a real fault proxy
(tests/tools/fault_proxy.py) between it and moto: every fault the proxy can inject on DynamoDB's
side — refused and reset connections, truncated answers, and well-formed HTTP with hostile bodies
(wrong JSON types, missing fields, not an object, an HTML 500 page, 10 MB, invalid UTF-8,
throttling, garbage) — gets each invocation answered before its deadline with 503
store_unavailable, the runtime stays up (no crash, no exit, no init error), its log keeps one line
per invocation, and the next invocation after the fault counts again.

Stalls are covered by test_lambda_runtime.py's DeadlineTest (a silent endpoint)."""
import json
import os
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
import test_lambda_runtime as trt  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

# Generous next to the store's retries (8 attempts with back-off, ~2-3 s): the answer must come
# before the deadline, whatever the fault.
DEADLINE_MS = 8000
FAULTS = [("refuse", {}), ("reset", {}), ("truncate", {})] + [
    ("http", {"preset": p}) for p in ("wrong_types", "missing_fields", "not_object", "html_500",
                                      "huge", "invalid_utf8", "throttle", "garbage")] + [
    # A length bomb: 100 GB announced, 2 bytes sent.
    ("http", {"body": b"{}", "content_length": 100_000_000_000})]


def setUpModule():
    trt.setUpModule()


def tearDownModule():
    trt.tearDownModule()


class LambdaUnderDynamoDbFaultsTest(trt.LambdaRuntimeTestCase):

    def test_every_fault_is_answered_in_time_and_the_runtime_recovers(self):
        table = self.migrate(self.new_table_name())
        with FaultProxy(upstream=("127.0.0.1", trt.MOTO.port)) as proxy:
            rt = self.start_runtime(table=table, endpoint="http://127.0.0.1:%d" % proxy.port)
            self.assert_count_response(rt, trt.V1_GET, 1)
            counted = 1
            for mode, params in FAULTS:
                label = "%s %s" % (mode, params.get("preset", params.get("content_length", "")))
                with self.subTest(fault=label):
                    proxy.set_mode(mode, **params)
                    status, _, body, res = self.invoke_http(rt, trt.V1_GET,
                                                            timeout_ms=DEADLINE_MS, timeout=20)
                    self.assertEqual(status, 503, "%s: %r" % (label, body))
                    self.assertEqual(body.get("error"), "store_unavailable", label)
                    margin = res["deadline_ms"] - res["completed_at"] * 1000.0
                    self.assertGreater(margin, 0, "%s: answered after the deadline" % label)
                    self.assertIsNone(rt.proc.poll(), "%s: the runtime exited" % label)
                    proxy.set_mode("pass")
                    # A fault may leave the counter one ahead of what was answered (an ADD
                    # applied whose answer was lost): read what it holds, then count on.
                    _, total, _ = self.table_state(table)
                    counted = total
                    counted += 1
                    self.assert_count_response(rt, trt.V1_GET, counted)
            visits, total, _ = self.table_state(table)
            self.assertEqual(total, len(visits), "the counter and the visits stored disagree")
            self.check_logs(rt)
            self.assertNotIn(b"exception_escaped", rt.stderr())

    def test_a_failed_take_back_of_the_counter_is_the_metric_StoreDriftVisits(self):
        # As test_dynamodb_faults.py's DriftTest for serve: the visit's PutItem hangs while the
        # counter's ADD goes through, then both are throttled, so the visit is never stored and
        # the ADD -1 that takes its count back fails too. The invocation's line carries
        # StoreDriftVisits (the module's store-drift alarm), stderr the drift line.
        table = self.migrate(self.new_table_name())
        with FaultProxy(upstream=("127.0.0.1", trt.MOTO.port)) as proxy:
            rt = self.start_runtime(table=table, endpoint="http://127.0.0.1:%d" % proxy.port)
            self.assert_count_response(rt, trt.V1_GET, 1)
            proxy.set_mode("stall", only_targets=["PutItem"])
            relayed = proxy.stats()["bytes_to_client"]
            answer = {}
            thread = threading.Thread(target=lambda: answer.setdefault("r", self.invoke_http(
                rt, trt.V1_GET, timeout_ms=DEADLINE_MS, timeout=20)))
            thread.start()
            deadline = time.monotonic() + 10
            while proxy.stats()["bytes_to_client"] == relayed:  # the ADD's answer
                self.assertLess(time.monotonic(), deadline, "the counter's ADD never answered")
                time.sleep(0.01)
            proxy.set_mode("http", preset="throttle", only_targets=["PutItem", "UpdateItem"])
            thread.join(30)
            self.assertEqual(answer["r"][0], 503, answer["r"][2])
            proxy.set_mode("pass")
            lines = [json.loads(raw) for raw in rt.wait_lines(2)]
            self.assertNotIn("StoreDriftVisits", lines[0])
            self.assertEqual(lines[1]["StoreDriftVisits"], 1, lines[1])
            drift = [json.loads(line) for line in rt.stderr().splitlines()
                     if b'"event":"drift"' in line]
            self.assertEqual([(d["kind"], len(d["visit_ids"])) for d in drift],
                             [("total_ahead", 1)])
            self.check_logs(rt)


if __name__ == "__main__":
    unittest.main(verbosity=2)
