"""Shared harness for footfall's cross-module integration tests (Python 3 stdlib only).

The binary under test comes from the FOOTFALL_BIN environment variable (set by CTest, see
CMakeLists.txt in this folder); without it, <repo>/build/footfall is used. A binary that is
missing or that does not announce its listening address in time is a test failure, never a skip.

Typical use:

    with FootfallServer() as srv:          # temp dir, sqlite store, port 0
        port, db_path, proc = srv           # unpacks like a tuple
        status, headers, body = request(port, "GET", "/count")
    # leaving the block SIGTERMs the server (by PID) and asserts it exited 0

Only processes started here are ever signalled, and only by their own PID.

With FOOTFALL_TEST_ARTIFACTS set (ctest sets it; tests/tools/artifacts.py), each server keeps what
it produced for the privacy audit (tests/privacy_audit.py) whenever its process ends: its stdout
and stderr, and its SQLite files (the latest state of each database path, however many servers
used it). A test keeps other files it made (exports, stores written by the CLI) with
keep_directory(path) before it removes them.
"""

import contextlib
import ctypes
import hashlib
import http.client
import json
import os
import queue
import re
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "tools"))
import artifacts  # noqa: E402

ALLOWED_ORIGINS = ("https://a.example", "https://b.example")
DISALLOWED_ORIGIN = "https://evil.example"

START_DEADLINE_S = 10.0   # time for the server to print its "listening" line
STOP_DEADLINE_S = 15.0    # time for a SIGTERMed server to finish in-flight requests and exit
CLIENT_TIMEOUT_S = 30.0   # socket timeout for every client connection

ISO8601_MILLIS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUIDV7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HEX_RE = re.compile(r"^[0-9a-f]+$")
NINETY_DAYS_S = 90 * 86400

# Words that must never leak into an error body (SQL, engine or system error text).
LEAK_WORDS = ("sql", "select ", "insert ", "update ", "errno", "std::", "exception", "what()",
              "boost", "asio", "beast", "no such table", "constraint", "/tmp", "footfall.db",
              "segmentation", "permission denied", "strerror")


class HarnessError(AssertionError):
    """Raised (as a test failure) when the server cannot be started or stopped as expected."""


def footfall_bin():
    path = os.path.abspath(os.environ.get("FOOTFALL_BIN")
                           or os.path.join(REPO_ROOT, "build", "footfall"))
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise HarnessError(
            f"footfall binary not found or not executable: {path!r} "
            "(set FOOTFALL_BIN or build it to <repo>/build/footfall)")
    return path


def server_env():
    """The test's environment without the server's own configuration variables (FOOTFALL_*,
    ALLOWED_ORIGIN), so that only the harness's command line configures the server."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("FOOTFALL_") and k != "ALLOWED_ORIGIN"}


def _die_with_parent():
    """preexec_fn: the server gets SIGKILL if the test process dies (e.g. a CTest TIMEOUT), so a
    killed test never leaves a server behind. Linux only; a no-op elsewhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # pragma: no cover - best effort
        pass


class _StreamDrain(threading.Thread):
    """Reads a pipe line by line until EOF, keeping every line (bytes) and handing each to a queue
    so that the starter can wait for the "listening" line with a deadline."""

    def __init__(self, stream, name):
        super().__init__(name=name, daemon=True)
        self._stream = stream
        self._lock = threading.Lock()
        self._lines = []
        self.queue = queue.Queue()

    def run(self):
        try:
            for line in iter(self._stream.readline, b""):
                with self._lock:
                    self._lines.append(line)
                self.queue.put(line)
        except (OSError, ValueError):
            pass
        finally:
            self.queue.put(None)  # EOF marker

    def lines(self):
        with self._lock:
            return list(self._lines)

    def data(self):
        return b"".join(self.lines())


def parse_listen(listen):
    """'127.0.0.1:43121' or '[::1]:43121' -> (host, port)."""
    host, _, port = listen.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


_kept_stores_lock = threading.Lock()
_kept_stores = {}  # SQLite path -> the artifacts directory its latest copy goes to


def keep_directory(path, kind="files"):
    """With FOOTFALL_TEST_ARTIFACTS set, copies everything under `path` (exports, stores the CLI
    wrote) into this test's artifacts for the privacy audit; otherwise does nothing."""
    return artifacts.keep_directory(path, kind)


