"""Table attribute and index names, one schema for every function (docs/data-model.md)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

CONNECTIONS_BY_SESSION_INDEX = "BySessionLanguage"

SESSION_ACTIVE = "active"
SESSION_ENDED = "ended"
ROLE_SPEAKER = "speaker"
ROLE_LISTENER = "listener"


def now_epoch() -> int:
    """Current time in whole epoch seconds (the unit of every timestamp column)."""
    return int(time.time())


def is_live(item: Mapping[str, Any] | None, now: float | None = None) -> bool:
    """True when a row exists and its TTL has not passed (DynamoDB deletes expired rows late)."""
    if not item:
        return False
    expires = item.get("expiresAt")
    return expires is None or float(expires) > (now_epoch() if now is None else now)
