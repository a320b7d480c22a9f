"""What a stream worker remembers of the audio it fed to one Transcribe stream.

Transcribe times are seconds from the start of *its* stream. The timeline maps them to the
session's audio timeline (chunk ``sampleOffset``s, continuous across workers), keeps the
recent audio so a segment's dynamics can be measured, and remembers when each chunk was
fed so the worker can tell how long a segment took from audio to emission.
"""

from __future__ import annotations

import bisect

import numpy as np

SAMPLE_RATE = 16000


class StreamTimeline:
    """Chunks fed to one stream, in order."""

    def __init__(self, keep_seconds: float = 120.0, sample_rate: int = SAMPLE_RATE) -> None:
        self.sample_rate = sample_rate
        self._keep = int(keep_seconds * sample_rate)
        self.fed_samples = 0
        # Parallel lists, one entry per chunk: stream start sample, session start sample,
        # end stream sample, wall time fed, audio.
        self._starts: list[int] = []
        self._session: list[int] = []
        self._ends: list[int] = []
        self._fed_at: list[float] = []
        self._audio: list[np.ndarray | None] = []
        self._first_kept = 0

    @property
    def fed_seconds(self) -> float:
        """Audio fed so far (stream seconds)."""
        return self.fed_samples / self.sample_rate

    @property
    def next_session_sample(self) -> int | None:
        """Session sample that would continue the last chunk without a gap."""
        if not self._ends:
            return None
        return self._session[-1] + (self._ends[-1] - self._starts[-1])

    def add(self, samples: np.ndarray, session_offset: int, fed_at: float) -> None:
        """Record one fed chunk (int16 samples starting at session sample ``session_offset``)."""
        start = self.fed_samples
        self.fed_samples += samples.size
        self._starts.append(start)
        self._session.append(session_offset)
        self._ends.append(self.fed_samples)
        self._fed_at.append(fed_at)
        self._audio.append(samples)
        # Drop audio (not the time map) older than the kept window.
        limit = self.fed_samples - self._keep
        while self._first_kept < len(self._ends) and self._ends[self._first_kept] < limit:
            self._audio[self._first_kept] = None
            self._first_kept += 1

    def _index(self, stream_sample: int) -> int:
        i = bisect.bisect_right(self._starts, stream_sample) - 1
        return max(0, min(i, len(self._starts) - 1))

    def to_session_seconds(self, stream_seconds: float) -> float:
        """Session audio time of a Transcribe (stream) time."""
        if not self._starts:
            return stream_seconds
        sample = int(round(stream_seconds * self.sample_rate))
        i = self._index(sample)
        return (self._session[i] + (sample - self._starts[i])) / self.sample_rate

    def fed_at(self, stream_seconds: float) -> float | None:
        """Wall time when the audio at ``stream_seconds`` was fed."""
        if not self._ends:
            return None
        sample = int(stream_seconds * self.sample_rate)
        i = min(bisect.bisect_left(self._ends, sample), len(self._ends) - 1)
        return self._fed_at[i]

    def audio(self, start_seconds: float, end_seconds: float, pad: float = 0.05) -> np.ndarray:
        """float32 samples in [-1, 1] for stream time [start - pad, end + pad] (what is still kept)."""
        if not self._starts or end_seconds <= start_seconds - pad:
            return np.zeros(0, dtype=np.float32)
        lo = max(0, int((start_seconds - pad) * self.sample_rate))
        hi = min(self.fed_samples, int((end_seconds + pad) * self.sample_rate))
        parts = []
        for i in range(self._index(lo), len(self._starts)):
            s, e, chunk = self._starts[i], self._ends[i], self._audio[i]
            if s >= hi:
                break
            if chunk is None or e <= lo:
                continue
            parts.append(chunk[max(lo, s) - s: min(hi, e) - s])
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(parts).astype(np.float32) / np.float32(32768.0)

    def recent_rms_dbfs(self, seconds: float = 0.3) -> float:
        """Level of the last ``seconds`` fed (for 'is the speaker pausing now')."""
        if not self._starts:
            return -120.0
        x = self.audio(max(0.0, self.fed_seconds - seconds), self.fed_seconds, pad=0.0)
        if x.size == 0:
            return -120.0
        rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
        return -120.0 if rms <= 0 else max(-120.0, 20.0 * np.log10(rms))
