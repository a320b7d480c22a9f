"""Who should hear a segment: the session's state and its live listeners grouped by language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.tables import ROLE_LISTENER, SESSION_ENDED, is_live

# Segment times are seconds of the session's accepted audio at 16 kHz (audio_transcription.segments).
SAMPLE_RATE = 16000


@dataclass(frozen=True)
class SessionState:
    """The parts of a Sessions row that decide whether anything is broadcast."""

    session_id: str
    exists: bool
    live: bool = False
    status: str = ""
    paused: bool = False
    muted: bool = False
    # Where on the session's audio timeline (samples) the pause / the mute began; None when not
    # recorded (a row written before these attributes existed).
    paused_at_sample: int | None = None
    muted_at_sample: int | None = None

    @property
    def silent_reason(self) -> str | None:
        """Why nothing may be broadcast now (``missing``, ``expired``, ``ended``, ``paused``, ``muted``), or None."""
        if not self.exists:
            return "missing"
        if not self.live:
            return "expired"
        if self.status == SESSION_ENDED:
            return "ended"
        if self.paused:
            return "paused"
        if self.muted:
            return "muted"
        return None

    @property
    def silent_from_sample(self) -> int | None:
        """Where the current pause or mute began on the audio timeline (the earlier of the two when
        both hold); None when the session is not paused or muted, or a position is not recorded."""
        positions = [self.paused_at_sample] if self.paused else []
        positions += [self.muted_at_sample] if self.muted else []
        if not positions or None in positions:
            return None
        return min(p for p in positions if p is not None)

    def suppression_reason(self, start_time: float | None) -> str | None:
        """Why a segment whose audio starts at ``start_time`` (session seconds) must not be broadcast, or None.

        Missing, expired and ended sessions send nothing. While paused or muted, speech captured
        *before* the pause or mute began is still sent: its segment arrives late (a final result
        comes when the stream idles, seconds after the speaker stopped) and was said while the
        session was live. Audio is refused while paused or muted, so only a segment starting at or
        after that position, a segment without a start time, or a row without the position is
        suppressed.
        """
        reason = self.silent_reason
        if reason not in ("paused", "muted"):
            return reason
        silent_from = self.silent_from_sample
        if start_time is None or silent_from is None:
            return reason
        return None if round(start_time * SAMPLE_RATE) < silent_from else reason


def load_session(dynamodb: Any, table: str, session_id: str, now: float) -> SessionState:
    """Read the Sessions row; strongly consistent so a pause or mute takes effect on the next segment."""
    response = dynamodb.get_item(
        TableName=table,
        Key={"sessionId": {"S": session_id}},
        ConsistentRead=True,
        ProjectionExpression="sessionId, #status, paused, muted, pausedAtSample, mutedAtSample, expiresAt",
        ExpressionAttributeNames={"#status": "status"},
    )
    item = response.get("Item")
    if not item:
        return SessionState(session_id=session_id, exists=False)
    return SessionState(
        session_id=session_id,
        exists=True,
        live=is_live({"expiresAt": item.get("expiresAt", {}).get("N")}, now),
        status=item.get("status", {}).get("S", ""),
        paused=item.get("paused", {}).get("BOOL", False),
        muted=item.get("muted", {}).get("BOOL", False),
        paused_at_sample=_optional_int(item, "pausedAtSample"),
        muted_at_sample=_optional_int(item, "mutedAtSample"),
    )


def _optional_int(item: dict[str, Any], attribute: str) -> int | None:
    value = item.get(attribute, {}).get("N")
    return None if value is None else int(float(value))


def find_listeners(dynamodb: Any, table: str, index: str, session_id: str, now: float) -> dict[str, list[str]]:
    """Live listener connection ids of a session, by target language: one paginated Query on the index.

    Speaker rows have no ``targetLanguage`` and so are absent from the index; expired rows
    (TTL deletes late) and rows of any other role are skipped.
    """
    by_language: dict[str, list[str]] = {}
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": "sessionId = :s",
        "ExpressionAttributeValues": {":s": {"S": session_id}},
    }
    while True:
        page = dynamodb.query(**kwargs)
        for item in page.get("Items", []):
            language = item.get("targetLanguage", {}).get("S")
            connection_id = item.get("connectionId", {}).get("S")
            role = item.get("role", {}).get("S", ROLE_LISTENER)
            expires = item.get("expiresAt", {}).get("N")
            if not language or not connection_id or role != ROLE_LISTENER:
                continue
            if not is_live({"expiresAt": expires}, now):
                continue
            by_language.setdefault(language, []).append(connection_id)
        last = page.get("LastEvaluatedKey")
        if not last:
            return by_language
        kwargs["ExclusiveStartKey"] = last
