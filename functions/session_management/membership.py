"""Joining, leaving, disconnect cleanup and ending sessions: the flows several handlers share.

Invariant kept here: a session's ``listenerCount`` equals the number of listener rows whose
``sessionId`` is that session. Joins increment first (the capacity check) and then attach the
row, rolling the count back if the attach loses a race *or fails*; every removal first wins a
conditional delete/detach of the row and only then decrements, so racing cleanups
($disconnect, a Gone reply, the sweep, leaveSession) decrement exactly once. When that
decrement fails, the removal is rolled back (the row is put back as it was), so the pair
stays consistent and a later cleanup (the sweep, for a closed connection) does it again.
Single-item writes rather than one transaction: hundreds of listeners join one session at
once, and transactions on one hot item cancel each other. If a rollback fails too (a long
outage), the minute sweep recomputes the count from the listeners index (``scheduled.sweep``).
"""

from __future__ import annotations

from typing import Any

from common.envelope import ClientError, message
from common.observability import logger, metrics

from session_management.deps import Deps
from session_management.rate_limits import Limit
from session_management.records import Connection, Session
from session_management.replies import BroadcastResult

JOIN_LIMIT_NAME = "listenerJoin"


def session_unavailable(deps: Deps, session_id: str) -> ClientError:
    """The error for a session that refused a write: not found, ended or full."""
    session = deps.sessions.get(session_id, deps.now)
    if session is None:
        return ClientError("SESSION_NOT_FOUND", f"no session {session_id!r}; check the id with the speaker",
                           status=404, sessionId=session_id)
    if not session.active or deps.now >= session.ends_at(deps.settings.session_max_duration_seconds):
        return ClientError("SESSION_ENDED", f"session {session_id!r} has ended", status=410, sessionId=session_id)
    if session.listener_count >= deps.settings.max_listeners:
        return ClientError("SESSION_FULL", f"session {session_id!r} is full ({deps.settings.max_listeners} listeners)",
                           status=409, sessionId=session_id, maxListeners=deps.settings.max_listeners)
    return ClientError("SESSION_UNAVAILABLE", f"session {session_id!r} cannot be joined right now; retry",
                       status=409, sessionId=session_id)


def current_session_over(deps: Deps, caller: Connection, wanted: str | None = None) -> str | None:
    """The caller's previous session id when that session is over (so it may be replaced), None
    when the caller is in no session; raises ALREADY_IN_SESSION when it is still in a live one."""
    if not caller.session_id:
        return None
    current = deps.sessions.get(caller.session_id, deps.now)
    if current is not None and current.active and deps.now < current.ends_at(deps.settings.session_max_duration_seconds):
        hint = "use listenerControl switchLanguage to change language" if caller.session_id == wanted else "leave it first"
        raise ClientError("ALREADY_IN_SESSION", f"this connection is already in session {caller.session_id!r}; {hint}",
                          status=409, sessionId=caller.session_id)
    return caller.session_id


def join(deps: Deps, caller: Connection, session_id: str, target_language: str, source_ip: str,
         rate_limited: bool = True, refresh_digest: str | None = None) -> Session:
    """Add a listener connection to a session, enforcing capacity atomically."""
    if not caller.is_listener:
        raise ClientError("FORBIDDEN_ROLE", "only listener connections can join a session; connect with role=listener",
                          status=403)
    previous = current_session_over(deps, caller, session_id)
    if rate_limited:
        # Fails open: capacity is enforced by the session row anyway; the limit only slows abuse.
        limit = Limit(JOIN_LIMIT_NAME, deps.settings.rate_listener_joins_per_minute, 60, fail_open=True)
        deps.rate_limiter.hit(limit, source_ip, deps.now)
    min_created = deps.now - deps.settings.session_max_duration_seconds
    session = deps.sessions.add_listener(session_id, deps.settings.max_listeners, deps.now, min_created)
    if session is None:
        error = session_unavailable(deps, session_id)
        if error.code == "SESSION_FULL":
            metrics.add_metric(name="SessionFullRejections", unit="Count", value=1)
        raise error
    try:
        attached = deps.connections.attach(caller.connection_id, session_id, target_language,
                                           replaces_session_id=previous, refresh_digest=refresh_digest)
    except Exception:
        # The slot was counted but the membership was not written: give the slot back.
        _give_back_slot(deps, session_id)
        raise
    if not attached:
        # Lost a race with another join/cleanup of this connection: give the slot back.
        _give_back_slot(deps, session_id)
        raise ClientError("ALREADY_IN_SESSION", "this connection joined another session meanwhile; leave it first", status=409)
    metrics.add_metric(name="ListenersJoined", unit="Count", value=1)
    return session


