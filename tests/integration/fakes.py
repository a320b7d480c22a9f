"""Stand-ins at the SDK boundary for what moto cannot play, and recorders around what it can.

- ``SimClock``: the one clock every function is given (epoch seconds, advanced by the test).
- ``ConnectionsGateway``: the ``apigatewaymanagementapi`` client every function posts with.
  It forwards to the moto server's ``@connections`` API and records every message, and every
  HTTP request that went to that API with the server's answer (what was really sent, seen
  through botocore's public event hooks, not moto's internals); for connections whose socket
  is gone it raises the ``GoneException`` (410) API Gateway raises, which moto never does.
- ``LambdaInvocations``: the Lambda client functions use for asynchronous invokes: checks the
  call against the Lambda API model and against the functions the stack created, and queues
  it for the test to deliver (Lambda's async invoke returns 202 before the function runs).
- ``RecordingTranslate`` (moto has no Translate) and ``RecordingPolly``: deterministic, and
  every call is checked against the service's API model.
- ``FakeTranscribeStreamingClient``: replaces ``amazon_transcribe.client.TranscribeStreamingClient``;
  its streams answer the audio they are fed with recorded Transcribe results (``transcripts``).
- ``CognitoKeys``: an RSA key pair standing in for the user pool's signing key: signs tokens
  and serves the JWKS document.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import threading
import time
import urllib.parse
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import jwt
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.validate import ParamValidator
from cryptography.hazmat.primitives.asymmetric import rsa
from translation_pipeline.tests.fakes import FakePolly, FakeTranslate

from tests.integration.transcripts import TranscriptScript

_MODELS = botocore.session.get_session()


def check_params(service: str, operation: str, params: dict[str, Any]) -> None:
    """Raise if ``params`` would not pass botocore's validation for the operation (as a real client's would not)."""
    shape = _MODELS.get_service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise AssertionError(f"{service}.{operation} called with invalid parameters: {report.generate_report()}")


def gone(operation: str) -> ClientError:
    """The error API Gateway answers for a closed connection."""
    return ClientError({"Error": {"Code": "GoneException", "Message": "Gone"},
                        "ResponseMetadata": {"HTTPStatusCode": 410}}, operation)


class SimulationStalled(BaseException):
    """Simulated time stopped moving: some code waits for time to pass without ever sleeping.

    A BaseException so that the functions' ``except Exception`` handlers cannot swallow it."""


class SimClock:
    """Epoch seconds that move only when the test moves them.

    Code that waits for time to pass without sleeping (reads the clock in a loop) would spin
    forever on a clock like this. With ``watch`` on, the clock raises ``SimulationStalled``
    once it has been read ``spin_limit`` times without moving, so such a loop fails the test
    within seconds instead of hanging it. The whole story reads it at most a few dozen times
    between two moves, and a slow machine reads it no more often, so it never trips on one."""

    def __init__(self, start: float, spin_limit: int = 2000) -> None:
        self.start = float(start)
        self.now = float(start)
        self.spin_limit = spin_limit
        self.watch = False
        self._reads_since_move = 0
        self._moved_at = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self._reads_since_move += 1
            spinning = self.watch and self._reads_since_move > self.spin_limit
        if spinning:
            raise SimulationStalled(
                f"simulated time stood still at +{self.elapsed:.2f} s while read {self._reads_since_move} times "
                f"in {time.monotonic() - self._moved_at:.1f} real seconds: something waits for time without sleeping")
        return self.now

    def set(self, when: float) -> None:
        """Move forward to ``when`` (never backwards)."""
        with self._lock:
            if when > self.now:
                self.now = when
                self._reads_since_move = 0
                self._moved_at = time.monotonic()

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return self.now - self.start


@dataclass(frozen=True)
class Post:
    """One ``post_to_connection`` call as API Gateway saw it."""

    connection_id: str
    data: bytes
    at: float
    delivered: bool

    @property
    def message(self) -> dict[str, Any]:
        """The posted JSON."""
        return json.loads(self.data)


@dataclass(frozen=True)
class SentRequest:
    """One HTTP request the client sent to the ``@connections`` API, and the status it got back."""

    method: str
    connection_id: str
    body: bytes
    status: int | None = None


