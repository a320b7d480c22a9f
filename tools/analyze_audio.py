#!/usr/bin/env python3
"""Print the emotion dynamics of any audio file per window, to choose thresholds before deploying.

Loads the file with librosa (any format it reads, resampled to 16 kHz mono), runs the
same analysis as the Lambda (``emotion_dynamics.dynamics.analyze_dynamics``) on every
window, and prints time, active level (dBFS), volume level, clipping, words per minute
and rate level, then a summary with percentiles. Record a speaker talking softly,
normally and loudly, slowly and fast, read the figures, and set the thresholds with
``pulumi config set emotion:volumeLoudDb -12`` and so on.

    python tools/analyze_audio.py recording.m4a --window 3 --loud -12
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

# The analysis code lives with the Lambda functions; this tool runs from a checkout.
_FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
if str(_FUNCTIONS) not in sys.path:
    sys.path.insert(0, str(_FUNCTIONS))

from emotion_dynamics.dynamics import Dynamics, DynamicsThresholds, analyze_dynamics  # noqa: E402

SAMPLE_RATE = 16000
# Config keys the thresholds come from, for the suggested commands.
CONFIG_KEYS = {
    "volume_loud": "emotion:volumeLoudDb", "volume_medium": "emotion:volumeMediumDb", "volume_soft": "emotion:volumeSoftDb",
    "rate_very_slow": "emotion:rateVerySlowWpm", "rate_slow": "emotion:rateSlowWpm",
    "rate_medium": "emotion:rateMediumWpm", "rate_fast": "emotion:rateFastWpm",
}


def load_audio(path: str, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Any audio file librosa can read, as float32 mono at ``sample_rate``."""
    import librosa  # only the tool needs it; the Lambda never imports librosa

    samples, _ = librosa.load(path, sr=sample_rate, mono=True)
    return np.clip(samples.astype(np.float32), -1.0, 1.0)


def analyze_windows(samples: np.ndarray, sample_rate: int, thresholds: DynamicsThresholds,
                    window: float, hop: float | None = None) -> list[tuple[float, float, Dynamics]]:
    """(start s, end s, dynamics) for each window; a last partial window is kept if at least 1 s long."""
    size = max(1, int(round(window * sample_rate)))
    step = max(1, int(round((hop or window) * sample_rate)))
    results = []
    for start in range(0, max(1, samples.size), step):
        chunk = samples[start: start + size]
        if chunk.size < min(size, sample_rate) and start > 0:
            break
        results.append((start / sample_rate, (start + chunk.size) / sample_rate,
                        analyze_dynamics(chunk, sample_rate, thresholds)))
        if start + size >= samples.size:
            break
    return results


def summarize(rows: list[tuple[float, float, Dynamics]]) -> dict:
    """Level counts and percentiles of level and rate over the windows with speech."""
    speech = [d for _, _, d in rows if d.volume.level != "silent"]
    rated = [d.rate.wpm for d in speech if d.rate.wpm > 0]
    levels = [d.volume.dbfs for d in speech]

    def pct(values: list[float]) -> dict[str, float] | None:
        if not values:
            return None
        p = np.percentile(values, [10, 50, 90])
        return {"p10": round(float(p[0]), 1), "p50": round(float(p[1]), 1), "p90": round(float(p[2]), 1)}

    return {
        "windows": len(rows),
        "speech_windows": len(speech),
        "volume_levels": dict(Counter(d.volume.level for _, _, d in rows)),
        "rate_levels": dict(Counter(d.rate.level for _, _, d in rows)),
        "dbfs": pct(levels),
        "wpm": pct(rated),
        "max_clipping_ratio": max((d.volume.clipping_ratio for _, _, d in rows), default=0.0),
    }


def format_table(rows: list[tuple[float, float, Dynamics]]) -> str:
    """The per-window table."""
    lines = [f"{'time (s)':>15}  {'dBFS':>7}  {'volume':<8} {'clipping':>9}  {'wpm':>6}  rate"]
    for start, end, d in rows:
        lines.append(f"{start:6.1f} - {end:6.1f}  {d.volume.dbfs:7.1f}  {d.volume.level:<8} "
                     f"{d.volume.clipping_ratio * 100:8.3f}%  {d.rate.wpm:6.1f}  {d.rate.level}")
    return "\n".join(lines)


def format_summary(summary: dict, thresholds: DynamicsThresholds) -> str:
    """The summary block, with the thresholds in use as `pulumi config set` commands."""
    lines = ["", f"windows: {summary['windows']} ({summary['speech_windows']} with speech)",
             f"volume levels: {summary['volume_levels']}", f"rate levels: {summary['rate_levels']}"]
    if summary["dbfs"]:
        lines.append("active level dBFS  p10 {p10}  p50 {p50}  p90 {p90}".format(**summary["dbfs"]))
    if summary["wpm"]:
        lines.append("rate wpm          p10 {p10}  p50 {p50}  p90 {p90}".format(**summary["wpm"]))
    lines.append(f"max clipping: {summary['max_clipping_ratio'] * 100:.3f}% of samples")
    lines.append("thresholds used (set them per stack with):")
    for field, key in CONFIG_KEYS.items():
        lines.append(f"  pulumi config set {key} {getattr(thresholds, field):g}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    d = DynamicsThresholds()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("path", help="audio file (anything librosa reads: wav, flac, mp3, m4a, ogg...)")
    p.add_argument("--window", type=float, default=3.0, help="window length in seconds (default 3)")
    p.add_argument("--hop", type=float, default=None, help="step between windows in seconds (default: the window)")
    p.add_argument("--loud", type=float, default=d.volume_loud, help="loud threshold, dBFS")
    p.add_argument("--medium", type=float, default=d.volume_medium, help="medium volume threshold, dBFS")
    p.add_argument("--soft", type=float, default=d.volume_soft, help="soft threshold, dBFS")
    p.add_argument("--very-slow", type=float, default=d.rate_very_slow, help="very slow below this, wpm")
    p.add_argument("--slow", type=float, default=d.rate_slow, help="slow below this, wpm")
    p.add_argument("--medium-rate", type=float, default=d.rate_medium, help="medium rate below this, wpm")
    p.add_argument("--fast", type=float, default=d.rate_fast, help="fast below this (very fast above), wpm")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the tool; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.window <= 0 or (args.hop is not None and args.hop <= 0):
        print("error: --window and --hop must be positive", file=sys.stderr)
        return 2
    try:
        thresholds = DynamicsThresholds(args.loud, args.medium, args.soft, args.very_slow, args.slow,
                                        args.medium_rate, args.fast)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        samples = load_audio(args.path)
    except Exception as exc:  # noqa: BLE001 - librosa/soundfile/audioread raise many kinds
        print(f"error: cannot read {args.path}: {exc}", file=sys.stderr)
        return 1
    rows = analyze_windows(samples, SAMPLE_RATE, thresholds, args.window, args.hop)
    summary = summarize(rows)
    if args.json:
        print(json.dumps({"windows": [{"start": s, "end": e, **d.to_dict()} for s, e, d in rows],
                          "summary": summary}, indent=2))
    else:
        print(f"{args.path}: {samples.size / SAMPLE_RATE:.1f} s at {SAMPLE_RATE} Hz, {args.window:g} s windows")
        print(format_table(rows))
        print(format_summary(summary, thresholds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
