"""Speaking rate in words per minute, from a transcript's word timings or acoustically.

With word timings (the live pipeline: Transcribe gives every word's start and end) the
rate is words over speaking time, exact up to the recogniser's timing. Without them
(the function called on its own, the calibration tool) it is syllable nuclei over
speaking time (``emotion_dynamics.syllable_nuclei``) divided by ``SYLLABLES_PER_WORD``.

Speaking time, in both cases, is the time from the first word (active frame) to the last
with every pause of ``LONG_PAUSE_SECONDS`` or more left out, so a speaker who stops to
think is not read as speaking slowly (de Jong & Wempe's "articulation rate").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from emotion_dynamics.syllable_nuclei import detect_nuclei
from emotion_dynamics.vad import LONG_PAUSE_SECONDS, Activity

VERY_SLOW = "very_slow"
SLOW = "slow"
MEDIUM = "medium"
FAST = "fast"
VERY_FAST = "very_fast"
UNKNOWN = "unknown"
RATE_LEVELS = (VERY_SLOW, SLOW, MEDIUM, FAST, VERY_FAST, UNKNOWN)

SOURCE_TRANSCRIPT = "transcript"
SOURCE_ACOUSTIC = "acoustic"
RATE_SOURCES = (SOURCE_TRANSCRIPT, SOURCE_ACOUSTIC)

# Syllables per word of running English speech. Counts of conversational and read English
# put it at about 1.3-1.5 (frequent function words are monosyllables; written text, with
# its longer content words, is nearer 1.5); 1.4 sits in the middle. Between single
# sentences it varies from about 1.1 to 1.7, which bounds the acoustic wpm error to about
# +-25% even with a perfect syllable count; the transcript path does not have this error.
SYLLABLES_PER_WORD = 1.4


@dataclass(frozen=True)
class RateMeasurement:
    """Measured speaking rate of one segment."""

    wpm: float                 # 0.0 when no speech was found
    source: str                # SOURCE_TRANSCRIPT or SOURCE_ACOUSTIC
    units: int                 # words (transcript) or syllable nuclei (acoustic)
    speaking_seconds: float


def acoustic_rate(samples: np.ndarray, sample_rate: int, power: np.ndarray, activity: Activity) -> RateMeasurement:
    """Words per minute estimated from syllable nuclei (``power``/``activity`` from ``vad``)."""
    nuclei = detect_nuclei(samples, sample_rate, power, activity)
    seconds = activity.speaking_seconds
    if nuclei.count == 0 or seconds <= 0:
        return RateMeasurement(0.0, SOURCE_ACOUSTIC, nuclei.count, seconds)
    wpm = nuclei.count / seconds * 60.0 / SYLLABLES_PER_WORD
    return RateMeasurement(wpm, SOURCE_ACOUSTIC, nuclei.count, seconds)


def validate_word_timings(word_timings: Iterable[Sequence[float]]) -> list[tuple[float, float]]:
    """Check and normalise (start, end) pairs in seconds; ``ValueError`` says what is wrong."""
    pairs: list[tuple[float, float]] = []
    for i, item in enumerate(word_timings):
        if isinstance(item, (str, bytes)) or not hasattr(item, "__len__") or len(item) != 2:
            raise ValueError(f"word timing {i} must be a [start, end] pair")
        start, end = item
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, end)):
            raise ValueError(f"word timing {i} must hold two numbers")
        start, end = float(start), float(end)
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
            raise ValueError(f"word timing {i} must satisfy 0 <= start <= end (finite seconds)")
        pairs.append((start, end))
    return pairs


def transcript_rate(word_timings: Sequence[tuple[float, float]]) -> RateMeasurement:
    """Words per minute from word (start, end) times: words over speaking time."""
    pairs = validate_word_timings(word_timings)
    if not pairs:
        return RateMeasurement(0.0, SOURCE_TRANSCRIPT, 0, 0.0)
    times = np.array(sorted(pairs), dtype=np.float64)
    starts, ends = times[:, 0], times[:, 1]
    # Covered time = union of the word intervals; gaps shorter than a long pause count too.
    reach = np.maximum.accumulate(ends)
    gaps = np.maximum(starts[1:] - reach[:-1], 0.0)
    span = float(reach[-1] - starts[0])
    speaking = span - float(gaps[gaps >= LONG_PAUSE_SECONDS].sum())
    if speaking <= 0:
        return RateMeasurement(0.0, SOURCE_TRANSCRIPT, len(pairs), 0.0)
    return RateMeasurement(len(pairs) / speaking * 60.0, SOURCE_TRANSCRIPT, len(pairs), speaking)


def classify_rate(wpm: float, very_slow: float, slow: float, medium: float, fast: float) -> str:
    """Rate level: below ``very_slow`` is very slow, ..., at or above ``fast`` very fast; 0 is unknown."""
    if not wpm > 0:
        return UNKNOWN
    if wpm < very_slow:
        return VERY_SLOW
    if wpm < slow:
        return SLOW
    if wpm < medium:
        return MEDIUM
    if wpm < fast:
        return FAST
    return VERY_FAST
