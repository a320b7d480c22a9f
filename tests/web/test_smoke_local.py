"""The smoke command (`python -m clients.smoke --local URL`) passes against local mode."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.web.conftest import ROOT


def test_smoke_command_passes_against_local_mode(local_url, speech_wav):
    done = subprocess.run([sys.executable, "-m", "clients.smoke", "--local", local_url, "--audio", str(speech_wav),
                           "--languages", "es,en", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-2])  # the JSON line, before "PASSED"
    assert report["passed"] and report["failure"] is None
    assert any(check.startswith("web client served at") for check in report["checks"])
    assert any(check.startswith("pause:") for check in report["checks"])
    assert any(check.startswith("resume:") for check in report["checks"])
    assert any(check.startswith("end:") for check in report["checks"])
    for language in ("es", "en"):
        assert report["figures"][f"{language}.first_caption_s"] > 0
        assert report["figures"][f"{language}.first_audio_s"] > 0
    assert "smoke: PASSED" in done.stdout
