"""Speech files as the protocol wants them: 16 kHz mono PCM16LE, in 100-200 ms chunks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from clients.protocol import BYTES_PER_SAMPLE, MAX_CHUNK_SAMPLES, MIN_CHUNK_SAMPLES, SAMPLE_RATE


def to_pcm16(samples: np.ndarray, rate: int) -> bytes:
    """Float or integer samples (mono, or frames x channels) at ``rate`` -> 16 kHz mono PCM16LE."""
    data = np.asarray(samples)
    if data.ndim == 2:
        data = data.mean(axis=1)  # downmix
    elif data.ndim != 1:
        raise ValueError("samples must be mono or frames x channels")
    if data.dtype.kind in "iu":
        data = data.astype(np.float64) / float(np.iinfo(data.dtype).max + 1)
    data = data.astype(np.float64)
    if rate <= 0:
        raise ValueError("sample rate must be positive")
    if rate != SAMPLE_RATE:
        import soxr

        data = soxr.resample(data, rate, SAMPLE_RATE, quality="HQ")
    return (np.clip(data, -1.0, 32767 / 32768) * 32768.0).round().astype("<i2").tobytes()


def load_pcm16(path: str | Path) -> bytes:
    """A WAV/FLAC/OGG file (any rate and channel count) as 16 kHz mono PCM16LE."""
    import soundfile

    data, rate = soundfile.read(str(path), dtype="float64", always_2d=False)
    if len(data) == 0:
        raise ValueError(f"{path} has no audio")
    return to_pcm16(data, rate)


def chunks(pcm: bytes, milliseconds: int = 100) -> Iterator[bytes]:
    """``pcm`` in chunks of ``milliseconds``; a short last chunk is padded with silence to 100 ms."""
    samples = SAMPLE_RATE * milliseconds // 1000
    if not MIN_CHUNK_SAMPLES <= samples <= MAX_CHUNK_SAMPLES:
        raise ValueError("chunks are 100-200 ms")
    size = samples * BYTES_PER_SAMPLE
    minimum = MIN_CHUNK_SAMPLES * BYTES_PER_SAMPLE
    for offset in range(0, len(pcm), size):
        chunk = pcm[offset:offset + size]
        if len(chunk) < minimum:
            chunk += b"\x00" * (minimum - len(chunk))
        yield chunk
