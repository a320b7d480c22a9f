"""Route ``refreshConnection``."""

from __future__ import annotations

from typing import Any

from common.observability import lambda_entry

from session_management.messages import REFRESH_CONNECTION
from session_management.refresh.takeover import refresh_connection
from session_management.routing import handle_message


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Move a speaker's session or a listener's membership onto this connection."""
    return handle_message(event, (REFRESH_CONNECTION,), refresh_connection)
