"""The segment payload the stream worker sends (async invoke), validated."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from common.languages import is_language_code

MAX_TEXT_CHARS = 20_000
MAX_SESSION_ID_CHARS = 128


class InvalidSegment(ValueError):
    """The payload is not a segment this function can process; never broadcast."""


@dataclass(frozen=True)
class Segment:
    """One stable phrase of a session's speech, ready to translate and voice."""

    session_id: str
    sequence: int
    segment_id: str
    text: str
    source_language: str
    is_final: bool = True
    continues_sentence: bool = False
    result_id: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    emitted_at: float | None = None
    audio_span: Mapping[str, Any] | None = None
    dynamics: Mapping[str, Any] | None = field(default=None, compare=False)

    @classmethod
    def from_event(cls, event: Any) -> Segment:
        """Validate an invoke payload; raises ``InvalidSegment`` saying what is wrong."""
        if not isinstance(event, Mapping):
            raise InvalidSegment("payload must be a JSON object")
        session_id = event.get("sessionId")
        if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SESSION_ID_CHARS:
            raise InvalidSegment("sessionId must be a non-empty string")
        sequence = event.get("sequence")
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
            raise InvalidSegment("sequence must be a non-negative integer")
        segment_id = event.get("segmentId")
        if segment_id != f"{session_id}#{sequence}":
            raise InvalidSegment("segmentId must be '<sessionId>#<sequence>'")
        text = event.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidSegment("text must be a non-empty string")
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidSegment(f"text longer than {MAX_TEXT_CHARS} characters")
        source = event.get("sourceLanguage")
        if not is_language_code(source):
            raise InvalidSegment("sourceLanguage must be a language code such as en-US")
        is_final = event.get("isFinal", True)
        if not isinstance(is_final, bool):
            raise InvalidSegment("isFinal must be a boolean")
        continues_sentence = event.get("continuesSentence", False)
        if not isinstance(continues_sentence, bool):
            raise InvalidSegment("continuesSentence must be a boolean")
        result_id = event.get("resultId")
        if result_id is not None and not isinstance(result_id, str):
            raise InvalidSegment("resultId must be a string")
        audio_span = event.get("audioSpan")
        if audio_span is not None and not isinstance(audio_span, Mapping):
            raise InvalidSegment("audioSpan must be an object")
        dynamics = event.get("dynamics")
        if dynamics is not None and not isinstance(dynamics, Mapping):
            raise InvalidSegment("dynamics must be an object")
        return cls(
            session_id=session_id,
            sequence=sequence,
            segment_id=segment_id,
            text=text,
            source_language=source,
            is_final=is_final,
            continues_sentence=continues_sentence,
            result_id=result_id,
            start_time=_optional_number(event, "startTime"),
            end_time=_optional_number(event, "endTime"),
            emitted_at=_optional_number(event, "emittedAt"),
            audio_span=audio_span,
            dynamics=dynamics,
        )


def _optional_number(event: Mapping[str, Any], key: str) -> float | None:
    value = event.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidSegment(f"{key} must be a non-negative number")
    return float(value)
