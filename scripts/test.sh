#!/usr/bin/env bash
# Install everything the tests need and run them all: lint, build, unit, mock, integration.
#   bash scripts/test.sh            (extra arguments go to pytest)
set -euo pipefail
cd "$(dirname "$0")/.."

# Test speech comes from espeak-ng and sox; soundfile needs libsndfile.
# The local engines' tests need apertium with its English pairs and sox's mp3 format.
if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null || ! command -v apertium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq espeak-ng sox libsndfile1 libsox-fmt-mp3 \
      apertium apertium-eng-spa apertium-eng-cat apertium-en-gl >/dev/null
  else
    echo "espeak-ng and sox are missing: install them (apt-get install espeak-ng sox libsndfile1) or the speech tests are skipped" >&2
  fi
fi

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt
python3 scripts/build_artifacts.py
python3 -m ruff check .
python3 -m pytest -q "$@"
