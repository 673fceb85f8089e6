#!/usr/bin/env python3
"""Turns the vendored crawler-user-agents list into C++ that footfall compiles in (stdlib only).

  crawler_patterns.py generate LIST_DIR OUTPUT.cc   run by CMake (src/core/CMakeLists.txt)
  crawler_patterns.py check LIST.json               run by scripts/refresh-crawler-list.sh

LIST_DIR is third_party/crawler-user-agents: crawler-user-agents.json and PROVENANCE (whose
`version` is compiled in and whose `json_sha256` must be the file's: the list is changed only by
the refresh script, never by hand).

Every pattern must be in the part of JavaScript's regular-expression syntax that RE2 reads the same
way (see PatternProblem); anything else stops the build with the pattern and the reason, so that a
new upstream pattern RE2 would reject or read differently cannot slip in. A pattern that needs it
gets a rewrite in REWRITES, with the reason. Each entry's `tags` give its drop reason (TAG_REASONS);
an entry without tags falls back to keywords of its pattern, URL and description (KEYWORD_REASONS).
"""
import hashlib
import json
import os
import re
import sys

# Tag of crawler-user-agents -> footfall's drop reason (the C++ BotCategory). When an entry has
# several tags, the first one in this order wins: the more specific reason. An unknown tag stops
# the build: map it here first.
TAG_REASONS = [
    ("browser-automation", "kHeadless"),
    ("social-preview", "kLinkPreview"),
    ("monitoring", "kMonitor"),
    ("feed-reader", "kFeedReader"),
    ("scanner", "kScanner"),
    ("search-engine", "kCrawler"),
    ("ai-crawler", "kCrawler"),
    ("seo", "kCrawler"),
    ("advertising", "kCrawler"),
    ("archiver", "kCrawler"),
    ("academic", "kCrawler"),
    # Plain libraries (curl, python-requests) but also crawlers built on one (Scrapy, crawler4j)
    # and services (Amazon CloudFront): footfall's own HTTP-library list tells them apart.
    ("http-library", "kListedLibrary"),
]

# For entries without tags (the field is optional upstream; every entry of 1.60.0 has it):
# case-insensitive keywords searched in pattern, url and description; first match wins, else
# kCrawler.
KEYWORD_REASONS = [
    (("headless", "phantomjs", "puppeteer", "playwright", "selenium"), "kHeadless"),
    (("preview", "unfurl", "embed"), "kLinkPreview"),
    (("monitor", "uptime", "status"), "kMonitor"),
    (("feed", "rss", "atom"), "kFeedReader"),
    (("scan", "security"), "kScanner"),
]

# pattern as published -> (pattern footfall compiles instead, why): for a pattern outside the
# syntax pattern_problem() accepts. None are needed for 1.60.0.
REWRITES = {}

_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ")
_CLASS_ESCAPES = set("dDwWsS")  # same meaning in JS (without the u flag) and RE2, ASCII \d and \w
_ATOM_ESCAPES = _CLASS_ESCAPES | set("bB")
_CONTROL_ESCAPES = set("tnrf")


class PatternProblem(Exception):
    """A construct that RE2 rejects or reads differently from JavaScript."""


def _escape(pattern, at, in_class):
    """Checks the escape starting at pattern[at] == '\\'; returns the index after it."""
    if at + 1 >= len(pattern):
        raise PatternProblem("ends with a lone backslash")
    c = pattern[at + 1]
    if c in _PUNCTUATION:
        return at + 2
    if c in _CONTROL_ESCAPES or c in (_CLASS_ESCAPES if in_class else _ATOM_ESCAPES):
        return at + 2
    if c == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", pattern[at + 2:at + 4]):
        return at + 4
    if c.isdigit():
        raise PatternProblem(f"\\{c}: a back-reference or octal escape (RE2 has neither)")
    if c == "b" and in_class:
        raise PatternProblem("[\\b] is a backspace in JavaScript, not supported by RE2")
    raise PatternProblem(f"\\{c}: an escape whose meaning differs between JavaScript and RE2")


