"""$disconnect route: best-effort (API Gateway may not deliver it), so the sweep repeats it."""

from __future__ import annotations

from typing import Any

from common.observability import lambda_entry, logger, metrics

from session_management.membership import remove_connection
from session_management.routing import open_request


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Delete the connection row; a listener leaves its session, a speaker starts its grace period."""
    request, deps, failed = open_request(event)
    if failed is not None or request is None or deps is None:
        return failed or {"statusCode": 500}
    try:
        removed = remove_connection(deps, request.connection_id)
    except Exception:  # noqa: BLE001 - the sweep will finish the cleanup
        logger.exception("disconnect cleanup failed")
        metrics.add_metric(name="ErrorCount", unit="Count", value=1)
        return {"statusCode": 500}
    if removed is not None:
        logger.info("disconnected", extra={"role": removed.role, "sessionId": removed.session_id})
    metrics.add_metric(name="Disconnections", unit="Count", value=1)
    return {"statusCode": 200}
