"""The one JSON envelope of every message the backend sends to a WebSocket client.

Success: ``{"type": "<kind>", ...fields}``. Error: ``{"type": "error", "code": "<STABLE_CODE>",
"message": "<human text>", ...details}``. See docs/protocol.md.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Lone UTF-16 surrogates: valid in a JSON text as \ud800 escapes, not encodable as UTF-8.
_SURROGATES = re.compile("[\ud800-\udfff]")


class ClientError(Exception):
    """A request the client got wrong (or may not make); becomes an error envelope."""

    def __init__(self, code: str, message: str, status: int = 400, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details

    def to_message(self) -> dict[str, Any]:
        """The error envelope for this error."""
        return error_message(self.code, self.message, **self.details)


def message(kind: str, **fields: Any) -> dict[str, Any]:
    """A success envelope."""
    return {"type": kind, **fields}


def error_message(code: str, text: str, **details: Any) -> dict[str, Any]:
    """An error envelope with a stable code."""
    return {"type": "error", "code": code, "message": text, **details}


def safe_text(value: Any, limit: int | None = None) -> str:
    """Client-supplied text made safe to echo: lone surrogates become U+FFFD, cut to ``limit``."""
    text = str(value)
    if limit is not None:
        text = text[:limit]
    return _SURROGATES.sub("\ufffd", text)


def _sanitized(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(k) if isinstance(k, str) else k: _sanitized(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitized(v) for v in value]
    return value


def encode(envelope: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as posted to a connection. Never raises on text: any lone surrogate
    that reached an envelope (echoed client input) is replaced rather than failing the reply."""
    try:
        return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(_sanitized(envelope), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
