"""The stream worker against the fake Transcribe stream and moto DynamoDB/SSM.

Chunks enter through the real ``sendAudio`` handler; the worker's segments are captured at
the Lambda client (async invokes of the translation function).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import boto3
import pytest
from audio_transcription.audio_processor.handler import handle as handle_audio
from audio_transcription.chunks import chunk_item
from audio_transcription.quality import chunk_figures, pcm16
from audio_transcription.stream_worker.lease import LeaseStore
from audio_transcription.stream_worker.starter import start_worker
from audio_transcription.stream_worker.worker import (
    GAP_WAIT,
    OUTCOME_ENDED,
    OUTCOME_FAILED,
    OUTCOME_HANDOVER,
    OUTCOME_NOT_LEASED,
    OUTCOME_SILENCE,
    POLL_MAX,
    StreamWorker,
)
from audio_transcription.tests.conftest import SESSION, SPEAKER, TRANSLATION_FN, WORKER_FN
from audio_transcription.tests.fakes import (
    FakeTranscribe,
    Killed,
    audio_message,
    silence_chunk,
    speech_chunk,
    word_of,
    ws_event,
)


def script(words: int, pause_every: int = 0) -> list[bytes]:
    """Chunks: words w1..wN, a pause after every ``pause_every`` words, and a pause at the end."""
    out = []
    for i in range(1, words + 1):
        out.append(speech_chunk(i))
        if pause_every and i % pause_every == 0:
            out.append(silence_chunk())
    out.append(silence_chunk())
    return out


def send_all(world, chunks, start_sequence: int = 1, interval: float = 0.1) -> list[dict]:
    """Send chunks through the sendAudio handler, as a speaker would, in real time."""
    deps = world.audio_deps()
    results = []
    for i, pcm in enumerate(chunks):
        results.append(handle_audio(ws_event(audio_message(SESSION, start_sequence + i, pcm), SPEAKER), deps))
        world.clock.advance(interval)
    assert all(r == {"statusCode": 200} for r in results), world.replier.sent[-1:]
    return results


def seed(world, chunks, start_sequence: int = 1, interval: float = 0.1) -> None:
    """Store chunks as accepted ones (what the handler writes), fast: for tests about the worker only."""
    row = world.session()
    offset = int(row.get("audioSamples", 0))
    now = world.clock.time()
    with world.chunks.batch_writer() as batch:
        for i, pcm in enumerate(chunks):
            batch.put_item(Item=chunk_item(SESSION, start_sequence + i, pcm, offset, chunk_figures(pcm16(pcm)),
                                           now + i * interval, int(now) + 3600))
            offset += len(pcm) // 2
    world.sessions.update_item(Key={"sessionId": SESSION}, UpdateExpression="SET lastAudioSequence = :s, audioSamples = :o",
                               ExpressionAttributeValues={":s": start_sequence + len(chunks) - 1, ":o": offset})
    world.clock.advance(interval * len(chunks))
    start_worker(LeaseStore(world.sessions), world.lambdas, WORKER_FN, SESSION, world.clock.time(), 30.0)


def worker_starts(world) -> list[dict]:
    return world.lambdas.payloads(WORKER_FN)


def segments(world) -> list[dict]:
    return sorted(world.lambdas.payloads(TRANSLATION_FN), key=lambda p: p["sequence"])


def spoken(payloads) -> list[str]:
    return [w for p in payloads for w in re.findall(r"w\d+", p["text"])]


def run_worker(world, lease_id: str, remaining: float = 900.0, settings=None, transcribe=None, **deps):
    deadline = world.clock.time() + remaining
    worker = StreamWorker(settings or world.worker_settings, world.worker_deps(transcribe, **deps), SESSION, lease_id,
                          lambda: deadline - world.clock.time())
    return asyncio.run(worker.run()), worker


def test_ordered_chunks_in_segments_out(world):
    world.put_session()
    chunks = script(23, pause_every=9)
    assert all(r == {"statusCode": 200} for r in send_all(world, chunks))
    starts = worker_starts(world)
    assert len(starts) == 1 and starts[0]["sessionId"] == SESSION and starts[0]["reason"] == "start"

    result, _ = run_worker(world, starts[0]["leaseId"])

    assert result.outcome == OUTCOME_SILENCE
    assert world.transcribe.fed == chunks  # every chunk, in order, once
    payloads = segments(world)
    assert spoken(payloads) == [f"w{i}" for i in range(1, 24)]
    # stable phrases went out before their results were final
    assert any(not p["isFinal"] and p["reason"] == "stable" for p in payloads)
    for p in payloads:
        assert p["segmentId"] == f"{SESSION}#{p['sequence']}"
        assert p["sourceLanguage"] == "en-US"
        assert 0 <= p["startTime"] < p["endTime"]
        assert p["audioSpan"] == {"startTime": p["startTime"], "endTime": p["endTime"], "sampleRate": 16000}
        assert p["dynamics"]["rate"]["source"] == "transcript"
        assert p["dynamics"]["volume"]["level"] in ("whisper", "soft", "medium", "loud")
    assert [p["sequence"] for p in payloads] == sorted({p["sequence"] for p in payloads})
    # fed chunks are gone from the buffer, the lease is released, the position recorded
    assert world.chunks.scan()["Items"] == []
    row = world.session()
    assert "workerLeaseId" not in row and int(row["lastFedSequence"]) == len(chunks)


def test_segment_times_are_session_audio_seconds(world):
    world.put_session()
    chunks = script(8)
    send_all(world, chunks)
    run_worker(world, worker_starts(world)[0]["leaseId"])
    payloads = segments(world)
    # word i is chunk i (100 ms each): the first segment starts at 0.0, the last ends at 0.8 s
    assert payloads[0]["startTime"] == 0.0
    assert payloads[-1]["endTime"] == pytest.approx(0.8)


def test_segment_payload_passes_the_translation_pipeline_contract(world):
    segment_module = pytest.importorskip("translation_pipeline.segment")
    world.put_session()
    send_all(world, script(6))
    run_worker(world, worker_starts(world)[0]["leaseId"])
    for payload in segments(world):
        parsed = segment_module.Segment.from_event(payload)
        assert parsed.segment_id == payload["segmentId"]


def test_metrics_of_a_run(world):
    world.put_session()
    chunks = script(50, pause_every=10)  # 5.6 s: one quality window
    seed(world, chunks[:-6])
    send_all(world, chunks[-6:], start_sequence=len(chunks) - 5)
    run_worker(world, worker_starts(world)[0]["leaseId"])
    m = world.metrics
    assert m.total("AudioChunksReceived") == 6
    assert len(m.values["AudioProcessingLatency"]) == 6
    assert len(m.values["TranscribeStreamInitLatency"]) >= 1
    assert len(m.values["TranscriptionForwardingLatency"]) == len(segments(world))
    assert len(m.values["PartialResultProcessingLatency"]) == len(segments(world))
    assert "AudioQualityClipping" in m.values
    assert m.total("ErrorCount") == 0
    assert m.flushes >= 1
    # The emotion dynamics alarms watch these: one analysis per segment that carries dynamics.
    analysed = [p for p in segments(world) if p.get("dynamics")]
    assert analysed and len(m.values["EmotionExtractionLatency"]) == len(analysed)
    assert m.total("EmotionAnalysisFailures") == 0


def test_a_failed_emotion_analysis_is_counted_and_the_segment_still_goes_out(world):
    def broken(*args, **kwargs):
        raise ValueError("analysis broke")

    world.put_session()
    send_all(world, script(6))
    run_worker(world, worker_starts(world)[0]["leaseId"], analyze=broken)
    sent = segments(world)
    assert sent and all(p.get("dynamics") is None for p in sent)
    assert world.metrics.total("EmotionAnalysisFailures") == len(sent)
    assert "EmotionExtractionLatency" not in world.metrics.values


def test_worker_that_dies_mid_stream_is_replaced_and_no_chunk_is_lost(world):
    world.put_session()
    first = script(20, pause_every=5)
    send_all(world, first)
    lease_a = worker_starts(world)[0]["leaseId"]
    dying = FakeTranscribe(kill_after=12)
    with pytest.raises(Killed):
        run_worker(world, lease_a, transcribe=dying)
    fed_a = dying.fed
    assert len(fed_a) == 12

    # the dead worker's lease still blocks a second worker until it expires ...
    more = script(5)
    more = [speech_chunk(100 + i) for i in range(1, 5)] + [silence_chunk()]
    send_all(world, more[:1], start_sequence=len(first) + 1)
    assert len(worker_starts(world)) == 1
    world.clock.advance(world.worker_settings.lease_seconds + 1)
    # ... then the next chunk starts a replacement
    send_all(world, more[1:], start_sequence=len(first) + 2)
    starts = worker_starts(world)
    assert len(starts) == 2 and starts[1]["leaseId"] != lease_a
    replacement = FakeTranscribe()
    result, _ = run_worker(world, starts[1]["leaseId"], transcribe=replacement)
    assert result.outcome == OUTCOME_SILENCE

    everything = first + more
    fed = fed_a + replacement.fed
    assert set(everything) <= set(fed), "a chunk was lost"
    repeated = [c for c in set(fed) if fed.count(c) > 1]
    # only chunks of the batch the worker died in (fed, not yet deleted) are fed twice
    assert len(repeated) <= 10
    assert replacement.fed[len(repeated):] == [c for c in everything if c not in fed_a]
    words_b = spoken(segments(world))
    assert [f"w{100 + i}" for i in range(1, 5)] == [w for w in words_b if int(w[1:]) > 100]


def test_handover_loses_nothing_and_repeats_nothing(world):
    settings = replace(world.worker_settings, handover_window_seconds=30.0, handover_deadline_seconds=5.0)
    world.put_session()
    chunks = script(60, pause_every=6)
    seed(world, chunks)  # all stored before the worker starts: a backlog it reads paced in real time
    lease_a = worker_starts(world)[0]["leaseId"]

    stream_a = FakeTranscribe()
    result_a, _ = run_worker(world, lease_a, remaining=33.0, settings=settings, transcribe=stream_a)
    assert result_a.outcome == OUTCOME_HANDOVER
    successor = [s for s in worker_starts(world) if s["reason"] == "handover"]
    assert len(successor) == 1 and successor[0]["leaseId"] == result_a.successor_lease
    assert world.session()["workerLeaseId"] == result_a.successor_lease
    assert 0 < len(stream_a.fed) < len(chunks)
    # it handed over at a pause: the last chunk it fed was silence
    assert word_of(stream_a.fed[-1]) is None
    a_segments = segments(world)

    stream_b = FakeTranscribe()
    result_b, _ = run_worker(world, result_a.successor_lease, settings=settings, transcribe=stream_b)
    assert result_b.outcome == OUTCOME_SILENCE
    assert stream_a.fed + stream_b.fed == chunks  # every chunk once, in order, across both
    all_segments = segments(world)
    assert spoken(all_segments) == [f"w{i}" for i in range(1, 61)]
    b_segments = [p for p in all_segments if p not in a_segments]
    assert min(p["sequence"] for p in b_segments) > max(p["sequence"] for p in a_segments)
    assert min(p["startTime"] for p in b_segments) >= max(p["endTime"] for p in a_segments)


def test_handover_at_the_deadline_without_a_pause(world):
    settings = replace(world.worker_settings, handover_window_seconds=10.0, handover_deadline_seconds=5.0)
    world.put_session()
    chunks = [speech_chunk(i) for i in range(1, 151)] + [silence_chunk()]  # 15 s of speech, no pause
    seed(world, chunks)
    stream_a = FakeTranscribe()
    result_a, _ = run_worker(world, worker_starts(world)[0]["leaseId"], remaining=12.0, settings=settings,
                             transcribe=stream_a)
    assert result_a.outcome == OUTCOME_HANDOVER
    assert word_of(stream_a.fed[-1]) is not None  # mid-sentence
    # paced: about (12 - 5) s of wall time plus the 2 s lead
    assert len(stream_a.fed) == pytest.approx(90, abs=3)
    stream_b = FakeTranscribe()
    run_worker(world, result_a.successor_lease, settings=settings, transcribe=stream_b)
    assert stream_a.fed + stream_b.fed == chunks
    assert spoken(segments(world)) == [f"w{i}" for i in range(1, 151)]


def test_failed_successor_invoke_leaves_the_next_chunk_to_start_one(world):
    settings = replace(world.worker_settings, handover_window_seconds=10.0, handover_deadline_seconds=5.0)
    world.put_session()
    send_all(world, script(20))
    world.lambdas.fail_for = {WORKER_FN}
    result, _ = run_worker(world, worker_starts(world)[0]["leaseId"], remaining=6.0, settings=settings)
    assert result.outcome == OUTCOME_HANDOVER and result.successor_lease is None
    assert "workerLeaseId" not in world.session()
    world.lambdas.fail_for = set()
    send_all(world, [speech_chunk(50)], start_sequence=22)
    assert len(worker_starts(world)) == 2


def test_session_end_stops_the_worker_after_its_chunks(world):
    world.put_session()
    chunks = script(10)
    send_all(world, chunks)
    world.sessions.update_item(Key={"sessionId": SESSION}, UpdateExpression="SET #s = :e",
                               ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":e": "ended"})
    result, _ = run_worker(world, worker_starts(world)[0]["leaseId"])
    assert result.outcome == OUTCOME_ENDED
    assert world.transcribe.fed == chunks
    assert spoken(segments(world)) == [f"w{i}" for i in range(1, 11)]
    assert "workerLeaseId" not in world.session()


def test_idle_stream_is_closed_and_reopened_when_audio_resumes(world):
    world.put_session()
    deps = world.audio_deps()
    first = [speech_chunk(1), speech_chunk(2), speech_chunk(3)]
    send_all(world, first)
    lease = worker_starts(world)[0]["leaseId"]
    transcribe = FakeTranscribe()
    deadline = world.clock.time() + 900
    settings = replace(world.worker_settings, silence_timeout_seconds=20.0)
    worker = StreamWorker(settings, world.worker_deps(transcribe), SESSION, lease, lambda: deadline - world.clock.time())

    async def scenario():
        task = asyncio.create_task(worker.run())
        # let the worker feed the first chunks and go idle past stream_idle_seconds
        while world.clock.time() < deadline - 900 + 8:
            await asyncio.sleep(0.001)
        assert transcribe.streams[0].ended  # closed while idle: its words came out as finals
        for i, pcm in enumerate([speech_chunk(4), speech_chunk(5), silence_chunk()]):
            handle_audio(ws_event(audio_message(SESSION, 4 + i, pcm), SPEAKER), deps)
        return await task

    result = asyncio.run(scenario())
    assert result.outcome == OUTCOME_SILENCE
    assert len(transcribe.streams) == 2
    assert spoken(segments(world)) == ["w1", "w2", "w3", "w4", "w5"]
    payloads = segments(world)
    # session time runs on across streams (the second stream starts at its chunk's offset)
    assert payloads[-1]["startTime"] == pytest.approx(0.3)


class TooManyReads(BaseException):
    """The worker kept reading without letting time pass (a BaseException: the worker cannot swallow it)."""


class CountingChunks:
    """The worker's ChunkStore, recording when each read happened; a busy loop fails instead of hanging."""

    def __init__(self, inner, clock, limit: int = 200) -> None:
        self.inner, self.clock, self.limit = inner, clock, limit
        self.reads: list[float] = []

    def read_after(self, *args, **kwargs):
        self.reads.append(self.clock.time())
        if len(self.reads) > self.limit:
            raise TooManyReads(f"{len(self.reads)} reads, the clock at +{self.clock.time() - self.reads[0]:.2f} s")
        return self.inner.read_after(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _store(world, sequence: int, pcm: bytes, offset: int, received_at: float) -> None:
    world.chunks.put_item(Item=chunk_item(SESSION, sequence, pcm, offset, chunk_figures(pcm16(pcm)),
                                          received_at, int(received_at) + 3600))


def _gap_run(world, late_chunk_after: float | None):
    """Chunks 1 and 3 stored, 2 (between them on the timeline) still missing; it lands
    ``late_chunk_after`` seconds later (as a concurrent sendAudio finishing its write), or never."""
    world.put_session()
    now = world.clock.time()
    words = [speech_chunk(1), speech_chunk(2), speech_chunk(3)]
    _store(world, 1, words[0], 0, now)
    _store(world, 3, words[2], 3200, now)
    world.sessions.update_item(Key={"sessionId": SESSION}, UpdateExpression="SET lastAudioSequence = :s, audioSamples = :o",
                               ExpressionAttributeValues={":s": 3, ":o": 4800})
    start_worker(LeaseStore(world.sessions), world.lambdas, WORKER_FN, SESSION, now, 30.0)
    stored_late: list[float] = []

    async def sleep(seconds: float) -> None:
        await world.clock.sleep(seconds)
        if late_chunk_after is not None and not stored_late and world.clock.time() >= now + late_chunk_after:
            _store(world, 2, words[1], 1600, world.clock.time())
            stored_late.append(world.clock.time())

    deps = world.worker_deps()
    chunks = CountingChunks(deps.chunks, world.clock)
    fed_at: list[float] = []
    transcribe = world.transcribe
    real_start = transcribe.start

    async def start(*args):
        stream = await real_start(*args)
        real_send = stream.send_audio

        async def send_audio(pcm: bytes) -> None:
            fed_at.append(world.clock.time())
            await real_send(pcm)

        stream.send_audio = send_audio
        return stream

    transcribe.start = start
    result, _ = run_worker(world, worker_starts(world)[0]["leaseId"], chunks=chunks, sleep=sleep)
    return result, words, fed_at, chunks.reads, (stored_late or [None])[0], now


def test_missing_chunk_is_waited_for_without_spinning(world):
    result, words, fed_at, reads, stored_at, start = _gap_run(world, late_chunk_after=0.3)
    assert result.outcome == OUTCOME_SILENCE
    assert world.transcribe.fed == words  # the late chunk went in its place
    assert spoken(segments(world)) == ["w1", "w2", "w3"]
    assert fed_at[1] >= stored_at and fed_at[1] - stored_at <= POLL_MAX  # fed once it was there
    # While waiting, reads are spaced out by the backoff: a handful, not a busy loop.
    waiting = [t for t in reads if t <= fed_at[1]]
    assert 2 <= len(waiting) <= 5
    assert waiting == sorted(set(waiting)), "every read came after time had passed"


def test_chunk_missing_for_good_is_skipped_after_the_gap_wait(world):
    result, words, fed_at, reads, _, start = _gap_run(world, late_chunk_after=None)
    assert result.outcome == OUTCOME_SILENCE
    assert world.transcribe.fed == [words[0], words[2]]  # the gap semantics: wait GAP_WAIT, then go on
    assert spoken(segments(world)) == ["w1", "w3"]
    assert start + GAP_WAIT <= fed_at[1] <= start + GAP_WAIT + POLL_MAX
    assert 3 <= len([t for t in reads if t < fed_at[1]]) <= 8


def test_feature_flag_off_emits_final_results_only(world):
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=world.flag, Type="String", Value='{"partialResultsEnabled": false}', Overwrite=True)
    world.put_session()
    send_all(world, script(12, pause_every=6))
    run_worker(world, worker_starts(world)[0]["leaseId"])
    payloads = segments(world)
    assert payloads and all(p["isFinal"] for p in payloads)
    assert spoken(payloads) == [f"w{i}" for i in range(1, 13)]


