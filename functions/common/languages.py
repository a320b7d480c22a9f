"""The one catalogue of languages: what a speaker may speak and what a listener may hear.

Session management validates ``createSession``/``joinSession``/``switchLanguage`` against it
and the translation pipeline picks its Polly voices from it. A listener may only join in a
language the pipeline can translate into *and* voice, so both read this single table rather
than keeping copies that can drift apart.

Source languages are the ``LanguageCode`` values of Amazon Transcribe's StartStreamTranscription
API (streaming, not batch; from the AWS SDK's service model).

Listener languages are Amazon Translate target codes that also have an Amazon Polly *neural*
voice. Each names Polly's language code and its preferred neural voices, first = default
(neural voices per Polly's voice list: standard-only languages such as Russian or Romanian,
and Translate languages with no Polly voice at all, are not offered).

The code helpers below map between Transcribe codes (``en-US``), listener codes (``es``) and
Amazon Translate codes (``en``, ``fr-CA``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

TRANSCRIBE_STREAMING_LANGUAGES: tuple[str, ...] = (
    "af-ZA", "am-ET", "ar-AE", "ar-SA", "be-BY", "bg-BG", "bn-IN", "bs-BA", "ca-ES", "ckb-IQ", "ckb-IR",
    "cs-CZ", "cy-WL", "da-DK", "de-CH", "de-DE", "el-GR", "en-AB", "en-AU", "en-GB", "en-IE", "en-IN",
    "en-NZ", "en-US", "en-WL", "en-ZA", "es-ES", "es-MX", "es-US", "et-ET", "eu-ES", "fa-AF", "fa-IR",
    "fi-FI", "fr-CA", "fr-FR", "gl-ES", "gu-IN", "he-IL", "hi-IN", "hr-HR", "ht-HT", "hu-HU", "hy-AM",
    "id-ID", "is-IS", "it-IT", "ja-JP", "jv-ID", "ka-GE", "kab-DZ", "kk-KZ", "km-KH", "kn-IN", "ko-KR",
    "lg-IN", "lt-LT", "lv-LV", "mk-MK", "ml-IN", "mr-IN", "ms-MY", "my-MM", "ne-NP", "nl-NL", "no-NO",
    "or-IN", "pa-IN", "pl-PL", "ps-AF", "pt-BR", "pt-PT", "ro-RO", "ru-RU", "si-LK", "sk-SK", "sl-SI",
    "so-SO", "sq-AL", "sr-RS", "su-ID", "sv-SE", "sw-BI", "sw-KE", "sw-RW", "sw-TZ", "sw-UG", "ta-IN",
    "te-IN", "th-TH", "tl-PH", "tr-TR", "uk-UA", "uz-UZ", "vi-VN", "zh-CN", "zh-HK", "zh-TW", "zu-ZA",
)


class ListenerLanguage(NamedTuple):
    """A language listeners can hear: its Translate code, Polly's code for it, and preferred neural voices.

    ``voices`` is in order of preference; the pipeline takes the first one Polly offers in its
    region, so the first is also the default when Polly cannot be asked.
    """

    code: str
    polly_language: str
    voices: tuple[str, ...]

    @property
    def voice(self) -> str:
        """The default neural voice (the first preferred one)."""
        return self.voices[0]


# Keyed by Amazon Translate code (what listeners choose). Preferred voices first.
LISTENER_LANGUAGES: Mapping[str, ListenerLanguage] = MappingProxyType({lang.code: lang for lang in (
    ListenerLanguage("ar", "ar-AE", ("Hala", "Zayd")),
    ListenerLanguage("ca", "ca-ES", ("Arlet",)),
    ListenerLanguage("cs", "cs-CZ", ("Jitka",)),
    ListenerLanguage("da", "da-DK", ("Sofie",)),
    ListenerLanguage("de", "de-DE", ("Vicki", "Daniel")),
    ListenerLanguage("en", "en-US", ("Joanna", "Matthew", "Ruth", "Stephen")),
    ListenerLanguage("es", "es-ES", ("Lucia", "Sergio")),
    ListenerLanguage("es-MX", "es-MX", ("Mia", "Andres")),
    ListenerLanguage("fi", "fi-FI", ("Suvi",)),
    ListenerLanguage("fr", "fr-FR", ("Lea", "Remi")),
    ListenerLanguage("fr-CA", "fr-CA", ("Gabrielle", "Liam")),
    ListenerLanguage("hi", "hi-IN", ("Kajal",)),  # Kajal's main code is en-IN; hi-IN is an additional one
    ListenerLanguage("it", "it-IT", ("Bianca", "Adriano")),
    ListenerLanguage("ja", "ja-JP", ("Takumi", "Kazuha", "Tomoko")),
    ListenerLanguage("ko", "ko-KR", ("Seoyeon",)),
    ListenerLanguage("nl", "nl-NL", ("Laura",)),
    ListenerLanguage("no", "nb-NO", ("Ida",)),
    ListenerLanguage("pl", "pl-PL", ("Ola",)),
    ListenerLanguage("pt", "pt-BR", ("Camila", "Vitoria", "Thiago")),
    ListenerLanguage("pt-PT", "pt-PT", ("Ines",)),
    ListenerLanguage("sv", "sv-SE", ("Elin",)),
    ListenerLanguage("tr", "tr-TR", ("Burcu",)),
    ListenerLanguage("zh", "cmn-CN", ("Zhiyu",)),
)})

# Codes are matched case-insensitively ("EN-us" is en-US) and answered in canonical form.
_SOURCE_BY_LOWER = {code.lower(): code for code in TRANSCRIBE_STREAMING_LANGUAGES}
_LISTENER_BY_LOWER = {code.lower(): code for code in LISTENER_LANGUAGES}

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


def canonical_source_language(raw: str) -> str | None:
    """The Transcribe streaming code for ``raw``, or None when streaming does not support it."""
    return _SOURCE_BY_LOWER.get(raw.strip().lower())


def canonical_target_language(raw: str) -> str | None:
    """The listener code for ``raw``, or None when Translate + a Polly neural voice cannot serve it."""
    return _LISTENER_BY_LOWER.get(raw.strip().lower())


def listener_language(code: str) -> ListenerLanguage:
    """Polly language and voices of a canonical listener code (``KeyError`` for any other)."""
    return LISTENER_LANGUAGES[code]


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
