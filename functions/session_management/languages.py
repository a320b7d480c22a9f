"""Languages a session accepts: what the speaker may speak and what listeners may hear.

Source languages are the ``LanguageCode`` values of Amazon Transcribe's StartStreamTranscription
API (streaming, not batch; from the AWS SDK's service model). Target languages are Amazon
Translate target codes that also have an Amazon Polly *neural* voice; each maps to the Polly
language code and a default neural voice the translation pipeline synthesizes with (neural
voices per Polly's voice list: standard-only languages such as Russian or Romanian, and
Translate languages with no Polly voice at all, are not offered).
"""

from __future__ import annotations

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


class TargetLanguage(NamedTuple):
    """A language listeners can hear: Translate code, Polly language code, default neural voice."""

    code: str
    polly_language: str
    voice: str


TARGET_LANGUAGES: dict[str, TargetLanguage] = {t.code: t for t in (
    TargetLanguage("ar", "ar-AE", "Hala"),
    TargetLanguage("ca", "ca-ES", "Arlet"),
    TargetLanguage("cs", "cs-CZ", "Jitka"),
    TargetLanguage("da", "da-DK", "Sofie"),
    TargetLanguage("de", "de-DE", "Vicki"),
    TargetLanguage("en", "en-US", "Joanna"),
    TargetLanguage("es", "es-ES", "Lucia"),
    TargetLanguage("es-MX", "es-MX", "Mia"),
    TargetLanguage("fi", "fi-FI", "Suvi"),
    TargetLanguage("fr", "fr-FR", "Lea"),
    TargetLanguage("fr-CA", "fr-CA", "Gabrielle"),
    TargetLanguage("hi", "hi-IN", "Kajal"),
    TargetLanguage("it", "it-IT", "Bianca"),
    TargetLanguage("ja", "ja-JP", "Takumi"),
    TargetLanguage("ko", "ko-KR", "Seoyeon"),
    TargetLanguage("nl", "nl-NL", "Laura"),
    TargetLanguage("no", "nb-NO", "Ida"),
    TargetLanguage("pl", "pl-PL", "Ola"),
    TargetLanguage("pt", "pt-BR", "Camila"),
    TargetLanguage("pt-PT", "pt-PT", "Ines"),
    TargetLanguage("sv", "sv-SE", "Elin"),
    TargetLanguage("tr", "tr-TR", "Burcu"),
    TargetLanguage("zh", "cmn-CN", "Zhiyu"),
)}

# Codes are matched case-insensitively ("EN-us" is en-US) and answered in canonical form.
_SOURCE_BY_LOWER = {code.lower(): code for code in TRANSCRIBE_STREAMING_LANGUAGES}
_TARGET_BY_LOWER = {code.lower(): code for code in TARGET_LANGUAGES}


def canonical_source_language(raw: str) -> str | None:
    """The Transcribe streaming code for ``raw``, or None when streaming does not support it."""
    return _SOURCE_BY_LOWER.get(raw.strip().lower())


def canonical_target_language(raw: str) -> str | None:
    """The target code for ``raw``, or None when Translate + a Polly neural voice cannot serve it."""
    return _TARGET_BY_LOWER.get(raw.strip().lower())


def target_language(code: str) -> TargetLanguage:
    """Polly language and voice of a canonical target code."""
    return TARGET_LANGUAGES[code]
