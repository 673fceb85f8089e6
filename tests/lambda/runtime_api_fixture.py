#!/usr/bin/env python3
"""A stand-in for the AWS Lambda Runtime API (version 2018-06-01), for testing footfall's custom
runtime (provided.al2023) without AWS. Python 3 stdlib only.

What it follows
  * The published OpenAPI document runtime-api.yaml ("AWS Lambda Runtime API", info.version 1.0.3,
    servers.url /2018-06-01) from docs.aws.amazon.com/lambda/latest/dg/samples/runtime-api.zip:
    paths, methods, status codes, headers, StatusResponse {"status"} and ErrorResponse
    {"errorMessage","errorType"}.
  * Where that document lists a status without saying when it happens (400, 403, 413), the
    behaviour of AWS's own open-source implementation of the same API, the Runtime Interface
    Emulator (github.com/aws/aws-lambda-runtime-interface-emulator, lambda/rapi): the same error
    types, messages and runtime state machine. See README.md in this folder for the table.

Use from Python (tests/lambda on sys.path):

    from runtime_api_fixture import RuntimeApiFixture
    with RuntimeApiFixture() as fx:                       # 127.0.0.1, free port, started
        env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=fx.address)   # or fx.lambda_env()
        rid = fx.enqueue(open("events/apigw_http_v2_get_count.json", "rb").read())
        ... start the runtime binary with env ...
        res = fx.wait_result(rid, timeout=5)              # {"kind": "response", "body": b"...", ...}

Use as a script (the first stdout line is the address, e.g. 127.0.0.1:40123; then JSON lines):

    python3 runtime_api_fixture.py --port 0 --events events/ [--exit-when-done] [--results out.json]

The same server also answers a control API under /test/ (see README.md).
"""

from __future__ import annotations

import argparse
import base64
import collections
import http.server
import json
import os
import re
import secrets
import select
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from email.utils import formatdate

API_VERSION = "2018-06-01"
RUNTIME_PREFIX = "/" + API_VERSION + "/runtime"
DEFAULT_FUNCTION_NAME = "footfall"
DEFAULT_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:" + DEFAULT_FUNCTION_NAME
DEFAULT_TIMEOUT_MS = 3000
# Buffered response limit. AWS documents "6 MB"; the emulator (and Lambda's own error message,
# "Response payload size (N bytes) exceeded maximum allowed payload size (6291556 bytes).") use
# 6 MiB + 100 bytes. A body of exactly this size is accepted; one byte more is refused with 413.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100

# Runtime states, named as in the emulator (lambda/core/runtime_state_names.go).
STATE_STARTED = "Started"
STATE_INIT_ERROR = "InitError"
STATE_READY = "Ready"  # an invocation was handed out by /next and is not answered yet
STATE_INVOCATION_RESPONSE = "InvocationResponse"
STATE_INVOCATION_ERROR_RESPONSE = "InvocationErrorResponse"
STATE_RESPONSE_SENT = "RuntimeResponseSentState"

HDR_REQUEST_ID = "Lambda-Runtime-Aws-Request-Id"
HDR_DEADLINE = "Lambda-Runtime-Deadline-Ms"
HDR_FUNCTION_ARN = "Lambda-Runtime-Invoked-Function-Arn"
HDR_TRACE_ID = "Lambda-Runtime-Trace-Id"
HDR_CLIENT_CONTEXT = "Lambda-Runtime-Client-Context"
HDR_COGNITO_IDENTITY = "Lambda-Runtime-Cognito-Identity"
HDR_FUNCTION_ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"

_INVOCATION_POST_RE = re.compile(r"^" + re.escape(RUNTIME_PREFIX) + r"/invocation/([^/]*)/(response|error)$")
_NOT_ALLOWED = "State transition is not allowed"


def get_header(headers: dict, name: str):
    """Case-insensitive lookup in a recorded headers dict; None when absent."""
    lname = name.lower()
    for key, value in headers.items():
        if key.lower() == lname:
            return value
    return None


def new_trace_id() -> str:
    """An X-Ray tracing header in the documented form (Root=1-<8 hex time>-<24 hex>;Parent=<16 hex>;Sampled=1)."""
    return "Root=1-%08x-%s;Parent=%s;Sampled=1" % (int(time.time()), secrets.token_hex(12), secrets.token_hex(8))


