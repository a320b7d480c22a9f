"""The TranslationProcessor end to end within the function, and its fault cases.

DynamoDB is moto; Translate, Polly and @connections are fakes at the SDK boundary. Every
test also checks that no listener ever receives a placeholder or error text as content.
"""

from __future__ import annotations

import base64
import threading

import pytest

from translation_pipeline import telemetry as m
from translation_pipeline.segment import Segment
from translation_pipeline.tests.fakes import (
    CACHE,
    CONNECTIONS,
    FRAME_LIMIT,
    SESSIONS,
    FakeManagementApi,
    FakePolly,
    FakeTranslate,
    assert_no_placeholder,
    client_error,
    fake_audio,
    fake_translation,
    put_connection,
    put_session,
    segment_event,
)

SID = "golden-eagle-4821"
LISTENERS = {"es1": "es", "es2": "es", "fr1": "fr", "en1": "en"}


@pytest.fixture
def session(ddb, now):
    """An active session: speaker row plus listeners in es (2), fr and en (the speaker's own language)."""
    put_session(ddb, SID, now, listeners=len(LISTENERS))
    put_connection(ddb, f"speaker-{SID}", SID, now, role="speaker")
    for cid, lang in LISTENERS.items():
        put_connection(ddb, cid, SID, now, language=lang)
    return SID


def _segment(sequence=1, text="Good morning everyone.", **kw):
    return Segment.from_event(segment_event(SID, sequence, text, **kw))


def _kinds(api, cid):
    return [(msg["type"], msg["part"]) for msg in api.messages_for(cid)]


def _all_messages(api):
    return [msg for cid in api.receivers() for msg in api.messages_for(cid)]


def _ledger_status(ddb, segment_id):
    return ddb.get_item(TableName=CACHE, Key={"cacheKey": {"S": f"segment#{segment_id}"}})["Item"]["status"]["S"]


def test_translation_segment_reaches_every_listener_in_its_language(session, make_processor, ddb):
    translate, polly, api = FakeTranslate(), FakePolly(), FakeManagementApi()
    processor = make_processor(translate, polly, api)
    result = processor.process(_segment())
    assert result.status == "processed"
    for cid, lang in LISTENERS.items():
        messages = api.messages_for(cid)
        assert [msg["type"] for msg in messages] == ["caption", "audio"], cid  # caption first, then audio
        caption = messages[0]
        expected = "Good morning everyone." if lang == "en" else fake_translation("Good morning everyone.", lang)
        assert caption["text"] == expected and caption["language"] == lang
        assert caption["translated"] is (lang != "en")
        assert {msg["segmentId"] for msg in messages} == {f"{SID}#1"} and {msg["sequence"] for msg in messages} == {1}
    assert f"speaker-{SID}" not in api.receivers()
    # Translate once per foreign language, Polly once per language (not per listener).
    assert sorted(c["TargetLanguageCode"] for c in translate.calls) == ["es", "fr"]
    assert sorted(c["VoiceId"] for c in polly.calls) == ["Joanna", "Lea", "Lucia"]
    # Emotion dynamics reach Polly as neural-safe SSML.
    assert all(c["TextType"] == "ssml" and c["Engine"] == "neural" and "<prosody" in c["Text"] for c in polly.calls)
    assert "pitch" not in polly.calls[0]["Text"]
    counts = processor.recorder.counts
    assert counts[m.CACHE_MISS] == 2 and counts[m.CACHE_HIT] == 0
    assert len(processor.recorder.timings[m.END_TO_END_LATENCY]) == 1
    assert _ledger_status(ddb, f"{SID}#1") == "complete"
    assert_no_placeholder(_all_messages(api))


def test_translation_cache_hit_skips_translate(session, make_processor):
    translate, api = FakeTranslate(), FakeManagementApi()
    processor = make_processor(translate, api=api)
    processor.process(_segment(1, "See you tomorrow."))
    processor.process(_segment(2, "See  you tomorrow. "))  # same normalized text
    assert len(translate.calls) == 2  # es and fr, for the first segment only
    assert processor.recorder.counts[m.CACHE_HIT] == 2
    assert api.messages_for("fr1")[2]["text"] == fake_translation("See you tomorrow.", "fr")


