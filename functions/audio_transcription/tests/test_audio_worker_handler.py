"""The stream worker's Lambda entry point and the real Transcribe adapter (with a stand-in SDK)."""

from __future__ import annotations

import asyncio

from amazon_transcribe.model import TranscriptEvent
from audio_transcription.stream_worker import handler as worker_handler
from audio_transcription.stream_worker.transcribe_stream import AmazonTranscribeStreamFactory
from audio_transcription.tests.conftest import SESSION
from audio_transcription.tests.transcripts import event, items_from_text, result
from common import observability


class Context:
    def __init__(self, ms: int = 900_000) -> None:
        self.ms = ms
        self.function_name = "stream-worker"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stream-worker"
        self.aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return self.ms


def test_invalid_event_is_logged_not_raised(world):
    assert worker_handler.handle({}, Context(), world.worker_settings, world.worker_deps()) == {"outcome": "invalid_event"}
    assert worker_handler.handle({"sessionId": SESSION}, Context(), world.worker_settings,
                                 world.worker_deps()) == {"outcome": "invalid_event"}


def test_lambda_handler_runs_a_worker(world, monkeypatch):
    world.put_session()
    monkeypatch.setattr(observability.metrics, "namespace", "Test")
    worker_handler.configure(world.worker_settings, world.worker_deps())
    try:
        out = worker_handler.lambda_handler({"sessionId": SESSION, "leaseId": "nope", "reason": "start"}, Context())
    finally:
        worker_handler._settings = worker_handler._deps = None
    assert out["outcome"] == "not_leased"


def test_build_deps_from_settings(world):
    deps = worker_handler.build_deps(world.worker_settings)
    assert isinstance(deps.transcribe, AmazonTranscribeStreamFactory)
    assert deps.flag.partial_results_enabled() is True


class _InputStream:
    def __init__(self):
        self.chunks, self.ended = [], False

    async def send_audio_event(self, audio_chunk):
        self.chunks.append(audio_chunk)

    async def end_stream(self):
        self.ended = True


class _SdkStream:
    def __init__(self, events):
        self.input_stream = _InputStream()
        self._events = events

    @property
    def output_stream(self):
        async def gen():
            for e in self._events:
                yield e
        return gen()


class _Client:
    created = []

    def __init__(self, *, region):
        self.region = region
        self.kwargs = None
        _Client.created.append(self)

    async def start_stream_transcription(self, **kwargs):
        self.kwargs = kwargs
        return _SdkStream([event(result("r", items_from_text("hi", stable=True))), object()])


def test_sdk_adapter_passes_the_stream_settings_and_yields_transcript_events(monkeypatch):
    import amazon_transcribe.client

    monkeypatch.setattr(amazon_transcribe.client, "TranscribeStreamingClient", _Client)

    async def scenario():
        stream = await AmazonTranscribeStreamFactory("eu-west-1").start("de-DE", 16000, "medium")
        await stream.send_audio(b"\x00\x00" * 1600)
        await stream.end()
        return [e async for e in stream.events()]

    events = asyncio.run(scenario())
    client = _Client.created[-1]
    assert client.region == "eu-west-1"
    assert client.kwargs == {"language_code": "de-DE", "media_sample_rate_hz": 16000, "media_encoding": "pcm",
                             "enable_partial_results_stabilization": True, "partial_results_stability": "medium"}
    assert len(events) == 1 and isinstance(events[0], TranscriptEvent)
