"""The pocketsphinx recognizer of the local Transcribe engine, and the functions its decoding process runs.

Kept apart from ``transcribe.py`` (and free of aiohttp and the Transcribe SDK) because every
stream's decoding process imports it when it starts.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

SAMPLE_RATE = 16000
FRAMES_PER_SECOND = 100  # pocketsphinx's feature frame rate
# Filler and silence tokens of the pocketsphinx dictionary (<s>, </s>, <sil>, [NOISE], ...).
_FILLER = re.compile(r"^(<.*>|\[.*\])$")
_ALTERNATE = re.compile(r"\(\d+\)$")


@dataclass(frozen=True)
class Word:
    """A recognised word with its times in the stream (seconds)."""

    text: str
    start: float
    end: float
    confidence: float | None = None


def spoken_word(token: str) -> str | None:
    """The word of a pocketsphinx segment (``good(2)`` -> ``good``), or None for fillers and silence."""
    if _FILLER.match(token):
        return None
    word = _ALTERNATE.sub("", token)
    return word or None


class Stabilizer:
    """Stable flags for one result from its sequence of hypotheses.

    A word is stable once it sat unchanged at its place over the last ``needed`` distinct
    hypotheses; from then on it is locked: later hypotheses keep the locked words and only
    contribute the words that start after the last locked one.
    """

    def __init__(self, needed: int) -> None:
        if needed < 1:
            raise ValueError("needed must be at least 1")
        self.needed = needed
        self.locked: list[Word] = []
        self._history: list[tuple[str, ...]] = []
        self._last: tuple[Word, ...] | None = None

    def _merge(self, hypothesis: Sequence[Word]) -> list[Word]:
        if not self.locked:
            return list(hypothesis)
        boundary = self.locked[-1].end
        tail = [w for w in hypothesis if w.start >= boundary - 1e-6]
        return self.locked + tail

    def update(self, hypothesis: Sequence[Word]) -> tuple[list[Word], int] | None:
        """Words and stable count for a new hypothesis, or None when it changes nothing (not distinct)."""
        words = self._merge(hypothesis)
        key = tuple(words)
        if key == self._last:
            return None
        self._last = key
        texts = tuple(w.text for w in words)
        # Distinct partials differ in their words; a change of times alone is not a new opinion.
        if not self._history or self._history[-1] != texts:
            self._history.append(texts)
            self._history = self._history[-self.needed:]
        stable = len(self.locked)
        if len(self._history) >= self.needed:
            while stable < len(words) and all(len(h) > stable and h[stable] == words[stable].text for h in self._history):
                stable += 1
        self.locked = words[:stable]
        return words, stable

    def final(self, hypothesis: Sequence[Word]) -> list[Word]:
        """Every word of the final hypothesis (the locked ones as they were)."""
        return self._merge(hypothesis)


class _Utterance:
    """What the decoder says between an endpointer's speech start and end."""

    def __init__(self, start: float, needed: int) -> None:
        self.result_id = str(uuid.uuid4())
        self.start = start
        self.stabilizer = Stabilizer(needed)


# A result to send: (result_id, words, stable count, partial, start, end). Plain data, so it
# crosses from the decoding process.
ResultSpec = tuple[str, list[Word], int, bool, float, float]


class Recognizer:
    """Endpointer + one-pass decoder + stabilizer, synchronous: audio in, results out."""

    def __init__(self, needed: int, endpoint_window: float, endpoint_ratio: float) -> None:
        from pocketsphinx import Decoder, Endpointer

        self._ep = Endpointer(window=endpoint_window, ratio=endpoint_ratio, sample_rate=SAMPLE_RATE)
        self._decoder = Decoder(samprate=SAMPLE_RATE, fwdflat=False, bestpath=False, loglevel="FATAL")
        self.needed = needed
        self._frame_bytes: int = self._ep.frame_bytes
        self._pending = b""
        self._samples = 0  # audio fed to the endpointer, for stream times
        self._utt: _Utterance | None = None
        self._out: list[ResultSpec] = []

    def feed(self, pcm: bytes) -> list[ResultSpec]:
        """Decode a chunk; the results it produced (at most one partial, and finals at endpoints)."""
        data = self._pending + pcm
        size = self._frame_bytes
        whole = len(data) - len(data) % size
        self._pending = data[whole:]
        changed = False
        for offset in range(0, whole, size):
            frame = data[offset:offset + size]
            self._samples += size // 2
            was_in_speech = self._ep.in_speech
            speech = self._ep.process(frame)
            if speech is None:
                continue
            if not was_in_speech:
                self._decoder.start_utt()
                self._utt = _Utterance(self._ep.speech_start, self.needed)
            self._decoder.process_raw(speech, False, False)
            changed = True
            if not self._ep.in_speech:
                self._close(self._ep.speech_end)
                changed = False
        if changed and self._utt is not None:
            self._partial()
        out, self._out = self._out, []
        return out

    def finish(self) -> list[ResultSpec]:
        """End of audio: the open result's final."""
        if self._utt is not None:
            speech = self._ep.end_stream(self._pending) if self._ep.in_speech else None
            self._pending = b""
            if speech:
                self._decoder.process_raw(speech, False, False)
            self._close(self._samples / SAMPLE_RATE)
        out, self._out = self._out, []
        return out

    def _hypothesis(self, utt: _Utterance) -> list[Word]:
        words: list[Word] = []
        for seg in self._decoder.seg() or ():
            text = spoken_word(seg.word)
            if text is None:
                continue
            # One-pass decoding has no lattice posteriors (``prob`` is always 1): the per-frame
            # acoustic score density is the confidence pocketsphinx can give.
            confidence = min(1.0, max(0.0, float(seg.ascore)))
            words.append(Word(text, utt.start + seg.start_frame / FRAMES_PER_SECOND,
                              utt.start + (seg.end_frame + 1) / FRAMES_PER_SECOND, confidence))
        return words

    def _partial(self) -> None:
        utt = self._utt
        assert utt is not None
        update = utt.stabilizer.update(self._hypothesis(utt))
        if update is None or not update[0]:
            return
        words, stable = update
        self._out.append((utt.result_id, words, stable, True, utt.start, words[-1].end))

    def _close(self, end: float) -> None:
        utt = self._utt
        assert utt is not None
        self._decoder.end_utt()
        words = utt.stabilizer.final(self._hypothesis(utt))
        self._utt = None
        if words:
            self._out.append((utt.result_id, words, len(words), False, utt.start, max(end, words[-1].end)))


# The decoding process's recognizer (one stream per process).
_recognizer: Recognizer | None = None


def _process_init(endpoint_window: float, endpoint_ratio: float) -> None:
    global _recognizer
    _recognizer = Recognizer(3, endpoint_window, endpoint_ratio)


def _process_ready() -> bool:
    return _recognizer is not None


def _process_configure(needed: int) -> None:
    assert _recognizer is not None
    _recognizer.needed = needed


def _process_feed(pcm: bytes) -> list[ResultSpec]:
    assert _recognizer is not None
    return _recognizer.feed(pcm)


def _process_finish() -> list[ResultSpec]:
    assert _recognizer is not None
    return _recognizer.finish()
