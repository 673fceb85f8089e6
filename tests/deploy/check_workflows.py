#!/usr/bin/env python3
"""The GitHub workflows, checked where they cannot run (no GitHub, no AWS on these machines).

  deploy    .github/workflows/deploy.yml: build and test, Terraform tests, deploy to AWS by OIDC
  release   .github/workflows/release.yml: for a version tag, build and test, `make dist`, publish
            the artifacts as a GitHub release and the image to GHCR

Both get the same checks of form — valid YAML, read-only permissions at the top, every job with
runs-on, a timeout and steps, every action pinned to a ref, every `run:` valid bash, working
directories that exist, the repository's paths they name present — then their own contract.
Fails with the list of what differs; nothing is skipped (PyYAML missing fails).
Usage: check_workflows.py deploy|release
"""
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKFLOWS = os.path.join(REPO, ".github", "workflows")
MIN_TERRAFORM = (1, 9)


class Checks:
    def __init__(self, name):
        self.name, self.failed, self.count = name, [], 0

    def expect(self, ok, what, detail=None):
        self.count += 1
        if not ok:
            self.failed.append(what if detail is None else f"{what}: {detail!r}")

    def equal(self, got, want, what):
        self.expect(got == want, what, f"got {got!r}, want {want!r}")

    def done(self):
        if self.failed:
            print(f"FAIL {self.name}: {len(self.failed)} of {self.count} checks:", file=sys.stderr)
            for f in self.failed:
                print("  - " + f, file=sys.stderr)
            sys.exit(1)
        print(f"ok {self.name}: {self.count} checks")


def load(name, c):
    try:
        import yaml
    except ImportError:
        sys.exit("FAIL: PyYAML is not installed (Debian package python3-yaml)")
    path = os.path.join(WORKFLOWS, name)
    if not os.path.isfile(path):
        sys.exit(f"FAIL: {path} is missing")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        sys.exit(f"FAIL: {path} is not valid YAML: {e}")
    if not isinstance(doc, dict):
        sys.exit(f"FAIL: {path} is not a YAML mapping")
    return doc, text


def check_form(doc, text, c, paths):
    """What every workflow must be, whatever it does."""
    c.equal(doc.get("permissions"), {"contents": "read"}, "workflow-wide permissions are read-only")
    for job_name, job in (doc.get("jobs") or {}).items():
        c.expect(isinstance(job.get("runs-on"), str), f"{job_name} has runs-on")
        c.expect(isinstance(job.get("timeout-minutes"), int), f"{job_name} has a timeout")
        steps = job.get("steps") or []
        c.expect(len(steps) > 0, f"{job_name} has steps")
        for i, step in enumerate(steps):
            label = f"{job_name} step {i + 1} ({step.get('name', step.get('uses', ''))})"
            c.expect(("uses" in step) != ("run" in step), f"{label} has exactly one of uses/run")
            if "uses" in step:
                c.expect(re.fullmatch(r"[\w.-]+/[\w./-]+@[\w.-]+", step["uses"]) is not None,
                         f"{label} pins its action to a ref", step["uses"])
            if "run" in step:
                # ${{ }} expressions are substituted before bash sees the script.
                script = re.sub(r"\$\{\{[^}]*\}\}", "EXPR", step["run"])
                syntax = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
                c.expect(syntax.returncode == 0, f"{label} is valid bash", syntax.stderr.strip())
            wd = step.get("working-directory") or (job.get("defaults", {}).get("run", {})
                                                   .get("working-directory"))
            if wd and "${{" not in wd:
                c.expect(os.path.isdir(os.path.join(REPO, wd)), f"{label} working dir {wd} exists")
    for path in paths:
        c.expect(path in text, f"the workflow uses {path}")
        c.expect(os.path.exists(os.path.join(REPO, path)), f"{path} exists in the repository")


def triggers_of(doc):
    return doc.get("on", doc.get(True)) or {}  # YAML 1.1 reads the key `on` as true


def steps_text(job):
    return "\n".join(s.get("run", "") for s in job.get("steps", []))


