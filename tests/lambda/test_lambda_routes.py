#!/usr/bin/env python3
"""Every public route answers the same behind API Gateway as from `footfall serve`.

One DynamoDB table on moto holds the data; `footfall serve` and `footfall lambda` (through the
Runtime API fixture) both use it. For each request of the table below, the same request goes to
serve over HTTP and, as a REST (payload 1.0) and an HTTP API (payload 2.0) event shaped as API
Gateway documents them, to the runtime; status, headers and body must be the same. API Gateway
routes every method of each path of routes.json to the function (ANY, deploy/terraform/modules/
footfall), so a wrong method is the function's own 405 on AWS too; a path outside routes.json is
answered by API Gateway itself (REST 403 "Missing Authentication Token", HTTP API 404) and its
row only checks what the function would answer if it got one. What may differ, and only that: the date, the connection headers, a repeated header's layout (separate
lines from serve and in REST's multiValueHeaders, one ", "-joined line in 2.0), the counter of a
request that records a visit (it is one more each time), and the CSP nonce of the dashboard.

The statistics token comes from SSM Parameter Store (a SecureString in moto), read once at init;
a missing parameter leaves statistics off with one log line.

Run through ctest (lambda_routes_e2e) or: FOOTFALL_BIN=build/footfall python3 tests/lambda/test_lambda_routes.py
"""

import base64
import json
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import test_lambda_runtime as trt  # noqa: E402
from http_api_bridge import routes_from_module  # noqa: E402
from harness import FootfallServer, request  # noqa: E402

import boto3  # noqa: E402

TOKEN = "route-test-token-7f3a"
PARAMETER = "/footfall/route-test/stats-token"
SITE = "me.example"
ORIGIN = trt.ORIGIN
UA = "Mozilla/5.0 (X11; Linux x86_64) route-test/1"
BASIC = "Basic " + base64.b64encode(b"any:" + TOKEN.encode()).decode()
ROUTES = routes_from_module()

# Headers whose presence and value depend on the transport, not on footfall's answer.
TRANSPORT_HEADERS = {"date", "connection", "keep-alive", "content-length", "server"}



class EarlierAnswer:
    """A request header whose value is taken from serve's answer to an earlier row of REQUESTS
    (named `row`): its header `header`, resolved when the row that uses it runs."""

    def __init__(self, row, header):
        self.row, self.header = row, header.lower()

    def resolve(self, answers):
        values = answers[self.row].get(self.header)
        if not values:
            raise AssertionError("serve's answer to %r has no %s header" % (self.row, self.header))
        return values[0]


# A beacon one byte over the limit (core::kMaxEventBodyBytes, 8,192 bytes: 413 body_too_large).
OVERSIZED_BEACON = json.dumps({"path": "/about", "referrer": ""})
OVERSIZED_BEACON = OVERSIZED_BEACON[:-2] + "x" * (8193 - len(OVERSIZED_BEACON)) + '"}'
assert len(OVERSIZED_BEACON.encode()) == 8193

