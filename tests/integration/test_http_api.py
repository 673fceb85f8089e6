#!/usr/bin/env python3
"""HTTP API integration tests: counting, CORS, errors (with "nothing written" checks), privacy of
what is stored and logged, health endpoints, keep-alive, restart persistence and request logs.

Run: FOOTFALL_BIN=build/footfall python3 tests/integration/test_http_api.py
"""

import json
import os
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (ALLOWED_ORIGINS, DISALLOWED_ORIGIN, FootfallServer, api_count,  # noqa: E402
                     connect, db_snapshot, db_visits, do_request, raw_request, request)

SUCCESS_MESSAGE = "Visitor count updated successfully"


class ServerTestCase(unittest.TestCase):
    """One server (own temp dir) shared by the tests of a class; stopped with exit 0 at the end."""

    server_kwargs = {}

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="footfall-it-")
        cls.db_path = os.path.join(cls._tmp.name, "footfall.db")
        cls.server = FootfallServer(db_path=cls.db_path, **cls.server_kwargs)
        try:
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            cls._tmp.cleanup()
            raise
        cls.port = cls.server.port
        cls.host = cls.server.host

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop(expect_code=0)
        finally:
            cls.server.cleanup()
            cls._tmp.cleanup()

    def setUp(self):
        self.assertTrue(self.server.running, "server is not running (crashed in an earlier test?)\n"
                        + self.server.stderr_text()[-3000:])

    # -- helpers
    def state(self):
        """(GET /api/count, counter row, rows in visits)."""
        counter, rows = db_snapshot(self.db_path)
        return api_count(self.port, host=self.host), counter, rows

    def assertConsistent(self, state=None):
        api, counter, rows = state or self.state()
        self.assertEqual(api, counter, "/api/count differs from counters.total")
        self.assertEqual(counter, rows, "counters.total differs from the number of visits rows")

    def assertNothingWritten(self, before, what):
        after = self.state()
        self.assertEqual(after, before, f"{what}: something was written (before {before}, "
                                        f"after {after}) — (api_count, counter, rows)")

    def assertJsonError(self, resp, status, code=None, what=""):
        self.assertEqual(resp.status, status, f"{what}: {resp!r}")
        ctype = resp.header("Content-Type") or ""
        self.assertTrue(ctype.startswith("application/json"),
                        f"{what}: error Content-Type is {ctype!r}: {resp!r}")
        try:
            body = resp.json()
        except ValueError:
            self.fail(f"{what}: error body is not JSON: {resp.body[:500]!r}")
        self.assertIsInstance(body, dict, what)
        self.assertIsInstance(body.get("error"), str, f"{what}: {body!r}")
        self.assertIsInstance(body.get("message"), str, f"{what}: {body!r}")
        if code is not None:
            self.assertEqual(body["error"], code, f"{what}: {body!r}")
        self.assertNoLeak(resp, what)
        return body

    def assertNoLeak(self, resp, what=""):
        low = resp.body.decode("utf-8", "replace").lower()
        for word in harness.LEAK_WORDS:
            self.assertNotIn(word, low, f"{what}: error body leaks internals ({word!r}): "
                                        f"{resp.body[:500]!r}")

    def count(self, target="/count", headers=None):
        r = request(self.port, "GET", target, headers=headers, host=self.host)
        self.assertEqual(r.status, 200, f"GET {target}: {r!r}")
        ctype = r.header("Content-Type") or ""
        self.assertTrue(ctype.startswith("application/json"), f"Content-Type {ctype!r}")
        body = r.json()
        self.assertEqual(body.get("message"), SUCCESS_MESSAGE, body)
        self.assertIsInstance(body.get("count"), int, body)
        return r, body["count"]

    def new_visits(self, before_ids):
        return [v for v in db_visits(self.db_path) if v["visit_id"] not in before_ids]

    def visit_ids(self):
        return {v["visit_id"] for v in db_visits(self.db_path)}


