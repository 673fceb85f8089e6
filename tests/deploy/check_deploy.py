#!/usr/bin/env python3
"""Checks of deploy/prometheus and deploy/systemd, one CTest test per subcommand:

  prometheus-rules   promtool check rules alerts.yml; every alert has a severity label, summary,
                     description and runbook annotations, and its runbook anchor exists in
                     docs/operations.md
  prometheus-tests   promtool test rules alerts_test.yml; every alert has a case where it fires
                     and one where it must not
  systemd-unit FOOTFALL_BIN
                     systemd-analyze verify footfall.service (with ExecStart pointed at the built
                     binary), no warnings; the hardening the unit promises is there and
                     `systemd-analyze security` rates its exposure 2.0 or less; every
                     FOOTFALL_* variable in the unit and in footfall.env is one `footfall serve`
                     reads; its --help describes --store with every engine's URI scheme

A missing promtool or systemd-analyze is a failure, never a skip (scripts/install-deps.sh installs
both). Needs PyYAML (python3-yaml). Exit status 0 when everything passes.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMETHEUS = os.path.join(ROOT, "deploy", "prometheus")
SYSTEMD = os.path.join(ROOT, "deploy", "systemd")
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


def unit_directives(path):
    """[(section, key, value)] of a systemd unit file, repeated keys kept, comments dropped."""
    directives, section = [], None
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            if "=" not in line or section is None:
                raise CheckFailed(f"{path}:{number}: not a key=value line in a section: {line}")
            key, value = line.split("=", 1)
            directives.append((section, key.strip(), value.strip()))
    return directives


# What the unit must keep: the brief's hardening, and the settings the docs rely on.
REQUIRED_SERVICE_SETTINGS = {
    "DynamicUser": "yes",
    "StateDirectory": "footfall",
    "WorkingDirectory": "/var/lib/footfall",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "MemoryDenyWriteExecute": "yes",
    "LockPersonality": "yes",
    "RestrictNamespaces": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "Restart": "on-failure",
    "KillSignal": "SIGTERM",
    "EnvironmentFile": "-/etc/footfall/footfall.env",
}


# systemd-analyze security --threshold counts in tenths of the exposure level it prints.
MAX_EXPOSURE_TENTHS = 20


def check_systemd_unit(footfall_bin):
    analyze = require_tool("systemd-analyze", "systemd")
    unit_path = os.path.join(SYSTEMD, "footfall.service")
    directives = unit_directives(unit_path)
    service = {}
    for section, key, value in directives:
        if section == "Service":
            service.setdefault(key, []).append(value)
    problems = []
    for key, value in REQUIRED_SERVICE_SETTINGS.items():
        if value not in service.get(key, []):
            problems.append(f"[Service] {key}={value} missing")
    if "@system-service" not in service.get("SystemCallFilter", []):
        problems.append("[Service] SystemCallFilter=@system-service missing")
    if service.get("ExecReload", [""])[0] != "/bin/kill -HUP $MAINPID":
        problems.append("[Service] ExecReload=/bin/kill -HUP $MAINPID missing (SIGHUP reloads TLS)")
    exec_start = service.get("ExecStart", [""])[0].split()
    if exec_start[:1] != ["/usr/local/bin/footfall"] or exec_start[1:2] != ["serve"]:
        problems.append(f"[Service] ExecStart is {exec_start}, expected /usr/local/bin/footfall serve")

    # The variables the unit and the example file set must be ones footfall reads.
    code, help_text = run([footfall_bin, "serve", "--help"])
    if code != 0:
        raise CheckFailed("footfall serve --help failed")
    known = set(re.findall(r"FOOTFALL_[A-Z_]+", help_text))
    # --store's description names every engine's URI scheme (it once listed only sqlite: and
    # memory:): the lines from "--store" to the next option.
    store_help = re.search(r"^\s*--store\b.*?(?=^\s*--|\Z)", help_text, re.MULTILINE | re.DOTALL)
    for scheme in ("sqlite:PATH", "postgres://", "dynamodb://", "memory:"):
        if store_help is None or scheme not in store_help.group(0):
            problems.append(f"`footfall serve --help` does not describe --store {scheme}")
    used = set()
    for value in service.get("Environment", []):
        used.update(re.findall(r"(FOOTFALL_[A-Z_]+)=", value))
    with open(os.path.join(SYSTEMD, "footfall.env"), encoding="utf-8") as f:
        used.update(re.findall(r"^#?(FOOTFALL_[A-Z_]+)=", f.read(), re.MULTILINE))
    for name in sorted(used - known):
        problems.append(f"{name} is set but `footfall serve --help` does not list it")
    for name in sorted(known - used):
        problems.append(f"{name} is a serve setting missing from deploy/systemd/footfall.env")

    # systemd-analyze verify checks that ExecStart= is executable: point it at the built binary.
    with tempfile.TemporaryDirectory() as tmp:
        with open(unit_path, encoding="utf-8") as f:
            text = f.read()
        with open(os.path.join(tmp, "footfall.service"), "w", encoding="utf-8") as f:
            f.write(text.replace("ExecStart=/usr/local/bin/footfall ",
                                 f"ExecStart={os.path.abspath(footfall_bin)} "))
        code, output = run([analyze, "verify", "--man=no", "footfall.service"], cwd=tmp)
        if code != 0:
            problems.append("systemd-analyze verify failed")
        # Unknown or misspelt keys are only warnings ("Unknown key ..., ignoring"): fail on them.
        problems.extend(f"systemd-analyze: {line}" for line in output.splitlines()
                        if "footfall.service" in line)
        # Keeps the hardening from eroding: 1.2 today, on systemd's scale of 0 (best) to 10.
        code, output = run([analyze, "security", "--offline=yes", "--no-pager",
                            f"--threshold={MAX_EXPOSURE_TENTHS}", "footfall.service"], cwd=tmp)
        if code != 0:
            problems.append(f"systemd-analyze security: exposure above "
                            f"{MAX_EXPOSURE_TENTHS / 10} (or the analysis failed)")
    if problems:
        raise CheckFailed("\n".join(problems))
    print("footfall.service verified")


def main(argv):
    commands = {
        "prometheus-rules": lambda args: check_prometheus_rules(),
        "prometheus-tests": lambda args: check_prometheus_tests(),
        "systemd-unit": lambda args: check_systemd_unit(*args),
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
