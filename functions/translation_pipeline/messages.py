"""Caption and audio messages for listeners, each sized to fit one WebSocket frame.

API Gateway caps a WebSocket message at 128 KB and a frame at 32 KB, and answers 413 to a
larger ``post_to_connection``. Every message built here is at most ``FRAME_BUDGET_BYTES``
of UTF-8 JSON (below 32 KB whether a KB is 1,000 or 1,024 bytes), so it travels as a single
frame: audio is split into ordered base64 parts, and a caption too long for one message is
split into ordered text parts. See the protocol documentation for the client's rules.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from common.envelope import encode, message

FRAME_BUDGET_BYTES = 32_000
CAPTION = "caption"
AUDIO = "audio"
MIME_TYPES = {"mp3": "audio/mpeg", "ogg_vorbis": "audio/ogg"}
# Part numbers never exceed this; sizing the envelope with it makes the overhead an upper bound.
_MAX_PART_DIGITS = 99_999


@dataclass(frozen=True)
class SegmentRef:
    """What every message repeats so a client can order and de-duplicate."""

    session_id: str
    sequence: int
    segment_id: str
    language: str

    def fields(self) -> dict[str, Any]:
        """The shared envelope fields."""
        return {"sessionId": self.session_id, "sequence": self.sequence,
                "segmentId": self.segment_id, "language": self.language}


def caption_messages(ref: SegmentRef, text: str, source_language: str, translated: bool, is_final: bool,
                     budget: int = FRAME_BUDGET_BYTES, continues_sentence: bool = False,
                     source_text: str | None = None) -> list[bytes]:
    """Caption message(s) for one language: one in practice, more only for a caption over the budget.

    ``continuesSentence`` tells the client that the next segment goes on with this sentence;
    ``sourceText`` (translated captions only) is what the speaker said, for listeners who ask to see it.
    A caption too long for one frame is split and goes without ``sourceText``.
    """
    def build(piece: str, part: int, parts: int, **extra: Any) -> dict[str, Any]:
        return message(CAPTION, **ref.fields(), sourceLanguage=source_language, translated=translated,
                       isFinal=is_final, continuesSentence=continues_sentence, part=part, parts=parts, text=piece, **extra)

    whole = encode(build(text, 1, 1, **_source_field(source_text)))
    if len(whole) <= budget:
        return [whole]
    overhead = len(encode(build("", _MAX_PART_DIGITS, _MAX_PART_DIGITS)))
    pieces = split_text_to_budget(text, budget - overhead)
    return [encode(build(piece, i, len(pieces))) for i, piece in enumerate(pieces, start=1)]


def _source_field(source_text: str | None) -> dict[str, str]:
    return {} if source_text is None else {"sourceText": source_text}


def audio_messages(ref: SegmentRef, audio: bytes, audio_format: str, voice_id: str,
                   budget: int = FRAME_BUDGET_BYTES) -> list[bytes]:
    """Audio as ordered base64 parts; concatenating the decoded ``data`` of parts 1..parts gives ``audio``."""
    def build(data: str, part: int, parts: int) -> dict[str, Any]:
        return message(AUDIO, **ref.fields(), format=audio_format, mimeType=MIME_TYPES.get(audio_format, "application/octet-stream"),
                       voiceId=voice_id, part=part, parts=parts, data=data)

    overhead = len(encode(build("", _MAX_PART_DIGITS, _MAX_PART_DIGITS)))
    # base64 turns every 3 bytes into 4 ASCII characters, none of which JSON escapes.
    raw_per_part = (budget - overhead) // 4 * 3
    if raw_per_part <= 0:
        raise ValueError("message budget too small for the audio envelope")
    chunks = [audio[i:i + raw_per_part] for i in range(0, len(audio), raw_per_part)] or [b""]
    return [encode(build(base64.b64encode(chunk).decode("ascii"), i, len(chunks)))
            for i, chunk in enumerate(chunks, start=1)]


def split_text_to_budget(text: str, budget: int) -> list[str]:
    """Split text so each piece's JSON-escaped UTF-8 size is at most ``budget``, preferring spaces."""
    if budget <= 0:
        raise ValueError("message budget too small for the caption envelope")
    pieces: list[str] = []
    start, size, last_space = 0, 0, -1
    i = 0
    while i < len(text):
        width = _json_size(text[i])
        if size + width > budget:
            # Cut after the last space in this piece if there is one, else at this character.
            cut = last_space + 1 if last_space >= start else i
            cut = max(cut, start + 1)  # always progress, even past a character wider than the budget
            pieces.append(text[start:cut])
            start, size, last_space = cut, _json_size(text[cut:i]), -1
            continue
        if text[i] == " ":
            last_space = i
        size += width
        i += 1
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _json_size(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


def caption_with_audio_message(ref: SegmentRef, text: str, source_language: str, translated: bool, is_final: bool,
                               audio: bytes, audio_format: str, voice_id: str, budget: int = FRAME_BUDGET_BYTES,
                               continues_sentence: bool = False, source_text: str | None = None) -> bytes | None:
    """The caption with the segment's whole audio inside it (one post per listener instead of two), or
    None when that message would be over ``budget``: then the caption and the audio parts go separately.

    The audio rides in the caption's optional ``audio`` object, so a listener tells the two
    forms apart by that field, and a client that knows only captions still shows the text."""
    body = message(CAPTION, **ref.fields(), sourceLanguage=source_language, translated=translated, isFinal=is_final,
                   continuesSentence=continues_sentence, part=1, parts=1, text=text, **_source_field(source_text),
                   audio={"format": audio_format, "mimeType": MIME_TYPES.get(audio_format, "application/octet-stream"),
                          "voiceId": voice_id, "data": base64.b64encode(audio).decode("ascii")})
    encoded = encode(body)
    return encoded if len(encoded) <= budget else None
