"""DynamoDB conditional writes: a failed ConditionExpression is a decision, not a fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError as AwsClientError


def is_condition_failure(error: Exception) -> bool:
    """True when a write was refused by its ConditionExpression (a decision, not a fault)."""
    return isinstance(error, AwsClientError) and error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def conditional(call: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | None:
    """Run ``call(**kwargs)`` (put_item, update_item, delete_item...) and return its response,
    or None when its ConditionExpression failed; any other error is raised."""
    try:
        return call(**kwargs)
    except AwsClientError as error:
        if is_condition_failure(error):
            return None
        raise
