"""The one JSON envelope of every message the backend sends to a WebSocket client.

Success: ``{"type": "<kind>", ...fields}``. Error: ``{"type": "error", "code": "<STABLE_CODE>",
"message": "<human text>", ...details}``. See docs/protocol.md.
"""

from __future__ import annotations

import json
from typing import Any


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


def encode(envelope: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as posted to a connection."""
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
