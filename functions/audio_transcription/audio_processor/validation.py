"""Parsing and validation of a ``sendAudio`` message; nothing touches a table before it passes.

``{"action": "sendAudio", "sessionId": "<id>", "sequence": <int>, "audio": "<base64>", "requestId"?}``
where ``audio`` is base64 of 16-bit little-endian PCM, 16 kHz, mono, 50-200 ms (1,600-6,400
samples). Every failure is a ``ClientError`` with a stable code (docs/protocol.md).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from common.envelope import ClientError, safe_text
from common.strict_json import DuplicateField, unique_keys

ACTION = "sendAudio"
SAMPLE_RATE = 16000
MIN_SAMPLES = 800  # 50 ms at 16 kHz
MAX_SAMPLES = 3200  # 200 ms at 16 kHz
# API Gateway closes the connection on frames over 32 KB; refuse anything near it.
MAX_BODY_BYTES = 32 * 1024
MAX_SEQUENCE = 2**53 - 1  # the largest integer every JSON client represents exactly
MAX_SESSION_ID_LENGTH = 64
ALLOWED_FIELDS = ("action", "sessionId", "sequence", "audio", "requestId")
SESSION_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class AudioMessage:
    """A validated chunk."""

    session_id: str
    sequence: int
    pcm: bytes
    request_id: str | None = None

    @property
    def samples(self) -> int:
        """Number of 16-bit samples."""
        return len(self.pcm) // 2


def request_id_of(body: Any) -> str | None:
    """The message's valid ``requestId`` (for echoing in errors), if it has one."""
    if isinstance(body, dict):
        rid = body.get("requestId")
        if isinstance(rid, str) and REQUEST_ID_PATTERN.match(rid):
            return rid
    return None


def _invalid(field: str, text: str, **details: Any) -> ClientError:
    return ClientError("INVALID_FIELD", text, field=field, **details)


def parse_send_audio(body: Any, is_base64_encoded: bool = False) -> AudioMessage:
    """Validate the raw WebSocket body of a ``sendAudio`` message."""
    if is_base64_encoded:
        raise ClientError("INVALID_MESSAGE", "send audio as a JSON text frame, not a binary frame")
    if not isinstance(body, str) or not body.strip():
        raise ClientError("INVALID_MESSAGE", "the message is empty")
    size = len(body.encode("utf-8", errors="surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise ClientError("MESSAGE_TOO_LARGE", f"a sendAudio message may be at most {MAX_BODY_BYTES} bytes",
                          status=413, maxBytes=MAX_BODY_BYTES)
    try:
        doc = json.loads(body, object_pairs_hook=unique_keys)
    except DuplicateField as error:
        raise ClientError("DUPLICATE_FIELD", f"the message names '{safe_text(error.args[0], 40)}' more than once",
                          field=safe_text(error.args[0], 40)) from None
    except (ValueError, RecursionError):
        raise ClientError("INVALID_JSON", "the message is not valid JSON") from None
    if not isinstance(doc, dict):
        raise ClientError("INVALID_MESSAGE", "the message must be a JSON object")
    try:
        return _validate(doc)
    except ClientError as error:
        # Errors echo the message's requestId when it has a valid one.
        request_id = request_id_of(doc)
        if request_id is not None:
            error.details.setdefault("requestId", request_id)
        raise


def _validate(doc: dict[str, Any]) -> AudioMessage:
    request_id = doc.get("requestId")
    if request_id is not None and (not isinstance(request_id, str) or not REQUEST_ID_PATTERN.match(request_id)):
        raise _invalid("requestId", "'requestId' must be 1-64 letters, digits or . _ : -")
    for name in doc:
        if name not in ALLOWED_FIELDS:
            raise ClientError("UNKNOWN_FIELD", f"sendAudio does not take '{safe_text(name, 40)}'",
                              field=safe_text(name, 40), allowedFields=list(ALLOWED_FIELDS))
    if doc.get("action") != ACTION:
        raise _invalid("action", f"'action' must be '{ACTION}'")
    session_id = _session_id(doc.get("sessionId"))
    sequence = _sequence(doc.get("sequence"))
    pcm = _audio(doc.get("audio"), sequence)
    return AudioMessage(session_id, sequence, pcm, request_id)


def _session_id(value: Any) -> str:
    if value is None:
        raise ClientError("MISSING_FIELD", "'sessionId' is required", field="sessionId")
    if not isinstance(value, str) or not value.strip():
        raise _invalid("sessionId", "'sessionId' must be a non-empty string")
    candidate = value.strip().lower()
    if len(candidate) > MAX_SESSION_ID_LENGTH or not SESSION_ID_PATTERN.match(candidate):
        raise _invalid("sessionId", "'sessionId' is not a session id (it looks like 'golden-eagle-4821')")
    return candidate


def _sequence(value: Any) -> int:
    if value is None:
        raise ClientError("MISSING_FIELD", "'sequence' is required", field="sequence")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQUENCE:
        raise _invalid("sequence", f"'sequence' must be an integer from 0 to {MAX_SEQUENCE}")
    return value


def _audio(value: Any, sequence: int) -> bytes:
    if value is None:
        raise ClientError("MISSING_FIELD", "'audio' is required", field="audio", sequence=sequence)
    if not isinstance(value, str) or not value:
        raise _invalid("audio", "'audio' must be a base64 string", sequence=sequence)
    try:
        pcm = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ClientError("INVALID_AUDIO", "'audio' is not valid base64", field="audio", sequence=sequence) from None
    if len(pcm) % 2:
        raise ClientError("INVALID_AUDIO", "'audio' must be 16-bit PCM: an even number of bytes",
                          field="audio", sequence=sequence)
    samples = len(pcm) // 2
    if not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise ClientError("INVALID_AUDIO",
                          f"a chunk must be 50-200 ms of 16 kHz mono audio ({MIN_SAMPLES}-{MAX_SAMPLES} samples), "
                          f"got {samples}", field="audio", sequence=sequence, samples=samples,
                          minSamples=MIN_SAMPLES, maxSamples=MAX_SAMPLES)
    return pcm
