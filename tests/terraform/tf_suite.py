#!/usr/bin/env python3
"""footfall's Terraform tests: one subcommand per CTest test (see CMakeLists.txt beside this file).

  fmt                  terraform fmt -check -recursive on deploy/terraform
  validate DIR         terraform init + validate of deploy/terraform/DIR
  mock                 terraform test (mock AWS provider) in the module
  moto rest|http       apply examples/local against moto's server on loopback (started through
                       moto_server_fixed.py), check every resource with boto3 (and the stream
                       filter against records moto's stream produced; every route of routes.json;
                       the statistics token's SSM parameter, which the rest run creates first and
                       which must never reach the state), plan again (no drift allowed), destroy,
                       check that all is gone
  all                  every one of the above, in order (for machines without the CMake build)

Nothing is skipped: a missing terraform, provider mirror, moto_server, boto3 or PyYAML fails the test
with the reason. Every Terraform command runs in a copy of deploy/terraform inside a temp dir, so no
.terraform/ directory, state or plan file is ever written into the work tree. The only processes
signalled are the ones started here, by their own PID (a terraform that overruns its step timeout
gets its own process group, i.e. itself and its provider plugin).

Environment:
  FOOTFALL_LAMBDA_ZIP   function package to deploy in the moto tests (default: a placeholder zip
                        holding a 'bootstrap' script, made in the temp dir)
  FOOTFALL_KEEP_TMP=1   keep the temp dir (copies, state, logs) for inspection
  TERRAFORM             terraform binary (default: the one on PATH)
"""

import base64
import contextlib
import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
TF_ROOT = os.path.join(REPO_ROOT, "deploy", "terraform")

PLUGIN_MIRROR = "/opt/tf-plugins"
PROVIDER_DIR = os.path.join(PLUGIN_MIRROR, "registry.terraform.io", "hashicorp", "aws")
MIN_TERRAFORM = (1, 9)

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
STEP_TIMEOUT_S = {"init": 120, "validate": 120, "test": 600, "apply": 360, "plan": 240,
                  "destroy": 360, "output": 60, "fmt": 60}
MOTO_START_DEADLINE_S = 20.0

# What examples/local fixes (its main.tf); the checks below compare against these.
LOCAL_ORIGINS = "https://me.example,https://www.me.example"
LOCAL_RATE, LOCAL_BURST = 25, 50
LOCAL_LOG_RETENTION = 14
LOCAL_RESERVED_CONCURRENCY = 5
# The routes the module serves: its routes.json (the output of `footfall routes`), path -> methods.
ROUTES_JSON = os.path.join(TF_ROOT, "modules", "footfall", "routes.json")


def load_routes():
    with open(ROUTES_JSON) as f:
        return {r["path"]: list(r["methods"]) for r in json.load(f)["routes"]}


ROUTES = load_routes()
# What API Gateway routes to the function: every method of each path (ANY), so that the function
# answers preflights and wrong methods (405 with Allow) itself, as `footfall serve` does.
API_ROUTE_KEYS = sorted(f"ANY {p}" for p in ROUTES)
# Every prefix of every route path: the REST API's resources besides "/".
REST_RESOURCE_PATHS = sorted({"/" + "/".join(p.strip("/").split("/")[:i + 1])
                              for p in ROUTES for i in range(len(p.strip("/").split("/")))})

# The one cacheable route (badge_cache_ttl_s) and its cache key (modules/footfall/main.tf).
BADGE_ROUTE = ("GET", "/counter/{proxy+}")
BADGE_METHOD_SETTING = "~1counter~1{proxy+}/GET"
# The REST API's methods: ANY on every path, and the badge's own GET beside it (only it is cached).
REST_METHOD_KEYS = sorted(API_ROUTE_KEYS + [" ".join(BADGE_ROUTE)])
BADGE_CACHE_KEY = {"method.request.path.proxy": True, "method.request.querystring.site": False,
                   "method.request.header.Origin": False, "method.request.header.If-None-Match": False}

# The event source mapping's filter (modules/footfall/aggregates.tf): only INSERTs of visit items
# that the request path marked for the stream (`aggregates` = "stream").
AGGREGATES_FILTER = {"eventName": ["INSERT"],
                     "dynamodb": {"NewImage": {"aggregates": {"S": ["stream"]}}}}

# Fields an access-log format must never contain (client addresses, identities, query strings).
PRIVATE_LOG_FIELDS = re.compile(r"sourceIp|userAgent|identity\.|querystring|\.caller|\.user\b", re.I)


class TestFailure(Exception):
    """A failed check or a broken prerequisite: the test fails with this message."""


def log(msg):
    print(msg, flush=True)


