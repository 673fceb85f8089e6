#!/usr/bin/env python3
"""Writes src/aws/sigv4_test_vectors.inc: SigV4 test vectors signed by botocore's own signer.

sigv4_test.cc checks footfall::aws::SignV4 against these, so what it is compared with is what the
AWS SDK for Python sends, not our reading of the spec.

  python3 tests/tools/sigv4_vectors.py                 # print the file
  python3 tests/tools/sigv4_vectors.py --write PATH    # regenerate it
  python3 tests/tools/sigv4_vectors.py --check PATH    # exit 1 (with a diff) if PATH is stale

botocore subtleties this relies on (botocore 1.3x-1.4x):
  * SigV4Auth.add_auth overwrites request.context['timestamp'] with get_current_datetime(), so the
    time is fixed by patching botocore.auth.get_current_datetime (setting the context is ignored).
  * It signs every request header except a hop-by-hop/User-Agent blacklist, plus 'host', which it
    derives from the URL (lower-cased, default port dropped) and never adds to request.headers.
  * With a session token it sets X-Amz-Security-Token before signing, so the token is signed.
  * The query string is canonicalised from request.params with quote(safe='-_.~'); a query written
    into the URL is used without re-encoding. The wire query we hand to C++ is botocore's
    percent_encode_sequence(params) (AWSRequest.prepare would use urlencode, i.e. '+' for space).
  * The path is normalised (dot segments, '//') and quoted again: non-S3 double encoding.
"""

import argparse
import datetime
import difflib
import sys
from unittest import mock
from urllib.parse import urlsplit

try:
    import botocore
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.utils import percent_encode_sequence
except ImportError as e:
    sys.exit(f'sigv4_vectors.py needs botocore (pip install botocore): {e}')

TIMESTAMP = datetime.datetime(2026, 11, 25, 13, 20, 3)  # 20261125T132003Z, naive UTC like botocore's

ACCESS_KEY = 'AKIAFOOTFALLEXAMPLE7'
SECRET_KEY = 'fOoTfAlL/Secret+Key/EXAMPLEwJalrXUtnFEMIK7'
SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCWV1LXdlc3QtMSJHMEUCIQD+EXAMPLE/TOKEN=='

PUT_ITEM_BODY = (b'{"TableName":"footfall","Item":{"pk":{"S":"site#example.com"},'
                 b'"sk":{"S":"day#2026-11-25"},"n":{"N":"1"}}}')
DYNAMODB_HEADERS = [
    ('Content-Type', 'application/x-amz-json-1.0'),
    ('X-Amz-Target', 'DynamoDB_20120810.PutItem'),
]

# The example in the AWS SigV4 documentation ("Create a signed AWS API request", IAM ListUsers).
AWS_DOCS_SIGNATURE = '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7'

