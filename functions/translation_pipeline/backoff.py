"""Jittered exponential backoff shared by Translate and post_to_connection retries."""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff_delay(attempt: int, base: float, maximum: float, rng: Callable[[], float] = random.random) -> float:
    """Full-jitter delay before retry number ``attempt`` (0-based): uniform in [0, min(max, base * 2**attempt)].

    Full jitter spreads retries of many concurrent callers (64 broadcast threads, several
    Lambda containers) so they do not hit a throttled API again in lockstep.
    """
    ceiling = min(maximum, base * (2 ** attempt))
    return ceiling * rng()
