"""Sending less and fanning out wider: caption and audio in one message, shards posted by parallel invocations."""

from __future__ import annotations

import base64
import dataclasses
import json
import threading

import pytest

from translation_pipeline import handler
from translation_pipeline import telemetry as m
from translation_pipeline.fanout import (
    MAX_SHARD_EVENT_BYTES,
    SHARD_POST,
    InvalidShardPost,
    ShardPost,
    shard_events,
    split_shards,
)
from translation_pipeline.messages import caption_with_audio_message
from translation_pipeline.processor import build_processor
from translation_pipeline.segment import Segment
from translation_pipeline.tests.fakes import (
    FakeManagementApi,
    FakePolly,
    FakeTranslate,
    assert_no_placeholder,
    client_error,
    fake_audio,
    put_connection,
    put_session,
    segment_event,
)

SID = "golden-eagle-4821"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:speech-translation-dev-translation:live"


class FakeLambda:
    """``invoke`` recording async shard invocations; ``fail`` answers the first n with a throttle."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.calls: list[dict] = []
        self._lock = threading.Lock()

    def invoke(self, **kwargs):
        with self._lock:
            if self.fail:
                self.fail -= 1
                raise client_error("TooManyRequestsException", 429, "Invoke")
            self.calls.append(kwargs)
        return {"StatusCode": 202}

    def events(self):
        return [json.loads(call["Payload"]) for call in self.calls]


@pytest.fixture
def audience(ddb, now):
    """A session with 120 Spanish listeners and 2 French ones."""
    listeners = {f"es-{i:03d}": "es" for i in range(120)} | {"fr-1": "fr", "fr-2": "fr"}
    put_session(ddb, SID, now, listeners=len(listeners))
    for cid, lang in listeners.items():
        put_connection(ddb, cid, SID, now, language=lang)
    return listeners


@pytest.fixture
def build(ddb, settings):
    built = []

    def make(api, polly=None, lambda_client=None, **overrides):
        processor = build_processor(dataclasses.replace(settings, **overrides), dynamodb=ddb, translate=FakeTranslate(),
                                    polly=polly or FakePolly(), management=api, sleep=lambda _: None, rng=lambda: 0.5,
                                    lambda_client=lambda_client)
        built.append(processor)
        return processor

    yield make
    for processor in built:
        processor.shutdown()


def _segment(sequence=1):
    return Segment.from_event(segment_event(SID, sequence, "Good morning everyone."))


def test_combined_message_is_one_post_per_listener(build, audience):
    api, polly = FakeManagementApi(), FakePolly(audio_size=9_000)
    processor = build(api, polly=polly, combine_caption_audio=True)
    result = processor.process(_segment())
    assert result.status == "processed"
    assert len(api.posts) == len(audience)  # one message each, not two
    [message] = api.messages_for("es-007")
    assert message["type"] == "caption" and message["part"] == message["parts"] == 1 and message["text"]
    audio = message["audio"]
    assert audio["format"] == "mp3" and audio["mimeType"] == "audio/mpeg" and audio["voiceId"]
    [call] = [c for c in polly.calls if c["VoiceId"] == audio["voiceId"]]
    assert base64.b64decode(audio["data"]) == fake_audio(audio["voiceId"], call["Text"], 9_000)
    assert_no_placeholder([message])
    es = result.languages["es"]
    assert es.delivered == 120 and es.caption_sent and es.audio_parts == 1
    assert processor.recorder.counts[m.MESSAGES_POSTED] == len(audience)


def test_combined_falls_back_to_caption_then_parts_when_too_big(build, audience):
    api = FakeManagementApi()
    processor = build(api, polly=FakePolly(audio_size=40_000), combine_caption_audio=True)
    processor.process(_segment())
    kinds = [(msg["type"], msg["part"], "audio" in msg) for msg in api.messages_for("fr-1")]
    assert kinds == [("caption", 1, False), ("audio", 1, False), ("audio", 2, False)]


class RefusesCombined(FakeManagementApi):
    """An API that answers 413 to any caption carrying audio (a stricter frame limit than ours)."""

    def post_to_connection(self, *, ConnectionId, Data):
        if b'"audio":{' in Data:
            with self._lock:
                self.attempts[ConnectionId] += 1
            raise client_error("PayloadTooLargeException", 413, "PostToConnection")
        return super().post_to_connection(ConnectionId=ConnectionId, Data=Data)


def test_combined_refused_with_413_is_split(build, audience):
    api = RefusesCombined()
    processor = build(api, combine_caption_audio=True)
    result = processor.process(_segment())
    assert [msg["type"] for msg in api.messages_for("es-001")] == ["caption", "audio"]
    es = result.languages["es"]
    assert es.delivered == 120 and es.failed == 0
    assert processor.recorder.counts[m.BROADCAST_FAILURES] == 0


def test_combined_without_voice_sends_the_caption_alone(build, audience):
    api = FakeManagementApi()
    polly = FakePolly()
    processor = build(api, polly=polly, combine_caption_audio=True)
    voice = processor._voices.voice_for("fr")
    polly.fail_voices = {voice}
    result = processor.process(_segment())
    [message] = api.messages_for("fr-2")
    assert message["type"] == "caption" and "audio" not in message
    assert result.languages["fr"].failure == "synthesis" and result.languages["fr"].caption_sent


def test_combined_message_budget():
    from translation_pipeline.messages import FRAME_BUDGET_BYTES, SegmentRef

    ref = SegmentRef(SID, 3, f"{SID}#3", "es")
    assert caption_with_audio_message(ref, "Hola.", "en-US", True, True, b"x" * 20_000, "mp3", "Lucia") is not None
    assert caption_with_audio_message(ref, "Hola.", "en-US", True, True, b"x" * 24_000, "mp3", "Lucia") is None
    fits = caption_with_audio_message(ref, "Hola.", "en-US", True, True, b"x" * 23_000, "mp3", "Lucia")
    assert fits is None or len(fits) <= FRAME_BUDGET_BYTES


def test_shards_go_to_parallel_invocations_and_everyone_gets_everything_in_order(build, audience):
    parent_api, shard_api, lam = FakeManagementApi(), FakeManagementApi(), FakeLambda()
    parent = build(parent_api, lambda_client=lam, fanout_shard_listeners=50)
    result = parent.process(_segment(), function_name=ARN)
    es = result.languages["es"]
    # 120 Spanish listeners over a shard size of 50: 3 shards of 40; this invocation posts the first.
    assert es.shards == 3 and es.dispatched == 80 and es.delivered == 40
    assert result.languages["fr"].shards == 1 and result.languages["fr"].delivered == 2
    assert [c["InvocationType"] for c in lam.calls] == ["Event", "Event"]
    assert {c["FunctionName"] for c in lam.calls} == {ARN}  # the same alias runs the shards
    assert parent.recorder.counts[m.SHARDS_DISPATCHED] == 2
    # Another container takes each shard event, through the handler's validation.
    worker = build(shard_api)
    for event in lam.events():
        assert event["type"] == SHARD_POST
        shard_result = worker.post_shard(ShardPost.from_event(event))
        assert shard_result.status == "shard_posted" and shard_result.languages["es"].delivered == 40
    assert worker.recorder.timings[m.END_TO_END_LATENCY]  # each shard reports its own delivery latency
    everyone = parent_api.receivers() | shard_api.receivers()
    assert everyone == set(audience)
    assert not (parent_api.receivers() & shard_api.receivers())  # each connection in exactly one shard
    for cid in audience:
        api = parent_api if cid in parent_api.receivers() else shard_api
        assert [(msg["type"], msg["part"]) for msg in api.messages_for(cid)] == [("caption", 1), ("audio", 1)]


def test_shards_with_combined_messages(build, audience):
    parent_api, lam = FakeManagementApi(), FakeLambda()
    parent = build(parent_api, lambda_client=lam, fanout_shard_listeners=50, combine_caption_audio=True)
    parent.process(_segment(), function_name=ARN)
    for event in lam.events():
        [message] = [json.loads(text) for text in event["messages"]]
        assert message["type"] == "caption" and "audio" in message


def test_a_shard_that_cannot_be_invoked_is_posted_here(build, audience):
    api, lam = FakeManagementApi(), FakeLambda(fail=1)
    parent = build(api, lambda_client=lam, fanout_shard_listeners=50)
    result = parent.process(_segment(), function_name=ARN)
    assert len(lam.calls) == 1
    assert result.languages["es"].dispatched == 40 and result.languages["es"].delivered == 80
    assert len(api.receivers()) == 80 + 2


def test_no_dispatcher_posts_every_shard_here(build, audience):
    api = FakeManagementApi()
    result = build(api, fanout_shard_listeners=50).process(_segment())
    assert result.languages["es"].delivered == 120 and result.languages["es"].dispatched == 0


def test_split_shards_balanced_and_off():
    ids = [f"c{i}" for i in range(2000)]
    shards = split_shards(ids, 500)
    assert [len(s) for s in shards] == [500] * 4 and sum(shards, []) == ids
    assert [len(s) for s in split_shards(ids[:1001], 500)] == [334, 334, 333]
    assert split_shards(ids[:500], 500) == [ids[:500]]
    assert split_shards(ids, 0) == [ids]


def test_oversize_shard_event_is_split_under_the_async_limit():
    message = json.dumps({"type": "caption", "text": "x" * 30_000}).encode()
    ids = [f"connection-{i:05d}-{'y' * 230}" for i in range(5000)]  # ~1.2 MB of ids
    posts = shard_events(SID, f"{SID}#1", "es", [ids], [message], 1.0)
    assert len(posts) > 1
    assert sorted(c for p in posts for c in p.connection_ids) == sorted(ids)
    assert all(len(json.dumps(p.to_event()).encode()) <= MAX_SHARD_EVENT_BYTES for p in posts)


GOOD = {"type": SHARD_POST, "sessionId": SID, "segmentId": f"{SID}#4", "language": "es", "shard": 2, "shards": 3,
        "connectionIds": ["a", "b"], "messages": ['{"type":"caption","text":"Hola"}'], "emittedAt": 1.5}


@pytest.mark.parametrize("change,error", [
    ({"type": "segment"}, "type"),
    ({"extra": 1}, "unknown field"),
    ({"sessionId": ""}, "sessionId"),
    ({"segmentId": "other#4"}, "segmentId"),
    ({"shard": 4}, "shard"),
    ({"shards": True}, "shard"),
    ({"connectionIds": []}, "connectionIds"),
    ({"connectionIds": ["a", "a"]}, "repeat"),
    ({"connectionIds": ["a", 3]}, "connection id"),
    ({"messages": []}, "messages"),
    ({"messages": ["not json"]}, "JSON object"),
    ({"messages": ["[1]"]}, "JSON object"),
    ({"messages": ['{"t":"' + "x" * 140_000 + '"}']}, "over"),
    ({"emittedAt": -1}, "emittedAt"),
])
def test_shard_event_validation(change, error):
    assert ShardPost.from_event(GOOD).connection_ids == ("a", "b")
    with pytest.raises(InvalidShardPost, match=error):
        ShardPost.from_event({**GOOD, **change})


def test_handler_routes_shard_events(build, monkeypatch):
    api = FakeManagementApi()
    handler.use_processor(build(api))
    try:
        posted = handler.handle(GOOD, None)
        assert posted.status == "shard_posted" and api.receivers() == {"a", "b"}
        invalid = handler.handle({**GOOD, "connectionIds": "a"}, None)
        assert invalid.status == "invalid" and "connectionIds" in invalid.reason
    finally:
        handler.use_processor(None)
