"""TranslationProcessor: one segment in, captions and voice out to every listener language.

Per segment: claim it in the ledger (a duplicate stops here) while the Sessions row and the
listeners are read; an ended or missing session sends nothing, and a paused or muted one
sends only speech captured before the pause or mute began. Then, per
target language, in parallel: translate (cache first; listeners of the speaker's own
language get the original words), post the caption while Polly synthesizes, then post the
audio parts. A language whose translation fails is skipped and counted; a language whose
synthesis fails still gets its caption. Nothing but real translated text and real audio is
ever sent: there are no placeholder messages. A segment with a failed language ends
``language_failed``; the handler then raises so Lambda's async retry redoes that language only
(the ledger skips the languages already served).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

from common.languages import same_language
from common.observability import logger
from emotion_dynamics.dynamics import Dynamics
from emotion_dynamics.ssml import SsmlError, build_ssml
from emotion_dynamics.synthesis import PollySynthesizer, SynthesisError

from . import telemetry as m
from .broadcast import Broadcaster, BroadcastResult, ConnectionCleaner
from .continuation import open_ended
from .fanout import ShardDispatcher, ShardPost, shard_events, split_shards
from .idempotency import SegmentLedger
from .listeners import find_listeners, load_session
from .messages import SegmentRef, audio_messages, caption_messages, caption_with_audio_message
from .segment import Segment
from .settings import TranslationSettings
from .telemetry import MetricsRecorder
from .translation import TranslationCache, TranslationError, Translator, cache_key, normalize_text
from .voices import ENGINE, VoiceCatalog

# Languages served at once; more wait their turn. A session rarely has more than a handful.
LANGUAGE_WORKERS = 8
DEFAULT_LEASE_SECONDS = 60.0


@dataclass
class LanguageOutcome:
    """What one target language got."""

    language: str
    listeners: int
    translated: bool = False
    cache_hit: bool | None = None
    caption_sent: bool = False
    audio_parts: int = 0
    voice_id: str | None = None
    failure: str | None = None  # translation | synthesis | None
    delivered: int = 0
    gone: int = 0
    failed: int = 0
    caption_posted_at: float | None = None
    last_posted_at: float | None = None
    translate_ms: float = 0.0
    synthesis_ms: float = 0.0
    broadcast_ms: float = 0.0
    shards: int = 1  # this invocation's share plus the shards handed to other invocations
    dispatched: int = 0  # connections handed to shard invocations (their outcomes are counted there)

    def absorb(self, result: BroadcastResult, is_caption: bool) -> None:
        """Fold a broadcast's result in."""
        self.gone += len(result.gone)
        self.failed += len(result.failed)
        if is_caption:
            self.delivered = len(result.delivered)
            self.caption_posted_at = result.last_posted_at
        if result.last_posted_at is not None:
            self.last_posted_at = max(self.last_posted_at or 0.0, result.last_posted_at)


@dataclass
class ProcessResult:
    """The outcome of one invocation (returned by the handler; useful to async on-success destinations)."""

    status: str  # processed | duplicate | suppressed | no_listeners | invalid | shard_posted
    segment_id: str | None
    reason: str | None = None
    languages: dict[str, LanguageOutcome] = field(default_factory=dict)
    # Phase durations (ms): "reads" (session, listeners and ledger claim, in parallel) and
    # "cache" (the batched cache lookup) are the DynamoDB round trips on the critical path.
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"status": self.status, "segmentId": self.segment_id, "reason": self.reason,
                "languages": {k: asdict(v) for k, v in self.languages.items()}, "timings": self.timings}


