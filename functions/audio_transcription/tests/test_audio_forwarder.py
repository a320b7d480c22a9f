"""SegmentForwarder: dynamics of a sentence cut into phrases are measured over the sentence so far."""

from __future__ import annotations

import numpy as np
from audio_transcription.partial_results.model import Segment, Word
from audio_transcription.stream_worker.forwarder import SegmentForwarder
from audio_transcription.stream_worker.timeline import StreamTimeline
from emotion_dynamics.dynamics import DynamicsThresholds


class Analysed:
    """Stands in for analyze_dynamics: records what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, list[tuple[float, float]]]] = []

    def __call__(self, audio, sample_rate, thresholds, timings):
        self.calls.append((audio.size / sample_rate, timings))
        return self

    def to_dict(self):
        return {"volume": {"level": "medium"}}


def segment(words: list[tuple[str, float, float]], continues: bool) -> Segment:
    ws = tuple(Word(c, s, e) for c, s, e in words)
    return Segment(" ".join(c for c, _, _ in words), ws[0].start_time, ws[-1].end_time, "r", False, ws, True,
                   "early" if continues else "stable", continues)


def forwarder(analyse) -> SegmentForwarder:
    return SegmentForwarder(session_id="s", source_language="en-US", generation=1, lambda_client=None,
                            function_name="f", thresholds=DynamicsThresholds(), clock=lambda: 0.0,
                            metrics=type("M", (), {"add_metric": lambda *a, **k: None})(), analyze=analyse)


def test_a_continuing_sentence_is_measured_from_its_start_and_a_new_one_alone():
    timeline = StreamTimeline()
    timeline.add(np.zeros(16000 * 10, dtype=np.int16), 0, 0.0)
    analyse = Analysed()
    fwd = forwarder(analyse)
    first = segment([("so", 1.0, 1.2), ("the", 1.25, 1.4), ("plan", 1.45, 1.8)], continues=True)
    second = segment([("is", 1.9, 2.0), ("simple", 2.05, 2.5)], continues=False)
    third = segment([("we", 3.0, 3.2), ("start", 3.25, 3.6), ("now", 3.65, 4.0)], continues=False)
    payloads = [fwd.emit(s, timeline) for s in (first, second, third)]
    (d1, t1), (d2, t2), (d3, t3) = analyse.calls
    assert abs(d1 - 0.9) < 0.01 and len(t1) == 3
    assert abs(d2 - 1.6) < 0.01 and len(t2) == 5 and t2[0][0] == t1[0][0]  # from "so" to "simple"
    assert abs(d3 - 1.1) < 0.01 and len(t3) == 3  # a new sentence: alone
    assert [p["continuesSentence"] for p in payloads] == [True, False, False]
    assert [p["startTime"] for p in payloads] == [1.0, 1.9, 3.0]  # the segment's own span is unchanged
