#!/usr/bin/env python3
"""Salts are deleted after 48 hours whatever the traffic, on AWS: the real `footfall lambda`
runtime, its wall clock moved by libfaketime, against the Runtime API fixture and a real moto
server, and nobody visits on the days that matter.

  day D (2026-12-01 12:00 UTC)  one REST (payload 1.0) visit: D's salt item is stored
  D+2 (2026-12-03 12:00)        a new runtime (a new execution environment) gets EventBridge's
                                scheduled event, no visit: within a minute of its start D's salt
                                item is gone, no byte of the salt (raw, hex, base64 in any
                                alignment) is in a full scan of the table, and nothing in the
                                table recomputes the day-D visit's stored visitor hash
  D+3 (2026-12-04 12:00)        the same again, with nothing left to delete

The clock: tests/tools/salt_deletion.py, as tests/integration/test_salts_without_traffic.py moves
serve's (LD_PRELOAD of libfaketimeMT, FAKETIME="@<date>", the monotonic clock left real). The
runtime reads an invocation's deadline (Lambda-Runtime-Deadline-Ms, epoch milliseconds) against
its wall clock, so each event is queued with a deadline in the runtime's faked time. moto runs on
the real clock and does not check the signatures' dates. Raw visits are not pruned here: on
DynamoDB the table's TTL deletes them (moto never runs TTL), so the day-D visit stays and its
hash must lead nowhere.

Uses the helpers of test_lambda_runtime.py (its moto server, runtime and fixture plumbing, and
its module setup and teardown, which keep the runtimes' output and moto's table dump for the
privacy audit). Always the build's binary (FOOTFALL_BIN): the preload needs the process itself,
not a launcher. Nothing is skipped: without libfaketime, moto, boto3 or the binary it fails.

Run: FOOTFALL_BIN=build/footfall python3 tests/lambda/test_lambda_salts_clock.py
"""

import base64
import json
import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_lambda_runtime as trt  # noqa: E402  (puts tests/tools on sys.path)

import artifacts  # noqa: E402
import runtime_api_fixture as raf  # noqa: E402
from salt_deletion import epoch_s, fake_clock, visitor_hash  # noqa: E402

DAY_D = "2026-12-01"
DAY_D_NUMBER = 20788  # days since 1970-01-01 of DAY_D
GONE_WITHIN_S = 60.0
SCHEDULED = "eventbridge_scheduled.json"
DEADLINE_AFTER_MS = 30000


def setUpModule():
    trt.setUpModule()


def tearDownModule():
    trt.tearDownModule()


def attribute_bytes(attribute):
    """Every value of a boto3 attribute, as bytes: binaries raw, everything else as text."""
    (kind, content), = attribute.items()
    if kind == "B":
        return [bytes(content)]
    if kind == "BS":
        return [bytes(b) for b in content]
    if kind == "M":
        return [b for value in content.values() for b in attribute_bytes(value)]
    if kind == "L":
        return [b for value in content for b in attribute_bytes(value)]
    if kind in ("SS", "NS"):
        return [v.encode() for v in content]
    return [str(content).encode()]


def item_json(item):
    """A boto3 item as DynamoDB's JSON (binaries as base64), as moto's dump for the audit has it."""
    def convert(value):
        (kind, content), = value.items()
        if kind == "B":
            return {"B": base64.b64encode(bytes(content)).decode()}
        if kind == "BS":
            return {"BS": [base64.b64encode(bytes(b)).decode() for b in content]}
        if kind == "M":
            return {"M": {k: convert(v) for k, v in content.items()}}
        if kind == "L":
            return {"L": [convert(v) for v in content]}
        if kind in ("SS", "NS"):
            return {kind: list(content)}
        return {kind: content}
    return {name: convert(value) for name, value in item.items()}


def table_dump(items):
    """A full scan of a table as bytes: every value raw (binaries as they are), then every item
    as a JSON line."""
    values = [v for item in items for attribute in item.values()
              for v in attribute_bytes(attribute)]
    lines = [json.dumps(item_json(item), sort_keys=True).encode() for item in items]
    return b"\n".join(values + lines)


def salt_forms(salt):
    """What would betray `salt` in a dump: its raw bytes, its hex, and its base64 in each of the
    three alignments it could have inside a longer binary value (the characters that depend on
    the salt's bytes alone)."""
    forms = {"raw": salt, "hex": salt.hex().encode()}
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + salt)
        forms[f"base64 (offset {pad})"] = encoded[4:-4]
    return forms


