"""Speech volume: active speech level (dBFS) and clipping, classified into levels.

Speech has a 15-19 dB crest factor, so an RMS over the whole segment mostly measures how
much silence it contains. The level here is the P.56-style active speech level from
``emotion_dynamics.vad`` (energy over voice-active time), so leading and trailing silence
do not make a speaker read quieter. "Loud" speech usually clips, so the share of clipped
samples is reported beside the level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emotion_dynamics.vad import Activity

LOUD = "loud"
MEDIUM = "medium"
SOFT = "soft"
WHISPER = "whisper"
SILENT = "silent"
VOLUME_LEVELS = (LOUD, MEDIUM, SOFT, WHISPER, SILENT)

# |x| at or above this is a clipped sample (PCM16 full scale is 32767/32768 = 0.99997).
CLIP_LEVEL = 0.999
# A flat top of this many equal samples at the segment's peak is clipping too: audio that
# clipped in an analog stage or a codec and was attenuated afterwards never reaches 0.999.
MIN_FLAT_RUN = 3
# Below this peak, repeated samples are ordinary quantisation of quiet audio, not clipping.
MIN_FLAT_PEAK = 0.25


@dataclass(frozen=True)
class VolumeMeasurement:
    """Measured loudness of one segment."""

    dbfs: float             # active speech level; whole-segment level when silent
    clipping_ratio: float   # clipped samples / all samples
    silent: bool


def clipping_ratio(samples: np.ndarray) -> float:
    """Share of samples that are clipped: at full scale, or in flat tops at the segment's peak."""
    x = np.asarray(samples)
    if x.size == 0:
        return 0.0
    clipped = np.count_nonzero(x >= CLIP_LEVEL) + np.count_nonzero(x <= -CLIP_LEVEL)
    peak = max(float(x.max()), -float(x.min()))
    if MIN_FLAT_PEAK <= peak < CLIP_LEVEL:
        # Only the few samples at the peak are inspected: runs of consecutive indices.
        at_peak = np.flatnonzero((x >= peak) | (x <= -peak))
        if at_peak.size >= MIN_FLAT_RUN:
            breaks = np.flatnonzero(np.diff(at_peak) != 1)
            bounds = np.concatenate(([0], breaks + 1, [at_peak.size]))
            lengths = np.diff(bounds)
            clipped += int(lengths[lengths >= MIN_FLAT_RUN].sum())
    return float(clipped) / x.size


def measure_volume(samples: np.ndarray, activity: Activity) -> VolumeMeasurement:
    """Active speech level and clipping ratio of a segment (``activity`` from ``vad.detect_activity``)."""
    return VolumeMeasurement(activity.active_level_db, clipping_ratio(samples), activity.silent)


def classify_volume(dbfs: float, silent: bool, loud: float, medium: float, soft: float) -> str:
    """Volume level for an active speech level: at or above ``loud`` is loud, and so on down."""
    if silent:
        return SILENT
    if dbfs >= loud:
        return LOUD
    if dbfs >= medium:
        return MEDIUM
    if dbfs >= soft:
        return SOFT
    return WHISPER
