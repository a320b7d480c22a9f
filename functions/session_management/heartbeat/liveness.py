"""Heartbeats: keep the connection off the sweep's stale list and tell the client when to refresh."""

from __future__ import annotations

from typing import Any

from common.envelope import message

from session_management.deps import Deps
from session_management.events import WebSocketRequest
from session_management.messages import Message
from session_management.rate_limits import Limit
from session_management.records import Connection
from session_management.routing import not_connected
from session_management.settings import API_GATEWAY_MAX_CONNECTION_SECONDS, Settings

HEARTBEAT_LIMIT_NAME = "heartbeat"


def connection_notices(settings: Settings, connected_at: int, now: int) -> list[dict[str, Any]]:
    """``refreshRequired`` from REFRESH_MINUTES on, plus ``connectionExpiring`` from WARNING_MINUTES on."""
    elapsed = now - connected_at
    disconnect_at = connected_at + API_GATEWAY_MAX_CONNECTION_SECONDS
    seconds_left = max(0, disconnect_at - now)
    notices = []
    if elapsed >= settings.refresh_minutes * 60:
        notices.append(message("refreshRequired", connectedSeconds=elapsed, disconnectAt=disconnect_at, secondsLeft=seconds_left,
                               message="open a new connection and send refreshConnection, then close this one"))
    if elapsed >= settings.warning_minutes * 60:
        notices.append(message("connectionExpiring", connectedSeconds=elapsed, disconnectAt=disconnect_at, secondsLeft=seconds_left,
                               message=f"this connection will be closed in {seconds_left} s; refresh now"))
    return notices


def heartbeat(deps: Deps, request: WebSocketRequest, caller: Connection, msg: Message) -> list[dict[str, Any]]:
    """Record the heartbeat; replies ``heartbeatAck`` and any refresh notices.

    Liveness is recorded first, whatever the limiter then says: a client over its heartbeat
    limit is told RATE_LIMITED but stays alive, and a limiter outage (the limit fails open)
    never lets the sweep close a live connection."""
    touched = deps.connections.touch(caller.connection_id, deps.now)
    if touched is None:
        raise not_connected()
    deps.rate_limiter.hit(Limit(HEARTBEAT_LIMIT_NAME, deps.settings.rate_heartbeats_per_minute, 60, fail_open=True),
                          caller.connection_id, deps.now)
    ack = message(
        "heartbeatAck",
        connectionId=touched.connection_id,
        serverTime=deps.now,
        connectedAt=touched.connected_at,
        refreshAt=touched.connected_at + deps.settings.refresh_minutes * 60,
        disconnectAt=touched.connected_at + API_GATEWAY_MAX_CONNECTION_SECONDS,
        **({"sessionId": touched.session_id} if touched.session_id else {}),
    )
    return [ack, *connection_notices(deps.settings, touched.connected_at, deps.now)]
