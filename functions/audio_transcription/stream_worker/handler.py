"""Stream worker Lambda: ``{"sessionId", "leaseId", "reason"}`` in (async invoke), one session's
Transcribe stream until handover, end of session or silence.

Invoked by the ``sendAudio`` handler (first chunk, or no live worker), by a worker handing
over, or by a worker that saw chunks arrive as it released its lease. The handler never
raises: a retried invocation would only find its lease gone.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from common.observability import lambda_entry, logger

from audio_transcription.chunks import ChunkStore
from audio_transcription.feature_flag import FeatureFlag
from audio_transcription.replies import Replier
from audio_transcription.settings import StreamWorkerSettings
from audio_transcription.stream_worker.lease import LeaseStore
from audio_transcription.stream_worker.transcribe_stream import AmazonTranscribeStreamFactory
from audio_transcription.stream_worker.worker import StreamWorker, WorkerDeps

_settings: StreamWorkerSettings | None = None
_deps: WorkerDeps | None = None


def build_deps(settings: StreamWorkerSettings) -> WorkerDeps:
    """Real clients from the environment."""
    import boto3

    dynamodb = boto3.resource("dynamodb")
    return WorkerDeps(
        leases=LeaseStore(dynamodb.Table(settings.sessions_table)),
        chunks=ChunkStore(dynamodb.Table(settings.audio_chunks_table)),
        lambda_client=boto3.client("lambda"),
        replier=Replier(boto3.client("apigatewaymanagementapi", endpoint_url=settings.websocket_endpoint)),
        transcribe=AmazonTranscribeStreamFactory(settings.region),
        flag=FeatureFlag(boto3.client("ssm"), settings.feature_flag_parameter),
    )


def configure(settings: StreamWorkerSettings | None = None, deps: WorkerDeps | None = None) -> None:
    """Set (or, with no arguments, build from the environment) the container's settings and clients."""
    global _settings, _deps
    _settings = settings or StreamWorkerSettings.from_env()
    _deps = deps or build_deps(_settings)


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Async-invoked entry point."""
    if _settings is None or _deps is None:
        configure()
    return handle(event, context, _settings, _deps)  # type: ignore[arg-type]


def handle(event: dict[str, Any], context: Any, settings: StreamWorkerSettings, deps: WorkerDeps) -> dict[str, Any]:
    """Run one worker invocation; returns its result as a dict."""
    session_id = (event or {}).get("sessionId")
    lease_id = (event or {}).get("leaseId")
    if not isinstance(session_id, str) or not session_id or not isinstance(lease_id, str) or not lease_id:
        logger.error("stream worker invoked without sessionId and leaseId")
        return {"outcome": "invalid_event"}
    logger.append_keys(sessionId=session_id, workerReason=(event or {}).get("reason"))

    def remaining_seconds() -> float:
        return context.get_remaining_time_in_millis() / 1000.0

    worker = StreamWorker(settings, deps, session_id, lease_id, remaining_seconds)
    result = asyncio.run(worker.run())
    logger.info("stream worker finished", extra={"outcome": result.outcome, "fedChunks": result.fed_chunks,
                                                  "segments": result.segments})
    return dataclasses.asdict(result)
