"""PartialResultProcessor rules, one at a time, on constructed events."""

from __future__ import annotations

import pytest
from audio_transcription.partial_results.config import ProcessorConfig
from audio_transcription.partial_results.model import join_words
from audio_transcription.partial_results.processor import PartialResultProcessor
from audio_transcription.partial_results.rate_limiter import TokenBucket
from audio_transcription.tests.replays import spoken
from audio_transcription.tests.transcripts import event, items_from_text, mark, result, word
from common.settings import SettingsError


def proc(**overrides) -> PartialResultProcessor:
    # Each test here isolates one rule, so early phrases (test_partial_phrasing.py) are off.
    base = dict(min_stability_threshold=1.0, max_buffer_timeout=7.0, pause_threshold=2.0,
                orphan_timeout=15.0, max_rate_per_second=10, dedup_cache_ttl=10, phrase_max_words=0)
    base.update(overrides)
    return PartialResultProcessor(ProcessorConfig(**base))


def texts(segments):
    return [s.text for s in segments]


def test_segment_fields():
    p = proc()
    items = items_from_text("Hello there. How are", stable=3)
    segs = p.process(event(result("r1", items)), now=1.0)
    assert len(segs) == 1
    seg = segs[0]
    assert seg.text == "Hello there."
    assert (seg.start_time, seg.end_time) == (items[0].start_time, items[2].end_time)
    assert seg.result_id == "r1" and seg.is_final is False and seg.stable is True and seg.reason == "stable"
    assert seg.word_timings == [(items[0].start_time, items[0].end_time), (items[1].start_time, items[1].end_time)]
    assert seg.word_count == 2


def test_unstable_punctuation_does_not_end_a_phrase_at_threshold_one():
    p = proc()
    # "The Amazon." with an unstable full stop: Transcribe may drop it in the next partial
    items = [word("The", 0.0, 0.2, True), word("Amazon", 0.25, 0.6, True), mark(".", 0.6, False)]
    assert p.process(event(result("r", items)), 1.0) == []


def test_threshold_is_the_share_of_stable_words_in_the_phrase():
    items = items_from_text("one two three four five.", stable=4)  # 4 of 5 words stable, "." unstable
    assert proc(min_stability_threshold=0.8).process(event(result("r", items)), 1.0)[0].text == "one two three four five."
    assert proc(min_stability_threshold=0.81).process(event(result("r", items)), 1.0) == []
    assert proc(min_stability_threshold=0.0).process(event(result("r", items_from_text("a b.", stable=False))), 1.0)


def test_clause_marks_end_a_phrase_only_after_enough_words():
    p = proc()
    short = items_from_text("So, we begin now", stable=True)
    assert p.process(event(result("r", short)), 1.0) == []
    p = proc()
    long_ = items_from_text("When the meeting starts, we begin", stable=True)
    assert texts(p.process(event(result("r", long_)), 1.0)) == ["When the meeting starts,"]


def test_gap_before_next_word_ends_a_phrase():
    items = [word("wait", 0.0, 0.3, True), word("here", 0.35, 0.6, True), word("now", 3.0, 3.3, False)]
    assert texts(proc(pause_threshold=2.0).process(event(result("r", items)), 4.0)) == ["wait here"]
    assert proc(pause_threshold=3.0).process(event(result("r", items)), 4.0) == []


def test_trailing_silence_in_the_result_ends_a_phrase():
    items = [word("yes", 0.0, 0.3, True), word("indeed", 0.35, 0.7, True)]
    assert texts(proc().process(event(result("r", items, end_time=3.0)), 3.2)) == ["yes indeed"]
    assert proc().process(event(result("r", items, end_time=1.0)), 1.2) == []


def test_final_emits_only_what_partials_did_not():
    p = proc()
    p.process(event(result("r", items_from_text("Good morning. And", stable=3))), 1.0)
    segs = p.process(event(result("r", items_from_text("Good morning. And welcome.", stable=True), partial=False)), 2.0)
    assert texts(segs) == ["And welcome."]
    assert segs[0].is_final and segs[0].reason == "final"


