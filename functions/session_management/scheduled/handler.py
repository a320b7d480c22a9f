"""EventBridge ``rate(1 minute)`` target: the sweep. Needs WEBSOCKET_ENDPOINT (no event to derive it from)."""

from __future__ import annotations

from typing import Any

from common.observability import lambda_entry

from session_management.deps import build_deps
from session_management.scheduled.sweep import run_sweep


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run one sweep; raises on setup errors so the Lambda Errors metric and alarms see them."""
    deps = build_deps()
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    report = run_sweep(deps, remaining if callable(remaining) else None)
    return {"statusCode": 200 if not report.errors else 500, **report.__dict__}
