"""Lambda entry point: ``translation_pipeline.handler.lambda_handler`` (async invoke, one segment per event).

A malformed payload is logged and counted (``InvalidSegments``, ``ErrorCount``) and returns
normally: retrying it could never succeed. An unexpected fault (DynamoDB unavailable, a
bug) is counted and re-raised so Lambda's async retries, then the on-failure destination,
take it; the segment ledger makes a retry redo only what was not done.
"""

from __future__ import annotations

import threading
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from common.observability import lambda_entry, logger, metrics

from . import clients
from . import telemetry as m
from .fanout import SHARD_POST, InvalidShardPost, ShardPost
from .processor import DEFAULT_LEASE_SECONDS, ProcessResult, TranslationProcessor, build_processor
from .segment import InvalidSegment, Segment
from .settings import get_settings

# Room left after the lease for the function to finish writing the ledger.
_LEASE_MARGIN_SECONDS = 5.0

_lock = threading.Lock()
_processor: TranslationProcessor | None = None


def get_processor() -> TranslationProcessor:
    """The container's processor, wired on first use from the environment and ``clients``."""
    global _processor
    with _lock:
        if _processor is None:
            settings = get_settings()
            pool = settings.broadcast_concurrency + 16
            _processor = build_processor(
                settings,
                dynamodb=clients.get("dynamodb", pool),
                translate=clients.get("translate", 16),
                polly=clients.get("polly", 16),
                management=clients.get("management", pool, settings.websocket_endpoint),
                lambda_client=clients.get("lambda", 16) if settings.fanout_shard_listeners else None,
            )
        return _processor


def use_processor(processor: TranslationProcessor | None) -> None:
    """Replace the container's processor (tests, end-to-end runs); None rebuilds it on next use."""
    global _processor
    with _lock:
        _processor = processor


@lambda_entry
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Process one segment; returns a summary (visible to an async on-success destination)."""
    return handle(event, context).to_dict()


def handle(event: Any, context: Any) -> ProcessResult:
    """The handler without the Powertools decorators; metrics land in Powertools' buffer."""
    if isinstance(event, dict) and event.get("type") == SHARD_POST:
        return handle_shard(event)
    try:
        segment = Segment.from_event(event)
    except InvalidSegment as exc:
        metrics.add_metric(name=m.INVALID_SEGMENTS, unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=m.ERROR_COUNT, unit=MetricUnit.Count, value=1)
        # The text is the speaker's words: log only the shape of the payload.
        keys = sorted(map(str, event)) if isinstance(event, dict) else type(event).__name__
        logger.warning("invalid segment payload; dropped", extra={"error": str(exc), "payloadKeys": keys})
        return ProcessResult("invalid", None, str(exc))
    logger.append_keys(sessionId=segment.session_id, segmentId=segment.segment_id, sequence=segment.sequence)
    try:
        processor = get_processor()
    except Exception:
        # Misconfiguration (a missing variable, a bad value): every segment would fail alike.
        metrics.add_metric(name=m.ERROR_COUNT, unit=MetricUnit.Count, value=1)
        logger.exception("translation processor could not be built")
        raise
    try:
        return processor.process(segment, lease_seconds=_lease_seconds(context),
                                 function_name=getattr(context, "invoked_function_arn", None))
    except Exception:
        processor.recorder.count(m.ERROR_COUNT)
        logger.exception("segment processing failed; Lambda will retry")
        raise
    finally:
        processor.recorder.flush_to(metrics)


def handle_shard(event: dict[str, Any]) -> ProcessResult:
    """Post one shard handed over by another invocation (see ``fanout``)."""
    try:
        post = ShardPost.from_event(event)
    except InvalidShardPost as exc:
        metrics.add_metric(name=m.INVALID_SEGMENTS, unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=m.ERROR_COUNT, unit=MetricUnit.Count, value=1)
        logger.warning("invalid shard payload; dropped", extra={"error": str(exc), "payloadKeys": sorted(map(str, event))})
        return ProcessResult("invalid", None, str(exc))
    logger.append_keys(sessionId=post.session_id, segmentId=post.segment_id)
    processor = get_processor()
    try:
        return processor.post_shard(post)
    finally:
        processor.recorder.flush_to(metrics)


def _lease_seconds(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        return remaining() / 1000 + _LEASE_MARGIN_SECONDS
    return DEFAULT_LEASE_SECONDS
