#!/usr/bin/env python3
"""Salts are deleted after 48 hours whatever the traffic, on SQLite and PostgreSQL: `footfall
serve` runs with its clock moved by libfaketime, and nobody visits on the days that matter.

  day D (2026-12-01 12:00 UTC)  one visit: D's salt is stored, the visit kept for 1 day
  D+2 (2026-12-03 12:00)        serve starts, no visit: within a minute D's salt is gone from
                                every file of the store (the bytes are searched for), and the
                                expired visit is pruned
  D+3 (2026-12-04 12:00)        serve starts again, no visit: still nothing
  midnight                      a salt made on D+3 at 23:59:50 is kept past midnight (it is
                                yesterday's then) and gone 30 s after the next midnight, with
                                serve running and no visit (the timer, not start-up)

The clock: LD_PRELOAD of Debian's libfaketimeMT with FAKETIME="@<date>" (footfall keeps its own
PID, unlike the `faketime` wrapper, which forks). The monotonic clock is left real
(FAKETIME_DONT_FAKE_MONOTONIC=1): footfall's timers wait on it, as they would on a real machine.
The recipe and the visitor hash are shared with the Lambda test (tests/tools/salt_deletion.py).

Run: FOOTFALL_BIN=build/footfall python3 tests/integration/test_salts_without_traffic.py
"""

import os
import sqlite3
import sys
import time
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

from harness import FootfallServer, request, run_tests  # noqa: E402
from pg import PostgresServer  # noqa: E402
from salt_deletion import fake_clock, visitor_hash  # noqa: E402

ORIGIN = "https://a.example"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) salt-test/1"
DAY_D = "2026-12-01"
DAY_D_NUMBER = 20788  # days since 1970-01-01 of DAY_D
GONE_WITHIN_S = 60.0


def visit(server):
    r = request(server.port, "GET", "/count", headers={"Origin": ORIGIN, "User-Agent": USER_AGENT})
    if r.status != 200:
        raise AssertionError(f"GET /count -> {r!r}")


def files_under(directory):
    for root, _, names in os.walk(directory):
        for name in names:
            yield os.path.join(root, name)


def files_holding(paths, needle):
    """The files among `paths` whose bytes contain `needle`."""
    found = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                if needle in f.read():
                    found.append(path)
        except FileNotFoundError:  # a file the server removed while we looked
            pass
    return found


def wait_until_gone(paths_of, needle, what):
    """Waits until no file (paths_of() is asked again each time) holds `needle`."""
    deadline = time.monotonic() + GONE_WITHIN_S
    while True:
        holders = files_holding(paths_of(), needle)
        if not holders:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} still in {holders} after {GONE_WITHIN_S:.0f} s")
        time.sleep(0.2)


def maintenance_lines(server):
    return [e for e in server.stderr_events() if e.get("msg") == "maintenance"]


