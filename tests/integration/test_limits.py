#!/usr/bin/env python3
"""HTTP limits: each limit of `footfall serve` (docs/operations.md "Limits"), set small by its flag,
is crossed and answers as documented: too many connections -> the extra ones closed, existing
ones keep working; a slowloris request -> 408 and closed; an idle keep-alive connection -> closed;
oversized headers -> 431, body -> 413; requests per connection and pipelined requests in a row ->
the last answer says `Connection: close` and nothing more is answered. One setting also comes
from its environment variable.

Run: FOOTFALL_BIN=build/footfall python3 tests/integration/test_limits.py
"""

import http.client
import os
import select
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import FootfallServer, connect, do_request, raw_request  # noqa: E402

MAX_CONNECTIONS = 4
MAX_HEADER_BYTES = 1024
MAX_BODY_BYTES = 256
READ_TIMEOUT_MS = 1000
IDLE_TIMEOUT_MS = 800
MAX_REQUESTS_PER_CONNECTION = 5
MAX_PIPELINED_REQUESTS = 3

LIMIT_ARGS = [
    "--max-connections", str(MAX_CONNECTIONS),
    "--max-header-bytes", str(MAX_HEADER_BYTES),
    "--max-body-bytes", str(MAX_BODY_BYTES),
    "--read-timeout-ms", str(READ_TIMEOUT_MS),
    "--idle-timeout-ms", str(IDLE_TIMEOUT_MS),
    "--max-requests-per-connection", str(MAX_REQUESTS_PER_CONNECTION),
    "--max-pipelined-requests", str(MAX_PIPELINED_REQUESTS),
]


