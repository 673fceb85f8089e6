#!/usr/bin/env python3
"""`footfall serve --store dynamodb://…`: the self-hosted server on DynamoDB (a real moto server,
tests/tools/moto_server_atomic.py), over real HTTP: counting, concurrency with an exact total,
the items in the table, and a store that goes away (503 quickly, readiness false, no leak)."""
import concurrent.futures
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FootfallServer, HarnessError, REPO_ROOT, footfall_bin, request,  # noqa: E402
                     run_tests, _die_with_parent)

sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "tools"))
import moto_server_atomic  # noqa: E402

import boto3  # noqa: E402

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_SESSION_TOKEN": "testing-session", "AWS_REGION": "us-east-1"}


class Moto:
    """moto_server_atomic.py on a port the OS chose when moto bound it (no pick-then-bind race);
    it listens when the constructor returns. Raises HarnessError if it does not start."""

    def __init__(self):
        try:
            self.proc, self.port = moto_server_atomic.launch(
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=_die_with_parent, deadline_s=30)
        except RuntimeError as error:
            raise HarnessError(str(error)) from None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class ServeOnDynamoDbTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = Moto()
        cls.table = "footfall-serve"
        cls.uri = f"dynamodb://{cls.table}?region=us-east-1&endpoint={cls.moto.endpoint}"
        migrated = subprocess.run([footfall_bin(), "migrate", "--store", cls.uri],
                                  env={**os.environ, **CREDENTIALS}, capture_output=True, text=True)
        if migrated.returncode != 0:
            raise HarnessError(f"footfall migrate failed: {migrated.stderr}")
        cls.dynamodb = boto3.client("dynamodb", endpoint_url=cls.moto.endpoint,
                                    region_name="us-east-1", aws_access_key_id="testing",
                                    aws_secret_access_key="testing")

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def items(self):
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.table)
        return [item for page in pages for item in page["Items"]]

    def test_counts_exactly_and_stores_the_seed_items(self):
        with FootfallServer(store=self.uri, env=CREDENTIALS) as srv:
            first = request(srv.port, "GET", "/count?path=/blog/post",
                            headers={"Origin": "https://a.example"})
            self.assertEqual(first.status, 200, first.body)
            base = first.json()["count"]
            self.assertEqual(first.header("Access-Control-Allow-Origin"), "https://a.example")

            def visit(_):
                return request(srv.port, "GET", "/count").json()["count"]

            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                counts = list(pool.map(visit, range(320)))
            self.assertEqual(sorted(counts), list(range(base + 1, base + 321)))
            self.assertEqual(request(srv.port, "GET", "/api/count").json()["count"], base + 320)
            self.assertEqual(request(srv.port, "GET", "/readyz").status, 200)

        items = self.items()
        # Visit items are the ones with a timestamp (the rest: counters, salts, aggregates).
        visits = [i for i in items if "timestamp" in i]
        total = next(i for i in items if i["visit_id"]["S"] == "total")
        self.assertEqual(int(total["count"]["N"]), len(visits))
        self.assertIn("/blog/post", {v["path"]["S"] for v in visits})
        self.assertTrue(any(i["visit_id"]["S"].startswith("salt#") for i in items))
        self.assertTrue(any(i["visit_id"]["S"].startswith("agg#") for i in items))
        for v in visits:
            self.assertNotIn("127.0.0.1", str(v))

    def test_store_going_away_gives_quick_503_and_not_ready(self):
        other = Moto()
        uri = f"dynamodb://gone?region=us-east-1&endpoint={other.endpoint}"
        subprocess.run([footfall_bin(), "migrate", "--store", uri],
                       env={**os.environ, **CREDENTIALS}, check=True, capture_output=True)
        with FootfallServer(store=uri, env=CREDENTIALS) as srv:
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            other.stop()
            started = time.monotonic()
            response = request(srv.port, "GET", "/count")
            elapsed = time.monotonic() - started
            self.assertEqual(response.status, 503, response.body)
            self.assertEqual(response.json()["error"], "store_unavailable")
            self.assertEqual(response.header("Retry-After"), "1")
            self.assertNotIn("127.0.0.1", response.body.decode())
            # Connection refused is never-sent: retried with back-off until the call budget
            # (10 s) or 8 attempts, whichever first — not a hang.
            self.assertLess(elapsed, 11.0)
            self.assertEqual(request(srv.port, "GET", "/readyz").status, 503)
            self.assertEqual(request(srv.port, "GET", "/healthz").status, 200)


if __name__ == "__main__":
    run_tests()
