"""Syllable nuclei, speaking rate from word timings, rate levels."""

from __future__ import annotations

import numpy as np
import pytest
from emotion_dynamics.rate import (
    SOURCE_ACOUSTIC,
    SOURCE_TRANSCRIPT,
    SYLLABLES_PER_WORD,
    UNKNOWN,
    acoustic_rate,
    classify_rate,
    transcript_rate,
    validate_word_timings,
)
from emotion_dynamics.syllable_nuclei import detect_nuclei, prominent_peaks, voiced_mask
from emotion_dynamics.vad import detect_activity, frame_power

SR = 16000


def nuclei_rate(samples: np.ndarray) -> float:
    power = frame_power(samples, SR)
    activity = detect_activity(power)
    return detect_nuclei(samples, SR, power, activity).count / activity.speaking_seconds


@pytest.mark.parametrize("rate_hz", [2.0, 3.5, 5.0, 6.5, 8.0])
def test_nuclei_rate_of_a_syllable_train(train, rate_hz):
    assert nuclei_rate(train(rate_hz, 3.0, level=0.2)) == pytest.approx(rate_hz, abs=0.3)


def test_nuclei_ignore_loudness(train):
    assert nuclei_rate(train(4.0, 3.0, level=0.02)) == pytest.approx(nuclei_rate(train(4.0, 3.0, level=0.5)), abs=0.05)


def test_unvoiced_bursts_are_not_nuclei():
    rng = np.random.default_rng(1)
    t = np.arange(3 * SR) / SR
    noise_bursts = (0.2 * rng.standard_normal(t.size) * np.sin(np.pi * 4 * t) ** 2).astype(np.float32)
    assert nuclei_rate(noise_bursts) < 0.5


def test_dip_peak_dip_merges_shoulders_and_keeps_real_peaks():
    contour = np.array([-60, -40, -30, -31, -30.5, -45, -60, -35, -50, -60], dtype=float)
    # -30 and -30.5 are one nucleus (dip of 0.5 dB); -35 is a second one.
    assert list(prominent_peaks(contour)) == [2, 7]


def test_a_peak_needs_a_dip_on_both_sides():
    rising = np.array([-60, -50, -40, -30, -29, -29.5, -29.2], dtype=float)
    assert prominent_peaks(rising).size == 0


def test_voicing_separates_periodic_from_noise():
    t = np.arange(SR) / SR
    buzz = np.sign(np.sin(2 * np.pi * 110 * t)) * 0.3
    noise = np.random.default_rng(2).standard_normal(SR)
    centres = np.arange(400, SR - 400, 800)
    assert voiced_mask(buzz, SR, centres).all()
    assert not voiced_mask(noise, SR, centres).any()
    assert voiced_mask(noise, SR, np.zeros(0, dtype=int)).size == 0


def test_acoustic_rate_converts_syllables_to_words(train):
    x = train(5.0, 3.0, level=0.2)
    power = frame_power(x, SR)
    measured = acoustic_rate(x, SR, power, detect_activity(power))
    assert measured.source == SOURCE_ACOUSTIC
    assert measured.wpm == pytest.approx(measured.units / measured.speaking_seconds * 60 / SYLLABLES_PER_WORD)


def test_acoustic_rate_of_silence_is_zero():
    x = np.zeros(SR, np.float32)
    power = frame_power(x, SR)
    assert acoustic_rate(x, SR, power, detect_activity(power)).wpm == 0.0


def test_transcript_rate_counts_words_over_speaking_time():
    # 6 words in 2.4 s of speech -> 150 wpm.
    words = [(0.0, 0.3), (0.4, 0.8), (0.8, 1.2), (1.3, 1.6), (1.6, 2.0), (2.1, 2.4)]
    measured = transcript_rate(words)
    assert measured.source == SOURCE_TRANSCRIPT
    assert measured.wpm == pytest.approx(150.0)


def test_transcript_rate_leaves_out_long_pauses_and_sorts():
    words = [(2.4, 3.0), (0.0, 0.6)]  # unordered, with a 1.8 s pause
    assert transcript_rate(words).speaking_seconds == pytest.approx(1.2)
    assert transcript_rate(words).wpm == pytest.approx(100.0)


def test_transcript_rate_handles_overlaps_and_degenerate_input():
    assert transcript_rate([(0.0, 1.0), (0.5, 1.0)]).wpm == pytest.approx(120.0)
    assert transcript_rate([]).wpm == 0.0
    assert transcript_rate([(1.0, 1.0)]).wpm == 0.0


@pytest.mark.parametrize("bad", [
    [(1.0,)], [(0.0, "1")], [(-1.0, 1.0)], [(2.0, 1.0)], [(0.0, float("nan"))], ["ab"], [(True, 1.0)], [None],
])
def test_invalid_word_timings_are_rejected(bad):
    with pytest.raises(ValueError):
        validate_word_timings(bad)


@pytest.mark.parametrize(("wpm", "level"), [
    (0.0, UNKNOWN), (50.0, "very_slow"), (99.9, "very_slow"), (100.0, "slow"), (129.9, "slow"), (130.0, "medium"),
    (159.9, "medium"), (160.0, "fast"), (189.9, "fast"), (190.0, "very_fast"), (400.0, "very_fast"),
])
def test_classify_rate(wpm, level):
    assert classify_rate(wpm, 100.0, 130.0, 160.0, 190.0) == level
