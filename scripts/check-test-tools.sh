#!/usr/bin/env bash
# Checks, before anything is built, the two test tools Debian does not package: moto (the
# DynamoDB-API server, with boto3) for the python3 on PATH, and Terraform with the AWS provider in
# the offline mirror that deploy/terraform/offline.tfrc names. Prints what is missing and the exact
# commands that install it on a machine with internet access; exits 1 if anything is missing.
# `make test` runs it first. Usage: scripts/check-test-tools.sh
set -uo pipefail
cd "$(dirname "$0")/.."

lock=deploy/terraform/examples/local/.terraform.lock.hcl
provider_version=$(sed -n 's/^ *version *= *"\([0-9.]*\)".*/\1/p' "$lock" | head -n 1)
mirror=/opt/tf-plugins/registry.terraform.io/hashicorp/aws/$provider_version/linux_amd64
missing=0

if ! python3 -c 'import moto, moto.server, boto3, botocore' 2>/dev/null; then
  missing=1
  cat >&2 <<EOF
check-test-tools: moto is not importable by $(command -v python3) (the tests' DynamoDB, Lambda,
  IAM, SQS, … API server, with boto3). Install it in a virtual environment and put it first on PATH:
    sudo apt-get install -y python3-venv
    python3 -m venv ~/.local/footfall-venv
    ~/.local/footfall-venv/bin/pip install 'moto[server]==5.2.1' boto3
    export PATH=~/.local/footfall-venv/bin:\$PATH
EOF
fi

terraform_version=$(terraform version -json 2>/dev/null | python3 -c \
  'import json, sys; print(json.load(sys.stdin)["terraform_version"])' 2>/dev/null)
if [[ -z "$terraform_version" ]] || ! python3 -c 'import sys; v = tuple(map(int, sys.argv[1].split(".")[:2])); sys.exit(v < (1, 9))' "$terraform_version"; then
  missing=1
  cat >&2 <<EOF
check-test-tools: Terraform >= 1.9 is not on PATH${terraform_version:+ (found $terraform_version)}.
  From HashiCorp's apt repository:
    sudo apt-get install -y wget gpg
    wget -O- https://apt.releases.hashicorp.com/gpg | sudo gpg --dearmor -o /usr/share/keyrings/hashicorp-archive-keyring.gpg
    echo "deb [signed-by=/usr/share/keyrings/hashicorp-archive-keyring.gpg] https://apt.releases.hashicorp.com bookworm main" | sudo tee /etc/apt/sources.list.d/hashicorp.list
    sudo apt-get update && sudo apt-get install terraform
EOF
fi

if ! ls "$mirror"/terraform-provider-aws* >/dev/null 2>&1; then
  missing=1
  cat >&2 <<EOF
check-test-tools: the Terraform AWS provider $provider_version is not in the offline mirror the tests
  use ($mirror). With Terraform installed and registry access:
    sudo mkdir -p /opt/tf-plugins && sudo chown "\$USER" /opt/tf-plugins
    (cd deploy/terraform/examples/local && terraform providers mirror -platform=linux_amd64 /opt/tf-plugins)
EOF
fi

if [[ $missing -ne 0 ]]; then
  echo "check-test-tools: nothing was built; run make test again once the above is installed" \
       "(README.md, \"Testing\")." >&2
  exit 1
fi
