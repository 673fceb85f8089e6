#!/usr/bin/env python3
"""The privacy audit (ctest `privacy_audit`, label `privacy`): after the integration, Lambda and
browser tests, scan everything they left for the test clients' addresses in any form a reader
could use, and for salts older than 48 hours. Any hit fails, naming the file and the form; the
file's content is never printed. Python 3 stdlib only.

What is scanned: every file under FOOTFALL_TEST_ARTIFACTS (ctest: <build>/test-artifacts), which
the shared harnesses fill (tests/tools/artifacts.py): SQLite databases with their -wal/-shm,
PostgreSQL data directories with a pg_dumpall, moto's DynamoDB tables dumped as JSON lines,
footfall's captured stdout/stderr, exports. Files are read in chunks, as bytes.

What counts as a hit, for every address in CLIENT_ADDRESSES and GENERATED_ADDRESSES:
  - the text: dotted IPv4; IPv6 in any notation ipaddress parses (compressed, full, mixed,
    upper case), so the IPv4-mapped "::ffff:203.0.113.9" and "::ffff:cb00:7109" and the
    IPv4-compatible "::203.0.113.9" too;
  - the raw 16 bytes of the IPv4-mapped (and of any IPv6) address, anywhere;
  - the raw 4 bytes of an IPv4 address, and the address as a 32-bit integer, as a value of its
    own: a SQLite BLOB (up to 64 bytes) or INTEGER, a DynamoDB B or N value, a PostgreSQL bytea
    in the dump. (4 bytes anywhere in a binary file would match by chance: about one false hit
    per 2^32 / 1800 addresses ~ 2.4 MB of random data.)
  - sha256 of the address (the seed's unsalted visitor id) of its dotted text, its mapped text,
    its 4 and its 16 raw bytes: as hex (either case, any 16 or more leading hex digits, so
    truncated ids too) and as raw bytes (its first 16 bytes, so a 128-bit truncation too).
Salts: every `daily_salts` table of every SQLite file (read from a copy of the database with its
WAL, and of the database file alone, which holds what was last checkpointed), every `salt#<day>`
item of the DynamoDB dumps and the daily_salts rows of each pg_dumpall. A salt is too old when
its day (days since the epoch, UTC) is before yesterday, real clock, or more than one day before
the newest salt of the same store. A test whose footfall ran with a faked clock (libfaketime;
the harness leaves CLOCK-FAKED.txt in its directory) is checked against its own newest salt
only. An old salt is a hit where it is stored, and its bytes (raw, hex) are searched for in
every file. A salt of any day found in a log is a hit as well. A DynamoDB salt item whose TTL has
passed still counts (the hit says so): moto never deletes expired items, and DynamoDB may take
days to.

Loopback: every harness client connects from 127.0.0.1 (::1 when the server listens on IPv6),
and 127.0.0.1 is also what the servers listen on, what the logs name as a listen address or an
engine's host, and the browser test's page origin (so the `site` of its visits). Giving the
clients another source address is not easy (127.0.0.1 is a trusted proxy in the tests, and
Chromium cannot be told), so for LOOPBACK_ADDRESSES the hashed forms and the IPv4-mapped forms
are checked everywhere, but the plain text and the raw 4 bytes only in stores and exports, never
in logs or PostgreSQL's own files (its configuration names its listen address): value by value
in SQLite databases and DynamoDB dumps, except in `site` and `referrer` (a page's host); as text
in other store and export files. Either way not where it is host:port, [::1], //host or
user@host (an endpoint).

The address list: CLIENT_ADDRESSES and GENERATED_ADDRESSES below are the only source. A test
that forges a new client address (X-Forwarded-For, Forwarded, sourceIp, a source_address) must
add it there; check_address_list() greps tests/ for IPv4/IPv6 literals near those words and fails
the audit (and its self-test) if one is missing, so the list cannot go stale.

Usage: privacy_audit.py [--artifacts DIR] [--self-check-only]
  The audit fails if the directory is missing or empty, or lacks one of the groups integration,
  lambda and browser (test directories named <group>_*), or a group has no database (a SQLite
  file or a DynamoDB dump: the harness did not keep what footfall stored). For
  debugging, FOOTFALL_PRIVACY_AUDIT_PARTIAL=1 turns missing groups into warnings (an empty
  directory still fails).
"""

import argparse
import base64
import collections
import hashlib
import ipaddress
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.parse

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))

# -------------------------------------------------------------------------------------------
# The client addresses the tests use. A test that sends a new one must add it here.

