"""Per-result state: the latest items and how much of them has been emitted."""

from __future__ import annotations

from collections.abc import Sequence

from amazon_transcribe.model import Item

NEG_INF = float("-inf")


class ResultState:
    """One open Transcribe result (partials so far, keyed by ``result_id``).

    ``emitted`` counts the leading items already emitted, out of the partial ``emitted_from``;
    a later partial is checked against that one's last few emitted items (O(1)) to still
    start with what was emitted. ``first_seen[i]`` is when position ``i`` first
    appeared, for ``max_buffer_timeout``.
    """

    __slots__ = (
        "result_id", "items", "analysed", "first_seen", "emitted", "emitted_end", "emitted_from",
        "last_update", "previous", "settled_until", "fallback", "result_end",
    )

    def __init__(self, result_id: str) -> None:
        self.result_id = result_id
        self.items: Sequence[Item] = ()
        self.analysed: Sequence[Item] | None = None
        self.first_seen: list[float] = []
        self.emitted = 0
        self.emitted_end = NEG_INF
        self.emitted_from: Sequence[Item] = ()
        self.last_update = NEG_INF
        self.previous: Sequence[Item] | None = None  # the last analysed partial (LocalAgreement-2)
        self.settled_until = 0
        self.fallback = False
        self.result_end: float | None = None

    def note_positions(self, count: int, now: float) -> None:
        """Keep ``first_seen`` as long as the latest partial."""
        seen = self.first_seen
        have = len(seen)
        if count > have:
            seen.extend([now] * (count - have))
        elif count < have:
            del seen[count:]

    def waiting_since(self, position: int) -> float | None:
        """When the item at ``position`` was first seen (None if never analysed)."""
        seen = self.first_seen
        return seen[position] if position < len(seen) else None
