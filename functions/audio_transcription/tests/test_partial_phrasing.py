"""Early phrases: settled words cut into phrases before any mark, pause or final (phrasing.py)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from audio_transcription.partial_results.config import ProcessorConfig
from audio_transcription.partial_results.phrasing import LEANING, early_cut, heard_tail
from audio_transcription.partial_results.processor import PartialResultProcessor
from audio_transcription.tests.replays import replay, replay_from_doc
from audio_transcription.tests.speech_replays import continuous_speech, continuous_speech_doc
from audio_transcription.tests.transcripts import event, items_from_text, result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def proc(**overrides) -> PartialResultProcessor:
    base = dict(min_stability_threshold=1.0, max_buffer_timeout=7.0, pause_threshold=2.0, orphan_timeout=15.0,
                max_rate_per_second=10, dedup_cache_ttl=10, phrase_max_words=6, phrase_min_words=4,
                phrase_max_wait=1.0, phrase_tail_words=0)
    base.update(overrides)
    return PartialResultProcessor(ProcessorConfig(**base))


def cut_text(text: str, settled: int, min_words: int = 4, max_words: int = 6, waited: float = 0.0,
             max_wait: float = 1.0, tail: int = 0) -> str | None:
    items = items_from_text(text, stable=settled)
    end = early_cut(items, 0, settled, min_words, max_words, waited, max_wait, heard_tail(items, settled, tail))
    if end is None:
        return None
    return " ".join(i.content for i in items[:end])


def test_nothing_is_cut_below_the_word_counts():
    assert cut_text("we will talk about it today", settled=3) is None  # 3 < min words, not waited
    assert cut_text("we will talk about it today", settled=3, waited=1.0) == "we will talk"  # waited: shorter goes
    assert cut_text("we will talk about it today", settled=1, waited=9) is None  # never a one-word phrase
    assert cut_text("we will talk about it today", settled=5, min_words=1, max_words=0, waited=9) is None  # off


def test_min_words_cut_without_waiting():
    assert cut_text("today we review the plan for next year", settled=5) == "today we review the plan"


def test_a_phrase_holds_at_most_max_words():
    assert cut_text("one two three four five six seven eight nine", settled=8) == "one two three four five six"


def test_a_phrase_ends_before_a_conjunction():
    # Settled: "we talk about rain and" -> cut before "and", which starts the next phrase.
    assert cut_text("we talk about rain and why it matters", settled=5) == "we talk about rain"


def test_a_phrase_ends_after_a_clause_mark():
    assert cut_text("most of you came, and that is fine", settled=6) == "most of you came ,"


def test_a_phrase_does_not_end_on_a_word_that_leans_on_the_next():
    assert cut_text("we will talk about the rainforest", settled=5) == "we will talk about"


def test_the_last_word_of_a_sentence_is_not_left_alone():
    # Settled: 6 words; the unsettled rest shows the sentence ends after one more word.
    items = items_from_text("we start the meeting now with coffee.", stable=6)
    end = early_cut(items, 0, 6, 4, 6, 0.0, 1.0)
    assert [i.content for i in items[:end]] == ["we", "start", "the", "meeting", "now"]
    # Too few settled words to keep one back: wait for the mark instead.
    items = items_from_text("we start now.", stable=3)
    assert early_cut(items, 0, 3, 3, 3, 0.0, 1.0) is None


def test_heard_words_are_finished_words_after_the_settled_ones():
    def heard(text: str, settled: int, tail: int = 1) -> list[str]:
        items = items_from_text(text, stable=settled)
        return [i.content for i in items[settled:heard_tail(items, settled, tail)]]

    # "about" and "the" lean on "plan": they go with it and do not count; "today" is still being said.
    assert heard("we will talk about the plan today", 3) == ["about", "the", "plan"]
    assert heard("we will talk about the plan today", 3, tail=0) == []
    assert heard("we will talk now", 3) == []  # the last word of a partial is never heard
    assert heard("we will talk and then more", 3) == []  # a conjunction starts the next phrase
    assert heard("we will talk now. Then more", 3) == []  # the mark after "now" is not settled
    assert heard("we will talk a lot more today", 3, tail=2) == ["a", "lot", "more"]


def test_a_phrase_may_end_with_one_heard_word():
    assert cut_text("so we shipped it fast today", settled=3, tail=1) == "so we shipped it"
    assert cut_text("so we shipped it fast today", settled=3, tail=0) is None
    # A heard word that leans on the next one waits for it.
    assert cut_text("we will talk about the", settled=3, tail=1) is None
    assert cut_text("we will talk about the plan today", settled=3, tail=1) == "we will talk about the plan"


def test_settled_words_go_out_and_are_flagged_as_continuing():
    p = proc()
    items = items_from_text("so the plan for the next quarter is simple", stable=6)
    segs = p.process(event(result("r", items)), now=1.0)
    assert [s.text for s in segs] == ["so the plan for the next"]
    seg = segs[0]
    assert seg.reason == "early" and seg.continues and seg.stable and not seg.is_final
    assert all(w.stable for w in seg.words)


def test_a_heard_word_leaves_unstable_and_is_counted():
    p = proc(phrase_tail_words=1)
    segs = p.process(event(result("r", items_from_text("so we shipped it fast today", stable=3))), now=1.0)
    assert [s.text for s in segs] == ["so we shipped it"]
    assert not segs[0].stable and [w.stable for w in segs[0].words] == [True, True, True, False]
    assert p.stats.heard_words == 1


def test_a_heard_word_that_changes_stays_as_sent_and_nothing_else_is_lost_or_repeated():
    p = proc(phrase_tail_words=1)
    first = p.process(event(result("r", items_from_text("so we shipped it fast today", stable=3))), now=1.0)
    # Transcribe corrects "it" to "its" (same stretch of audio) and goes on.
    later = p.process(event(result("r", items_from_text("so we shipped its fast delivery today", stable=5))), now=1.5)
    final = p.process(event(result("r", items_from_text("so we shipped its fast delivery today.", stable=True),
                                    partial=False)), now=2.5)
    sent = [w for _, segs in (("", first), ("", later), ("", final)) for s in segs for w in s.words if not w.punctuation]
    assert [w.content for w in sent] == ["so", "we", "shipped", "it", "fast", "delivery", "today"]
    starts = [w.start_time for w in sent]
    assert starts == sorted(set(starts))  # every stretch of audio once, in order
    assert p.stats.corrections == 1  # the worker reports it as EmittedWordsRevised


def test_settled_words_that_wait_go_out_on_a_tick():
    p = proc(phrase_max_wait=0.5)
    items = items_from_text("three settled words and more", stable=3)
    assert p.process(event(result("r", items)), now=1.0) == []
    assert p.tick(1.4) == []
    segs = p.tick(1.5)
    assert [s.text for s in segs] == ["three settled words"]
    assert segs[0].continues


def test_sentence_and_clause_marks_set_continues():
    p = proc(phrase_max_words=0)
    items = items_from_text("Good morning everyone, thank you all. We", stable=9)
    segs = p.process(event(result("r", items)), now=1.0)
    assert [(s.text, s.continues) for s in segs] == [("Good morning everyone, thank you all.", False)]
    p = proc(phrase_max_words=0, min_clause_words=3)
    segs = p.process(event(result("r", items)), now=1.0)
    assert [(s.text, s.continues) for s in segs] == [("Good morning everyone,", True), ("thank you all.", False)]


def test_the_final_remainder_ends_the_sentence():
    p = proc(phrase_max_words=4, phrase_min_words=2)
    items = items_from_text("we shipped the new release yesterday", stable=4)
    early = p.process(event(result("r", items)), now=1.0)
    final = p.process(event(result("r", items_from_text("we shipped the new release yesterday.", stable=True),
                                    partial=False)), now=2.0)
    assert [s.text for s in early] == ["we shipped the new"]
    assert [(s.text, s.continues, s.is_final) for s in final] == [("release yesterday.", False, True)]


def assert_every_word_once_in_order(out, spoken_words) -> None:
    """Every word of the speech leaves once, in order, identified by its place in the audio; its
    text is the final's, except a heard word that Transcribe changed later (it stays as sent)."""
    sent = [w for _, s in out for w in s.words if not w.punctuation]
    assert [w.start_time for w in sent] == [start for _, start, _ in spoken_words]
    for w, (said, _, _) in zip(sent, spoken_words, strict=True):
        assert w.content.casefold() == said.casefold() or w.stable is False, (w, said)


