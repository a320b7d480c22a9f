"""Joining a session as a listener."""

from __future__ import annotations

from typing import Any

from common.envelope import message
from common.observability import logger

from session_management import membership, refresh_tokens
from session_management.deps import Deps
from session_management.events import WebSocketRequest
from session_management.messages import Message
from session_management.records import Connection, Session


def session_joined(deps: Deps, session: Session, connection_id: str, target_language: str,
                   refresh_token: str) -> dict[str, Any]:
    """The ``sessionJoined`` reply (with the refresh token only this connection receives)."""
    return message(
        "sessionJoined",
        sessionId=session.session_id,
        targetLanguage=target_language,
        sourceLanguage=session.source_language,
        connectionId=connection_id,
        status=session.status,
        paused=session.paused,
        muted=session.muted,
        listenerCount=session.listener_count,
        maxListeners=deps.settings.max_listeners,
        endsAt=session.ends_at(deps.settings.session_max_duration_seconds),
        refreshToken=refresh_token,
    )


def join_session(deps: Deps, request: WebSocketRequest, caller: Connection, msg: Message) -> list[dict[str, Any]]:
    """Join the session in the target language; replies ``sessionJoined``."""
    assert msg.session_id is not None and msg.target_language is not None  # guaranteed by parse_message
    refresh = refresh_tokens.issue()
    session = membership.join(deps, caller, msg.session_id, msg.target_language, request.source_ip,
                              refresh_digest=refresh.digest)
    logger.append_keys(sessionId=session.session_id)
    logger.info("listener joined", extra={"targetLanguage": msg.target_language, "listenerCount": session.listener_count})
    return [session_joined(deps, session, caller.connection_id, msg.target_language, refresh.token)]
