"""The partial-results feature flag: an SSM parameter read at most once per cache period.

Value (String parameter, written by the component from ``transcription:partialResultsEnabled``
and changeable with ``aws ssm put-parameter --overwrite``): JSON ``{"partialResultsEnabled": true}``;
the bare strings ``true`` / ``false`` are accepted too. A stream worker reads the flag every
few seconds through this cache, so a change takes effect within ``ttl`` (30 s by default,
never more than 60 s) without a redeploy. If SSM cannot be read or the value is malformed,
the last good value stays in force (the default before any good read) and the read is
retried after ``retry_after`` seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from common.observability import logger

MAX_TTL_SECONDS = 60.0


def parse_flag(value: str) -> bool:
    """``{"partialResultsEnabled": <bool>}`` or ``true``/``false``; ValueError otherwise."""
    text = (value or "").strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        doc = json.loads(text)
    except ValueError:
        raise ValueError(f"feature flag value is neither JSON nor true/false: {text[:40]!r}") from None
    enabled = doc.get("partialResultsEnabled") if isinstance(doc, dict) else None
    if not isinstance(enabled, bool):
        raise ValueError('feature flag JSON needs a boolean "partialResultsEnabled"')
    return enabled


class FeatureFlag:
    """Cached reader of the partial-results flag (one per container)."""

    def __init__(self, ssm: Any, parameter_name: str, ttl: float = 30.0, default: bool = True,
                 retry_after: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ssm = ssm
        self._name = parameter_name
        self._ttl = min(float(ttl), MAX_TTL_SECONDS)
        self._retry_after = min(float(retry_after), self._ttl)
        self._clock = clock
        self._value = default
        self._next_read = float("-inf")

    def partial_results_enabled(self) -> bool:
        """The flag, from the cache or (when the cache period has passed) from SSM."""
        now = self._clock()
        if now < self._next_read:
            return self._value
        try:
            raw = self._ssm.get_parameter(Name=self._name)["Parameter"]["Value"]
            self._value = parse_flag(raw)
            self._next_read = now + self._ttl
        except Exception as error:  # noqa: BLE001 - a flag read must never stop transcription
            logger.warning("feature flag read failed; keeping the last value",
                           extra={"parameter": self._name, "error": str(error)[:200], "value": self._value})
            self._next_read = now + self._retry_after
        return self._value
