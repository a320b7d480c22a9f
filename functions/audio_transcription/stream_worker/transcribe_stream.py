"""The seam at the Transcribe client: open a stream, send audio, read TranscriptEvents.

``AmazonTranscribeStreamFactory`` uses ``amazon_transcribe.client.TranscribeStreamingClient``
(HTTP/2 through awscrt, credentials from the Lambda role); tests use a fake that replays
recorded ``amazon_transcribe.model.TranscriptEvent`` objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from amazon_transcribe.model import TranscriptEvent


class TranscribeStream(Protocol):
    """One open Transcribe streaming session."""

    async def send_audio(self, pcm: bytes) -> None:
        """Send one chunk of PCM16LE audio (at most 32 KB)."""

    async def end(self) -> None:
        """No more audio: Transcribe finalizes the open results and ends the event stream."""

    def events(self) -> AsyncIterator[TranscriptEvent]:
        """The stream's TranscriptEvents until it ends (errors are raised from the iterator)."""


class TranscribeStreamFactory(Protocol):
    """Opens streams."""

    async def start(self, language: str, sample_rate: int, stability: str) -> TranscribeStream:
        """Open a PCM stream in ``language`` with partial-results stabilization at ``stability``."""


class _SdkStream:
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def send_audio(self, pcm: bytes) -> None:
        await self._stream.input_stream.send_audio_event(audio_chunk=pcm)

    async def end(self) -> None:
        await self._stream.input_stream.end_stream()

    async def events(self) -> AsyncIterator[TranscriptEvent]:
        async for event in self._stream.output_stream:
            if isinstance(event, TranscriptEvent):
                yield event


class AmazonTranscribeStreamFactory:
    """The real thing: ``TranscribeStreamingClient.start_stream_transcription``."""

    def __init__(self, region: str) -> None:
        self._region = region

    async def start(self, language: str, sample_rate: int, stability: str) -> TranscribeStream:
        """Open a stream (a new client per stream: it binds to the running event loop)."""
        from amazon_transcribe.client import TranscribeStreamingClient

        client = TranscribeStreamingClient(region=self._region)
        stream = await client.start_stream_transcription(
            language_code=language,
            media_sample_rate_hz=sample_rate,
            media_encoding="pcm",
            enable_partial_results_stabilization=True,
            partial_results_stability=stability,
        )
        return _SdkStream(stream)