def _to_bytes(event) -> bytes:
    if isinstance(event, (bytes, bytearray, memoryview)):
        return bytes(event)
    if isinstance(event, str):
        return event.encode("utf-8")
    return json.dumps(event).encode("utf-8")


def _try_json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def jsonable(record):
    """A copy of a result / post / init-error record fit for json.dumps: `body` (bytes) becomes
    `body` (UTF-8 text, invalid bytes replaced) plus `body_base64` (exact bytes)."""
    if record is None:
        return None
    out = dict(record)
    body = out.get("body")
    if isinstance(body, (bytes, bytearray)):
        out["body"] = bytes(body).decode("utf-8", "replace")
        out["body_base64"] = base64.b64encode(body).decode("ascii")
    return out


class _BadRequest(Exception):
    pass


class _Invocation:
    def __init__(self, request_id, payload, deadline_ms, timeout_ms, trace_id, client_context,
                 cognito_identity, source):
        self.request_id = request_id
        self.payload = payload
        self.explicit_deadline_ms = deadline_ms
        self.timeout_ms = timeout_ms
        self.trace_id = trace_id
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.source = source
        self.enqueued_at = time.time()
        self.enqueued_mono = time.monotonic()
        self.delivered_at = None
        self.delivered_mono = None
        self.deadline_ms = None
        self.delivery_count = 0
        self.result = None


