"""Per-connection chunk rate: an atomic counter per one-second window in the RateLimits table.

``limitKey = audioChunks#<connectionId>#<window start>``; one UpdateItem ``ADD count 1`` with
the condition ``count < limit``. Any other failure (throttling, timeout, missing table)
refuses the chunk with RATE_LIMIT_UNAVAILABLE: the limiter fails closed.
"""

from __future__ import annotations

from typing import Any

from common.dynamo import conditional
from common.envelope import ClientError
from common.observability import logger

LIMIT_NAME = "audioChunks"
WINDOW_SECONDS = 1
_EXPIRY_MARGIN_SECONDS = 60


class ChunkRateLimiter:
    """At most ``limit`` chunks per connection per second."""

    def __init__(self, table: Any, limit: int) -> None:
        self._table = table
        self._limit = limit

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
        except Exception as error:  # noqa: BLE001 - fail closed on anything unexpected
            raise self._unavailable(error) from None
        if response is None:
            raise ClientError("RATE_LIMITED", f"at most {self._limit} audio chunks per second",
                              status=429, limit=LIMIT_NAME, retryAfterSeconds=WINDOW_SECONDS)

    @staticmethod
    def _unavailable(error: Exception) -> ClientError:
        logger.warning("audio rate limiter unavailable; chunk refused", extra={"error": str(error)[:200]})
        return ClientError("RATE_LIMIT_UNAVAILABLE", "the chunk cannot be admitted right now; retry in a few seconds",
                           status=503, retryAfterSeconds=WINDOW_SECONDS)
