"""Powertools logger, metrics (embedded metric format) and tracer, one set per container."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()