def _keep_sqlite(db_path):
    """Copies the SQLite files at `db_path` over the last copy of the same path, so a database
    that many servers used in turn is kept once, as it was left."""
    with _kept_stores_lock:
        directory = _kept_stores.get(db_path)
        if directory is None:
            directory = _kept_stores[db_path] = artifacts.new_dir("sqlite")
    for suffix in artifacts.SQLITE_SUFFIXES:
        stale = os.path.join(directory, os.path.basename(db_path) + suffix)
        with contextlib.suppress(OSError):
            os.remove(stale)
    artifacts.copy_sqlite(db_path, directory)


class FootfallServer:
    """One `footfall serve` process with a SQLite store in a temporary directory.

    Arguments:
      db_path: store file to use (e.g. to restart on the same DB); default <tmpdir>/footfall.db.
      listen: the --listen value; default 127.0.0.1:0.
      allowed_origins: list for --allowed-origins.
      extra_args: appended to the command line (e.g. ["--trusted-proxies", "10.0.0.0/8"]).
      store: a store URI to use instead of the SQLite file (e.g. "dynamodb://...").
      env: extra environment for the server (e.g. AWS credentials for a DynamoDB store).
    """

    def __init__(self, db_path=None, listen="127.0.0.1:0", allowed_origins=ALLOWED_ORIGINS,
                 extra_args=(), start_deadline_s=START_DEADLINE_S, store=None, env=None):
        self._tmp = None
        self.store = store
        # Load tests send thousands of requests from one address: footfall's rate limiter is off
        # unless a test turns it on (test_rate_limit.py does).
        self.extra_env = {"FOOTFALL_RATE_LIMIT_VISITOR": "0", "FOOTFALL_RATE_LIMIT_GLOBAL": "0",
                          **dict(env or {})}
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="footfall-it-")
            db_path = os.path.join(self._tmp.name, "footfall.db")
        self.db_path = os.path.abspath(db_path)
        self.workdir = os.path.dirname(self.db_path)
        self.listen_arg = listen
        self.allowed_origins = list(allowed_origins)
        self.extra_args = list(extra_args)
        self.start_deadline_s = start_deadline_s
        self.proc = None
        self.host = None
        self.port = None
        self.listening_event = None
        self.returncode = None
        self._stderr = None
        self._stdout = None
        self._term_sent = False

    # -- tuple-like unpacking: port, db_path, proc = server
    def __iter__(self):
        return iter((self.port, self.db_path, self.proc))

    @property
    def argv(self):
        return [footfall_bin(), "serve",
                "--listen", self.listen_arg,
                "--store", self.store or "sqlite:" + self.db_path,
                "--allowed-origins", ",".join(self.allowed_origins)] + self.extra_args

    def start(self):
        if self.proc is not None:
            raise HarnessError("server already started")
        argv = self.argv
        on_main = threading.current_thread() is threading.main_thread()
        preexec = _die_with_parent if on_main else None
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=self.workdir,
                                     env={**server_env(), **self.extra_env}, preexec_fn=preexec)
        self.returncode = None
        self._term_sent = False
        self._stderr = _StreamDrain(self.proc.stderr, f"footfall-stderr-{self.proc.pid}")
        self._stdout = _StreamDrain(self.proc.stdout, f"footfall-stdout-{self.proc.pid}")
        self._stderr.start()
        self._stdout.start()
        deadline = time.monotonic() + self.start_deadline_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._abort()
                raise HarnessError(
                    f"footfall did not print a 'listening' line within {self.start_deadline_s}s; "
                    f"argv={argv!r}; stderr so far:\n{self.stderr_text()}")
            try:
                line = self._stderr.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:  # EOF: the process closed stderr (probably exited)
                try:
                    code = self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    code = "still running"
                self._abort()
                raise HarnessError(
                    f"footfall exited before listening (exit {code}); argv={argv!r}; "
                    f"stderr:\n{self.stderr_text()}")
            event = _json_line(line)
            if event is not None and event.get("msg") == "listening":
                self.listening_event = event
                if "listen" not in event:
                    self._abort()
                    raise HarnessError(f"'listening' line has no 'listen' field: {line!r}")
                self.host, self.port = parse_listen(event["listen"])
                if self.port == 0:
                    self._abort()
                    raise HarnessError(f"'listening' line reports port 0: {line!r}")
                return self

    # -- stopping
    def stop(self, expect_code=0, deadline_s=STOP_DEADLINE_S):
        """SIGTERM (by PID), wait, and assert the exit code (default 0). Returns the exit code."""
        if self.proc is None:
            return self.returncode
        proc = self.proc
        self.terminate()
        try:
            code = proc.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            self._abort()
            raise HarnessError(f"footfall (pid {proc.pid}) did not exit within {deadline_s}s of "
                               f"SIGTERM; stderr tail:\n{self.stderr_text()[-4000:]}")
        self._finish()
        if expect_code is not None and code != expect_code:
            raise HarnessError(f"footfall exited with {code}, expected {expect_code}; "
                               f"stderr tail:\n{self.stderr_text()[-4000:]}")
        return code

    def terminate(self):
        """Sends SIGTERM (by PID) once: a second SIGTERM during shutdown may legitimately mean
        "stop now", so the harness never sends one."""
        if self.proc is not None and not self._term_sent and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self._term_sent = True

    def kill(self):
        """SIGKILL (by PID), as a crash. Returns the exit code (-9)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=STOP_DEADLINE_S)
        self._finish()
        return self.returncode

    def _abort(self):
        """Best-effort stop on an error path: SIGTERM, then SIGKILL. Never raises."""
        proc = self.proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                self.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=5)
        except Exception:
            pass
        self._finish()

    def _finish(self):
        proc = self.proc
        self.returncode = proc.returncode
        for drain in (self._stderr, self._stdout):
            if drain is not None:
                drain.join(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            with contextlib.suppress(Exception):
                stream.close()
        self.proc = None
        self._keep_artifacts(proc.pid)

    def _keep_artifacts(self, pid):
        """For the privacy audit (module docstring); nothing when artifacts are off."""
        if not artifacts.enabled():
            return
        directory = artifacts.new_dir("footfall")
        if "FAKETIME" in self.extra_env:
            artifacts.mark_faked_clock(f"serve (pid {pid}) with FAKETIME="
                                       f"{self.extra_env['FAKETIME']}")
        artifacts.write_bytes(directory, f"serve-{pid}.stderr.log", self.stderr_bytes())
        artifacts.write_bytes(directory, f"serve-{pid}.stdout.log", self.stdout_bytes())
        db_path = self.db_path
        if self.store is not None:
            db_path = self.store[len("sqlite:"):] if self.store.startswith("sqlite:") else None
        if db_path and os.path.exists(db_path):
            _keep_sqlite(os.path.abspath(db_path))

    def cleanup(self):
        if self.proc is not None:
            self._abort()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # -- output
    def stderr_lines(self):
        return self._stderr.lines() if self._stderr else []

    def stderr_bytes(self):
        return self._stderr.data() if self._stderr else b""

    def stdout_bytes(self):
        return self._stdout.data() if self._stdout else b""

    def stderr_text(self):
        return self.stderr_bytes().decode("utf-8", "replace")

    def stderr_events(self):
        """Every stderr line that parses as a JSON object."""
        return [e for e in (_json_line(l) for l in self.stderr_lines()) if e is not None]

    # -- context manager: start on enter; on a normal exit SIGTERM and assert exit 0
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                if self.proc is not None:
                    self.stop(expect_code=0)
            else:
                self._abort()
        finally:
            # The harness-made temp dir goes with the block: a test that needs the DB after the
            # server stopped (or across restarts) passes its own db_path.
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None
        return False


def _json_line(line):
    try:
        event = json.loads(line.decode("utf-8", "replace"))
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


# ---------------------------------------------------------------------------------------------
# HTTP helpers

class Response:
    def __init__(self, status, headers, body, reason=""):
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value) as received
        self.body = body                # bytes

    def header(self, name):
        """First value of header `name` (case-insensitive), or None."""
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None

    def header_all(self, name):
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __iter__(self):  # status, headers, body = request(...)
        return iter((self.status, self.headers, self.body))

    def __repr__(self):
        return f"<Response {self.status} {self.headers!r} {self.body[:300]!r}>"


def connect(port, host="127.0.0.1", source_address=None, timeout=CLIENT_TIMEOUT_S):
    """A persistent (keep-alive) http.client connection."""
    return http.client.HTTPConnection(host, port, timeout=timeout, source_address=source_address)


def do_request(conn, method, target, headers=None, body=None):
    """One request on an existing connection; returns Response (body fully read)."""
    conn.request(method, target, body=body, headers=dict(headers or {}))
    r = conn.getresponse()
    body = r.read()
    return Response(r.status, r.getheaders(), body, r.reason)


def request(port, method, target, headers=None, body=None, host="127.0.0.1", source_address=None):
    """One request on a fresh connection, closed afterwards."""
    conn = connect(port, host=host, source_address=source_address)
    try:
        return do_request(conn, method, target, headers, body)
    finally:
        conn.close()


def raw_request(port, data, host="127.0.0.1", timeout=10.0, method="GET"):
    """Sends raw bytes (for malformed requests and non-UTF-8 headers) and parses one response.
    Returns Response. Raises ConnectionError/OSError/http.client errors if no response comes."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close early; the answer may still be readable
        return _read_response(s, method)


