#!/usr/bin/env bash
# Install everything the tests need and run them all: lint, build, unit, mock, integration.
#   bash scripts/test.sh            (extra arguments go to pytest)
set -euo pipefail
cd "$(dirname "$0")/.."

# Test speech comes from espeak-ng and sox; soundfile needs libsndfile; the web tests need chromium.
if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null || ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq espeak-ng sox libsndfile1 chromium >/dev/null
  else
    echo "espeak-ng, sox or chromium are missing: install them (apt-get install espeak-ng sox libsndfile1 chromium) or the speech and browser tests are skipped" >&2
  fi
fi

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt
python3 scripts/build_artifacts.py
python3 -m ruff check .
python3 -m pytest -q "$@"
