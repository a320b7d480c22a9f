"""Fan messages out to listener connections with bounded concurrency.

``post_to_connection`` outcomes: 410 Gone means the client is gone: its Connections row is
deleted if it is still in the session (and the session's ``listenerCount`` decremented) and it
gets nothing more; 429
(``LimitExceededException``) and 5xx back off with full jitter and retry; 413 cannot happen
because ``messages`` sizes every message to one frame, and like 403 it is counted, not retried.
Any other exception raised by one post (a bug in a client, an SSL error, anything) is that
connection's failure only: it is counted, never retried, and never reaches the segment.
``Broadcaster._post`` is the one place these per-connection semantics live.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from common.observability import logger
from common.tables import ROLE_LISTENER

from .backoff import backoff_delay

GONE_CODES = frozenset({"GoneException"})
RETRYABLE_CODES = frozenset({"LimitExceededException", "TooManyRequestsException", "ThrottlingException",
                             "InternalServerErrorException", "InternalFailure", "ServiceUnavailable"})


@dataclass
class BroadcastResult:
    """What happened to one batch of messages sent to a set of connections."""

    delivered: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    failure_codes: Counter = field(default_factory=Counter)
    retries: int = 0
    posts: int = 0
    last_posted_at: float | None = None

    def merge(self, other: _ConnectionOutcome) -> None:
        """Fold one connection's outcome in."""
        {"delivered": self.delivered, "gone": self.gone, "failed": self.failed}[other.status].append(other.connection_id)
        if other.failure_code:
            self.failure_codes[other.failure_code] += 1
        self.retries += other.retries
        self.posts += other.posts
        if other.last_posted_at is not None:
            self.last_posted_at = max(self.last_posted_at or 0.0, other.last_posted_at)


@dataclass
class _ConnectionOutcome:
    connection_id: str
    status: str = "delivered"
    failure_code: str | None = None
    retries: int = 0
    posts: int = 0
    last_posted_at: float | None = None


class PendingBroadcast:
    """A broadcast in flight; ``result()`` waits for every connection."""

    def __init__(self, futures: list[Future]) -> None:
        self._futures = futures

    def result(self) -> BroadcastResult:
        """Block until every connection is done, then summarize."""
        result = BroadcastResult()
        for future in self._futures:
            result.merge(future.result())
        return result


