"""Route ``joinSession``."""

from __future__ import annotations

from typing import Any

from common.observability import lambda_entry

from session_management.join_session.joining import join_session
from session_management.messages import JOIN_SESSION
from session_management.routing import handle_message


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Join a session as a listener."""
    return handle_message(event, (JOIN_SESSION,), join_session)
