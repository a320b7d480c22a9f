"""Language codes: Transcribe's (``en-US``), listeners' (``es``), Amazon Translate's (``en``, ``fr-CA``)."""

from __future__ import annotations

import re

# Amazon Translate names these regional variants explicitly; every other language is its primary subtag.
_TRANSLATE_REGIONAL = {"fr-ca": "fr-CA", "es-mx": "es-MX", "pt-pt": "pt-PT", "zh-tw": "zh-TW", "fa-af": "fa-AF"}
# Transcribe codes whose Translate equivalent is not the primary subtag.
_TRANSLATE_ALIASES = {"nb": "no", "zh-cn": "zh", "iw": "he", "in": "id"}
# Scripts differ inside these languages (Simplified vs Traditional Chinese), so a regional
# difference still needs Translate.
_SCRIPT_SPLIT = {"zh"}
# Written without spaces between sentences, so translated chunks are joined with nothing.
_NO_SPACE_LANGUAGES = {"ja", "zh", "th", "lo", "km", "my"}

LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4}){0,2}$")


def is_language_code(code: object) -> bool:
    """True for a BCP-47-like code such as ``en``, ``en-US``, ``zh-TW``, ``arb``."""
    return isinstance(code, str) and bool(LANGUAGE_CODE.match(code))


def primary(code: str) -> str:
    """The primary subtag, lower case: ``en-US`` -> ``en``."""
    return code.split("-", 1)[0].lower()


def translate_code(code: str) -> str:
    """The Amazon Translate language code for a Transcribe or listener code."""
    lowered = code.lower()
    if lowered in _TRANSLATE_REGIONAL:
        return _TRANSLATE_REGIONAL[lowered]
    if lowered in _TRANSLATE_ALIASES:
        return _TRANSLATE_ALIASES[lowered]
    head = primary(code)
    return _TRANSLATE_ALIASES.get(head, head)


def same_language(source: str, target: str) -> bool:
    """True when listeners of ``target`` should get the speaker's own words untranslated.

    ``en-US`` speakers and ``en`` listeners match, and so do ``fr-CA`` and ``fr`` (a regional
    variant is not worth a Translate call); ``zh`` and ``zh-TW`` do not (different scripts).
    """
    a, b = translate_code(source), translate_code(target)
    if a == b:
        return True
    return primary(a) == primary(b) and primary(a) not in _SCRIPT_SPLIT


def joins_without_space(code: str) -> bool:
    """True for languages whose sentences are concatenated without a space."""
    return primary(translate_code(code)) in _NO_SPACE_LANGUAGES
