#!/usr/bin/env python3
"""moto_server with one lock around each request.

moto's DynamoDB UpdateItem `ADD` is a read-modify-write in Python, not atomic across the threads of
moto_server: with 48 boto3 clients adding 1 concurrently on a loaded machine, 1919 of 1920
increments survived (tests/tools/README.md). Real DynamoDB applies each item write atomically. This
runs moto's own server application (the same one `moto_server` runs) on a threaded werkzeug
server, with a lock so each request is applied whole — connections and keep-alive stay concurrent.

Usage: moto_server_atomic.py -H 127.0.0.1 -p PORT [--port-file FILE] [-c CERT.pem -k KEY.pem]

`-p 0` lets the OS choose a free port as the socket is bound, so no other process can take it in
between; `--port-file FILE` tells the caller which port that is: once the socket listens, the port
number and a newline are written to FILE.tmp, which is then renamed to FILE (a reader sees the
whole number or no file). Connections made from then on are answered.

From Python, launch() runs this script that way and returns (process, port). With
FOOTFALL_TEST_ARTIFACTS set (tests/tools/artifacts.py), that process dumps every DynamoDB table's
items as JSON lines into the test's artifacts before the first signal it is sent (stop it with
terminate(), kill() or send_signal() on the returned object), for the privacy audit.
"""
import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import artifacts  # noqa: E402
import port_file  # noqa: E402

DUMP_DEADLINE_S = 60.0  # the whole dump; a moto that stopped answering is a note, not a hang


class MotoProcess(subprocess.Popen):
    """The moto_server_atomic.py child launch() starts: a Popen that, with artifacts on, dumps
    moto's DynamoDB tables (dump_tables) once, before the first signal sent through it. POSIX
    Popen's terminate() and kill() signal through send_signal()."""

    endpoint = None     # set by launch() once moto listens
    verify_tls = True
    _tables_kept = False

    def send_signal(self, sig):
        if not self._tables_kept and self.endpoint is not None and self.poll() is None:
            self._tables_kept = True
            dump_tables(self.endpoint, verify_tls=self.verify_tls)
        super().send_signal(sig)


def _jsonable(value):
    """A boto3 DynamoDB attribute value as DynamoDB JSON: binary values base64, as AWS writes."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


def dump_tables(endpoint, verify_tls=True):
    """With artifacts on: every item of every DynamoDB table moto holds, in every region, one
    JSON object per line ({"region", "table", "item": DynamoDB JSON}) in
    <test artifacts>/moto-<pid>-<n>/<region>.<table>.dynamodb.jsonl. Never raises: what cannot
    be dumped is a note. Does nothing when artifacts are off."""
    directory = artifacts.new_dir("moto")
    if directory is None:
        return
    deadline = time.monotonic() + DUMP_DEADLINE_S
    try:
        import boto3
        from botocore.config import Config
        session = boto3.session.Session(aws_access_key_id="testing",
                                        aws_secret_access_key="testing",
                                        region_name="us-east-1")
        config = Config(connect_timeout=2, read_timeout=20, retries={"max_attempts": 1})
        regions = session.get_available_regions("dynamodb") or ["us-east-1"]
        for region in regions:
            client = session.client("dynamodb", region_name=region, endpoint_url=endpoint,
                                    config=config, verify=verify_tls)
            tables = [name for page in client.get_paginator("list_tables").paginate()
                      for name in page["TableNames"]]
            for table in tables:
                _dump_table(client, region, table, directory, deadline)
            if time.monotonic() > deadline:
                raise TimeoutError(f"the dump took over {DUMP_DEADLINE_S} s")
    except Exception as error:  # noqa: BLE001 - a dump that fails is a note, never a test error
        artifacts.note(directory, "dump", f"moto at {endpoint}: dump incomplete: "
                                          f"{type(error).__name__}: {error}")


def _dump_table(client, region, table, directory, deadline):
    path = os.path.join(directory, f"{region}.{table}.dynamodb.jsonl")
    written = 0
    with open(path, "w") as out:
        for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            for item in page["Items"]:
                line = json.dumps({"region": region, "table": table, "item": _jsonable(item)},
                                  sort_keys=True) + "\n"
                written += len(line)
                if written > artifacts.MAX_FILE_BYTES:
                    artifacts.note(directory, os.path.basename(path),
                                   f"table {table} ({region}): over the size limit, cut short")
                    return
                out.write(line)
            if time.monotonic() > deadline:
                raise TimeoutError(f"the dump took over {DUMP_DEADLINE_S} s (at table {table})")


def launch(host="127.0.0.1", ssl_cert=None, ssl_key=None, stdout=None, stderr=None,
           preexec_fn=None, deadline_s=60.0):
    """Starts this script on port 0 as a child process and waits until it listens.

    Returns (MotoProcess, port); stopping the process is the caller's job. `stdout`/`stderr`
    and `preexec_fn` go to Popen. Raises RuntimeError if the server exits first or has not bound a
    port within `deadline_s` seconds (moto's import alone takes seconds on a loaded machine); the
    process is then killed. Stdlib only, so a test can import it without importing moto."""
    argv = [sys.executable, os.path.abspath(__file__), "-H", host, "-p", "0"]
    if ssl_cert:
        argv += ["-c", ssl_cert, "-k", ssl_key]
    proc, port = port_file.launch(argv, "moto_server_atomic.py", deadline_s, popen=MotoProcess,
                                  exited_hint=" (is moto installed for this python?)",
                                  stdout=stdout, stderr=stderr, preexec_fn=preexec_fn)
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    proc.endpoint = f"{'https' if ssl_cert else 'http'}://{netloc}"
    proc.verify_tls = not ssl_cert  # a test's self-signed certificate
    return proc, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True,
                        help="port to listen on; 0: one the OS chooses (see --port-file)")
    parser.add_argument("--port-file", help="once listening, write the port number here")
    parser.add_argument("-c", "--ssl-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("-k", "--ssl-key", help="and this private key (PEM)")
    args = parser.parse_args()

    # Imported here, not at the top: launch() is used by tests that do not import moto.
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import WSGIRequestHandler, make_server

    class LingeringCloseHandler(WSGIRequestHandler):
        """werkzeug answers each request with `Connection: close` and closes at once. A client
        byte still arriving then makes the kernel reset the connection, and a client can lose an
        answer it had not read yet: the Terraform AWS provider (Go) then reports "use of closed
        network connection" and retries — a create that had succeeded then fails as "already
        exists" (two CI runs failed so, 2026-12-05). So, as web servers do, close gracefully:
        send FIN after the answer and wait (at most 5 s) for the client to close its side."""

        def handle(self):
            super().handle()
            if args.ssl_cert:
                return  # TLS has its own close_notify; shutting the raw socket would break it
            try:
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(5)
                while self.connection.recv(65536):
                    pass
            except OSError:
                pass

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def atomic_app(environ, start_response):
        with lock:
            # Materialise the body inside the lock: moto does its work while producing it.
            return [b"".join(app(environ, start_response))]

    ssl_context = (args.ssl_cert, args.ssl_key) if args.ssl_cert else None
    # What werkzeug's run_simple does, split so that the bound port is known before serving.
    server = make_server(args.host, args.port, atomic_app, threaded=True, ssl_context=ssl_context,
                         request_handler=LingeringCloseHandler)
    port = server.socket.getsockname()[1]
    # moto_server sets this from -p; moto puts it in the URLs it hands out.
    os.environ.setdefault("MOTO_PORT", str(port))
    if args.port_file:
        port_file.write_port(args.port_file, port)
    server.log_startup()
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
