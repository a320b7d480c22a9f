"""Typed settings of the audio transcription functions, read once per container from the environment.

Required variables raise ``SettingsError`` when missing; tunables have the design's defaults
(the component sets them from the ``transcription:`` stack config). See README.md for the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from common.settings import SettingsError, env_float, env_int, env_str
from emotion_dynamics.dynamics import DynamicsThresholds

from audio_transcription.partial_results.config import ProcessorConfig

STABILITY_LEVELS = ("low", "medium", "high")
# Transcribe ends a stream after 15 s without audio; an idle stream is closed well before.
TRANSCRIBE_IDLE_LIMIT_SECONDS = 15.0


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise SettingsError(f"environment variable {name} must be positive, got {value!r}")
    return value


@dataclass(frozen=True)
class AudioProcessorSettings:
    """The ``sendAudio`` route handler."""

    sessions_table: str
    rate_limits_table: str
    audio_chunks_table: str
    websocket_endpoint: str
    stream_worker_function: str
    max_chunks_per_second: int = 25
    worker_start_grace_seconds: float = 30.0
    chunk_ttl_seconds: int = 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AudioProcessorSettings:
        """SESSIONS_TABLE, RATE_LIMITS_TABLE, AUDIO_CHUNKS_TABLE, WEBSOCKET_ENDPOINT,
        STREAM_WORKER_FUNCTION; MAX_CHUNKS_PER_SECOND, WORKER_START_GRACE_SECONDS, AUDIO_CHUNK_TTL_SECONDS."""
        return cls(
            sessions_table=env_str("SESSIONS_TABLE", env=env),
            rate_limits_table=env_str("RATE_LIMITS_TABLE", env=env),
            audio_chunks_table=env_str("AUDIO_CHUNKS_TABLE", env=env),
            websocket_endpoint=env_str("WEBSOCKET_ENDPOINT", env=env),
            stream_worker_function=env_str("STREAM_WORKER_FUNCTION", env=env),
            max_chunks_per_second=int(_positive("MAX_CHUNKS_PER_SECOND", env_int("MAX_CHUNKS_PER_SECOND", 25, env))),
            worker_start_grace_seconds=_positive("WORKER_START_GRACE_SECONDS", env_float("WORKER_START_GRACE_SECONDS", 30.0, env)),
            chunk_ttl_seconds=int(_positive("AUDIO_CHUNK_TTL_SECONDS", env_int("AUDIO_CHUNK_TTL_SECONDS", 3600, env))),
        )


@dataclass(frozen=True)
class StreamWorkerSettings:
    """The per-session stream worker."""

    sessions_table: str
    audio_chunks_table: str
    websocket_endpoint: str
    stream_worker_function: str
    translation_function: str
    feature_flag_parameter: str
    region: str = "us-east-1"
    processor: ProcessorConfig = ProcessorConfig()
    stability_level: str = "high"
    silence_timeout_seconds: float = 60.0
    poor_snr_db: float = 10.0
    poor_clipping_ratio: float = 0.01
    dynamics: DynamicsThresholds = DynamicsThresholds()
    lease_seconds: float = 30.0
    worker_start_grace_seconds: float = 30.0
    stream_idle_seconds: float = 8.0
    handover_window_seconds: float = 120.0
    handover_deadline_seconds: float = 40.0
    pacing_lead_seconds: float = 2.0

    def __post_init__(self) -> None:
        if self.stability_level not in STABILITY_LEVELS:
            raise SettingsError(f"environment variable PARTIAL_RESULTS_STABILITY must be one of "
                                f"{', '.join(STABILITY_LEVELS)}, got {self.stability_level!r}")
        if not 0 < self.stream_idle_seconds < TRANSCRIBE_IDLE_LIMIT_SECONDS:
            raise SettingsError("environment variable STREAM_IDLE_SECONDS must be between 0 and 15 "
                                "(Transcribe ends a stream after 15 s without audio)")
        if not self.handover_window_seconds > self.handover_deadline_seconds > 0:
            raise SettingsError("HANDOVER_WINDOW_SECONDS > HANDOVER_DEADLINE_SECONDS > 0 must hold")
        if not self.lease_seconds > 5:
            raise SettingsError("environment variable WORKER_LEASE_SECONDS must be more than 5")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StreamWorkerSettings:
        """See README.md, "Configuration", for every variable."""
        return cls(
            sessions_table=env_str("SESSIONS_TABLE", env=env),
            audio_chunks_table=env_str("AUDIO_CHUNKS_TABLE", env=env),
            websocket_endpoint=env_str("WEBSOCKET_ENDPOINT", env=env),
            stream_worker_function=env_str("STREAM_WORKER_FUNCTION", env=env),
            translation_function=env_str("TRANSLATION_FUNCTION", env=env),
            feature_flag_parameter=env_str("FEATURE_FLAG_PARAMETER", env=env),
            region=env_str("AWS_REGION", env_str("AWS_DEFAULT_REGION", "us-east-1", env), env),
            processor=ProcessorConfig.from_env(env),
            stability_level=env_str("PARTIAL_RESULTS_STABILITY", "high", env).strip().lower(),
            silence_timeout_seconds=_positive("SILENCE_TIMEOUT_SECONDS", env_float("SILENCE_TIMEOUT_SECONDS", 60.0, env)),
            poor_snr_db=env_float("POOR_SNR_DB", 10.0, env),
            poor_clipping_ratio=env_float("POOR_CLIPPING_RATIO", 0.01, env),
            dynamics=DynamicsThresholds.from_env(env),
            lease_seconds=env_float("WORKER_LEASE_SECONDS", 30.0, env),
            worker_start_grace_seconds=_positive("WORKER_START_GRACE_SECONDS", env_float("WORKER_START_GRACE_SECONDS", 30.0, env)),
            stream_idle_seconds=env_float("STREAM_IDLE_SECONDS", 8.0, env),
            handover_window_seconds=env_float("HANDOVER_WINDOW_SECONDS", 120.0, env),
            handover_deadline_seconds=env_float("HANDOVER_DEADLINE_SECONDS", 40.0, env),
            pacing_lead_seconds=env_float("PACING_LEAD_SECONDS", 2.0, env),
        )
