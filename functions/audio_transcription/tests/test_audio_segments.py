"""The segment payload to the translation pipeline."""

from __future__ import annotations

import json

import pytest
from audio_transcription.partial_results.model import Segment, Word
from audio_transcription.segments import SEQUENCE_BLOCK, encode_payload, segment_payload, segment_sequence

SEG = Segment("Hello there.", 1.0, 1.6, "r-1", False,
              (Word("Hello", 1.0, 1.3), Word("there", 1.35, 1.6), Word(".", 1.6, 1.6, True)), True, "stable")


def test_payload_shape():
    p = segment_payload(session_id="golden-eagle-4821", sequence=100003, segment=SEG, source_language="en-US",
                        start_time=61.0004, end_time=61.6, emitted_at=1700000000.12345,
                        dynamics={"volume": {"level": "medium"}})
    assert p == {
        "sessionId": "golden-eagle-4821", "sequence": 100003, "segmentId": "golden-eagle-4821#100003",
        "text": "Hello there.", "sourceLanguage": "en-US", "isFinal": False, "continuesSentence": False, "resultId": "r-1",
        "startTime": 61.0, "endTime": 61.6, "emittedAt": 1700000000.123, "reason": "stable",
        "audioSpan": {"startTime": 61.0, "endTime": 61.6, "sampleRate": 16000},
        "dynamics": {"volume": {"level": "medium"}},
    }
    assert json.loads(encode_payload(p)) == p


def test_sequences_increase_across_workers():
    assert segment_sequence(1, 0) < segment_sequence(1, 99_999) < segment_sequence(2, 0)
    with pytest.raises(ValueError):
        segment_sequence(1, SEQUENCE_BLOCK)


def test_oversized_payload_is_refused():
    big = segment_payload(session_id="s", sequence=1, segment=SEG, source_language="en-US", start_time=0,
                          end_time=1, emitted_at=0, dynamics={"x": "y" * 300_000})
    with pytest.raises(ValueError):
        encode_payload(big)