def _read_response(sock, method):
    r = http.client.HTTPResponse(sock, method=method)
    r.begin()
    body = r.read()
    return Response(r.status, r.getheaders(), body, r.reason)


def send_large_body(port, method, target, body_size, host="127.0.0.1", headers=None,
                    timeout=15.0, chunk=64 * 1024):
    """Sends a request announcing a `body_size`-byte body and streams the body, stopping as soon as
    the server answers (it may reject from the headers alone). Returns (Response, bytes_sent)."""
    head = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}",
            "Content-Type: application/octet-stream", f"Content-Length: {body_size}"]
    for k, v in (headers or {}).items():
        head.append(f"{k}: {v}")
    sent = 0
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode("ascii"))
        payload = b"x" * chunk
        deadline = time.monotonic() + timeout
        try:
            while sent < body_size and time.monotonic() < deadline:
                readable, writable, _ = select.select([s], [s], [], 1.0)
                if readable:
                    break  # the server has answered (or closed): stop sending
                if writable:
                    n = s.send(payload[:min(chunk, body_size - sent)])
                    sent += n
        except (BrokenPipeError, ConnectionResetError):
            pass
        return _read_response(s, method), sent


# ---------------------------------------------------------------------------------------------
# API helpers

def api_count(port, host="127.0.0.1"):
    r = request(port, "GET", "/api/count", host=host)
    if r.status != 200:
        raise AssertionError(f"GET /api/count -> {r!r}")
    return r.json()["count"]