CLIENT_ADDRESSES = [
    "203.0.113.9",    # the Lambda events' sourceIp and X-Forwarded-For; test_http_api PrivacyTest
    "203.0.113.50",   # test_http_api TrustedProxyTest (X-Forwarded-For, left of the proxy chain)
    "198.51.100.7",   # test_http_api TrustedProxyTest A
    "198.51.100.8",   # test_http_api TrustedProxyTest B
    "198.51.100.23",  # events/apigw_rest_v1_get_count.json X-Forwarded-For (the CloudFront hop)
    "198.51.100.77",  # events/apigw_http_v2_get_api_count.json sourceIp
    "192.0.2.1",      # test_lambda_stream.py: planted in a poison stream record's visitor
]

# Addresses the tests generate from a template; the key is the template with each generated octet
# as "*" (how check_address_list() sees f"198.51.100.{i}" or "198.51.100.%d").
GENERATED_ADDRESSES = {
    # test_rate_limit.py (198.51.100.0-7), test_lambda_stream.py (198.51.100.1-24): the whole /24.
    "198.51.100.*": [f"198.51.100.{i}" for i in range(256)],
    # test_rate_limit.py: a flood of 1500 forwarded addresses.
    "10.*.*.*": [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(1500)],
}

# Where the harness clients connect from (see the module docstring for how they are checked).
LOOPBACK_ADDRESSES = ["127.0.0.1", "::1"]

# Named near a client address in tests/ but not a client's: check_address_list() accepts them and
# the audit does not look for them.
NOT_CLIENT_ADDRESSES = [
    "127.0.0.2",  # test_http_api.py: the listen address of PrivacyTest and TrustedProxyTest
]

EXPECTED_GROUPS = ("integration", "lambda", "browser")
ENV_PARTIAL = "FOOTFALL_PRIVACY_AUDIT_PARTIAL"
CHUNK_BYTES = 8 * 1024 * 1024
OVERLAP_BYTES = 256   # longer than any token or needle, so one straddling two chunks is seen whole
BLOB_WINDOW_MAX = 64  # structured values up to this size are searched for raw 4-byte addresses
HOST_COLUMNS = ("site", "referrer")  # a page's host: 127.0.0.1 in the browser test, not a client
DAY_S = 86400

SQLITE_MAGIC = b"SQLite format 3\x00"
MAPPED_PREFIX = b"\0" * 10 + b"\xff\xff"


# -------------------------------------------------------------------------------------------
# What to look for

class Needles:
    """Every form of every address (and, once known, salts) the scan looks for."""

    def __init__(self, addresses, loopback):
        self.v4_text = {}        # dotted text -> address (not loopback)
        self.loopback_text = {}  # "127.0.0.1" / "::1"-style canonical text -> address
        self.v6_packed = {}      # 16 bytes -> (address, form), as parsed from IPv6 text
        self.loopback_v6 = {}    # 16 bytes -> (address, form) for loopback text forms
        self.hex16 = {}          # 16 leading lowercase hex digits -> description (everywhere)
        self.hex16_logs = {}     # ... only a hit in logs (salts in use)
        self.bin16 = {}          # 16 random raw bytes (digests, salts) -> description (everywhere)
        self.bin16_logs = {}     # ... only a hit in logs
        self.mapped_raw = {}     # 4 bytes -> description, found as ::ffff:a.b.c.d's 16 raw bytes
        self.v6_raw = {}         # 16 raw bytes of an IPv6 client address -> description
        self.raw4 = {}           # 4 raw bytes -> description (structured values only)
        self.ints = {}           # 32-bit integer -> description (structured values only)
        for address in addresses:
            self._add_address(address, loopback=False)
        for address in loopback:
            self._add_address(address, loopback=True)

    def _add_address(self, address, loopback):
        ip = ipaddress.ip_address(address)
        forms = []  # (text or bytes hashed, description)
        if ip.version == 4:
            mapped = ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + ip.packed)
            compat = ipaddress.IPv6Address(b"\0" * 12 + ip.packed)
            if loopback:
                self.loopback_text[str(ip)] = address
            else:
                self.v4_text[str(ip)] = address
                self.raw4[ip.packed] = f"{address} as 4 raw bytes"
                self.ints[int(ip)] = f"{address} as a 32-bit integer"
                self.v6_packed[compat.packed] = (address, "IPv4-compatible IPv6 text")
            if loopback:
                self.raw4[ip.packed] = f"{address} (loopback) as 4 raw bytes"
            self.v6_packed[mapped.packed] = (address, "IPv4-mapped IPv6 text")
            self.mapped_raw[ip.packed] = f"{address} as IPv4-mapped IPv6, 16 raw bytes"
            forms += [(str(ip).encode(), "text"), (f"::ffff:{ip}".encode(), "mapped text"),
                      (ip.packed, "4 bytes"), (mapped.packed, "mapped 16 bytes")]
        else:
            if loopback:
                self.loopback_text[str(ip)] = address
                self.loopback_v6[ip.packed] = (address, "IPv6 text")
            else:
                self.v6_packed[ip.packed] = (address, "IPv6 text")
                self.v6_raw[ip.packed] = f"{address} as 16 raw bytes"
            forms += [(str(ip).encode(), "text"), (ip.exploded.encode(), "full text"),
                      (ip.packed, "16 bytes")]
        for data, form in forms:
            digest = hashlib.sha256(data).digest()
            what = f"sha256({address} {form})"
            self.hex16[digest.hex()[:16]] = what + " as hex"
            self.bin16[digest[:16]] = what + " as raw bytes"

    def add_salt(self, salt, what, everywhere):
        """A salt's raw bytes and hex: a hit in every file (`everywhere`) or in logs only."""
        if len(salt) < 16:
            return
        hex16, bin16 = (self.hex16, self.bin16) if everywhere else (self.hex16_logs,
                                                                    self.bin16_logs)
        hex16.setdefault(salt.hex()[:16], what + " as hex")
        bin16.setdefault(salt[:16], what + " as raw bytes")


