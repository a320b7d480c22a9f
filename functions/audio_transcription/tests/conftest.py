"""Fixtures: moto tables (Sessions, AudioChunks, RateLimits), SSM flag, fake clock and clients."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from audio_transcription.audio_processor import handler as audio_handler
from audio_transcription.audio_processor.rate_limit import ChunkRateLimiter
from audio_transcription.audio_processor.session_gate import SessionGate
from audio_transcription.chunks import ChunkStore
from audio_transcription.feature_flag import FeatureFlag
from audio_transcription.partial_results.config import ProcessorConfig
from audio_transcription.settings import AudioProcessorSettings, StreamWorkerSettings
from audio_transcription.stream_worker.lease import LeaseStore
from audio_transcription.stream_worker.worker import WorkerDeps
from audio_transcription.tests.fakes import FakeClock, FakeLambda, FakeReplier, FakeTranscribe, MetricsRecorder
from moto import mock_aws

SESSION = "golden-eagle-4821"
SPEAKER = "conn-speaker="
WORKER_FN = "speech-translation-dev-stream-worker"
TRANSLATION_FN = "speech-translation-dev-translation"
FLAG = "/speech-translation/dev/transcription/feature-flags"


@pytest.fixture(scope="module")
def _moto():
    """One moto mock per test module (starting moto per test costs more than most tests)."""
    with mock_aws():
        yield boto3.resource("dynamodb", region_name="us-east-1")


@dataclass
class Names:
    """Physical names of one test's resources (unique, so tests sharing a mock never meet)."""

    sessions: str
    chunks: str
    rate_limits: str
    flag: str


@pytest.fixture
def aws(_moto, monkeypatch):
    """Fresh Sessions, AudioChunks and RateLimits tables and a flag parameter for one test."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    suffix = uuid.uuid4().hex[:8]
    names = Names(f"Sessions-{suffix}", f"AudioChunks-{suffix}", f"RateLimits-{suffix}", f"{FLAG}-{suffix}")
    db = _moto
    db.create_table(TableName=names.sessions, BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "sessionId", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "sessionId", "AttributeType": "S"}])
    db.create_table(TableName=names.chunks, BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "sessionId", "KeyType": "HASH"},
                               {"AttributeName": "sequence", "KeyType": "RANGE"}],
                    AttributeDefinitions=[{"AttributeName": "sessionId", "AttributeType": "S"},
                                          {"AttributeName": "sequence", "AttributeType": "N"}])
    db.create_table(TableName=names.rate_limits, BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "limitKey", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "limitKey", "AttributeType": "S"}])
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name=names.flag, Type="String", Value='{"partialResultsEnabled": true}')
    return db, names


@dataclass
class World:
    """Everything a handler/worker test drives."""

    db: Any
    names: Names
    clock: FakeClock
    lambdas: FakeLambda
    replier: FakeReplier
    metrics: MetricsRecorder
    transcribe: FakeTranscribe
    audio_settings: AudioProcessorSettings
    worker_settings: StreamWorkerSettings

    @property
    def sessions(self):
        return self.db.Table(self.names.sessions)

    @property
    def chunks(self):
        return self.db.Table(self.names.chunks)

    @property
    def flag(self) -> str:
        return self.names.flag

    def put_session(self, session_id: str = SESSION, **overrides: Any) -> None:
        now = int(self.clock.time())
        item = {"sessionId": session_id, "speakerConnectionId": SPEAKER, "speakerUserId": "user-1",
                "sourceLanguage": "en-US", "status": "active", "paused": False, "muted": False,
                "listenerCount": 0, "createdAt": now, "updatedAt": now, "expiresAt": now + 7200}
        item.update(overrides)
        self.sessions.put_item(Item=item)

    def session(self, session_id: str = SESSION) -> dict[str, Any]:
        return self.sessions.get_item(Key={"sessionId": session_id}, ConsistentRead=True).get("Item") or {}

    def audio_deps(self, **overrides: Any) -> audio_handler.Deps:
        s = self.audio_settings
        deps = audio_handler.Deps(
            settings=s, gate=SessionGate(self.sessions),
            limiter=ChunkRateLimiter(self.db.Table(self.names.rate_limits), s.max_chunks_per_second),
            store=ChunkStore(self.chunks), leases=LeaseStore(self.sessions), lambda_client=self.lambdas,
            replier=self.replier, clock=self.clock.time, metrics=self.metrics)
        return replace(deps, **overrides)

    def worker_deps(self, transcribe: FakeTranscribe | None = None, **overrides: Any) -> WorkerDeps:
        ssm = boto3.client("ssm", region_name="us-east-1")
        deps = WorkerDeps(
            leases=LeaseStore(self.sessions), chunks=ChunkStore(self.chunks), lambda_client=self.lambdas,
            replier=self.replier, transcribe=transcribe or self.transcribe,
            flag=FeatureFlag(ssm, self.names.flag, ttl=30, clock=self.clock.time), clock=self.clock.time,
            sleep=self.clock.sleep, metrics=self.metrics)
        return replace(deps, **overrides)


@pytest.fixture
def world(aws) -> World:
    db, names = aws
    clock = FakeClock()
    audio_settings = AudioProcessorSettings(
        sessions_table=names.sessions, rate_limits_table=names.rate_limits, audio_chunks_table=names.chunks,
        websocket_endpoint="https://abc123.execute-api.us-east-1.amazonaws.com/live",
        stream_worker_function=WORKER_FN, max_chunks_per_second=25)
    worker_settings = StreamWorkerSettings(
        sessions_table=names.sessions, audio_chunks_table=names.chunks,
        websocket_endpoint="https://abc123.execute-api.us-east-1.amazonaws.com/live",
        stream_worker_function=WORKER_FN, translation_function=TRANSLATION_FN, feature_flag_parameter=names.flag,
        processor=ProcessorConfig(min_stability_threshold=1.0, max_buffer_timeout=7.0, pause_threshold=2.0,
                                  orphan_timeout=15.0, max_rate_per_second=10, dedup_cache_ttl=10),
        silence_timeout_seconds=6.0, stream_idle_seconds=4.0)
    return World(db, names, clock, FakeLambda(), FakeReplier(), MetricsRecorder(), FakeTranscribe(),
                 audio_settings, worker_settings)
