"""A minimal scripted stand-in for ``local.engines`` (same contract), used by the local-run tests
until the engines package is in the tree: ``python -m local --engines-module tests.local.scripted_engines``.

Transcribe: one word per 0.4 s of audio received, from a fixed script, as partial results whose
items are stable except the newest; every eight words (and at the end of the stream) a final
result ending with a full stop. English only (other languages: BadRequestException).
Translate: ``<text> [<target>]``. Polly: silent MPEG frames; a few neural voices.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from amazon_transcribe.model import Alternative, Item, Result, Transcript, TranscriptEvent

SCRIPT = "the quick brown fox jumps over the lazy dog and runs into the forest".split()
BYTES_PER_WORD = int(16000 * 2 * 0.4)
WORDS_PER_RESULT = 8
# One MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz, no padding: 417 bytes) of silence.
SILENT_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(413)
VOICES = [("Joanna", "en-US"), ("Lucia", "es-ES"), ("Lea", "fr-FR"), ("Vicki", "de-DE"), ("Arlet", "ca-ES")]


class BadRequestException(Exception):
    """Transcribe's error for a request it refuses."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ScriptedStream:
    """Words appear as audio arrives."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[TranscriptEvent | None] = asyncio.Queue()
        self._received = 0
        self._words: list[str] = []
        self._result = 0
        self._said = 0

    def _event(self, partial: bool) -> TranscriptEvent:
        base = self._said * 0.4
        items = [Item(start_time=base + i * 0.4, end_time=base + i * 0.4 + 0.35, item_type="pronunciation",
                      content=word, confidence=0.9, stable=(not partial) or i < len(self._words) - 1)
                 for i, word in enumerate(self._words)]
        text = " ".join(self._words)
        if not partial:
            end = items[-1].end_time if items else base
            items.append(Item(start_time=end, end_time=end, item_type="punctuation", content=".", stable=True))
            text += "."
        result = Result(result_id=f"result-{self._result}", start_time=base, end_time=base + 0.4 * len(self._words),
                        is_partial=partial, alternatives=[Alternative(text, items, [])], channel_id="ch_0")
        return TranscriptEvent(Transcript([result]))

    def _finish_result(self) -> None:
        if self._words:
            self._queue.put_nowait(self._event(partial=False))
            self._said += len(self._words)
            self._words = []
            self._result += 1

    async def send_audio(self, pcm: bytes) -> None:
        """Count audio; a word per 0.4 s."""
        before = self._received // BYTES_PER_WORD
        self._received += len(pcm)
        for index in range(before, self._received // BYTES_PER_WORD):
            self._words.append(SCRIPT[index % len(SCRIPT)])
            self._queue.put_nowait(self._event(partial=True))
            if len(self._words) >= WORDS_PER_RESULT:
                self._finish_result()

    async def end(self) -> None:
        """Finalize and end the event stream."""
        self._finish_result()
        self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[TranscriptEvent]:
        """Events until ``end``."""
        while (event := await self._queue.get()) is not None:
            yield event


class ScriptedTranscribeFactory:
    """Opens scripted streams (English only)."""

    async def start(self, language: str, sample_rate: int, stability: str) -> ScriptedStream:
        if not language.lower().startswith("en"):
            raise BadRequestException(f"local transcription is English only, not {language}")
        return ScriptedStream()


def translate_app() -> web.Application:
    """Translate's JSON ``TranslateText`` at ``/``."""
    async def handle(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        return web.json_response({"TranslatedText": f"{body['Text']} [{body['TargetLanguageCode']}]",
                                  "SourceLanguageCode": body["SourceLanguageCode"],
                                  "TargetLanguageCode": body["TargetLanguageCode"]},
                                 content_type="application/x-amz-json-1.1")
    app = web.Application()
    app.router.add_post("/", handle)
    return app


def polly_app() -> web.Application:
    """Polly's ``POST /v1/speech`` and ``GET /v1/voices``."""
    async def speech(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        return web.Response(body=SILENT_FRAME * 10, content_type="audio/mpeg",
                            headers={"x-amzn-RequestCharacters": str(len(body.get("Text", "")))})

    async def voices(request: web.Request) -> web.Response:
        return web.json_response({"Voices": [
            {"Id": voice, "Name": voice, "LanguageCode": language, "Gender": "Female",
             "SupportedEngines": ["neural", "standard"]} for voice, language in VOICES]})
    app = web.Application()
    app.router.add_post("/v1/speech", speech)
    app.router.add_get("/v1/voices", voices)
    return app


@dataclass
class Engines:
    """The contract's shape."""

    translate_app: web.Application
    polly_app: web.Application
    transcribe_factory: Any

    def close(self) -> None:
        """Nothing to stop."""


def build_engines(kind: str) -> Engines:
    """The scripted engines whatever ``kind`` (this stand-in has no real ones)."""
    return Engines(translate_app(), polly_app(), ScriptedTranscribeFactory())
