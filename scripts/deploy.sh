#!/usr/bin/env bash
# Install everything and deploy one stack:   bash scripts/deploy.sh dev   (or staging, prod)
# Needs the Pulumi CLI and AWS credentials. Without a configured backend (PULUMI_BACKEND_URL or
# `pulumi login`), state goes to the local file backend under ~/.pulumi-state.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"
shift || true

if ! command -v pulumi >/dev/null; then
  echo "The Pulumi CLI is required: https://www.pulumi.com/docs/install/" >&2
  exit 1
fi

# Pulumi.yaml runs the program in ./venv.
[ -d venv ] || python3 -m venv venv
venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock.txt
venv/bin/python scripts/build_artifacts.py

if [ -z "${PULUMI_BACKEND_URL:-}" ] && ! pulumi whoami >/dev/null 2>&1; then
  mkdir -p "$HOME/.pulumi-state"
  pulumi login "file://$HOME/.pulumi-state"
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
fi
pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"
pulumi up --stack "$stack" "$@"