def check_deploy():
    c = Checks("deploy.yml")
    doc, text = load("deploy.yml", c)
    check_form(doc, text, c, ("scripts/install-deps.sh", "tests/terraform/tf_suite.py",
                              "deploy/terraform/examples/aws", "deploy/terraform/examples/local"))
    triggers = triggers_of(doc)
    c.equal((triggers.get("push") or {}).get("branches"), ["main"], "runs on pushes to main")
    c.expect("pull_request" in triggers and "workflow_dispatch" in triggers,
             "runs on pull requests and by hand")
    jobs = doc.get("jobs") or {}
    c.equal(sorted(jobs), ["build", "deploy", "terraform"], "jobs")
    deploy = jobs.get("deploy") or {}
    c.equal(deploy.get("permissions"), {"contents": "read", "id-token": "write"},
            "deploy job may request an OIDC token")
    c.expect(isinstance(deploy.get("environment"), (str, dict)), "deploy runs in a protected environment")
    c.expect(set(deploy.get("needs") or []) >= {"build", "terraform"}, "deploy needs build and tests")
    c.expect("refs/heads/main" in str(deploy.get("if", "")), "deploy only from main", deploy.get("if"))
    c.expect(bool(deploy.get("concurrency")), "deploys never overlap")
    creds = [s for s in deploy.get("steps", []) if str(s.get("uses", "")).startswith(
        "aws-actions/configure-aws-credentials@")]
    c.equal(len(creds), 1, "deploy configures AWS credentials once")
    if creds:
        w = creds[0].get("with", {})
        c.expect("role-to-assume" in w and "aws-access-key-id" not in w and "aws-secret-access-key" not in w,
                 "AWS credentials come from OIDC, not stored keys", w)
    c.expect(not re.search(r"AWS_SECRET_ACCESS_KEY|aws-secret-access-key", text),
             "no long-lived AWS secret anywhere")
    runs = steps_text(deploy)
    c.expect("plan" in runs and "apply" in runs and "-lockfile=readonly" in runs,
             "deploy runs terraform init -lockfile=readonly, plan and apply", runs)
    setups = [s for j in jobs.values() for s in j.get("steps", [])
              if str(s.get("uses", "")).startswith("hashicorp/setup-terraform@")]
    c.expect(len(setups) >= 2, "both terraform jobs install Terraform")
    version = str((doc.get("env") or {}).get("TF_VERSION", ""))
    c.expect(re.fullmatch(r"\d+\.\d+\.\d+", version) is not None
             and tuple(int(x) for x in version.split(".")[:2]) >= MIN_TERRAFORM,
             "TF_VERSION is a pinned Terraform >= 1.9", version)
    c.done()


def check_release():
    c = Checks("release.yml")
    doc, text = load("release.yml", c)
    check_form(doc, text, c, ("scripts/install-deps.sh", "CMakeLists.txt"))
    triggers = triggers_of(doc)
    c.equal(sorted(triggers), ["push"], "runs on pushes only")
    c.equal((triggers.get("push") or {}).get("tags"), ["v*"], "runs for version tags")
    c.expect("branches" not in (triggers.get("push") or {}), "not for branch pushes")
    jobs = doc.get("jobs") or {}
    c.equal(sorted(jobs), ["build", "publish"], "jobs")
    build, publish = jobs.get("build") or {}, jobs.get("publish") or {}
    build_runs = steps_text(build)
    c.expect("GITHUB_REF_NAME" in build_runs and "CMakeLists.txt" in build_runs,
             "the build checks that the tag is v<the version in CMakeLists.txt>")
    c.expect("ctest" in build_runs and "make dist" in build_runs,
             "the build runs the tests, then make dist")
    c.expect(build_runs.index("ctest") < build_runs.index("make dist") if
             "ctest" in build_runs and "make dist" in build_runs else False,
             "tests before the artifacts")
    c.equal(str((build.get("container") or {}).get("image", build.get("container"))), "debian:12",
            "built on Debian 12, as the artifacts target it")
    c.expect("--privileged" in str((build.get("container") or {}).get("options", "")),
             "the container may chroot and mount (the package and image tests)")
    uploads = [s for s in build.get("steps", []) if str(s.get("uses", "")).startswith(
        "actions/upload-artifact@")]
    c.expect(len(uploads) == 1 and "build/dist" in str(uploads[0].get("with", {}).get("path")),
             "the build uploads build/dist")
    c.equal(publish.get("needs"), "build", "publish needs the build")
    c.equal(publish.get("permissions"), {"contents": "write", "packages": "write"},
            "publish may write the release and the package, nothing else")
    publish_runs = steps_text(publish)
    c.expect("sha256sum -c SHA256SUMS" in publish_runs, "publish checks the checksums first")
    c.expect("gh release create" in publish_runs, "publish makes the GitHub release")
    c.expect("ghcr.io" in publish_runs and "skopeo copy" in publish_runs and
             "oci-archive:" in publish_runs, "publish copies the image archive to GHCR")
    c.expect("--password-stdin" in publish_runs and not re.search(r"-p\s+\$\{\{", publish_runs),
             "the registry token goes through stdin, never the command line")
    c.expect(not re.search(r"AWS_SECRET_ACCESS_KEY|aws-secret-access-key", text), "no AWS secret")
    c.done()


if __name__ == "__main__":
    commands = {"deploy": check_deploy, "release": check_release}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]]()
