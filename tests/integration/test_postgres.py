#!/usr/bin/env python3
"""`footfall serve --store postgres://…` against a real PostgreSQL 15 (tests/integration/pg.py):
two instances on one database count exactly and hash visitors alike; PostgreSQL stopped mid-load
gives quick 503s with Retry-After and not-ready, the server recovers by itself, and every 200 is
stored; bad connection strings fail at start with one line; concurrent starts migrate once; a
version 1 database upgrades keeping its visits and counter. The aggregates always agree with the
visit rows.

Run: FOOTFALL_BIN=build/footfall python3 tests/integration/test_postgres.py
"""

import collections
import os
import subprocess
import sys
import threading
import time
import traceback
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (FootfallServer, api_count, connect, do_request, footfall_bin,  # noqa: E402
                     request, run_tests, server_env, _die_with_parent)
from pg import PostgresServer, client_env, free_port  # noqa: E402

USER_AGENT = "footfall-postgres-test/1"
CLIENT_DEADLINE_S = 60.0


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(text):
    print(f"\n  {text}", file=sys.stderr, flush=True)


class Hammer:
    """`clients` threads, each with its own keep-alive connection to one of `ports` (spread
    round-robin), sending GET /count until stop() or `per_client` requests. Every response is
    kept as (start, end, status, error code, Retry-After); a socket error is kept too and the
    client reconnects, so an outage never ends a client early."""

    def __init__(self, ports, clients, per_client=None):
        self.ports = list(ports)
        self.clients = clients
        self.per_client = per_client
        self.results = [[] for _ in range(clients)]
        self.failures = [[] for _ in range(clients)]
        self._stop = threading.Event()
        self._barrier = threading.Barrier(clients + 1)
        self._threads = [threading.Thread(target=self._run, args=(i,), name=f"client-{i}",
                                          daemon=True) for i in range(clients)]

    def start(self):
        for thread in self._threads:
            thread.start()
        self._barrier.wait(timeout=30)
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CLIENT_DEADLINE_S)
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            raise AssertionError(f"client threads still running: {alive[:5]}")

    def join(self):
        deadline = time.monotonic() + CLIENT_DEADLINE_S
        for thread in self._threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        self.stop()

    def _run(self, idx):
        port = self.ports[idx % len(self.ports)]
        out = self.results[idx]
        conn = connect(port)
        self._barrier.wait(timeout=30)
        stop_at = time.monotonic() + CLIENT_DEADLINE_S
        try:
            while not self._stop.is_set() and time.monotonic() < stop_at:
                if self.per_client is not None and len(out) >= self.per_client:
                    return
                started = time.monotonic()
                try:
                    r = do_request(conn, "GET", "/count", headers={"User-Agent": USER_AGENT})
                except Exception:  # noqa: BLE001 - recorded, and the test asserts there are none
                    self.failures[idx].append(traceback.format_exc(limit=2))
                    conn.close()
                    conn = connect(port)
                    continue
                ended = time.monotonic()
                code = retry_after = None
                if r.status != 200:
                    try:
                        code = r.json().get("error")
                    except ValueError:
                        code = r.body[:100]
                    retry_after = r.header("Retry-After")
                out.append((started, ended, r.status, code, retry_after))
        finally:
            conn.close()

    def responses(self):
        return [r for per_client in self.results for r in per_client]

    def all_failures(self):
        return [f for per_client in self.failures for f in per_client]


class PostgresTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()
        started = time.monotonic()
        try:
            cls.pg.start()
        except BaseException:
            cls.pg.cleanup()
            raise
        report(f"PostgreSQL 15 on 127.0.0.1:{cls.pg.port} (pid {cls.pg.pid}) started in "
               f"{time.monotonic() - started:.1f}s")

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    def setUp(self):
        # A test that stopped PostgreSQL and failed before restarting it must not break the next.
        if not self.pg.running:
            self.pg.restart()

    def stored(self, uri):
        """(sum of counter_shards, rows in visits), read in one snapshot."""
        row = self.pg.query(uri, "SELECT (SELECT COALESCE(sum(count), 0) FROM counter_shards), "
                                 "(SELECT count(*) FROM visits)")
        counter, rows = row.split("|")
        return int(counter), int(rows)

    def aggregated(self, uri):
        """(site-wide views in page_views, in hourly_stats), summed over their shards."""
        row = self.pg.query(uri, "SELECT (SELECT COALESCE(sum(views), 0) FROM page_views "
                                 "WHERE path = ''), (SELECT COALESCE(sum(views), 0) FROM "
                                 "hourly_stats WHERE path = '')")
        pages, hours = row.split("|")
        return int(pages), int(hours)

    # -- a) several instances, one database
    def test_two_instances_on_one_database_count_exactly(self):
        uri = self.pg.create_database("two_instances")
        clients, per_client = 32, 400
        sent = clients * per_client
        with FootfallServer(store=uri) as a, FootfallServer(store=uri) as b:
            started = time.monotonic()
            hammer = Hammer([a.port, b.port], clients, per_client).start()
            hammer.join()
            elapsed = time.monotonic() - started
            self.assertEqual(hammer.all_failures(), [])
            statuses = collections.Counter(r[2] for r in hammer.responses())
            self.assertEqual(statuses, collections.Counter({200: sent}))
            self.assertEqual(api_count(a.port), sent)
            self.assertEqual(api_count(b.port), sent)
            self.assertEqual(request(a.port, "GET", "/readyz").status, 200)
            self.assertEqual(request(b.port, "GET", "/readyz").status, 200)
            # Two connections per instance (the writer's and the reader's), whatever the load.
            connections = self.pg.query(uri, "SELECT count(*) FROM pg_stat_activity WHERE "
                                             "datname = current_database() AND "
                                             "pid <> pg_backend_pid()")
            self.assertEqual(connections, "4")
        self.assertEqual(self.stored(uri), (sent, sent))
        # One client (address, user agent, site) hashes the same on both instances: the daily
        # salt is shared through the database. (Two hashes only if the test spans midnight UTC.)
        visitors, days = self.pg.query(
            uri, "SELECT count(DISTINCT visitor), "
                 "count(DISTINCT (timestamp AT TIME ZONE 'UTC')::date) FROM visits").split("|")
        self.assertEqual(int(visitors), int(days))
        self.assertEqual(self.pg.query(uri, "SELECT count(*) FROM daily_salts"), days)
        shards_used = int(self.pg.query(uri, "SELECT count(*) FROM counter_shards WHERE count > 0"))
        self.assertGreater(shards_used, 1, "every batch went to the same counter shard")
        # The aggregates were written with the visits, sharded the same way: nothing lost, no
        # visitor counted twice as new on one day.
        self.assertEqual(self.aggregated(uri), (sent, sent))
        self.assertEqual(self.pg.query(uri, "SELECT sum(new_visitors) FROM hourly_stats "
                                            "WHERE path = ''"), days)
        self.assertGreater(int(self.pg.query(uri, "SELECT count(DISTINCT shard) FROM page_views")),
                           1, "every batch went to the same page_views shard")
        report(f"2 instances, {clients} clients: {sent} visits in {elapsed:.1f}s "
               f"({sent / elapsed:.0f} req/s), all 200, stored {sent}; "
               f"{shards_used} of 16 counter shards used")

    # -- b) PostgreSQL stopped mid-load and started again
    def test_postgres_restart_mid_load_503s_quickly_then_recovers_and_keeps_every_200(self):
        uri = self.pg.create_database("outage")
        with FootfallServer(store=uri) as srv:
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            hammer = Hammer([srv.port], clients=8).start()
            self.wait_until(lambda: sum(r[2] == 200 for r in hammer.responses()) >= 50, 10,
                            "50 visits answered 200 before the outage")
            time.sleep(1.0)

            stopped_at = time.monotonic()
            self.pg.stop()
            down_at = time.monotonic()
            self.wait_until(lambda: request(srv.port, "GET", "/readyz").status == 503, 5,
                            "/readyz 503 while PostgreSQL is down")
            self.assertEqual(request(srv.port, "GET", "/healthz").status, 200)
            self.wait_until(lambda: sum(r[2] == 503 and r[0] >= down_at
                                        for r in hammer.responses()) >= 20, 5,
                            "20 visits answered 503 while PostgreSQL is down")
            time.sleep(max(0.0, down_at + 1.5 - time.monotonic()))
            self.assertEqual(request(srv.port, "GET", "/readyz").status, 503)

            self.pg.restart()
            up_at = time.monotonic()
            self.wait_until(lambda: request(srv.port, "GET", "/readyz").status == 200, 5,
                            "/readyz 200 after PostgreSQL came back")
            ready_after = time.monotonic() - up_at
            self.wait_until(lambda: any(r[2] == 200 and r[0] >= up_at
                                        for r in hammer.responses()), 5,
                            "a visit answered 200 after PostgreSQL came back")
            first_200 = min(r[1] for r in hammer.responses() if r[2] == 200 and r[0] >= up_at)
            time.sleep(1.0)
            hammer.stop()
            served = api_count(srv.port)

        responses = hammer.responses()
        self.assertEqual(hammer.all_failures(), [], "socket errors instead of answers")
        statuses = collections.Counter(r[2] for r in responses)
        self.assertEqual(set(statuses), {200, 503}, f"statuses: {statuses}")
        unavailable = [r for r in responses if r[2] == 503]
        self.assertEqual({(r[3], r[4]) for r in unavailable}, {("store_unavailable", "1")},
                         "every 503 is store_unavailable with Retry-After: 1")
        # 503s come from the outage only, not from before it or long after it.
        self.assertTrue(all(stopped_at <= r[1] and r[0] <= first_200 for r in unavailable),
                        "a 503 outside the outage")
        latencies = [r[1] - r[0] for r in unavailable]
        p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
        self.assertLess(p99, 1.0, f"503s are slow while PostgreSQL is down: p99 {p99:.3f}s")

        oks = statuses[200] + 1  # + the first request
        counter, rows = self.stored(uri)
        self.assertEqual(counter, rows, "counter and visit rows disagree")
        self.assertEqual(self.aggregated(uri), (counter, counter),
                         "aggregates and visit rows disagree")
        self.assertGreaterEqual(counter, oks, "a visit answered 200 is not stored")
        self.assertLessEqual(counter, len(responses) + 1, "more stored than requested")
        self.assertEqual(served, counter)
        report(f"outage {up_at - down_at:.1f}s: {statuses[200]} x 200, {statuses[503]} x 503 "
               f"(p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max "
               f"{max(latencies) * 1000:.1f} ms); /readyz 200 {ready_after * 1000:.0f} ms and "
               f"first /count 200 {(first_200 - up_at) * 1000:.0f} ms after PostgreSQL was "
               f"ready; stored {counter} >= {oks} answered 200 "
               f"({counter - oks} ambiguous: stored, answered 503)")

    def wait_until(self, predicate, deadline_s, what):
        deadline = time.monotonic() + deadline_s
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail(f"not within {deadline_s}s: {what}")
            time.sleep(0.02)

    def test_first_requests_after_postgres_restarted_while_idle_are_not_503(self):
        # Regression test: a connection that PostgreSQL closed while footfall was idle (a restart,
        # a failover, idle_session_timeout, a proxy's idle timeout) failed the next batch and the
        # next read with 503 although the database was up; nothing had been sent on it, so a
        # fresh connection can be used at once.
        uri = self.pg.create_database("idle_restart")
        with FootfallServer(store=uri) as srv:
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            self.assertEqual(request(srv.port, "GET", "/readyz").status, 200)
            self.pg.restart()
            time.sleep(0.3)  # more than the store's reconnect interval (250 ms)
            readyz = request(srv.port, "GET", "/readyz")
            count = request(srv.port, "GET", "/count")
            self.assertEqual((readyz.status, count.status), (200, 200),
                             f"/readyz {readyz.body!r}, /count {count.body!r}")
        self.assertEqual(self.stored(uri), (2, 2))

    def test_lock_wait_gives_503_within_the_request_budget(self):
        # Regression test: the store ignored the request deadline and set no statement or lock
        # timeout, so a lock held elsewhere (VACUUM FULL, ALTER TABLE, LOCK) or a hung server
        # held every /count until it was released, instead of a quick 503 with Retry-After.
        uri = self.pg.create_database("lock_wait")
        with FootfallServer(store=uri) as srv:
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            locker = subprocess.Popen(
                self.pg.psql_argv("lock_wait") + [
                    "-c", "BEGIN; LOCK TABLE counter_shards IN ACCESS EXCLUSIVE MODE; "
                          "SELECT pg_sleep(60); COMMIT;"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**client_env(), "PGAPPNAME": "footfall-test-locker"},
                preexec_fn=_die_with_parent)
            try:
                self.wait_until(lambda: self.pg.query(
                    uri, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                         "WHERE c.relname = 'counter_shards' AND l.mode = 'AccessExclusiveLock' "
                         "AND l.granted") == "1", 10, "the test's lock is held")
                started = time.monotonic()
                conn = connect(srv.port, timeout=15)
                try:
                    r = do_request(conn, "GET", "/count")
                    answer = (r.status, r.json().get("error"), r.header("Retry-After"))
                except OSError as error:
                    answer = f"no answer: {error!r}"
                finally:
                    conn.close()
                elapsed = time.monotonic() - started
            finally:
                self.pg.query(uri, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE application_name = 'footfall-test-locker'")
                locker.wait(timeout=10)
            self.assertEqual(answer, (503, "store_unavailable", "1"))
            self.assertLess(elapsed, 11.0)
            self.wait_until(lambda: request(srv.port, "GET", "/count").status == 200, 5,
                            "/count 200 once the lock is gone")
        counter, rows = self.stored(uri)
        self.assertEqual(counter, rows)

    def test_frozen_server_gives_503_within_the_request_budget(self):
        # Regression test: statement_timeout is enforced by the server, so a server that stops
        # answering while keeping its connections open (a frozen VM, a network that drops
        # packets; here SIGSTOP) held /count and /readyz until it came back, past the 10 s
        # budget of a request.
        uri = self.pg.create_database("frozen")
        with FootfallServer(store=uri) as srv:
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            self.assertEqual(request(srv.port, "GET", "/readyz").status, 200)
            answers = {}

            def ask(path):
                started = time.monotonic()
                conn = connect(srv.port, timeout=15)
                try:
                    r = do_request(conn, "GET", path)
                    answers[path] = (r.status, r.json().get("error"), r.header("Retry-After"),
                                     time.monotonic() - started < 11.0)
                except OSError as error:
                    answers[path] = f"no answer after {time.monotonic() - started:.1f}s: {error!r}"
                finally:
                    conn.close()

            self.pg.pause()
            try:
                askers = [threading.Thread(target=ask, args=(path,)) for path in
                          ("/count", "/readyz")]
                for t in askers:
                    t.start()
                for t in askers:
                    t.join(timeout=30)
            finally:
                self.pg.resume()
            self.assertEqual(answers, {"/count": (503, "store_unavailable", "1", True),
                                       "/readyz": (503, "store_unavailable", "1", True)})
            self.wait_until(lambda: request(srv.port, "GET", "/count").status == 200, 10,
                            "/count 200 once the server answers again")
        counter, rows = self.stored(uri)
        self.assertEqual(counter, rows)

    # -- c) bad connection strings
    def run_footfall(self, *args, timeout=15):
        started = time.monotonic()
        done = subprocess.run([footfall_bin(), *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, env=server_env(), timeout=timeout,
                              preexec_fn=_die_with_parent)
        return done, time.monotonic() - started

    def test_bad_connection_strings_fail_at_start_with_one_clear_line(self):
        closed = free_port()
        cases = [
            ("unreachable port", f"postgres://postgres@127.0.0.1:{closed}/footfall",
             "Connection refused"),
            ("malformed URI", "postgres://%zz", 'invalid percent-encoded token: "%zz"'),
            ("unknown database", self.pg.uri("no_such_database"),
             'database "no_such_database" does not exist'),
            ("unknown role", f"postgres://nobody@127.0.0.1:{self.pg.port}/postgres",
             'role "nobody" does not exist'),
            ("unknown parameter", self.pg.uri() + "?colour=blue",
             'invalid URI query parameter: "colour"'),
            ("wrong scheme", f"mysql://postgres@127.0.0.1:{self.pg.port}/postgres",
             "unknown store URI"),
        ]
        for name, uri, reason in cases:
            for command in (["serve", "--listen", "127.0.0.1:0"], ["migrate"]):
                with self.subTest(case=name, command=command[0]):
                    done, elapsed = self.run_footfall(*command, "--store", uri)
                    self.assertNotEqual(done.returncode, 0)
                    lines = done.stderr.splitlines()
                    self.assertEqual(len(lines), 1, f"stderr is not one line: {done.stderr!r}")
                    self.assertIn(reason, lines[0])
                    self.assertTrue(lines[0].startswith("footfall: "), lines[0])
                    self.assertEqual(done.stdout, "")
                    self.assertLess(elapsed, 5.0)

    def test_password_in_the_store_uri_is_never_printed(self):
        # Regression test: the start-up error and `migrate`'s success line printed the URI as
        # given, password included (the "listening" line already masks it).
        secret = "s3cret-pw"
        closed = free_port()
        failing = f"postgres://postgres:{secret}@127.0.0.1:{closed}/footfall"
        working = f"postgres://postgres:{secret}@127.0.0.1:{self.pg.port}/postgres"
        for command, uri in ((["serve", "--listen", "127.0.0.1:0"], failing),
                             (["migrate"], failing), (["migrate"], working)):
            with self.subTest(command=command[0], uri=uri.replace(secret, "***")):
                done, _ = self.run_footfall(*command, "--store", uri)
                self.assertNotIn(secret, done.stderr + done.stdout)
        with FootfallServer(store=working) as srv:
            self.assertEqual(request(srv.port, "GET", "/readyz").status, 200)
        self.assertNotIn(secret, srv.stderr_text())

    def test_start_on_a_migrated_database_prints_no_postgres_notice(self):
        # Regression test: `CREATE TABLE IF NOT EXISTS footfall_schema` on an existing schema
        # made libpq print 'NOTICE:  relation "footfall_schema" already exists, skipping' on
        # stderr: a non-JSON line in serve's log on every start but the first, a second line in
        # migrate's output and in start-up errors.
        uri = self.pg.create_database("notice")
        for attempt in ("first", "second"):
            with self.subTest(migrate=attempt):
                done, _ = self.run_footfall("migrate", "--store", uri)
                self.assertEqual(done.returncode, 0, done.stderr)
                self.assertEqual(done.stderr, f"footfall: {uri} is ready\n")
        with self.subTest(serve="log lines"):
            with FootfallServer(store=uri) as srv:
                self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            self.assertEqual(len(srv.stderr_events()), len(srv.stderr_lines()),
                             f"non-JSON lines in the log: {srv.stderr_text()[:500]!r}")
        self.pg.query(uri, "INSERT INTO footfall_schema (version) VALUES (1000)")
        for command in (["serve", "--listen", "127.0.0.1:0"], ["migrate"]):
            with self.subTest(newer_schema=command[0]):
                done, _ = self.run_footfall(*command, "--store", uri)
                self.assertNotEqual(done.returncode, 0)
                self.assertEqual(len(done.stderr.splitlines()), 1, done.stderr)
                self.assertIn("schema version 1000 is newer than this footfall", done.stderr)

    # -- d) concurrent starts
    def test_concurrent_migrations_and_starts_apply_each_migration_once(self):
        uri = self.pg.create_database("concurrent_migrate")
        procs = [subprocess.Popen([footfall_bin(), "migrate", "--store", uri],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=server_env(),
                                  preexec_fn=_die_with_parent) for _ in range(3)]
        outputs = [p.communicate(timeout=30) for p in procs]
        for proc, (_, err) in zip(procs, outputs):
            self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(self.pg.query(uri, "SELECT max(version), count(*) FROM footfall_schema"),
                         "4|4")
        self.assertEqual(self.pg.query(uri, "SELECT count(*), sum(count) FROM counter_shards"),
                         "16|0")

        # Three servers started at the same moment on a fresh database.
        uri = self.pg.create_database("concurrent_serve")
        servers = [FootfallServer(store=uri) for _ in range(3)]
        barrier = threading.Barrier(3)
        errors = []

        def start(server):
            try:
                barrier.wait(timeout=30)
                server.start()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=start, args=(s,)) for s in servers]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            self.assertEqual(errors, [])
            for server in servers:
                self.assertEqual(request(server.port, "GET", "/count").status, 200)
            self.assertEqual(api_count(servers[0].port), 3)
            for server in servers:
                server.stop()
        finally:
            for server in servers:
                server.cleanup()
        self.assertEqual(self.pg.query(uri, "SELECT max(version), count(*) FROM footfall_schema"),
                         "4|4")
        self.assertEqual(self.stored(uri), (3, 3))

    # -- e) upgrades
    def test_version_1_database_migrates_to_version_2_keeping_visits_and_counter(self):
        # A database as footfall with schema version 1 (no aggregates) left it.
        uri = self.pg.create_database("upgrade_v1")
        self.pg.query(uri, """
            CREATE TABLE footfall_schema (version integer NOT NULL);
            INSERT INTO footfall_schema (version) VALUES (1);
            CREATE TABLE visits (
              visit_id text PRIMARY KEY, timestamp timestamptz NOT NULL, visitor text NOT NULL,
              user_agent text NOT NULL, path text NOT NULL, referrer text NOT NULL,
              site text NOT NULL, expiration_time bigint NOT NULL);
            CREATE INDEX visits_expiration_time ON visits (expiration_time);
            CREATE TABLE counter_shards (shard integer PRIMARY KEY, count bigint NOT NULL);
            CREATE TABLE daily_salts (day integer PRIMARY KEY, salt bytea NOT NULL);
            INSERT INTO counter_shards SELECT g, CASE WHEN g = 3 THEN 2 ELSE 0 END
              FROM generate_series(0, 15) AS g;
            INSERT INTO visits VALUES
              ('019ab8f0-0000-7000-8000-000000000001', '2026-11-25T10:00:00.000Z', 'v1', 'ua',
               '/old', '', 'old.example', 4102444800),
              ('019ab8f0-0000-7000-8000-000000000002', '2026-11-25T10:01:00.000Z', 'v2', 'ua',
               '/old', '', 'old.example', 4102444800);""")
        done, _ = self.run_footfall("migrate", "--store", uri)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(self.pg.query(uri, "SELECT max(version), count(*) FROM footfall_schema"),
                         "4|4")
        self.assertEqual(self.stored(uri), (2, 2))
        self.assertEqual(self.aggregated(uri), (0, 0), "v1 visits are not counted again")
        with FootfallServer(store=uri, extra_args=["--stats-token", "s3cret"]) as srv:
            self.assertEqual(api_count(srv.port), 2)
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            self.assertEqual(api_count(srv.port), 3)
            site = self.pg.query(uri, "SELECT site FROM visits WHERE site <> 'old.example'")
            stats = request(srv.port, "GET", f"/api/stats?site={site}",
                            headers={"Authorization": "Bearer s3cret"})
            self.assertEqual(stats.status, 200, stats.body[:300])
            self.assertEqual((stats.json()["views"], stats.json()["visitor_days"]), (1, 1))
        self.assertEqual(self.stored(uri), (3, 3))
        self.assertEqual(self.aggregated(uri), (1, 1))


if __name__ == "__main__":
    run_tests()
