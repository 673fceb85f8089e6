#!/usr/bin/env python3
"""SQLite faults other than a full disk (test_disk_full.py), with the real binary and file:

- locked: another process holds the database's write lock (`BEGIN EXCLUSIVE` from Python's
  sqlite3, as an operator's sqlite3 shell or a backup tool would). Checks of fault_checks.py: 503
  store_unavailable with Retry-After within the deadline, /readyz not ready, one log line when the
  outage begins and one when it ends, recovery within RECOVERY_S of the lock's release, nothing
  lost or counted twice.
- read-only: the database's directory on a read-only mount (a read-only bind mount of a
  writable directory; root, as in CI). footfall cannot keep its promises there (WAL mode writes
  beside the file), so `serve` exits at start with one line that says why.

Run: FOOTFALL_BIN=build/footfall python3 tests/integration/test_sqlite_faults.py
"""
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_checks import FaultChecks, metric  # noqa: E402
from harness import FootfallServer, db_snapshot, footfall_bin, request, run_tests, server_env  # noqa: E402


class WriteLock:
    """The fault "proxy" of fault_checks.py for a SQLite file: set_mode("locked") takes the
    database's write lock from another connection (another process's view: SQLite locks are
    POSIX file locks), set_mode("pass") releases it."""

    def __init__(self, db_path):
        self.db_path = db_path
        self.connection = None

    def set_mode(self, mode):
        if mode == "locked" and self.connection is None:
            self.connection = sqlite3.connect(self.db_path, isolation_level=None, timeout=10)
            self.connection.execute("BEGIN EXCLUSIVE")
        elif mode == "pass" and self.connection is not None:
            self.connection.execute("ROLLBACK")
            self.connection.close()
            self.connection = None


class SqliteFaultsTest(FaultChecks, unittest.TestCase):

    def test_a_locked_database_gives_503_then_recovers_without_losing_or_doubling(self):
        with FootfallServer(extra_args=["--metrics-public", "true"]) as srv:
            self.proxy = WriteLock(srv.db_path)
            self.addCleanup(self.proxy.set_mode, "pass")
            for _ in range(3):
                self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            self.run_fault(srv, "locked by another process", "locked")
            metrics = request(srv.port, "GET", "/metrics").body.decode()
            self.assertEqual(metric(metrics, "footfall_escaped_exceptions_total"), 0)
            srv.stop()
            # 3 before, 1 after the lock; the 503 stored nothing.
            self.assertEqual(db_snapshot(srv.db_path), (4, 4))
        self.report_measured()

    def test_a_read_only_directory_stops_serve_at_start_with_one_clear_line(self):
        if os.geteuid() != 0:
            self.fail("this test needs root to bind-mount a directory read-only (CI runs as root)")
        writable = tempfile.mkdtemp(prefix="footfall-it-rw-")
        self.addCleanup(os.rmdir, writable)
        read_only = tempfile.mkdtemp(prefix="footfall-it-ro-")
        self.addCleanup(os.rmdir, read_only)
        db = os.path.join(writable, "footfall.db")
        self.addCleanup(lambda: [os.remove(p) for p in (db, db + "-wal", db + "-shm")
                                 if os.path.exists(p)])
        subprocess.run([footfall_bin(), "migrate", "--store", f"sqlite:{db}"], check=True,
                       capture_output=True, env=server_env())
        for argv in (["mount", "--bind", writable, read_only],
                     ["mount", "-o", "remount,bind,ro", read_only]):
            done = subprocess.run(argv, capture_output=True, text=True)
            if done.returncode != 0:
                subprocess.run(["umount", read_only], capture_output=True)
                self.fail(f"{' '.join(argv)}: {done.stderr.strip()}")
        self.addCleanup(subprocess.run, ["umount", read_only], capture_output=True)
        done = subprocess.run([footfall_bin(), "serve", "--listen", "127.0.0.1:0", "--store",
                               f"sqlite:{os.path.join(read_only, 'footfall.db')}"],
                              capture_output=True, text=True, env=server_env(), timeout=30)
        self.assertEqual(done.returncode, 1, done.stderr)
        lines = done.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, done.stderr)
        self.assertIn("read-only file system", lines[0])
        self.assertIn(read_only, lines[0])


if __name__ == "__main__":
    run_tests()
