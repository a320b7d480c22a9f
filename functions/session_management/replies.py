"""Posting envelopes to WebSocket connections through the API Gateway management API.

Every answer a client gets travels here: WebSocket route handlers have no route responses,
so a Lambda return value never reaches the client. ``post_to_connection`` errors are handled
as API Gateway documents them: 410 Gone means the connection is closed, so its row is cleaned
up (``on_gone``) and the post is never retried; 429 is retried briefly with jittered backoff;
anything else is logged and counted (PostFailures), never raised into the caller's flow.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError as AwsClientError
from common.envelope import encode
from common.observability import logger, metrics

SENT = "sent"
GONE = "gone"
FAILED = "failed"

_THROTTLED = {"LimitExceededException", "TooManyRequestsException", "ThrottlingException"}


def _error_code(error: AwsClientError) -> tuple[str, int]:
    response = error.response or {}
    return (str(response.get("Error", {}).get("Code", "")),
            int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0))


@dataclass
class BroadcastResult:
    """Outcome of one fan-out."""

    sent: int = 0
    gone: list[str] = field(default_factory=list)
    failed: int = 0


class Replier:
    """Posts envelopes to connections; ``on_gone(connection_id)`` cleans up closed ones.

    ``on_gone`` and metrics run in the calling thread only (DynamoDB resources and the metrics
    buffer are not thread-safe); fan-out threads only call the thread-safe boto3 client.
    """

    def __init__(self, client: Any, on_gone: Callable[[str], None] | None = None, max_attempts: int = 3,
                 base_delay: float = 0.05, sleep: Callable[[float], None] = time.sleep, max_workers: int = 16) -> None:
        self._client = client
        self._on_gone = on_gone
        self._max_attempts = max(1, max_attempts)
        self._base_delay = base_delay
        self._sleep = sleep
        self._max_workers = max_workers

    def send(self, connection_id: str, envelope: dict[str, Any]) -> str:
        """Post one envelope; returns SENT, GONE or FAILED (never raises)."""
        try:
            data = encode(envelope)
        except Exception as error:  # noqa: BLE001 - an unencodable reply is a failed post, never a crash
            logger.warning("reply could not be encoded", extra={"connectionId": connection_id, "error": type(error).__name__})
            metrics.add_metric(name="PostFailures", unit="Count", value=1)
            return FAILED
        outcome = self._post(connection_id, data)
        if outcome == GONE:
            self._gone(connection_id)
        elif outcome == FAILED:
            metrics.add_metric(name="PostFailures", unit="Count", value=1)
        return outcome

    def broadcast(self, connection_ids: Iterable[str], envelope: dict[str, Any]) -> BroadcastResult:
        """Post the same envelope to many connections in parallel, then clean up the gone ones."""
        targets = list(dict.fromkeys(connection_ids))
        result = BroadcastResult()
        if not targets:
            return result
        try:
            data = encode(envelope)
        except Exception as error:  # noqa: BLE001 - see send
            logger.warning("broadcast could not be encoded", extra={"error": type(error).__name__})
            result.failed = len(targets)
            metrics.add_metric(name="PostFailures", unit="Count", value=result.failed)
            return result
        workers = min(self._max_workers, len(targets))
        if workers == 1:
            outcomes = [self._post(targets[0], data)]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                outcomes = list(pool.map(lambda cid: self._post(cid, data), targets))
        for connection_id, outcome in zip(targets, outcomes, strict=True):
            if outcome == SENT:
                result.sent += 1
            elif outcome == GONE:
                result.gone.append(connection_id)
            else:
                result.failed += 1
        if result.failed:
            metrics.add_metric(name="PostFailures", unit="Count", value=result.failed)
        for connection_id in result.gone:
            self._gone(connection_id)
        return result

    def close(self, connection_id: str) -> None:
        """Ask API Gateway to close a connection (best-effort; an already closed one is fine)."""
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except AwsClientError as error:
            code, status = _error_code(error)
            if code != "GoneException" and status != 410:
                logger.warning("delete_connection failed", extra={"connectionId": connection_id, "error": code})
        except Exception as error:  # noqa: BLE001 - closing is best-effort
            logger.warning("delete_connection failed", extra={"connectionId": connection_id, "error": type(error).__name__})

    def _post(self, connection_id: str, data: bytes) -> str:
        for attempt in range(1, self._max_attempts + 1):
            try:
                self._client.post_to_connection(ConnectionId=connection_id, Data=data)
                return SENT
            except AwsClientError as error:
                code, status = _error_code(error)
                if code == "GoneException" or status == 410:
                    return GONE
                if (code in _THROTTLED or status == 429) and attempt < self._max_attempts:
                    # Full jitter: parallel broadcasters must not retry in lockstep.
                    self._sleep(random.uniform(0, self._base_delay * 2 ** (attempt - 1)))
                    continue
                logger.warning("post_to_connection failed", extra={"connectionId": connection_id, "error": code, "status": status})
                break
            except Exception as error:  # noqa: BLE001 - a failed post must not break the handler
                logger.warning("post_to_connection failed", extra={"connectionId": connection_id, "error": type(error).__name__})
                break
        return FAILED

    def _gone(self, connection_id: str) -> None:
        metrics.add_metric(name="GoneConnections", unit="Count", value=1)
        if self._on_gone is None:
            return
        try:
            self._on_gone(connection_id)
        except Exception:  # noqa: BLE001 - cleanup is best-effort; the sweep catches what is left
            logger.exception("cleanup of a gone connection failed", extra={"connectionId": connection_id})
