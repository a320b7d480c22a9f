"""Configuration of the partial-results processor (stack config reaches it through the environment)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from common.settings import SettingsError, env_bool, env_float, env_int


@dataclass(frozen=True)
class ProcessorConfig:
    """Tunables of :class:`PartialResultProcessor`; times in seconds.

    ``min_stability_threshold`` is the share of a phrase's words that Transcribe marks
    ``stable`` (or, without stability flags, that two consecutive partials agree on) before
    the phrase is emitted. 1.0 emits only words that can no longer change; lower values emit
    a phrase whose last few words may still change (lower latency; a later change of an
    emitted word is not re-emitted). See README.md, "When a phrase is emitted".
    """

    min_stability_threshold: float = 1.0
    max_buffer_timeout: float = 7.0
    pause_threshold: float = 2.0
    orphan_timeout: float = 15.0
    max_rate_per_second: float = 10.0
    dedup_cache_ttl: float = 10.0
    partial_results_enabled: bool = True
    # Languages written without spaces (ja, zh, th) join words directly.
    join_without_spaces: bool = False
    # A comma/semicolon/colon ends a phrase only once the phrase has this many words,
    # so "So," or "Well," do not become segments of their own.
    min_clause_words: int = 4
    # Early phrases (phrasing.py): pending words go out as a phrase once this many are there ...
    phrase_min_words: int = 4
    # ... or, at least two, once the oldest settled one has waited this long (s);
    phrase_max_wait: float = 1.1
    # a phrase holds at most this many words (0: early phrases off);
    phrase_max_words: int = 6
    # it may end with this many heard words (finished, not yet settled; 0: settled words only).
    phrase_tail_words: int = 1

    def __post_init__(self) -> None:
        checks = (
            ("min_stability_threshold", 0.0 <= self.min_stability_threshold <= 1.0, "between 0 and 1"),
            ("max_buffer_timeout", self.max_buffer_timeout > 0, "positive"),
            ("pause_threshold", self.pause_threshold > 0, "positive"),
            ("orphan_timeout", self.orphan_timeout > 0, "positive"),
            ("max_rate_per_second", self.max_rate_per_second > 0, "positive"),
            ("dedup_cache_ttl", self.dedup_cache_ttl >= 0, "zero or more"),
            ("min_clause_words", self.min_clause_words >= 1, "at least 1"),
            ("phrase_max_words", 0 <= self.phrase_max_words <= 50, "between 0 (off) and 50"),
            ("phrase_min_words", 1 <= self.phrase_min_words <= 50
             and (self.phrase_max_words == 0 or self.phrase_min_words <= self.phrase_max_words),
             "between 1 and phrase_max_words"),
            ("phrase_max_wait", self.phrase_max_wait > 0, "positive"),
            ("phrase_tail_words", 0 <= self.phrase_tail_words <= 3, "between 0 and 3"),
        )
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"ProcessorConfig.{name} must be {allowed}, got {getattr(self, name)!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProcessorConfig:
        """Read MIN_STABILITY_THRESHOLD, MAX_BUFFER_TIMEOUT, PAUSE_THRESHOLD, ORPHAN_TIMEOUT,
        MAX_RATE_PER_SECOND, DEDUP_CACHE_TTL, PHRASE_MAX_WORDS, PHRASE_MIN_WORDS, PHRASE_MAX_WAIT,
        PHRASE_TAIL_WORDS (and optional PARTIAL_RESULTS_ENABLED)."""
        try:
            return cls(
                min_stability_threshold=env_float("MIN_STABILITY_THRESHOLD", 1.0, env),
                max_buffer_timeout=env_float("MAX_BUFFER_TIMEOUT", 7.0, env),
                pause_threshold=env_float("PAUSE_THRESHOLD", 2.0, env),
                orphan_timeout=env_float("ORPHAN_TIMEOUT", 15.0, env),
                max_rate_per_second=env_float("MAX_RATE_PER_SECOND", 10.0, env),
                dedup_cache_ttl=env_float("DEDUP_CACHE_TTL", 10.0, env),
                partial_results_enabled=env_bool("PARTIAL_RESULTS_ENABLED", True, env),
                phrase_max_words=env_int("PHRASE_MAX_WORDS", 6, env),
                phrase_min_words=env_int("PHRASE_MIN_WORDS", 4, env),
                phrase_max_wait=env_float("PHRASE_MAX_WAIT", 1.1, env),
                phrase_tail_words=env_int("PHRASE_TAIL_WORDS", 1, env),
            )
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
