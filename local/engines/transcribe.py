"""Local Amazon Transcribe Streaming: pocketsphinx behind the stream worker's ``TranscribeStreamFactory`` seam.

``PocketsphinxStreamFactory`` decodes each stream with its own pocketsphinx ``Decoder`` (the
en-US acoustic model, dictionary and language model ship in the PyPI wheel), in a process of
its own (pocketsphinx holds the GIL while decoding; ``recognizer.py`` is what runs there), and gives
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
import collections
import concurrent.futures
import math
import multiprocessing
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path

from amazon_transcribe.exceptions import BadRequestException
from amazon_transcribe.model import Alternative, Item, Result, Transcript, TranscriptEvent

from local.engines.recognizer import (
    Recognizer,
    ResultSpec,
    Stabilizer,
    Word,
    _process_configure,
    _process_feed,
    _process_finish,
    _process_init,
    _process_ready,
    spoken_word,
)

__all__ = ["PocketsphinxStreamFactory", "ScriptedStreamFactory", "Recognizer", "ResultSpec", "Stabilizer", "Word",
           "spoken_word", "check_request", "check_chunk", "load_transcript", "transcript_event"]

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2
# Transcribe's own limit on one audio event.
MAX_CHUNK_BYTES = 32 * 1024
STABILITY_LEVELS = ("low", "medium", "high")
# Distinct partials a word must survive unchanged to be stable (2 of 60 words changed after
# 3 on read speech; low trades that for speed).
PARTIALS_FOR_STABLE = {"low": 2, "medium": 3, "high": 3}
DEFAULT_TRANSCRIPT = Path(__file__).resolve().parent.parent / "data" / "speech-en-us.txt"


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


def _decoding_process(endpoint_window: float, endpoint_ratio: float) -> concurrent.futures.ProcessPoolExecutor:
    """A process of its own for one stream's decoder.

    pocketsphinx holds the GIL while it decodes, so decoding on a thread would stall the event
    loop (and the local gateway with it); a process also puts a second stream on a second core.
    """
    context = multiprocessing.get_context("spawn")
    return concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_process_init,
                                                  initargs=(endpoint_window, endpoint_ratio))


class PocketsphinxStream:
    """One stream, decoded in its own process.

    ``send_audio`` returns once the chunk is queued for decoding (as Transcribe's returns once it is
    sent), so the caller's loop is never paced by the decoder's round trips; results come out of
    ``events`` in order. A backlog of more than ``MAX_BACKLOG`` chunks makes ``send_audio`` wait.
    """

    MAX_BACKLOG = 50  # 5 s of 100 ms chunks

    def __init__(self, process: concurrent.futures.ProcessPoolExecutor) -> None:
        self._process = process
        self._events: asyncio.Queue[TranscriptEvent | BaseException | None] = asyncio.Queue()
        self._pending: collections.deque[asyncio.Future[list[ResultSpec]]] = collections.deque()
        self._arrived = asyncio.Event()
        self._collector = asyncio.get_running_loop().create_task(self._collect())
        self._ended = False
        self._failed: BaseException | None = None

    async def send_audio(self, pcm: bytes) -> None:
        """Queue one chunk (at most 32 KB of PCM16LE) for decoding."""
        if self._failed is not None:
            raise self._failed
        if self._ended:
            raise BadRequestException("the audio stream has ended")
        check_chunk(pcm)
        self._submit(_process_feed, bytes(pcm))
        while len(self._pending) > self.MAX_BACKLOG and self._failed is None:
            await asyncio.wait([self._pending[0]])

    async def end(self) -> None:
        """Finish the open result (if any) and end the event stream once every chunk is decoded."""
        if self._ended:
            return
        self._ended = True
        if self._failed is None:
            self._submit(_process_finish)
        self._pending.append(None)  # type: ignore[arg-type] - the end mark
        self._arrived.set()
        try:
            await asyncio.shield(self._collector)
        finally:
            self._process.shutdown(wait=False, cancel_futures=True)

    async def events(self) -> AsyncIterator[TranscriptEvent]:
        """Events until ``end``; a decoding error is raised here."""
        while True:
            item = await self._events.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _submit(self, fn, *args) -> None:  # noqa: ANN001 - one of the _process_* functions
        # One worker process runs jobs in submission order: chunks are decoded in order.
        self._pending.append(asyncio.wrap_future(self._process.submit(fn, *args)))
        self._arrived.set()

    async def _collect(self) -> None:
        while True:
            while not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
            future = self._pending[0]
            if future is None:
                self._events.put_nowait(None)
                return
            try:
                results = await future
            except Exception as error:  # the reader sees the failure, as Transcribe's stream would end
                self._failed = error
                self._events.put_nowait(error)
                self._events.put_nowait(None)
                self._process.shutdown(wait=False, cancel_futures=True)
                return
            finally:
                self._pending.popleft()
            for spec in results:
                self._events.put_nowait(transcript_event(*spec))


class PocketsphinxStreamFactory:
    """Opens pocketsphinx streams (``TranscribeStreamFactory``), each decoded in a process of its own.

    Starting that process and loading its decoder takes 1-2 s, which would delay the first
    words of every stream, so with ``prewarm`` one is kept ready: a stream takes it and the
    next one starts in the background.
    """

    def __init__(self, endpoint_window: float = 0.3, endpoint_ratio: float = 0.9, prewarm: bool = True) -> None:
        self.endpoint_window = endpoint_window
        self.endpoint_ratio = endpoint_ratio
        self.prewarm = prewarm
        self._spare: tuple[concurrent.futures.ProcessPoolExecutor, concurrent.futures.Future[bool]] | None = None
        self._closed = False

    def _launch(self) -> tuple[concurrent.futures.ProcessPoolExecutor, concurrent.futures.Future[bool]]:
        process = _decoding_process(self.endpoint_window, self.endpoint_ratio)
        return process, process.submit(_process_ready)

    async def start(self, language: str, sample_rate: int, stability: str) -> PocketsphinxStream:
        """A new stream."""
        check_request(language, sample_rate, stability)
        if self._closed:
            raise BadRequestException("the local Transcribe engine is shut down")
        spare, self._spare = self._spare, None
        process, ready = spare or self._launch()
        if self.prewarm:
            self._spare = self._launch()
        try:
            await asyncio.wrap_future(ready)
            await asyncio.wrap_future(process.submit(_process_configure, PARTIALS_FOR_STABLE[stability]))
        except Exception:
            process.shutdown(wait=False, cancel_futures=True)
            raise
        return PocketsphinxStream(process)

    def warm(self) -> None:
        """Start a decoding process now (the local run calls this at start-up)."""
        if self._spare is None and not self._closed:
            self._spare = self._launch()

    def close(self) -> None:
        """Stop the spare decoding process (streams stop theirs at ``end``)."""
        self._closed = True
        spare, self._spare = self._spare, None
        if spare is not None:
            spare[0].shutdown(wait=True, cancel_futures=True)


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
