"""Routes ``listenerControl`` and ``leaveSession`` (one function, two route keys)."""

from __future__ import annotations

from typing import Any

from common.observability import lambda_entry

from session_management.listener_control.commands import listener_control
from session_management.messages import LEAVE_SESSION, LISTENER_CONTROL
from session_management.routing import handle_message


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Switch language or leave."""
    return handle_message(event, (LISTENER_CONTROL, LEAVE_SESSION), listener_control)
