"""Audio quality: WADA-SNR table and estimates, chunk figures, the monitor's issue reporting."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

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


def _espeak_pcm(rate: int, channels: int) -> np.ndarray:
    """espeak-ng speech converted by sox to raw 16-bit PCM at ``rate`` Hz with ``channels``."""
    wav = subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "--stdout",
                          "The speaker keeps talking about translation systems and the weather in the mountains"],
                         check=True, capture_output=True).stdout
    raw = subprocess.run(["sox", "-t", "wav", "-", "-t", "raw", "-e", "signed", "-b", "16", "-r", str(rate),
                          "-c", str(channels), "-"], input=wav, check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<i2")


@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None, reason="needs espeak-ng and sox")
def test_audio_that_is_not_16_khz_mono_speech_gets_a_format_warning():
    """48 kHz or stereo chunks are stored as 16 kHz mono (the buffer cannot tell): the quality check
    warns the speaker instead (docs/protocol.md, "Sending audio")."""
    from audio_transcription.quality import FORMAT_SAMPLE_RATE, FORMAT_STEREO, ISSUE_FORMAT, format_suspicion

    genuine, fast, stereo = _espeak_pcm(16000, 1), _espeak_pcm(48000, 1), _espeak_pcm(16000, 2)
    assert format_suspicion(genuine) is None
    assert format_suspicion(fast[:80000]) == FORMAT_SAMPLE_RATE
    assert format_suspicion(stereo[:80000]) == FORMAT_STEREO
    assert format_suspicion(_espeak_pcm(44100, 2)[:80000]) == FORMAT_STEREO
    monitor = QualityMonitor(poor_snr_db=-50.0, window_seconds=3.0)
    reports = [r for i in range(0, 48000, 1600) if (r := monitor.add(fast[i:i + 1600], float(i))) is not None]
    assert reports and ISSUE_FORMAT in reports[0].issues and reports[0].format_suspicion == FORMAT_SAMPLE_RATE
    clean = QualityMonitor(poor_snr_db=-50.0, window_seconds=3.0)
    reports = [r for i in range(0, genuine.size - 1600, 1600) if (r := clean.add(genuine[i:i + 1600], float(i))) is not None]
    assert reports and all(ISSUE_FORMAT not in r.issues for r in reports)


def test_noise_and_silence_are_not_format_suspects():
    from audio_transcription.quality import format_suspicion

    assert format_suspicion(mix(10.0)) is None
    assert format_suspicion(np.zeros(80000, dtype=np.int16)) is None


RECORDING = Path(__file__).resolve().parents[3] / "local" / "data" / "speech-en-us.flac"


def _sox_pcm(source: list[str], rate: int, stdin: bytes | None = None) -> np.ndarray:
    """Raw 16-bit mono PCM at ``rate`` Hz from a sox input (a file, or ``-t wav -`` with ``stdin``)."""
    raw = subprocess.run(["sox", *source, "-t", "raw", "-e", "signed", "-b", "16", "-r", str(rate), "-c", "1", "-"],
                         input=stdin, check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<i2")


@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None, reason="needs espeak-ng and sox")
def test_a_deep_natural_voice_is_not_a_format_suspect_but_slowed_voices_are():
    """The Piper recording (a low male voice) has under 1% of its energy above 2.5 kHz in its first
    5 s; its pitch (about 90 Hz) says it is real 16 kHz speech. Slowed voices (44.1/48 kHz read as
    16 kHz) are caught, a high one (espeak's female voice, 73-81 Hz once slowed) included."""
    from audio_transcription.quality import FORMAT_SAMPLE_RATE, format_suspicion

    voice = _sox_pcm([str(RECORDING)], 16000)
    for start in range(0, voice.size - 80000 + 1, 40000):
        assert format_suspicion(voice[start:start + 80000]) is None, start
    female_wav = subprocess.run(["espeak-ng", "-v", "en-us+f3", "-s", "160", "--stdout",
                                 "The speaker keeps talking about translation systems and the weather in the mountains"],
                                check=True, capture_output=True).stdout
    for captured in (44100, 48000):
        # Captured at 44.1/48 kHz and sent as if it were 16 kHz.
        for slowed in (_sox_pcm([str(RECORDING)], captured), _sox_pcm(["-t", "wav", "-"], captured, female_wav)):
            assert format_suspicion(slowed[:80000]) == FORMAT_SAMPLE_RATE, captured
