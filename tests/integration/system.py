"""The whole backend running in one process against a local moto server, on a simulated clock.

``System`` builds what the stack deploys (tables, SSM parameters, every function with its own
environment from the stack) and plays API Gateway: the ``$connect`` REQUEST authorizer, route
selection on ``$request.body.action``, WebSocket event shapes, ``@connections`` (moto, behind
``ConnectionsGateway``), Lambda's asynchronous invokes and the EventBridge minute schedule.

Time is simulated. A ``Timeline`` holds what happens when (the speaker's chunks, controls,
heartbeats, the minute sweep, checkpoints); it runs in time order. While a stream worker
runs, it is the worker's own sleeps (its pacing and polling seam) that move the clock: each
sleep first delivers queued translation invokes, then plays everything the timeline holds
until the sleep would end. So the speaker streams while the worker feeds Transcribe, in
simulated real time, without a single real-time wait, and the same run gives the same result.
Lambda's async invokes are queued and delivered in the order they were made: translation
segments as soon as the invoking code yields, stream workers one at a time when none runs.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import heapq
import itertools
import json
import logging
import os
import random
import socket
import string
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.integration.fakes import (
    CognitoKeys,
    ConnectionsGateway,
    FakeTranscribeStreamingClient,
    LambdaInvocations,
    RecordingPolly,
    RecordingTranslate,
    SimClock,
)
from tests.integration.speech import SpeechTrack
from tests.integration.stack import StackView, create_parameters, create_tables
from tests.integration.transcripts import TranscriptScript

REGION = "us-east-1"
ACCOUNT = "123456789012"
# Endpoint-ish variables that point at AWS and must point at the local server instead.
ENDPOINT_VARIABLES = ("WEBSOCKET_ENDPOINT",)


def free_port() -> int:
    """A TCP port nobody listens on (the server binds it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LambdaContext:
    """The Lambda context object: names, and remaining time on the simulated clock."""

    def __init__(self, name: str, timeout: float, memory: int, clock: SimClock) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self._deadline = clock() + timeout
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock()) * 1000))


class ScenarioFailed(BaseException):
    """A scheduled action failed (a BaseException, so no function's error handling swallows it)."""


@dataclass(order=True)
class _Action:
    at: float
    order: int
    label: str = field(compare=False)
    run: Callable[[], None] = field(compare=False)


class Timeline:
    """What happens when; ``play_until`` runs everything due, in time order, moving the clock."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._heap: list[_Action] = []
        self._order = itertools.count()
        self.played: list[tuple[float, str]] = []
        self.after_each: Callable[[], None] = lambda: None

    def at(self, when: float, label: str, run: Callable[[], None]) -> None:
        """Schedule ``run`` at epoch second ``when`` (same time: in scheduling order)."""
        heapq.heappush(self._heap, _Action(when, next(self._order), label, run))

    def next_time(self) -> float | None:
        """When the next action is due."""
        return self._heap[0].at if self._heap else None

    def play_next(self) -> None:
        """Run the next action at its time."""
        action = heapq.heappop(self._heap)
        self._clock.set(action.at)
        self.played.append((self._clock(), action.label))
        try:
            action.run()
        except Exception as error:
            # Actions often run inside a stream worker's sleep, whose `except Exception` would swallow this.
            raise ScenarioFailed(f"{action.label!r} at +{self._clock.elapsed:.2f} s failed: {error!r}") from error
        self.after_each()

    def play_until(self, when: float) -> None:
        """Run every action due by ``when``, then move the clock to ``when``."""
        while self._heap and self._heap[0].at <= when:
            self.play_next()
        self._clock.set(when)


@dataclass
class Connection:
    """A WebSocket client's connection as API Gateway knows it."""

    name: str
    connection_id: str
    role: str
    source_ip: str
    connected_at: float
    user_id: str = ""


@dataclass
class Delivery:
    """A translation segment handed to the TranslationProcessor, and what it found and did."""

    payload: dict[str, Any]
    at: float
    session_paused: bool
    result: dict[str, Any]