@pytest.mark.parametrize("punctuated", [True, False])
def test_generated_continuous_speech_at_the_defaults(punctuated):
    lengths: list[int] = []
    for seed in (21, 22, 23):
        rep = continuous_speech(punctuated, seed)
        out = replay(PartialResultProcessor(ProcessorConfig()), rep.events, tick=0.05, flush=True)
        assert_every_word_once_in_order(out, continuous_speech_doc(punctuated, seed)["words"])
        early = [s for _, s in out if s.reason == "early"]
        assert early and all(s.continues for s in early)
        # Heard words only end an early phrase: settled words first, then at most one heard word
        # (with the words that lean on it).
        for s in early:
            flags = [w.stable for w in s.words if not w.punctuation]
            assert flags == sorted(flags, reverse=True) and flags[0]
            assert sum(1 for w in s.words if w.stable is False and w.content.casefold() not in LEANING) <= 1
        # Early phrases do the work: far more segments than results.
        assert len(out) > 3 * len(rep.expected)
        lengths += [s.word_count for _, s in out]
    assert sum(1 for n in lengths if n == 1) <= 0.1 * len(lengths)
    assert statistics.median(lengths) >= 4


@pytest.mark.parametrize("punctuated", [True, False])
def test_generated_continuous_speech_settled_only_is_exactly_the_final(punctuated):
    rep = continuous_speech(punctuated, 24)
    truth = continuous_speech_doc(punctuated, 24)["words"]
    out = replay(PartialResultProcessor(ProcessorConfig(phrase_tail_words=0)), rep.events, tick=0.05, flush=True)
    words = [(w.content.casefold(), w.start_time) for _, s in out for w in s.words if not w.punctuation]
    assert words == [(c.casefold(), start) for c, start, _ in truth]
    assert all(w.stable for _, s in out if s.reason == "early" for w in s.words)