class ConnectionCleaner:
    """Removes a gone listener's Connections row and gives its place in the session back."""

    def __init__(self, dynamodb: Any, connections_table: str, sessions_table: str,
                 clock: Callable[[], float] = time.time) -> None:
        self._dynamodb = dynamodb
        self._connections = connections_table
        self._sessions = sessions_table
        self._clock = clock

    def remove(self, connection_id: str, session_id: str) -> bool:
        """Delete the row of a connection found in ``session_id``; True when this call deleted it
        (and so decremented that session's ``listenerCount``).

        The delete is conditional on ``sessionId = :s`` (docs/data-model.md, *Membership*): a
        row that left the session, or moved to another one, since the listeners were read is
        not this session's member any more and must not be deleted here. The condition also
        tells whether the row was still there: if ``$disconnect`` or the stale sweep deleted it
        first, they already decremented, and doing it again would undercount. The decrement is
        conditional on a positive count.
        """
        try:
            old = self._dynamodb.delete_item(
                TableName=self._connections, Key={"connectionId": {"S": connection_id}},
                ConditionExpression="sessionId = :s", ExpressionAttributeValues={":s": {"S": session_id}},
                ReturnValues="ALL_OLD").get("Attributes")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False  # gone already, or no longer in this session: someone else's to clean up
            logger.warning("could not delete gone connection", extra={"connectionId": connection_id, "error": str(exc)})
            return False
        except BotoCoreError as exc:
            logger.warning("could not delete gone connection", extra={"connectionId": connection_id, "error": str(exc)})
            return False
        if not old:
            return False
        if old.get("role", {}).get("S") == ROLE_LISTENER:
            try:
                self._dynamodb.update_item(
                    TableName=self._sessions,
                    Key={"sessionId": {"S": session_id}},
                    UpdateExpression="SET listenerCount = listenerCount - :one, updatedAt = :now",
                    ConditionExpression="attribute_exists(sessionId) AND listenerCount > :zero",
                    ExpressionAttributeValues={":one": {"N": "1"}, ":zero": {"N": "0"},
                                               ":now": {"N": str(int(self._clock()))}},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    logger.warning("could not decrement listenerCount", extra={"sessionId": session_id, "error": str(exc)})
            except BotoCoreError as exc:
                logger.warning("could not decrement listenerCount", extra={"sessionId": session_id, "error": str(exc)})
        return True


class Broadcaster:
    """Posts messages to many connections through one bounded thread pool per container.

    Each connection's messages go out in order from one task (caption parts, or audio parts
    1..n), and tasks of every language share the pool, so at most ``concurrency`` posts are
    in flight from this container whatever the number of languages.
    """

    def __init__(self, client: Any, cleaner: ConnectionCleaner | None, concurrency: int, max_retries: int,
                 base_delay: float, max_delay: float, sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random, clock: Callable[[], float] = time.time,
                 executor: ThreadPoolExecutor | None = None) -> None:
        self._client = client
        self._cleaner = cleaner
        self._max_retries = max_retries
        self._base = base_delay
        self._max = max_delay
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        self._executor = executor or ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="broadcast")

    def start(self, session_id: str, connection_ids: Sequence[str], messages: Sequence[bytes]) -> PendingBroadcast:
        """Begin sending ``messages`` in order to every connection (listeners of ``session_id``); returns at once."""
        return PendingBroadcast([self._executor.submit(self._send_all, session_id, cid, messages)
                                 for cid in connection_ids])

    def broadcast(self, session_id: str, connection_ids: Sequence[str], messages: Sequence[bytes]) -> BroadcastResult:
        """Send and wait."""
        return self.start(session_id, connection_ids, messages).result()

    def shutdown(self) -> None:
        """Stop the pool (tests and benchmarks; a Lambda container just freezes)."""
        self._executor.shutdown(wait=True)

    def _send_all(self, session_id: str, connection_id: str, messages: Sequence[bytes]) -> _ConnectionOutcome:
        outcome = _ConnectionOutcome(connection_id)
        try:
            for data in messages:
                if not self._post(session_id, connection_id, data, outcome):
                    break
        except Exception as exc:  # noqa: BLE001 - whatever broke, it broke for this connection only
            outcome.status, outcome.failure_code = "failed", type(exc).__name__
            logger.warning("broadcast to a connection failed", extra={"connectionId": connection_id,
                                                                     "code": outcome.failure_code})
        return outcome

    def _post(self, session_id: str, connection_id: str, data: bytes, outcome: _ConnectionOutcome) -> bool:
        attempt = 0
        while True:
            outcome.posts += 1
            try:
                self._client.post_to_connection(ConnectionId=connection_id, Data=data)
                outcome.last_posted_at = self._clock()
                return True
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "") or "ClientError"
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if code in GONE_CODES or status == 410:
                    outcome.status = "gone"
                    if self._cleaner is not None:
                        try:
                            self._cleaner.remove(connection_id, session_id)
                        except Exception:  # noqa: BLE001 - the sweep removes what is left
                            logger.warning("gone connection cleanup failed", extra={"connectionId": connection_id})
                    return False
                retryable = code in RETRYABLE_CODES or status == 429 or status >= 500
            except BotoCoreError as exc:
                code, retryable = type(exc).__name__, True
            except Exception as exc:  # noqa: BLE001 - not an AWS answer: this connection failed, the rest go on
                code, retryable = type(exc).__name__, False
            if not retryable or attempt >= self._max_retries:
                outcome.status, outcome.failure_code = "failed", code
                level = logger.error if code == "PayloadTooLargeException" else logger.warning
                level("post_to_connection failed", extra={"connectionId": connection_id, "code": code, "attempts": attempt + 1})
                return False
            self._sleep(backoff_delay(attempt, self._base, self._max, self._rng))
            attempt += 1
            outcome.retries += 1
