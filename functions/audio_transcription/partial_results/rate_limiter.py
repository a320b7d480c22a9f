"""Token bucket that caps how many partial results are analysed per second."""

from __future__ import annotations


class TokenBucket:
    """``rate`` tokens per second, bursts up to ``rate`` (one second's worth).

    Time comes from the caller (``now``), so tests and replays need no real clock.
    """

    __slots__ = ("rate", "capacity", "_tokens", "_last")

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, float(rate))
        self._tokens = self.capacity
        self._last: float | None = None

    def try_take(self, now: float) -> bool:
        """Take one token if there is one; False means the caller should drop the work."""
        if self._last is not None and now > self._last:
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        if self._last is None or now > self._last:
            self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
