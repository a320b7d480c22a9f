"""PartialResultProcessor: Transcribe partial results in, stable de-duplicated segments out.

The processor is plain Python (no AWS calls, no clock of its own): the caller passes every
``TranscriptEvent`` with the current time, and calls :meth:`tick` between events so time-based
emission (orphans, ``max_buffer_timeout``) happens without an event, and :meth:`flush` when
the stream ends. Rules (README.md has the reasoning):

* Per result id, the items already emitted are tracked by position and checked against the
  last emitted item; if a later partial no longer starts with them (an emitted word was
  corrected), the items whose midpoint lies in the emitted time span count as emitted. So no
  stretch of audio is emitted twice, and a final result emits only what is left.
* A phrase (ending at punctuation or a pause) is emitted once the share of its words that are
  settled reaches ``min_stability_threshold``; settled = ``stable`` True, or, when the stream
  has no stability flags, agreed by the last two analysed partials (LocalAgreement-2, counted
  as a fallback once per result).
* Early phrases (``phrasing.py``): once ``phrase_min_words`` words are pending, or at least two
  once the oldest has been settled for ``phrase_max_wait``, they go out as a phrase of at most
  ``phrase_max_words``, cut where the words allow (before a conjunction, after a clause mark),
  flagged ``continues`` so the sentence is voiced as going on. The phrase may end with
  ``phrase_tail_words`` heard words (finished but not yet settled); if Transcribe changes one
  later, the segment stands as sent and the alignment rule above goes on after it.
* Settled words that waited ``max_buffer_timeout`` are emitted without their phrase boundary
  (long run-on sentences); unsettled words wait for the final result or an orphan flush.
* A result with no update for ``orphan_timeout`` is flushed and closed; ``flush`` does the same
  for every open result.
* Segments leave in speech order: a result's partials emit nothing while a result that started
  earlier still has words to emit (for at most ``max_buffer_timeout`` of that result's silence).
* At most ``max_rate_per_second`` partials are analysed per second; the rest are dropped
  (their items are kept as the latest snapshot, so an orphan flush still sees them); finals
  are never dropped.
* With partial results disabled only final results (and orphans, so no words are lost)
  are emitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audio_transcription.partial_results.buffer import ResultState
from audio_transcription.partial_results.config import ProcessorConfig
from audio_transcription.partial_results.dedup import DedupCache
from audio_transcription.partial_results.model import (
    REASON_EARLY,
    REASON_FINAL,
    REASON_FLUSH,
    REASON_ORPHAN,
    REASON_STABLE,
    REASON_TIMEOUT,
    Segment,
    Word,
    join_words,
)
from audio_transcription.partial_results.phrasing import early_cut, heard_tail, pending_words
from audio_transcription.partial_results.rate_limiter import TokenBucket
from audio_transcription.partial_results.stability import (
    CLAUSE_END,
    PUNCTUATION,
    agreed_prefix,
    has_stability_flags,
    item_key,
    leading_stable,
    phrase_ends,
)

if TYPE_CHECKING:  # type names only: the package imports without the SDK
    from amazon_transcribe.model import Item, Result, TranscriptEvent

# A later partial's emitted items may shift by a few frames and still be the same words.
_TAIL_TOLERANCE = 0.3
# How many of the last emitted items a new partial is checked against (unstable words sit at the end).
_ALIGN_CHECK = 3
# A result whose items all lie within a final result's span (plus this margin) is superseded.
_SUPERSEDE_MARGIN = 0.25


@dataclass
class ProcessorStats:
    """Running counters; the stream worker turns their growth into metrics."""

    events: int = 0
    partials: int = 0
    finals: int = 0
    partials_dropped: int = 0
    orphans_flushed: int = 0
    duplicates: int = 0
    fallbacks: int = 0
    corrections: int = 0
    heard_words: int = 0
    forced: int = 0
    early: int = 0
    segments: int = 0

    def snapshot(self) -> dict[str, int]:
        """The counters as a dict."""
        return dict(self.__dict__)


class PartialResultProcessor:
    """Turns a stream's TranscriptEvents into segments; see the module docstring for the rules."""

    def __init__(self, config: ProcessorConfig | None = None) -> None:
        self.config = config or ProcessorConfig()
        self.stats = ProcessorStats()
        self._open: dict[str, ResultState] = {}
        self._dedup = DedupCache(self.config.dedup_cache_ttl)
        self._bucket = TokenBucket(self.config.max_rate_per_second)
        self._partials_enabled = self.config.partial_results_enabled
        self._next_expire = float("-inf")

    # -- public interface -------------------------------------------------------------

    @property
    def partial_results_enabled(self) -> bool:
        """False: only final results (and orphans) are emitted. Set it from the feature flag."""
        return self._partials_enabled

    @partial_results_enabled.setter
    def partial_results_enabled(self, value: bool) -> None:
        self._partials_enabled = bool(value)

    @property
    def has_open_results(self) -> bool:
        """True while some result has not had its final (or been flushed)."""
        return bool(self._open)

    def process(self, event: TranscriptEvent, now: float) -> list[Segment]:
        """Analyse one TranscriptEvent received at ``now`` (seconds); return the segments it completes."""
        out: list[Segment] = []
        self.stats.events += 1
        transcript = getattr(event, "transcript", None)
        results = getattr(transcript, "results", None)
        if results:
            for result in results:
                if result is not None and result.result_id:
                    self._process_result(result, now, out)
        self._expire(now, out)
        return out

    def tick(self, now: float) -> list[Segment]:
        """Time passes without an event: flush orphans and phrases past ``max_buffer_timeout``."""
        out: list[Segment] = []
        self._expire(now, out)
        return out

    def flush(self, now: float) -> list[Segment]:
        """End of the stream: emit every open result's remaining words and forget them."""
        out: list[Segment] = []
        for state in list(self._open.values()):
            self._emit_rest(state, now, REASON_FLUSH, out)
            self._close(state, now)
        self._open.clear()
        return out

    # -- results ----------------------------------------------------------------------

    def _process_result(self, result: Result, now: float, out: list[Segment]) -> None:
        rid = result.result_id
        alternatives = result.alternatives
        items: Sequence[Item] = (alternatives[0].items or ()) if alternatives else ()
        final = result.is_partial is False
        state = self._open.get(rid)
        reopened = False
        if state is None:
            state = ResultState(rid)
            ledger = self._dedup.reopen(rid)
            if ledger is not None:
                reopened = True
                # The result was closed (orphan flush, or a repeated final): start from what was emitted.
                state.emitted = ledger.emitted
                state.emitted_end = ledger.emitted_end
                state.emitted_from = ledger.emitted_from
            self._open[rid] = state
        state.last_update = now
        state.result_end = result.end_time
        state.items = items
        if final:
            self.stats.finals += 1
            start = self._align(state, items)
            before = len(out)
            if start < len(items):
                self._emit(state, items, start, len(items), now, REASON_FINAL, True, True, out)
            if reopened and len(out) == before:
                self.stats.duplicates += 1  # a repeated final, or one that adds nothing to an orphan flush
            self._close(state, now)
            del self._open[rid]
            self._supersede(result, now)
            return
        self.stats.partials += 1
        if not self._bucket.try_take(now):
            self.stats.partials_dropped += 1
            return
        self._analyse(state, now, out)

    def _analyse(self, state: ResultState, now: float, out: list[Segment]) -> None:
        cfg = self.config
        items = state.items
        start = self._align(state, items)
        state.note_positions(len(items), now)
        flags = has_stability_flags(items, start)
        if flags:
            settled = leading_stable(items, start)
        else:
            if not state.fallback:
                state.fallback = True
                self.stats.fallbacks += 1
            settled = agreed_prefix(items, start, state.previous)
            state.previous = items
        state.analysed = items
        state.settled_until = start + settled
        state.note_settled(start + settled, now)
        if start >= len(items) or not self._partials_enabled or self._waits_for_earlier(state, now):
            return
        pos = start
        for end in phrase_ends(items, start, settled, cfg.min_stability_threshold, cfg.pause_threshold,
                               cfg.min_clause_words, state.result_end):
            last = items[end - 1]
            continues = last.item_type == PUNCTUATION and (last.content or "") in CLAUSE_END
            self._emit(state, items, pos, end, now, REASON_STABLE, False, end <= start + settled, out, continues)
            pos = end
        self._cut_early(state, items, pos, start + settled, now, out)

    def _cut_early(self, state: ResultState, items: Sequence[Item], pos: int, settled_end: int, now: float,
                   out: list[Segment]) -> None:
        """Emit settled words from ``pos`` as early phrases while ``early_cut`` finds one."""
        cfg = self.config
        heard_end = heard_tail(items, settled_end, cfg.phrase_tail_words)
        while pos < settled_end:
            waited = now - state.settled_since(pos, now)
            end = early_cut(items, pos, settled_end, cfg.phrase_min_words, cfg.phrase_max_words, waited,
                            cfg.phrase_max_wait, heard_end)
            if end is None or end <= pos:
                return
            settled = end <= settled_end
            if not settled:
                self.stats.heard_words += len(pending_words(items, settled_end, end))
            self._emit(state, items, pos, end, now, REASON_EARLY, False, settled, out, True)
            self.stats.early += 1
            pos = end

    def _cut_if_waited(self, state: ResultState, now: float, out: list[Segment]) -> None:
        """Between events: an early phrase that an earlier result held back, or whose words
        waited ``phrase_max_wait``, goes out."""
        cfg = self.config
        if cfg.phrase_max_words <= 0:
            return
        items = state.items
        if items is state.idle_items and state.emitted == state.idle_emitted and now < state.idle_until:
            return  # checked these items already; only more waiting can change the answer, at idle_until
        if self._waits_for_earlier(state, now):
            return
        start = self._align(state, items)
        if start >= len(items):
            return
        since = state.settled_since(start, now)
        settled_end = self._settled_end(state, items, start)
        state.note_settled(settled_end, now)
        before = len(out)
        self._cut_early(state, items, start, settled_end, now, out)
        if len(out) == before:
            # Without a new partial, the cut can only change once the first word has waited phrase_max_wait.
            ready = since + cfg.phrase_max_wait
            state.idle_items, state.idle_emitted = items, state.emitted
            state.idle_until = ready if now < ready else float("inf")

    def _force_if_waited(self, state: ResultState, now: float, out: list[Segment]) -> None:
        items = state.items
        start = self._align(state, items)
        if start >= len(items) or self._waits_for_earlier(state, now):
            return
        since = state.waiting_since(start)
        if since is None or now - since < self.config.max_buffer_timeout:
            return
        settled_end = self._settled_end(state, items, start)
        if settled_end <= start:
            return  # nothing settled yet: unsettled words leave a partial only through an orphan flush
        self._emit(state, items, start, settled_end, now, REASON_TIMEOUT, False, True, out, True)
        self.stats.forced += 1
        # The words left over start their own wait now.
        seen = state.first_seen
        for i in range(state.emitted, len(seen)):
            seen[i] = max(seen[i], now)

    def _waits_for_earlier(self, state: ResultState, now: float) -> bool:
        """True while a result that started earlier still has words to emit: segments leave in
        speech order (the next result's partials run while the previous one waits for its final).

        A result silent for ``max_buffer_timeout`` stops holding later ones back (it may be an
        orphan; its words then come after theirs).
        """
        if len(self._open) < 2:
            return False
        begins = _begins(state.items)
        if begins is None:
            return False
        horizon = self.config.max_buffer_timeout
        for other in self._open.values():
            if other is state or len(other.items) <= other.emitted or now - other.last_update >= horizon:
                continue
            other_begins = _begins(other.items)
            if other_begins is not None and other_begins < begins:
                return True
        return False

    def _settled_end(self, state: ResultState, items: Sequence[Item], start: int) -> int:
        if has_stability_flags(items, start):
            return start + leading_stable(items, start)
        if items is state.analysed:
            return max(start, min(state.settled_until, len(items)))
        return start + agreed_prefix(items, start, state.previous)

    def _expire(self, now: float, out: list[Segment]) -> None:
        cfg = self.config
        for state in list(self._open.values()):
            if now - state.last_update >= cfg.orphan_timeout:
                if self._emit_rest(state, now, REASON_ORPHAN, out):
                    self.stats.orphans_flushed += 1
                self._close(state, now)
                del self._open[state.result_id]
            elif self._partials_enabled and state.first_seen:
                self._cut_if_waited(state, now, out)
                self._force_if_waited(state, now, out)
        if now >= self._next_expire:
            self._dedup.expire(now)
            self._next_expire = now + 1.0

    def _supersede(self, final: Result, now: float) -> None:
        """Drop open results whose items all lie inside a final result's span (re-segmented audio)."""
        if not self._open or final.start_time is None or final.end_time is None:
            return
        low, high = final.start_time - _SUPERSEDE_MARGIN, final.end_time + _SUPERSEDE_MARGIN
        for state in list(self._open.values()):
            items = state.items
            if items and all(it.start_time is not None and it.end_time is not None
                             and low <= it.start_time and it.end_time <= high for it in items):
                self._close(state, now)
                del self._open[state.result_id]

    # -- emission ---------------------------------------------------------------------

    def _align(self, state: ResultState, items: Sequence[Item]) -> int:
        """Index of the first item not yet emitted in ``items`` (see the module docstring)."""
        emitted = state.emitted
        if emitted == 0 or items is state.emitted_from:
            return emitted
        if emitted <= len(items):
            before = state.emitted_from
            for i in range(emitted - 1, max(-1, emitted - 1 - _ALIGN_CHECK), -1):
                a, b = items[i], before[i]
                if item_key(a) != item_key(b) or (
                        a.start_time is not None and b.start_time is not None
                        and abs(a.start_time - b.start_time) > _TAIL_TOLERANCE):
                    break
            else:
                state.emitted_from = items
                return emitted
        # An emitted word changed (or items were removed): what lies in the emitted time span is covered.
        covered_until = state.emitted_end
        index = len(items)
        for i, it in enumerate(items):
            mid = _midpoint(it)
            if mid is None or mid > covered_until + 1e-6:
                index = i
                break
        self.stats.corrections += 1
        state.emitted = index
        state.emitted_from = items
        return index

    def _emit_rest(self, state: ResultState, now: float, reason: str, out: list[Segment]) -> bool:
        items = state.items
        start = self._align(state, items)
        if start >= len(items):
            return False
        before = len(out)
        settled = self._settled_end(state, items, start) >= len(items)
        self._emit(state, items, start, len(items), now, reason, False, settled, out)
        return len(out) > before

    def _emit(self, state: ResultState, items: Sequence[Item], start: int, end: int, now: float,
              reason: str, is_final: bool, stable: bool, out: list[Segment], continues: bool = False) -> None:
        """Emit items[start:end] (minus cross-result duplicates) and advance the ledger."""
        rid = state.result_id
        dedup = self._dedup
        covered = state.emitted_end + 1e-6
        words: list[Word] = []
        spoken = 0
        for i in range(start, end):
            it = items[i]
            st = it.start_time if it.start_time is not None else 0.0
            et = it.end_time if it.end_time is not None else st
            punct = it.item_type == PUNCTUATION
            if 0.5 * (st + et) <= covered:
                # Audio this result already emitted (a partial shrank and grew back): never twice.
                if not punct:
                    self.stats.duplicates += 1
                continue
            key = item_key(it)
            if not punct and dedup.is_duplicate(key, st, et, rid):
                self.stats.duplicates += 1
                continue
            if not punct:
                spoken += 1
                dedup.remember(key, st, et, rid, now)
            words.append(Word(it.content or "", st, et, punct, it.confidence, it.stable))
        last = items[end - 1]
        state.emitted = end
        state.emitted_from = items
        if last.end_time is not None and last.end_time > state.emitted_end:
            state.emitted_end = last.end_time
        if spoken == 0:
            return  # punctuation alone (or only duplicates) is not worth a segment
        while words and words[0].punctuation:
            words.pop(0)  # a mark that closed the previous segment's sentence
        text = join_words(words, self.config.join_without_spaces)
        out.append(Segment(text, words[0].start_time, words[-1].end_time, rid, is_final,
                           tuple(words), stable or is_final, reason, continues))
        self.stats.segments += 1

    def _close(self, state: ResultState, now: float) -> None:
        self._dedup.close(state.result_id, state.emitted, state.emitted_end, state.emitted_from, now)


def _begins(items: Sequence[Item]) -> float | None:
    """Start time of a result's first item."""
    return items[0].start_time if items else None


def _midpoint(item: Item) -> float | None:
    if item.start_time is None or item.end_time is None:
        return None
    return 0.5 * (item.start_time + item.end_time)