def test_final_adding_only_punctuation_emits_nothing():
    p = proc(pause_threshold=0.15)
    items = [word("done", 0.0, 0.3, True), word("here", 0.35, 0.8, True)]
    assert texts(p.process(event(result("r", items, end_time=1.0)), 1.0)) == ["done here"]
    final = items + [mark(".", 0.8, True)]
    assert p.process(event(result("r", final, partial=False)), 1.5) == []


def test_corrected_emitted_word_is_not_emitted_again():
    p = proc(min_stability_threshold=0.5)
    first = items_from_text("we meet at too.", stable=2)  # "at too." still unstable
    assert texts(p.process(event(result("r", first)), 1.0)) == ["we meet at too."]
    corrected = items_from_text("we meet at two. See you", stable=3)
    assert p.process(event(result("r", corrected)), 1.5) == []
    final = items_from_text("we meet at two. See you there.", stable=True)
    segs = p.process(event(result("r", final, partial=False)), 2.0)
    assert texts(segs) == ["See you there."]
    assert p.stats.corrections >= 1


def test_max_buffer_timeout_emits_stable_words_without_a_boundary():
    p = proc(max_buffer_timeout=3.0)
    items = items_from_text("this goes on and on", stable=3)
    assert p.process(event(result("r", items)), 1.0) == []
    assert p.tick(3.9) == []
    segs = p.tick(4.0)
    assert texts(segs) == ["this goes on"]
    assert segs[0].reason == "timeout" and segs[0].stable
    # the rest waits its own max_buffer_timeout from now
    more = items_from_text("this goes on and on and on", stable=5)
    assert p.process(event(result("r", more)), 4.5) == []
    assert texts(p.tick(7.0)) == ["and on"]


def test_max_buffer_timeout_never_forces_out_unsettled_words():
    p = proc(max_buffer_timeout=2.0, orphan_timeout=10.0)
    p.process(event(result("r", items_from_text("churning words here", stable=False))), 1.0)
    assert p.tick(3.0) == []
    segs = p.process(event(result("r", items_from_text("turning words here now", stable=2))), 3.5)
    assert texts(segs) == ["turning words"]  # waiting since 1.0, settled now
    segs = p.tick(13.5)
    assert texts(segs) == ["here now"] and segs[0].reason == "orphan" and not segs[0].stable


def test_orphan_flush_and_late_final_emit_each_word_once():
    p = proc(orphan_timeout=5.0, max_buffer_timeout=60)
    p.process(event(result("r", items_from_text("left hanging", stable=1))), 1.0)
    assert p.tick(5.9) == []
    segs = p.tick(6.0)
    assert texts(segs) == ["left hanging"] and segs[0].reason == "orphan"
    assert p.stats.orphans_flushed == 1
    late = p.process(event(result("r", items_from_text("left hanging out to dry.", stable=True), partial=False)), 7.0)
    assert texts(late) == ["out to dry."]


def test_repeated_final_is_a_duplicate():
    p = proc()
    final = event(result("r", items_from_text("Once only.", stable=True), partial=False))
    assert texts(p.process(final, 1.0)) == ["Once only."]
    assert p.process(final, 1.2) == []
    assert p.stats.duplicates == 1


def test_same_words_under_another_result_id_are_duplicates():
    p = proc()
    items = items_from_text("Same words.", start=1.0, stable=True)
    assert texts(p.process(event(result("a", items, partial=False)), 2.0)) == ["Same words."]
    assert p.process(event(result("b", items, partial=False)), 2.5) == []
    assert p.stats.duplicates == 2
    # after the TTL the cache has forgotten them
    later = proc(dedup_cache_ttl=1)
    later.process(event(result("a", items, partial=False)), 2.0)
    later.tick(5.0)
    assert texts(later.process(event(result("b", items, partial=False)), 5.0)) == ["Same words."]


def test_final_under_a_new_result_id_supersedes_the_open_partials():
    # the AWS docs example shows different ids on the partial and the final of one segment
    p = proc(min_stability_threshold=0.8)
    first = p.process(event(result("partial-id", items_from_text("The Amazon is the largest rainforest. On", stable=5))), 3.0)
    assert texts(first) == ["The Amazon is the largest rainforest."]
    final = items_from_text("The Amazon is the largest rainforest on the planet.", stable=True)
    segs = p.process(event(result("final-id", final, partial=False)), 4.5)
    assert spoken(segs[0].words) == ["on", "the", "planet"]
    assert not p.has_open_results
    assert p.flush(60.0) == []


