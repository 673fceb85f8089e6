"""A real PostgreSQL 15 for tests and benchmarks (Python 3 stdlib only), started the way
tests/postgres_server.cc starts one for the C++ tests:

  initdb -U postgres --auth=trust -E UTF8 --no-sync   into a fresh temp dir
  postgres -D DIR/data -p PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=DIR

on a loopback port picked by pick_port() (below the kernel's ephemeral range; another one if the
server finds it taken), as the `postgres` user when running as root (PostgreSQL refuses root).
Start-up waits, with a deadline, for "ready to accept connections" in the server's log. Only the
postmaster it started (and, for pause/resume, that postmaster's children) is ever signalled, by
PID; the postmaster gets SIGKILL if the starting process dies (PR_SET_PDEATHSIG, as
harness._die_with_parent). A PostgreSQL that cannot start raises PostgresError (an
AssertionError: the test fails with the reason, never skips).

    with PostgresServer() as pg:
        uri = pg.create_database("counts")    # postgres://postgres@127.0.0.1:PORT/counts
        pg.query(uri, "SELECT 1")             # -> "1"
        pg.stop(); pg.restart()               # fast shutdown; start again, same data and port
        pg.pause(); pg.resume()               # SIGSTOP / SIGCONT: a server that stops answering

Also a small command line, used by bench/postgres_bench.sh:

    python3 tests/integration/pg.py hold     # prints "PORT DIR", runs until SIGTERM or SIGINT,
                                             # then stops PostgreSQL and removes DIR

With FOOTFALL_TEST_ARTIFACTS set (ctest sets it; tests/tools/artifacts.py), cleanup() keeps the
server's data for the privacy audit (tests/privacy_audit.py) before removing it: a pg_dumpall of
every database while the server still runs (pg_dumpall.sql), then, once it has stopped, the whole
temp dir (data directory, postgres.log, initdb.log) in <test artifacts>/postgres-<pid>-<n>/.
"""

import ctypes
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
import artifacts  # noqa: E402

BIN_DIR = "/usr/lib/postgresql/15/bin"
START_DEADLINE_S = 30.0   # initdb or postgres start-up, each
PORT_ATTEMPTS = 8         # ports tried by start(), each taken by someone else in the meantime
STOP_DEADLINE_S = 30.0    # fast shutdown (SIGINT) until the postmaster has exited
PSQL_TIMEOUT_S = 30.0


class PostgresError(AssertionError):
    """PostgreSQL could not be installed, started, stopped or queried: a test failure."""


def free_port():
    """A loopback port that was free a moment ago (bound to port 0 and closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pick_port():
    """A port for PostgreSQL on 127.0.0.1, at random between 20000 and the start of the kernel's
    ephemeral range. PostgreSQL must be told its port (it cannot bind port 0 and say which it
    got). The kernel hands out ephemeral ports to whatever binds port 0 (every footfall the tests
    start) and to outgoing connections (every client), so none of those can be given this port:
    not before PostgreSQL binds it, not while it is stopped for a restart, and a client
    reconnecting to the stopped server cannot connect to itself. A process that binds a fixed port
    still could: start() then tries another (see _port_was_taken)."""
    first = 20000  # below: where fixed-port services usually live
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    if low - first < 1000:
        return free_port()  # no room below the ephemeral range: take an ephemeral port
    return random.SystemRandom().randrange(first, low)


def _port_was_taken(log_text):
    """True if the postmaster's log says it could not listen because the address was in use (it
    then exits at once: 127.0.0.1 is its only TCP address)."""
    return "could not bind" in log_text and "Address already in use" in log_text


def _tool(name):
    """Path of a PostgreSQL 15 program: the versioned bin dir first, then PATH."""
    path = os.path.join(BIN_DIR, name)
    if os.access(path, os.X_OK):
        return path
    found = shutil.which(name)
    if found:
        return found
    raise PostgresError(f"PostgreSQL 15 program {name!r} not found in {BIN_DIR} or PATH "
                        "(scripts/install-deps.sh installs postgresql-15)")


def _die_with_parent():
    """preexec_fn: SIGKILL when the starting thread dies. Runs after subprocess has changed the
    user (a credential change clears PR_SET_PDEATHSIG, so setting it earlier would not last)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # pragma: no cover - best effort
        pass


