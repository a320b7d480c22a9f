"""The local Transcribe engines: real pocketsphinx on the shipped recording, and the scripted replay."""

from __future__ import annotations

import asyncio

import pytest
from amazon_transcribe.exceptions import BadRequestException
from amazon_transcribe.model import TranscriptEvent

from local.engines.transcribe import (
    PocketsphinxStreamFactory,
    ScriptedStreamFactory,
    Stabilizer,
    Word,
    load_transcript,
)
from tests.local.engines.speech import TRANSCRIPT, matched_words, recording_pcm, word_error_rate, words

CHUNK = 3200  # 100 ms


async def _transcribe(factory, pcm: bytes, language: str = "en-US") -> list[TranscriptEvent]:
    stream = await factory.start(language, 16000, "high")
    events: list[TranscriptEvent] = []

    async def read() -> None:
        async for event in stream.events():
            events.append(event)

    reader = asyncio.create_task(read())
    for offset in range(0, len(pcm), CHUNK):
        await stream.send_audio(pcm[offset:offset + CHUNK])
    await stream.end()
    await asyncio.wait_for(reader, 30)
    return events


def _check_shape_and_stability(events: list[TranscriptEvent], duration: float) -> list[str]:
    """Transcribe's shape, stable items never changed, finals end with a full stop; the final texts."""
    stable_seen: dict[str, dict[int, tuple]] = {}
    finished: set[str] = set()
    finals: list[str] = []
    for event in events:
        assert isinstance(event, TranscriptEvent)
        [result] = event.transcript.results
        assert result.result_id not in finished, "no event for a result after its final"
        alternative = result.alternatives[0]
        items = alternative.items
        assert items, "results carry items"
        assert 0 <= result.start_time <= result.end_time <= duration + 0.5
        for index, item in enumerate(items):
            assert item.stable in (True, False)
            assert item.start_time <= item.end_time
            key = (item.content, item.item_type, item.start_time, item.end_time)
            known = stable_seen.setdefault(result.result_id, {})
            if index in known:
                assert known[index] == key, f"stable item {known[index]} changed into {key}"
            if item.stable:
                known[index] = key
        # stable items form a prefix
        flags = [item.stable for item in items]
        assert flags == sorted(flags, reverse=True)
        words_only = [i for i in items if i.item_type == "pronunciation"]
        assert all(a.end_time <= b.start_time + 1e-6 for a, b in zip(words_only, words_only[1:], strict=False))
        assert alternative.transcript.rstrip(".") == " ".join(i.content for i in words_only)
        if not result.is_partial:
            finished.add(result.result_id)
            assert all(flags), "every item of a final result is stable"
            assert items[-1].item_type == "punctuation" and items[-1].content == "."
            assert alternative.transcript.endswith(".")
            assert all(0 <= i.confidence <= 1 for i in words_only)
            finals.append(alternative.transcript)
    assert set(stable_seen) == finished, "every result ends with a final"
    return finals


@pytest.fixture(scope="module")
def pocketsphinx_factory():
    pytest.importorskip("pocketsphinx")
    factory = PocketsphinxStreamFactory(prewarm=False)
    yield factory
    factory.close()


def test_pocketsphinx_recognises_the_recording(pocketsphinx_factory):
    pcm = recording_pcm()
    events = asyncio.run(_transcribe(pocketsphinx_factory, pcm))
    finals = _check_shape_and_stability(events, len(pcm) / 32000)
    reference = words(TRANSCRIPT.read_text())
    heard = words(" ".join(finals))
    assert len(finals) >= 3, f"the pauses between sentences end results: {finals}"
    assert matched_words(reference, heard) >= 0.7 * len(reference), finals
    assert word_error_rate(reference, heard) < 0.4, finals
    partials = [e for e in events if e.transcript.results[0].is_partial]
    assert len(partials) > len(finals), "partial results come before the finals"
    assert any(i.stable for e in partials for i in e.transcript.results[0].alternatives[0].items), \
        "words become stable before the result ends"


@pytest.mark.parametrize("language", ["fr-FR", "es-US", "de-DE"])
def test_other_languages_are_refused_like_transcribe(language):
    with pytest.raises(BadRequestException, match="English only"):
        asyncio.run(PocketsphinxStreamFactory(prewarm=False).start(language, 16000, "high"))
    with pytest.raises(BadRequestException, match="English only"):
        asyncio.run(ScriptedStreamFactory().start(language, 16000, "high"))


def test_other_sample_rates_and_bad_chunks_are_refused():
    with pytest.raises(BadRequestException, match="16000"):
        asyncio.run(ScriptedStreamFactory().start("en-US", 8000, "high"))

    async def odd_chunk() -> None:
        stream = await ScriptedStreamFactory().start("en-GB", 16000, "low")
        await stream.send_audio(b"\x00" * 3)

    with pytest.raises(BadRequestException, match="odd"):
        asyncio.run(odd_chunk())


def test_stabilizer_locks_words_that_survived_three_partials():
    s = Stabilizer(3)
    assert s.update([Word("good", 0.1, 0.4)]) == ([Word("good", 0.1, 0.4)], 0)
    assert s.update([Word("good", 0.1, 0.4)]) is None  # not distinct
    assert s.update([Word("good", 0.1, 0.4), Word("morning", 0.4, 0.8)])[1] == 0
    words_, stable = s.update([Word("good", 0.1, 0.4), Word("mourning", 0.4, 0.9), Word("all", 0.9, 1.1)])
    assert stable == 1 and words_[0].text == "good"
    # the decoder changes its mind about a stable word: the stable word stays
    words_, stable = s.update([Word("could", 0.1, 0.45), Word("morning", 0.45, 0.9), Word("all", 0.9, 1.2)])
    assert [w.text for w in words_] == ["good", "morning", "all"] and stable == 1
    assert words_[0] == Word("good", 0.1, 0.4)
    assert [w.text for w in s.final([Word("could", 0.1, 0.45), Word("all", 0.9, 1.2)])] == ["good", "all"]


def test_scripted_replays_the_transcript_at_audio_pace():
    pcm = b"\x00\x00" * 16000 * 12
    events = asyncio.run(_transcribe(ScriptedStreamFactory(word_seconds=0.25, pause_seconds=0.5), pcm))
    finals = _check_shape_and_stability(events, len(pcm) / 32000)
    sentences = load_transcript(TRANSCRIPT)
    assert finals[: len(sentences)] == sentences
    assert len(finals) > len(sentences), "the script repeats"


def test_scripted_sends_nothing_without_audio():
    async def run() -> list[TranscriptEvent]:
        stream = await ScriptedStreamFactory().start("en-US", 16000, "high")
        await stream.send_audio(b"\x00\x00" * 1600)  # 0.1 s: no word is over yet
        await stream.end()
        return [e async for e in stream.events()]

    assert asyncio.run(run()) == []


def test_a_stream_after_end_refuses_audio_and_a_closed_factory_refuses_streams(pocketsphinx_factory):
    async def run() -> None:
        stream = await pocketsphinx_factory.start("en-US", 16000, "low")
        await stream.send_audio(b"\x00\x00" * 1600)
        await stream.end()
        assert [e async for e in stream.events()] == []
        with pytest.raises(BadRequestException, match="ended"):
            await stream.send_audio(b"\x00\x00" * 1600)

    asyncio.run(run())
    closed = PocketsphinxStreamFactory()
    closed.warm()
    closed.close()
    with pytest.raises(BadRequestException, match="shut down"):
        asyncio.run(closed.start("en-US", 16000, "high"))
