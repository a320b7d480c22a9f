"""$connect route. Nothing can be posted before the handshake completes, so refusals are the
HTTP status of the handshake: 403 (no authorizer identity), 429 (RATE_LIMITED), 500. A
RateLimits outage lets the connection through (docs/protocol.md, "Rate limiter outages")."""

from __future__ import annotations

from typing import Any

from common.envelope import ClientError
from common.observability import lambda_entry, logger, metrics

from session_management.connect.registration import register_connection
from session_management.routing import open_request


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Register the connection or refuse the handshake."""
    request, deps, failed = open_request(event)
    if failed is not None or request is None or deps is None:
        metrics.add_metric(name="ConnectionErrors", unit="Count", value=1)
        return failed or {"statusCode": 500}
    try:
        connection = register_connection(deps, request)
    except ClientError as error:
        logger.info("connection refused", extra={"code": error.code})
        metrics.add_metric(name="ConnectionErrors", unit="Count", value=1)
        return {"statusCode": error.status}
    except Exception:  # noqa: BLE001 - refuse the handshake rather than crash
        logger.exception("connect failed")
        metrics.add_metric(name="ConnectionErrors", unit="Count", value=1)
        metrics.add_metric(name="ErrorCount", unit="Count", value=1)
        return {"statusCode": 500}
    logger.info("connected", extra={"role": connection.role})
    metrics.add_metric(name="Connections", unit="Count", value=1)
    return {"statusCode": 200}
