"""The parts of an API Gateway WebSocket event the handlers use, parsed once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from common.envelope import ClientError


@dataclass(frozen=True)
class WebSocketRequest:
    """One WebSocket event ($connect, $disconnect or a message)."""

    route_key: str
    event_type: str
    connection_id: str
    domain_name: str
    stage: str
    source_ip: str
    body: Any
    is_base64: bool
    connected_at_ms: int | None
    query: Mapping[str, str] = field(default_factory=dict)
    authorizer: Mapping[str, Any] = field(default_factory=dict)

    def endpoint(self, configured: str) -> str:
        """The @connections endpoint: the configured one, else the one this event came through."""
        if configured:
            return configured
        if not self.domain_name or not self.stage:
            raise RuntimeError("WEBSOCKET_ENDPOINT is unset and the event names no domainName/stage")
        return f"https://{self.domain_name}/{self.stage}"


def parse_event(event: Any) -> WebSocketRequest:
    """Parse an API Gateway WebSocket event; raises ``ClientError`` when it is not one."""
    if not isinstance(event, Mapping):
        raise ClientError("INVALID_EVENT", "not an API Gateway WebSocket event")
    ctx = event.get("requestContext")
    if not isinstance(ctx, Mapping) or not isinstance(ctx.get("connectionId"), str) or not ctx.get("connectionId"):
        raise ClientError("INVALID_EVENT", "the event has no requestContext.connectionId")
    identity = ctx.get("identity") if isinstance(ctx.get("identity"), Mapping) else {}
    query = event.get("queryStringParameters")
    authorizer = ctx.get("authorizer")
    connected_at = ctx.get("connectedAt")
    return WebSocketRequest(
        route_key=str(ctx.get("routeKey") or ""),
        event_type=str(ctx.get("eventType") or ""),
        connection_id=ctx["connectionId"],
        domain_name=str(ctx.get("domainName") or ""),
        stage=str(ctx.get("stage") or ""),
        source_ip=str(identity.get("sourceIp") or "unknown"),
        body=event.get("body"),
        is_base64=bool(event.get("isBase64Encoded")),
        connected_at_ms=connected_at if isinstance(connected_at, int) and not isinstance(connected_at, bool) else None,
        query=dict(query) if isinstance(query, Mapping) else {},
        authorizer=dict(authorizer) if isinstance(authorizer, Mapping) else {},
    )
