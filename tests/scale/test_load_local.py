"""The load test at CI size: 2 sessions x 100 listeners on the local run (scripted engines, real sockets).

Runs ``bench/load_test.py`` as the benchmark does (the local run is a subprocess that prints READY),
so the load path cannot rot: nothing lost, nothing out of order, every delivery timed."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(not (ROOT / "local" / "__main__.py").is_file(), reason="the local run (local/) is not in this tree"),
    pytest.mark.skipif(importlib.util.find_spec("aiohttp") is None, reason="aiohttp (the local run's server) is not installed"),
]


def test_two_sessions_of_a_hundred_listeners_lose_nothing(tmp_path, built_artifacts):
    figures_file = tmp_path / "figures.json"
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load_test.py"), "--sessions", "2", "--listeners", "100", "--seconds", "30",
         "--drain", "20", "--state", str(tmp_path / "state"), "--json", str(figures_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert figures_file.is_file(), completed.stdout[-4000:] + completed.stderr[-4000:]
    figures = json.loads(figures_file.read_text())
    assert figures["listeners"] == 200
    assert figures["segments"] >= 4, "speech for 30 s must make segments"
    assert figures["lost"] == 0 and figures["incomplete"] == 0
    assert figures["outOfOrder"] == 0
    assert figures["closedEarly"] == 0
    # Every delivery timed, but for a segment whose log line the stop cut off (the last final of a stream).
    assert figures["latencyMs"]["samples"] >= 0.9 * figures["deliveries"] > 0
    assert completed.returncode == 0
