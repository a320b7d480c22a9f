"""Local Amazon Transcribe Streaming: pocketsphinx behind the stream worker's ``TranscribeStreamFactory`` seam.

``PocketsphinxStreamFactory`` decodes each stream with its own pocketsphinx ``Decoder`` (the
en-US acoustic model, dictionary and language model ship in the PyPI wheel) and gives
``amazon_transcribe.model.TranscriptEvent`` objects shaped like Transcribe's output with
partial-results stabilization:

* **One pass.** ``fwdflat=False, bestpath=False``: the second pass and best-path rescoring
  rewrite words after the fact, which is exactly what stabilization must not do.
* **Partials.** After every chunk of audio (100 ms from the worker) whose hypothesis changed,
  a partial result with the words so far and their start and end times.
* **Stable words.** A word is stable once it has been unchanged (same text, same place) over
  the last ``N`` distinct partials (3 for ``medium``/``high``, 2 for ``low``). Transcribe
  never changes a stable item, so neither does this: later hypotheses keep the stable words
  and only replace what follows them.
* **Results end at endpoints.** ``pocketsphinx.Endpointer`` (voice activity over a 0.3 s
  window) ends an utterance: the final result has every word stable and a full stop
  (the model gives no punctuation), with confidences.
* **English only.** Any other language is refused as Transcribe refuses an unsupported
  language: ``BadRequestException``.

``ScriptedStreamFactory`` replays recorded transcripts at the pace of the audio it is sent
(no recognition at all), for load tests and fast CI runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from amazon_transcribe.exceptions import BadRequestException
from amazon_transcribe.model import Alternative, Item, Result, Transcript, TranscriptEvent

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2
# Transcribe's own limit on one audio event.
MAX_CHUNK_BYTES = 32 * 1024
STABILITY_LEVELS = ("low", "medium", "high")
# Distinct partials a word must survive unchanged to be stable (2 of 60 words changed after
# 3 on read speech; low trades that for speed).
PARTIALS_FOR_STABLE = {"low": 2, "medium": 3, "high": 3}
FRAMES_PER_SECOND = 100  # pocketsphinx's feature frame rate
DEFAULT_TRANSCRIPT = Path(__file__).resolve().parent.parent / "data" / "speech-en-us.txt"
# Filler and silence tokens of the pocketsphinx dictionary (<s>, </s>, <sil>, [NOISE], ...).
_FILLER = re.compile(r"^(<.*>|\[.*\])$")
_ALTERNATE = re.compile(r"\(\d+\)$")


def is_english(language: str) -> bool:
    """True for an English Transcribe code (``en-US``, ``en-GB``...): the only model shipped."""
    return isinstance(language, str) and language.split("-", 1)[0].lower() == "en"


def check_request(language: str, sample_rate: int, stability: str) -> None:
    """Raise ``BadRequestException`` (as Transcribe does) for what the local engine cannot do."""
    if not is_english(language):
        raise BadRequestException(
            f"Your request has an unsupported language code: {language!r}. The local Transcribe "
            "stand-in (pocketsphinx) recognises English only (en-US, en-GB, ...).")
    if sample_rate != SAMPLE_RATE:
        raise BadRequestException(f"The local Transcribe stand-in takes {SAMPLE_RATE} Hz PCM only, got {sample_rate}.")
    if stability not in STABILITY_LEVELS:
        raise BadRequestException(f"partial_results_stability must be one of {', '.join(STABILITY_LEVELS)}, got {stability!r}.")


def check_chunk(pcm: bytes) -> None:
    """Refuse an audio event Transcribe would refuse (not 16-bit samples, or over 32 KB)."""
    if not isinstance(pcm, (bytes, bytearray, memoryview)):
        raise BadRequestException("audio chunk must be bytes")
    if len(pcm) % 2:
        raise BadRequestException("audio chunk has an odd number of bytes: PCM16 samples are 2 bytes")
    if len(pcm) > MAX_CHUNK_BYTES:
        raise BadRequestException(f"audio chunk of {len(pcm)} bytes is over {MAX_CHUNK_BYTES}")


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


def display(word: str, first: bool) -> str:
    """Cased as Transcribe writes it: the pronoun ``I`` and a capital at a result's start."""
    if word == "i" or word.startswith("i'"):
        word = "I" + word[1:]
    return word[:1].upper() + word[1:] if first else word


def transcript_event(result_id: str, words: Sequence[Word], stable_count: int, partial: bool,
                     start: float, end: float) -> TranscriptEvent:
    """One result as Transcribe sends it: pronunciation items, and a full stop on a final one."""
    items = [Item(start_time=round(w.start, 3), end_time=round(w.end, 3), item_type="pronunciation",
                  content=display(w.text, i == 0), vocabulary_filter_match=False,
                  confidence=None if w.confidence is None else round(w.confidence, 4),
                  stable=i < stable_count)
             for i, w in enumerate(words)]
    if not partial and items:
        at = items[-1].end_time
        items.append(Item(start_time=at, end_time=at, item_type="punctuation", content=".",
                          vocabulary_filter_match=False, confidence=None, stable=True))
    text = " ".join(item.content for item in items if item.item_type == "pronunciation")
    if not partial and text:
        text += "."
    result = Result(result_id=result_id, start_time=round(start, 3), end_time=round(end, 3), is_partial=partial,
                    alternatives=[Alternative(transcript=text, items=items, entities=None)],
                    channel_id=None, language_code=None)
    return TranscriptEvent(Transcript([result]))


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


