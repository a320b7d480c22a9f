"""Length-prefixed JSON frames between the local Lambda service and a function container.

Standard library only: this module runs inside containers too.
"""

from __future__ import annotations

import decimal
import json
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024


def _default(value: Any) -> Any:
    # Lambda's Python runtime serialises Decimal (DynamoDB numbers) in results; so do we.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode(message: Any) -> bytes:
    """One frame: 4-byte big-endian length, then UTF-8 JSON."""
    body = json.dumps(message, default=_default, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(body)) + body


def decode_length(header: bytes) -> int:
    """The body length of a frame header (raises on an absurd length)."""
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME:
        raise ValueError(f"frame of {length} bytes is too large")
    return length