def all_client_addresses():
    out = list(CLIENT_ADDRESSES)
    for generated in GENERATED_ADDRESSES.values():
        out += generated
    return list(dict.fromkeys(out))


# -------------------------------------------------------------------------------------------
# The list cannot go stale: literals near the words that carry a client address in tests/

CONTEXT_RE = re.compile(r"x-forwarded-for|\bforwarded\b|forwarded_ip|sourceip|source_address|"
                        r"client_ip|x-real-ip|remote_addr", re.I)
CONTEXT_LINES = 8
OCTET = r"(?:\d{1,3}|\{[^{}\n]{1,40}\}|\$\{[^{}\n]{1,40}\}|%d|%s|%i)"
V4_LITERAL_RE = re.compile(r"(?<![\w.])(" + OCTET + r"(?:\." + OCTET + r"){3})(?!\w|\.\w)(.?)")
V6_LITERAL_RE = re.compile(r"(?<![\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w:])")
SELF_CHECK_SUFFIXES = (".py", ".mjs", ".js", ".json", ".sh", ".cc", ".h")
SELF_CHECK_SKIP = ("privacy_audit.py", "test_privacy_audit_selftest.py")


def _templated(literal):
    """'198.51.100.{i}' -> '198.51.100.*'; a plain literal is returned as it is."""
    return ".".join(part if part.isdigit() else "*" for part in literal.split("."))


def check_address_list(tests_dir=HERE):
    """Literals near a client-address word in tests/ that are in none of the lists: a list of
    'file:line: literal' strings (empty when the lists are complete)."""
    known = set(all_client_addresses()) | set(LOOPBACK_ADDRESSES) | set(NOT_CLIENT_ADDRESSES)
    known_v6 = {ipaddress.ip_address(a).packed for a in known if ":" in a}
    missing = []
    for parent, dirs, files in os.walk(tests_dir):
        dirs[:] = sorted(d for d in dirs if d not in ("node_modules", "__pycache__", ".git"))
        for name in sorted(files):
            if not name.endswith(SELF_CHECK_SUFFIXES) or name in SELF_CHECK_SKIP:
                continue
            path = os.path.join(parent, name)
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    lines = f.read().split("\n")
            except OSError:
                continue
            near = set()
            for number, line in enumerate(lines):
                if CONTEXT_RE.search(line):
                    near.update(range(max(0, number - CONTEXT_LINES),
                                      min(len(lines), number + CONTEXT_LINES + 1)))
            for number in sorted(near):
                where = f"{os.path.relpath(path, os.path.dirname(tests_dir))}:{number + 1}"
                for literal in _v4_literals(lines[number]):
                    if literal not in known and literal not in GENERATED_ADDRESSES:
                        missing.append(f"{where}: {literal}")
                for literal in V6_LITERAL_RE.findall(lines[number]):
                    try:
                        ip = ipaddress.IPv6Address(literal)
                    except ValueError:
                        continue
                    if not ip.is_unspecified and ip.packed not in known_v6:
                        missing.append(f"{where}: {literal}")
    return missing


def _v4_literals(line):
    for match in V4_LITERAL_RE.finditer(line):
        literal, after = match.group(1), match.group(2)
        if after == "/":
            continue  # a CIDR block (--trusted-proxies), not an address
        if literal.startswith("127.") and after == ":":
            continue  # a loopback listen address with its port
        if any(p.isdigit() and int(p) > 255 for p in literal.split(".")):
            continue  # a version number
        yield _templated(literal)


