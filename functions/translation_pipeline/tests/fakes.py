"""Fakes and fixtures shared by the translation pipeline tests and the benchmark.

Translate has no moto backend and moto's @connections never raises Gone, so these stand in
for those clients at the SDK boundary: they take the same keyword arguments and raise the
same ``botocore.exceptions.ClientError`` shapes (code and HTTP status) as the real clients.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from botocore.response import StreamingBody

DATA = Path(__file__).parent / "data"
FRAME_LIMIT = 32 * 1024
# Words a listener must never receive as content (the failure placeholders of the design this replaces).
PLACEHOLDER_MARKERS = ("unavailable", "error", "failed", "placeholder", "[", "]", "todo", "n/a")


def client_error(code: str, status: int, operation: str, message: str = "") -> ClientError:
    """A ClientError as botocore raises it for a modeled service error."""
    return ClientError({"Error": {"Code": code, "Message": message or code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def fake_translation(text: str, target: str) -> str:
    """What FakeTranslate answers: recognisably derived from the input, language-tagged."""
    return f"{target.upper()}: {text}"


class FakeTranslate:
    """``translate_text`` that can throttle per target language (``failures[target] = n`` or ``-1`` for always)."""

    def __init__(self, failures: dict[str, int] | None = None, code: str = "TooManyRequestsException",
                 status: int = 400, delay: float = 0.0) -> None:
        self.failures = dict(failures or {})
        self.code, self.status, self.delay = code, status, delay
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def translate_text(self, *, Text: str, SourceLanguageCode: str, TargetLanguageCode: str, **_: Any) -> dict[str, Any]:
        with self._lock:
            self.calls.append({"Text": Text, "SourceLanguageCode": SourceLanguageCode, "TargetLanguageCode": TargetLanguageCode})
            left = self.failures.get(TargetLanguageCode, 0)
            if left:
                self.failures[TargetLanguageCode] = left - 1 if left > 0 else left
                raise client_error(self.code, self.status, "TranslateText", "Rate exceeded")
        if self.delay:
            time.sleep(self.delay)
        return {"TranslatedText": fake_translation(Text, TargetLanguageCode),
                "SourceLanguageCode": SourceLanguageCode, "TargetLanguageCode": TargetLanguageCode}

    def calls_for(self, target: str) -> int:
        """TranslateText calls made for one target language."""
        return sum(1 for c in self.calls if c["TargetLanguageCode"] == target)


def fake_audio(voice_id: str, text: str, size: int) -> bytes:
    """Deterministic audio bytes standing in for an MP3."""
    seed = f"{voice_id}|{text}".encode()
    return (b"ID3" + seed * (size // max(1, len(seed)) + 1))[:size]


class FakePolly:
    """``synthesize_speech`` and ``describe_voices`` (recorded shape in ``data/``).

    ``throttle`` calls fail with ThrottlingException first (``-1``: every call); ``audio_size``
    sets the audio length, so a test can make an oversize result.
    """

    def __init__(self, throttle: int = 0, audio_size: int = 2_000, fail_voices: set[str] | None = None,
                 delay: float = 0.0) -> None:
        self.throttle = throttle
        self.audio_size = audio_size
        self.fail_voices = set(fail_voices or ())
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def synthesize_speech(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.calls.append(kwargs)
            if self.throttle:
                self.throttle = self.throttle - 1 if self.throttle > 0 else self.throttle
                raise client_error("ThrottlingException", 400, "SynthesizeSpeech", "Rate exceeded")
        if kwargs.get("VoiceId") in self.fail_voices:
            raise client_error("ServiceFailureException", 500, "SynthesizeSpeech")
        if self.delay:
            time.sleep(self.delay)
        audio = fake_audio(kwargs["VoiceId"], kwargs["Text"], self.audio_size)
        return {"AudioStream": StreamingBody(io.BytesIO(audio), len(audio)), "ContentType": "audio/mpeg",
                "RequestCharacters": len(kwargs["Text"])}

    def describe_voices(self, **kwargs: Any) -> dict[str, Any]:
        pages = recorded_describe_voices()
        return pages[1] if kwargs.get("NextToken") else pages[0]


def recorded_describe_voices() -> list[dict[str, Any]]:
    """The two pages of ``describe_voices(Engine="neural", IncludeAdditionalLanguageCodes=True)``."""
    return json.loads((DATA / "polly_describe_voices_neural.json").read_text())["pages"]


class FakeManagementApi:
    """``post_to_connection`` recording every message; can answer 410 Gone or 429 per connection.

    ``gone``: connection ids answered with GoneException (410). ``throttle[cid] = n``: the
    first n posts to cid get LimitExceededException (429). ``delay``: seconds each post takes.
    Posts over the 32 KB frame get PayloadTooLargeException, as API Gateway would.
    """

    def __init__(self, gone: set[str] | None = None, throttle: dict[str, int] | None = None, delay: float = 0.0) -> None:
        self.gone = set(gone or ())
        self.throttle = dict(throttle or {})
        self.delay = delay
        self.posts: list[tuple[str, bytes]] = []
        self.attempts: Counter = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        with self._lock:
            self.attempts[ConnectionId] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            with self._lock:
                if ConnectionId in self.gone:
                    raise client_error("GoneException", 410, "PostToConnection")
                if self.throttle.get(ConnectionId, 0) > 0:
                    self.throttle[ConnectionId] -= 1
                    raise client_error("LimitExceededException", 429, "PostToConnection")
                if len(Data) > FRAME_LIMIT:
                    raise client_error("PayloadTooLargeException", 413, "PostToConnection")
                self.posts.append((ConnectionId, bytes(Data)))
            return {}
        finally:
            with self._lock:
                self.in_flight -= 1

    def messages_for(self, connection_id: str) -> list[dict[str, Any]]:
        """Decoded messages one connection received, in order."""
        return [json.loads(data) for cid, data in self.posts if cid == connection_id]

    def receivers(self) -> set[str]:
        """Connections that received anything."""
        return {cid for cid, _ in self.posts}


def assert_no_placeholder(messages: list[dict[str, Any]]) -> None:
    """Every message is a caption or audio part carrying real content, never an error text."""
    for msg in messages:
        assert msg["type"] in ("caption", "audio"), msg
        if msg["type"] == "caption":
            text = msg["text"].lower()
            assert text.strip(), msg
            assert not any(marker in text for marker in PLACEHOLDER_MARKERS), msg
        else:
            assert msg["data"], msg


SESSIONS, CONNECTIONS, CACHE, INDEX = "test-sessions", "test-connections", "test-translation-cache", "BySessionLanguage"


def create_tables(dynamodb: Any) -> None:
    """The three tables as docs/data-model.md defines them (on-demand, TTL on expiresAt)."""
    dynamodb.create_table(TableName=SESSIONS, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "sessionId", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "sessionId", "KeyType": "HASH"}])
    dynamodb.create_table(
        TableName=CONNECTIONS, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("connectionId", "sessionId", "targetLanguage")],
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{
            "IndexName": INDEX,
            "KeySchema": [{"AttributeName": "sessionId", "KeyType": "HASH"}, {"AttributeName": "targetLanguage", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["expiresAt", "role"]},
        }])
    dynamodb.create_table(TableName=CACHE, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "cacheKey", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "cacheKey", "KeyType": "HASH"}])


def put_session(dynamodb: Any, session_id: str, now: float, *, status: str = "active", paused: bool = False,
                muted: bool = False, listeners: int = 0, ttl: int = 7200, source: str = "en-US",
                paused_at_sample: int | None = None, muted_at_sample: int | None = None) -> None:
    """A Sessions row (``*_at_sample``: where the pause / mute began on the audio timeline, as speakerControl records it)."""
    item = {
        "sessionId": {"S": session_id}, "speakerConnectionId": {"S": f"speaker-{session_id}"},
        "sourceLanguage": {"S": source}, "status": {"S": status}, "paused": {"BOOL": paused},
        "muted": {"BOOL": muted}, "listenerCount": {"N": str(listeners)},
        "createdAt": {"N": str(int(now))}, "updatedAt": {"N": str(int(now))}, "expiresAt": {"N": str(int(now) + ttl)}}
    if paused_at_sample is not None:
        item["pausedAtSample"] = {"N": str(paused_at_sample)}
    if muted_at_sample is not None:
        item["mutedAtSample"] = {"N": str(muted_at_sample)}
    dynamodb.put_item(TableName=SESSIONS, Item=item)


def put_connection(dynamodb: Any, connection_id: str, session_id: str, now: float, *, language: str | None = None,
                   role: str = "listener", ttl: int = 7200) -> None:
    """A Connections row (listeners have a targetLanguage; speakers do not)."""
    item = {"connectionId": {"S": connection_id}, "role": {"S": role}, "sessionId": {"S": session_id},
            "connectedAt": {"N": str(int(now))}, "lastHeartbeatAt": {"N": str(int(now))},
            "expiresAt": {"N": str(int(now) + ttl)}}
    if language:
        item["targetLanguage"] = {"S": language}
    dynamodb.put_item(TableName=CONNECTIONS, Item=item)


def segment_event(session_id: str = "golden-eagle-4821", sequence: int = 1, text: str = "Good morning everyone.",
                  emitted_at: float | None = None, **overrides: Any) -> dict[str, Any]:
    """A segment payload exactly as the stream worker sends it."""
    event = {
        "sessionId": session_id, "sequence": sequence, "segmentId": f"{session_id}#{sequence}", "text": text,
        "sourceLanguage": "en-US", "isFinal": True, "resultId": f"result-{sequence}", "startTime": 1.25,
        "endTime": 3.5, "emittedAt": time.time() if emitted_at is None else emitted_at,
        "audioSpan": {"firstSequence": 10, "lastSequence": 14},
        "dynamics": {"volume": {"level": "loud", "dbfs": -14.2, "clipping_ratio": 0.0},
                     "rate": {"level": "fast", "wpm": 172.0, "source": "transcript"}},
    }
    event.update(overrides)
    return event