class RuntimeApiFixture:
    """The Runtime API on 127.0.0.1. start()/stop() or use as a context manager (starts on enter).

    Python API: enqueue(event) -> request id; wait_result(id, timeout) -> dict; result(id);
    results(); init_error(); wait_init_error(timeout); next_calls(); next_call_times();
    wait_next_calls(count, timeout); posts(); state(); reset_runtime(); lambda_env().
    Result dicts carry `body` as bytes; the HTTP control API returns the same with `body` as text
    and `body_base64` (see jsonable()).
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", *,
                 function_arn: str = DEFAULT_FUNCTION_ARN,
                 default_timeout_ms: int = DEFAULT_TIMEOUT_MS,
                 max_response_bytes: int = MAX_RESPONSE_BYTES,
                 verbose: bool = False):
        self._requested_port = port
        self._host = host
        self.function_arn = function_arn
        self.default_timeout_ms = default_timeout_ms
        self.max_response_bytes = max_response_bytes
        self.verbose = verbose

        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue = collections.deque()
        self._invocations = {}
        self._completed = []            # results in completion order
        self._state = STATE_STARTED
        self._current_id = None         # most recently handed-out invocation (emulator: GetCurrentInvokeID)
        self._init_error = None
        self._init_error_unserved = False
        self._next_calls = []
        self._posts = []
        self._connections = set()
        self._connections_accepted = 0
        self._stopping = False
        self._server = None
        self._thread = None

    # ----------------------------------------------------------------------------- lifecycle
    def start(self) -> "RuntimeApiFixture":
        if self._server is not None:
            return self
        server = _Server((self._host, self._requested_port), _Handler)
        server.fixture = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="runtime-api-fixture", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        server.shutdown()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fixture not started")
        return self._server.server_address[1]

    @property
    def address(self) -> str:
        """host:port, the value for AWS_LAMBDA_RUNTIME_API."""
        return "%s:%d" % (self._host, self.port)

    @property
    def url(self) -> str:
        return "http://" + self.address

    def lambda_env(self, base=None, **extra) -> dict:
        """Environment for a runtime process, with the variables Lambda sets for provided.al2023
        (no credentials). `base` defaults to os.environ; keyword arguments override."""
        env = dict(os.environ if base is None else base)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": self.address,
            "_HANDLER": DEFAULT_FUNCTION_NAME,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": self.function_arn.rsplit(":", 1)[-1],
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + DEFAULT_FUNCTION_NAME,
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]00000000000000000000000000000000",
            "LAMBDA_TASK_ROOT": "/var/task",
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "TZ": ":UTC",
        })
        env.update(extra)
        return env

    # ----------------------------------------------------------------------------- test API
    def enqueue(self, event, *, deadline_ms=None, timeout_ms=None, request_id=None, trace_id=None,
                client_context=None, cognito_identity=None, source=None) -> str:
        """Queue one invocation. `event` is bytes/str (sent verbatim, may be invalid JSON) or any
        JSON-serialisable object. Deadline header = `deadline_ms` (epoch ms) if given, else the
        time /next hands it out + `timeout_ms` (default 3000). Returns the request id."""
        payload = _to_bytes(event)
        rid = request_id or str(uuid.uuid4())
        inv = _Invocation(rid, payload, deadline_ms,
                          self.default_timeout_ms if timeout_ms is None else timeout_ms,
                          trace_id or new_trace_id(), client_context, cognito_identity, source)
        with self._cond:
            if rid in self._invocations:
                raise ValueError("duplicate request id %r" % rid)
            self._invocations[rid] = inv
            if self._init_error_unserved:
                self._serve_init_error_locked(inv)
            else:
                self._queue.append(inv)
            self._cond.notify_all()
        return rid

    def enqueue_file(self, path, **kwargs) -> str:
        with open(path, "rb") as f:
            return self.enqueue(f.read(), source=kwargs.pop("source", str(path)), **kwargs)

    def result(self, request_id):
        """The result of an invocation, or None while it has none. KeyError for an unknown id."""
        with self._lock:
            inv = self._invocations[request_id]
            return None if inv.result is None else dict(inv.result)

    def wait_result(self, request_id, timeout: float = 5.0) -> dict:
        """Block until the invocation has a response or error; TimeoutError after `timeout` s."""
        end = time.monotonic() + timeout
        with self._cond:
            inv = self._invocations[request_id]
            while inv.result is None:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no result for %s within %.1f s (state %s)"
                                       % (request_id, timeout, self._state))
                self._cond.wait(left)
            return dict(inv.result)

    def results(self) -> list:
        with self._lock:
            return [dict(r) for r in self._completed]

    def init_error(self):
        with self._lock:
            return None if self._init_error is None else dict(self._init_error)

    def wait_init_error(self, timeout: float = 5.0) -> dict:
        end = time.monotonic() + timeout
        with self._cond:
            while self._init_error is None:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no init error within %.1f s" % timeout)
                self._cond.wait(left)
            return dict(self._init_error)

    def next_calls(self) -> list:
        """One dict per GET /next received: at / at_mono (arrival, time.time() and
        time.monotonic(), the latter is CLOCK_MONOTONIC so comparable across processes),
        outcome (waiting|delivered|redelivered|rejected|abandoned|stopped), request_id,
        delivered_at, state_at_call."""
        with self._lock:
            return [dict(c) for c in self._next_calls]

    def next_call_times(self) -> list:
        """Arrival times (epoch seconds, float) of every GET /next, in order."""
        with self._lock:
            return [c["at"] for c in self._next_calls]

    def wait_next_calls(self, count: int = 1, timeout: float = 5.0) -> list:
        end = time.monotonic() + timeout
        with self._cond:
            while len(self._next_calls) < count:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("%d /next calls within %.1f s, wanted %d"
                                       % (len(self._next_calls), timeout, count))
                self._cond.wait(left)
            return [dict(c) for c in self._next_calls]

    def posts(self) -> list:
        """Every POST the runtime made to the Runtime API (accepted or not), in order."""
        with self._lock:
            return [dict(p) for p in self._posts]

    def state(self) -> dict:
        with self._lock:
            return {"state": self._state, "current_request_id": self._current_id,
                    "queued": len(self._queue), "connections_open": len(self._connections),
                    "connections_accepted": self._connections_accepted}

    def reset_runtime(self, error_type: str = "Runtime.ExitError",
                      message: str = "Runtime exited without providing a reason") -> None:
        """Simulate a fresh execution environment (e.g. after the test killed the runtime
        process): an unanswered invocation gets a platform error result, the init error is
        forgotten and the state returns to Started. Queued invocations stay queued."""
        with self._cond:
            if self._state == STATE_READY and self._current_id is not None:
                inv = self._invocations[self._current_id]
                body = json.dumps({"errorType": error_type,
                                   "errorMessage": "RequestId: %s Error: %s" % (inv.request_id, message)}
                                  ).encode()
                self._complete_locked(inv, kind="error", source="platform", phase="invoke", status=None,
                                      error_type=error_type, body=body,
                                      headers={"Content-Type": "application/json"})
            self._state = STATE_STARTED
            self._current_id = None
            self._init_error = None
            self._init_error_unserved = False
            self._cond.notify_all()

    def all_done(self, request_ids) -> bool:
        with self._lock:
            return all(self._invocations[r].result is not None for r in request_ids)

    # ----------------------------------------------------------------------------- internals
    def _log(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("[runtime-api-fixture] " + (fmt % args) + "\n")

    def _complete_locked(self, inv, *, kind, source, phase, status, error_type, body, headers):
        now, mono = time.time(), time.monotonic()
        inv.result = {
            "request_id": inv.request_id,
            "kind": kind,                  # "response" | "error"
            "source": source,              # "runtime" (it posted this) | "platform" (413, reset)
            "phase": phase,                # "invoke" | "init" (init error served to this invoke)
            "status": status,              # status the fixture answered the runtime's POST with
            "error_type": error_type,      # Lambda-Runtime-Function-Error-Type, or platform type
            "body": body,
            "body_json": _try_json(body),
            "headers": headers,
            "content_type": get_header(headers, "Content-Type"),
            "size": len(body),
            "event_source": inv.source,
            "deadline_ms": inv.deadline_ms,
            "delivery_count": inv.delivery_count,
            "enqueued_at": inv.enqueued_at,
            "delivered_at": inv.delivered_at,
            "completed_at": now,
            "enqueued_mono": inv.enqueued_mono,
            "delivered_mono": inv.delivered_mono,
            "completed_mono": mono,
            "latency_ms": None if inv.delivered_mono is None else (mono - inv.delivered_mono) * 1000.0,
        }
        self._completed.append(inv.result)
        self._cond.notify_all()

    def _serve_init_error_locked(self, inv):
        rec = self._init_error
        self._init_error_unserved = False
        self._complete_locked(inv, kind="error", source="runtime", phase="init", status=None,
                              error_type=rec["error_type"], body=rec["body"], headers=rec["headers"])

    def _track(self, conn, opened):
        with self._lock:
            if opened:
                self._connections.add(conn)
                self._connections_accepted += 1
            else:
                self._connections.discard(conn)

    @staticmethod
    def _peer_closed(conn) -> bool:
        try:
            readable, _, _ = select.select([conn], [], [], 0)
            if not readable:
                return False
            return conn.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    # GET /2018-06-01/runtime/invocation/next
    def _handle_next(self, h):
        rec = {"at": time.time(), "at_mono": time.monotonic(), "outcome": "waiting",
               "request_id": None, "delivered_at": None, "state_at_call": None}
        inv = None
        reject = None
        with self._cond:
            rec["state_at_call"] = self._state
            self._next_calls.append(rec)
            self._cond.notify_all()
            while True:
                if self._stopping:
                    rec["outcome"] = "stopped"
                    break
                if self._state == STATE_INIT_ERROR:
                    rec["outcome"] = "rejected"
                    reject = self._state
                    break
                if self._state == STATE_READY and rec["state_at_call"] == STATE_READY:
                    # /next while an invocation is unanswered: the emulator's Ready state accepts
                    # it and renders the current invocation again (same id, same deadline).
                    inv = self._invocations[self._current_id]
                    inv.delivery_count += 1
                    rec["outcome"] = "redelivered"
                    break
                if self._queue and self._state in (STATE_STARTED, STATE_RESPONSE_SENT):
                    if self._peer_closed(h.connection):
                        rec["outcome"] = "abandoned"
                        break
                    inv = self._queue.popleft()
                    inv.delivered_at, inv.delivered_mono = time.time(), time.monotonic()
                    inv.delivery_count += 1
                    inv.deadline_ms = (inv.explicit_deadline_ms if inv.explicit_deadline_ms is not None
                                       else int(inv.delivered_at * 1000) + int(inv.timeout_ms))
                    self._state = STATE_READY
                    self._current_id = inv.request_id
                    rec["outcome"] = "delivered"
                    break
                self._cond.wait(0.05)
                if self._peer_closed(h.connection):
                    rec["outcome"] = "abandoned"
                    break
            if inv is not None:
                rec["request_id"] = inv.request_id
                rec["delivered_at"] = time.time()
        if reject is not None:
            return h.send_json(403, {
                "errorMessage": "State transition from %s to %s failed for runtime. Error: %s"
                                % (reject, STATE_READY, _NOT_ALLOWED),
                "errorType": "InvalidStateTransition"})
        if inv is None:           # stopped or client gone: no answer, drop the connection
            h.close_connection = True
            return None
        headers = [(HDR_REQUEST_ID, inv.request_id),
                   (HDR_DEADLINE, str(inv.deadline_ms)),
                   (HDR_FUNCTION_ARN, self.function_arn),
                   (HDR_TRACE_ID, inv.trace_id)]
        if inv.client_context:
            headers.append((HDR_CLIENT_CONTEXT, inv.client_context))
        if inv.cognito_identity:
            headers.append((HDR_COGNITO_IDENTITY, inv.cognito_identity))
        self._log("next -> %s (%d bytes)", inv.request_id, len(inv.payload))
        return h.send(200, inv.payload, "application/json", headers)

    # POST /2018-06-01/runtime/invocation/{id}/response|error
    def _handle_invocation_post(self, h, request_id, kind, body):
        headers = dict(h.headers.items())
        now, mono = time.time(), time.monotonic()
        error_type = get_header(headers, HDR_FUNCTION_ERROR_TYPE) if kind == "error" else None
        with self._cond:
            if not request_id or request_id != self._current_id:
                status, answer = 400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
            elif self._state != STATE_READY:
                target = STATE_INVOCATION_RESPONSE if kind == "response" else STATE_INVOCATION_ERROR_RESPONSE
                status, answer = 403, {
                    "errorMessage": "State transition from %s to %s failed for runtime. Error: %s"
                                    % (self._state, target, _NOT_ALLOWED),
                    "errorType": "InvalidStateTransition"}
            elif kind == "response" and len(body) > self.max_response_bytes:
                inv = self._invocations[request_id]
                platform_type = "Function.ResponseSizeTooLarge"
                platform_body = json.dumps({
                    "errorMessage": "Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes)."
                                    % (len(body), self.max_response_bytes),
                    "errorType": platform_type}).encode()
                self._complete_locked(inv, kind="error", source="platform", phase="invoke", status=413,
                                      error_type=platform_type, body=platform_body, headers=headers)
                inv.result["runtime_body_size"] = len(body)
                self._state = STATE_RESPONSE_SENT
                status, answer = 413, {
                    "errorMessage": "Exceeded maximum allowed payload size (%d bytes)." % self.max_response_bytes,
                    "errorType": "RequestEntityTooLarge"}
            else:
                inv = self._invocations[request_id]
                self._complete_locked(inv, kind=kind, source="runtime", phase="invoke", status=202,
                                      error_type=error_type, body=body, headers=headers)
                self._state = STATE_RESPONSE_SENT
                status, answer = 202, {"status": "OK"}
            self._posts.append({"at": now, "at_mono": mono, "kind": kind, "request_id": request_id,
                                "status": status, "answer": answer, "error_type": error_type,
                                "headers": headers, "size": len(body), "body": body})
            self._cond.notify_all()
        self._log("%s %s -> %d", kind, request_id, status)
        return h.send_json(status, answer)

    # POST /2018-06-01/runtime/init/error
    def _handle_init_error(self, h, body):
        headers = dict(h.headers.items())
        now, mono = time.time(), time.monotonic()
        error_type = get_header(headers, HDR_FUNCTION_ERROR_TYPE)
        with self._cond:
            if self._state != STATE_STARTED:
                status, answer = 403, {
                    "errorMessage": "State transition from %s to %s failed for runtime. Error: %s"
                                    % (self._state, STATE_INIT_ERROR, _NOT_ALLOWED),
                    "errorType": "InvalidStateTransition"}
            else:
                self._state = STATE_INIT_ERROR
                self._init_error = {"at": now, "at_mono": mono, "error_type": error_type, "headers": headers,
                                    "body": body, "body_json": _try_json(body), "size": len(body),
                                    "content_type": get_header(headers, "Content-Type")}
                # "Error will be served in response to the first invoke."
                if self._queue:
                    self._serve_init_error_locked(self._queue.popleft())
                else:
                    self._init_error_unserved = True
                status, answer = 202, {"status": "OK"}
            self._posts.append({"at": now, "at_mono": mono, "kind": "init_error", "request_id": None,
                                "status": status, "answer": answer, "error_type": error_type,
                                "headers": headers, "size": len(body), "body": body})
            self._cond.notify_all()
        self._log("init/error -> %d", status)
        return h.send_json(status, answer)

    # /test/... control API
    def _handle_control(self, h, method, path, query, body):
        def q_num(name, kind=float, default=None):
            vals = query.get(name)
            if not vals:
                return default
            try:
                return kind(vals[-1])
            except ValueError:
                raise _BadRequest("query parameter %s must be a number" % name)

        def q_str(name):
            vals = query.get(name)
            return vals[-1] if vals else None

        if path == "/test/events":
            if method != "POST":
                return h.send_status_only(405, allow="POST")
            rid = self.enqueue(body, deadline_ms=q_num("deadline_ms", int), timeout_ms=q_num("timeout_ms", int),
                               request_id=q_str("request_id"), trace_id=q_str("trace_id"),
                               client_context=q_str("client_context"),
                               cognito_identity=q_str("cognito_identity"), source="http")
            return h.send_json(200, {"request_id": rid})
        if path.startswith("/test/results/"):
            if method != "GET":
                return h.send_status_only(405, allow="GET")
            rid = urllib.parse.unquote(path[len("/test/results/"):])
            try:
                res = self.wait_result(rid, q_num("timeout", float, 5.0))
            except KeyError:
                return h.send_json(404, {"error": "unknown_request_id", "request_id": rid})
            except TimeoutError:
                return h.send_json(504, {"error": "timeout", "request_id": rid})
            return h.send_json(200, jsonable(res))
        if path == "/test/results":
            return h.send_json(200, {"results": [jsonable(r) for r in self.results()]})
        if path == "/test/init-error":
            timeout = q_num("timeout", float)
            if timeout is None:
                return h.send_json(200, {"init_error": jsonable(self.init_error())})
            try:
                return h.send_json(200, {"init_error": jsonable(self.wait_init_error(timeout))})
            except TimeoutError:
                return h.send_json(504, {"error": "timeout", "init_error": None})
        if path == "/test/next-calls":
            count = q_num("count", int, 0)
            try:
                calls = self.wait_next_calls(count, q_num("timeout", float, 5.0)) if count else self.next_calls()
            except TimeoutError:
                return h.send_json(504, {"error": "timeout", "next_calls": self.next_calls()})
            return h.send_json(200, {"next_calls": calls, "times": [c["at"] for c in calls]})
        if path == "/test/posts":
            return h.send_json(200, {"posts": [jsonable(p) for p in self.posts()]})
        if path == "/test/state":
            return h.send_json(200, self.state())
        if path == "/test/reset":
            if method != "POST":
                return h.send_status_only(405, allow="POST")
            self.reset_runtime()
            return h.send_json(200, self.state())
        return h.send_not_found()

    def _route(self, h, method, body):
        split = urllib.parse.urlsplit(h.path)
        path = split.path
        if path == RUNTIME_PREFIX + "/invocation/next":
            if method != "GET":
                return h.send_status_only(405, allow="GET")
            return self._handle_next(h)
        m = _INVOCATION_POST_RE.match(path)
        if m:
            if method != "POST":
                return h.send_status_only(405, allow="POST")
            return self._handle_invocation_post(h, m.group(1), m.group(2), body)
        if path == RUNTIME_PREFIX + "/init/error":
            if method != "POST":
                return h.send_status_only(405, allow="POST")
            return self._handle_init_error(h, body)
        if path == "/test" or path.startswith("/test/"):
            return self._handle_control(h, method, path, urllib.parse.parse_qs(split.query), body)
        return h.send_not_found()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fixture: RuntimeApiFixture


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"        # keep-alive unless the client says Connection: close
    server_version = "footfall-runtime-api-fixture"
    sys_version = ""
    timeout = None                       # /next may legitimately wait forever

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.fixture._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.fixture._track(self.connection, False)

    def log_message(self, fmt, *args):
        if self.server.fixture.verbose:
            sys.stderr.write("[runtime-api-fixture] %s %s\n" % (self.address_string(), fmt % args))

    # -- body and responses
    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise _BadRequest("truncated chunked body")
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise _BadRequest("bad chunk size line")
                if size == 0:
                    while True:                      # trailers, up to the empty line
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return b"".join(chunks)
                data = self.rfile.read(size)
                if len(data) != size:
                    raise _BadRequest("truncated chunk")
                chunks.append(data)
                self.rfile.readline(3)               # CRLF after the chunk
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            raise _BadRequest("bad Content-Length")
        data = self.rfile.read(n) if n else b""
        if len(data) != n:
            raise _BadRequest("truncated body")
        return data

    def send(self, status, body: bytes, content_type, headers=()):
        """Status line, headers and body in one write (no Nagle stall between them)."""
        reason = self.responses.get(status, ("",))[0]
        lines = ["HTTP/1.1 %d %s" % (status, reason),
                 "Date: " + formatdate(usegmt=True),
                 "Server: " + self.server_version]
        if content_type is not None:
            lines.append("Content-Type: " + content_type)
        for k, v in headers:
            lines.append("%s: %s" % (k, v))
        lines.append("Content-Length: %d" % len(body))
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.log_request(status, len(body))
        try:
            self.wfile.write(head + body)
        except OSError:
            self.close_connection = True

    def send_json(self, status, obj):
        self.send(status, (json.dumps(obj, separators=(",", ":")) + "\n").encode("utf-8"), "application/json")

    def send_status_only(self, status, allow=None):
        self.send(status, b"", None, [("Allow", allow)] if allow else ())

    def send_not_found(self):
        self.send(404, b"404 page not found\n", "text/plain; charset=utf-8")

    def _dispatch(self, method):
        fx = self.server.fixture
        try:
            body = self._read_body()
        except _BadRequest as e:
            self.close_connection = True
            return self.send_json(400, {"errorMessage": str(e), "errorType": "InvalidRequestFormat"})
        try:
            fx._route(self, method, body)
        except _BadRequest as e:
            self.send_json(400, {"error": "bad_request", "message": str(e)})
        except Exception:  # a fixture bug must be visible, and must not hang the client
            traceback.print_exc()
            self.close_connection = True
            self.send_json(500, {"errorMessage": "Internal Server Error", "errorType": "InternalServerError"})

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")


# --------------------------------------------------------------------------------- script mode
def _expand_event_paths(items):
    paths = []
    for item in items:
        if os.path.isdir(item):
            for name in sorted(os.listdir(item)):
                full = os.path.join(item, name)
                if os.path.isfile(full) and name.endswith((".json", ".txt")):
                    paths.append(full)
        else:
            paths.append(item)
    return paths


def _summary(res):
    return {"event": "result", "request_id": res["request_id"], "kind": res["kind"], "source": res["source"],
            "phase": res["phase"], "status": res["status"], "error_type": res["error_type"], "size": res["size"],
            "latency_ms": None if res["latency_ms"] is None else round(res["latency_ms"], 3),
            "event_source": res["event_source"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Stand-in for the AWS Lambda Runtime API (2018-06-01).")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = any free port (default)")
    ap.add_argument("--events", nargs="*", default=[], metavar="DIR_OR_FILE",
                    help="event files to queue at start, in order (a directory: its *.json and *.txt, sorted)")
    ap.add_argument("--timeout-ms", type=int, default=DEFAULT_TIMEOUT_MS,
                    help="deadline = hand-out time + this (default 3000)")
    ap.add_argument("--function-arn", default=DEFAULT_FUNCTION_ARN)
    ap.add_argument("--max-response-bytes", type=int, default=MAX_RESPONSE_BYTES)
    ap.add_argument("--exit-when-done", action="store_true",
                    help="exit 0 once every queued file event has a result (or an init error arrived)")
    ap.add_argument("--results", metavar="FILE", help="write results, init error, /next calls and posts here on exit")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = ap.parse_args(argv)

    fx = RuntimeApiFixture(args.port, args.host, function_arn=args.function_arn,
                           default_timeout_ms=args.timeout_ms, max_response_bytes=args.max_response_bytes,
                           verbose=args.verbose)
    fx.start()
    address = fx.address
    print(address, flush=True)

    ids = []
    for path in _expand_event_paths(args.events):
        rid = fx.enqueue_file(path)
        ids.append(rid)
        print(json.dumps({"event": "enqueued", "request_id": rid, "file": path}), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    printed = 0
    try:
        while True:
            results = fx.results()
            for res in results[printed:]:
                print(json.dumps(_summary(res)), flush=True)
            printed = len(results)
            if stop.is_set():
                break
            if args.exit_when_done and (fx.all_done(ids) or fx.init_error() is not None):
                break
            stop.wait(0.02)
    finally:
        fx.stop()
        if args.results:
            dump = {"address": address,
                    "results": [jsonable(r) for r in fx.results()],
                    "init_error": jsonable(fx.init_error()),
                    "next_calls": fx.next_calls(),
                    "posts": [jsonable(p) for p in fx.posts()]}
            with open(args.results, "w") as f:
                json.dump(dump, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
