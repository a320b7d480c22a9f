#!/usr/bin/env bash
# Install everything the tests need and run them all: lint, build, unit, mock, integration.
#   bash scripts/test.sh            (extra arguments go to pytest)
# Python packages come from requirements-dev.lock.txt, installed into the virtualenv build/test-venv
# (TEST_VENV to use another) and nothing else: what was tested is what a fresh machine installs.
# The runtime-import test also needs python3.12 (the Lambda runtime's version) on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Test speech comes from espeak-ng and sox; soundfile needs libsndfile.
# The local engines' tests need apertium with its English pairs and sox's mp3 format; the web tests need chromium.
if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null || ! command -v apertium >/dev/null \
    || ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq espeak-ng sox libsndfile1 libsox-fmt-mp3 \
      apertium apertium-eng-spa apertium-eng-cat apertium-en-gl chromium >/dev/null
  else
    echo "espeak-ng, sox or chromium are missing: install them (apt-get install espeak-ng sox libsndfile1 chromium) or the speech and browser tests are skipped" >&2
  fi
fi

venv="${TEST_VENV:-build/test-venv}"
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 needs its venv package for ensurepip.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq "python3.$(python3 -c 'import sys; print(sys.version_info[1])')-venv" >/dev/null
    fi
    rm -rf "$venv" && python3 -m venv "$venv"
  fi
fi
python="$venv/bin/python"
# Idempotent and fast: pip runs only when something differs from the lock.
if ! "$python" scripts/lock_satisfied.py requirements-dev.lock.txt >/dev/null; then
  "$python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock.txt
  unlocked=$("$python" scripts/lock_satisfied.py --unlocked requirements-dev.lock.txt)
  [ -z "$unlocked" ] || "$python" -m pip uninstall --quiet --yes $unlocked
fi
"$python" scripts/build_artifacts.py
"$python" -m ruff check .
"$python" -m pytest -q "$@"
