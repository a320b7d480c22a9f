"""A ``TranscribeStreamFactory`` that streams to the local run's Transcribe endpoint over TCP.

It runs inside the stream worker's container and is handed to the worker through its existing
seam (``handler.configure(settings, deps)``), in place of ``AmazonTranscribeStreamFactory``.
The engine itself (pocketsphinx or scripted) runs in the local server, as Transcribe runs in
AWS: the worker's code is the deployed code, only the stream's far end differs.

Frames are ``wire`` frames: ``{"start": {...}}``, ``{"audio": "<base64>"}``, ``{"end": true}`` out;
``{"started": true}`` or ``{"error": {...}}``, then ``{"event": {...}}``... ``{"done": true}`` in.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

from transcribe_events import decode_event
from wire import HEADER, decode_length, encode


async def _read(reader: asyncio.StreamReader) -> dict[str, Any]:
    length = decode_length(await reader.readexactly(HEADER.size))
    return json.loads(await reader.readexactly(length))


def _service_error(error: dict[str, Any]) -> Exception:
    """The amazon_transcribe exception the real SDK raises for this error type."""
    from amazon_transcribe import exceptions

    kind = getattr(exceptions, str(error.get("type")), None)
    message = str(error.get("message", "transcription failed"))
    if isinstance(kind, type) and issubclass(kind, exceptions.ServiceException) and kind is not exceptions.UnknownServiceException:
        return kind(message)
    return exceptions.UnknownServiceException(500, str(error.get("type")), message)


class RemoteTranscribeStream:
    """One stream: audio out, TranscriptEvents in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def send_audio(self, pcm: bytes) -> None:
        """Send one PCM16LE chunk."""
        self._writer.write(encode({"audio": base64.b64encode(pcm).decode("ascii")}))
        await self._writer.drain()

    async def end(self) -> None:
        """No more audio."""
        self._writer.write(encode({"end": True}))
        await self._writer.drain()

    async def events(self) -> AsyncIterator[Any]:
        """TranscriptEvents until the stream ends; a service error is raised from here."""
        try:
            while True:
                try:
                    frame = await _read(self._reader)
                except asyncio.IncompleteReadError:
                    raise _service_error({"type": "InternalFailureException", "message": "stream closed"}) from None
                if "event" in frame:
                    yield decode_event(frame["event"])
                elif "error" in frame:
                    raise _service_error(frame["error"])
                elif frame.get("done"):
                    return
        finally:
            self._writer.close()


class RemoteTranscribeStreamFactory:
    """Opens streams at ``host:port``."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._host, self._port = host, int(port)

    async def start(self, language: str, sample_rate: int, stability: str) -> RemoteTranscribeStream:
        """Open a stream; raises the SDK's exception (e.g. BadRequestException) when the engine refuses it."""
        reader, writer = await asyncio.open_connection(self._host, self._port)
        writer.write(encode({"start": {"language": language, "sampleRate": sample_rate, "stability": stability}}))
        await writer.drain()
        answer = await _read(reader)
        if "error" in answer:
            writer.close()
            raise _service_error(answer["error"])
        return RemoteTranscribeStream(reader, writer)
