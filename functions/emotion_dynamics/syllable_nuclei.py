"""Syllable nuclei from intensity peaks, after de Jong & Wempe (2009), dip-peak-dip variant.

de Jong, N. H. & Wempe, T. (2009). Praat script to detect syllable nuclei and measure
speech rate automatically. Behavior Research Methods 41(2), 385-390. The v3 rule keeps an
intensity peak as a syllable nucleus when it is loud enough (above a threshold relative
to the segment's loud frames), stands out of the contour by ``MIN_DIP_DB`` on *both*
sides (a dip before and a dip after it), and is voiced.

This is a numpy port, not a call into Praat:

* the intensity contour is the 10 ms frame energy smoothed with a Hann window of about
  50 ms (Praat smooths with a window of 3.2 / min-pitch; 50 ms keeps adjacent syllables
  apart at fast rates), in dB;
* peaks closer than ``MIN_DIP_DB`` to the dip that separates them from a neighbouring
  peak are merged into the higher one, repeatedly, so contour ripples do not drop a real
  nucleus (Praat's single pass compares raw neighbours only);
* voicing is a normalised autocorrelation (Boersma 1993, window-corrected) of 40 ms of
  signal around each surviving peak, in one batched FFT; a peak whose best correlation
  at a 75-400 Hz lag is below ``VOICING_THRESHOLD`` (Praat's default 0.45) is unvoiced
  (fricatives, noise bursts) and not counted.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from emotion_dynamics.vad import FRAME_SECONDS, Activity, power_to_db, quantile

# Peaks must rise this far above the dips on both sides (de Jong & Wempe: 2 dB).
MIN_DIP_DB = 2.0
# Peaks quieter than the 99th-percentile frame minus this are not nuclei (de Jong & Wempe: 25 dB).
SILENCE_RANGE_DB = 25.0
# Hann smoothing of the intensity contour, in frames of FRAME_SECONDS.
SMOOTHING_FRAMES = 5
# Voicing: window, pitch range and threshold of the autocorrelation check.
VOICING_WINDOW_SECONDS = 0.040
MIN_PITCH_HZ = 75.0
MAX_PITCH_HZ = 400.0
VOICING_THRESHOLD = 0.45
# Merging converges in a few passes; the bound only guards against pathological input.
_MAX_MERGE_PASSES = 32


@dataclass(frozen=True)
class Nuclei:
    """Syllable nuclei found in a segment."""

    count: int
    times: np.ndarray        # seconds from the segment start
    threshold_db: float      # intensity threshold used (dBFS)


@functools.lru_cache(maxsize=1)
def _smoothing_kernel() -> np.ndarray:
    kernel = np.hanning(SMOOTHING_FRAMES + 2)[1:-1]
    return kernel / kernel.sum()


@functools.lru_cache(maxsize=8)
def _voicing_tables(width: int, max_lag: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Hann taper, FFT size and the taper's normalised autocorrelation, per window width."""
    taper = np.hanning(width)
    # Circular correlation is exact up to lag nfft - width: enough for the longest pitch period.
    nfft = 1 << int(np.ceil(np.log2(width + max_lag + 1)))
    taper_acf = np.fft.irfft(np.abs(np.fft.rfft(taper, nfft)) ** 2, nfft)[:width]
    return taper, nfft, taper_acf / taper_acf[0]


def intensity_contour(power: np.ndarray) -> np.ndarray:
    """Smoothed intensity (dBFS) per frame from per-frame power."""
    if power.size == 0:
        return power.astype(np.float64)
    kernel = _smoothing_kernel()
    # Smooth power, not dB, so a short loud burst is not flattened by surrounding silence.
    smoothed = np.convolve(power, kernel, mode="same")
    return power_to_db(smoothed)


def _local_peaks(contour: np.ndarray) -> np.ndarray:
    if contour.size < 3:
        return np.zeros(0, dtype=np.int64)
    mid = contour[1:-1]
    # ">=" on the right keeps one index of a flat top.
    return np.flatnonzero((mid > contour[:-2]) & (mid >= contour[2:])) + 1


