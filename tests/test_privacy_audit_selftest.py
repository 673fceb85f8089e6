#!/usr/bin/env python3
"""Self-test of tests/privacy_audit.py (ctest `privacy_audit_selftest`): the audit bites. Each test
builds a small artifacts tree like the harnesses leave (a SQLite store with today's salt, a
DynamoDB dump, footfall's logs; one directory per group), plants one client address or salt in
one form, and checks that the audit fails naming the file and the form; the untouched tree
passes. Also: the address list's own check finds a new forged address in a tests/ tree. Python 3
stdlib only; no binary, no server.
"""

import base64
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import privacy_audit as pa  # noqa: E402

TODAY = int(time.time() // pa.DAY_S)
ADDRESS = "203.0.113.9"
MAPPED_HEX = "::ffff:cb00:7109"
SALT_TODAY = bytes(range(32))
SALT_YESTERDAY = bytes(range(100, 132))
OLD_SALT = bytes(range(200, 232))
VISITOR = "0123456789abcdef0123456789abcdef"  # a salted visitor hash: nothing to find


def make_sqlite(path, salts, visits=(("/", VISITOR),), extra_sql=()):
    """A footfall-like SQLite store in WAL mode with `salts` [(day, bytes)], left with a WAL."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE daily_salts (day INTEGER PRIMARY KEY, salt BLOB NOT NULL)")
    conn.execute("CREATE TABLE visits (visit_id TEXT PRIMARY KEY, visitor TEXT, path TEXT, "
                 "site TEXT, expiration_time INTEGER)")
    for day, salt in salts:
        conn.execute("INSERT INTO daily_salts VALUES (?, ?)", (day, salt))
    for i, (path_value, visitor) in enumerate(visits):
        conn.execute("INSERT INTO visits VALUES (?, ?, ?, ?, ?)",
                     (f"v{i}", visitor, path_value, "127.0.0.1", int(time.time()) + 86400))
    for sql, params in extra_sql:
        conn.execute(sql, params)
    return conn  # kept open by the caller until the files are in place (the WAL stays)


def dump_line(table, item):
    return json.dumps({"region": "us-east-1", "table": table, "item": item}) + "\n"


def b64(data):
    return base64.b64encode(data).decode()


class AuditTree:
    """A clean artifacts tree in a temp dir: integration, lambda and browser groups."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="privacy-audit-selftest-")
        self.root = os.path.join(self.tmp, "test-artifacts")
        self.db = self.path("integration_http_api", "sqlite-1-1", "footfall.db")
        conn = make_sqlite(self.db, [(TODAY - 1, SALT_YESTERDAY), (TODAY, SALT_TODAY)])
        conn.close()
        self.write("integration_http_api", "footfall-1-2", "serve-1.stderr.log",
                   '{"msg":"listening","listen":"127.0.0.1:43121"}\n'
                   '{"msg":"request","route":"/count","status":200}\n')
        self.dump = self.write(
            "lambda_runtime_e2e", "moto-1-1", "us-east-1.footfall-e2e.dynamodb.jsonl",
            dump_line("footfall-e2e", {"visit_id": {"S": f"salt#{TODAY}"},
                                       "salt": {"B": b64(SALT_TODAY)}})
            + dump_line("footfall-e2e", {"visit_id": {"S": "total"}, "count": {"N": "3"}}))
        self.write("lambda_runtime_e2e", "lambda-workdir-1-2", "stdout-abcd1234",
                   '{"_aws":{},"request_id":"r1"}\n')
        self.browser_db = self.path("browser_e2e", "footfall-1-1", "db")
        make_sqlite(self.browser_db, [(TODAY, SALT_TODAY)]).close()
        self.write("browser_e2e", "footfall-1-1", "serve.stderr.log",
                   '{"msg":"listening","listen":"127.0.0.1:40000"}\n')

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write(self, *parts_and_content, mode="w"):
        *parts, content = parts_and_content
        path = self.path(*parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, mode) as f:
            f.write(content)
        return path

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class AuditTestCase(unittest.TestCase):
    def setUp(self):
        self.tree = AuditTree()
        self.addCleanup(self.tree.cleanup)

    def run_audit(self, partial=False, root=None):
        out = io.StringIO()
        failures = pa.audit(root or self.tree.root, partial=partial, today=TODAY, out=out)
        return failures, out.getvalue()

    def assert_hit(self, path, form):
        failures, report = self.run_audit()
        rel = os.path.relpath(path, self.tree.root)
        hits = [line for line in report.splitlines() if line.startswith(f"HIT: {rel}: ")]
        self.assertGreater(failures, 0, report)
        self.assertTrue(any(form in line for line in hits),
                        f"no hit naming {rel} with {form!r}:\n{report}")
        self.assertIn("privacy audit: FAILED", report)
        return report

    def assert_passes(self):
        failures, report = self.run_audit()
        self.assertEqual(failures, 0, report)
        self.assertIn("privacy audit: passed", report)
        return report


class CleanTree(AuditTestCase):
    def test_a_clean_tree_passes(self):
        report = self.assert_passes()
        self.assertNotIn("HIT:", report)
        # The listen address in the log and the site "127.0.0.1" in the stores (the browser
        # test's pages are served from 127.0.0.1) are not loopback clients.

    def test_loopback_as_an_endpoint_or_in_a_log_is_not_a_client(self):
        self.tree.write("integration_x", "footfall-1-1", "serve-2.stderr.log",
                        '{"msg":"store unavailable","detail":"connection to server at '
                        '\\"127.0.0.1\\", port 5432 failed"} [::1]:8080 ::1\n')
        self.tree.write("integration_x", "files-1-2", "export.jsonl",
                        '{"endpoint":"http://127.0.0.1:4566","dsn":"postgres://u@127.0.0.1/db",'
                        '"listen":"[::1]:80"}\n')
        self.assert_passes()


class PlantedAddresses(AuditTestCase):
    def test_raw_ipv4_text_in_a_log(self):
        log = self.tree.write("integration_http_api", "footfall-1-3", "serve-3.stderr.log",
                              f'{{"msg":"request","client":"{ADDRESS}"}}\n')
        self.assert_hit(log, f"{ADDRESS} as IPv4 text")

    def test_a_generated_address_in_a_log(self):
        log = self.tree.write("integration_rate_limit", "footfall-1-1", "serve-1.stderr.log",
                              "dropped 10.0.3.7 rate limited\n")
        self.assert_hit(log, "10.0.3.7 as IPv4 text")

    def test_ipv6_forms(self):
        cases = {
            "compressed-hex.txt": (MAPPED_HEX, "IPv4-mapped IPv6 text"),
            "full-upper.txt": ("0000:0000:0000:0000:0000:FFFF:CB00:7109", "IPv4-mapped IPv6 text"),
            "mapped-dotted.txt": ("client=::ffff:198.51.100.77;", "198.51.100.77 as IPv4-mapped"),
            "compat.txt": ("peer ::203.0.113.50 x", "203.0.113.50 as IPv4-compatible IPv6"),
        }
        for name, (text, form) in cases.items():
            with self.subTest(name=name):
                path = self.tree.write("integration_http_api", "files-1-9", name, text + "\n")
                self.assert_hit(path, form)
                os.remove(path)

    def test_ipv4_mapped_raw_16_bytes_in_a_binary_file(self):
        mapped = b"\0" * 10 + b"\xff\xff" + bytes([203, 0, 113, 9])
        path = self.tree.write("integration_http_api", "files-1-9", "blob.bin",
                               os.urandom(5000) + mapped + os.urandom(3000), mode="wb")
        self.assert_hit(path, f"{ADDRESS} as IPv4-mapped IPv6, 16 raw bytes")

    def test_unsalted_sha256_hex_lower_upper_and_truncated(self):
        digest = hashlib.sha256(ADDRESS.encode()).hexdigest()
        for name, text, form in (("lower", digest, "as hex"),
                                 ("upper", digest.upper(), "as hex (upper case)"),
                                 ("truncated", digest[:32], "as hex")):
            with self.subTest(name=name):
                path = self.tree.write("lambda_runtime_e2e", "files-1-9", f"{name}.jsonl",
                                       f'{{"visitor":"{text}"}}\n')
                self.assert_hit(path, f"sha256({ADDRESS} text) {form}")
                os.remove(path)

    def test_unsalted_sha256_raw_digest_in_a_binary_file(self):
        digest = hashlib.sha256(ADDRESS.encode()).digest()
        path = self.tree.write("integration_http_api", "files-1-9", "digest.bin",
                               os.urandom(777) + digest + os.urandom(100), mode="wb")
        self.assert_hit(path, f"sha256({ADDRESS} text) as raw bytes")

    def test_address_in_a_sqlite_text_column_and_its_wal(self):
        db = self.tree.path("integration_http_api", "sqlite-1-9", "footfall.db")
        conn = make_sqlite(db, [(TODAY, SALT_TODAY)], visits=[("/", ADDRESS)])
        # The WAL is copied while the connection is open: the visit is in the WAL only.
        shutil.copyfile(db + "-wal", db + "-wal.copy")
        conn.close()
        os.replace(db + "-wal.copy", db + "-wal")
        self.assertTrue(os.path.getsize(db + "-wal") > 0)
        self.assert_hit(db + "-wal", f"{ADDRESS} as IPv4 text")

    def test_raw_4_bytes_and_integer_in_sqlite_values(self):
        db = self.tree.path("integration_http_api", "sqlite-1-9", "footfall.db")
        make_sqlite(db, [(TODAY, SALT_TODAY)], extra_sql=[
            ("CREATE TABLE peers (addr BLOB, addr_int INTEGER)", ()),
            ("INSERT INTO peers VALUES (?, ?)", (bytes([198, 51, 100, 7]),
                                                 (198 << 24) | (51 << 16) | (100 << 8) | 8)),
        ]).close()
        report = self.assert_hit(db, "198.51.100.7 as 4 raw bytes in table peers")
        self.assertIn("198.51.100.8 as a 32-bit integer in table peers", report)

    def test_raw_4_bytes_in_a_dynamodb_binary_value(self):
        with open(self.tree.dump, "a") as f:
            f.write(dump_line("footfall-e2e", {"visit_id": {"S": "v1"},
                                               "peer": {"B": b64(bytes([203, 0, 113, 9]))}}))
        self.assert_hit(self.tree.dump, f"{ADDRESS} as 4 raw bytes")

    def test_loopback_client_in_a_store(self):
        db = self.tree.path("browser_e2e", "footfall-1-1", "db")
        os.remove(db)
        make_sqlite(db, [(TODAY, SALT_TODAY)], visits=[("/", "127.0.0.1")]).close()
        self.assert_hit(db, "127.0.0.1 (loopback client) as text")

    def test_loopback_client_in_an_export_or_a_dump(self):
        export = self.tree.write("integration_transfer", "files-1-1", "export.jsonl",
                                 '{"site":"me.example","visitor":"127.0.0.1"}\n')
        self.assert_hit(export, "127.0.0.1 (loopback client) as text")
        os.remove(export)
        with open(self.tree.dump, "a") as f:
            f.write(dump_line("footfall-e2e", {"visit_id": {"S": "v9"},
                                               "site": {"S": "127.0.0.1"},
                                               "peer": {"M": {"ip": {"S": "::1"}}}}))
        report = self.assert_hit(self.tree.dump, "::1 (loopback client) as text in table "
                                                 "footfall-e2e attribute peer.ip")
        self.assertNotIn("attribute site", report)

    def test_sha256_of_loopback_in_a_log(self):
        log = self.tree.write("browser_e2e", "footfall-1-1", "serve.stderr.log",
                              hashlib.sha256(b"127.0.0.1").hexdigest() + "\n")
        self.assert_hit(log, "sha256(127.0.0.1 text) as hex")

    def test_an_address_across_a_chunk_boundary(self):
        original = pa.CHUNK_BYTES
        pa.CHUNK_BYTES = 1024
        self.addCleanup(setattr, pa, "CHUNK_BYTES", original)
        for offset in (1024 - 5, 1024 - 1, 1024):
            with self.subTest(offset=offset):
                data = b"x" * offset + ADDRESS.encode() + b" " + b"y" * 3000
                path = self.tree.write("integration_http_api", "files-1-9", "big.log", data,
                                       mode="wb")
                self.assert_hit(path, f"{ADDRESS} as IPv4 text")


class PlantedSalts(AuditTestCase):
    def test_a_salt_older_than_48_hours_in_sqlite(self):
        db = self.tree.path("integration_crash", "sqlite-1-1", "footfall.db")
        make_sqlite(db, [(TODAY - 3, OLD_SALT), (TODAY, SALT_TODAY)]).close()
        report = self.assert_hit(db, f"salt of day {TODAY - 3}")
        self.assertIn("in daily_salts (with its WAL)", report)

    def test_an_old_salts_bytes_elsewhere(self):
        db = self.tree.path("integration_crash", "sqlite-1-1", "footfall.db")
        make_sqlite(db, [(TODAY - 2, OLD_SALT)]).close()
        elsewhere = self.tree.write("integration_crash", "files-1-2", "export.csv",
                                    f"key,{OLD_SALT.hex().upper()}\n")
        self.assert_hit(elsewhere, "older than 48 h, as hex (upper case)")

    def test_a_salt_in_use_in_a_log(self):
        log = self.tree.write("integration_http_api", "footfall-1-2", "serve-1.stderr.log",
                              f"salt={SALT_TODAY.hex()}\n")
        self.assert_hit(log, "as hex in a log")

    def test_an_old_salt_item_in_a_dynamodb_dump(self):
        with open(self.tree.dump, "a") as f:
            f.write(dump_line("footfall-e2e", {"visit_id": {"S": f"salt#{TODAY - 5}"},
                                               "salt": {"B": b64(OLD_SALT)}}))
        self.assert_hit(self.tree.dump, f"salt of day {TODAY - 5}")

    def test_an_old_salt_in_a_pg_dump(self):
        dump = self.tree.write(
            "integration_postgres", "postgres-1-1", "pg_dumpall.sql",
            "\\connect counts\n\nCOPY public.daily_salts (day, salt) FROM stdin;\n"
            f"{TODAY - 4}\t\\\\x{OLD_SALT.hex()}\n{TODAY}\t\\\\x{SALT_TODAY.hex()}\n\\.\n")
        self.assert_hit(dump, f"salt of day {TODAY - 4}")

    def test_a_faked_clock_checks_salts_against_their_store_only(self):
        db = self.tree.path("integration_salts", "sqlite-1-1", "footfall.db")
        self.tree.write("integration_salts", "CLOCK-FAKED.txt", "serve with FAKETIME=@2026-01-01\n")
        make_sqlite(db, [(TODAY - 101, OLD_SALT), (TODAY - 100, SALT_TODAY)]).close()
        self.assert_passes()  # yesterday and today of its own clock
        os.remove(db)
        os.remove(db + "-wal") if os.path.exists(db + "-wal") else None
        make_sqlite(db, [(TODAY - 102, OLD_SALT), (TODAY - 100, SALT_TODAY)]).close()
        self.assert_hit(db, "more than a day before the store's newest salt")


class MissingArtifacts(AuditTestCase):
    def test_a_missing_group_fails_unless_partial(self):
        shutil.rmtree(self.tree.path("browser_e2e"))
        failures, report = self.run_audit()
        self.assertGreater(failures, 0, report)
        self.assertIn("no artifacts from any browser test", report)
        failures, report = self.run_audit(partial=True)
        self.assertEqual(failures, 0, report)
        self.assertIn("WARNING: no artifacts from any browser test", report)

    def test_a_group_without_a_database_fails(self):
        os.remove(self.tree.dump)
        failures, report = self.run_audit()
        self.assertGreater(failures, 0, report)
        self.assertIn("the lambda tests left no database", report)

    def test_an_empty_or_missing_directory_fails_even_partial(self):
        shutil.rmtree(self.tree.root)
        failures, report = self.run_audit(partial=True)
        self.assertEqual(failures, 1, report)
        self.assertIn("does not exist", report)
        os.makedirs(os.path.join(self.tree.root, "integration_x"))
        failures, report = self.run_audit(partial=True)
        self.assertEqual(failures, 1, report)
        self.assertIn("is empty", report)

    def test_the_command_fails_without_an_artifacts_directory(self):
        env = {k: v for k, v in os.environ.items() if k != "FOOTFALL_TEST_ARTIFACTS"}
        done = subprocess.run([sys.executable, os.path.join(HERE, "privacy_audit.py")], env=env,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertIn("no artifacts directory", done.stdout)

    def test_the_command_exits_1_on_a_hit_and_0_on_a_clean_tree(self):
        argv = [sys.executable, os.path.join(HERE, "privacy_audit.py"), "--artifacts",
                self.tree.root]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.tree.write("browser_e2e", "footfall-1-1", "serve.stderr.log", f"{ADDRESS}\n")
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertIn("HIT: browser_e2e/footfall-1-1/serve.stderr.log: 203.0.113.9 as IPv4 text",
                      done.stdout)


class AddressList(unittest.TestCase):
    def test_the_list_covers_the_tests(self):
        self.assertEqual(pa.check_address_list(), [])

    def test_a_new_forged_address_makes_the_list_stale(self):
        with tempfile.TemporaryDirectory() as tmp:
            tests = os.path.join(tmp, "tests")
            os.makedirs(os.path.join(tests, "integration"))
            with open(os.path.join(tests, "integration", "test_new.py"), "w") as f:
                f.write('NEW = "192.0.2.99"\n'
                        'request(port, "GET", "/", headers={"X-Forwarded-For": NEW})\n'
                        'request(port, "GET", "/", headers={"X-Forwarded-For": f"192.0.2.{i}"})\n'
                        'request(port, "GET", "/", headers={"Forwarded": "for=\\"[2001:db8::7]"})\n'
                        'ok = ("203.0.113.9", "10.0.0.0/8", "127.0.0.2:0")  # X-Forwarded-For\n')
            missing = pa.check_address_list(tests)
            self.assertEqual(sorted(m.split(": ", 1)[1] for m in missing),
                             ["192.0.2.*", "192.0.2.99", "2001:db8::7"], missing)


if __name__ == "__main__":
    unittest.main(verbosity=2)
