"""The speaker's microphone: test speech as 16 kHz mono PCM16LE, cut into 100 ms chunks.

Speech comes from espeak-ng (resampled with sox) when both are installed, else from a
synthetic signal (one harmonic tone burst per syllable-sized piece of each word), so the test
never skips. Every chunk carries a little deterministic noise, as a real microphone does:
that keeps silence realistic for the audio-quality checks and makes every chunk's bytes
unique, which lets the Transcribe fake tell which part of the speech a fed chunk is.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16000
CHUNK_SECONDS = 0.1
CHUNK_SAMPLES = int(SAMPLE_RATE * CHUNK_SECONDS)
NOISE_LSB = 3.0  # about -80 dBFS: a quiet room
_WORD = re.compile(r"[A-Za-z']+")


def espeak_available() -> bool:
    """True when espeak-ng and sox are both on the PATH."""
    return bool(shutil.which("espeak-ng") and shutil.which("sox"))


def words_of(text: str) -> list[str]:
    """The spoken words of a sentence (punctuation left out)."""
    return _WORD.findall(text)


def _espeak(text: str, words_per_minute: int) -> np.ndarray:
    """espeak-ng's voice at 16 kHz (int16)."""
    wav = subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(words_per_minute), "-a", "120", "--stdout", text],
                         check=True, capture_output=True, timeout=30).stdout
    raw = subprocess.run(["sox", "-t", "wav", "-", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
                          "-t", "raw", "-"], input=wav, check=True, capture_output=True, timeout=30).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


def _synthetic(text: str, rng: np.random.Generator) -> np.ndarray:
    """Voiced bursts (120 Hz with harmonics, syllable envelope) per word, short gaps between words."""
    pieces: list[np.ndarray] = []
    for word in words_of(text):
        syllables = max(1, len(re.findall(r"[aeiouy]+", word.lower())))
        for _ in range(syllables):
            n = int(SAMPLE_RATE * rng.uniform(0.16, 0.22))
            t = np.arange(n) / SAMPLE_RATE
            f0 = rng.uniform(110, 140)
            tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
            envelope = np.sin(np.pi * np.arange(n) / n) ** 2
            pieces.append((tone * envelope * 6000).astype(np.int16))
        pieces.append(np.zeros(int(SAMPLE_RATE * 0.06), dtype=np.int16))
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)


def _voiced_span(samples: np.ndarray) -> tuple[int, int]:
    """First and last sample of the voiced part (10 ms frames above -45 dBFS)."""
    frame = SAMPLE_RATE // 100
    count = len(samples) // frame
    if count == 0:
        return 0, len(samples)
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    rms = np.sqrt((frames ** 2).mean(axis=1)) / 32768.0
    loud = np.nonzero(rms > 10 ** (-45 / 20))[0]
    if loud.size == 0:
        return 0, len(samples)
    return int(loud[0] * frame), int(min(len(samples), (loud[-1] + 1) * frame))


@dataclass(frozen=True)
class Phrase:
    """One sentence of the script: its text, and where its words are in the speaker's audio."""

    index: int
    text: str
    start: float  # seconds of the track where the phrase's audio begins
    end: float  # seconds of the track where its audio ends
    word_times: tuple[tuple[str, float, float], ...]  # (word, start, end), track seconds

    @property
    def words(self) -> list[str]:
        """The spoken words."""
        return [w for w, _, _ in self.word_times]


@dataclass(frozen=True)
class Chunk:
    """One 100 ms chunk of the track."""

    index: int
    pcm: bytes
    start: float  # track seconds
    phrase: int | None  # the phrase this chunk carries speech of, if any


@dataclass
class SpeechTrack:
    """Everything the speaker will say, as one continuous signal, plus what is where in it."""

    samples: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    phrases: list[Phrase] = field(default_factory=list)
    source: str = "synthetic"

    @property
    def seconds(self) -> float:
        """Length of the track."""
        return len(self.samples) / SAMPLE_RATE

    def chunks(self, start: float, end: float) -> list[Chunk]:
        """The 100 ms chunks covering [start, end) of the track (chunk-aligned)."""
        first = int(round(start / CHUNK_SECONDS))
        last = int(round(end / CHUNK_SECONDS))
        return [self.chunk(i) for i in range(first, last)]

    def chunk(self, index: int) -> Chunk:
        """Chunk ``index`` of the track."""
        pcm = self.samples[index * CHUNK_SAMPLES:(index + 1) * CHUNK_SAMPLES]
        begin = index * CHUNK_SECONDS
        phrase = next((p.index for p in self.phrases if p.start < begin + CHUNK_SECONDS and p.end > begin), None)
        return Chunk(index, pcm.astype("<i2").tobytes(), round(begin, 3), phrase)

    def fingerprints(self) -> dict[str, int]:
        """sha1 of each chunk's bytes -> chunk index (the Transcribe fake's way to place fed audio)."""
        count = len(self.samples) // CHUNK_SAMPLES
        prints = {hashlib.sha1(self.chunk(i).pcm).hexdigest(): i for i in range(count)}
        assert len(prints) == count, "two chunks of the track have identical bytes"
        return prints


def build_track(script: list[tuple[str, float]], use_espeak: bool | None = None, seed: int = 7,
                words_per_minute: int = 165) -> SpeechTrack:
    """A track from ``(text, silence_after_seconds)`` pairs; every phrase starts on a chunk boundary.

    Word times are spread over each phrase's voiced span in proportion to word length (espeak-ng
    gives no word timings; a recognizer's timings are no more exact than that)."""
    rng = np.random.default_rng(seed)
    use_espeak = espeak_available() if use_espeak is None else use_espeak
    track = SpeechTrack(source="espeak-ng" if use_espeak else "synthetic")
    parts: list[np.ndarray] = [np.zeros(CHUNK_SAMPLES * 5, dtype=np.int16)]
    cursor = len(parts[0])
    for index, (text, silence_after) in enumerate(script):
        voice = _espeak(text, words_per_minute) if use_espeak else _synthetic(text, rng)
        # Pad to whole chunks so the next phrase starts on a chunk boundary.
        padded = np.zeros(-(-len(voice) // CHUNK_SAMPLES) * CHUNK_SAMPLES, dtype=np.int16)
        padded[: len(voice)] = voice
        lo, hi = _voiced_span(voice)
        words = words_of(text)
        weights = np.array([len(w) + 2 for w in words], dtype=float)
        edges = lo + np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum() * (hi - lo)
        word_times = tuple((w, round((cursor + edges[i]) / SAMPLE_RATE, 3), round((cursor + edges[i + 1] - 0.03 * SAMPLE_RATE) / SAMPLE_RATE, 3))
                           for i, w in enumerate(words))
        track.phrases.append(Phrase(index, text, round((cursor + lo) / SAMPLE_RATE, 3),
                                    round((cursor + hi) / SAMPLE_RATE, 3), word_times))
        parts.append(padded)
        gap = np.zeros(int(round(silence_after / CHUNK_SECONDS)) * CHUNK_SAMPLES, dtype=np.int16)
        parts.append(gap)
        cursor += len(padded) + len(gap)
    signal = np.concatenate(parts).astype(np.float64)
    signal += rng.normal(0.0, NOISE_LSB, size=signal.size)
    track.samples = np.clip(np.round(signal), -32768, 32767).astype(np.int16)
    return track
