#!/usr/bin/env python3
"""Disk full: footfall's SQLite store on a small tmpfs that a filler file fills up, so that its
writes really fail with ENOSPC. Visits then answer 503 with Retry-After (a JSON error, no engine
text), the server stays up (healthz 200), what was stored stays intact and present, and once the
filler is deleted recording works again without a restart.

Needs root (to mount the tmpfs), as in CI; without it the test fails and says so.

Run: FOOTFALL_BIN=build/footfall python3 tests/integration/test_disk_full.py
"""

import errno
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import FootfallServer, connect, db_integrity, db_snapshot, db_visits, do_request  # noqa: E402

TMPFS_SIZE = "16m"      # room for the store; the filler takes whatever is left
VISITS_BEFORE = 40
MAX_TRIES_FULL = 2000   # visits sent on the full disk before a 503 must have come
RECOVER_DEADLINE_S = 15.0


def run(argv):
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return done.returncode, done.stdout.strip()


def fill(path):
    """Writes `path` until the filesystem has no byte left. Returns the bytes written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    written = 0
    try:
        for size in (1 << 20, 4096, 1):
            block = b"\0" * size
            while True:
                try:
                    n = os.write(fd, block)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
                written += n
                if n < size:
                    break
    finally:
        os.close(fd)
    return written


class DiskFullTest(unittest.TestCase):

    def setUp(self):
        if os.geteuid() != 0:
            self.fail("test_disk_full needs root to mount a tmpfs (CI runs it as root); "
                      f"running as uid {os.geteuid()}")
        self.mnt = tempfile.mkdtemp(prefix="footfall-it-full-")
        self.addCleanup(os.rmdir, self.mnt)
        code, out = run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700",
                         "footfall-it-full", self.mnt])
        if code != 0:
            self.fail(f"cannot mount a {TMPFS_SIZE} tmpfs on {self.mnt}: {out} (exit {code})")
        self.addCleanup(self.unmount)  # runs after the server's cleanup (LIFO)
        self.db_path = os.path.join(self.mnt, "footfall.db")
        self.filler = os.path.join(self.mnt, "filler")

    def unmount(self):
        code, out = run(["umount", self.mnt])
        if code != 0:  # something still holds it: detach now, the kernel frees it when released
            code, out2 = run(["umount", "-l", self.mnt])
            if code != 0:
                raise AssertionError(f"cannot unmount {self.mnt}: {out}; {out2}")

    def visit(self, conn, path):
        return do_request(conn, "GET", f"/count?path={path}")

    def assert_clean_503(self, r):
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.header("Retry-After"), "1", r)
        self.assertEqual(r.header("Content-Type"), "application/json", r)
        self.assertEqual(r.json().get("error"), "store_unavailable", r)
        text = r.body.decode("utf-8", "replace").lower()
        for word in harness.LEAK_WORDS + ("full", "disk", "space", "enospc"):
            self.assertNotIn(word, text, r)

    def test_disk_full_answers_503_keeps_data_and_recovers_without_restart(self):
        t0 = time.monotonic()
        srv = FootfallServer(db_path=self.db_path)
        srv.start()
        self.addCleanup(srv.cleanup)
        acked = []  # paths whose visit got a 200
        conn = connect(srv.port, timeout=15)
        self.addCleanup(conn.close)
        for i in range(VISITS_BEFORE):
            r = self.visit(conn, f"/before/{i}")
            self.assertEqual(r.status, 200, r)
            acked.append(f"/before/{i}")

        filled = fill(self.filler)
        statvfs = os.statvfs(self.mnt)
        self.assertEqual(statvfs.f_bavail, 0, "the filler did not fill the tmpfs")

        # Visits on the full disk: some may still fit (SQLite reuses WAL space), then 503s.
        statuses = {}
        first_503 = None
        for i in range(MAX_TRIES_FULL):
            r = self.visit(conn, f"/full/{i}")
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.status == 200:
                acked.append(f"/full/{i}")
                continue
            self.assert_clean_503(r)
            first_503 = i
            break
        self.assertIsNotNone(first_503, f"no 503 after {MAX_TRIES_FULL} visits on a full disk: "
                             f"{statuses}")
        for i in range(20):  # it keeps refusing, cleanly, and keeps the connection usable
            r = self.visit(conn, f"/still-full/{i}")
            if r.status == 200:
                acked.append(f"/still-full/{i}")
            else:
                self.assert_clean_503(r)
            statuses[r.status] = statuses.get(r.status, 0) + 1
        self.assertTrue(srv.running, "footfall exited on a full disk:\n" + srv.stderr_text())
        health = harness.request(srv.port, "GET", "/healthz")
        self.assertEqual(health.status, 200, health)
        ready = harness.request(srv.port, "GET", "/readyz")
        self.assertIn(ready.status, (200, 503), ready)
        total = harness.request(srv.port, "GET", "/api/count")
        self.assertIn(total.status, (200, 503), total)
        if total.status == 503:
            self.assert_clean_503(total)
        self.assertEqual(db_integrity(self.db_path), ["ok"])
        stored = {v["path"] for v in db_visits(self.db_path)}
        self.assertEqual([p for p in acked if p not in stored], [],
                         "acknowledged visits missing on the full disk")

        # Free the space: recording comes back by itself.
        os.remove(self.filler)
        deadline = time.monotonic() + RECOVER_DEADLINE_S
        recovered_after = None
        i = 0
        while recovered_after is None:
            r = self.visit(conn, f"/after/{i}")
            if r.status == 200:
                acked.append(f"/after/{i}")
                recovered_after = time.monotonic() - (deadline - RECOVER_DEADLINE_S)
                break
            self.assert_clean_503(r)
            i += 1
            if time.monotonic() > deadline:
                self.fail(f"still 503 {RECOVER_DEADLINE_S}s after the filler was deleted")
            time.sleep(0.05)
        for j in range(50):
            r = self.visit(conn, f"/after-more/{j}")
            self.assertEqual(r.status, 200, r)
            acked.append(f"/after-more/{j}")
        self.assertEqual(harness.request(srv.port, "GET", "/readyz").status, 200)

        conn.close()
        srv.stop(expect_code=0)
        counter, rows = db_snapshot(self.db_path)
        stored = {v["path"] for v in db_visits(self.db_path)}
        self.assertEqual([p for p in acked if p not in stored], [], "acknowledged visits lost")
        self.assertEqual(counter, rows)
        self.assertGreaterEqual(rows, len(acked))
        self.assertEqual(db_integrity(self.db_path), ["ok"])
        print(f"\n  disk full: filler {filled} bytes; statuses on the full disk {statuses} "
              f"(first 503 after {first_503} more visits); readyz {ready.status}, api/count "
              f"{total.status} while full; recording back {recovered_after:.2f}s after the "
              f"filler went; {len(acked)} acknowledged, {rows} stored, "
              f"{time.monotonic() - t0:.1f}s", file=sys.stderr)

    def test_start_on_a_full_disk_fails_with_a_clear_error(self):
        # A known limit (docs/operations.md, Migrations): opening the store creates SQLite's
        # shared-memory index next to the database, which a full disk refuses. What matters is
        # that footfall says so and exits, rather than hanging or serving without a store.
        srv = FootfallServer(db_path=self.db_path)
        srv.start()
        self.addCleanup(srv.cleanup)
        self.assertEqual(harness.request(srv.port, "GET", "/count").status, 200)
        srv.stop(expect_code=0)
        fill(self.filler)
        t0 = time.monotonic()
        done = subprocess.run([harness.footfall_bin(), "serve", "--listen", "127.0.0.1:0",
                               "--store", f"sqlite:{self.db_path}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn("No space left on device", done.stderr)
        self.assertLess(time.monotonic() - t0, 10)
        os.remove(self.filler)
        self.assertEqual(db_snapshot(self.db_path), (1, 1))  # nothing lost
        print(f"\n  start on a full disk: exit {done.returncode}: {done.stderr.strip()[:160]}",
              file=sys.stderr)

    def test_disk_filling_up_under_concurrent_load(self):
        # Batches of several visits fail together and the writer carries on: 8 clients record
        # while the filler fills the disk, and again after it is deleted.
        srv = FootfallServer(db_path=self.db_path)
        srv.start()
        self.addCleanup(srv.cleanup)
        stop = threading.Event()
        results = [{"acked": [], "statuses": {}, "error": None} for _ in range(8)]

        def client(idx):
            st = results[idx]
            conn = connect(srv.port, timeout=15)
            n = 0
            try:
                while not stop.is_set():
                    path = f"/load/{idx}/{n}"
                    n += 1
                    r = self.visit(conn, path)
                    st["statuses"][r.status] = st["statuses"].get(r.status, 0) + 1
                    if r.status == 200:
                        st["acked"].append(path)
                    elif r.status != 503 or r.header("Retry-After") != "1":
                        st["error"] = repr(r)
                        return
            except Exception as e:  # noqa: BLE001 - reported below
                st["error"] = repr(e)
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(8)]
        for t in threads:
            t.start()

        def statuses():
            out = {}
            for st in results:
                for k, v in st["statuses"].items():
                    out[k] = out.get(k, 0) + v
            return out

        def wait_for(predicate, what, deadline_s=15.0):
            deadline = time.monotonic() + deadline_s
            while not predicate():
                errors = [st["error"] for st in results if st["error"]]
                if errors:
                    self.fail(f"client failed: {errors[0]}")
                if time.monotonic() > deadline:
                    self.fail(f"{what} within {deadline_s}s: {statuses()}")
                time.sleep(0.02)

        try:
            wait_for(lambda: statuses().get(200, 0) >= 200, "200 visits recorded")
            fill(self.filler)
            full_from = statuses().get(503, 0)
            wait_for(lambda: statuses().get(503, 0) >= full_from + 200, "200 503s on the full disk")
            during = statuses()
            os.remove(self.filler)
            oks = statuses().get(200, 0)
            wait_for(lambda: statuses().get(200, 0) >= oks + 500, "500 more visits after freeing")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        errors = [st["error"] for st in results if st["error"]]
        self.assertEqual(errors, [])
        self.assertTrue(srv.running, srv.stderr_text()[-3000:])
        srv.stop(expect_code=0)
        acked = [p for st in results for p in st["acked"]]
        stored = {v["path"] for v in db_visits(self.db_path)}
        counter, rows = db_snapshot(self.db_path)
        missing = [p for p in acked if p not in stored]
        self.assertEqual(missing[:10], [], f"{len(missing)} acknowledged visits lost")
        self.assertEqual(counter, rows)
        self.assertEqual(db_integrity(self.db_path), ["ok"])
        print(f"\n  disk full under load: statuses until the filler went {during}, in all {statuses()}; "
              f"{len(acked)} acknowledged, {rows} stored", file=sys.stderr)


if __name__ == "__main__":
    harness.run_tests()
