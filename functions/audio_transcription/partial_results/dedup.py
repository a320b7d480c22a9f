"""Memory of what was emitted, kept for ``dedup_cache_ttl`` seconds.

Within one result, the processor never re-emits an item because it tracks how many items
(by position, checked against the last emitted item) it has emitted. This cache covers the
cases that position tracking cannot see:

* a result that was closed (final, or flushed as an orphan) gets another event: its ledger
  says what was already emitted, so only new words go out;
* the same words turn up under another result id (Transcribe re-segmenting, a repeated
  final): an item with the same text overlapping an emitted item's time by more than half
  is a duplicate.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type names only: the package imports without the SDK
    from amazon_transcribe.model import Item


@dataclass(slots=True)
class ClosedResult:
    """What was emitted of a result that is no longer open."""

    emitted: int
    emitted_end: float
    emitted_from: Sequence[Item]
    expires_at: float


class DedupCache:
    """Closed-result ledgers and recently emitted items, each forgotten after ``ttl`` seconds."""

    __slots__ = ("ttl", "_closed", "_recent", "_emitted_until")

    def __init__(self, ttl: float) -> None:
        self.ttl = float(ttl)
        self._closed: dict[str, ClosedResult] = {}
        # (key, start, end, result_id, expires_at), in emission order.
        self._recent: deque[tuple[str, float, float, str, float]] = deque()
        # Latest end time of any remembered item: later items cannot be duplicates.
        self._emitted_until = float("-inf")

    def close(self, result_id: str, emitted: int, emitted_end: float, emitted_from: Sequence[Item], now: float) -> None:
        """Remember a closed result's ledger."""
        self._closed[result_id] = ClosedResult(emitted, emitted_end, emitted_from, now + self.ttl)

    def closed(self, result_id: str, now: float) -> ClosedResult | None:
        """The ledger of a closed result, if it is still remembered."""
        entry = self._closed.get(result_id)
        if entry is not None and entry.expires_at < now:
            del self._closed[result_id]
            return None
        return entry

    def reopen(self, result_id: str) -> ClosedResult | None:
        """Take a closed result's ledger back (its result became active again)."""
        return self._closed.pop(result_id, None)

    def remember(self, key: str, start: float, end: float, result_id: str, now: float) -> None:
        """Record one emitted item."""
        self._recent.append((key, start, end, result_id, now + self.ttl))
        if end > self._emitted_until:
            self._emitted_until = end

    def is_duplicate(self, key: str, start: float, end: float, result_id: str) -> bool:
        """True when another result already emitted this text over (mostly) the same time."""
        if start >= self._emitted_until:
            return False
        span = max(end - start, 1e-3)
        for r_key, r_start, r_end, r_result, _ in self._recent:
            if r_key != key or r_result == result_id or r_end <= start:
                continue
            overlap = min(end, r_end) - max(start, r_start)
            if overlap > 0.5 * min(span, max(r_end - r_start, 1e-3)):
                return True
        return False

    def expire(self, now: float) -> None:
        """Forget entries older than the TTL."""
        recent = self._recent
        while recent and recent[0][4] < now:
            recent.popleft()
        if not recent:
            self._emitted_until = float("-inf")
        if self._closed:
            for result_id in [r for r, e in self._closed.items() if e.expires_at < now]:
                del self._closed[result_id]