def test_translation_polly_throttling_recovers_with_backoff(session, make_processor):
    polly, api, sleeps = FakePolly(throttle=2), FakeManagementApi(), []
    processor = make_processor(polly=polly, api=api, sleeps=sleeps)
    processor.process(_segment())
    for cid in LISTENERS:
        assert [t for t, _ in _kinds(api, cid)] == ["caption", "audio"], cid
    assert len(polly.calls) == 5 and len(sleeps) >= 2 and all(s > 0 for s in sleeps)
    assert processor.recorder.counts[m.LANGUAGE_FAILURES] == 0
    assert_no_placeholder(_all_messages(api))


def test_translation_polly_throttling_exhausted_sends_caption_only(session, make_processor, ddb):
    polly, api = FakePolly(throttle=-1), FakeManagementApi()
    processor = make_processor(polly=polly, api=api)
    result = processor.process(_segment())
    for cid, lang in LISTENERS.items():
        assert [t for t, _ in _kinds(api, cid)] == ["caption"], cid
        assert result.languages[lang].failure == "synthesis" and result.languages[lang].caption_sent
    rec = processor.recorder
    assert rec.counts[m.LANGUAGE_FAILURES] == 3
    assert dict(rec.by_language[m.LANGUAGE_FAILURES]) == {"es": 1, "fr": 1, "en": 1}
    assert rec.counts[m.FALLBACK_COUNT] == 3  # SSML retries spent, plain text tried too, then given up
    # The caption was delivered, so the segment is done: a retry would only duplicate captions.
    assert _ledger_status(ddb, f"{SID}#1") == "complete"
    assert_no_placeholder(_all_messages(api))


def test_translation_translate_throttling_skips_only_that_language(session, make_processor, ddb):
    translate, api = FakeTranslate(failures={"fr": -1}), FakeManagementApi()
    processor = make_processor(translate, api=api)
    result = processor.process(_segment())
    assert api.messages_for("fr1") == []
    for cid in ("es1", "es2", "en1"):
        assert [t for t, _ in _kinds(api, cid)] == ["caption", "audio"], cid
    assert translate.calls_for("fr") == 4  # 1 + MAX_RETRIES
    assert result.languages["fr"].failure == "translation" and result.reason == "language_failed"
    assert dict(processor.recorder.by_language[m.LANGUAGE_FAILURES]) == {"fr": 1}
    assert _ledger_status(ddb, f"{SID}#1") == "partial"
    assert_no_placeholder(_all_messages(api))

    # A redelivery after Translate recovers serves French only; the others are not sent twice.
    translate.failures.clear()
    again = processor.process(_segment())
    assert again.status == "processed" and set(again.languages) == {"fr"}
    assert [t for t, _ in _kinds(api, "fr1")] == ["caption", "audio"]
    assert len(api.messages_for("es1")) == 2
    assert _ledger_status(ddb, f"{SID}#1") == "complete"


def test_translation_translate_throttling_transient_recovers(session, make_processor):
    translate, api, sleeps = FakeTranslate(failures={"es": 2}), FakeManagementApi(), []
    processor = make_processor(translate, api=api, sleeps=sleeps)
    processor.process(_segment())
    assert api.messages_for("es1")[0]["text"] == fake_translation("Good morning everyone.", "es")
    assert translate.calls_for("es") == 3 and len(sleeps) == 2


def test_translation_gone_listener_removed_others_receive(session, make_processor, ddb):
    api = FakeManagementApi(gone={"es2"})
    processor = make_processor(api=api)
    result = processor.process(_segment())
    assert api.messages_for("es2") == [] and api.attempts["es2"] == 1  # no audio attempted after Gone
    for cid in ("es1", "fr1", "en1"):
        assert [t for t, _ in _kinds(api, cid)] == ["caption", "audio"], cid
    assert "Item" not in ddb.get_item(TableName=CONNECTIONS, Key={"connectionId": {"S": "es2"}})
    count = ddb.get_item(TableName=SESSIONS, Key={"sessionId": {"S": SID}})["Item"]["listenerCount"]["N"]
    assert count == str(len(LISTENERS) - 1)
    assert result.languages["es"].gone == 1 and processor.recorder.counts[m.GONE_CONNECTIONS_REMOVED] == 1
    # The next segment no longer even tries the gone connection.
    processor.process(_segment(2, "Next phrase."))
    assert api.attempts["es2"] == 1
    assert_no_placeholder(_all_messages(api))


