"""The segment payload the stream worker sends to the translation pipeline (async invoke).

```
{"sessionId", "sequence", "segmentId": "<sessionId>#<sequence>", "text", "sourceLanguage",
 "isFinal", "continuesSentence", "resultId", "startTime", "endTime", "emittedAt", "reason",
 "audioSpan": {"startTime", "endTime", "sampleRate": 16000}, "dynamics": {...} | null}
```

Times are seconds of the session's audio (the first accepted chunk of the session is 0), so
they keep increasing across stream workers. ``continuesSentence`` is true when the next
segment continues this one's sentence (it was cut before any sentence mark): it is voiced
and captioned as going on. ``sequence`` increases per session across
workers too: each worker draws a generation number when it takes the lease and numbers its
segments ``generation * SEQUENCE_BLOCK + n`` (gaps between workers, never a repeat).
"""

from __future__ import annotations

import json
from typing import Any

from audio_transcription.partial_results.model import Segment

SAMPLE_RATE = 16000
SEQUENCE_BLOCK = 100_000
# Async Lambda payloads may be 1 MB (256 KB historically); segments are a few hundred bytes.
MAX_PAYLOAD_BYTES = 256 * 1024


def segment_sequence(generation: int, index: int) -> int:
    """The session-wide sequence of a worker's ``index``-th segment."""
    if index >= SEQUENCE_BLOCK:
        raise ValueError("a worker emitted more segments than its sequence block holds")
    return generation * SEQUENCE_BLOCK + index


def segment_payload(*, session_id: str, sequence: int, segment: Segment, source_language: str,
                    start_time: float, end_time: float, emitted_at: float,
                    dynamics: dict[str, Any] | None) -> dict[str, Any]:
    """The payload for one segment; times already mapped to session audio seconds."""
    start, end = round(max(0.0, start_time), 3), round(max(0.0, end_time), 3)
    return {
        "sessionId": session_id,
        "sequence": sequence,
        "segmentId": f"{session_id}#{sequence}",
        "text": segment.text,
        "sourceLanguage": source_language,
        "isFinal": segment.is_final,
        "continuesSentence": segment.continues,
        "resultId": segment.result_id,
        "startTime": start,
        "endTime": end,
        "emittedAt": round(emitted_at, 3),
        "reason": segment.reason,
        "audioSpan": {"startTime": start, "endTime": end, "sampleRate": SAMPLE_RATE},
        "dynamics": dynamics,
    }


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Compact JSON; ValueError if it would not fit an async invoke."""
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"segment payload of {len(data)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    return data
