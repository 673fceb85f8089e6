#!/usr/bin/env python3
"""A TCP proxy that injects storage faults, for footfall's failure tests.

Tests put it between footfall and a storage engine (moto_server's DynamoDB API, PostgreSQL), switch
its mode while footfall runs, and check that footfall never crashes or hangs and recovers once the
mode is `pass` again. Python 3.11 standard library only; Linux (`refuse` relies on Linux's
un-listen). It only ever binds and connects to loopback addresses.

As a class (every method may be called from any thread; one I/O thread owns all the sockets):

    with FaultProxy(upstream=("127.0.0.1", 5000)) as proxy:
        ...  # point footfall at 127.0.0.1:proxy.port
        proxy.set_mode("http", preset="throttle")
        proxy.stats()["requests"]

As a subprocess, for C++ tests:

    python3 tests/tools/fault_proxy.py --upstream 127.0.0.1:5000
      prints one line, {"port": N, "control_port": M}, then serves on 127.0.0.1:M:
      POST /mode {"mode": "delay", "delay_ms": 200} -> 200 {"ok": true}
                                                     | 400 {"ok": false, "error": "..."}
      GET /stats                                    -> 200 stats() as JSON
    It exits with status 0 on SIGTERM or SIGINT, or when stdin -- if it is a pipe, socket or
    terminal -- reaches end of file, so a parent that holds the write end takes it down with it.

Messages. The proxy reads what a client sends as messages and applies the mode in force when it
has read each one (`reset` acts on bytes as soon as they are read, `refuse` on the listener), so
a mode applies both to new connections and to the next request on connections already open
(keep-alive). A connection whose first bytes are an HTTP request line
("METHOD ") is HTTP: a message is one request, head plus Content-Length body; a request with
Transfer-Encoding (chunked) is reset, and `Expect: 100-continue` is not answered. Any other
connection (PostgreSQL) is raw: a message is whatever has arrived. The upstream connection is
opened when a connection's first message is forwarded and then kept for that connection's life
(its failure resets the client). Answers are not parsed: the upstream's bytes are relayed as they
come, shaped by the mode in which the last message was forwarded.

Modes, set_mode(name, **params):
  pass      Forward each message; relay the upstream's bytes back. The default.
  refuse    As if the upstream process were down: the proxy stops listening, so new connections
            fail with ECONNREFUSED, and every open connection is reset (RST). The port stays
            bound: any other mode listens again on the same port.
  reset     When a client's next bytes arrive (one read: part of a request, or all of a short
            one), reset its connection (RST, SO_LINGER 0). Nothing reaches the upstream.
  stall     Read each message and drop it: nothing is forwarded or answered. The connection is
            held open until the mode changes (then closed with FIN, the message still dropped)
            or the proxy stops (closed with FIN).
  delay     As pass, but the upstream's bytes after the message are held from the first of them
            for delay_ms (required, >= 0), then relayed: each answer is delay_ms late (a
            PostgreSQL exchange of k round trips, k x delay_ms).
  truncate  As pass, but only the first truncate_bytes of what the upstream sends after the
            message reach the client; then both connections are closed (FIN). Default: half of
            the answer's HTTP head (status line and headers through the blank line), or half of
            the first read of an answer that is not HTTP.
  http      Answer each HTTP request at once, without the upstream: `HTTP/1.1 status`, with
            Content-Type and Content-Length (the body's, or content_length: announce another, e.g.
            100 GB for a short body), then body. Give body (bytes or str; status default
            200, content_type default DynamoDB's application/x-amz-json-1.0) or a preset from
            PRESETS (status and content_type then override the preset's). The connection stays
            open for more requests, answered the same way while the mode stays http; a request
            with "Connection: close" is answered with it and the connection closed. A raw
            (non-HTTP) connection is reset instead.
stall, delay, truncate and http also take only_targets: a list of operation names (the part of an
HTTP request's X-Amz-Target after the last "."); the mode then applies to those requests only, and
every other message is forwarded as in pass (e.g. fail DynamoDB's TransactWriteItems alone).
On connections already open when the mode changes: `refuse` resets them at once, stalled ones are
closed (FIN), and every other mode applies from the next request (message) each one sends.
"""

