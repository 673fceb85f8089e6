#!/usr/bin/env python3
"""Crash integration tests: a server SIGKILLed while clients hammer GET /count loses no visit it
acknowledged with a 200, stores no visit that was never sent, and keeps counter == rows (3 long
cycles, and 20 kills at random moments with every visit tracked by a unique path); a server
SIGKILLed during its first start leaves no database or a complete one, never a half-made one; a
server SIGTERMed under load finishes in-flight requests and exits 0.

Run: FOOTFALL_BIN=build/footfall python3 tests/integration/test_crash.py
"""

import collections
import http.client
import os
import random
import select
import signal
import socket
import subprocess
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

CLIENTS = 32
KILL_AFTER_S = 1.5          # stop the server this long after the clients started ...
KILL_AFTER_OKS = 20000      # ... or once this many 200s arrived, whichever comes first
MIN_OKS_BEFORE_KILL = 50    # but never before some visits were acknowledged
WARMUP_DEADLINE_S = 20.0
CYCLES = 3
RANDOM_KILLS = 20
RANDOM_KILL_CLIENTS = 16
RANDOM_KILL_DELAY_S = (0.02, 0.6)   # kill this long after the load started, uniformly at random
RANDOM_KILL_SEED = int(os.environ.get("FOOTFALL_CRASH_SEED", "20261125"))
FIRST_START_KILLS = 20
FIRST_START_KILL_DELAY_S = (0.0, 0.02)  # covers exec, the database's creation and its opening


class Hammer:
    """CLIENTS threads sending GET /count on keep-alive connections until stopped. Each thread
    counts requests sent (incremented before a request goes out) and 200s received."""

    def __init__(self, port, clients=CLIENTS):
        self.port = port
        self.stop = threading.Event()
        self.expect_failures = threading.Event()  # set just before the server is stopped
        self.stats = [{"sent": 0, "ok": 0, "counts": [], "statuses": {}, "error": None,
                       "failure_after_stop": None} for _ in range(clients)]
        self.threads = [threading.Thread(target=self._run, args=(i,), name=f"hammer-{i}",
                                         daemon=True) for i in range(clients)]

    def start(self):
        self.started = time.monotonic()
        for t in self.threads:
            t.start()

    def _run(self, idx):
        st = self.stats[idx]
        conn = connect(self.port, timeout=10)
        try:
            while not self.stop.is_set():
                st["sent"] += 1
                try:
                    r = do_request(conn, "GET", f"/count?path=/crash/{idx % 4}")
                except (OSError, http.client.HTTPException) as e:
                    if self.expect_failures.is_set():
                        st["failure_after_stop"] = type(e).__name__
                        return  # the server is gone: this client is done
                    st["error"] = f"before the server was stopped: {e!r}\n" + \
                        traceback.format_exc(limit=2)
                    return
                st["statuses"][r.status] = st["statuses"].get(r.status, 0) + 1
                if r.status == 200:
                    st["ok"] += 1
                    st["counts"].append(r.json()["count"])
                elif not self.expect_failures.is_set():
                    st["error"] = f"unexpected response before the stop: {r!r}"
                    return
        except Exception:
            st["error"] = traceback.format_exc(limit=3)
        finally:
            conn.close()

    def oks(self):
        return sum(s["ok"] for s in self.stats)

    def wait_for_trigger(self):
        deadline = self.started + WARMUP_DEADLINE_S
        while True:
            now = time.monotonic()
            oks = self.oks()
            if oks >= KILL_AFTER_OKS or (now - self.started >= KILL_AFTER_S
                                         and oks >= MIN_OKS_BEFORE_KILL):
                return
            errors = [s["error"] for s in self.stats if s["error"]]
            if errors:
                raise AssertionError(f"client failed before the stop: {errors[0]}")
            if now > deadline:
                raise AssertionError(f"only {oks} visits acknowledged in {WARMUP_DEADLINE_S}s")
            time.sleep(0.02)  # polling a counter, not waiting for a fixed time

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
        alive = [t.name for t in self.threads if t.is_alive()]
        if alive:
            raise AssertionError(f"client threads did not stop: {alive[:5]}")
        errors = [s["error"] for s in self.stats if s["error"]]
        if errors:
            raise AssertionError(f"{len(errors)} clients failed; first: {errors[0]}")
        return (sum(s["sent"] for s in self.stats), self.oks(),
                [c for s in self.stats for c in s["counts"]])

    def failure_kinds(self):
        kinds = {}
        for s in self.stats:
            k = s["failure_after_stop"] or "none"
            kinds[k] = kinds.get(k, 0) + 1
        return kinds