def fail_banner(msg):
    bar = "!" * 78
    print(f"\n{bar}\nFAILED (this test never skips): {msg}\n{bar}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------------------------

def terraform_binary():
    tf = os.environ.get("TERRAFORM") or shutil.which("terraform")
    if not tf or not os.access(tf, os.X_OK):
        raise TestFailure(f"terraform is not installed ({tf or 'not on PATH'} is not executable). These tests "
                          "need Terraform >= 1.9; the project's machine image ships 1.11.4 in "
                          "/usr/local/bin, and nothing else can install it offline.")
    out = subprocess.run([tf, "version", "-json"], capture_output=True, text=True, timeout=60)
    try:
        version = json.loads(out.stdout)["terraform_version"]
    except (ValueError, KeyError):
        raise TestFailure(f"cannot read the version of {tf}: {out.stdout!r} {out.stderr!r}")
    if tuple(int(x) for x in version.split(".")[:2]) < MIN_TERRAFORM:
        raise TestFailure(f"{tf} is Terraform {version}; these tests need >= 1.9")
    return tf


def locked_provider_version():
    with open(os.path.join(TF_ROOT, "modules", "footfall", ".terraform.lock.hcl")) as f:
        m = re.search(r'provider "registry.terraform.io/hashicorp/aws" \{\s*version\s*=\s*"([^"]+)"',
                      f.read())
    if not m:
        raise TestFailure("the module's .terraform.lock.hcl pins no hashicorp/aws version")
    return m.group(1)


def require_provider_mirror():
    version = locked_provider_version()
    path = os.path.join(PROVIDER_DIR, version, "linux_amd64")
    if not os.path.isdir(path) or not any(n.startswith("terraform-provider-aws") for n in os.listdir(path)):
        raise TestFailure(f"the AWS provider {version} is missing from the offline mirror ({path}). "
                          "It is part of the project's machine image; with registry access, "
                          "`terraform providers mirror -platform=linux_amd64 /opt/tf-plugins` in "
                          "deploy/terraform/examples/local recreates it.")


def require_boto3():
    try:
        import boto3  # noqa: F401
    except ImportError:
        raise TestFailure(f"boto3 is not importable by {sys.executable}; it comes with moto in "
                          "the project's machine image")


# ---------------------------------------------------------------------------------------------
# Processes: only our own children, killed by their own PID / process group
# ---------------------------------------------------------------------------------------------

def _die_with_parent():
    """preexec_fn: ask the kernel to SIGTERM this child if the test process dies first."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Workspace:
    """A temp dir holding a copy of deploy/terraform and everything Terraform writes."""

    def __init__(self, label):
        self.tf = terraform_binary()
        require_provider_mirror()
        self.dir = tempfile.mkdtemp(prefix=f"footfall-tf-{label}-")
        self.root = os.path.join(self.dir, "terraform")
        shutil.copytree(TF_ROOT, self.root, ignore=shutil.ignore_patterns(
            ".terraform", "*.tfstate", "*.tfstate.*", "*.tfplan", "terraform.tfvars",
            "*.auto.tfvars", "backend_override.tf", "crash*.log"))
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("TF_", "AWS_")) and k != "CHECKPOINT_DISABLE"}
        self.env.update({
            "TF_CLI_CONFIG_FILE": os.path.join(self.root, "offline.tfrc"),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            # Never reach a real account, whatever the developer's shell has.
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        self.timings = []

    def path(self, rel):
        return os.path.join(self.root, rel)

    def terraform(self, step, rel_dir, *args, ok_codes=(0,)):
        """Runs `terraform <args>` in the copy of deploy/terraform/<rel_dir>; returns (rc, output).

        Raises TestFailure on a return code outside ok_codes or on a timeout (the command's
        process group is interrupted, then killed)."""
        cmd = [self.tf, *args]
        label = f"terraform {' '.join(a for a in args if not a.startswith('-var'))} ({rel_dir})"
        start = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=self.path(rel_dir), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True,
                                preexec_fn=_die_with_parent)
        try:
            out, _ = proc.communicate(timeout=STEP_TIMEOUT_S[step])
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                out, _ = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, _ = proc.communicate()
            raise TestFailure(f"{label} did not finish in {STEP_TIMEOUT_S[step]} s:\n{tail(out)}")
        elapsed = time.monotonic() - start
        self.timings.append((label, elapsed))
        log(f"[{elapsed:6.1f} s] {label} -> exit {proc.returncode}")
        with open(os.path.join(self.dir, f"{len(self.timings):02d}-{step}.log"), "w") as f:
            f.write(out)
        if proc.returncode not in ok_codes:
            raise TestFailure(f"{label} exited {proc.returncode}:\n{tail(out)}")
        return proc.returncode, out

    def init(self, rel_dir, backend=True):
        self.terraform("init", rel_dir, "init", "-input=false", "-no-color", "-lockfile=readonly",
                       *([] if backend else ["-backend=false"]))

    def close(self, ok):
        """Removes the temp dir, unless the test failed or FOOTFALL_KEEP_TMP=1."""
        if ok and os.environ.get("FOOTFALL_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            log(f"kept {self.dir} (state, copies and one log per terraform step)")


def tail(text, lines=60):
    parts = (text or "").rstrip().splitlines()
    return "\n".join(parts[-lines:])


@contextlib.contextmanager
def workspace(label):
    ws = Workspace(label)
    ok = False
    try:
        yield ws
        ok = True
    finally:
        ws.close(ok)


# ---------------------------------------------------------------------------------------------
# fmt / validate / mock
# ---------------------------------------------------------------------------------------------

def cmd_fmt():
    tf = terraform_binary()
    start = time.monotonic()
    out = subprocess.run([tf, "fmt", "-check", "-recursive", "-diff", "-no-color", TF_ROOT],
                         capture_output=True, text=True, timeout=STEP_TIMEOUT_S["fmt"])
    log(f"[{time.monotonic() - start:6.1f} s] terraform fmt -check -recursive deploy/terraform "
        f"-> exit {out.returncode}")
    if out.returncode != 0:
        raise TestFailure("files need `terraform fmt -recursive deploy/terraform`:\n"
                          + out.stdout + out.stderr)


def cmd_validate(rel_dir):
    if not os.path.isfile(os.path.join(TF_ROOT, rel_dir, ".terraform.lock.hcl")):
        raise TestFailure(f"deploy/terraform/{rel_dir}/.terraform.lock.hcl is missing: commit it")
    with workspace("validate") as ws:
        ws.init(rel_dir, backend=False)
        _, out = ws.terraform("validate", rel_dir, "validate", "-no-color")
        if "Warning" in out:
            raise TestFailure(f"terraform validate warns in {rel_dir}:\n{out}")


def make_placeholder_zip(dirname):
    path = os.path.join(dirname, "placeholder-footfall-lambda.zip")
    info = zipfile.ZipInfo("bootstrap", date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o755 << 16
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(info, "#!/bin/sh\n# placeholder: the tests only deploy it, never invoke it\nexit 1\n")
    return path


def cmd_mock():
    with workspace("mock") as ws:
        rel = "modules/footfall"
        ws.init(rel, backend=False)
        zip_path = make_placeholder_zip(ws.dir)
        rc, out = ws.terraform("test", rel, "test", "-no-color", f"-var=lambda_zip_path={zip_path}",
                               ok_codes=(0, 1))
        runs = [line.strip() for line in out.splitlines() if re.match(r'\s*run ".*"\.\.\. \w+$', line)]
        log("\n".join(runs))
        summary = [line for line in out.splitlines() if re.search(r"\d+ passed, \d+ failed", line)]
        if rc != 0 or not summary or not re.search(r"Success! \d+ passed, 0 failed", summary[-1]):
            errors = "\n".join(line for line in out.splitlines()
                               if line.startswith(("Error", " ")) or "error_message" in line)
            raise TestFailure(f"terraform test failed ({summary[-1] if summary else 'no summary'}):\n"
                              f"{errors[-6000:]}")
        log(f"terraform test: {summary[-1]} (runs: {len(runs)})")


# ---------------------------------------------------------------------------------------------
# moto_server
# ---------------------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MOTO_SERVER_FIXED = os.path.join(HERE, "moto_server_fixed.py")


class MotoServer:
    """moto's server, with moto_server_fixed.py's one fix (integrations keep cacheKeyParameters),
    started on a free loopback port and stopped by its PID."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = None
        self.endpoint = None

    def __enter__(self):
        if not shutil.which("moto_server"):
            raise TestFailure("moto_server is not on PATH; it is part of the project's machine "
                              "image (moto 5.2.1 in its Python)")
        probe = subprocess.run([sys.executable, "-c", "import moto.server, moto.apigateway.responses"],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            raise TestFailure(f"{sys.executable} cannot import moto's server (moto_server is on PATH, "
                              f"but this test starts it through {MOTO_SERVER_FIXED} and needs moto in "
                              f"its own Python):\n{probe.stderr.strip()}")
        binary = [sys.executable, MOTO_SERVER_FIXED]
        env = dict(os.environ)
        env.update({"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ACM_VALIDATION_WAIT": "0",
                    "PYTHONDONTWRITEBYTECODE": "1"})
        for attempt in range(3):  # a port taken between free_port() and the bind: try another
            port = free_port()
            logf = open(os.path.join(self.workdir, f"moto-{port}.log"), "w")
            self.proc = subprocess.Popen([*binary, "-H", "127.0.0.1", "-p", str(port)], env=env,
                                         cwd=self.workdir, stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            logf.close()
            self.endpoint = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + MOTO_START_DEADLINE_S
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2):
                        log(f"moto_server pid {self.proc.pid} serving {self.endpoint}")
                        return self
                except OSError:
                    time.sleep(0.1)
            self._stop()
        raise TestFailure(f"moto_server did not start (see {self.workdir}/moto-*.log)")

    def _stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc):
        self._stop()
        log(f"moto_server pid {self.proc.pid} stopped")


def aws_clients(endpoint):
    import boto3
    from botocore.config import Config
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name=REGION)
    config = Config(retries={"max_attempts": 2, "mode": "standard"})
    return lambda service: session.client(service, endpoint_url=endpoint, config=config)


class Checks:
    """Collects every failed expectation so one run reports all of them."""

    def __init__(self):
        self.passed = 0
        self.failed = []

    def expect(self, condition, what, detail=None):
        if condition:
            self.passed += 1
        else:
            self.failed.append(what if detail is None else f"{what}: {detail!r}")

    def equal(self, actual, expected, what):
        self.expect(actual == expected, what, f"got {actual!r}, want {expected!r}")

    def done(self, phase):
        log(f"{phase}: {self.passed} checks passed, {len(self.failed)} failed")
        if self.failed:
            raise TestFailure(f"{phase}:\n  - " + "\n  - ".join(self.failed))


SCENARIOS = {
    # REST API with everything optional switched on that moto can serve, on the module's default
    # maintenance schedule (None: the variable is not passed).
    # Statistics behind a token in an SSM SecureString (encrypted with aws/ssm) that the test
    # creates before the apply, as a user would; the badge cache on.
    "rest": {"name": "ff-rest", "api_type": "rest", "counter_shards": 1, "enable_waf": True,
             "alarm_email": "ops@me.example", "custom_domain_name": "api.me.example",
             "maintenance_schedule": None, "stats_token_parameter_name": "/ff-rest/stats-token",
             "stats_token_version": "3", "stats_public": False, "badge_cache_ttl_s": 300},
    # HTTP API with a sharded counter. No WAF (AWS cannot attach one to an HTTP API) and no custom
    # domain (moto 5.2.1 never reports an apigatewayv2 domain name AVAILABLE, so the provider's
    # create waiter fails; the mock test covers that configuration). A cron maintenance schedule,
    # so that both expression forms go through apply and the drift check. A public dashboard (no
    # token, no SSM permission); no cache (an HTTP API has none).
    "http": {"name": "ff-http", "api_type": "http", "counter_shards": 3, "enable_waf": False,
             "alarm_email": None, "custom_domain_name": None,
             "maintenance_schedule": "cron(5 * * * ? *)", "stats_token_parameter_name": None,
             "stats_token_version": None, "stats_public": True, "badge_cache_ttl_s": 0},
}


