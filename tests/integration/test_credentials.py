#!/usr/bin/env python3
"""The stand-ins the credentials chain is tested against speak what AWS's reference client
expects. botocore's own credential providers (ContainerProvider, InstanceMetadataProvider with
IMDSv2 required, and the STS client for AssumeRoleWithWebIdentity) are pointed at
tests/tools/aws_credentials_fixture.py and at moto_server's STS, and must accept them; the
fixture must refuse what the real endpoints refuse (an IMDSv2-only instance answers 401 to a GET
without a session token). src/aws/credentials_provider_test.cc and credential_sources_test.cc then test footfall's provider
against these same servers."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import unittest.mock
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import HarnessError, REPO_ROOT, run_tests, _die_with_parent  # noqa: E402

sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "tools"))
import aws_credentials_fixture  # noqa: E402
import moto_server_atomic  # noqa: E402

import boto3  # noqa: E402
from botocore.credentials import ContainerProvider, InstanceMetadataProvider  # noqa: E402
from botocore.utils import InstanceMetadataFetcher  # noqa: E402

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpmb290ZmFsbCJ9.c2ln"
ROLE_ARN = "arn:aws:iam::123456789012:role/footfall"


class FixtureSpeaksTheDocumentedFormats(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            cls.proc, cls.port = aws_credentials_fixture.launch(preexec_fn=_die_with_parent)
        except RuntimeError as error:
            raise HarnessError(str(error)) from None
        cls.base = f"http://127.0.0.1:{cls.port}"

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(timeout=10)

    def control(self, path, value=None):
        """GET `path` (value None) or POST `value` as JSON to it; the JSON answer."""
        data = None if value is None else json.dumps(value).encode()
        req = urllib.request.Request(self.base + path, data=data,
                                     method="GET" if data is None else "POST")
        with urllib.request.urlopen(req, timeout=10) as answer:
            return json.load(answer)

    def setUp(self):
        self.control("/_fixture/reset", {})

    def test_botocore_container_provider_accepts_it_with_a_token_file(self):
        self.control("/_fixture/config", {"auth_token": "pod-identity-token"})
        with tempfile.NamedTemporaryFile("w", suffix=".token") as token_file:
            token_file.write("pod-identity-token")
            token_file.flush()
            provider = ContainerProvider(environ={
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{self.base}/container/v1/credentials",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token_file.name})
            credentials = provider.load().get_frozen_credentials()
        self.assertTrue(credentials.access_key.startswith("ASIAFIXTURE"))
        self.assertTrue(credentials.token)
        stats = self.control("/_fixture/stats")
        self.assertEqual(stats["container"], 1)
        self.assertEqual(stats["authorization"], "pod-identity-token")

    def test_a_delayed_answer_keeps_the_fault_of_its_own_time(self):
        """An answer still delayed when its test ends must not use up the next test's fault
        (credentials_provider_test once saw one 500 of two `fail_next`: the other went to a
        delayed answer left by a test of abandoned fetches)."""
        self.control("/_fixture/config", {"delay_ms": 600})
        late = {}
        def delayed():
            with urllib.request.urlopen(self.base + "/container/x", timeout=10) as answer:
                late["status"] = answer.status
        thread = threading.Thread(target=delayed)
        thread.start()
        deadline = time.monotonic() + 5
        while self.control("/_fixture/stats")["container"] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.control("/_fixture/reset", {})  # the next test begins
        self.control("/_fixture/config", {"fail_next": 1})
        thread.join(timeout=10)  # the delayed answer has gone out
        self.assertEqual(late.get("status"), 200)
        with self.assertRaises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(self.base + "/container/x", timeout=10)
        self.assertEqual(failed.exception.code, 500)

    def test_container_endpoint_refuses_a_wrong_token(self):
        self.control("/_fixture/config", {"auth_token": "right"})
        req = urllib.request.Request(self.base + "/container/x", headers={"Authorization": "wrong"})
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(refused.exception.code, 401)

    def test_botocore_imds_provider_accepts_it_with_imdsv2_required(self):
        fetcher = InstanceMetadataFetcher(base_url=self.base, env={}, num_attempts=1,
                                          config={"ec2_metadata_v1_disabled": True})
        credentials = InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
        self.assertIsNotNone(credentials, "botocore found no credentials in the fixture's IMDS")
        frozen = credentials.get_frozen_credentials()
        self.assertTrue(frozen.access_key.startswith("ASIAFIXTURE"))
        stats = self.control("/_fixture/stats")
        self.assertEqual(stats["imds_token"], 1)
        self.assertEqual(stats["imds_ttl"], "21600")
        self.assertEqual(stats["imds_refused"], 0)
        self.assertGreaterEqual(stats["imds_credentials"], 1)

    def test_imds_refuses_a_get_without_a_session_token(self):
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(
                self.base + "/latest/meta-data/iam/security-credentials/", timeout=10)
        self.assertEqual(refused.exception.code, 401)
        req = urllib.request.Request(self.base + "/latest/api/token", method="PUT", data=b"")
        with self.assertRaises(urllib.error.HTTPError) as no_ttl:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(no_ttl.exception.code, 400)
        self.assertEqual(self.control("/_fixture/stats")["imds_refused"], 1)

    def test_botocore_imds_falls_back_to_v1_where_the_token_put_is_refused(self):
        self.control("/_fixture/config", {"imds_token_status": 404, "imds_v1": True})
        fetcher = InstanceMetadataFetcher(base_url=self.base, env={}, num_attempts=1)
        credentials = InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
        self.assertIsNotNone(credentials)

    def sts(self, endpoint):
        return boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="unused", aws_secret_access_key="unused")

    def test_botocore_sts_client_accepts_its_assume_role_with_web_identity(self):
        answer = self.sts(self.base).assume_role_with_web_identity(
            RoleArn=ROLE_ARN, RoleSessionName="footfall-test", WebIdentityToken=JWT)
        self.assertTrue(answer["Credentials"]["AccessKeyId"].startswith("ASIAFIXTURE"))
        self.assertIn("assumed-role/footfall/footfall-test", answer["AssumedRoleUser"]["Arn"])
        params = self.control("/_fixture/stats")["sts_params"]
        self.assertEqual(params["Action"], "AssumeRoleWithWebIdentity")
        self.assertEqual(params["Version"], "2011-06-15")
        self.assertEqual(params["WebIdentityToken"], JWT)

    def test_botocore_sts_client_reads_its_error_answer(self):
        self.control("/_fixture/config", {"sts_expect_token": "another"})
        client = self.sts(self.base)
        with self.assertRaises(client.exceptions.InvalidIdentityTokenException):
            client.assume_role_with_web_identity(RoleArn=ROLE_ARN, RoleSessionName="footfall-test",
                                                 WebIdentityToken=JWT)


class MotoStsWorksOffline(unittest.TestCase):
    def test_assume_role_with_web_identity_needs_no_real_identity_provider(self):
        try:
            proc, port = moto_server_atomic.launch(stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.DEVNULL,
                                                   preexec_fn=_die_with_parent, deadline_s=30)
        except RuntimeError as error:
            raise HarnessError(str(error)) from None
        try:
            client = boto3.client("sts", endpoint_url=f"http://127.0.0.1:{port}",
                                  region_name="us-east-1", aws_access_key_id="unused",
                                  aws_secret_access_key="unused")
            answer = client.assume_role_with_web_identity(
                RoleArn=ROLE_ARN, RoleSessionName="footfall-test", WebIdentityToken=JWT)
            self.assertTrue(answer["Credentials"]["SessionToken"])
            self.assertTrue(answer["Credentials"]["AccessKeyId"].startswith("ASIA"))
        finally:
            proc.kill()
            proc.wait()


class ServeWithARole(unittest.TestCase):
    """`footfall serve --store dynamodb://…` without keys, with a web identity role: credentials
    come from STS (moto's, behind a fault proxy that counts the calls), DynamoDB (moto) accepts
    the requests signed with them, and an ExpiredTokenException renews them: one STS call."""

    def test_web_identity_credentials_sign_requests_and_expired_ones_are_renewed(self):
        from harness import FootfallServer, footfall_bin, request  # noqa: E402
        from fault_proxy import FaultProxy  # noqa: E402
        proc, port = moto_server_atomic.launch(preexec_fn=_die_with_parent,
                                               stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        moto = f"http://127.0.0.1:{port}"
        table = "footfall-role"
        keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "us-east-1"}
        subprocess.run([footfall_bin(), "migrate", "--store",
                        f"dynamodb://{table}?region=us-east-1&endpoint={moto}"],
                       env={**os.environ, **keys}, check=True, capture_output=True)
        sts = FaultProxy(upstream=("127.0.0.1", port)).start()
        self.addCleanup(sts.stop)
        dynamodb = FaultProxy(upstream=("127.0.0.1", port)).start()
        self.addCleanup(dynamodb.stop)
        token = tempfile.NamedTemporaryFile("w", suffix=".jwt")
        self.addCleanup(token.close)
        token.write(JWT)
        token.flush()
        role = {"AWS_WEB_IDENTITY_TOKEN_FILE": token.name, "AWS_ROLE_ARN": ROLE_ARN,
                "AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{sts.port}", "AWS_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true"}
        uri = f"dynamodb://{table}?region=us-east-1&endpoint=http://127.0.0.1:{dynamodb.port}"
        # The server inherits the test's environment: no AWS variable but the role's in it.
        clean = unittest.mock.patch.dict(os.environ, {
            k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, clear=True)
        clean.start()
        self.addCleanup(clean.stop)
        with FootfallServer(store=uri, env=role) as srv:
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)
            self.assertEqual(sts.stats()["requests"], 1, "credentials are cached, not refetched")
            dynamodb.set_mode("http", status=400, body=b'{"__type":"com.amazon.coral.service#'
                              b'ExpiredTokenException","message":"The security token included '
                              b'in the request is expired"}')
            # Renewed once and tried again; refused again, the credentials are what is wrong:
            # a credential error, 500 (dynamodb_errors.h), not a retry loop against STS.
            self.assertEqual(request(srv.port, "GET", "/count").status, 500)
            self.assertEqual(sts.stats()["requests"], 2, "one renewal after ExpiredToken")
            dynamodb.set_mode("pass")
            self.assertEqual(request(srv.port, "GET", "/count").status, 200)


if __name__ == "__main__":
    run_tests()
