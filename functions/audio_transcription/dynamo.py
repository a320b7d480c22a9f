"""Small DynamoDB helpers shared by the handler and the worker (conditional writes: ``common.dynamo``)."""

from __future__ import annotations

from decimal import Decimal


def decimal(value: float, digits: int = 3) -> Decimal:
    """A float as the Decimal the boto3 resource layer needs (rounded: epoch times to the ms)."""
    return Decimal(repr(round(float(value), digits)))
