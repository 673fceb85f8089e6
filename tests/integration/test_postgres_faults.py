#!/usr/bin/env python3
"""`footfall serve --store postgres://…` with the fault proxy (tests/tools/fault_proxy.py) between
it and a real PostgreSQL 15 (tests/integration/pg.py): connections refused, reset at the next
bytes, stalled (read and never answered), truncated answers, and slow answers.

For every fault that breaks the connection (checks in fault_checks.py): the process stays up;
/count answers 503 store_unavailable with Retry-After within its deadline; /readyz says not ready;
the outage is one log line when it begins and one when it ends, and shows in /metrics; once the
proxy passes traffic again, /count answers 200 within RECOVERY_S. A delay of 200 ms per exchange is
not a fault: every /count still answers 200, slower. At the end the counter equals the visit rows
(nothing counted twice) and covers every acknowledged visit (nothing acknowledged lost).
(SIGSTOP of the server and its restart are in test_postgres.py.)"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
from harness import FootfallServer, request, run_tests  # noqa: E402
from pg import PostgresServer  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402
from fault_checks import FaultChecks, metric  # noqa: E402

DELAY_MS = 200


class PostgresFaultsTest(FaultChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()
        try:
            cls.pg.start()
            cls.direct = cls.pg.create_database("faults")
            cls.proxy = FaultProxy(upstream=("127.0.0.1", cls.pg.port)).start()
        except BaseException:
            cls.pg.cleanup()
            raise
        cls.uri = f"postgres://postgres@127.0.0.1:{cls.proxy.port}/faults"

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.pg.cleanup()

    def stored(self):
        """(sum of counter_shards, rows in visits), read in one snapshot, past the proxy."""
        row = self.pg.query(self.direct, "SELECT (SELECT COALESCE(sum(count), 0) FROM "
                                         "counter_shards), (SELECT count(*) FROM visits)")
        counter, rows = row.split("|")
        return int(counter), int(rows)

    def test_every_fault_gives_503_then_recovers_without_losing_or_doubling(self):
        acknowledged = 0
        with FootfallServer(store=self.uri, extra_args=["--metrics-public", "true"]) as srv:
            for _ in range(3):
                self.assertEqual(request(srv.port, "GET", "/count").status, 200)
                acknowledged += 1
            for label, mode in (("refuse", "refuse"), ("reset", "reset"),
                                ("truncate", "truncate"), ("stall", "stall")):
                with self.subTest(fault=label):
                    self.run_fault(srv, label, mode)
                    acknowledged += 1  # wait_for_count_200's visit

            # Slow is not down: each exchange 200 ms late, every visit still counted.
            self.proxy.set_mode("delay", delay_ms=DELAY_MS)
            latencies = []
            for _ in range(3):
                started = time.monotonic()
                self.assertEqual(request(srv.port, "GET", "/count").status, 200)
                latencies.append(time.monotonic() - started)
                acknowledged += 1
            self.proxy.set_mode("pass")
            self.assertGreaterEqual(min(latencies), DELAY_MS / 1000)
            self.measured["delay 200 ms"] = (round(max(latencies), 2), 0)

            metrics = request(srv.port, "GET", "/metrics").body.decode()
            self.assertEqual(metric(metrics, "footfall_escaped_exceptions_total"), 0)
            self.assertEqual(metric(metrics, "footfall_store_ready"), 1)
        counter, rows = self.stored()
        self.assertEqual(counter, rows, "the counter and the visit rows disagree")
        self.assertGreaterEqual(rows, acknowledged)
        self.report_measured()


if __name__ == "__main__":
    run_tests()