# ---------------------------------------------------------------------------------------------
# Store helpers (read-only access to the server's SQLite file)

def db_connect_ro(db_path):
    uri = "file:" + urllib.parse.quote(os.path.abspath(db_path)) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def db_snapshot(db_path):
    """(counter 'total', rows in visits), read in one transaction."""
    conn = db_connect_ro(db_path)
    try:
        conn.execute("BEGIN")
        row = conn.execute("SELECT count FROM counters WHERE name = 'total'").fetchone()
        rows = conn.execute("SELECT COUNT(*) FROM visits").fetchone()[0]
        conn.execute("COMMIT")
        return (row[0] if row else 0), rows
    finally:
        conn.close()


def db_visits(db_path, order_by="visit_id"):
    conn = db_connect_ro(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(
            "SELECT visit_id, timestamp, visitor, user_agent, path, referrer, site, "
            f"expiration_time FROM visits ORDER BY {order_by}")]
    finally:
        conn.close()


def db_integrity(db_path):
    conn = db_connect_ro(db_path)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def db_files_bytes(db_path):
    """The bytes of the DB file and any -wal / -shm / -journal beside it."""
    out = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = db_path + suffix
        if os.path.exists(p):
            with open(p, "rb") as f:
                out += f.read()
    return out


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def parse_iso8601_millis(ts):
    """'2026-11-25T13:20:03.123Z' -> epoch seconds (float)."""
    import calendar
    base, ms = ts[:-1].split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + int(ms) / 1000.0


def uuid_v7_millis(visit_id):
    return int(visit_id.replace("-", "")[:12], 16)


def run_tests():
    """unittest.main wrapper: exits non-zero on any failure/error, and also when nothing ran."""
    import unittest
    prog = unittest.main(exit=False, verbosity=2)
    result = prog.result
    ran = result.testsRun
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    print(f"{max(0, ran - bad - skipped)} passed, {bad} failed", flush=True)
    if ran == 0 or bad or skipped:
        sys.exit(1)
    sys.exit(0)
