#!/usr/bin/env bash
# Run the whole backend on this machine, the deployed code unchanged:
#   bash scripts/local.sh [--stack dev|staging|prod] [--port 8787] [--state DIR] [--engine real|scripted]
# Installs what it needs (apt on Debian/Ubuntu, then pip into .venv, pinned), builds the Lambda
# zips when they are out of date, then runs `python -m local` (prints READY ws://127.0.0.1:<port>/ws).
# Quick when everything is installed: a stamp of the requirements skips pip. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=real
previous=""
for arg in "$@"; do
  [ "$previous" = "--engine" ] && engine="$arg"
  case "$arg" in --engine=*) engine="${arg#--engine=}" ;; esac
  previous="$arg"
done

# System packages: Python, and for the real engines espeak-ng (Polly), apertium with its pairs
# (Translate), sox with mp3 (audio formats), libsndfile (soundfile).
packages=(python3 python3-venv python3-pip libsndfile1)
if [ "$engine" = real ]; then
  packages+=(espeak-ng apertium apertium-eng-spa apertium-eng-cat apertium-en-gl sox libsox-fmt-mp3)
fi
missing=()
if command -v dpkg-query >/dev/null; then
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} (sudo)" >&2
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing system packages: ${missing[*]} (install them with apt-get)" >&2
    exit 1
  fi
fi

# Python packages, pinned, in the project's virtualenv.
venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamp="$venv/.local-requirements.sha256"
wanted="$(cat requirements-local.txt requirements.txt layers/*/requirements.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "installing Python packages (requirements-local.txt)" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-local.txt
  echo "$wanted" > "$stamp"
fi

# The Lambda zips the stack deploys (code zips are rebuilt each time: they are small and
# deterministic; layers only when their requirements change).
"$venv/bin/python" scripts/build_artifacts.py >/dev/null

exec "$venv/bin/python" -m local "$@"
