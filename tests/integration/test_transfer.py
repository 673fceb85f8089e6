#!/usr/bin/env python3
"""`footfall export`, `footfall import` and `footfall stats` through the real binary, on every
engine: an export imported into an empty store gives identical statistics (JSON Lines and CSV);
importing twice changes nothing; a bad record stops the import with its line number, keeps what
came before, and a re-run completes; GoatCounter's CSV export imports with events and bots
skipped. Engines: SQLite files, a real PostgreSQL 15 (pg.py) and a real DynamoDB API (moto)."""
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import footfall_bin, keep_directory, run_tests  # noqa: E402
from pg import PostgresServer  # noqa: E402
from test_serve_dynamodb import CREDENTIALS, Moto  # noqa: E402

DAY0 = 1_795_564_800_000  # 2026-11-25T00:00:00Z
RANGE = ["--from", "2026-11-20", "--to", "2026-11-27"]
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "curl/8.5.0",
]


def iso(ms):
    import datetime
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def uuid7(ms, rng):
    value = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def sample_visits(n=300, seed=7):
    """Visits over three days with repeat visitors, several pages, referrers, agents, screens; one
    in six is a custom event with properties."""
    rng = random.Random(seed)
    visits = []
    for i in range(n):
        ms = DAY0 - 86_400_000 + rng.randrange(3 * 86_400_000)
        visits.append({
            "visit_id": uuid7(ms, rng), "timestamp": iso(ms),
            "visitor": f"{rng.randrange(40):032x}", "user_agent": rng.choice(AGENTS),
            "path": rng.choice(["/", "/cv", "/blog/été", "/blog/a,b \"c\""]),
            "referrer": rng.choice(["", "news.example", "search.example"]),
            "site": "me.example", "expiration_time": ms // 1000 + 90 * 86400,
            "screen": rng.choice(["", "<600", "1440+"]),
            "source": rng.choice(["origin", "no_origin"]),
        })
        if i % 6 == 5:
            visits[-1]["event"] = "Download"
            visits[-1]["props"] = {"file": rng.choice(["cv.pdf", "a,b \"c\".zip"]), "lang": "en"}
    # In time order, as footfall records them (a visitor's first visit of a day is "new").
    return sorted(visits, key=lambda v: v["visit_id"])


class SqliteEngine:
    name = "sqlite"

    def __init__(self, tmp):
        self.tmp = tmp
        self.n = 0

    def fresh(self):
        self.n += 1
        return f"sqlite:{self.tmp}/store{self.n}.db"

    def env(self):
        return {}

    def close(self):
        pass


class PostgresEngine:
    name = "postgres"

    def __init__(self, tmp):
        self.server = PostgresServer()
        self.server.start()
        self.n = 0

    def fresh(self):
        self.n += 1
        return self.server.create_database(f"transfer{self.n}")

    def env(self):
        return {}

    def close(self):
        self.server.cleanup()


