"""Emitted segments to the translation pipeline: payload, dynamics, asynchronous invoke, in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from common.observability import logger
from emotion_dynamics.dynamics import DynamicsThresholds, analyze_dynamics

from audio_transcription.partial_results.model import Segment
from audio_transcription.segments import encode_payload, segment_payload, segment_sequence
from audio_transcription.stream_worker.timeline import StreamTimeline

_AUDIO_PAD = 0.05
# A phrase that continues a sentence is measured with the sentence so far, up to this much audio.
_SENTENCE_WINDOW = 10.0


class SegmentForwarder:
    """Builds each segment's payload (with the dynamics of its audio) and invokes the
    TranslationProcessor with InvocationType Event; invokes run one at a time in a thread,
    in emission order."""

    def __init__(self, *, session_id: str, source_language: str, generation: int, lambda_client: Any,
                 function_name: str, thresholds: DynamicsThresholds, clock: Callable[[], float], metrics: Any,
                 analyze: Callable[..., Any] = analyze_dynamics) -> None:
        self.session_id = session_id
        self.source_language = source_language
        self.generation = generation
        self.emitted = 0
        self.sent: list[int] = []
        self._lambda = lambda_client
        self._function = function_name
        self._thresholds = thresholds
        self._clock = clock
        self._metrics = metrics
        self._analyze = analyze
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # The sentence the last segment left open: (its timeline, start time, word timings so far).
        self._sentence: tuple[StreamTimeline, float, list[tuple[float, float]]] | None = None

    def start(self) -> None:
        """Start the invoking task (call inside the event loop)."""
        self._task = asyncio.get_running_loop().create_task(self._consume())

    def emit(self, segment: Segment, timeline: StreamTimeline) -> dict[str, Any]:
        """Queue one segment; returns its payload."""
        now = self._clock()
        sequence = segment_sequence(self.generation, self.emitted)
        self.emitted += 1
        payload = segment_payload(
            session_id=self.session_id, sequence=sequence, segment=segment, source_language=self.source_language,
            start_time=timeline.to_session_seconds(segment.start_time),
            end_time=timeline.to_session_seconds(segment.end_time),
            emitted_at=now, dynamics=self._dynamics(segment, timeline),
        )
        fed_at = timeline.fed_at(segment.end_time)
        if fed_at is not None:
            # Audio fed -> segment emitted: what partial-results processing costs the listener.
            self._metrics.add_metric(name="PartialResultProcessingLatency", unit="Milliseconds",
                                     value=round(max(0.0, now - fed_at) * 1000.0, 1))
        try:
            self._queue.put_nowait(encode_payload(payload))
        except ValueError:
            logger.error("segment payload too large; dropped", extra={"sessionId": self.session_id, "sequence": sequence})
            self._metrics.add_metric(name="ErrorCount", unit="Count", value=1)
        return payload

    def _dynamics(self, segment: Segment, timeline: StreamTimeline) -> dict[str, Any] | None:
        # A sentence cut into phrases of a few words is measured over the sentence so far: three
        # words alone give a jumpy pace and level, and the listener hears one sentence.
        start, word_timings = segment.start_time, segment.word_timings
        open_sentence = self._sentence
        if open_sentence is not None and open_sentence[0] is timeline and open_sentence[1] <= start:
            start = max(open_sentence[1], segment.end_time - _SENTENCE_WINDOW)
            word_timings = [t for t in open_sentence[2] if t[0] >= start] + word_timings
        self._sentence = (timeline, start, word_timings) if segment.continues else None
        audio = timeline.audio(start, segment.end_time, pad=_AUDIO_PAD)
        if audio.size == 0:
            return None
        origin = max(0.0, start - _AUDIO_PAD)
        timings = [(max(0.0, s - origin), max(0.0, e - origin)) for s, e in word_timings] or None
        started = time.perf_counter()
        try:
            dynamics = self._analyze(audio, timeline.sample_rate, self._thresholds, timings).to_dict()
        except Exception as error:  # noqa: BLE001 - a segment without dynamics is voiced plainly
            logger.warning("dynamics analysis failed", extra={"sessionId": self.session_id, "error": str(error)[:200]})
            self._metrics.add_metric(name="EmotionAnalysisFailures", unit="Count", value=1)
            return None
        # The emotion dynamics alarms watch these (service dimension of this function).
        self._metrics.add_metric(name="EmotionExtractionLatency", unit="Milliseconds",
                                 value=round((time.perf_counter() - started) * 1000.0, 3))
        return dynamics

    async def _consume(self) -> None:
        while True:
            data = await self._queue.get()
            if data is None:
                return
            started = self._clock()
            try:
                await asyncio.to_thread(self._lambda.invoke, FunctionName=self._function, InvocationType="Event",
                                        Payload=data)
                self.sent.append(len(data))
                self._metrics.add_metric(name="TranscriptionForwardingLatency", unit="Milliseconds",
                                         value=round(max(0.0, self._clock() - started) * 1000.0, 1))
            except Exception:
                logger.exception("segment could not be forwarded", extra={"sessionId": self.session_id})
                self._metrics.add_metric(name="ErrorCount", unit="Count", value=1)

    async def close(self) -> None:
        """Send what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.put(None)
        await self._task
        self._task = None
