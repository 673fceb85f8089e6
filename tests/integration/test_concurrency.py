#!/usr/bin/env python3
"""Concurrency integration tests: many keep-alive clients counting at once lose no visit, and every
visit gets its own total.

Run: FOOTFALL_BIN=build/footfall python3 tests/integration/test_concurrency.py
"""

import collections
import os
import sys
import tempfile
import threading
import time
import traceback
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import FootfallServer, api_count, connect, db_snapshot, do_request  # noqa: E402

CLIENTS = 64
REQUESTS_PER_CLIENT = 500
RUN_DEADLINE_S = 180.0


def run_clients(port, clients, per_client, make_target, deadline_s=RUN_DEADLINE_S,
                read_every=0):
    """Runs `clients` threads, each with its own persistent connection, sending `per_client`
    GETs. Returns a list (per client) of dicts: statuses, counts, reads, error."""
    barrier = threading.Barrier(clients)
    results = [None] * clients
    stop_at = time.monotonic() + deadline_s

    def client(idx):
        res = {"statuses": [], "counts": [], "reads": [], "error": None}
        results[idx] = res
        conn = connect(port)
        try:
            barrier.wait(timeout=30)
            for i in range(per_client):
                if time.monotonic() > stop_at:
                    res["error"] = "client deadline reached"
                    return
                r = do_request(conn, "GET", make_target(idx, i))
                res["statuses"].append(r.status)
                if r.status != 200:
                    res["error"] = f"request {i}: {r!r}"
                    return
                res["counts"].append(r.json()["count"])
                if read_every and i % read_every == 0:
                    rr = do_request(conn, "GET", "/api/count")
                    if rr.status != 200:
                        res["error"] = f"/api/count: {rr!r}"
                        return
                    res["reads"].append((res["counts"][-1], rr.json()["count"]))
        except Exception:
            res["error"] = traceback.format_exc(limit=3)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}")
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, stop_at - time.monotonic() + 30))
    alive = [t.name for t in threads if t.is_alive()]
    if alive:
        raise AssertionError(f"client threads still running after the deadline: {alive[:5]}")
    return results


class ConcurrencyTest(unittest.TestCase):

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="footfall-it-")
        self.addCleanup(self._tmp.cleanup)
        self.db_path = os.path.join(self._tmp.name, "footfall.db")

    def test_64_clients_x_500_counts(self):
        total = CLIENTS * REQUESTS_PER_CLIENT
        with FootfallServer(db_path=self.db_path) as srv:
            t0 = time.monotonic()
            results = run_clients(srv.port, CLIENTS, REQUESTS_PER_CLIENT,
                                  lambda c, i: f"/count?path=/c/{c % 8}")
            elapsed = time.monotonic() - t0
            errors = [(i, r["error"]) for i, r in enumerate(results) if r["error"]]
            self.assertEqual(errors, [], f"{len(errors)} clients failed; first: {errors[:3]}")
            statuses = collections.Counter(s for r in results for s in r["statuses"])
            self.assertEqual(statuses, collections.Counter({200: total}))
            counts = [c for r in results for c in r["counts"]]
            self.assertEqual(len(counts), total)
            self.assertEqual(len(set(counts)), total, "two visits were given the same total")
            self.assertEqual(set(counts), set(range(1, total + 1)),
                             "the totals returned are not exactly 1..N")
            for idx, r in enumerate(results):
                seq = r["counts"]
                self.assertTrue(all(a < b for a, b in zip(seq, seq[1:])),
                                f"client {idx}: totals went backwards on one connection")
            self.assertEqual(api_count(srv.port), total)
            self.assertEqual(db_snapshot(self.db_path), (total, total))
        # stopped with exit 0: every request log line has been flushed
        logged = [e for e in srv.stderr_events() if e.get("route") == "/count"]
        batches = [e.get("batch") for e in logged]
        print(f"\n  {total} visits from {CLIENTS} clients in {elapsed:.1f}s "
              f"({total / elapsed:.0f} req/s); max batch {max(batches, default=0)}",
              file=sys.stderr)
        self.assertEqual(len(logged), total, "not one request log line per GET /count")
        self.assertEqual(sum(1 for e in logged if e.get("status") == 200), total)
        self.assertEqual(db_snapshot(self.db_path), (total, total))
        self.assertEqual(harness.db_integrity(self.db_path), ["ok"])
        conn = harness.db_connect_ro(self.db_path)
        try:
            paths = conn.execute(
                "SELECT path, COUNT(*) FROM visits GROUP BY path ORDER BY path").fetchall()
        finally:
            conn.close()
        self.assertEqual(paths, [(f"/c/{k}", total // 8) for k in range(8)])

    def test_reads_see_own_writes_under_load(self):
        clients, per_client = 16, 200
        with FootfallServer(db_path=self.db_path) as srv:
            results = run_clients(srv.port, clients, per_client, lambda c, i: "/count",
                                  read_every=1)
            errors = [(i, r["error"]) for i, r in enumerate(results) if r["error"]]
            self.assertEqual(errors, [], f"first errors: {errors[:3]}")
            for idx, r in enumerate(results):
                for wrote, read in r["reads"]:
                    self.assertGreaterEqual(read, wrote,
                                            f"client {idx}: /api/count {read} after own visit "
                                            f"got total {wrote}")
                reads = [rd for _, rd in r["reads"]]
                self.assertTrue(all(a <= b for a, b in zip(reads, reads[1:])),
                                f"client {idx}: /api/count went backwards")
            total = clients * per_client
            self.assertEqual(api_count(srv.port), total)
            self.assertEqual(db_snapshot(self.db_path), (total, total))


if __name__ == "__main__":
    harness.run_tests()