import argparse
import collections
import concurrent.futures
import dataclasses
import errno
import functools
import heapq
import http
import http.server
import ipaddress
import itertools
import json
import os
import re
import selectors
import signal
import socket
import stat
import struct
import sys
import threading
import time

LISTEN_HOST = "127.0.0.1"
LISTEN_BACKLOG = 128
READ_SIZE = 64 * 1024
MAX_REQUEST_HEAD_BYTES = 64 * 1024      # a longer request head resets the connection
MAX_REQUEST_BODY_BYTES = 64 * 1024 * 1024  # so does a longer declared body
MAX_PENDING_BYTES = 1024 * 1024  # stop reading one side while this much waits for the other
MAX_CONTROL_BODY_BYTES = 64 * 1024
CALL_TIMEOUT_S = 10.0  # set_mode and stats wait this long for the I/O thread
STOP_TIMEOUT_S = 2.0
DYNAMODB_JSON = "application/x-amz-json-1.0"
HUGE_BODY_BYTES = 10 * 1024 * 1024

_REQUEST_LINE_START = re.compile(rb"[A-Z]{1,20} ")
_MAYBE_REQUEST_LINE_START = re.compile(rb"[A-Z]{0,20}")
_SNIFF_BYTES = 21


@functools.cache
def _huge_body() -> bytes:
    """A valid DynamoDB Query answer of exactly HUGE_BODY_BYTES: {"Count": n, "Items": [...]}."""
    item = b'{"path": {"S": "/a/page/that/was/visited"}, "views": {"N": "1"}}'
    count = HUGE_BODY_BYTES // (len(item) + 2) - 1
    body = b'{"Count": %d, "Items": [' % count + b", ".join([item] * count) + b"]"
    return body + b" " * (HUGE_BODY_BYTES - len(body) - 1) + b"}"


# Canned answers for `http` mode: name -> (status, body or a function making it, content type).
# Bodies shaped as DynamoDB's JSON API answers (or as what stands in front of it, html_500);
# `huge` is a valid Query answer of exactly 10 MiB.
PRESETS = {
    "wrong_types": (400, b'{"__type": 123, "message": ["x"]}', DYNAMODB_JSON),
    "missing_fields": (200, b"{}", DYNAMODB_JSON),
    "not_object": (200, b"[]", DYNAMODB_JSON),
    "html_500": (500, b"<html><head><title>500 Internal Server Error</title></head><body>"
                      b"<h1>Internal Server Error</h1></body></html>\n", "text/html"),
    "huge": (200, _huge_body, DYNAMODB_JSON),
    "invalid_utf8": (200, b'{"Count": 1, "Items": [{"path": {"S": "/caf\xff\xfe"}}]}',
                     DYNAMODB_JSON),
    "throttle": (400, b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException",'
                      b'"message":"Rate exceeded"}', DYNAMODB_JSON),
    "garbage": (200, b"this is not JSON {{{ <<<", DYNAMODB_JSON),
}

# Each mode's parameters. `reset` acts on bytes as they are read and `refuse` on the listener;
# the others act on whole messages (FaultProxy._message_handlers).
MODE_PARAMS = {
    "pass": (), "refuse": (), "reset": (), "stall": ("only_targets",),
    "delay": ("delay_ms", "only_targets"),
    "truncate": ("truncate_bytes", "only_targets"),
    "http": ("preset", "body", "status", "content_type", "content_length", "only_targets"),
}


@dataclasses.dataclass(frozen=True)
class Mode:
    """A validated mode (see the module docstring); make one with parse_mode."""
    name: str
    delay_ms: int | None = None
    truncate_bytes: int | None = None
    answer_head: bytes = b""  # http: status line and headers, without the blank line
    answer_body: bytes = dataclasses.field(default=b"", repr=False)
    # Message modes only: when set, the mode applies to HTTP requests whose X-Amz-Target header
    # ends with ".<one of these>" (DynamoDB operations, e.g. "TransactWriteItems"); every other
    # message is forwarded as in `pass`.
    only_targets: tuple = ()

    def applies_to(self, message: "_Message") -> bool:
        if not self.only_targets:
            return True
        head = message.data.split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"x-amz-target":
                operation = value.strip().rpartition(b".")[2].decode("latin-1")
                return operation in self.only_targets
        return False

    def http_answer(self, close: bool) -> bytes:
        """The whole `http` answer, announcing "Connection: close" when `close`."""
        end_of_head = b"Connection: close\r\n\r\n" if close else b"\r\n"
        return self.answer_head + end_of_head + self.answer_body