def client_env():
    """The environment for psql/pgbench without PG* variables, so only the arguments count."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


class PostgresServer:
    """One PostgreSQL 15 server in a temp dir. Not thread-safe: use from one thread (start and
    stop from the main thread, so that PR_SET_PDEATHSIG follows the test process)."""

    def __init__(self, extra_settings=()):
        self.root = None
        self.data_dir = None
        self.port = None
        self.proc = None
        self.log_path = None
        self.extra_settings = list(extra_settings)  # ["name=value", ...] passed as -c
        self._user = None

    # -- lifecycle
    def start(self):
        """initdb into a fresh temp dir and start the server. Raises PostgresError."""
        _tool("postgres")  # fail early, with the install hint, if it is missing
        initdb = _tool("initdb")
        self.root = tempfile.mkdtemp(prefix="footfall-pg-")
        self.data_dir = os.path.join(self.root, "data")
        self.log_path = os.path.join(self.root, "postgres.log")
        if os.getuid() == 0:
            try:
                self._user = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresError("running as root but there is no `postgres` user "
                                    "(the postgresql-15 package creates it)") from None
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        init_log = os.path.join(self.root, "initdb.log")
        with open(init_log, "ab") as log:
            proc = self._spawn([initdb, "-D", self.data_dir, "-U", "postgres", "--auth=trust",
                                "-E", "UTF8", "--no-sync"], log)
            try:
                code = proc.wait(timeout=START_DEADLINE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise PostgresError(f"initdb did not finish within {START_DEADLINE_S}s: "
                                    f"{self._tail(init_log)}") from None
        if code != 0:
            raise PostgresError(f"initdb exited with {code}: {self._tail(init_log)}")
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = pick_port()
            offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            try:
                self._launch()
                return self
            except PostgresError:
                # Taken after it was picked: the postmaster said so and exited. Another port.
                if attempt == PORT_ATTEMPTS or not _port_was_taken(self._read(self.log_path,
                                                                             offset)):
                    raise

    def _spawn(self, argv, log):
        kwargs = {}
        if self._user is not None:
            kwargs = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        on_main = threading.current_thread() is threading.main_thread()
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                cwd=self.root, env=client_env(),
                                preexec_fn=_die_with_parent if on_main else None, **kwargs)

    def _launch(self):
        argv = [_tool("postgres"), "-D", self.data_dir, "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
                "-c", "max_connections=100", "-c", "fsync=on", "-c", "synchronous_commit=on",
                # The log is read for its English words ("ready to accept connections").
                "-c", "lc_messages=C"]
        for setting in self.extra_settings:
            argv += ["-c", setting]
        # The log is appended to across restarts: only what follows `offset` is this start's.
        offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "ab") as log:
            self.proc = self._spawn(argv, log)
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise PostgresError(f"postgres exited with {code} during start-up: "
                                    f"{self._tail(self.log_path, offset)}")
            # Accepting TCP is not enough (it answers "starting up" for a moment); the log is.
            if "ready to accept connections" in self._read(self.log_path, offset):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise PostgresError(f"postgres did not start within {START_DEADLINE_S}s: "
                                    f"{self._tail(self.log_path, offset)}")
            time.sleep(0.02)

    def stop(self):
        """Fast shutdown (SIGINT to the postmaster: clients disconnected, checkpoint, exit) and
        wait for it. No-op when not running. Raises PostgresError if it does not exit in time."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise PostgresError(f"postgres (pid {proc.pid}) ignored fast shutdown for "
                                f"{STOP_DEADLINE_S}s; killed") from None

    def restart(self):
        """Starts the server again on the same data dir and port (stopping it first if it runs).
        Raises PostgresError."""
        self.stop()
        self._launch()

    def cleanup(self):
        """Stops the server (killing it if need be) and removes the temp dir, keeping its data
        first when artifacts are on (module docstring). Never raises."""
        directory = artifacts.new_dir("postgres") if self.root is not None else None
        if directory is not None:
            self._dump_all(directory)
        try:
            self.stop()
        except PostgresError:
            pass
        if self.root is not None:
            if directory is not None:
                artifacts.copy_tree(self.root, directory)
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _dump_all(self, directory):
        """pg_dumpall (every database, roles included) into `directory`/pg_dumpall.sql, or a note
        saying why not. Never raises."""
        if not self.running or self._stopped_by_signal():
            artifacts.note(directory, "pg_dumpall", "postgres was not running (or paused) at "
                                                    "cleanup: no dump; the data directory is kept")
            return
        try:
            with open(os.path.join(directory, "pg_dumpall.sql"), "wb") as out:
                done = subprocess.run([_tool("pg_dumpall"), "-h", "127.0.0.1", "-p",
                                       str(self.port), "-U", "postgres"],
                                      stdin=subprocess.DEVNULL, stdout=out,
                                      stderr=subprocess.PIPE, env=client_env(),
                                      timeout=PSQL_TIMEOUT_S * 2)
            if done.returncode != 0:
                artifacts.note(directory, "pg_dumpall", f"pg_dumpall exited with "
                               f"{done.returncode}: {done.stderr.decode('utf-8', 'replace')}")
        except (OSError, subprocess.TimeoutExpired, PostgresError) as error:
            artifacts.note(directory, "pg_dumpall", f"pg_dumpall failed: {error}")

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def pause(self):
        """SIGSTOP to the postmaster and each of its children (by PID): a server that no longer
        answers but keeps its connections open, like a frozen VM. Undo with resume()."""
        self._signal_tree(signal.SIGSTOP)

    def resume(self):
        """SIGCONT to the postmaster and each of its children, after pause()."""
        self._signal_tree(signal.SIGCONT)

    def _signal_tree(self, signum):
        if not self.running:
            raise PostgresError("postgres is not running")
        pids = [self.proc.pid]
        try:
            for task in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{task}/children") as f:
                    pids += [int(pid) for pid in f.read().split()]
        except OSError:
            pass
        for pid in pids:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _stopped_by_signal(self):
        """True if the postmaster is stopped (pause() without resume())."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "T"
        except (OSError, IndexError, AttributeError):
            return False

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    # -- clients
    def uri(self, database="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql_argv(self, database="postgres"):
        """psql's command line for `database`, without the SQL (append "-c", SQL)."""
        return [_tool("psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", "postgres", "-d", database]

    def psql(self, sql, database="postgres"):
        """Runs `sql` with psql (unaligned, tuples only, stop on error); returns stdout stripped.
        Raises PostgresError with psql's stderr."""
        argv = self.psql_argv(database) + ["-c", sql]
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, env=client_env(), timeout=PSQL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PostgresError(f"psql {sql!r} took over {PSQL_TIMEOUT_S}s") from None
        if done.returncode != 0:
            raise PostgresError(f"psql {sql!r} on {database} exited with {done.returncode}: "
                                f"{done.stderr.strip()}")
        return done.stdout.strip()

    def query(self, uri_or_database, sql):
        """psql on the database named by a URI from create_database() (or by name)."""
        return self.psql(sql, uri_or_database.rsplit("/", 1)[-1].split("?", 1)[0])

    def create_database(self, name):
        """Creates an empty database `name`; returns its postgres:// URI. Raises PostgresError."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.uri(name)

    # -- logs
    @staticmethod
    def _read(path, offset=0):
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _tail(self, path, offset=0, limit=2000):
        return self._read(path, offset)[-limit:].strip() or "(empty log)"

    def log_tail(self, limit=2000):
        return self._tail(self.log_path, 0, limit) if self.log_path else ""


def _hold():
    """`pg.py hold`: start, print "PORT DIR", wait for SIGTERM or SIGINT, clean up."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    server = PostgresServer()
    try:
        server.start()
    except PostgresError as error:
        print(f"pg.py: {error}", file=sys.stderr)
        server.cleanup()
        return 1
    try:
        print(f"{server.port} {server.root}", flush=True)
        while not stop and server.running:
            time.sleep(0.1)
        if not server.running and not stop:
            print(f"pg.py: postgres exited: {server.log_tail()}", file=sys.stderr)
            return 1
        return 0
    finally:
        server.cleanup()


if __name__ == "__main__":
    if sys.argv[1:] != ["hold"]:
        print("usage: python3 pg.py hold", file=sys.stderr)
        sys.exit(2)
    sys.exit(_hold())
