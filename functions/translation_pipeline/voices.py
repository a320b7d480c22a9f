"""Listener language -> Amazon Polly neural voice, checked against the voices Polly offers in the region.

The preferred voices per language come from the shared catalogue (``common.languages``), the
same one session management validates listeners' languages against, so a language a listener
may join always has voices here. On first use the container asks Polly
(``DescribeVoices`` with ``Engine=neural``) which voices exist in its region, and picks, in
order: the first preferred voice Polly offers for that language; ``DEFAULT_VOICE_ID`` if it
speaks the language; any other neural voice that speaks it (a fallback voice); else none,
and the language gets captions only. If ``DescribeVoices`` itself fails, the catalogue's first
choice is trusted (Polly still rejects a wrong voice, and synthesis failure costs only audio).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from common.languages import LISTENER_LANGUAGES, ListenerLanguage, primary, translate_code
from common.observability import logger

ENGINE = "neural"


@dataclass(frozen=True)
class OfferedVoice:
    """One voice from ``DescribeVoices``."""

    voice_id: str
    languages: frozenset[str]
    engines: frozenset[str]

    @classmethod
    def from_api(cls, voice: Mapping[str, Any]) -> OfferedVoice:
        """From one element of the ``Voices`` list."""
        languages = {voice.get("LanguageCode", "")} | set(voice.get("AdditionalLanguageCodes") or [])
        return cls(voice_id=voice["Id"], languages=frozenset(lang for lang in languages if lang),
                   engines=frozenset(voice.get("SupportedEngines") or []))

    def speaks(self, polly_language: str) -> bool:
        """True when the voice speaks exactly this Polly language code."""
        return polly_language in self.languages

    def speaks_primary(self, language: str) -> bool:
        """True when the voice speaks any variant of the language (``es`` matches ``es-US``)."""
        return any(primary(code) == language for code in self.languages)


def describe_neural_voices(polly: Any) -> dict[str, OfferedVoice]:
    """Every neural voice Polly offers in the client's region (follows ``NextToken``)."""
    voices: dict[str, OfferedVoice] = {}
    kwargs: dict[str, Any] = {"Engine": ENGINE, "IncludeAdditionalLanguageCodes": True}
    while True:
        page = polly.describe_voices(**kwargs)
        for voice in page.get("Voices", []):
            offered = OfferedVoice.from_api(voice)
            if not offered.engines or ENGINE in offered.engines:
                voices[offered.voice_id] = offered
        token = page.get("NextToken")
        if not token:
            return voices
        kwargs["NextToken"] = token


class VoiceCatalog:
    """Resolves a listener language to a neural voice id, or None for captions only."""

    def __init__(self, polly: Any = None, table: Mapping[str, ListenerLanguage] = LISTENER_LANGUAGES,
                 default_voice_id: str = "", offered: Mapping[str, OfferedVoice] | None = None) -> None:
        self._polly = polly
        self._table = table
        self._default = default_voice_id
        self._offered: Mapping[str, OfferedVoice] | None = offered
        self._loaded = offered is not None or polly is None
        self._resolved: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def voice_for(self, language: str) -> str | None:
        """The voice id for a listener language, or None when Polly has no neural voice for it."""
        with self._lock:
            if language not in self._resolved:
                self._ensure_loaded()
                self._resolved[language] = self._resolve(language)
            return self._resolved[language]

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            self._offered = describe_neural_voices(self._polly)
        except (ClientError, BotoCoreError) as exc:
            logger.warning("DescribeVoices failed; trusting the voice table", extra={"error": str(exc)})
            self._offered = None

    def _resolve(self, language: str) -> str | None:
        code = translate_code(language)
        choice = self._table.get(code) or self._table.get(primary(code))
        if self._offered is None:
            return choice.voices[0] if choice and choice.voices else None
        offered = self._offered
        if choice:
            for voice_id in choice.voices:
                if voice_id in offered and offered[voice_id].speaks(choice.polly_language):
                    return voice_id
        wanted = choice.polly_language if choice else None
        head = primary(wanted) if wanted else primary(code)
        default = offered.get(self._default) if self._default else None
        if default and ((wanted and default.speaks(wanted)) or default.speaks_primary(head)):
            return default.voice_id
        ordered = sorted(offered.values(), key=lambda v: v.voice_id)
        exact = _first(v.voice_id for v in ordered if wanted and v.speaks(wanted))
        return exact or _first(v.voice_id for v in ordered if v.speaks_primary(head))


def _first(values: Iterable[str]) -> str | None:
    return next(iter(values), None)