def test_a_later_result_waits_for_the_words_of_an_earlier_one():
    p = proc()
    first = items_from_text("we meet at two", start=0.0, stable=1)
    second = items_from_text("and then we go home now", start=2.0, stable=5)
    assert [s.text for s in p.process(event(result("a", first)), now=1.5)] == []
    assert p.process(event(result("b", second)), now=3.5) == []  # "a" still has "at two" to come
    assert p.tick(4.0) == []
    final = p.process(event(result("a", items_from_text("we meet at two.", stable=True), partial=False)), now=4.1)
    # The final closes "a"; the same call lets "b"'s settled words (waiting since 3.5 s) go, after it.
    assert [s.text for s in final] == ["we meet at two.", "and then we go home"]


def test_config_rejects_inconsistent_phrase_words():
    with pytest.raises(ValueError):
        ProcessorConfig(phrase_max_words=3, phrase_min_words=4)
    with pytest.raises(ValueError):
        ProcessorConfig(phrase_max_wait=0)
    assert ProcessorConfig(phrase_max_words=0, phrase_min_words=9).phrase_max_words == 0


def test_config_reads_the_phrase_settings_from_the_environment():
    cfg = ProcessorConfig.from_env({"PHRASE_MAX_WORDS": "6", "PHRASE_MIN_WORDS": "4", "PHRASE_MAX_WAIT": "0.7"})
    assert (cfg.phrase_max_words, cfg.phrase_min_words, cfg.phrase_max_wait) == (6, 4, 0.7)


SHORT_PASSAGE = ("So the council has agreed a plan with three parts, and the first part is a network of lanes. "
                 "The second part is a bus service that runs every ten minutes which is what people ask about.")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 100_000), punctuated=st.booleans(), pace=st.floats(0.7, 1.5),
       max_words=st.integers(1, 8), min_words=st.integers(1, 8), max_wait=st.floats(0.05, 1.5),
       tail=st.integers(0, 2), tick=st.sampled_from([0.01, 0.05, 0.2]), rate=st.sampled_from([2, 5, 10]),
       final_lag=st.sampled_from([(0.6, 0.9), (1.5, 2.5), (2.5, 4.0)]))
def test_generated_speech_any_phrase_settings_every_word_once_in_order(seed, punctuated, pace, max_words, min_words,
                                                                       max_wait, tail, tick, rate, final_lag):
    # Late finals (final_lag): the next result's partials run meanwhile, and must not overtake.
    doc = continuous_speech_doc(punctuated, seed, SHORT_PASSAGE, pace=pace, final_lag=final_lag)
    rep = replay_from_doc(doc, "generated")
    cfg = ProcessorConfig(phrase_max_words=max_words, phrase_min_words=min(min_words, max_words),
                          phrase_max_wait=max_wait, phrase_tail_words=tail, max_rate_per_second=rate)
    out = replay(PartialResultProcessor(cfg), rep.events, tick=tick, flush=True)
    assert_every_word_once_in_order(out, doc["words"])
    for _, s in out:
        if s.reason == "early":
            assert s.continues
            assert tail or all(w.stable for w in s.words)


def test_the_package_imports_without_the_transcribe_sdk():
    """The sendAudio handler's zip has no amazon_transcribe; the SDK's names are only type hints here."""
    functions = Path(__file__).resolve().parents[2]
    code = ("import sys; sys.modules['amazon_transcribe'] = None; sys.modules['amazon_transcribe.model'] = None; "
            "from audio_transcription.partial_results.config import ProcessorConfig; "
            "from audio_transcription.partial_results.processor import PartialResultProcessor; "
            "PartialResultProcessor(ProcessorConfig()).tick(1.0)")
    subprocess.run([sys.executable, "-c", code], cwd=functions, check=True, env={**os.environ, "PYTHONPATH": str(functions)})
