"""Build real ``amazon_transcribe.model`` objects for tests (TranscriptEvent, Result, Item)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from amazon_transcribe.model import Alternative, Item, Result, Transcript, TranscriptEvent

_PUNCT = re.compile(r"[.,?!;:]")


def word(content: str, start: float, end: float, stable: bool | None = None, confidence: float | None = None) -> Item:
    """A pronunciation item."""
    return Item(start_time=start, end_time=end, item_type="pronunciation", content=content,
                vocabulary_filter_match=False, confidence=confidence, stable=stable)


def mark(content: str, at: float, stable: bool | None = None) -> Item:
    """A punctuation item (zero length, at the end of the word before it)."""
    return Item(start_time=at, end_time=at, item_type="punctuation", content=content,
                vocabulary_filter_match=False, stable=stable)


def items_from_text(text: str, start: float = 0.0, word_seconds: float = 0.3, gap: float = 0.05,
                    stable: bool | None | int = None) -> list[Item]:
    """Items for ``text``; ``stable`` is a flag for every item, or an int: the first n items stable."""
    out: list[Item] = []
    t = start
    for token in re.findall(r"[^\s.,?!;:]+|[.,?!;:]", text):
        index = len(out)
        flag = stable if not isinstance(stable, int) or isinstance(stable, bool) else index < stable
        if _PUNCT.fullmatch(token):
            out.append(mark(token, out[-1].end_time if out else t, flag))
        else:
            out.append(word(token, round(t, 3), round(t + word_seconds, 3), flag))
            t += word_seconds + gap
    return out


def result(result_id: str, items: Iterable[Item], partial: bool = True, end_time: float | None = None) -> Result:
    """A Result whose transcript is its items' text."""
    items = list(items)
    text = re.sub(r"\s+([.,?!;:])", r"\1", " ".join(i.content for i in items))
    start = items[0].start_time if items else 0.0
    end = end_time if end_time is not None else (items[-1].end_time if items else 0.0)
    return Result(result_id=result_id, start_time=start, end_time=end, is_partial=partial,
                  alternatives=[Alternative(transcript=text, items=items, entities=None)])


def event(*results: Result) -> TranscriptEvent:
    """A TranscriptEvent carrying ``results``."""
    return TranscriptEvent(Transcript(list(results)))
