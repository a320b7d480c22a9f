"""The once-a-minute sweep: end abandoned sessions, remove stale connections, push status.

Per active session (found with a Scan of Sessions, see docs/data-model.md):
1. older than SESSION_MAX_DURATION_HOURS, or speaker gone for SPEAKER_GRACE_MINUTES: end it
   and tell its listeners ``sessionEnded``;
2. speaker connection row missing (its $disconnect was lost): start the grace period now;
   speaker silent for STALE_CONNECTION_SECONDS: remove it (grace period starts) and close it;
3. listeners silent for STALE_CONNECTION_SECONDS: remove them (the count drops) and close them;
4. recount: when the session's row has not changed for RECOUNT_QUIET_SECONDS and its
   ``listenerCount`` differs from the live listeners the index lists, set it to that number
   (conditional on the row being unchanged). This repairs a count that a fault left wrong
   (a rollback that failed too), so an empty session never answers SESSION_FULL;
5. push ``sessionStatus`` to the speaker connection.
Status is pushed to speakers only: pushing it to up to 500 listeners per session every minute
would spend the account-wide @connections throughput the live captions need; listeners get
``sessionUpdate`` on every change and can ask with getSessionStatus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from common.observability import logger, metrics

from session_management import membership
from session_management.deps import Deps
from session_management.records import Session
from session_management.sessions import END_MAX_DURATION, END_SPEAKER_GONE
from session_management.status import session_status

# Stop starting new sessions' work when less than this is left of the invocation.
SAFETY_MARGIN_MS = 5000
# A count is only recomputed when no join or leave touched the session for this long: the
# listeners index (eventually consistent) has caught up with every membership change by then.
RECOUNT_QUIET_SECONDS = 30


@dataclass
class SweepReport:
    """What one sweep did (also emitted as metrics)."""

    active_sessions: int = 0
    listeners: int = 0
    ended_sessions: int = 0
    stale_connections: int = 0
    status_pushes: int = 0
    errors: int = 0
    skipped: int = 0
    recounted: int = 0


def run_sweep(deps: Deps, remaining_ms: Callable[[], int] | None = None) -> SweepReport:
    """Sweep every active session; one session's failure does not stop the others."""
    report = SweepReport()
    for session in deps.sessions.scan_active(deps.now):
        if remaining_ms is not None and remaining_ms() < SAFETY_MARGIN_MS:
            report.skipped += 1
            continue
        try:
            sweep_session(deps, session, report)
        except Exception:  # noqa: BLE001 - the next sessions still get swept; the next run retries this one
            report.errors += 1
            logger.exception("sweep of a session failed", extra={"sessionId": session.session_id})
    metrics.add_metric(name="ActiveSessions", unit="Count", value=report.active_sessions)
    metrics.add_metric(name="ListenerCount", unit="Count", value=report.listeners)
    metrics.add_metric(name="StaleConnectionsRemoved", unit="Count", value=report.stale_connections)
    if report.errors:
        metrics.add_metric(name="ErrorCount", unit="Count", value=report.errors)
    logger.info("sweep done", extra=report.__dict__)
    return report


def sweep_session(deps: Deps, session: Session, report: SweepReport) -> None:
    """Sweep one session."""
    settings = deps.settings
    if deps.now >= session.ends_at(settings.session_max_duration_seconds):
        _end(deps, session, END_MAX_DURATION, report)
        return
    gone_since = session.speaker_disconnected_at
    if gone_since is not None and deps.now - gone_since >= settings.speaker_grace_minutes * 60:
        _end(deps, session, END_SPEAKER_GONE, report)
        return
    cutoff = deps.now - settings.stale_connection_seconds
    speaker_present = gone_since is None and _check_speaker(deps, session, cutoff, report)
    live = []
    for listener in deps.connections.listeners(session.session_id, deps.now):
        if listener.last_heartbeat_at >= cutoff:
            live.append(listener)
            continue
        # Conditional on the base row still being idle: the index copy may lag a fresh heartbeat.
        if membership.remove_connection(deps, listener.connection_id, notify=False, idle_before=cutoff) is not None:
            report.stale_connections += 1
            deps.replier.close(listener.connection_id)
        else:
            live.append(listener)
    report.active_sessions += 1
    report.listeners += len(live)
    current = deps.sessions.get(session.session_id, deps.now) or session
    if (current.listener_count != len(live) and current.updated_at <= deps.now - RECOUNT_QUIET_SECONDS
            and deps.sessions.recount(session.session_id, len(live), current, deps.now)):
        report.recounted += 1
        metrics.add_metric(name="ListenerCountRepaired", unit="Count", value=1)
        logger.warning("listenerCount repaired from the listeners index",
                       extra={"sessionId": session.session_id, "was": current.listener_count, "now": len(live)})
        current = deps.sessions.get(session.session_id, deps.now) or current
    if speaker_present:
        deps.replier.send(current.speaker_connection_id, session_status(deps, current, live))
        report.status_pushes += 1


def _check_speaker(deps: Deps, session: Session, cutoff: int, report: SweepReport) -> bool:
    """True when the speaker connection is alive; otherwise starts the grace period."""
    row = deps.connections.get(session.speaker_connection_id, deps.now)
    if row is None or row.session_id != session.session_id:
        if deps.sessions.mark_speaker_gone(session.session_id, session.speaker_connection_id, deps.now):
            logger.info("speaker connection missing; grace period started", extra={"sessionId": session.session_id})
            membership.notify_listeners(deps, session.session_id, membership.session_update(session.session_id, "speakerDisconnected"))
        return False
    if row.last_heartbeat_at >= cutoff:
        return True
    if membership.remove_connection(deps, row.connection_id, idle_before=cutoff) is not None:
        report.stale_connections += 1
        deps.replier.close(row.connection_id)
        return False
    return True


def _end(deps: Deps, session: Session, reason: str, report: SweepReport) -> None:
    if membership.end_session(deps, session.session_id, reason) is not None:
        report.ended_sessions += 1
