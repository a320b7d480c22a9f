"""Audio quality: WADA-SNR table and estimates, chunk figures, the monitor's issue reporting."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pytest
from audio_transcription.quality import (
    _WADA_G,
    ISSUE_CLIPPING,
    ISSUE_LOW_SNR,
    ISSUE_SILENCE,
    QualityMonitor,
    chunk_figures,
    dbfs,
    pcm16,
    wada_snr,
    wada_table,
)


def speech_like(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = rng.gamma(0.4, 1.0, n) * rng.choice([-1.0, 1.0], n)
    return s / np.sqrt(np.mean(s**2))


def mix(snr_db: float, n: int = 80000, seed: int = 1, peak: float = 20000.0) -> np.ndarray:
    s = speech_like(n, seed)
    noise = np.random.default_rng(seed + 100).standard_normal(n) * 10 ** (-snr_db / 20)
    x = s + noise
    return (x / np.abs(x).max() * peak).astype(np.int16)


def test_the_table_is_what_the_model_gives():
    table = wada_table(samples=400_000, seed=7)
    assert np.all(np.diff(_WADA_G) > 0)
    assert np.max(np.abs(table - _WADA_G)) < 0.01
    # the two ends: Gaussian noise alone, and the Gamma(0.4) limit log(a) - digamma(a) = 1.645
    assert _WADA_G[0] == pytest.approx(0.5 * np.log(2 / np.pi) + (np.euler_gamma + np.log(2)) / 2, abs=0.002)
    assert _WADA_G[-1] < 1.645


@pytest.mark.parametrize("snr", [0, 5, 10, 15, 20])
def test_wada_snr_recovers_the_snr_of_the_model(snr):
    assert wada_snr(mix(snr)) == pytest.approx(snr, abs=1.5)


def test_wada_snr_is_level_independent_and_takes_floats():
    loud, quiet = mix(10, peak=30000), mix(10, peak=3000)
    assert wada_snr(loud) == pytest.approx(wada_snr(quiet), abs=0.5)
    assert wada_snr(loud.astype(np.float32) / 32768) == pytest.approx(wada_snr(loud), abs=1e-6)


def test_wada_snr_of_silence_and_short_input_is_none():
    assert wada_snr(np.zeros(16000, dtype=np.int16)) is None
    assert wada_snr(np.ones(100, dtype=np.int16)) is None
    assert wada_snr(np.ones((2, 8000), dtype=np.int16)) is None


@pytest.mark.speech
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
@pytest.mark.parametrize("snr", [0, 10, 20])
def test_wada_snr_on_synthetic_speech(snr):
    import soundfile as sf

    wav = subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "--stdout",
                          "The quick brown fox jumps over the lazy dog and runs into the forest."],
                         capture_output=True, check=True).stdout
    x, rate = sf.read(io.BytesIO(wav))
    idx = np.round(np.arange(0, len(x) * 16000 / rate) * rate / 16000).astype(int)
    x = x[idx[idx < len(x)]]
    active_power = np.mean(x[np.abs(x) > 0.01] ** 2)
    noise = np.random.default_rng(3).standard_normal(len(x)) * np.sqrt(active_power / 10 ** (snr / 10))
    estimate = wada_snr(((x + noise) * 0.5 * 32767).astype(np.int16))
    # the estimate covers pauses too, so it sits a little below the SNR of active speech
    assert snr - 3.5 <= estimate <= snr + 1.0


def test_chunk_figures():
    t = np.arange(1600) / 16000
    sine = (np.sin(2 * np.pi * 440 * t) * 16384).astype(np.int16)
    q = chunk_figures(sine)
    assert q.peak == pytest.approx(0.5, abs=0.001)
    assert q.rms_dbfs == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05)
    assert q.clipping_ratio == 0
    clipped = np.clip(sine.astype(np.int32) * 4, -32768, 32767).astype(np.int16)
    assert chunk_figures(clipped).clipping_ratio > 0.5
    assert chunk_figures(np.zeros(0, dtype=np.int16)).rms_dbfs == -120.0
    assert chunk_figures(pcm16(np.zeros(1600, dtype="<i2").tobytes())).rms_dbfs == -120.0
    assert dbfs(0) == -120.0


def test_monitor_reports_each_issue_at_most_once_per_interval():
    m = QualityMonitor(poor_snr_db=10, window_seconds=1.0, silence_seconds=3.0, notify_interval=60.0)
    noisy = mix(3, n=16000)
    reports = [m.add(noisy, now=float(t)) for t in range(5)]
    assert [r.issues for r in reports] == [(ISSUE_LOW_SNR,), (), (), (), ()]
    assert all(r.snr_db < 10 for r in reports)
    assert m.add(noisy, now=61.0).issues == (ISSUE_LOW_SNR,)


def test_monitor_windows_and_clipping_and_silence():
    m = QualityMonitor(poor_snr_db=10, window_seconds=1.0, silence_seconds=2.0)
    half = mix(20, n=8000)
    assert m.add(half, 0.0) is None  # half a window
    assert m.add(half, 0.5).seconds == 1.0
    loud = np.clip(mix(20, n=16000).astype(np.int32) * 8, -32768, 32767).astype(np.int16)
    assert ISSUE_CLIPPING in m.add(loud, 1.0).issues
    quiet = np.zeros(16000, dtype=np.int16)
    first = m.add(quiet, 2.0)
    assert first.silent and first.snr_db is None and first.issues == ()
    assert m.add(quiet, 3.0).issues == (ISSUE_SILENCE,)
    assert m.add(np.zeros(0, dtype=np.int16), 4.0) is None
