"""Every benchmark still runs and prints its figures, at a small size (the figures are not checked:
speed goals are read from the benchmarks' output, never asserted). A bench that no test runs
rots unseen: the system latency bench broke when tokens became access tokens."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BENCHES = [
    pytest.param(["phrase_latency_bench.py", "--seeds", "1", "--iterations", "1"], "word latency", id="phrase_latency"),
    pytest.param(["partial_results_bench.py", "--iterations", "2"], "us/event", id="partial_results"),
    pytest.param(["poster_bench.py", "--listeners", "20", "--runs", "1"], "ms/post", id="poster"),
    pytest.param(["fanout_bench.py", "--listeners", "20", "--segments", "1"], "20 listeners", id="fanout"),
    pytest.param(["broadcast_bench.py", "--listeners", "20", "--segments", "2"], "p95", id="broadcast"),
    pytest.param(["fault_report.py"], "faults survived", id="fault_report"),
    pytest.param(["system_latency_bench.py", "--listeners", "20"], "every word delivered once, in order: yes",
                 id="system_latency"),
    pytest.param(["local_engines_bench.py", "--runs", "1", "--calls", "3"], "espeak-ng", id="local_engines",
                 marks=pytest.mark.skipif(not (shutil.which("apertium") and shutil.which("espeak-ng")),
                                          reason="needs apertium and espeak-ng")),
]


@pytest.mark.parametrize(("command", "prints"), BENCHES)
def test_the_bench_runs_and_prints_its_figures(command, prints, built_artifacts):
    completed = subprocess.run([sys.executable, str(ROOT / "bench" / command[0]), *command[1:]], cwd=ROOT,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert prints in completed.stdout, completed.stdout[-3000:]
