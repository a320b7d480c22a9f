"""Route ``createSession``."""

from __future__ import annotations

import time
from typing import Any

from common.observability import lambda_entry, metrics

from session_management.create_session.creation import create_session
from session_management.messages import CREATE_SESSION
from session_management.routing import handle_message


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create a session; SessionCreationLatency covers the whole request including the reply."""
    started = time.perf_counter()
    response = handle_message(event, (CREATE_SESSION,), create_session)
    if response["statusCode"] == 200:
        metrics.add_metric(name="SessionCreationLatency", unit="Milliseconds", value=(time.perf_counter() - started) * 1000)
    return response