CASES = [
    dict(name='dynamodb_put_item',
         method='POST', url='https://dynamodb.eu-west-1.amazonaws.com/',
         headers=DYNAMODB_HEADERS, body=PUT_ITEM_BODY,
         region='eu-west-1', service='dynamodb'),
    dict(name='dynamodb_put_item_session_token',
         method='POST', url='https://dynamodb.eu-west-1.amazonaws.com/',
         headers=DYNAMODB_HEADERS, body=PUT_ITEM_BODY, token=SESSION_TOKEN,
         region='eu-west-1', service='dynamodb'),
    # moto_server / DynamoDB Local: the port is part of the signed host.
    dict(name='dynamodb_host_with_port',
         method='POST', url='http://127.0.0.1:5000/',
         headers=DYNAMODB_HEADERS, body=PUT_ITEM_BODY, token='testing',
         region='us-east-1', service='dynamodb'),
    # botocore drops a default port from the signed host, so callers must too.
    dict(name='dynamodb_default_port_dropped',
         method='POST', url='https://dynamodb.eu-west-1.amazonaws.com:443/',
         headers=DYNAMODB_HEADERS, body=PUT_ITEM_BODY,
         region='eu-west-1', service='dynamodb'),
    dict(name='get_query_needing_encoding',
         method='GET', url='https://abc123.execute-api.eu-west-1.amazonaws.com/v1/stats',
         params=[('site', 'example.com'), ('b', '2'), ('a', 'z'), ('a', 'y'), ('a', '10'),
                 ('q', 'hello world/\u00fc+*~'), ('empty', ''), ('Key With Space', 'v&=x'),
                 ('A', 'upper')],
         headers=[], body=b'',
         region='eu-west-1', service='execute-api'),
    dict(name='header_values_with_extra_spaces',
         method='POST', url='https://dynamodb.eu-west-1.amazonaws.com/',
         headers=[('Content-Type', '  application/x-amz-json-1.0  '),
                  ('X-Amz-Target', 'DynamoDB_20120810.PutItem'),
                  ('X-Amz-Meta-Note', 'a   b \t c'),
                  ('x-footfall-TRACE', '\t leading and trailing \t ')],
         body=PUT_ITEM_BODY, region='eu-west-1', service='dynamodb'),
    dict(name='repeated_header_names',
         method='POST', url='https://dynamodb.eu-west-1.amazonaws.com/',
         headers=DYNAMODB_HEADERS + [('X-Footfall-Tag', 'one'), ('x-footfall-tag', ' two  too')],
         body=PUT_ITEM_BODY, region='eu-west-1', service='dynamodb'),
    dict(name='empty_body_post',
         method='POST', url='https://dynamodb.eu-west-1.amazonaws.com/',
         headers=DYNAMODB_HEADERS, body=b'', token=SESSION_TOKEN,
         region='eu-west-1', service='dynamodb'),
    dict(name='unicode_body',
         method='POST', url='https://dynamodb.eu-west-1.amazonaws.com/',
         headers=DYNAMODB_HEADERS,
         body=('{"TableName":"footfall","Item":{"pk":{"S":"site#caf\u00e9.example"},'
               '"title":{"S":"\u8db3\u97f3 \u2014 \U0001f9b6 na\u00efve"}}}').encode('utf-8'),
         region='eu-west-1', service='dynamodb'),
    dict(name='path_normalized_and_encoded_twice',
         method='POST',
         url='https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/my%20fn/./x/../invocations//',
         headers=[('Content-Type', 'application/json')], body=b'{}',
         region='eu-west-1', service='lambda'),
    dict(name='aws_docs_iam_list_users',
         method='GET', url='https://iam.amazonaws.com/',
         params=[('Action', 'ListUsers'), ('Version', '2010-05-08')],
         headers=[('Content-Type', 'application/x-www-form-urlencoded; charset=utf-8')], body=b'',
         access_key='AKIDEXAMPLE', secret_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
         region='us-east-1', service='iam',
         timestamp=datetime.datetime(2015, 8, 30, 12, 36, 0),
         expected_signature=AWS_DOCS_SIGNATURE),
]


class RecordingSigV4Auth(SigV4Auth):
    """botocore's signer, keeping the intermediate strings so C++ failures are easy to read."""

    def canonical_request(self, request):
        self.recorded_canonical_request = super().canonical_request(request)
        return self.recorded_canonical_request

    def string_to_sign(self, request, canonical_request):
        self.recorded_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.recorded_string_to_sign


def sign(case):
    params = case.get('params')
    request = AWSRequest(method=case['method'], url=case['url'], data=case['body'],
                         params=params or {})
    for name, value in case['headers']:
        request.headers[name] = value  # HTTPHeaders appends, so repeated names stay repeated
    credentials = Credentials(case.get('access_key', ACCESS_KEY),
                              case.get('secret_key', SECRET_KEY), case.get('token'))
    signer = RecordingSigV4Auth(credentials, case['service'], case['region'])
    timestamp = case.get('timestamp', TIMESTAMP)
    with mock.patch('botocore.auth.get_current_datetime', return_value=timestamp):
        signer.add_auth(request)
    added = [(name, request.headers[name])
             for name in ('X-Amz-Date', 'X-Amz-Security-Token', 'Authorization')
             if name in request.headers]
    expected_date = timestamp.strftime('%Y%m%dT%H%M%SZ')
    if request.headers['X-Amz-Date'] != expected_date:
        sys.exit(f"{case['name']}: botocore signed at {request.headers['X-Amz-Date']}, "
                 f"not {expected_date}; the time patch no longer works")
    if 'expected_signature' in case:
        signature = request.headers['Authorization'].rsplit('Signature=', 1)[1]
        if signature != case['expected_signature']:
            sys.exit(f"{case['name']}: botocore's signature {signature} is not the documented "
                     f"{case['expected_signature']}")
    return dict(
        host=signer.headers_to_sign(request)['host'],
        path=urlsplit(case['url']).path or '/',
        query=percent_encode_sequence(params) if params else '',
        unix_seconds=int(timestamp.replace(tzinfo=datetime.timezone.utc).timestamp()),
        canonical_request=signer.recorded_canonical_request,
        string_to_sign=signer.recorded_string_to_sign,
        added=added,
    )


