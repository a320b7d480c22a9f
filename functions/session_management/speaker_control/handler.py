"""Route ``speakerControl``."""

from __future__ import annotations

from typing import Any

from common.observability import lambda_entry

from session_management.messages import SPEAKER_CONTROL
from session_management.routing import handle_message
from session_management.speaker_control.commands import speaker_control


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply a speaker control."""
    return handle_message(event, (SPEAKER_CONTROL,), speaker_control)
