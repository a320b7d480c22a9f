"""Volume and speaking rate of a speech segment: the public analysis entry point.

Other packages (translation pipeline, audio stream worker) import ``DynamicsThresholds``,
``analyze_dynamics`` and ``Dynamics`` from here rather than copying the analysis.

Silence: valid audio without speech (digital zero, line noise below -60 dBFS, or less than
50 ms of activity) is not an error. It is reported as volume level ``"silent"`` with the
whole segment's level in ``dbfs`` (floored at -120 dBFS so it stays a finite JSON number)
and, without word timings, rate level ``"unknown"`` with ``wpm`` 0.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from emotion_dynamics.rate import (
    RATE_LEVELS,
    RATE_SOURCES,
    acoustic_rate,
    classify_rate,
    transcript_rate,
)
from emotion_dynamics.vad import detect_activity, frame_power
from emotion_dynamics.volume import VOLUME_LEVELS, classify_volume, measure_volume


@dataclass(frozen=True)
class DynamicsThresholds:
    """Level boundaries: volume in dBFS of active speech, rate in words per minute.

    Volume: ``>= volume_loud`` loud, ``>= volume_medium`` medium, ``>= volume_soft`` soft,
    else whisper. Rate: ``< rate_very_slow`` very slow, ``< rate_slow`` slow,
    ``< rate_medium`` medium, ``< rate_fast`` fast, else very fast.
    """

    volume_loud: float = -10.0
    volume_medium: float = -20.0
    volume_soft: float = -30.0
    rate_very_slow: float = 100.0
    rate_slow: float = 130.0
    rate_medium: float = 160.0
    rate_fast: float = 190.0

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            raise ValueError("thresholds must be finite numbers")
        if not self.volume_loud > self.volume_medium > self.volume_soft:
            raise ValueError("volume thresholds must satisfy loud > medium > soft")
        if not 0 < self.rate_very_slow < self.rate_slow < self.rate_medium < self.rate_fast:
            raise ValueError("rate thresholds must satisfy 0 < very_slow < slow < medium < fast")

    @classmethod
    def from_settings(cls, settings: Any) -> DynamicsThresholds:
        """From an ``emotion_dynamics.settings.EmotionSettings`` (or anything with its attribute names)."""
        return cls(
            volume_loud=settings.volume_loud_threshold,
            volume_medium=settings.volume_medium_threshold,
            volume_soft=settings.volume_soft_threshold,
            rate_very_slow=settings.rate_very_slow_threshold,
            rate_slow=settings.rate_slow_threshold,
            rate_medium=settings.rate_medium_threshold,
            rate_fast=settings.rate_fast_threshold,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DynamicsThresholds:
        """From the VOLUME_* and RATE_* environment variables (defaults where unset)."""
        from emotion_dynamics.settings import EmotionSettings

        return cls.from_settings(EmotionSettings.from_env(env))

    @property
    def typical_wpm(self) -> float:
        """The middle of the "medium" band: the pace SSML treats as 100%."""
        return (self.rate_slow + self.rate_medium) / 2.0


@dataclass(frozen=True)
class VolumeDynamics:
    """Volume part of ``Dynamics``."""

    level: str
    dbfs: float
    clipping_ratio: float


@dataclass(frozen=True)
class RateDynamics:
    """Rate part of ``Dynamics``."""

    level: str
    wpm: float
    source: str


@dataclass(frozen=True)
class Dynamics:
    """How loud and how fast a segment was spoken."""

    volume: VolumeDynamics
    rate: RateDynamics

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{"volume": {"level", "dbfs", "clipping_ratio"}, "rate": {"level", "wpm", "source"}}``."""
        return {
            "volume": {"level": self.volume.level, "dbfs": self.volume.dbfs, "clipping_ratio": self.volume.clipping_ratio},
            "rate": {"level": self.rate.level, "wpm": self.rate.wpm, "source": self.rate.source},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dynamics:
        """Parse ``to_dict`` output back; ``ValueError`` when the shape or a value is wrong."""
        try:
            volume, rate = data["volume"], data["rate"]
            v_level, dbfs, clip = volume["level"], volume["dbfs"], volume["clipping_ratio"]
            r_level, wpm, source = rate["level"], rate["wpm"], rate["source"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"dynamics must have volume.level/dbfs/clipping_ratio and rate.level/wpm/source: {exc}") from None
        if v_level not in VOLUME_LEVELS:
            raise ValueError(f"volume.level must be one of {', '.join(VOLUME_LEVELS)}")
        if r_level not in RATE_LEVELS:
            raise ValueError(f"rate.level must be one of {', '.join(RATE_LEVELS)}")
        if source not in RATE_SOURCES:
            raise ValueError(f"rate.source must be one of {', '.join(RATE_SOURCES)}")
        numbers = {"volume.dbfs": dbfs, "volume.clipping_ratio": clip, "rate.wpm": wpm}
        for name, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number")
        if not 0 <= clip <= 1 or wpm < 0:
            raise ValueError("volume.clipping_ratio must be in [0, 1] and rate.wpm non-negative")
        return cls(VolumeDynamics(v_level, float(dbfs), float(clip)), RateDynamics(r_level, float(wpm), source))


def analyze_dynamics(
    samples: np.ndarray,
    sample_rate: int,
    thresholds: DynamicsThresholds,
    word_timings: list[tuple[float, float]] | None = None,
    *,
    timings: dict[str, float] | None = None,
) -> Dynamics:
    """Volume and speaking rate of a mono segment.

    ``samples`` are float mono in [-1, 1] (the handler resamples to 16 kHz; any rate from
    8 to 48 kHz works). With ``word_timings`` ((start, end) seconds of each transcribed
    word, non-empty) the rate comes from them (source "transcript"), else from syllable
    nuclei (source "acoustic"). If ``timings`` is a dict it receives ``volume_ms`` and
    ``rate_ms`` (the shared voice-activity pass is counted in ``volume_ms``).
    Raises ``ValueError`` for non-finite samples, a non-1-D array, a bad sample rate or
    malformed word timings.
    """
    x = np.asarray(samples)
    if x.ndim != 1:
        raise ValueError("samples must be a one-dimensional (mono) array")
    if x.dtype.kind != "f":
        raise ValueError("samples must be floats in [-1, 1] (divide 16-bit PCM by 32768)")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError("sample_rate must be a positive integer")
    if x.size and not np.isfinite(x).all():
        raise ValueError("samples must be finite (no NaN or infinity)")
    if word_timings is not None and len(word_timings) == 0:
        word_timings = None  # a transcript without words says nothing about pace

    t0 = time.perf_counter()
    # A DC offset (cheap microphones, some codecs) is energy but not sound: leave it out of
    # level and activity. Clipping is judged on the samples as they came.
    centred = x.astype(np.float64) - float(x.mean()) if x.size else x.astype(np.float64)
    power = frame_power(centred, int(sample_rate))
    activity = detect_activity(power)
    volume = measure_volume(x, activity)
    t1 = time.perf_counter()
    if word_timings is not None:
        rate = transcript_rate(word_timings)
    else:
        rate = acoustic_rate(centred, int(sample_rate), power, activity)
    t2 = time.perf_counter()
    if timings is not None:
        timings["volume_ms"] = (t1 - t0) * 1000.0
        timings["rate_ms"] = (t2 - t1) * 1000.0

    t = thresholds
    return Dynamics(
        VolumeDynamics(
            level=classify_volume(volume.dbfs, volume.silent, t.volume_loud, t.volume_medium, t.volume_soft),
            dbfs=round(float(volume.dbfs), 2),
            clipping_ratio=round(float(volume.clipping_ratio), 6),
        ),
        RateDynamics(
            level=classify_rate(rate.wpm, t.rate_very_slow, t.rate_slow, t.rate_medium, t.rate_fast),
            wpm=round(float(rate.wpm), 1),
            source=rate.source,
        ),
    )

