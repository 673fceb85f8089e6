#!/usr/bin/env python3
"""footfall's own rate limiting through real HTTP: a visitor over its limit gets 429 with
Retry-After and nothing is recorded (the drop is counted as rate_limited); other visitors are not
affected; the global limit caps everyone together; X-Forwarded-For / Forwarded make distinct
visitors only from trusted proxies (a spoofed header from anyone else is ignored); a flood of
distinct addresses keeps the limiter's memory at its cap."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FootfallServer, api_count, request, run_tests  # noqa: E402
from test_metrics import samples  # noqa: E402


def metrics(port):
    r = request(port, "GET", "/metrics")
    assert r.status == 200, r
    return samples(r.body.decode())


class RateLimitTest(unittest.TestCase):

    def test_visitor_limit_429_with_retry_after_and_nothing_recorded(self):
        env = {"FOOTFALL_RATE_LIMIT_VISITOR": "30"}
        with FootfallServer(env=env, extra_args=["--metrics-public", "true"]) as srv:
            statuses = [request(srv.port, "GET", "/count").status for _ in range(30)]
            self.assertEqual(statuses, [200] * 30)
            limited = request(srv.port, "GET", "/count")
            self.assertEqual(limited.status, 429, limited)
            self.assertEqual(limited.json()["error"], "rate_limited")
            self.assertEqual(limited.header("Retry-After"), "2")  # 30 per minute: one every 2 s
            self.assertEqual(request(srv.port, "POST", "/api/event", body=b"{}").status, 429)
            # Health and metrics are never limited.
            self.assertEqual(request(srv.port, "GET", "/healthz").status, 200)
            m = metrics(srv.port)
            self.assertEqual(m["footfall_visits_recorded_total"], 30)
            self.assertEqual(m['footfall_drops_total{reason="rate_limited"}'], 2)
            self.assertEqual(m['footfall_http_requests_total{route="/count",status="429"}'], 1)
            self.assertEqual(m["footfall_rate_limiter_buckets"], 1)

    def test_forwarded_addresses_count_only_from_trusted_proxies(self):
        env = {"FOOTFALL_RATE_LIMIT_VISITOR": "5"}
        # 127.0.0.1 (the test) is not trusted: spoofed headers change nothing.
        with FootfallServer(env=env, extra_args=["--trusted-proxies", "10.0.0.0/8"]) as srv:
            statuses = [request(srv.port, "GET", "/count",
                                headers={"X-Forwarded-For": f"198.51.100.{i}",
                                         "Forwarded": f"for=198.51.100.{i}"}).status
                        for i in range(8)]
            self.assertEqual(statuses, [200] * 5 + [429] * 3)
        # Trusted: each forwarded client has its own bucket, through either header.
        with FootfallServer(env=env, extra_args=["--trusted-proxies", "127.0.0.1"]) as srv:
            for i in range(8):
                header = ({"X-Forwarded-For": f"198.51.100.{i}"} if i % 2
                          else {"Forwarded": f'for="198.51.100.{i}:4711";proto=https'})
                self.assertEqual(request(srv.port, "GET", "/count", headers=header).status, 200)
            self.assertEqual(api_count(srv.port), 8)

    def test_global_limit_and_bounded_memory_under_a_flood_of_addresses(self):
        env = {"FOOTFALL_RATE_LIMIT_VISITOR": "1000", "FOOTFALL_RATE_LIMIT_GLOBAL": "40"}
        args = ["--trusted-proxies", "127.0.0.1", "--rate-limit-max-visitors", "160",
                "--metrics-public", "true"]
        with FootfallServer(env=env, extra_args=args) as srv:
            statuses = [request(srv.port, "GET", "/api/count",
                                headers={"X-Forwarded-For": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"}).status
                        for i in range(1500)]
            self.assertGreaterEqual(statuses.count(429), 1000, "the global bucket holds 40/s")
            self.assertGreaterEqual(statuses.count(200), 40)
            m = metrics(srv.port)
            self.assertLessEqual(m["footfall_rate_limiter_buckets"], 160)
            self.assertGreater(m["footfall_rate_limiter_buckets"], 100)


if __name__ == "__main__":
    run_tests()
