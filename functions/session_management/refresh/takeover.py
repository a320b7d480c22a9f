"""refreshConnection: a client moves to a new connection before API Gateway's 2-hour cut-off.

Proof: connection ids are not secrets (they appear in the stage's access log), so taking over
a place requires the ``refreshToken`` that only the previous connection received (in
``sessionCreated``, ``sessionJoined`` or the last ``connectionRefreshed``; see
``refresh_tokens``). Every successful refresh issues the next token (rotation).

Speaker: the new connection (same Cognito user, and the session's current refresh token,
both checked in the conditional write) becomes ``speakerConnectionId`` atomically; the old
connection loses control at that instant and is told ``connectionReplaced``. Listener: its
membership moves from ``previousConnectionId`` to the new connection without counting twice,
if the token matches that connection's stored hash; when the previous row carries a user id,
the new connection must carry the same one. Without a usable previous connection the
listener simply re-joins (capacity and join rate limit apply).
"""

from __future__ import annotations

from typing import Any

from common.envelope import ClientError, message
from common.observability import logger, metrics

from session_management import membership, refresh_tokens
from session_management.deps import Deps
from session_management.events import WebSocketRequest
from session_management.messages import Message
from session_management.records import Connection, Session


def refresh_connection(deps: Deps, request: WebSocketRequest, caller: Connection, msg: Message) -> list[dict[str, Any]]:
    """Take over the session on this connection; replies ``connectionRefreshed``."""
    assert msg.session_id is not None  # guaranteed by parse_message
    logger.append_keys(sessionId=msg.session_id)
    refresh = refresh_tokens.issue()
    if caller.is_speaker:
        session = _refresh_speaker(deps, caller, msg, refresh)
        language = None
    elif caller.is_listener:
        session, language = _refresh_listener(deps, request, caller, msg, refresh)
    else:
        raise ClientError("FORBIDDEN_ROLE", "this connection has no role", status=403)
    metrics.add_metric(name="ConnectionRefreshes", unit="Count", value=1)
    fields: dict[str, Any] = {
        "sessionId": session.session_id, "role": caller.role, "connectionId": caller.connection_id,
        "status": session.status, "paused": session.paused, "muted": session.muted,
        "listenerCount": session.listener_count, "sourceLanguage": session.source_language,
        "endsAt": session.ends_at(deps.settings.session_max_duration_seconds),
        "refreshToken": refresh.token,
    }
    if language:
        fields["targetLanguage"] = language
    return [message("connectionRefreshed", **fields)]


def _active_session(deps: Deps, session_id: str) -> Session:
    session = deps.sessions.get(session_id, deps.now)
    if session is None:
        raise ClientError("SESSION_NOT_FOUND", f"no session {session_id!r}", status=404, sessionId=session_id)
    if not session.active or deps.now >= session.ends_at(deps.settings.session_max_duration_seconds):
        raise ClientError("SESSION_ENDED", f"session {session_id!r} has ended", status=410, sessionId=session_id)
    return session


def invalid_refresh_token(session_id: str) -> ClientError:
    """The token does not prove the previous connection."""
    return ClientError("INVALID_REFRESH_TOKEN", "the refreshToken is not the one last issued for that place in the session",
                       status=403, sessionId=session_id, field="refreshToken")


