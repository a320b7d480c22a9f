"""The shipped English recording and helpers to check what an engine heard."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[3] / "local" / "data"
RECORDING = DATA / "speech-en-us.flac"
TRANSCRIPT = DATA / "speech-en-us.txt"


def recording_pcm() -> bytes:
    """The recording as 16 kHz mono PCM16LE."""
    import soundfile

    data, rate = soundfile.read(RECORDING, dtype="int16")
    assert rate == 16000 and data.ndim == 1
    return np.asarray(data, dtype="<i2").tobytes()


def words(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return re.findall(r"[a-z']+", text.lower())


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp))
        previous = current
    return previous[-1] / max(1, len(reference))


def matched_words(reference: list[str], hypothesis: list[str]) -> int:
    """Reference words found in order in the hypothesis."""
    return sum(block.size for block in difflib.SequenceMatcher(a=reference, b=hypothesis).get_matching_blocks())
