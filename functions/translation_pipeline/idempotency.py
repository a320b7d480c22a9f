"""A segment delivered more than once is broadcast once.

The stream worker invokes this function asynchronously, and Lambda retries an async
invocation that failed (twice, up to six hours later), so one segment can arrive again,
even while its first run is still working. Each segment gets a ledger row in the cache table:

``cacheKey = "segment#<segmentId>"``, ``status`` (``processing`` | ``partial`` | ``complete``),
``owner`` (the run holding it), ``leaseUntil`` (epoch s), ``languagesDone`` (string set),
``expiresAt`` (TTL, past Lambda's maximum event age).

- The first delivery creates the row with a conditional put and processes the segment.
- A later delivery finds the row: ``complete`` -> skipped; ``processing`` with a live lease
  -> skipped (the first run is still at work); ``partial`` (a language failed) or an
  expired lease (the first run crashed or timed out) -> taken over with a conditional
  update, and only the languages not in ``languagesDone`` are redone.
- A language is added to ``languagesDone`` when its listeners have been sent their caption
  and audio (or captions only); a language whose translation failed is not, so a retry redoes it.
- The lease runs to the end of the invocation's timeout, so a live run is never taken over.
- Writes after a delivery are retried in place (``LEDGER_WRITE_ATTEMPTS``, jittered backoff):
  a failed ``languagesDone`` update is not a reason to raise, because Lambda's retry would
  send the segment again to listeners already served. ``finish`` records every language the
  run served once more, in the same write as the status, so a language whose own update
  failed is still recorded before the run ends; only if that write fails too does the run
  raise (and listeners' de-duplication by ``segmentId`` covers the resend).

Listeners still de-duplicate by ``segmentId`` and ``part`` (see the protocol), which covers
the one window the ledger cannot: a run that crashes after posting but before recording.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from common.observability import logger

from .backoff import backoff_delay

SEGMENT_KEY_PREFIX = "segment#"
# Lambda's async event age is at most 6 hours; the row must outlive every retry.
RECORD_TTL_SECONDS = 7 * 3600
PROCESSING, PARTIAL, COMPLETE = "processing", "partial", "complete"
# Writes recording a delivery that already happened: tried this often, in place, before giving up.
LEDGER_WRITE_ATTEMPTS = 4
_RETRY_BASE_SECONDS, _RETRY_MAX_SECONDS = 0.1, 1.0


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to take a segment."""

    acquired: bool
    reason: str  # new | resumed | complete | in_progress
    owner: str
    languages_done: frozenset[str] = frozenset()


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class SegmentLedger:
    """Segment ledger rows in the translation cache table."""

    def __init__(self, dynamodb: Any, table: str, clock: Callable[[], float] = time.time,
                 ttl_seconds: int = RECORD_TTL_SECONDS, new_owner: Callable[[], str] = lambda: uuid.uuid4().hex,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._dynamodb = dynamodb
        self._sleep = sleep
        self._table = table
        self._clock = clock
        self._ttl = ttl_seconds
        self._new_owner = new_owner
        # Language threads finish at about the same time and all update this segment's one row;
        # DynamoDB serializes that itself, but moto (tests, local runs) corrupts an item under
        # concurrent updates, and a lock costs nothing off the critical path.
        self._row_lock = threading.Lock()

    @staticmethod
    def key(segment_id: str) -> dict[str, Any]:
        """The row's primary key."""
        return {"cacheKey": {"S": f"{SEGMENT_KEY_PREFIX}{segment_id}"}}

    def claim(self, segment_id: str, lease_seconds: float) -> Claim:
        """Take the segment for this run, or learn that another run has it or finished it."""
        now = self._clock()
        owner = self._new_owner()
        lease_until = str(int(now + lease_seconds) + 1)
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={**self.key(segment_id), "kind": {"S": "segment"}, "status": {"S": PROCESSING},
                      "owner": {"S": owner}, "leaseUntil": {"N": lease_until},
                      "createdAt": {"N": str(int(now))}, "expiresAt": {"N": str(int(now) + self._ttl)}},
                # An expired row that TTL has not deleted yet counts as absent.
                ConditionExpression="attribute_not_exists(cacheKey) OR expiresAt < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
            return Claim(True, "new", owner)
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        try:
            response = self._dynamodb.update_item(
                TableName=self._table,
                Key=self.key(segment_id),
                UpdateExpression="SET #st = :processing, #owner = :owner, leaseUntil = :lease",
                ConditionExpression="#st = :partial OR (#st = :processing AND leaseUntil < :now)",
                ExpressionAttributeNames={"#st": "status", "#owner": "owner"},
                ExpressionAttributeValues={":processing": {"S": PROCESSING}, ":partial": {"S": PARTIAL},
                                           ":owner": {"S": owner}, ":lease": {"N": lease_until},
                                           ":now": {"N": str(int(now))}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return Claim(False, self._why_taken(segment_id), owner)
        done = frozenset(response.get("Attributes", {}).get("languagesDone", {}).get("SS", []))
        return Claim(True, "resumed", owner, done)

    def _why_taken(self, segment_id: str) -> str:
        item = self._dynamodb.get_item(TableName=self._table, Key=self.key(segment_id), ConsistentRead=True,
                                       ProjectionExpression="#st", ExpressionAttributeNames={"#st": "status"}).get("Item", {})
        return "complete" if item.get("status", {}).get("S") == COMPLETE else "in_progress"

    def languages_done(self, segment_id: str, languages: Iterable[str]) -> bool:
        """Record languages whose listeners have been served (retried in place); False when every
        attempt failed (the caller passes them to ``finish``, which records them again)."""
        languages = sorted(set(languages))
        if not languages:
            return True
        try:
            self._retried(lambda: self._dynamodb.update_item(
                TableName=self._table, Key=self.key(segment_id),
                UpdateExpression="ADD languagesDone :langs",
                ExpressionAttributeValues={":langs": {"SS": languages}},
            ))
            return True
        except (ClientError, BotoCoreError) as exc:
            logger.warning("could not record served languages yet; finish records them",
                           extra={"languages": languages, "error": type(exc).__name__})
            return False

    def finish(self, segment_id: str, owner: str, complete: bool, note: str | None = None,
               served: Iterable[str] = ()) -> None:
        """Release the lease: ``complete`` ends the segment for good, otherwise a redelivery redoes
        what is missing. ``served``: languages delivered by this run, recorded in the same write."""
        names = {"#st": "status", "#owner": "owner"}
        values: dict[str, Any] = {":state": {"S": COMPLETE if complete else PARTIAL}, ":owner": {"S": owner},
                                  ":zero": {"N": "0"}}
        update = "SET #st = :state, leaseUntil = :zero"
        if note:
            update += ", note = :note"
            values[":note"] = {"S": note}
        served = sorted(set(served))
        if served:
            update += " ADD languagesDone :langs"
            values[":langs"] = {"SS": served}
        try:
            self._retried(lambda: self._dynamodb.update_item(
                TableName=self._table, Key=self.key(segment_id), UpdateExpression=update,
                ConditionExpression="#owner = :owner", ExpressionAttributeNames=names, ExpressionAttributeValues=values))
        except ClientError as exc:
            # Another run took over after our lease: it owns the outcome now.
            if not _conditional_failed(exc):
                raise

    def _retried(self, write: Callable[[], Any]) -> Any:
        """Run one ledger write, retrying faults (never a failed condition) in place."""
        for attempt in range(LEDGER_WRITE_ATTEMPTS):
            try:
                with self._row_lock:
                    return write()
            except ClientError as exc:
                if _conditional_failed(exc) or attempt == LEDGER_WRITE_ATTEMPTS - 1:
                    raise
            except BotoCoreError:
                if attempt == LEDGER_WRITE_ATTEMPTS - 1:
                    raise
            self._sleep(backoff_delay(attempt, _RETRY_BASE_SECONDS, _RETRY_MAX_SECONDS))
        raise AssertionError("unreachable")
