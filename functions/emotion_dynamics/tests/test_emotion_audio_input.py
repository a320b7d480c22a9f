"""Decoding and validation of the event's audio."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from emotion_dynamics.audio_input import (
    AudioInputError,
    decode_audio,
    resample_linear,
)
from emotion_dynamics.volume import clipping_ratio


def b64(samples_int16: np.ndarray) -> str:
    return base64.b64encode(samples_int16.astype("<i2").tobytes()).decode("ascii")


def code_of(audio_data, sample_rate=16000, max_seconds=30.0) -> str:
    with pytest.raises(AudioInputError) as info:
        decode_audio(audio_data, sample_rate, max_seconds)
    assert info.value.status == 400
    assert info.value.message
    return info.value.code


def test_pcm16_base64_decodes_to_float_in_range():
    pcm = np.array([0, 16384, -16384, 32767, -32768], dtype=np.int16)
    audio = decode_audio(b64(pcm), 16000, 30.0)
    assert audio.samples.dtype == np.float32
    assert list(audio.samples) == pytest.approx([0.0, 0.5, -0.5, 32767 / 32768, -1.0])
    assert audio.sample_rate == 16000 and audio.source_sample_rate == 16000


def test_line_wrapped_base64_is_accepted():
    text = b64(np.arange(1000, dtype=np.int16))
    wrapped = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    assert decode_audio(wrapped, 16000, 30.0).samples.size == 1000


def test_float_list_decodes():
    audio = decode_audio([0.0, 0.5, -1.0, 1.0, 0], 16000, 30.0)
    assert list(audio.samples) == pytest.approx([0.0, 0.5, -1.0, 1.0, 0.0])


@pytest.mark.parametrize(("audio_data", "code"), [
    (None, "MISSING_AUDIO"),
    ("", "EMPTY_AUDIO"),
    ("   ", "EMPTY_AUDIO"),
    ([], "EMPTY_AUDIO"),
    ("not base64!!", "INVALID_BASE64"),
    ("QUJD*", "INVALID_BASE64"),
    (base64.b64encode(b"abc").decode(), "ODD_BYTE_COUNT"),
    ([0.1, float("nan")], "NON_FINITE_AUDIO"),
    ([0.1, float("inf")], "NON_FINITE_AUDIO"),
    ([0.1, 1.5], "SAMPLE_OUT_OF_RANGE"),
    ([0.1, "0.2"], "INVALID_AUDIO_TYPE"),
    ([0.1, None], "INVALID_AUDIO_TYPE"),
    ([0.1, True], "INVALID_AUDIO_TYPE"),
    ([[0.1, 0.2]], "INVALID_AUDIO_TYPE"),
    ([10 ** 400], "INVALID_AUDIO_TYPE"),
    (12345, "INVALID_AUDIO_TYPE"),
    ({"data": "x"}, "INVALID_AUDIO_TYPE"),
])
def test_bad_audio_gets_a_stable_code(audio_data, code):
    assert code_of(audio_data) == code


@pytest.mark.parametrize("rate", [None, 7999, 48001, 0, -16000, 16000.5, "16000", True, float("nan"), [16000]])
def test_bad_sample_rates_are_refused(rate):
    assert code_of([0.0] * 10, rate) == "INVALID_SAMPLE_RATE"


def test_integral_float_sample_rate_is_accepted():
    assert decode_audio([0.0] * 10, 16000.0, 30.0).source_sample_rate == 16000


def test_too_long_audio_is_refused_before_decoding():
    # 2 s at 8 kHz with a 1 s limit, both encodings.
    assert code_of(b64(np.zeros(16000, np.int16)), 8000, 1.0) == "AUDIO_TOO_LONG"
    assert code_of([0.0] * 16000, 8000, 1.0) == "AUDIO_TOO_LONG"
    assert decode_audio(b64(np.zeros(8000, np.int16)), 8000, 1.0).duration_seconds == pytest.approx(1.0)


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])
def test_every_supported_rate_is_resampled_to_16k(rate):
    t = np.arange(rate) / rate
    pcm = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    audio = decode_audio(b64(pcm), rate, 30.0)
    assert audio.sample_rate == 16000
    assert audio.samples.size == pytest.approx(16000, abs=1)
    # Level preserved: RMS of a 0.5 sine is 0.354.
    assert float(np.sqrt(np.mean(audio.samples.astype(np.float64) ** 2))) == pytest.approx(0.354, abs=0.01)


def test_resampling_keeps_clipping_visible():
    t = np.arange(48000) / 48000
    clipped = np.clip(1.5 * np.sin(2 * np.pi * 100 * t), -1, 1).astype(np.float32)
    assert clipping_ratio(resample_linear(clipped, 48000)) == pytest.approx(clipping_ratio(clipped), abs=0.05)