class System:
    """Every function of the stack wired to one moto server; see the module docstring."""

    def __init__(self, stack: StackView, track: SpeechTrack, monkeypatch: pytest.MonkeyPatch, start: float) -> None:
        self.stack = stack
        self.track = track
        self.monkeypatch = monkeypatch
        self.clock = SimClock(start)
        self.timeline = Timeline(self.clock)
        self.timeline.after_each = self.deliver_segments
        self.functions = stack.functions()
        self.routes = stack.routes()
        self.stage = stack.stage()
        self.api_id = stack.outputs["websocket_url"].split("//", 1)[1].split(".", 1)[0]
        self.domain = f"{self.api_id}.execute-api.{REGION}.amazonaws.com"
        self.authorizer_fn = stack.authorizer_function()
        self.sweep_fn = stack.scheduled_function()
        self.worker_fn = self._function_by_handler("audio_transcription.stream_worker.handler.lambda_handler")
        self.translation_fn = self._function_by_handler("translation_pipeline.handler.lambda_handler")
        self.connections: dict[str, Connection] = {}
        self.deliveries: list[Delivery] = []
        self.worker_results: list[dict[str, Any]] = []
        self.sweeps: list[dict[str, Any]] = []
        self._ids = random.Random(4821)
        self._server: ThreadedMotoServer | None = None
        self._delivering = False

    def _function_by_handler(self, handler: str) -> str:
        [name] = [f.name for f in self.functions.values() if f.handler == handler]
        return name

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> System:
        """Start moto, create the stack's tables and parameters, wire every function."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        self.endpoint = f"http://127.0.0.1:{port}"
        mp = self.monkeypatch
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            mp.delenv(name, raising=False)
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                            "AWS_ENDPOINT_URL": self.endpoint, "POWERTOOLS_TRACE_DISABLED": "true"}.items():
            mp.setenv(name, value)
        self.session = boto3.Session(region_name=REGION)
        self.dynamodb = self.session.resource("dynamodb")
        create_tables(self.session.client("dynamodb"), self.stack.tables())
        create_parameters(self.session.client("ssm"), self.stack.parameters())
        self.gateway = ConnectionsGateway(self.session.client("apigatewaymanagementapi"), self.clock)
        self.invocations = LambdaInvocations(set(self.functions), self.clock)
        self.translate = RecordingTranslate()
        self.polly = RecordingPolly()
        self._wire_observability()
        self._wire_session_management()
        self._wire_audio()
        self._wire_translation()
        return self

    def stop(self) -> None:
        """Stop the translation pools and the server (monkeypatch undoes the rest)."""
        from session_management import clients as session_clients
        from session_management.authorizer import handler as authorizer
        from session_management.settings import get_settings
        from translation_pipeline import clients as translation_clients
        from translation_pipeline import handler as translation

        processor = getattr(self, "processor", None)
        if processor is not None:
            translation.use_processor(None)
            processor.shutdown()
        translation_clients.reset()
        session_clients.reset()
        get_settings.cache_clear()
        authorizer.reset()
        if self._server is not None:
            self._server.stop()

    def function_environment(self, name: str) -> dict[str, str]:
        """What the stack sets for function ``name``, endpoint-ish values pointed at the local server."""
        env = dict(self.functions[name].environment)
        for variable in ENDPOINT_VARIABLES:
            if variable in env:
                env[variable] = self.endpoint
        return env

    @contextmanager
    def running_as(self, name: str) -> Iterator[None]:
        """The process looks like function ``name``'s container: its environment and Powertools service."""
        from common.observability import metrics

        env = self.function_environment(name)
        saved = {k: os.environ.get(k) for k in env}
        saved_service = metrics.service
        os.environ.update(env)
        metrics.service = env.get("POWERTOOLS_SERVICE_NAME", saved_service)
        try:
            yield
        finally:
            metrics.service = saved_service
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def invoke(self, name: str, event: Any) -> Any:
        """Run function ``name``'s handler on ``event``, as Lambda would."""
        spec = self.functions[name]
        with self.running_as(name):
            return spec.entry()(event, LambdaContext(name, spec.timeout, spec.memory, self.clock))

    # -- wiring -------------------------------------------------------------------------

    def _wire_observability(self) -> None:
        from common.observability import metrics

        namespaces = {f.environment.get("POWERTOOLS_METRICS_NAMESPACE") for f in self.functions.values()} - {None}
        assert len(namespaces) == 1, namespaces
        # Powertools read the namespace when common.observability was first imported (maybe by another test).
        self.monkeypatch.setattr(metrics, "namespace", namespaces.pop())

    def _wire_session_management(self) -> None:
        from session_management import clients as session_clients
        from session_management.authorizer import handler as authorizer
        from session_management.authorizer.jwt_validation import CognitoTokenValidator, JwksCache
        from session_management.settings import get_settings, load_authorizer_settings

        session_clients.reset()

        def management(endpoint: str) -> ConnectionsGateway:
            self.gateway.endpoints.append(endpoint)
            return self.gateway

        session_clients.override(management_factory=management)
        self.monkeypatch.setattr("session_management.deps.now_epoch", lambda: int(self.clock()))
        get_settings.cache_clear()
        with self.running_as(self.routes["$connect"]):
            get_settings()  # the route handlers' settings, read once per container as in Lambda
        with self.running_as(self.authorizer_fn):
            settings = load_authorizer_settings()
        self.cognito = CognitoKeys(settings.issuer, settings.client_id)
        # The JWKS comes through the validator's injectable fetcher instead of HTTPS to Cognito.
        authorizer.configure(settings, CognitoTokenValidator(settings.issuer, settings.client_id, JwksCache(self.cognito.jwks)))

    def _wire_audio(self) -> None:
        import amazon_transcribe.client
        from audio_transcription.audio_processor import handler as audio_handler
        from audio_transcription.replies import Replier
        from audio_transcription.settings import AudioProcessorSettings, StreamWorkerSettings
        from audio_transcription.stream_worker import handler as worker_handler

        with self.running_as(self.routes["sendAudio"]):
            deps = audio_handler.build_deps(AudioProcessorSettings.from_env())
        self.monkeypatch.setattr(audio_handler, "_deps", dataclasses.replace(
            deps, lambda_client=self.invocations, replier=Replier(self.gateway), clock=self.clock))
        # Transcribe at the SDK boundary: the worker's own AmazonTranscribeStreamFactory opens the streams.
        self.monkeypatch.setattr(amazon_transcribe.client, "TranscribeStreamingClient", FakeTranscribeStreamingClient)
        FakeTranscribeStreamingClient.install(TranscriptScript(self.track))
        self.transcribe = FakeTranscribeStreamingClient
        with self.running_as(self.worker_fn):
            settings = StreamWorkerSettings.from_env()
            deps = worker_handler.build_deps(settings)
        self.monkeypatch.setattr(worker_handler, "_settings", settings)
        self.monkeypatch.setattr(worker_handler, "_deps", dataclasses.replace(
            deps, lambda_client=self.invocations, replier=Replier(self.gateway), clock=self.clock, sleep=self._worker_sleep))

    def _wire_translation(self) -> None:
        from translation_pipeline import clients as translation_clients
        from translation_pipeline import handler as translation
        from translation_pipeline.processor import build_processor
        from translation_pipeline.settings import TranslationSettings

        translation_clients.reset()
        translation_clients.override(translate=self.translate, polly=self.polly, management=self.gateway)
        with self.running_as(self.translation_fn):
            settings = TranslationSettings.from_env()
            self.backoff_sleeps: list[float] = []
            # As the handler's get_processor wires it (its DynamoDB client included), plus the simulated clock,
            # a recording sleep for backoffs and a seeded jitter.
            self.processor = build_processor(
                settings, dynamodb=translation_clients.get("dynamodb", settings.broadcast_concurrency + 16),
                translate=translation_clients.get("translate"), polly=translation_clients.get("polly"),
                management=translation_clients.get("management", endpoint=settings.websocket_endpoint),
                sleep=self.backoff_sleeps.append, rng=random.Random(17).random, clock=self.clock)
        translation.use_processor(self.processor)

    # -- Lambda's async invokes and the worker's clock ----------------------------------

    async def _worker_sleep(self, seconds: float) -> None:
        """The worker's sleep seam: simulated time passes, and with it everything scheduled in it."""
        self.deliver_segments()
        self.timeline.play_until(self.clock() + max(0.0, seconds))
        await asyncio.sleep(0)

    def deliver_segments(self) -> None:
        """Hand every queued TranslationProcessor invoke to its handler, oldest first."""
        if self._delivering:
            return
        self._delivering = True
        try:
            while (invocation := self.invocations.take(self.translation_fn)) is not None:
                session = self.session_row(invocation.payload.get("sessionId", ""))
                paused = bool(session.get("paused")) or bool(session.get("muted"))
                invocation.result = self.invoke(self.translation_fn, invocation.payload)
                invocation.delivered_at = self.clock()
                self.deliveries.append(Delivery(invocation.payload, self.clock(), paused, invocation.result))
        finally:
            self._delivering = False

    def run(self, until: float) -> None:
        """Play the timeline to ``until``, running queued stream workers (one at a time) as they come."""
        self.clock.watch = True
        try:
            self._run(until)
        finally:
            self.clock.watch = False

    def _run(self, until: float) -> None:
        while True:
            self.deliver_segments()
            worker = self.invocations.take(self.worker_fn)
            if worker is not None:
                self.worker_results.append(self.invoke(self.worker_fn, worker.payload))
                continue
            due = self.timeline.next_time()
            if due is None or due > until:
                self.clock.set(until)
                return
            self.timeline.play_next()

    # -- API Gateway: WebSocket events --------------------------------------------------

    def _new_connection_id(self) -> str:
        alphabet = string.ascii_letters + string.digits
        return "".join(self._ids.choice(alphabet) for _ in range(15)) + "="

    def _request_context(self, conn: Connection, route_key: str, event_type: str,
                         authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
        now_ms = int(self.clock() * 1000)
        ctx: dict[str, Any] = {
            "routeKey": route_key, "eventType": event_type, "connectionId": conn.connection_id,
            "extendedRequestId": uuid.uuid4().hex[:16], "requestTime": "", "messageDirection": "IN",
            "stage": self.stage, "connectedAt": int(conn.connected_at * 1000), "requestTimeEpoch": now_ms,
            "identity": {"sourceIp": conn.source_ip, "userAgent": f"e2e-{conn.name}"},
            "requestId": uuid.uuid4().hex[:16], "domainName": self.domain, "apiId": self.api_id,
        }
        if event_type == "MESSAGE":
            ctx["messageId"] = uuid.uuid4().hex[:16]
        if authorizer is not None:
            ctx["authorizer"] = authorizer
        return ctx

    def connect(self, name: str, role: str, source_ip: str, token: str | None = None) -> tuple[int, Connection | None]:
        """Open a WebSocket: the REQUEST authorizer, then ``$connect`` with its context."""
        conn = Connection(name, self._new_connection_id(), role, source_ip, self.clock())
        query = {"role": role}
        if token:
            query["token"] = token
        headers = {"Host": self.domain, "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
                   "X-Forwarded-For": source_ip, "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"}
        auth_event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{self.api_id}/{self.stage}/$connect",
            "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query, "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
            "stageVariables": {},
            "requestContext": self._request_context(conn, "$connect", "CONNECT"),
        }
        decision = self.invoke(self.authorizer_fn, auth_event)
        statement = decision["policyDocument"]["Statement"][0]
        if statement["Effect"] != "Allow" or statement["Resource"] != auth_event["methodArn"]:
            return 403, None
        # API Gateway hands the authorizer's context (plus principalId) to the integration.
        authorizer = {**decision.get("context", {}), "principalId": decision["principalId"], "integrationLatency": 18}
        conn.user_id = authorizer.get("userId", "")
        event = {"headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
                 "queryStringParameters": query, "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
                 "requestContext": self._request_context(conn, "$connect", "CONNECT", authorizer), "isBase64Encoded": False}
        status = self.invoke(self.routes["$connect"], event).get("statusCode")
        if status != 200:
            return status, None
        self.connections[name] = conn
        return 200, conn

    def send(self, name: str, body: dict[str, Any] | str) -> int:
        """A text frame from a client: route selected on ``$request.body.action``, else ``$default``."""
        conn = self.connections[name]
        text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        try:
            action = json.loads(text).get("action")
        except (ValueError, AttributeError):
            action = None
        route = action if isinstance(action, str) and action in self.routes else "$default"
        event = {"requestContext": self._request_context(conn, route, "MESSAGE"), "body": text, "isBase64Encoded": False}
        return self.invoke(self.routes[route], event).get("statusCode")

    def disconnect(self, name: str) -> int:
        """The client closed its WebSocket."""
        conn = self.connections[name]
        ctx = self._request_context(conn, "$disconnect", "DISCONNECT")
        ctx.update({"disconnectStatusCode": 1000, "disconnectReason": "Client closed"})
        return self.invoke(self.routes["$disconnect"], {"headers": {"Host": self.domain}, "requestContext": ctx,
                                                        "isBase64Encoded": False}).get("statusCode")

    def sweep(self) -> dict[str, Any]:
        """The EventBridge ``rate(1 minute)`` rule firing."""
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": ACCOUNT, "time": "", "region": REGION, "detail": {},
                 "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{self.sweep_fn}"]}
        report = self.invoke(self.sweep_fn, event)
        self.sweeps.append({"at": self.clock(), **report})
        return report

    # -- what the clients and tables see -------------------------------------------------

    def received(self, name: str) -> list[dict[str, Any]]:
        """Every message delivered to a client's connection, in order."""
        return self.gateway.messages(self.connections[name].connection_id)

    def session_row(self, session_id: str) -> dict[str, Any]:
        """The Sessions row (consistent read)."""
        table = self.dynamodb.Table(self.function_environment(self.translation_fn)["SESSIONS_TABLE"])
        return table.get_item(Key={"sessionId": session_id}, ConsistentRead=True).get("Item") or {}

    def connection_row(self, name: str) -> dict[str, Any] | None:
        """The Connections row of a client (consistent read)."""
        table = self.dynamodb.Table(self.function_environment(self.translation_fn)["CONNECTIONS_TABLE"])
        return table.get_item(Key={"connectionId": self.connections[name].connection_id}, ConsistentRead=True).get("Item")
