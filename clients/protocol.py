"""Messages of the WebSocket API (docs/protocol.md): builders for what a client sends, a parser for what it receives.

Builders validate what the protocol constrains, so a bad call fails here with ``ValueError``
instead of as an error message from the server.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

SAMPLE_RATE = 16000
BYTES_PER_SAMPLE = 2
# docs/protocol.md says "50-200 ms per chunk (1,600-3,200 samples)": both bounds hold for
# 100-200 ms chunks, so the client keeps to those.
MIN_CHUNK_SAMPLES = 1600   # 100 ms
MAX_CHUNK_SAMPLES = 3200   # 200 ms
MAX_FRAME_BYTES = 32 * 1024
SPEAKER_COMMANDS = ("pause", "resume", "mute", "unmute", "end")
LISTENER_COMMANDS = ("switchLanguage", "leave")
ROLES = ("speaker", "listener")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class ProtocolError(ValueError):
    """A message that does not follow the protocol."""


def connect_url(websocket_url: str, role: str, token: str | None = None) -> str:
    """The WebSocket URL with ``role`` and (URL-encoded) ``token`` in the query string."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    parts = urlsplit(websocket_url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"not a WebSocket URL: {websocket_url!r}")
    query = [(k, v) for k, v in _query(parts.query) if k not in ("role", "token")]
    query.append(("role", role))
    if token:
        query.append(("token", token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _query(raw: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(raw, keep_blank_values=True)


def _message(action: str, request_id: str | None, **fields: Any) -> str:
    body: dict[str, Any] = {"action": action}
    body.update({k: v for k, v in fields.items() if v is not None})
    if request_id is not None:
        if not _REQUEST_ID.match(request_id):
            raise ValueError("requestId: 1-64 letters, digits and . _ : -")
        body["requestId"] = request_id
    return json.dumps(body, separators=(",", ":"))


def _text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return value


def create_session(source_language: str, request_id: str | None = None) -> str:
    """``createSession`` (speaker)."""
    return _message("createSession", request_id, sourceLanguage=_text("sourceLanguage", source_language))


def join_session(session_id: str, target_language: str, request_id: str | None = None) -> str:
    """``joinSession`` (listener)."""
    return _message("joinSession", request_id, sessionId=_text("sessionId", session_id),
                    targetLanguage=_text("targetLanguage", target_language))


def leave_session(session_id: str | None = None, request_id: str | None = None) -> str:
    """``leaveSession`` (listener)."""
    return _message("leaveSession", request_id, sessionId=session_id)


def heartbeat(request_id: str | None = None) -> str:
    """``heartbeat`` (send one every 60 s)."""
    return _message("heartbeat", request_id)


def get_session_status(session_id: str | None = None, request_id: str | None = None) -> str:
    """``getSessionStatus``."""
    return _message("getSessionStatus", request_id, sessionId=session_id)


def speaker_control(session_id: str, command: str, request_id: str | None = None) -> str:
    """``speakerControl``: pause, resume, mute, unmute or end."""
    if command not in SPEAKER_COMMANDS:
        raise ValueError(f"command must be one of {', '.join(SPEAKER_COMMANDS)}")
    return _message("speakerControl", request_id, sessionId=_text("sessionId", session_id), command=command)


def listener_control(command: str, target_language: str | None = None, session_id: str | None = None,
                     request_id: str | None = None) -> str:
    """``listenerControl``: switchLanguage (with ``target_language``) or leave."""
    if command not in LISTENER_COMMANDS:
        raise ValueError(f"command must be one of {', '.join(LISTENER_COMMANDS)}")
    if command == "switchLanguage":
        _text("targetLanguage", target_language or "")
    return _message("listenerControl", request_id, command=command, targetLanguage=target_language, sessionId=session_id)


def send_audio(session_id: str, sequence: int, pcm: bytes, request_id: str | None = None) -> str:
    """``sendAudio``: 100-200 ms of 16 kHz mono PCM16LE as base64, under the 32 KB frame."""
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        raise ValueError("sequence must be a non-negative integer")
    if len(pcm) % BYTES_PER_SAMPLE:
        raise ValueError("audio must be whole 16-bit samples")
    samples = len(pcm) // BYTES_PER_SAMPLE
    if not MIN_CHUNK_SAMPLES <= samples <= MAX_CHUNK_SAMPLES:
        raise ValueError(f"a chunk is {MIN_CHUNK_SAMPLES}-{MAX_CHUNK_SAMPLES} samples (100-200 ms), got {samples}")
    message = _message("sendAudio", request_id, sessionId=_text("sessionId", session_id), sequence=sequence,
                       audio=base64.b64encode(pcm).decode("ascii"))
    if len(message.encode("utf-8")) > MAX_FRAME_BYTES:
        raise ValueError("the message is over the 32 KB frame limit")
    return message


def parse(text: str | bytes) -> dict[str, Any]:
    """A server message as a dict with a ``type``; ``ProtocolError`` for anything else."""
    try:
        message = json.loads(text)
    except ValueError as error:
        raise ProtocolError(f"not JSON: {error}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("a server message is a JSON object with a type")
    return message


def is_error(message: Mapping[str, Any], code: str | None = None) -> bool:
    """True for an ``error`` message (with that ``code``, when given)."""
    return message.get("type") == "error" and (code is None or message.get("code") == code)


@dataclass
class AudioAssembler:
    """Reassembles a segment's audio parts (``audio`` messages) in ``part`` order, dropping repeats.
    A ``caption`` that carries the segment's whole audio (``translation:combineCaptionAudio``)
    gives it at once."""

    parts: dict[str, dict[int, bytes]] = field(default_factory=dict)
    info: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, message: Mapping[str, Any]) -> tuple[dict[str, Any], bytes] | None:
        """Add one ``audio`` message (or a caption); the segment's info and whole audio once every part arrived."""
        if message.get("type") == "caption":
            audio = message.get("audio")
            if not isinstance(audio, Mapping):
                return None  # a caption alone: its audio follows as ``audio`` messages, or there is none
            info = {k: message.get(k) for k in ("sessionId", "sequence", "segmentId", "language")}
            info.update({k: audio.get(k) for k in ("format", "mimeType", "voiceId")})
            return info, base64.b64decode(audio["data"])
        segment = message["segmentId"]
        part, parts = int(message["part"]), int(message["parts"])
        if not 1 <= part <= parts:
            raise ProtocolError(f"audio part {part} of {parts}")
        self.info.setdefault(segment, {k: message.get(k) for k in ("sessionId", "sequence", "segmentId", "language",
                                                                   "format", "mimeType", "voiceId")})
        self.parts.setdefault(segment, {})[part] = base64.b64decode(message["data"])
        if len(self.parts[segment]) < parts:
            return None
        chunks = self.parts.pop(segment)
        return self.info.pop(segment), b"".join(chunks[i] for i in range(1, parts + 1))
