"""Route ``speakerControl``."""

from __future__ import annotations

from typing import Any

from common.observability import logger, metrics, tracer

from session_management.messages import SPEAKER_CONTROL
from session_management.routing import handle_message
from session_management.speaker_control.commands import speaker_control


@logger.inject_lambda_context(clear_state=True, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply a speaker control."""
    return handle_message(event, (SPEAKER_CONTROL,), speaker_control)