def test_stream_without_stability_flags_counts_a_fallback(world):
    world.put_session()
    send_all(world, script(8))
    run_worker(world, worker_starts(world)[0]["leaseId"], transcribe=FakeTranscribe(stabilize=False))
    assert world.metrics.total("TranscribeFallbackTriggered") == 1
    assert spoken(segments(world)) == [f"w{i}" for i in range(1, 9)]


def test_transcribe_start_failure_tells_the_speaker_and_backs_off(world):
    world.put_session()
    send_all(world, script(3))
    lease = worker_starts(world)[0]["leaseId"]
    result, _ = run_worker(world, lease, transcribe=FakeTranscribe(fail_start=RuntimeError("BadRequestException")))
    assert result.outcome == OUTCOME_FAILED
    assert [e["code"] for _, e in world.replier.sent] == ["TRANSCRIPTION_UNAVAILABLE"]
    row = world.session()
    assert row["workerLeaseId"] == lease and float(row["workerLeaseExpiresAt"]) > world.clock.time() + 30
    # chunks wait in the buffer; no worker storm while the lease is held
    send_all(world, [speech_chunk(9)], start_sequence=5)
    assert len(worker_starts(world)) == 1
    assert len(world.chunks.scan()["Items"]) == 5


def test_broken_stream_is_replaced_by_a_new_one(world):
    world.put_session()
    script_chunks = script(12, pause_every=4)
    seed(world, script_chunks)
    transcribe = FakeTranscribe(fail_after_events=[2])  # the first stream breaks after two events
    result, _ = run_worker(world, worker_starts(world)[0]["leaseId"], transcribe=transcribe)
    assert result.outcome == OUTCOME_SILENCE and len(transcribe.streams) == 2
    assert world.metrics.total("ErrorCount") == 1
    # the broken stream's words are flushed as they stood; the next chunks go to the new stream
    assert spoken(segments(world)) == [f"w{i}" for i in range(1, 13)]
    assert transcribe.fed == script_chunks


