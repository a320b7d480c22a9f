"""AWS clients, created lazily once per container and replaceable by tests and end-to-end runs.

Every client honours ``AWS_ENDPOINT_URL`` (botocore), so a whole run can point at a local
moto server; the management API poster (``connections_poster``, SigV4 without botocore's
per-call machinery) posts to ``WEBSOCKET_ENDPOINT``. botocore's own retries
are off for Translate, Polly and the management API: this package retries those with
jittered backoff itself, and two layers of retries would multiply the waits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from .connections_poster import ConnectionsPoster

_NO_SDK_RETRIES = {"total_max_attempts": 1, "mode": "standard"}

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_overrides: dict[str, Any] = {}


def _config(pool: int, read_timeout: float, retries: dict[str, Any]) -> Config:
    # The pool must hold one connection per worker thread, or botocore discards and reopens
    # connections under load (urllib3's default pool is 10).
    return Config(max_pool_connections=pool, connect_timeout=2, read_timeout=read_timeout, retries=retries,
                  tcp_keepalive=True)


_FACTORIES: dict[str, Callable[[int, str], Any]] = {
    "dynamodb": lambda pool, _: boto3.client("dynamodb", config=_config(pool, 5, {"total_max_attempts": 3, "mode": "standard"})),
    "translate": lambda pool, _: boto3.client("translate", config=_config(pool, 5, _NO_SDK_RETRIES)),
    "polly": lambda pool, _: boto3.client("polly", config=_config(pool, 10, _NO_SDK_RETRIES)),
    # Shard invocations of the function itself (fanout.py); one attempt: a failed invoke is posted locally.
    "lambda": lambda pool, _: boto3.client("lambda", config=_config(pool, 5, _NO_SDK_RETRIES)),
    # Up to 1,000 posts a segment: the lean poster signs and sends each in ~0.3 ms of CPU where
    # botocore's client takes ~1.3 ms (bench/poster_bench.py), with the same errors raised.
    "management": lambda pool, endpoint: ConnectionsPoster(endpoint, pool_size=pool, timeout=3),
    # botocore's client, kept for comparison (benchmarks); parameter validation off, as it was on the hot path.
    "management_sdk": lambda pool, endpoint: boto3.client(
        "apigatewaymanagementapi", endpoint_url=endpoint,
        config=_config(pool, 3, _NO_SDK_RETRIES).merge(Config(parameter_validation=False))),
}


def get(name: str, pool: int = 16, endpoint: str = "") -> Any:
    """The container's client ``name`` (dynamodb, translate, polly, management, lambda), built on first use."""
    with _lock:
        if name in _overrides:
            return _overrides[name]
        key = f"{name}|{endpoint}"
        if key not in _clients:
            _clients[key] = _FACTORIES[name](pool, endpoint)
        return _clients[key]


def override(**clients: Any) -> None:
    """Use these clients instead (keys: dynamodb, translate, polly, management, lambda)."""
    unknown = set(clients) - set(_FACTORIES)
    if unknown:
        raise ValueError(f"unknown client(s): {', '.join(sorted(unknown))}")
    with _lock:
        _overrides.update({k: v for k, v in clients.items() if v is not None})


def reset() -> None:
    """Forget every client and override."""
    with _lock:
        _clients.clear()
        _overrides.clear()
