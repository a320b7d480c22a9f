"""Audio quality of the speaker's stream: level, clipping, silence and a blind SNR estimate.

numpy only (no scipy/librosa: Lambda's size limit). Two uses:

* ``chunk_figures`` - cheap per-chunk peak, RMS level and clipping ratio, computed by the
  ``sendAudio`` handler and stored with the chunk;
* ``QualityMonitor`` - the stream worker feeds it every chunk it sends to Transcribe and
  gets a ``QualityReport`` per window (default 5 s of audio) with WADA-SNR, clipping and
  silence, plus the issues the speaker should hear about (at most once per issue per
  ``notify_interval``).

WADA-SNR (Kim & Stern, Interspeech 2008) assumes clean speech amplitudes follow a Gamma
distribution with shape 0.4 and the noise is Gaussian; the statistic
``G = log(mean|x|) - mean(log|x|)`` then depends only on the SNR. ``_WADA_G`` tabulates G
for -20..100 dB (computed for this model with 4 million samples, see
``wada_table``); the estimate is reliable from about 0 to 20 dB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
FULL_SCALE = 32768.0
# A sample at or above this magnitude (99.9% of full scale) counts as clipped.
CLIP_LEVEL = 32735
# Below this RMS level a window is silence (no signal worth transcribing).
SILENCE_DBFS = -60.0
# Floor for |x| in the WADA statistic: an int16 zero stands for a value within half a step.
_ABS_FLOOR = 0.25 / FULL_SCALE
_DB_FLOOR = -120.0

ISSUE_LOW_SNR = "low_snr"
ISSUE_CLIPPING = "clipping"
ISSUE_SILENCE = "silence"
ISSUE_FORMAT = "format"

# The buffer cannot tell a chunk's format (it is raw PCM): 48 kHz or stereo audio sent as
# "16 kHz mono" is transcribed badly. Two cheap signatures in a window of voiced audio:
# interleaved stereo read as mono makes sample pairs (2k, 2k+1) nearly equal while pairs
# (2k+1, 2k+2) differ as usual; audio at 44.1/48 kHz read as 16 kHz is slowed down ~3x, so
# almost no energy is left above 2.5 kHz (espeak speech: 8-12% at 16 kHz, under 0.7% slowed)
# and the voice's pitch falls below a speaker's (a 225 Hz voice to 81 Hz, a 100 Hz one to 36 Hz).
# A deep natural voice can also have little energy up there (0.9% in a 5 s window of the
# Piper recording), so between 0.3% and 1% the pitch decides.
FORMAT_STEREO = "stereo"
FORMAT_SAMPLE_RATE = "sample_rate"
_PAIR_RATIO_STEREO = 0.2
_HIGH_BAND_HZ = 2500.0
_HIGH_BAND_MIN_SHARE = 0.01  # below this, the audio may be slowed ...
_HIGH_BAND_SURE_SHARE = 0.003  # ... below this it is, whatever the pitch
_SLOWED_PITCH_HZ = 85.0  # median pitch of voiced frames below this: slowed (the deep Piper voice: 91 Hz)
_PITCH_MIN_CORRELATION = 0.5  # a frame counts as pitched above this normalised autocorrelation
_FRAME = 2048
_VOICED_DBFS = -45.0
_MIN_VOICED_FRAMES = 8  # about 1 s of voiced audio before judging

_WADA_DB = np.arange(-20, 101, dtype=np.float64)
_WADA_G = np.array([
    0.4089, 0.4090, 0.4091, 0.4093, 0.4094, 0.4095, 0.4097, 0.4100, 0.4103, 0.4111, 0.4118, 0.4129,
    0.4146, 0.4165, 0.4194, 0.4233, 0.4283, 0.4343, 0.4416, 0.4510, 0.4616, 0.4740, 0.4885, 0.5050,
    0.5233, 0.5435, 0.5654, 0.5891, 0.6140, 0.6401, 0.6672, 0.6953, 0.7241, 0.7531, 0.7824, 0.8120,
    0.8413, 0.8704, 0.8990, 0.9274, 0.9552, 0.9825, 1.0091, 1.0350, 1.0603, 1.0848, 1.1082, 1.1309,
    1.1528, 1.1738, 1.1942, 1.2137, 1.2326, 1.2509, 1.2680, 1.2848, 1.3006, 1.3158, 1.3305, 1.3444,
    1.3577, 1.3704, 1.3826, 1.3943, 1.4056, 1.4164, 1.4265, 1.4363, 1.4458, 1.4547, 1.4633, 1.4715,
    1.4793, 1.4867, 1.4939, 1.5007, 1.5073, 1.5135, 1.5195, 1.5252, 1.5306, 1.5358, 1.5407, 1.5455,
    1.5500, 1.5543, 1.5583, 1.5622, 1.5659, 1.5694, 1.5728, 1.5761, 1.5792, 1.5821, 1.5850, 1.5877,
    1.5902, 1.5927, 1.5950, 1.5973, 1.5995, 1.6015, 1.6035, 1.6054, 1.6072, 1.6089, 1.6106, 1.6122,
    1.6137, 1.6151, 1.6165, 1.6179, 1.6191, 1.6203, 1.6215, 1.6226, 1.6236, 1.6246, 1.6255, 1.6265,
    1.6273,
])


def wada_table(samples: int = 4_000_000, seed: int = 20080901) -> np.ndarray:
    """Recompute ``_WADA_G`` (G for -20..100 dB) by Monte Carlo; used by the tests, not at runtime."""
    rng = np.random.default_rng(seed)
    shape = 0.4
    speech = rng.gamma(shape, 1.0, samples) * rng.choice([-1.0, 1.0], samples)
    noise = rng.standard_normal(samples)
    out = np.empty(_WADA_DB.size)
    for i, db in enumerate(_WADA_DB):
        sigma = np.sqrt(shape * (shape + 1) / 10 ** (db / 10))
        z = np.maximum(np.abs(speech + sigma * noise), 1e-300)
        out[i] = np.log(z.mean()) - np.log(z).mean()
    return out


def pcm16(pcm: bytes) -> np.ndarray:
    """16-bit little-endian PCM bytes as an int16 array (no copy)."""
    return np.frombuffer(pcm, dtype="<i2")


def to_float(samples: np.ndarray) -> np.ndarray:
    """int16 samples as float32 in [-1, 1)."""
    return samples.astype(np.float32) / np.float32(FULL_SCALE)


def dbfs(rms: float) -> float:
    """RMS (full scale = 1.0) in dBFS, floored at -120."""
    return _DB_FLOOR if rms <= 0 else max(_DB_FLOOR, 20.0 * float(np.log10(rms)))


@dataclass(frozen=True)
class ChunkQuality:
    """Cheap figures of one chunk: peak (0-1 of full scale), RMS level (dBFS), clipped share."""

    peak: float
    rms_dbfs: float
    clipping_ratio: float


def chunk_figures(samples: np.ndarray) -> ChunkQuality:
    """Peak, RMS level and clipping ratio of int16 samples."""
    if samples.size == 0:
        return ChunkQuality(0.0, _DB_FLOOR, 0.0)
    wide = samples.astype(np.int32)
    magnitude = np.abs(wide)
    peak = float(magnitude.max()) / FULL_SCALE
    rms = float(np.sqrt(np.mean(wide.astype(np.float64) ** 2))) / FULL_SCALE
    clipped = float(np.count_nonzero(magnitude >= CLIP_LEVEL)) / samples.size
    return ChunkQuality(round(peak, 5), round(dbfs(rms), 2), round(clipped, 6))


def wada_snr(samples: np.ndarray) -> float | None:
    """Blind SNR estimate (dB, clamped to -20..100) of int16 or float samples; None for silence."""
    arr = np.asarray(samples)
    if arr.ndim != 1 or arr.size < SAMPLE_RATE // 10:
        return None
    x = arr.astype(np.float64)
    if np.issubdtype(arr.dtype, np.integer):
        x /= FULL_SCALE
    magnitude = np.abs(x)
    if magnitude.max() <= _ABS_FLOOR:
        return None
    magnitude = np.maximum(magnitude, _ABS_FLOOR)
    g = float(np.log(magnitude.mean()) - np.log(magnitude).mean())
    return float(np.interp(g, _WADA_G, _WADA_DB))


def format_suspicion(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> str | None:
    """``FORMAT_STEREO`` or ``FORMAT_SAMPLE_RATE`` when int16 ``samples`` do not look like 16 kHz
    mono speech, None when they do (or there is too little voiced audio to tell)."""
    x = np.asarray(samples, dtype=np.float64)
    frames = [x[i:i + _FRAME] for i in range(0, x.size - _FRAME + 1, _FRAME)]
    voiced = [f for f in frames if dbfs(float(np.sqrt(np.mean(f * f))) / FULL_SCALE) > _VOICED_DBFS]
    if len(voiced) < _MIN_VOICED_FRAMES:
        return None
    v = np.concatenate(voiced)
    n = (v.size - 2) // 2 * 2
    within = float(np.mean(np.abs(v[0:n:2] - v[1:n + 1:2])))
    across = float(np.mean(np.abs(v[1:n + 1:2] - v[2:n + 2:2])))
    if max(within, across) > 0 and min(within, across) / max(within, across) < _PAIR_RATIO_STEREO:
        return FORMAT_STEREO
    window = np.hanning(_FRAME)
    freqs = np.fft.rfftfreq(_FRAME, 1.0 / sample_rate)
    high = total = 0.0
    for frame in voiced:
        power = np.abs(np.fft.rfft(frame * window)) ** 2
        high += float(power[freqs >= _HIGH_BAND_HZ].sum())
        total += float(power.sum())
    if total <= 0 or high / total >= _HIGH_BAND_MIN_SHARE:
        return None
    if high / total < _HIGH_BAND_SURE_SHARE:
        return FORMAT_SAMPLE_RATE
    pitch = median_pitch_hz(voiced, sample_rate)
    return FORMAT_SAMPLE_RATE if pitch is not None and pitch < _SLOWED_PITCH_HZ else None


def median_pitch_hz(frames: list[np.ndarray], sample_rate: int = SAMPLE_RATE) -> float | None:
    """Median fundamental frequency of the clearly pitched ``frames`` (autocorrelation peak
    between 25 and 400 Hz), or None when none is pitched."""
    low, high = int(sample_rate / 400), int(sample_rate / 25)
    pitches = []
    for frame in frames:
        if high >= frame.size:
            continue
        f = frame - frame.mean()
        ac = np.fft.irfft(np.abs(np.fft.rfft(f, 2 * f.size)) ** 2)[:f.size]
        if ac[0] <= 0:
            continue
        lag = low + int(np.argmax(ac[low:high]))
        if ac[lag] / ac[0] > _PITCH_MIN_CORRELATION:
            pitches.append(sample_rate / lag)
    return float(np.median(pitches)) if pitches else None


@dataclass(frozen=True)
class QualityReport:
    """Quality of one window of stream audio."""

    seconds: float
    rms_dbfs: float
    clipping_ratio: float
    snr_db: float | None  # None when the window is silent
    silent: bool
    issues: tuple[str, ...] = ()  # issues to tell the speaker about now (already rate-limited)
    format_suspicion: str | None = None  # FORMAT_STEREO | FORMAT_SAMPLE_RATE | None


class QualityMonitor:
    """Windows of stream audio in, quality reports out; decides which issues to report.

    Low SNR and clipping are judged per window; silence is reported once the audio has been
    silent for ``silence_seconds`` in a row (chunks keep coming but carry nothing, e.g. a
    muted microphone). Each issue is reported at most once per ``notify_interval`` seconds of
    the caller's clock.
    """

    def __init__(self, poor_snr_db: float, poor_clipping_ratio: float = 0.01, window_seconds: float = 5.0,
                 silence_seconds: float = 10.0, notify_interval: float = 60.0, sample_rate: int = SAMPLE_RATE) -> None:
        self.poor_snr_db = poor_snr_db
        self.poor_clipping_ratio = poor_clipping_ratio
        self.window = max(1, int(window_seconds * sample_rate))
        self.silence_seconds = silence_seconds
        self.notify_interval = notify_interval
        self.sample_rate = sample_rate
        self._parts: list[np.ndarray] = []
        self._count = 0
        self._silent_run = 0.0
        self._last_notified: dict[str, float] = {}

    def add(self, samples: np.ndarray, now: float) -> QualityReport | None:
        """Add int16 samples; returns a report each time a full window has accumulated."""
        if samples.size == 0:
            return None
        self._parts.append(samples)
        self._count += samples.size
        if self._count < self.window:
            return None
        window = np.concatenate(self._parts)
        self._parts, self._count = [], 0
        return self._evaluate(window, now)

    def _evaluate(self, window: np.ndarray, now: float) -> QualityReport:
        figures = chunk_figures(window)
        seconds = window.size / self.sample_rate
        silent = figures.rms_dbfs < SILENCE_DBFS
        snr = None if silent else wada_snr(window)
        self._silent_run = self._silent_run + seconds if silent else 0.0
        found = []
        if snr is not None and snr < self.poor_snr_db:
            found.append(ISSUE_LOW_SNR)
        if figures.clipping_ratio > self.poor_clipping_ratio:
            found.append(ISSUE_CLIPPING)
        if self._silent_run >= self.silence_seconds:
            found.append(ISSUE_SILENCE)
        suspicion = None if silent else format_suspicion(window, self.sample_rate)
        if suspicion is not None:
            found.append(ISSUE_FORMAT)
        issues = tuple(i for i in found if self._due(i, now))
        return QualityReport(round(seconds, 3), figures.rms_dbfs, figures.clipping_ratio,
                             None if snr is None else round(snr, 2), silent, issues, suspicion)

    def _due(self, issue: str, now: float) -> bool:
        last = self._last_notified.get(issue)
        if last is not None and now - last < self.notify_interval:
            return False
        self._last_notified[issue] = now
        return True