def parse_mode(name: str, params: dict) -> Mode:
    """The Mode `name` with `params`. Raises ValueError on an unknown mode, an unknown, missing
    or out-of-range parameter."""
    if name not in MODE_PARAMS:
        raise ValueError(f"unknown mode {name!r}; modes: {', '.join(MODE_PARAMS)}")
    unknown = sorted(set(params) - set(MODE_PARAMS[name]))
    if unknown:
        raise ValueError(f"mode {name!r} takes no parameter {', '.join(unknown)}")
    only_targets = params.pop("only_targets", None) if "only_targets" in params else None
    if only_targets is not None and (not isinstance(only_targets, (list, tuple)) or not all(
            isinstance(t, str) and t for t in only_targets)):
        raise ValueError(f"only_targets must be a list of operation names, not {only_targets!r}")
    mode = Mode(name)
    if name == "delay":
        mode = Mode(name, delay_ms=_count_param(params, "delay_ms", required=True))
    elif name == "truncate":
        mode = Mode(name, truncate_bytes=_count_param(params, "truncate_bytes", required=False))
    elif name == "http":
        mode = _http_mode(params)
    return dataclasses.replace(mode, only_targets=tuple(only_targets or ()))


def _count_param(params: dict, key: str, required: bool) -> int | None:
    value = params.get(key)
    if value is None and not required:
        return None
    if type(value) is not int or value < 0:
        raise ValueError(f"{key} must be an integer >= 0, not {value!r}")
    return value


def _http_mode(params: dict) -> Mode:
    preset, body = params.get("preset"), params.get("body")
    if (preset is None) == (body is None):
        raise ValueError("mode 'http' needs exactly one of preset, body")
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
        status, body, content_type = PRESETS[preset]
        body = body() if callable(body) else body
    else:
        status, content_type = 200, DYNAMODB_JSON
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes):
            raise ValueError(f"body must be bytes or str, not {type(body).__name__}")
    status = params.get("status", status)
    content_type = params.get("content_type", content_type)
    if type(status) is not int or not 200 <= status <= 599:
        raise ValueError(f"status must be an integer from 200 to 599, not {status!r}")
    if not isinstance(content_type, str) or not content_type.isprintable():
        raise ValueError(f"content_type must be a printable str, not {content_type!r}")
    # content_length: announce this length instead of the body's (a "length bomb" when larger).
    length = params.get("content_length", len(body))
    if type(length) is not int or length < 0:
        raise ValueError(f"content_length must be an integer >= 0, not {length!r}")
    return Mode("http", answer_head=_answer_head(status, content_type, length), answer_body=body)


def _answer_head(status: int, content_type: str, length: int) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Fault"
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n").encode("latin-1")


def loopback_upstream(host: str, port: int) -> tuple[int, tuple]:
    """(address family, socket address) of the first address `host`:`port` resolves to. Raises
    ValueError unless every address `host` resolves to is a loopback address."""
    if type(port) is not int or not 0 < port < 65536:
        raise ValueError(f"upstream port must be 1-65535, not {port!r}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ValueError(f"upstream {host!r}: {error}") from None
    if not all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos):
        raise ValueError(f"upstream {host!r} is not a loopback address: refused")
    return infos[0][0], infos[0][4]


class _Malformed(Exception):
    """A request the proxy cannot frame; its connection is reset."""


@dataclasses.dataclass
class _Message:
    data: bytes
    close: bool  # an HTTP request with "Connection: close"


def _sniff_http(start: bytes) -> bool | None:
    """Whether a connection whose first bytes are `start` is HTTP; None while too short to tell."""
    if _REQUEST_LINE_START.match(start):
        return True
    if len(start) < _SNIFF_BYTES and _MAYBE_REQUEST_LINE_START.fullmatch(start):
        return None
    return False


