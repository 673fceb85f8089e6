#!/usr/bin/env python3
"""Self-test of fault_proxy.py: every mode against upstreams started here (an HTTP/1.1 keep-alive
server and a raw TCP echo server, both on 127.0.0.1 port 0), switches on one port and on open
keep-alive connections, the command line and its control API, and a clean stop.
Python 3.11 stdlib only; run directly or through ctest (fault_proxy_selftest). Takes a few seconds.
"""

import http.client
import http.server
import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
PROXY_SCRIPT = os.path.join(HERE, "fault_proxy.py")
sys.path.insert(0, HERE)

import fault_proxy  # noqa: E402

WAIT_S = 10.0  # the longest any one step may take: a hang fails the test instead of blocking ctest
DELAY_MS = 300
# The upstream's answers are byte-for-byte fixed (no clock, no version in them), so truncation
# can be checked exactly.
FIXED_DATE = "Thu, 01 Jan 2026 00:00:00 GMT"
POSTGRES_SSL_REQUEST = b"\x00\x00\x00\x08\x04\xd2\x16\x2f"


def wait_until(predicate, what: str) -> None:
    """Polls `predicate` until it is true; fails the test after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {WAIT_S} s waiting for {what}")
        time.sleep(0.005)


class _HttpUpstreamHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as moto_server

    def do_GET(self) -> None:
        self._reply(b"hello " + self.path.encode())

    def do_POST(self) -> None:
        self._reply(b"echo " + self.rfile.read(int(self.headers["Content-Length"])))

    def _reply(self, body: bytes) -> None:
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def version_string(self) -> str:
        return "upstream"

    def date_time_string(self, timestamp=None) -> str:
        return FIXED_DATE

    def log_message(self, *_args) -> None:
        pass


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


def start_server(server: socketserver.TCPServer) -> socketserver.TCPServer:
    """Serves `server` on a thread until the test ends."""
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="test-upstream")
    thread.start()
    return server


def stop_server(server: socketserver.TCPServer) -> None:
    server.shutdown()
    server.server_close()


def raw_exchange(port: int, data: bytes) -> bytes:
    """Sends `data` on a new connection and returns everything received until end of file."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as sock:
        sock.sendall(data)
        return read_to_end(sock)


def read_to_end(sock: socket.socket) -> bytes:
    received = bytearray()
    while chunk := sock.recv(65536):
        received += chunk
    return bytes(received)


def get(conn: http.client.HTTPConnection, path: str, headers=None):
    """GET `path` on `conn`; returns (status, Content-Type, body)."""
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.getheader("Content-Type"), response.read()


class ProxyTestCase(unittest.TestCase):
    """A fresh HTTP upstream and a proxy in front of it for every test."""

    def setUp(self) -> None:
        self.upstream = start_server(
            http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HttpUpstreamHandler))
        self.upstream.paths = []
        self.addCleanup(stop_server, self.upstream)
        self.proxy = fault_proxy.FaultProxy(upstream=("127.0.0.1", self.upstream.server_port))
        self.proxy.start()
        self.addCleanup(self.proxy.stop)

    def connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=WAIT_S)
        self.addCleanup(conn.close)
        return conn

    def upstream_answer(self, request: bytes) -> bytes:
        """The upstream's whole answer to `request` (which asks for Connection: close)."""
        return raw_exchange(self.upstream.server_port, request)