class LambdaSaltsClockTest(trt.LambdaRuntimeTestCase):

    def start_on(self, table, at):
        """A runtime for `table` whose wall clock starts at `at` (UTC)."""
        env = fake_clock(at)
        rt = self.start_runtime(table=table, extra_env=env, argv=[trt.footfall_bin(), "lambda"])
        rt.fake_start_s, rt.real_start_s = epoch_s(at), time.time()
        artifacts.mark_faked_clock(f"footfall lambda (pid {rt.proc.pid}) with "
                                   f"FAKETIME={env['FAKETIME']}")
        return rt

    def invoke_on(self, rt, event):
        """invoke() with a deadline the runtime's faked clock puts DEADLINE_AFTER_MS ahead."""
        fake_now_ms = (rt.fake_start_s + time.time() - rt.real_start_s) * 1000
        return self.invoke(rt, event, timeout=20,
                           deadline_ms=int(fake_now_ms + DEADLINE_AFTER_MS))

    def maintain(self, rt, expected_deleted):
        res = self.invoke_on(rt, SCHEDULED)
        self.assertEqual((res["kind"], res["status"]), ("response", 202), raf.jsonable(res))
        self.assertEqual(res["body_json"], {"salts_deleted": expected_deleted, "visits_pruned": 0})
        self.assertLess(time.monotonic() - rt.started_mono, GONE_WITHIN_S,
                        "maintenance answered over a minute after the runtime started")

    def invocation_lines(self, rt, count):
        return [json.loads(raw) for raw in rt.wait_lines(count)]

    def assert_salt_gone(self, table, salt, stored_hash):
        """No salt item, no form of `salt` anywhere in a full scan, and no binary value of the
        table (the only kind a salt is stored as) recomputes `stored_hash`."""
        items = self.scan(table)
        self.assertEqual([i["visit_id"]["S"] for i in items
                          if i["visit_id"]["S"].startswith("salt#")], [])
        dump = table_dump(items)
        for form, needle in salt_forms(salt).items():
            self.assertNotIn(needle, dump, f"day D's salt ({form}) is still in the table")
        keys = [v for item in items for attribute in item.values()
                if next(iter(attribute)) in ("B", "BS") for v in attribute_bytes(attribute)]
        self.assertEqual([k for k in keys
                          if visitor_hash(k, trt.CLIENT_IP, self.user_agent, trt.SITE)
                          == stored_hash], [])
        return items

    def test_a_salt_is_gone_two_days_later_without_a_visit(self):
        table = self.migrate(self.new_table_name())
        visit_event = trt.load_event_json(trt.V1_GET)
        self.user_agent = visit_event["headers"]["User-Agent"]

        # Day D: one visit through a REST event.
        rt = self.start_on(table, f"{DAY_D} 12:00:00")
        res = self.invoke_on(rt, visit_event)
        out = res["body_json"]
        self.assertEqual((out["statusCode"], json.loads(out["body"])),
                         (200, {"count": 1, "message": trt.COUNT_MESSAGE}), raf.jsonable(res))
        [visit], total, [salt_item] = self.table_state(table)
        self.assertEqual(total, 1)
        self.assertTrue(visit["timestamp"]["S"].startswith(DAY_D), "the clock was not moved")
        self.assertEqual(salt_item["visit_id"]["S"], f"salt#{DAY_D_NUMBER}")
        salt = bytes(salt_item["salt"]["B"])
        stored_hash = visit["visitor"]["S"]
        # With the salt, the stored hash leads back to the address: what deletion must prevent.
        self.assertEqual(visitor_hash(salt, trt.CLIENT_IP, self.user_agent, trt.SITE),
                         stored_hash)
        self.assert_no_client_data(rt)
        rt.stop()

        # D+2, no visit: the scheduled event deletes D's salt.
        rt = self.start_on(table, "2026-12-03 12:00:00")
        self.maintain(rt, expected_deleted=1)
        items = self.assert_salt_gone(table, salt, stored_hash)
        # The visit itself stays until TTL: its hash is kept, and leads nowhere now.
        self.assertIn(stored_hash, [i["visitor"]["S"] for i in items if "visitor" in i])
        [line] = self.invocation_lines(rt, 1)
        self.assertEqual((line.get("route"), line.get("salts_deleted"), line.get("Errors", 0)),
                         ("maintenance", 1, 0), line)
        self.assert_no_client_data(rt)
        rt.stop()

        # D+3, no visit: nothing left to delete, and still nothing there.
        rt = self.start_on(table, "2026-12-04 12:00:00")
        self.maintain(rt, expected_deleted=0)
        self.assert_salt_gone(table, salt, stored_hash)
        self.assert_no_client_data(rt)
        rt.stop()

        # The logs of all three never carried the salt either.
        for runtime in self.runtimes:
            logs = runtime.stdout() + runtime.stderr()
            for form, needle in salt_forms(salt).items():
                self.assertNotIn(needle, logs, f"a log carries day D's salt ({form})")


if __name__ == "__main__":
    unittest.main(verbosity=2)