def _take_http_request(buffer: bytearray) -> _Message | None:
    """Removes and returns the first whole request in `buffer`; None if it is not all there.
    Raises _Malformed on a head or body over the limits, Transfer-Encoding or a bad
    Content-Length."""
    end = buffer.find(b"\r\n\r\n", 0, MAX_REQUEST_HEAD_BYTES)
    if end < 0:
        if len(buffer) >= MAX_REQUEST_HEAD_BYTES:
            raise _Malformed("request head too long")
        return None
    fields = {}
    for line in bytes(buffer[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    if b"transfer-encoding" in fields:
        raise _Malformed("Transfer-Encoding requests are not supported")
    length = fields.get(b"content-length", b"0")
    if not length.isdigit() or int(length) > MAX_REQUEST_BODY_BYTES:
        raise _Malformed(f"bad Content-Length {length!r}")
    total = end + 4 + int(length)
    if len(buffer) < total:
        return None
    data = bytes(buffer[:total])
    del buffer[:total]
    return _Message(data, close=fields.get(b"connection", b"").lower() == b"close")


def _default_truncation(answer: bytes, eof: bool) -> int | None:
    """How many bytes of `answer` truncate passes by default; None until that can be told."""
    if answer[:5] != b"HTTP/"[:len(answer)]:
        return len(answer) // 2
    end = answer.find(b"\r\n\r\n")
    if end >= 0:
        return (end + 4) // 2
    return len(answer) // 2 if eof or len(answer) >= MAX_REQUEST_HEAD_BYTES else None


@dataclasses.dataclass
class _Truncation:
    limit: int | None  # None: _default_truncation decides once enough has arrived
    sent: int = 0
    pending: bytearray = dataclasses.field(default_factory=bytearray)


class _Session:
    """One client connection and, once a message has been forwarded, its upstream connection.
    Touched only by the I/O thread."""

    def __init__(self, client: socket.socket):
        self.client = client
        self.upstream: socket.socket | None = None
        self.upstream_connecting = False
        self.upstream_write_shut = False
        self.inbuf = bytearray()        # client bytes not yet taken as a message
        self.to_upstream = bytearray()
        self.to_client = bytearray()
        self.held = bytearray()         # delay: upstream bytes waiting for hold_until
        self.hold_until: float | None = None
        self.delay_ms: int | None = None  # delay: hold the next upstream bytes this long
        self.truncation: _Truncation | None = None
        self.is_http: bool | None = None
        self.client_eof = False
        self.stalled = False
        self.closing = False  # close (FIN) once everything for the client is written
        self.closed = False


class FaultProxy:
    """The proxy: a listener on 127.0.0.1 (port from the OS) forwarding to one loopback upstream,
    in the mode last given to set_mode. Runs once: start() (or `with`), then stop()."""

    def __init__(self, upstream: tuple[str, int]):
        """Raises ValueError unless `upstream` (host, port) is a loopback address."""
        self._upstream_family, self._upstream_address = loopback_upstream(*upstream)
        self._mode = Mode("pass")
        self._counters = dict.fromkeys(
            ("connections_accepted", "requests", "bytes_from_client", "bytes_to_upstream",
             "bytes_from_upstream", "bytes_to_client"), 0)
        self._sessions: set[_Session] = set()
        self._timers: list = []  # heap of (monotonic time, sequence number, function)
        self._timer_sequence = itertools.count()
        self._calls = collections.deque()  # (function, Future) for the I/O thread to run
        self._calls_lock = threading.Lock()
        self._running = False
        self._stop_requested = False
        self._thread: threading.Thread | None = None
        self._port = 0
        self._message_handlers = {
            "pass": self._forward, "delay": self._forward_delayed,
            "truncate": self._forward_truncated, "stall": self._stall, "http": self._answer,
        }

    # -- Public API ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port clients connect to (on 127.0.0.1); 0 before start()."""
        return self._port

    def start(self) -> "FaultProxy":
        """Binds, listens and starts the I/O thread; returns self. Raises OSError if it cannot
        bind, RuntimeError if already started."""
        if self._thread is not None:
            raise RuntimeError("a FaultProxy starts once")
        self._listener = _bind_listener()
        self._listener.listen(LISTEN_BACKLOG)
        self._port = self._listener.getsockname()[1]
        self._wake_reader, self._wake_writer = socket.socketpair()
        for sock in (self._listener, self._wake_reader, self._wake_writer):
            sock.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, self._accept)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, self._run_calls)
        self._running = True
        self._thread = threading.Thread(target=self._run, name="fault-proxy-io")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Closes every socket (open connections see FIN, stalled ones included) and joins the
        I/O thread. Raises RuntimeError if that takes over STOP_TIMEOUT_S. Idempotent."""
        if self._thread is None:
            return
        self._stop_requested = True
        self._wake()
        self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():
            raise RuntimeError(f"fault proxy I/O thread still running after {STOP_TIMEOUT_S} s")

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def set_mode(self, name: str, /, **params) -> None:
        """Switches to mode `name` (module docstring); it applies to every connection accepted and
        every message read after this returns. Raises ValueError on a bad mode or parameter,
        RuntimeError if the proxy is not running, OSError if it cannot listen again after
        `refuse` (the mode then stays `refuse`)."""
        mode = parse_mode(name, params)
        self._call(functools.partial(self._apply_mode, mode))

    def stats(self) -> dict:
        """Counters since start: connections_accepted, requests (whole HTTP requests read, in
        any mode), bytes_from_client, bytes_to_upstream, bytes_from_upstream, bytes_to_client;
        and now: connections_open, mode (its name)."""
        try:
            return self._call(self._snapshot)
        except RuntimeError:  # not running: nothing changes any more
            return self._snapshot()

    # -- Calls into the I/O thread -------------------------------------------------------------

    def _call(self, function):
        future = concurrent.futures.Future()
        with self._calls_lock:
            if not self._running:
                raise RuntimeError("the fault proxy is not running")
            self._calls.append((function, future))
        self._wake()
        return future.result(CALL_TIMEOUT_S)

    def _wake(self) -> None:
        try:
            self._wake_writer.send(b"\0")
        except OSError:  # BlockingIOError: a wake-up is pending already; else the loop is gone
            pass

    def _run_calls(self, _events: int) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except BlockingIOError:
            pass
        while True:
            with self._calls_lock:
                if not self._calls:
                    return
                function, future = self._calls.popleft()
            try:
                future.set_result(function())
            except Exception as error:  # handed to the caller of set_mode / stats
                future.set_exception(error)

    def _snapshot(self) -> dict:
        return dict(self._counters, connections_open=len(self._sessions), mode=self._mode.name)

    # -- The I/O loop --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop_requested:
                for key, events in self._selector.select(self._next_timer_delay()):
                    key.data(events)
                self._run_due_timers()
        finally:
            self._shut_down()

    def _shut_down(self) -> None:
        with self._calls_lock:
            self._running = False
            abandoned = list(self._calls)
            self._calls.clear()
        for _, future in abandoned:
            future.set_exception(RuntimeError("the fault proxy stopped"))
        for session in list(self._sessions):
            self._close(session)
        for sock in (self._listener, self._wake_reader, self._wake_writer):
            sock.close()
        self._selector.close()

    def _at(self, when: float, function) -> None:
        heapq.heappush(self._timers, (when, next(self._timer_sequence), function))

    def _next_timer_delay(self) -> float | None:
        return max(0.0, self._timers[0][0] - time.monotonic()) if self._timers else None

    def _run_due_timers(self) -> None:
        while self._timers and self._timers[0][0] <= time.monotonic():
            heapq.heappop(self._timers)[2]()

    def _apply_mode(self, mode: Mode) -> None:
        was = self._mode.name
        if mode.name == "refuse" and was != "refuse":
            self._selector.unregister(self._listener)
            self._listener.shutdown(socket.SHUT_RD)  # Linux: stop listening, keep the port
            for session in list(self._sessions):
                self._reset(session)
        elif was == "refuse" and mode.name != "refuse":
            self._listener.listen(LISTEN_BACKLOG)
            self._selector.register(self._listener, selectors.EVENT_READ, self._accept)
        self._mode = mode
        if mode.name != "stall":
            for session in [s for s in self._sessions if s.stalled]:
                self._close(session)

    def _accept(self, _events: int) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # none left (BlockingIOError), or one given up on while queued
                return
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = _Session(client)
            self._sessions.add(session)
            self._counters["connections_accepted"] += 1
            self._settle(session)

    # -- Client side ---------------------------------------------------------------------------

    def _on_client(self, session: _Session, events: int) -> None:
        if events & selectors.EVENT_WRITE:
            self._write(session, session.client, session.to_client, "bytes_to_client")
        if events & selectors.EVENT_READ and not session.closed:
            self._read_client(session)
        self._settle(session)

    def _read_client(self, session: _Session) -> None:
        data = self._read(session, session.client)
        if data is None:
            return
        if not data:
            self._on_client_eof(session)
            return
        self._counters["bytes_from_client"] += len(data)
        if self._mode.name == "reset":
            self._reset(session)
        elif not session.stalled:
            session.inbuf += data
            self._handle_messages(session)

    def _on_client_eof(self, session: _Session) -> None:
        session.client_eof = True
        if session.upstream is None and not session.stalled:  # stall holds it even so
            session.closing = True
        # With an upstream, it gets FIN once what the client sent is written (_settle).

    def _handle_messages(self, session: _Session) -> None:
        while not (session.closed or session.closing or session.stalled):
            try:
                message = self._take_message(session)
            except _Malformed:
                self._reset(session)
                return
            if message is None:
                return
            if self._mode.applies_to(message):
                self._message_handlers[self._mode.name](session, message)
            else:
                self._forward(session, message)

    def _take_message(self, session: _Session) -> _Message | None:
        if session.is_http is None:
            session.is_http = _sniff_http(bytes(session.inbuf[:_SNIFF_BYTES]))
        if session.is_http is None or not session.inbuf:
            return None
        if not session.is_http:
            message = _Message(bytes(session.inbuf), close=False)
            session.inbuf.clear()
            return message
        message = _take_http_request(session.inbuf)
        if message is not None:
            self._counters["requests"] += 1
        return message

    # -- What each mode does with a message ----------------------------------------------------

    def _forward(self, session: _Session, message: _Message) -> None:
        session.delay_ms, session.truncation = None, None
        self._send_upstream(session, message)

    def _forward_delayed(self, session: _Session, message: _Message) -> None:
        session.delay_ms, session.truncation = self._mode.delay_ms, None
        self._send_upstream(session, message)

    def _forward_truncated(self, session: _Session, message: _Message) -> None:
        session.delay_ms, session.truncation = None, _Truncation(self._mode.truncate_bytes)
        self._send_upstream(session, message)

    def _stall(self, session: _Session, _message: _Message) -> None:
        session.stalled = True

    def _answer(self, session: _Session, message: _Message) -> None:
        if not session.is_http:
            self._reset(session)
            return
        session.to_client += self._mode.http_answer(message.close)
        if message.close:
            session.closing = True

    def _send_upstream(self, session: _Session, message: _Message) -> None:
        if session.upstream is None and not self._connect_upstream(session):
            return
        session.to_upstream += message.data

    def _connect_upstream(self, session: _Session) -> bool:
        upstream = socket.socket(self._upstream_family, socket.SOCK_STREAM)
        upstream.setblocking(False)
        error = upstream.connect_ex(self._upstream_address)
        if error not in (0, errno.EINPROGRESS):
            upstream.close()
            self._reset(session)
            return False
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        session.upstream, session.upstream_connecting = upstream, True
        return True

    # -- Upstream side -------------------------------------------------------------------------

    def _on_upstream(self, session: _Session, events: int) -> None:
        if session.closed or session.upstream is None:  # closed earlier in this select batch
            return
        if session.upstream_connecting:
            if session.upstream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                self._reset(session)  # the nearest a client can see to ECONNREFUSED
                return
            session.upstream_connecting = False
        if events & selectors.EVENT_WRITE:
            self._write(session, session.upstream, session.to_upstream, "bytes_to_upstream")
        if events & selectors.EVENT_READ and not session.closed:
            self._read_upstream(session)
        self._settle(session)

    def _read_upstream(self, session: _Session) -> None:
        data = self._read(session, session.upstream)
        if data is None:
            return
        self._counters["bytes_from_upstream"] += len(data)
        eof = not data
        if session.truncation is not None:
            data = self._truncate(session, data, eof)
        if data:
            self._relay(session, data)
        if eof and session.upstream is not None:
            self._drop_upstream(session)

    def _truncate(self, session: _Session, data: bytes, eof: bool) -> bytes:
        """The part of `data` truncate lets through; drops the upstream once the limit is met."""
        truncation = session.truncation
        if truncation.limit is None:
            truncation.pending += data
            truncation.limit = _default_truncation(bytes(truncation.pending), eof)
            if truncation.limit is None:
                return b""
            data = bytes(truncation.pending)
            truncation.pending.clear()
        allowed = data[:truncation.limit - truncation.sent]
        truncation.sent += len(allowed)
        if truncation.sent >= truncation.limit:
            self._drop_upstream(session)
        return allowed

    def _relay(self, session: _Session, data: bytes) -> None:
        if session.delay_ms is not None and session.hold_until is None:
            session.hold_until = time.monotonic() + session.delay_ms / 1000
            session.delay_ms = None
            self._at(session.hold_until, functools.partial(self._release_held, session))
        (session.to_client if session.hold_until is None else session.held).extend(data)

    def _release_held(self, session: _Session) -> None:
        if session.closed:
            return
        session.to_client += session.held
        session.held.clear()
        session.hold_until = None
        self._settle(session)

    def _drop_upstream(self, session: _Session) -> None:
        """Closes the upstream connection; the client's is closed once its answer is written."""
        self._unwatch(session.upstream)
        session.upstream.close()
        session.upstream = None
        session.closing = True

    # -- Shared socket plumbing ----------------------------------------------------------------

    def _read(self, session: _Session, sock: socket.socket) -> bytes | None:
        """Bytes read from `sock` (b"" at end of file); None if none yet or on an error, which
        resets the session."""
        try:
            return sock.recv(READ_SIZE)
        except BlockingIOError:
            return None
        except OSError:
            self._reset(session)
            return None

    def _write(self, session: _Session, sock: socket.socket, buffer: bytearray, counter: str):
        try:
            sent = sock.send(buffer)
        except BlockingIOError:
            return
        except OSError:
            self._reset(session)
            return
        del buffer[:sent]
        self._counters[counter] += sent

    def _settle(self, session: _Session) -> None:
        """Closes `session` once it has nothing left to do, or sets what its sockets wait for."""
        if session.closed:
            return
        if session.closing and not session.to_client and session.hold_until is None:
            self._close(session)
            return
        if (session.client_eof and session.upstream is not None and not session.to_upstream
                and not session.upstream_connecting and not session.upstream_write_shut):
            session.upstream_write_shut = True
            try:
                session.upstream.shutdown(socket.SHUT_WR)  # pass the client's half-close on
            except OSError:
                self._reset(session)
                return
        self._watch_client(session)
        if session.upstream is not None:
            self._watch_upstream(session)

    def _watch_client(self, session: _Session) -> None:
        events = selectors.EVENT_WRITE if session.to_client else 0
        backlog = max(len(session.to_upstream), len(session.to_client))
        if not (session.client_eof or session.closing) and backlog < MAX_PENDING_BYTES:
            events |= selectors.EVENT_READ
        self._watch(session.client, events, functools.partial(self._on_client, session))

    def _watch_upstream(self, session: _Session) -> None:
        if session.upstream_connecting:
            events = selectors.EVENT_WRITE
        else:
            events = selectors.EVENT_WRITE if session.to_upstream else 0
            if len(session.to_client) + len(session.held) < MAX_PENDING_BYTES:
                events |= selectors.EVENT_READ
        self._watch(session.upstream, events, functools.partial(self._on_upstream, session))

    def _watch(self, sock: socket.socket, events: int, callback) -> None:
        key = self._selector.get_map().get(sock)
        if key is None:
            if events:
                self._selector.register(sock, events, callback)
        elif not events:
            self._selector.unregister(sock)
        elif key.events != events:
            self._selector.modify(sock, events, callback)

    def _unwatch(self, sock: socket.socket) -> None:
        if sock in self._selector.get_map():
            self._selector.unregister(sock)

    def _reset(self, session: _Session) -> None:
        """Closes the client's connection with RST (SO_LINGER 0), the upstream's with FIN."""
        if not session.closed:
            session.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._close(session)

    def _close(self, session: _Session) -> None:
        if session.closed:
            return
        session.closed = True
        self._sessions.discard(session)
        for sock in (session.client, session.upstream):
            if sock is not None:
                self._unwatch(sock)
                sock.close()


