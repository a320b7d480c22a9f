#!/usr/bin/env bash
# Regenerate every lock file from the direct requirements, with a pinned uv, from PyPI:
#   bash scripts/lock.sh                          keep current pins, add/remove what the inputs changed
#   bash scripts/lock.sh --upgrade                move everything to the newest allowed versions
#   bash scripts/lock.sh --upgrade-package moto   move one package (and what it needs)
#
# inputs (edit these)              lock (generated; installs use only these)
#   requirements.txt               requirements.lock.txt        the Pulumi program, Python 3.11 and 3.12
#   layers/<name>/requirements.txt layers/<name>/requirements.lock.txt   Lambda python3.12, manylinux x86_64
#   requirements-dev.txt           requirements-dev.lock.txt    tests and tools, Python 3.11 and 3.12
#
# Layers are resolved together with the Lambda runtime's own SDK (layers/lambda-runtime.txt) as
# constraints, and their locks leave out what the runtime provides. The dev lock is constrained by
# the program and layer locks, so the tests run the versions that are deployed.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
tools=build/lock-tools
if ! "$tools/bin/uv" --version 2>/dev/null | grep -qx "uv $UV_VERSION"; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
uv="$tools/bin/uv"
work=build/lock-work
mkdir -p "$work"

runtime_provided=(boto3 botocore s3transfer jmespath urllib3 python-dateutil six)
no_emit_runtime=()
for package in "${runtime_provided[@]}"; do no_emit_runtime+=(--no-emit-package "$package"); done
compile() { "$uv" pip compile --quiet --custom-compile-command "bash scripts/lock.sh" "$@"; }

# The program (what `pulumi up` runs on the operator's machine).
compile requirements.txt --universal --fork-strategy fewest --python-version 3.11 -o requirements.lock.txt "$@"

# Every layer at once first, so a package two layers share (cffi, say) gets one version.
layers=(layers/*/requirements.txt)
lambda_target=(--python-version 3.12 --python-platform x86_64-manylinux_2_28 --only-binary :all:
               -c layers/lambda-runtime.txt)
compile "${layers[@]}" "${lambda_target[@]}" -o "$work/all-layers.txt" "$@"
for input in "${layers[@]}"; do
  compile "$input" "${lambda_target[@]}" -c "$work/all-layers.txt" "${no_emit_runtime[@]}" \
    -o "${input%.txt}.lock.txt" "$@"
done

# Tests and tools: the same versions as the program and the layers' code (the runtime's own SDK
# excepted: the tests use the boto3 that moto needs; the runtime-import test uses the runtime's).
runtime_pattern="^($(IFS='|'; echo "${runtime_provided[*]}"))=="
grep -vE "$runtime_pattern" "$work/all-layers.txt" > "$work/layer-constraints.txt"
compile requirements-dev.txt --universal --fork-strategy fewest --python-version 3.11 \
  -c requirements.lock.txt -c "$work/layer-constraints.txt" -o requirements-dev.lock.txt "$@"

echo "locked: requirements.lock.txt requirements-dev.lock.txt ${layers[*]/%requirements.txt/requirements.lock.txt}"
