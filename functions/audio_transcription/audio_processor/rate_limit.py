"""Per-connection chunk rate: an atomic counter per one-second window in the RateLimits table.

``limitKey = audioChunks#<connectionId>#<window start>``; one UpdateItem ``ADD count 1`` with
the condition ``count < limit``. Any other failure (throttling, timeout, missing table)
lets the chunk through and counts ``RateLimitUnavailable``: the limiter fails open, because
refusing chunks during a RateLimits outage would drop the speaker's speech, while admission
(one conditional write per chunk on the session row, speaker connection only) and the
stage's throttling still bound what one connection can send.
"""

from __future__ import annotations

from typing import Any

from common.dynamo import conditional
from common.envelope import ClientError
from common.observability import logger, metrics

LIMIT_NAME = "audioChunks"
WINDOW_SECONDS = 1
_EXPIRY_MARGIN_SECONDS = 60


class ChunkRateLimiter:
    """At most ``limit`` chunks per connection per second."""

    def __init__(self, table: Any, limit: int, metrics: Any = metrics) -> None:
        self._table = table
        self._limit = limit
        self._metrics = metrics

    def hit(self, connection_id: str, now: float) -> None:
        """Count one chunk; raises ``ClientError`` when over the limit or when counting failed."""
        window = int(now) - int(now) % WINDOW_SECONDS
        try:
            response = conditional(
                self._table.update_item,
                Key={"limitKey": f"{LIMIT_NAME}#{connection_id}#{window}"},
                UpdateExpression="ADD #count :one SET expiresAt = :expires",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={":one": 1, ":limit": self._limit,
                                           ":expires": window + WINDOW_SECONDS + _EXPIRY_MARGIN_SECONDS},
            )
        except Exception as error:  # noqa: BLE001 - fail open: an outage must not drop speech
            self._unavailable(error)
            return
        if response is None:
            raise ClientError("RATE_LIMITED", f"at most {self._limit} audio chunks per second",
                              status=429, limit=LIMIT_NAME, retryAfterSeconds=WINDOW_SECONDS)

    def _unavailable(self, error: Exception) -> None:
        self._metrics.add_metric(name="RateLimitUnavailable", unit="Count", value=1)
        logger.warning("audio rate limiter unavailable; chunk let through", extra={"error": str(error)[:200]})