class PocketsphinxStream:
    """One stream: endpointer + decoder, decoding on its own thread so the event loop stays free."""

    def __init__(self, decoder: object, endpointer: object, needed: int, executor: concurrent.futures.Executor) -> None:
        self._decoder = decoder
        self._ep = endpointer
        self._needed = needed
        self._executor = executor
        self._frame_bytes: int = endpointer.frame_bytes  # type: ignore[attr-defined]
        self._pending = b""
        self._samples = 0  # audio fed to the endpointer, for stream times
        self._utt: _Utterance | None = None
        self._events: asyncio.Queue[TranscriptEvent | BaseException | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._ended = False

    async def send_audio(self, pcm: bytes) -> None:
        """Decode one chunk (at most 32 KB of PCM16LE)."""
        if self._ended:
            raise BadRequestException("the audio stream has ended")
        check_chunk(pcm)
        await self._run(self._feed, bytes(pcm))

    async def end(self) -> None:
        """Finish the open result (if any) and end the event stream."""
        if self._ended:
            return
        self._ended = True
        try:
            await self._run(self._finish)
        finally:
            self._events.put_nowait(None)
            self._executor.shutdown(wait=False)

    async def events(self) -> AsyncIterator[TranscriptEvent]:
        """Events until ``end``; a decoding error is raised here."""
        while True:
            item = await self._events.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def _run(self, fn, *args) -> None:  # noqa: ANN001 - a bound method of this class
        # The one-thread executor runs jobs in submission order: the decoder is not thread safe.
        try:
            await self._loop.run_in_executor(self._executor, fn, *args)
        except Exception as error:  # the reader sees the failure, as Transcribe's stream would end
            self._ended = True
            self._events.put_nowait(error)
            self._executor.shutdown(wait=False)
            raise

    def _emit(self, event: TranscriptEvent) -> None:
        self._loop.call_soon_threadsafe(self._events.put_nowait, event)

    def _feed(self, pcm: bytes) -> None:
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
                self._begin(self._ep.speech_start)
            self._decoder.process_raw(speech, False, False)
            changed = True
            if not self._ep.in_speech:
                self._close(self._ep.speech_end)
                changed = False
        if changed and self._utt is not None:
            self._partial()

    def _finish(self) -> None:
        if self._utt is None:
            return
        speech = self._ep.end_stream(self._pending) if self._ep.in_speech else None
        self._pending = b""
        if speech:
            self._decoder.process_raw(speech, False, False)
        self._close(self._samples / SAMPLE_RATE)

    def _begin(self, start: float) -> None:
        self._decoder.start_utt()
        self._utt = _Utterance(start, self._needed)

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
        self._emit(transcript_event(utt.result_id, words, stable, True, utt.start, words[-1].end))

    def _close(self, end: float) -> None:
        utt = self._utt
        assert utt is not None
        self._decoder.end_utt()
        words = utt.stabilizer.final(self._hypothesis(utt))
        self._utt = None
        if words:
            self._emit(transcript_event(utt.result_id, words, len(words), False, utt.start, max(end, words[-1].end)))


class PocketsphinxStreamFactory:
    """Opens pocketsphinx streams (``TranscribeStreamFactory``).

    Loading a decoder takes 0.5-1.5 s, which would delay the first words of every stream, so
    with ``prewarm`` one decoder is kept loaded ahead: a stream takes it and the next one loads
    in the background.
    """

    def __init__(self, endpoint_window: float = 0.3, endpoint_ratio: float = 0.9, prewarm: bool = True) -> None:
        self.endpoint_window = endpoint_window
        self.endpoint_ratio = endpoint_ratio
        self.prewarm = prewarm
        self._loader = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="pocketsphinx-load")
        self._spare: concurrent.futures.Future[tuple[object, object]] | None = None

    async def start(self, language: str, sample_rate: int, stability: str) -> PocketsphinxStream:
        """A new stream (its model loaded off the event loop)."""
        check_request(language, sample_rate, stability)
        spare, self._spare = self._spare, None
        if spare is None:
            spare = self._loader.submit(self._load)
        try:
            decoder, endpointer = await asyncio.wrap_future(spare)
        finally:
            if self.prewarm:
                self._spare = self._loader.submit(self._load)
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="pocketsphinx")
        return PocketsphinxStream(decoder, endpointer, PARTIALS_FOR_STABLE[stability], executor)

    def warm(self) -> None:
        """Start loading a decoder now (the local run calls this at start-up)."""
        if self._spare is None:
            self._spare = self._loader.submit(self._load)

    def close(self) -> None:
        """Drop the spare decoder."""
        self._spare = None
        self._loader.shutdown(wait=False, cancel_futures=True)

    def _load(self) -> tuple[object, object]:
        from pocketsphinx import Decoder, Endpointer

        endpointer = Endpointer(window=self.endpoint_window, ratio=self.endpoint_ratio, sample_rate=SAMPLE_RATE)
        decoder = Decoder(samprate=SAMPLE_RATE, fwdflat=False, bestpath=False, loglevel="FATAL")
        return decoder, endpointer


