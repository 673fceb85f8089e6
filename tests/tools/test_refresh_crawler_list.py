#!/usr/bin/env python3
"""Test of scripts/refresh-crawler-list.sh (`make refresh-bots`) without the network: the script
runs, unchanged, with the real npm, against an npm registry served here on 127.0.0.1 (the
package document and the tarball, as registry.npmjs.org answers them), pointed at with npm's own
npm_config_registry. It runs in a copy of the files it reads and writes (the script and its
helpers, NOTICE, third_party/crawler-user-agents), never on the checkout.

Checked: the newest version is taken, and the JSON, LICENSE, PROVENANCE and NOTICE's version line
are rewritten (and nothing else of NOTICE); the build's generator compiles the new version in; and
nothing is changed when the licence is no longer MIT, when the tarball is not what the registry's
integrity says, or when NOTICE has no line to update.
Needs npm (as the browser tests do), python3, openssl, tar. Python 3.11 stdlib only; run directly or
through ctest (refresh_crawler_list_test). Takes a few seconds.
"""

import base64
import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PACKAGE = "crawler-user-agents"
NEW_VERSION = "99.1.0"  # above any real version: the registry's "latest"
OLD_VERSION = "99.0.0"
NEW_PATTERN = "FootfallRefreshTestBot"
# What the script reads and writes, copied into each test's own tree.
COPIED = ["scripts/refresh-crawler-list.sh", "scripts/lib/npm_tarball.sh",
          "scripts/crawler_patterns.py", "NOTICE", "third_party/crawler-user-agents"]
RUN_TIMEOUT_S = 120


def vendored_list():
    with open(os.path.join(REPO, "third_party", PACKAGE, "crawler-user-agents.json"),
              encoding="utf-8") as f:
        return json.load(f)