def _refresh_speaker(deps: Deps, caller: Connection, msg: Message, refresh: refresh_tokens.RefreshToken) -> Session:
    session_id = msg.session_id
    assert session_id is not None
    session = _active_session(deps, session_id)
    already = caller.session_id == session_id and session.speaker_connection_id == caller.connection_id
    if not already and not msg.refresh_token:
        raise ClientError("MISSING_FIELD", "refreshConnection needs the 'refreshToken' of the previous speaker connection",
                          field="refreshToken")
    previous = None if caller.session_id == session_id else membership.current_session_over(deps, caller)
    # A retried refresh from the current speaker connection proves itself by being that connection.
    proof = None if already else refresh_tokens.digest(msg.refresh_token or "")
    before = deps.sessions.take_over(session_id, caller.connection_id, caller.user_id, deps.now, proof, refresh.digest)
    if before is None:
        current = _active_session(deps, session_id)  # raises if it ended meanwhile
        if current.speaker_user_id == caller.user_id:
            raise invalid_refresh_token(session_id)
        raise ClientError("NOT_SESSION_SPEAKER", "only the speaker who created the session can take it over", status=403,
                          sessionId=session_id)
    if already:
        return deps.sessions.get(session_id, deps.now) or before
    if caller.session_id != session_id and not deps.connections.attach(caller.connection_id, session_id, None,
                                                                      replaces_session_id=previous):
        raise ClientError("ALREADY_IN_SESSION", "this connection is in another session", status=409)
    old = before.speaker_connection_id
    if old and old != caller.connection_id:
        deps.connections.detach(old, session_id)
    if old and old != caller.connection_id and before.speaker_disconnected_at is None:
        deps.replier.send(old, message("connectionReplaced", sessionId=session_id, connectionId=caller.connection_id,
                                       message="this session continues on a newer connection; close this one"))
    if before.speaker_disconnected_at is not None:
        membership.notify_listeners(deps, session_id, membership.session_update(session_id, "speakerReconnected"))
    logger.info("speaker connection refreshed")
    return deps.sessions.get(session_id, deps.now) or before


def _refresh_listener(deps: Deps, request: WebSocketRequest, caller: Connection, msg: Message,
                      refresh: refresh_tokens.RefreshToken) -> tuple[Session, str]:
    session_id = msg.session_id
    assert session_id is not None
    session = _active_session(deps, session_id)
    if caller.session_id == session_id and caller.target_language:
        # Already done (a retried refresh): the caller is the member, so it just gets a new token.
        if not deps.connections.rotate_refresh(caller.connection_id, session_id, refresh.digest):
            raise ClientError("NOT_IN_SESSION", "this connection left the session meanwhile", status=409, sessionId=session_id)
        return session, caller.target_language
    previous_row = None
    if msg.previous_connection_id and msg.previous_connection_id != caller.connection_id:
        if not msg.refresh_token:
            raise ClientError("MISSING_FIELD", "taking over 'previousConnectionId' needs its 'refreshToken'",
                              field="refreshToken")
        previous_row = deps.connections.get(msg.previous_connection_id, deps.now)
        if previous_row is not None and (not previous_row.is_listener or previous_row.session_id != session_id):
            previous_row = None
        if previous_row is not None and previous_row.user_id and previous_row.user_id != caller.user_id:
            raise ClientError("FORBIDDEN", "the previous connection belongs to another user", status=403)
        if previous_row is not None and not refresh_tokens.matches(msg.refresh_token, previous_row.refresh_digest):
            raise invalid_refresh_token(session_id)
    language = msg.target_language or (previous_row.target_language if previous_row else None)
    if not language:
        raise ClientError("MISSING_FIELD", "refreshConnection needs 'targetLanguage' when the previous connection is gone",
                          field="targetLanguage")
    if previous_row is None:
        joined = membership.join(deps, caller, session_id, language, request.source_ip, refresh_digest=refresh.digest)
        return joined, language
    replaced = membership.current_session_over(deps, caller)
    if not deps.connections.attach(caller.connection_id, session_id, language, replaces_session_id=replaced,
                                   refresh_digest=refresh.digest):
        raise ClientError("ALREADY_IN_SESSION", "this connection is in another session", status=409)
    # The new row now counts; the old row's slot is handed over only if we are the ones removing it.
    if deps.connections.delete(previous_row.connection_id, session_id=session_id) is None:
        # Its $disconnect (or the sweep) already removed it and gave the slot back: take a slot now.
        min_created = deps.now - deps.settings.session_max_duration_seconds
        if deps.sessions.add_listener(session_id, deps.settings.max_listeners, deps.now, min_created) is None:
            deps.connections.detach(caller.connection_id, session_id)
            raise membership.session_unavailable(deps, session_id)
    else:
        deps.replier.send(previous_row.connection_id, message(
            "connectionReplaced", sessionId=session_id, connectionId=caller.connection_id,
            message="this session continues on a newer connection; close this one"))
    logger.info("listener connection refreshed")
    return deps.sessions.get(session_id, deps.now) or session, language
