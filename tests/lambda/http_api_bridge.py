#!/usr/bin/env python3
"""An HTTP API (API Gateway v2) stand-in for tests that need a real client — a browser — in front
of `footfall lambda`: each HTTP request it receives on 127.0.0.1 becomes a payload 2.0 event, as
API Gateway documents it for an HTTP API's $default stage, goes through the Runtime API fixture
to the runtime, and the function's answer goes back as API Gateway would send it (statusCode,
headers, body, base64 decoded; a function error is API Gateway's own 500
{"message":"Internal Server Error"}). It is a test tool, not an API Gateway: no authorisers, no
throttling, no payload limits beyond the fixture's.

    python3 tests/lambda/http_api_bridge.py hold --origin https://me.example --site me.example

starts moto (DynamoDB, SSM), a table, a SecureString stats token in SSM, the fixture, the runtime
(FOOTFALL_BIN, or FOOTFALL_LAMBDA_COMMAND) and the bridge; prints one JSON line
{"url": "http://127.0.0.1:PORT", "token": "..."} and serves until SIGTERM or SIGINT, then stops
everything it started (the moto tables are kept for the privacy audit, as by the Lambda tests).
"""

import argparse
import base64
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MAX_BODY_BYTES = 1 << 20  # well over footfall's own limits; API Gateway's is 10 MB
RESPONSE_TIMEOUT_S = 30.0


