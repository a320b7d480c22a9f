#!/usr/bin/env python3
"""Benchmark of emotion dynamics (volume + speaking rate) against a librosa-based detector.

For 3 s of 16 kHz speech (espeak-ng, or a synthetic syllable train when espeak-ng is
missing) it prints:

* warm analysis time: median of many runs of ``analyze_dynamics`` (goal < 2 ms);
* cold start: a fresh ``python`` process importing the analysis and running it once,
  timed inside the process and as the whole process (goal < 0.5 s), and the same for the
  Lambda handler module (which adds aws-lambda-powertools);
* the installed size of the hot path's dependencies (numpy + soundfile) and of
  the built layer zips (audio and common) the function deploys with;
* the same figures for the original design's detector (``librosa.feature.rms`` +
  ``librosa.onset.onset_detect``, onsets counted as words), including a cold start with an
  empty numba cache, which is what a Lambda container gets.

It prints figures and asserts nothing.

    python bench/emotion_dynamics_bench.py [--runs 500] [--skip-librosa] [--skip-empty-cache]
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
sys.path.insert(0, str(FUNCTIONS))

SAMPLE_RATE = 16000
SECONDS = 3.0
TEXT = ("Please remember to bring your passport and boarding pass to the airport tomorrow morning, "
        "and call me when you land.")


def speech_sample(workdir: Path) -> tuple[np.ndarray, str]:
    """3 s of 16 kHz float32 speech and a description of where it came from."""
    from emotion_dynamics.audio_input import resample_linear

    espeak = shutil.which("espeak-ng")
    if espeak:
        import soundfile as sf

        wav = workdir / "speech.wav"
        subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(wav), TEXT], check=True, capture_output=True)
        samples, rate = sf.read(str(wav), dtype="float32")
        samples = resample_linear(samples, rate, SAMPLE_RATE)
        source = "espeak-ng en-us -s 150"
    else:
        # Fallback: a 120 Hz harmonic tone, amplitude-modulated at 4.5 "syllables" per second.
        t = np.arange(int(SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
        tone = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 12))
        envelope = np.clip(np.sin(np.pi * 4.5 * t), 0, None) ** 2
        samples = (0.1 * tone * envelope).astype(np.float32)
        source = "synthetic syllable train (espeak-ng not installed)"
    n = int(SECONDS * SAMPLE_RATE)
    if samples.size < n:
        samples = np.concatenate([samples, np.zeros(n - samples.size, dtype=np.float32)])
    return np.ascontiguousarray(samples[:n]), source


def median_ms(fn, runs: int) -> tuple[float, float]:
    """Median and 95th percentile of ``fn()`` in milliseconds, after a few warm-up calls."""
    for _ in range(min(20, runs)):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def cold_start(code: str, npy: Path, env: dict[str, str] | None = None, timeout: float = 300) -> tuple[float, float]:
    """(seconds inside the process: imports + first analysis, seconds for the whole process)."""
    script = textwrap.dedent(f"""
        import time
        _t0 = time.perf_counter()
        import sys
        sys.path.insert(0, {str(FUNCTIONS)!r})
        import numpy as np
        samples = np.load({str(npy)!r})
    """) + textwrap.dedent(code) + "\nprint('COLD', time.perf_counter() - _t0)\n"
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, **(env or {})}, check=True)
    wall = time.perf_counter() - start
    inside = float(re.search(r"COLD ([0-9.eE+-]+)", out.stdout).group(1))
    return inside, wall


OURS_COLD = """
from emotion_dynamics.dynamics import DynamicsThresholds, analyze_dynamics
analyze_dynamics(samples, 16000, DynamicsThresholds())
"""
HANDLER_COLD = """
import os
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bench")
from emotion_dynamics import handler
from emotion_dynamics.dynamics import DynamicsThresholds, analyze_dynamics
analyze_dynamics(samples, 16000, DynamicsThresholds())
"""
LIBROSA_COLD = """
import librosa
rms = librosa.feature.rms(y=samples)
onsets = librosa.onset.onset_detect(y=samples, sr=16000)
"""


def librosa_detector(samples: np.ndarray) -> tuple[float, float]:
    """The original design's detector: RMS in dBFS and onsets per minute read as words per minute."""
    import librosa

    rms = librosa.feature.rms(y=samples)[0]
    dbfs = float(20 * np.log10(max(float(np.mean(rms)), 1e-12)))
    onsets = librosa.onset.onset_detect(y=samples, sr=SAMPLE_RATE)
    return dbfs, len(onsets) / (samples.size / SAMPLE_RATE) * 60.0


def dist_size(name: str) -> int:
    """Installed bytes of one distribution (from its RECORD)."""
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        return 0
    total = 0
    for f in dist.files or []:
        path = Path(dist.locate_file(f))
        if path.is_file():
            total += path.stat().st_size
    return total