def leave(deps: Deps, caller: Connection, session_id: str | None) -> str:
    """Take a listener out of its session; returns the session id it left."""
    if not caller.is_listener:
        raise ClientError("FORBIDDEN_ROLE", "speakers end their session with speakerControl command 'end'", status=403)
    if not caller.session_id or (session_id and session_id != caller.session_id):
        raise ClientError("NOT_IN_SESSION", "this connection is not in that session", status=409,
                          **({"sessionId": session_id} if session_id else {}))
    if deps.connections.detach(caller.connection_id, caller.session_id):
        try:
            deps.sessions.remove_listener(caller.session_id, deps.now)
        except Exception:
            # Undo the detach so row and count agree; the client is told to retry.
            _rollback(deps, "re-attach after a failed leave", lambda: deps.connections.attach(
                caller.connection_id, caller.session_id or "", caller.target_language,
                refresh_digest=caller.refresh_digest))
            raise
    return caller.session_id


def remove_connection(deps: Deps, connection_id: str, *, notify: bool = True, idle_before: int | None = None) -> Connection | None:
    """Delete a connection row and undo its membership ($disconnect, Gone replies, the sweep).

    Listener: the session's count drops by one. Speaker: the session is marked speaker-gone
    (the sweep ends it after the grace period unless a refresh takes it over first).
    Returns the removed row, or None when another cleanup got there first.
    """
    removed = deps.connections.delete(connection_id, idle_before=idle_before)
    if removed is None or not removed.session_id:
        return removed
    if removed.is_listener:
        try:
            deps.sessions.remove_listener(removed.session_id, deps.now)
        except Exception:
            # Put the row back: it still counts, and the sweep removes it (it no longer heartbeats).
            _rollback(deps, "restore a connection row after a failed decrement",
                      lambda: deps.connections.restore(removed))
            raise
    elif removed.is_speaker and deps.sessions.mark_speaker_gone(removed.session_id, connection_id, deps.now):
        logger.info("speaker connection gone; grace period started", extra={"sessionId": removed.session_id})
        if notify:
            notify_listeners(deps, removed.session_id, session_update(removed.session_id, "speakerDisconnected"))
    return removed


def _give_back_slot(deps: Deps, session_id: str) -> None:
    _rollback(deps, "give back a join's slot", lambda: deps.sessions.remove_listener(session_id, deps.now))


def _rollback(deps: Deps, what: str, undo: Any) -> None:
    """Run one compensating write; if it fails too, the minute sweep's recount repairs the count."""
    try:
        undo()
        metrics.add_metric(name="MembershipRollbacks", unit="Count", value=1)
    except Exception:  # noqa: BLE001 - the original error is what the caller reports
        metrics.add_metric(name="MembershipRollbackFailures", unit="Count", value=1)
        logger.exception("rollback failed; the sweep will recount", extra={"rollback": what})


def notify_listeners(deps: Deps, session_id: str, envelope: dict[str, Any]) -> BroadcastResult:
    """Post one envelope to every listener of a session."""
    listeners = deps.connections.listeners(session_id, deps.now)
    return deps.replier.broadcast([c.connection_id for c in listeners], envelope)


def session_update(session_id: str, event: str, session: Session | None = None) -> dict[str, Any]:
    """The ``sessionUpdate`` push listeners get when the session's state changes."""
    fields: dict[str, Any] = {"sessionId": session_id, "event": event}
    if session is not None:
        fields.update({"status": session.status, "paused": session.paused, "muted": session.muted})
    return message("sessionUpdate", **fields)


def session_ended(session: Session) -> dict[str, Any]:
    """The ``sessionEnded`` push."""
    return message("sessionEnded", sessionId=session.session_id, reason=session.end_reason or "ended",
                   endedAt=session.ended_at)


def announce_end(deps: Deps, session: Session, notify_speaker: bool = True) -> None:
    """Tell listeners (and the speaker connection) that a session has ended."""
    envelope = session_ended(session)
    notify_listeners(deps, session.session_id, envelope)
    if notify_speaker and session.speaker_connection_id and session.speaker_disconnected_at is None:
        deps.replier.send(session.speaker_connection_id, envelope)
    metrics.add_metric(name="SessionsEnded", unit="Count", value=1)
    logger.info("session ended", extra={"sessionId": session.session_id, "reason": session.end_reason})


def end_session(deps: Deps, session_id: str, reason: str) -> Session | None:
    """End an active session and announce it; None when it was already over."""
    ended = deps.sessions.end(session_id, reason, deps.now)
    if ended is not None:
        announce_end(deps, ended)
    return ended
