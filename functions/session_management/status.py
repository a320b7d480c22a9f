"""The ``sessionStatus`` envelope: answered to getSessionStatus and pushed to speakers every minute."""

from __future__ import annotations

from collections import Counter
from typing import Any

from common.envelope import message

from session_management.deps import Deps
from session_management.records import Connection, Session


def language_counts(listeners: list[Connection]) -> dict[str, int]:
    """Listeners per target language, sorted by language code."""
    counts = Counter(c.target_language for c in listeners if c.target_language)
    return dict(sorted(counts.items()))


def session_status(deps: Deps, session: Session, listeners: list[Connection] | None = None) -> dict[str, Any]:
    """Status of a session: state, listener count (the capacity counter) and languages with listeners."""
    if listeners is None:
        listeners = deps.connections.listeners(session.session_id, deps.now) if session.active else []
    return message(
        "sessionStatus",
        sessionId=session.session_id,
        status=session.status,
        sourceLanguage=session.source_language,
        paused=session.paused,
        muted=session.muted,
        listenerCount=session.listener_count,
        maxListeners=deps.settings.max_listeners,
        languages=language_counts(listeners),
        speakerConnected=session.speaker_disconnected_at is None,
        createdAt=session.created_at,
        endsAt=session.ends_at(deps.settings.session_max_duration_seconds),
        serverTime=deps.now,
    )
