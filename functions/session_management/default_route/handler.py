"""Route ``$default``: API Gateway sends here every frame whose ``action`` matches no route,
and every frame that is not JSON. The client always gets an error naming the valid actions."""

from __future__ import annotations

from typing import Any

from common.envelope import ClientError, safe_text
from common.observability import lambda_entry, logger, metrics

from session_management.messages import VALID_ACTIONS, decode_body, request_id_of
from session_management.routing import open_request, with_request_id


def explain(body: Any, is_base64: bool) -> ClientError:
    """Why this frame reached $default."""
    try:
        decoded = decode_body(body, is_base64)
    except ClientError as error:
        return error
    action = decoded.get("action")
    if not isinstance(action, str) or not action:
        return ClientError("INVALID_MESSAGE", "the message has no 'action' string", validActions=list(VALID_ACTIONS))
    if action in VALID_ACTIONS:
        # A valid action should never land here: its route is missing or being deployed.
        return ClientError("ACTION_UNAVAILABLE", f"action {action!r} is temporarily unavailable; retry", status=503)
    return ClientError("UNKNOWN_ACTION", f"unknown action {safe_text(action, 64)!r}", validActions=list(VALID_ACTIONS))


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Post the error to the sender."""
    request, deps, failed = open_request(event)
    if failed is not None or request is None or deps is None:
        return failed or {"statusCode": 500}
    error = explain(request.body, request.is_base64)
    # Every frame here is the client's: a malformed one is a client error (WARNING, ClientErrors),
    # never ErrorCount, or any client could trip the function's error alarms at will. A valid
    # action here usually means a route is being deployed, but a client can also send one
    # (a JSON-escaped action name), so it gets its own metric to alarm on instead.
    logger.warning("frame refused at $default", extra={"code": error.code})
    if error.code == "ACTION_UNAVAILABLE":
        metrics.add_metric(name="MisroutedActions", unit="Count", value=1)
    metrics.add_metric(name="ClientErrors", unit="Count", value=1)
    deps.replier.send(request.connection_id, with_request_id(error.to_message(), request_id_of(request.body)))
    return {"statusCode": error.status}
