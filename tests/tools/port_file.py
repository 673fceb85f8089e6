"""Starting a test server on a port the OS chooses, and learning which one (stdlib only).

The server binds port 0 — so no other process can take its port between a choice and the bind —
and, once it listens, calls write_port(): the number and a newline go to FILE.tmp, which is then
renamed to FILE, so a reader sees the whole number or no file. The parent starts it with
launch(), which waits for that file.
"""
import os
import shutil
import subprocess
import tempfile
import time


def write_port(port_file, port):
    """Tells the parent that this process listens on `port` (call once listening)."""
    with open(port_file + ".tmp", "w") as out:
        out.write(f"{port}\n")
    os.replace(port_file + ".tmp", port_file)


def launch(argv, name, deadline_s, popen=subprocess.Popen, exited_hint="", **popen_kwargs):
    """Runs `argv` plus `--port-file FILE` and waits until it wrote FILE; returns (process, port).

    `popen` makes the process (a Popen subclass may add behaviour); `popen_kwargs` go to it, with
    stdin from /dev/null. Raises RuntimeError, after killing the process, if it exits first
    (`exited_hint` is added to that message) or has not written the file within `deadline_s`
    seconds. Stopping the process is the caller's job."""
    workdir = tempfile.mkdtemp(prefix="footfall-port-")
    port_file = os.path.join(workdir, "port")
    proc = popen([*argv, "--port-file", port_file], stdin=subprocess.DEVNULL, **popen_kwargs)
    try:
        deadline = time.monotonic() + deadline_s
        while True:
            try:
                with open(port_file) as f:
                    return proc, int(f.read())
            except FileNotFoundError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} before it listened"
                                   f"{exited_hint}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not listen within {deadline_s} s")
            time.sleep(0.02)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
