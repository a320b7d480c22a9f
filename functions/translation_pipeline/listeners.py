"""Who should hear a segment: the session's state and its live listeners grouped by language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.tables import ROLE_LISTENER, SESSION_ENDED, is_live


@dataclass(frozen=True)
class SessionState:
    """The parts of a Sessions row that decide whether anything is broadcast."""

    session_id: str
    exists: bool
    live: bool = False
    status: str = ""
    paused: bool = False
    muted: bool = False

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


def load_session(dynamodb: Any, table: str, session_id: str, now: float) -> SessionState:
    """Read the Sessions row; strongly consistent so a pause or mute takes effect on the next segment."""
    response = dynamodb.get_item(
        TableName=table,
        Key={"sessionId": {"S": session_id}},
        ConsistentRead=True,
        ProjectionExpression="sessionId, #status, paused, muted, expiresAt",
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
    )


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