class TranslationProcessor:
    """Orchestrates translation, synthesis and broadcast of one segment. Thread-safe; one per container."""

    def __init__(self, *, dynamodb: Any, settings: TranslationSettings, cache: TranslationCache, translator: Translator,
                 voices: VoiceCatalog, synthesizer: Any, broadcaster: Broadcaster, ledger: SegmentLedger,
                 recorder: MetricsRecorder | None = None, clock: Callable[[], float] = time.time,
                 perf: Callable[[], float] = time.perf_counter, executor: ThreadPoolExecutor | None = None,
                 dispatcher: ShardDispatcher | None = None) -> None:
        self._dynamodb = dynamodb
        self._settings = settings
        self._cache = cache
        self._translator = translator
        self._voices = voices
        self._synthesizer = synthesizer
        self._broadcaster = broadcaster
        self._ledger = ledger
        self._dispatcher = dispatcher
        self.recorder = recorder or MetricsRecorder()
        self._clock = clock
        self._perf = perf
        # Two extra workers for the session and listener reads that run beside the ledger claim.
        self._executor = executor or ThreadPoolExecutor(max_workers=LANGUAGE_WORKERS + 2, thread_name_prefix="language")

    def shutdown(self) -> None:
        """Stop the worker pools (tests and benchmarks)."""
        self._executor.shutdown(wait=True)
        self._broadcaster.shutdown()

    def process(self, segment: Segment, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                function_name: str | None = None) -> ProcessResult:
        """Translate, voice and broadcast one segment; metrics go to ``self.recorder``.

        ``function_name`` is this invocation's function ARN (alias included), which shard
        invocations run; without it, the settings' function name.

        Per-language failures are absorbed and counted; anything else (DynamoDB down, a bug)
        releases the claim and propagates, so Lambda retries."""
        s = self._settings
        now = self._clock()
        started = self._perf()
        timings: dict[str, float] = {}
        # Three DynamoDB round trips at once: the session, the listeners, the ledger claim.
        session_f = self._executor.submit(load_session, self._dynamodb, s.sessions_table, segment.session_id, now)
        listeners_f = self._executor.submit(find_listeners, self._dynamodb, s.connections_table, s.connections_index,
                                            segment.session_id, now)
        claim = self._ledger.claim(segment.segment_id, lease_seconds)
        if not claim.acquired:
            wait([session_f, listeners_f])
            self.recorder.count(m.DUPLICATE_SEGMENTS_SKIPPED)
            logger.info("duplicate segment skipped", extra={"reason": claim.reason})
            return ProcessResult("duplicate", segment.segment_id, claim.reason)
        try:
            session = session_f.result()
            listeners = listeners_f.result()
            timings["reads"] = self._ms_since(started)
            # Judged by when the audio was captured, not by the state now: speech said before a
            # pause or mute arrives after it (finals come late) and still goes out.
            silent = session.suppression_reason(segment.start_time)
            if silent:
                self.recorder.count(m.SEGMENTS_SUPPRESSED)
                logger.info("session silent; nothing broadcast", extra={"reason": silent})
                # Complete, so a retry after a resume does not replay speech from the paused time.
                self._ledger.finish(segment.segment_id, claim.owner, complete=True, note=f"suppressed:{silent}")
                return ProcessResult("suppressed", segment.segment_id, silent)
            if session.silent_reason:
                logger.info("speech from before the pause or mute; broadcast",
                            extra={"state": session.silent_reason, "startTime": segment.start_time,
                                   "silentFromSample": session.silent_from_sample})
            pending = {lang: conns for lang, conns in listeners.items() if lang not in claim.languages_done}
            if not pending:
                self._ledger.finish(segment.segment_id, claim.owner, complete=True, note="no listeners")
                return ProcessResult("no_listeners", segment.segment_id)
            lookup_started = self._perf()
            cached = self._cached_translations(segment, pending)
            timings["cache"] = self._ms_since(lookup_started)
            futures = {lang: self._executor.submit(self._serve_language, segment, lang, conns, cached.get(lang), function_name)
                       for lang, conns in pending.items()}
            # Wait for every language before deciding, so a failure in one never abandons another mid-broadcast.
            wait(futures.values())
            outcomes = {lang: future.result() for lang, future in futures.items()}
        except BaseException:
            self._release(segment, claim.owner)
            raise
        complete = all(o.failure != "translation" for o in outcomes.values())
        served = [lang for lang, o in outcomes.items() if o.failure != "translation"]
        self._ledger.finish(segment.segment_id, claim.owner, complete=complete, served=served)
        self._record_latency(segment, outcomes)
        timings["total"] = self._ms_since(started)
        result = ProcessResult("processed", segment.segment_id, None if complete else "language_failed", outcomes, timings)
        logger.info("segment processed", extra={
            "emittedAt": segment.emitted_at,  # with listeners' receive times, the delivery latency (load test)
            "timings": {k: round(v, 1) for k, v in timings.items()},
            "languages": {lang: {"listeners": o.listeners, "delivered": o.delivered, "gone": o.gone, "failed": o.failed,
                                 "audioParts": o.audio_parts, "failure": o.failure, "cacheHit": o.cache_hit,
                                 "translateMs": round(o.translate_ms, 1), "synthesisMs": round(o.synthesis_ms, 1),
                                 "broadcastMs": round(o.broadcast_ms, 1)}
                          for lang, o in outcomes.items()}})
        return result

    def _ms_since(self, started: float) -> float:
        return (self._perf() - started) * 1000

    def _release(self, segment: Segment, owner: str) -> None:
        try:
            self._ledger.finish(segment.segment_id, owner, complete=False, note="error")
        except Exception:  # the original error matters more; the lease expires anyway
            logger.exception("could not release segment claim")

    def _cached_translations(self, segment: Segment, pending: Mapping[str, list[str]]) -> dict[str, str]:
        """One BatchGetItem for every language that needs Translate."""
        wanted = {lang: cache_key(segment.source_language, lang, segment.text)
                  for lang in pending if not same_language(segment.source_language, lang)}
        if not wanted:
            return {}
        found = self._cache.get_many(wanted.values())
        hits = {lang: found[key] for lang, key in wanted.items() if key in found}
        self.recorder.count(m.CACHE_HIT, len(hits))
        self.recorder.count(m.CACHE_MISS, len(wanted) - len(hits))
        return hits

    def _serve_language(self, segment: Segment, language: str, connections: list[str], cached: str | None,
                        function_name: str | None = None) -> LanguageOutcome:
        outcome = LanguageOutcome(language, len(connections))
        text = self._text_for(segment, language, cached, outcome)
        if text is None:
            return outcome
        ref = SegmentRef(segment.session_id, segment.sequence, segment.segment_id, language)
        # A phrase cut mid-sentence is shown and voiced without a sentence-final mark.
        shown = open_ended(text) if segment.continues_sentence else text
        shards = split_shards(connections, self._settings.fanout_shard_listeners)
        if self._settings.combine_caption_audio or len(shards) > 1:
            self._serve_whole_segment(segment, ref, shown, shards, outcome, function_name)
        else:
            self._serve_caption_first(segment, ref, shown, connections, outcome)
        if outcome.translated and not outcome.cache_hit:
            # After the listeners are served: the cache write is off the critical path.
            self._cache.put(cache_key(segment.source_language, language, segment.text),
                            segment.source_language, language, text)
        self._ledger.languages_done(segment.segment_id, [language])
        return outcome

    def _serve_whole_segment(self, segment: Segment, ref: SegmentRef, text: str, shards: list[list[str]],
                             outcome: LanguageOutcome, function_name: str | None) -> None:
        """Synthesize, then post every message of the segment to each connection in one go: the caption
        with the audio inside when it fits (one post per listener), else the caption and the audio parts.
        Shards past the first go to parallel invocations with the same messages."""
        source_text = segment.text if outcome.translated else None
        captions = caption_messages(ref, text, segment.source_language, translated=outcome.translated, is_final=segment.is_final,
                                    continues_sentence=segment.continues_sentence, source_text=source_text)
        audio = self._synthesize(segment, ref.language, text, outcome)
        broadcast_started = self._perf()
        messages = list(captions)
        separate: list[bytes] = []
        if audio is not None:
            combined = None
            if self._settings.combine_caption_audio and len(captions) == 1:
                combined = caption_with_audio_message(ref, text, segment.source_language, outcome.translated, segment.is_final,
                                                      audio, self._settings.audio_format, outcome.voice_id or "",
                                                      continues_sentence=segment.continues_sentence, source_text=source_text)
            parts = [combined] if combined is not None else audio_messages(ref, audio, self._settings.audio_format,
                                                                           outcome.voice_id or "")
            outcome.audio_parts = len(parts)
            if combined is not None:
                separate = list(captions) + audio_messages(ref, audio, self._settings.audio_format, outcome.voice_id or "")
            messages = [combined] if combined is not None else messages + parts
        local = self._dispatch_shards(segment, ref.language, shards, messages, outcome, function_name)
        result = self._broadcaster.broadcast(segment.session_id, local, messages)
        if separate and result.failure_codes.get("PayloadTooLargeException"):
            result = self._split_after_413(segment, result, separate)
        outcome.caption_sent = bool(result.delivered) or outcome.dispatched > 0
        outcome.absorb(result, is_caption=True)
        self._count_broadcast(result)
        outcome.broadcast_ms = self._ms_since(broadcast_started)

    def _split_after_413(self, segment: Segment, first: BroadcastResult, separate: list[bytes]) -> BroadcastResult:
        """413 on the one-message form: send those connections the caption and the audio parts instead."""
        logger.warning("combined message refused as too large; sending caption and audio separately",
                       extra={"connections": len(first.failed)})
        again = self._broadcaster.broadcast(segment.session_id, first.failed, separate)
        last = [t for t in (first.last_posted_at, again.last_posted_at) if t is not None]
        return BroadcastResult(delivered=first.delivered + again.delivered, gone=first.gone + again.gone,
                               failed=again.failed, failure_codes=again.failure_codes, retries=first.retries + again.retries,
                               posts=first.posts + again.posts, last_posted_at=max(last) if last else None)

    def _dispatch_shards(self, segment: Segment, language: str, shards: list[list[str]], messages: list[bytes],
                         outcome: LanguageOutcome, function_name: str | None) -> list[str]:
        """Hand every shard but the first to an async invocation; returns the connections posted here
        (the first shard, plus any shard whose invocation could not be made)."""
        local = list(shards[0])
        if len(shards) == 1:
            return local
        if self._dispatcher is None:
            logger.warning("listeners over the shard size but no dispatcher; posting every shard here",
                           extra={"targetLanguage": language, "shards": len(shards)})
            return [c for shard in shards for c in shard]
        outcome.shards = len(shards)
        posts = shard_events(segment.session_id, segment.segment_id, language, shards[1:], messages, segment.emitted_at)
        for post, error in zip(posts, self._dispatcher.dispatch_all(posts, function_name), strict=True):
            if error is None:
                outcome.dispatched += len(post.connection_ids)
                self.recorder.count(m.SHARDS_DISPATCHED)
            else:
                logger.warning("shard invocation failed; posting it here", extra={"targetLanguage": language, "error": str(error)})
                local.extend(post.connection_ids)
        return local

    def post_shard(self, post: ShardPost) -> ProcessResult:
        """Post a shard handed over by another invocation (``shardPost`` event): the same messages, in
        order, to each of its connections, with the same per-connection outcomes and metrics."""
        outcome = LanguageOutcome(post.language, len(post.connection_ids))
        started = self._perf()
        result = self._broadcaster.broadcast(post.session_id, list(post.connection_ids), list(post.messages))
        outcome.caption_sent = bool(result.delivered)
        outcome.absorb(result, is_caption=True)
        outcome.broadcast_ms = self._ms_since(started)
        self._count_broadcast(result)
        if post.emitted_at is not None and result.last_posted_at is not None:
            self.recorder.timing(m.END_TO_END_LATENCY, (result.last_posted_at - post.emitted_at) * 1000)
        logger.info("shard posted", extra={"targetLanguage": post.language, "shard": post.shard, "shards": post.shards,
                                           "listeners": outcome.listeners, "delivered": outcome.delivered,
                                           "gone": outcome.gone, "failed": outcome.failed,
                                           "broadcastMs": round(outcome.broadcast_ms, 1)})
        return ProcessResult("shard_posted", post.segment_id, None, {post.language: outcome},
                             {"total": outcome.broadcast_ms})

    def _serve_caption_first(self, segment: Segment, ref: SegmentRef, text: str, connections: list[str],
                             outcome: LanguageOutcome) -> None:
        language = ref.language
        broadcast_started = self._perf()
        # The caption goes out while Polly synthesizes: captions do not wait for voice.
        caption = self._broadcaster.start(segment.session_id, connections, caption_messages(
            ref, text, segment.source_language, translated=outcome.translated, is_final=segment.is_final,
            continues_sentence=segment.continues_sentence, source_text=segment.text if outcome.translated else None))
        audio = self._synthesize(segment, language, text, outcome)
        caption_result = caption.result()
        outcome.caption_sent = bool(caption_result.delivered)
        outcome.absorb(caption_result, is_caption=True)
        self._count_broadcast(caption_result)
        gone = set(caption_result.gone)
        reachable = [c for c in connections if c not in gone]
        if audio is not None and reachable:
            parts = audio_messages(ref, audio, self._settings.audio_format, outcome.voice_id or "")
            outcome.audio_parts = len(parts)
            audio_result = self._broadcaster.broadcast(segment.session_id, reachable, parts)
            outcome.absorb(audio_result, is_caption=False)
            self._count_broadcast(audio_result)
        outcome.broadcast_ms = self._ms_since(broadcast_started)

    def _text_for(self, segment: Segment, language: str, cached: str | None, outcome: LanguageOutcome) -> str | None:
        if same_language(segment.source_language, language):
            return normalize_text(segment.text)
        outcome.translated = True
        if cached is not None:
            outcome.cache_hit = True
            return cached
        outcome.cache_hit = False
        started = self._perf()
        try:
            return self._translator.translate(segment.text, segment.source_language, language)
        except TranslationError as exc:
            outcome.failure = "translation"
            self.recorder.count(m.LANGUAGE_FAILURES, language=language)
            logger.warning("translation failed; language skipped",
                           extra={"targetLanguage": language, "reason": exc.reason, "attempts": exc.attempts})
            return None
        finally:
            outcome.translate_ms = self._ms_since(started)
            self.recorder.timing(m.TRANSLATION_LATENCY, outcome.translate_ms)

    def _synthesize(self, segment: Segment, language: str, text: str, outcome: LanguageOutcome) -> bytes | None:
        voice = self._voices.voice_for(language)
        if voice is None:
            self.recorder.count(m.CAPTION_ONLY, language=language)
            logger.info("no neural voice for language; captions only", extra={"targetLanguage": language})
            return None
        outcome.voice_id = voice
        started = self._perf()
        try:
            result = self._synthesizer.synthesize(text, self._ssml(segment, text), voice, ENGINE, self._settings.audio_format)
        except SynthesisError as exc:
            outcome.failure = "synthesis"
            self.recorder.count(m.LANGUAGE_FAILURES, language=language)
            self.recorder.count(m.CAPTION_ONLY, language=language)
            logger.warning("synthesis failed; caption only",
                           extra={"targetLanguage": language, "code": exc.code, "attempts": exc.attempts})
            return None
        finally:
            outcome.synthesis_ms = self._ms_since(started)
            self.recorder.timing(m.POLLY_SYNTHESIS_LATENCY, outcome.synthesis_ms)
        # FallbackCount (SSML refused, plain text spoken) is counted by the synthesizer itself.
        if not result.audio:
            self.recorder.count(m.CAPTION_ONLY, language=language)
            return None
        return result.audio

    def _ssml(self, segment: Segment, text: str) -> str | None:
        """SSML carrying the speaker's volume and pace, or None (plain text) when the segment has no usable dynamics."""
        if not segment.dynamics:
            return None
        try:
            return build_ssml(text, Dynamics.from_dict(segment.dynamics), engine=ENGINE,
                              typical_wpm=self._settings.typical_wpm)
        except (SsmlError, ValueError) as exc:
            logger.warning("dynamics unusable; plain text", extra={"error": str(exc)})
            return None

    def _count_broadcast(self, result: BroadcastResult) -> None:
        self.recorder.count(m.MESSAGES_POSTED, result.posts - result.retries)
        self.recorder.count(m.BROADCAST_FAILURES, len(result.failed))
        self.recorder.count(m.BROADCAST_RETRIES, result.retries)
        self.recorder.count(m.GONE_CONNECTIONS_REMOVED, len(result.gone))

    def _record_latency(self, segment: Segment, outcomes: Mapping[str, LanguageOutcome]) -> None:
        if segment.emitted_at is None:
            return
        last = [o.last_posted_at for o in outcomes.values() if o.last_posted_at is not None]
        captions = [o.caption_posted_at for o in outcomes.values() if o.caption_posted_at is not None]
        if last:
            self.recorder.timing(m.END_TO_END_LATENCY, (max(last) - segment.emitted_at) * 1000)
        if captions:
            self.recorder.timing(m.CAPTION_LATENCY, (max(captions) - segment.emitted_at) * 1000)


