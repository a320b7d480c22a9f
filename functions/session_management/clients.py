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

# Replies must be quick; a hung @connections call would hold the route handler for its whole timeout.
_MANAGEMENT_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})
_DYNAMODB_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 4, "mode": "standard"})

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