def to_event(method, target, headers, body, source_ip, route_keys):
    """The payload 2.0 event for one HTTP request. `headers` is a list of (name, value);
    `route_keys` maps a path to its route ("/counter/{proxy+}")."""
    path, _, query = target.partition("?")
    lower = {}
    cookies = []
    for name, value in headers:
        name = name.lower()
        if name == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        lower[name] = lower[name] + "," + value if name in lower else value
    # API Gateway's own: the client's address and how it came.
    lower["x-forwarded-for"] = source_ip
    lower["x-forwarded-proto"] = "http"
    route, parameters = route_keys(path)
    # The module routes every method of a path to the function: one "ANY <path>" route each.
    event = {
        "version": "2.0", "routeKey": "ANY %s" % route, "rawPath": path,
        "rawQueryString": query, "headers": lower,
        "requestContext": {
            "accountId": "123456789012", "apiId": "bridge",
            "domainName": lower.get("host", "127.0.0.1"), "domainPrefix": "bridge",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": source_ip, "userAgent": lower.get("user-agent", "")},
            "requestId": "bridge-%d" % time.monotonic_ns(),
            "routeKey": "ANY %s" % route, "stage": "$default",
            "timeEpoch": int(time.time() * 1000)},
        "isBase64Encoded": False}
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = {
            k: ",".join(v) for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
    if parameters:
        event["pathParameters"] = parameters
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def routes_from_module():
    """path -> (route key path, path parameters), from the Terraform module's routes.json: a
    path no route matches gets API Gateway's own 404, as a deployed HTTP API would answer."""
    with open(os.path.join(os.path.dirname(os.path.dirname(HERE)), "deploy", "terraform",
                           "modules", "footfall", "routes.json")) as f:
        routes = [r["path"] for r in json.load(f)["routes"]]

    def match(path):
        if path in routes:
            return path, None
        for route in routes:
            if route.endswith("{proxy+}") and path.startswith(route[:-len("{proxy+}")]) \
                    and len(path) > len(route) - len("{proxy+}"):
                return route, {"proxy": path[len(route) - len("{proxy+}"):]}
        return None, None
    return match


class HttpApiBridge:
    """Serves 127.0.0.1:<port>; each request is an event for `fixture` (a RuntimeApiFixture)."""

    def __init__(self, fixture):
        self.fixture = fixture
        match = routes_from_module()
        bridge = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # quiet: the runtime's log is the record
                pass

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    return self.answer(413, {"Content-Type": "application/json"},
                                       b'{"message":"Request Entity Too Large"}')
                body = self.rfile.read(length) if length else b""
                route, _ = match(self.path.partition("?")[0])
                if route is None:  # an HTTP API answers unrouted requests itself
                    return self.answer(404, {"Content-Type": "application/json"},
                                       b'{"message":"Not Found"}')
                event = to_event(self.command, self.path, list(self.headers.items()), body,
                                 self.client_address[0], match)
                rid = bridge.fixture.enqueue(json.dumps(event).encode())
                try:
                    res = bridge.fixture.wait_result(rid, RESPONSE_TIMEOUT_S)
                except TimeoutError:
                    return self.answer(504, {"Content-Type": "application/json"},
                                       b'{"message":"Endpoint request timed out"}')
                out = res.get("body_json") if res.get("kind") == "response" else None
                if not isinstance(out, dict) or not isinstance(out.get("statusCode"), int):
                    return self.answer(500, {"Content-Type": "application/json"},
                                       b'{"message":"Internal Server Error"}')
                payload = (out.get("body") or "").encode()
                if out.get("isBase64Encoded"):
                    payload = base64.b64decode(payload)
                self.answer(out["statusCode"], out.get("headers") or {}, payload)

            def answer(self, status, headers, payload):
                self.send_response_only(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_OPTIONS = do_PUT = do_DELETE = do_HEAD = handle_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def hold(origin, site):
    import boto3
    import runtime_api_fixture as raf
    import test_lambda_runtime as trt

    token = "bridge-" + base64.b32encode(os.urandom(10)).decode().lower()
    parameter = "/footfall/bridge/stats-token"
    trt.setUpModule()
    stack = []
    try:
        table = "footfall-bridge-%d" % os.getpid()
        uri = "dynamodb://%s?region=%s&endpoint=%s" % (table, trt.REGION, trt.MOTO.endpoint)
        subprocess.run([trt.footfall_bin(), "migrate", "--store", uri], env=trt.clean_env(),
                       check=True, capture_output=True, timeout=60)
        boto3.client("ssm", region_name=trt.REGION, endpoint_url=trt.MOTO.endpoint,
                     aws_access_key_id="AKIDFOOTFALLTEST", aws_secret_access_key="secret") \
            .put_parameter(Name=parameter, Type="SecureString", Value=token, Overwrite=True)
        fixture = raf.RuntimeApiFixture().start()
        stack.append(fixture.stop)
        env = fixture.lambda_env(base=trt.clean_env(), AWS_LAMBDA_FUNCTION_NAME="footfall-bridge")
        env.update({"DYNAMODB_TABLE": table, "AWS_ENDPOINT_URL_DYNAMODB": trt.MOTO.endpoint,
                    "AWS_ENDPOINT_URL_SSM": trt.MOTO.endpoint, "ALLOWED_ORIGIN": origin,
                    "FOOTFALL_DEFAULT_SITE": site, "FOOTFALL_STATS_TOKEN_PARAMETER": parameter})
        runtime = trt.Runtime(trt.runtime_command(), env, trt.WORKDIR)
        stack.append(runtime.stop)
        bridge = HttpApiBridge(fixture)
        stack.append(bridge.close)
        print(json.dumps({"url": bridge.url, "token": token}), flush=True)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(0.5):
            if runtime.proc.poll() is not None:
                print("runtime exited with %s: %s" % (runtime.proc.returncode,
                                                      runtime.stderr()[-2000:]), file=sys.stderr)
                return 1
        return 0
    finally:
        for step in reversed(stack):
            try:
                step()
            except Exception as error:  # keep stopping the rest
                print("bridge: stopping: %s" % error, file=sys.stderr)
        trt.tearDownModule()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("hold", help="start everything, print the URL, serve until signalled")
    run.add_argument("--origin", default="https://me.example")
    run.add_argument("--site", default="me.example")
    args = parser.parse_args()
    sys.exit(hold(args.origin, args.site))


if __name__ == "__main__":
    main()
