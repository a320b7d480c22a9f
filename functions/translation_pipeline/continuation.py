"""Segments that continue a sentence: shown and voiced without a sentence-final mark.

The stream worker cuts long sentences into phrases of a few words (``continuesSentence``
true on every phrase but the sentence's last). Polly voices a full stop, and the end of its
input, with a falling, sentence-final tone; neural voices take no ``prosody pitch`` and no
contour, so the one lever left is the text: a continuing phrase carries no sentence-final
mark (Translate adds one to some fragments) and is not wrapped in ``<s>``. Question and
exclamation marks are kept: they say something about the words.
"""

from __future__ import annotations

# Marks that end a sentence without adding meaning (Latin, CJK, Devanagari, full-width).
_SENTENCE_STOPS = (".", "。", "．", "।")


def open_ended(text: str) -> str:
    """``text`` without its trailing full stop (and the spaces around it); unchanged if nothing else is left."""
    stripped = text.rstrip()
    while stripped.endswith(_SENTENCE_STOPS) and not stripped.endswith("..."):
        stripped = stripped[:-1].rstrip()
    return stripped if stripped else text
