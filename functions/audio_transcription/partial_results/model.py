"""What the processor emits: segments of words with Transcribe's timings."""

from __future__ import annotations

from dataclasses import dataclass, field

# Why a segment was emitted.
REASON_STABLE = "stable"  # a phrase reached the stability threshold
REASON_EARLY = "early"  # settled words cut into a phrase before any mark or pause (phrasing.py)
REASON_TIMEOUT = "timeout"  # the phrase waited max_buffer_timeout
REASON_FINAL = "final"  # the rest of a final result
REASON_ORPHAN = "orphan"  # a partial result with no update for orphan_timeout
REASON_FLUSH = "flush"  # end of stream: whatever was still pending


@dataclass(frozen=True, slots=True)
class Word:
    """One Transcribe item: a word (``punctuation=False``) or a punctuation mark.

    Times are seconds from the start of the Transcribe stream.
    """

    content: str
    start_time: float
    end_time: float
    punctuation: bool = False
    confidence: float | None = None
    stable: bool | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """Consecutive words of one Transcribe result, emitted once.

    ``is_final`` is True only for the remainder of a final result; ``stable`` is True when
    every word was marked stable (or agreed by two partials, or came from a final result).
    ``continues`` is True when the sentence goes on in the next segment (the phrase was cut
    early or at a clause mark): it is voiced without a sentence-final fall.
    """

    text: str
    start_time: float
    end_time: float
    result_id: str
    is_final: bool
    words: tuple[Word, ...] = field(default=())
    stable: bool = False
    reason: str = REASON_STABLE
    continues: bool = False

    @property
    def word_timings(self) -> list[tuple[float, float]]:
        """(start, end) of each spoken word (punctuation left out), for speaking-rate analysis."""
        return [(w.start_time, w.end_time) for w in self.words if not w.punctuation]

    @property
    def word_count(self) -> int:
        """Spoken words in the segment."""
        return sum(1 for w in self.words if not w.punctuation)


def join_words(words: tuple[Word, ...] | list[Word], without_spaces: bool = False) -> str:
    """Text of words as Transcribe writes it: punctuation attached to the word before it."""
    if without_spaces:
        return "".join(w.content for w in words)
    parts: list[str] = []
    for w in words:
        if w.punctuation and parts:
            parts[-1] += w.content
        else:
            parts.append(w.content)
    return " ".join(parts)
