"""Which pending items are settled, and where phrases end.

Transcribe (with partial-results stabilization) marks each item ``stable`` True/False;
a stable item never changes in later partials of the same result. Without stabilization
``stable`` is None for every item; then LocalAgreement-2 stands in: an item is *settled*
when the last two analysed partials agree on it and on everything before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type names only: the package imports without the SDK
    from amazon_transcribe.model import Item

PUNCTUATION = "punctuation"
# Marks that always end a phrase (Latin and CJK full stops, question and exclamation marks, ellipsis).
SENTENCE_END = frozenset({".", "?", "!", "…", "。", "？", "！", "।", "؟"})
# Marks that end a phrase once it has ``min_clause_words`` words.
CLAUSE_END = frozenset({",", ";", ":", "、", "，", "；", "："})


def item_key(item: Item) -> str:
    """Comparison key of an item's text (case-insensitive, as partials re-case the first word)."""
    content = item.content or ""
    return content.casefold()


def is_punctuation(item: Item) -> bool:
    """True for punctuation items (Transcribe ``Type`` "punctuation")."""
    return item.item_type == PUNCTUATION


def has_stability_flags(items: Sequence[Item], start: int) -> bool:
    """False when any pending word lacks a ``stable`` flag (stabilization is off for this stream)."""
    for i in range(start, len(items)):
        it = items[i]
        if it.stable is None and it.item_type != PUNCTUATION:
            return False
    return True


def leading_stable(items: Sequence[Item], start: int) -> int:
    """Number of consecutive items from ``start`` that Transcribe marks stable."""
    n = start
    end = len(items)
    while n < end and items[n].stable is True:
        n += 1
    return n - start


def agreed_prefix(items: Sequence[Item], start: int, previous: Sequence[Item] | None) -> int:
    """LocalAgreement-2: consecutive items from ``start`` equal to the previous partial's."""
    if not previous:
        return 0
    n = start
    end = min(len(items), len(previous))
    while n < end and item_key(items[n]) == item_key(previous[n]):
        n += 1
    return n - start


def phrase_ends(
    items: Sequence[Item],
    start: int,
    settled: int,
    threshold: float,
    pause_threshold: float,
    min_clause_words: int,
    result_end: float | None,
) -> list[int]:
    """End indices (exclusive) of the consecutive phrases, from ``start``, that may be emitted.

    A phrase ends after a sentence mark, after a clause mark once it has ``min_clause_words``
    words, before a gap of at least ``pause_threshold`` seconds, or at the end of the items
    when the result's audio runs ``pause_threshold`` past the last item. A phrase may be
    emitted when the share of its words among the first ``settled`` pending items is at
    least ``threshold``; the first phrase that falls short stops the scan, so phrases are
    emitted in order. A phrase with no words (stray punctuation) goes with its neighbour.
    """
    ends: list[int] = []
    settled_until = start + settled
    words = 0
    settled_words = 0
    end = len(items)
    for i in range(start, end):
        it = items[i]
        punct = it.item_type == PUNCTUATION
        if not punct:
            words += 1
            if i < settled_until:
                settled_words += 1
            elif settled_words < threshold * words:
                break  # past the settled items this phrase can only fall further short
        boundary = False
        if punct:
            content = it.content or ""
            if content in SENTENCE_END or (content in CLAUSE_END and words >= min_clause_words):
                boundary = True
        if not boundary:
            if i + 1 < end:
                nxt = items[i + 1]
                if (it.end_time is not None and nxt.start_time is not None
                        and nxt.start_time - it.end_time >= pause_threshold):
                    boundary = True
            elif result_end is not None and it.end_time is not None and result_end - it.end_time >= pause_threshold:
                boundary = True
        if not boundary or words == 0:
            continue
        # Punctuation that closes the phrase belongs to it, but must itself be settled:
        # an unsettled "." may vanish in the next partial ("The Amazon." -> "The Amazon is").
        if punct and i >= settled_until and threshold >= 1.0:
            break
        if settled_words < threshold * words:
            break
        ends.append(i + 1)
        words = 0
        settled_words = 0
    return ends