# (name, method, path, query, headers, body). Requests that record a visit are marked by a name
# starting with "records". A header value may be an EarlierAnswer.
REQUESTS = [
    ("records a visit", "GET", "/count", "path=%2Fblog%2Fpost", {"Origin": ORIGIN}, None),
    ("records a beacon (text/plain)", "POST", "/api/event", "",
     {"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"},
     json.dumps({"path": "/about", "referrer": "https://news.example/item"})),
    ("a beacon over 8 KiB", "POST", "/api/event", "",
     {"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"}, OVERSIZED_BEACON),
    ("reads the count", "GET", "/api/count", "", {"Origin": ORIGIN}, None),
    ("preflight", "OPTIONS", "/count", "",
     {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}, None),
    ("preflight of the beacon", "OPTIONS", "/api/event", "",
     {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": "content-type"}, None),
    ("liveness", "GET", "/healthz", "", {}, None),
    ("readiness", "GET", "/readyz", "", {}, None),
    ("stats without a token", "GET", "/api/stats", "", {}, None),
    ("stats with a wrong token", "GET", "/api/stats", "", {"Authorization": "Bearer nope"}, None),
    ("stats", "GET", "/api/stats", "site=" + SITE, {"Authorization": "Bearer " + TOKEN}, None),
    ("stats, bad query", "GET", "/api/stats", "interval=week",
     {"Authorization": "Bearer " + TOKEN}, None),
    ("dashboard without a password", "GET", "/dashboard", "", {}, None),
    ("dashboard", "GET", "/dashboard", "site=" + SITE, {"Authorization": BASIC}, None),
    ("badge (SVG)", "GET", "/counter/blog/post.svg", "site=" + SITE, {}, None),
    ("badge, not modified (its own ETag)", "GET", "/counter/blog/post.svg", "site=" + SITE,
     {"If-None-Match": EarlierAnswer("badge (SVG)", "ETag")}, None),
    ("badge of the site (JSON)", "GET", "/counter/.json", "site=" + SITE, {}, None),
    ("badge, an ETag that does not match", "GET", "/counter/blog/post.svg", "site=" + SITE,
     {"If-None-Match": '"nothing-matches"'}, None),
    ("badge of an unknown page", "GET", "/counter/nowhere.svg", "site=" + SITE, {}, None),
    ("the counter snippet", "GET", "/counter.js", "", {}, None),
    ("the counter snippet, not modified (its own ETag)", "GET", "/counter.min.js", "",
     {"If-None-Match": EarlierAnswer("the counter snippet", "ETag")}, None),
    ("a foreign origin", "GET", "/count", "", {"Origin": "https://evil.example"}, None),
    ("a wrong method", "POST", "/api/count", "", {"Origin": ORIGIN}, "x"),
    ("an unknown route (function answers, API Gateway does not forward)", "GET", "/nope", "", {},
     None),
]

# The status serve must give a row, where the row means to test that status (so that a change in
# the data, e.g. an ETag that no longer matches, cannot turn the row into another comparison).
EXPECTED_STATUS = {
    "a beacon over 8 KiB": 413,
    "badge, not modified (its own ETag)": 304,
    "the counter snippet": 200,
    "the counter snippet, not modified (its own ETag)": 304,
    "a wrong method": 405,
}


def route_of(path):
    """The API Gateway route (resource) a path matches, from the module's routes.json (as the
    HTTP API stand-in matches it); an unrouted path as a catch-all would pass it (the module has
    none: API Gateway answers such a path itself)."""
    route, parameters = ROUTES(path)
    if route is None:
        return "/{proxy+}", {"proxy": path[1:]}
    return route, parameters or {}


def query_maps(query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    single, multi = {}, {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return (single or None), (multi or None)


def rest_event(method, path, query, headers, body):
    """A REST API (payload 1.0) proxy event, as API Gateway documents it (stage "prod")."""
    resource, path_parameters = route_of(path)
    single, multi = query_maps(query)
    all_headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "User-Agent": UA,
                   "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", **headers}
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": all_headers, "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": single, "multiValueQueryStringParameters": multi,
        "pathParameters": path_parameters or None, "stageVariables": None,
        "requestContext": {
            "resourcePath": resource, "httpMethod": method, "path": "/prod" + path,
            "stage": "prod", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "accountId": "123456789012", "apiId": "abc123",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": UA}},
        "body": body, "isBase64Encoded": False}


def http_event(method, path, query, headers, body):
    """An HTTP API (payload 2.0) event, as API Gateway documents it (stage $default), matched by
    the module's "ANY <path>" route."""
    resource, path_parameters = route_of(path)
    single, _ = query_maps(query)
    lower = {"host": "abc123.execute-api.us-east-1.amazonaws.com", "user-agent": UA,
             "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"}
    lower.update({k.lower(): v for k, v in headers.items()})
    event = {
        "version": "2.0", "routeKey": "ANY %s" % resource, "rawPath": path,
        "rawQueryString": query, "headers": lower,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.9", "userAgent": UA},
            "requestId": "JKJaXmPLvHcESHA=", "routeKey": "ANY %s" % resource,
            "stage": "$default", "timeEpoch": 1796475600000},
        "isBase64Encoded": False}
    if single:
        event["queryStringParameters"] = single
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = body
    return event


def normalise_body(name, content_type, body):
    if name.startswith("records"):
        return re.sub(r'"count": ?\d+', '"count": N', body)
    if content_type.startswith("text/html"):
        body = re.sub(r"nonce-[A-Za-z0-9+/=_-]+|nonce=\"[^\"]*\"", "nonce", body)
    # A statistics range ends now (to the millisecond): the two answers come a moment apart.
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "<time>", body)


def normalise_headers(pairs):
    """{lower-case name: [values]} without transport headers; every value split on ", " only for
    the names that repeat (the only ones a 2.0 answer joins)."""
    out = {}
    for name, value in pairs:
        if name.lower() in TRANSPORT_HEADERS:
            continue
        out.setdefault(name.lower(), []).append(value)
    return out


def nonce_free(headers):
    """Headers with the values that differ by design blanked: the CSP nonce, and the request id
    (serve's own; the Lambda invocation's behind API Gateway, the one its log line carries)."""
    return {k: ["<id>"] * len(vs) if k == "x-request-id" else
            [re.sub(r"nonce-[A-Za-z0-9+/=_-]+", "nonce", v) for v in vs]
            for k, vs in headers.items()}


def setUpModule():
    trt.setUpModule()


def tearDownModule():
    trt.tearDownModule()


class RoutesBehindApiGatewayTest(trt.LambdaRuntimeTestCase):

    def ssm(self):
        return boto3.client("ssm", region_name=trt.REGION, endpoint_url=trt.MOTO.endpoint,
                            aws_access_key_id="AKIDFOOTFALLTEST", aws_secret_access_key="secret")

    def start_pair(self, table):
        self.ssm().put_parameter(Name=PARAMETER, Type="SecureString", Value=TOKEN, Overwrite=True)
        rt = self.start_runtime(table=table, extra_env={
            "FOOTFALL_STATS_TOKEN_PARAMETER": PARAMETER,
            "AWS_ENDPOINT_URL_SSM": trt.MOTO.endpoint,
            "FOOTFALL_DEFAULT_SITE": SITE})
        env = trt.clean_env()
        env = {k: v for k, v in env.items() if k.startswith("AWS_")}
        env.update({"FOOTFALL_STATS_TOKEN": TOKEN, "FOOTFALL_DEFAULT_SITE": SITE})
        uri = "dynamodb://%s?region=%s&endpoint=%s" % (table, trt.REGION, trt.MOTO.endpoint)
        serve = FootfallServer(store=uri, env=env, allowed_origins=[ORIGIN])
        self.addCleanup(serve.cleanup)
        serve.start()
        return rt, serve

    def from_serve(self, serve, method, path, query, headers, body):
        target = path + ("?" + query if query else "")
        r = request(serve.port, method, target, headers={"User-Agent": UA, **headers},
                    body=body.encode() if body is not None else None)
        return r.status, normalise_headers(r.headers), r.body.decode()

    def from_lambda(self, rt, event, payload):
        res = self.invoke(rt, json.dumps(event).encode(), timeout=20)
        self.assertEqual((res["kind"], res["status"]), ("response", 202), trt.raf.jsonable(res))
        out = res["body_json"]
        if payload == "2.0":
            self.assertNotIn("multiValueHeaders", out)
        pairs = list(out["headers"].items())
        for name, values in (out.get("multiValueHeaders") or {}).items():
            self.assertNotIn(name, out["headers"], "a name in both maps gets merged")
            pairs += [(name, v) for v in values]
        self.assertIs(out["isBase64Encoded"], False)
        return out["statusCode"], normalise_headers(pairs), out["body"]

    def compare(self, rt, serve, name, method, path, query, headers, body):
        """Serve's answer to the row, after checking that the runtime gives the same."""
        want_status, want_headers, want_body = self.from_serve(
            serve, method, path, query, headers, body)
        if name in EXPECTED_STATUS:
            self.assertEqual(want_status, EXPECTED_STATUS[name], "%s from serve: %s" % (
                name, want_body[:300]))
        content_type = (want_headers.get("content-type") or [""])[0]
        want_body = normalise_body(name, content_type, want_body)
        for payload, event in (("1.0", rest_event(method, path, query, headers, body)),
                               ("2.0", http_event(method, path, query, headers, body))):
            status, got_headers, got_body = self.from_lambda(rt, event, payload)
            self.assertEqual(status, want_status, "%s via %s: %s" % (name, payload,
                                                                      got_body[:300]))
            want = nonce_free(want_headers)
            if payload == "2.0":
                want = {k: [", ".join(v)] for k, v in want.items()}
            self.assertEqual(nonce_free(got_headers), want, "%s via %s" % (name, payload))
            self.assertEqual(normalise_body(name, content_type, got_body), want_body,
                             "%s via %s" % (name, payload))
        return want_headers

    def test_every_route_answers_as_serve_does(self):
        table = self.migrate(self.new_table_name())
        rt, serve = self.start_pair(table)
        answers = {}  # row name -> serve's headers, for the rows that use an EarlierAnswer
        for name, method, path, query, headers, body in REQUESTS:
            with self.subTest(request=name):
                headers = {k: v.resolve(answers) if isinstance(v, EarlierAnswer) else v
                           for k, v in headers.items()}
                # A read can see the table a moment apart from serve and from the function
                # (serve's readiness is probed every 5 s; aggregates that missed their deadline
                # land in the background): a read that differs is asked again, a few times.
                attempts = 1 if name.startswith("records") else 4
                for attempt in range(1, attempts + 1):
                    try:
                        answers[name] = self.compare(rt, serve, name, method, path, query,
                                                     headers, body)
                        break
                    except AssertionError:
                        if attempt == attempts:
                            raise
                        time.sleep(1)
        # The routes that matter were really exercised with data behind them.
        status, _, body = self.from_serve(serve, "GET", "/counter/blog/post.json",
                                          "site=" + SITE, {}, None)
        self.assertEqual(status, 200)
        self.assertGreaterEqual(json.loads(body)["views"], 3, body)
        self.assert_no_client_data(rt)

    def test_a_missing_token_parameter_turns_statistics_off_with_one_line(self):
        table = self.migrate(self.new_table_name())
        rt = self.start_runtime(table=table, extra_env={
            "FOOTFALL_STATS_TOKEN_PARAMETER": "/footfall/route-test/absent",
            "AWS_ENDPOINT_URL_SSM": trt.MOTO.endpoint})
        for event in (rest_event("GET", "/api/stats", "", {"Authorization": "Bearer x"}, None),
                      http_event("GET", "/dashboard", "", {}, None)):
            status, _, body = self.from_lambda(rt, event, event.get("version", "1.0"))
            self.assertEqual(status, 403, body)
            self.assertEqual(json.loads(body)["error"], "stats_disabled")
        # The counter works all the same.
        self.assert_count_response(rt, trt.V1_GET, 1)
        lines = [json.loads(raw) for raw in rt.wait_lines(4)]
        warnings = [line for line in lines if line.get("msg", "").startswith("statistics are off")]
        self.assertEqual(len(warnings), 1, lines)
        self.assertEqual(warnings[0]["parameter"], "/footfall/route-test/absent")
        self.assertIn("ParameterNotFound", warnings[0]["error"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
