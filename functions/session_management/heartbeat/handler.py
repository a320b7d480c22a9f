"""Route ``heartbeat``."""

from __future__ import annotations

from typing import Any

from common.observability import lambda_entry

from session_management.heartbeat.liveness import heartbeat
from session_management.messages import HEARTBEAT
from session_management.routing import handle_message


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Acknowledge a heartbeat."""
    return handle_message(event, (HEARTBEAT,), heartbeat)
