"""Registering a new connection: the authorizer's identity, the source-IP rate limit, the row."""

from __future__ import annotations

from common.envelope import ClientError
from common.tables import ROLE_LISTENER, ROLE_SPEAKER

from session_management.deps import Deps
from session_management.events import WebSocketRequest
from session_management.rate_limits import Limit
from session_management.records import Connection
from session_management.settings import API_GATEWAY_MAX_CONNECTION_SECONDS

CONNECT_LIMIT_NAME = "connect"
# A connection row outlives API Gateway's 2-hour cut-off only by this margin, so reads that
# ignore expired rows also ignore connections that cannot exist any more.
CONNECTION_EXPIRY_MARGIN_SECONDS = 60


def register_connection(deps: Deps, request: WebSocketRequest) -> Connection:
    """Store the connection row; raises ``ClientError`` (403 unauthorized, 429/503 rate limit)."""
    role = request.authorizer.get("role")
    user_id = request.authorizer.get("userId") or ""
    # The authorizer always sets these; without them the request did not pass it: fail closed.
    if role not in (ROLE_SPEAKER, ROLE_LISTENER) or not isinstance(user_id, str) or (role == ROLE_SPEAKER and not user_id):
        raise ClientError("UNAUTHORIZED", "the connection carries no authorizer identity", status=403)
    # Fails open: a limiter outage must not refuse every reconnection (the stage throttles anyway).
    deps.rate_limiter.hit(Limit(CONNECT_LIMIT_NAME, deps.settings.rate_connection_attempts_per_minute, 60, fail_open=True),
                          request.source_ip, deps.now)
    connected_at = request.connected_at_ms // 1000 if request.connected_at_ms else deps.now
    connection = Connection(
        connection_id=request.connection_id,
        role=role,
        user_id=user_id,
        source_ip=request.source_ip,
        connected_at=connected_at,
        last_heartbeat_at=deps.now,
        expires_at=connected_at + API_GATEWAY_MAX_CONNECTION_SECONDS + CONNECTION_EXPIRY_MARGIN_SECONDS,
    )
    deps.connections.put(connection)
    return connection