def _quantifier(pattern, at):
    """Checks a {n}, {n,} or {n,m} at pattern[at] == '{'; returns the index after it."""
    match = re.compile(r"\{(\d+)(,(\d*))?\}").match(pattern, at)
    if not match:
        raise PatternProblem("a '{' that is not a quantifier (escape it as \\{)")
    low, high = int(match.group(1)), match.group(3)
    if low > 1000 or (high and int(high) > 1000):
        raise PatternProblem("a repetition count over 1000 (RE2's limit)")
    return match.end()


def pattern_problem(pattern):
    """Returns why `pattern` cannot be compiled as is, or None if it can.

    Accepted: literal characters; escaped punctuation; \\d \\D \\w \\W \\s \\S \\b \\B \\t \\n \\r
    \\f \\xHH; . ^ $ |; groups ( ) and (?: ); character classes with ranges and those escapes;
    * + ? {n} {n,} {n,m} and their lazy forms. Known difference, accepted: JavaScript's \\s also
    matches \\v and Unicode spaces (no-break space, U+2028...), RE2's only [\\t\\n\\f\\r ].
    """
    try:
        at, depth, atom = 0, 0, False  # atom: something a quantifier may follow
        while at < len(pattern):
            c = pattern[at]
            if c == "\\":
                at, atom = _escape(pattern, at, False), True
            elif c == "[":
                at, atom = _class(pattern, at), True
            elif c == "(":
                if pattern.startswith("(?", at):
                    if not pattern.startswith("(?:", at):
                        raise PatternProblem(f"{pattern[at:at + 4]!r}: lookaround or named group "
                                             "(RE2 has no lookaround)")
                    at += 3
                else:
                    at += 1
                depth, atom = depth + 1, False
            elif c == ")":
                if depth == 0:
                    raise PatternProblem("unbalanced ')'")
                depth, at, atom = depth - 1, at + 1, True
            elif c in "*+?{":
                if not atom:
                    raise PatternProblem(f"quantifier {c!r} with nothing to repeat")
                at = _quantifier(pattern, at) if c == "{" else at + 1
                if at < len(pattern) and pattern[at] == "?":
                    at += 1  # lazy
                atom = False
            elif c == "}" or c == "]":
                raise PatternProblem(f"a lone {c!r} (escape it)")
            else:
                at, atom = at + 1, c not in "|^$"
        if depth:
            raise PatternProblem("unbalanced '('")
    except PatternProblem as problem:
        return str(problem)
    return None


def _class(pattern, at):
    """Checks the character class starting at pattern[at] == '['; returns the index after it."""
    start = at + 1
    if pattern.startswith("^", start):
        start += 1
    if pattern.startswith("]", start):
        raise PatternProblem("an empty class or a class starting with ']' (read differently)")
    at = start
    while at < len(pattern):
        c = pattern[at]
        if c == "]":
            return at + 1
        if c == "\\":
            at = _escape(pattern, at, True)
        elif c == "[" and pattern.startswith(("[:", "[=", "[."), at):
            raise PatternProblem("'[:' inside a class: a POSIX class in RE2, literal in JavaScript")
        else:
            at += 1
    raise PatternProblem("unterminated character class")


def reason_of(entry):
    tags = entry.get("tags") or []
    known = dict(TAG_REASONS)
    for tag in tags:
        if tag not in known:
            raise ValueError(f"unknown tag {tag!r} (pattern {entry['pattern']!r}): map it in "
                             "TAG_REASONS of scripts/crawler_patterns.py")
    for tag, reason in TAG_REASONS:
        if tag in tags:
            return reason
    text = " ".join(str(entry.get(k, "")) for k in ("pattern", "url", "description")).lower()
    for keywords, reason in KEYWORD_REASONS:
        if any(k in text for k in keywords):
            return reason
    return "kCrawler"


