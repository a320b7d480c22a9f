"""Route ``getSessionStatus``."""

from __future__ import annotations

from typing import Any

from common.envelope import ClientError
from common.observability import lambda_entry

from session_management.deps import Deps
from session_management.events import WebSocketRequest
from session_management.messages import GET_SESSION_STATUS, Message
from session_management.records import Connection
from session_management.routing import handle_message
from session_management.status import session_status


def get_session_status(deps: Deps, request: WebSocketRequest, caller: Connection, msg: Message) -> list[dict[str, Any]]:
    """Status of the caller's own session (its speaker or one of its listeners); replies ``sessionStatus``."""
    session_id = msg.session_id or caller.session_id
    if not session_id or caller.session_id != session_id:
        raise ClientError("NOT_IN_SESSION", "status is available for the session this connection is in", status=403,
                          **({"sessionId": session_id} if session_id else {}))
    session = deps.sessions.get(session_id, deps.now)
    if session is None:
        raise ClientError("SESSION_NOT_FOUND", f"no session {session_id!r}", status=404, sessionId=session_id)
    return [session_status(deps, session)]


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer the caller's session status."""
    return handle_message(event, (GET_SESSION_STATUS,), get_session_status)
