"""Admission of a chunk into its session: one conditional UpdateItem on the Sessions row.

The condition is every rule at once - the row exists and has not expired, the sender is the
session's speaker connection, the session is active and neither paused nor muted, and the
sequence is above ``lastAudioSequence`` - so concurrent handlers cannot both admit the same
sequence as the newest. The same write adds the chunk's samples to ``audioSamples``, which
gives the chunk its place on the session's audio timeline (``sampleOffset``). When the
condition fails, the old row (ReturnValuesOnConditionCheckFailure) says which rule did.

Reorder window: API Gateway may run two ``sendAudio`` messages of one connection at once, so
chunk n can reach the gate just after n+1. A chunk at most ``REORDER_WINDOW`` below
``lastAudioSequence`` and above ``lastFedSequence`` (not yet passed by the stream worker) is
admitted *late*: a second conditional write adds its samples without moving
``lastAudioSequence``. Its buffer row is written only if absent, so a repeat is refused
(``AUDIO_DUPLICATE``) and only a chunk older than the window or than what was fed is refused
``AUDIO_OUT_OF_ORDER``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError as AwsClientError
from common.dynamo import conditional, is_condition_failure
from common.envelope import ClientError
from common.tables import SESSION_ACTIVE

from audio_transcription.dynamo import decimal
from audio_transcription.stream_worker.lease import lease_is_live

# How far below the newest admitted sequence a late chunk may still be admitted.
REORDER_WINDOW = 8


@dataclass(frozen=True)
class Admission:
    """An admitted chunk: where it sits on the session timeline and whether a worker runs."""

    sample_offset: int
    previous_sequence: int | None
    worker_live: bool
    late: bool = False


class SessionGate:
    """Admits chunks (a boto3 Table resource for Sessions)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def admit(self, session_id: str, connection_id: str, sequence: int, samples: int, now: float) -> Admission:
        """Record ``sequence`` as the session's latest chunk, or raise the ``ClientError`` saying why not."""
        try:
            response = self._table.update_item(
                Key={"sessionId": session_id},
                UpdateExpression="SET lastAudioSequence = :seq ADD audioSamples :n",
                ConditionExpression=(
                    "attribute_exists(sessionId) AND speakerConnectionId = :conn AND #status = :active "
                    "AND (attribute_not_exists(expiresAt) OR expiresAt > :now) "
                    "AND (attribute_not_exists(paused) OR paused = :false) "
                    "AND (attribute_not_exists(muted) OR muted = :false) "
                    "AND (attribute_not_exists(lastAudioSequence) OR lastAudioSequence < :seq)"),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":seq": sequence, ":n": samples, ":conn": connection_id,
                                           ":active": SESSION_ACTIVE, ":now": decimal(now), ":false": False},
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except AwsClientError as error:
            if not is_condition_failure(error):
                raise
            old = error.response.get("Item")
            if old is None:
                # Older SDKs/emulators do not return the item: read it to say which rule failed.
                old = self._table.get_item(Key={"sessionId": session_id}, ConsistentRead=True).get("Item")
            old = _plain(old)
            error_to_raise = refusal(old, session_id, connection_id, sequence, now)
            if error_to_raise.code == "AUDIO_OUT_OF_ORDER" and _within_window(old, sequence):
                late = self._admit_late(session_id, connection_id, sequence, samples, now)
                if late is not None:
                    return late
            raise error_to_raise from None
        old = response.get("Attributes") or {}
        previous = old.get("lastAudioSequence")
        return Admission(
            sample_offset=int(old.get("audioSamples", 0)),
            previous_sequence=None if previous is None else int(previous),
            worker_live=lease_is_live(old, now),
        )

    def _admit_late(self, session_id: str, connection_id: str, sequence: int, samples: int, now: float) -> Admission | None:
        """Admit a chunk that arrived just after a later one (see the module docstring); None when the
        rules no longer hold (then the caller's refusal stands)."""
        response = conditional(
            self._table.update_item,
            Key={"sessionId": session_id},
            UpdateExpression="ADD audioSamples :n",
            ConditionExpression=(
                "attribute_exists(sessionId) AND speakerConnectionId = :conn AND #status = :active "
                "AND (attribute_not_exists(expiresAt) OR expiresAt > :now) "
                "AND (attribute_not_exists(paused) OR paused = :false) "
                "AND (attribute_not_exists(muted) OR muted = :false) "
                "AND lastAudioSequence > :seq AND lastAudioSequence <= :windowTop "
                "AND (attribute_not_exists(lastFedSequence) OR lastFedSequence < :seq)"),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":seq": sequence, ":n": samples, ":conn": connection_id, ":active": SESSION_ACTIVE,
                                       ":now": decimal(now), ":false": False, ":windowTop": sequence + REORDER_WINDOW},
            ReturnValues="ALL_OLD",
        )
        if response is None:
            return None
        old = response.get("Attributes") or {}
        return Admission(sample_offset=int(old.get("audioSamples", 0)), previous_sequence=None,
                         worker_live=lease_is_live(old, now), late=True)

    def rollback_late(self, session_id: str, samples: int) -> bool:
        """Undo a late admission whose chunk was not stored (its samples leave the timeline)."""
        self._table.update_item(Key={"sessionId": session_id}, UpdateExpression="ADD audioSamples :minus",
                                ExpressionAttributeValues={":minus": -samples})
        return True

    def rollback(self, session_id: str, sequence: int, previous_sequence: int | None, samples: int) -> bool:
        """Undo an admission whose chunk could not be stored, if no later chunk was admitted since."""
        if previous_sequence is None:
            update = "REMOVE lastAudioSequence ADD audioSamples :minus"
            values: dict[str, Any] = {":seq": sequence, ":minus": -samples}
        else:
            update = "SET lastAudioSequence = :prev ADD audioSamples :minus"
            values = {":seq": sequence, ":prev": previous_sequence, ":minus": -samples}
        return conditional(self._table.update_item, Key={"sessionId": session_id}, UpdateExpression=update,
                           ConditionExpression="lastAudioSequence = :seq", ExpressionAttributeValues=values) is not None


