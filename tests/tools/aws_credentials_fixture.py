#!/usr/bin/env python3
"""The AWS credential endpoints on 127.0.0.1, as documented, for tests of a credentials chain.

One port serves three of them, each as AWS documents it:

- **Container credentials** (ECS task roles, EKS Pod Identity): `GET /container/<anything>` with
  `Authorization: <token>` when a token is configured (`auth_token`; 401 without it or with
  another) answers 200 `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn",
  "AccountId"}` (Expiration ISO 8601 UTC, as the ECS agent writes it).
- **EC2 instance metadata, IMDSv2**: `PUT /latest/api/token` with
  `X-aws-ec2-metadata-token-ttl-seconds: 1..21600` answers a session token (400 without a valid
  TTL; 403 with `X-Forwarded-For`, as IMDS refuses proxied token requests). Then
  `GET /latest/meta-data/iam/security-credentials/` answers the role name and
  `GET /latest/meta-data/iam/security-credentials/<role>` answers `{"Code": "Success",
  "LastUpdated", "Type": "AWS-HMAC", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"}`.
  A GET without a valid `X-aws-ec2-metadata-token` is refused with 401, as on an instance whose
  metadata options say `HttpTokens: required` — unless `imds_v1` is true (`HttpTokens:
  optional`). `imds_token_status` (e.g. 404) makes the PUT answer that status instead, as an
  IMDS without v2 would.
- **STS `AssumeRoleWithWebIdentity`** (Query API, unsigned): `POST /` with a form body
  `Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=…&RoleSessionName=…&
  WebIdentityToken=…` answers the documented XML (`AssumeRoleWithWebIdentityResponse` /
  `AssumeRoleWithWebIdentityResult` / `Credentials`), or an `ErrorResponse` (400
  `MissingParameter`, `InvalidIdentityToken` when `sts_expect_token` is set and differs).

Control (not AWS; a test's knobs), same port:
- `POST /_fixture/config` with a JSON object merges settings: `expiration` (the Expiration to hand
  out, default one hour from now), `delay_ms` (before each credentials answer), `answer`
  (`normal`, or a fault for the credentials answers: `not_json`, `missing_token`, `wrong_type`,
  `bad_expiration`, `huge` (100 KiB), `length_bomb` (a Content-Length of 100 GB, then the
  connection closes), `empty`, `error_500`, `error_403`, `code_failure` (IMDS
  `Code` other than Success), `duplicate` (STS: an element twice), `entity` (STS: the secret
  written with an XML entity)), `fail_next` (that many credentials answers are 500 first),
  `auth_token`, `imds_v1`, `imds_token_status`, `role_name`, `sts_expect_token`, and
  `access_key_id`/`secret_access_key`/`session_token` (hand out exactly these).
  `POST /_fixture/reset` restores the defaults and zeroes the counters.
- `GET /_fixture/stats` answers the counters: `container`, `imds_token`, `imds_role`,
  `imds_credentials`, `imds_refused` (GETs refused for want of a token), `sts`, and the last
  `authorization`, `sts_params` (form fields, the token included) and `imds_ttl` seen.

Each credentials answer hands out a new access key id (`ASIAFIXTURE` and a counter), so a test
can tell fetches apart.

Usage: aws_credentials_fixture.py [-H 127.0.0.1] --port-file FILE
Binds port 0 (the OS chooses), writes the port and a newline to FILE.tmp and renames it to FILE once
listening (a reader sees the whole number or no file). Exits on SIGTERM/SIGINT, or when its stdin
reaches EOF if started with --exit-on-stdin-eof. Loopback only. Python 3.11 stdlib.
From Python: `launch()` starts it and returns (process, port).
"""
import argparse
import datetime
import http.server
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import port_file  # noqa: E402

DEFAULTS = {
    "expiration": None,  # None: one hour from each answer
    "delay_ms": 0,
    "answer": "normal",
    "fail_next": 0,
    "auth_token": None,
    "imds_v1": False,
    "imds_token_status": 200,
    "role_name": "footfall-instance-role",
    "sts_expect_token": None,
    "access_key_id": None,
    "secret_access_key": None,
    "session_token": None,
}

CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"