# -------------------------------------------------------------------------------------------
# Files

class Hits:
    """Hits per file: {path: Counter(description)}."""

    def __init__(self):
        self.by_file = collections.defaultdict(collections.Counter)

    def add(self, path, what):
        self.by_file[path][what] += 1

    def __bool__(self):
        return bool(self.by_file)


def classify(root, path):
    """'note' (the harness's), 'log', 'pg' (PostgreSQL's own files), 'database' (a SQLite file
    with its -wal, -shm, -journal; a DynamoDB dump: loopback is checked value by value) or
    'store' (other stores and exports: pg_dumpall.sql, export files)."""
    rel = os.path.relpath(path, root).split(os.sep)
    name = rel[-1]
    if name.startswith("NOTE-") or name == "CLOCK-FAKED.txt":
        return "note"
    if name.endswith(".log") or name.startswith(("stdout", "stderr")):
        return "log"
    if any(part.startswith("postgres-") for part in rel[:-1]) and name != "pg_dumpall.sql":
        return "pg"
    if name.endswith(".dynamodb.jsonl") or is_sqlite(path) or any(
            path.endswith(suffix) and is_sqlite(path[:-len(suffix)])
            for suffix in ("-wal", "-shm", "-journal")):
        return "database"
    return "store"


def walk_files(root):
    for parent, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(parent, name)
            if os.path.isfile(path) and not os.path.islink(path):
                yield path


def read_chunks(path):
    """(offset of the chunk, bytes, is_first) for overlapping chunks of the file."""
    with open(path, "rb") as f:
        offset = 0
        tail = b""
        first = True
        while True:
            data = f.read(CHUNK_BYTES)
            if not data:
                if first:
                    return
                break
            chunk = tail + data
            yield offset - len(tail), chunk, first
            first = False
            offset += len(data)
            tail = chunk[-OVERLAP_BYTES:]


# Addresses are found from their middle (fast: the regular expressions start with a literal),
# then widened. In logs (text) an address has text around it; in stores and binary files a value
# may touch the next one ("v0" + "203.0.113.9" + "17330..." in a SQLite record), so there every
# shorter first and last octet is tried as well.
V4_MIDDLE_RE = re.compile(rb"\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]")
V6_MIDDLE_RE = re.compile(rb":[0-9A-Fa-f]{0,4}:")
DIGITS = frozenset(b"0123456789")
V6_CHARS = frozenset(b"0123456789abcdefABCDEF:.")
HEX_RUN_RE = re.compile(rb"[0-9A-Fa-f]{16,}")


