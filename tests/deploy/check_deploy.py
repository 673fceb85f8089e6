#!/usr/bin/env python3
"""Checks of deploy/prometheus, one CTest test per subcommand:

  prometheus-rules   promtool check rules alerts.yml; every alert has a severity label, summary,
                     description and runbook annotations, and its runbook anchor exists in
                     docs/operations.md
  prometheus-tests   promtool test rules alerts_test.yml; every alert has a case where it fires
                     and one where it must not

A missing promtool is a failure, never a skip (scripts/install-deps.sh installs it). Needs PyYAML (python3-yaml). Exit status 0 when everything passes.
"""

import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMETHEUS = os.path.join(ROOT, "deploy", "prometheus")
OPERATIONS = os.path.join(ROOT, "docs", "operations.md")


class CheckFailed(Exception):
    pass


def require_tool(name, package):
    path = shutil.which(name)
    if path is None:
        raise CheckFailed(f"{name} not found: install the Debian package {package} "
                          "(scripts/install-deps.sh)")
    return path


def run(argv, cwd=None):
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)
    output = (result.stdout + result.stderr).strip()
    print(f"$ {' '.join(argv)}  (exit {result.returncode})")
    if output:
        print(output)
    return result.returncode, output


def load_yaml(path):
    try:
        import yaml
    except ImportError as error:
        raise CheckFailed("PyYAML is not installed (Debian package python3-yaml)") from error
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def github_anchors(markdown_path):
    """The anchors GitHub gives the headings of a Markdown file."""
    anchors = set()
    with open(markdown_path, encoding="utf-8") as f:
        for line in f:
            match = re.match(r"^#{1,6}\s+(.*?)\s*$", line)
            if not match:
                continue
            slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
            anchors.add(slug)
    return anchors


def alert_rules():
    rules = []
    for group in load_yaml(os.path.join(PROMETHEUS, "alerts.yml"))["groups"]:
        rules.extend(rule for rule in group["rules"] if "alert" in rule)
    return rules


def check_prometheus_rules():
    promtool = require_tool("promtool", "prometheus")
    code, _ = run([promtool, "check", "rules", "alerts.yml"], cwd=PROMETHEUS)
    if code != 0:
        raise CheckFailed("promtool check rules failed")
    anchors = github_anchors(OPERATIONS)
    problems = []
    rules = alert_rules()
    for rule in rules:
        name = rule["alert"]
        if rule.get("labels", {}).get("severity") not in ("critical", "warning"):
            problems.append(f"{name}: severity label must be critical or warning")
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook"):
            if not annotations.get(key):
                problems.append(f"{name}: no {key} annotation")
        runbook = annotations.get("runbook", "")
        expected = f"docs/operations.md#alert-{name.lower()}"
        if runbook != expected:
            problems.append(f"{name}: runbook is {runbook!r}, expected {expected!r}")
        elif runbook.split("#", 1)[1] not in anchors:
            problems.append(f"{name}: docs/operations.md has no heading '### Alert: {name}'")
    if problems:
        raise CheckFailed("\n".join(problems))
    print(f"{len(rules)} alerts: labels, annotations and runbook anchors ok")


def check_prometheus_tests():
    promtool = require_tool("promtool", "prometheus")
    code, _ = run([promtool, "test", "rules", "alerts_test.yml"], cwd=PROMETHEUS)
    if code != 0:
        raise CheckFailed("promtool test rules failed")
    firing, quiet = set(), set()
    for test in load_yaml(os.path.join(PROMETHEUS, "alerts_test.yml"))["tests"]:
        for case in test.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    problems = []
    for rule in alert_rules():
        name = rule["alert"]
        if name not in firing:
            problems.append(f"{name}: no test case where it fires")
        if name not in quiet:
            problems.append(f"{name}: no test case where it stays quiet")
    if problems:
        raise CheckFailed("\n".join(problems))
    print(f"every alert has a firing and a quiet case ({len(firing)} alerts)")


def main(argv):
    commands = {
        "prometheus-rules": lambda args: check_prometheus_rules(),
        "prometheus-tests": lambda args: check_prometheus_tests(),
    }
    if len(argv) < 2 or argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        commands[argv[1]](argv[2:])
    except CheckFailed as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