class PassTest(ProxyTestCase):
    def test_forwards_requests_on_a_keep_alive_connection_and_counts_them(self):
        conn = self.connect()
        for path in ("/a", "/b", "/c"):
            self.assertEqual(get(conn, path), (200, "text/plain", b"hello " + path.encode()))
        conn.request("POST", "/p", body=b"payload")
        self.assertEqual(conn.getresponse().read(), b"echo payload")
        self.assertEqual(self.upstream.paths, ["/a", "/b", "/c", "/p"])
        wait_until(lambda: self.proxy.stats()["bytes_to_client"]
                   == self.proxy.stats()["bytes_from_upstream"], "every answer byte counted")
        stats = self.proxy.stats()
        self.assertEqual(stats["connections_accepted"], 1)
        self.assertEqual(stats["connections_open"], 1)
        self.assertEqual(stats["requests"], 4)
        self.assertEqual(stats["mode"], "pass")
        self.assertEqual(stats["bytes_from_client"], stats["bytes_to_upstream"])
        self.assertGreater(stats["bytes_from_client"], 0)
        self.assertGreater(stats["bytes_from_upstream"], 0)

    def test_serves_concurrent_keep_alive_connections(self):
        clients, requests_each = 16, 25
        failures = []

        def client(number: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=WAIT_S)
            try:
                for i in range(requests_each):
                    path = f"/{number}/{i}"
                    if get(conn, path)[2] != b"hello " + path.encode():
                        failures.append(path)
            except OSError as error:
                failures.append(repr(error))
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_S)
        self.assertEqual(failures, [])
        self.assertEqual(len(self.upstream.paths), clients * requests_each)
        stats = self.proxy.stats()
        self.assertEqual(stats["connections_accepted"], clients)
        self.assertEqual(stats["requests"], clients * requests_each)


    def test_an_upstream_that_refuses_resets_the_client(self):
        with socket.socket() as bound_not_listening:
            bound_not_listening.bind(("127.0.0.1", 0))
            proxy = fault_proxy.FaultProxy(upstream=bound_not_listening.getsockname())
            with proxy, self.assertRaises(ConnectionResetError):
                raw_exchange(proxy.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")


class RefuseTest(ProxyTestCase):
    def test_refuses_new_connections_resets_open_ones_and_listens_again_on_the_same_port(self):
        port = self.proxy.port
        kept_alive = self.connect()
        self.assertEqual(get(kept_alive, "/before")[0], 200)
        self.proxy.set_mode("refuse")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
        with self.assertRaises(ConnectionError):  # reset, seen on send or on receive
            get(kept_alive, "/after-refuse")
        self.assertEqual(self.proxy.stats()["connections_open"], 0)

        self.proxy.set_mode("pass")
        self.assertEqual(self.proxy.port, port)
        self.assertEqual(get(self.connect(), "/again")[2], b"hello /again")
        self.assertEqual(self.upstream.paths, ["/before", "/again"])


class ResetTest(ProxyTestCase):
    def test_resets_a_new_connection_mid_request(self):
        self.proxy.set_mode("reset")
        with socket.create_connection(("127.0.0.1", self.proxy.port), timeout=WAIT_S) as sock:
            # The head promises 100 bytes of body; only 10 are sent.
            sock.sendall(b"POST /r HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
            with self.assertRaises(ConnectionResetError):
                read_to_end(sock)
        self.assertEqual(self.upstream.paths, [])
        self.assertEqual(self.proxy.stats()["requests"], 0)

        self.proxy.set_mode("pass")
        self.assertEqual(get(self.connect(), "/ok")[2], b"hello /ok")

    def test_resets_the_next_request_on_a_keep_alive_connection(self):
        conn = self.connect()
        self.assertEqual(get(conn, "/first")[0], 200)
        self.proxy.set_mode("reset")
        with self.assertRaises(ConnectionError):
            get(conn, "/second")
        self.assertEqual(self.upstream.paths, ["/first"])


class StallTest(ProxyTestCase):
    def test_holds_the_request_unanswered_until_the_mode_changes(self):
        self.proxy.set_mode("stall")
        with socket.create_connection(("127.0.0.1", self.proxy.port), timeout=WAIT_S) as sock:
            sock.sendall(b"GET /stalled HTTP/1.1\r\nHost: x\r\n\r\n")
            wait_until(lambda: self.proxy.stats()["requests"] == 1, "the stalled request read")
            self.assertEqual(self.proxy.stats()["connections_open"], 1)
            self.proxy.set_mode("pass")
            self.assertEqual(read_to_end(sock), b"")  # closed, never answered
        self.assertEqual(get(self.connect(), "/next")[2], b"hello /next")
        self.assertEqual(self.upstream.paths, ["/next"])  # the stalled request never went on

    def test_stop_releases_stalled_connections(self):
        self.proxy.set_mode("stall")
        with socket.create_connection(("127.0.0.1", self.proxy.port), timeout=WAIT_S) as sock:
            sock.sendall(b"GET /stalled HTTP/1.1\r\nHost: x\r\n\r\n")
            wait_until(lambda: self.proxy.stats()["requests"] == 1, "the stalled request read")
            started = time.monotonic()
            self.proxy.stop()
            self.assertLess(time.monotonic() - started, fault_proxy.STOP_TIMEOUT_S)
            self.assertEqual(read_to_end(sock), b"")
        self.assertEqual(self.upstream.paths, [])


class DelayTest(ProxyTestCase):
    def test_delays_answers_on_open_and_new_connections(self):
        kept_alive = self.connect()
        self.assertEqual(get(kept_alive, "/fast")[0], 200)
        self.proxy.set_mode("delay", delay_ms=DELAY_MS)
        for conn in (kept_alive, self.connect()):
            started = time.monotonic()
            self.assertEqual(get(conn, "/slow")[2], b"hello /slow")
            self.assertGreaterEqual(time.monotonic() - started, DELAY_MS / 1000)


class TruncateTest(ProxyTestCase):
    REQUEST = b"GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    def test_passes_the_first_truncate_bytes_then_closes(self):
        whole = self.upstream_answer(self.REQUEST)
        self.proxy.set_mode("truncate", truncate_bytes=10)
        self.assertEqual(raw_exchange(self.proxy.port, self.REQUEST), whole[:10])

    def test_passes_half_the_answer_head_by_default(self):
        whole = self.upstream_answer(self.REQUEST)
        head_length = whole.index(b"\r\n\r\n") + 4
        self.proxy.set_mode("truncate")
        self.assertEqual(raw_exchange(self.proxy.port, self.REQUEST), whole[:head_length // 2])

    def test_truncates_the_next_answer_on_a_keep_alive_connection(self):
        whole = self.upstream_answer(self.REQUEST)
        conn = self.connect()
        self.assertEqual(get(conn, "/t")[0], 200)
        self.proxy.set_mode("truncate", truncate_bytes=len(whole) - 3)
        with self.assertRaises(http.client.IncompleteRead):  # the body stops 3 bytes short
            get(conn, "/t")


class HttpModeTest(ProxyTestCase):
    def test_presets_on_one_keep_alive_connection(self):
        conn = self.connect()
        checks = {
            "wrong_types": (400, lambda body: self.assertEqual(
                json.loads(body), {"__type": 123, "message": ["x"]})),
            "missing_fields": (200, lambda body: self.assertEqual(json.loads(body), {})),
            "not_object": (200, lambda body: self.assertEqual(json.loads(body), [])),
            "html_500": (500, lambda body: self.assertTrue(body.startswith(b"<html>"))),
            "huge": (200, self.check_huge),
            "invalid_utf8": (200, self.check_invalid_utf8),
            "throttle": (400, lambda body: self.assertEqual(json.loads(body), {
                "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                "message": "Rate exceeded"})),
            "garbage": (200, lambda body: self.assertRaises(ValueError, json.loads, body)),
        }
        self.assertEqual(sorted(checks), sorted(fault_proxy.PRESETS))
        for preset, (status, check_body) in checks.items():
            with self.subTest(preset=preset):
                self.proxy.set_mode("http", preset=preset)
                got_status, content_type, body = get(conn, "/" + preset)
                self.assertEqual(got_status, status)
                expected_type = "text/html" if preset == "html_500" else fault_proxy.DYNAMODB_JSON
                self.assertEqual(content_type, expected_type)
                check_body(body)
        self.assertEqual(self.upstream.paths, [])
        stats = self.proxy.stats()
        self.assertEqual((stats["connections_accepted"], stats["requests"]), (1, len(checks)))

    def check_huge(self, body: bytes) -> None:
        self.assertEqual(len(body), 10 * 1024 * 1024)
        document = json.loads(body)
        self.assertEqual(document["Count"], len(document["Items"]))
        self.assertGreater(document["Count"], 100_000)

    def check_invalid_utf8(self, body: bytes) -> None:
        self.assertIn(b"\xff\xfe", body)
        self.assertRaises(UnicodeDecodeError, body.decode, "utf-8")

    def test_custom_answers_keep_alive_then_pass_on_the_same_connection(self):
        conn = self.connect()
        self.proxy.set_mode("http", body=b"custom", status=503, content_type="text/plain")
        for path in ("/1", "/2", "/3"):
            self.assertEqual(get(conn, path), (503, "text/plain", b"custom"))
        self.proxy.set_mode("pass")
        self.assertEqual(get(conn, "/real")[2], b"hello /real")
        self.assertEqual(self.upstream.paths, ["/real"])
        self.assertEqual(self.proxy.stats()["connections_accepted"], 1)

    def test_only_targets_applies_the_mode_to_those_operations_alone(self):
        conn = self.connect()
        self.proxy.set_mode("http", preset="throttle", only_targets=["TransactWriteItems"])
        status, _, body = get(conn, "/a", {"X-Amz-Target": "DynamoDB_20120810.TransactWriteItems"})
        self.assertEqual(status, 400)
        self.assertIn(b"ThrottlingException", body)
        self.assertEqual(get(conn, "/b", {"X-Amz-Target": "DynamoDB_20120810.PutItem"})[2],
                         b"hello /b")
        self.assertEqual(get(conn, "/c")[2], b"hello /c")  # no target at all: forwarded
        self.assertEqual(self.upstream.paths, ["/b", "/c"])
        with self.assertRaises(ValueError):
            self.proxy.set_mode("http", preset="throttle", only_targets="PutItem")

    def test_connection_close_request_is_answered_then_closed(self):
        self.proxy.set_mode("http", preset="missing_fields")
        answer = raw_exchange(self.proxy.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2"
                                               b"\r\nConnection: close\r\n\r\n{}")
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK\r\n"))
        self.assertIn(b"\r\nConnection: close\r\n", answer)
        self.assertTrue(answer.endswith(b"\r\n\r\n{}"))


class RawProtocolTest(unittest.TestCase):
    """A connection that does not start with an HTTP request line, as PostgreSQL's."""

    def setUp(self) -> None:
        echo = start_server(socketserver.ThreadingTCPServer(("127.0.0.1", 0), _EchoHandler))
        self.addCleanup(stop_server, echo)
        self.proxy = fault_proxy.FaultProxy(upstream=("127.0.0.1", echo.server_address[1]))
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        self.sock = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=WAIT_S)
        self.addCleanup(self.sock.close)

    def exchange(self, data: bytes) -> bytes:
        self.sock.sendall(data)
        received = bytearray()
        while len(received) < len(data):
            received += self.sock.recv(65536) or self.fail("closed early")
        return bytes(received)

    def test_pass_and_delay_forward_bytes(self):
        self.assertEqual(self.exchange(POSTGRES_SSL_REQUEST), POSTGRES_SSL_REQUEST)
        self.proxy.set_mode("delay", delay_ms=DELAY_MS)
        started = time.monotonic()
        self.assertEqual(self.exchange(b"Q-later"), b"Q-later")
        self.assertGreaterEqual(time.monotonic() - started, DELAY_MS / 1000)
        sent = len(POSTGRES_SSL_REQUEST) + len(b"Q-later")
        wait_until(lambda: self.proxy.stats()["bytes_to_client"] == sent, "answer bytes counted")
        stats = self.proxy.stats()
        self.assertEqual((stats["bytes_from_client"], stats["bytes_to_upstream"],
                          stats["bytes_from_upstream"]), (sent, sent, sent))
        self.assertEqual(stats["requests"], 0)

    def test_http_mode_resets_a_raw_connection(self):
        self.assertEqual(self.exchange(POSTGRES_SSL_REQUEST), POSTGRES_SSL_REQUEST)
        self.proxy.set_mode("http", preset="throttle")
        self.sock.sendall(POSTGRES_SSL_REQUEST)
        with self.assertRaises(ConnectionResetError):
            read_to_end(self.sock)


class ValidationTest(unittest.TestCase):
    def test_refuses_upstreams_that_are_not_loopback(self):
        for upstream in (("192.0.2.1", 80), ("10.0.0.1", 5432), ("0.0.0.0", 80),
                         ("127.0.0.1", 0), ("127.0.0.1", 70000)):
            with self.subTest(upstream=upstream), self.assertRaises(ValueError):
                fault_proxy.FaultProxy(upstream=upstream)
        fault_proxy.FaultProxy(upstream=("::1", 5432))
        fault_proxy.FaultProxy(upstream=("localhost", 5432))

    def test_rejects_bad_modes_and_parameters(self):
        bad = [("nope", {}), ("pass", {"delay_ms": 5}), ("delay", {}),
               ("delay", {"delay_ms": -1}), ("delay", {"delay_ms": "5"}),
               ("truncate", {"truncate_bytes": True}), ("http", {}),
               ("http", {"preset": "throttle", "body": b"x"}), ("http", {"preset": "nope"}),
               ("http", {"body": 5}), ("http", {"body": b"", "status": 99}),
               ("http", {"body": b"", "content_type": "a\r\nb"})]
        for name, params in bad:
            with self.subTest(name=name, params=params), self.assertRaises(ValueError):
                fault_proxy.parse_mode(name, params)

    def test_set_mode_needs_a_running_proxy(self):
        proxy = fault_proxy.FaultProxy(upstream=("127.0.0.1", 5432))
        with self.assertRaises(RuntimeError):
            proxy.set_mode("stall")


class StopTest(ProxyTestCase):
    def test_stop_closes_everything_and_leaves_no_thread(self):
        threads_before = set(threading.enumerate()) - {t for t in threading.enumerate()
                                                        if t.name.startswith("fault-proxy")}
        kept_alive = self.connect()
        self.proxy.set_mode("http", preset="missing_fields")
        self.assertEqual(get(kept_alive, "/")[0], 200)
        self.proxy.set_mode("stall")
        stalled = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=WAIT_S)
        self.addCleanup(stalled.close)
        stalled.sendall(b"GET / HTTP/1.1\r\n\r\n")
        wait_until(lambda: self.proxy.stats()["requests"] == 2, "the stalled request read")
        port = self.proxy.port

        started = time.monotonic()
        self.proxy.stop()
        self.assertLess(time.monotonic() - started, fault_proxy.STOP_TIMEOUT_S)
        self.assertEqual(set(threading.enumerate()) - threads_before, set())
        self.assertEqual(read_to_end(stalled), b"")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
        self.proxy.stop()  # idempotent
        self.assertEqual(self.proxy.stats()["connections_open"], 0)


class CommandLineTest(unittest.TestCase):
    def setUp(self) -> None:
        self.upstream = start_server(
            http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HttpUpstreamHandler))
        self.upstream.paths = []
        self.addCleanup(stop_server, self.upstream)

    def start_cli(self) -> tuple[subprocess.Popen, dict]:
        """The proxy as a subprocess, and the line it printed: {"port": N, "control_port": M}."""
        process = subprocess.Popen(
            [sys.executable, PROXY_SCRIPT, "--upstream", f"127.0.0.1:{self.upstream.server_port}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.reap, process)
        ports = json.loads(process.stdout.readline())
        self.assertEqual(sorted(ports), ["control_port", "port"])
        return process, ports

    @staticmethod
    def reap(process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT_S)
        for pipe in (process.stdin, process.stdout, process.stderr):
            pipe.close()

    def control(self, ports: dict, method: str, path: str, body: bytes | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", ports["control_port"], timeout=WAIT_S)
        try:
            conn.request(method, path, body=body)
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    def assert_exits_cleanly(self, process: subprocess.Popen) -> None:
        """Exit status 0, and nothing printed after the ports line."""
        process.wait(WAIT_S)  # it prints nothing more, so the pipes cannot fill up
        self.assertEqual((process.returncode, process.stdout.read(), process.stderr.read()),
                         (0, b"", b""))

    def test_control_api_switches_modes_and_reports_stats(self):
        process, ports = self.start_cli()
        conn = http.client.HTTPConnection("127.0.0.1", ports["port"], timeout=WAIT_S)
        self.addCleanup(conn.close)

        throttle = b'{"mode": "http", "preset": "throttle"}'
        self.assertEqual(self.control(ports, "POST", "/mode", throttle), (200, {"ok": True}))
        self.assertEqual(get(conn, "/x")[0], 400)
        for bad in (b'{"mode": "nope"}', b'{"mode": "delay"}', b"not json", b"[]", b"{}"):
            with self.subTest(body=bad):
                status, answer = self.control(ports, "POST", "/mode", bad)
                self.assertEqual((status, answer["ok"]), (400, False))
                self.assertTrue(answer["error"])
        self.assertEqual(self.control(ports, "POST", "/mode", b'{"mode": "pass"}'),
                         (200, {"ok": True}))
        self.assertEqual(get(conn, "/y")[2], b"hello /y")
        status, stats = self.control(ports, "GET", "/stats")
        self.assertEqual(status, 200)
        self.assertEqual((stats["mode"], stats["requests"], stats["connections_accepted"]),
                         ("pass", 2, 1))
        self.assertEqual(self.control(ports, "GET", "/nope")[0], 404)
        self.assertEqual(self.upstream.paths, ["/y"])

        process.stdin.close()  # the parent went away
        self.assert_exits_cleanly(process)

    def test_exits_cleanly_on_sigterm_and_sigint(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=signum.name):
                process, ports = self.start_cli()
                self.assertEqual(self.control(ports, "POST", "/mode", b'{"mode": "stall"}')[0], 200)
                process.send_signal(signum)
                self.assert_exits_cleanly(process)

    def test_refuses_a_non_loopback_upstream(self):
        result = subprocess.run([sys.executable, PROXY_SCRIPT, "--upstream", "192.0.2.1:80"],
                                stdin=subprocess.DEVNULL, capture_output=True, timeout=WAIT_S)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, b"")
        self.assertIn(b"not a loopback address", result.stderr)


if __name__ == "__main__":
    unittest.main()
