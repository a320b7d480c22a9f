"""Local stand-ins for Amazon Transcribe Streaming, Translate and Polly.

``build_engines("real")`` gives pocketsphinx, apertium and espeak-ng; ``build_engines("scripted")``
gives a replayed transcript, tagged-text translation and silence (no recognition or synthesis:
fast and deterministic, for load tests and CI). Either way the local gateway mounts
``translate_app`` and ``polly_app`` where ``AWS_ENDPOINT_URL_TRANSLATE`` / ``AWS_ENDPOINT_URL_POLLY``
point, and hands ``transcribe_factory`` to the stream worker at its Transcribe seam.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the decoding processes import this package: keep it light
    from aiohttp import web

ENGINE_KINDS = ("real", "scripted")


@dataclass
class Engines:
    """The three local engines; ``close()`` stops their persistent processes."""

    kind: str
    translate_app: web.Application
    polly_app: web.Application
    transcribe_factory: Any  # a TranscribeStreamFactory
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        """Stop every process the engines started (idempotent)."""
        closers, self._closers = self._closers, []
        for closer in closers:
            closer()


def build_engines(kind: Literal["real", "scripted"] = "real") -> Engines:
    """Engines of ``kind``; ``ValueError`` for another kind, ``RuntimeError`` when a real engine is not installed."""
    from local.engines.polly import EspeakSynthesizer, ScriptedSynthesizer, polly_app
    from local.engines.transcribe import PocketsphinxStreamFactory, ScriptedStreamFactory
    from local.engines.translate import ApertiumTranslator, ScriptedTranslator, translate_app

    if kind == "real":
        try:
            import pocketsphinx  # noqa: F401 - fail now, not at the first stream
        except ImportError as error:
            raise RuntimeError("pocketsphinx is not installed (pip install pocketsphinx==5.1.1)") from error
        translator: Any = ApertiumTranslator()
        synthesizer: Any = EspeakSynthesizer()
        factory: Any = PocketsphinxStreamFactory()
        factory.warm()
    elif kind == "scripted":
        translator, synthesizer, factory = ScriptedTranslator(), ScriptedSynthesizer(), ScriptedStreamFactory()
    else:
        raise ValueError(f"engine kind must be one of {', '.join(ENGINE_KINDS)}, got {kind!r}")
    closers = [translator.close, synthesizer.close] + ([factory.close] if hasattr(factory, "close") else [])
    return Engines(kind, translate_app(translator), polly_app(synthesizer), factory, closers)
