"""Test doubles: a fake Transcribe at the SDK boundary, a fake clock, captured Lambda and API clients.

The fake Transcribe "recognizes" the audio it is fed: each speech chunk made by
``speech_chunk(word_id)`` carries its word id in two marker samples and is heard as the word
``w<id>`` spanning the chunk; a ``silence_chunk`` ends the current result (final). After every
word it sends a partial result of the whole open result, built from the real
``amazon_transcribe.model`` classes, with all but the newest ``lag`` words marked stable (or
no stability flags at all), and a full stop after every ``sentence_every`` words. So what the
worker emits can be checked against what it fed: every word once, in order.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from amazon_transcribe.model import Alternative, Item, Result, Transcript, TranscriptEvent

MARK = 12345
SAMPLE_RATE = 16000


_SILENCE_SEEDS = itertools.count(1_000_000)


def speech_chunk(word_id: int, samples: int = 1600, amplitude: float = 2500.0, noise: float = 0.0) -> bytes:
    """A chunk the fake hears as the word ``w<word_id>``: speech-like samples (Gamma-distributed
    magnitudes, the model WADA-SNR assumes) of RMS ``amplitude``, plus Gaussian noise of RMS ``noise``."""
    rng = np.random.default_rng(word_id)
    speech = rng.gamma(0.4, 1.0, samples) * rng.choice([-1.0, 1.0], samples) / np.sqrt(0.56)
    x = speech * amplitude + rng.normal(0.0, noise, samples) if noise else speech * amplitude
    x = np.clip(x, -32768, 32767).astype(np.int16)
    x[0], x[1] = MARK, word_id
    return x.astype("<i2").tobytes()


def silence_chunk(samples: int = 1600, level: float = 3.0) -> bytes:
    """A chunk the fake hears as a pause (ends the current result); unmarked, each one different."""
    x = np.random.default_rng(next(_SILENCE_SEEDS)).normal(0, level, samples).astype(np.int16)
    if word_of(x.astype("<i2").tobytes()) is not None:
        x[0] = 0
    return x.astype("<i2").tobytes()


def word_of(pcm: bytes) -> int | None:
    """The word id a chunk carries, or None for unmarked audio (a pause)."""
    x = np.frombuffer(pcm[:4], dtype="<i2")
    return int(x[1]) if x.size == 2 and x[0] == MARK else None


class Killed(BaseException):
    """Stands for the Lambda process dying (not an Exception: nothing in the worker catches it)."""


@dataclass
class FakeStream:
    """One fake Transcribe stream."""

    language: str
    stability: str
    stabilize: bool = True
    lag: int = 2
    sentence_every: int = 4
    kill_after: int | None = None
    fail_after_events: int | None = None
    received: list[bytes] = field(default_factory=list)
    ended: bool = False
    _queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    _words: list[tuple[int, float, float]] = field(default_factory=list)
    _result_no: int = 0
    _time: float = 0.0

    async def send_audio(self, pcm: bytes) -> None:
        if self.ended:
            raise RuntimeError("audio after end_stream")
        if self.kill_after is not None and len(self.received) >= self.kill_after:
            raise Killed()
        self.received.append(pcm)
        start = self._time
        self._time += len(pcm) / 2 / SAMPLE_RATE
        word = word_of(pcm)
        if word:
            self._words.append((word, round(start, 3), round(self._time, 3)))
            self._queue.put_nowait(self._event(final=False))
        elif self._words:
            self._finish()

    async def end(self) -> None:
        self.ended = True
        if self._words:
            self._finish()
        self._queue.put_nowait(None)

    async def events(self):
        sent = 0
        while True:
            if self.fail_after_events is not None and sent >= self.fail_after_events:
                raise RuntimeError("InternalFailureException: stream broke")
            item = await self._queue.get()
            if item is None:
                return
            sent += 1
            yield item

    def _finish(self) -> None:
        self._queue.put_nowait(self._event(final=True))
        self._words = []
        self._result_no += 1

    def _event(self, final: bool) -> TranscriptEvent:
        items: list[Item] = []
        n = len(self._words)
        stable_words = n if final else max(0, n - self.lag)
        for i, (word, start, end) in enumerate(self._words):
            flag = (i < stable_words) if self.stabilize else None
            items.append(Item(start_time=start, end_time=end, item_type="pronunciation", content=f"w{word}",
                              vocabulary_filter_match=False, confidence=0.95 if final else None, stable=flag))
            if self.sentence_every and (i + 1) % self.sentence_every == 0 and (final or i + 1 < n):
                items.append(Item(start_time=end, end_time=end, item_type="punctuation", content=".",
                                  vocabulary_filter_match=False, stable=flag))
        text = " ".join(i.content for i in items).replace(" .", ".")
        result = Result(result_id=f"result-{self._result_no}", start_time=self._words[0][1], end_time=self._words[-1][2],
                        is_partial=not final, alternatives=[Alternative(transcript=text, items=items, entities=None)])
        return TranscriptEvent(Transcript([result]))


class FakeTranscribe:
    """The factory the worker gets instead of ``AmazonTranscribeStreamFactory``."""

    def __init__(self, stabilize: bool = True, lag: int = 2, sentence_every: int = 4,
                 kill_after: int | None = None, fail_start: Exception | None = None,
                 fail_after_events: list[int | None] | None = None) -> None:
        self.stabilize, self.lag, self.sentence_every = stabilize, lag, sentence_every
        self.kill_after = kill_after
        self.fail_after_events = list(fail_after_events or [])
        self.fail_start = fail_start
        self.streams: list[FakeStream] = []

    async def start(self, language: str, sample_rate: int, stability: str) -> FakeStream:
        assert sample_rate == 16000
        if self.fail_start is not None:
            raise self.fail_start
        fail = self.fail_after_events[len(self.streams)] if len(self.streams) < len(self.fail_after_events) else None
        stream = FakeStream(language, stability, self.stabilize, self.lag, self.sentence_every, self.kill_after, fail)
        self.streams.append(stream)
        return stream

    @property
    def fed(self) -> list[bytes]:
        """Every chunk fed to any stream, in order."""
        return [pcm for s in self.streams for pcm in s.received]


class FakeClock:
    """Wall clock that only moves when someone sleeps (or the test advances it)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


