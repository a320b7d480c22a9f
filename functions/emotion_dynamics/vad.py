"""Frame energies and an energy-based voice-activity detector, shared by volume and rate.

The detector follows ITU-T P.56 (active speech level, method B) in spirit: a frame is
active when its energy, held for 200 ms, exceeds a threshold that sits 15.9 dB below the
active level it produces. The threshold therefore follows the segment's own loud frames
(a quiet speaker is not "silent"), and an absolute floor keeps the noise of an empty
line from being measured as speech. Everything is computed on 10 ms frames with numpy
array operations, so a 3 s segment costs a few hundred microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_SECONDS = 0.010
# dBFS reported for digital silence: keeps every number finite (JSON has no -inf).
MIN_DBFS = -120.0
# P.56: the activity threshold lies this far below the active level it yields.
P56_MARGIN_DB = 15.9
# P.56 hangover: a frame stays active this long after the envelope drops (bridges stops).
HANGOVER_SECONDS = 0.200
# No threshold below this: 16-bit line noise and dither are not speech.
ABSOLUTE_FLOOR_DBFS = -70.0
# A segment whose loudest 10 ms frame stays below this is analysed as silence.
SILENCE_DBFS = -60.0
# Less voice activity than this (seconds) is analysed as silence too (a click is not speech).
MIN_ACTIVE_SECONDS = 0.05
# Speaking time counts frames this far above the noise floor (5th-percentile frame), so
# steady background noise that passes the P.56 threshold is not taken for speech.
NOISE_MARGIN_DB = 3.0
NOISE_FLOOR_PERCENTILE = 5.0
# ...but only when the segment has quiet frames at all: with less spread than this between
# its loudest frame and its floor it is one continuous sound (a held vowel, steady noise),
# and gating at its own floor would call all of it silence.
NOISE_GATE_MIN_SPREAD_DB = 12.0
# Pauses at least this long are not speaking time (de Jong & Wempe use 0.3 s).
LONG_PAUSE_SECONDS = 0.300

_TINY = 10.0 ** (MIN_DBFS / 10.0)


def frame_power(samples: np.ndarray, sample_rate: int, frame_seconds: float = FRAME_SECONDS) -> np.ndarray:
    """Mean square of each non-overlapping frame (float64); a short tail is dropped.

    Audio shorter than one frame yields a single frame over what there is.
    """
    hop = max(1, int(round(sample_rate * frame_seconds)))
    x = np.asarray(samples, dtype=np.float64)
    count = x.size // hop
    if count == 0:
        return np.array([float(np.mean(x * x))]) if x.size else np.zeros(0)
    frames = x[: count * hop].reshape(count, hop)
    # einsum avoids materialising x**2 for the whole segment.
    return np.einsum("ij,ij->i", frames, frames) / hop


def power_to_db(power: np.ndarray | float) -> np.ndarray:
    """Power (mean square, full scale = 1) to dBFS, floored at ``MIN_DBFS``."""
    return 10.0 * np.log10(np.maximum(power, _TINY))


def quantile(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile (0..1) by selection, without interpolation (cheaper than np.percentile)."""
    if values.size == 0:
        return MIN_DBFS
    k = min(values.size - 1, max(0, int(round(q * (values.size - 1)))))
    return float(np.partition(values, k)[k])


def trailing_max(values: np.ndarray, width: int) -> np.ndarray:
    """Running maximum over the last ``width`` frames (the frame itself included)."""
    if width <= 1 or values.size == 0:
        return values.copy()
    padded = np.concatenate([np.full(width - 1, -np.inf), values])
    return np.lib.stride_tricks.sliding_window_view(padded, width).max(axis=1)


def close_gaps(mask: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill runs of False shorter than ``max_gap`` frames that lie between True frames."""
    if max_gap <= 0 or not mask.any():
        return mask.copy()
    n = mask.size
    positions = np.arange(n)
    # Index of the nearest True at or before / at or after every frame (-1 / n when none).
    before = np.maximum.accumulate(np.where(mask, positions, -1))
    after = np.minimum.accumulate(np.where(mask, positions, n)[::-1])[::-1]
    inside = (before >= 0) & (after < n)
    return mask | (inside & (after - before - 1 < max_gap))


@dataclass(frozen=True)
class Activity:
    """Voice activity of one segment, on ``FRAME_SECONDS`` frames."""

    frame_db: np.ndarray          # level of every frame (dBFS)
    threshold_db: float           # activity threshold (dBFS)
    active: np.ndarray            # frames above the threshold and the noise floor (no hangover)
    active_level_db: float        # P.56 active speech level (dBFS); the whole segment's level when silent
    speaking_seconds: float       # active time with short gaps bridged and long pauses removed
    silent: bool                  # no speech-like activity at all


def detect_activity(power: np.ndarray, frame_seconds: float = FRAME_SECONDS) -> Activity:
    """Find the active frames, the active speech level and the speaking time of a segment.

    ``power`` is the per-frame mean square from ``frame_power``.
    """
    frame_db = power_to_db(power)
    n = frame_db.size
    empty = np.zeros(n, dtype=bool)
    if n == 0 or frame_db.max() < SILENCE_DBFS:
        overall = float(power_to_db(power.mean())) if n else MIN_DBFS
        return Activity(frame_db, SILENCE_DBFS, empty, overall, 0.0, True)

    hang = max(1, int(round(HANGOVER_SECONDS / frame_seconds)))
    held = np.sort(trailing_max(frame_db, hang + 1))
    total = float(power.sum())
    # Every candidate threshold at once: activity count via a sorted search, level per count.
    candidates = np.arange(ABSOLUTE_FLOOR_DBFS, float(frame_db.max()), 0.5)
    if candidates.size == 0:
        candidates = np.array([ABSOLUTE_FLOOR_DBFS])
    counts = n - np.searchsorted(held, candidates, side="right")
    counts = np.maximum(counts, 1)
    levels = 10.0 * np.log10(np.maximum(total / counts, _TINY))
    excess = levels - candidates
    below = np.flatnonzero(excess <= P56_MARGIN_DB)
    if below.size == 0:
        threshold = float(candidates[-1])
    elif below[0] == 0:
        threshold = float(candidates[0])
    else:
        # Linear interpolation of the crossing between the two bracketing candidates.
        i = int(below[0])
        e0, e1 = excess[i - 1], excess[i]
        frac = (e0 - P56_MARGIN_DB) / (e0 - e1) if e0 != e1 else 0.0
        threshold = float(candidates[i - 1] + frac * (candidates[i] - candidates[i - 1]))
    active_count = max(1, int(n - np.searchsorted(held, threshold, side="right")))
    active_level = float(10.0 * np.log10(max(total / active_count, _TINY)))

    noise_floor = quantile(frame_db, NOISE_FLOOR_PERCENTILE / 100.0)
    gate = threshold
    if float(frame_db.max()) - noise_floor >= NOISE_GATE_MIN_SPREAD_DB:
        gate = max(threshold, noise_floor + NOISE_MARGIN_DB)
    active = frame_db > gate
    active_seconds = float(active.sum()) * frame_seconds
    if active_seconds < MIN_ACTIVE_SECONDS:
        return Activity(frame_db, threshold, empty, float(power_to_db(power.mean())), 0.0, True)
    bridged = close_gaps(active, int(round(LONG_PAUSE_SECONDS / frame_seconds)))
    speaking = float(bridged.sum()) * frame_seconds
    return Activity(frame_db, threshold, active, active_level, speaking, False)
