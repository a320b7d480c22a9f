"""SSML that carries the speaker's volume and pace into Polly, per engine.

Neural voices accept ``prosody`` with ``rate`` and ``volume`` only (pitch, emphasis,
whispered and auto-breaths raise ``InvalidSsmlException``), so the neural document is
exactly ``<speak><prosody rate=".." volume="..">text</prosody></speak>``. Standard voices
also get ``pitch`` (raised for loud speech, lowered for soft speech, as voices do).

Rate is a percentage of the voice's normal pace, never an absolute words-per-minute
figure: the speaker's words per minute relative to a typical pace (by default the middle
of the configured "medium" band), clamped to a range that stays intelligible.

Every document is well-formed XML: characters XML 1.0 forbids are removed, the five
reserved characters are escaped, and the text is cut (between characters, never inside an
escape) so the document stays within Polly's 6,000 characters and the text within its
3,000 billed characters (tags are not billed; an escape is taken to bill as the one
character it stands for; were it billed longer, Polly's TextLengthExceededException
makes the synthesizer fall back to plain text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emotion_dynamics.dynamics import Dynamics, DynamicsThresholds

NEURAL = "neural"
STANDARD = "standard"
ENGINES = (NEURAL, STANDARD)

# SynthesizeSpeech: 6,000 characters in all, of which 3,000 billed (text, tags excluded).
MAX_SSML_CHARS = 6000
MAX_TEXT_CHARS = 3000
DEFAULT_TYPICAL_WPM = DynamicsThresholds().typical_wpm
# The translated voice follows the speaker within this range of its normal pace: slower
# than 75% drags, faster than 140% loses listeners (and the translation is often longer).
MIN_RATE_PERCENT = 75
MAX_RATE_PERCENT = 140
RATE_STEP_PERCENT = 5

# Polly volume keywords; a silent segment keeps the voice's normal volume (a translation
# that cannot be heard helps no one).
VOLUME_KEYWORDS = {"loud": "loud", "medium": "medium", "soft": "soft", "whisper": "x-soft", "silent": "medium"}
# Standard voices only: louder voices rise in pitch, softer ones fall.
PITCH_BY_VOLUME = {"loud": "+8%", "medium": None, "soft": "-4%", "whisper": "-8%", "silent": None}

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
# Not allowed anywhere in an XML 1.0 document (C0 controls but tab/newline/CR, surrogates, U+FFFE/F).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# When cutting, back up to a word boundary if one is this close to the cut.
_WORD_BOUNDARY_WINDOW = 40


class SsmlError(ValueError):
    """The SSML cannot be built (empty text, unknown engine, malformed dynamics)."""


def clean_text(text: str) -> str:
    """Text without XML-illegal characters and outer whitespace, with newlines normalised.

    XML parsers turn CR and CRLF into LF anyway; doing it here keeps the text Polly reads
    identical to the text we built.
    """
    if not isinstance(text, str):
        raise SsmlError("text must be a string")
    return _ILLEGAL_XML.sub("", text).replace("\r\n", "\n").replace("\r", "\n").strip()


def escape_text(text: str) -> str:
    """Escape the five XML-reserved characters."""
    return "".join(_ESCAPES.get(c, c) for c in text)


def truncate_escaped(text: str, budget: int, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Escaped ``text``: at most ``max_chars`` source characters and ``budget`` escaped ones.

    Cuts between characters, never inside an escape, and at a word boundary when one is
    near, so a word is not spoken half.
    """
    pieces: list[str] = []
    used = 0
    cut_at_space = -1
    # Escapes only lengthen text, so no more than ``budget`` source characters can fit.
    head = text[: min(max_chars, budget)]
    for c in head:
        piece = _ESCAPES.get(c, c)
        if used + len(piece) > budget:
            break
        if c.isspace():
            cut_at_space = len(pieces)
        pieces.append(piece)
        used += len(piece)
    truncated = len(pieces) < len(text)
    if truncated and cut_at_space > 0 and len(pieces) - cut_at_space <= _WORD_BOUNDARY_WINDOW:
        pieces = pieces[:cut_at_space]
    return "".join(pieces).rstrip()


def truncate_plain(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Plain text cut to ``limit`` characters (at a nearby word boundary when there is one)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = max(head.rfind(" "), head.rfind("\n"))
    if space > 0 and limit - space <= _WORD_BOUNDARY_WINDOW:
        head = head[:space]
    return head.rstrip()


def rate_percent(wpm: float, typical_wpm: float = DEFAULT_TYPICAL_WPM) -> int:
    """Speaker pace relative to a typical pace, as a whole percentage in 5% steps, clamped."""
    if not wpm > 0 or not typical_wpm > 0:
        return 100
    percent = 100.0 * wpm / typical_wpm
    stepped = int(round(percent / RATE_STEP_PERCENT)) * RATE_STEP_PERCENT
    return max(MIN_RATE_PERCENT, min(MAX_RATE_PERCENT, stepped))


def prosody_attributes(dynamics: Dynamics, engine: str, typical_wpm: float = DEFAULT_TYPICAL_WPM) -> dict[str, str]:
    """The prosody attributes for ``engine`` (neural: rate and volume only)."""
    attrs = {
        "rate": f"{rate_percent(dynamics.rate.wpm, typical_wpm)}%",
        "volume": VOLUME_KEYWORDS[dynamics.volume.level],
    }
    if engine == STANDARD:
        pitch = PITCH_BY_VOLUME[dynamics.volume.level]
        if pitch:
            attrs["pitch"] = pitch
    return attrs


def build_ssml(text: str, dynamics: Dynamics | Mapping[str, Any], engine: str = NEURAL,
               *, typical_wpm: float | None = None) -> str:
    """The SSML document speaking ``text`` with the speaker's volume and pace.

    ``dynamics`` is a ``Dynamics`` or its ``to_dict()`` form. ``typical_wpm`` is the pace
    spoken at 100% (default: middle of the default "medium" band; pass
    ``DynamicsThresholds.typical_wpm`` of the deployment's thresholds, or a per-language
    or per-speaker figure). Raises ``SsmlError`` for empty text, an unknown engine or
    malformed dynamics.
    """
    if engine not in ENGINES:
        raise SsmlError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if not isinstance(dynamics, Dynamics):
        try:
            dynamics = Dynamics.from_dict(dynamics)
        except ValueError as exc:
            raise SsmlError(f"malformed dynamics: {exc}") from None
    cleaned = clean_text(text)
    if not cleaned:
        raise SsmlError("text is empty: there is nothing to speak")
    attrs = prosody_attributes(dynamics, engine, typical_wpm if typical_wpm is not None else DEFAULT_TYPICAL_WPM)
    # Attribute values are fixed keywords and numbers: nothing to escape.
    opening = "<speak><prosody " + " ".join(f'{k}="{v}"' for k, v in attrs.items()) + ">"
    closing = "</prosody></speak>"
    body = truncate_escaped(cleaned, MAX_SSML_CHARS - len(opening) - len(closing), MAX_TEXT_CHARS)
    if not body:
        raise SsmlError("text is empty: there is nothing to speak")
    return opening + body + closing