def build_processor(settings: TranslationSettings, *, dynamodb: Any, translate: Any, polly: Any, management: Any,
                    sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random,
                    clock: Callable[[], float] = time.time, lambda_client: Any = None) -> TranslationProcessor:
    """Wire a processor from settings and clients (the handler's and the end-to-end test's entry)."""
    s = settings
    recorder = MetricsRecorder()
    return TranslationProcessor(
        dynamodb=dynamodb,
        settings=s,
        cache=TranslationCache(dynamodb, s.cache_table, s.cache_ttl_seconds, clock=clock),
        translator=Translator(translate, s.max_retries, s.retry_base_delay, s.retry_max_delay, sleep=sleep, rng=rng),
        voices=VoiceCatalog(polly, default_voice_id=s.default_voice_id),
        synthesizer=PollySynthesizer(polly, s.max_retries, s.retry_base_delay, s.retry_max_delay, sleep=sleep, rng=rng,
                                     metrics=recorder),
        broadcaster=Broadcaster(management, ConnectionCleaner(dynamodb, s.connections_table, s.sessions_table, clock=clock),
                                s.broadcast_concurrency, s.max_retries, s.retry_base_delay, s.retry_max_delay,
                                sleep=sleep, rng=rng, clock=clock),
        ledger=SegmentLedger(dynamodb, s.cache_table, clock=clock, sleep=sleep),
        recorder=recorder,
        clock=clock,
        dispatcher=ShardDispatcher(lambda_client, settings.function_name) if lambda_client is not None else None,
    )