def load_and_check(json_path):
    """Returns [(pattern to compile, reason)] in list order; exits with every problem found."""
    with open(json_path, encoding="utf-8") as f:
        entries = json.load(f)
    problems, out = [], []
    if not isinstance(entries, list) or not entries:
        sys.exit(f"{json_path}: not a non-empty JSON array")
    for n, entry in enumerate(entries):
        where = f"{json_path}: entry {n}"
        if not isinstance(entry, dict) or not isinstance(entry.get("pattern"), str) or \
                not isinstance(entry.get("instances"), list) or \
                not all(isinstance(i, str) for i in entry["instances"]) or \
                not isinstance(entry.get("tags", []), list):
            problems.append(f"{where}: needs a string 'pattern', a list of strings 'instances' "
                            "and optionally a list 'tags'")
            continue
        published = entry["pattern"]
        pattern = REWRITES[published][0] if published in REWRITES else published
        problem = pattern_problem(pattern)
        if problem:
            problems.append(f"{where}: pattern {published!r}: {problem}; add a rewrite that keeps "
                            "its meaning to REWRITES in scripts/crawler_patterns.py, with why")
            continue
        try:
            compiled = re.compile(pattern)  # Python's re reads this subset as JavaScript does
        except re.error as error:
            problems.append(f"{where}: pattern {published!r} does not compile: {error}")
            continue
        for instance in entry["instances"]:
            if not compiled.search(instance):
                problems.append(f"{where}: pattern {pattern!r} misses its instance {instance!r}")
        try:
            out.append((pattern, reason_of(entry)))
        except ValueError as error:
            problems.append(f"{where}: {error}")
    if problems:
        sys.exit("crawler_patterns.py: the list cannot be compiled in:\n  " + "\n  ".join(problems))
    return out


def read_provenance(path):
    fields = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#") and ":" in line:
                key, value = line.split(":", 1)
                fields[key.strip()] = value.strip()
    for key in ("version", "json_sha256"):
        if not fields.get(key):
            sys.exit(f"{path}: no '{key}:' line (rewrite it with scripts/refresh-crawler-list.sh)")
    return fields


def cpp_string(text):
    out = []
    for byte in text.encode("utf-8"):
        c = chr(byte)
        if c in "\\\"":
            out.append("\\" + c)
        elif 0x20 <= byte < 0x7f:
            out.append(c)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def generate(list_dir, output):
    json_path = os.path.join(list_dir, "crawler-user-agents.json")
    provenance = read_provenance(os.path.join(list_dir, "PROVENANCE"))
    with open(json_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != provenance["json_sha256"]:
        sys.exit(f"{json_path}: sha256 {digest} is not PROVENANCE's {provenance['json_sha256']}: "
                 "the vendored list was changed by hand; refresh it with "
                 "scripts/refresh-crawler-list.sh")
    patterns = load_and_check(json_path)
    lines = [
        "// Generated by scripts/crawler_patterns.py from third_party/crawler-user-agents",
        f"// (crawler-user-agents {provenance['version']}, JSON sha256 {digest}).",
        "// Do not edit: refresh the list with scripts/refresh-crawler-list.sh.",
        '#include "core/crawler_list.h"',
        "",
        "namespace footfall::core {",
        "namespace {",
        "",
        "constexpr BotPattern kPatterns[] = {",
    ]
    lines += [f"    {{{cpp_string(p)}, BotCategory::{reason}}}," for p, reason in patterns]
    lines += [
        "};",
        "",
        "}  // namespace",
        "",
        "std::span<const BotPattern> CrawlerListPatterns() { return kPatterns; }",
        "",
        f"std::string_view CrawlerListVersion() {{ return {cpp_string(provenance['version'])}; }}",
        "",
        "}  // namespace footfall::core",
        "",
    ]
    text = "\n".join(lines)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(output + ".tmp", output)


def main(argv):
    if len(argv) == 4 and argv[1] == "generate":
        generate(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "check":
        patterns = load_and_check(argv[2])
        print(f"crawler_patterns.py: {len(patterns)} patterns can be compiled in")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