class MarkedLoad:
    """Clients sending GET /count?path=<unique marker> on keep-alive connections until the server
    dies. Each remembers every marker it sent (before sending) and every one that got a 200."""

    def __init__(self, port, prefix, clients):
        self.port = port
        self.prefix = prefix
        self.killed = threading.Event()  # set just before the server is killed
        self.stats = [{"sent": [], "acked": [], "error": None} for _ in range(clients)]
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True,
                                         name=f"marked-{i}") for i in range(clients)]

    def start(self):
        for t in self.threads:
            t.start()

    def _run(self, idx):
        st = self.stats[idx]
        conn = connect(self.port, timeout=10)
        try:
            n = 0
            while True:
                marker = f"{self.prefix}/{idx}/{n}"
                n += 1
                st["sent"].append(marker)
                try:
                    r = do_request(conn, "GET", "/count?path=" + marker)
                except (OSError, http.client.HTTPException) as e:
                    if not self.killed.is_set():
                        st["error"] = f"before the kill: {e!r}"
                    return
                if r.status == 200:
                    st["acked"].append(marker)
                elif not self.killed.is_set():
                    st["error"] = f"unexpected response before the kill: {r!r}"
                    return
        except Exception:
            st["error"] = traceback.format_exc(limit=3)
        finally:
            conn.close()

    def finish(self):
        for t in self.threads:
            t.join(timeout=30)
        alive = [t.name for t in self.threads if t.is_alive()]
        if alive:
            raise AssertionError(f"client threads did not stop after the kill: {alive[:5]}")
        errors = [s["error"] for s in self.stats if s["error"]]
        if errors:
            raise AssertionError(f"{len(errors)} clients failed; first: {errors[0]}")
        return ({m for s in self.stats for m in s["sent"]},
                {m for s in self.stats for m in s["acked"]})


def stored_markers(db_path, prefix):
    conn = harness.db_connect_ro(db_path)
    try:
        return {row[0] for row in conn.execute(
            "SELECT path FROM visits WHERE substr(path, 1, ?) = ?", (len(prefix) + 1, prefix + "/"))}
    finally:
        conn.close()


