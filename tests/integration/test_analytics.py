#!/usr/bin/env python3
"""Custom events, properties, goals and campaigns end to end: the real `footfall serve` on a SQLite
file over HTTP, then `footfall stats` on the same file.

- a custom event is stored with its properties but moves neither /api/count nor the views;
- /api/stats lists events, the properties of ?event=, every configured goal with its conversion
  rate, and the campaign dimensions (from /count's utm_* and from an event's page URL);
- bad events get 400 invalid_event naming the field, and nothing is written;
- past --max-distinct-values, new values are counted as "(other)" and as the drop too_many_values;
- `footfall stats` prints the same sections.
"""
import json
import os
import sqlite3
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ALLOWED_ORIGINS, FootfallServer, api_count, db_visits, request  # noqa: E402

TOKEN = "analytics-token"
GOALS = "event:Signup,page:/thanks,page:/docs/*,page:/never"
ORIGIN = ALLOWED_ORIGINS[0]
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def all_visits(db_path):
    """Every column of every stored visit (harness.db_visits reads the seed's columns only)."""
    conn = harness.db_connect_ro(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM visits ORDER BY visit_id")]
    finally:
        conn.close()


def beacon(port, body, peer="127.0.0.1"):
    return request(port, "POST", "/api/event", body=json.dumps(body).encode(),
                   headers={"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8",
                            "User-Agent": BROWSER},
                   source_address=(peer, 0))


class AnalyticsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The server keeps its SQLite file in a temporary directory of its own.
        cls.server = FootfallServer(extra_args=[
            "--stats-token", TOKEN, "--goals", GOALS, "--max-distinct-values", "3"])
        try:
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise
        cls.db_path = cls.server.db_path
        cls.port = cls.server.port
        # Two visitors (two loopback addresses): a campaign visit, a docs page, and events.
        get = lambda target, peer: request(  # noqa: E731
            cls.port, "GET", target, headers={"Origin": ORIGIN, "User-Agent": BROWSER},
            source_address=(peer, 0))
        for target, peer in [("/count?path=/thanks&utm_source=Newsletter&utm_medium=Email"
                              "&utm_campaign=Launch", "127.0.0.1"),
                             ("/count?path=/docs/intro", "127.0.0.2")]:
            assert get(target, peer).status == 200
        for body, peer in [({"name": "Signup", "props": {"plan": "pro"}, "path": "/thanks"},
                            "127.0.0.1"),
                           ({"name": "Signup", "props": {"plan": "free"}, "path": "/"}, "127.0.0.2"),
                           ({"name": "Signup", "props": {"plan": "pro"}, "path": "/thanks"},
                            "127.0.0.1"),
                           ({"url": "https://a.example/landing?ref=HN&utm_medium=social"},
                            "127.0.0.2")]:
            response = beacon(cls.port, body, peer)
            assert response.status == 202, response

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop(expect_code=0)
        finally:
            cls.server.cleanup()

    def stats(self, query=""):
        response = request(self.port, "GET", "/api/stats" + query,
                           headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(response.status, 200, response)
        return response.json()

    def test_custom_events_are_stored_but_not_counted(self):
        self.assertEqual(api_count(self.port), 3)  # /thanks, /docs/intro, /landing
        visits = all_visits(self.db_path)
        events = [v for v in visits if v["event"]]
        self.assertEqual(len(events), 3)
        self.assertEqual(sorted(json.loads(v["props"])["plan"] for v in events),
                         ["free", "pro", "pro"])
        for visit in visits:
            self.assertNotIn("utm", json.dumps(visit).lower(), "campaigns are aggregates only")
            self.assertNotIn("newsletter", json.dumps(visit).lower())

    def test_stats_list_events_properties_goals_and_campaigns(self):
        stats = self.stats("?event=Signup")
        self.assertEqual(stats["views"], 3)
        self.assertEqual(stats["visitor_days"], 2)
        self.assertEqual([p["name"] for p in stats["paths"]], ["/docs/intro", "/landing", "/thanks"])
        self.assertEqual(stats["events"], [{"name": "Signup", "count": 3, "visitor_days": 2}])
        self.assertEqual(stats["props"], {"plan": [
            {"name": "pro", "count": 2, "visitor_days": 1},
            {"name": "free", "count": 1, "visitor_days": 1}]})
        self.assertEqual(stats["goals"], [
            {"goal": "event:Signup", "count": 3, "visitor_days": 2, "conversion_rate": 1.0},
            {"goal": "page:/thanks", "count": 1, "visitor_days": 1, "conversion_rate": 0.5},
            {"goal": "page:/docs/*", "count": 1, "visitor_days": 1, "conversion_rate": 0.5},
            {"goal": "page:/never", "count": 0, "visitor_days": 0, "conversion_rate": 0.0}])
        self.assertEqual(stats["campaigns"], {
            "sources": [{"name": "hn", "views": 1}, {"name": "newsletter", "views": 1}],
            "mediums": [{"name": "email", "views": 1}, {"name": "social", "views": 1}],
            "campaigns": [{"name": "launch", "views": 1}], "contents": [], "terms": []})
        self.assertNotIn("props", self.stats(), "properties only for ?event=")

    def test_bad_events_are_refused_naming_the_field(self):
        before = len(db_visits(self.db_path))
        for body, field in [({"name": ""}, "name"), ({"name": "x", "props": {"a": 1}}, "props.a"),
                            ({"name": "x", "props": {"ip": "10.1.2.3"}}, "props.ip"),
                            ({"props": {str(i): "v" for i in range(11)}}, "props"),
                            ({"utm": {"source": 3}}, "utm.source"), ({"url": "ftp://x/"}, "url")]:
            with self.subTest(field=field):
                response = beacon(self.port, body)
                self.assertEqual(response.status, 400, response)
                error = response.json()
                self.assertEqual(error["error"], "invalid_event")
                self.assertIn(field, error["message"])
        self.assertEqual(len(db_visits(self.db_path)), before)
        self.assertEqual(request(self.port, "GET", "/api/stats?event=%01",
                                 headers={"Authorization": "Bearer " + TOKEN}).status, 400)

    def test_z_values_past_the_bound_become_other(self):
        # --max-distinct-values 3: Signup is one event name; three more fill the day's list.
        for name in ["a", "b", "c", "d"]:
            self.assertEqual(beacon(self.port, {"name": name}).status, 202)
        stats = self.stats()
        names = {e["name"]: e["count"] for e in stats["events"]}
        self.assertEqual(names, {"Signup": 3, "a": 1, "b": 1, "(other)": 2})
        drops = {d["name"]: d["views"] for d in stats["drops"]}
        self.assertEqual(drops.get("too_many_values"), 2)

    def test_stats_command_prints_the_new_sections(self):
        result = subprocess.run(
            [harness.footfall_bin(), "stats", "--store", "sqlite:" + self.db_path, "--site",
             "a.example", "--event", "Signup", "--goals", GOALS],
            capture_output=True, text=True, timeout=60, env=harness.server_env())
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout
        for expected in ["custom events", "Signup", "Signup: plan", "goals", "event:Signup",
                         "100.0%", "page:/never", "campaign sources (utm_source)", "newsletter",
                         "campaigns (utm_campaign)", "launch"]:
            self.assertIn(expected, out)


if __name__ == "__main__":
    harness.run_tests()
