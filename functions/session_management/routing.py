"""The shared path of every message route: parse, authorize by connection row, act, reply.

A route handler is ``handle_message(event, accepted_actions, action)``. ``action(deps, request,
caller, message)`` returns the envelopes for the caller (the first one is the reply) and
raises ``ClientError`` for anything the client got wrong. Every outcome is posted to the
connection: the reply, a structured error, or INTERNAL_ERROR; the Lambda result carries only
the status code API Gateway logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from common.envelope import ClientError, error_message
from common.observability import logger, metrics

from session_management.deps import Deps, build_deps
from session_management.events import WebSocketRequest, parse_event
from session_management.messages import Message, parse_message, request_id_of
from session_management.records import Connection
from session_management.settings import get_settings

Action = Callable[[Deps, WebSocketRequest, Connection, Message], list[dict[str, Any]]]


def not_connected() -> ClientError:
    """The caller's connection row is missing or expired."""
    return ClientError("NOT_CONNECTED", "this connection is not registered (it may have expired); reconnect", status=409)


def with_request_id(envelope: dict[str, Any], request_id: str | None) -> dict[str, Any]:
    """Echo the client's requestId in a reply so it can match answers to requests."""
    return {**envelope, "requestId": request_id} if request_id else envelope


def open_request(event: Any) -> tuple[WebSocketRequest | None, Deps | None, dict[str, Any] | None]:
    """Parse the event and build the invocation's collaborators; on failure returns the Lambda response."""
    try:
        request = parse_event(event)
    except ClientError as error:
        logger.warning("not a WebSocket event", extra={"code": error.code})
        metrics.add_metric(name="ErrorCount", unit="Count", value=1)
        return None, None, {"statusCode": 400}
    logger.append_keys(connectionId=request.connection_id, routeKey=request.route_key)
    try:
        deps = build_deps(request.endpoint(get_settings().websocket_endpoint))
    except Exception:  # noqa: BLE001 - misconfiguration: nothing can be posted, so log loudly
        logger.exception("handler setup failed")
        metrics.add_metric(name="ErrorCount", unit="Count", value=1)
        return request, None, {"statusCode": 500}
    return request, deps, None


def handle_message(event: Any, accepted: Iterable[str], action: Action) -> dict[str, Any]:
    """Run one message route end to end; never raises."""
    request, deps, failed = open_request(event)
    if failed is not None or request is None or deps is None:
        return failed or {"statusCode": 500}
    request_id: str | None = None
    try:
        parsed = parse_message(request.body, accepted, request.is_base64)
        request_id = parsed.request_id
        caller = deps.connections.get(request.connection_id, deps.now)
        if caller is None:
            raise not_connected()
        if caller.session_id:
            logger.append_keys(sessionId=caller.session_id)
        envelopes = action(deps, request, caller, parsed)
        metrics.add_metric(name="MessagesHandled", unit="Count", value=1)
        for index, envelope in enumerate(envelopes):
            deps.replier.send(request.connection_id, with_request_id(envelope, request_id) if index == 0 else envelope)
        return {"statusCode": 200}
    except ClientError as error:
        request_id = request_id or request_id_of(request.body)
        metrics.add_metric(name="ClientErrors", unit="Count", value=1)
        logger.info("request refused", extra={"code": error.code, "status": error.status})
        deps.replier.send(request.connection_id, with_request_id(error.to_message(), request_id))
        return {"statusCode": error.status}
    except Exception:  # noqa: BLE001 - the client must still get an answer
        logger.exception("request failed")
        metrics.add_metric(name="ErrorCount", unit="Count", value=1)
        deps.replier.send(request.connection_id, with_request_id(
            error_message("INTERNAL_ERROR", "the request failed on the server; retry"), request_id))
        return {"statusCode": 500}
