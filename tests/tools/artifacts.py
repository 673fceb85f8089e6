"""What a test leaves behind, kept for the privacy audit (tests/privacy_audit.py). Python 3 stdlib.

When FOOTFALL_TEST_ARTIFACTS names a directory (ctest sets <build>/test-artifacts for the
integration, Lambda and browser tests), the shared harnesses copy what footfall produced — its
store files, its captured stdout/stderr, export files, moto's tables dumped as JSON lines — into

    <FOOTFALL_TEST_ARTIFACTS>/<test name>/<kind>-<pid>-<n>/

instead of letting it go with their temp dirs. The test name is FOOTFALL_TEST_NAME (ctest sets the
ctest name, e.g. integration_http_api), else <folder of the script>_<script name>; the audit tells
the groups (integration, lambda, browser) apart by the part before the first "_". Without
FOOTFALL_TEST_ARTIFACTS every function here does nothing.

A test's own directory is emptied once, by the first process of the test that imports this module
(it marks the environment, so processes it starts do not empty it again): a rerun replaces what
the last run of that test left, and tests that run in parallel never touch each other's files.
`make test` removes the whole directory before ctest starts.

Copies are bounded: a file over MAX_FILE_BYTES is not copied; a NOTE-*.txt beside where it would
have gone says so (the audit lists the notes). Symbolic links are not followed. Keeping never
raises: an artifact that cannot be kept is a note, not a test failure.

Thread-safe.
"""

import itertools
import os
import shutil
import sys
import threading

ENV_DIR = "FOOTFALL_TEST_ARTIFACTS"
ENV_NAME = "FOOTFALL_TEST_NAME"
ENV_OWNER = "FOOTFALL_TEST_ARTIFACTS_OWNER"  # set by the process that emptied the test's directory
MAX_FILE_BYTES = 200 * 1024 * 1024
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")

_lock = threading.Lock()
_counter = itertools.count(1)


def enabled():
    """True if artifacts are kept (FOOTFALL_TEST_ARTIFACTS is set and not empty)."""
    return bool(os.environ.get(ENV_DIR))


def test_name():
    """The name this process's artifacts go under (see the module docstring)."""
    name = os.environ.get(ENV_NAME)
    if name:
        return name
    script = os.path.abspath(sys.argv[0] if sys.argv and sys.argv[0] else "adhoc")
    folder = os.path.basename(os.path.dirname(script)) or "adhoc"
    return f"{folder}_{os.path.splitext(os.path.basename(script))[0]}"


def test_root():
    """<FOOTFALL_TEST_ARTIFACTS>/<test name>, or None when artifacts are off."""
    if not enabled():
        return None
    return os.path.join(os.path.abspath(os.environ[ENV_DIR]), test_name())


def _claim_test_root():
    """Empties this test's directory if no process of the test has done so yet."""
    root = test_root()
    if root is None or os.environ.get(ENV_OWNER):
        return
    shutil.rmtree(root, ignore_errors=True)
    os.environ[ENV_OWNER] = str(os.getpid())


_claim_test_root()


def new_dir(kind):
    """A new, empty directory <test root>/<kind>-<pid>-<n>; None when artifacts are off."""
    root = test_root()
    if root is None:
        return None
    with _lock:
        path = os.path.join(root, f"{kind}-{os.getpid()}-{next(_counter)}")
    os.makedirs(path, exist_ok=True)
    return path


def note(directory, name, text):
    """Writes NOTE-<name>.txt in `directory` (what was not kept, and why). Never raises."""
    try:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, f"NOTE-{name}.txt"), "w") as f:
            f.write(text.rstrip("\n") + "\n")
    except OSError as error:
        print(f"artifacts.py: cannot write a note in {directory}: {error}", file=sys.stderr)


def copy_file(src, directory, name=None):
    """Copies the regular file `src` into `directory` (as `name`, default its own name), unless
    it is over MAX_FILE_BYTES (then a note). Returns the copy's path or None. Never raises."""
    name = name or os.path.basename(src)
    try:
        if os.path.islink(src) or not os.path.isfile(src):
            return None
        size = os.path.getsize(src)
        if size > MAX_FILE_BYTES:
            note(directory, name, f"{src}: {size} bytes, over the {MAX_FILE_BYTES}-byte limit: "
                                  "not copied, not audited")
            return None
        os.makedirs(directory, exist_ok=True)
        dst = os.path.join(directory, name)
        shutil.copyfile(src, dst)
        return dst
    except OSError as error:
        note(directory, name, f"{src}: not copied: {error}")
        return None


def copy_tree(src, directory):
    """Copies every regular file under `src` into `directory`, keeping relative paths (links are
    not followed, files over MAX_FILE_BYTES are notes). Never raises."""
    for parent, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(parent, d))]
        rel = os.path.relpath(parent, src)
        target = directory if rel == "." else os.path.join(directory, rel)
        for name in files:
            copy_file(os.path.join(parent, name), target)


def write_bytes(directory, name, data):
    """Writes `data` (bytes) as `directory`/`name` (a note if over MAX_FILE_BYTES). Never raises."""
    if len(data) > MAX_FILE_BYTES:
        note(directory, name, f"{len(data)} bytes, over the limit: not kept, not audited")
        return
    try:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
    except OSError as error:
        note(directory, name, f"not written: {error}")


def copy_sqlite(db_path, directory):
    """Copies a SQLite database and its -wal, -shm and -journal files, those that exist."""
    for suffix in SQLITE_SUFFIXES:
        copy_file(db_path + suffix, directory)


def mark_faked_clock(detail):
    """Records that a process of this test ran with a faked wall clock (libfaketime): its salts'
    days say nothing about the real date, so the audit checks them only against each other
    (<test root>/CLOCK-FAKED.txt). Never raises."""
    root = test_root()
    if root is None:
        return
    try:
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "CLOCK-FAKED.txt"), "a") as f:
            f.write(detail.rstrip("\n") + "\n")
    except OSError as error:
        print(f"artifacts.py: cannot mark a faked clock in {root}: {error}", file=sys.stderr)


def keep_directory(path, kind="files"):
    """Copies everything under `path` into a new directory of this test (for files a test makes
    itself: exports, stores written by the CLI). Returns that directory, or None when off."""
    directory = new_dir(kind)
    if directory is not None and os.path.isdir(path):
        copy_tree(path, directory)
    return directory
