#!/usr/bin/env python3
"""`footfall serve --tls-cert/--tls-key`: HTTPS with a self-signed certificate made by the test
(openssl), TLS 1.2+ only, SIGHUP reloads the files (new connections get the new certificate,
unusable files keep the old one and the server stays up), plain HTTP on the TLS port gets
nothing, and bad files are refused at start with one clear line."""
import hashlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FootfallServer, footfall_bin, request, run_tests  # noqa: E402


def make_certificate(directory, name):
    cert, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    done = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                           "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                           "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1",
                           "-keyout", key, "-out", cert], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return cert, key


def client_context(ca_file, **versions):
    context = ssl.create_default_context(cafile=ca_file)
    for name, value in versions.items():
        setattr(context, name, value)
    return context


def fingerprint(port, context):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest(), tls.version()


RELOAD_DEADLINE_S = 10.0  # from SIGHUP to footfall's log line saying how the reload went


def reload_outcomes(srv):
    """footfall's log lines about SIGHUP reloads, oldest first: "tls reloaded" or "reload failed"
    (also without TLS, where there is nothing to reload)."""
    return [e for e in srv.stderr_events() if e.get("msg") in ("tls reloaded", "reload failed")]


def sighup_and_wait(srv):
    """Sends SIGHUP and waits until footfall logs the outcome of that reload; returns the event.
    Fails the test if none comes within RELOAD_DEADLINE_S (or footfall exits first)."""
    before = len(reload_outcomes(srv))
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + RELOAD_DEADLINE_S
    while True:
        outcomes = reload_outcomes(srv)
        if len(outcomes) > before:
            return outcomes[before]
        if srv.proc.poll() is not None:
            raise AssertionError(f"footfall exited ({srv.proc.returncode}) on SIGHUP; stderr:\n"
                                 f"{srv.stderr_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no reload outcome logged within {RELOAD_DEADLINE_S}s of "
                                 f"SIGHUP; stderr:\n{srv.stderr_text()[-2000:]}")
        time.sleep(0.02)


class TlsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="footfall-tls-")
        self.addCleanup(self.dir.cleanup)
        self.cert, self.key = make_certificate(self.dir.name, "first")
        # Trust both certificates the test will use (each is its own CA).
        self.second_cert, self.second_key = make_certificate(self.dir.name, "second")
        self.ca = os.path.join(self.dir.name, "ca.pem")
        with open(self.ca, "w") as out:
            for path in (self.cert, self.second_cert):
                with open(path) as certificate:
                    out.write(certificate.read())

    def https(self, port, target="/count", method="GET"):
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=client_context(self.ca))
        try:
            conn.request(method, target)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def test_https_counts_and_only_tls_12_or_newer_is_accepted(self):
        with FootfallServer(extra_args=["--tls-cert", self.cert, "--tls-key", self.key]) as srv:
            self.assertTrue(srv.listening_event["tls"])
            status, body = self.https(srv.port)
            self.assertEqual(status, 200, body)
            _, version = fingerprint(srv.port, client_context(self.ca))
            self.assertIn(version, ("TLSv1.2", "TLSv1.3"))
            _, version = fingerprint(srv.port, client_context(self.ca, maximum_version=ssl.TLSVersion.TLSv1_2))
            self.assertEqual(version, "TLSv1.2")
            old = client_context(self.ca, maximum_version=ssl.TLSVersion.TLSv1_1,
                                 minimum_version=ssl.TLSVersion.TLSv1)
            old.set_ciphers("DEFAULT:@SECLEVEL=0")
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                fingerprint(srv.port, old)
            # Plain HTTP on the TLS port: no answer, and the server carries on.
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
                raw.sendall(b"GET /count HTTP/1.1\r\nHost: x\r\n\r\n")
                raw.settimeout(10)
                try:
                    answer = raw.recv(100)
                except ConnectionResetError:
                    answer = b""
                self.assertFalse(answer.startswith(b"HTTP/1.1 200"), answer)
            self.assertEqual(self.https(srv.port, "/api/count")[0], 200)

    def test_sighup_reloads_the_certificate_and_keeps_the_old_one_when_the_new_is_bad(self):
        cert = os.path.join(self.dir.name, "live.crt")
        key = os.path.join(self.dir.name, "live.key")
        os.link(self.cert, cert)
        os.link(self.key, key)
        with FootfallServer(extra_args=["--tls-cert", cert, "--tls-key", key]) as srv:
            first, _ = fingerprint(srv.port, client_context(self.ca))
            # An open keep-alive connection survives the reload.
            conn = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=10,
                                               context=client_context(self.ca))
            conn.request("GET", "/api/count")
            self.assertEqual(conn.getresponse().read()[:1], b"{")
            for src, dst in ((self.second_cert, cert), (self.second_key, key)):
                os.replace(src, dst)
            self.assertEqual(sighup_and_wait(srv)["msg"], "tls reloaded")
            second, _ = fingerprint(srv.port, client_context(self.ca))
            self.assertNotEqual(second, first, "a new connection after the reload got the old "
                                               "certificate")
            conn.request("GET", "/api/count")
            self.assertEqual(conn.getresponse().status, 200)
            conn.close()
            # Unusable files: the reload fails, the server keeps serving the last good certificate.
            with open(key, "w") as out:
                out.write("not a key\n")
            self.assertEqual(sighup_and_wait(srv)["msg"], "reload failed")
            self.assertIsNone(srv.proc.poll(), "footfall died on a bad reload")
            self.assertEqual(fingerprint(srv.port, client_context(self.ca))[0], second)

    def test_sighup_without_tls_is_harmless(self):
        with FootfallServer() as srv:
            # Handled (there is nothing to reload, and footfall says so), not the default action.
            outcome = sighup_and_wait(srv)
            self.assertEqual(outcome["msg"], "reload failed", outcome)
            self.assertIsNone(srv.proc.poll(), "SIGHUP must not stop footfall")
            self.assertEqual(request(srv.port, "GET", "/healthz").status, 200)

    def test_bad_tls_files_are_refused_at_start_with_one_clear_line(self):
        cases = [(["--tls-cert", self.cert], "both"),
                 (["--tls-cert", "/nonexistent.crt", "--tls-key", self.key], "/nonexistent.crt"),
                 (["--tls-cert", self.cert, "--tls-key", self.second_key], "mismatch")]
        for args, expected in cases:
            with self.subTest(expected=expected):
                done = subprocess.run([footfall_bin(), "serve", "--listen", "127.0.0.1:0", "--store",
                                       "memory:", *args], capture_output=True, text=True, timeout=30)
                self.assertNotEqual(done.returncode, 0)
                self.assertIn(expected, done.stderr)
                self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)


if __name__ == "__main__":
    run_tests()
