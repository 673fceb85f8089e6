#!/usr/bin/env python3
"""GET /metrics through the real binary: the exposition passes `promtool check metrics`, its
numbers match the traffic sent (requests by route and status, visits, drops by reason, store
operations), the main listener's /metrics needs the stats token, and --metrics-listen serves it
on a separate port, where nothing else is served."""
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ALLOWED_ORIGINS, DISALLOWED_ORIGIN, FootfallServer, HarnessError,  # noqa: E402
                     parse_listen, request, run_tests)

SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def samples(text):
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        match = SAMPLE.match(line)
        assert match, f"not an exposition line: {line!r}"
        out[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return out


def promtool_check(text):
    promtool = shutil.which("promtool")
    if promtool is None:
        raise HarnessError("promtool is missing: run scripts/install-deps.sh (Debian package prometheus)")
    done = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
    return done.returncode, (done.stdout + done.stderr).decode()


class MetricsTest(unittest.TestCase):

    def test_separate_listener_exposition_matches_the_traffic(self):
        with FootfallServer(extra_args=["--metrics-listen", "127.0.0.1:0"]) as srv:
            _, metrics_port = parse_listen(srv.listening_event["metrics"].rsplit("/", 1)[0])
            for _ in range(3):
                self.assertEqual(request(srv.port, "GET", "/count", headers={"User-Agent": FIREFOX}).status, 200)
            request(srv.port, "GET", "/count", headers={"User-Agent": "Googlebot/2.1"})
            request(srv.port, "GET", "/count", headers={"Origin": DISALLOWED_ORIGIN})
            request(srv.port, "GET", "/count?path=relative")
            request(srv.port, "GET", "/nowhere")
            self.assertEqual(request(srv.port, "GET", "/metrics").status, 404, "not on the main listener")
            self.assertEqual(request(metrics_port, "GET", "/count").status, 404, "only /metrics there")

            scrape = request(metrics_port, "GET", "/metrics")
            self.assertEqual(scrape.status, 200)
            self.assertTrue(scrape.header("Content-Type").startswith("text/plain; version=0.0.4"))
            text = scrape.body.decode()
            code, output = promtool_check(text)
            self.assertEqual(code, 0, output)
            s = samples(text)
            self.assertEqual(s['footfall_http_requests_total{route="/count",status="200"}'], 4)
            self.assertEqual(s['footfall_http_requests_total{route="/count",status="403"}'], 1)
            self.assertEqual(s['footfall_http_requests_total{route="/count",status="400"}'], 1)
            self.assertEqual(s['footfall_http_requests_total{route="unknown",status="404"}'], 1)
            self.assertEqual(s["footfall_visits_recorded_total"], 3)
            self.assertEqual(s['footfall_drops_total{reason="crawler"}'], 1)
            self.assertEqual(s['footfall_drops_total{reason="foreign_origin"}'], 1)
            self.assertEqual(s['footfall_drops_total{reason="invalid"}'], 1)
            self.assertEqual(s['footfall_drops_total{reason="rate_limited"}'], 0)
            self.assertEqual(s['footfall_store_operations_total{operation="record_visit",result="ok"}'], 3)
            self.assertEqual(s["footfall_group_commit_batch_size_count"], 3)
            self.assertEqual(s["footfall_store_ready"], 1)
            self.assertEqual(s['footfall_http_request_duration_seconds_count{route="/count"}'], 6)
            self.assertEqual(s['footfall_build_info{version="0.1.0"}'], 1)
            self.assertGreaterEqual(s["footfall_http_open_connections"], 0)

    def test_main_listener_metrics_need_the_stats_token(self):
        with FootfallServer(extra_args=["--stats-token", "s3cret"]) as srv:
            self.assertEqual(request(srv.port, "GET", "/metrics").status, 401)
            self.assertEqual(request(srv.port, "GET", "/metrics",
                                     headers={"Authorization": "Bearer nope"}).status, 401)
            ok = request(srv.port, "GET", "/metrics", headers={"Authorization": "Bearer s3cret",
                                                                 "Origin": DISALLOWED_ORIGIN})
            self.assertEqual(ok.status, 200)
            self.assertIsNone(ok.header("Access-Control-Allow-Origin"), "no CORS for other origins")
            self.assertEqual(promtool_check(ok.body.decode())[0], 0)
        with FootfallServer() as srv:  # no token: off, as /api/stats
            self.assertEqual(request(srv.port, "GET", "/metrics").status, 403)
        with FootfallServer(extra_args=["--metrics-public", "true"]) as srv:
            self.assertEqual(request(srv.port, "GET", "/metrics").status, 200)


if __name__ == "__main__":
    run_tests()