class SqliteSaltsTest(unittest.TestCase):
    def setUp(self):
        self.server = None
        self.first = FootfallServer(extra_args=["--retention-days", "1"],
                                    env=fake_clock(f"{DAY_D} 12:00:00"))
        self.addCleanup(self.first.cleanup)

    def serve_on(self, at):
        server = FootfallServer(db_path=self.first.db_path, extra_args=["--retention-days", "1"],
                                env=fake_clock(at))
        self.addCleanup(server.cleanup)
        return server.start()

    def store_files(self):
        return [p for p in files_under(self.first.workdir)
                if os.path.basename(p).startswith("footfall.db")]

    def read(self, sql):
        conn = sqlite3.connect(f"file:{self.first.db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def test_a_salt_is_gone_two_days_later_without_a_visit(self):
        self.first.start()
        visit(self.first)
        [(day, salt)] = self.read("SELECT day, salt FROM daily_salts")
        self.assertEqual(day, DAY_D_NUMBER)
        [(stored_hash,)] = self.read("SELECT visitor FROM visits")
        # With the salt, the stored hash leads back to the address: what deletion must prevent.
        self.assertEqual(visitor_hash(salt, "127.0.0.1", USER_AGENT, "a.example"), stored_hash)
        self.first.stop()
        self.assertTrue(files_holding(self.store_files(), salt), "the salt is in the store")

        server = self.serve_on("2026-12-03 12:00:00")  # D+2, no visit
        wait_until_gone(self.store_files, salt, "day D's salt")
        self.assertEqual(self.read("SELECT day FROM daily_salts"), [])
        self.assertEqual(self.read("SELECT COUNT(*) FROM visits"), [(0,)], "retention pruned")
        # The stored hash stays only where it cannot be linked: the aggregates count visitors,
        # and the visit row itself was pruned.
        self.assertEqual(files_holding(self.store_files(), stored_hash.encode()), [])
        lines = maintenance_lines(server)
        self.assertEqual([(e["salts_deleted"], e["visits_pruned"]) for e in lines], [(1, 1)],
                         server.stderr_text())
        server.stop()

        server = self.serve_on("2026-12-04 12:00:00")  # D+3, no visit
        time.sleep(1)
        self.assertEqual(files_holding(self.store_files(), salt), [])
        self.assertEqual(self.read("SELECT day FROM daily_salts"), [])
        server.stop()

    def test_the_timer_deletes_a_salt_just_after_midnight(self):
        self.first.start()
        self.first.stop()
        server = self.serve_on("2026-12-04 23:59:50")
        visit(server)  # the salt of 2026-12-04
        [(day, salt)] = self.read("SELECT day, salt FROM daily_salts")
        server.stop()
        # Restarted on 12-05 just before midnight: 12-04's salt is yesterday's, and stays.
        server = self.serve_on("2026-12-05 23:59:40")
        time.sleep(2)
        self.assertEqual(self.read("SELECT day FROM daily_salts"), [(day,)])
        # 30 s after midnight (about 50 s from now), with no visit, it is gone from every file.
        deadline = time.monotonic() + 50 + GONE_WITHIN_S
        while files_holding(self.store_files(), salt):
            if time.monotonic() > deadline:
                raise AssertionError("12-04's salt outlived 12-06 00:00:30 "
                                     f"(stderr: {server.stderr_text()[-2000:]})")
            time.sleep(0.5)
        self.assertEqual(self.read("SELECT day FROM daily_salts"), [])
        server.stop()


class PostgresSaltsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()
        cls.pg.start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    def serve_on(self, uri, at):
        server = FootfallServer(store=uri, extra_args=["--retention-days", "1"],
                                env=fake_clock(at))
        self.addCleanup(server.cleanup)
        return server.start()

    def salts_left(self, uri):
        """Every salt still in the database, as bytes."""
        rows = self.pg.query(uri, "SELECT encode(salt, 'hex') FROM daily_salts")
        return [bytes.fromhex(row) for row in rows.split("\n") if row]

    def table_files(self, uri):
        """Every file of the database's directory: the salts table's heap, its old file once
        VACUUM FULL truncated it, indexes, free space maps. (pg_wal is the server's: see
        docs/design.md for what its segments keep.)"""
        oid = self.pg.query(uri, "SELECT oid FROM pg_database WHERE datname = current_database()")
        return list(files_under(os.path.join(self.pg.data_dir, "base", oid)))

    def test_a_salt_is_gone_from_the_tables_files_two_days_later(self):
        uri = self.pg.create_database("salts")
        server = self.serve_on(uri, f"{DAY_D} 12:00:00")
        visit(server)
        rows = self.pg.query(uri, "SELECT day, encode(salt, 'hex') FROM daily_salts").split("|")
        self.assertEqual(int(rows[0]), DAY_D_NUMBER)
        salt = bytes.fromhex(rows[1])
        stored_hash = self.pg.query(uri, "SELECT visitor FROM visits")
        # With the salt, the stored hash leads back to the address: what deletion must prevent.
        self.assertEqual(visitor_hash(salt, "127.0.0.1", USER_AGENT, "a.example"), stored_hash)
        server.stop()
        self.pg.psql("CHECKPOINT")  # the row reaches the table's file, as it would in time
        self.assertTrue(files_holding(self.table_files(uri), salt), "the salt is in the table")

        server = self.serve_on(uri, "2026-12-03 12:00:00")  # D+2, no visit
        deadline = time.monotonic() + GONE_WITHIN_S
        while self.pg.query(uri, "SELECT count(*) FROM daily_salts") != "0":
            self.assertLess(time.monotonic(), deadline, "day D's salt row outlived 48 h")
            time.sleep(0.2)
        self.pg.psql("CHECKPOINT")  # whatever is still in shared buffers goes to the files
        wait_until_gone(lambda: self.table_files(uri), salt, "day D's salt")
        self.assertEqual(self.pg.query(uri, "SELECT count(*) FROM visits"), "0",
                         "retention pruned")
        self.assertEqual(self.pg.query(uri, "SELECT count(*) FROM seen_visitors"), "0")
        # Nothing left in the database recomputes day D's hash: no salt row does, and D's salt is
        # in none of its files. (The hash itself may linger in dead heap tuples of visits and
        # seen_visitors until autovacuum: docs/design.md. Without the key it leads nowhere.)
        self.assertEqual([s for s in self.salts_left(uri)
                          if visitor_hash(s, "127.0.0.1", USER_AGENT, "a.example") == stored_hash],
                         [])
        server.stop()

        server = self.serve_on(uri, "2026-12-04 12:00:00")  # D+3, no visit
        time.sleep(1)
        self.pg.psql("CHECKPOINT")
        self.assertEqual(files_holding(self.table_files(uri), salt), [])
        self.assertEqual(self.salts_left(uri), [])
        server.stop()


if __name__ == "__main__":
    run_tests()