class ConnectionsGateway:
    """The ``@connections`` management API: moto behind it, Gone in front of it for dead sockets."""

    def __init__(self, client: Any, clock: SimClock) -> None:
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self.gone: set[str] = set()
        self.posts: list[Post] = []
        self.closed: list[str] = []
        self.endpoints: list[str] = []
        self.sent: list[SentRequest] = []
        # The request as it leaves botocore (after serialization) and the server's status code.
        client.meta.events.register("before-send.apigatewaymanagementapi", self._record_request)
        client.meta.events.register("after-call.apigatewaymanagementapi", self._record_status)
        self._in_flight = threading.local()

    def _record_request(self, request: Any, **_: Any) -> None:
        path = urllib.parse.urlsplit(request.url).path
        connection_id = urllib.parse.unquote(path.split("/@connections/", 1)[-1])
        body = request.body if isinstance(request.body, bytes) else (request.body or b"")
        self._in_flight.request = SentRequest(request.method, connection_id, bytes(body))

    def _record_status(self, http_response: Any, **_: Any) -> None:
        request = getattr(self._in_flight, "request", None)
        if request is not None:
            with self._lock:
                self.sent.append(dataclasses.replace(request, status=http_response.status_code))
            self._in_flight.request = None

    def mark_gone(self, connection_id: str) -> None:
        """The client's socket is gone: from now on API Gateway answers 410 for it."""
        with self._lock:
            self.gone.add(connection_id)

    def post_to_connection(self, **params: Any) -> dict[str, Any]:
        check_params("apigatewaymanagementapi", "PostToConnection", params)
        connection_id, data = params["ConnectionId"], bytes(params["Data"])
        # API Gateway closes the connection on a frame over 32 KB (1009); never let one through.
        assert len(data) <= 32 * 1024, f"a {len(data)}-byte message would exceed the 32 KB WebSocket frame"
        with self._lock:
            is_gone = connection_id in self.gone
            self.posts.append(Post(connection_id, data, self._clock(), not is_gone))
        if is_gone:
            raise gone("PostToConnection")
        return self._client.post_to_connection(ConnectionId=connection_id, Data=data)

    def delete_connection(self, **params: Any) -> dict[str, Any]:
        check_params("apigatewaymanagementapi", "DeleteConnection", params)
        connection_id = params["ConnectionId"]
        with self._lock:
            self.closed.append(connection_id)
            if connection_id in self.gone:
                raise gone("DeleteConnection")
            self.gone.add(connection_id)  # a closed socket answers 410 from now on
        return self._client.delete_connection(ConnectionId=connection_id)

    def messages(self, connection_id: str) -> list[dict[str, Any]]:
        """Every message delivered to one connection, in order."""
        with self._lock:
            return [p.message for p in self.posts if p.connection_id == connection_id and p.delivered]

    def attempts(self, connection_id: str) -> list[Post]:
        """Every post tried to one connection, delivered or not."""
        with self._lock:
            return [p for p in self.posts if p.connection_id == connection_id]


@dataclass
class Invocation:
    """One asynchronous Lambda invocation, queued until the test delivers it."""

    function_name: str
    payload: dict[str, Any]
    queued_at: float
    delivered_at: float | None = None
    result: Any = None


class LambdaInvocations:
    """``boto3.client("lambda")`` for ``invoke(InvocationType="Event")`` only."""

    def __init__(self, function_names: set[str], clock: SimClock) -> None:
        self._functions = set(function_names)
        self._clock = clock
        self._lock = threading.Lock()
        self.pending: deque[Invocation] = deque()
        self.history: list[Invocation] = []

    def invoke(self, **params: Any) -> dict[str, Any]:
        check_params("lambda", "Invoke", params)
        name = str(params["FunctionName"]).rsplit(":function:", 1)[-1].split(":")[0]
        if name not in self._functions:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": f"Function not found: {name}"},
                               "ResponseMetadata": {"HTTPStatusCode": 404}}, "Invoke")
        assert params.get("InvocationType") == "Event", "functions invoke each other asynchronously"
        raw = params.get("Payload", b"{}")
        raw = raw.encode() if isinstance(raw, str) else bytes(raw)
        assert len(raw) <= 256 * 1024, "an async invoke payload is limited to 256 KB"
        invocation = Invocation(name, json.loads(raw), self._clock())
        with self._lock:
            self.pending.append(invocation)
            self.history.append(invocation)
        return {"StatusCode": 202, "Payload": StreamingBody(io.BytesIO(b""), 0)}

    def take(self, function_name: str) -> Invocation | None:
        """The oldest queued invocation of one function, removed from the queue."""
        with self._lock:
            for invocation in self.pending:
                if invocation.function_name == function_name:
                    self.pending.remove(invocation)
                    return invocation
        return None

    def of(self, function_name: str) -> list[Invocation]:
        """Every invocation of one function so far."""
        with self._lock:
            return [i for i in self.history if i.function_name == function_name]


class RecordingTranslate(FakeTranslate):
    """FakeTranslate (the translation is ``"<LANG>: <text>"``, reversible), validated against the Translate API."""

    PREFIX = "{lang}: "

    def translate_text(self, **params: Any) -> dict[str, Any]:
        check_params("translate", "TranslateText", params)
        return super().translate_text(**params)

    @classmethod
    def original_of(cls, caption: str, language: str) -> str:
        """Undo the fake translation: the source text a caption was made from."""
        prefix = cls.PREFIX.format(lang=language.upper())
        assert caption.startswith(prefix), f"caption {caption!r} is not a {language} translation"
        return caption[len(prefix):]


@dataclass(frozen=True)
class Synthesis:
    """One SynthesizeSpeech call and the audio it returned."""

    voice_id: str
    text: str
    text_type: str
    audio: bytes


