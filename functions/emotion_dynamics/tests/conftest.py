"""Shared fixtures of the emotion dynamics tests."""

from __future__ import annotations

import numpy as np
import pytest

SAMPLE_RATE = 16000


@pytest.fixture(autouse=True)
def _metrics_namespace():
    """Give the shared Metrics a namespace (the component sets POWERTOOLS_METRICS_NAMESPACE in a deployment)."""
    from common.observability import metrics

    if not getattr(metrics.provider, "namespace", None):
        metrics.provider.namespace = "EmotionDynamicsTests"
    yield


def syllable_train(rate_hz: float, seconds: float, level: float = 0.1, pitch: float = 120.0,
                   sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A voiced harmonic tone with ``rate_hz`` separated loudness bumps per second ("syllables")."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    tone = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 10))
    envelope = np.sin(np.pi * rate_hz * t) ** 2  # zero every 1/rate_hz seconds
    return (level * tone * envelope / np.abs(tone).max()).astype(np.float32)


@pytest.fixture
def train():
    """Factory for ``syllable_train``."""
    return syllable_train
