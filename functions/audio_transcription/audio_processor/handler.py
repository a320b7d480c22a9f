"""``sendAudio`` route handler: validate, rate-limit, admit, store, start a worker if none runs.

Replies: none on success (no per-chunk acknowledgements: the speaker sends 5-20 chunks a
second); every refused chunk gets an ``error`` envelope with a stable code, the chunk's
``sequence`` and the message's ``requestId``. The Lambda result carries only the HTTP-style
status API Gateway logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from common.envelope import ClientError, error_message
from common.observability import lambda_entry, logger, metrics

from audio_transcription.audio_processor.enqueue import ensure_worker, store_chunk
from audio_transcription.audio_processor.rate_limit import ChunkRateLimiter
from audio_transcription.audio_processor.session_gate import SessionGate
from audio_transcription.audio_processor.validation import parse_send_audio
from audio_transcription.chunks import ChunkStore
from audio_transcription.quality import chunk_figures, pcm16
from audio_transcription.replies import Replier
from audio_transcription.settings import AudioProcessorSettings
from audio_transcription.stream_worker.lease import LeaseStore


@dataclass
class Deps:
    """Everything the handler talks to; built once per container, replaced in tests."""

    settings: AudioProcessorSettings
    gate: SessionGate
    limiter: ChunkRateLimiter
    store: ChunkStore
    leases: LeaseStore
    lambda_client: Any
    replier: Replier
    clock: Callable[[], float] = time.time
    metrics: Any = metrics


_deps: Deps | None = None

# One call with its SDK retries ends well inside the 10 s timeout (2 x (1 s + 2 s) + backoff):
# the defaults (60 s timeouts) let one hung call outlive the function between admit and store.
CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 2, "mode": "standard"})


def build_deps(settings: AudioProcessorSettings | None = None) -> Deps:
    """Real clients from the environment."""
    import boto3

    settings = settings or AudioProcessorSettings.from_env()
    dynamodb = boto3.resource("dynamodb", config=CLIENT_CONFIG)
    sessions = dynamodb.Table(settings.sessions_table)
    return Deps(
        settings=settings,
        gate=SessionGate(sessions),
        limiter=ChunkRateLimiter(dynamodb.Table(settings.rate_limits_table), settings.max_chunks_per_second),
        store=ChunkStore(dynamodb.Table(settings.audio_chunks_table)),
        leases=LeaseStore(sessions),
        lambda_client=boto3.client("lambda"),
        replier=Replier(boto3.client("apigatewaymanagementapi", endpoint_url=settings.websocket_endpoint,
                                     config=CLIENT_CONFIG)),
    )


def deps() -> Deps:
    """The container's dependencies (created on first use)."""
    global _deps
    if _deps is None:
        _deps = build_deps()
    return _deps


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """API Gateway WebSocket ``sendAudio`` route."""
    return handle(event, deps())


def handle(event: dict[str, Any], d: Deps) -> dict[str, int]:
    """Process one ``sendAudio`` message; never raises."""
    started = time.perf_counter()
    context = (event or {}).get("requestContext") or {}
    connection_id = str(context.get("connectionId") or "")
    body = (event or {}).get("body")
    request_id = None
    sequence = None
    try:
        message = parse_send_audio(body, bool((event or {}).get("isBase64Encoded")))
        sequence, request_id = message.sequence, message.request_id
        now = d.clock()
        d.limiter.hit(connection_id, now)
        samples = pcm16(message.pcm)
        quality = chunk_figures(samples)
        admission = d.gate.admit(message.session_id, connection_id, message.sequence, message.samples, now)
        store_chunk(d.store, d.gate, message, admission, quality, now, d.settings.chunk_ttl_seconds)
        ensure_worker(d.leases, d.lambda_client, d.settings.stream_worker_function, message.session_id,
                      admission, now, d.settings.worker_start_grace_seconds)
        d.metrics.add_metric(name="AudioChunksReceived", unit="Count", value=1)
        status = 200
    except ClientError as error:
        details = dict(error.details)
        if sequence is not None:
            details.setdefault("sequence", sequence)
        if request_id is not None:
            details["requestId"] = request_id
        logger.info("audio chunk refused", extra={"code": error.code, "connectionId": connection_id, "sequence": sequence})
        _reply(d, connection_id, error_message(error.code, error.message, **details))
        status = error.status
    except Exception:
        logger.exception("sendAudio failed", extra={"connectionId": connection_id})
        d.metrics.add_metric(name="ErrorCount", unit="Count", value=1)
        details = {"sequence": sequence} if sequence is not None else {}
        if request_id is not None:
            details["requestId"] = request_id
        _reply(d, connection_id, error_message("INTERNAL_ERROR", "the chunk could not be processed; retry", **details))
        status = 500
    d.metrics.add_metric(name="AudioProcessingLatency", unit="Milliseconds",
                         value=round((time.perf_counter() - started) * 1000.0, 3))
    return {"statusCode": status}


def _reply(d: Deps, connection_id: str, envelope: dict[str, Any]) -> None:
    if connection_id:
        d.replier.send(connection_id, envelope)

