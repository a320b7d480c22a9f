"""Typed settings of the TranslationProcessor, read from the environment once per container."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from common.settings import SettingsError, env_bool, env_float, env_int, env_str
from common.tables import CONNECTIONS_BY_SESSION_INDEX
from emotion_dynamics.dynamics import DynamicsThresholds

AUDIO_FORMATS = ("mp3", "ogg_vorbis")


@dataclass(frozen=True)
class TranslationSettings:
    """Everything the function reads from its environment (see the package README)."""

    sessions_table: str
    connections_table: str
    connections_index: str
    cache_table: str
    websocket_endpoint: str
    cache_ttl_hours: int = 24
    broadcast_concurrency: int = 64
    max_retries: int = 3
    audio_format: str = "mp3"
    retry_base_delay: float = 0.1
    retry_max_delay: float = 2.0
    default_voice_id: str = ""
    typical_wpm: float = 145.0
    # One post per listener (caption with the audio inside) when it fits; false: caption first, audio after.
    combine_caption_audio: bool = False
    # Listeners of one language above this are split into shards posted by async self-invocations; 0: never.
    fanout_shard_listeners: int = 0
    # This function, for shard invocations when the handler has no context (set by Lambda itself).
    function_name: str = ""

    @property
    def cache_ttl_seconds(self) -> int:
        """Cache row lifetime in seconds."""
        return self.cache_ttl_hours * 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TranslationSettings:
        """Read and validate the environment; raises ``SettingsError`` naming a bad variable."""
        settings = cls(
            sessions_table=env_str("SESSIONS_TABLE", env=env),
            connections_table=env_str("CONNECTIONS_TABLE", env=env),
            connections_index=env_str("CONNECTIONS_BY_SESSION_INDEX", CONNECTIONS_BY_SESSION_INDEX, env=env),
            cache_table=env_str("TRANSLATION_CACHE_TABLE", env=env),
            websocket_endpoint=env_str("WEBSOCKET_ENDPOINT", env=env),
            cache_ttl_hours=env_int("CACHE_TTL_HOURS", 24, env=env),
            broadcast_concurrency=env_int("BROADCAST_CONCURRENCY", 64, env=env),
            max_retries=env_int("MAX_RETRIES", 3, env=env),
            audio_format=env_str("AUDIO_FORMAT", "mp3", env=env),
            retry_base_delay=env_float("RETRY_BASE_DELAY", 0.1, env=env),
            retry_max_delay=env_float("RETRY_MAX_DELAY", 2.0, env=env),
            default_voice_id=env_str("DEFAULT_VOICE_ID", "", env=env).strip(),
            # SSML rate is relative to this pace: the emotion component's "medium" band (RATE_* variables).
            typical_wpm=DynamicsThresholds.from_env(env).typical_wpm,
            combine_caption_audio=env_bool("COMBINE_CAPTION_AUDIO", False, env=env),
            fanout_shard_listeners=env_int("FANOUT_SHARD_LISTENERS", 0, env=env),
            function_name=env_str("AWS_LAMBDA_FUNCTION_NAME", "", env=env),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Range checks the component's config schema also enforces, repeated so a hand-set env fails loudly."""
        if not self.websocket_endpoint.startswith(("https://", "http://")):
            raise SettingsError(f"environment variable WEBSOCKET_ENDPOINT must be an https URL, got {self.websocket_endpoint!r}")
        if self.cache_ttl_hours < 1:
            raise SettingsError("environment variable CACHE_TTL_HOURS must be at least 1")
        if not 1 <= self.broadcast_concurrency <= 500:
            raise SettingsError("environment variable BROADCAST_CONCURRENCY must be between 1 and 500")
        if not 0 <= self.max_retries <= 10:
            raise SettingsError("environment variable MAX_RETRIES must be between 0 and 10")
        if self.audio_format not in AUDIO_FORMATS:
            raise SettingsError(f"environment variable AUDIO_FORMAT must be one of {', '.join(AUDIO_FORMATS)}")
        if self.fanout_shard_listeners and not 50 <= self.fanout_shard_listeners <= 5000:
            raise SettingsError("environment variable FANOUT_SHARD_LISTENERS must be 0 (off) or between 50 and 5000")
        if not 0 < self.retry_base_delay <= self.retry_max_delay:
            raise SettingsError("environment variables RETRY_BASE_DELAY and RETRY_MAX_DELAY must satisfy 0 < base <= max")


@functools.lru_cache(maxsize=1)
def get_settings() -> TranslationSettings:
    """The container's settings, read on first use."""
    return TranslationSettings.from_env()
