"""Creating a session: speaker only, rate limited per user, unique id by conditional put."""

from __future__ import annotations

from typing import Any

from common.envelope import ClientError, message
from common.observability import logger, metrics
from common.tables import SESSION_ACTIVE

from session_management import refresh_tokens
from session_management.deps import Deps
from session_management.events import WebSocketRequest
from session_management.membership import current_session_over
from session_management.messages import Message
from session_management.rate_limits import Limit
from session_management.records import Connection, Session
from session_management.session_ids import generate_session_id

CREATE_LIMIT_NAME = "createSession"
# ~6e11 ids: even one collision is rare; five in a row means something else is wrong.
MAX_ID_ATTEMPTS = 5


def create_session(deps: Deps, request: WebSocketRequest, caller: Connection, msg: Message) -> list[dict[str, Any]]:
    """Create a session owned by the calling speaker connection; replies ``sessionCreated``."""
    if not caller.is_speaker or not caller.user_id:
        raise ClientError("FORBIDDEN_ROLE", "only speaker connections can create a session; connect with role=speaker and a token",
                          status=403)
    previous = current_session_over(deps, caller)
    deps.rate_limiter.hit(Limit(CREATE_LIMIT_NAME, deps.settings.rate_sessions_per_hour, 3600), caller.user_id, deps.now)
    assert msg.source_language is not None  # guaranteed by messages.parse_message
    refresh = refresh_tokens.issue()
    for _ in range(MAX_ID_ATTEMPTS):
        session = Session(
            session_id=generate_session_id(),
            speaker_connection_id=caller.connection_id,
            speaker_user_id=caller.user_id,
            source_language=msg.source_language,
            status=SESSION_ACTIVE,
            paused=False,
            muted=False,
            listener_count=0,
            created_at=deps.now,
            updated_at=deps.now,
            expires_at=deps.now + deps.settings.session_max_duration_seconds + deps.settings.data_retention_seconds,
            speaker_refresh_digest=refresh.digest,
        )
        if deps.sessions.create(session):
            break
        metrics.add_metric(name="SessionIdCollisions", unit="Count", value=1)
    else:
        raise ClientError("SESSION_ID_UNAVAILABLE", "no free session id could be allocated; retry", status=503)
    if not deps.connections.attach(caller.connection_id, session.session_id, None, replaces_session_id=previous):
        # The connection went away or created another session meanwhile: never hand this one out.
        deps.sessions.delete(session.session_id)
        raise ClientError("ALREADY_IN_SESSION", "this connection created another session meanwhile", status=409)
    logger.append_keys(sessionId=session.session_id)
    logger.info("session created", extra={"sourceLanguage": session.source_language})
    metrics.add_metric(name="SessionsCreated", unit="Count", value=1)
    return [message(
        "sessionCreated",
        sessionId=session.session_id,
        sourceLanguage=session.source_language,
        connectionId=caller.connection_id,
        status=session.status,
        maxListeners=deps.settings.max_listeners,
        createdAt=session.created_at,
        endsAt=session.ends_at(deps.settings.session_max_duration_seconds),
        refreshToken=refresh.token,
    )]
