"""Small DynamoDB helpers shared by the handler and the worker."""

from __future__ import annotations

from decimal import Decimal

from botocore.exceptions import ClientError as AwsClientError


def is_condition_failure(error: Exception) -> bool:
    """True when a write was refused by its ConditionExpression (a decision, not a fault)."""
    return isinstance(error, AwsClientError) and error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def decimal(value: float, digits: int = 3) -> Decimal:
    """A float as the Decimal the boto3 resource layer needs (rounded: epoch times to the ms)."""
    return Decimal(repr(round(float(value), digits)))