def iso8601(when):
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.config = dict(DEFAULTS)
        self.stats = {"container": 0, "imds_token": 0, "imds_role": 0, "imds_credentials": 0,
                      "imds_refused": 0, "sts": 0, "authorization": None, "sts_params": None,
                      "imds_ttl": None}
        self.tokens = {}  # IMDS session token -> expiry (monotonic)
        self.issued = 0

    def next_credentials(self):
        """The next credentials and their Expiration text (config applied)."""
        with self.lock:
            self.issued += 1
            n = self.issued
            config = dict(self.config)
        expiration = config["expiration"] or iso8601(
            datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
        return {
            "AccessKeyId": config["access_key_id"] or f"ASIAFIXTURE{n:09d}",
            "SecretAccessKey": config["secret_access_key"] or secrets.token_urlsafe(30),
            "Token": config["session_token"] or secrets.token_urlsafe(300),
            "Expiration": expiration,
        }

    def take_fault(self):
        """The fault to answer with now: 'error_500' while fail_next lasts, else `answer`."""
        with self.lock:
            if self.config["fail_next"] > 0:
                self.config["fail_next"] -= 1
                return "error_500"
            return self.config["answer"]


STATE = State()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real endpoints
    server_version = "aws-credentials-fixture"

    def log_message(self, *args):  # quiet: tests read counters, not logs
        pass

    def setup(self):
        super().setup()
        # Head and body go out in two writes; without this, Nagle holds the body until the
        # client's delayed ACK (~40 ms per answer).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --- plumbing ---
    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body, content_type="application/json"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, value):
        self.send(status, json.dumps(value))

    def fault_then_delay(self):
        """The fault this answer gets, taken when the request arrives, then the configured delay.
        Taken first so that an answer still delayed when its test has ended (a test of abandoned
        fetches) cannot use up a later test's `fail_next` (CI: a container fetch saw one 500 of two,
        the other went to a request from two tests before)."""
        with STATE.lock:
            delay_ms = STATE.config["delay_ms"]
        fault = STATE.take_fault()
        if delay_ms:
            time.sleep(delay_ms / 1000)
        return fault

    def count(self, key, **last):
        with STATE.lock:
            STATE.stats[key] += 1
            STATE.stats.update(last)

    # --- routing ---
    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_fixture/stats":
            with STATE.lock:
                return self.send_json(200, STATE.stats)
        if path.startswith("/container/"):
            return self.container()
        if path.startswith(CREDENTIALS_PATH):
            return self.imds_get(path)
        self.send(404, "not found", "text/plain")

    def do_PUT(self):
        self.body()
        if urllib.parse.urlsplit(self.path).path == "/latest/api/token":
            return self.imds_token()
        self.send(404, "not found", "text/plain")

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        body = self.body()
        if path == "/_fixture/config":
            try:
                update = json.loads(body)
                unknown = set(update) - set(DEFAULTS)
                if not isinstance(update, dict) or unknown:
                    raise ValueError(f"unknown settings {sorted(unknown)}")
            except (ValueError, TypeError) as error:
                return self.send_json(400, {"ok": False, "error": str(error)})
            with STATE.lock:
                STATE.config.update(update)
            return self.send_json(200, {"ok": True})
        if path == "/_fixture/reset":
            with STATE.lock:
                STATE.reset()
            return self.send_json(200, {"ok": True})
        if path == "/":
            return self.sts(body)
        self.send(404, "not found", "text/plain")

    # --- container credentials ---
    def container(self):
        authorization = self.headers.get("Authorization")
        self.count("container", authorization=authorization)
        with STATE.lock:
            expected = STATE.config["auth_token"]
        if expected is not None and authorization != expected:
            return self.send_json(401, {"code": "AccessDeniedException",
                                        "message": "authorization token is missing or invalid"})
        fault = self.fault_then_delay()
        credentials = STATE.next_credentials()
        credentials.update({"RoleArn": "arn:aws:iam::123456789012:role/footfall-task",
                            "AccountId": "123456789012"})
        self.send_credentials_json(credentials, fault)

    def send_credentials_json(self, credentials, fault):
        if fault == "error_500":
            return self.send_json(500, {"code": "InternalError", "message": "try again"})
        if fault == "error_403":
            return self.send_json(403, {"code": "AccessDenied", "message": "not for you"})
        if fault == "not_json":
            return self.send(200, "<html>credentials</html>", "text/html")
        if fault == "empty":
            return self.send(200, b"")
        if fault == "missing_token":
            del credentials["Token"]
        if fault == "wrong_type":
            credentials["SecretAccessKey"] = 12345
        if fault == "bad_expiration":
            credentials["Expiration"] = "next tuesday"
        if fault == "code_failure":
            credentials["Code"] = "AssumeRoleUnauthorizedAccess"
        if fault == "huge":
            credentials["Padding"] = "x" * (100 * 1024)
        if fault == "length_bomb":
            # Claims 100 GB; header and the start of the body in one segment, then closes.
            self.close_connection = True
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100000000000\r\n\r\n")
            self.wfile.write(head + json.dumps(credentials).encode())
            return
        self.send_json(200, credentials)

    # --- IMDSv2 ---
    def imds_token(self):
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        self.count("imds_token", imds_ttl=ttl)
        with STATE.lock:
            status = STATE.config["imds_token_status"]
        if status != 200:
            return self.send(status, "", "text/plain")
        if self.headers.get("X-Forwarded-For"):
            return self.send(403, "Forbidden", "text/plain")
        try:
            seconds = int(ttl)
            if not 1 <= seconds <= 21600:
                raise ValueError
        except (TypeError, ValueError):
            return self.send(400, "Bad Request", "text/plain")
        token = secrets.token_urlsafe(40)
        with STATE.lock:
            STATE.tokens[token] = time.monotonic() + seconds
        self.send_response(200)
        body = token.encode()
        self.send_header("Content-Type", "text/plain")
        self.send_header("X-aws-ec2-metadata-token-ttl-seconds", str(seconds))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def imds_get(self, path):
        token = self.headers.get("X-aws-ec2-metadata-token")
        with STATE.lock:
            valid = token is not None and STATE.tokens.get(token, 0) > time.monotonic()
            allow_v1 = STATE.config["imds_v1"]
            role = STATE.config["role_name"]
        if not valid and (token is not None or not allow_v1):
            self.count("imds_refused")
            return self.send(401, "Unauthorized", "text/plain")
        if path == CREDENTIALS_PATH:
            self.count("imds_role")
            if role is None:
                return self.send(404, "Not Found", "text/plain")
            return self.send(200, role, "text/plain")
        self.count("imds_credentials")
        if path != CREDENTIALS_PATH + (role or ""):
            return self.send(404, "Not Found", "text/plain")
        fault = self.fault_then_delay()
        credentials = STATE.next_credentials()
        self.send_credentials_json({
            "Code": "Success",
            "LastUpdated": iso8601(datetime.datetime.now(datetime.timezone.utc)),
            "Type": "AWS-HMAC",
            **credentials,
        }, fault)

    # --- STS AssumeRoleWithWebIdentity ---
    def sts(self, body):
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                                          keep_blank_values=True).items()}
        self.count("sts", sts_params=form)
        if form.get("Action") != "AssumeRoleWithWebIdentity" or form.get("Version") != "2011-06-15":
            return self.sts_error(400, "InvalidAction", "Could not find operation "
                                  f"{form.get('Action')} for version {form.get('Version')}")
        for name in ("RoleArn", "RoleSessionName", "WebIdentityToken"):
            if not form.get(name):
                return self.sts_error(400, "MissingParameter",
                                      f"The request must contain the parameter {name}")
        with STATE.lock:
            expected = STATE.config["sts_expect_token"]
        if expected is not None and form["WebIdentityToken"] != expected:
            return self.sts_error(400, "InvalidIdentityToken",
                                  "The web identity token that was passed could not be validated")
        fault = self.fault_then_delay()
        credentials = STATE.next_credentials()
        if fault == "error_500":
            return self.sts_error(500, "InternalFailure", "try again", "Receiver")
        if fault == "error_403":
            return self.sts_error(403, "AccessDenied", "Not authorized to perform "
                                  "sts:AssumeRoleWithWebIdentity")
        if fault == "not_json" or fault == "empty":  # "not XML" for STS
            return self.send(200, "" if fault == "empty" else "{\"not\": \"xml\"}", "text/xml")
        secret = credentials["SecretAccessKey"]
        if fault == "entity":
            secret = secret[:5] + "&amp;&#x41;" + secret[5:]
        elements = {
            "AccessKeyId": credentials["AccessKeyId"],
            "SecretAccessKey": secret,
            "SessionToken": credentials["Token"],
            "Expiration": credentials["Expiration"],
        }
        if fault == "missing_token":
            del elements["SessionToken"]
        if fault == "bad_expiration":
            elements["Expiration"] = "next tuesday"
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in elements.items())
        if fault == "duplicate":
            inner += "<AccessKeyId>ASIAOTHER</AccessKeyId>"
        if fault == "huge":
            inner += "<Padding>" + "x" * (100 * 1024) + "</Padding>"
        session = form["RoleSessionName"]
        role = form["RoleArn"].split("/")[-1]
        self.send(200, (
            '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            "<AssumeRoleWithWebIdentityResult>"
            "<SubjectFromWebIdentityToken>system:serviceaccount:default:footfall"
            "</SubjectFromWebIdentityToken>"
            "<Audience>sts.amazonaws.com</Audience>"
            f"<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/{role}/{session}</Arn>"
            f"<AssumedRoleId>AROA123EXAMPLE123:{session}</AssumedRoleId></AssumedRoleUser>"
            f"<Credentials>{inner}</Credentials>"
            "<Provider>https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE</Provider>"
            "</AssumeRoleWithWebIdentityResult>"
            "<ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>"
            "</ResponseMetadata></AssumeRoleWithWebIdentityResponse>"), "text/xml")

    def sts_error(self, status, code, message, kind="Sender"):
        self.send(status, (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"),
            "text/xml")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def handle_error(self, request, client_address):
        # A client that hangs up early (a test that is done, a refused oversized answer) is
        # normal here; anything else is printed as usual.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def launch(stdout=subprocess.DEVNULL, stderr=None, preexec_fn=None, deadline_s=20.0):
    """Starts this script as a child process on a port the OS chooses; returns (Popen, port).
    Stopping it is the caller's job. Raises RuntimeError if it exits or does not listen in time."""
    return port_file.launch([sys.executable, os.path.abspath(__file__)],
                            "aws_credentials_fixture.py", deadline_s, stdout=stdout,
                            stderr=stderr, preexec_fn=preexec_fn)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("loopback only")
    server = Server((args.host, 0), Handler)
    port_file.write_port(args.port_file, server.server_address[1])

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_on_stdin_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), stop()), daemon=True).start()
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
