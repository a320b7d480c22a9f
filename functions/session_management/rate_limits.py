"""Fixed-window rate limits as atomic DynamoDB counters, failing open or closed per limit.

One RateLimits row per (limit, subject, window): ``limitKey = <limit>#<subject>#<window start>``.
A hit is one UpdateItem ``ADD count 1`` with the condition ``count < limit``, so concurrent
Lambdas can never let more than ``limit`` requests through a window. Rows expire (TTL) a
minute after their window.

When the counter cannot be updated (throttling, timeouts, a missing table) each limit does
what its ``fail_open`` says, decided per route (docs/protocol.md, "Rate limiter outages"):
limits whose refusal would cut off people already using the service ($connect, heartbeat,
joinSession) let the request through and count ``RateLimitUnavailable``; the stage's own
throttling still bounds them. Limits guarding costly new work (createSession) deny with
RATE_LIMIT_UNAVAILABLE. An outage of the limiter must limit, never evict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.dynamo import conditional
from common.envelope import ClientError
from common.observability import logger, metrics

# Old windows are useless; keep their rows only briefly past the window.
_EXPIRY_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class Limit:
    """A named limit: at most ``count`` hits per subject per ``window_seconds``."""

    name: str
    count: int
    window_seconds: int
    fail_open: bool = False


class RateLimitExceeded(ClientError):
    """The subject used up its window (RATE_LIMITED, HTTP 429)."""


class RateLimitUnavailable(ClientError):
    """The counter could not be updated; the request is denied (RATE_LIMIT_UNAVAILABLE, HTTP 503)."""


class RateLimiter:
    """Counts hits in the RateLimits table."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def hit(self, limit: Limit, subject: str, now: int) -> int:
        """Count one hit for ``subject``; returns the count so far (0 when the counter is down and the
        limit fails open) or raises a ``ClientError``."""
        window_start = now - now % limit.window_seconds
        retry_after = window_start + limit.window_seconds - now
        key = f"{limit.name}#{subject}#{window_start}"
        try:
            response = conditional(
                self._table.update_item,
                Key={"limitKey": key},
                UpdateExpression="ADD #count :one SET expiresAt = :expires",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={":one": 1, ":limit": limit.count,
                                           ":expires": window_start + limit.window_seconds + _EXPIRY_MARGIN_SECONDS},
                ReturnValues="UPDATED_NEW",
            )
        except Exception as error:  # noqa: BLE001 - any fault: the limit's own fail mode decides
            if limit.fail_open:
                metrics.add_metric(name="RateLimitUnavailable", unit="Count", value=1)
                logger.warning("rate limiter unavailable; letting the request through",
                               extra={"limit": limit.name, "error": type(error).__name__})
                return 0
            raise _unavailable(limit, error) from None
        if response is None:
            metrics.add_metric(name="RateLimitExceeded", unit="Count", value=1)
            logger.info("rate limit exceeded", extra={"limit": limit.name, "retryAfterSeconds": retry_after})
            raise RateLimitExceeded(
                "RATE_LIMITED", f"too many {limit.name} requests: at most {limit.count} per {_window_text(limit.window_seconds)}",
                status=429, limit=limit.name, retryAfterSeconds=retry_after)
        return int(response.get("Attributes", {}).get("count", 1))


def _unavailable(limit: Limit, error: Exception) -> RateLimitUnavailable:
    metrics.add_metric(name="RateLimitUnavailable", unit="Count", value=1)
    logger.warning("rate limiter unavailable; denying", extra={"limit": limit.name, "error": type(error).__name__})
    return RateLimitUnavailable("RATE_LIMIT_UNAVAILABLE", "the request cannot be admitted right now; retry in a few seconds",
                                status=503, limit=limit.name, retryAfterSeconds=5)


def _window_text(seconds: int) -> str:
    return {60: "minute", 3600: "hour"}.get(seconds, f"{seconds} s")
