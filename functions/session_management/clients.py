"""AWS clients, created lazily once per container and replaceable by tests.

Boto3 clients are costly to build (tens of ms), so each container keeps one DynamoDB resource
and one API Gateway management client per endpoint. Tests call ``override`` with fakes
(or moto-backed clients) and ``reset`` afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

# One call, with every SDK retry, must end well inside the handlers' 10 s timeout, or a fault
# between two writes outlives the function and nothing rolls back: 2 attempts x (1 s connect +
# 2 s read) + the standard mode's jittered backoff (< 1 s before the second attempt) < 7 s.
# (DynamoDB answers in milliseconds; a 2 s read is a fault, not a slow answer.)
_MANAGEMENT_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 2, "mode": "standard"})
_DYNAMODB_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 2, "mode": "standard"})
# The longest one call can take with these settings (tests check it against the function timeout).
MAX_CALL_SECONDS = 2 * (1 + 2) + 1

_lock = threading.Lock()
_dynamodb: Any = None
_management: dict[str, Any] = {}
_management_factory: Callable[[str], Any] | None = None


def dynamodb() -> Any:
    """The container's DynamoDB service resource."""
    global _dynamodb
    with _lock:
        if _dynamodb is None:
            _dynamodb = boto3.resource("dynamodb", config=_DYNAMODB_CONFIG)
        return _dynamodb


def management_api(endpoint: str) -> Any:
    """An ``apigatewaymanagementapi`` client for one WebSocket stage endpoint (thread-safe)."""
    with _lock:
        client = _management.get(endpoint)
        if client is None:
            if _management_factory is not None:
                client = _management_factory(endpoint)
            else:
                client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=_MANAGEMENT_CONFIG)
            _management[endpoint] = client
        return client


def override(dynamodb_resource: Any = None, management_factory: Callable[[str], Any] | None = None) -> None:
    """Replace the clients (tests): a DynamoDB resource and/or a factory ``endpoint -> client``."""
    global _dynamodb, _management_factory
    with _lock:
        if dynamodb_resource is not None:
            _dynamodb = dynamodb_resource
        if management_factory is not None:
            _management_factory = management_factory
            _management.clear()


def reset() -> None:
    """Forget every client and override (tests)."""
    global _dynamodb, _management_factory
    with _lock:
        _dynamodb = None
        _management_factory = None
        _management.clear()