def _within_window(old: dict[str, Any] | None, sequence: int) -> bool:
    last = None if old is None else old.get("lastAudioSequence")
    fed = None if old is None else old.get("lastFedSequence")
    return (last is not None and int(last) - REORDER_WINDOW <= sequence < int(last)
            and (fed is None or int(fed) < sequence))


def _plain(item: Any) -> dict[str, Any] | None:
    """An item from the low-level error response ({"S": ...} values) or the resource layer, as plain values."""
    if not item:
        return None
    if all(isinstance(v, dict) and len(v) == 1 and next(iter(v)) in ("S", "N", "BOOL", "NULL", "B", "M", "L", "SS", "NS")
           for v in item.values()):
        from boto3.dynamodb.types import TypeDeserializer

        deserializer = TypeDeserializer()
        return {k: deserializer.deserialize(v) for k, v in item.items()}
    return dict(item)


def refusal(old: dict[str, Any] | None, session_id: str, connection_id: str, sequence: int, now: float) -> ClientError:
    """Which rule a refused chunk broke, as the error the speaker gets."""
    expires = None if old is None else old.get("expiresAt")
    if old is None or (expires is not None and float(expires) <= now):
        return ClientError("SESSION_NOT_FOUND", f"no session {session_id!r}", status=404,
                           sessionId=session_id, sequence=sequence)
    if old.get("speakerConnectionId") != connection_id:
        return ClientError("NOT_SESSION_SPEAKER", "only the session's speaker connection may send audio",
                           status=403, sessionId=session_id, sequence=sequence)
    if old.get("status") != SESSION_ACTIVE:
        return ClientError("SESSION_ENDED", "the session is over", status=410, sessionId=session_id, sequence=sequence)
    if old.get("paused"):
        return ClientError("SESSION_PAUSED", "the session is paused: resume it before sending audio", status=409,
                           sessionId=session_id, sequence=sequence)
    if old.get("muted"):
        return ClientError("SESSION_MUTED", "the session is muted: unmute it before sending audio", status=409,
                           sessionId=session_id, sequence=sequence)
    last = old.get("lastAudioSequence")
    last_int = None if last is None else int(last)
    if last_int == sequence:
        return duplicate(session_id, sequence)
    return ClientError("AUDIO_OUT_OF_ORDER", f"chunk {sequence} is older than the reorder window allows "
                       f"(last accepted chunk {last_int}, window {REORDER_WINDOW}) or than audio already transcribed",
                       status=409, sessionId=session_id, sequence=sequence, lastSequence=last_int)


def duplicate(session_id: str, sequence: int) -> ClientError:
    """The chunk with this sequence was already accepted."""
    return ClientError("AUDIO_DUPLICATE", f"chunk {sequence} was already accepted", status=409,
                       sessionId=session_id, sequence=sequence)