class RecordingPolly(FakePolly):
    """Polly: ``describe_voices`` from a recorded response, ``synthesize_speech`` returning distinct
    MP3-sized bytes per call (about 6 KB per second of speech at 48 kbps), every call recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.syntheses: list[Synthesis] = []

    def synthesize_speech(self, **params: Any) -> dict[str, Any]:
        check_params("polly", "SynthesizeSpeech", params)
        assert params.get("Engine") == "neural", "voices are always neural"
        text = params["Text"]
        seed = hashlib.sha256(f"{params['VoiceId']}|{text}".encode()).digest()
        size = 24_000 + 300 * len(text)  # several WebSocket frames' worth: the audio must be split
        audio = b"ID3\x04" + (seed * (size // len(seed) + 1))[: size - 4]
        with self._lock:
            self.calls.append(params)
            self.syntheses.append(Synthesis(params["VoiceId"], text, params.get("TextType", "text"), audio))
        return {"AudioStream": StreamingBody(io.BytesIO(audio), len(audio)), "ContentType": "audio/mpeg",
                "RequestCharacters": len(text)}


class CognitoKeys:
    """The user pool's RS256 signing key, generated locally; tokens and the JWKS document from it."""

    def __init__(self, issuer: str, client_id: str) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.kid = uuid.uuid4().hex[:20]
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwks_fetches = 0

    def jwks(self) -> dict[str, Any]:
        """What ``<issuer>/.well-known/jwks.json`` serves."""
        self.jwks_fetches += 1
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def id_token(self, subject: str, username: str, lifetime: int = 3600) -> str:
        """A Cognito ID token for the app client (``aud``), as the hosted UI hands it out."""
        now = int(time.time())  # PyJWT checks expiry against the real clock
        claims = {"sub": subject, "aud": self.client_id, "iss": self.issuer, "token_use": "id",
                  "cognito:username": username, "auth_time": now, "iat": now, "exp": now + lifetime,
                  "email_verified": True, "event_id": str(uuid.uuid4())}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})


# -- Amazon Transcribe streaming, at the SDK boundary ------------------------------------------------


@dataclass
class StreamRecord:
    """What one Transcribe stream was asked for and fed."""

    params: dict[str, Any]
    fed: list[int] = field(default_factory=list)  # chunk indices of the speech track, in feed order
    events: list[Any] = field(default_factory=list)  # TranscriptEvents sent back
    ended: bool = False


class _InputStream:
    def __init__(self, stream: _FakeStream) -> None:
        self._stream = stream

    async def send_audio_event(self, audio_chunk: bytes) -> None:
        self._stream.feed(audio_chunk)

    async def end_stream(self) -> None:
        self._stream.end()


class _OutputStream:
    def __init__(self, stream: _FakeStream) -> None:
        self._stream = stream

    def __aiter__(self) -> _OutputStream:
        return self

    async def __anext__(self) -> Any:
        event = await self._stream.queue.get()
        if event is None:
            raise StopAsyncIteration
        return event


class _FakeStream:
    """One streaming session: fed chunks are placed on the speech track by their bytes; results
    come back when the audio they describe has been fed (finals of open phrases on end)."""

    def __init__(self, script: TranscriptScript, record: StreamRecord, number: int) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.input_stream = _InputStream(self)
        self.output_stream = _OutputStream(self)
        self._record = record
        self._session = script.session(number)
        for event in self._session.opening():
            self._send(event)

    def _send(self, event: Any) -> None:
        self._record.events.append(event)
        self.queue.put_nowait(event)

    def feed(self, pcm: bytes) -> None:
        assert not self._record.ended, "audio sent after end_stream"
        assert 0 < len(pcm) <= 32 * 1024, "an audio event carries at most 32 KB"
        index = self._session.place(pcm)
        self._record.fed.append(index)
        for event in self._session.fed(index):
            self._send(event)

    def end(self) -> None:
        self._record.ended = True
        for event in self._session.finish():
            self._send(event)
        self.queue.put_nowait(None)


class FakeTranscribeStreamingClient:
    """Drop-in for ``amazon_transcribe.client.TranscribeStreamingClient`` (what the worker's real
    ``AmazonTranscribeStreamFactory`` opens streams with). Class-level state: the factory builds a
    new client per stream."""

    script: TranscriptScript | None = None
    streams: list[StreamRecord] = []

    def __init__(self, region: str, **_: Any) -> None:
        assert region, "the client needs a region"
        self.region = region

    @classmethod
    def install(cls, script: TranscriptScript) -> None:
        """Answer with ``script`` (fresh stream records)."""
        cls.script = script
        cls.streams = []

    async def start_stream_transcription(self, **params: Any) -> Any:
        expected = {"language_code", "media_sample_rate_hz", "media_encoding"}
        assert expected <= set(params), f"missing stream parameters: {expected - set(params)}"
        assert params["media_encoding"] == "pcm" and params["media_sample_rate_hz"] == 16000, params
        if params.get("enable_partial_results_stabilization"):
            assert params.get("partial_results_stability") in ("low", "medium", "high"), params
        assert self.script is not None, "FakeTranscribeStreamingClient.install was not called"
        record = StreamRecord(dict(params))
        type(self).streams.append(record)
        return _FakeStream(self.script, record, len(type(self).streams))
