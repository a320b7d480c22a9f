"""Everything one invocation works with, built once per event: settings, repositories, the
rate limiter, the replier bound to this stage's @connections endpoint, and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from common.settings import SettingsError
from common.tables import now_epoch

from session_management import clients
from session_management.connections import ConnectionRepository
from session_management.rate_limits import RateLimiter
from session_management.replies import Replier
from session_management.sessions import SessionRepository
from session_management.settings import Settings, get_settings


@dataclass
class Deps:
    """The collaborators of one invocation; ``now`` is fixed for the whole event."""

    settings: Settings
    sessions: SessionRepository
    connections: ConnectionRepository
    rate_limiter: RateLimiter
    replier: Replier
    now: int


def build_deps(endpoint: str | None = None) -> Deps:
    """Build the collaborators; ``endpoint`` overrides WEBSOCKET_ENDPOINT (taken from the event)."""
    settings = get_settings()
    db = clients.dynamodb()
    deps_holder: list[Deps] = []

    def on_gone(connection_id: str) -> None:
        # A closed connection is cleaned up like a $disconnect, without notifying anyone in turn.
        from session_management.membership import remove_connection
        remove_connection(deps_holder[0], connection_id, notify=False)

    resolved = endpoint or settings.websocket_endpoint
    if not resolved:
        raise SettingsError("WEBSOCKET_ENDPOINT is required (this event carries no domainName/stage to derive it from)")
    management = clients.management_api(resolved)
    deps = Deps(
        settings=settings,
        sessions=SessionRepository(db.Table(settings.sessions_table)),
        connections=ConnectionRepository(db.Table(settings.connections_table), settings.connections_by_session_index),
        rate_limiter=RateLimiter(db.Table(settings.rate_limits_table)),
        replier=Replier(management, on_gone=on_gone),
        now=now_epoch(),
    )
    deps_holder.append(deps)
    return deps