def test_rate_limit_drops_excess_partials_never_finals():
    p = proc(max_rate_per_second=2)
    words = "a b c d e f g h i j".split()
    dropped_before = 0
    for i in range(1, len(words) + 1):
        items = items_from_text(" ".join(words[:i]), stable=max(0, i - 2))
        p.process(event(result("r", items)), 1.0 + i * 0.02)  # 50 partials/s
    dropped_before = p.stats.partials_dropped
    assert dropped_before >= 7
    segs = p.process(event(result("r", items_from_text(" ".join(words) + ".", stable=True), partial=False)), 1.3)
    assert p.stats.finals == 1
    assert spoken(segs[0].words) == words


def test_dropped_partial_is_still_the_snapshot_an_orphan_flush_uses():
    p = proc(max_rate_per_second=1, orphan_timeout=2.0, max_buffer_timeout=60)
    p.process(event(result("r", items_from_text("first", stable=False))), 1.0)
    p.process(event(result("r", items_from_text("first second third", stable=False))), 1.1)  # dropped
    assert p.stats.partials_dropped == 1
    assert texts(p.tick(3.1)) == ["first second third"]


def test_flush_emits_every_open_result():
    p = proc()
    p.process(event(result("a", items_from_text("open one", stable=1)),
                    result("b", items_from_text("open two", start=5.0, stable=False))), 1.0)
    segs = p.flush(2.0)
    assert sorted(texts(segs)) == ["open one", "open two"]
    assert {s.reason for s in segs} == {"flush"}
    assert not p.has_open_results
    assert p.stats.orphans_flushed == 0  # flush is the end of the stream, counted by the caller


def test_feature_flag_can_change_between_events():
    p = proc()
    p.partial_results_enabled = False
    assert p.process(event(result("r", items_from_text("Stop here. Next", stable=3))), 1.0) == []
    p.partial_results_enabled = True
    assert texts(p.process(event(result("r", items_from_text("Stop here. Next one", stable=3))), 1.5)) == ["Stop here."]


def test_empty_events_and_results_are_harmless():
    p = proc()
    assert p.process(event(), 1.0) == []
    assert p.process(event(result("r", [])), 1.0) == []
    assert p.process(event(result("r", [], partial=False)), 1.0) == []
    assert p.stats.events == 3


def test_join_words_for_languages_without_spaces():
    p = PartialResultProcessor(ProcessorConfig(join_without_spaces=True))
    items = [word("今日", 0, 0.3, True), word("は", 0.3, 0.4, True), mark("。", 0.4, True)]
    assert texts(p.process(event(result("r", items, partial=False)), 1.0)) == ["今日は。"]
    assert join_words(()) == ""


def test_token_bucket():
    bucket = TokenBucket(2)
    assert [bucket.try_take(0.0) for _ in range(3)] == [True, True, False]
    assert bucket.try_take(0.5) is True
    assert bucket.try_take(0.5) is False
    assert bucket.try_take(0.4) is False  # time going backwards adds nothing


def test_config_validation_and_env():
    with pytest.raises(ValueError):
        ProcessorConfig(min_stability_threshold=1.5)
    with pytest.raises(ValueError):
        ProcessorConfig(orphan_timeout=0)
    env = {"MIN_STABILITY_THRESHOLD": "0.8", "MAX_BUFFER_TIMEOUT": "7", "PAUSE_THRESHOLD": "2.0",
           "ORPHAN_TIMEOUT": "15", "MAX_RATE_PER_SECOND": "10", "DEDUP_CACHE_TTL": "10"}
    cfg = ProcessorConfig.from_env(env)
    assert (cfg.min_stability_threshold, cfg.max_buffer_timeout, cfg.orphan_timeout, cfg.max_rate_per_second) == (0.8, 7.0, 15.0, 10.0)
    assert cfg.partial_results_enabled is True
    with pytest.raises(SettingsError):
        ProcessorConfig.from_env({**env, "MIN_STABILITY_THRESHOLD": "high"})
    with pytest.raises(SettingsError):
        ProcessorConfig.from_env({**env, "MIN_STABILITY_THRESHOLD": "2"})
