"""Metrics gathered from worker threads, emitted from the handler thread as EMF.

Powertools' ``Metrics`` buffers into shared dicts; the pipeline records from many threads,
so it records here under a lock and ``flush_to`` hands everything over at the end of each
invocation (a container runs one invocation at a time, so each flush holds exactly that
invocation's figures). Per-language counts go out twice: without the ``Language`` dimension (the fixed
dimension set an alarm can watch) and with it (one ``single_metric`` blob per language, for
dashboards, e.g. ``SEARCH('{<namespace>,Language,service} MetricName="LanguageFailures"', 'Sum', 300)``).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

# Metric names (see the package README for meanings, units and dimensions).
END_TO_END_LATENCY = "EndToEndLatency"
CAPTION_LATENCY = "CaptionLatency"
TRANSLATION_LATENCY = "TranslationLatency"
POLLY_SYNTHESIS_LATENCY = "PollySynthesisLatency"
CACHE_HIT = "CacheHit"
CACHE_MISS = "CacheMiss"
BROADCAST_FAILURES = "BroadcastFailures"
BROADCAST_RETRIES = "BroadcastRetries"
GONE_CONNECTIONS_REMOVED = "GoneConnectionsRemoved"
LANGUAGE_FAILURES = "LanguageFailures"
DUPLICATE_SEGMENTS_SKIPPED = "DuplicateSegmentsSkipped"
SEGMENTS_SUPPRESSED = "SegmentsSuppressed"
FALLBACK_COUNT = "FallbackCount"
CAPTION_ONLY = "CaptionOnly"
INVALID_SEGMENTS = "InvalidSegments"
ERROR_COUNT = "ErrorCount"
MESSAGES_POSTED = "MessagesPosted"
SHARDS_DISPATCHED = "ShardsDispatched"

PER_LANGUAGE = frozenset({LANGUAGE_FAILURES, CAPTION_ONLY})


class MetricsRecorder:
    """Thread-safe counters and timings, flushed after every invocation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter = Counter()
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.by_language: dict[str, Counter] = defaultdict(Counter)

    def count(self, name: str, value: int = 1, language: str | None = None) -> None:
        """Add to a counter (and to its per-language twin when ``language`` is given)."""
        if value < 0:
            return
        with self._lock:
            self.counts[name] += value
            if language is not None:
                self.by_language[name][language] += value

    def add_metric(self, name: str, unit: Any, value: float, resolution: int = 60) -> None:
        """Powertools-compatible entry, so reused code (``PollySynthesizer(metrics=...)``) records here too."""
        if str(getattr(unit, "value", unit)) == MetricUnit.Milliseconds.value:
            self.timing(name, value)
        else:
            self.count(name, int(value))

    def timing(self, name: str, milliseconds: float) -> None:
        """Record one latency sample."""
        with self._lock:
            self.timings[name].append(max(0.0, milliseconds))

    def flush_to(self, metrics: Any) -> None:
        """Hand everything to Powertools ``Metrics`` (flushed by ``log_metrics``) and reset."""
        with self._lock:
            counts, timings, by_language = self.counts, self.timings, self.by_language
            self.counts, self.timings, self.by_language = Counter(), defaultdict(list), defaultdict(Counter)
        for name, value in counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        for name, samples in timings.items():
            for sample in samples:
                metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=sample)
        for name, languages in by_language.items():
            for language, value in languages.items():
                with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=metrics.namespace) as metric:
                    if metrics.service:
                        metric.add_dimension(name="service", value=str(metrics.service))
                    metric.add_dimension(name="Language", value=language)