def read_until_closed(sock, deadline_s):
    """Everything the server sends until it closes the connection. Fails if it is still open
    after `deadline_s`. A reset counts as closed."""
    data = b""
    deadline = time.monotonic() + deadline_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"connection still open after {deadline_s}s; got {data!r}")
        readable, _, _ = select.select([sock], [], [], remaining)
        if not readable:
            continue
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def parse_responses(data):
    """The HTTP responses in `data`, as (status, headers dict lower-cased, body)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError(f"truncated response: {data!r}")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:length]))
        data = rest[length:]
    return out


class LimitsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = FootfallServer(extra_args=LIMIT_ARGS)
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop(expect_code=0)
        finally:
            cls.srv.cleanup()

    def setUp(self):
        self.port = self.srv.port
        self.wait_for_room()

    def wait_for_room(self, deadline_s=5.0):
        """Polls until a new connection is served: the connections of an earlier test may still
        count against --max-connections for a moment after their clients closed them."""
        deadline = time.monotonic() + deadline_s
        last = None
        while time.monotonic() < deadline:
            try:
                r = harness.request(self.port, "GET", "/healthz")
                if r.status == 200:
                    return
                last = r
            except (OSError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.05)
        self.fail(f"server did not accept a new connection within {deadline_s}s: {last!r}")

    def assert_json_error(self, response, status, code):
        self.assertEqual(response.status, status, response)
        body = response.json()
        self.assertEqual(body.get("error"), code, response)
        text = response.body.decode("utf-8", "replace").lower()
        for word in harness.LEAK_WORDS:
            self.assertNotIn(word, text, response)

    # --max-connections
    def test_connections_beyond_max_are_closed_and_existing_ones_keep_working(self):
        held = [connect(self.port) for _ in range(MAX_CONNECTIONS)]
        try:
            for c in held:  # each is open and served
                self.assertEqual(do_request(c, "GET", "/healthz").status, 200)
            for _ in range(3):
                extra = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                try:
                    with contextlib_suppress_pipe():
                        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    got = read_until_closed(extra, 5.0)
                    self.assertEqual(got, b"", "a connection beyond --max-connections was served")
                finally:
                    extra.close()
            for c in held:  # the ones within the limit still work, on the same connection
                self.assertEqual(do_request(c, "GET", "/healthz").status, 200)
        finally:
            for c in held:
                c.close()
        self.wait_for_room()  # room again once they closed

    # --read-timeout-ms
    def test_slowloris_request_gets_408_and_is_closed(self):
        request = b"GET /count?path=/slow HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"
        interval = 0.1  # 10 bytes a second: the whole request would take ~25 s
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            t0 = time.monotonic()
            sent = 0
            while sent < len(request):
                readable, _, _ = select.select([s], [], [], interval)
                if readable:
                    break  # the server answered or closed
                try:
                    s.sendall(request[sent:sent + 1])
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += 1
                if time.monotonic() - t0 > 10:
                    self.fail("the trickling client was not cut off within 10 s")
            data = read_until_closed(s, 5.0)
            elapsed = time.monotonic() - t0
        self.assertLess(sent, len(request), "the whole request got through")
        responses = parse_responses(data)
        self.assertEqual(len(responses), 1, data)
        status, headers, body = responses[0]
        self.assertEqual(status, 408, data)
        self.assertEqual(headers.get("connection"), "close", data)
        self.assertIn(b'"request_timeout"', body)
        self.assertGreaterEqual(elapsed, READ_TIMEOUT_MS / 1000 - 0.05)
        self.assertLess(elapsed, READ_TIMEOUT_MS / 1000 + 2.0)
        print(f"\n  slowloris: cut off after {elapsed:.2f}s and {sent} bytes", file=sys.stderr)

    def test_request_slower_than_read_timeout_in_total_is_cut_even_if_each_byte_is_quick(self):
        # Each pause (0.3 s) is well within the idle timeout: only the whole-request deadline
        # (read timeout from the first byte) stops it.
        chunks = [b"GET /healthz HTTP/1.1\r\n"] + [b"X-A: b\r\n"] * 20 + [b"\r\n"]
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            t0 = time.monotonic()
            for chunk in chunks:
                readable, _, _ = select.select([s], [], [], 0.3)
                if readable:
                    break
                try:
                    s.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
            data = read_until_closed(s, 5.0)
            elapsed = time.monotonic() - t0
        self.assertEqual([r[0] for r in parse_responses(data)], [408], data)
        self.assertLess(elapsed, READ_TIMEOUT_MS / 1000 + 1.0)

    # --idle-timeout-ms
    def test_idle_keep_alive_connection_is_closed_without_an_answer(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            r = http.client.HTTPResponse(s, method="GET")
            r.begin()
            r.read()
            self.assertEqual(r.status, 200)
            self.assertIsNone(r.getheader("Connection"))  # kept alive
            t0 = time.monotonic()
            rest = read_until_closed(s, 5.0)
            idle = time.monotonic() - t0
        self.assertEqual(rest, b"", "an idle connection got an answer instead of a plain close")
        self.assertGreaterEqual(idle, IDLE_TIMEOUT_MS / 1000 - 0.05)
        self.assertLess(idle, IDLE_TIMEOUT_MS / 1000 + 1.5)
        print(f"\n  idle keep-alive connection closed after {idle:.2f}s", file=sys.stderr)

    def test_new_connection_that_sends_nothing_is_closed_after_idle_timeout(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            t0 = time.monotonic()
            self.assertEqual(read_until_closed(s, 5.0), b"")
            self.assertLess(time.monotonic() - t0, IDLE_TIMEOUT_MS / 1000 + 1.5)

    def test_pause_shorter_than_idle_timeout_keeps_the_connection(self):
        c = connect(self.port)
        try:
            for _ in range(2):
                self.assertEqual(do_request(c, "GET", "/healthz").status, 200)
                time.sleep(IDLE_TIMEOUT_MS / 1000 / 2)  # the pause under test, not a wait
        finally:
            c.close()

    # --max-header-bytes, --max-body-bytes
    def test_headers_over_max_header_bytes_get_431(self):
        small = raw_request(self.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "
                            + b"a" * (MAX_HEADER_BYTES - 200) + b"\r\n\r\n")
        self.assertEqual(small.status, 200, small)
        big = raw_request(self.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "
                          + b"a" * (MAX_HEADER_BYTES + 10) + b"\r\n\r\n")
        self.assert_json_error(big, 431, "headers_too_large")
        self.assertEqual(big.header("Connection"), "close")

    def test_headers_over_max_header_bytes_sent_in_pieces_get_431(self):
        # Regression: Beast 1.74's parser keeps the fields of the first chunk it parses and then
        # applies its header limit only to what follows, so a header of up to (first read +
        # limit) bytes sent in two pieces used to be accepted (here ~1.4x the limit).
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
        fields = b"".join(b"X-F%d: %s\r\n" % (i, b"b" * 40) for i in range(28))
        data = head + fields + b"\r\n"
        self.assertGreater(len(data), MAX_HEADER_BYTES + 300)
        for first in (512, MAX_HEADER_BYTES - 100):
            with self.subTest(first=first):
                with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
                    s.sendall(data[:first])
                    time.sleep(0.1)  # the pause under test: the server reads the first piece
                    with contextlib_suppress_pipe():
                        s.sendall(data[first:])
                    responses = parse_responses(read_until_closed(s, 5.0))
                self.assertEqual([r[0] for r in responses], [431], responses)

    def test_body_over_max_body_bytes_gets_413(self):
        r, _ = harness.send_large_body(self.port, "POST", "/api/event", MAX_BODY_BYTES + 1)
        self.assert_json_error(r, 413, "body_too_large")
        self.assertEqual(r.header("Connection"), "close")
        r, _ = harness.send_large_body(self.port, "POST", "/api/event", 100 * 1024)
        self.assert_json_error(r, 413, "body_too_large")
        within = harness.request(self.port, "POST", "/api/event",
                                 headers={"Content-Type": "application/json"},
                                 body=b"{" + b" " * (MAX_BODY_BYTES - 10) + b"}")
        self.assertNotEqual(within.status, 413, within)

    # --max-requests-per-connection
    def test_last_request_allowed_on_a_connection_closes_it(self):
        c = connect(self.port)
        try:
            for i in range(1, MAX_REQUESTS_PER_CONNECTION + 1):
                r = do_request(c, "GET", "/healthz")
                self.assertEqual(r.status, 200)
                expected = "close" if i == MAX_REQUESTS_PER_CONNECTION else None
                self.assertEqual(r.header("Connection"), expected, f"request {i}")
        finally:
            c.close()

    # --max-pipelined-requests
    def test_pipelined_requests_beyond_the_cap_are_not_answered(self):
        one = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(one * 10)  # one write, well under one read of the server
            data = read_until_closed(s, 5.0)
        responses = parse_responses(data)
        # The first request is not pipelined; the next MAX_PIPELINED_REQUESTS are, and the last
        # of those is answered with Connection: close.
        self.assertEqual(len(responses), 1 + MAX_PIPELINED_REQUESTS, data)
        self.assertTrue(all(r[0] == 200 for r in responses), data)
        self.assertEqual([r[1].get("connection") for r in responses],
                         [None] * MAX_PIPELINED_REQUESTS + ["close"])

    def test_pipelining_within_the_cap_is_answered_in_order(self):
        reqs = [f"GET /count?path=/pipe/{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                for i in range(MAX_PIPELINED_REQUESTS)]
        reqs.append(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"".join(reqs))
            data = read_until_closed(s, 5.0)
        responses = parse_responses(data)
        self.assertEqual([r[0] for r in responses], [200] * len(reqs), data)
        counts = [int(harness.json.loads(r[2])["count"]) for r in responses[:-1]]
        self.assertEqual(counts, sorted(counts))


class LimitsFromEnvironmentTest(unittest.TestCase):

    def test_limits_are_read_from_footfall_environment_variables(self):
        env = {"FOOTFALL_MAX_HEADER_BYTES": "600", "FOOTFALL_IDLE_TIMEOUT_MS": "300",
               "FOOTFALL_MAX_PIPELINED_REQUESTS": "1"}
        with FootfallServer(env=env) as srv:
            big = raw_request(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "
                              + b"a" * 700 + b"\r\n\r\n")
            self.assertEqual(big.status, 431, big)
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
                t0 = time.monotonic()
                self.assertEqual(read_until_closed(s, 5.0), b"")
                self.assertLess(time.monotonic() - t0, 1.5)
            one = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
                s.sendall(one * 4)
                self.assertEqual(len(parse_responses(read_until_closed(s, 5.0))), 2)

    def test_out_of_range_limit_is_a_clear_startup_error(self):
        srv = FootfallServer(extra_args=["--idle-timeout-ms", "0"])
        try:
            with self.assertRaises(harness.HarnessError) as raised:
                srv.start()
            self.assertIn("--idle-timeout-ms", str(raised.exception))
        finally:
            srv.cleanup()


class contextlib_suppress_pipe:
    """Ignores a broken pipe / reset while sending to a connection the server already closed."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return exc_type is not None and issubclass(exc_type, (BrokenPipeError,
                                                              ConnectionResetError))


if __name__ == "__main__":
    harness.run_tests()
