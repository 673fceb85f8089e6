#!/usr/bin/env python3
"""Self-test of runtime_api_fixture.py (and of the event files): a fake runtime written with
http.client drives the fixture the way a custom runtime drives the real Runtime API.
Python 3 stdlib only; run directly or through ctest (lambda_fixture_selftest). Takes a few seconds.
"""

import base64
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
EVENTS = os.path.join(HERE, "events")
sys.path.insert(0, HERE)

import runtime_api_fixture as raf  # noqa: E402

NEXT = "/2018-06-01/runtime/invocation/next"
INIT_ERROR = "/2018-06-01/runtime/init/error"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TRACE_RE = re.compile(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$")
LIMIT = 6 * 1024 * 1024 + 100


def response_path(rid):
    return "/2018-06-01/runtime/invocation/%s/response" % rid


def error_path(rid):
    return "/2018-06-01/runtime/invocation/%s/error" % rid


def connect(fx, timeout=5.0):
    return http.client.HTTPConnection("127.0.0.1", fx.port, timeout=timeout)


def call(conn, method, path, body=None, headers=None):
    """One request on `conn`; returns (status, headers (case-insensitive), body bytes)."""
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, resp.msg, data


def load_event(name):
    with open(os.path.join(EVENTS, name), "rb") as f:
        return f.read()


def wait_for(read, done, what, timeout=10.0):
    """Polls read() until done(value); returns that value. AssertionError naming `what` and the
    last value if it is not done within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError("waited %.0f s for %s; last: %r" % (timeout, what, value))
        time.sleep(0.02)


def control(fx, method, path, body=None):
    req = urllib.request.Request(fx.url + path, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        data = e.read()
        try:
            return e.code, json.loads(data)
        except ValueError:
            return e.code, data


class FixtureTestCase(unittest.TestCase):
    def setUp(self):
        self.fx = raf.RuntimeApiFixture().start()
        self.addCleanup(self.fx.stop)

    def conn(self, timeout=5.0):
        c = connect(self.fx, timeout)
        self.addCleanup(c.close)
        return c


class NextInvocationTest(FixtureTestCase):
    def test_address_is_loopback_with_bound_port(self):
        self.assertRegex(self.fx.address, r"^127\.0\.0\.1:\d+$")
        self.assertNotEqual(self.fx.port, 0)
        self.assertEqual(self.fx.lambda_env()["AWS_LAMBDA_RUNTIME_API"], self.fx.address)

    def test_next_returns_event_verbatim_with_documented_headers(self):
        event = load_event("apigw_rest_v1_get_count.json")
        rid = self.fx.enqueue(event)
        before_ms = int(time.time() * 1000)
        status, h, body = call(self.conn(), "GET", NEXT)
        after_ms = int(time.time() * 1000)
        self.assertEqual(status, 200)
        self.assertEqual(body, event)
        self.assertEqual(h["Lambda-Runtime-Aws-Request-Id"], rid)
        self.assertRegex(rid, UUID_RE)
        deadline = int(h["Lambda-Runtime-Deadline-Ms"])
        self.assertGreaterEqual(deadline, before_ms + 3000)
        self.assertLessEqual(deadline, after_ms + 3000)
        self.assertEqual(h["Lambda-Runtime-Invoked-Function-Arn"],
                         "arn:aws:lambda:us-east-1:123456789012:function:footfall")
        self.assertRegex(h["Lambda-Runtime-Trace-Id"], TRACE_RE)
        self.assertEqual(h["Content-Type"], "application/json")
        self.assertEqual(int(h["Content-Length"]), len(event))
        self.assertIsNone(h["Lambda-Runtime-Client-Context"])
        self.assertIsNone(h["Lambda-Runtime-Cognito-Identity"])

    def test_deadline_absolute_or_relative_per_event(self):
        c = self.conn()
        self.fx.enqueue(b"{}", deadline_ms=1700000000123)
        self.fx.enqueue(b"{}", timeout_ms=250)
        _, h, _ = call(c, "GET", NEXT)
        self.assertEqual(h["Lambda-Runtime-Deadline-Ms"], "1700000000123")
        call(c, "POST", response_path(h["Lambda-Runtime-Aws-Request-Id"]), b"{}")
        before_ms = int(time.time() * 1000)
        _, h, _ = call(c, "GET", NEXT)
        after_ms = int(time.time() * 1000)
        self.assertGreaterEqual(int(h["Lambda-Runtime-Deadline-Ms"]), before_ms + 250)
        self.assertLessEqual(int(h["Lambda-Runtime-Deadline-Ms"]), after_ms + 250)

    def test_next_blocks_until_an_event_is_queued(self):
        got = {}

        def runtime():
            c = connect(self.fx, timeout=10)
            got["answer"] = call(c, "GET", NEXT)
            c.close()

        t = threading.Thread(target=runtime)
        t.start()
        # The fixture has the call and holds it ("waiting"). That it held it until the enqueue
        # below is shown by the answer: it carries an id that did not exist before.
        self.fx.wait_next_calls(1, timeout=2)
        self.assertEqual(self.fx.next_calls()[0]["outcome"], "waiting")
        self.assertTrue(t.is_alive(), "/next answered with nothing queued")
        rid = self.fx.enqueue({"hello": "world"})
        t.join(2)
        self.assertFalse(t.is_alive(), "/next did not return after enqueue")
        status, h, body = got["answer"]
        self.assertEqual((status, h["Lambda-Runtime-Aws-Request-Id"]), (200, rid))
        self.assertEqual(json.loads(body), {"hello": "world"})
        rec = self.fx.next_calls()[0]
        self.assertEqual((rec["outcome"], rec["request_id"]), ("delivered", rid))

    def test_next_call_times_are_recorded(self):
        c = self.conn()
        t0 = time.time()
        for _ in range(3):
            self.fx.enqueue(b"{}")
        for _ in range(3):
            _, h, _ = call(c, "GET", NEXT)
            call(c, "POST", response_path(h["Lambda-Runtime-Aws-Request-Id"]), b"ok")
        times = self.fx.next_call_times()
        self.assertEqual(len(times), 3)
        self.assertEqual(times, sorted(times))
        self.assertTrue(t0 <= times[0] <= time.time())
        monos = [c["at_mono"] for c in self.fx.next_calls()]
        self.assertEqual(monos, sorted(monos))

    def test_next_while_unanswered_redelivers_same_invocation(self):
        c = self.conn()
        rid = self.fx.enqueue(b'{"a":1}')
        self.fx.enqueue(b'{"b":2}')
        _, h1, _ = call(c, "GET", NEXT)
        _, h2, body2 = call(c, "GET", NEXT)
        self.assertEqual(h1["Lambda-Runtime-Aws-Request-Id"], rid)
        self.assertEqual(h2["Lambda-Runtime-Aws-Request-Id"], rid)
        self.assertEqual(h1["Lambda-Runtime-Deadline-Ms"], h2["Lambda-Runtime-Deadline-Ms"])
        self.assertEqual(body2, b'{"a":1}')
        self.assertEqual([r["outcome"] for r in self.fx.next_calls()], ["delivered", "redelivered"])

    def test_dead_waiter_does_not_swallow_an_event(self):
        dead = socket.create_connection(("127.0.0.1", self.fx.port))
        dead.sendall(b"GET " + NEXT.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.fx.wait_next_calls(1, timeout=2)
        dead.close()                        # like a runtime killed while blocked in /next
        got = {}
        live = self.conn()
        t = threading.Thread(target=lambda: got.setdefault("r", call(live, "GET", NEXT)))
        t.start()
        self.fx.wait_next_calls(2, timeout=2)
        rid = self.fx.enqueue(b"{}")
        t.join(3)
        self.assertEqual(got["r"][1]["Lambda-Runtime-Aws-Request-Id"], rid)
        # The fixture notices the closed connection on its next look (every 50 ms).
        self.assertEqual(wait_for(lambda: self.fx.next_calls()[0]["outcome"],
                                  lambda outcome: outcome != "waiting",
                                  "the dead waiter's /next call to be settled"), "abandoned")

    def test_stop_releases_a_blocked_next(self):
        fx = raf.RuntimeApiFixture().start()
        errors = []

        def runtime():
            c = connect(fx, timeout=5)
            try:
                call(c, "GET", NEXT)
            except (OSError, http.client.HTTPException) as e:
                errors.append(e)
            finally:
                c.close()

        t = threading.Thread(target=runtime)
        t.start()
        fx.wait_next_calls(1, timeout=2)
        t0 = time.monotonic()
        fx.stop()
        t.join(3)
        self.assertFalse(t.is_alive())
        self.assertLess(time.monotonic() - t0, 2)
        self.assertEqual(len(errors), 1)   # connection closed without an answer

    def test_huge_event_of_7_mb_is_delivered_intact(self):
        event = json.loads(load_event("apigw_rest_v1_get_count.json"))
        event["headers"]["X-Huge"] = "a" * (7 * 1024 * 1024)
        event["multiValueHeaders"]["X-Huge"] = [event["headers"]["X-Huge"]]
        payload = json.dumps(event).encode()
        self.assertGreater(len(payload), 14 * 1024 * 1024)
        self.fx.enqueue(payload)
        status, h, body = call(self.conn(timeout=20), "GET", NEXT)
        self.assertEqual(status, 200)
        self.assertEqual(len(body), len(payload))
        self.assertEqual(body, payload)


class ResponseAndErrorTest(FixtureTestCase):
    def deliver(self, conn, event=b"{}", **kw):
        rid = self.fx.enqueue(event, **kw)
        _, h, _ = call(conn, "GET", NEXT)
        self.assertEqual(h["Lambda-Runtime-Aws-Request-Id"], rid)
        return rid

    def test_response_is_accepted_and_recorded(self):
        c = self.conn()
        rid = self.deliver(c)
        out = b'{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\\"count\\": 1}"}'
        status, h, body = call(c, "POST", response_path(rid), out, {"Content-Type": "application/json"})
        self.assertEqual(status, 202)
        self.assertEqual(json.loads(body), {"status": "OK"})
        self.assertEqual(h["Content-Type"], "application/json")
        res = self.fx.wait_result(rid, timeout=1)
        self.assertEqual((res["kind"], res["source"], res["phase"], res["status"]), ("response", "runtime", "invoke", 202))
        self.assertEqual(res["body"], out)
        self.assertEqual(res["body_json"]["statusCode"], 200)
        self.assertEqual(res["content_type"], "application/json")
        self.assertEqual(raf.get_header(res["headers"], "content-type"), "application/json")
        self.assertEqual(res["size"], len(out))
        self.assertTrue(res["enqueued_at"] <= res["delivered_at"] <= res["completed_at"])
        self.assertGreaterEqual(res["latency_ms"], 0)
        self.assertEqual(res["delivery_count"], 1)
        self.assertEqual(self.fx.results()[0]["request_id"], rid)

    def test_error_is_accepted_and_recorded(self):
        c = self.conn()
        rid = self.deliver(c)
        err = {"errorMessage": "boom", "errorType": "Footfall.Internal", "stackTrace": ["a.cc:1"]}
        status, _, body = call(c, "POST", error_path(rid), json.dumps(err).encode(),
                               {"Lambda-Runtime-Function-Error-Type": "Footfall.Internal",
                                "Content-Type": "application/vnd.aws.lambda.error+json"})
        self.assertEqual((status, json.loads(body)), (202, {"status": "OK"}))
        res = self.fx.wait_result(rid, timeout=1)
        self.assertEqual((res["kind"], res["error_type"]), ("error", "Footfall.Internal"))
        self.assertEqual(res["body_json"], err)
        self.assertEqual(res["content_type"], "application/vnd.aws.lambda.error+json")

    def test_error_without_type_header(self):
        c = self.conn()
        rid = self.deliver(c)
        status, _, _ = call(c, "POST", error_path(rid), b'{"errorMessage":"x","errorType":"Y"}')
        self.assertEqual(status, 202)
        self.assertIsNone(self.fx.wait_result(rid, 1)["error_type"])

    def test_wait_result_times_out_and_rejects_unknown_ids(self):
        rid = self.fx.enqueue(b"{}")
        with self.assertRaises(TimeoutError):
            self.fx.wait_result(rid, timeout=0.1)
        with self.assertRaises(KeyError):
            self.fx.wait_result("no-such-id", timeout=0.1)

    def test_unknown_request_id_is_400_and_leaves_the_invocation_open(self):
        c = self.conn()
        rid = self.deliver(c)
        for path in (response_path(uuid.uuid4()), error_path(uuid.uuid4()), response_path("")):
            status, _, body = call(c, "POST", path, b"{}")
            self.assertEqual(status, 400, path)
            self.assertEqual(json.loads(body), {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
        self.assertIsNone(self.fx.result(rid))
        status, _, _ = call(c, "POST", response_path(rid), b"{}")
        self.assertEqual(status, 202)

    def test_response_before_any_next_is_400(self):
        rid = self.fx.enqueue(b"{}")           # queued but never handed out
        status, _, body = call(self.conn(), "POST", response_path(rid), b"{}")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["errorType"], "InvalidRequestID")

    def test_answering_twice(self):
        c = self.conn()
        first = self.deliver(c)
        self.assertEqual(call(c, "POST", response_path(first), b"1")[0], 202)
        # Same id again while it is still the current invocation: state transition refused (403).
        for path in (response_path(first), error_path(first)):
            status, _, body = call(c, "POST", path, b"2")
            self.assertEqual(status, 403, path)
            answer = json.loads(body)
            self.assertEqual(answer["errorType"], "InvalidStateTransition")
            self.assertIn("State transition from RuntimeResponseSentState to Invocation", answer["errorMessage"])
        # Once a newer invocation is current, the old id is simply invalid (400).
        second = self.deliver(c)
        status, _, body = call(c, "POST", response_path(first), b"3")
        self.assertEqual((status, json.loads(body)["errorType"]), (400, "InvalidRequestID"))
        self.assertEqual(self.fx.wait_result(first, 1)["body"], b"1")
        self.assertIsNone(self.fx.result(second))
        self.assertEqual([p["status"] for p in self.fx.posts()], [202, 403, 403, 400])

    def test_response_over_limit_is_413_and_finishes_the_invocation(self):
        c = self.conn(timeout=20)
        ok = self.deliver(c)
        status, _, _ = call(c, "POST", response_path(ok), b"x" * LIMIT)
        self.assertEqual(status, 202, "a body of exactly 6 MiB + 100 bytes must be accepted")
        self.assertEqual(self.fx.wait_result(ok, 1)["size"], LIMIT)

        big = self.deliver(c)
        status, _, body = call(c, "POST", response_path(big), b"x" * (LIMIT + 1))
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body), {
            "errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).",
            "errorType": "RequestEntityTooLarge"})
        res = self.fx.wait_result(big, 1)
        self.assertEqual((res["kind"], res["source"], res["status"], res["error_type"]),
                         ("error", "platform", 413, "Function.ResponseSizeTooLarge"))
        self.assertEqual(res["body_json"]["errorMessage"],
                         "Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).")
        self.assertEqual(res["runtime_body_size"], LIMIT + 1)
        # The invocation is over: reporting an error for it now is refused, the next one flows.
        status, _, body = call(c, "POST", error_path(big), b"{}")
        self.assertEqual((status, json.loads(body)["errorType"]), (403, "InvalidStateTransition"))
        nxt = self.deliver(c)
        self.assertEqual(call(c, "POST", response_path(nxt), b"{}")[0], 202)

    def test_keep_alive_one_connection_for_many_invocations(self):
        c = self.conn()
        ids = [self.fx.enqueue({"n": i}) for i in range(5)]
        sockets = set()
        for i in range(5):
            status, h, body = call(c, "GET", NEXT)
            self.assertIsNone(h["Connection"])
            sockets.add(id(c.sock))
            rid = h["Lambda-Runtime-Aws-Request-Id"]
            self.assertEqual(call(c, "POST", response_path(rid), json.dumps({"echo": json.loads(body)}))[0], 202)
            sockets.add(id(c.sock))
        self.assertEqual(len(sockets), 1)
        self.assertEqual(self.fx.state()["connections_accepted"], 1)
        for i, rid in enumerate(ids):
            self.assertEqual(self.fx.wait_result(rid, 1)["body_json"], {"echo": {"n": i}})

    def test_connection_close_is_honoured(self):
        c = self.conn()
        self.fx.enqueue(b"{}")
        status, h, _ = call(c, "GET", NEXT, headers={"Connection": "close"})
        self.assertEqual((status, h["Connection"]), (200, "close"))

    def test_chunked_response_body(self):
        c = self.conn()
        rid = self.deliver(c)
        c.putrequest("POST", response_path(rid))
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        for part in (b'{"statusCode":', b"200}"):
            c.send(b"%x\r\n%s\r\n" % (len(part), part))
        c.send(b"0\r\n\r\n")
        resp = c.getresponse()
        resp.read()
        self.assertEqual(resp.status, 202)
        self.assertEqual(self.fx.wait_result(rid, 1)["body"], b'{"statusCode":200}')

    def test_expect_100_continue(self):
        rid = self.fx.enqueue(b"{}")
        s = socket.create_connection(("127.0.0.1", self.fx.port), timeout=5)
        self.addCleanup(s.close)
        s.sendall(b"GET " + NEXT.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = b""
        while b"{}" not in buf:
            buf += s.recv(4096)
        body = b'{"statusCode":204}'
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                  % (response_path(rid).encode(), len(body)))
        interim = s.recv(4096)
        self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
        s.sendall(body)
        final = b""
        while b"\r\n\r\n" not in final or not final.rstrip().endswith(b"}"):
            final += s.recv(4096)
        self.assertTrue(final.split(b"\r\n", 1)[0].endswith(b"202 Accepted"), final)
        self.assertEqual(self.fx.wait_result(rid, 1)["body"], body)

    def test_unknown_routes_and_methods(self):
        c = self.conn()
        status, h, body = call(c, "GET", "/2018-06-01/runtime/invocation/nope")
        self.assertEqual((status, body), (404, b"404 page not found\n"))
        self.assertEqual(call(c, "GET", "/2019-01-01/runtime/invocation/next")[0], 404)
        status, h, _ = call(c, "POST", NEXT, b"")
        self.assertEqual((status, h["Allow"]), (405, "GET"))
        self.assertEqual(call(c, "GET", INIT_ERROR)[0], 405)
        self.assertEqual(call(c, "PUT", response_path(uuid.uuid4()), b"")[0], 405)


class InitErrorTest(FixtureTestCase):
    def test_init_error_is_recorded_and_served_to_the_first_invoke(self):
        c = self.conn()
        first = self.fx.enqueue(b"{}")
        second = self.fx.enqueue(b"{}")
        err = {"errorMessage": "bad FOOTFALL_STORE", "errorType": "Runtime.InitError", "stackTrace": []}
        status, _, body = call(c, "POST", INIT_ERROR, json.dumps(err).encode(),
                               {"Lambda-Runtime-Function-Error-Type": "Runtime.InitError"})
        self.assertEqual((status, json.loads(body)), (202, {"status": "OK"}))
        rec = self.fx.init_error()
        self.assertEqual((rec["error_type"], rec["body_json"]), ("Runtime.InitError", err))
        res = self.fx.wait_result(first, 1)
        self.assertEqual((res["kind"], res["phase"], res["error_type"]), ("error", "init", "Runtime.InitError"))
        self.assertIsNone(self.fx.result(second))
        # The runtime is expected to exit now: /next and a second init error are refused.
        status, _, body = call(c, "GET", NEXT)
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body), {
            "errorMessage": "State transition from InitError to Ready failed for runtime. Error: State transition is not allowed",
            "errorType": "InvalidStateTransition"})
        self.assertEqual(call(c, "POST", INIT_ERROR, b"{}")[0], 403)
        self.assertEqual(self.fx.state()["state"], "InitError")

    def test_init_error_before_any_event_is_served_to_the_next_enqueued(self):
        self.assertEqual(call(self.conn(), "POST", INIT_ERROR, b"not json")[0], 202)
        self.assertEqual(self.fx.wait_init_error(1)["body_json"], None)
        rid = self.fx.enqueue(b"{}")
        self.assertEqual(self.fx.wait_result(rid, 1)["phase"], "init")

    def test_init_error_after_first_next_is_403(self):
        c = self.conn()
        rid = self.fx.enqueue(b"{}")
        call(c, "GET", NEXT)
        status, _, body = call(c, "POST", INIT_ERROR, b"{}")
        self.assertEqual((status, json.loads(body)["errorType"]), (403, "InvalidStateTransition"))
        self.assertIsNone(self.fx.init_error())
        self.assertEqual(call(c, "POST", response_path(rid), b"{}")[0], 202)

    def test_reset_runtime_fails_the_open_invocation_and_starts_over(self):
        c = self.conn()
        rid = self.fx.enqueue(b"{}")
        call(c, "GET", NEXT)
        self.fx.reset_runtime()
        res = self.fx.wait_result(rid, 1)
        self.assertEqual((res["kind"], res["source"], res["error_type"]), ("error", "platform", "Runtime.ExitError"))
        self.assertEqual(self.fx.state()["state"], "Started")
        self.assertEqual(call(c, "POST", INIT_ERROR, b"{}")[0], 202)


class ControlApiTest(FixtureTestCase):
    def test_control_api_round_trip(self):
        status, body = control(self.fx, "POST", "/test/events?deadline_ms=1700000000999",
                               load_event("apigw_http_v2_get_count.json"))
        self.assertEqual(status, 200)
        rid = body["request_id"]
        self.assertEqual(control(self.fx, "GET", "/test/results/%s?timeout=0.1" % rid)[0], 504)
        self.assertEqual(control(self.fx, "GET", "/test/results/nope?timeout=0")[0], 404)
        c = self.conn()
        _, h, ev = call(c, "GET", NEXT)
        self.assertEqual((h["Lambda-Runtime-Aws-Request-Id"], h["Lambda-Runtime-Deadline-Ms"]), (rid, "1700000000999"))
        self.assertEqual(json.loads(ev)["routeKey"], "GET /count")
        call(c, "POST", response_path(rid), "{\"statusCode\":200,\"body\":\"caf\u00e9\"}".encode())
        status, res = control(self.fx, "GET", "/test/results/%s?timeout=2" % rid)
        self.assertEqual((status, res["kind"], res["request_id"]), (200, "response", rid))
        self.assertEqual(res["body"], "{\"statusCode\":200,\"body\":\"caf\u00e9\"}")
        self.assertEqual(base64.b64decode(res["body_base64"]).decode(), res["body"])
        self.assertIn("Content-Length", res["headers"])
        status, calls = control(self.fx, "GET", "/test/next-calls")
        self.assertEqual((status, len(calls["times"])), (200, 1))
        self.assertEqual(calls["next_calls"][0]["request_id"], rid)
        self.assertEqual(control(self.fx, "GET", "/test/next-calls?count=2&timeout=0.1")[0], 504)
        self.assertEqual(control(self.fx, "GET", "/test/init-error"), (200, {"init_error": None}))
        self.assertEqual(control(self.fx, "GET", "/test/init-error?timeout=0.1")[0], 504)
        self.assertEqual(control(self.fx, "GET", "/test/posts")[1]["posts"][0]["status"], 202)
        self.assertEqual(control(self.fx, "GET", "/test/state")[1]["state"], "RuntimeResponseSentState")
        self.assertEqual(control(self.fx, "GET", "/test/nope")[0], 404)
        self.assertEqual(control(self.fx, "POST", "/test/events?deadline_ms=soon", b"{}")[0], 400)

    def test_control_init_error_is_visible_over_http(self):
        call(self.conn(), "POST", INIT_ERROR, b'{"errorMessage":"m","errorType":"T"}',
             {"Lambda-Runtime-Function-Error-Type": "T"})
        status, body = control(self.fx, "GET", "/test/init-error?timeout=1")
        self.assertEqual((status, body["init_error"]["error_type"]), (200, "T"))
        self.assertEqual(json.loads(body["init_error"]["body"]), {"errorMessage": "m", "errorType": "T"})


class EventFilesTest(unittest.TestCase):
    def load(self, name):
        return json.loads(load_event(name))

    def test_every_file_is_listed_in_the_readme_and_json_files_parse(self):
        with open(os.path.join(EVENTS, "README.md")) as f:
            readme = f.read()
        names = sorted(n for n in os.listdir(EVENTS) if n != "README.md")
        self.assertGreaterEqual(len(names), 12)
        for name in names:
            self.assertIn("`%s`" % name, readme)
            if name.endswith(".json"):
                self.load(name)
        with self.assertRaises(ValueError):
            json.loads(load_event("invalid_json.txt"))
        self.assertEqual(load_event("invalid_json.txt"), b"{not json")
        self.assertEqual(self.load("neither_format.json"), {"foo": 1})

    def test_payload_formats(self):
        for name in os.listdir(EVENTS):
            if name.startswith("apigw_rest_v1_"):
                ev = self.load(name)
                self.assertNotIn("version", ev, name)
                for key in ("resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
                            "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext",
                            "body", "isBase64Encoded"):
                    self.assertIn(key, ev, name)
                self.assertEqual(ev["requestContext"]["httpMethod"], ev["httpMethod"], name)
                if ev["headers"] is not None:
                    self.assertEqual({k: ", ".join(v) if k != "X-Forwarded-For" else v[0]
                                      for k, v in ev["multiValueHeaders"].items()}, ev["headers"], name)
            elif name.startswith("apigw_http_v2_"):
                ev = self.load(name)
                self.assertEqual(ev["version"], "2.0", name)
                http_ctx = ev["requestContext"]["http"]
                self.assertEqual(ev["routeKey"], "%s %s" % (http_ctx["method"], ev["routeKey"].split(" ", 1)[1]))
                self.assertEqual(ev["requestContext"]["routeKey"], ev["routeKey"], name)
                self.assertEqual(http_ctx["path"], ev["rawPath"], name)
                self.assertEqual(set(http_ctx), {"method", "path", "protocol", "sourceIp", "userAgent"}, name)
                self.assertTrue(all(k == k.lower() for k in ev["headers"]), name)
                self.assertNotIn("cookie", ev["headers"], name)
                self.assertIs(ev["isBase64Encoded"], "body" in ev and ev["isBase64Encoded"], name)
            if name.startswith("apigw_") and self.load(name).get("isBase64Encoded"):
                base64.b64decode(self.load(name)["body"], validate=True)

    def test_rest_v1_get_count_has_the_requested_values(self):
        ev = self.load("apigw_rest_v1_get_count.json")
        self.assertEqual((ev["httpMethod"], ev["path"], ev["resource"]), ("GET", "/count", "/count"))
        self.assertEqual(ev["headers"]["Origin"], "https://me.example")
        self.assertEqual(ev["headers"]["Referer"], "https://me.example/about")
        self.assertIn("User-Agent", ev["headers"])
        self.assertEqual(ev["headers"]["X-Forwarded-For"].split(",")[0], "203.0.113.9")
        self.assertEqual(ev["multiValueHeaders"]["Origin"], ["https://me.example"])
        self.assertEqual(ev["requestContext"]["identity"]["sourceIp"], "203.0.113.9")
        self.assertEqual(ev["requestContext"]["stage"], "prod")
        for key in ("queryStringParameters", "multiValueQueryStringParameters", "body"):
            self.assertIsNone(ev[key], key)
        self.assertIs(ev["isBase64Encoded"], False)

    def test_http_v2_get_count_has_the_requested_values(self):
        ev = self.load("apigw_http_v2_get_count.json")
        self.assertEqual((ev["routeKey"], ev["rawPath"], ev["rawQueryString"]),
                         ("GET /count", "/count", "path=%2Fblog%2Fpost"))
        self.assertEqual(ev["queryStringParameters"], {"path": "/blog/post"})
        self.assertIsInstance(ev["cookies"], list)
        self.assertEqual(ev["requestContext"]["http"]["sourceIp"], "203.0.113.9")
        self.assertIs(ev["isBase64Encoded"], False)

    def test_edge_cases(self):
        self.assertEqual(self.load("apigw_rest_v1_options_preflight.json")["httpMethod"], "OPTIONS")
        ev = self.load("apigw_rest_v1_null_headers.json")
        self.assertEqual((ev["headers"], ev["multiValueHeaders"]), (None, None))
        self.assertNotIn("sourceIp", self.load("apigw_rest_v1_get_count_no_source_ip.json")["requestContext"]["identity"])
        body = base64.b64decode(self.load("apigw_rest_v1_post_count_base64_body.json")["body"])
        self.assertIn(b"\xff", body)
        self.assertEqual(self.load("apigw_http_v2_get_api_count.json")["rawPath"], "/api/count")
        self.assertEqual(self.load("apigw_http_v2_post_count_base64_body.json")["requestContext"]["http"]["method"], "POST")
        self.assertEqual(self.load("apigw_http_v2_get_count_invalid_utf8_query.json")["rawQueryString"], "path=%FF")

    def test_every_event_file_goes_through_the_fixture_unchanged(self):
        with raf.RuntimeApiFixture() as fx:
            names = sorted(n for n in os.listdir(EVENTS) if n.endswith((".json", ".txt")))
            ids = [fx.enqueue_file(os.path.join(EVENTS, n)) for n in names]
            c = connect(fx)
            for name, rid in zip(names, ids):
                _, h, body = call(c, "GET", NEXT)
                self.assertEqual((h["Lambda-Runtime-Aws-Request-Id"], body), (rid, load_event(name)))
                call(c, "POST", response_path(rid), b"{}")
            c.close()
            self.assertTrue(fx.all_done(ids))


class ScriptModeTest(unittest.TestCase):
    def test_script_prints_address_serves_files_and_writes_results(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "results.json")
            proc = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "runtime_api_fixture.py"), "--port", "0", "--events",
                 os.path.join(EVENTS, "apigw_rest_v1_get_count.json"), os.path.join(EVENTS, "invalid_json.txt"),
                 "--exit-when-done", "--results", out],
                stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
            try:
                address = proc.stdout.readline().strip()
                self.assertRegex(address, r"^127\.0\.0\.1:\d+$")
                enqueued = [json.loads(proc.stdout.readline()) for _ in range(2)]
                self.assertEqual([e["event"] for e in enqueued], ["enqueued", "enqueued"])
                host, port = address.split(":")
                c = http.client.HTTPConnection(host, int(port), timeout=5)
                for expected in (enqueued[0], enqueued[1]):
                    _, h, body = call(c, "GET", NEXT)
                    self.assertEqual(h["Lambda-Runtime-Aws-Request-Id"], expected["request_id"])
                    self.assertEqual(body, load_event(os.path.basename(expected["file"])))
                    call(c, "POST", response_path(expected["request_id"]), b'{"ok":true}')
                c.close()
                self.assertEqual(proc.wait(timeout=5), 0)
                summaries = [json.loads(line) for line in proc.stdout.read().splitlines()]
                self.assertEqual([s["kind"] for s in summaries], ["response", "response"])
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
            with open(out) as f:
                dump = json.load(f)
            self.assertEqual(dump["address"], address)
            self.assertEqual([r["body"] for r in dump["results"]], ['{"ok":true}', '{"ok":true}'])
            self.assertEqual(len(dump["next_calls"]), 2)
            self.assertIsNone(dump["init_error"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