class FakeLambda:
    """Captures ``invoke`` calls (the seam on the Lambda client)."""

    def __init__(self, fail_for: set[str] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_for = fail_for or set()

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs["FunctionName"] in self.fail_for:
            raise RuntimeError("invoke failed")
        self.calls.append({**kwargs, "payload": json.loads(kwargs["Payload"])})
        return {"StatusCode": 202}

    def payloads(self, function_name: str) -> list[dict[str, Any]]:
        return [c["payload"] for c in self.calls if c["FunctionName"] == function_name]


class FakeReplier:
    """Captures posts to connections."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, connection_id: str, envelope: dict[str, Any]) -> bool:
        self.sent.append((connection_id, envelope))
        return True


class MetricsRecorder:
    """Stands in for the powertools Metrics object."""

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {}
        self.flushes = 0

    def add_metric(self, name: str, unit: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        self.flushes += 1

    def total(self, name: str) -> float:
        return sum(self.values.get(name, []))


def ws_event(body: Any, connection_id: str = "conn-speaker=", route: str = "sendAudio", is_base64: bool = False) -> dict[str, Any]:
    """An API Gateway WebSocket MESSAGE event as Lambda receives it."""
    return {
        "requestContext": {
            "routeKey": route, "eventType": "MESSAGE", "extendedRequestId": "Xa1bCdEfIAMFeQ=",
            "requestTime": "22/Nov/2026:10:00:00 +0000", "messageDirection": "IN", "stage": "live",
            "connectedAt": 1700000000000, "requestTimeEpoch": 1700000001000, "requestId": "Xa1bCdEfIAMFeQ=",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com", "connectionId": connection_id,
            "apiId": "abc123", "messageId": "Xa1bCeJxIAMCJqw=",
        },
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": is_base64,
    }


def audio_message(session_id: str, sequence: int, pcm: bytes, **extra: Any) -> dict[str, Any]:
    """A sendAudio body."""
    return {"action": "sendAudio", "sessionId": session_id, "sequence": sequence,
            "audio": base64.b64encode(pcm).decode("ascii"), **extra}