def cmd_moto(kind):
    if kind not in SCENARIOS:
        raise TestFailure(f"unknown moto scenario {kind!r} (rest or http)")
    require_boto3()
    sc = dict(SCENARIOS[kind])
    rel = "examples/local"
    with workspace(f"moto-{kind}") as ws, MotoServer(ws.dir) as moto:
        aws = aws_clients(moto.endpoint)

        zip_path = os.environ.get("FOOTFALL_LAMBDA_ZIP")
        if zip_path:
            zip_path = os.path.abspath(zip_path)
            if not os.path.isfile(zip_path):
                raise TestFailure(f"FOOTFALL_LAMBDA_ZIP={zip_path} does not exist")
            # A snapshot, so a rebuild during the test cannot change what is checked.
            snapshot = os.path.join(ws.dir, "footfall-lambda.zip")
            shutil.copyfile(zip_path, snapshot)
            log(f"deploying FOOTFALL_LAMBDA_ZIP={zip_path} ({os.path.getsize(snapshot)} bytes)")
            zip_path = snapshot
        else:
            zip_path = make_placeholder_zip(ws.dir)
            log(f"NOTE: FOOTFALL_LAMBDA_ZIP is not set: deploying a placeholder zip ({zip_path}) "
                "with a shell-script 'bootstrap'. The function is created, never invoked.")

        zone_id = None
        if sc["custom_domain_name"]:
            zone = aws("route53").create_hosted_zone(Name="me.example",
                                                     CallerReference=f"footfall-{time.time()}")
            zone_id = zone["HostedZone"]["Id"].split("/")[-1]

        tf_vars = [f"-var=endpoint={moto.endpoint}", f"-var=lambda_zip_path={zip_path}",
                   f"-var=name={sc['name']}", f"-var=api_type={sc['api_type']}",
                   f"-var=counter_shards={sc['counter_shards']}",
                   f"-var=enable_waf={str(sc['enable_waf']).lower()}"]
        if sc["alarm_email"]:
            tf_vars.append(f"-var=alarm_email={sc['alarm_email']}")
        if sc["maintenance_schedule"]:
            tf_vars.append(f"-var=maintenance_schedule={sc['maintenance_schedule']}")
        if sc["custom_domain_name"]:
            tf_vars += [f"-var=custom_domain_name={sc['custom_domain_name']}",
                        f"-var=route53_zone_id={zone_id}"]
        token_parameter = sc["stats_token_parameter_name"]
        if token_parameter:
            # As the user does before the apply (docs/aws-deploy.md): the module only names it.
            aws("ssm").put_parameter(Name=token_parameter, Value=STATS_TOKEN_VALUE, Type="SecureString")
            tf_vars += [f"-var=stats_token_parameter_name={token_parameter}",
                        f"-var=stats_token_version={sc['stats_token_version']}"]
        tf_vars += [f"-var=stats_public={str(sc['stats_public']).lower()}",
                    f"-var=badge_cache_ttl_s={sc['badge_cache_ttl_s']}"]

        ws.init(rel)
        ws.terraform("apply", rel, "apply", "-auto-approve", "-input=false", "-no-color", *tf_vars)
        _, out = ws.terraform("output", rel, "output", "-json", "-no-color")
        outputs = json.loads(out)["footfall"]["value"]

        verify_deployed(aws, sc, outputs, zip_path, zone_id)
        check_state_holds_no_token(ws.path(rel), sc)

        # The function raises counts; a later plan must not want to reset them.
        ddb = aws("dynamodb")
        bumped = outputs["counter_item_ids"][-1]
        ddb.update_item(TableName=outputs["table_name"], Key={"visit_id": {"S": bumped}},
                        UpdateExpression="ADD #c :n", ExpressionAttributeNames={"#c": "count"},
                        ExpressionAttributeValues={":n": {"N": "7"}})

        rc, out = ws.terraform("plan", rel, "plan", "-detailed-exitcode", "-input=false",
                               "-no-color", *tf_vars, ok_codes=(0, 2))
        if rc == 2:
            raise TestFailure("drift: a second plan right after apply wants changes:\n"
                              + tail(out, 120))
        log("no drift: the second plan is empty (and leaves the raised counter alone)")
        item = ddb.get_item(TableName=outputs["table_name"], Key={"visit_id": {"S": bumped}})
        if item.get("Item", {}).get("count") != {"N": "7"}:
            raise TestFailure(f"counter {bumped} changed by refresh/plan: {item.get('Item')}")

        if token_parameter:
            check_token_rotation_plan(ws, rel, tf_vars, sc)

        ws.terraform("destroy", rel, "destroy", "-auto-approve", "-input=false", "-no-color",
                     *tf_vars)
        verify_destroyed(aws, sc, outputs, zone_id)
        if zone_id:
            aws("route53").delete_hosted_zone(Id=zone_id)
        if token_parameter:
            # The user's parameter outlives the stack: the module never owned it.
            c = Checks()
            param = aws("ssm").get_parameter(Name=token_parameter, WithDecryption=True)["Parameter"]
            c.equal((param["Type"], param["Value"], param["Version"]), ("SecureString", STATS_TOKEN_VALUE, 1),
                    "the token parameter is still there, unchanged, after destroy")
            c.done("boto3, the token parameter after destroy")
            aws("ssm").delete_parameter(Name=token_parameter)

        total = sum(t for _, t in ws.timings)
        log(f"terraform time in this test: {total:.1f} s")


# The statistics token the rest scenario stores in SSM: it must never reach the Terraform state.
STATS_TOKEN_VALUE = "ff-test-stats-token-5b0c3e9a7d"


def check_state_holds_no_token(rel_dir, sc):
    """The state after apply knows the parameter's name, never its value, and manages no SSM
    parameter (the user creates it; a module-managed parameter would put the value in the state)."""
    c = Checks()
    with open(os.path.join(rel_dir, "terraform.tfstate")) as f:
        text = f.read()
    state = json.loads(text)
    c.expect(STATS_TOKEN_VALUE not in text, "the token's value is nowhere in the state")
    c.equal(sorted({r["type"] for r in state.get("resources", []) if r["type"].startswith("aws_ssm")}),
            [], "the module manages no SSM resource")
    if sc["stats_token_parameter_name"]:
        c.expect(sc["stats_token_parameter_name"] in text, "the state names the parameter")
    c.done("terraform state, the statistics token")


def check_token_rotation_plan(ws, rel, tf_vars, sc):
    """After a rotation the user bumps stats_token_version: the plan changes the API function's
    environment (so Lambda starts new execution environments, which read the new value) and
    nothing else."""
    bumped = str(int(sc["stats_token_version"]) + 1)
    plan_file = os.path.join(ws.dir, "rotation.tfplan")
    rotated = [v for v in tf_vars if not v.startswith("-var=stats_token_version=")]
    rotated.append(f"-var=stats_token_version={bumped}")
    ws.terraform("plan", rel, "plan", "-input=false", "-no-color", f"-out={plan_file}", *rotated)
    _, shown = ws.terraform("output", rel, "show", "-json", "-no-color", plan_file)
    changes = [(r["address"], r["change"]["actions"]) for r in json.loads(shown).get("resource_changes", [])
               if r["change"]["actions"] != ["no-op"]]
    c = Checks()
    c.equal(changes, [("module.footfall.aws_lambda_function.footfall", ["update"])],
            "bumping stats_token_version updates the API function only")
    if changes:
        change = [r for r in json.loads(shown)["resource_changes"]
                  if r["address"] == "module.footfall.aws_lambda_function.footfall"][0]["change"]
        before = change["before"]["environment"][0]["variables"]
        after = change["after"]["environment"][0]["variables"]
        c.equal({k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)},
                {"FOOTFALL_STATS_TOKEN_VERSION": (sc["stats_token_version"], bumped)},
                "only FOOTFALL_STATS_TOKEN_VERSION changes")
    c.done("plan after a token rotation")
    log(f"token rotation: stats_token_version {sc['stats_token_version']} -> {bumped} updates the function only")