class CountingTest(ServerTestCase):

    def test_count_increments_by_exactly_one(self):
        start = api_count(self.port)
        for i in range(1, 11):
            _, n = self.count()
            self.assertEqual(n, start + i)
        self.assertEqual(api_count(self.port), start + 10)
        self.assertConsistent()

    def test_api_count_does_not_increment(self):
        before = self.state()
        for _ in range(5):
            r = request(self.port, "GET", "/api/count")
            self.assertEqual(r.status, 200, r)
            self.assertTrue((r.header("Content-Type") or "").startswith("application/json"), r)
            body = r.json()
            self.assertEqual(body["count"], before[0], body)
            self.assertIsInstance(body.get("message"), str, body)
        self.assertNothingWritten(before, "GET /api/count")

    def test_health_endpoints(self):
        before = self.state()
        for target in ("/healthz", "/readyz"):
            r = request(self.port, "GET", target)
            self.assertEqual(r.status, 200, f"{target}: {r!r}")
        self.assertNothingWritten(before, "health endpoints")

    def test_keep_alive_many_requests_on_one_connection(self):
        start = api_count(self.port)
        conn = connect(self.port)
        try:
            local = None
            expected = start
            for i in range(30):
                if i % 3 == 2:
                    r = do_request(conn, "GET", "/api/count")
                else:
                    r = do_request(conn, "GET", f"/count?path=/keepalive/{i}")
                    expected += 1
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["count"], expected, f"request {i}")
                self.assertNotEqual((r.header("Connection") or "").lower(), "close",
                                    f"server closed a keep-alive connection at request {i}")
                self.assertIsNotNone(conn.sock, f"connection dropped after request {i}")
                name = conn.sock.getsockname()
                if local is None:
                    local = name
                self.assertEqual(name, local, f"a new connection was opened at request {i}")
        finally:
            conn.close()
        self.assertConsistent()

    def test_counter_equals_rows(self):
        for _ in range(3):
            self.count()
        self.assertConsistent()

    def test_stored_page_path(self):
        cases = [
            ("/count?path=/blog/post", {}, "/blog/post"),
            ("/count?path=/blog/post&ref=https://news.example/x", {}, "/blog/post"),
            ("/count", {"Referer": "https://a.example/about?x=1"}, "/about"),
            ("/count?path=/from-query", {"Referer": "https://a.example/about"}, "/from-query"),
            ("/count", {}, "/"),
        ]
        for target, headers, want in cases:
            with self.subTest(target=target, headers=headers):
                ids = self.visit_ids()
                self.count(target, headers)
                new = self.new_visits(ids)
                self.assertEqual(len(new), 1, new)
                self.assertEqual(new[0]["path"], want, new[0])
                self.assertNotEqual(new[0]["path"], "/count")
        for v in db_visits(self.db_path):
            self.assertNotEqual(v["path"], "/count", v)
            self.assertNotIn("?", v["path"], v)
        self.assertConsistent()


class BeaconEventTest(ServerTestCase):
    """POST /api/event: what navigator.sendBeacon sends (text/plain JSON, no preflight)."""

    def test_beacon_records_one_visit_and_answers_202(self):
        before_ids = self.visit_ids()
        before = api_count(self.port)
        body = json.dumps({"path": "/beacon", "referrer": "https://news.example/a", "screen": 1280})
        r = request(self.port, "POST", "/api/event", body=body.encode(),
                    headers={"Origin": ALLOWED_ORIGINS[1], "Content-Type": "text/plain;charset=UTF-8"})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json(), {"status": "accepted"})
        self.assertEqual(r.header("Access-Control-Allow-Origin"), ALLOWED_ORIGINS[1], r)
        self.assertEqual(api_count(self.port), before + 1)
        [visit] = self.new_visits(before_ids)
        self.assertEqual(visit["path"], "/beacon")
        self.assertEqual(visit["referrer"], "news.example")
        self.assertEqual(visit["site"], "b.example")
        self.assertConsistent()

    def test_bad_events_get_the_documented_error_and_nothing_is_written(self):
        cases = [
            ({"Origin": DISALLOWED_ORIGIN}, b"{}", 403, "origin_not_allowed"),
            ({}, b"not json", 400, "invalid_event"),
            ({}, b'{"path": 5}', 400, "invalid_event"),
            ({}, b'{"path": "relative"}', 400, "invalid_path"),
            ({"Content-Type": "multipart/form-data; boundary=x"}, b"{}", 415, "unsupported_media_type"),
            ({}, b"{" + b" " * 9000 + b"}", 413, "body_too_large"),
        ]
        for headers, body, status, code in cases:
            with self.subTest(code=code, status=status):
                before = self.state()
                r = request(self.port, "POST", "/api/event", headers=headers, body=body)
                self.assertJsonError(r, status, code, f"POST /api/event {body[:20]!r}")
                self.assertNothingWritten(before, f"POST /api/event {code}")


