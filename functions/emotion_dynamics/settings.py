"""Typed settings of the emotion dynamics function, read once per container from the environment.

The component sets every variable from the stack config namespace ``emotion:``; the
defaults mirror the design so the modules also work (and test) without a deployment.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

from common.settings import SettingsError, env_float, env_int, env_str

OUTPUT_FORMATS = ("mp3", "ogg_vorbis", "pcm")


@dataclass(frozen=True)
class EmotionSettings:
    """Thresholds, retry policy and limits of the emotion dynamics function."""

    volume_loud_threshold: float = -10.0      # VOLUME_LOUD_THRESHOLD (dBFS)
    volume_medium_threshold: float = -20.0    # VOLUME_MEDIUM_THRESHOLD (dBFS)
    volume_soft_threshold: float = -30.0      # VOLUME_SOFT_THRESHOLD (dBFS)
    rate_very_slow_threshold: float = 100.0   # RATE_VERY_SLOW_THRESHOLD (wpm)
    rate_slow_threshold: float = 130.0        # RATE_SLOW_THRESHOLD (wpm)
    rate_medium_threshold: float = 160.0      # RATE_MEDIUM_THRESHOLD (wpm)
    rate_fast_threshold: float = 190.0        # RATE_FAST_THRESHOLD (wpm)
    max_retries: int = 3                      # MAX_RETRIES
    retry_base_delay: float = 0.1             # RETRY_BASE_DELAY (s)
    retry_max_delay: float = 2.0              # RETRY_MAX_DELAY (s)
    max_audio_duration_seconds: float = 30.0  # MAX_AUDIO_DURATION_SECONDS
    default_voice_id: str = "Joanna"          # DEFAULT_VOICE_ID
    polly_output_format: str = "mp3"          # POLLY_OUTPUT_FORMAT

    def __post_init__(self) -> None:
        numbers = {f: getattr(self, f) for f in self.__dataclass_fields__ if f not in ("default_voice_id", "polly_output_format")}
        bad = [name.upper() for name, value in numbers.items() if not math.isfinite(value)]
        if bad:
            raise SettingsError(f"{', '.join(bad)} must be finite numbers")
        if not self.volume_loud_threshold > self.volume_medium_threshold > self.volume_soft_threshold:
            raise SettingsError("VOLUME_LOUD_THRESHOLD > VOLUME_MEDIUM_THRESHOLD > VOLUME_SOFT_THRESHOLD must hold")
        if not (0 < self.rate_very_slow_threshold < self.rate_slow_threshold
                < self.rate_medium_threshold < self.rate_fast_threshold):
            raise SettingsError("0 < RATE_VERY_SLOW_THRESHOLD < RATE_SLOW_THRESHOLD < RATE_MEDIUM_THRESHOLD "
                                "< RATE_FAST_THRESHOLD must hold")
        if self.max_retries < 0:
            raise SettingsError("MAX_RETRIES must be 0 or more")
        if not 0 < self.retry_base_delay <= self.retry_max_delay:
            raise SettingsError("0 < RETRY_BASE_DELAY <= RETRY_MAX_DELAY must hold")
        if not self.max_audio_duration_seconds > 0:
            raise SettingsError("MAX_AUDIO_DURATION_SECONDS must be positive")
        if not self.default_voice_id:
            raise SettingsError("DEFAULT_VOICE_ID must not be empty")
        if self.polly_output_format not in OUTPUT_FORMATS:
            raise SettingsError(f"POLLY_OUTPUT_FORMAT must be one of {', '.join(OUTPUT_FORMATS)}, "
                                f"got {self.polly_output_format!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EmotionSettings:
        """Read every variable (defaults where unset); ``SettingsError`` names a bad one."""
        d = cls()
        return cls(
            volume_loud_threshold=env_float("VOLUME_LOUD_THRESHOLD", d.volume_loud_threshold, env),
            volume_medium_threshold=env_float("VOLUME_MEDIUM_THRESHOLD", d.volume_medium_threshold, env),
            volume_soft_threshold=env_float("VOLUME_SOFT_THRESHOLD", d.volume_soft_threshold, env),
            rate_very_slow_threshold=env_float("RATE_VERY_SLOW_THRESHOLD", d.rate_very_slow_threshold, env),
            rate_slow_threshold=env_float("RATE_SLOW_THRESHOLD", d.rate_slow_threshold, env),
            rate_medium_threshold=env_float("RATE_MEDIUM_THRESHOLD", d.rate_medium_threshold, env),
            rate_fast_threshold=env_float("RATE_FAST_THRESHOLD", d.rate_fast_threshold, env),
            max_retries=env_int("MAX_RETRIES", d.max_retries, env),
            retry_base_delay=env_float("RETRY_BASE_DELAY", d.retry_base_delay, env),
            retry_max_delay=env_float("RETRY_MAX_DELAY", d.retry_max_delay, env),
            max_audio_duration_seconds=env_float("MAX_AUDIO_DURATION_SECONDS", d.max_audio_duration_seconds, env),
            default_voice_id=env_str("DEFAULT_VOICE_ID", d.default_voice_id, env).strip(),
            polly_output_format=env_str("POLLY_OUTPUT_FORMAT", d.polly_output_format, env).strip().lower(),
        )


@functools.lru_cache(maxsize=1)
def get_settings() -> EmotionSettings:
    """The settings of this container, read on first use (tests call ``get_settings.cache_clear()``)."""
    return EmotionSettings.from_env()
