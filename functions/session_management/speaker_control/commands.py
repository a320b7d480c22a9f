"""Speaker controls. The state lives in the Sessions row (``paused``, ``muted``, ``status``),
where the audio handler and the broadcast path read it, so a control is enforced, not just
announced. Only the connection in ``speakerConnectionId`` can change it (a conditional write).
Pause and mute also record where the audio stopped (``pausedAtSample`` / ``mutedAtSample``),
so speech said before them still reaches listeners (docs/data-model.md)."""

from __future__ import annotations

from typing import Any

from common.envelope import ClientError, message
from common.observability import logger, metrics

from session_management import membership
from session_management.deps import Deps
from session_management.events import WebSocketRequest
from session_management.messages import Message
from session_management.records import Connection

UPDATE_EVENTS = {"pause": "paused", "resume": "resumed", "mute": "muted", "unmute": "unmuted"}


def speaker_control(deps: Deps, request: WebSocketRequest, caller: Connection, msg: Message) -> list[dict[str, Any]]:
    """Apply pause|resume|mute|unmute|end; replies ``controlApplied`` and notifies listeners."""
    assert msg.session_id is not None and msg.command is not None  # guaranteed by parse_message
    if not caller.is_speaker:
        raise ClientError("FORBIDDEN_ROLE", "only the session's speaker can use speakerControl", status=403)
    logger.append_keys(sessionId=msg.session_id)
    result = deps.sessions.apply_control(msg.session_id, caller.connection_id, msg.command, deps.now)
    if result is None:
        session = deps.sessions.get(msg.session_id, deps.now)
        if session is None:
            raise ClientError("SESSION_NOT_FOUND", f"no session {msg.session_id!r}", status=404, sessionId=msg.session_id)
        if not session.active:
            raise ClientError("SESSION_ENDED", f"session {msg.session_id!r} has ended", status=410, sessionId=msg.session_id)
        raise ClientError("NOT_SESSION_SPEAKER", "only the session's own speaker connection can control it", status=403,
                          sessionId=msg.session_id)
    before, after = result
    changed = (before.paused, before.muted, before.status) != (after.paused, after.muted, after.status)
    if msg.command == "end":
        membership.announce_end(deps, after, notify_speaker=False)
    elif changed:
        membership.notify_listeners(deps, after.session_id, membership.session_update(after.session_id, UPDATE_EVENTS[msg.command], after))
    logger.info("speaker control applied", extra={"command": msg.command, "changed": changed})
    metrics.add_metric(name="SpeakerControls", unit="Count", value=1)
    return [message("controlApplied", sessionId=after.session_id, command=msg.command, changed=changed,
                    status=after.status, paused=after.paused, muted=after.muted)]