def verify_deployed(aws, sc, out, zip_path, zone_id):
    c = Checks()
    name, table = sc["name"], f"{sc['name']}-visits"
    rest = sc["api_type"] == "rest"

    # --- DynamoDB ---------------------------------------------------------------------------
    ddb = aws("dynamodb")
    t = ddb.describe_table(TableName=table)["Table"]
    c.equal(out["table_name"], table, "output table_name")
    c.equal(t["KeySchema"], [{"AttributeName": "visit_id", "KeyType": "HASH"}], "table key schema")
    c.equal(sorted((a["AttributeName"], a["AttributeType"]) for a in t["AttributeDefinitions"]),
            [("agg_pk", "S"), ("agg_sk", "S"), ("visit_id", "S")], "table attributes")
    c.equal(t.get("BillingModeSummary", {}).get("BillingMode"), "PAY_PER_REQUEST", "billing mode")
    c.equal([(i["IndexName"], i["KeySchema"], i["Projection"])
             for i in t.get("GlobalSecondaryIndexes", [])],
            [("aggregates", [{"AttributeName": "agg_pk", "KeyType": "HASH"},
                             {"AttributeName": "agg_sk", "KeyType": "RANGE"}],
              {"ProjectionType": "ALL"})], "only the aggregates GSI")
    c.equal(t.get("LocalSecondaryIndexes", []), [], "no LSI")
    c.equal(t.get("SSEDescription", {}).get("Status"), "ENABLED", "server-side encryption")
    c.equal(t.get("DeletionProtectionEnabled"), False, "deletion protection (off in examples/local)")
    ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    c.equal((ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")), ("ENABLED", "expiration_time"),
            "TTL")
    pitr = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    c.equal(pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "ENABLED", "PITR")
    c.equal(t.get("StreamSpecification"), {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            "table stream on, NEW_IMAGE")
    c.equal(t.get("LatestStreamArn"), out["stream_arn"], "output stream_arn")
    streams = aws("dynamodbstreams").list_streams(TableName=table)["Streams"]
    c.equal([x["StreamArn"] for x in streams], [out["stream_arn"]], "one stream on the table")
    if streams:
        desc = aws("dynamodbstreams").describe_stream(StreamArn=out["stream_arn"])["StreamDescription"]
        c.equal((desc.get("StreamStatus"), desc.get("StreamViewType")), ("ENABLED", "NEW_IMAGE"),
                "stream enabled with NEW_IMAGE")
    n = sc["counter_shards"]
    want_ids = ["total"] + ([] if n == 1 else [f"total#{i}" for i in range(n)])
    c.equal(out["counter_item_ids"], want_ids, "output counter_item_ids")
    items = ddb.scan(TableName=table)["Items"]
    c.equal(sorted(items, key=lambda i: i["visit_id"]["S"]),
            [{"visit_id": {"S": i}, "count": {"N": "0"}} for i in sorted(want_ids)],
            "the table holds exactly the counter items, at 0")

    # --- Lambda -----------------------------------------------------------------------------
    lam = aws("lambda")
    fn = lam.get_function(FunctionName=name)["Configuration"]
    c.equal(out["function_name"], name, "output function_name")
    c.equal(fn["Runtime"], "provided.al2023", "runtime")
    c.equal(fn["Handler"], "bootstrap", "handler")
    c.equal(fn["Architectures"], ["x86_64"], "architectures")
    c.equal((fn["MemorySize"], fn["Timeout"]), (128, 10), "memory and timeout")
    c.equal(fn["Role"], f"arn:aws:iam::{ACCOUNT}:role/{name}-lambda", "execution role")
    c.equal(fn["Role"], out["lambda_role_arn"], "output lambda_role_arn")
    c.equal(fn.get("TracingConfig", {}).get("Mode"), "Active", "X-Ray tracing")
    want_env = {
        "DYNAMODB_TABLE": table,
        "FOOTFALL_ALLOWED_ORIGINS": LOCAL_ORIGINS,
        "FOOTFALL_RETENTION_DAYS": "90",
        "FOOTFALL_COUNTER_SHARDS": str(n),
        "FOOTFALL_LOG_LEVEL": "info",
        "FOOTFALL_METRICS": "log",
        "FOOTFALL_AGGREGATES": "stream",
    }
    if sc["stats_token_parameter_name"]:
        want_env.update({"FOOTFALL_STATS_TOKEN_PARAMETER": sc["stats_token_parameter_name"],
                         "FOOTFALL_STATS_TOKEN_VERSION": sc["stats_token_version"]})
    if sc["stats_public"]:
        want_env["FOOTFALL_STATS_PUBLIC"] = "true"
    c.equal(fn.get("Environment", {}).get("Variables"), want_env,
            "function environment (exactly these keys; AWS_REGION is Lambda's own)")
    with open(zip_path, "rb") as f:
        c.equal(fn["CodeSha256"], base64.b64encode(hashlib.sha256(f.read()).digest()).decode(),
                "deployed code is the given zip")
    conc = lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
    c.equal(conc, LOCAL_RESERVED_CONCURRENCY, "reserved concurrency")
    # Two invoke permissions: API Gateway from this API, EventBridge from the maintenance rule.
    policy = {p.get("Sid"): p for p in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]}
    api_sid = "AllowRestApiInvoke" if rest else "AllowHttpApiInvoke"
    c.equal(sorted(policy), sorted([api_sid, "AllowMaintenanceScheduleInvoke"]), "invoke permissions")
    want_source = (f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{out['api_id']}/v1/*" if rest
                   else f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{out['api_id']}/*")
    rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}-maintenance"
    for sid, principal, source, what in (
            (api_sid, "apigateway.amazonaws.com", want_source, "this API"),
            ("AllowMaintenanceScheduleInvoke", "events.amazonaws.com", rule_arn, "the maintenance rule")):
        p = policy.get(sid, {})
        c.equal((p.get("Effect"), p.get("Action"), p.get("Principal"), p.get("Resource")),
                ("Allow", "lambda:InvokeFunction", {"Service": principal}, fn["FunctionArn"]),
                f"{sid}: {principal} may invoke the function")
        c.equal(p.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn"), source,
                f"{sid}: limited to {what}")

    verify_maintenance(aws, c, name, out, fn["FunctionArn"], sc["maintenance_schedule"] or "cron(1 * * * ? *)")

    # --- IAM: least privilege -----------------------------------------------------------------
    iam = aws("iam")
    role = iam.get_role(RoleName=f"{name}-lambda")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    c.equal([s["Principal"] for s in trust["Statement"]], [{"Service": "lambda.amazonaws.com"}],
            "only Lambda assumes the role")
    c.equal(iam.list_attached_role_policies(RoleName=f"{name}-lambda")["AttachedPolicies"], [],
            "no managed policy on the function role")
    inline = iam.list_role_policies(RoleName=f"{name}-lambda")["PolicyNames"]
    c.equal(inline, [f"{name}-lambda"], "one inline policy")
    doc = iam.get_role_policy(RoleName=f"{name}-lambda", PolicyName=f"{name}-lambda")["PolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    statements = {s["Sid"]: s for s in doc["Statement"]}
    base_sids = {"AggregatesIndex", "OwnLogGroup", "VisitsTable", "XRay"}
    token_sids = {"StatsTokenParameter", "StatsTokenKey"} if sc["stats_token_parameter_name"] else set()
    c.equal(sorted(statements), sorted(base_sids | token_sids), "policy statements")
    if token_sids and set(statements) >= token_sids:
        # Exactly the parameter's ARN; the key SSM encrypted it with (aws/ssm, which describe-key
        # of the alias names), only through SSM in this region.
        param_arn = aws("ssm").get_parameter(Name=sc["stats_token_parameter_name"])["Parameter"]["ARN"]
        key_arn = aws("kms").describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]["Arn"]
        c.equal(param_arn, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{sc['stats_token_parameter_name'].lstrip('/')}",
                "the parameter's ARN (moto) is the one the module builds")
        c.equal(statements["StatsTokenParameter"],
                {"Sid": "StatsTokenParameter", "Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": param_arn},
                "ssm:GetParameter on exactly the token parameter")
        c.equal(statements["StatsTokenKey"],
                {"Sid": "StatsTokenKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": key_arn,
                 "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}}},
                "kms:Decrypt on the aws/ssm key, only through SSM")
        c.equal(out["stats_token_parameter_arn"], param_arn, "output stats_token_parameter_arn")
    else:
        c.equal(out["stats_token_parameter_arn"], None, "no token parameter: output is null")
        c.expect(not any("ssm:" in json.dumps(st) or "kms:" in json.dumps(st) for st in doc["Statement"]),
                 "no SSM or KMS permission without a token parameter")
    if set(statements) >= base_sids:
        c.equal(statements["AggregatesIndex"]["Action"], ["dynamodb:Query"], "index action")
        c.equal(statements["AggregatesIndex"]["Resource"], out["table_arn"] + "/index/aggregates",
                "Query on the aggregates index only")
        c.equal(sorted(statements["VisitsTable"]["Action"]),
                ["dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem",
                 "dynamodb:PutItem", "dynamodb:UpdateItem"], "DynamoDB actions")
        c.equal(statements["VisitsTable"]["Resource"], out["table_arn"], "DynamoDB on this table only")
        c.equal(sorted(statements["OwnLogGroup"]["Action"]), ["logs:CreateLogStream", "logs:PutLogEvents"],
                "log actions")
        c.equal(statements["OwnLogGroup"]["Resource"],
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}:*",
                "logs on the function's own log group only")
        c.equal(sorted(statements["XRay"]["Action"]), ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                "X-Ray actions")
        c.expect(all(s["Effect"] == "Allow" for s in statements.values()), "allow statements only")

    verify_aggregates(aws, c, name, table, out, zip_path)

    # --- Logs -------------------------------------------------------------------------------
    logs = aws("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    for group in [f"/aws/lambda/{name}", f"/aws/lambda/{name}-aggregates",
                  f"/aws/apigateway/{name}/access"] + (
            [f"API-Gateway-Execution-Logs_{out['api_id']}/v1"] if rest else []):
        c.equal(groups.get(group, {}).get("retentionInDays"), LOCAL_LOG_RETENTION,
                f"log group {group} with retention")
    access_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/apigateway/{name}/access"

    # --- API Gateway ------------------------------------------------------------------------
    if rest:
        verify_rest_api(aws, c, sc, out, access_arn, zone_id)
    else:
        verify_http_api(aws, c, sc, out, access_arn)

    # --- Alarms, topic, dashboard -------------------------------------------------------------
    sns = aws("sns")
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}-alarms"
    c.equal(out["alarm_topic_arn"], topic, "output alarm_topic_arn")
    c.expect(topic in [t["TopicArn"] for t in sns.list_topics()["Topics"]], "alarm topic exists")
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    want_subs = [("email", sc["alarm_email"])] if sc["alarm_email"] else []
    c.equal([(s["Protocol"], s["Endpoint"]) for s in subs], want_subs, "alarm e-mail subscription")

    cw = aws("cloudwatch")
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNamePrefix=f"{name}-")["MetricAlarms"]}
    want_alarms = sorted(f"{name}-{a}" for a in ("lambda-errors", "lambda-throttles", "store-errors",
                                                  "store-drift",
                                                  "api-5xx", "api-latency-p99", "dynamodb-throttles",
                                                  "aggregates-errors", "aggregates-iterator-age",
                                                  "aggregates-failures"))
    c.equal(sorted(alarms), want_alarms, "alarms")
    c.equal(sorted(out["alarm_names"]), want_alarms, "output alarm_names")
    for a in alarms.values():
        c.equal((a.get("AlarmActions"), a.get("OKActions")), ([topic], [topic]),
                f"{a['AlarmName']} notifies the topic")
        c.equal(a.get("TreatMissingData"), "notBreaching", f"{a['AlarmName']} missing data")
    if len(alarms) == len(want_alarms):
        fn_dims = [{"Name": "FunctionName", "Value": name}]
        c.equal((alarms[f"{name}-lambda-errors"]["Namespace"], alarms[f"{name}-lambda-errors"]["MetricName"],
                 alarms[f"{name}-lambda-errors"]["Dimensions"]), ("AWS/Lambda", "Errors", fn_dims),
                "Lambda errors alarm")
        c.equal(alarms[f"{name}-lambda-throttles"]["MetricName"], "Throttles", "Lambda throttles alarm")
        c.equal((alarms[f"{name}-store-errors"]["Namespace"], alarms[f"{name}-store-errors"]["MetricName"],
                 alarms[f"{name}-store-errors"]["Dimensions"]), ("Footfall", "Errors", fn_dims),
                "EMF store errors alarm")
        c.equal((alarms[f"{name}-store-drift"]["Namespace"], alarms[f"{name}-store-drift"]["MetricName"],
                 alarms[f"{name}-store-drift"]["Dimensions"], alarms[f"{name}-store-drift"]["Statistic"]),
                ("Footfall", "StoreDriftVisits", fn_dims, "Sum"), "EMF store drift alarm")
        api_dims = ([{"Name": "ApiName", "Value": name}, {"Name": "Stage", "Value": "v1"}] if rest
                    else [{"Name": "ApiId", "Value": out["api_id"]}, {"Name": "Stage", "Value": "$default"}])
        a5 = alarms[f"{name}-api-5xx"]
        c.equal((a5["MetricName"], sorted(a5["Dimensions"], key=lambda d: d["Name"])),
                ("5XXError" if rest else "5xx", api_dims), "API 5xx alarm metric and dimensions")
        lat = alarms[f"{name}-api-latency-p99"]
        c.equal((lat["MetricName"], lat.get("ExtendedStatistic"), lat["Threshold"]),
                ("Latency", "p99", 1000.0), "API p99 latency alarm")
        agg_dims = [{"Name": "FunctionName", "Value": f"{name}-aggregates"}]
        for alarm, want in (
                ("aggregates-errors", ("AWS/Lambda", "Errors", agg_dims, "Sum", 0.0)),
                # IteratorAge is in milliseconds: the default 300 s.
                ("aggregates-iterator-age", ("AWS/Lambda", "IteratorAge", agg_dims, "Maximum", 300000.0)),
                ("aggregates-failures", ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                         [{"Name": "QueueName", "Value": f"{name}-aggregates-failures"}],
                                         "Maximum", 0.0))):
            a = alarms[f"{name}-{alarm}"]
            c.equal((a["Namespace"], a["MetricName"], a["Dimensions"], a.get("Statistic"), a["Threshold"]),
                    want, f"{alarm} alarm metric, statistic and threshold")
            c.equal((a.get("Period"), a.get("EvaluationPeriods"), a.get("ComparisonOperator")),
                    (300, 1, "GreaterThanThreshold"), f"{alarm} alarm: above the threshold over 5 minutes")
        ddb_alarm = alarms[f"{name}-dynamodb-throttles"]
        queries = {q["Id"]: q for q in ddb_alarm.get("Metrics", [])}
        c.equal(sorted(queries), ["reads", "throttles", "writes"], "DynamoDB throttle metric math")
        if "reads" in queries and "writes" in queries:
            c.equal([queries[q]["MetricStat"]["Metric"]["MetricName"] for q in ("reads", "writes")],
                    ["ReadThrottleEvents", "WriteThrottleEvents"], "DynamoDB throttle metrics")
            c.equal(queries["reads"]["MetricStat"]["Metric"]["Dimensions"],
                    [{"Name": "TableName", "Value": table}], "DynamoDB throttle alarm on this table")

    dash = cw.get_dashboard(DashboardName=name)
    body = json.loads(dash["DashboardBody"])
    metric_widgets = [w for w in body["widgets"] if w["type"] == "metric"]
    c.expect(len(metric_widgets) >= 4, "dashboard has metric widgets", len(metric_widgets))
    c.equal({w["properties"]["region"] for w in metric_widgets}, {REGION},
            "dashboard widgets use the provider's region")
    series = [m for w in metric_widgets for m in w["properties"]["metrics"]]
    for metric in ("VisitsRecorded", "StoreLatency", "Errors"):
        c.expect(any(s[:4] == ["Footfall", metric, "FunctionName", name] for s in series),
                 f"dashboard charts the metric Footfall/{metric} by FunctionName")
    # The functions log with FOOTFALL_METRICS=log: metric filters make their metrics.
    logs = aws("logs")
    for group, metrics in ((f"/aws/lambda/{name}", ("VisitsRecorded", "StoreLatency", "Errors",
                                                     "ColdStart", "StoreDriftVisits")),
                           (f"/aws/lambda/{name}-aggregates",
                            ("StreamVisitsApplied", "StreamRecordsAlreadyApplied",
                             "StreamRecordsSkipped", "Errors", "ColdStart"))):
        filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
        got = {f["metricTransformations"][0]["metricName"]: f for f in filters}
        c.equal(sorted(got), sorted(metrics), f"metric filters on {group}")
        for metric, f in got.items():
            t = f["metricTransformations"][0]
            c.equal((f["filterPattern"], t["metricNamespace"], t["metricValue"],
                     t.get("dimensions")),
                    ("{ $.%s >= 0 }" % metric, "Footfall", "$." + metric,
                     {"FunctionName": "$.FunctionName"}), f"metric filter {group} {metric}")
    for want in ([["Footfall", m, "FunctionName", f"{name}-aggregates"]
                  for m in ("StreamVisitsApplied", "StreamRecordsSkipped", "StreamRecordsAlreadyApplied")]
                 + [["AWS/Lambda", m, "FunctionName", f"{name}-aggregates"]
                    for m in ("Invocations", "Errors", "IteratorAge")]
                 + [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
                     f"{name}-aggregates-failures"]]):
        c.expect(want in [s[:4] for s in series], f"dashboard charts {' '.join(want)}")
    alarm_widgets = [w for w in body["widgets"] if w["type"] == "alarm"]
    c.equal(sorted(alarm_widgets[0]["properties"]["alarms"]) if alarm_widgets else None,
            sorted(a["AlarmArn"] for a in alarms.values()), "dashboard alarm widget")
    c.equal(out["dashboard_url"], f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region="
            f"{REGION}#dashboards/dashboard/{name}", "output dashboard_url")

    c.done("boto3, resources after apply")


def verify_maintenance(aws, c, name, out, function_arn, schedule):
    """The EventBridge rule that invokes the API function on a schedule (expired salts).

    moto 5.2.1 stores the rule, its target and tags and returns them as given; it never fires a
    schedule (and could not invoke the function without Docker), so only the configuration is
    checked here."""
    events = aws("events")
    rule_name = f"{name}-maintenance"
    rules = events.list_rules(NamePrefix=name)["Rules"]
    c.equal([r["Name"] for r in rules], [rule_name], "one EventBridge rule: the maintenance rule")
    rule = events.describe_rule(Name=rule_name)
    c.equal(out["maintenance_rule_name"], rule_name, "output maintenance_rule_name")
    c.equal(out["maintenance_rule_arn"], rule["Arn"], "output maintenance_rule_arn")
    c.equal((rule.get("ScheduleExpression"), rule.get("State"), rule.get("EventPattern")),
            (schedule, "ENABLED", None), "maintenance rule: enabled, on the schedule, no event pattern")
    c.equal(rule.get("EventBusName"), "default", "maintenance rule on the default bus")
    targets = events.list_targets_by_rule(Rule=rule_name)["Targets"]
    c.equal([(t.get("Id"), t.get("Arn")) for t in targets], [(name, function_arn)],
            "the maintenance rule's one target is the API function")
    if len(targets) == 1:
        c.equal([k for k in ("Input", "InputPath", "InputTransformer") if k in targets[0]], [],
                "the target sends EventBridge's standard Scheduled Event (no custom input)")
    c.equal(events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags"),
            [{"Key": "app", "Value": "footfall"}], "maintenance rule tags")


# What moto 5.2.1 cannot check about the aggregates path (found by running it; see also
# docs/aws-deploy.md, "How it is tested here"):
# - It stores and returns every setting of the event source mapping as given (starting position,
#   batch size, batching window, bisect, retries, record age, on-failure destination, filter,
#   function response types, tags), and those are checked below; it acts on none of them. It does
#   not batch, retry, bisect, honour batchItemFailures or send anything to the failure queue.
# - It ignores the filter: with a mapping on the table, every write to the table (the counter ADD
#   below too) makes moto invoke the function at once, inside the write request. Without Docker
#   the invocation fails ("error running docker" in the function's log group) and moto then drops
#   the shard's records, so the deployed stream cannot be read back. The filter is therefore
#   checked against the records of a scratch table's stream (same key, NEW_IMAGE, no mapping),
#   with our reading of Lambda's filter rules for the only two operators the pattern uses
#   (value lists and "exists").
# - It produces no Lambda or SQS metrics (Invocations, Errors, IteratorAge,
#   ApproximateNumberOfMessagesVisible) and no EMF metrics, so no alarm ever fires here.
# - It enforces no IAM policy: on AWS a role without the stream permissions fails
#   CreateEventSourceMapping; here only the policy documents are compared.
# - list_event_source_mappings(FunctionName=<name>) finds nothing (moto compares with the string
#   given at creation, here the ARN): the mapping is listed by its EventSourceArn.
# - A write to the table after the mapped function is deleted answers HTTP 500 (moto never unhooks
#   a deleted mapping from the table); the module deletes the counter items before the mapping.
# - Its stream records an UpdateItem that creates an item as two INSERTs (DynamoDB records one).
def verify_aggregates(aws, c, name, table, out, zip_path):
    """The second function, its role, the stream mapping and the failure queue."""
    agg = f"{name}-aggregates"
    queue_name = f"{name}-aggregates-failures"
    lam = aws("lambda")

    # --- The aggregates function: same package and runtime, its own role and environment ------
    fn = lam.get_function(FunctionName=agg)["Configuration"]
    c.equal(out["aggregates_function_name"], agg, "output aggregates_function_name")
    c.equal(out["aggregates_function_arn"], fn["FunctionArn"], "output aggregates_function_arn")
    c.equal((fn["Runtime"], fn["Handler"], fn["Architectures"]), ("provided.al2023", "bootstrap", ["x86_64"]),
            "aggregates runtime, handler, architecture")
    c.equal((fn["MemorySize"], fn["Timeout"]), (128, 60), "aggregates memory and timeout")
    c.equal(fn["Role"], f"arn:aws:iam::{ACCOUNT}:role/{agg}", "aggregates execution role")
    c.equal(fn["Role"], out["aggregates_role_arn"], "output aggregates_role_arn")
    c.equal(fn.get("TracingConfig", {}).get("Mode"), "Active", "aggregates X-Ray tracing")
    c.equal(fn.get("Environment", {}).get("Variables"), {
        "DYNAMODB_TABLE": table,
        "FOOTFALL_LOG_LEVEL": "info",
        "FOOTFALL_METRICS": "log",
        "FOOTFALL_AGGREGATES": "stream",
    }, "aggregates environment (exactly these keys)")
    with open(zip_path, "rb") as f:
        c.equal(fn["CodeSha256"], base64.b64encode(hashlib.sha256(f.read()).digest()).decode(),
                "aggregates function runs the same zip")
    c.equal(lam.get_function_concurrency(FunctionName=agg).get("ReservedConcurrentExecutions"), None,
            "aggregates function has no reserved concurrency")
    try:
        statements = json.loads(lam.get_policy(FunctionName=agg)["Policy"])["Statement"]
    except lam.exceptions.ResourceNotFoundException:
        statements = []
    c.equal(statements, [], "nothing may invoke the aggregates function (the mapping uses its role)")
    c.equal(out["aggregates_log_group"], f"/aws/lambda/{agg}", "output aggregates_log_group")

    # --- The failure queue --------------------------------------------------------------------
    sqs = aws("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    c.equal(out["aggregates_failure_queue_url"], url, "output aggregates_failure_queue_url")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}"
    c.equal(attrs.get("QueueArn"), queue_arn, "failure queue ARN")
    c.equal(out["aggregates_failure_queue_arn"], queue_arn, "output aggregates_failure_queue_arn")
    c.equal((attrs.get("SqsManagedSseEnabled"), attrs.get("KmsMasterKeyId")), ("true", None),
            "failure queue encrypted with SSE-SQS")
    c.equal(attrs.get("MessageRetentionPeriod"), "1209600", "failure queue keeps messages 14 days")
    c.equal(attrs.get("ApproximateNumberOfMessages"), "0", "failure queue empty")
    c.equal(sqs.list_queue_tags(QueueUrl=url).get("Tags"), {"app": "footfall"}, "failure queue tags")

    # --- The mapping from the table's stream to the function -----------------------------------
    esms = lam.list_event_source_mappings(EventSourceArn=out["stream_arn"])["EventSourceMappings"]
    c.equal(len(esms), 1, "one event source mapping on the table's stream")
    c.equal(len(lam.list_event_source_mappings()["EventSourceMappings"]), 1, "no other mapping")
    if len(esms) == 1:
        m = lam.get_event_source_mapping(UUID=esms[0]["UUID"])
        c.equal(m["UUID"], out["aggregates_event_source_mapping_id"], "output aggregates_event_source_mapping_id")
        c.equal(m.get("FunctionArn"), fn["FunctionArn"], "mapping invokes the aggregates function")
        c.equal(m.get("State"), "Enabled", "mapping enabled")
        c.equal({k: m.get(k) for k in ("StartingPosition", "BatchSize", "MaximumBatchingWindowInSeconds",
                                       "BisectBatchOnFunctionError", "MaximumRetryAttempts",
                                       "MaximumRecordAgeInSeconds", "FunctionResponseTypes")},
                {"StartingPosition": "TRIM_HORIZON", "BatchSize": 100, "MaximumBatchingWindowInSeconds": 5,
                 "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 10,
                 "MaximumRecordAgeInSeconds": 86400, "FunctionResponseTypes": ["ReportBatchItemFailures"]},
                "mapping settings (the module's defaults)")
        c.equal(m.get("DestinationConfig"), {"OnFailure": {"Destination": queue_arn}},
                "batches given up on go to the failure queue")
        filters = (m.get("FilterCriteria") or {}).get("Filters") or []
        c.equal(len(filters), 1, "one filter")
        pattern = None
        if len(filters) == 1:
            try:
                pattern = json.loads(filters[0].get("Pattern", ""))
            except ValueError:
                pass
            c.equal(pattern, AGGREGATES_FILTER, "filter: INSERTs of visits marked for the stream")
        c.equal(lam.list_tags(Resource=m["EventSourceMappingArn"]).get("Tags"), {"app": "footfall"},
                "mapping tags")
        if isinstance(pattern, dict):
            check_stream_filter(aws, c, f"{name}-filter-probe", pattern)

    # --- IAM: least privilege for the aggregates role -------------------------------------------
    iam = aws("iam")
    role = iam.get_role(RoleName=agg)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    c.equal([s["Principal"] for s in trust["Statement"]], [{"Service": "lambda.amazonaws.com"}],
            "only Lambda assumes the aggregates role")
    c.equal(iam.list_attached_role_policies(RoleName=agg)["AttachedPolicies"], [],
            "no managed policy on the aggregates role")
    c.equal(iam.list_role_policies(RoleName=agg)["PolicyNames"], [agg], "one inline policy on the aggregates role")
    doc = iam.get_role_policy(RoleName=agg, PolicyName=agg)["PolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    got = {s["Sid"]: (s["Effect"], sorted(s["Action"]), s["Resource"]) for s in doc["Statement"]}
    c.equal(got, {
        "VisitsStream": ("Allow", ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                         out["stream_arn"]),
        "ListVisitsStreams": ("Allow", ["dynamodb:ListStreams"], out["table_arn"] + "/stream/*"),
        "VisitsTable": ("Allow", ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem",
                                  "dynamodb:PutItem", "dynamodb:UpdateItem"], out["table_arn"]),
        "FailureQueue": ("Allow", ["sqs:SendMessage"], queue_arn),
        "OwnLogGroup": ("Allow", ["logs:CreateLogStream", "logs:PutLogEvents"],
                        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{agg}:*"),
        "XRay": ("Allow", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*"),
    }, "aggregates policy: the stream, the aggregate writes on the table, the queue, its logs, X-Ray")


def filter_matches(pattern, event):
    """Lambda event filtering, limited to what AGGREGATES_FILTER uses: nested objects, lists of
    allowed values, and {"exists": true|false}. A key is matched if any list entry matches."""
    for key, want in pattern.items():
        if isinstance(want, dict):
            if not isinstance(event.get(key), dict) or not filter_matches(want, event[key]):
                return False
            continue
        present = key in event
        ok = False
        for option in want:
            if isinstance(option, dict) and set(option) == {"exists"}:
                ok = ok or present == option["exists"]
            elif isinstance(option, dict):
                raise TestFailure(f"filter operator {option} is not understood by this test")
            else:
                ok = ok or (present and event[key] == option)
        if not ok:
            return False
    return True


def check_stream_filter(aws, c, scratch_table, pattern):
    """Writes what the store writes (a visit, a counter, an aggregate, a change and an expiry) to a
    scratch table with the deployed table's key and stream view, reads the records moto's stream
    made of them, and checks that the deployed filter passes exactly the visit's INSERT."""
    ddb, streams = aws("dynamodb"), aws("dynamodbstreams")
    ddb.create_table(TableName=scratch_table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "visit_id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "visit_id", "AttributeType": "S"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    try:
        visit = {"visit_id": {"S": "0190a8b2-7c4e-7d3a-9f00-000000000001"},
                 "timestamp": {"S": "2026-11-25T10:00:00.000Z"}, "site": {"S": "https://me.example"},
                 "path": {"S": "/"}, "expiration_time": {"N": "1803744000"},
                 "aggregates": {"S": "stream"}}
        # A visit its writer aggregated itself (a store without a stream consumer, or footfall
        # before the stream): never passed, or it would count twice.
        inline_visit = {k: v for k, v in visit.items() if k != "aggregates"}
        inline_visit["visit_id"] = {"S": "0190a8b2-7c4e-7d3a-9f00-000000000002"}
        add = {"UpdateExpression": "ADD #c :one", "ExpressionAttributeNames": {"#c": "count"},
               "ExpressionAttributeValues": {":one": {"N": "1"}}}
        ddb.put_item(TableName=scratch_table, Item=visit)                                     # INSERT visit
        ddb.put_item(TableName=scratch_table, Item=inline_visit)                              # INSERT visit
        ddb.update_item(TableName=scratch_table, Key={"visit_id": {"S": "total"}}, **add)   # INSERT counter
        ddb.update_item(TableName=scratch_table, Key={"visit_id": {"S": "total"}}, **add)   # MODIFY counter
        ddb.put_item(TableName=scratch_table, Item={                                        # INSERT aggregate
            "visit_id": {"S": "agg#632#18:https://me.example#01#h10#1:/"}, "agg_pk": {"S": "632#me"},
            "agg_sk": {"S": "01#h10#1:/"}, "count": {"N": "1"}, "hour": {"N": "10"}})
        ddb.update_item(TableName=scratch_table, Key={"visit_id": visit["visit_id"]},       # MODIFY visit
                        UpdateExpression="SET #a = :t", ExpressionAttributeNames={"#a": "applied"},
                        ExpressionAttributeValues={":t": {"BOOL": True}})
        ddb.delete_item(TableName=scratch_table, Key={"visit_id": visit["visit_id"]})       # REMOVE (TTL)
        arn = ddb.describe_table(TableName=scratch_table)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = streams.get_records(ShardIterator=it, Limit=100)["Records"]
        # moto records an UpdateItem that creates an item as two INSERTs (its key alone, then the
        # item), where DynamoDB records one: compare with repeats folded.
        kinds = [(r["eventName"], r["dynamodb"]["Keys"]["visit_id"]["S"]) for r in records]
        c.equal([k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k],
                [("INSERT", visit["visit_id"]["S"]), ("INSERT", inline_visit["visit_id"]["S"]),
                 ("INSERT", "total"), ("MODIFY", "total"),
                 ("INSERT", "agg#632#18:https://me.example#01#h10#1:/"),
                 ("MODIFY", visit["visit_id"]["S"]), ("REMOVE", visit["visit_id"]["S"])],
                "scratch stream records (moto)")
        passed = [(r["eventName"], r["dynamodb"]["Keys"]["visit_id"]["S"]) for r in records
                  if filter_matches(pattern, json.loads(json.dumps(r, default=str)))]
        c.equal(passed, [("INSERT", visit["visit_id"]["S"])],
                "the deployed filter passes the visit's INSERT and nothing else")
    finally:
        ddb.delete_table(TableName=scratch_table)


def check_access_log(c, settings, destination):
    c.equal(settings.get("destinationArn") or settings.get("DestinationArn"), destination,
            "access log destination")
    fmt = settings.get("format") or settings.get("Format") or ""
    try:
        fields = json.loads(fmt)
    except ValueError:
        fields = None
    c.expect(isinstance(fields, dict), "access log format is JSON", fmt)
    c.expect(not PRIVATE_LOG_FIELDS.search(fmt), "access log has no client address or identity", fmt)
    c.expect(isinstance(fields, dict) and "$context.requestId" in fields.values()
             and "$context.status" in fields.values(), "access log has request id and status", fmt)


def verify_rest_api(aws, c, sc, out, access_arn, zone_id):
    name = sc["name"]
    apigw = aws("apigateway")
    apis = [a for a in apigw.get_rest_apis()["items"] if a["name"] == name]
    c.equal(len(apis), 1, "one REST API")
    if len(apis) != 1:
        return
    api = apis[0]
    c.equal(api["id"], out["api_id"], "output api_id")
    c.equal(api.get("endpointConfiguration", {}).get("types"), ["REGIONAL"], "regional endpoint")
    c.equal(out["api_url"], f"https://{api['id']}.execute-api.{REGION}.amazonaws.com/v1", "output api_url")
    c.equal(out["routes"], ROUTES, "output routes: routes.json")
    base = f"https://{sc['custom_domain_name']}" if sc["custom_domain_name"] else out["api_url"]
    c.equal((out["stats_dashboard_url"], out["counter_badge_url_prefix"]),
            (f"{base}/dashboard", f"{base}/counter/"), "outputs: dashboard and badge URLs")

    # Every route of routes.json with an ANY method (and the badge's GET), on a resource per path
    # segment; nothing else has a method.
    resources = {r["path"]: r for r in apigw.get_resources(restApiId=api["id"], limit=500)["items"]}
    c.equal(sorted(resources), sorted(["/"] + REST_RESOURCE_PATHS), "REST resources: a resource per route segment")
    for path, res in resources.items():
        if path != "/":
            parent = path.rsplit("/", 1)[0] or "/"
            c.equal((res.get("parentId"), res.get("pathPart")),
                    (resources.get(parent, {}).get("id"), path.rsplit("/", 1)[1]), f"{path} under {parent}")
    got_methods = sorted(f"{m} {path}" for path, res in resources.items() for m in res.get("resourceMethods", {}))
    c.equal(got_methods, REST_METHOD_KEYS, "REST methods: ANY on every path of routes.json, and the badge's GET")
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    for key in REST_METHOD_KEYS:
        method, route = key.split(" ", 1)
        res = resources.get(route)
        if res:
            m = apigw.get_method(restApiId=api["id"], resourceId=res["id"], httpMethod=method)
            c.equal(m.get("authorizationType"), "NONE", f"{method} {route} is public")
            integ = m.get("methodIntegration", {})
            c.equal((integ.get("type"), integ.get("httpMethod")), ("AWS_PROXY", "POST"),
                    f"{method} {route} is a Lambda proxy")
            c.expect(fn_arn in integ.get("uri", ""), f"{method} {route} invokes the function",
                     integ.get("uri"))
            # The badge declares its cache key (path, site, Origin, If-None-Match); no other method
            # declares any.
            badge = (method, route) == BADGE_ROUTE
            c.equal(m.get("requestParameters") or {}, BADGE_CACHE_KEY if badge else {},
                    f"{method} {route} request parameters")
            c.equal(sorted(integ.get("cacheKeyParameters") or []), sorted(BADGE_CACHE_KEY) if badge else [],
                    f"{method} {route} cache key parameters")

    stage = apigw.get_stage(restApiId=api["id"], stageName="v1")
    c.expect(bool(stage.get("deploymentId")), "stage has a deployment")
    deployments = apigw.get_deployments(restApiId=api["id"])["items"]
    c.equal([d["id"] for d in deployments], [stage.get("deploymentId")], "exactly one deployment")
    c.equal(stage.get("tracingEnabled"), True, "stage X-Ray tracing")
    check_access_log(c, stage.get("accessLogSettings", {}), access_arn)
    settings = stage.get("methodSettings", {})
    ms = settings.get("*/*", {})
    c.equal((ms.get("throttlingRateLimit"), ms.get("throttlingBurstLimit")),
            (float(LOCAL_RATE), LOCAL_BURST), "stage throttling rate and burst")
    c.equal(ms.get("dataTraceEnabled"), False, "data trace off")
    c.equal(ms.get("loggingLevel"), "ERROR", "execution logging level")
    c.equal(ms.get("metricsEnabled"), False, "detailed metrics off")
    c.equal(ms.get("cachingEnabled"), False, "*/* never caches (GET /count must reach the function)")

    # The badge cache: a 0.5 GB cluster and one method override, which keeps the stage's throttle
    # and logging (an override replaces */* for its method).
    ttl = sc["badge_cache_ttl_s"]
    c.equal(out["badge_cache_ttl_s"], ttl, "output badge_cache_ttl_s")
    if ttl:
        c.equal((stage.get("cacheClusterEnabled"), stage.get("cacheClusterSize")), (True, "0.5"),
                "stage cache cluster, smallest size")
        c.equal(sorted(settings), sorted(["*/*", BADGE_METHOD_SETTING]), "method settings: */* and the badge")
        badge = settings.get(BADGE_METHOD_SETTING, {})
        c.equal({k: badge.get(k) for k in ("cachingEnabled", "cacheTtlInSeconds", "cacheDataEncrypted",
                                           "requireAuthorizationForCacheControl",
                                           "unauthorizedCacheControlHeaderStrategy")},
                {"cachingEnabled": True, "cacheTtlInSeconds": ttl, "cacheDataEncrypted": True,
                 "requireAuthorizationForCacheControl": True,
                 "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITHOUT_RESPONSE_HEADER"},
                "GET /counter/{proxy+} cached for badge_cache_ttl_s")
        same = ("throttlingRateLimit", "throttlingBurstLimit", "loggingLevel", "dataTraceEnabled", "metricsEnabled")
        c.equal({k: badge.get(k) for k in same}, {k: ms.get(k) for k in same},
                "the badge override keeps the stage's throttle and logging")
    else:
        c.equal(stage.get("cacheClusterEnabled"), False, "no cache cluster")
        c.equal(sorted(settings), ["*/*"], "method settings: */* only (throttles every route)")
    account = apigw.get_account()
    c.equal(account.get("cloudwatchRoleArn"), f"arn:aws:iam::{ACCOUNT}:role/{name}-apigateway-logs",
            "API Gateway account CloudWatch role")
    attached = aws("iam").list_attached_role_policies(RoleName=f"{name}-apigateway-logs")["AttachedPolicies"]
    c.equal([p["PolicyName"] for p in attached], ["AmazonAPIGatewayPushToCloudWatchLogs"],
            "API Gateway log role policy")

    # WAF on the stage.
    waf = aws("wafv2")
    stage_arn = f"arn:aws:apigateway:{REGION}::/restapis/{api['id']}/stages/v1"
    acl = waf.get_web_acl_for_resource(ResourceArn=stage_arn).get("WebACL") or {}
    c.equal(acl.get("Name"), f"{name}-api", "WAF web ACL associated with the stage")
    c.equal(acl.get("ARN"), out["web_acl_arn"], "output web_acl_arn")
    rules = {r["Name"]: r for r in acl.get("Rules", [])}
    c.equal(sorted(rules), ["aws-common-rule-set", "per-ip-rate-limit"], "WAF rules")
    if len(rules) == 2:
        mrg = rules["aws-common-rule-set"]["Statement"].get("ManagedRuleGroupStatement", {})
        c.equal((mrg.get("VendorName"), mrg.get("Name")), ("AWS", "AWSManagedRulesCommonRuleSet"),
                "managed common rule set")
        rate = rules["per-ip-rate-limit"]["Statement"].get("RateBasedStatement", {})
        c.equal((rate.get("Limit"), rate.get("AggregateKeyType")), (300, "IP"), "per-IP rate rule")
        c.equal(rate.get("ScopeDownStatement"), None,
                "the rate rule counts every request of an address, on every route")
        c.equal(list(rules["per-ip-rate-limit"].get("Action", {})), ["Block"], "rate rule blocks")

    # Custom domain.
    domain = "api.me.example"
    c.equal(out["custom_domain_url"], f"https://{domain}", "output custom_domain_url")
    dn = apigw.get_domain_name(domainName=domain)
    certs = aws("acm").list_certificates()["CertificateSummaryList"]
    cert = [x for x in certs if x["DomainName"] == domain]
    c.equal(len(cert), 1, "one ACM certificate for the domain")
    if cert:
        detail = aws("acm").describe_certificate(CertificateArn=cert[0]["CertificateArn"])["Certificate"]
        c.equal((detail["Status"], detail["DomainValidationOptions"][0].get("ValidationMethod")),
                ("ISSUED", "DNS"), "certificate issued through DNS validation")
        c.equal(dn.get("regionalCertificateArn"), cert[0]["CertificateArn"], "domain uses the certificate")
    c.equal(dn.get("endpointConfiguration", {}).get("types"), ["REGIONAL"], "regional domain name")
    c.equal(dn.get("securityPolicy"), "TLS_1_2", "domain TLS policy")
    maps = apigw.get_base_path_mappings(domainName=domain).get("items", [])
    c.equal([(m.get("restApiId"), m.get("stage")) for m in maps], [(api["id"], "v1")],
            "base path mapping to the stage")
    records = aws("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    alias = [r for r in records if r["Name"].rstrip(".") == domain and r["Type"] == "A"]
    c.equal(len(alias), 1, "A alias record for the domain")
    if alias:
        c.equal(alias[0].get("AliasTarget", {}).get("DNSName", "").rstrip("."),
                dn.get("regionalDomainName", "").rstrip("."), "alias points at the regional domain")
    c.expect(any(r["Type"] == "CNAME" and r["Name"].startswith("_") for r in records),
             "certificate validation CNAME record")


def verify_http_api(aws, c, sc, out, access_arn):
    name = sc["name"]
    v2 = aws("apigatewayv2")
    apis = [a for a in v2.get_apis()["Items"] if a["Name"] == name]
    c.equal(len(apis), 1, "one HTTP API")
    if len(apis) != 1:
        return
    api = apis[0]
    c.equal(api["ProtocolType"], "HTTP", "protocol")
    c.equal(api["ApiId"], out["api_id"], "output api_id")
    c.equal(api.get("CorsConfiguration"), None, "no built-in CORS (the handler answers preflight)")
    c.equal(out["api_url"], f"https://{api['ApiId']}.execute-api.{REGION}.amazonaws.com/", "output api_url")
    integrations = v2.get_integrations(ApiId=api["ApiId"])["Items"]
    c.equal(len(integrations), 1, "one integration")
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    if integrations:
        i = integrations[0]
        c.equal((i["IntegrationType"], i.get("PayloadFormatVersion")), ("AWS_PROXY", "2.0"),
                "Lambda proxy, payload 2.0")
        c.expect(fn_arn in i.get("IntegrationUri", ""), "integration invokes the function",
                 i.get("IntegrationUri"))
    c.equal(out["routes"], ROUTES, "output routes: routes.json")
    c.equal(out["badge_cache_ttl_s"], 0, "no cache on an HTTP API")
    c.equal((out["stats_dashboard_url"], out["counter_badge_url_prefix"]),
            (f"{out['api_url'].rstrip('/')}/dashboard", f"{out['api_url'].rstrip('/')}/counter/"),
            "outputs: dashboard and badge URLs")
    routes = v2.get_routes(ApiId=api["ApiId"])["Items"]
    c.equal(sorted(r["RouteKey"] for r in routes), API_ROUTE_KEYS, "HTTP routes: ANY on every path of routes.json")
    c.expect(all(r.get("AuthorizationType") in (None, "NONE") for r in routes), "every HTTP route is public",
             [r.get("AuthorizationType") for r in routes])
    if integrations:
        c.expect(all(r.get("Target") == f"integrations/{integrations[0]['IntegrationId']}" for r in routes),
                 "every route targets the integration")
    stages = v2.get_stages(ApiId=api["ApiId"])["Items"]
    c.equal([s["StageName"] for s in stages], ["$default"], "only the $default stage")
    if stages:
        s = stages[0]
        c.equal(s.get("AutoDeploy"), True, "auto deploy")
        rs = s.get("DefaultRouteSettings", {})
        c.equal((rs.get("ThrottlingRateLimit"), rs.get("ThrottlingBurstLimit")),
                (float(LOCAL_RATE), LOCAL_BURST), "stage throttling rate and burst")
        c.equal(rs.get("DetailedMetricsEnabled"), False, "detailed metrics off")
        c.equal(s.get("RouteSettings") or {}, {}, "no per-route settings: the default throttle covers every route")
        check_access_log(c, s.get("AccessLogSettings", {}), access_arn)
    c.equal(out["web_acl_arn"], None, "no WAF on an HTTP API")
    c.equal(out["custom_domain_url"], None, "no custom domain")


def verify_destroyed(aws, sc, out, zone_id):
    c = Checks()
    name = sc["name"]
    c.expect(out["table_name"] not in aws("dynamodb").list_tables()["TableNames"], "table deleted")
    c.equal([f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]
             if f["FunctionName"].startswith(name)], [], "functions deleted")
    c.equal(aws("lambda").list_event_source_mappings()["EventSourceMappings"], [],
            "event source mapping deleted")
    c.equal(aws("sqs").list_queues().get("QueueUrls", []), [], "failure queue deleted")
    c.equal([r["RoleName"] for r in aws("iam").list_roles()["Roles"] if r["RoleName"].startswith(name)],
            [], "roles deleted")
    c.equal([g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]
             if name in g["logGroupName"] or g["logGroupName"].startswith("API-Gateway-Execution-Logs_")],
            [], "log groups deleted")
    c.equal(aws("cloudwatch").describe_alarms(AlarmNamePrefix=f"{name}-")["MetricAlarms"], [],
            "alarms deleted")
    c.equal([d["DashboardName"] for d in aws("cloudwatch").list_dashboards()["DashboardEntries"]], [],
            "dashboard deleted")
    c.equal([t["TopicArn"] for t in aws("sns").list_topics()["Topics"]], [], "topic deleted")
    c.equal([r["Name"] for r in aws("events").list_rules()["Rules"]], [], "maintenance rule deleted")
    c.equal([s for s in aws("sns").list_subscriptions()["Subscriptions"]], [], "subscriptions deleted")
    if sc["api_type"] == "rest":
        c.equal([a["name"] for a in aws("apigateway").get_rest_apis()["items"]], [], "REST API deleted")
        c.equal(aws("wafv2").list_web_acls(Scope="REGIONAL")["WebACLs"], [], "web ACL deleted")
        c.equal(aws("apigateway").get_domain_names().get("items", []), [], "domain name deleted")
        c.equal(aws("acm").list_certificates()["CertificateSummaryList"], [], "certificate deleted")
        records = aws("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        c.equal(sorted(r["Type"] for r in records), ["NS", "SOA"], "DNS records deleted")
    else:
        c.equal([a["Name"] for a in aws("apigatewayv2").get_apis()["Items"]], [], "HTTP API deleted")
    c.done("boto3, after destroy")


# ---------------------------------------------------------------------------------------------

def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    commands = {
        "fmt": lambda: cmd_fmt(),
        "validate": lambda: cmd_validate(args[0]),
        "mock": lambda: cmd_mock(),
        "moto": lambda: cmd_moto(args[0]),
    }
    start = time.monotonic()
    try:
        if cmd == "all":
            for step in (cmd_fmt, lambda: cmd_validate("modules/footfall"),
                         lambda: cmd_validate("examples/aws"), lambda: cmd_validate("examples/local"),
                         cmd_mock, lambda: cmd_moto("rest"), lambda: cmd_moto("http")):
                step()
        elif cmd in commands:
            commands[cmd]()
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except TestFailure as e:
        fail_banner(str(e))
        return 1
    except IndexError:
        print(__doc__, file=sys.stderr)
        return 2
    log(f"PASS {' '.join(argv[1:])} ({time.monotonic() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
