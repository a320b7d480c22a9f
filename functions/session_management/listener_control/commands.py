"""Listener controls: switch language, leave (also the ``leaveSession`` action)."""

from __future__ import annotations

from typing import Any

from common.envelope import ClientError, message
from common.observability import logger

from session_management import membership
from session_management.deps import Deps
from session_management.events import WebSocketRequest
from session_management.messages import LEAVE_SESSION, Message
from session_management.records import Connection


def listener_control(deps: Deps, request: WebSocketRequest, caller: Connection, msg: Message) -> list[dict[str, Any]]:
    """``switchLanguage`` replies ``languageSwitched``; ``leave``/``leaveSession`` reply ``sessionLeft``."""
    if msg.action == LEAVE_SESSION or msg.command == "leave":
        left = membership.leave(deps, caller, msg.session_id)
        logger.info("listener left", extra={"sessionId": left})
        return [message("sessionLeft", sessionId=left)]
    assert msg.target_language is not None  # switchLanguage requires it (parse_message)
    if not caller.is_listener:
        raise ClientError("FORBIDDEN_ROLE", "only listeners have a target language", status=403)
    session_id = caller.session_id
    if not session_id or (msg.session_id and msg.session_id != session_id):
        raise ClientError("NOT_IN_SESSION", "join a session before switching language", status=409)
    session = deps.sessions.get(session_id, deps.now)
    if session is None or not session.active:
        raise ClientError("SESSION_ENDED", f"session {session_id!r} has ended", status=410, sessionId=session_id)
    if not deps.connections.set_language(caller.connection_id, session_id, msg.target_language):
        raise ClientError("NOT_IN_SESSION", "this connection left the session meanwhile", status=409)
    logger.info("listener switched language", extra={"sessionId": session_id, "targetLanguage": msg.target_language})
    return [message("languageSwitched", sessionId=session_id, targetLanguage=msg.target_language,
                    previousLanguage=caller.target_language)]