class CrashTest(unittest.TestCase):

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="footfall-it-")
        self.addCleanup(self._tmp.cleanup)
        self.db_path = os.path.join(self._tmp.name, "footfall.db")

    def check_store(self, port, base, sent, oks, counts, what):
        stored = api_count(port)
        counter, rows = db_snapshot(self.db_path)
        added = stored - base
        msg = (f"{what}: base {base}, stored {stored} (+{added}), 200s received {oks}, "
               f"requests sent {sent}, counter {counter}, rows {rows}")
        print(f"\n  {msg}", file=sys.stderr)
        self.assertEqual(counter, stored, msg)
        self.assertEqual(counter, rows, msg)
        self.assertGreaterEqual(added, oks, "acknowledged visits were lost: " + msg)
        self.assertLessEqual(added, sent, "more visits stored than requests sent: " + msg)
        self.assertEqual(len(set(counts)), len(counts), "two visits got the same total: " + msg)
        if counts:
            self.assertLessEqual(max(counts), stored,
                                 "a total acknowledged before the crash is not stored: " + msg)
            self.assertGreater(min(counts), base, msg)
        self.assertEqual(harness.db_integrity(self.db_path), ["ok"], msg)
        return stored

    def test_sigkill_under_load_loses_no_acknowledged_visit(self):
        srv = FootfallServer(db_path=self.db_path)
        srv.start()
        self.addCleanup(srv.cleanup)
        base = api_count(srv.port)
        self.assertEqual(base, 0)
        for cycle in range(1, CYCLES + 1):
            hammer = Hammer(srv.port)
            hammer.start()
            try:
                hammer.wait_for_trigger()
            finally:
                hammer.expect_failures.set()
                code = srv.kill()
                sent, oks, counts = hammer.finish()
            self.assertEqual(code, -9, f"cycle {cycle}: exit status {code}, expected SIGKILL")
            srv = FootfallServer(db_path=self.db_path)
            srv.start()
            self.addCleanup(srv.cleanup)
            base = self.check_store(srv.port, base, sent, oks, counts, f"kill cycle {cycle}")
            self.assertGreater(oks, 0)
        # the recovered server still counts, and stops cleanly
        after = harness.request(srv.port, "GET", "/count")
        self.assertEqual(after.status, 200, after)
        self.assertEqual(after.json()["count"], base + 1)
        srv.stop(expect_code=0)
        self.assertEqual(db_snapshot(self.db_path), (base + 1, base + 1))

    def test_sigkill_20_times_at_random_moments_loses_no_acknowledged_visit(self):
        rng = random.Random(RANDOM_KILL_SEED)
        t0 = time.monotonic()
        srv = FootfallServer(db_path=self.db_path)
        srv.start()
        self.addCleanup(srv.cleanup)
        rounds = []
        for kill in range(1, RANDOM_KILLS + 1):
            prefix = f"/kill{kill}"
            load = MarkedLoad(srv.port, prefix, RANDOM_KILL_CLIENTS)
            delay = rng.uniform(*RANDOM_KILL_DELAY_S)
            load.start()
            try:
                time.sleep(delay)  # the random moment is the point of the test
            finally:
                load.killed.set()
                code = srv.kill()
            sent, acked = load.finish()
            self.assertEqual(code, -9, f"kill {kill}: exit status {code}")
            srv = FootfallServer(db_path=self.db_path)
            srv.start()
            self.addCleanup(srv.cleanup)
            stored = stored_markers(self.db_path, prefix)
            counter, rows = db_snapshot(self.db_path)
            what = (f"kill {kill} after {delay:.3f}s (seed {RANDOM_KILL_SEED}): sent {len(sent)}, "
                    f"acknowledged {len(acked)}, stored {len(stored)}; counter {counter}, "
                    f"rows {rows}")
            rounds.append((len(acked), len(stored), len(sent)))
            lost = acked - stored
            self.assertEqual(sorted(lost)[:5], [], f"{len(lost)} acknowledged visits lost: {what}")
            unsent = stored - sent
            self.assertEqual(sorted(unsent)[:5], [], f"visits stored that were never sent: {what}")
            self.assertEqual(counter, rows, what)
            self.assertEqual(harness.api_count(srv.port), counter, what)
            self.assertEqual(harness.db_integrity(self.db_path), ["ok"], what)
        elapsed = time.monotonic() - t0
        srv.stop(expect_code=0)
        print(f"\n  {RANDOM_KILLS} random kills (seed {RANDOM_KILL_SEED}) in {elapsed:.1f}s; "
              "acknowledged/stored/sent per kill: "
              + " ".join(f"{a}/{s}/{n}" for a, s, n in rounds), file=sys.stderr)
        self.assertGreater(sum(a for a, _, _ in rounds), 0, "no visit was ever acknowledged")

    def test_sigkill_during_first_start_leaves_no_half_made_database(self):
        # A first start builds the database beside its path and renames it into place whole
        # (store/sqlite/new_database.h). Killed at any moment of that start, it leaves either no
        # database or a complete one (at most a stray "footfall.db.new-*" beside it), and the next
        # start serves from 1.
        rng = random.Random(RANDOM_KILL_SEED)
        outcomes = collections.Counter()
        for attempt in range(FIRST_START_KILLS):
            directory = os.path.join(self._tmp.name, f"first-start-{attempt}")
            os.mkdir(directory)
            db_path = os.path.join(directory, "footfall.db")
            proc = subprocess.Popen(FootfallServer(db_path=db_path).argv, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    cwd=directory, env=harness.server_env(),
                                    preexec_fn=harness._die_with_parent)
            time.sleep(rng.uniform(*FIRST_START_KILL_DELAY_S))
            proc.kill()
            proc.wait()
            names = sorted(os.listdir(directory))
            what = f"kill {attempt}: files {names}"
            if "footfall.db" in names:
                self.assertEqual(harness.db_integrity(db_path), ["ok"], what)
                outcomes["complete database"] += 1
            else:
                outcomes["no database"] += 1
            strays = [n for n in names if n not in ("footfall.db", "footfall.db-wal",
                                                    "footfall.db-shm")]
            if strays:
                outcomes["stray .new-* file"] += 1
            for name in strays:
                self.assertTrue(name.startswith("footfall.db.new-"), what)
            with FootfallServer(db_path=db_path) as srv:
                r = harness.request(srv.port, "GET", "/count")
                self.assertEqual(r.status, 200, what)
                self.assertEqual(r.json()["count"], 1, what)
            self.assertEqual(harness.db_integrity(db_path), ["ok"], what)
        print(f"\n  {FIRST_START_KILLS} kills during a first start: {dict(outcomes)}",
              file=sys.stderr)

    def test_sigterm_under_load_finishes_in_flight_and_exits_0(self):
        srv = FootfallServer(db_path=self.db_path)
        srv.start()
        self.addCleanup(srv.cleanup)
        hammer = Hammer(srv.port)
        hammer.start()
        try:
            hammer.wait_for_trigger()
        finally:
            hammer.expect_failures.set()
            code = srv.stop(expect_code=None)
            sent, oks, counts = hammer.finish()
        self.assertEqual(code, 0, "SIGTERM under load: exit status " + str(code)
                         + "\n" + srv.stderr_text()[-3000:])
        statuses = {}
        for s in hammer.stats:
            for k, v in s["statuses"].items():
                statuses[k] = statuses.get(k, 0) + v
        self.assertTrue(set(statuses) <= {200, 503},
                        f"unexpected statuses during shutdown: {statuses}")
        print(f"\n  SIGTERM under load: statuses {statuses}; how each client's last request "
              f"ended: {hammer.failure_kinds()}", file=sys.stderr)
        with FootfallServer(db_path=self.db_path) as srv2:
            self.check_store(srv2.port, 0, sent, oks, counts, "SIGTERM under load")

    def test_sigterm_with_idle_connections_exits_promptly(self):
        with tempfile.TemporaryDirectory(prefix="footfall-it-") as tmp:
            srv = FootfallServer(db_path=os.path.join(tmp, "footfall.db"))
            srv.start()
            self.addCleanup(srv.cleanup)
            idle = [connect(srv.port) for _ in range(8)]
            for c in idle:  # keep-alive connections, open and idle after one visit
                self.assertEqual(do_request(c, "GET", "/count").status, 200)
            silent = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            partial = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            partial.sendall(b"GET /count?path=/partial HTTP/1.1\r\nHost: x\r\n")  # no end
            t0 = time.monotonic()
            code = srv.stop(expect_code=None)
            elapsed = time.monotonic() - t0
            self.assertEqual(code, 0, srv.stderr_text()[-3000:])
            self.assertLess(elapsed, 5.0, "SIGTERM waited for idle/unfinished connections")
            for s in (silent, partial):
                s.close()
            for c in idle:
                c.close()
            self.assertEqual(db_snapshot(srv.db_path), (8, 8))

    def test_sigterm_right_after_listening_exits_0(self):
        # The "listening" line tells a supervisor the server is up; a SIGTERM sent at once must
        # still be a graceful stop (exit 0), not the default action of the signal (-15). The line
        # is read straight from the pipe (no drain thread) so the signal follows it within
        # microseconds, as a fast supervisor's would.
        tries = 40
        codes = []
        for _ in range(tries):
            argv = FootfallServer(db_path=self.db_path).argv
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, cwd=self._tmp.name,
                                    env=harness.server_env(), preexec_fn=harness._die_with_parent)
            try:
                line = self._read_listening_line(proc, harness.START_DEADLINE_S)
                proc.send_signal(signal.SIGTERM)
                codes.append(proc.wait(timeout=harness.STOP_DEADLINE_S))
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stderr.close()
            self.assertIn(b'"listening"', line)
        bad = [c for c in codes if c != 0]
        if bad:
            self.fail(f"{len(bad)}/{tries} servers SIGTERMed right after their 'listening' line "
                      f"did not exit 0 (exit statuses {sorted(set(bad))}; -15 = killed by the "
                      "signal's default action, i.e. no handler installed yet)")
        self.assertEqual(harness.db_integrity(self.db_path), ["ok"])

    @staticmethod
    def _read_listening_line(proc, deadline_s):
        fd = proc.stderr.fileno()
        buf = b""
        deadline = time.monotonic() + deadline_s
        while True:
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                event = harness._json_line(line)
                if event is not None and event.get("msg") == "listening":
                    return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no 'listening' line within {deadline_s}s: {buf!r}")
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError(f"server exited before listening "
                                         f"(exit {proc.wait()}): {buf!r}")
                buf += chunk

if __name__ == "__main__":
    harness.run_tests()
