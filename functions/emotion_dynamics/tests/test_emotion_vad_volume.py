"""Voice activity, active speech level and clipping."""

from __future__ import annotations

import numpy as np
import pytest
from emotion_dynamics.vad import (
    MIN_DBFS,
    close_gaps,
    detect_activity,
    frame_power,
    power_to_db,
    quantile,
    trailing_max,
)
from emotion_dynamics.volume import (
    LOUD,
    MEDIUM,
    SILENT,
    SOFT,
    WHISPER,
    classify_volume,
    clipping_ratio,
    measure_volume,
)

SR = 16000


def level_of(samples: np.ndarray) -> float:
    activity = detect_activity(frame_power(samples, SR))
    return measure_volume(samples, activity).dbfs


def test_frame_power_of_a_sine_is_half_its_squared_amplitude():
    t = np.arange(SR) / SR
    power = frame_power(0.5 * np.sin(2 * np.pi * 200 * t), SR)
    assert power.shape == (100,)
    assert np.allclose(power, 0.125, rtol=1e-3)


def test_frame_power_handles_short_and_empty_input():
    assert frame_power(np.zeros(0), SR).size == 0
    assert frame_power(np.full(10, 0.5), SR) == pytest.approx([0.25])


def test_power_to_db_is_finite_for_zero():
    assert power_to_db(0.0) == pytest.approx(MIN_DBFS)
    assert power_to_db(1.0) == pytest.approx(0.0)


def test_helpers():
    assert list(trailing_max(np.array([1.0, 3.0, 2.0, 0.0, 0.0]), 2)) == [1.0, 3.0, 3.0, 2.0, 0.0]
    mask = np.array([1, 0, 0, 1, 0, 0, 0, 0, 1, 0], dtype=bool)
    assert list(close_gaps(mask, 3).astype(int)) == [1, 1, 1, 1, 0, 0, 0, 0, 1, 0]
    assert quantile(np.arange(101.0), 0.05) == 5.0


def test_silence_does_not_make_speech_quieter(train):
    speech = train(4.0, 2.0, level=0.2)
    padded = np.concatenate([np.zeros(3 * SR, np.float32), speech, np.zeros(3 * SR, np.float32)])
    assert level_of(padded) == pytest.approx(level_of(speech), abs=0.5)
    # A plain RMS would have dropped by 10*log10(8/2) = 6 dB.


def test_level_follows_gain(train):
    speech = train(4.0, 2.0, level=0.2)
    assert level_of(speech * 0.1) == pytest.approx(level_of(speech) - 20.0, abs=0.3)


def test_a_continuous_sound_is_active_not_silent():
    # A held vowel (or steady noise) has no quiet frames; it must not be gated away as "noise floor".
    t = np.arange(2 * SR) / SR
    tone = (0.1 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    activity = detect_activity(frame_power(tone, SR))
    assert not activity.silent
    assert activity.speaking_seconds == pytest.approx(2.0, abs=0.02)
    assert level_of(tone) == pytest.approx(20 * np.log10(0.1 / np.sqrt(2)), abs=0.2)
    noise = np.random.default_rng(3).normal(0, 0.1, 3 * SR).astype(np.float32)
    assert not detect_activity(frame_power(noise, SR)).silent


@pytest.mark.parametrize("samples", [
    np.zeros(SR, np.float32),
    np.full(SR, 1e-5, np.float32),                       # -100 dBFS DC: line noise, not speech
    np.random.default_rng(0).normal(0, 3e-4, SR).astype(np.float32),  # about -70 dBFS hiss
    np.zeros(0, np.float32),
])
def test_silence_is_analysed_as_silence(samples):
    activity = detect_activity(frame_power(samples, SR))
    assert activity.silent
    assert activity.speaking_seconds == 0.0
    assert np.isfinite(activity.active_level_db)


def test_a_single_click_is_silence():
    x = np.zeros(SR, np.float32)
    x[5000:5040] = 0.5
    assert detect_activity(frame_power(x, SR)).silent


def test_speaking_time_excludes_long_pauses(train):
    burst = train(4.0, 1.0, level=0.2)
    gap = np.zeros(SR, np.float32)
    activity = detect_activity(frame_power(np.concatenate([burst, gap, burst]), SR))
    assert 1.6 <= activity.speaking_seconds <= 2.1


def test_clipping_ratio_counts_full_scale_samples():
    x = np.zeros(1000, np.float32)
    x[:10] = 1.0
    x[10:15] = -1.0
    assert clipping_ratio(x) == pytest.approx(0.015)


def test_clipping_ratio_finds_flat_tops_below_full_scale():
    t = np.arange(SR) / SR
    clipped = np.clip(np.sin(2 * np.pi * 100 * t), -0.8, 0.8) * 0.5  # clipped, then attenuated
    ratio = clipping_ratio(clipped.astype(np.float32))
    assert 0.3 < ratio < 0.8


def test_clipping_ratio_is_zero_for_clean_and_quiet_audio():
    t = np.arange(SR) / SR
    assert clipping_ratio((0.9 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)) == 0.0
    quantised = np.round(0.01 * np.sin(2 * np.pi * 5 * t) * 32768) / 32768  # repeats, but quiet
    assert clipping_ratio(quantised.astype(np.float32)) == 0.0
    assert clipping_ratio(np.zeros(0)) == 0.0


@pytest.mark.parametrize(("dbfs", "silent", "level"), [
    (-5.0, False, LOUD), (-10.0, False, LOUD), (-15.0, False, MEDIUM), (-20.0, False, MEDIUM),
    (-25.0, False, SOFT), (-30.0, False, SOFT), (-30.1, False, WHISPER), (-90.0, False, WHISPER),
    (-5.0, True, SILENT),
])
def test_classify_volume(dbfs, silent, level):
    assert classify_volume(dbfs, silent, -10.0, -20.0, -30.0) == level