class Scanner:
    def __init__(self, needles, hits):
        self.needles = needles
        self.hits = hits
        self._bin_index = None

    def _index(self):
        """For the random 16-byte needles (digests, salts): their 8-byte pieces at offsets 0..8,
        so that a scan looking at every 9th position only still meets each needle (a 16-byte
        needle always holds one whole sampled 8-byte piece). {piece: {offset: {needle: (what,
        scope)}}}: a piece that occurs often costs at most 9 lookups, whatever the needles."""
        if self._bin_index is None:
            index = {}
            for table, scope in ((self.needles.bin16, "all"), (self.needles.bin16_logs, "log")):
                for needle, what in table.items():
                    for offset in range(9):
                        by_offset = index.setdefault(needle[offset:offset + 8], {})
                        by_offset.setdefault(offset, {}).setdefault(needle, (what, scope))
            self._bin_index = index
        return self._bin_index

    def scan_file(self, path, kind):
        for _, chunk, first in read_chunks(path):
            self._text_v4(path, kind, chunk, first)
            self._text_v6(path, kind, chunk, first)
            self._hex(path, kind, chunk)
            self._binary(path, kind, chunk)

    def _text_v4(self, path, kind, chunk, first):
        anywhere = kind != "log"
        search = V4_MIDDLE_RE.search
        match = search(chunk)
        while match:
            dot, mid_end = match.start(), match.end() - 1
            left = dot
            while left > 0 and dot - left < 4 and chunk[left - 1] in DIGITS:
                left -= 1
            right = mid_end
            while right < len(chunk) and right - mid_end < 4 and chunk[right] in DIGITS:
                right += 1
            match = search(chunk, dot + 1)
            if left == 0 and not first:
                continue  # its context is in the previous chunk, where it was seen whole
            head, middle, tail = chunk[left:dot], chunk[dot:mid_end], chunk[mid_end:right]
            if anywhere:
                firsts = [head[i:] for i in range(max(0, len(head) - 3), len(head))]
                lasts = [tail[:j] for j in range(1, min(3, len(tail)) + 1)]
            else:
                clean = (0 < len(head) <= 3 and 0 < len(tail) <= 3
                         and (left == 0 or chunk[left - 1] not in DIGITS | {ord(".")})
                         and (right == len(chunk) or chunk[right] not in DIGITS))
                firsts, lasts = ([head], [tail]) if clean else ([], [])
            for first_octet in firsts:
                start = dot - len(first_octet)
                before = chunk[max(0, start - 7):start].lower()
                for last_octet in lasts:
                    text = (first_octet + middle + last_octet).decode()
                    end = mid_end + len(last_octet)
                    if text in self.needles.v4_text:
                        form = ("IPv4-mapped IPv6 text" if before.endswith(b"ffff:")
                                else "IPv4 text")
                        self.hits.add(path, f"{text} as {form}")
                    elif text in self.needles.loopback_text and kind == "store":
                        if (re.match(rb":[0-9]", chunk[end:end + 2])
                                or before.endswith((b"//", b"@"))):
                            continue  # host:port, a URL or user@host: an endpoint, not a client
                        self.hits.add(path, f"{text} (loopback client) as text")

    def _text_v6(self, path, kind, chunk, first):
        anywhere = kind != "log"
        search = V6_MIDDLE_RE.search
        match = search(chunk)
        while match:
            left = match.start()
            while left > 0 and match.start() - left < 40 and chunk[left - 1] in V6_CHARS:
                left -= 1
            right = match.end()
            while right < len(chunk) and right - match.end() < 45 and chunk[right] in V6_CHARS:
                right += 1
            match = search(chunk, max(right - 1, match.start() + 1))
            if left == 0 and not first:
                continue
            token = chunk[left:right].decode("ascii")
            for candidate in self._v6_candidates(token, anywhere):
                try:
                    ip = ipaddress.IPv6Address(candidate)
                except ValueError:
                    continue
                if ip.packed in self.needles.v6_packed:
                    address, form = self.needles.v6_packed[ip.packed]
                    self.hits.add(path, f"{address} as {form} ({candidate})")
                elif ip.packed in self.needles.loopback_v6 and kind == "store":
                    before = chunk[max(0, left - 1):left]
                    after = chunk[right:right + 1]
                    if before != b"[" and after != b"]" and candidate == token:
                        address, form = self.needles.loopback_v6[ip.packed]
                        self.hits.add(path, f"{address} (loopback client) as {form}")
                break

    @staticmethod
    def _v6_candidates(token, anywhere):
        """The token, without stray colons or dots, without a :port; in stores and binary files
        also without up to 4 characters of a neighbouring value at either end."""
        yield token
        yield token.strip(":.")
        yield token.rsplit(":", 1)[0]
        if anywhere:
            for cut_start in range(0, min(4, token.find(":")) + 1):
                for cut_end in range(0, 5):
                    yield token[cut_start:len(token) - cut_end]

    def _hex(self, path, kind, chunk):
        for match in HEX_RUN_RE.finditer(chunk):
            run = match.group()
            lower = run.lower().decode("ascii")
            for i in range(len(lower) - 15):
                key = lower[i:i + 16]
                what = self.needles.hex16.get(key)
                if what is None and kind == "log":
                    what = self.needles.hex16_logs.get(key)
                    what = what and what + " in a log"
                if what is not None:
                    case = " (upper case)" if run[i:i + 16].decode() != key else ""
                    self.hits.add(path, what + case)

    def _binary(self, path, kind, chunk):
        index = self._index()
        get = index.get
        for i in range(0, len(chunk) - 7, 9):
            by_offset = get(chunk[i:i + 8])
            if by_offset is None:
                continue
            for offset, needles in by_offset.items():
                found = needles.get(chunk[i - offset:i - offset + 16]) if i >= offset else None
                if found is not None and (found[1] == "all" or kind == "log"):
                    self.hits.add(path, found[0] if found[1] == "all" else found[0] + " in a log")
        # IPv4-mapped addresses share their first 12 bytes: found by those, then looked up.
        start = chunk.find(MAPPED_PREFIX)
        while start >= 0:
            what = self.needles.mapped_raw.get(chunk[start + 12:start + 16])
            if what is not None:
                self.hits.add(path, what)
            start = chunk.find(MAPPED_PREFIX, start + 1)
        for needle, what in self.needles.v6_raw.items():
            if needle in chunk:
                self.hits.add(path, what)

    # -- structured values
    def check_value(self, path, where, value, column=None):
        """A SQLite / DynamoDB / bytea value: raw 4-byte addresses, addresses as integers, and a
        loopback address in text (except in a site or referrer column: a page's host)."""
        if isinstance(value, str):
            if column not in HOST_COLUMNS:
                for address in loopback_in_text(value, self.needles.loopback_text):
                    self.hits.add(path, f"{address} (loopback client) as text in {where}")
        elif isinstance(value, int) and not isinstance(value, bool):
            what = self.needles.ints.get(value)
            if what:
                self.hits.add(path, f"{what} in {where}")
        elif isinstance(value, (bytes, bytearray)) and len(value) <= BLOB_WINDOW_MAX:
            for i in range(len(value) - 3):
                what = self.needles.raw4.get(bytes(value[i:i + 4]))
                if what:
                    self.hits.add(path, f"{what} in {where}")


