"""Hypothesis: random partial sequences converging to a final result.

Strict property (threshold 1.0, truthful stability flags or none at all): the spoken words
emitted for a result, concatenated, are exactly the final result's words, each once, with
early phrases on (any minimum/maximum words and wait) or off.
Loose property (any threshold, tails that repeat their mistakes): no stretch of audio is
emitted twice, and every word of the final is emitted or lies in audio already emitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from audio_transcription.partial_results.config import ProcessorConfig
from audio_transcription.partial_results.processor import PartialResultProcessor
from audio_transcription.tests.replays import spoken
from audio_transcription.tests.transcripts import event, mark, result, word
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

VOCAB = ["the", "a", "rain", "forest", "is", "large", "we", "meet", "at", "two", "too", "to", "speech",
         "nice", "beach", "and", "so", "on", "planet", "amazon"]


@dataclass
class Script:
    final_items: list
    partials: list  # (at, items)
    final_at: float


@st.composite
def scripts(draw, stabilized: bool, unique_mistakes: bool):
    n = draw(st.integers(1, 18))
    final_items = []
    t = draw(st.floats(0.0, 2.0))
    for i in range(n):
        duration = draw(st.floats(0.1, 0.5))
        w = word(draw(st.sampled_from(VOCAB)), round(t, 3), round(t + duration, 3), True if stabilized else None)
        final_items.append(w)
        t += duration + (draw(st.floats(0.01, 3.0)) if draw(st.integers(0, 6)) == 0 else draw(st.floats(0.01, 0.2)))
        if i < n - 1 and draw(st.integers(0, 4)) == 0:
            final_items.append(mark(draw(st.sampled_from([".", ",", "?"])), w.end_time, True if stabilized else None))
    if draw(st.booleans()):
        final_items.append(mark(".", final_items[-1].end_time, True if stabilized else None))
    total = len(final_items)

    steps = draw(st.integers(1, 14))
    partials = []
    at = final_items[0].end_time + draw(st.floats(0.05, 0.5))
    shown = 0
    stable = 0
    for k in range(steps):
        shown = min(total, max(stable, shown + draw(st.integers(-1, 3))))
        if shown == 0:
            shown = 1
        stable = draw(st.integers(stable, shown)) if stabilized else 0
        items = []
        for i in range(shown):
            it = final_items[i]
            if i >= stable and it.item_type == "pronunciation" and draw(st.integers(0, 3)) == 0:
                content = f"x{k}_{i}" if unique_mistakes else draw(st.sampled_from(VOCAB))
                items.append(word(content, it.start_time, it.end_time, False if stabilized else None))
            elif stabilized:
                items.append(word(it.content, it.start_time, it.end_time, i < stable) if it.item_type == "pronunciation"
                             else mark(it.content, it.start_time, i < stable))
            else:
                items.append(word(it.content, it.start_time, it.end_time, None) if it.item_type == "pronunciation"
                             else mark(it.content, it.start_time, None))
        if not unique_mistakes and shown < total and draw(st.integers(0, 3)) == 0:
            # a full stop that will not survive
            items.append(mark(".", items[-1].end_time, False if stabilized else None))
        partials.append((round(at, 3), items))
        at += draw(st.floats(0.02, 1.2))
    return Script(final_items, partials, round(at, 3))


@st.composite
def configs(draw, strict: bool):
    return ProcessorConfig(
        min_stability_threshold=1.0 if strict else draw(st.floats(0.0, 1.0)),
        max_buffer_timeout=draw(st.floats(0.5, 10.0)),
        pause_threshold=draw(st.floats(0.2, 3.0)),
        orphan_timeout=1000.0,
        max_rate_per_second=draw(st.sampled_from([1, 2, 5, 10, 50])),
        dedup_cache_ttl=draw(st.sampled_from([0, 1, 10])),
        partial_results_enabled=draw(st.booleans()),
        min_clause_words=draw(st.integers(1, 5)),
        **draw(phrasing(strict)),
    )


@st.composite
def phrasing(draw, strict: bool = True):
    """Early-phrase settings: off, or any minimum/maximum words and wait; heard words only when not strict
    (a heard word may change later, and then stays as sent)."""
    max_words = draw(st.sampled_from([0, 1, 2, 3, 5, 8]))
    min_words = draw(st.integers(1, max(1, max_words)))
    return {"phrase_max_words": max_words, "phrase_min_words": min_words,
            "phrase_max_wait": draw(st.floats(0.05, 2.0)),
            "phrase_tail_words": 0 if strict else draw(st.integers(0, 2))}


def run(script: Script, cfg: ProcessorConfig, tick: float = 0.25):
    p = PartialResultProcessor(cfg)
    out = []
    now = script.partials[0][0]
    for at, items in script.partials:
        while now + tick < at:
            now += tick
            out += p.tick(now)
        now = at
        out += p.process(event(result("r", items)), now)
    out += p.process(event(result("r", script.final_items, partial=False)), script.final_at)
    out += p.flush(script.final_at + 1)
    return p, out


COMMON = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(data=st.data(), stabilized=st.booleans())
def test_strict_emitted_words_equal_the_final_exactly_once(data, stabilized):
    script = data.draw(scripts(stabilized=stabilized, unique_mistakes=True))
    cfg = data.draw(configs(strict=True))
    _, out = run(script, cfg)
    emitted = [w for s in out for w in spoken(s.words)]
    assert emitted == spoken(script.final_items)
    finals = [s for s in out if s.is_final]
    assert len(finals) <= 1 and all(s is out[-1] for s in finals)


@COMMON
@given(data=st.data(), stabilized=st.booleans())
def test_loose_no_audio_twice_and_none_lost(data, stabilized):
    script = data.draw(scripts(stabilized=stabilized, unique_mistakes=False))
    cfg = data.draw(configs(strict=False))
    _, out = run(script, cfg)
    words = [w for s in out for w in s.words if not w.punctuation]
    for a, b in zip(words, words[1:], strict=False):
        assert b.start_time >= a.end_time - 1e-9  # in order, never the same audio twice
    covered_until = max((w.end_time for w in words), default=float("-inf"))
    for it in script.final_items:
        if it.item_type != "pronunciation":
            continue
        mid = 0.5 * (it.start_time + it.end_time)
        emitted_same = any(w.content == it.content and w.start_time == it.start_time for w in words)
        assert emitted_same or mid <= covered_until + 1e-6