class DynamoDbEngine:
    name = "dynamodb"
    # The import writes many visits at once; on DynamoDB two visits of one visitor on one day
    # race for "first seen", so the hour that counts the new visitor may differ (the day does not).
    exact_hourly_new_visitors = False

    def __init__(self, tmp):
        self.moto = Moto()
        self.n = 0

    def fresh(self):
        self.n += 1
        uri = f"dynamodb://transfer{self.n}?region=us-east-1&endpoint={self.moto.endpoint}"
        done = subprocess.run([footfall_bin(), "migrate", "--store", uri],
                              env={**os.environ, **CREDENTIALS}, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return uri

    def env(self):
        return CREDENTIALS

    # moto applies one request at a time (tests/tools/moto_server_atomic.py): a wide import
    # window would queue thousands of requests on it.
    import_args = ["--parallel", "4"]
    # Each visit is a transaction, and moto deep-copies the whole table for each one: the cost
    # grows with the square of the visits. 120 still spans three days, every path and agent.
    sample_size = 120

    def close(self):
        self.moto.stop()


def without_hourly_new_visitors(stats):
    return {**stats, "series": [{**p, "new_visitors": None} for p in stats["series"]]}


class TransferTest(unittest.TestCase):
    engine_class = SqliteEngine

    @classmethod
    def setUpClass(cls):
        cls.tmp_dir = tempfile.TemporaryDirectory(prefix="footfall-transfer-")
        cls.tmp = cls.tmp_dir.name
        cls.engine = cls.engine_class(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.engine.close()
        keep_directory(cls.tmp)  # the exports and SQLite stores, for the privacy audit
        cls.tmp_dir.cleanup()

    def footfall(self, *args, stdin=None, expect=0):
        if args[0] == "import":
            args = (*args, *getattr(self.engine, "import_args", []))
        done = subprocess.run([footfall_bin(), *args], input=stdin, capture_output=True,
                              env={**os.environ, **self.engine.env()}, timeout=240)
        self.assertEqual(done.returncode, expect,
                         f"footfall {' '.join(args)} -> {done.returncode}: {done.stderr.decode()[-2000:]}")
        return done

    def stats(self, store, interval="day"):
        out = self.footfall("stats", "--store", store, "--site", "me.example", "--json", "--top", "100",
                            "--interval", interval, "--event", "Download", *RANGE).stdout
        return json.loads(out)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_export_import_round_trip_gives_identical_stats(self):
        n = getattr(self.engine, "sample_size", 300)
        source = self.engine.fresh()
        lines = "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in sample_visits(n))
        imported = self.footfall("import", "--store", source, self.write("sample.jsonl", lines))
        self.assertIn(f"{n} imported, 0 already present".encode(), imported.stderr)
        expected = self.stats(source)
        events = sum(1 for v in sample_visits(n) if "event" in v)
        self.assertEqual(expected["views"], n - events)
        self.assertEqual(expected["events"][0]["name"], "Download")
        self.assertEqual(expected["events"][0]["count"], events)
        self.assertEqual(sum(v["count"] for v in expected["props"]["file"]), events)
        self.assertGreater(expected["visitor_days"], 40)
        self.assertEqual(len(expected["screens"]), 2)
        self.assertEqual({s["name"] for s in expected["sources"]}, {"origin", "no_origin"})
        expected_hourly = self.stats(source, "hour")

        for fmt in ("jsonl", "csv"):
            with self.subTest(format=fmt):
                out = os.path.join(self.tmp, f"export-{self.engine.name}.{fmt}")
                exported = self.footfall("export", "--store", source, "--format", fmt, "-o", out, *RANGE)
                self.assertIn(f"exported {n} visits".encode(), exported.stderr)
                self.assertFalse(os.path.exists(out + ".partial"))
                target = self.engine.fresh()
                self.footfall("import", "--store", target, out)
                self.assertEqual(self.stats(target), expected)
                hourly = self.stats(target, "hour")
                if getattr(self.engine, "exact_hourly_new_visitors", True):
                    self.assertEqual(hourly, expected_hourly)
                else:
                    self.assertEqual(without_hourly_new_visitors(hourly),
                                     without_hourly_new_visitors(expected_hourly))
                # Idempotent: a second import adds nothing.
                again = self.footfall("import", "--store", target, out)
                self.assertIn(f"0 imported, {n} already present".encode(), again.stderr)
                self.assertEqual(self.stats(target), expected)

        # The export of a range holds only that range; stdout works too.
        day = self.footfall("export", "--store", source, "--from", "2026-11-25", "--to", "2026-11-25").stdout
        times = [json.loads(line)["timestamp"] for line in day.decode().splitlines()]
        self.assertTrue(times and all(t.startswith("2026-11-25") for t in times), times[:3])
        self.assertEqual(times, sorted(times))

    def test_a_bad_record_stops_the_import_and_a_rerun_completes(self):
        visits = sample_visits(20, seed=11)
        good = [json.dumps(v) + "\n" for v in visits]
        broken = good[:10] + ['{"visit_id": "oops"}\n'] + good[10:]
        store = self.engine.fresh()
        failed = self.footfall("import", "--store", store, self.write("broken.jsonl", "".join(broken)), expect=1)
        self.assertIn(b"input line 11", failed.stderr)
        self.assertIn(b"timestamp: missing", failed.stderr)
        page_views = lambda some: sum(1 for v in some if "event" not in v)  # noqa: E731
        self.assertEqual(self.stats(store)["views"], page_views(visits[:10]))
        self.footfall("import", "--store", store, self.write("fixed.jsonl", "".join(good)))
        self.assertEqual(self.stats(store)["views"], page_views(visits))
        # Clear errors for unusable input, nothing written.
        unknown = self.footfall("import", "--store", store, self.write("x.txt", "hello\n"), expect=2)
        self.assertIn(b"unknown format", unknown.stderr)
        self.footfall("export", "--store", store, "--from", "tomorrow", expect=2)

    def test_goatcounter_csv_imports_page_views_and_skips_events_and_bots(self):
        header = ("2Path,Title,Event,UserAgent,Browser,System,Session,Bot,Referrer,Referrer scheme,"
                  "Screen size,Location,FirstVisit,Date\n")
        rows = [
            '/cv,"My CV, 2026",false,,Firefox 121,Linux,s1,0,https://news.example/x,h,"1920,1080,1",NL,true,2026-11-25T10:00:00Z\n',
            '/cv,"My CV, 2026",false,,Firefox 121,Linux,s1,0,https://news.example/x,h,"1920,1080,1",NL,true,2026-11-25T10:00:00Z\n',
            "/blog,Blog,false,,Safari 17,iOS 17.1,s2,0,Hacker News,g,\"390,844,3\",US,true,2026-11-25T11:30:00Z\n",
            "download-click,,true,,Chrome 120,Windows 10,s3,0,,,,DE,false,2026-11-25T12:00:00Z\n",
            "/,Home,false,,Chrome 120,Linux,s4,150,,,,US,true,2026-11-25T12:00:00Z\n",
        ]
        path = self.write("goatcounter.csv", header + "".join(rows))
        store = self.engine.fresh()
        self.footfall("import", "--store", store, path, expect=2)  # no --site
        first = self.footfall("import", "--store", store, "--site", "me.example", path)
        self.assertIn(b"3 imported, 0 already present, 1 skipped (bot), 1 skipped (event)", first.stderr)
        again = self.footfall("import", "--store", store, "--site", "me.example", path)
        self.assertIn(b"0 imported, 3 already present", again.stderr)
        stats = self.stats(store)
        self.assertEqual(stats["views"], 3)
        self.assertEqual(stats["visitor_days"], 2)
        self.assertEqual({p["name"]: p["views"] for p in stats["paths"]}, {"/cv": 2, "/blog": 1})
        self.assertEqual({r["name"] for r in stats["referrers"]}, {"news.example", "Hacker News"})
        self.assertEqual({b["name"] for b in stats["browsers"]}, {"Firefox", "Safari"})
        self.assertEqual({d["name"] for d in stats["devices"]}, {"desktop", "mobile"})


class PostgresTransferTest(TransferTest):
    engine_class = PostgresEngine


class DynamoDbTransferTest(TransferTest):
    engine_class = DynamoDbEngine


if __name__ == "__main__":
    run_tests()
