"""Powertools logger, metrics (embedded metric format) and tracer, one set per container."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()

Handler = Callable[[Any, Any], Any]


def lambda_entry(handler: Handler) -> Handler:
    """The one wrapper of every Lambda handler: request id and cold start in every log line, metrics
    flushed as EMF at the end, an X-Ray subsegment. Events and replies stay out of logs and traces:
    they carry tokens, audio and speech."""
    traced = tracer.capture_lambda_handler(capture_response=False)(handler)
    return logger.inject_lambda_context(clear_state=True, log_event=False)(metrics.log_metrics(traced))