def cxx_string(data):
    """A C++ string literal for `data` (bytes or str); non-printable bytes as 3-digit octal."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    out = []
    for byte in data:
        char = chr(byte)
        if char in '"\\':
            out.append('\\' + char)
        elif char == '\n':
            out.append('\\n')
        elif 0x20 <= byte < 0x7f:
            out.append(char)
        else:
            out.append(f'\\{byte:03o}')
    return '"' + ''.join(out) + '"'


def cxx_multiline(text, indent):
    """`text` as adjacent literals, one per line of text, for readable canonical requests."""
    lines = text.split('\n')
    pieces = [line + '\n' for line in lines[:-1]] + [lines[-1]]
    pad = ' ' * indent
    return ('\n' + pad).join(cxx_string(piece) for piece in pieces)


def cxx_pairs(pairs, indent):
    if not pairs:
        return '{}'
    pad = ' ' * indent
    items = ''.join(f'{pad}    {{{cxx_string(n)}, {cxx_string(v)}}},\n' for n, v in pairs)
    return '{\n' + items + pad + '}'


def render():
    out = [
        '// Generated by tests/tools/sigv4_vectors.py from botocore\'s SigV4Auth. Do not edit.\n',
        '// Regenerate: python3 tests/tools/sigv4_vectors.py --write src/aws/sigv4_test_vectors.inc\n',
        '// ctest sigv4_vectors_current fails when this file differs from what botocore produces.\n',
        '// Included by sigv4_test.cc, which defines BotocoreVector.\n',
        '\n',
        'std::vector<BotocoreVector> BotocoreVectors() {\n',
        '  return {\n',
    ]
    for case in CASES:
        signed = sign(case)
        token = case.get('token') or ''
        out.append(
            f'      {{\n'
            f'          .name = {cxx_string(case["name"])},\n'
            f'          // {case["method"]} {case["url"]}\n'
            f'          .request =\n'
            f'              {{\n'
            f'                  .method = {cxx_string(case["method"])},\n'
            f'                  .host = {cxx_string(signed["host"])},\n'
            f'                  .path = {cxx_string(signed["path"])},\n'
            f'                  .query = {cxx_string(signed["query"])},\n'
            f'                  .headers = {cxx_pairs(case["headers"], 18)},\n'
            f'                  .body = std::string({cxx_string(case["body"])}, '
            f'{len(case["body"])}),\n'
            f'              }},\n'
            f'          .credentials =\n'
            f'              {{\n'
            f'                  .access_key_id = {cxx_string(case.get("access_key", ACCESS_KEY))},\n'
            f'                  .secret_access_key = '
            f'{cxx_string(case.get("secret_key", SECRET_KEY))},\n'
            f'                  .session_token = {cxx_string(token)},\n'
            f'              }},\n'
            f'          .region = {cxx_string(case["region"])},\n'
            f'          .service = {cxx_string(case["service"])},\n'
            f'          .unix_seconds = {signed["unix_seconds"]},\n'
            f'          .canonical_request =\n'
            f'              {cxx_multiline(signed["canonical_request"], 14)},\n'
            f'          .string_to_sign =\n'
            f'              {cxx_multiline(signed["string_to_sign"], 14)},\n'
            f'          .added_headers = {cxx_pairs(signed["added"], 10)},\n'
            f'      }},\n')
    out.append('  };\n}\n')
    return ''.join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--write', metavar='PATH', help='write the vectors to PATH')
    group.add_argument('--check', metavar='PATH', help='fail if PATH differs from fresh vectors')
    args = parser.parse_args()
    text = render()
    if args.write:
        with open(args.write, 'w', encoding='utf-8', newline='\n') as f:
            f.write(text)
    elif args.check:
        with open(args.check, encoding='utf-8', newline='\n') as f:
            committed = f.read()
        if committed != text:
            sys.stdout.writelines(difflib.unified_diff(
                committed.splitlines(keepends=True), text.splitlines(keepends=True),
                args.check, 'botocore'))
            print(f'{args.check} is stale; regenerate with: python3 {sys.argv[0]} --write '
                  f'{args.check}', file=sys.stderr)
            return 1
        print(f'{args.check} matches botocore {botocore.__version__}')
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