def test_translation_429_on_one_listener_backs_off(session, make_processor):
    api = FakeManagementApi(throttle={"fr1": 2})
    processor = make_processor(api=api)
    processor.process(_segment())
    assert [t for t, _ in _kinds(api, "fr1")] == ["caption", "audio"]
    assert processor.recorder.counts[m.BROADCAST_RETRIES] == 2 and processor.recorder.counts[m.BROADCAST_FAILURES] == 0


def test_translation_duplicate_segment_broadcast_once(session, make_processor):
    translate, polly, api = FakeTranslate(), FakePolly(), FakeManagementApi()
    processor = make_processor(translate, polly, api)
    first = processor.process(_segment())
    second = processor.process(_segment())
    assert first.status == "processed" and second.status == "duplicate" and second.reason == "complete"
    for cid in LISTENERS:
        assert len(api.messages_for(cid)) == 2, cid
    assert len(translate.calls) == 2 and len(polly.calls) == 3
    assert processor.recorder.counts[m.DUPLICATE_SEGMENTS_SKIPPED] == 1


def test_translation_concurrent_duplicates_broadcast_once(session, make_processor):
    api = FakeManagementApi(delay=0.01)
    processor = make_processor(api=api)
    results = []
    threads = [threading.Thread(target=lambda: results.append(processor.process(_segment()))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results) == ["duplicate", "duplicate", "processed"]
    for cid in LISTENERS:
        assert len(api.messages_for(cid)) == 2, cid


def test_translation_oversize_audio_split_into_frames(session, make_processor):
    polly, api = FakePolly(audio_size=300_000), FakeManagementApi()  # ~400 KB of base64
    processor = make_processor(polly=polly, api=api)
    processor.process(_segment())
    spoken = {c["VoiceId"]: fake_audio(c["VoiceId"], c["Text"], 300_000) for c in polly.calls}
    for cid in LISTENERS:
        audio = [msg for msg in api.messages_for(cid) if msg["type"] == "audio"]
        assert len(audio) >= 10
        assert [msg["part"] for msg in audio] == list(range(1, len(audio) + 1))
        assert {msg["parts"] for msg in audio} == {len(audio)}
        voice = audio[0]["voiceId"]
        assert b"".join(base64.b64decode(msg["data"]) for msg in audio) == spoken[voice], cid
    # The fake answers 413 above 32 KB, and none happened.
    assert max(len(data) for _, data in api.posts) <= FRAME_LIMIT
    assert processor.recorder.counts[m.BROADCAST_FAILURES] == 0


@pytest.mark.parametrize("state", [{"paused": True}, {"muted": True}, {"status": "ended"}])
def test_translation_silent_session_sends_nothing(ddb, now, make_processor, state):
    put_session(ddb, SID, now, **state)
    put_connection(ddb, "es1", SID, now, language="es")
    translate, polly, api = FakeTranslate(), FakePolly(), FakeManagementApi()
    processor = make_processor(translate, polly, api)
    result = processor.process(_segment())
    assert result.status == "suppressed"
    assert api.posts == [] and translate.calls == [] and polly.calls == []
    # Without a recorded pause position (a row from before pausedAtSample existed) every segment
    # is suppressed, as before. Resuming does not replay what was said while paused.
    put_session(ddb, SID, now)
    assert processor.process(_segment()).status == "duplicate"
    assert api.posts == []


@pytest.mark.parametrize("state", [{"paused": True, "paused_at_sample": 48_000},
                                   {"muted": True, "muted_at_sample": 48_000},
                                   {"paused": True, "muted": True, "paused_at_sample": 48_000, "muted_at_sample": 64_000}])
def test_translation_speech_from_before_a_pause_is_still_sent(ddb, now, make_processor, state):
    """A segment that reaches the pipeline after the pause or mute, but whose audio was captured
    before it (startTime 1.25 s < 3.0 s), goes to every listener; one from the pause on does not."""
    put_session(ddb, SID, now, listeners=len(LISTENERS), **state)
    for cid, lang in LISTENERS.items():
        put_connection(ddb, cid, SID, now, language=lang)
    api = FakeManagementApi()
    processor = make_processor(api=api)
    result = processor.process(_segment(1, startTime=1.25, endTime=2.9))
    assert result.status == "processed"
    for cid in LISTENERS:
        assert [t for t, _ in _kinds(api, cid)][0] == "caption" and ("audio", 1) in _kinds(api, cid), cid
    assert_no_placeholder(_all_messages(api))
    posts = len(api.posts)
    # At the position the silence began, and after it: suppressed (the earlier of pause and mute counts).
    assert processor.process(_segment(2, "Not for listeners.", startTime=3.0, endTime=3.4)).status == "suppressed"
    assert processor.process(_segment(3, "Not for listeners.", startTime=5.0, endTime=5.4)).status == "suppressed"
    # Without a start time nobody can tell when it was said: suppressed.
    assert processor.process(_segment(4, "Not for listeners.", startTime=None, endTime=None)).status == "suppressed"
    assert len(api.posts) == posts
    assert processor.recorder.counts[m.SEGMENTS_SUPPRESSED] == 3


def test_translation_ended_session_sends_nothing_even_from_before_a_pause(ddb, now, make_processor):
    put_session(ddb, SID, now, status="ended", paused=True, paused_at_sample=48_000)
    put_connection(ddb, "es1", SID, now, language="es")
    api = FakeManagementApi()
    result = make_processor(api=api).process(_segment(1, startTime=1.25, endTime=2.9))
    assert (result.status, result.reason) == ("suppressed", "ended") and api.posts == []


def test_translation_no_neural_voice_caption_only(ddb, now, make_processor):
    put_session(ddb, SID, now)
    put_connection(ddb, "ru1", SID, now, language="ru")
    polly, api = FakePolly(), FakeManagementApi()
    processor = make_processor(polly=polly, api=api)
    result = processor.process(_segment())
    assert [t for t, _ in _kinds(api, "ru1")] == ["caption"]
    assert polly.calls == [] and result.languages["ru"].failure is None
    assert dict(processor.recorder.by_language[m.CAPTION_ONLY]) == {"ru": 1}


def test_translation_missing_dynamics_speaks_plain_text(session, make_processor):
    polly = FakePolly()
    processor = make_processor(polly=polly)
    processor.process(_segment(dynamics=None))
    processor.process(_segment(2, "Other words.", dynamics={"volume": {"level": "odd"}}))
    assert polly.calls and all(c["TextType"] == "text" for c in polly.calls)


def test_translation_dynamodb_fault_releases_claim_and_raises(session, make_processor, ddb, monkeypatch):
    api = FakeManagementApi()
    processor = make_processor(api=api)
    real_query = ddb.query

    def broken(**kwargs):
        raise client_error("InternalServerError", 500, "Query")

    monkeypatch.setattr(ddb, "query", broken)
    with pytest.raises(Exception, match="InternalServerError"):
        processor.process(_segment())
    assert api.posts == [] and _ledger_status(ddb, f"{SID}#1") == "partial"
    monkeypatch.setattr(ddb, "query", real_query)
    assert processor.process(_segment()).status == "processed"  # Lambda's retry succeeds
    assert len(api.messages_for("es1")) == 2


def test_translation_no_listeners(ddb, now, make_processor):
    put_session(ddb, SID, now)
    translate = FakeTranslate()
    processor = make_processor(translate)
    assert processor.process(_segment()).status == "no_listeners"
    assert translate.calls == []


class ExplodingApi(FakeManagementApi):
    """One listener's post raises something that is not an AWS error at all."""

    def __init__(self, broken: str) -> None:
        super().__init__()
        self.broken = broken

    def post_to_connection(self, *, ConnectionId: str, Data: bytes):
        if ConnectionId == self.broken:
            raise ValueError("client bug")
        return super().post_to_connection(ConnectionId=ConnectionId, Data=Data)


def test_translation_non_aws_exception_of_one_post_fails_only_that_connection(session, make_processor, ddb):
    api = ExplodingApi("es1")
    processor = make_processor(api=api)
    result = processor.process(_segment())
    assert result.status == "processed" and result.reason is None
    assert [t for t, _ in _kinds(api, "es2")] == ["caption", "audio"]  # same language, still served
    for cid in ("fr1", "en1"):
        assert [t for t, _ in _kinds(api, cid)] == ["caption", "audio"], cid
    assert result.languages["es"].failed >= 1 and processor.recorder.counts[m.BROADCAST_FAILURES] >= 1
    assert _ledger_status(ddb, f"{SID}#1") == "complete"
    before = len(api.posts)
    assert processor.process(_segment()).status == "duplicate"  # nothing is re-sent
    assert len(api.posts) == before
    print("\nFAULT|broadcast: one post raises a non-AWS exception|survived")


class FlakyLedgerWrites:
    """A DynamoDB client whose ledger UpdateItems matching ``expression`` fail ``failures`` times."""

    def __init__(self, real, failures: int, expression: str) -> None:
        self._real, self.failures, self._expression = real, failures, expression

    def __getattr__(self, name):
        return getattr(self._real, name)

    def update_item(self, **kwargs):
        if self.failures > 0 and kwargs.get("UpdateExpression") == self._expression:
            self.failures -= 1
            raise client_error("ProvisionedThroughputExceededException", 400, "UpdateItem")
        return self._real.update_item(**kwargs)


@pytest.mark.parametrize("failures,name", [
    (2, "ledger: languagesDone write fails twice after delivery (retried in place)"),
    (99, "ledger: every languagesDone write fails after delivery (finish records them)"),
])
def test_translation_failed_ledger_write_after_delivery_never_resends(session, settings, ddb, failures, name):
    from translation_pipeline.processor import build_processor

    flaky = FlakyLedgerWrites(ddb, failures, "ADD languagesDone :langs")  # the per-language write only
    api = FakeManagementApi()
    processor = build_processor(settings, dynamodb=flaky, translate=FakeTranslate(), polly=FakePolly(), management=api,
                                sleep=lambda _: None, rng=lambda: 0.5)
    try:
        assert processor.process(_segment()).status == "processed"
        sent = len(api.posts)
        assert sent == 2 * len(LISTENERS)
        again = processor.process(_segment())  # a redelivery (Lambda retry or duplicate invoke)
        assert again.status == "duplicate" and len(api.posts) == sent
        assert _ledger_status(ddb, f"{SID}#1") == "complete"
        done = ddb.get_item(TableName=CACHE, Key={"cacheKey": {"S": f"segment#{SID}#1"}})["Item"]["languagesDone"]["SS"]
        assert sorted(done) == ["en", "es", "fr"]
    finally:
        processor.shutdown()
    print(f"\nFAULT|{name}|survived")


def test_translation_failed_ledger_write_with_a_failed_language_resends_nothing_served(session, settings, ddb):
    """languagesDone writes fail and French fails to translate: the retry serves French only."""
    from translation_pipeline.processor import build_processor

    flaky = FlakyLedgerWrites(ddb, 99, "ADD languagesDone :langs")
    api, translate = FakeManagementApi(), FakeTranslate(failures={"fr": -1})
    processor = build_processor(settings, dynamodb=flaky, translate=translate, polly=FakePolly(), management=api,
                                sleep=lambda _: None, rng=lambda: 0.5)
    try:
        assert processor.process(_segment()).reason == "language_failed"
        translate.failures.clear()
        retry = processor.process(_segment())
        assert set(retry.languages) == {"fr"}
        for cid in LISTENERS:
            assert [t for t, _ in _kinds(api, cid)] == ["caption", "audio"], cid
    finally:
        processor.shutdown()
    print("\nFAULT|ledger write fails and one language fails: retry serves only that language|survived")