def _bind_listener() -> socket.socket:
    """A TCP socket bound to an OS-chosen port on LISTEN_HOST. It names its port explicitly, which
    keeps the port bound while `refuse` stops listening (a socket bound to port 0 loses it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((LISTEN_HOST, 0))
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Both reuse the address and neither listens, so this binds the probe's port while the
        # probe still holds it: no other socket can take the port in between.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(probe.getsockname())
    return listener


# -- Command line: the proxy plus its control API ----------------------------------------------

class _ControlHandler(http.server.BaseHTTPRequestHandler):
    """POST /mode and GET /stats (module docstring); one request per connection."""

    def do_GET(self) -> None:
        if self.path != "/stats":
            self._reply(404, {"ok": False, "error": "GET /stats or POST /mode"})
            return
        self._reply(200, self.server.proxy.stats())

    def do_POST(self) -> None:
        if self.path != "/mode":
            self._reply(404, {"ok": False, "error": "GET /stats or POST /mode"})
            return
        try:
            params = self._read_json_object()
            name = params.pop("mode", None)
            if not isinstance(name, str):
                raise ValueError('the body needs "mode": a string')
            self.server.proxy.set_mode(name, **params)
        except ValueError as error:
            self._reply(400, {"ok": False, "error": str(error)})
        except (OSError, RuntimeError) as error:
            self._reply(500, {"ok": False, "error": str(error)})
        else:
            self._reply(200, {"ok": True})

    def _read_json_object(self) -> dict:
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_CONTROL_BODY_BYTES:
            raise ValueError(f"Content-Length must be 0 to {MAX_CONTROL_BODY_BYTES}")
        params = json.loads(self.rfile.read(int(length)) or b"null")
        if not isinstance(params, dict):
            raise ValueError("the body must be a JSON object")
        return params

    def _reply(self, status: int, document: dict) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:  # keep the test's output for the test
        pass


def _upstream_argument(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def _stdin_can_close() -> bool:
    """Whether stdin is something whose end means the parent is gone (a pipe, socket or terminal),
    rather than /dev/null or a file that is at its end from the start."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(0)


def _exit_requests() -> threading.Event:
    """An event set on SIGTERM or SIGINT, or at the end of stdin when _stdin_can_close()."""
    exit_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: exit_requested.set())
    if _stdin_can_close():
        def read_stdin_to_end():
            while os.read(0, 4096):
                pass
            exit_requested.set()
        threading.Thread(target=read_stdin_to_end, name="fault-proxy-stdin", daemon=True).start()
    return exit_requested


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, type=_upstream_argument,
                        help="HOST:PORT of the storage engine (a loopback address)")
    args = parser.parse_args(argv)
    try:
        proxy = FaultProxy(upstream=args.upstream)
    except ValueError as error:
        parser.error(str(error))
    exit_requested = _exit_requests()  # before the ports line: a parent may signal right after it
    control = http.server.ThreadingHTTPServer((LISTEN_HOST, 0), _ControlHandler)
    control.proxy = proxy
    control_thread = threading.Thread(target=control.serve_forever, name="fault-proxy-control")
    with proxy:
        control_thread.start()
        try:
            print(json.dumps({"port": proxy.port, "control_port": control.server_address[1]}),
                  flush=True)
            exit_requested.wait()
        finally:
            control.shutdown()
            control_thread.join()
            control.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
