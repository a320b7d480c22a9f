"""Route ``heartbeat``."""

from __future__ import annotations

from typing import Any

from common.observability import logger, metrics, tracer

from session_management.heartbeat.liveness import heartbeat
from session_management.messages import HEARTBEAT
from session_management.routing import handle_message


@logger.inject_lambda_context(clear_state=True, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Acknowledge a heartbeat."""
    return handle_message(event, (HEARTBEAT,), heartbeat)
