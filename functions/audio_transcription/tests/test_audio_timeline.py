"""Stream time to session time, kept audio, fed times."""

from __future__ import annotations

import numpy as np
import pytest
from audio_transcription.stream_worker.timeline import StreamTimeline


def chunk(value: int, n: int = 1600) -> np.ndarray:
    return np.full(n, value, dtype=np.int16)


def test_mapping_follows_chunk_offsets_across_gaps():
    t = StreamTimeline()
    t.add(chunk(1), session_offset=16000, fed_at=100.0)  # the stream starts 1 s into the session
    t.add(chunk(2), session_offset=17600, fed_at=100.1)
    t.add(chunk(3), session_offset=24000, fed_at=100.2)  # a missing chunk: 0.4 s gap in the session
    assert t.to_session_seconds(0.0) == pytest.approx(1.0)
    assert t.to_session_seconds(0.15) == pytest.approx(1.15)
    assert t.to_session_seconds(0.25) == pytest.approx(1.5 + 0.05)
    assert t.fed_seconds == pytest.approx(0.3)
    assert t.next_session_sample == 25600
    assert t.fed_at(0.05) == 100.0 and t.fed_at(0.19) == 100.1 and t.fed_at(9.0) == 100.2


def test_audio_slices_and_levels():
    t = StreamTimeline()
    for i in range(5):
        t.add(chunk(1000 * (i + 1)), session_offset=1600 * i, fed_at=float(i))
    x = t.audio(0.1, 0.2, pad=0.0)
    assert x.dtype == np.float32 and x.size == 1600
    assert np.allclose(x * 32768, 2000)
    assert t.audio(0.05, 0.15, pad=0.0).size == 1600
    assert t.audio(0.0, 0.5, pad=0.05).size == 8000
    assert t.recent_rms_dbfs(0.1) == pytest.approx(20 * np.log10(5000 / 32768), abs=0.01)
    assert StreamTimeline().recent_rms_dbfs() == -120.0
    assert StreamTimeline().audio(0, 1).size == 0


def test_old_audio_is_dropped_but_times_still_map():
    t = StreamTimeline(keep_seconds=1.0)
    for i in range(30):
        t.add(chunk(i + 1), session_offset=1600 * i, fed_at=float(i))
    assert t.audio(0.0, 0.1, pad=0.0).size == 0
    assert t.audio(2.8, 2.9, pad=0.0).size == 1600
    assert t.to_session_seconds(0.05) == pytest.approx(0.05)