def test_stream_that_keeps_failing_backs_off(world):
    world.put_session()
    seed(world, script(30, pause_every=2))
    transcribe = FakeTranscribe(fail_after_events=[0, 0, 0, 0])
    lease = worker_starts(world)[0]["leaseId"]
    result, _ = run_worker(world, lease, transcribe=transcribe)
    assert result.outcome == OUTCOME_FAILED and len(transcribe.streams) == 3
    assert [e["code"] for _, e in world.replier.sent] == ["TRANSCRIPTION_UNAVAILABLE"]
    assert float(world.session()["workerLeaseExpiresAt"]) > world.clock.time() + 30


def test_invoke_with_a_stale_lease_does_nothing(world):
    world.put_session()
    send_all(world, script(2))
    result, _ = run_worker(world, "not-the-lease")
    assert result.outcome == OUTCOME_NOT_LEASED
    assert world.transcribe.streams == []


def test_lost_lease_stops_the_worker_without_releasing(world):
    world.put_session()
    seed(world, script(40))
    lease = worker_starts(world)[0]["leaseId"]

    class Thief:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def renew(self, *args, **kwargs):
            world.sessions.update_item(Key={"sessionId": SESSION}, UpdateExpression="SET workerLeaseId = :x",
                                       ExpressionAttributeValues={":x": "someone-else"})
            return self.inner.renew(*args, **kwargs)

    deps = world.worker_deps()
    result, _ = run_worker(world, lease, leases=Thief(deps.leases))
    assert result.outcome == "lease_lost"
    assert world.session()["workerLeaseId"] == "someone-else"