# -------------------------------------------------------------------------------------------
# Salts and structured stores

def sqlite_rows(db_copy):
    """{table: (column names, [row tuples])} of a SQLite database (opened read-only)."""
    uri = "file:" + urllib.parse.quote(db_copy) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        out = {}
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            out[table] = ([d[0] for d in cursor.description], cursor.fetchall())
        return out
    finally:
        conn.close()


def loopback_in_text(text, loopback):
    """The loopback addresses in `text` that stand alone: not host:port, [::1], //host or
    user@host (an endpoint or a listen address, not a client)."""
    found = []
    for address in loopback:
        start = text.find(address)
        while start >= 0:
            end = start + len(address)
            before, after = text[max(0, start - 2):start], text[end:end + 2]
            v6 = ":" in address
            if not (before.endswith(("/", "@", "[")) or after.startswith("]")
                    or re.match(r":\d", after)
                    or (before[-1:].isalnum() or before.endswith(".")) and not v6
                    or re.match(r"[0-9A-Fa-f:]", before[-1:]) and v6
                    or re.match(r"\d|\.\d", after) and not v6
                    or re.match(r"[0-9A-Fa-f]", after[:1]) and v6):
                found.append(address)
            start = text.find(address, start + 1)
    return found


def read_sqlite(path, with_wal):
    """Rows of the database at `path`, from a copy in a temp dir (with its -wal if `with_wal`,
    else the main file alone), so the artifacts are never changed."""
    with tempfile.TemporaryDirectory(prefix="privacy-audit-") as tmp:
        copy = os.path.join(tmp, "db")
        shutil.copyfile(path, copy)
        if with_wal and os.path.exists(path + "-wal"):
            shutil.copyfile(path + "-wal", copy + "-wal")
        return sqlite_rows(copy)


class Store:
    """The salts found in one store (a SQLite database, a DynamoDB table dump, a PostgreSQL
    database in a dump): [(day, salt bytes, where)]."""

    def __init__(self, path):
        self.path = path
        self.salts = []


def is_sqlite(path):
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def inspect_sqlite(path, scanner, warnings):
    store = Store(path)
    for with_wal, label in ((True, "with its WAL"), (False, "file alone")):
        try:
            tables = read_sqlite(path, with_wal)
        except (sqlite3.Error, OSError) as error:
            warnings.append(f"{path}: cannot read as SQLite ({label}): {error}")
            continue
        for table, (columns, rows) in tables.items():
            for row in rows:
                for column, value in zip(columns, row):
                    scanner.check_value(path, f"table {table} column {column} ({label})", value,
                                        column)
            if table == "daily_salts":
                for row in rows:
                    if len(row) >= 2 and isinstance(row[0], int) and isinstance(row[1], bytes):
                        store.salts.append((row[0], row[1], f"daily_salts ({label})"))
    return store


def _dynamodb_values(attribute, typed):
    """(attribute, python value) for each S (str), B (bytes) and N (int) inside a DynamoDB JSON
    attribute value, maps and lists included."""
    if not isinstance(typed, dict):
        return
    for kind, inner in typed.items():
        if kind == "S" and isinstance(inner, str):
            yield attribute, inner
        elif kind == "B" and isinstance(inner, str):
            try:
                yield attribute, base64.b64decode(inner, validate=True)
            except ValueError:
                pass
        elif kind == "N" and isinstance(inner, str) and re.fullmatch(r"-?\d+", inner):
            yield attribute, int(inner)
        elif kind in ("SS", "BS", "NS", "L") and isinstance(inner, list):
            for item in inner:
                yield from _dynamodb_values(attribute, item if kind == "L" else {kind[0]: item})
        elif kind == "M" and isinstance(inner, dict):
            for name, item in inner.items():
                yield from _dynamodb_values(f"{attribute}.{name}", item)