def _segment_minima(contour: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Minimum of the contour before the first peak, between each pair, and after the last."""
    bounds = np.concatenate([[0], peaks])
    return np.minimum.reduceat(contour, bounds)


def prominent_peaks(contour: np.ndarray, min_dip_db: float = MIN_DIP_DB) -> np.ndarray:
    """Indices of peaks that stand ``min_dip_db`` above the dips on both sides (dip-peak-dip)."""
    peaks = _local_peaks(contour)
    for _ in range(_MAX_MERGE_PASSES):
        if peaks.size < 2:
            break
        values = contour[peaks]
        dips = _segment_minima(contour, peaks)[1:-1]  # dip between peak i and i+1
        lower = np.minimum(values[:-1], values[1:])
        shallow = (lower - dips) < min_dip_db
        if not shallow.any():
            break
        # In each shallow pair the lower peak is a shoulder of the higher one: drop it.
        drop = np.zeros(peaks.size, dtype=bool)
        left_lower = values[:-1] < values[1:]
        drop[:-1] |= shallow & left_lower
        drop[1:] |= shallow & ~left_lower
        peaks = peaks[~drop]
    if peaks.size == 0:
        return peaks
    minima = _segment_minima(contour, peaks)
    values = contour[peaks]
    # Outer sides: the first and last peak need a dip towards the segment edges too.
    ok = ((values - minima[:-1]) >= min_dip_db) & ((values - minima[1:]) >= min_dip_db)
    return peaks[ok]


def voiced_mask(samples: np.ndarray, sample_rate: int, centres: np.ndarray) -> np.ndarray:
    """True where the signal around each centre (sample index) is periodic at a speech pitch."""
    if centres.size == 0:
        return np.zeros(0, dtype=bool)
    width = int(round(VOICING_WINDOW_SECONDS * sample_rate))
    half = width // 2
    padded = np.concatenate([np.zeros(half), np.asarray(samples, dtype=np.float64), np.zeros(width)])
    starts = np.clip(centres, 0, samples.size)  # padded index of (centre - half)
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)[starts]
    windows = windows - windows.mean(axis=1, keepdims=True)
    lo = max(1, int(sample_rate / MAX_PITCH_HZ))
    hi = min(width - 1, int(sample_rate / MIN_PITCH_HZ))
    taper, nfft, taper_acf = _voicing_tables(width, hi)
    spectrum = np.fft.rfft(windows * taper, nfft, axis=1)
    acf = np.fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2, nfft, axis=1)[:, :width]
    energy = acf[:, 0]
    # Boersma (1993): dividing by the window's own autocorrelation undoes the taper's decay.
    normalised = (acf[:, lo:hi] / np.maximum(energy[:, None], 1e-20)) / taper_acf[lo:hi]
    best = normalised.max(axis=1)
    return (energy > 0) & (best >= VOICING_THRESHOLD)


def detect_nuclei(samples: np.ndarray, sample_rate: int, power: np.ndarray, activity: Activity) -> Nuclei:
    """Count syllable nuclei in a segment (``power`` and ``activity`` from ``emotion_dynamics.vad``)."""
    if activity.silent or power.size < 3:
        return Nuclei(0, np.zeros(0), activity.threshold_db)
    contour = intensity_contour(power)
    # de Jong & Wempe: loud-frame reference is the 99th percentile, not the single maximum.
    threshold = max(quantile(contour, 0.99) - SILENCE_RANGE_DB, activity.threshold_db)
    peaks = prominent_peaks(contour)
    peaks = peaks[contour[peaks] > threshold]
    hop = max(1, int(round(sample_rate * FRAME_SECONDS)))
    centres = peaks * hop + hop // 2
    peaks = peaks[voiced_mask(samples, sample_rate, centres)]
    return Nuclei(int(peaks.size), (peaks * hop + hop // 2) / float(sample_rate), threshold)
