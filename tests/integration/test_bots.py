#!/usr/bin/env python3
"""Bots are not visitors, through the real binary (issue 22): every example user agent of the
pinned crawler-user-agents list and every real browser of third_party/user-agents/browsers.txt is
sent once to GET /count of `footfall serve` on SQLite, over HTTP, as a new user would test it.
A browser must be recorded (the count it gets back goes up by one); a list example must not be,
except the documented HTTP libraries, counted as `non_browser` by default (68 of the list's
2,118 examples) and dropped with --drop-http-libraries. The totals are then checked against the
SQLite file and /metrics, whose drop reasons must add up to the examples dropped, and every drop
reason /metrics counted must be shown, with the same count, by GET /api/stats and the dashboard
(served with --stats-public)."""
import html
import json
import os
import re
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FootfallServer, connect, do_request, parse_listen, request, run_tests  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CRAWLER_LIST = os.path.join(REPO, "third_party", "crawler-user-agents", "crawler-user-agents.json")
BROWSERS = os.path.join(REPO, "third_party", "user-agents", "browsers.txt")
# The list's examples that footfall's documented HTTP-library list names (docs/operations.md,
# "Bots"); the same figure as in src/core/user_agent_corpus_test.cc.
HTTP_LIBRARY_EXAMPLES = 68
NO_LIMITS = ["--log-requests", "false", "--metrics-listen", "127.0.0.1:0", "--stats-public", "true"]
BOT_REASONS = ("crawler", "headless", "link_preview", "monitor", "feed_reader", "scanner")


def list_examples():
    with open(CRAWLER_LIST, encoding="utf-8") as f:
        return [instance for entry in json.load(f) for instance in entry["instances"]]


def browsers():
    with open(BROWSERS, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def header_safe(user_agent):
    # http.client refuses control characters in header values; the list has none today, and a
    # new one would be a change to look at, not to send differently.
    assert not re.search(r"[\x00-\x1f\x7f]", user_agent), f"control character in {user_agent!r}"
    return user_agent.encode("utf-8").decode("latin-1")


def metrics(srv):
    _, port = parse_listen(srv.listening_event["metrics"].rsplit("/", 1)[0])
    text = request(port, "GET", "/metrics").body.decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def metric_drops(m):
    """{reason: count} of footfall_drops_total, leaving out the reasons that never occurred."""
    out = {}
    for name, value in m.items():
        match = re.fullmatch(r'footfall_drops_total\{reason="([^"]+)"\}', name)
        if match and value:
            out[match.group(1)] = int(value)
    return out


def stats_drops(port):
    """{reason: count} of GET /api/stats's drops (every reason: top=100)."""
    r = request(port, "GET", "/api/stats?top=100")
    assert r.status == 200, (r.status, r.body[:200])
    return {entry["name"]: entry["views"] for entry in r.json()["drops"]}


def dashboard_drops(port):
    """{reason: count} of the dashboard's "Not counted, by reason" card."""
    r = request(port, "GET", "/dashboard?top=100")
    assert r.status == 200, (r.status, r.body[:200])
    page = r.body.decode()
    card = re.search(r"<h2>Not counted, by reason</h2>(.*?)</section>", page, re.S)
    assert card, "no 'Not counted, by reason' card on the dashboard"
    rows = re.findall(r'<td class="name">([^<]*)<svg.*?</td><td class="n">([0-9,]+)</td>',
                      card.group(1), re.S)
    return {html.unescape(name): int(count.replace(",", "")) for name, count in rows}


def stored_visits(db_path):
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM visits").fetchone()[0]


class BotsTest(unittest.TestCase):

    def send_all(self, extra_args):
        with FootfallServer(extra_args=NO_LIMITS + extra_args) as srv:
            # One browser first, so that every following answer can be compared with the last.
            first = browsers()[0]
            start = request(srv.port, "GET", "/count", headers={"User-Agent": first}).json()["count"]
            examples = list_examples()
            conn = connect(srv.port)
            recorded_examples, missed_browsers = [], []
            last = start
            try:
                for kind, user_agents in (("example", examples), ("browser", browsers())):
                    for user_agent in user_agents:
                        r = do_request(conn, "GET", "/count",
                                       headers={"User-Agent": header_safe(user_agent)})
                        self.assertEqual(r.status, 200, (user_agent, r.body[:200]))
                        count = r.json()["count"]
                        went_up = count == last + 1
                        self.assertIn(count, (last, last + 1), user_agent)
                        last = count
                        if kind == "example" and went_up:
                            recorded_examples.append(user_agent)
                        if kind == "browser" and not went_up:
                            missed_browsers.append(user_agent)
            finally:
                conn.close()
            m = metrics(srv)
            self.assert_drops_shown(srv.port, metric_drops(m))
            srv.stop()
            return examples, recorded_examples, missed_browsers, m, stored_visits(srv.db_path)

    def assert_drops_shown(self, port, expected):
        """Every drop reason /metrics counted is in /api/stats and on the dashboard with the same
        count. Drops reach SQLite on the store's writer after the answer (coalesced), so the stats
        are polled until they agree or the deadline passes."""
        deadline = time.monotonic() + 10.0
        while True:
            shown = stats_drops(port)
            if shown == expected or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(shown, expected, "GET /api/stats drops against /metrics")
        self.assertEqual(dashboard_drops(port), expected, "dashboard drops against /metrics")
        print("drops shown by /api/stats and the dashboard as /metrics counts them: "
              + ", ".join(f"{reason} {count}" for reason, count in sorted(expected.items())))

    def test_list_examples_are_dropped_and_browsers_recorded(self):
        examples, recorded, missed, m, stored = self.send_all([])
        self.assertEqual(missed, [], "real browsers that were not recorded")
        self.assertEqual(len(recorded), HTTP_LIBRARY_EXAMPLES,
                         f"list examples recorded (only HTTP libraries may be): {recorded[:20]}")
        dropped = len(examples) - len(recorded)
        # Every finer reason the list allows occurred (and send_all saw each in stats and on the
        # dashboard).
        self.assertEqual({r for r in BOT_REASONS if m[f'footfall_drops_total{{reason="{r}"}}']},
                         set(BOT_REASONS))
        bot_drops = sum(m[f'footfall_drops_total{{reason="{r}"}}'] for r in BOT_REASONS)
        self.assertEqual(bot_drops, dropped, {r: m[f'footfall_drops_total{{reason="{r}"}}']
                                              for r in BOT_REASONS})
        browsers_sent = len(browsers()) + 1
        self.assertEqual(m["footfall_visits_recorded_total"], browsers_sent + len(recorded))
        self.assertEqual(stored, browsers_sent + len(recorded))
        print(f"{dropped} of {len(examples)} list examples dropped, {len(recorded)} HTTP libraries"
              f" counted as non_browser; {browsers_sent - len(missed)} of {browsers_sent} browsers"
              " recorded")

    def test_drop_http_libraries_drops_every_example(self):
        examples, recorded, missed, m, stored = self.send_all(["--drop-http-libraries", "true"])
        self.assertEqual(recorded, [], "with --drop-http-libraries no list example is a visit")
        self.assertEqual(missed, [])
        self.assertEqual(m['footfall_drops_total{reason="http_library"}'], HTTP_LIBRARY_EXAMPLES)
        self.assertEqual(stored, len(browsers()) + 1)


if __name__ == "__main__":
    run_tests()
