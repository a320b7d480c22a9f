"""Typed settings of the session-management functions, read once per container from the environment.

Every route handler and the scheduled sweep share ``Settings``; the authorizer has its own
``AuthorizerSettings`` because it touches no table. Defaults equal the project's stack
defaults (Pulumi.yaml) so a missing tunable is not fatal, but table names are required.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

from common.settings import SettingsError, env_bool, env_float, env_int, env_str
from common.tables import CONNECTIONS_BY_SESSION_INDEX

# API Gateway closes every WebSocket connection after 2 hours, whatever we do.
API_GATEWAY_MAX_CONNECTION_SECONDS = 7200


@dataclass(frozen=True)
class Settings:
    """Tables, endpoint and tunables of the route handlers and the scheduled sweep."""

    sessions_table: str
    connections_table: str
    connections_by_session_index: str
    rate_limits_table: str
    websocket_endpoint: str
    max_listeners: int
    session_max_duration_hours: float
    refresh_minutes: int
    warning_minutes: int
    data_retention_hours: int
    stale_connection_seconds: int
    speaker_grace_minutes: int
    rate_sessions_per_hour: int
    rate_listener_joins_per_minute: int
    rate_connection_attempts_per_minute: int
    rate_heartbeats_per_minute: int

    @property
    def session_max_duration_seconds(self) -> int:
        """Longest a session may run before the sweep ends it."""
        return int(self.session_max_duration_hours * 3600)

    @property
    def data_retention_seconds(self) -> int:
        """How long an ended session's row stays readable (its TTL margin)."""
        return self.data_retention_hours * 3600


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check ``Settings``; raises ``SettingsError`` naming the bad variable."""
    settings = Settings(
        sessions_table=env_str("SESSIONS_TABLE", env=env),
        connections_table=env_str("CONNECTIONS_TABLE", env=env),
        connections_by_session_index=env_str("CONNECTIONS_BY_SESSION_INDEX", CONNECTIONS_BY_SESSION_INDEX, env=env),
        rate_limits_table=env_str("RATE_LIMITS_TABLE", env=env),
        websocket_endpoint=env_str("WEBSOCKET_ENDPOINT", "", env=env).rstrip("/"),
        max_listeners=env_int("MAX_LISTENERS", 500, env=env),
        session_max_duration_hours=env_float("SESSION_MAX_DURATION_HOURS", 2.0, env=env),
        refresh_minutes=env_int("REFRESH_MINUTES", 100, env=env),
        warning_minutes=env_int("WARNING_MINUTES", 105, env=env),
        data_retention_hours=env_int("DATA_RETENTION_HOURS", 12, env=env),
        stale_connection_seconds=env_int("STALE_CONNECTION_SECONDS", 300, env=env),
        speaker_grace_minutes=env_int("SPEAKER_GRACE_MINUTES", 10, env=env),
        rate_sessions_per_hour=env_int("RATE_SESSIONS_PER_HOUR", 50, env=env),
        rate_listener_joins_per_minute=env_int("RATE_LISTENER_JOINS_PER_MINUTE", 10, env=env),
        rate_connection_attempts_per_minute=env_int("RATE_CONNECTION_ATTEMPTS_PER_MINUTE", 20, env=env),
        rate_heartbeats_per_minute=env_int("RATE_HEARTBEATS_PER_MINUTE", 2, env=env),
    )
    _check(settings)
    return settings


def _check(s: Settings) -> None:
    positive = {
        "MAX_LISTENERS": s.max_listeners, "SESSION_MAX_DURATION_HOURS": s.session_max_duration_hours,
        "REFRESH_MINUTES": s.refresh_minutes, "WARNING_MINUTES": s.warning_minutes,
        "DATA_RETENTION_HOURS": s.data_retention_hours, "STALE_CONNECTION_SECONDS": s.stale_connection_seconds,
        "SPEAKER_GRACE_MINUTES": s.speaker_grace_minutes, "RATE_SESSIONS_PER_HOUR": s.rate_sessions_per_hour,
        "RATE_LISTENER_JOINS_PER_MINUTE": s.rate_listener_joins_per_minute,
        "RATE_CONNECTION_ATTEMPTS_PER_MINUTE": s.rate_connection_attempts_per_minute,
        "RATE_HEARTBEATS_PER_MINUTE": s.rate_heartbeats_per_minute,
    }
    for name, value in positive.items():
        if value <= 0:
            raise SettingsError(f"environment variable {name} must be positive, got {value}")
    if not s.refresh_minutes < s.warning_minutes < API_GATEWAY_MAX_CONNECTION_SECONDS // 60:
        raise SettingsError("REFRESH_MINUTES < WARNING_MINUTES < 120 is required "
                            f"(API Gateway closes connections at 2 h), got {s.refresh_minutes} and {s.warning_minutes}")


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, read on first use (tests call ``get_settings.cache_clear()``)."""
    return load_settings()


@dataclass(frozen=True)
class AuthorizerSettings:
    """What the $connect authorizer needs: the Cognito pool, its app client and the listener policy."""

    user_pool_id: str
    client_id: str
    region: str
    allow_anonymous_listeners: bool
    # TOKEN_ISSUER / TOKEN_JWKS_URL: set by the stack to the pool's own URLs, and by the local run
    # to its local issuer; empty means "derive from the pool id".
    token_issuer: str = ""
    token_jwks_url: str = ""

    @property
    def issuer(self) -> str:
        """The ``iss`` claim every accepted token carries."""
        return self.token_issuer or f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        """Where the issuer publishes its signing keys."""
        return self.token_jwks_url or f"{self.issuer}/.well-known/jwks.json"


def load_authorizer_settings(env: Mapping[str, str] | None = None) -> AuthorizerSettings:
    """Read ``AuthorizerSettings``. The region comes from COGNITO_REGION, else the pool id
    (``us-east-1_AbC123`` starts with its region), else the Lambda's own AWS_REGION."""
    source = env if env is not None else os.environ
    pool_id = env_str("COGNITO_USER_POOL_ID", env=env).strip()
    client_id = env_str("COGNITO_CLIENT_ID", env=env).strip()
    if not pool_id or not client_id:
        raise SettingsError("COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID must not be empty")
    region = (source.get("COGNITO_REGION") or "").strip()
    if not region and "_" in pool_id:
        region = pool_id.split("_", 1)[0]
    region = region or (source.get("AWS_REGION") or "").strip()
    if not region:
        raise SettingsError("COGNITO_REGION is required when the pool id carries no region")
    return AuthorizerSettings(
        user_pool_id=pool_id,
        client_id=client_id,
        region=region,
        allow_anonymous_listeners=env_bool("ALLOW_ANONYMOUS_LISTENERS", False, env=env),
        token_issuer=env_str("TOKEN_ISSUER", "", env=env).strip().rstrip("/"),
        token_jwks_url=env_str("TOKEN_JWKS_URL", "", env=env).strip(),
    )