def make_tarball(version, license_name="MIT"):
    """An npm tarball of crawler-user-agents VERSION: the vendored list with one entry more."""
    entries = vendored_list()
    entries.append({**entries[0], "pattern": NEW_PATTERN, "instances": [f"{NEW_PATTERN}/1.0"]})
    files = {
        "package/package.json": json.dumps({"name": PACKAGE, "version": version,
                                            "license": license_name}).encode(),
        "package/crawler-user-agents.json": json.dumps(entries, indent=2).encode(),
        "package/LICENSE": f"test licence text of {PACKAGE} {version}\n".encode(),
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def integrity(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class Registry:
    """An npm registry on 127.0.0.1 port 0 holding one package: GET /<package> answers the
    package document, GET /<package>/-/<package>-<version>.tgz a tarball."""

    def __init__(self):
        self.tarballs = {}        # version -> bytes
        self.claimed = {}         # version -> integrity the document states, if not the tarball's
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                body = registry.answer(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json" if self.path == f"/{PACKAGE}"
                                 else "application/octet-stream")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path):
        if path == f"/{PACKAGE}":
            versions = {}
            for version, data in self.tarballs.items():
                versions[version] = {
                    "name": PACKAGE, "version": version,
                    "dist": {"tarball": f"{self.url}{PACKAGE}/-/{PACKAGE}-{version}.tgz",
                             "integrity": self.claimed.get(version, integrity(data)),
                             "shasum": hashlib.sha1(data).hexdigest()}}
            latest = max(self.tarballs, key=lambda v: tuple(int(p) for p in v.split(".")))
            return json.dumps({"name": PACKAGE, "dist-tags": {"latest": latest},
                               "versions": versions}).encode()
        for version, data in self.tarballs.items():
            if path == f"/{PACKAGE}/-/{PACKAGE}-{version}.tgz":
                return data
        return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class RefreshCrawlerListTest(unittest.TestCase):

    def setUp(self):
        if shutil.which("npm") is None:
            self.fail("npm is missing (Node.js with npm, as for tests/browser)")
        self.tmp = tempfile.TemporaryDirectory(prefix="footfall-refresh-")
        self.addCleanup(self.tmp.cleanup)
        self.tree = os.path.join(self.tmp.name, "repo")
        for path in COPIED:
            source, target = os.path.join(REPO, path), os.path.join(self.tree, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.isdir(source):
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
        self.registry = Registry()
        self.addCleanup(self.registry.close)
        self.registry.tarballs[OLD_VERSION] = make_tarball(OLD_VERSION)

    def run_script(self, *args):
        npm_dir = os.path.join(self.tmp.name, "npm")
        os.makedirs(npm_dir, exist_ok=True)
        userconfig = os.path.join(npm_dir, "npmrc")
        open(userconfig, "w").close()
        env = {**os.environ,
               # npm's own configuration, by environment: this registry, a fresh cache, no
               # user configuration, no proxy, no calls home.
               "npm_config_registry": self.registry.url,
               "npm_config_cache": os.path.join(npm_dir, "cache"),
               "npm_config_userconfig": userconfig,
               "npm_config_proxy": "", "npm_config_https_proxy": "",
               "npm_config_noproxy": "127.0.0.1",
               "npm_config_update_notifier": "false", "npm_config_fund": "false",
               "npm_config_audit": "false",
               "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env.pop(name, None)
        return subprocess.run(["bash", os.path.join(self.tree, "scripts", "refresh-crawler-list.sh"),
                               *args], env=env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S)

    def snapshot(self):
        out = {}
        for root, _, files in os.walk(self.tree):
            for name in files:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    out[os.path.relpath(path, self.tree)] = f.read()
        return out

    def read(self, path):
        with open(os.path.join(self.tree, path), encoding="utf-8") as f:
            return f.read()

    def provenance(self):
        return dict(line.split(": ", 1) for line in self.read(
            f"third_party/{PACKAGE}/PROVENANCE").splitlines() if not line.startswith("#"))

    def assert_refused(self, result, before, why):
        self.assertNotEqual(result.returncode, 0, f"refresh should fail ({why}):\n{result.stderr}")
        self.assertEqual(self.snapshot(), before, f"nothing may change when {why}")

    def test_newest_version_rewrites_list_provenance_and_notice(self):
        data = make_tarball(NEW_VERSION)
        self.registry.tarballs[NEW_VERSION] = data
        before = self.snapshot()
        result = self.run_script()
        self.assertEqual(result.returncode, 0, result.stderr)

        provenance = self.provenance()
        self.assertEqual(provenance["version"], NEW_VERSION)
        self.assertEqual(provenance["tarball"],
                         f"{self.registry.url}{PACKAGE}/-/{PACKAGE}-{NEW_VERSION}.tgz")
        self.assertEqual(provenance["tarball_sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(provenance["tarball_integrity"], integrity(data))
        listed = self.read(f"third_party/{PACKAGE}/crawler-user-agents.json")
        self.assertEqual(provenance["json_sha256"], hashlib.sha256(listed.encode()).hexdigest())
        self.assertEqual(json.loads(listed)[-1]["pattern"], NEW_PATTERN)
        self.assertIn(NEW_VERSION, self.read(f"third_party/{PACKAGE}/LICENSE"))

        # NOTICE: the version line, and nothing else.
        old_notice = before["NOTICE"].decode().splitlines()
        new_notice = self.read("NOTICE").splitlines()
        changed = [(a, b) for a, b in zip(old_notice, new_notice) if a != b]
        self.assertEqual(len(old_notice), len(new_notice))
        self.assertEqual(len(changed), 1, changed)
        self.assertRegex(changed[0][0], rf"^{PACKAGE} \S+ \(MIT\)$")
        self.assertEqual(changed[0][1], f"{PACKAGE} {NEW_VERSION} (MIT)")

        # What the build does with it: the generator accepts the files and compiles the version in
        # (the unit tests compare it with PROVENANCE).
        generated = os.path.join(self.tmp.name, "crawler_list.cc")
        subprocess.run([sys.executable, os.path.join(self.tree, "scripts", "crawler_patterns.py"),
                        "generate", os.path.join(self.tree, "third_party", PACKAGE), generated],
                       check=True, capture_output=True, timeout=RUN_TIMEOUT_S)
        with open(generated, encoding="utf-8") as f:
            code = f.read()
        self.assertIn(f'CrawlerListVersion() {{ return "{NEW_VERSION}"; }}', code)
        self.assertIn(NEW_PATTERN, code)

    def test_a_named_version_is_taken_rather_than_the_newest(self):
        self.registry.tarballs[NEW_VERSION] = make_tarball(NEW_VERSION)
        result = self.run_script(OLD_VERSION)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.provenance()["version"], OLD_VERSION)
        self.assertIn(f"{PACKAGE} {OLD_VERSION} (MIT)\n", self.read("NOTICE"))

    def test_licence_no_longer_mit_changes_nothing(self):
        self.registry.tarballs[NEW_VERSION] = make_tarball(NEW_VERSION, license_name="ISC")
        before = self.snapshot()
        result = self.run_script()
        self.assert_refused(result, before, "the licence is ISC")
        self.assertIn("'ISC'", result.stderr)

    def test_tarball_not_matching_the_registry_integrity_changes_nothing(self):
        self.registry.tarballs[NEW_VERSION] = make_tarball(NEW_VERSION)
        self.registry.claimed[NEW_VERSION] = integrity(b"some other tarball")
        before = self.snapshot()
        self.assert_refused(self.run_script(), before, "the integrity does not match")

    def test_notice_without_the_version_line_changes_nothing(self):
        self.registry.tarballs[NEW_VERSION] = make_tarball(NEW_VERSION)
        notice = self.read("NOTICE").replace(f"\n{PACKAGE} ", f"\nthe list {PACKAGE} ")
        with open(os.path.join(self.tree, "NOTICE"), "w", encoding="utf-8") as f:
            f.write(notice)
        before = self.snapshot()
        result = self.run_script()
        self.assert_refused(result, before, "NOTICE has no version line")
        self.assertIn("NOTICE has no single line", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
