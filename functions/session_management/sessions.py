"""Repository over the Sessions table: every read and conditional write of a session row.

Writes that decide something (capacity, ownership, ending) are single conditional UpdateItems
on the session row, so concurrent Lambdas cannot both win: DynamoDB serializes them per item.
Transactions are deliberately not used on the session row: up to 500 listeners join the same
session at once, and concurrent transactions on one item cancel each other
(TransactionConflict) where plain conditional updates simply queue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from common.dynamo import conditional
from common.tables import SESSION_ACTIVE, SESSION_ENDED, is_live

from session_management.records import Session

END_SPEAKER = "speakerEnded"
END_SPEAKER_GONE = "speakerGone"
END_MAX_DURATION = "maxDuration"

_CONTROL_CHANGES: dict[str, dict[str, Any]] = {
    "pause": {"paused": True},
    "resume": {"paused": False},
    "mute": {"muted": True},
    "unmute": {"muted": False},
}
# Where on the session's audio timeline (``audioSamples``, kept by sendAudio's admission) each
# silence began: the translation pipeline still broadcasts speech captured before it (its
# segments arrive late, when Transcribe finalizes), never speech after it. Set with the flag,
# removed with it, in the same write. No audio is admitted while paused or muted, so
# ``audioSamples`` stands still meanwhile and a repeated pause or mute records the same place.
_SILENCE_POSITION = {"paused": "pausedAtSample", "muted": "mutedAtSample"}


class SessionRepository:
    """Reads ignore expired rows; writes carry the conditions that keep sessions consistent."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, session_id: str, now: int) -> Session | None:
        """The live session row, or None (absent or past its TTL)."""
        item = self._table.get_item(Key={"sessionId": session_id}, ConsistentRead=True).get("Item")
        return Session.from_item(item) if is_live(item, now) else None

    def create(self, session: Session) -> bool:
        """Store a new session; False when the id is taken (even by an expired, undeleted row)."""
        return conditional(self._table.put_item, Item=session.to_item(),
                           ConditionExpression="attribute_not_exists(sessionId)") is not None

    def delete(self, session_id: str) -> None:
        """Remove a row that was never handed out (creation rolled back)."""
        self._table.delete_item(Key={"sessionId": session_id})

    def add_listener(self, session_id: str, max_listeners: int, now: int, min_created_at: int) -> Session | None:
        """Count one more listener if the session is live, active, young enough and below capacity.

        Returns the updated session, or None when any condition failed (the caller reads the
        row to say which). The condition is the capacity check: the 501st join fails here.
        """
        response = conditional(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="ADD listenerCount :one SET updatedAt = :now",
            ConditionExpression=("attribute_exists(sessionId) AND #status = :active AND listenerCount < :max "
                                 "AND expiresAt > :now AND createdAt > :minCreated"),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":one": 1, ":now": now, ":active": SESSION_ACTIVE, ":max": max_listeners,
                                       ":minCreated": min_created_at},
            ReturnValues="ALL_NEW",
        )
        if response is None:
            return None
        return Session.from_item(response["Attributes"])

    def remove_listener(self, session_id: str, now: int) -> bool:
        """Count one listener less; never below 0 and never creates a row."""
        return conditional(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="ADD listenerCount :minusOne SET updatedAt = :now",
            ConditionExpression="attribute_exists(sessionId) AND listenerCount > :zero",
            ExpressionAttributeValues={":minusOne": -1, ":zero": 0, ":now": now},
        ) is not None

    def recount(self, session_id: str, counted: int, observed: Session, now: int) -> bool:
        """Set ``listenerCount`` to ``counted`` (the listeners index's count) only if the row is still
        exactly as ``observed``: same count, same ``updatedAt`` (every membership change sets it), so a
        join or leave that raced the count is never overwritten."""
        return conditional(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="SET listenerCount = :counted, updatedAt = :now",
            ConditionExpression=("attribute_exists(sessionId) AND listenerCount = :observed "
                                 "AND updatedAt = :observedAt AND #status = :active"),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":counted": counted, ":observed": observed.listener_count,
                                       ":observedAt": observed.updated_at, ":now": now, ":active": SESSION_ACTIVE},
        ) is not None

    def take_over(self, session_id: str, connection_id: str, user_id: str, now: int, proof_digest: str | None,
                  new_digest: str) -> Session | None:
        """Make ``connection_id`` the speaker connection, only for the same Cognito user presenting
        the refresh token last issued for the session (``proof_digest``: its hash; None when the
        caller already is the speaker connection), and store the next token's hash.

        Returns the session as it was before (its old ``speakerConnectionId``), or None when the
        session is not active, belongs to another user, or the proof is wrong.
        """
        values: dict[str, Any] = {":conn": connection_id, ":user": user_id, ":active": SESSION_ACTIVE, ":now": now,
                                  ":next": new_digest}
        if proof_digest is None:
            proof = "speakerConnectionId = :conn"
        else:
            proof = "speakerRefreshDigest = :proof"
            values[":proof"] = proof_digest
        response = conditional(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression=("SET speakerConnectionId = :conn, speakerRefreshDigest = :next, updatedAt = :now "
                              "REMOVE speakerDisconnectedAt"),
            ConditionExpression=("attribute_exists(sessionId) AND speakerUserId = :user AND #status = :active "
                                 f"AND expiresAt > :now AND {proof}"),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
        )
        if response is None:
            return None
        return Session.from_item(response["Attributes"])

    def apply_control(self, session_id: str, connection_id: str, command: str, now: int) -> tuple[Session, Session] | None:
        """Apply a speaker command (pause, resume, mute, unmute, end) if ``connection_id`` is the
        session's speaker connection and the session is active. Returns (before, after) or None."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":conn": connection_id, ":active": SESSION_ACTIVE, ":now": now}
        if command == "end":
            update = "SET #status = :ended, endedAt = :now, endReason = :reason, updatedAt = :now"
            values.update({":ended": SESSION_ENDED, ":reason": END_SPEAKER})
            changes: dict[str, Any] = {"status": SESSION_ENDED, "ended_at": now, "end_reason": END_SPEAKER}
        else:
            (attribute, flag), = _CONTROL_CHANGES[command].items()
            position = _SILENCE_POSITION[attribute]
            if flag:
                update = f"SET {attribute} = :flag, {position} = if_not_exists(audioSamples, :zero), updatedAt = :now"
                values[":zero"] = 0
            else:
                update = f"SET {attribute} = :flag, updatedAt = :now REMOVE {position}"
            values[":flag"] = flag
            changes = {attribute: flag}
        response = conditional(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression=update,
            ConditionExpression=("attribute_exists(sessionId) AND speakerConnectionId = :conn AND #status = :active "
                                 "AND expiresAt > :now"),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
        )
        if response is None:
            return None
        before = Session.from_item(response["Attributes"])
        return before, dataclasses.replace(before, updated_at=now, **changes)

    def end(self, session_id: str, reason: str, now: int) -> Session | None:
        """End an active session; returns it ended, or None if it was not active (someone else ended it)."""
        response = conditional(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="SET #status = :ended, endedAt = :now, endReason = :reason, updatedAt = :now",
            ConditionExpression="attribute_exists(sessionId) AND #status = :active",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":ended": SESSION_ENDED, ":active": SESSION_ACTIVE, ":now": now, ":reason": reason},
            ReturnValues="ALL_NEW",
        )
        if response is None:
            return None
        return Session.from_item(response["Attributes"])

    def mark_speaker_gone(self, session_id: str, connection_id: str, now: int) -> bool:
        """Record that the speaker connection is gone (starts the grace period), only if it still
        is the session's speaker connection: after a refresh the old connection's disconnect is a no-op."""
        return conditional(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="SET speakerDisconnectedAt = :now, updatedAt = :now",
            ConditionExpression=("attribute_exists(sessionId) AND speakerConnectionId = :conn AND #status = :active "
                                 "AND attribute_not_exists(speakerDisconnectedAt)"),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":conn": connection_id, ":active": SESSION_ACTIVE, ":now": now},
        ) is not None

    def scan_active(self, now: int) -> Iterator[Session]:
        """Every live, active session (a paginated Scan; see docs/data-model.md for why not a GSI)."""
        kwargs: dict[str, Any] = {
            "FilterExpression": "#status = :active AND expiresAt > :now",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":active": SESSION_ACTIVE, ":now": now},
        }
        while True:
            page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                if is_live(item, now):
                    yield Session.from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
