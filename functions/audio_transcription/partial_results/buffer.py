"""Per-result state: the latest items and how much of them has been emitted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type names only: the package imports without the SDK
    from amazon_transcribe.model import Item

NEG_INF = float("-inf")


class ResultState:
    """One open Transcribe result (partials so far, keyed by ``result_id``).

    ``emitted`` counts the leading items already emitted, out of the partial ``emitted_from``;
    a later partial is checked against that one's last few emitted items (O(1)) to still
    start with what was emitted. ``first_seen[i]`` is when position ``i`` first
    appeared, for ``max_buffer_timeout``; ``settled_at[i]`` when it was first seen settled, for
    ``phrase_max_wait``.
    """

    __slots__ = (
        "result_id", "items", "analysed", "first_seen", "emitted", "emitted_end", "emitted_from",
        "last_update", "previous", "settled_until", "fallback", "result_end", "settled_at",
        "idle_items", "idle_emitted", "idle_until",
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
        self.settled_at: list[float] = []
        # The last items a tick found no early phrase in (processor._cut_if_waited).
        self.idle_items: Sequence[Item] | None = None
        self.idle_emitted = -1
        self.idle_until = NEG_INF

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

    def note_settled(self, count: int, now: float) -> None:
        """Keep ``settled_at`` as long as the settled prefix (``count`` items)."""
        at = self.settled_at
        have = len(at)
        if count > have:
            at.extend([now] * (count - have))
        elif count < have:
            del at[count:]

    def settled_since(self, position: int, now: float) -> float:
        """When the item at ``position`` was first seen settled (``now`` if not yet)."""
        at = self.settled_at
        return at[position] if position < len(at) else now
