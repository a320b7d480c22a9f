"""Decode and validate the event's audio: base64 PCM16LE or a list of floats, resampled to 16 kHz.

Every problem is an ``AudioInputError`` (a ``common.envelope.ClientError`` with status 400)
with a stable code, checked before any large allocation where it can be (the duration
limit is checked on the encoded size first).
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from common.envelope import ClientError

TARGET_SAMPLE_RATE = 16000
MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 48000
# Float input may overshoot full scale by rounding in the sender; more is a wrong scale.
FLOAT_TOLERANCE = 1e-6

MISSING_AUDIO = "MISSING_AUDIO"
INVALID_AUDIO_TYPE = "INVALID_AUDIO_TYPE"
INVALID_BASE64 = "INVALID_BASE64"
ODD_BYTE_COUNT = "ODD_BYTE_COUNT"
EMPTY_AUDIO = "EMPTY_AUDIO"
NON_FINITE_AUDIO = "NON_FINITE_AUDIO"
SAMPLE_OUT_OF_RANGE = "SAMPLE_OUT_OF_RANGE"
AUDIO_TOO_LONG = "AUDIO_TOO_LONG"
INVALID_SAMPLE_RATE = "INVALID_SAMPLE_RATE"


class AudioInputError(ClientError):
    """The event's audio is missing, malformed, too long or at an unsupported rate (HTTP 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, status=400)


@dataclass(frozen=True)
class DecodedAudio:
    """Mono float32 samples in [-1, 1] at ``sample_rate`` (always ``TARGET_SAMPLE_RATE``)."""

    samples: np.ndarray
    sample_rate: int
    source_sample_rate: int

    @property
    def duration_seconds(self) -> float:
        """Length of the audio in seconds."""
        return self.samples.size / self.sample_rate


def validate_sample_rate(value: Any) -> int:
    """The sample rate as an int in [8000, 48000]; integral floats (16000.0) are accepted."""
    if value is None:
        raise AudioInputError(INVALID_SAMPLE_RATE, "sample_rate is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AudioInputError(INVALID_SAMPLE_RATE, "sample_rate must be an integer number of Hz")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise AudioInputError(INVALID_SAMPLE_RATE, "sample_rate must be an integer number of Hz")
    rate = int(value)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioInputError(INVALID_SAMPLE_RATE,
                              f"sample_rate must be between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz, got {rate}")
    return rate


def _check_duration(sample_count: int, rate: int, max_seconds: float) -> None:
    if sample_count / rate > max_seconds:
        raise AudioInputError(AUDIO_TOO_LONG,
                              f"audio is {sample_count / rate:.1f} s long; the limit is {max_seconds:g} s")


def decode_pcm16_base64(data: str, rate: int, max_seconds: float) -> np.ndarray:
    """Base64 of 16-bit little-endian mono PCM to float32 in [-1, 1)."""
    compact = "".join(data.split())  # tolerate line-wrapped base64 (MIME style)
    if not compact:
        raise AudioInputError(EMPTY_AUDIO, "audio_data is empty")
    # 4 base64 characters carry 3 bytes: refuse over-long audio before decoding it.
    _check_duration((len(compact) * 3 // 4 - 2) // 2, rate, max_seconds)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise AudioInputError(INVALID_BASE64, "audio_data is not valid base64") from None
    if not raw:
        raise AudioInputError(EMPTY_AUDIO, "audio_data is empty")
    if len(raw) % 2:
        raise AudioInputError(ODD_BYTE_COUNT,
                              f"audio_data holds {len(raw)} bytes; 16-bit PCM needs an even number")
    _check_duration(len(raw) // 2, rate, max_seconds)
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / np.float32(32768.0)


def decode_float_list(values: list, rate: int, max_seconds: float) -> np.ndarray:
    """A JSON list of floats in [-1, 1] to float32."""
    if not values:
        raise AudioInputError(EMPTY_AUDIO, "audio_data is empty")
    _check_duration(len(values), rate, max_seconds)
    # One pass over the element types: bool is an int subclass, and JSON true is no sample.
    kinds = set(map(type, values))
    if not kinds <= {int, float}:
        raise AudioInputError(INVALID_AUDIO_TYPE, "audio_data list must hold only numbers")
    try:
        samples = np.asarray(values, dtype=np.float64)
    except (OverflowError, ValueError):
        raise AudioInputError(INVALID_AUDIO_TYPE, "audio_data list must hold only numbers") from None
    if not np.isfinite(samples).all():
        raise AudioInputError(NON_FINITE_AUDIO, "audio_data contains NaN or infinite samples")
    if np.abs(samples).max() > 1.0 + FLOAT_TOLERANCE:
        raise AudioInputError(SAMPLE_OUT_OF_RANGE, "float samples must lie in [-1, 1]")
    return np.clip(samples, -1.0, 1.0).astype(np.float32)


def resample_linear(samples: np.ndarray, source_rate: int, target_rate: int = TARGET_SAMPLE_RATE) -> np.ndarray:
    """Linear-interpolation resampling (numpy only).

    No anti-alias filter on purpose: energy above the new Nyquist folds down instead of
    being removed, so the measured level stays the full-band level; vowel energy, which
    the syllable detector uses, lies below 4 kHz; and flat (clipped) tops stay flat, so the
    clipping ratio survives resampling.
    """
    if source_rate == target_rate or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    count = max(1, int(round(samples.size * target_rate / source_rate)))
    positions = np.arange(count, dtype=np.float64) * (source_rate / target_rate)
    return np.interp(positions, np.arange(samples.size, dtype=np.float64), samples).astype(np.float32)


def decode_audio(audio_data: Any, sample_rate: Any, max_seconds: float) -> DecodedAudio:
    """Validate and decode the event's ``audio_data`` and ``sample_rate``; resample to 16 kHz."""
    rate = validate_sample_rate(sample_rate)
    if audio_data is None:
        raise AudioInputError(MISSING_AUDIO, "audio_data is required")
    if isinstance(audio_data, str):
        samples = decode_pcm16_base64(audio_data, rate, max_seconds)
    elif isinstance(audio_data, list):
        samples = decode_float_list(audio_data, rate, max_seconds)
    else:
        raise AudioInputError(INVALID_AUDIO_TYPE,
                              "audio_data must be a base64 string of 16-bit PCM or a list of float samples")
    return DecodedAudio(resample_linear(samples, rate), TARGET_SAMPLE_RATE, rate)