# --- scripted -------------------------------------------------------------------------------


def load_transcript(path: Path | str = DEFAULT_TRANSCRIPT) -> list[str]:
    """Sentences of a recorded transcript, one a line (blank lines skipped)."""
    lines = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line]


class ScriptedStream:
    """Replays sentences as partials and finals as audio time passes (no recognition)."""

    def __init__(self, sentences: Sequence[str], word_seconds: float, pause_seconds: float, lag: int) -> None:
        self._plan = list(_schedule(sentences, word_seconds, pause_seconds))
        self._cycle = self._plan[-1][1][-1].end + pause_seconds if self._plan else 0.0
        self._lag = lag
        self._heard = 0.0  # seconds of audio received
        self._index = 0    # next scheduled sentence
        self._round = 0
        self._shown = 0    # words of the current sentence already sent in a partial
        self._events: asyncio.Queue[TranscriptEvent | None] = asyncio.Queue()
        self._ended = False

    async def send_audio(self, pcm: bytes) -> None:
        """Advance the script by the chunk's duration."""
        if self._ended:
            raise BadRequestException("the audio stream has ended")
        check_chunk(pcm)
        self._heard += len(pcm) / BYTES_PER_SECOND
        self._advance(final_all=False)

    async def end(self) -> None:
        """Finalise the sentence in progress and end the stream."""
        if self._ended:
            return
        self._ended = True
        self._advance(final_all=True)
        self._events.put_nowait(None)

    async def events(self) -> AsyncIterator[TranscriptEvent]:
        """The replayed events until ``end``."""
        while True:
            item = await self._events.get()
            if item is None:
                return
            yield item

    def _advance(self, final_all: bool) -> None:
        while self._plan:
            offset = self._round * self._cycle
            result_id, words = self._plan[self._index]
            rid = f"{result_id}-{self._round}"
            timed = [Word(w.text, w.start + offset, w.end + offset, w.confidence) for w in words]
            said = sum(1 for w in timed if w.end <= self._heard)
            if said < len(timed) and not final_all:
                if said > self._shown:
                    self._shown = said
                    shown = [Word(w.text, w.start, w.end, None) for w in timed[:said]]
                    self._events.put_nowait(transcript_event(rid, shown, max(0, said - self._lag), True,
                                                             shown[0].start, shown[-1].end))
                return
            done = timed if said == len(timed) else timed[:max(said, self._shown)]
            if done:
                self._events.put_nowait(transcript_event(rid, done, len(done), False, done[0].start, done[-1].end))
            self._shown = 0
            self._index += 1
            if self._index == len(self._plan):
                self._index, self._round = 0, self._round + 1
            if final_all:
                return


def _schedule(sentences: Iterable[str], word_seconds: float, pause_seconds: float) -> Iterable[tuple[str, list[Word]]]:
    t = pause_seconds
    for number, sentence in enumerate(sentences):
        words = []
        for token in re.findall(r"[\w'-]+", sentence):
            words.append(Word(token.lower() if token != "I" else token, t, t + word_seconds, 0.99))
            t += word_seconds
        if words:
            yield f"scripted-{number}", words
            t += pause_seconds


class ScriptedStreamFactory:
    """Recorded transcripts replayed at audio pace: each word takes ``word_seconds`` of audio
    sent, each sentence ends with a final result and a pause; the script repeats."""

    def __init__(self, sentences: Sequence[str] | None = None, word_seconds: float = 0.3,
                 pause_seconds: float = 0.6, lag: int = 2) -> None:
        if not (word_seconds > 0 and pause_seconds >= 0 and lag >= 0) or math.isinf(word_seconds):
            raise ValueError("word_seconds must be > 0, pause_seconds and lag >= 0")
        self.sentences = list(sentences) if sentences is not None else load_transcript()
        if not any(re.search(r"\w", s) for s in self.sentences):
            raise ValueError("the script has no words")
        self.word_seconds, self.pause_seconds, self.lag = word_seconds, pause_seconds, lag

    async def start(self, language: str, sample_rate: int, stability: str) -> ScriptedStream:
        """A stream replaying the script from its start."""
        check_request(language, sample_rate, stability)
        return ScriptedStream(self.sentences, self.word_seconds, self.pause_seconds, self.lag)