def inspect_dynamodb_dump(path, scanner, warnings):
    store = Store(path)
    dumped_at = os.path.getmtime(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            try:
                record = json.loads(line)
                item = record["item"]
            except (ValueError, KeyError, TypeError):
                warnings.append(f"{path}:{number}: not a dump line")
                continue
            if not isinstance(item, dict):
                continue
            for name, typed in item.items():
                for attribute, value in _dynamodb_values(name, typed):
                    scanner.check_value(path, f"table {record.get('table')} attribute "
                                              f"{attribute}", value, attribute)
            key = item.get("visit_id", {}).get("S", "") if isinstance(
                item.get("visit_id"), dict) else ""
            salt = item.get("salt", {}).get("B") if isinstance(item.get("salt"), dict) else None
            if key.startswith("salt#") and key[5:].isdigit() and isinstance(salt, str):
                where = f"item {key} of {record.get('table')}"
                expires = item.get("expiration_time", {}).get("N", "") if isinstance(
                    item.get("expiration_time"), dict) else ""
                if expires.isdigit() and int(expires) < dumped_at:
                    where += (f" (its TTL passed {day_text(int(expires) // DAY_S)}: DynamoDB "
                              "deletes expired items eventually, moto never does)")
                try:
                    store.salts.append((int(key[5:]), base64.b64decode(salt), where))
                except ValueError:
                    pass
    return store


PG_COPY_RE = re.compile(rb"^COPY (\S+) \(([^)]*)\) FROM stdin;\n(.*?)^\\\.$", re.M | re.S)
PG_BYTEA_RE = re.compile(rb"\\\\x([0-9a-f]{2,128})(?![0-9a-f])")


def inspect_pg_dump(path, scanner):
    """Salts of every daily_salts table in a pg_dumpall, and each bytea value's raw bytes."""
    stores = {}
    with open(path, "rb") as f:
        data = f.read()
    database = "?"
    for match in re.finditer(rb"^\\connect (?:-reuse-previous=on )?\"?([^\"\n]+)\"?$|" +
                             PG_COPY_RE.pattern, data, re.M | re.S):
        if match.group(0).startswith(b"\\connect"):
            database = match.group(1).decode(errors="replace")
            continue
        table, columns, body = match.group(2), match.group(3), match.group(4)
        for token in PG_BYTEA_RE.findall(body):
            if len(token) % 2 == 0:
                scanner.check_value(path, f"database {database} table {table.decode()}",
                                    bytes.fromhex(token.decode()))
        if table.split(b".")[-1] != b"daily_salts":
            continue
        names = [c.strip().strip(b'"') for c in columns.split(b",")]
        if b"day" not in names or b"salt" not in names:
            continue
        store = stores.setdefault(database, Store(path))
        for line in body.split(b"\n"):
            fields = line.split(b"\t")
            if len(fields) != len(names):
                continue
            row = dict(zip(names, fields))
            salt = row[b"salt"]
            if row[b"day"].isdigit() and salt.startswith(b"\\\\x"):
                store.salts.append((int(row[b"day"]), bytes.fromhex(salt[3:].decode()),
                                    f"database {database} daily_salts"))
    return list(stores.values())


def day_text(day):
    return time.strftime("%Y-%m-%d", time.gmtime(day * DAY_S))


def old_salts(store, today, faked_clock):
    """(day, salt, where, why) of each salt of `store` older than 48 hours."""
    if not store.salts:
        return []
    newest = max(day for day, _, _ in store.salts)
    out = []
    for day, salt, where in store.salts:
        if day < newest - 1:
            out.append((day, salt, where, f"more than a day before the store's newest salt "
                                          f"({day_text(newest)})"))
        elif not faked_clock and day < today - 1:
            out.append((day, salt, where, f"before yesterday ({day_text(today - 1)}, real clock)"))
    return out


# -------------------------------------------------------------------------------------------
# The audit

def test_dir_of(root, path):
    return os.path.relpath(path, root).split(os.sep)[0]


def audit(root, partial=False, today=None, out=sys.stdout):
    """Scans `root`; returns the number of failures (hits and missing parts), printing a report."""
    today = int(time.time() // DAY_S) if today is None else today
    failures = []
    warnings = []
    if not os.path.isdir(root):
        print(f"FAIL: the artifacts directory {root} does not exist: run the integration, "
              "lambda and browser tests first (make test does)", file=out)
        return 1
    files = list(walk_files(root))
    if not files:
        print(f"FAIL: the artifacts directory {root} is empty", file=out)
        return 1

    kinds = {path: classify(root, path) for path in files}
    groups = collections.defaultdict(lambda: collections.Counter())
    for path, kind in kinds.items():
        group = test_dir_of(root, path).split("_", 1)[0]
        groups[group][kind] += 1
        if kind == "database" and (is_sqlite(path) or path.endswith(".dynamodb.jsonl")):
            groups[group]["databases read"] += 1
    for group in EXPECTED_GROUPS:
        if group not in groups:
            (warnings if partial else failures).append(
                f"no artifacts from any {group} test ({group}_* directory)")
        elif not groups[group]["databases read"]:
            (warnings if partial else failures).append(
                f"the {group} tests left no database (SQLite file or DynamoDB dump): "
                "is the harness keeping them?")

    needles = Needles(all_client_addresses(), LOOPBACK_ADDRESSES)
    hits = Hits()
    scanner = Scanner(needles, hits)

    # Structured pass: values, and the salts of every store.
    stores = []
    for path, kind in kinds.items():
        if kind == "note":
            continue
        try:
            if is_sqlite(path):
                stores.append(inspect_sqlite(path, scanner, warnings))
            elif path.endswith(".dynamodb.jsonl"):
                stores.append(inspect_dynamodb_dump(path, scanner, warnings))
            elif os.path.basename(path) == "pg_dumpall.sql":
                stores.extend(inspect_pg_dump(path, scanner))
        except OSError as error:
            failures.append(f"{os.path.relpath(path, root)}: cannot read: {error}")
    faked = {d for d in os.listdir(root)
             if os.path.exists(os.path.join(root, d, "CLOCK-FAKED.txt"))}
    salts_seen = 0
    for store in stores:
        salts_seen += len(store.salts)
        faked_clock = test_dir_of(root, store.path) in faked
        for day, salt, where, why in old_salts(store, today, faked_clock):
            what = f"salt of day {day} ({day_text(day)})"
            hits.add(store.path, f"{what} in {where}: {why}")
            needles.add_salt(salt, f"{what}, older than 48 h,", everywhere=True)
        for day, salt, _ in store.salts:
            needles.add_salt(salt, f"salt of day {day} ({day_text(day)})", everywhere=False)

    # Byte pass over every file.
    scanned = 0
    for path, kind in kinds.items():
        if kind == "note":
            with open(path, errors="replace") as f:
                if os.path.basename(path).startswith("NOTE-"):
                    warnings.append(f"{os.path.relpath(path, root)}: {f.read().strip()}")
            continue
        try:
            scanner.scan_file(path, kind)
            scanned += os.path.getsize(path)
        except OSError as error:
            failures.append(f"{os.path.relpath(path, root)}: cannot read: {error}")

    print(f"privacy audit of {root}: {len(files)} files, {scanned / 1e6:.1f} MB, "
          f"{len(stores)} stores holding {salts_seen} salts, "
          f"{len(needles.v4_text) + len(needles.loopback_text)} addresses", file=out)
    for group in sorted(groups):
        labels = {"database": "database files", "databases read": "databases read",
                  "log": "logs", "note": "notes", "pg": "PostgreSQL files",
                  "store": "other store and export files"}
        counts = ", ".join(f"{n} {labels[k]}" for k, n in sorted(groups[group].items()))
        print(f"  {group}: {counts}", file=out)
    if faked:
        print(f"  faked clock (salts checked against their own store only): "
              f"{', '.join(sorted(faked))}", file=out)
    for warning in warnings:
        print(f"WARNING: {warning}", file=out)
    for path in sorted(hits.by_file):
        for what, count in sorted(hits.by_file[path].items()):
            times = f" ({count} times)" if count > 1 else ""
            print(f"HIT: {os.path.relpath(path, root)}: {what}{times}", file=out)
    for failure in failures:
        print(f"FAIL: {failure}", file=out)
    total = len(hits.by_file) + len(failures)
    print("privacy audit: " + ("FAILED" if total else "passed") +
          f" ({len(hits.by_file)} files with hits, {len(failures)} other failures)", file=out)
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", default=os.environ.get("FOOTFALL_TEST_ARTIFACTS"),
                        help="the artifacts directory (default: $FOOTFALL_TEST_ARTIFACTS)")
    parser.add_argument("--self-check-only", action="store_true",
                        help="only check that the address list covers tests/")
    args = parser.parse_args(argv)
    missing = check_address_list()
    for entry in missing:
        print(f"FAIL: address list stale: {entry} is not in CLIENT_ADDRESSES, "
              "GENERATED_ADDRESSES or LOOPBACK_ADDRESSES of tests/privacy_audit.py")
    if args.self_check_only:
        print(f"address list: {'stale' if missing else 'complete'}")
        return 1 if missing else 0
    if not args.artifacts:
        print("FAIL: no artifacts directory: set FOOTFALL_TEST_ARTIFACTS or pass --artifacts")
        return 1
    partial = os.environ.get(ENV_PARTIAL) == "1"
    failures = audit(os.path.abspath(args.artifacts), partial=partial)
    return 1 if failures or missing else 0


if __name__ == "__main__":
    sys.exit(main())