class CorsTest(ServerTestCase):

    def test_preflight_allowed_origin(self):
        for origin in ALLOWED_ORIGINS:
            with self.subTest(origin=origin):
                before = self.state()
                r = request(self.port, "OPTIONS", "/count",
                            headers={"Origin": origin,
                                     "Access-Control-Request-Method": "GET",
                                     "Access-Control-Request-Headers": "Content-Type"})
                self.assertEqual(r.status, 204, r)
                self.assertEqual(r.header("Access-Control-Allow-Origin"), origin, r)
                methods = r.header("Access-Control-Allow-Methods")
                self.assertIsNotNone(methods, r)
                self.assertIn("GET", [m.strip() for m in methods.split(",")], r)
                self.assertIsNotNone(r.header("Access-Control-Allow-Headers"), r)
                self.assertIn("content-type",
                              [h.strip().lower() for h in
                               r.header("Access-Control-Allow-Headers").split(",")], r)
                max_age = r.header("Access-Control-Max-Age")
                self.assertIsNotNone(max_age, r)
                self.assertTrue(max_age.isdigit() and int(max_age) > 0, r)
                self.assertIn("origin", self._vary(r), r)
                self.assertEqual(r.body, b"", r)
                self.assertNothingWritten(before, "preflight")

    def test_preflight_disallowed_origin(self):
        for origin in (DISALLOWED_ORIGIN, "https://a.example.evil.example", "null",
                       "http://a.example"):
            with self.subTest(origin=origin):
                before = self.state()
                r = request(self.port, "OPTIONS", "/count",
                            headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
                self.assertEqual(r.status, 204, r)
                self.assertIsNone(r.header("Access-Control-Allow-Origin"), r)
                self.assertNothingWritten(before, "disallowed preflight")

    def test_get_with_allowed_origin(self):
        for origin in ALLOWED_ORIGINS:
            with self.subTest(origin=origin):
                before = api_count(self.port)
                r, n = self.count("/count?path=/cors", {"Origin": origin})
                self.assertEqual(n, before + 1)
                self.assertEqual(r.header("Access-Control-Allow-Origin"), origin, r)
                self.assertIn("origin", self._vary(r), r)
        self.assertConsistent()

    def test_get_with_disallowed_origin(self):
        for origin in (DISALLOWED_ORIGIN, "https://a.example.evil.example", "null",
                       "http://a.example", "https://b.example:8443"):
            with self.subTest(origin=origin):
                before = self.state()
                r = request(self.port, "GET", "/count?path=/cors", headers={"Origin": origin})
                self.assertJsonError(r, 403, "origin_not_allowed", f"GET Origin {origin}")
                self.assertIsNone(r.header("Access-Control-Allow-Origin"), r)
                self.assertNothingWritten(before, f"GET /count Origin {origin}")

    @staticmethod
    def _vary(r):
        return [t.strip().lower() for v in r.header_all("Vary") for t in v.split(",")]


class ErrorsTest(ServerTestCase):

    def test_unknown_route_404(self):
        for target in ("/nope", "/api/nope", "/count/extra", "/COUNT"):
            with self.subTest(target=target):
                before = self.state()
                r = request(self.port, "GET", target)
                self.assertJsonError(r, 404, "not_found", target)
                self.assertNothingWritten(before, target)

    def test_wrong_method_405(self):
        for method in ("POST", "DELETE", "PUT", "PATCH"):
            with self.subTest(method=method):
                before = self.state()
                r = request(self.port, method, "/count", body=b"" if method != "DELETE" else None)
                self.assertJsonError(r, 405, "method_not_allowed", f"{method} /count")
                allow = r.header("Allow")
                self.assertIsNotNone(allow, f"405 without Allow header: {r!r}")
                self.assertIn("GET", [m.strip() for m in allow.split(",")], r)
                self.assertNotIn(method, [m.strip() for m in allow.split(",")], r)
                self.assertNothingWritten(before, f"{method} /count")

    def test_headers_too_large_431(self):
        cases = {
            "one big header": {"X-Filler": "a" * 9000},
            "many headers": {f"X-Filler-{i}": "b" * 60 for i in range(160)},
        }
        for name, headers in cases.items():
            with self.subTest(case=name):
                before = self.state()
                lines = ["GET /count?path=/big HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
                lines += [f"{k}: {v}" for k, v in headers.items()]
                data = ("\r\n".join(lines) + "\r\n\r\n").encode()
                self.assertGreater(len(data), 8192)
                r = raw_request(self.port, data)
                self.assertJsonError(r, 431, None, name)
                self.assertNothingWritten(before, name)

    def test_headers_just_under_limit_are_accepted(self):
        before = api_count(self.port)
        _, n = self.count("/count?path=/almost", {"X-Filler": "c" * 6000})
        self.assertEqual(n, before + 1)
        self.assertConsistent()

    def test_large_body_rejected_without_write(self):
        for target in ("/count", "/api/count", "/nope"):
            with self.subTest(target=target):
                before = self.state()
                r, _sent = harness.send_large_body(self.port, "POST", target, 1 << 20)
                self.assertIn(r.status, (405, 413, 404) if target == "/nope" else (405, 413), r)
                self.assertJsonError(r, r.status, None, f"POST 1 MiB {target}")
                self.assertNothingWritten(before, f"POST 1 MiB body to {target}")
        self.assertTrue(self.server.running)

    def test_malformed_request_line_400(self):
        cases = [
            b"THIS IS NOT HTTP\r\n\r\n",
            b"GET /count HTTP/1.1 trailing\r\nHost: x\r\n\r\n",
            b"GET /count HTTX/1.1\r\nHost: x\r\n\r\n",
            b"GET\r\nHost: x\r\n\r\n",
            b"G\x01T /count HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
        for data in cases:
            with self.subTest(data=data):
                before = self.state()
                r = raw_request(self.port, data)
                self.assertJsonError(r, 400, None, repr(data))
                self.assertNothingWritten(before, repr(data))
        self.assertTrue(self.server.running)

    def test_invalid_path_400(self):
        cases = [
            "no-leading-slash",
            "https://a.example/x",
            "/a%00b",
            "/a%0Ab",
            "/a%0Db",
            "/a%7Fb",
            "/" + "a" * 600,
            "/%FF",
            "/caf%C3",          # truncated UTF-8 sequence
            "/%C0%AF",          # overlong encoding
            "",
        ]
        for value in cases:
            with self.subTest(path=value[:40]):
                before = self.state()
                r = request(self.port, "GET", "/count?path=" + value)
                self.assertJsonError(r, 400, "invalid_path", f"?path={value[:40]}")
                self.assertNothingWritten(before, f"?path={value[:40]}")

    def test_path_at_limit_is_accepted(self):
        ids = self.visit_ids()
        path = "/" + "p" * 511
        self.count("/count?path=" + path)
        new = self.new_visits(ids)
        self.assertEqual([v["path"] for v in new], [path])

    def test_invalid_user_agent_400(self):
        for ua in (b"\xff\xfe", b"Mozilla/5.0 \xc3\x28", b"\xed\xa0\x80"):
            with self.subTest(ua=ua):
                before = self.state()
                data = (b"GET /count?path=/ua HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + ua
                        + b"\r\nConnection: close\r\n\r\n")
                r = raw_request(self.port, data)
                self.assertJsonError(r, 400, "invalid_user_agent", repr(ua))
                self.assertNothingWritten(before, f"User-Agent {ua!r}")

    def test_valid_utf8_user_agent_is_accepted(self):
        ids = self.visit_ids()
        data = ("GET /count?path=/ua-ok HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "User-Agent: Mözilla/5.0 (テスト)\r\nConnection: close\r\n\r\n").encode()
        r = raw_request(self.port, data)
        self.assertEqual(r.status, 200, r)
        new = self.new_visits(ids)
        self.assertEqual(len(new), 1)
        self.assertEqual(new[0]["user_agent"], "Mözilla/5.0 (テスト)")

    def test_server_survives_errors(self):
        # After every error case above (in whatever order they ran) the server still counts.
        before = api_count(self.port)
        _, n = self.count()
        self.assertEqual(n, before + 1)
        self.assertConsistent()


class PrivacyTest(ServerTestCase):
    """The server listens on 127.0.0.2 while the client connects from 127.0.0.1, so that the
    client address cannot legitimately appear anywhere (not even in the 'listening' line)."""

    server_kwargs = {"listen": "127.0.0.2:0"}
    CLIENT_IP = "127.0.0.1"
    FORWARDED_IP = "203.0.113.9"   # sent in X-Forwarded-For from an untrusted peer
    UA = "FootfallIntegration/1.0 (privacy)"
    N = 12

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t_start = time.time()
        cls.responses = []
        conn = connect(cls.port, host=cls.host, source_address=(cls.CLIENT_IP, 0))
        try:
            for i in range(cls.N):
                headers = {"User-Agent": cls.UA, "X-Forwarded-For": cls.FORWARDED_IP}
                if i % 4 == 3:
                    target = "/count"
                    headers["Referer"] = "https://a.example/about?x=1"
                else:
                    target = f"/count?path=/seq/{i}&ref=https://news.example/x"
                r = do_request(conn, "GET", target, headers)
                cls.responses.append(r)
                local = conn.sock.getsockname()[0] if conn.sock else cls.CLIENT_IP
                if local != cls.CLIENT_IP:
                    raise AssertionError(f"client bound to {local}, not {cls.CLIENT_IP}")
            # A different user agent from the same address.
            cls.other_ua = do_request(conn, "GET", "/count?path=/other-ua",
                                      {"User-Agent": "SomethingElse/2.0"})
        finally:
            conn.close()
        cls.t_end = time.time()

    def test_all_recorded(self):
        for r in self.responses + [self.other_ua]:
            self.assertEqual(r.status, 200, r)
        self.assertEqual(self.state()[1:], (self.N + 1, self.N + 1))

    def _forbidden_strings(self):
        ip = self.CLIENT_IP
        digest = harness.sha256_hex(ip)
        return [ip.encode(), digest.encode(), digest[:32].encode(), digest.upper().encode(),
                self.FORWARDED_IP.encode(), harness.sha256_hex(self.FORWARDED_IP).encode()]

    def test_address_not_in_db_file_while_running(self):
        data = harness.db_files_bytes(self.db_path)
        self.assertGreater(len(data), 0)
        for s in self._forbidden_strings():
            self.assertNotIn(s, data, f"{s!r} found in the DB files")

    def test_address_not_in_logs(self):
        out = self.server.stderr_bytes() + self.server.stdout_bytes()
        self.assertGreater(len(out), 0)
        for s in self._forbidden_strings():
            self.assertNotIn(s, out, f"{s!r} found in the server's output")

    def test_visitor_is_opaque_hex(self):
        digest = harness.sha256_hex(self.CLIENT_IP)
        for v in db_visits(self.db_path):
            visitor = v["visitor"]
            self.assertIsInstance(visitor, str, v)
            self.assertRegex(visitor, harness.HEX_RE, v)
            self.assertGreaterEqual(len(visitor), 16, v)
            self.assertNotEqual(visitor, self.CLIENT_IP)
            self.assertNotIn(visitor, digest, "visitor is (a prefix of) sha256(ip)")
            self.assertNotIn(digest[:16], visitor, "visitor contains sha256(ip)")

    def test_visitor_is_stable_per_client_and_ua(self):
        visits = db_visits(self.db_path)
        days = {v["timestamp"][:10] for v in visits}
        same = {v["visitor"] for v in visits if v["path"].startswith("/seq/")}
        other = [v["visitor"] for v in visits if v["path"] == "/other-ua"]
        if len(days) == 1:  # the salt rotates at UTC midnight
            self.assertEqual(len(same), 1, f"same client+UA gave different visitors: {same}")
        self.assertEqual(len(other), 1)
        self.assertNotIn(other[0], same, "a different user agent gave the same visitor hash")

    def test_visit_ids_are_uuidv7_and_time_ordered(self):
        visits = db_visits(self.db_path)
        self.assertEqual(len(visits), self.N + 1)
        lo_ms = int(self.t_start * 1000) - 2000
        hi_ms = int(self.t_end * 1000) + 2000
        for v in visits:
            self.assertRegex(v["visit_id"], harness.UUIDV7_RE, v)
            ms = harness.uuid_v7_millis(v["visit_id"])
            self.assertTrue(lo_ms <= ms <= hi_ms, f"UUIDv7 time {ms} outside [{lo_ms},{hi_ms}]")
            ts_ms = round(harness.parse_iso8601_millis(v["timestamp"]) * 1000)
            self.assertLessEqual(abs(ts_ms - ms), 1000,
                                 f"visit_id time and timestamp disagree: {v}")
        self.assertEqual(len({v["visit_id"] for v in visits}), len(visits))
        # Sequential requests: ids (by their time prefix) and timestamps never go backwards, and
        # ordering by visit_id orders by time.
        seq = sorted((v for v in visits if v["path"].startswith("/seq/")),
                     key=lambda v: int(v["path"].rsplit("/", 1)[1]))
        for a, b in zip(seq, seq[1:]):
            self.assertLessEqual(harness.uuid_v7_millis(a["visit_id"]),
                                 harness.uuid_v7_millis(b["visit_id"]), (a, b))
            self.assertLessEqual(a["timestamp"], b["timestamp"], (a, b))
        by_id = sorted(visits, key=lambda v: v["visit_id"])
        for a, b in zip(by_id, by_id[1:]):
            self.assertLessEqual(a["timestamp"], b["timestamp"],
                                 f"ordering by visit_id is not ordering by time: {a} {b}")

    def test_timestamp_and_expiration(self):
        for v in db_visits(self.db_path):
            self.assertRegex(v["timestamp"], harness.ISO8601_MILLIS_RE, v)
            t = harness.parse_iso8601_millis(v["timestamp"])
            self.assertTrue(self.t_start - 2 <= t <= self.t_end + 2,
                            f"timestamp {v['timestamp']} not within the test run (UTC?)")
            self.assertIsInstance(v["expiration_time"], int, v)
            want = t + harness.NINETY_DAYS_S
            self.assertLessEqual(abs(v["expiration_time"] - want), 86400,
                                 f"expiration_time {v['expiration_time']} is not ~now+90d "
                                 f"({want:.0f}): {v}")

    def test_paths_stored(self):
        visits = db_visits(self.db_path)
        paths = sorted(v["path"] for v in visits)
        want = sorted([f"/seq/{i}" if i % 4 != 3 else "/about" for i in range(self.N)]
                      + ["/other-ua"])
        self.assertEqual(paths, want)
        for v in visits:
            self.assertNotEqual(v["path"], "/count")

    def test_referrer_is_host_only(self):
        for v in db_visits(self.db_path):
            want = "news.example" if v["path"].startswith("/seq/") else ""
            self.assertEqual(v["referrer"], want, f"referrer should be the ?ref= host only: {v}")

    def test_user_agent_stored_as_sent(self):
        uas = {v["user_agent"] for v in db_visits(self.db_path)}
        self.assertEqual(uas, {self.UA, "SomethingElse/2.0"})

    def test_z_address_not_in_db_after_stop(self):
        # Runs last in this class (alphabetical order): stop, then scan the checkpointed file.
        self.server.stop(expect_code=0)
        try:
            data = harness.db_files_bytes(self.db_path)
            for s in self._forbidden_strings():
                self.assertNotIn(s, data, f"{s!r} found in the DB files after stop")
            self.assertEqual(harness.db_integrity(self.db_path), ["ok"])
            self.assertEqual(db_snapshot(self.db_path), (self.N + 1, self.N + 1))
        finally:
            self.server.start()  # tearDownClass stops it again
            type(self).port = self.server.port
            self.assertEqual(api_count(self.server.port, host=self.host), self.N + 1)

    def setUp(self):
        if self._testMethodName != "test_z_address_not_in_db_after_stop":
            super().setUp()


class TrustedProxyTest(ServerTestCase):
    """With 127.0.0.1 as a trusted proxy, X-Forwarded-For decides the client (so two forwarded
    addresses are two visitors) and is still never stored nor logged."""

    server_kwargs = {"listen": "127.0.0.2:0",
                     "extra_args": ["--trusted-proxies", "127.0.0.1/32",
                                    "--default-site", "site.example"]}
    A, B = "198.51.100.7", "198.51.100.8"

    def test_forwarded_clients_hashed_not_stored(self):
        src = ("127.0.0.1", 0)
        ua = {"User-Agent": "ProxyTest/1.0"}
        for path, xff in (("/p/a1", self.A), ("/p/a2", f"203.0.113.50, {self.A}"),
                          ("/p/b", self.B)):
            r = request(self.port, "GET", f"/count?path={path}", host=self.host,
                        source_address=src, headers=dict(ua, **{"X-Forwarded-For": xff}))
            self.assertEqual(r.status, 200, r)
        visits = {v["path"]: v for v in db_visits(self.db_path)}
        self.assertEqual(set(visits), {"/p/a1", "/p/a2", "/p/b"})
        if len({v["timestamp"][:10] for v in visits.values()}) == 1:
            self.assertEqual(visits["/p/a1"]["visitor"], visits["/p/a2"]["visitor"],
                             "the right-most forwarded address did not decide the visitor")
        self.assertNotEqual(visits["/p/a1"]["visitor"], visits["/p/b"]["visitor"],
                            "two forwarded clients got the same visitor: X-Forwarded-For ignored?")
        for v in visits.values():
            self.assertEqual(v["site"], "site.example", f"--default-site not used: {v}")
        blobs = harness.db_files_bytes(self.db_path) + self.server.stderr_bytes()
        for ip in (self.A, self.B, "203.0.113.50", "127.0.0.1"):
            self.assertNotIn(ip.encode(), blobs, f"{ip} stored or logged")
            self.assertNotIn(harness.sha256_hex(ip).encode(), blobs, f"sha256({ip}) stored")


class RestartTest(unittest.TestCase):

    def test_count_survives_restart(self):
        with tempfile.TemporaryDirectory(prefix="footfall-it-") as tmp:
            db = os.path.join(tmp, "footfall.db")
            with FootfallServer(db_path=db) as srv:
                self.assertEqual(api_count(srv.port), 0)
                for i in range(1, 6):
                    self.assertEqual(request(srv.port, "GET", "/count").json()["count"], i)
            self.assertEqual(db_snapshot(db), (5, 5))
            with FootfallServer(db_path=db) as srv:
                self.assertEqual(api_count(srv.port), 5)
                self.assertEqual(request(srv.port, "GET", "/count").json()["count"], 6)
            with FootfallServer(db_path=db) as srv:
                self.assertEqual(api_count(srv.port), 6)
            self.assertEqual(db_snapshot(db), (6, 6))
            self.assertEqual(harness.db_integrity(db), ["ok"])


class RequestLogTest(unittest.TestCase):

    def test_one_json_line_per_request(self):
        with tempfile.TemporaryDirectory(prefix="footfall-it-") as tmp:
            srv = FootfallServer(db_path=os.path.join(tmp, "footfall.db"))
            with srv:
                sent = [("GET", "/count?path=/secret-page&ref=https://news.example/x", 200),
                        ("GET", "/api/count", 200),
                        ("GET", "/nope", 404),
                        ("POST", "/count", 405),
                        ("GET", "/healthz", 200)]
                for method, target, status in sent:
                    r = request(srv.port, method, target, body=b"" if method == "POST" else None)
                    self.assertEqual(r.status, status, r)
            # stopped (exit 0): every log line has been flushed
            lines = [l for l in srv.stderr_lines() if l.strip()]
            events = []
            for line in lines:
                e = harness._json_line(line)
                self.assertIsNotNone(e, f"stderr line is not a JSON object: {line!r}")
                events.append(e)
            self.assertEqual(events[0].get("msg"), "listening", events[0])
            self.assertEqual(events[0].get("allowed_origins"), list(ALLOWED_ORIGINS), events[0])
            self.assertTrue(str(events[0].get("store", "")).startswith("sqlite:"), events[0])
            reqs = [e for e in events if "request_id" in e]
            self.assertEqual(len(reqs), len(sent), f"request log lines: {reqs}")
            for e, (method, target, status) in zip(reqs, sent):
                for field in ("time", "request_id", "method", "route", "status", "latency_us",
                              "batch"):
                    self.assertIn(field, e, e)
                self.assertEqual(e["method"], method, e)
                self.assertEqual(e["status"], status, e)
                self.assertIsInstance(e["latency_us"], int, e)
                self.assertGreaterEqual(e["latency_us"], 0, e)
                self.assertNotIn("?", str(e["route"]), f"query string logged as route: {e}")
            self.assertEqual(reqs[0]["route"], "/count", reqs[0])
            self.assertGreaterEqual(reqs[0]["batch"], 1, reqs[0])
            self.assertEqual(len({e["request_id"] for e in reqs}), len(reqs))


if __name__ == "__main__":
    harness.run_tests()
