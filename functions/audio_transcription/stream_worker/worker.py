"""The stream worker loop: one Transcribe stream per live session, fed from the chunk buffer.

One invocation:

1. activates its lease (given by whoever invoked it) and reads the session;
2. reads the session's chunks in sequence order (``sequence > lastFedSequence``), paces them
   in real time (at most ``pacing_lead_seconds`` ahead), feeds them to the stream and deletes
   them; a reader task runs every TranscriptEvent through ``PartialResultProcessor`` and each
   segment goes to the translation pipeline;
3. measures audio quality on what it feeds and tells the speaker (at most once per issue a
   minute) when it is poor;
4. closes the Transcribe stream after ``stream_idle_seconds`` without chunks (Transcribe would
   fail it at 15 s), opening a new one when audio resumes;
5. before Lambda's time limit hands over: in the last ``handover_window_seconds`` at the first
   pause (no open result, quiet audio), at ``handover_deadline_seconds`` regardless. It stops
   reading, passes the lease and its position to a successor it invokes at once (so the
   successor's cold start overlaps), then ends its stream and drains it: Transcribe finalizes
   everything fed, so audio fed before the handover is transcribed here and audio after it
   there - none lost, none repeated;
6. stops when the session has ended and its chunks are fed, or after ``silence_timeout_seconds``
   without chunks, releasing the lease.

A worker that dies stops renewing: its lease expires, the next chunk starts a new worker,
which reads from the last recorded position. Chunks fed but not yet deleted are fed again
(at most one read batch); the words of results still open in the dead stream are lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from common.envelope import error_message, message
from common.observability import logger, metrics
from emotion_dynamics.dynamics import analyze_dynamics

from audio_transcription.chunks import ChunkStore, StoredChunk
from audio_transcription.feature_flag import FeatureFlag
from audio_transcription.partial_results.model import Segment
from audio_transcription.partial_results.processor import PartialResultProcessor
from audio_transcription.quality import ISSUE_CLIPPING, ISSUE_FORMAT, ISSUE_LOW_SNR, ISSUE_SILENCE, QualityMonitor, pcm16
from audio_transcription.replies import Replier
from audio_transcription.settings import StreamWorkerSettings
from audio_transcription.stream_worker.forwarder import SegmentForwarder
from audio_transcription.stream_worker.lease import LeaseStore, SessionState
from audio_transcription.stream_worker.starter import REASON_HANDOVER, REASON_RESTART, invoke_worker, new_lease_id, start_worker
from audio_transcription.stream_worker.timeline import StreamTimeline
from audio_transcription.stream_worker.transcribe_stream import TranscribeStream, TranscribeStreamFactory

SAMPLE_RATE = 16000
READ_BATCH = 10
RENEW_INTERVAL = 5.0
# Polling the buffer. After a read that fed chunks (and did not fill a batch, which means a
# backlog: read on at once), the next read waits for the next chunk to be due: a real-time
# client sends a chunk once its audio exists, so the next one lands about the last one's
# duration after it was received (plus ARRIVAL_MARGIN for the sendAudio round trip), and never
# waits longer than one chunk duration + margin from now, so a skewed clock cannot add latency.
# A read that feeds nothing (no chunk yet, or a gap) backs off POLL_MIN -> x2 -> POLL_MAX.
ARRIVAL_MARGIN = 0.02
POLL_FLOOR = 0.01
POLL_MIN, POLL_MAX = 0.05, 0.2
# A chunk whose predecessor (sequence - 1) is missing - a concurrent sendAudio still storing it,
# or admitted late inside the reorder window - waits this long, measured from when it was
# received. The expected sequence is the worker's position + 1, carried across streams and
# workers (``lastFedSequence``), so the wait also applies to the first chunk of a session
# (expected: 1, the protocol's first sequence; 0 is taken as a start too) and the first chunk
# after a stream closed for idleness.
GAP_WAIT = 0.75
FIRST_SEQUENCES = (0, 1)
DRAIN_TIMEOUT = 10.0
METRICS_FLUSH_INTERVAL = 60.0
# Below this level the last 100 ms fed count as a pause (with no open result: a handover point).
PAUSE_DBFS = -45.0
# Workers that died in a row at the same position: the next chunk is skipped (poison).
MAX_ATTEMPTS = 3
FAILURE_BACKOFF = 60.0
# Streams failing this often within FAILURE_WINDOW seconds: give up and back off.
MAX_STREAM_FAILURES = 3
FAILURE_WINDOW = 60.0
SPACELESS_LANGUAGES = ("ja", "zh", "th")

OUTCOME_NOT_LEASED = "not_leased"
OUTCOME_HANDOVER = "handover"
OUTCOME_ENDED = "session_ended"
OUTCOME_SILENCE = "silence"
OUTCOME_LEASE_LOST = "lease_lost"
OUTCOME_FAILED = "failed"

_ISSUE_TEXT = {
    ISSUE_LOW_SNR: "There is a lot of background noise; transcription may be inaccurate.",
    ISSUE_CLIPPING: "Your audio is too loud and is clipping; lower the microphone gain.",
    ISSUE_SILENCE: "No sound is reaching the server; check that your microphone is on.",
    ISSUE_FORMAT: "The audio does not look like 16 kHz mono speech; send 16-bit PCM at 16,000 Hz, one channel.",
}
_STAT_METRICS = (("partials_dropped", "PartialResultsDropped"), ("orphans_flushed", "OrphanedResultsFlushed"),
                 ("duplicates", "DuplicatesDetected"), ("fallbacks", "TranscribeFallbackTriggered"),
                 ("heard_words", "HeardWordsEmitted"), ("corrections", "EmittedWordsRevised"))


@dataclass
class WorkerDeps:
    """What the worker talks to; built once per container, replaced in tests."""

    leases: LeaseStore
    chunks: ChunkStore
    lambda_client: Any
    replier: Replier
    transcribe: TranscribeStreamFactory
    flag: FeatureFlag
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    metrics: Any = metrics
    analyze: Callable[..., Any] = analyze_dynamics


@dataclass
class WorkerResult:
    """How an invocation ended (returned by the handler, for logs and tests)."""

    outcome: str
    fed_chunks: int = 0
    segments: int = 0
    position: int = -1
    successor_lease: str | None = None
    streams: int = 0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Stream:
    stream: TranscribeStream
    timeline: StreamTimeline
    processor: PartialResultProcessor
    reader: asyncio.Task[None]
    opened_at: float
    failed: BaseException | None = None
    reported: dict[str, int] = field(default_factory=dict)


class StreamWorker:
    """One invocation's work for one session (see the module docstring)."""

    def __init__(self, settings: StreamWorkerSettings, deps: WorkerDeps, session_id: str, lease_id: str,
                 remaining_seconds: Callable[[], float]) -> None:
        self.s = settings
        self.d = deps
        self.session_id = session_id
        self.lease_id = lease_id
        self.remaining = remaining_seconds
        self.position = -1
        self.state: SessionState | None = None
        self.result = WorkerResult(OUTCOME_NOT_LEASED)
        self._stream: _Stream | None = None
        self._forwarder: SegmentForwarder | None = None
        self._quality = QualityMonitor(settings.poor_snr_db, settings.poor_clipping_ratio)
        self._fed_since_delete: list[int] = []
        self._persisted_position = -1
        self._last_chunk_at = 0.0
        self._next_renew = 0.0
        self._next_metrics_flush = 0.0
        self._ending = False
        self._partials_enabled = True
        self._poll = POLL_MIN
        self._last_fed: StoredChunk | None = None
        self._stream_failures: list[float] = []

    # -- entry point ------------------------------------------------------------------

    async def run(self) -> WorkerResult:
        """Run until handover, end of session, silence or failure; never raises."""
        d, s = self.d, self.s
        now = d.clock()
        state = await asyncio.to_thread(d.leases.activate, self.session_id, self.lease_id, now, s.lease_seconds)
        if state is None:
            logger.info("lease not ours (any more); exiting", extra={"sessionId": self.session_id})
            return self.result
        self.state = state
        self.position = self._persisted_position = state.last_fed_sequence
        self._last_chunk_at = now
        self._ending = state.ended(now)
        self._partials_enabled = await asyncio.to_thread(d.flag.partial_results_enabled)
        self._next_renew = now + RENEW_INTERVAL
        self._next_metrics_flush = now + METRICS_FLUSH_INTERVAL
        self._forwarder = SegmentForwarder(
            session_id=self.session_id, source_language=state.source_language, generation=state.generation,
            lambda_client=d.lambda_client, function_name=s.translation_function, thresholds=s.dynamics,
            clock=d.clock, metrics=d.metrics, analyze=d.analyze)
        self._forwarder.start()
        logger.info("stream worker active", extra={"sessionId": self.session_id, "generation": state.generation,
                                                    "position": self.position})
        try:
            if state.attempts > MAX_ATTEMPTS:
                await self._skip_poison_chunk()
            self.result.outcome = await self._loop()
        except _StartFailed:
            # Hold the lease for a while: chunks keep arriving and must not start a worker each.
            self.result.outcome = OUTCOME_FAILED
            self.result.details["error"] = "TranscribeUnavailable"
            await self._close_stream()
            await self._delete_fed()
            await self._release(hold_until=d.clock() + FAILURE_BACKOFF)
        except Exception as error:
            logger.exception("stream worker failed", extra={"sessionId": self.session_id})
            d.metrics.add_metric(name="ErrorCount", unit="Count", value=1)
            self.result.outcome = OUTCOME_FAILED
            self.result.details["error"] = type(error).__name__
            await self._close_stream()
            await self._release(hold_until=d.clock() + 10.0)
        finally:
            await self._forwarder.close()
            self.result.position = self.position
            self.result.segments = self._forwarder.emitted
            self._flush_metrics()
        return self.result

    # -- main loop --------------------------------------------------------------------

    async def _loop(self) -> str:
        d, s = self.d, self.s
        while True:
            now = d.clock()
            outcome = await self._maintain(now)
            if outcome:
                return outcome
            if self._handover_due():
                return await self._hand_over()
            if self._stream is not None and self._stream.failed is not None:
                logger.warning("transcribe stream failed; reopening on the next chunk",
                               extra={"sessionId": self.session_id, "error": repr(self._stream.failed)[:200]})
                d.metrics.add_metric(name="ErrorCount", unit="Count", value=1)
                await self._close_stream()
                self._stream_failures = [t for t in self._stream_failures if now - t < FAILURE_WINDOW] + [now]
                if len(self._stream_failures) >= MAX_STREAM_FAILURES:
                    # Transcribe keeps failing: stop reopening (each stream bills 15 s) and back off.
                    self._notify(error_message("TRANSCRIPTION_UNAVAILABLE",
                                               "speech cannot be transcribed right now; audio is kept for a retry",
                                               sessionId=self.session_id))
                    raise _StartFailed()
            idle = now - self._last_chunk_at
            if self._stream is not None and idle >= s.stream_idle_seconds:
                await self._close_stream()
            chunks = await asyncio.to_thread(d.chunks.read_after, self.session_id, self.position, READ_BATCH)
            if not chunks:
                if self._ending:
                    return await self._stop(OUTCOME_ENDED)
                if idle >= s.silence_timeout_seconds:
                    return await self._stop(OUTCOME_SILENCE)
            fed = await self._feed(chunks) if chunks else 0
            if fed == 0:
                # Nothing new, or nothing feedable (a gap, a broken stream, a handover due): always
                # wait before reading again - time must pass for any of these to change.
                await d.sleep(self._poll)
                self._poll = min(POLL_MAX, self._poll * 2)
                continue
            self._poll = POLL_MIN
            if fed < READ_BATCH:
                await d.sleep(self._next_chunk_wait(d.clock()))

    def _next_chunk_wait(self, now: float) -> float:
        """How long until the chunk after the last one fed is due (see ``ARRIVAL_MARGIN``)."""
        last = self._last_fed
        if last is None:
            return POLL_MIN
        period = last.seconds + ARRIVAL_MARGIN
        return min(max(last.received_at + period - now, POLL_FLOOR), period)

    async def _maintain(self, now: float) -> str | None:
        """Lease renewal, feature flag, time-based emission, metrics."""
        d, s = self.d, self.s
        if now >= self._next_renew:
            position = self.position if self.position != self._persisted_position else None
            state = await asyncio.to_thread(d.leases.renew, self.session_id, self.lease_id, now, s.lease_seconds, position)
            if state is None:
                logger.warning("stream worker lost its lease", extra={"sessionId": self.session_id})
                return await self._stop(OUTCOME_LEASE_LOST, release=False)
            self.state = state
            if position is not None:
                self._persisted_position = position
            self._ending = state.ended(now)
            self._next_renew = now + RENEW_INTERVAL
            # The flag is cached for <= 60 s, so reading it here keeps a change under ~65 s.
            self._partials_enabled = await asyncio.to_thread(d.flag.partial_results_enabled)
        if self._stream is not None:
            self._stream.processor.partial_results_enabled = self._partials_enabled
            self._forward(self._stream.processor.tick(now))
            self._report_stats()
        if now >= self._next_metrics_flush:
            self._flush_metrics()
            self._next_metrics_flush = now + METRICS_FLUSH_INTERVAL
        return None

    def _at_pause(self) -> bool:
        st = self._stream
        if st is None:
            return True
        return not st.processor.has_open_results and st.timeline.recent_rms_dbfs(0.1) < PAUSE_DBFS

    # -- feeding ----------------------------------------------------------------------

    async def _feed(self, chunks: list[StoredChunk]) -> int:
        """Feed ``chunks`` in order; returns how many were fed (the rest stay in the buffer)."""
        d = self.d
        fed = 0
        for chunk in chunks:
            if self._handover_due():
                break  # the rest of the batch stays in the buffer for the successor
            if self._stream is not None and self._stream.failed is not None:
                break  # the loop replaces the broken stream; these chunks go to the new one
            st = self._stream
            contiguous = chunk.sequence == self.position + 1 or (self.position < 0 and chunk.sequence in FIRST_SEQUENCES)
            if not contiguous and d.clock() - chunk.received_at < GAP_WAIT:
                # An earlier chunk may still be on its way: the loop waits, then reads again; after
                # GAP_WAIT the chunk is fed anyway (a sequence the client skipped costs this once).
                break
            offset = chunk.sample_offset
            if st is not None and contiguous and st.timeline.next_session_sample is not None:
                # A chunk admitted late (reorder window) got its sampleOffset after its successor's;
                # consecutive chunks are consecutive audio, so keep the timeline continuous.
                offset = st.timeline.next_session_sample
            if st is None:
                st = await self._open_stream()
            await self._pace(st)
            samples = pcm16(chunk.pcm)
            await st.stream.send_audio(chunk.pcm)
            now = d.clock()
            st.timeline.add(samples, offset, now)
            self.position = chunk.sequence
            self._fed_since_delete.append(chunk.sequence)
            self.result.fed_chunks += 1
            self._last_chunk_at = now
            self._last_fed = chunk
            fed += 1
            self._check_quality(samples, now)
            await asyncio.sleep(0)  # let the reader take the events this chunk produced
        await self._delete_fed()
        return fed

    def _handover_due(self) -> bool:
        remaining = self.remaining()
        return remaining <= self.s.handover_deadline_seconds or (
            remaining <= self.s.handover_window_seconds and self._at_pause())

    async def _pace(self, st: _Stream) -> None:
        """Real time: never more than ``pacing_lead_seconds`` of audio ahead of the wall clock."""
        ahead = st.timeline.fed_seconds - (self.d.clock() - st.opened_at) - self.s.pacing_lead_seconds
        if ahead > 0:
            await self.d.sleep(ahead)

    async def _delete_fed(self) -> None:
        if not self._fed_since_delete:
            return
        fed, self._fed_since_delete = self._fed_since_delete, []
        try:
            await asyncio.to_thread(self.d.chunks.delete, self.session_id, fed)
        except Exception:  # noqa: BLE001 - TTL removes them; the position already skips them
            logger.warning("could not delete fed chunks", extra={"sessionId": self.session_id, "count": len(fed)})

    def _check_quality(self, samples: Any, now: float) -> None:
        report = self._quality.add(samples, now)
        if report is None:
            return
        m = self.d.metrics
        if report.snr_db is not None:
            m.add_metric(name="AudioQualitySNR", unit="None", value=report.snr_db)
        m.add_metric(name="AudioQualityClipping", unit="None", value=report.clipping_ratio)
        for issue in report.issues:
            details: dict[str, Any] = {"sessionId": self.session_id, "issue": issue, "message": _ISSUE_TEXT[issue]}
            if issue == ISSUE_LOW_SNR:
                details["snrDb"] = report.snr_db
            elif issue == ISSUE_CLIPPING:
                details["clippingRatio"] = report.clipping_ratio
            elif issue == ISSUE_FORMAT:
                details["suspected"] = report.format_suspicion
                m.add_metric(name="AudioFormatSuspected", unit="Count", value=1)
            self._notify(message("audioQuality", **details))

    # -- streams ----------------------------------------------------------------------

    async def _open_stream(self) -> _Stream:
        d, s = self.d, self.s
        assert self.state is not None
        language = self.state.source_language
        started = d.clock()
        try:
            stream = await d.transcribe.start(language, SAMPLE_RATE, s.stability_level)
        except Exception as error:
            logger.exception("transcribe stream could not be opened", extra={"sessionId": self.session_id,
                                                                             "language": language})
            d.metrics.add_metric(name="ErrorCount", unit="Count", value=1)
            self._notify(error_message("TRANSCRIPTION_UNAVAILABLE",
                                       "speech cannot be transcribed right now; audio is kept for a retry",
                                       sessionId=self.session_id))
            raise _StartFailed() from error
        d.metrics.add_metric(name="TranscribeStreamInitLatency", unit="Milliseconds",
                             value=round((d.clock() - started) * 1000.0, 1))
        config = dataclasses.replace(
            s.processor, join_without_spaces=language.split("-")[0].lower() in SPACELESS_LANGUAGES,
            partial_results_enabled=self._partials_enabled)
        processor = PartialResultProcessor(config)
        timeline = StreamTimeline()
        st = _Stream(stream, timeline, processor, reader=None, opened_at=d.clock())  # type: ignore[arg-type]
        st.reader = asyncio.get_running_loop().create_task(self._read(st))
        self._stream = st
        self.result.streams += 1
        return st

    async def _read(self, st: _Stream) -> None:
        try:
            async for event in st.stream.events():
                self._forward(st.processor.process(event, self.d.clock()), st)
        except Exception as error:  # noqa: BLE001 - the loop reopens the stream
            st.failed = error

    def _forward(self, segments: list[Segment], st: _Stream | None = None) -> None:
        st = st or self._stream
        if not segments or st is None or self._forwarder is None:
            return
        for segment in segments:
            self._forwarder.emit(segment, st.timeline)

    async def _close_stream(self) -> None:
        """End the stream, let Transcribe finalize what it has, flush the rest (final or orphan)."""
        st, self._stream = self._stream, None
        if st is None:
            return
        if st.failed is None:
            try:
                await st.stream.end()
            except Exception as error:  # noqa: BLE001 - a broken stream still gets flushed
                st.failed = error
        deadline = self.d.clock() + DRAIN_TIMEOUT
        while not st.reader.done() and self.d.clock() < deadline:
            await self.d.sleep(0.05)
        if not st.reader.done():
            st.reader.cancel()
            try:
                await st.reader
            except BaseException:  # noqa: BLE001 - cancelled on purpose
                pass
        leftover = st.processor.flush(self.d.clock())
        st.processor.stats.orphans_flushed += len({seg.result_id for seg in leftover})
        self._forward(leftover, st)
        self._report_stats(st)

    # -- endings ----------------------------------------------------------------------

    async def _hand_over(self) -> str:
        d, s = self.d, self.s
        await self._delete_fed()
        successor = new_lease_id()
        now = d.clock()
        handed = await asyncio.to_thread(d.leases.hand_over, self.session_id, self.lease_id, successor, now,
                                         s.worker_start_grace_seconds, self.position)
        if handed:
            try:
                await asyncio.to_thread(invoke_worker, d.lambda_client, s.stream_worker_function, self.session_id,
                                        successor, REASON_HANDOVER)
                self.result.successor_lease = successor
            except Exception:
                logger.exception("successor invoke failed; the next chunk starts a worker",
                                 extra={"sessionId": self.session_id})
                await asyncio.to_thread(d.leases.abandon, self.session_id, successor)
        else:
            logger.warning("lease lost before handover", extra={"sessionId": self.session_id})
        # The successor reads from `position` on; this stream finishes what it was fed.
        await self._close_stream()
        logger.info("handed over", extra={"sessionId": self.session_id, "position": self.position,
                                          "remainingSeconds": round(self.remaining(), 1)})
        return OUTCOME_HANDOVER

    async def _stop(self, outcome: str, release: bool = True) -> str:
        await self._close_stream()
        await self._delete_fed()
        if release:
            await self._release()
            # A chunk admitted while we were releasing saw our lease and started nobody.
            if outcome != OUTCOME_ENDED:
                await self._restart_if_chunks_remain()
        logger.info("stream worker stopped", extra={"sessionId": self.session_id, "outcome": outcome})
        return outcome

    async def _release(self, hold_until: float | None = None) -> None:
        try:
            await asyncio.to_thread(self.d.leases.release, self.session_id, self.lease_id, self.position, hold_until)
        except Exception:  # noqa: BLE001 - the lease expires on its own
            logger.exception("lease release failed", extra={"sessionId": self.session_id})

    async def _restart_if_chunks_remain(self) -> None:
        d, s = self.d, self.s
        remaining = await asyncio.to_thread(d.chunks.read_after, self.session_id, self.position, 1)
        if remaining:
            await asyncio.to_thread(start_worker, d.leases, d.lambda_client, s.stream_worker_function,
                                    self.session_id, d.clock(), s.worker_start_grace_seconds, REASON_RESTART)

    async def _skip_poison_chunk(self) -> None:
        chunks = await asyncio.to_thread(self.d.chunks.read_after, self.session_id, self.position, 1)
        if not chunks:
            return
        logger.error("skipping a chunk that stopped several workers in a row",
                     extra={"sessionId": self.session_id, "sequence": chunks[0].sequence})
        self.d.metrics.add_metric(name="ErrorCount", unit="Count", value=1)
        if await asyncio.to_thread(self.d.leases.skip_to, self.session_id, self.lease_id, chunks[0].sequence):
            self.position = self._persisted_position = chunks[0].sequence
            await asyncio.to_thread(self.d.chunks.delete, self.session_id, [chunks[0].sequence])

    # -- reporting --------------------------------------------------------------------

    def _report_stats(self, st: _Stream | None = None) -> None:
        st = st or self._stream
        if st is None:
            return
        stats = st.processor.stats
        for attr, name in _STAT_METRICS:
            value = getattr(stats, attr)
            delta = value - st.reported.get(attr, 0)
            if delta > 0:
                self.d.metrics.add_metric(name=name, unit="Count", value=delta)
                st.reported[attr] = value

    def _notify(self, envelope: dict[str, Any]) -> None:
        connection_id = self.state.speaker_connection_id if self.state else ""
        if connection_id:
            # Replies are rare (at most one per issue a minute): a short blocking post is fine.
            self.d.replier.send(connection_id, envelope)

    def _flush_metrics(self) -> None:
        try:
            self.d.metrics.flush_metrics()
        except Exception:  # noqa: BLE001 - metrics never stop the worker
            logger.warning("metrics flush failed")


class _StartFailed(Exception):
    """The Transcribe stream could not be opened."""
