"""The stream worker lease on the Sessions row: at most one worker per session.

Attributes (docs/data-model.md): ``workerLeaseId`` (S), ``workerLeaseExpiresAt`` (N, epoch
seconds), ``workerGeneration`` (N, +1 per activated worker), ``lastFedSequence`` (N, the last
chunk sequence a worker fed to Transcribe), ``workerAttempts`` (N, activations since the
position last moved: a chunk that kills every worker is skipped after a few).

Life of a lease, every step a conditional UpdateItem so two parties can never both win:

1. *claim* (the ``sendAudio`` handler, or a worker handing over): the lease is free or
   expired -> set a new lease id with a short start grace; then invoke a worker with it.
2. *activate* (the invoked worker): the lease id is still the one it was given and not
   expired -> extend it, draw a generation number, read the session.
3. *renew* (every few seconds): still ours -> extend, record the position; ALL_NEW tells
   the worker whether the session ended, was paused or muted.
4. *hand over* (before Lambda's time limit): still ours -> set the successor's lease id and
   the position in one write, then invoke the successor.
5. *release* (session over, or silence): still ours -> remove the lease (or keep it until a
   back-off time after a failure, so a broken session does not start a worker per chunk).

A worker that dies simply stops renewing: its lease expires and the next chunk claims it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.dynamo import conditional

from audio_transcription.dynamo import decimal as _decimal


@dataclass(frozen=True)
class SessionState:
    """What a worker needs of the Sessions row."""

    session_id: str
    source_language: str
    speaker_connection_id: str
    status: str
    paused: bool
    muted: bool
    expires_at: float | None
    generation: int
    last_fed_sequence: int
    attempts: int
    lease_id: str | None
    lease_expires_at: float | None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> SessionState:
        """From a DynamoDB item (numbers arrive as Decimal)."""
        def num(name: str, default: float | None = None) -> float | None:
            value = item.get(name)
            return default if value is None else float(value)

        return cls(
            session_id=str(item["sessionId"]),
            source_language=str(item.get("sourceLanguage") or ""),
            speaker_connection_id=str(item.get("speakerConnectionId") or ""),
            status=str(item.get("status") or ""),
            paused=bool(item.get("paused", False)),
            muted=bool(item.get("muted", False)),
            expires_at=num("expiresAt"),
            generation=int(num("workerGeneration", 0) or 0),
            last_fed_sequence=int(num("lastFedSequence", -1)),
            attempts=int(num("workerAttempts", 0) or 0),
            lease_id=item.get("workerLeaseId"),
            lease_expires_at=num("workerLeaseExpiresAt"),
        )

    def ended(self, now: float) -> bool:
        """The session is over (ended, or past its TTL)."""
        return self.status != "active" or (self.expires_at is not None and self.expires_at <= now)


def lease_is_live(item: dict[str, Any] | None, now: float) -> bool:
    """True when a Sessions item carries an unexpired worker lease."""
    if not item or not item.get("workerLeaseId"):
        return False
    expires = item.get("workerLeaseExpiresAt")
    return expires is not None and float(expires) >= now


class LeaseStore:
    """Lease operations on the Sessions table (a boto3 Table resource)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def _update(self, **kwargs: Any) -> dict[str, Any] | None:
        return conditional(self._table.update_item, **kwargs)

    def claim(self, session_id: str, lease_id: str, now: float, grace: float) -> bool:
        """Take a free or expired lease for a worker about to be invoked."""
        return self._update(
            Key={"sessionId": session_id},
            UpdateExpression="SET workerLeaseId = :id, workerLeaseExpiresAt = :exp",
            ConditionExpression=("attribute_exists(sessionId) AND (attribute_not_exists(workerLeaseExpiresAt) "
                                 "OR workerLeaseExpiresAt < :now)"),
            ExpressionAttributeValues={":id": lease_id, ":exp": _decimal(now + grace), ":now": _decimal(now)},
        ) is not None

    def abandon(self, session_id: str, lease_id: str) -> bool:
        """Give back a claimed lease whose worker could not be invoked."""
        return self._update(
            Key={"sessionId": session_id},
            UpdateExpression="REMOVE workerLeaseId, workerLeaseExpiresAt",
            ConditionExpression="workerLeaseId = :id",
            ExpressionAttributeValues={":id": lease_id},
        ) is not None

    def activate(self, session_id: str, lease_id: str, now: float, lease_seconds: float) -> SessionState | None:
        """The invoked worker takes up its lease; None when it is no longer its lease."""
        response = self._update(
            Key={"sessionId": session_id},
            UpdateExpression=("SET workerLeaseExpiresAt = :exp, workerStartedAt = :now "
                              "ADD workerGeneration :one, workerAttempts :one"),
            ConditionExpression="workerLeaseId = :id AND workerLeaseExpiresAt >= :now",
            ExpressionAttributeValues={":id": lease_id, ":exp": _decimal(now + lease_seconds),
                                       ":now": _decimal(now), ":one": 1},
            ReturnValues="ALL_NEW",
        )
        return None if response is None else SessionState.from_item(response["Attributes"])

    def renew(self, session_id: str, lease_id: str, now: float, lease_seconds: float,
              position: int | None = None) -> SessionState | None:
        """Extend the lease (and record the position); None when the lease was lost."""
        update = "SET workerLeaseExpiresAt = :exp"
        values: dict[str, Any] = {":id": lease_id, ":exp": _decimal(now + lease_seconds)}
        if position is not None:
            update += ", lastFedSequence = :pos, workerAttempts = :zero"
            values.update({":pos": position, ":zero": 0})
        response = self._update(
            Key={"sessionId": session_id},
            UpdateExpression=update,
            ConditionExpression="workerLeaseId = :id",
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return None if response is None else SessionState.from_item(response["Attributes"])

    def hand_over(self, session_id: str, lease_id: str, successor_id: str, now: float, grace: float,
                  position: int) -> bool:
        """Pass the lease and the position to a successor in one write."""
        return self._update(
            Key={"sessionId": session_id},
            UpdateExpression=("SET workerLeaseId = :next, workerLeaseExpiresAt = :exp, lastFedSequence = :pos, "
                              "workerAttempts = :zero"),
            ConditionExpression="workerLeaseId = :id",
            ExpressionAttributeValues={":id": lease_id, ":next": successor_id, ":exp": _decimal(now + grace),
                                       ":pos": position, ":zero": 0},
        ) is not None

    def release(self, session_id: str, lease_id: str, position: int, hold_until: float | None = None) -> bool:
        """Give the lease up, recording the position; ``hold_until`` keeps it (back-off) until then."""
        if hold_until is None:
            update = "SET lastFedSequence = :pos REMOVE workerLeaseId, workerLeaseExpiresAt"
            values: dict[str, Any] = {":id": lease_id, ":pos": position}
        else:
            update = "SET lastFedSequence = :pos, workerLeaseExpiresAt = :hold"
            values = {":id": lease_id, ":pos": position, ":hold": _decimal(hold_until)}
        return self._update(
            Key={"sessionId": session_id},
            UpdateExpression=update,
            ConditionExpression="workerLeaseId = :id",
            ExpressionAttributeValues=values,
        ) is not None

    def skip_to(self, session_id: str, lease_id: str, position: int) -> bool:
        """Move the position past a chunk that keeps killing workers."""
        return self._update(
            Key={"sessionId": session_id},
            UpdateExpression="SET lastFedSequence = :pos, workerAttempts = :zero",
            ConditionExpression="workerLeaseId = :id",
            ExpressionAttributeValues={":id": lease_id, ":pos": position, ":zero": 0},
        ) is not None