def closure(name: str, seen: set[str] | None = None) -> set[str]:
    """The distribution and everything it requires (no extras), transitively."""
    seen = seen if seen is not None else set()
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return seen
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        return seen
    seen.add(key)
    for req in dist.requires or []:
        if "extra ==" in req:
            continue
        dep = re.match(r"[A-Za-z0-9_.\-]+", req).group(0)
        closure(dep, seen)
    return seen


def mb(n: int) -> str:
    return f"{n / 1e6:7.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description="Emotion dynamics benchmark")
    parser.add_argument("--runs", type=int, default=500, help="warm runs per detector (default 500)")
    parser.add_argument("--skip-librosa", action="store_true", help="leave out the librosa reference")
    parser.add_argument("--skip-empty-cache", action="store_true",
                        help="leave out librosa's cold start with an empty numba cache (about 30 s)")
    args = parser.parse_args()

    from emotion_dynamics.dynamics import DynamicsThresholds, analyze_dynamics

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        samples, source = speech_sample(workdir)
        npy = workdir / "speech.npy"
        np.save(npy, samples)
        thresholds = DynamicsThresholds()
        result = analyze_dynamics(samples, SAMPLE_RATE, thresholds)
        print(f"input: {SECONDS:g} s at {SAMPLE_RATE} Hz, {source}")
        print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs")
        print()
        print("numpy detector (emotion_dynamics.dynamics.analyze_dynamics)")
        print(f"  result: {result.to_dict()}")
        med, p95 = median_ms(lambda: analyze_dynamics(samples, SAMPLE_RATE, thresholds), args.runs)
        print(f"  warm volume + rate: median {med:.3f} ms, p95 {p95:.3f} ms over {args.runs} runs (goal < 2 ms)")
        inside, wall = cold_start(OURS_COLD, npy)
        print(f"  cold start (fresh process, import + first analysis): {inside * 1000:.0f} ms inside, "
              f"{wall * 1000:.0f} ms whole process (goal < 500 ms)")
        inside, wall = cold_start(HANDLER_COLD, npy)
        print(f"  cold start of the handler module (adds powertools): {inside * 1000:.0f} ms inside, "
              f"{wall * 1000:.0f} ms whole process")
        hot = {name: dist_size(name) for name in ("numpy", "soundfile")}
        print(f"  hot-path dependencies installed: {mb(sum(hot.values()))} "
              f"({', '.join(f'{k} {v / 1e6:.1f} MB' for k, v in hot.items())})")
        for layer in ("audio", "common"):
            built = ROOT / "build" / "layers" / f"{layer}.zip"
            if built.is_file():
                with zipfile.ZipFile(built) as archive:
                    unzipped = sum(info.file_size for info in archive.infolist())
                print(f"  layer {layer} (python scripts/build_artifacts.py): {mb(unzipped)} unzipped, "
                      f"{mb(built.stat().st_size)} zipped")
            else:
                print(f"  layer {layer}: not built (python scripts/build_artifacts.py)")

        if args.skip_librosa:
            return 0
        print()
        print("librosa reference (feature.rms + onset.onset_detect, onsets per minute as wpm)")
        try:
            import librosa  # noqa: F401
        except ImportError:
            print("  librosa not installed: skipped")
            return 0
        dbfs, wpm = librosa_detector(samples)
        print(f"  result: mean RMS {dbfs:.1f} dBFS, {wpm:.0f} onsets/min "
              f"(numpy detector: {result.volume.dbfs:.1f} dBFS active level, {result.rate.wpm:.0f} wpm)")

        import librosa as lr

        def run_librosa() -> None:
            lr.feature.rms(y=samples)
            lr.onset.onset_detect(y=samples, sr=SAMPLE_RATE)

        med, p95 = median_ms(run_librosa, max(20, args.runs // 5))
        print(f"  warm rms + onset_detect: median {med:.3f} ms, p95 {p95:.3f} ms over {max(20, args.runs // 5)} runs")
        inside, wall = cold_start(LIBROSA_COLD, npy)
        print(f"  cold start, numba cache warm on this machine: {inside * 1000:.0f} ms inside, {wall * 1000:.0f} ms whole")
        if not args.skip_empty_cache:
            with tempfile.TemporaryDirectory() as cache:
                inside, wall = cold_start(LIBROSA_COLD, npy, env={"NUMBA_CACHE_DIR": cache})
            print(f"  cold start, empty numba cache (a Lambda container): {inside * 1000:.0f} ms inside, "
                  f"{wall * 1000:.0f} ms whole")
        names = sorted(closure("librosa"))
        print(f"  librosa and its dependencies installed: {mb(sum(dist_size(n) for n in names))} ({len(names)} "
              f"distributions: {', '.join(names)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