def quality_run(world, chunks):
    world.put_session()
    seed(world, chunks + [silence_chunk()])
    run_worker(world, worker_starts(world)[0]["leaseId"])
    return [e for _, e in world.replier.sent if e["type"] == "audioQuality"]


def test_clean_speech_raises_no_quality_issue(world):
    assert quality_run(world, [speech_chunk(i) for i in range(1, 121)]) == []
    assert min(world.metrics.values["AudioQualitySNR"]) > 20


def test_clipping_is_reported_once_per_minute(world):
    issues = quality_run(world, [speech_chunk(i, amplitude=30000) for i in range(1, 121)])  # 12 s, clipped
    clipping = [e for e in issues if e["issue"] == "clipping"]
    assert len(clipping) == 1
    assert clipping[0]["sessionId"] == SESSION and clipping[0]["clippingRatio"] > 0.01
    assert max(world.metrics.values["AudioQualityClipping"]) > 0.01


def test_noisy_audio_is_reported_once_per_minute(world):
    issues = quality_run(world, [speech_chunk(i, amplitude=1500, noise=1500) for i in range(1, 121)])
    assert [e["issue"] for e in issues] == ["low_snr"]
    assert issues[0]["snrDb"] < 10
    assert all(v < 10 for v in world.metrics.values["AudioQualitySNR"])


def test_silent_microphone_is_reported(world):
    issues = quality_run(world, [silence_chunk(level=0.4) for _ in range(160)])  # 16 s of nothing
    assert [e["issue"] for e in issues] == ["silence"]
